/**
 * Module capacity measures C(W): one registry, one entry per measure, each with its formula, the cheapest exact
 * statistic it needs and its Marchenko-Pastur expectation for i.i.d. initialisation (analytic.ts).
 *
 * Notation: W is m x n (rows x cols), k = min(m, n), s_1 >= ... >= s_k >= 0 its singular values.
 *
 * Zero matrices (all s = 0): every sum is 0, and every rank-like measure (stable-rank, effective-rank, pca-k) is 0,
 * the rank of the zero matrix, instead of the 0/0 its formula would give.
 */
import { ZeroLMError } from '../errors';
import {
  DEFAULT_PCA_ENERGY,
  expectedEffectiveRank,
  expectedLogDet,
  expectedNuclearNorm,
  expectedPcaCount,
  expectedSpectralNorm,
  expectedStableRank,
  expectedSumSquares,
} from './analytic';
import { checkFraction, checkNonNegative, checkShape, checkVariance } from './validate';

/** What the scorer knows about one matrix. Optional fields are there when the route that produced them computes them. */
export interface SpectrumStats {
  rows: number;
  cols: number;
  /** sum s^2 = squared Frobenius norm. */
  sumSquares: number;
  /** All k = min(rows, cols) singular values, any order (descending by convention). */
  singularValues?: Float64Array;
  /** sum ln(1 + s^2) = ln det(I + W^T W). */
  logDet?: number;
  /** s_max, the spectral norm. */
  top?: number;
}

export type MeasureName = 'mean-sq-sv' | 'nuclear' | 'log-det' | 'spectral' | 'stable-rank' | 'effective-rank' | 'pca-k' | 'params';

export interface MeasureOptions {
  /** pca-k: energy fraction to reach, 0 < eta <= 1; default 0.99 (DEFAULT_PCA_ENERGY). */
  eta?: number;
}

export interface Measure {
  name: MeasureName;
  description: string;
  formula: string;
  /** The cheapest exact statistic it needs: 'shape' (params), 'sumSquares', 'logDet', 'top', or 'full' (singular values). */
  needs: 'shape' | 'sumSquares' | 'logDet' | 'top' | 'full';
  /** The MeasureOptions it reads (none when absent); validateMeasureOptions refuses any other. */
  options?: readonly (keyof MeasureOptions)[];
  fromStats(stats: SpectrumStats, options?: MeasureOptions): number;
  /** Expectation for an m x n matrix with i.i.d. zero-mean entries of the given variance (Marchenko-Pastur). */
  analytic(rows: number, cols: number, variance: number, options?: MeasureOptions): number;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading statistics: each reader validates the field it uses and names it when it is missing or wrong.

function checkStats(stats: SpectrumStats, measure: MeasureName): { rows: number; cols: number; small: number } {
  if (typeof stats !== 'object' || stats === null) {
    throw new ZeroLMError('E_ARGUMENT', `measure "${measure}": stats must be a SpectrumStats object, got ${stats === null ? 'null' : typeof stats}`, { field: 'stats' });
  }
  const { rows, cols } = checkShape(stats.rows, stats.cols, 'stats.');
  return { rows, cols, small: Math.min(rows, cols) };
}

function missing(measure: MeasureName, statistic: string, alternatives: string): ZeroLMError {
  return new ZeroLMError('E_ARGUMENT', `measure "${measure}" needs stats.${statistic}${alternatives}, which is missing`, { field: `stats.${statistic}` });
}

function sumSquaresOf(stats: SpectrumStats): number {
  return checkNonNegative(stats.sumSquares, 'stats.sumSquares');
}

/** The singular values, validated: k of them, finite, >= 0. */
function singularValuesOf(stats: SpectrumStats, measure: MeasureName, small: number, alternatives = ''): Float64Array {
  const values = stats.singularValues;
  if (values === undefined) throw missing(measure, 'singularValues', alternatives);
  if (!(values instanceof Float64Array)) {
    throw new ZeroLMError('E_ARGUMENT', `stats.singularValues must be a Float64Array`, { field: 'stats.singularValues' });
  }
  if (values.length !== small) {
    throw new ZeroLMError('E_SHAPE', `stats.singularValues has ${values.length} values; a ${stats.rows} x ${stats.cols} matrix has min(rows, cols) = ${small}`, { field: 'stats.singularValues' });
  }
  for (let i = 0; i < values.length; i++) {
    const s = values[i];
    if (!Number.isFinite(s)) throw new ZeroLMError('E_NON_FINITE', `stats.singularValues[${i}] is ${s}`, { field: 'stats.singularValues', index: i });
    if (s < 0) throw new ZeroLMError('E_ARGUMENT', `stats.singularValues[${i}] is negative (${s})`, { field: 'stats.singularValues', index: i });
  }
  return values;
}

function topOf(stats: SpectrumStats, measure: MeasureName, small: number): number {
  if (stats.top !== undefined) return checkNonNegative(stats.top, 'stats.top');
  if (stats.singularValues === undefined) throw missing(measure, 'top', ' (or stats.singularValues)');
  const values = singularValuesOf(stats, measure, small);
  let top = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > top) top = values[i];
  return top;
}

