import {
  bootstrapCI,
  kendallTauB,
  kendallTauBNaive,
  kendallWithinParamBand,
  pearson,
  ranks,
  spearman,
  topKOverlap,
} from '../../../src/stats/rank';
import { seededRandom } from '../../../src/stats/random';
import { zerolmErrorOf as thrown } from '../../helpers/zerolm-error';


describe('ranks', () => {
  it('gives 1-based ranks with ties averaged', () => {
    expect(Array.from(ranks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    // Three-way tie over positions 2..4: (2 + 3 + 4) / 3 = 3.
    expect(Array.from(ranks([7, 1, 7, 9, 7]))).toEqual([3, 1, 3, 5, 3]);
    expect(Array.from(ranks(new Float64Array([3, 2, 1])))).toEqual([3, 2, 1]);
  });

  it('rejects non-finite values, naming the index', () => {
    const error = thrown(() => ranks([1, 2, -Infinity]));
    expect(error.code).toBe('E_NON_FINITE');
    expect(error.location).toEqual({ field: 'values', index: 2 });
    expect(error.message).toContain('values[2]');
  });

  it('rank sums are n(n+1)/2 whatever the ties', () => {
    const uniform = seededRandom(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + Math.floor(uniform() * 60);
      const values = Array.from({ length: n }, () => Math.floor(uniform() * 4));
      const sum = ranks(values).reduce((a, b) => a + b, 0);
      expect(sum).toBe((n * (n + 1)) / 2);
    }
  });
});

describe('spearman and kendall, hand-worked examples', () => {
  it('x = [1..5], y = [3, 4, 1, 2, 5]', () => {
    // Pairs: concordant (1,2) (1,5) (2,5) (3,4) (3,5) (4,5) = 6, discordant (1,3) (1,4) (2,3) (2,4) = 4:
    // tau = (6 - 4) / 10 = 0.2. Rank differences d = [-2, -2, 2, 2, 0], sum d^2 = 16:
    // rho = 1 - 6 * 16 / (5 * 24) = 0.2.
    const x = [1, 2, 3, 4, 5];
    const y = [3, 4, 1, 2, 5];
    expect(kendallTauB(x, y)).toBeCloseTo(0.2, 14);
    expect(kendallTauBNaive(x, y)).toBeCloseTo(0.2, 14);
    expect(spearman(x, y)).toBeCloseTo(0.2, 14);
  });

  it('ties in x and in y: x = [1, 2, 2, 3], y = [1, 3, 2, 2]', () => {
    // Pairs: C = (1,2) (1,3) (1,4); D = (2,4); (2,3) tied in x; (3,4) tied in y.
    // tau_b = (3 - 1) / sqrt((6 - 1)(6 - 1)) = 0.4.
    // Ranks x = [1, 2.5, 2.5, 4], y = [1, 4, 2.5, 2.5]; centred: [-1.5, 0, 0, 1.5] and [-1.5, 1.5, 0, 0]:
    // rho = 2.25 / sqrt(4.5 * 4.5) = 0.5.
    const x = [1, 2, 2, 3];
    const y = [1, 3, 2, 2];
    expect(kendallTauB(x, y)).toBeCloseTo(0.4, 14);
    expect(spearman(x, y)).toBeCloseTo(0.5, 14);
  });

  it('joint ties: x = [1, 1, 1, 2, 3], y = [1, 1, 2, 2, 3]', () => {
    // 10 pairs: C = (1,4) (1,5) (2,4) (2,5) (3,5) (4,5) = 6, D = 0; x ties n1 = 3 (one group of 3),
    // y ties n2 = 2 (two groups of 2), (1,2) tied in both. tau_b = 6 / sqrt((10 - 3)(10 - 2)) = 6 / sqrt(56).
    // Ranks x = [2, 2, 2, 4, 5], y = [1.5, 1.5, 3.5, 3.5, 5]; centred sums: sxy = 7, sxx = 8, syy = 9:
    // rho = 7 / sqrt(72).
    const x = [1, 1, 1, 2, 3];
    const y = [1, 1, 2, 2, 3];
    expect(kendallTauB(x, y)).toBeCloseTo(6 / Math.sqrt(56), 14);
    expect(kendallTauBNaive(x, y)).toBeCloseTo(6 / Math.sqrt(56), 14);
    expect(spearman(x, y)).toBeCloseTo(7 / Math.sqrt(72), 14);
  });

  it('balanced ties give zero: x = [1, 1, 2, 2], y = [1, 2, 1, 2]', () => {
    // C = (1,4), D = (2,3), the other four pairs tied: tau_b = 0 / sqrt(4 * 4) = 0.
    expect(kendallTauB([1, 1, 2, 2], [1, 2, 1, 2])).toBe(0);
    expect(spearman([1, 1, 2, 2], [1, 2, 1, 2])).toBe(0);
  });

  it('perfect and inverse orders give +1 and -1, invariant under monotone maps', () => {
    const x = Array.from({ length: 50 }, (_, i) => i * 0.37 - 3);
    const cubed = x.map((v) => v ** 3 + 1);
    const reversed = x.map((v) => -Math.exp(v));
    expect(kendallTauB(x, cubed)).toBe(1);
    expect(spearman(x, cubed)).toBe(1);
    expect(kendallTauB(x, reversed)).toBe(-1);
    expect(spearman(x, reversed)).toBe(-1);
  });

  it('spearman without ties equals 1 - 6 sum d^2 / (n (n^2 - 1))', () => {
    const uniform = seededRandom(11);
    for (let trial = 0; trial < 20; trial++) {
      const n = 2 + Math.floor(uniform() * 80);
      const x = Array.from({ length: n }, () => uniform());
      const y = Array.from({ length: n }, () => uniform());
      const rx = ranks(x);
      const ry = ranks(y);
      let sumSquares = 0;
      for (let i = 0; i < n; i++) sumSquares += (rx[i] - ry[i]) ** 2;
      expect(spearman(x, y)).toBeCloseTo(1 - (6 * sumSquares) / (n * (n * n - 1)), 12);
    }
  });

  it('pearson of a linear relation is exactly +-1 and of a constant is NaN', () => {
    expect(pearson([1, 2, 3, 4], [3, 5, 7, 9])).toBeCloseTo(1, 14);
    expect(pearson([1, 2, 3, 4], [2, 1, 0, -1])).toBeCloseTo(-1, 14);
    expect(pearson([1, 2, 3], [4, 4, 4])).toBeNaN();
  });

  it('constant input gives NaN, not 0', () => {
    expect(spearman([1, 2, 3], [5, 5, 5])).toBeNaN();
    expect(kendallTauB([5, 5, 5], [1, 2, 3])).toBeNaN();
    expect(kendallTauBNaive([5, 5, 5], [1, 2, 3])).toBeNaN();
  });
});

describe("Knight's algorithm against the O(n^2) reference", () => {
  it('agrees exactly on 200 random vectors with many ties', () => {
    const uniform = seededRandom(2024);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + Math.floor(uniform() * 300);
      // Few distinct values (2..9), sometimes a constant vector, so ties of every kind occur.
      const levelsX = trial % 37 === 0 ? 1 : 2 + Math.floor(uniform() * 8);
      const levelsY = 2 + Math.floor(uniform() * 8);
      const x = Array.from({ length: n }, () => Math.floor(uniform() * levelsX) * 0.5);
      const y = Array.from({ length: n }, (_, i) => (uniform() < 0.5 ? x[i] : Math.floor(uniform() * levelsY)));
      const fast = kendallTauB(x, y);
      const slow = kendallTauBNaive(x, y);
      if (Number.isNaN(slow)) expect(fast).toBeNaN();
      else expect(Math.abs(fast - slow)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('agrees on continuous data and is antisymmetric under negation', () => {
    const uniform = seededRandom(5);
    const x = Array.from({ length: 1000 }, () => uniform());
    const y = x.map((v) => v + uniform() * 0.5);
    const tau = kendallTauB(x, y);
    expect(tau).toBe(kendallTauBNaive(x, y));
    expect(kendallTauB(x, y.map((v) => -v))).toBe(-tau);
    expect(kendallTauB(y, x)).toBe(tau);
  });
});

describe('kendallWithinParamBand', () => {
  const x = [1, 2, 3, 4];

  it('counts only the pairs of similar size', () => {
    // Sizes 100 ~ 105 (5/105 < 0.1) and 200 ~ 210 (10/210 < 0.1); every other pair differs by > 47%.
    const params = [100, 105, 200, 210];
    // Full tau_b: only (2,3) is discordant -> (5 - 1) / 6. In-band pairs (1,2) and (3,4) are both concordant -> 1.
    expect(kendallTauB(x, [1, 3, 2, 4])).toBeCloseTo(4 / 6, 14);
    expect(kendallWithinParamBand(x, [1, 3, 2, 4], params)).toBe(1);
    // y = [2, 1, 3, 4]: (1,2) discordant, (3,4) concordant -> 0, although the full tau_b is (5 - 1) / 6.
    expect(kendallWithinParamBand(x, [2, 1, 3, 4], params)).toBe(0);
  });

  it('excludes a pair exactly at the band edge and includes one just inside', () => {
    // |90 - 100| / 100 = 0.1 exactly: not "< 0.1", so no pair qualifies.
    expect(kendallWithinParamBand([1, 2], [1, 2], [90, 100])).toBeNaN();
    expect(kendallWithinParamBand([1, 2], [2, 1], [91, 100])).toBe(-1);
    expect(kendallWithinParamBand([1, 2], [2, 1], [90, 100], 0.2)).toBe(-1);
  });

  it('equals plain tau_b when the band admits every pair', () => {
    const uniform = seededRandom(3);
    const n = 120;
    const a = Array.from({ length: n }, () => Math.floor(uniform() * 6));
    const b = Array.from({ length: n }, () => Math.floor(uniform() * 6));
    const params = Array.from({ length: n }, () => 1 + uniform() * 1e6);
    expect(kendallWithinParamBand(a, b, params, 1)).toBeCloseTo(kendallTauB(a, b), 14);
  });

  it('validates params and band', () => {
    expect(thrown(() => kendallWithinParamBand(x, x, [1, 2, 0, 4])).code).toBe('E_ARGUMENT');
    expect(thrown(() => kendallWithinParamBand(x, x, [1, 2, 3])).code).toBe('E_ARGUMENT');
    expect(thrown(() => kendallWithinParamBand(x, x, [1, 2, NaN, 4])).location).toEqual({ field: 'params', index: 2 });
    expect(thrown(() => kendallWithinParamBand(x, x, [1, 2, 3, 4], 0)).location?.field).toBe('band');
    expect(thrown(() => kendallWithinParamBand(x, x, [1, 2, 3, 4], 1.5)).code).toBe('E_ARGUMENT');
  });
});

describe('topKOverlap', () => {
  it('measures the shared fraction of the k best', () => {
    expect(topKOverlap([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], 2)).toBe(0);
    expect(topKOverlap([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], 5)).toBe(1);
    // top2(x) = {0, 1}, top2(y) = {0, 2}.
    expect(topKOverlap([5, 4, 3, 2, 1], [5, 3, 4, 1, 2], 2)).toBe(0.5);
    // Ties at the cut go to the lower index: top1 of [1, 1] is index 0 for both.
    expect(topKOverlap([1, 1], [1, 1], 1)).toBe(1);
  });

  it('rejects k outside [1, n] or fractional', () => {
    for (const k of [0, 6, 1.5, NaN]) expect(thrown(() => topKOverlap([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], k)).location?.field).toBe('k');
  });
});

describe('argument validation', () => {
  it.each([
    ['spearman', spearman],
    ['kendallTauB', kendallTauB],
    ['kendallTauBNaive', kendallTauBNaive],
  ] as const)('%s: lengths, size, finiteness, types', (name, fn) => {
    const lengths = thrown(() => fn([1, 2, 3], [1, 2]));
    expect(lengths.code).toBe('E_ARGUMENT');
    expect(lengths.message).toContain(name);
    expect(lengths.message).toMatch(/x has 3, y has 2/);
    expect(thrown(() => fn([1], [1])).code).toBe('E_ARGUMENT');
    const nan = thrown(() => fn([1, 2, 3], [1, 2, NaN]));
    expect(nan.code).toBe('E_NON_FINITE');
    expect(nan.message).toContain('y[2]');
    expect(nan.location).toEqual({ field: 'y', index: 2 });
    const infinite = thrown(() => fn([Infinity, 2, 3], [1, 2, 3]));
    expect(infinite.code).toBe('E_NON_FINITE');
    expect(infinite.location).toEqual({ field: 'x', index: 0 });
    const text = thrown(() => fn([1, '2' as unknown as number, 3], [1, 2, 3]));
    expect(text.code).toBe('E_ARGUMENT');
    expect(text.location).toEqual({ field: 'x', index: 1 });
    expect(thrown(() => fn(undefined as unknown as number[], [1, 2])).code).toBe('E_ARGUMENT');
  });
});

describe('bootstrapCI', () => {
  const uniform = seededRandom(99);
  const x = Array.from({ length: 200 }, () => uniform());
  const y = x.map((v) => v + (uniform() - 0.5) * 0.8);

  it('is reproducible for a seed and brackets the estimate', () => {
    const a = bootstrapCI(x, y, kendallTauB, { seed: 1, resamples: 300 });
    const b = bootstrapCI(x, y, kendallTauB, { seed: 1, resamples: 300 });
    const c = bootstrapCI(x, y, kendallTauB, { seed: 2, resamples: 300 });
    expect(a).toEqual(b);
    expect(c.lower).not.toBe(a.lower);
    expect(a.estimate).toBe(kendallTauB(x, y));
    expect(a.lower).toBeLessThan(a.estimate);
    expect(a.upper).toBeGreaterThan(a.estimate);
    expect(a.resamplesUsed).toBe(300);
  });

  it('matches the normal-theory interval for a mean', () => {
    // For the mean of n values the bootstrap distribution is close to normal with sd = s / sqrt(n):
    // the 95% percentile interval is about mean +- 1.96 s / sqrt(n).
    const n = x.length;
    const mean = x.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
    const meanOfX = (xs: Float64Array): number => xs.reduce((s, v) => s + v, 0) / xs.length;
    const ci = bootstrapCI(x, y, meanOfX, { seed: 4, resamples: 2000 });
    const halfWidth = (1.96 * sd) / Math.sqrt(n);
    expect(ci.estimate).toBeCloseTo(mean, 12);
    expect((ci.upper - ci.lower) / 2).toBeGreaterThan(0.85 * halfWidth);
    expect((ci.upper - ci.lower) / 2).toBeLessThan(1.15 * halfWidth);
    expect(Math.abs((ci.upper + ci.lower) / 2 - mean)).toBeLessThan(0.2 * halfWidth);
  });

  it('collapses to the point for a perfect order, dropping constant resamples', () => {
    const ci = bootstrapCI([1, 2, 3], [2, 4, 6], spearman, { seed: 0, resamples: 200 });
    // A resample of 3 from 3 is constant with probability 3 / 27; those give NaN and are left out.
    expect(ci.resamplesUsed).toBeLessThan(200);
    expect(ci.resamplesUsed).toBeGreaterThan(150);
    expect([ci.estimate, ci.lower, ci.upper]).toEqual([1, 1, 1]);
  });

  it('validates its options', () => {
    expect(thrown(() => bootstrapCI(x, y, spearman, { resamples: 0 })).location?.field).toBe('resamples');
    expect(thrown(() => bootstrapCI(x, y, spearman, { level: 1 })).location?.field).toBe('level');
    expect(thrown(() => bootstrapCI(x, y, spearman, { seed: 0.5 })).location?.field).toBe('seed');
    expect(thrown(() => bootstrapCI(x, y, 'spearman' as unknown as () => number)).location?.field).toBe('stat');
    expect(thrown(() => bootstrapCI([1, 2], [1, NaN], spearman)).code).toBe('E_NON_FINITE');
  });
});

describe('seededRandom', () => {
  it('is deterministic, in [0, 1) and roughly uniform', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const counts = new Array(10).fill(0);
    let mismatches = 0;
    let outOfRange = 0;
    for (let i = 0; i < 10000; i++) {
      const u = a();
      if (u !== b()) mismatches++;
      if (!(u >= 0 && u < 1)) outOfRange++;
      else counts[Math.floor(u * 10)]++;
    }
    expect([mismatches, outOfRange]).toEqual([0, 0]);
    // Each decile holds 1000 +- 3 sd (sd = sqrt(10000 * 0.1 * 0.9) = 30).
    for (const count of counts) expect(Math.abs(count - 1000)).toBeLessThan(90);
  });
});
