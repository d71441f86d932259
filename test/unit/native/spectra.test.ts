import { fillNormal, spectra, spectraSync, Spectrum, SpectrumJob } from '../../../src/native';
import { descending, matrixWithSingularValues, maxRelativeDifference, seededRandom } from './fixtures';

/** Singular values spread over three decades, optionally with trailing zeros (rank deficient). */
function knownValues(count: number, rank: number, seed: number): number[] {
  const random = seededRandom(seed);
  const values: number[] = [];
  for (let i = 0; i < count; i++) values.push(i < rank ? 10 ** (1 - 3 * random()) : 0);
  values[0] = 10; // a fixed s_max
  return descending(values);
}

// Measured with the double-precision Gram and eigen solver: worst relative error vs s_max about 1e-7 (dominated by
// rounding the test matrices to float32) for full-rank and rank-deficient shapes alike. Required: 1e-4.
const SINGULAR_VALUE_TOLERANCE = 1e-6;

describe('full spectra of matrices with known singular values', () => {
  const shapes: Array<[rows: number, cols: number, rank: number]> = [
    [40, 25, 25], // tall
    [25, 40, 25], // wide
    [64, 64, 64],
    [1, 17, 1], // a single row
    [17, 1, 1], // a single column
    [130, 300, 130], // wide, more than one 96 x 96 tile and several 32-column panels
    [257, 140, 140], // tall
    [150, 100, 10], // rank deficient: 90 zero singular values
    [100, 180, 1], // rank one
  ];
  it.each(shapes)('%i x %i, rank %i', (rows, cols, rank) => {
    const p = Math.min(rows, cols);
    const expected = knownValues(p, rank, rows * 1000 + cols);
    const values = matrixWithSingularValues(rows, cols, expected, rows + 7 * cols);
    const [result] = spectraSync([{ rows, cols, values }]);
    expect(result.rows).toBe(rows);
    expect(result.cols).toBe(cols);
    expect(result.singularValues).toBeInstanceOf(Float64Array);
    expect(result.singularValues!.length).toBe(p);
    for (let i = 1; i < p; i++) expect(result.singularValues![i]).toBeLessThanOrEqual(result.singularValues![i - 1]);
    expect(maxRelativeDifference(result.singularValues!, expected, expected[0])).toBeLessThan(SINGULAR_VALUE_TOLERANCE);
  });

  it('scales exactly with the matrix, from 1e-30 to 1e30 (no overflow or underflow inside)', () => {
    const rows = 60;
    const cols = 45;
    const base = fillNormal(rows, cols, { std: 1, seed: 4, stream: 4 });
    const [reference] = spectraSync([{ rows, cols, values: base }]);
    for (const factor of [2 ** -100, 2 ** 100]) {
      const scaled = base.map((v) => v * factor); // powers of two: exact in float32
      const [result] = spectraSync([{ rows, cols, values: scaled }]);
      const rescaled = Array.from(result.singularValues!, (s) => s / factor);
      expect(maxRelativeDifference(rescaled, reference.singularValues!, reference.singularValues![0])).toBeLessThan(1e-13);
      expect(result.sumSquares / (factor * factor)).toBeCloseTo(reference.sumSquares, 6);
      const [top] = spectraSync([{ rows, cols, values: scaled, route: 'top' }]);
      expect(Math.abs(top.top! / factor - reference.top!) / reference.top!).toBeLessThan(1e-9);
    }
  });

  it('gives exact zeros, not noise of order sqrt(eps), for a zero matrix', () => {
    const [result] = spectraSync([{ rows: 30, cols: 20, values: new Float32Array(600) }]);
    expect(Array.from(result.singularValues!)).toEqual(new Array(20).fill(0));
    expect(result.logDet).toBe(0);
    expect(result.top).toBe(0);
  });
});

