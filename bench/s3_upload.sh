#!/usr/bin/env bash
# S3 upload benchmark: segment closed -> object visible, and the CPU the S3
# storage costs over writing files, against s3rver on 127.0.0.1.
#   bench/s3_upload.sh [SECONDS]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
seconds=${1:-60}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d -t castline-bench-s3-XXXXXX)
node_modules/.bin/s3rver --directory "$data" --address 127.0.0.1 --port "$port" \
  --configure-bucket live --silent &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/live?list-type=2" >/dev/null && break; sleep 0.2; done
GST_PLUGIN_PATH=$PWD/build/gst-plugins build/bench/s3hlssink_bench "http://127.0.0.1:$port" live "$seconds"
