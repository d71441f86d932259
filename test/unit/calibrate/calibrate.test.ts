import { calibrateAlpha, gridValues, HEURISTIC_GRID } from '../../../src/calibrate';
import { permutation, sampleSplit, seededRandom } from '../../../src/stats/random';
import { combine } from '../../../src/proxy/alpha';
import { kendallTauA } from '../../../src/stats/rank';

function syntheticData(n: number, trueAlpha: number, seed = 1) {
  const random = seededRandom(seed);
  const attention = Array.from({ length: n }, () => random() * 10);
  const ffn = Array.from({ length: n }, () => random() * 10);
  const labels = attention.map((a, i) => combine(a, ffn[i], trueAlpha, 'weighted-sum'));
  return { attention, ffn, labels };
}

describe('alpha algebra', () => {
  it('score = alpha*S_attn + (1-alpha)*S_ffn', () => {
    expect(combine(3, 5, 1, 'weighted-sum')).toBe(3);
    expect(combine(3, 5, 0, 'weighted-sum')).toBe(5);
    expect(combine(3, 5, 0.25, 'weighted-sum')).toBe(0.25 * 3 + 0.75 * 5);
    expect(combine(3, 5, -0.5, 'weighted-sum')).toBe(-1.5 + 7.5);
  });
  it('the geometric rule is S_attn^alpha * S_ffn^(1-alpha): sqrt(S_attn*S_ffn) at 0.5, 0 for an empty sub-module', () => {
    expect(combine(4, 9, 0.5, 'geometric')).toBe(6);
    expect(combine(3, 5, 1, 'geometric')).toBe(3);
    expect(combine(3, 5, 0, 'geometric')).toBe(5);
    expect(combine(0, 5, 0.5, 'geometric')).toBe(0);
    expect(Math.log(combine(2, 8, 0.25, 'geometric'))).toBeCloseTo(0.25 * Math.log(2) + 0.75 * Math.log(8), 14);
    // Ranking by the geometric mean is ranking by ln S_attn + ln S_ffn: scale-free, so no alpha to tune.
    expect(combine(2, 8, 0.5, 'geometric')).toBeCloseTo(combine(4, 4, 0.5, 'geometric'), 14);
  });
  it('the heuristic grid is exactly -1.5..1.5 in 31 decimal steps', () => {
    const grid = gridValues(HEURISTIC_GRID);
    expect(grid).toHaveLength(31);
    expect(grid[0]).toBe(-1.5);
    expect(grid[15]).toBe(0);
    expect(grid[18]).toBe(0.3);
    expect(grid[30]).toBe(1.5);
  });
});

