import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { fillNormal, fillUniform, nativeTestHooks, simd, spectraSync, SpectrumJob } from '../../../src/native';
import { caughtZeroLMError } from '../../helpers/zerolm-error';
import { matrixWithSingularValues, maxRelativeDifference } from './fixtures';

// The binary src/native.ts loads (test:asan points ZEROLM_NATIVE_PATH at the sanitized build), so that child
// processes test the same build as this process.
const addonPath = process.env.ZEROLM_NATIVE_PATH
  ? path.resolve(process.env.ZEROLM_NATIVE_PATH)
  : path.resolve(__dirname, '../../../build/Release/zerolm_native.node');

const jobs: SpectrumJob[] = [
  { rows: 150, cols: 97, init: { distribution: 'normal', std: 1 }, seed: 21, stream: 0 },
  { rows: 64, cols: 300, init: { distribution: 'uniform', bound: 0.1 }, seed: 21, stream: 1 },
  { rows: 120, cols: 120, init: { distribution: 'normal', std: 0.02 }, seed: 21, stream: 2, route: 'logDet' },
  { rows: 333, cols: 111, init: { distribution: 'normal', std: 1 }, seed: 21, stream: 3, route: 'top' },
  // Wide: Lanczos on W W^T, over two row blocks, with rows and columns that are not multiples of the SIMD width.
  { rows: 261, cols: 403, init: { distribution: 'normal', std: 1 }, seed: 21, stream: 5, route: 'top' },
  { rows: 41, cols: 59, init: { distribution: 'normal', std: 5 }, seed: 21, stream: 4, route: 'sumSquares' },
];

// The same jobs in the addon's own argument format, for processes that load the binary directly.
const nativeJobs = jobs.map((job) => {
  const recipe = job as SpectrumJob & { init: { distribution: string; std?: number; bound?: number }; seed: number; stream: number };
  return {
    rows: job.rows, cols: job.cols, route: job.route ?? 'full', distribution: recipe.init.distribution,
    scale: recipe.init.std ?? recipe.init.bound, seed: recipe.seed, stream: recipe.stream,
  };
});

interface PlainResult {
  sumSquares: number; maxAbs: number; mean: number; variance: number; singularValues?: number[]; logDet?: number; top?: number;
}

const runnerSource = `
  const addon = require(${JSON.stringify(addonPath)});
  const results = addon.spectraSync(${JSON.stringify(nativeJobs)}, 2).map((r) => ({ ...r, singularValues: r.singularValues && Array.from(r.singularValues) }));
  const digest = (distribution) => {
    const t = new Float32Array(100003); // odd length: whole vector groups, then a scalar tail
    addon.fill(distribution, t, 0.5, 3, 4);
    return require('crypto').createHash('sha256').update(Buffer.from(t.buffer)).digest('hex');
  };
  const fill = { normal: digest('normal'), uniform: digest('uniform') };
  console.log(JSON.stringify({ simd: addon.simd(), results, fill }));
`;

describe('scalar and SIMD kernels', () => {
  it('ZEROLM_SIMD=scalar selects the portable kernels and agrees with the default ones', () => {
    const child = spawnSync(process.execPath, ['-e', runnerSource], {
      env: { ...process.env, ZEROLM_SIMD: 'scalar' },
      encoding: 'utf8',
      timeout: 60000,
    });
    expect(child.stderr).toBe('');
    const scalar = JSON.parse(child.stdout) as { simd: string; results: PlainResult[]; fill: Record<string, string> };
    expect(scalar.simd).toBe('scalar');
    expect(['avx2-fma', 'scalar']).toContain(simd());

    // Fills never depend on the kernels: the vector Box-Muller repeats the scalar operations exactly.
    for (const distribution of ['normal', 'uniform'] as const) {
      const here = distribution === 'normal'
        ? fillNormal(1, 100003, { std: 0.5, seed: 3, stream: 4 })
        : fillUniform(1, 100003, { bound: 0.5, seed: 3, stream: 4 });
      expect(createHash('sha256').update(Buffer.from(here.buffer)).digest('hex')).toBe(scalar.fill[distribution]);
    }

    // Observed (AVX2 vs scalar: other summation order, FMA): entry statistics bit-identical (same lane layout),
    // singular values within 2e-15 of s_max here and 9e-14 for a 512 x 512 Gaussian (its near-zero values),
    // logDet and Lanczos top within 1e-15. Documented tolerances: 1e-12 (1e-10 for the iterative top).
    const vector = spectraSync(jobs);
    const relative = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
    vector.forEach((result, i) => {
      const other = scalar.results[i];
      expect(result.maxAbs).toBe(other.maxAbs);
      expect(relative(result.sumSquares, other.sumSquares)).toBeLessThan(1e-12);
      expect(Math.abs(result.mean - other.mean)).toBeLessThan(1e-12 * result.maxAbs);
      expect(relative(result.variance, other.variance)).toBeLessThan(1e-12);
      if (result.singularValues) {
        const top = result.singularValues[0];
        result.singularValues.forEach((s, k) => expect(Math.abs(s - other.singularValues![k]) / top).toBeLessThan(1e-12));
      }
      if (result.logDet !== undefined) expect(relative(result.logDet, other.logDet!)).toBeLessThan(1e-12);
      if (result.top !== undefined) expect(relative(result.top, other.top!)).toBeLessThan(1e-10);
    });
  });
});

