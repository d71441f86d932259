/**
 * The bidiagonal generator: spectra of Gaussian matrices drawn from B (diagonal chi_{m-i}, super-diagonal
 * chi_{n-1-i}) instead of the matrix. It must have the same law as the 'weights' generator. The law is checked
 * with two-sample Kolmogorov-Smirnov tests at the 0.1% level on fixed seeds (deterministic), and the tests' power
 * is checked by the same statistic rejecting models with a degree off by one.
 */
import { spectraSync, type SpectrumJob } from '../../../src/native';
import { ZeroLMError } from '../../../src/errors';
import { seededRandom } from './fixtures';

const DRAWS = 3000;
/** Two-sample KS critical value for equal sizes n at alpha = 0.001: c(alpha) sqrt(2 / n), c = 1.95. */
const KS_CRITICAL = 1.95 * Math.sqrt(2 / DRAWS);

function ksStatistic(a: readonly number[], b: readonly number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let largest = 0;
  while (i < x.length && j < y.length) {
    if (x[i] <= y[j]) i++;
    else j++;
    largest = Math.max(largest, Math.abs(i / x.length - j / y.length));
  }
  return largest;
}

function draws(rows: number, cols: number, std: number, generator: 'weights' | 'bidiagonal', seed: number): SpectrumJob[] {
  return Array.from({ length: DRAWS }, (_, stream) => ({ rows, cols, init: { distribution: 'normal' as const, std }, seed, stream, generator }));
}

/** Singular values at the top, middle and bottom of the spectrum, and ln det(I + W^T W). */
function statistics(results: ReturnType<typeof spectraSync>): Record<string, number[]> {
  const p = (results[0].singularValues as Float64Array).length;
  const out: Record<string, number[]> = {};
  for (const k of new Set([0, Math.floor(p / 2), p - 1])) out[`s${k}`] = results.map((r) => (r.singularValues as Float64Array)[k]);
  out.logDet = results.map((r) => r.logDet as number);
  out.sumSquares = results.map((r) => r.sumSquares);
  return out;
}

/** Chi variate with an integer number of degrees, as a sum of squared normals (for the wrong models below). */
function chiBySum(degrees: number, random: () => number): number {
  let sum = 0;
  for (let i = 0; i < degrees; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    sum += z * z;
  }
  return Math.sqrt(sum);
}

describe('bidiagonal generator: the law of Gaussian spectra', () => {
  const shapes: Array<[number, number, number]> = [
    [7, 4, 0.7], // tall
    [3, 9, 1.3], // wide
    [1, 5, 1], // one singular value: std * chi_5
    [2, 2, 0.02],
    [40, 40, 0.05], // square: the smallest singular value is near zero
  ];
  it.each(shapes)('%i x %i, std %d: same distribution as generated weights (KS, alpha 0.001)', (rows, cols, std) => {
    const weights = statistics(spectraSync(draws(rows, cols, std, 'weights', 11)));
    const model = statistics(spectraSync(draws(rows, cols, std, 'bidiagonal', 12)));
    for (const name of Object.keys(weights)) {
      const d = ksStatistic(weights[name], model[name]);
      if (d >= KS_CRITICAL) throw new Error(`${name}: KS statistic ${d.toFixed(4)} >= ${KS_CRITICAL.toFixed(4)}`);
    }
  });

  it.each([
    ['diagonal degrees one too many', 1, 0],
    ['diagonal degrees one too few', -1, 0],
    ['super-diagonal degrees one too many', 0, 1],
  ])('the same test rejects a model with %s', (_name, diagonalOffset, superOffset) => {
    const [rows, cols, std] = [7, 4, 0.7];
    const p = Math.min(rows, cols);
    const random = seededRandom(99);
    const wrong: SpectrumJob[] = Array.from({ length: DRAWS }, () => {
      const b = new Float32Array(p * p);
      for (let i = 0; i < p; i++) {
        b[i * p + i] = std * chiBySum(Math.max(rows, cols) - i + diagonalOffset, random);
        if (i + 1 < p) b[i * p + i + 1] = std * chiBySum(p - 1 - i + superOffset, random);
      }
      return { rows: p, cols: p, values: b };
    });
    const weights = statistics(spectraSync(draws(rows, cols, std, 'weights', 11)));
    const model = statistics(spectraSync(wrong));
    const largest = Math.max(...['s0', 's2', 's3'].map((name) => ksStatistic(weights[name], model[name])));
    expect(largest).toBeGreaterThan(KS_CRITICAL);
  });

  it('chi variates have the moments of chi: E s^2 = k std^2, Var s^2 = 2 k std^4 (1 x k matrices)', () => {
    for (const k of [1, 2, 3, 10, 1000]) {
      const results = spectraSync(Array.from({ length: DRAWS }, (_, stream) => ({ rows: 1, cols: k, init: { distribution: 'normal' as const, std: 1 }, seed: 3, stream, generator: 'bidiagonal' as const, route: 'sumSquares' as const })));
      const squares = results.map((r) => r.sumSquares);
      const mean = squares.reduce((a, b) => a + b, 0) / DRAWS;
      const variance = squares.reduce((a, b) => a + (b - mean) ** 2, 0) / (DRAWS - 1);
      // Five standard errors: the mean's is sqrt(2k / n); the sample variance's is about sqrt((48k + 8k^2) / n)
      // (fourth central moment of chi^2_k is 12k^2 + 48k).
      expect(Math.abs(mean - k)).toBeLessThan(5 * Math.sqrt((2 * k) / DRAWS));
      expect(Math.abs(variance - 2 * k)).toBeLessThan(5 * Math.sqrt((48 * k + 8 * k * k) / DRAWS));
    }
  });
});

