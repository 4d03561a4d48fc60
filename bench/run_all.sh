#!/usr/bin/env bash
# Every benchmark of docs/benchmarks.md, one after the other, in one run on
# this machine: castline against FFmpeg (cost per stream), streams per
# machine, HLS serving against nginx, glass-to-glass latency, S3 upload
# latency, start-up, RTMP ingest against nginx-rtmp, WebRTC playback
# (WHEP latency, viewers against Janus), LL-HLS, and SRT publishers against
# FFmpeg receivers. Installs what
# they need, builds, runs each with its figures written as JSON
# (OUT_DIR/NAME.json) and its printed tables kept (OUT_DIR/NAME.txt),
# after the machine and the versions (OUT_DIR/machine.json).
# docs/benchmarks.md holds a run's tables.
#   bench/run_all.sh [--quick] [OUT_DIR]     (default OUT_DIR: bench-results/)
# About 65 minutes (--quick: about 13). Nothing else should run meanwhile:
# the figures are CPU times and latencies on a shared 2-core machine.
# Asserts nothing; a benchmark that fails is reported and the others run.
set -uo pipefail
cd "$(dirname "$0")/.."
quick=()
if [[ ${1:-} == --quick ]]; then quick=(--quick); shift; fi
out=$(realpath -m "${1:-bench-results}")
mkdir -p "$out"

bash scripts/build.sh || exit 1      # scripts/setup.sh, then meson + ninja
bash bench/setup.sh || exit 1        # nginx, wrk, nginx-rtmp, janus
export CASTLINE_BUILD_DIR=${CASTLINE_BUILD_DIR:-$PWD/build}
export GSETTINGS_BACKEND=memory

/usr/bin/python3 -c 'import json, sys; sys.path.insert(0, "bench"); import benchlib
print(json.dumps(benchlib.machine(), indent=1))' | tee "$out/machine.json"

failed=()
run() {
  local name=$1; shift
  echo "== $name: $*" | tee "$out/$name.txt"
  local t0=$SECONDS
  if "$@" "${quick[@]}" --json "$out/$name.json" 2>&1 | tee -a "$out/$name.txt"; then
    echo "== $name: $((SECONDS - t0)) s" | tee -a "$out/$name.txt"
  else
    echo "== $name FAILED after $((SECONDS - t0)) s" | tee -a "$out/$name.txt"
    failed+=("$name")
  fi
}

run cost /usr/bin/python3 bench/cost_per_stream.py
run streams /usr/bin/python3 bench/streams_per_machine.py
run viewers /usr/bin/python3 bench/viewers.py
run api /usr/bin/python3 bench/api_under_load.py
run latency /usr/bin/python3 bench/latency.py
run s3 bash bench/s3_latency.sh
run startup /usr/bin/python3 bench/startup.py
run rtmp /usr/bin/python3 bench/rtmp_vs_nginx.py
run whep-latency /usr/bin/python3 bench/latency.py --whep
run whep-viewers /usr/bin/python3 bench/whep_viewers.py --servers castline,janus
run llhls-latency /usr/bin/python3 bench/latency.py --llhls
run llhls-viewers /usr/bin/python3 bench/llhls_viewers.py
run srt /usr/bin/python3 bench/srt_publishers.py
run cluster-failover /usr/bin/python3 bench/cluster_failover.py
run api-ops /usr/bin/python3 bench/api_ops.py
run cluster-streams /usr/bin/python3 bench/cluster_streams.py

if ((${#failed[@]})); then
  echo "failed: ${failed[*]} (their logs: $out/<name>.txt)" >&2
  exit 1
fi
