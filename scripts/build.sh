#!/usr/bin/env bash
# Installs what is missing, then configures and builds castline.
#   CASTLINE_BUILD_DIR   build directory (default: build)
#   CASTLINE_MESON_ARGS  extra arguments for `meson setup`
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

build_dir=${CASTLINE_BUILD_DIR:-build}
# shellcheck disable=SC2206
args=(${CASTLINE_MESON_ARGS:-})
log=$(mktemp)
trap 'rm -f "$log"' EXIT
quiet() { "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }; }

if [[ -f "$build_dir/build.ninja" ]]; then
  if ((${#args[@]})); then quiet meson configure "$build_dir" "${args[@]}"; fi
else
  rm -rf "$build_dir"   # a half-made build directory from an interrupted setup
  quiet meson setup "$build_dir" "${args[@]}"
fi
quiet ninja -C "$build_dir"
