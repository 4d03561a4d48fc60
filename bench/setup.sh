#!/usr/bin/env bash
# Installs the tools the benchmarks need beyond scripts/setup.sh's (Debian 12
# packages). Idempotent; prints nothing when all is present. Run as root or
# with sudo.
# (nginx itself, which castline's HLS serving is compared with, comes with
# scripts/setup.sh: bench/viewers.py runs its own, in a temporary prefix)
#   wrk          the HTTP load generator of bench/viewers.py
#   libnginx-mod-rtmp  nginx-rtmp, the RTMP-to-HLS server bench/rtmp_vs_nginx.py
#                compares castline's RTMP ingest with (loaded by its own nginx)
#   janus        the WebRTC server bench/whep_viewers.py --servers janus
#                compares castline's WHEP viewers with (run by bench/janusproc.py
#                with a configuration of its own; the service is left stopped)
#   python3-matplotlib  the plot bench/launcher_soak.py draws (--png)
set -euo pipefail

APT_PACKAGES=(
  wrk libnginx-mod-rtmp janus python3-matplotlib
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]})) || exit 0

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
echo "bench/setup: installing ${missing[*]}"
apt_opts=(-qq -o DPkg::Lock::Timeout=600)
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update </dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
  --no-install-recommends "${missing[@]}" </dev/null >/dev/null
if [[ " ${missing[*]} " == *" janus "* ]] && command -v systemctl >/dev/null 2>&1 \
    && systemctl is-active --quiet janus 2>/dev/null; then
  $SUDO systemctl disable --now janus >/dev/null 2>&1 || true
fi
