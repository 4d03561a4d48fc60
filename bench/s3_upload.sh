#!/usr/bin/env bash
# S3 upload benchmark: segment closed -> object visible in the bucket, and
# the CPU the S3 storage costs over writing files (and over no sink at all),
# against s3rver on 127.0.0.1. Prints its figures; asserts nothing.
#   bench/s3_upload.sh [SECONDS]       seconds of media per run
#   BENCH_SECONDS  the same, when no argument is given (default 60)
#   BENCH_ROUNDS   fakesink/hlssink2/s3hlssink rounds (default 1): more
#                  rounds, less x264 noise in the CPU differences
#   CASTLINE_BUILD_DIR  build directory (default: build)
#   BENCH_NO_BUILD      set: use the build as it is (no scripts/build.sh)
#   BENCH_LATENCY_ONLY, BENCH_JSON: see s3hlssink_bench.cpp (bench/s3_latency.sh sets them)
# Each round runs the same live 720p30 x264 + AAC source three times, for
# SECONDS each: the total is about 3 x SECONDS x BENCH_ROUNDS.
# What each figure measures: see the comment at the top of s3hlssink_bench.cpp.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-${BENCH_SECONDS:-60}}
rounds=${BENCH_ROUNDS:-1}
build_dir=${CASTLINE_BUILD_DIR:-build}
if [[ -z ${BENCH_NO_BUILD:-} ]]; then
  bash scripts/build.sh
elif [[ ! -x $build_dir/bench/s3hlssink_bench ]]; then
  echo "no $build_dir/bench/s3hlssink_bench: build first" >&2; exit 1
fi

s3rver=node_modules/.bin/s3rver
[[ -x $s3rver ]] || { echo "no $s3rver: run scripts/setup.sh" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d -t castline-bench-s3-XXXXXX)
NODE_OPTIONS=--openssl-legacy-provider "$s3rver" --directory "$data" --address 127.0.0.1 \
  --port "$port" --configure-bucket live --silent &
pid=$!
# (wait answers 143 for the killed s3rver: without '|| true', set -e ends the trap before rm)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
ready=
for _ in $(seq 100); do
  if curl -fs "http://127.0.0.1:$port/live?list-type=2" >/dev/null; then ready=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.2
done
[[ -n $ready ]] || { echo "s3rver did not start" >&2; exit 1; }

GST_PLUGIN_PATH=$(realpath "$build_dir")/gst-plugins BENCH_S3RVER_PID=$pid \
  "$build_dir/bench/s3hlssink_bench" "http://127.0.0.1:$port" live "$seconds" "$rounds"