describe('bidiagonal generator: routes, determinism, validation', () => {
  const recipe = (route: 'full' | 'logDet' | 'top' | 'sumSquares', rows = 300, cols = 170): SpectrumJob => ({
    rows, cols, init: { distribution: 'normal', std: 0.04 }, seed: 7, stream: 9, generator: 'bidiagonal', route,
  });

  it('the cheap routes agree with the full spectrum of the same draw', () => {
    for (const [rows, cols] of [[300, 170], [170, 300], [64, 64], [1, 9], [9, 1]]) {
      const [full, logDet, top, sumSquares] = spectraSync(['full', 'logDet', 'top', 'sumSquares'].map((route) => recipe(route as 'full', rows, cols)));
      const values = full.singularValues as Float64Array;
      expect(values.length).toBe(Math.min(rows, cols));
      for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
      const squares = values.reduce((a, s) => a + s * s, 0);
      expect(Math.abs(full.sumSquares - squares) / squares).toBeLessThan(1e-12);
      expect(sumSquares.sumSquares).toBe(full.sumSquares);
      expect(Math.abs((logDet.logDet as number) - (full.logDet as number)) / (full.logDet as number)).toBeLessThan(1e-12);
      expect(Math.abs((top.top as number) - values[0]) / values[0]).toBeLessThan(1e-13);
      expect(full.top).toBe(values[0]);
    }
  });

  it.each([1e-150, 4e37])('s_max by bisection matches the full spectrum at std %d (scaled, no overflow or underflow)', (std) => {
    const job = (route: 'full' | 'top'): SpectrumJob => ({ ...recipe(route, 90, 60), init: { distribution: 'normal', std } });
    const [full, top] = spectraSync([job('full'), job('top')]);
    const values = full.singularValues as Float64Array;
    expect(values[0] / std).toBeGreaterThan(1); // s_max of a 90 x 60 Gaussian is about (sqrt(90) + sqrt(60)) std
    expect(Math.abs((top.top as number) - values[0]) / values[0]).toBeLessThan(1e-13);
    const squares = values.reduce((a, v) => a + v * v, 0);
    expect(Math.abs(squares - full.sumSquares) / full.sumSquares).toBeLessThan(1e-12);
  });

  it('full-spectrum jobs batched together (solved two at a time, interleaved) get the bits each gets alone', () => {
    const routes = ['full', 'full', 'logDet', 'full', 'top', 'full', 'full', 'sumSquares', 'full'] as const;
    const jobs = routes.map((route, i) => ({ ...recipe(route, 200 + 37 * i, 150 + 11 * i), stream: i }));
    for (const threads of [1, 2]) {
      const batch = spectraSync(jobs, { threads });
      jobs.forEach((job, i) => expect(batch[i]).toEqual(spectraSync([job], { threads: 1 })[0]));
    }
  });

  it('has no entries: maxAbs, mean and variance are NaN', () => {
    const [result] = spectraSync([recipe('sumSquares')]);
    expect(result.maxAbs).toBeNaN();
    expect(result.mean).toBeNaN();
    expect(result.variance).toBeNaN();
  });

  it('is deterministic, independent of threads, and a different draw from the weights of the same seed', () => {
    const jobs = Array.from({ length: 12 }, (_, stream) => ({ ...recipe('full', 120, 90), stream }));
    const one = spectraSync(jobs, { threads: 1 });
    const two = spectraSync(jobs, { threads: 2 });
    const again = spectraSync(jobs, { threads: 3 });
    expect(two).toEqual(one);
    expect(again).toEqual(one);
    const [weights] = spectraSync([{ ...jobs[0], generator: 'weights' }]);
    expect(weights.top).not.toBe(one[0].top);
  });

  it('refuses uniform inits, values and unknown generators with the field named', () => {
    const uniform = { rows: 4, cols: 4, init: { distribution: 'uniform' as const, bound: 1 }, seed: 0, stream: 0, generator: 'bidiagonal' as const };
    expect(() => spectraSync([uniform])).toThrow(ZeroLMError);
    expect(() => spectraSync([uniform])).toThrow(/jobs\[0\]\.generator is 'bidiagonal', which needs a normal init/);
    expect(() => spectraSync([{ rows: 2, cols: 2, values: new Float32Array(4), generator: 'bidiagonal' } as unknown as SpectrumJob])).toThrow(/jobs\[0\]\.generator .*takes init, not values/);
    expect(() => spectraSync([{ ...recipe('full'), generator: 'svd' } as unknown as SpectrumJob])).toThrow(/jobs\[0\]\.generator must be one of weights, bidiagonal, got "svd"/);
  });

  it('needs memory of order min(rows, cols): a 20000 x 20000 log-det within a limit the weights route would exceed', () => {
    // The limit is above the matrix's 1.6 GB as float32 (so the shape is accepted) and below weights + Gram.
    const limit = 1.7e9;
    const [result] = spectraSync([{ ...recipe('logDet'), rows: 20000, cols: 20000 }], { memoryLimitBytes: limit });
    expect(result.logDet).toBeGreaterThan(0);
    expect(() => spectraSync([{ ...recipe('logDet'), rows: 20000, cols: 20000, generator: 'weights' }], { memoryLimitBytes: limit })).toThrow(/the batch would need/);
  });
});
