import { getMeasure, measureNames, measures, validateMeasureOptions, type MeasureName, type SpectrumStats } from '../../../src/capacity/measures';
import { zerolmErrorOf as errorOf } from '../../helpers/zerolm-error';

/** Full statistics of a constructed spectrum, every optional field filled in from the values themselves. */
function statsOf(rows: number, cols: number, values: number[]): SpectrumStats {
  const singularValues = Float64Array.from(values);
  return {
    rows,
    cols,
    sumSquares: values.reduce((sum, s) => sum + s * s, 0),
    singularValues,
    logDet: values.reduce((sum, s) => sum + Math.log1p(s * s), 0),
    top: Math.max(0, ...values),
  };
}

function value(name: MeasureName, stats: SpectrumStats, eta?: number): number {
  return measures[name].fromStats(stats, eta === undefined ? undefined : { eta });
}


describe('measure registry', () => {
  test('lists the eight measures, each registered under its own name with a formula and a needed statistic', () => {
    expect([...measureNames].sort()).toEqual(
      ['effective-rank', 'log-det', 'mean-sq-sv', 'nuclear', 'params', 'pca-k', 'spectral', 'stable-rank'].sort(),
    );
    for (const name of measureNames) {
      const measure = measures[name];
      expect(measure.name).toBe(name);
      expect(measure.formula).toMatch(/C\(W\) =/);
      expect(measure.description.length).toBeGreaterThan(10);
      expect(getMeasure(name)).toBe(measure);
    }
    expect(Object.isFrozen(measures)).toBe(true);
    expect(Object.isFrozen(measures.nuclear)).toBe(true);
  });

  test('declares the cheapest exact statistic each measure needs', () => {
    expect(measures.params.needs).toBe('shape');
    expect(measures['mean-sq-sv'].needs).toBe('sumSquares');
    expect(measures['log-det'].needs).toBe('logDet');
    expect(measures.spectral.needs).toBe('top');
    expect(measures['stable-rank'].needs).toBe('top');
    expect(measures.nuclear.needs).toBe('full');
    expect(measures['effective-rank'].needs).toBe('full');
    expect(measures['pca-k'].needs).toBe('full');
  });

  test('an unknown name is E_ARGUMENT listing every known measure', () => {
    const error = errorOf(() => getMeasure('frobenius'));
    expect(error.code).toBe('E_ARGUMENT');
    expect(error.message).toContain('"frobenius"');
    for (const name of measureNames) expect(error.message).toContain(name);
    // Inherited object keys are not measures.
    expect(errorOf(() => getMeasure('toString')).code).toBe('E_ARGUMENT');
  });
});

