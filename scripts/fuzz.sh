#!/usr/bin/env bash
# The fuzz suite: a clang build with libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/, running each fuzz target for
# CASTLINE_FUZZ_SECONDS (default 10: seven targets keep the whole suite under
# 30 minutes on 2 cores; set it higher for a longer search) from libFuzzer seed CASTLINE_FUZZ_SEED
# (default 1, so runs repeat; 0: a random seed). Only the fuzz targets are built.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${CASTLINE_FUZZ_SECONDS:-10}
seed=${CASTLINE_FUZZ_SEED:-1}
dir=build-fuzz
if [[ ! -f $dir/build.ninja ]]; then
  CC=clang CXX=clang++ meson setup "$dir" --buildtype=debug -Dtests=enabled \
    -Dintegration-tests=false -Db_sanitize=address,undefined -Db_lundef=false \
    -Dcpp_args=-fsanitize=fuzzer-no-link -Dfuzz-seconds="$seconds" -Dfuzz-seed="$seed" >/dev/null
else
  meson configure "$dir" -Dfuzz-seconds="$seconds" -Dfuzz-seed="$seed" >/dev/null
fi
meson compile -C "$dir" tests/fuzz/fuzz_webmwssrc tests/fuzz/fuzz_whipsdp tests/fuzz/fuzz_whepsdp \
  tests/fuzz/fuzz_http tests/fuzz/fuzz_rtmp tests/fuzz/fuzz_llhls tests/fuzz/fuzz_srt >/dev/null
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# two targets at a time, but fuzz_http alone (is_parallel false): its
# promise that a closed connection is released within the server's
# time-out is about time, and is not to share the 2 cores with another
# ASan fuzzer
meson test -C "$dir" --no-rebuild --suite fuzz --print-errorlogs --num-processes 2 "$@"