function etaOf(options: MeasureOptions | undefined): number {
  if (options === undefined || options === null) return DEFAULT_PCA_ENERGY;
  if (typeof options !== 'object') throw new ZeroLMError('E_ARGUMENT', `measure options must be an object, got ${typeof options}`, { field: 'options' });
  return options.eta === undefined ? DEFAULT_PCA_ENERGY : checkFraction(options.eta, 'eta');
}

/** Whether `measure` reads `option` (eta: pca-k only). */
export function measureReads(measure: Measure, option: keyof MeasureOptions): boolean {
  return (measure.options ?? []).includes(option);
}

/**
 * Checks options against what `measure` reads, up front: an option the measure ignores is refused rather than
 * silently dropped, and each value is validated.
 */
export function validateMeasureOptions(measure: Measure, options: MeasureOptions): void {
  if (typeof options !== 'object' || options === null) throw new ZeroLMError('E_ARGUMENT', `measure options must be an object, got ${options === null ? 'null' : typeof options}`, { field: 'options' });
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!measureReads(measure, key as keyof MeasureOptions)) {
      const users = Object.values(registry).filter((m) => measureReads(m, key as keyof MeasureOptions)).map((m) => m.name);
      const hint = users.length > 0 ? ` (${key} applies to ${users.join(', ')})` : '';
      throw new ZeroLMError('E_ARGUMENT', `measure "${measure.name}" takes no option ${key}${hint}`, { field: key });
    }
  }
  if (options.eta !== undefined) checkFraction(options.eta, 'eta');
}

// ---------------------------------------------------------------------------------------------------------------
// Exact measures from singular values.

function nuclearNorm(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum;
}

function logDetOfValues(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.log1p(values[i] * values[i]);
  return sum;
}