describe('identities between routes', () => {
  const cases: SpectrumJob[] = [
    { rows: 120, cols: 80, init: { distribution: 'normal', std: 0.02 }, seed: 1, stream: 2 },
    { rows: 64, cols: 256, init: { distribution: 'uniform', bound: 0.5 }, seed: 3, stream: 4 },
    { rows: 200, cols: 200, init: { distribution: 'normal', std: 1 }, seed: 5, stream: 6 },
  ];
  const byRoute = (job: SpectrumJob, route: SpectrumJob['route']): Spectrum => spectraSync([{ ...job, route }])[0];

  it.each(cases.map((job) => [`${job.rows}x${job.cols}`, job] as const))('%s', (_name, job) => {
    const full = byRoute(job, 'full');
    const s = full.singularValues!;
    let sumSquares = 0;
    let logDet = 0;
    for (const value of s) {
      sumSquares += value * value;
      logDet += Math.log1p(value * value);
    }
    // sum s_i^2 = ||W||_F^2: measured relative difference ~1e-15.
    expect(Math.abs(sumSquares - full.sumSquares) / full.sumSquares).toBeLessThan(1e-12);
    expect(Math.abs(full.logDet! - logDet) / logDet).toBeLessThan(1e-13);
    expect(full.top).toBe(s[0]);

    const squares = byRoute(job, 'sumSquares');
    expect(squares.sumSquares).toBe(full.sumSquares);
    expect(squares.maxAbs).toBe(full.maxAbs);
    expect(squares.mean).toBe(full.mean);
    expect(squares.variance).toBe(full.variance);
    expect(squares.singularValues).toBeUndefined();
    expect(squares.logDet).toBeUndefined();
    expect(squares.top).toBeUndefined();

    // Cholesky of I + G against the eigenvalues: measured ~1e-15 relative.
    const logDetRoute = byRoute(job, 'logDet');
    expect(Math.abs(logDetRoute.logDet! - full.logDet!) / full.logDet!).toBeLessThan(1e-12);
    expect(logDetRoute.singularValues).toBeUndefined();

    // Lanczos: converged to ~1e-12 relative in practice; the route promises 1e-6.
    const top = byRoute(job, 'top');
    expect(Math.abs(top.top! - s[0]) / s[0]).toBeLessThan(1e-9);
    expect(top.singularValues).toBeUndefined();
  });

  it('entry statistics match a direct computation', () => {
    const values = fillNormal(37, 53, { std: 0.3, seed: 9, stream: 1 });
    let sum = 0;
    let squares = 0;
    let maxAbs = 0;
    for (const v of values) {
      sum += v;
      squares += v * v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    const mean = sum / values.length;
    let centred = 0;
    for (const v of values) centred += (v - mean) * (v - mean);
    const [result] = spectraSync([{ rows: 37, cols: 53, values, route: 'sumSquares' }]);
    expect(result.maxAbs).toBe(maxAbs);
    expect(Math.abs(result.sumSquares - squares) / squares).toBeLessThan(1e-14);
    expect(Math.abs(result.mean - mean)).toBeLessThan(1e-15);
    expect(Math.abs(result.variance - centred / values.length) / (centred / values.length)).toBeLessThan(1e-13);
  });

  it('keeps the variance accurate when the mean dwarfs the spread', () => {
    const values = new Float32Array(1000);
    for (let i = 0; i < values.length; i++) values[i] = 1000 + (i % 2 === 0 ? 0.0078125 : -0.0078125);
    const [result] = spectraSync([{ rows: 10, cols: 100, values, route: 'sumSquares' }]);
    expect(result.mean).toBe(1000);
    expect(result.variance).toBe(0.0078125 ** 2);
  });
});

describe('the top route on tall and wide matrices with known spectra', () => {
  // W = U diag(s) V^T from orthogonal factors. Lanczos runs on the Gram matrix of the smaller side (W^T W for a tall W,
  // W W^T for a wide one), over several 256-row blocks here, so both operators and their block sums are exercised.
  const cases: Array<[name: string, rows: number, cols: number, values: (p: number) => number[]]> = [
    ['tall, full rank', 600, 140, (p) => knownValues(p, p, 31)],
    ['wide, full rank', 300, 700, (p) => knownValues(p, p, 32)],
    ['wide, rank deficient', 300, 560, (p) => knownValues(p, 60, 33)],
    // s_max and the next value 1e-4 apart: the slowest case for Lanczos, where the gap test cannot stop it early.
    ['wide, nearly repeated s_max', 280, 900, (p) => { const v = knownValues(p, p, 34); v[1] = 10 * (1 - 1e-4); return descending(v); }],
    ['tall, nearly repeated s_max', 900, 280, (p) => { const v = knownValues(p, p, 35); v[1] = 10 * (1 - 1e-4); return descending(v); }],
  ];
  it.each(cases)('%s (%d x %d): top is s_max, and agrees with the full spectrum', (_name, rows, cols, values) => {
    const s = values(Math.min(rows, cols));
    const w = matrixWithSingularValues(rows, cols, s, rows + cols);
    const [top, full] = spectraSync([{ rows, cols, values: w, route: 'top' }, { rows, cols, values: w, route: 'full' }]);
    // Against the constructed s_max the float32 rounding of W dominates (as for the full spectra above).
    expect(Math.abs(top.top! - s[0]) / s[0]).toBeLessThan(SINGULAR_VALUE_TOLERANCE);
    // Against the full spectrum of the same float32 matrix: the tolerance the route has always met.
    expect(Math.abs(top.top! - full.top!) / full.top!).toBeLessThan(1e-9);
  });

  it('a wide matrix and its transpose give the same s_max; the result is bit-identical on 1, 2 and 3 threads', () => {
    const rows = 530;
    const cols = 1100;
    const w = fillNormal(rows, cols, { std: 0.05, seed: 3, stream: 3 });
    const transposed = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) transposed[j * rows + i] = w[i * cols + j];
    const [wide] = spectraSync([{ rows, cols, values: w, route: 'top' }], { threads: 1 });
    const [tall] = spectraSync([{ rows: cols, cols: rows, values: transposed, route: 'top' }], { threads: 1 });
    expect(Math.abs(wide.top! - tall.top!) / tall.top!).toBeLessThan(1e-9);
    for (const threads of [2, 3]) {
      const [again] = spectraSync([{ rows, cols, values: w, route: 'top' }], { threads });
      expect(Object.is(again.top, wide.top)).toBe(true);
    }
  });
});

