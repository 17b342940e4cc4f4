#!/usr/bin/env bash
# Where airlock's client CPU goes on S3-shaped small objects: starts `bench_tool synthetic`
# (every request delayed, as bench/concurrency.py does), records one `airlock run` with
# `perf record -F 999 --call-graph dwarf`, and writes flat.txt (self time by library and
# symbol) next to perf.data.
#
# Usage: bench/perf_small.sh [AIRLOCK_BINARY [OUT_DIR]]   (default target/release/airlock,
# .bench/perf). Environment: BENCH_KEYS (4000), BENCH_SIZE (16KiB), BENCH_LATENCY (all=30ms),
# BENCH_BIN_DIR (where examples/bench_tool is; default target/release), BENCH_CONCURRENCY
# (a fixed `concurrency`; default: airlock's default).
set -euo pipefail
cd "$(dirname "$0")/.."
airlock=${1:-target/release/airlock}
out=${2:-.bench/perf}
tool=${BENCH_BIN_DIR:-target/release}/examples/bench_tool
mkdir -p "$out"
work=$(mktemp -d)
AIRLOCK_TEST_S3_LATENCY=${BENCH_LATENCY:-all=30ms} "$tool" synthetic \
  --keys "${BENCH_KEYS:-4000}" --size "${BENCH_SIZE:-16KiB}" --dir "$work" >"$work/log" 2>&1 &
server=$!
trap 'kill -INT $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 150); do grep -q '^config' "$work/log" && break; sleep 0.2; done
config=$(awk '/^config/{print $2}' "$work/log")
[[ -n "$config" ]] || { cat "$work/log" >&2; exit 1; }
if [[ -n "${BENCH_CONCURRENCY:-}" ]]; then
  printf '\n[transfer]\nconcurrency = %s\n' "$BENCH_CONCURRENCY" >>"$config"
fi
AIRLOCK_DATA_DIR="$work/data" perf record -q -F 999 --call-graph dwarf,8192 -o "$out/perf.data" \
  -- "$airlock" --config "$config" run --json >"$work/run.jsonl"
grep '"run_finished"' "$work/run.jsonl" | head -c 600 >&2; echo >&2
perf report -i "$out/perf.data" --no-children --sort dso,symbol --stdio -g none \
  2>/dev/null >"$out/flat.txt"
# Inclusive time needs `perf report --children` with DWARF unwinding, which produced nothing (and
# hung) with this host's perf; read call chains with `perf report -i perf.data --children` where
# unwinding works.
echo "report: $out/flat.txt (self time by library and symbol)" >&2
