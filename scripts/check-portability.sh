#!/usr/bin/env bash
# Portability check of the native code (not part of CI). Each step runs when its tools are installed and is skipped,
# saying so, when they are not (Debian packages clang, g++-aarch64-linux-gnu, binutils):
#   1. the addon builds with clang++ (build/clang) and the native tests pass against that binary;
#   2. exact scores from the clang build equal the g++ build's byte for byte (log-det, effective-rank, spectral);
#   3. every engine source but the AVX2 kernels, and the N-API surface, compile for aarch64 with -Werror (the
#      portable scalar path; the AVX2 files are left out there by CMakeLists.txt, as on any non-x86 machine);
#   4. x86-64 builds: no file is compiled with -mavx2; the kernels carry target("avx2,fma") attributes, so only they
#      (the functions of native/spectrum/*_avx2.cc, and the band chase they inline) may hold AVX/AVX2/FMA
#      instructions, and the addon loads and runs its scalar path on a CPU without AVX2.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
skipped=0
have() { command -v "$1" >/dev/null; }
skip() { echo "   skipped: $1"; skipped=$((skipped + 1)); }

clang_addon="$root/build/clang/Release/zerolm_native.node"
echo "1. clang++ build"
if have clang++; then
  CXX=clang++ CC=clang npx cmake-js compile --out build/clang --log-level error
  ZEROLM_NATIVE_PATH="$clang_addon" npx jest --maxWorkers=1 test/unit/native/spectra.test.ts test/unit/native/simd.test.ts test/unit/native/rng.test.ts test/unit/native/bidiagonal.test.ts

  echo "2. clang++ and g++ builds score alike"
  for measure in log-det effective-rank spectral; do
    node dist/cli/main.js score --benchmark nas-bench-bert --measure "$measure" > "$scratch/gcc.jsonl"
    ZEROLM_NATIVE_PATH="$clang_addon" node dist/cli/main.js score --benchmark nas-bench-bert --measure "$measure" > "$scratch/clang.jsonl"
    cmp "$scratch/gcc.jsonl" "$scratch/clang.jsonl"
    echo "   $measure: identical"
  done
else
  skip "clang++ not found (apt-get install clang); step 2 needs its build too"
fi

echo "3. aarch64 (scalar path) compiles with -Werror"
if have aarch64-linux-gnu-g++; then
  flags=(-std=c++17 -O2 -ffp-contract=off -Wall -Wextra -Wno-unused-parameter -Werror -fPIC -Inative)
  for source in native/spectrum/*.cc native/tensors/*.cc; do
    [[ "$source" == *_avx2.cc ]] && continue
    aarch64-linux-gnu-g++ "${flags[@]}" -c "$source" -o "$scratch/$(basename "$source").o"
  done
  node_include="$(dirname "$(command -v node)")/../include/node"
  [[ -f "$node_include/node_api.h" ]] || node_include=/usr/include/node
  aarch64-linux-gnu-g++ "${flags[@]}" -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_CPP_EXCEPTIONS_ALL -DNODE_ADDON_API_DISABLE_DEPRECATED \
    -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS -I"$node_include" -I"$(node -p "require('node-addon-api').include" | tr -d '"')" -c native/addon.cc -o "$scratch/addon.o"
else
  skip "aarch64-linux-gnu-g++ not found (apt-get install g++-aarch64-linux-gnu)"
fi

echo "4. only the AVX2 kernels hold AVX instructions"
# Functions with a VEX-encoded instruction (every AVX, AVX2 and FMA instruction is one) or a ymm register.
vex_functions() {
  objdump -d --no-show-raw-insn -C "$1" | awk -F'\t' '
    /^[0-9a-f]+ <.*>:$/ { name = $0; next }
    NF >= 2 { split($2, words, " "); operands = $2; sub(/#.*/, "", operands)
              if ((words[1] ~ /^v/ || operands ~ /%ymm/) && !(name in seen)) { seen[name] = 1; print name } }'
}
if [[ "$(uname -m)" != x86_64 ]]; then
  skip "not an x86-64 machine"
elif ! have objdump; then
  skip "objdump not found (apt-get install binutils)"
else
  if cat CMakeLists.txt binding.gyp | grep -v '^[[:space:]]*#' | grep -q -e '-mavx2' -e '-mfma'; then
    echo "   a build file compiles something with -mavx2 or -mfma" >&2
    exit 1
  fi
  for addon in build/Release/zerolm_native.node "$clang_addon"; do
    [[ -f "$addon" ]] || continue
    vex_functions "$addon" > "$scratch/vex.txt"
    [[ -s "$scratch/vex.txt" ]] || { echo "   $addon: no AVX2 kernels at all?" >&2; exit 1; }
    if grep -v -e '_avx2' -e 'band_chase::' "$scratch/vex.txt" > "$scratch/outside.txt"; then
      echo "   $addon: AVX instructions outside the AVX2 kernels:" >&2
      cat "$scratch/outside.txt" >&2
      exit 1
    fi
    echo "   $addon: $(wc -l < "$scratch/vex.txt") functions with AVX instructions, all AVX2 kernels"
  done
fi
echo "check-portability: passed ($skipped step(s) skipped)"