describe('random matrices', () => {
  it('top singular value of a 1024 x 512 Gaussian is within 2% of std (sqrt(m) + sqrt(n))', async () => {
    const std = 1;
    const [result] = await spectra([
      { rows: 1024, cols: 512, init: { distribution: 'normal', std }, seed: 2024, stream: 7, route: 'top' },
    ]);
    const edge = std * (Math.sqrt(1024) + Math.sqrt(512));
    expect(Math.abs(result.top! - edge) / edge).toBeLessThan(0.02);
    expect(Math.abs(result.sumSquares / (1024 * 512) - 1)).toBeLessThan(0.01);
  });
});

describe('determinism and inputs', () => {
  const jobs: SpectrumJob[] = [
    { rows: 150, cols: 110, init: { distribution: 'normal', std: 1 }, seed: 11, stream: 0 },
    { rows: 40, cols: 90, init: { distribution: 'uniform', bound: 2 }, seed: 11, stream: 1, route: 'logDet' },
    { rows: 70, cols: 70, init: { distribution: 'normal', std: 0.1 }, seed: 11, stream: 2, route: 'top' },
    { rows: 33, cols: 47, init: { distribution: 'normal', std: 3 }, seed: 11, stream: 3, route: 'sumSquares' },
    { rows: 200, cols: 120, init: { distribution: 'normal', std: 1 }, seed: 11, stream: 4 },
  ];

  function expectIdentical(a: Spectrum[], b: Spectrum[]): void {
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) {
      for (const key of ['sumSquares', 'maxAbs', 'mean', 'variance', 'logDet', 'top'] as const) {
        expect(Object.is(a[i][key], b[i][key])).toBe(true);
      }
      if (a[i].singularValues) {
        expect(Buffer.from(a[i].singularValues!.buffer).equals(Buffer.from(b[i].singularValues!.buffer))).toBe(true);
      } else {
        expect(b[i].singularValues).toBeUndefined();
      }
    }
  }

  it('batches are bit-identical with 1, 2 and 4 threads', async () => {
    const one = await spectra(jobs, { threads: 1 });
    expectIdentical(one, await spectra(jobs, { threads: 2 }));
    expectIdentical(one, await spectra(jobs, { threads: 4 }));
    expectIdentical(one, spectraSync(jobs, { threads: 3 }));
  });

  it('a single job spread over several threads is bit-identical too', async () => {
    for (const route of ['full', 'logDet', 'top'] as const) {
      const job: SpectrumJob = { rows: 260, cols: 230, init: { distribution: 'normal', std: 1 }, seed: 5, stream: 5, route };
      const one = await spectra([job], { threads: 1 });
      expectIdentical(one, await spectra([job], { threads: 2 }));
      expectIdentical(one, await spectra([job], { threads: 4 }));
    }
  });

  it('a recipe gives exactly what its filled values give', () => {
    const recipe: SpectrumJob = { rows: 90, cols: 60, init: { distribution: 'normal', std: 0.5 }, seed: 77, stream: 3 };
    const values = fillNormal(90, 60, { std: 0.5, seed: 77, stream: 3 });
    expectIdentical(spectraSync([recipe]), spectraSync([{ rows: 90, cols: 60, values }]));
  });

  it('a subarray view (byteOffset != 0) gives the same result as a copy', async () => {
    const rows = 45;
    const cols = 31;
    const copy = fillNormal(rows, cols, { std: 1, seed: 1, stream: 1 });
    const backing = new Float32Array(rows * cols + 20);
    backing.fill(1e30); // poison around the view
    backing.set(copy, 7);
    const view = backing.subarray(7, 7 + rows * cols);
    expect(view.byteOffset).toBe(28);
    for (const route of ['full', 'sumSquares', 'logDet', 'top'] as const) {
      expectIdentical(await spectra([{ rows, cols, values: view, route }]), spectraSync([{ rows, cols, values: copy, route }]));
    }
  });

  it('reports progress up to (total, total)', async () => {
    const calls: Array<[number, number]> = [];
    await spectra(jobs, { threads: 2, onProgress: (done, total) => calls.push([done, total]) });
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[calls.length - 1]).toEqual([jobs.length, jobs.length]);
    for (let i = 1; i < calls.length; i++) expect(calls[i][0]).toBeGreaterThan(calls[i - 1][0]);
  });

  it('an empty batch resolves to an empty array', async () => {
    expect(await spectra([])).toEqual([]);
    expect(spectraSync([])).toEqual([]);
  });
});
