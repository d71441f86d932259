/**
 * Alpha strategies: how the balance between the attention and the FFN capacity is chosen.
 * - sampling: draw k labelled architectures, sweep alpha over a grid, keep the best Kendall tau on the sample.
 *   The criterion is tau-a by default: tau-b forgives ties, so maximising it drives alpha to 0 or 1 where many
 *   architectures share a score (on nas-bench-bert, attention capacity alone is just depth x width) and the
 *   ranking collapses; tau-a gives ties nothing.
 * - heuristic: the reading of ZeroLM's Algorithm 1 in DESIGN.md: sweep alpha over [-1.5, 1.5] in steps of 0.1,
 *   take the mean of the two alphas with the largest |tau| (on the same sample).
 * - fixed: a given alpha.
 */
import { ZeroLMError } from '../errors';
import { kendallTauA, kendallTauB } from '../stats/rank';
import { combine, validateAlpha, validateRule, type CombinationRule } from '../proxy/alpha';
import { sampleSplit, seededRandom } from '../stats/random';

export type AlphaStrategy = 'sampling' | 'heuristic' | 'fixed';
export const alphaStrategies: readonly AlphaStrategy[] = ['sampling', 'heuristic', 'fixed'];

export interface AlphaGrid {
  from: number;
  to: number;
  step: number;
}
export const HEURISTIC_GRID: AlphaGrid = { from: -1.5, to: 1.5, step: 0.1 };
/** The sampling sweep covers the heuristic's range at ten times its resolution. */
export const SAMPLING_GRID: AlphaGrid = { from: -1.5, to: 1.5, step: 0.01 };

export interface CalibrationData {
  attention: ArrayLike<number>;
  ffn: ArrayLike<number>;
  labels: ArrayLike<number>;
  /** Whether a larger label is better (GLUE) or worse (perplexity). */
  higherIsBetter: boolean;
}

export type CalibrationCriterion = 'tau-a' | 'tau-b';
export const calibrationCriteria: readonly CalibrationCriterion[] = ['tau-a', 'tau-b'];

export interface CalibrateOptions {
  strategy?: AlphaStrategy;
  /** What 'sampling' maximises and 'heuristic' ranks by (default tau-a). */
  criterion?: CalibrationCriterion;
  /** Labelled architectures drawn for calibration (sampling and heuristic). Clamped to the data size. */
  sampleSize?: number;
  seed?: number;
  /** Alpha for 'fixed'. */
  alpha?: number;
  /** The combination whose alpha is chosen (default 'weighted-sum', ZeroLM's form). */
  rule?: CombinationRule;
  grid?: AlphaGrid;
  /** Restrict calibration to these rows (for held-out evaluation); default all. */
  candidates?: ArrayLike<number>;
}

export interface Calibration {
  alpha: number;
  rule: CombinationRule;
  strategy: AlphaStrategy;
  sampleSize: number;
  seed: number;
  criterion: CalibrationCriterion;
  /** The criterion's value for the chosen alpha on the calibration sample; NaN for 'fixed'. */
  kendallOnSample: number;
  grid?: AlphaGrid;
  /** Rows used for calibration, in the data's order. */
  sample: number[];
}

export function gridValues(grid: AlphaGrid): number[] {
  const count = Math.round((grid.to - grid.from) / grid.step);
  if (!Number.isFinite(count) || count < 0 || count > 100000) {
    throw new ZeroLMError('E_ARGUMENT', `alpha grid ${JSON.stringify(grid)} is empty or too fine`, { field: 'grid' });
  }
  // Rounded so that 0.1-steps land on exact decimals (0.30000000000000004 would be a different alpha in a report).
  return Array.from({ length: count + 1 }, (_, i) => Math.round((grid.from + i * grid.step) * 1e10) / 1e10);
}

/**
 * Scores are compared to 12 significant digits: architectures that differ only in the order their (equal) layers
 * are summed must tie, not be ordered by rounding noise.
 */
export function forRanking(score: number): number {
  return Number.isFinite(score) && score !== 0 ? Number(score.toPrecision(12)) : score;
}

