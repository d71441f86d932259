#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer into build/asan (apart from build/Release)
# and runs the native jest tests (test/unit/native) against that binary. Fails on a failing test or on any
# sanitizer report, from the jest process or from any child process or worker the tests start.
#
#   bash scripts/test-asan.sh                   # all of test/unit/native
#   bash scripts/test-asan.sh -t 'cancellation' # extra arguments go to jest
#
# Needs gcc's (or clang's) libasan. node itself is not instrumented: libasan is preloaded so that it comes first,
# and leak detection is off (node does not free everything at exit).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started=$(date +%s)

build_dir="build/asan"
echo "test-asan: building the sanitized addon in $build_dir"
npx cmake-js compile --out "$build_dir" --CDZEROLM_SANITIZE=ON --log-level error
addon="$root/$build_dir/Release/zerolm_native.node"
[[ -f "$addon" ]] || { echo "test-asan: $addon was not built" >&2; exit 1; }

# The runtime must match the compiler that built the addon.
compiler="$(sed -n 's/^CMAKE_CXX_COMPILER:FILEPATH=//p' "$build_dir/CMakeCache.txt")"
libasan="$("${compiler:-c++}" -print-file-name=libasan.so)"
[[ "$libasan" == /* && -e "$libasan" ]] || { echo "test-asan: libasan.so not found for ${compiler:-c++}" >&2; exit 1; }

reports="$(mktemp -d "${TMPDIR:-/tmp}/zerolm-asan.XXXXXX")"
trap 'rm -rf "$reports"' EXIT

status=0
env \
  LD_PRELOAD="$libasan" \
  ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:log_path=$reports/asan" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan" \
  ZEROLM_NATIVE_PATH="$addon" \
  npx jest test/unit/native --runInBand "$@" || status=$?

# Sanitizers write one file per process that reported (log_path); print them all.
found=0
for report in "$reports"/*; do
  [[ -e "$report" ]] || continue
  found=1
  echo "=== sanitizer report: $(basename "$report") ===" >&2
  cat "$report" >&2
done

elapsed=$(( $(date +%s) - started ))
echo "test-asan: jest exit status $status, sanitizer reports: $([[ $found == 1 ]] && echo yes || echo none), ${elapsed} s"
if [[ $found == 1 ]]; then exit 1; fi
exit "$status"
