// Spectrum engine: ms per matrix and GFLOP/s, single thread and all threads, beside numpy (OpenBLAS, float32,
// single thread) when python3 + numpy are present. Imports the compiled library: run `npx tsc -p tsconfig.json`
// (and `npm run build:native`) first.
//
//   node bench/spectrum.bench.mjs                 all shapes
//   ZEROLM_BENCH_SHAPES=768x3072,1024x1024 node bench/spectrum.bench.mjs
//   ZEROLM_BENCH_QUICK=1 node bench/spectrum.bench.mjs   fewer iterations
//
// Timings are medians. On a shared machine (others compiling) they are noisy: compare ratios taken in one run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

const here = dirname(fileURLToPath(import.meta.url));
const distNative = join(here, '..', 'dist', 'native.js');
if (!existsSync(distNative)) {
  console.error('dist/native.js is missing: run `npx tsc -p tsconfig.json` (and `npm run build:native`) first.');
  process.exit(1);
}
const native = createRequire(import.meta.url)(distNative);

const quick = process.env.ZEROLM_BENCH_QUICK === '1';
const shapes = (process.env.ZEROLM_BENCH_SHAPES ?? '256x256,768x768,768x3072,1024x1024,2048x2048')
  .split(',')
  .map((text) => text.trim().split('x').map(Number));
const allThreads = native.defaultThreads();

/** Nominal flops of the full route: Gram of the smaller side p^2 k (symmetric half, 2 flops per FMA) plus the
 *  Householder tridiagonalisation 4/3 p^3. The same count is used for numpy's eigvalsh(A A^T) route. */
const flops = (rows, cols) => {
  const p = Math.min(rows, cols);
  const k = Math.max(rows, cols);
  return p * p * k + (4 / 3) * p ** 3;
};

function iterationsFor(rows, cols) {
  const work = flops(rows, cols);
  const base = work < 1e8 ? 40 : work < 3e9 ? 10 : work < 2e10 ? 5 : 3;
  return quick ? Math.max(2, Math.ceil(base / 3)) : base;
}

async function timeOurs(rows, cols, values, threads) {
  const bench = new Bench({ time: 0, iterations: iterationsFor(rows, cols), warmupIterations: 1, warmupTime: 0, throws: true });
  bench.add('full', () => {
    native.spectraSync([{ rows, cols, values }], { threads });
  });
  await bench.run();
  return bench.tasks[0].result.latency.p50;
}

async function timeRoutes(rows, cols, values) {
  const out = {};
  for (const route of ['full', 'logDet', 'top', 'sumSquares']) {
    const bench = new Bench({ time: 0, iterations: iterationsFor(rows, cols), warmupIterations: 1, warmupTime: 0, throws: true });
    bench.add(route, () => {
      native.spectraSync([{ rows, cols, values, route }], { threads: 1 });
    });
    await bench.run();
    out[route] = bench.tasks[0].result.latency.p50;
  }
  return out;
}

// Also reports accuracy against a float64 reference (eigvalsh of the float64 Gram matrix, exact products):
// max |s - s_ref| / s_max for numpy's float32 eigvalsh route and for ours (the brief's bar is 1e-4).
const numpyScript = `
import json, sys, time
import numpy as np
path, ours_path, rows, cols, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
W = np.fromfile(path, dtype=np.float32).reshape(rows, cols)
A = W if rows <= cols else W.T
A64 = A.astype(np.float64)
def med(f):
    f()
    times = []
    for _ in range(reps):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    times.sort()
    return 1000 * times[len(times) // 2]
svd = med(lambda: np.linalg.svd(W, compute_uv=False))
eig = med(lambda: np.linalg.eigvalsh(A @ A.T))
eig64 = med(lambda: np.linalg.eigvalsh(A64 @ A64.T))
to_s = lambda lam: np.sqrt(np.maximum(lam, 0))[::-1]
reference = to_s(np.linalg.eigvalsh(A64 @ A64.T))
err = lambda s: float(np.max(np.abs(s - reference)) / reference[0])
ours = np.fromfile(ours_path, dtype=np.float64)
print(json.dumps({"svd": svd, "eig": eig, "eig64": eig64, "errEig32": err(to_s(np.linalg.eigvalsh(A @ A.T))), "errOurs": err(ours)}))
`;

const numpyInfoScript = `
import numpy as np
try:
    from threadpoolctl import threadpool_info
    for pool in threadpool_info():
        print("  %s %s: %s, architecture %s, %s thread(s)" % (pool.get("internal_api"), pool.get("version"), pool.get("filepath"), pool.get("architecture"), pool.get("num_threads")))
except ImportError:
    print("  (threadpoolctl not installed; numpy.show_config():)")
    np.show_config()
print("  numpy", np.__version__)
`;