describe('calibrateAlpha', () => {
  it('sampling recovers the alpha that generated the labels', () => {
    const data = syntheticData(400, 0.3);
    const calibration = calibrateAlpha({ ...data, higherIsBetter: true }, { strategy: 'sampling', sampleSize: 50, seed: 7 });
    expect(calibration.sampleSize).toBe(50);
    expect(calibration.sample).toHaveLength(50);
    expect(Math.abs(calibration.alpha - 0.3)).toBeLessThanOrEqual(0.02);
    expect(calibration.kendallOnSample).toBe(1);
  });

  it('orients lower-is-better labels (perplexity) before ranking', () => {
    const data = syntheticData(300, 0.7, 3);
    const calibration = calibrateAlpha({ ...data, labels: data.labels.map((l) => -l), higherIsBetter: false }, { sampleSize: 60, seed: 2 });
    expect(Math.abs(calibration.alpha - 0.7)).toBeLessThanOrEqual(0.05);
    expect(calibration.kendallOnSample).toBe(1);
  });

  it('heuristic takes the mean of the two grid alphas with the largest |tau|', () => {
    const data = syntheticData(200, 0.3, 5);
    const calibration = calibrateAlpha({ ...data, higherIsBetter: true }, { strategy: 'heuristic', sampleSize: 200 });
    // Recompute the sweep independently on the same rows.
    const rows = calibration.sample;
    const taus = gridValues(HEURISTIC_GRID).map((alpha) => ({
      alpha,
      tau: Math.abs(kendallTauA(rows.map((r) => combine(data.attention[r], data.ffn[r], alpha, 'weighted-sum')), rows.map((r) => data.labels[r]))),
    }));
    taus.sort((a, b) => b.tau - a.tau);
    expect(calibration.alpha).toBeCloseTo((taus[0].alpha + taus[1].alpha) / 2, 12);
    expect(Math.abs(calibration.alpha - 0.3)).toBeLessThanOrEqual(0.05);
  });

  it('tau-a does not reward a score that collapses architectures onto ties; tau-b does', () => {
    // Labels follow ffn closely; attention takes only two values. alpha = 1 (attention only) ties half the pairs.
    const random = seededRandom(8);
    const n = 120;
    const attention = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 2));
    const ffn = Array.from({ length: n }, () => random());
    const labels = attention.map((a, i) => a * 0.5 + ffn[i] + (random() - 0.5) * 0.6);
    const data = { attention, ffn, labels, higherIsBetter: true };
    const a = calibrateAlpha(data, { sampleSize: n, criterion: 'tau-a' });
    const b = calibrateAlpha(data, { sampleSize: n, criterion: 'tau-b' });
    expect(a.criterion).toBe('tau-a');
    // tau-a keeps both capacities in play; whatever tau-b picks, tau-a's pick orders the held pairs at least as well.
    expect(a.alpha).toBeGreaterThan(0);
    expect(a.alpha).toBeLessThan(1);
    const tauAOf = (alpha: number) => kendallTauA(attention.map((x, i) => combine(x, ffn[i], alpha, 'weighted-sum')), labels);
    expect(tauAOf(a.alpha)).toBeGreaterThanOrEqual(tauAOf(b.alpha));
    expect(() => calibrateAlpha(data, { criterion: 'rho' as never })).toThrow(/criterion must be one of tau-a, tau-b/);
  });

  it('fixed returns the given alpha and refuses a NaN one', () => {
    const data = syntheticData(10, 0.5);
    expect(calibrateAlpha({ ...data, higherIsBetter: true }, { strategy: 'fixed', alpha: 0.42 }).alpha).toBe(0.42);
    expect(() => calibrateAlpha({ ...data, higherIsBetter: true }, { strategy: 'fixed', alpha: Number.NaN })).toThrow(/alpha must be a finite number/);
  });

  it('refuses mismatched lengths, tiny samples and unknown strategies', () => {
    expect(() => calibrateAlpha({ attention: [1, 2], ffn: [1], labels: [1, 2], higherIsBetter: true })).toThrow(/same length/);
    expect(() => calibrateAlpha({ attention: [1, 2], ffn: [1, 2], labels: [1, 2], higherIsBetter: true }, { sampleSize: 1 })).toThrow(/sampleSize must be an integer >= 2/);
    expect(() => calibrateAlpha({ attention: [1, 2], ffn: [1, 2], labels: [1, 2], higherIsBetter: true }, { strategy: 'magic' as never })).toThrow(/strategy must be one of/);
  });
});

describe('seeded sampling', () => {
  it('is reproducible and a permutation', () => {
    const a = permutation(100, seededRandom(9));
    const b = permutation(100, seededRandom(9));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const { sample, rest } = sampleSplit(100, 30, seededRandom(1));
    expect(sample.length + rest.length).toBe(100);
    expect(new Set([...sample, ...rest]).size).toBe(100);
  });
  it('draws uniformly enough (chi-square on 10 bins)', () => {
    const random = seededRandom(123);
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 100000; i++) bins[Math.floor(random() * 10)]++;
    const chi = bins.reduce((s, c) => s + (c - 10000) ** 2 / 10000, 0);
    expect(chi).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
  });
});
