// Real weights: reading throughput of a multi-GB safetensors file made here (bf16, 4096 x 11008 tensors, the shape of
// a LLaMA-7B FFN matrix), and the time to score one such matrix with each statistic route. Imports the compiled
// library: run `npx tsc -p tsconfig.json` (and `npm run build:native`) first.
//
//   node bench/weights.bench.mjs                        2 GiB file, every route
//   ZEROLM_BENCH_WEIGHTS_GIB=4 node bench/weights.bench.mjs
//   ZEROLM_BENCH_ROUTES=sumSquares,logDet node bench/weights.bench.mjs   (the 'full' route takes longest)
//
// The file is read right after it is written, so it sits in the page cache: "read + convert" is the path's own
// ceiling. The raw disk's rate (dd with O_DIRECT, when dd is there) is printed beside it: reading a checkpoint
// that is not cached is bounded by the lower of the two.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
if (!existsSync(join(dist, 'native.js'))) {
  console.error('dist/ is missing: run `npx tsc -p tsconfig.json` (and `npm run build:native`) first.');
  process.exit(1);
}
const require = createRequire(import.meta.url);
const native = require(join(dist, 'native.js'));
const { WeightStore } = require(join(dist, 'io', 'safetensors.js'));

const ROWS = 4096;
const COLS = 11008;
const gib = Number(process.env.ZEROLM_BENCH_WEIGHTS_GIB ?? 2);
const routes = (process.env.ZEROLM_BENCH_ROUTES ?? 'sumSquares,logDet,top,full').split(',');
const tensorBytes = ROWS * COLS * 2;
const count = Math.max(1, Math.round((gib * 2 ** 30) / tensorBytes));

// One normal(0, 0.02) matrix as bf16 (the top half of each float32), reused for every tensor of the file.
const values = native.fillNormal(ROWS, COLS, { std: 0.02, seed: 1, stream: 0 });
const words = new Uint32Array(values.buffer);
const bf16 = Buffer.alloc(tensorBytes);
for (let i = 0; i < words.length; i++) bf16.writeUInt16LE(words[i] >>> 16, 2 * i);

const folder = mkdtempSync(join(tmpdir(), 'zerolm-weights-bench-'));
const file = join(folder, 'model.safetensors');
const header = {};
for (let t = 0; t < count; t++) header[`model.layers.${t}.mlp.up_proj.weight`] = { dtype: 'BF16', shape: [ROWS, COLS], data_offsets: [t * tensorBytes, (t + 1) * tensorBytes] };
const json = Buffer.from(JSON.stringify(header));
const length = Buffer.alloc(8);
length.writeBigUInt64LE(BigInt(json.length));
let started = process.hrtime.bigint();
const fd = openSync(file, 'w');
writeSync(fd, length);
writeSync(fd, json);
for (let t = 0; t < count; t++) writeSync(fd, bf16);
closeSync(fd);
const seconds = (since) => Number(process.hrtime.bigint() - since) / 1e9;
const totalBytes = count * tensorBytes;
console.log(`file: ${count} bf16 tensors of ${ROWS} x ${COLS}, ${(totalBytes / 2 ** 30).toFixed(2)} GiB, written in ${seconds(started).toFixed(1)} s`);

try {
  const store = WeightStore.open(file);
  const names = Object.keys(header);
  // Read only, then read + convert to float32, each over the whole file, into reused memory as the scorer does
  // (one scratch buffer for the stored bytes, one float32 arena).
  const scratch = Buffer.allocUnsafe(tensorBytes);
  const out = new Float32Array(ROWS * COLS);
  store.read(store.entry(names[0]), scratch); // touch both once
  native.convertTensor(scratch, 'BF16', [ROWS, COLS], {}, out);
  started = process.hrtime.bigint();
  for (const name of names) store.read(store.entry(name), scratch);
  const readSeconds = seconds(started);
  started = process.hrtime.bigint();
  let convertOnly = 0;
  for (const name of names) {
    const bytes = store.read(store.entry(name), scratch);
    const t0 = process.hrtime.bigint();
    native.convertTensor(bytes, 'BF16', [ROWS, COLS], {}, out);
    convertOnly += seconds(t0);
  }
  const readConvertSeconds = seconds(started);
  store.close();
  const rate = (bytes, s) => `${(bytes / s / 1e9).toFixed(2)} GB/s`;
  console.log(`read (page cache):            ${rate(totalBytes, readSeconds)}  (${readSeconds.toFixed(2)} s)`);
  console.log(`read + convert bf16 -> f32:   ${rate(totalBytes, readConvertSeconds)} of stored bytes  (${readConvertSeconds.toFixed(2)} s)`);
  console.log(`convert alone:                ${rate(totalBytes, convertOnly)} of stored bytes, ${rate(2 * totalBytes, convertOnly)} of float32 written`);
  const dd = spawnSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=16M', 'iflag=direct'], { encoding: 'utf8' });
  const ddRate = /([\d.,]+ [GM]B\/s)/.exec(dd.stderr ?? '');
  console.log(`raw disk (dd, O_DIRECT):      ${dd.status === 0 && ddRate ? ddRate[1] : 'unavailable'}`);

  // One matrix: convert, then each route the measures use (mean-sq-sv: sumSquares; log-det: logDet;
  // spectral/stable-rank: top; nuclear/effective-rank/pca-k: full).
  const matrix = native.convertTensor(new Uint8Array(bf16.buffer, bf16.byteOffset, bf16.length), 'BF16', [ROWS, COLS]);
  for (const route of routes) {
    started = process.hrtime.bigint();
    native.spectraSync([{ rows: ROWS, cols: COLS, values: matrix, route }]);
    console.log(`one ${ROWS} x ${COLS} matrix, route ${route.padEnd(10)} ${(seconds(started) * 1000).toFixed(0)} ms (threads: ${native.defaultThreads()})`);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
