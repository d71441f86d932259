/**
 * Analytic mode against exact mode: the Marchenko-Pastur expectation of every measure against the engine's exact
 * spectra of seeded Gaussian matrices. The expectation is compared with the mean over several independent draws
 * (a single 256x256 draw scatters by ~1% in s_max and ~2% in stable rank, so one draw cannot be held to 1%).
 * The bidiagonal generator (bidiagonal mode) is held to the same bar: it draws the same law without the matrix.
 */
import { measureNames, getMeasure } from '../../../src/capacity/measures';
import { spectraSync } from '../../../src/native';

const DRAWS = 8;

function exactMean(rows: number, cols: number, std: number, measure: string, generator: 'weights' | 'bidiagonal' = 'weights'): number {
  const jobs = Array.from({ length: DRAWS }, (_, stream) => ({ rows, cols, init: { distribution: 'normal' as const, std }, seed: 2026, stream, route: 'full' as const, generator }));
  const stats = spectraSync(jobs);
  return stats.reduce((sum, s) => sum + getMeasure(measure).fromStats(s), 0) / DRAWS;
}

describe.each([
  // [rows, cols, relative tolerance]
  [256, 256, 0.01],
  [256, 1024, 0.01],
  [512, 384, 0.01],
  [64, 64, 0.05],
  [64, 256, 0.05],
  [192, 64, 0.05],
])('%i x %i', (rows, cols, tolerance) => {
  it.each(measureNames.flatMap((measure) => [[measure, 'weights'], [measure, 'bidiagonal']]))(`analytic %s is within ${tolerance * 100}% of the mean over draws of %s`, (measure, generator) => {
    for (const std of [0.02, 1]) {
      const exact = exactMean(rows, cols, std, measure, generator as 'weights' | 'bidiagonal');
      const analytic = getMeasure(measure).analytic(rows, cols, std * std);
      if (measure === 'pca-k') {
        // An integer count: allow one step of rounding on top of the tolerance.
        expect(Math.abs(analytic - exact)).toBeLessThanOrEqual(tolerance * exact + 1);
      } else {
        expect(Math.abs(analytic - exact) / exact).toBeLessThan(tolerance);
      }
    }
  });
});
