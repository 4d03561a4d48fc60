#!/usr/bin/env bash
# The whole test suite, from nothing: installs, builds and runs every test.
#   scripts/test.sh            normal build in build/
#   scripts/test.sh --asan     AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
# Extra arguments go to `meson test` (e.g. --suite unit). Without them, the
# normal run ends with the fuzz suite (scripts/fuzz.sh: clang, libFuzzer).
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
fuzzlog=build-fuzz/meson-logs/testlog.json
rm -f "$testlog" "$fuzzlog"   # no stale counts when meson test stops before running anything
meson test -C "$build_dir" --print-errorlogs --num-processes 2 "$@" || status=$?
[[ -f "$testlog" ]] || { echo "meson test wrote no test log (exit $status)" >&2; exit $((status ? status : 1)); }
# the fuzz suite (its own clang build), unless meson test was given a selection
if [[ $# -eq 0 && -z "${CASTLINE_MESON_ARGS:-}" ]]; then
  bash scripts/fuzz.sh || status=$?
fi
# one plain closing line for whoever reads the log
python3 - "$testlog" "$fuzzlog" <<'PY'
import json, os, sys
passed = failed = skipped = 0
for line in (l for path in sys.argv[1:] if os.path.exists(path) for l in open(path)):
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
