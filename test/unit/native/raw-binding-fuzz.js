'use strict';
// Calls the compiled addon's functions directly (no TypeScript checks in front) with seeded garbage arguments.
// Run as a child process by fuzz.test.ts: an abort or a segfault then shows up as a signal, not a dead jest worker.
// Usage: node raw-binding-fuzz.js <seed> <iterations>; prints one JSON line of counts on success.
// Hostile callers that mutate the arguments while the addon reads them are targeted separately (fuzz.test.ts).

const addon = require(process.env.ZEROLM_NATIVE_PATH);

const seed = Number(process.argv[2] ?? 1);
const iterations = Number(process.argv[3] ?? 2000);

// mulberry32, as in fixtures.ts
let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const chance = (p) => random() < p;

const thrownByGetter = new Error('thrown by a getter of the caller');

function detachedFloat32Array(length) {
  const array = new Float32Array(length);
  structuredClone(array.buffer, { transfer: [array.buffer] });
  return array;
}

const NUMBERS = [0, -0, 1, 2, 3, 4, 7, -1, 0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
  2 ** 53, -(2 ** 53), 1e308, Number.MIN_VALUE, 1024, 1025, 1e9];
const SMALL_DIMENSIONS = [1, 2, 3, 5, 8, 13];

function garbage(depth = 0) {
  switch (Math.floor(random() * 22)) {
    case 0: return pick(NUMBERS);
    case 1: return pick(['', 'normal', 'uniform', 'full', 'top', 'logDet', 'sumSquares', '1', 'NaN', '\u0000', 'x'.repeat(1000)]);
    case 2: return null;
    case 3: return undefined;
    case 4: return pick([true, false]);
    case 5: return Symbol('garbage');
    case 6: return pick([0n, 1n, 2n ** 64n, -1n]);
    case 7: return {};
    case 8: return [];
    case 9: return () => 1;
    case 10: return new (pick([Float32Array, Float64Array, Int32Array, Uint8Array, Uint32Array, Int8Array]))(pick([0, 1, 3, 4, 12]));
    case 11: return new DataView(new ArrayBuffer(16));
    case 12: return new ArrayBuffer(16);
    case 13: return detachedFloat32Array(pick([1, 4, 12]));
    case 14: return new Float32Array(new Float32Array(40).buffer, 4 * pick([1, 3, 5]), pick([0, 1, 4, 6]));
    case 15: return new Proxy({}, { get() { throw thrownByGetter; } });
    case 16: return Object.defineProperty({}, pick(['rows', 'cols', 'values', 'route', 'seed', 'scale']), { get() { throw thrownByGetter; } });
    case 17: return depth < 2 ? Array.from({ length: Math.floor(random() * 4) }, () => garbage(depth + 1)) : [];
    case 18: return depth < 2 ? job(depth + 1) : {};
    case 19: return { valueOf() { return 3; }, toString() { return '3'; } };
    case 20: { const holes = []; holes.length = pick([1, 3, 100]); return holes; }
    default: return Object.create(null);
  }
}

// Something shaped like a job, with one or more fields replaced by garbage.
function job(depth = 0) {
  const rows = pick(SMALL_DIMENSIONS);
  const cols = pick(SMALL_DIMENSIONS);
  const out = chance(0.5)
    ? { rows, cols, values: new Float32Array(rows * cols).map(() => random() - 0.5) }
    : { rows, cols, distribution: pick(['normal', 'uniform']), scale: 1, seed: 7, stream: 3 };
  if (chance(0.7)) out.route = pick(['full', 'sumSquares', 'logDet', 'top']);
  const keys = ['rows', 'cols', 'values', 'distribution', 'scale', 'seed', 'stream', 'route', 'extra'];
  const damaged = chance(0.8) ? 0 : 1 + Math.floor(random() * 2);
  for (let i = 0; i < damaged; i++) {
    const key = pick(keys);
    if (chance(0.2)) delete out[key];
    else out[key] = garbage(depth + 1);
  }
  return out;
}

function argumentsFor(name) {
  if (chance(0.15)) return Array.from({ length: Math.floor(random() * 6) }, () => garbage());
  switch (name) {
    case 'spectraSync':
    case 'spectraAsync': {
      const jobs = chance(0.85) ? Array.from({ length: 1 + Math.floor(random() * 3) }, () => job()) : garbage();
      const threads = chance(0.85) ? pick([1, 2, 3]) : garbage();
      const extra = name === 'spectraAsync' ? [chance(0.5) ? () => {} : garbage()] : [];
      return [jobs, threads, ...extra];
    }
    case 'fill': {
      const target = chance(0.6) ? new Float32Array(pick([0, 1, 5, 17])) : garbage();
      const args = [pick(['normal', 'uniform']), target, 1, 2, 3];
      const damaged = Math.floor(random() * 3);
      for (let i = 0; i < damaged; i++) args[Math.floor(random() * 5)] = garbage();
      return args;
    }
    case 'philox4x32_10': {
      const args = [[1, 2, 3, 4], [5, 6]];
      if (chance(0.5)) args[0][Math.floor(random() * 4)] = garbage();
      if (chance(0.5)) args[1] = chance(0.5) ? [garbage(), 1] : garbage();
      if (chance(0.3)) args[0] = garbage();
      return args;
    }
    default:
      return Array.from({ length: Math.floor(random() * 3) }, () => garbage());
  }
}

const FUNCTIONS = ['spectraSync', 'spectraAsync', 'fill', 'philox4x32_10', 'simd', 'defaultThreads', 'concurrency', 'availableCores'];
const counts = { calls: 0, returned: 0, threw: 0, rejected: 0, resolved: 0, cancelled: 0, codes: {}, nonErrors: 0 };
const settling = [];

function note(error) {
  if (!(error instanceof Error)) counts.nonErrors++;
  const code = error === thrownByGetter ? 'getter' : (error && error.code) || (error && error.constructor && error.constructor.name) || typeof error;
  counts.codes[code] = (counts.codes[code] ?? 0) + 1;
}

for (let i = 0; i < iterations; i++) {
  const name = pick(FUNCTIONS);
  const args = argumentsFor(name);
  const receiver = chance(0.05) ? pick([undefined, {}, null]) : addon;
  counts.calls++;
  let value;
  try {
    value = addon[name].apply(receiver, args);
    counts.returned++;
  } catch (error) {
    counts.threw++;
    note(error);
    continue;
  }
  if (name === 'spectraAsync') {
    if (chance(0.3)) {
      value.cancel(...(chance(0.5) ? [garbage()] : []));
      counts.cancelled++;
      if (chance(0.3)) value.cancel();
    }
    settling.push(value.promise.then(() => { counts.resolved++; }, (error) => { counts.rejected++; note(error); }));
  }
}

Promise.all(settling).then(() => {
  process.stdout.write(`${JSON.stringify(counts)}\n`);
});
