#!/usr/bin/env bash
# The whole test suite, from nothing: installs, builds and runs every test.
#   scripts/test.sh            normal build in build/
#   scripts/test.sh --asan     AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
# Extra arguments go to `meson test` (e.g. --suite unit).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--asan" ]]; then
  shift
  export CASTLINE_BUILD_DIR=build-asan
  export CASTLINE_MESON_ARGS="-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=0:abort_on_error=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
fi

bash scripts/build.sh
build_dir=${CASTLINE_BUILD_DIR:-build}
status=0
testlog=$build_dir/meson-logs/testlog.json
rm -f "$testlog"   # no stale counts when meson test stops before running anything
meson test -C "$build_dir" --print-errorlogs --num-processes 2 "$@" || status=$?
[[ -f "$testlog" ]] || { echo "meson test wrote no test log (exit $status)" >&2; exit $((status ? status : 1)); }
# one plain closing line for whoever reads the log
python3 - "$testlog" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    result = json.loads(line)["result"]
    if result in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif result == "SKIP":
        skipped += 1
    else:
        failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