describe('measures on constructed spectra', () => {
  test('all-ones spectrum of a 4 x 6 matrix: every rank-like measure is k = 4', () => {
    const stats = statsOf(4, 6, [1, 1, 1, 1]);
    expect(value('mean-sq-sv', stats)).toBe(1);
    expect(value('nuclear', stats)).toBe(4);
    expect(value('log-det', stats)).toBeCloseTo(4 * Math.LN2, 14);
    expect(value('spectral', stats)).toBe(1);
    expect(value('stable-rank', stats)).toBe(4);
    expect(value('effective-rank', stats)).toBeCloseTo(4, 12);
    expect(value('params', stats)).toBe(24);
    // pca-k = ceil(eta k) for a flat spectrum.
    expect(value('pca-k', stats, 1)).toBe(4);
    expect(value('pca-k', stats, 0.99)).toBe(4);
    expect(value('pca-k', stats, 0.75)).toBe(3);
    expect(value('pca-k', stats, 0.5)).toBe(2);
    expect(value('pca-k', stats, 0.26)).toBe(2);
    expect(value('pca-k', stats, 0.25)).toBe(1);
    expect(value('pca-k', stats)).toBe(4); // default eta 0.99
  });

  test('a single nonzero singular value: stable rank, effective rank and pca-k are 1', () => {
    const stats = statsOf(3, 5, [2.5, 0, 0]);
    expect(value('stable-rank', stats)).toBe(1);
    expect(value('effective-rank', stats)).toBe(1);
    expect(value('pca-k', stats, 1)).toBe(1);
    expect(value('pca-k', stats, 0.1)).toBe(1);
    expect(value('spectral', stats)).toBe(2.5);
    expect(value('mean-sq-sv', stats)).toBeCloseTo(6.25 / 3, 14);
    expect(value('log-det', stats)).toBeCloseTo(Math.log(7.25), 14);
  });

  test('a two-value spectrum (3, 4) against hand-computed values', () => {
    const stats = statsOf(2, 2, [4, 3]);
    expect(value('nuclear', stats)).toBe(7);
    expect(value('mean-sq-sv', stats)).toBe(12.5);
    expect(value('log-det', stats)).toBeCloseTo(Math.log(17) + Math.log(10), 13);
    expect(value('spectral', stats)).toBe(4);
    expect(value('stable-rank', stats)).toBe(25 / 16);
    const p = [4 / 7, 3 / 7];
    expect(value('effective-rank', stats)).toBeCloseTo(Math.exp(-p[0] * Math.log(p[0]) - p[1] * Math.log(p[1])), 13);
    // Energies 16 and 9 of 25: 64% in the first.
    expect(value('pca-k', stats, 0.63)).toBe(1);
    expect(value('pca-k', stats, 0.65)).toBe(2);
  });

  test('the zero matrix: sums are 0 and every rank-like measure is 0, not NaN', () => {
    const stats = statsOf(3, 4, [0, 0, 0]);
    for (const name of ['mean-sq-sv', 'nuclear', 'log-det', 'spectral', 'stable-rank', 'effective-rank', 'pca-k'] as const) {
      expect(value(name, stats)).toBe(0);
    }
    expect(value('params', stats)).toBe(12);
  });

  test('pca-k sorts an unsorted spectrum and with eta = 1 counts the nonzero values exactly', () => {
    const stats = statsOf(5, 5, [0.1, 3, 0, 2, 1]);
    expect(value('pca-k', stats, 1)).toBe(4);
    // Energies 9, 4, 1, 0.01 of 14.01 (cumulative fractions 0.642, 0.928, 0.9993, 1).
    expect(value('pca-k', stats, 0.6)).toBe(1);
    expect(value('pca-k', stats, 0.9)).toBe(2);
    expect(value('pca-k', stats, 0.95)).toBe(3);
    expect(value('pca-k', stats, 0.9995)).toBe(4);
    // Values whose squares do not add up exactly in floating point still reach eta = 1.
    const awkward = statsOf(3, 3, [0.1, 0.2, 0.3]);
    expect(value('pca-k', awkward, 1)).toBe(3);
  });

  test('rank-like measures are scale invariant and effective rank lies strictly between 1 and k', () => {
    const values = [5, 3, 2, 1, 0.5, 0.25];
    const stats = statsOf(6, 8, values);
    const scaled = statsOf(6, 8, values.map((s) => s * 1e3));
    const erank = value('effective-rank', stats);
    expect(erank).toBeGreaterThan(1);
    expect(erank).toBeLessThan(6);
    expect(value('effective-rank', scaled)).toBeCloseTo(erank, 12);
    expect(value('stable-rank', scaled)).toBeCloseTo(value('stable-rank', stats), 12);
    expect(value('pca-k', scaled, 0.9)).toBe(value('pca-k', stats, 0.9));
  });
});

describe('cheapest statistic and missing statistics', () => {
  const shape = { rows: 2, cols: 3 };

  test('mean-sq-sv uses sumSquares only; log-det uses logDet, spectral and stable-rank use top', () => {
    expect(value('mean-sq-sv', { ...shape, sumSquares: 8 })).toBe(4);
    // When both are given, the dedicated statistic wins (the singular values here disagree on purpose).
    const conflicting: SpectrumStats = { ...shape, sumSquares: 9, singularValues: Float64Array.of(1, 1), logDet: 5, top: 3 };
    expect(value('log-det', conflicting)).toBe(5);
    expect(value('spectral', conflicting)).toBe(3);
    expect(value('stable-rank', conflicting)).toBe(1);
  });

  test('falls back to the singular values when the dedicated statistic is absent', () => {
    const stats: SpectrumStats = { ...shape, sumSquares: 5, singularValues: Float64Array.of(1, 2) };
    expect(value('log-det', stats)).toBeCloseTo(Math.log(2) + Math.log(5), 14);
    expect(value('spectral', stats)).toBe(2);
    expect(value('stable-rank', stats)).toBe(5 / 4);
  });

  test('a missing statistic is E_ARGUMENT naming the field', () => {
    const bare: SpectrumStats = { ...shape, sumSquares: 5 };
    for (const [name, field] of [
      ['nuclear', 'stats.singularValues'],
      ['effective-rank', 'stats.singularValues'],
      ['pca-k', 'stats.singularValues'],
      ['log-det', 'stats.logDet'],
      ['spectral', 'stats.top'],
      ['stable-rank', 'stats.top'],
    ] as const) {
      const error = errorOf(() => value(name, bare));
      expect(error.code).toBe('E_ARGUMENT');
      expect(error.message).toContain(field);
      expect(error.location?.field).toBe(field);
    }
    expect(value('params', bare)).toBe(6);
  });

  test('params needs the shape only', () => {
    expect(measures.params.fromStats({ rows: 768, cols: 3072, sumSquares: 0 })).toBe(768 * 3072);
  });
});