function tauFor(data: CalibrationData, rows: ArrayLike<number>, alpha: number, rule: CombinationRule, criterion: CalibrationCriterion): number {
  const scores = new Float64Array(rows.length);
  const labels = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    scores[i] = forRanking(combine(data.attention[r], data.ffn[r], alpha, rule));
    labels[i] = data.higherIsBetter ? data.labels[r] : -data.labels[r];
  }
  return criterion === 'tau-a' ? kendallTauA(scores, labels) : kendallTauB(scores, labels);
}

export function calibrateAlpha(data: CalibrationData, options: CalibrateOptions = {}): Calibration {
  if (typeof data !== 'object' || data === null || typeof options !== 'object' || options === null) {
    throw new ZeroLMError('E_ARGUMENT', 'calibrateAlpha takes (data: {attention, ffn, labels, higherIsBetter}, options: object)', { field: data === null || typeof data !== 'object' ? 'data' : 'options' });
  }
  const strategy = options.strategy ?? 'sampling';
  if (!alphaStrategies.includes(strategy)) {
    throw new ZeroLMError('E_ARGUMENT', `strategy must be one of ${alphaStrategies.join(', ')}, got ${JSON.stringify(strategy)}`, { field: 'strategy' });
  }
  const n = data.labels.length;
  if (data.attention.length !== n || data.ffn.length !== n) {
    throw new ZeroLMError('E_ARGUMENT', `attention (${data.attention.length}), ffn (${data.ffn.length}) and labels (${n}) must have the same length`);
  }
  const seed = options.seed ?? 0;
  const criterion = options.criterion ?? 'tau-a';
  if (!calibrationCriteria.includes(criterion)) {
    throw new ZeroLMError('E_ARGUMENT', `criterion must be one of ${calibrationCriteria.join(', ')}, got ${JSON.stringify(criterion)}`, { field: 'criterion' });
  }
  const rule = options.rule === undefined ? 'weighted-sum' : validateRule(options.rule);
  if (strategy === 'fixed') {
    if (options.alpha === undefined) throw new ZeroLMError('E_ARGUMENT', `strategy 'fixed' needs an alpha (--alpha)`, { field: 'alpha' });
    return { alpha: validateAlpha(options.alpha, 'alpha'), rule, strategy, criterion, sampleSize: 0, seed, kendallOnSample: Number.NaN, sample: [] };
  }
  const candidates = options.candidates ? Array.from(options.candidates) : Array.from({ length: n }, (_, i) => i);
  const requested = options.sampleSize ?? 50;
  if (!Number.isInteger(requested) || requested < 2) {
    throw new ZeroLMError('E_ARGUMENT', `sampleSize must be an integer >= 2, got ${String(options.sampleSize)}`, { field: 'sampleSize' });
  }
  const sampleSize = Math.min(requested, candidates.length);
  if (sampleSize < 2) throw new ZeroLMError('E_ARGUMENT', `calibration needs at least 2 labelled architectures, got ${candidates.length}`);
  const { sample: picked } = sampleSplit(candidates.length, sampleSize, seededRandom(seed));
  const sample = Array.from(picked, (i) => candidates[i]).sort((a, b) => a - b);

  const grid = options.grid ?? (strategy === 'heuristic' ? HEURISTIC_GRID : SAMPLING_GRID);
  const alphas = gridValues(grid);
  const taus = alphas.map((alpha) => tauFor(data, sample, alpha, rule, criterion));
  let alpha: number;
  if (strategy === 'heuristic') {
    // Mean of the two alphas with the largest |tau| (ties broken by grid order), as Algorithm 1 is read.
    const order = alphas.map((_, i) => i).sort((a, b) => Math.abs(taus[b]) - Math.abs(taus[a]) || a - b);
    alpha = (alphas[order[0]] + alphas[order[Math.min(1, order.length - 1)]]) / 2;
  } else {
    // Best tau; among equally good alphas take the middle one, the most robust choice on a plateau.
    const best = Math.max(...taus.map((t) => (Number.isNaN(t) ? -Infinity : t)));
    const winners = alphas.filter((_, i) => taus[i] === best);
    alpha = winners.length > 0 ? winners[Math.floor((winners.length - 1) / 2)] : 0.5;
  }
  return { alpha, rule, strategy, criterion, sampleSize, seed, kendallOnSample: tauFor(data, sample, alpha, rule, criterion), grid, sample };
}
