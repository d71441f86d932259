#!/usr/bin/env node
/*
 * `npm run prebuild`: the prebuilt Node-API addon the package ships, prebuilds/<platform>-<arch>/zerolm.napi.<libc>.node,
 * made by prebuildify (node-gyp on binding.gyp, stripped, tagged with the libc so that node-gyp-build never hands a
 * glibc binary to a musl system).
 * node-gyp builds into build/, which is the checkout's own (cmake-js) build: it runs in a scratch copy of the
 * sources instead, so that the local build the tests use is left alone.
 * Offline machines: node-gyp downloads Node's headers unless told where they are; the headers of the running Node
 * are used when they are installed beside it.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const prebuildify = require('prebuildify');

const root = path.resolve(__dirname, '..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'zerolm-prebuild-'));
for (const entry of ['binding.gyp', 'native', 'package.json']) fs.cpSync(path.join(root, entry), path.join(scratch, entry), { recursive: true });
fs.symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'), 'dir');

// prebuildify hands node-gyp this process's environment.
const nodeDir = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(nodeDir, 'include', 'node', 'common.gypi'))) process.env.npm_config_nodedir = nodeDir;

prebuildify(
  { cwd: scratch, out: root, napi: true, strip: true, tagLibc: true },
  (error) => {
    fs.rmSync(scratch, { recursive: true, force: true });
    if (error) {
      process.stderr.write(`prebuild failed: ${error.message || error}\n`);
      process.exitCode = 1;
      return;
    }
    const folder = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
    for (const file of fs.readdirSync(folder)) process.stdout.write(`${path.relative(root, path.join(folder, file))}: ${fs.statSync(path.join(folder, file)).size} bytes\n`);
  },
);
