#!/usr/bin/env python3
"""Client CPU per object, A/B: two airlock binaries run in turn against one pair of synthetic
servers (`bench_tool synthetic`, S3-shaped as in bench/concurrency.py), BENCH_ROUNDS times each,
so both see the same servers and, as far as a shared host allows, the same load.

Prints per binary and setting the median and best client CPU (user+sys of the airlock process,
listing and planning included) in microseconds per object, wall time and objects/s.

Usage: bench/cpu_ab.py BEFORE_BINARY AFTER_BINARY. Environment as bench/concurrency.py
(BENCH_KEYS default 4000, BENCH_SIZE 16KiB, BENCH_LATENCY all=30ms, BENCH_SETTINGS
'default,64', BENCH_ROUNDS default 3, BENCH_BIN_DIR for bench_tool).
"""

import os
import signal
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import concurrency as bench  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bench/cpu_ab.py BEFORE_BINARY AFTER_BINARY")
    binaries = {"before": Path(sys.argv[1]), "after": Path(sys.argv[2])}
    for name, path in binaries.items():
        if not os.access(path, os.X_OK):
            sys.exit(f"{name} binary '{path}' is not an executable file")
    keys = int(os.environ.get("BENCH_KEYS", "4000"))
    size = os.environ.get("BENCH_SIZE", "16KiB")
    latency = os.environ.get("BENCH_LATENCY", "all=30ms")
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    settings = [s for s in os.environ.get("BENCH_SETTINGS", "default,64").split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="airlock-bench-ab-"))
    proc, base = bench.start_servers(keys, size, latency, work)
    runs = {}
    try:
        for _ in range(rounds):
            for setting in settings:
                for name, binary in binaries.items():
                    r = bench.run_once(base, setting, work, airlock=binary)
                    if r["copied"] != keys:
                        sys.exit(f"{name} {setting}: copied {r['copied']} of {keys}")
                    runs.setdefault((name, setting), []).append(r)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    print(f"A/B: {keys} x {size}, latency '{latency}', {rounds} rounds in turn, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| binary | setting | CPU µs/object, median | best | objects/s, median | wall s, median | window |")
    print("|---|---|---:|---:|---:|---:|---|")
    for setting in settings:
        for name in binaries:
            rs = runs[(name, setting)]
            cpu = [r["cpu"] / keys * 1e6 for r in rs]
            wall = [r["wall"] for r in rs]
            print(f"| {name} | {setting} | {statistics.median(cpu):.0f} | {min(cpu):.0f} | "
                  f"{keys / statistics.median(wall):.0f} | {statistics.median(wall):.2f} | "
                  f"{', '.join(str(r['limit']) for r in rs)} |")
        before = statistics.median(r["cpu"] for r in runs[("before", setting)])
        after = statistics.median(r["cpu"] for r in runs[("after", setting)])
        print(f"{setting}: after / before CPU {after / before:.2f}x")


if __name__ == "__main__":
    main()
