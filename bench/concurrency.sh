#!/usr/bin/env bash
# S3-shaped concurrency bench (fixed 32 against "auto"): builds the release binaries, then runs
# bench/concurrency.py. Settings through BENCH_* variables (see the top of that file).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin airlock --example bench_tool
exec python3 bench/concurrency.py "$@"