describe('validation of statistics and options', () => {
  const good = (): SpectrumStats => statsOf(2, 3, [2, 1]);

  test('shapes: zero, fractional or negative are E_SHAPE; NaN is E_NON_FINITE; a string is E_ARGUMENT', () => {
    expect(errorOf(() => value('nuclear', { ...good(), rows: 0 })).code).toBe('E_SHAPE');
    expect(errorOf(() => value('params', { ...good(), cols: 2.5 })).code).toBe('E_SHAPE');
    expect(errorOf(() => value('params', { ...good(), cols: -3 })).code).toBe('E_SHAPE');
    expect(errorOf(() => value('params', { ...good(), rows: NaN })).code).toBe('E_NON_FINITE');
    expect(errorOf(() => value('params', { ...good(), rows: '2' as unknown as number })).code).toBe('E_ARGUMENT');
    expect(errorOf(() => value('params', null as unknown as SpectrumStats)).code).toBe('E_ARGUMENT');
  });

  test('singular values: wrong count is E_SHAPE, NaN E_NON_FINITE, negative E_ARGUMENT, with the index', () => {
    const tooMany = errorOf(() => value('nuclear', { ...good(), singularValues: Float64Array.of(1, 2, 3) }));
    expect(tooMany.code).toBe('E_SHAPE');
    expect(tooMany.message).toContain('min(rows, cols) = 2');
    const nan = errorOf(() => value('effective-rank', { ...good(), singularValues: Float64Array.of(1, NaN) }));
    expect(nan.code).toBe('E_NON_FINITE');
    expect(nan.location?.index).toBe(1);
    expect(errorOf(() => value('pca-k', { ...good(), singularValues: Float64Array.of(-1, 0) })).code).toBe('E_ARGUMENT');
    expect(errorOf(() => value('nuclear', { ...good(), singularValues: [2, 1] as unknown as Float64Array })).code).toBe('E_ARGUMENT');
  });

  test('scalar statistics: negative is E_ARGUMENT, Infinity E_NON_FINITE', () => {
    expect(errorOf(() => value('mean-sq-sv', { ...good(), sumSquares: -1 })).code).toBe('E_ARGUMENT');
    expect(errorOf(() => value('mean-sq-sv', { ...good(), sumSquares: Infinity })).code).toBe('E_NON_FINITE');
    expect(errorOf(() => value('log-det', { ...good(), logDet: NaN })).code).toBe('E_NON_FINITE');
    expect(errorOf(() => value('spectral', { ...good(), top: -2 })).code).toBe('E_ARGUMENT');
    // top = 0 with energy elsewhere is inconsistent.
    expect(errorOf(() => value('stable-rank', { ...good(), top: 0 })).code).toBe('E_ARGUMENT');
  });

  test('pca-k eta must satisfy 0 < eta <= 1', () => {
    for (const eta of [0, -0.1, 1.01]) expect(errorOf(() => value('pca-k', good(), eta)).code).toBe('E_ARGUMENT');
    expect(errorOf(() => value('pca-k', good(), NaN)).code).toBe('E_NON_FINITE');
    expect(errorOf(() => measures['pca-k'].fromStats(good(), { eta: '0.9' as unknown as number })).code).toBe('E_ARGUMENT');
    expect(errorOf(() => measures['pca-k'].analytic(64, 64, 1, { eta: 2 })).code).toBe('E_ARGUMENT');
  });

  test('validateMeasureOptions: an option the measure does not read is refused, naming who reads it', () => {
    expect(() => validateMeasureOptions(measures['pca-k'], { eta: 0.9 })).not.toThrow();
    expect(() => validateMeasureOptions(measures['pca-k'], {})).not.toThrow();
    for (const name of measureNames.filter((n) => n !== 'pca-k')) {
      expect(() => validateMeasureOptions(measures[name], {})).not.toThrow();
      const error = errorOf(() => validateMeasureOptions(measures[name], { eta: 0.9 }));
      expect(error.code).toBe('E_ARGUMENT');
      expect(error.message).toBe(`measure "${name}" takes no option eta (eta applies to pca-k)`);
    }
    expect(errorOf(() => validateMeasureOptions(measures['pca-k'], { eta: 1.5 })).code).toBe('E_ARGUMENT');
    expect(errorOf(() => validateMeasureOptions(measures['pca-k'], { eta: NaN })).code).toBe('E_NON_FINITE');
    expect(errorOf(() => validateMeasureOptions(measures.nuclear, { bogus: 1 } as never)).message).toBe('measure "nuclear" takes no option bogus');
  });
});
