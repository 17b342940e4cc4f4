#!/usr/bin/env python3
"""Planning CPU per object, A/B/...: several airlock binaries in turn against one synthetic
source per dataset (`bench_tool synthetic`, as bench/scale.py starts it), BENCH_ROUNDS times
each, so they see the same servers and, as far as a shared host allows, the same load.

Per binary, dataset and command, prints the median and best CPU (user+sys of the airlock
process) in microseconds per object and the peak RSS. Commands: `plan --summary` against an
empty target (every key planned to copy) and `run --json` against a target that already holds
every key (the whole run path, nothing copied).

Usage: bench/plan_cpu_ab.py NAME=BINARY [NAME=BINARY ...]. Environment: BENCH_SCALE_KEYS
(default 1000000; one count), BENCH_SCALE_LAYOUTS (default flat,folders), BENCH_ROUNDS
(default 3), BENCH_AB_COMMANDS (default plan,run), BENCH_TOOL (default target/release's).
"""

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402


def main():
    binaries = []
    for arg in sys.argv[1:]:
        name, _, path = arg.partition("=")
        if not path or not os.access(path, os.X_OK):
            sys.exit(f"'{arg}' is not NAME=BINARY with an executable binary")
        binaries.append((name, path))
    if not binaries:
        sys.exit("usage: bench/plan_cpu_ab.py NAME=BINARY [NAME=BINARY ...]")
    keys = int(os.environ.get("BENCH_SCALE_KEYS", "1000000").split(",")[0])
    layouts = os.environ.get("BENCH_SCALE_LAYOUTS", "flat,folders").split(",")
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    commands = os.environ.get("BENCH_AB_COMMANDS", "plan,run").split(",")
    root = tempfile.mkdtemp(prefix="airlock-plan-ab-")
    results = {}
    try:
        for layout in layouts:
            for command in commands:
                extra = ("--target-same",) if command == "run" else ()
                servers = scale.Servers(keys, layout, root, extra)
                try:
                    for round_ in range(rounds):
                        for name, binary in binaries:
                            argv = ([binary, "plan", "-c", servers.config, "--summary"] if command == "plan"
                                    else [binary, "run", "-c", servers.config, "--json"])
                            scale.progress(f"{layout} {command} round {round_ + 1}: {name}")
                            _wall, cpu, rss, out = scale.timed(argv)
                            if command == "run":
                                summary = scale.summary_of(out)
                                if summary["skipped"] != keys:
                                    sys.exit(f"{name}: run skipped {summary['skipped']} of {keys}")
                            results.setdefault((layout, command, name), []).append((cpu, rss))
                finally:
                    servers.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    lines = [f"{keys:,} keys, {rounds} rounds, binaries in turn",
             "", "| layout | command | binary | CPU µs/object median | best | peak RSS MiB |",
             "|---|---|---|---:|---:|---:|"]
    for (layout, command, name), tries in results.items():
        cpus = [cpu for cpu, _ in tries]
        rss = max(r for _, r in tries)
        lines.append(f"| {layout} | {'plan --summary' if command == 'plan' else 'run (all skip)'} | {name} | "
                     f"{statistics.median(cpus) / keys * 1e6:.2f} | {min(cpus) / keys * 1e6:.2f} | "
                     f"{rss / 2**20:.0f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