function pythonEnvironment() {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

function numpyAvailable() {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  return probe.status === 0;
}

function timeNumpy(path, oursPath, rows, cols) {
  const reps = String(iterationsFor(rows, cols));
  const run = spawnSync('python3', ['-c', numpyScript, path, oursPath, String(rows), String(cols), reps], {
    env: pythonEnvironment(),
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) throw new Error(`numpy run failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

const fmt = (value, digits = 1) => (value === undefined ? 'n/a' : value.toFixed(digits));
const gflops = (rows, cols, ms) => (flops(rows, cols) / (ms * 1e6)).toFixed(1);

async function main() {
  console.log(`zerolm spectrum engine: simd=${native.simd()}, threads=${allThreads}, cpu=${cpus()[0]?.model ?? 'unknown'}, node ${process.version}`);
  const withNumpy = numpyAvailable();
  if (withNumpy) {
    console.log('numpy, single thread (OPENBLAS_NUM_THREADS=1; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset):');
    const info = spawnSync('python3', ['-c', numpyInfoScript], { env: pythonEnvironment(), encoding: 'utf8' });
    console.log(info.stdout.trimEnd());
  } else {
    console.log('python3 + numpy not found: numpy columns skipped');
  }
  const scratch = mkdtempSync(join(tmpdir(), 'zerolm-bench-'));
  const rows = [];
  const routeRows = [];
  try {
    for (const [m, n] of shapes) {
      const values = native.fillNormal(m, n, { std: 1, seed: 1, stream: m * 65536 + n });
      const single = await timeOurs(m, n, values, 1);
      const all = allThreads > 1 ? await timeOurs(m, n, values, allThreads) : single;
      let numpy;
      if (withNumpy) {
        const file = join(scratch, `w-${m}x${n}.f32`);
        const oursFile = join(scratch, `s-${m}x${n}.f64`);
        writeFileSync(file, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
        const [ours] = native.spectraSync([{ rows: m, cols: n, values }], { threads: allThreads });
        writeFileSync(oursFile, Buffer.from(ours.singularValues.buffer));
        numpy = timeNumpy(file, oursFile, m, n);
        rmSync(file);
        rmSync(oursFile);
      }
      const best = numpy ? Math.min(numpy.svd, numpy.eig) : undefined;
      const row = { m, n, single, all, numpy, ratio: best ? single / best : undefined };
      rows.push(row);
      console.log(`  ${m}x${n}: ours ${fmt(single)} ms (1 thread), ${fmt(all)} ms (${allThreads} threads)` +
        (numpy ? `; numpy svd ${fmt(numpy.svd)} ms, eigvalsh(A A^T) ${fmt(numpy.eig)} ms (float64: ${fmt(numpy.eig64)} ms); ratio ${fmt(row.ratio, 2)}` : ''));
      if ((m === 768 && n === 3072) || (m === 1024 && n === 1024)) routeRows.push({ m, n, ...(await timeRoutes(m, n, values)) });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  console.log('\n### Full spectrum (all singular values), float32 input, medians\n');
  console.log('GFLOP/s counts p^2 k + 4/3 p^3 (p = min(m, n), k = max(m, n)) for every column. numpy runs single-threaded; ' +
    'ratio = ours (1 thread) / the faster numpy float32 route. Errors: max |s - s_ref| / s_max against eigvalsh of the ' +
    'float64 Gram matrix; ours accumulates the Gram matrix in float64, numpy\'s float32 route in float32.\n');
  console.log(`| shape | ours 1 thread ms | GFLOP/s | ours ${allThreads} threads ms | GFLOP/s | numpy svd f32 ms | numpy eigvalsh(A A^T) f32 ms | GFLOP/s | numpy eigvalsh f64 ms | ratio | error ours | error numpy f32 eigvalsh |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const sci = (value) => (value === undefined ? 'n/a' : value.toExponential(1));
  for (const r of rows) {
    console.log(`| ${r.m}x${r.n} | ${fmt(r.single)} | ${gflops(r.m, r.n, r.single)} | ${fmt(r.all)} | ${gflops(r.m, r.n, r.all)} | ` +
      `${fmt(r.numpy?.svd)} | ${fmt(r.numpy?.eig)} | ${r.numpy ? gflops(r.m, r.n, r.numpy.eig) : 'n/a'} | ${fmt(r.numpy?.eig64)} | ` +
      `${fmt(r.ratio, 2)} | ${sci(r.numpy?.errOurs)} | ${sci(r.numpy?.errEig32)} |`);
  }
  if (routeRows.length > 0) {
    console.log('\n### Routes, 1 thread, ms per matrix (medians)\n');
    console.log('| shape | full | logDet | top | sumSquares |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of routeRows) console.log(`| ${r.m}x${r.n} | ${fmt(r.full)} | ${fmt(r.logDet)} | ${fmt(r.top)} | ${fmt(r.sumSquares, 2)} |`);
  }
}

await main();
