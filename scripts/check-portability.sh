#!/usr/bin/env bash
# Portability check of the native code (not part of CI: it needs clang++ and an aarch64 cross g++, Debian packages
# clang and g++-aarch64-linux-gnu):
#   1. the addon builds with clang++ (build/clang) and the native tests pass against that binary;
#   2. exact scores from the clang build equal the g++ build's byte for byte (log-det, effective-rank, spectral);
#   3. every engine source but the AVX2 kernels, and the N-API surface, compile for aarch64 with -Werror (the
#      portable scalar path; the AVX2 files are left out there by CMakeLists.txt, as on any non-x86 machine).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
command -v clang++ >/dev/null || { echo "check-portability: clang++ not found (apt-get install clang)" >&2; exit 1; }
command -v aarch64-linux-gnu-g++ >/dev/null || { echo "check-portability: aarch64-linux-gnu-g++ not found (apt-get install g++-aarch64-linux-gnu)" >&2; exit 1; }

echo "1. clang++ build"
CXX=clang++ CC=clang npx cmake-js compile --out build/clang --log-level error
clang_addon="$root/build/clang/Release/zerolm_native.node"
ZEROLM_NATIVE_PATH="$clang_addon" npx jest --maxWorkers=1 test/unit/native/spectra.test.ts test/unit/native/simd.test.ts test/unit/native/rng.test.ts test/unit/native/bidiagonal.test.ts

echo "2. clang++ and g++ builds score alike"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for measure in log-det effective-rank spectral; do
  node dist/cli/main.js score --benchmark nas-bench-bert --measure "$measure" > "$scratch/gcc.jsonl"
  ZEROLM_NATIVE_PATH="$clang_addon" node dist/cli/main.js score --benchmark nas-bench-bert --measure "$measure" > "$scratch/clang.jsonl"
  cmp "$scratch/gcc.jsonl" "$scratch/clang.jsonl"
  echo "   $measure: identical"
done

echo "3. aarch64 (scalar path) compiles with -Werror"
flags=(-std=c++17 -O2 -ffp-contract=off -Wall -Wextra -Wno-unused-parameter -Werror -fPIC -Inative)
for source in native/spectrum/*.cc native/tensors/*.cc; do
  [[ "$source" == *_avx2.cc ]] && continue
  aarch64-linux-gnu-g++ "${flags[@]}" -c "$source" -o "$scratch/$(basename "$source").o"
done
node_include="$(dirname "$(command -v node)")/../include/node"
[[ -f "$node_include/node_api.h" ]] || node_include=/usr/include/node
aarch64-linux-gnu-g++ "${flags[@]}" -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_CPP_EXCEPTIONS_ALL -DNODE_ADDON_API_DISABLE_DEPRECATED \
  -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS -I"$node_include" -I"$(node -p "require('node-addon-api').include" | tr -d '"')" -c native/addon.cc -o "$scratch/addon.o"
echo "check-portability: passed"
