#!/usr/bin/env bash
# Bench item 5: segment closed -> object visible in the bucket (median, p95,
# worst), s3hlssink against s3rver on 127.0.0.1, 720p30 H.264 + AAC, 2 s
# segments. bench/s3_upload.sh with its s3hlssink run alone, on the build
# as it is (no rebuild). Bounded: about SECONDS + 15 s (60 s of media,
# --quick 20 s). Asserts nothing.
#   bench/s3_latency.sh [--quick] [--json FILE]
#   CASTLINE_BUILD_DIR  build directory (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
json=
while (($#)); do
  case $1 in
    --quick) seconds=20 ;;
    --json) json=$(realpath -m "${2:?--json needs a file}"); shift ;;
    *) echo "usage: $0 [--quick] [--json FILE]" >&2; exit 2 ;;
  esac
  shift
done
build_dir=${CASTLINE_BUILD_DIR:-build}
bench=$build_dir/bench/s3hlssink_bench
# a binary older than its source has no latency-only mode or JSON output
if [[ -x $bench && bench/s3hlssink_bench.cpp -nt $bench ]]; then
  echo "$bench is older than bench/s3hlssink_bench.cpp: rebuild it (ninja -C $build_dir)" >&2
  exit 1
fi
out=$(mktemp -t castline-s3-latency-XXXXXX.json)
trap 'rm -f "$out"' EXIT
BENCH_NO_BUILD=1 BENCH_LATENCY_ONLY=1 BENCH_JSON=$out BENCH_ROUNDS=1 \
  timeout --kill-after=10 $((seconds + 90)) bash bench/s3_upload.sh "$seconds"
[[ -s $out ]] || { echo "the benchmark wrote no figures" >&2; exit 1; }
if [[ -n $json ]]; then cp "$out" "$json"; fi
