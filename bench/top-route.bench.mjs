// The 'top' route (s_max by Lanczos) against the full spectrum, for tall, wide and square matrices, optionally side
// by side with another build of the addon (rounds interleaved, so both see the same machine load):
//   node bench/top-route.bench.mjs [--baseline path/to/old/zerolm_native.node] [--rounds 9] [--threads 1]
// Medians in ms; also checks that every build's top agrees with its own full spectrum's s_max.
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const zerolm = require(join(root, 'dist/index.js'));
const argument = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const rounds = Number(argument('rounds', '9'));
const threads = Number(argument('threads', '1'));
const builds = [['this build', require(join(root, 'build/Release/zerolm_native.node'))]];
const baseline = argument('baseline');
if (baseline) builds.unshift(['baseline', require(resolve(baseline))]);
const shapes = [[768, 3072], [3072, 768], [1024, 1024], [1024, 4096], [4096, 1024]];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`machine: ${cpus()[0].model}, ${zerolm.availableCores()} cores; node ${process.version}; SIMD ${zerolm.simd()}; threads ${threads}; ${rounds} rounds`);
const header = ['shape', ...builds.flatMap(([name]) => [`${name} top`, `${name} full`, `${name} top/full`])];
if (baseline) header.push('top: baseline / this build');
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const [rows, cols] of shapes) {
  const values = zerolm.fillNormal(rows, cols, { std: 0.02, seed: 7, stream: rows + cols });
  const times = builds.map(() => ({ top: [], full: [] }));
  const tops = builds.map(() => ({ top: 0, full: 0 }));
  for (let round = 0; round < rounds; round++) {
    builds.forEach(([, native], b) => {
      for (const route of ['top', 'full']) {
        const started = process.hrtime.bigint();
        const [result] = native.spectraSync([{ rows, cols, values, route }], threads);
        times[b][route].push(Number(process.hrtime.bigint() - started) / 1e6);
        tops[b][route] = result.top;
      }
    });
  }
  const cells = [`${rows}x${cols}`];
  builds.forEach(([name], b) => {
    const error = Math.abs(tops[b].top - tops[b].full) / tops[b].full;
    if (!(error < 1e-9)) console.error(`${name} ${rows}x${cols}: top ${tops[b].top} vs full ${tops[b].full} (${error})`);
    cells.push(median(times[b].top).toFixed(1), median(times[b].full).toFixed(1), (median(times[b].top) / median(times[b].full)).toFixed(2));
  });
  if (baseline) cells.push((median(times[0].top) / median(times[1].top)).toFixed(2));
  console.log(`| ${cells.join(' | ')} |`);
}
