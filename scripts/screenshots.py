#!/usr/bin/env python3
"""Drive `airlock demo` in a private tmux server and save a PNG of each tab.

Run it through scripts/screenshots.sh (which builds airlock and sets up Pillow). Each shot is
`tmux capture-pane -e -p -N` (text with its colours) rendered by ansi_to_png.py; the .ansi
captures are kept next to the work dir for inspection.

Shots: browser (a client folder with a selection), help (the overlay on the browser), plan
(routes, totals, the object table), transfers-running (part maps and the throughput chart,
mid-run) and transfers-finished.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

import ansi_to_png

COLUMNS, ROWS = 100, 30
SESSION = "shots:0.0"


class Tmux:
    def __init__(self, socket):
        self.socket = socket

    def run(self, *args, check=True):
        return subprocess.run(
            ["tmux", "-f", "/dev/null", "-S", self.socket, *args],
            check=check,
            capture_output=True,
            text=True,
        )

    def send(self, *keys):
        self.run("send-keys", "-t", SESSION, *keys)

    def screen(self, colours=False):
        args = ["capture-pane", "-p", "-N", "-t", SESSION]
        if colours:
            args.insert(2, "-e")
        return self.run(*args).stdout

    def wait_for(self, what, done, timeout=30.0, poll=0.1):
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if done(screen):
                return screen
            if time.monotonic() > deadline:
                sys.exit(f"timed out waiting for {what}; the screen:\n{screen}")
            time.sleep(poll)

    def wait_text(self, *texts, timeout=30.0):
        return self.wait_for(repr(texts), lambda s: all(t in s for t in texts), timeout)


def listing(screen):
    """A pane is still listing: its title (row 1) shows the braille spinner."""
    return any("\u2800" <= c <= "\u28ff" for c in screen.split("\n")[1])


def percent(screen):
    """The run's percentage from the tab bar (`▶ 42% · 18.0 MB/s`), -1 when not running."""
    match = re.search(r"▶ (\d+)%", screen.split("\n")[0])
    return int(match.group(1)) if match else -1


def charted(screen):
    """The throughput chart (right half, rows 2-7) has drawn a line."""
    rows = screen.split("\n")[2:8]
    return any("\u2801" <= c <= "\u28ff" for row in rows for c in row[COLUMNS // 2 :])


def source_rows(screen):
    return [line[: COLUMNS // 2] for line in screen.split("\n")]


def is_entry(row, name):
    return f" {name} " in row or f"●{name} " in row


def cursor_to(tmux, name):
    rows = source_rows(tmux.screen())
    cursor = next(i for i, r in enumerate(rows) if r.startswith("│▸"))
    wanted = next(i for i, r in enumerate(rows) if is_entry(r, name))
    if wanted != cursor:
        tmux.send(*(["j" if wanted > cursor else "k"] * abs(wanted - cursor)))
    tmux.wait_for(
        f"cursor on {name}",
        lambda s: any(r.startswith("│▸") and is_entry(r, name) for r in source_rows(s)),
    )


def open_folder(tmux, name, expect):
    cursor_to(tmux, name)
    tmux.send("Enter")
    tmux.wait_for(
        f"{name} opened",
        lambda s: f"{name} " in s.split("\n")[1] and expect in s and not listing(s),
    )


def select(tmux, name):
    cursor_to(tmux, name)
    tmux.send("Space")
    tmux.wait_for(f"{name} selected", lambda s: any(f"●{name} " in r for r in source_rows(s)))


def settle(tmux, timeout=10.0):
    """Wait until two captures in a row are equal (listed, no `?` badge left)."""
    deadline = time.monotonic() + timeout
    before = tmux.screen()
    while time.monotonic() < deadline:
        time.sleep(0.4)
        now = tmux.screen()
        if now == before and not listing(now) and "?│" not in now:
            return
        before = now


def shot(tmux, out_dir, name):
    text = tmux.screen(colours=True)
    with open(os.path.join(out_dir, f"{name}.ansi"), "w", encoding="utf-8") as f:
        f.write(text)
    png = os.path.join("assets", "screenshots", f"{name}.png")
    ansi_to_png.render(ansi_to_png.parse(text, COLUMNS, ROWS), png)
    print(f"wrote {png}")


def edit_setting(tmux, label, value):
    """Focus the plan's settings, move to `label`, and type a new value."""
    tmux.wait_for(f"setting {label}", lambda s: label in s)
    for _ in range(8):
        line = next((l for l in tmux.screen().split("\n") if label in l), "")
        if f"▸ {label}" in line:
            break
        tmux.send("j")
        time.sleep(0.1)
    tmux.send("Enter")
    tmux.send("C-u")
    tmux.send("-l", "--", value)
    tmux.send("Enter")


def main():
    binary = sys.argv[1]
    work = sys.argv[2]
    os.makedirs("assets/screenshots", exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="airlock-shots-") as tmp:
        tmux = Tmux(os.path.join(tmp, "tmux.sock"))
        env = {
            "AIRLOCK_DATA_DIR": os.path.join(tmp, "data"),
            "XDG_CONFIG_HOME": os.path.join(tmp, "config"),
        }
        args = ["new-session", "-d", "-s", "shots", "-x", str(COLUMNS), "-y", str(ROWS)]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        args += [binary, "demo", "--dir", os.path.join(tmp, "demo")]
        tmux.run(*args, ";", "set-option", "-g", "status", "off")
        try:
            drive(tmux, work)
        finally:
            tmux.run("kill-server", check=False)


def drive(tmux, work):
    tmux.wait_for("the listing", lambda s: "umbrella/" in s and not listing(s))
    open_folder(tmux, "acme/", "backfill/")
    select(tmux, "backfill/")
    open_folder(tmux, "daily/", "2026-11-02/")
    for day in ("2026-11-01/", "2026-11-02/", "2026-11-03/", "2026-11-04/"):
        select(tmux, day)
    cursor_to(tmux, "2026-11-05/")
    settle(tmux)
    shot(tmux, work, "browser")

    tmux.send("?")
    tmux.wait_text("Help · Browser")
    shot(tmux, work, "help")
    tmux.send("Escape")
    tmux.wait_for("help closed", lambda s: "Help ·" not in s)

    tmux.send("P")
    tmux.wait_text("to copy", "ETA")
    settle(tmux)
    shot(tmux, work, "plan")

    # A slower run, so a mid-run screen shows part maps and the chart: one stream.
    edit_setting(tmux, "concurrency", "1")
    tmux.wait_for("concurrency 1", lambda s: "concurrency         1 " in s)
    tmux.send("g")
    tmux.wait_text("Start the run?")
    tmux.send("y")
    tmux.wait_for(
        "the backfill object mid-way, with samples in the chart",
        lambda s: "orders.parquet" in s and 35 <= percent(s) < 90 and charted(s),
        timeout=60,
        poll=0.05,
    )
    time.sleep(float(os.environ.get("AIRLOCK_SHOT_DELAY", "0")))
    shot(tmux, work, "transfers-running")
    tmux.wait_text("✓ done", timeout=120)
    settle(tmux)
    shot(tmux, work, "transfers-finished")
    tmux.send("q")


if __name__ == "__main__":
    main()
