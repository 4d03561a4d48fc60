#!/bin/sh
# meson install script: puts the sample configuration at
# <sysconfdir>/castline/castline.json unless one is there already, so
# reinstalling (an upgrade) never overwrites an operator's settings.
#   $1  the sample (installed as <datadir>/castline/castline.json.sample)
#   $2  the configuration's path (absolute, before DESTDIR)
set -eu
target="${DESTDIR:-}$2"
if [ -e "$target" ]; then
  echo "castline: keeping $target (the new sample is $1)"
  exit 0
fi
install -D -m 0644 "${DESTDIR:-}$1" "$target"
echo "castline: installed $target"
