#!/usr/bin/env bash
# The "run" command: installs what is missing, builds, and runs
# castline-launcher on its embedded default (http://127.0.0.1:8080, state
# and HLS in ./castline-data, served by the daemon itself). Arguments go to
# the launcher, e.g. scripts/run.sh --config my.json. Ctrl-C finalizes every
# live stream (final playlists) and exits.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build_dir=${CASTLINE_BUILD_DIR:-build}
export GST_PLUGIN_PATH="$PWD/$build_dir/gst-plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
exec "$build_dir/launcher/castline-launcher" "$@"
