#!/usr/bin/env bash
# Installs everything castline needs on a fresh Debian 12 machine: the
# build tools and GStreamer (apt), and the test peers (npm, pinned by
# package-lock.json). Idempotent; prints nothing when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  meson ninja-build pkg-config g++ git
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libsqlite3-dev libmicrohttpd-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice
  ffmpeg awscli chromium python3 python3-prometheus-client curl ca-certificates valgrind
  glib-networking openssl libsrt-gnutls-dev srt-tools
  python3-seccomp  # test_install.py runs the launcher under the systemd unit's syscall rules
  clang libclang-rt-14-dev
  libpq-dev postgresql
  # test_install.py: systemd-analyze verifies the unit; nginx -t checks the
  # load-balancer configurations of docs/deploy.md (also the benchmarks' nginx)
  systemd nginx-light libnginx-mod-stream
  # test_prometheus.py: Prometheus itself scrapes a launcher and answers
  # queries on the series (and on docs/grafana-dashboard.json's expressions)
  prometheus
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# Node.js: any installed node >= 18 will do (some machines carry a
# nodesource build that conflicts with Debian's npm package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # wait for another apt/dpkg (unattended-upgrades, a parallel setup) instead of failing
  apt_opts=(-qq -o DPkg::Lock::Timeout=600)
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update </dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
    --no-install-recommends "${missing[@]}" </dev/null >/dev/null
  # Debian starts the services it has just installed (nginx on port 80,
  # prometheus on 9090, every address): the tests and benchmarks run their
  # own, so stop them again
  stop_service() {   # package service
    [[ " ${missing[*]} " == *" $1 "* ]] || return 0
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$2" 2>/dev/null; then
      $SUDO systemctl disable --now "$2" >/dev/null 2>&1 || true
    elif [[ -x /etc/init.d/$2 ]]; then
      $SUDO "/etc/init.d/$2" stop >/dev/null 2>&1 || true
    fi
  }
  stop_service nginx-light nginx
  stop_service prometheus prometheus
fi

# npm: the pages' hls.js and uPlot, and the test peers s3rver and
# playwright-core (exact versions in the lock).
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f node_modules/.castline-lock-hash ]] || [[ "$(cat node_modules/.castline-lock-hash)" != "$lock_hash" ]]; then
  echo "setup: installing npm test peers"
  npm ci --no-audit --no-fund --silent </dev/null >/dev/null
  echo "$lock_hash" > node_modules/.castline-lock-hash
fi
