#!/usr/bin/env python3
"""S3-shaped concurrency bench: `concurrency = 32` against `concurrency = "auto"`.

Starts `bench_tool synthetic` (a source that computes its objects and a sink target that keeps
nothing; the target lists as empty, so every run copies everything) with every request delayed
as a store far away delays it (AIRLOCK_TEST_S3_LATENCY, default `all=30ms`), then runs
`airlock run --json` once per setting, in turn, BENCH_ROUNDS times, and prints per setting the
best objects/s, wall time, client CPU, peak RSS and the concurrency it ended at.

Environment: BENCH_KEYS (default 4000), BENCH_SIZE (default 16KiB), BENCH_LATENCY (default
all=30ms), BENCH_ROUNDS (default 2), BENCH_SETTINGS (default '32,"auto"').
Run through bench/concurrency.sh, which builds the release binaries first.
"""

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AIRLOCK = ROOT / "target/release/airlock"
TOOL = ROOT / "target/release/examples/bench_tool"


def start_servers(keys: int, size: str, latency: str, work: Path):
    env = dict(os.environ, AIRLOCK_TEST_S3_LATENCY=latency)
    log = open(work / "synthetic.log", "w")
    proc = subprocess.Popen(
        [str(TOOL), "synthetic", "--keys", str(keys), "--size", size, "--dir", str(work)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        text = (work / "synthetic.log").read_text()
        m = re.search(r"^config\s+(\S+)", text, re.M)
        if m:
            return proc, Path(m.group(1))
        if proc.poll() is not None:
            sys.exit(f"bench_tool synthetic exited: {text}")
        time.sleep(0.2)
    proc.kill()
    sys.exit("bench_tool synthetic did not print its config in 60 s")


def run_once(base_config: Path, setting: str, work: Path):
    config = work / "config.toml"
    config.write_text(base_config.read_text() + f"\n[transfer]\nconcurrency = {setting}\n")
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    env = dict(os.environ, AIRLOCK_DATA_DIR=str(data))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(AIRLOCK), "--config", str(config), "run", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    out, err = proc.communicate()
    wall = time.monotonic() - started
    # wait4's rusage of the child alone (peak RSS in KiB on Linux).
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss_mib = after.ru_maxrss / 1024
    if proc.returncode != 0:
        sys.exit(f"airlock exited {proc.returncode}: {err[-2000:]}")
    copied, limit, changes = 0, None, 0
    for line in out.splitlines():
        event = json.loads(line)
        kind = event.get("event")
        if kind == "run_started":
            limit = event["concurrency"]
        elif kind == "concurrency_changed":
            limit, changes = event["limit"], changes + 1
        elif kind == "run_finished":
            copied = event["summary"]["copied"]
    return {"wall": wall, "cpu": cpu, "rss": rss_mib, "copied": copied, "limit": limit, "changes": changes}


def main():
    keys = int(os.environ.get("BENCH_KEYS", "4000"))
    size = os.environ.get("BENCH_SIZE", "16KiB")
    latency = os.environ.get("BENCH_LATENCY", "all=30ms")
    rounds = int(os.environ.get("BENCH_ROUNDS", "2"))
    settings = os.environ.get("BENCH_SETTINGS", '32,"auto"').split(",")
    work = Path(tempfile.mkdtemp(prefix="airlock-bench-conc-"))
    proc, base = start_servers(keys, size, latency, work)
    best = {}
    try:
        for _ in range(rounds):
            for setting in settings:
                r = run_once(base, setting, work)
                if r["copied"] != keys:
                    sys.exit(f"concurrency = {setting}: copied {r['copied']} of {keys}")
                if setting not in best or r["wall"] < best[setting]["wall"]:
                    best[setting] = r
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print(f"S3-shaped: {keys} x {size}, latency '{latency}', best of {rounds}")
    print("| concurrency | objects/s | wall s | client CPU s | peak RSS MiB | ended at | changes |")
    print("|---|---|---|---|---|---|---|")
    for setting in settings:
        r = best[setting]
        print(
            f"| {setting} | {keys / r['wall']:.0f} | {r['wall']:.2f} | {r['cpu']:.2f} | "
            f"{r['rss']:.0f} | {r['limit']} | {r['changes']} |"
        )
    first, *rest = settings
    for setting in rest:
        print(f"{setting} / {first}: {best[first]['wall'] / best[setting]['wall']:.2f}x objects/s")


if __name__ == "__main__":
    main()
