#!/usr/bin/env bash
# Inventory bench (issue 17, S3 Inventory as the source listing): an inventory of
# AIRLOCK_BENCH_INVENTORY_ROWS rows (default 1,000,000, in 4 gzip CSV data files) written into
# the test server's bucket, then `airlock plan --summary` and `plan -o plan.jsonl.zst` from it,
# each under /usr/bin/time -v: wall, CPU seconds and peak RSS of the airlock process.
# AIRLOCK_BENCH_INVENTORY_SORT=1 adds the same with the data files in reverse order and
# inventory_sort = true (the external sort). BENCH_PROFILE=release measures a release build
# (default: the debug build the tests use; label the figures accordingly).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
if [[ "${BENCH_PROFILE:-debug}" == "release" ]]; then
  profile=(--release)
fi
exec cargo test "${profile[@]}" --locked --test it s3_inventory_bench -- --ignored --nocapture
