#!/usr/bin/env node
/*
 * The package's `install` script. It never fails an install of the package:
 * - a prebuilt addon that loads here (prebuilds/<platform>-<arch>/) is used as it is;
 * - otherwise the addon is built from source with cmake-js (build/Release);
 * - if that fails too (no cmake, no compiler), it warns and exits 0: zerolm then loads and scores in analytic mode,
 *   and the first call that needs the addon throws E_NATIVE_MISSING saying what to install.
 * In a checkout of the repository (npm ci / npm install run in the package's own folder) it always builds from
 * source, and a failed build fails the install: the tests must run against a fresh build of the sources.
 */
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const EXPECTED_ABI_VERSION = 4; // src/native.ts

/** npm runs a dependency's scripts in node_modules/<name>, and a checkout's in the folder npm was started in. */
function isCheckout() {
  if (process.env.ZEROLM_BUILD_FROM_SOURCE === '1') return true;
  const started = process.env.INIT_CWD;
  return started !== undefined && path.resolve(started) === root;
}

/** The prebuild node-gyp-build would pick for this machine, if it loads and is the version this code expects. */
function loadablePrebuild() {
  let file;
  try {
    file = require('node-gyp-build').path(root);
  } catch {
    return undefined;
  }
  if (!file.includes(`${path.sep}prebuilds${path.sep}`)) return undefined;
  // Loaded in a child process: a binary that crashes on load must not take the install down.
  const probe = spawnSync(process.execPath, ['-e', `process.exit(require(${JSON.stringify(file)}).abiVersion === ${EXPECTED_ABI_VERSION} ? 0 : 1)`], { stdio: 'ignore' });
  return probe.status === 0 ? file : undefined;
}

function buildFromSource() {
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    return { ok: false, reason: 'cmake-js is not installed' };
  }
  const result = spawnSync(process.execPath, [cmakeJs, 'compile', '--log-level', 'error'], { cwd: root, stdio: 'inherit' });
  if (result.error) return { ok: false, reason: result.error.message };
  return result.status === 0 ? { ok: true } : { ok: false, reason: `cmake-js exited with status ${result.status}` };
}

function main() {
  const checkout = isCheckout();
  if (!checkout) {
    const prebuild = loadablePrebuild();
    if (prebuild) return 0;
  }
  const built = buildFromSource();
  if (built.ok) return 0;
  if (checkout) {
    process.stderr.write(`zerolm: building the native addon failed (${built.reason}); it needs cmake 3.15+ and a C++17 compiler\n`);
    return 1;
  }
  process.stderr.write(
    `zerolm: warning: no prebuilt native addon for ${process.platform}-${process.arch}, and building it from source failed (${built.reason}).\n` +
      'zerolm is installed and analytic mode (--mode analytic) works; exact and bidiagonal scoring need the addon.\n' +
      'To build it: install cmake (3.15 or later) and a C++17 compiler (g++ or clang++), then run `npm rebuild zerolm` in your project.\n',
  );
  return 0;
}

process.exitCode = main();
