#!/usr/bin/env bash
# An S3 demo without the launcher: installs, builds, starts
# a local S3 server (s3rver) on 127.0.0.1 and streams a live test signal into
# it as HLS with s3hlssink. Ctrl-C ends the stream cleanly (final playlist
# with #EXT-X-ENDLIST). DEMO_SECONDS=N stops by itself after N seconds;
# DEMO_PORT picks the S3 port (default: a free one).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh

port=${DEMO_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
data=$(mktemp -d -t castline-demo-XXXXXX)
# s3rver and gst-launch run in sessions of their own, so Ctrl-C reaches only
# this script: node would die on it at once (it resets SIGINT, which bash
# ignores for background jobs), before the final playlist is uploaded; and
# gst-launch must get exactly one SIGINT, as a second one stops it before
# the final playlist is written. cleanup() ends them in that order.
setsid node_modules/.bin/s3rver --directory "$data" --address 127.0.0.1 --port "$port" \
  --configure-bucket live --silent &
s3rver_pid=$!
gst_pid=""
cleanup() {
  if [[ -n "$gst_pid" ]]; then
    kill -INT "$gst_pid" 2>/dev/null || true
    wait "$gst_pid" 2>/dev/null || true
  fi
  kill "$s3rver_pid" 2>/dev/null || true
  wait "$s3rver_pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

ready=""
for _ in $(seq 50); do
  kill -0 "$s3rver_pid" 2>/dev/null || break
  curl -fs "http://127.0.0.1:$port/live?list-type=2" >/dev/null && { ready=1; break; }
  sleep 0.2
done
if [[ -z "$ready" ]]; then
  echo "demo: s3rver did not start on 127.0.0.1:$port" >&2
  exit 1
fi

cat <<MSG
castline demo: a live 720p test stream, uploaded as HLS to a local S3 server.
  playlist: http://127.0.0.1:$port/live/demo/playlist.m3u8
  watch it: ffplay http://127.0.0.1:$port/live/demo/playlist.m3u8   (or mpv, vlc, any HLS player)
  Ctrl-C stops it.
MSG

export GST_PLUGIN_PATH=$PWD/build/gst-plugins
setsid gst-launch-1.0 -e \
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=1280,height=720,framerate=30/1 ! \
  x264enc tune=zerolatency key-int-max=60 bitrate=2500 speed-preset=veryfast ! h264parse ! queue ! \
  s3hlssink name=s bucket=live key-prefix=demo/ endpoint="http://127.0.0.1:$port" \
    access-key=S3RVER secret-key=S3RVER target-duration=2 \
  audiotestsrc is-live=true volume=0.2 ! audioconvert ! avenc_aac ! aacparse ! queue ! s.audio &
gst_pid=$!
if [[ -n "${DEMO_SECONDS:-}" ]]; then
  sleep "$DEMO_SECONDS"
  exit 0   # cleanup ends the stream
fi
wait "$gst_pid"
gst_pid=""
