#!/usr/bin/env bash
# Installs the packed package as a user would, on a PATH with node and npm and nothing else (no cmake, no
# compiler), and checks: the install succeeds; require and import both work; the prebuild is what loads; exact
# scores equal the local source build's bit for bit (same stdout, byte for byte). Then, with the prebuild removed,
# `npm rebuild zerolm` still succeeds (a warning, exit 0), analytic mode works, and an exact run stops with one
# E_NATIVE_MISSING. Prints the tarball's size and the installed production dependencies.
# Needs: `npm run prebuild` done, a local build (build/Release), the npm registry for the dependencies.
# Usage: bash scripts/check-packed-install.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/zerolm-packed-XXXXXX")"
trap 'rm -rf "$work"' EXIT
platform="$(node -p 'process.platform + "-" + process.arch')"
[ -d "$root/prebuilds/$platform" ] || { echo "no prebuilds/$platform: run npm run prebuild first" >&2; exit 1; }

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

step "npm pack"
tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)"
tarball="$work/$tarball"
echo "$(basename "$tarball"): $(stat -c %s "$tarball") bytes"
tar -tzf "$tarball" > "$work/contents.txt"
grep -E '^package/(test|build|bench|\.ci)/' "$work/contents.txt" && fail "the tarball holds tests, build intermediates or benches"
grep -q "^package/prebuilds/$platform/" "$work/contents.txt" || fail "the tarball holds no prebuild for $platform"
echo "$(wc -l < "$work/contents.txt") files; top level: $(cut -d/ -f2 "$work/contents.txt" | sort -u | tr '\n' ' ')"

# node and npm only: symlinks to them (and to sh, which npm runs scripts with) in an otherwise empty folder.
mkdir "$work/bin"
for tool in node npm npx sh; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
bare_path="$work/bin"
PATH="$bare_path" command -v cmake >/dev/null && fail "cmake still on the bare PATH"
PATH="$bare_path" command -v g++ c++ clang++ >/dev/null && fail "a compiler is still on the bare PATH"

step "npm install of the tarball with PATH=$bare_path"
project="$work/project"
mkdir "$project"
echo '{ "name": "consumer", "private": true }' > "$project/package.json"
(cd "$project" && PATH="$bare_path" npm install --no-audit --no-fund "$tarball")
echo "production packages installed: $(cd "$project" && PATH="$bare_path" npm ls --omit=dev --all --parseable | tail -n +2 | wc -l)"
echo "node_modules: $(du -sh "$project/node_modules" | cut -f1)"

step "require, import, and which addon loads"
loaded="$(cd "$project" && PATH="$bare_path" node -e "const z = require('zerolm'); const n = require('zerolm/package.json'); z.simd(); process.stdout.write(require.resolve('zerolm'))")"
echo "require: $loaded"
(cd "$project" && PATH="$bare_path" node --input-type=module -e "import { score, simd } from 'zerolm'; if (typeof score !== 'function') process.exit(1); console.log('import: simd ' + simd())")
info="$(cd "$project" && PATH="$bare_path" npx zerolm info)"
echo "$info" | grep -q "\"addon\": \".*/node_modules/zerolm/prebuilds/$platform/" || fail "the prebuild did not load: $info"

step "exact scores: installed prebuild vs the local source build, byte for byte"
for measure in mean-sq-sv spectral log-det; do
  (cd "$project" && PATH="$bare_path" npx zerolm score --benchmark nas-bench-bert --measure "$measure" --threads 2 > "$work/packed-$measure.jsonl")
  (cd "$root" && env -u ZEROLM_NATIVE_PATH node dist/cli/main.js score --benchmark nas-bench-bert --measure "$measure" --threads 2 > "$work/source-$measure.jsonl")
  cmp "$work/packed-$measure.jsonl" "$work/source-$measure.jsonl" || fail "$measure: the packed install scores differently"
  echo "$measure: $(wc -l < "$work/packed-$measure.jsonl") scores, identical"
done

step "no prebuild, no toolchain: npm rebuild zerolm"
rm -rf "$project/node_modules/zerolm/prebuilds"
(cd "$project" && PATH="$bare_path" npm rebuild zerolm --foreground-scripts) 2> "$work/rebuild.err" || { cat "$work/rebuild.err"; fail "npm rebuild failed"; }
grep -q 'npm rebuild zerolm' "$work/rebuild.err" || { cat "$work/rebuild.err"; fail "no warning saying what to do"; }
grep 'zerolm: warning' -A 2 "$work/rebuild.err"
analytic="$(cd "$project" && PATH="$bare_path" npx zerolm score --benchmark nas-bench-bert --mode analytic | wc -l)"
[ "$analytic" = 500 ] || fail "analytic mode scored $analytic of 500"
echo "analytic mode: 500 scores"
set +e
(cd "$project" && PATH="$bare_path" npx zerolm score --benchmark nas-bench-bert) > "$work/exact.out" 2> "$work/exact.err"
status=$?
set -e
[ "$status" = 2 ] || fail "exact mode without the addon exited $status, not 2"
[ "$(wc -l < "$work/exact.err")" = 1 ] || fail "exact mode without the addon printed $(wc -l < "$work/exact.err") error lines"
grep -q E_NATIVE_MISSING "$work/exact.err" || fail "no E_NATIVE_MISSING"
echo "exact mode: exit $status, one line: $(cut -c1-160 "$work/exact.err")..."
step "all checks passed"