describe('two-stage tridiagonal reduction', () => {
  it('gives the one-stage singular values (ZEROLM_TWO_STAGE_MIN forces it for small matrices)', () => {
    // Shapes around the band width (32) and its multiples, wide and tall, one rank deficient.
    const shapes: Array<[number, number, number]> = [[33, 50, 33], [97, 64, 64], [200, 130, 130], [150, 260, 12], [65, 65, 65]];
    const directory = mkdtempSync(path.join(tmpdir(), 'zerolm-two-stage-'));
    try {
      const cases = shapes.map(([rows, cols, rank], i) => {
        const p = Math.min(rows, cols);
        const singular = Array.from({ length: p }, (_, k) => (k < rank ? 10 / (1 + k) : 0));
        const values = matrixWithSingularValues(rows, cols, singular, 99 + i);
        const file = path.join(directory, `m${i}.f32`);
        writeFileSync(file, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
        return { rows, cols, file, values, singular };
      });
      const script = `
        const fs = require('fs');
        const addon = require(${JSON.stringify(addonPath)});
        const cases = ${JSON.stringify(cases.map(({ rows, cols, file }) => ({ rows, cols, file })))};
        const jobs = cases.map((c) => { const b = fs.readFileSync(c.file); return { rows: c.rows, cols: c.cols, values: new Float32Array(b.buffer, b.byteOffset, c.rows * c.cols) }; });
        console.log(JSON.stringify(addon.spectraSync(jobs, 2).map((r) => Array.from(r.singularValues))));
      `;
      const child = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ZEROLM_TWO_STAGE_MIN: '32' }, encoding: 'utf8', timeout: 60000 });
      expect(child.stderr).toBe('');
      const twoStage = JSON.parse(child.stdout) as number[][];
      cases.forEach(({ rows, cols, values, singular }, i) => {
        const [oneStage] = spectraSync([{ rows, cols, values }]);
        // Compare eigenvalues s^2 of the Gram matrix: both reductions are backward stable, so they agree to
        // ~1e-15 of s_max^2 (observed); the square root turns that into up to ~1e-8 of s_max for zero values.
        const squares = (values: ArrayLike<number>): number[] => Array.from(values, (v) => v * v);
        const top = oneStage.singularValues![0];
        expect(maxRelativeDifference(squares(twoStage[i]), squares(oneStage.singularValues!), top * top)).toBeLessThan(1e-13);
        expect(maxRelativeDifference(twoStage[i], singular, singular[0])).toBeLessThan(1e-6);
      });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('the addon in worker threads', () => {
  it('loads in several worker_threads at once and gives the main thread\'s results', async () => {
    const source = `
      const { parentPort, workerData } = require('worker_threads');
      const addon = require(workerData.addonPath);
      addon.spectraAsync(workerData.jobs, 1).promise.then((results) => {
        parentPort.postMessage(results.map((r) => ({ ...r, singularValues: r.singularValues && Array.from(r.singularValues) })));
      }, (error) => parentPort.postMessage({ error: String(error) }));
    `;
    const runWorker = (): Promise<PlainResult[]> =>
      new Promise((resolve, reject) => {
        const worker = new Worker(source, { eval: true, workerData: { addonPath, jobs: nativeJobs } });
        worker.once('message', (message) => {
          void worker.terminate();
          resolve(message as PlainResult[]);
        });
        worker.once('error', reject);
      });
    const [first, second, third] = await Promise.all([runWorker(), runWorker(), runWorker()]);
    const main = spectraSync(jobs).map((r) => ({ ...r, singularValues: r.singularValues && Array.from(r.singularValues) }));
    for (const fromWorker of [first, second, third]) {
      expect(fromWorker).toHaveLength(jobs.length);
      fromWorker.forEach((result, i) => {
        const { rows: _rows, cols: _cols, ...expected } = main[i];
        expect(result).toEqual(JSON.parse(JSON.stringify(expected)));
      });
    }
  });
});

describe('checks inside the addon (for callers that bypass src/native.ts)', () => {
  const raw = (jobs: unknown, threads?: unknown): unknown => nativeTestHooks.unvalidatedSpectraSync(jobs, threads);
  const codeOf = (run: () => unknown): string | undefined => caughtZeroLMError(run)?.code;
  it.each([
    ['not an array', 5, undefined, 'E_ARGUMENT'],
    ['zero rows', [{ rows: 0, cols: 1, distribution: 'normal', scale: 1, seed: 0, stream: 0 }], undefined, 'E_SHAPE'],
    ['values too short', [{ rows: 2, cols: 2, values: new Float32Array(3) }], undefined, 'E_SHAPE'],
    ['values of the wrong type', [{ rows: 1, cols: 2, values: [1, 2] }], undefined, 'E_ARGUMENT'],
    ['NaN scale', [{ rows: 1, cols: 1, distribution: 'normal', scale: NaN, seed: 0, stream: 0 }], undefined, 'E_NON_FINITE'],
    ['bad seed', [{ rows: 1, cols: 1, distribution: 'normal', scale: 1, seed: -1, stream: 0 }], undefined, 'E_ARGUMENT'],
    ['bad route', [{ rows: 1, cols: 1, distribution: 'normal', scale: 1, seed: 0, stream: 0, route: 'x' }], undefined, 'E_ARGUMENT'],
    ['bad threads', [], 0, 'E_ARGUMENT'],
  ])('%s', (_name, jobs, threads, code) => {
    expect(codeOf(() => raw(jobs, threads))).toBe(code);
  });
});