/** exp of the Shannon entropy of p_i = s_i / sum s (0 ln 0 = 0); 0 for the zero matrix. */
function effectiveRankOfValues(values: Float64Array): number {
  const total = nuclearNorm(values);
  if (total === 0) return 0;
  let entropy = 0;
  for (let i = 0; i < values.length; i++) {
    const p = values[i] / total;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

/**
 * Smallest j with s_1^2 + ... + s_j^2 >= eta * total, total being the same running sum over all k values (so that
 * eta = 1 gives the number of nonzero singular values exactly, with no rounding mismatch); 0 for the zero matrix.
 */
function pcaCountOfValues(values: Float64Array, eta: number): number {
  let sorted = values;
  for (let i = 1; i < values.length; i++) {
    if (values[i] > values[i - 1]) {
      sorted = Float64Array.from(values).sort().reverse();
      break;
    }
  }
  const cumulative = new Float64Array(sorted.length);
  let running = 0;
  for (let i = 0; i < sorted.length; i++) {
    running += sorted[i] * sorted[i];
    cumulative[i] = running;
  }
  if (running === 0) return 0;
  const target = eta * running;
  for (let i = 0; i < cumulative.length; i++) if (cumulative[i] >= target) return i + 1;
  return cumulative.length;
}

// ---------------------------------------------------------------------------------------------------------------
// The registry.

const registry: Record<MeasureName, Measure> = {
  'mean-sq-sv': {
    name: 'mean-sq-sv',
    description: 'Mean squared singular value: the squared Frobenius norm per singular value (the ZeroLM re-implementation default).',
    formula: 'C(W) = sum_i s_i^2 / min(m, n)',
    needs: 'sumSquares',
    fromStats(stats) {
      const { small } = checkStats(stats, 'mean-sq-sv');
      return sumSquaresOf(stats) / small;
    },
    analytic(rows, cols, variance) {
      return expectedSumSquares(rows, cols, variance) / Math.min(rows, cols);
    },
  },
  nuclear: {
    name: 'nuclear',
    description: 'Nuclear (trace) norm: the sum of the singular values.',
    formula: 'C(W) = sum_i s_i',
    needs: 'full',
    fromStats(stats) {
      const { small } = checkStats(stats, 'nuclear');
      return nuclearNorm(singularValuesOf(stats, 'nuclear', small));
    },
    analytic: expectedNuclearNorm,
  },
  'log-det': {
    name: 'log-det',
    description: 'Log-determinant capacity (NSC): ln det(I + W^T W).',
    formula: 'C(W) = sum_i ln(1 + s_i^2)',
    needs: 'logDet',
    fromStats(stats) {
      const { small } = checkStats(stats, 'log-det');
      if (stats.logDet !== undefined) return checkNonNegative(stats.logDet, 'stats.logDet');
      if (stats.singularValues === undefined) throw missing('log-det', 'logDet', ' (or stats.singularValues)');
      return logDetOfValues(singularValuesOf(stats, 'log-det', small));
    },
    analytic: expectedLogDet,
  },
  spectral: {
    name: 'spectral',
    description: 'Spectral norm: the largest singular value.',
    formula: 'C(W) = s_1 = max_i s_i',
    needs: 'top',
    fromStats(stats) {
      const { small } = checkStats(stats, 'spectral');
      return topOf(stats, 'spectral', small);
    },
    analytic: expectedSpectralNorm,
  },
  'stable-rank': {
    name: 'stable-rank',
    description: 'Stable (numerical) rank: squared Frobenius norm over squared spectral norm; 0 for the zero matrix.',
    formula: 'C(W) = sum_i s_i^2 / s_1^2',
    needs: 'top',
    fromStats(stats) {
      const { small } = checkStats(stats, 'stable-rank');
      const sumSquares = sumSquaresOf(stats);
      const top = topOf(stats, 'stable-rank', small);
      if (top === 0) {
        if (sumSquares === 0) return 0;
        throw new ZeroLMError('E_ARGUMENT', `measure "stable-rank": stats.top is 0 but stats.sumSquares is ${sumSquares}`, { field: 'stats.top' });
      }
      return sumSquares / (top * top);
    },
    analytic: expectedStableRank,
  },
  'effective-rank': {
    name: 'effective-rank',
    description: 'Effective rank (Roy & Vetterli, 2007): exp of the entropy of the normalised singular values; 0 for the zero matrix.',
    formula: 'C(W) = exp(-sum_i p_i ln p_i), p_i = s_i / sum_j s_j',
    needs: 'full',
    fromStats(stats) {
      const { small } = checkStats(stats, 'effective-rank');
      return effectiveRankOfValues(singularValuesOf(stats, 'effective-rank', small));
    },
    analytic: expectedEffectiveRank,
  },
  'pca-k': {
    name: 'pca-k',
    description:
      'Principal-component count: how many top singular values carry a fraction eta of the energy (options.eta, default 0.99); 0 for the zero matrix.',
    formula: 'C(W) = min { j : sum_{i<=j} s_i^2 >= eta * sum_i s_i^2 }',
    needs: 'full',
    options: ['eta'],
    fromStats(stats, options) {
      const eta = etaOf(options);
      const { small } = checkStats(stats, 'pca-k');
      return pcaCountOfValues(singularValuesOf(stats, 'pca-k', small), eta);
    },
    analytic(rows, cols, variance, options) {
      return expectedPcaCount(rows, cols, variance, etaOf(options));
    },
  },
  params: {
    name: 'params',
    description: 'Parameter count of the matrix: the plain-size baseline.',
    formula: 'C(W) = m * n',
    needs: 'shape',
    fromStats(stats) {
      const { rows, cols } = checkStats(stats, 'params');
      return rows * cols;
    },
    analytic(rows, cols, variance) {
      const shape = checkShape(rows, cols);
      checkVariance(variance);
      return shape.rows * shape.cols;
    },
  },
};

for (const measure of Object.values(registry)) Object.freeze(measure);

export const measures: Readonly<Record<MeasureName, Measure>> = Object.freeze(registry);

export const measureNames: readonly MeasureName[] = Object.freeze(Object.keys(registry) as MeasureName[]);

/** The measure called `name`; an unknown name is E_ARGUMENT listing the known ones. */
export function getMeasure(name: string): Measure {
  if (typeof name === 'string' && Object.prototype.hasOwnProperty.call(registry, name)) return registry[name as MeasureName];
  const shown = typeof name === 'string' ? JSON.stringify(name) : String(name);
  throw new ZeroLMError('E_ARGUMENT', `unknown measure ${shown}; known measures: ${measureNames.join(', ')}`, { field: 'measure' });
}
