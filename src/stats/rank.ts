/**
 * Rank statistics for judging a proxy against ground truth: average ranks, Spearman's rho, Kendall's tau-b
 * (Knight's O(n log n) algorithm and an O(n^2) reference), Kendall's tau-b restricted to pairs of similar size,
 * top-k overlap and paired percentile bootstrap intervals.
 *
 * Conventions shared by every function here:
 * - Inputs are array-likes of numbers (plain arrays or typed arrays). Paired inputs must have equal lengths and
 *   at least 2 elements, every value must be a finite number; otherwise a ZeroLMError is thrown
 *   ('E_ARGUMENT' for lengths and types, 'E_NON_FINITE' for NaN/Infinity) naming the argument and the index.
 * - Correlations are undefined when an input is constant (every pair tied): they return NaN then, never 0 and
 *   never an error, so that a caller can tell "no information" from "no correlation".
 * - Ranks are 1-based; tied values share the average of the ranks they span.
 */
import { ZeroLMError } from '../errors';
import { seededRandom } from './random';

/** A statistic of two paired samples, as taken by bootstrapCI. */
export type PairedStatistic = (x: Float64Array, y: Float64Array) => number;

// ---------------------------------------------------------------------------------------------------------------
// Validation

function toFiniteArray(values: ArrayLike<number>, argument: string, caller: string): Float64Array {
  if (values === null || values === undefined || typeof (values as ArrayLike<number>).length !== 'number') {
    throw new ZeroLMError('E_ARGUMENT', `${caller}: ${argument} must be an array of numbers`, { field: argument });
  }
  const length = values.length;
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (typeof v !== 'number') {
      throw new ZeroLMError('E_ARGUMENT', `${caller}: ${argument}[${i}] is a ${v === null ? 'null' : typeof v}, not a number`, {
        field: argument,
        index: i,
      });
    }
    if (!Number.isFinite(v)) {
      throw new ZeroLMError('E_NON_FINITE', `${caller}: ${argument}[${i}] is ${v}; a finite number is required`, {
        field: argument,
        index: i,
      });
    }
    out[i] = v;
  }
  return out;
}

function pairedArrays(x: ArrayLike<number>, y: ArrayLike<number>, caller: string): [Float64Array, Float64Array] {
  const xs = toFiniteArray(x, 'x', caller);
  const ys = toFiniteArray(y, 'y', caller);
  if (xs.length !== ys.length) {
    throw new ZeroLMError('E_ARGUMENT', `${caller}: x and y must have equal lengths (x has ${xs.length}, y has ${ys.length})`, {
      field: 'y',
    });
  }
  if (xs.length < 2) {
    throw new ZeroLMError('E_ARGUMENT', `${caller}: at least 2 paired values are required (got ${xs.length})`, { field: 'x' });
  }
  return [xs, ys];
}

// ---------------------------------------------------------------------------------------------------------------
// Ranks and Spearman

function averageRanks(values: Float64Array): Float64Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a] - values[b] || a - b);
  const result = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    // Positions start..end-1 (0-based) hold one tie group: its 1-based ranks are start+1..end.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) result[order[k]] = rank;
    start = end;
  }
  return result;
}

/** 1-based ranks, ties given the average of the ranks they span: ranks([10, 20, 20, 5]) = [2, 3.5, 3.5, 1]. */
export function ranks(values: ArrayLike<number>): Float64Array {
  return averageRanks(toFiniteArray(values, 'values', 'ranks'));
}

function pearsonOf(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += x[i];
    meanY += y[i];
  }
  meanX /= n;
  meanY /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - meanX;
    const dy = y[i] - meanY;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  // Rounding can push |r| a hair past 1 for perfectly (anti-)monotone inputs.
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

/** Pearson correlation of the raw values. NaN when either input is constant. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const [xs, ys] = pairedArrays(x, y, 'pearson');
  return pearsonOf(xs, ys);
}

/** Spearman's rho: the Pearson correlation of the average ranks (the tie-corrected form). NaN when either input is constant. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const [xs, ys] = pairedArrays(x, y, 'spearman');
  return pearsonOf(averageRanks(xs), averageRanks(ys));
}

// ---------------------------------------------------------------------------------------------------------------
// Kendall tau-b

/** Number of unordered pairs among `count` items. */
function pairsOf(count: number): number {
  return (count * (count - 1)) / 2;
}

function tauBFromCounts(totalPairs: number, tiedX: number, tiedY: number, concordantMinusDiscordant: number): number {
  const denominator = Math.sqrt((totalPairs - tiedX) * (totalPairs - tiedY));
  if (denominator === 0) return NaN;
  const tau = concordantMinusDiscordant / denominator;
  return tau > 1 ? 1 : tau < -1 ? -1 : tau;
}

/**
 * Kendall's tau-b by Knight's algorithm (1966), O(n log n):
 *   tau_b = (P - Q) / sqrt((n0 - n1)(n0 - n2)),
 * n0 = n(n-1)/2, n1 / n2 = pairs tied in x / in y, P - Q = n0 - n1 - n2 + n3 - 2*swaps, where n3 = pairs tied in
 * both and `swaps` = the discordant pairs, counted as the exchanges a merge sort of y needs once the pairs are
 * ordered by (x, y). Every count is an integer, so the result equals kendallTauBNaive exactly (n < 2^26).
 * NaN when x or y is constant.
 */
export function kendallTauB(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const [xs, ys] = pairedArrays(x, y, 'kendallTauB');
  return knightTauB(xs, ys);
}

/**
 * Kendall's tau-a, (P - Q) / (n(n-1)/2), O(n log n): tied pairs count in the denominator and earn nothing. Unlike
 * tau-b it does not reward a score for collapsing many architectures onto one value, which makes it the safer
 * criterion for choosing a parameter such as alpha.
 */
export function kendallTauA(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const [xs, ys] = pairedArrays(x, y, 'kendallTauA');
  const counts = knightCounts(xs, ys);
  return counts.concordantMinusDiscordant / counts.totalPairs;
}

function knightTauB(xs: Float64Array, ys: Float64Array): number {
  const { totalPairs, tiedX, tiedY, concordantMinusDiscordant } = knightCounts(xs, ys);
  return tauBFromCounts(totalPairs, tiedX, tiedY, concordantMinusDiscordant);
}

function knightCounts(xs: Float64Array, ys: Float64Array): { totalPairs: number; tiedX: number; tiedY: number; concordantMinusDiscordant: number } {
  const n = xs.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => xs[a] - xs[b] || ys[a] - ys[b]);

  // Ties in x (n1) and joint ties (n3), read off the (x, y)-sorted order.
  let tiedX = 0;
  let tiedBoth = 0;
  let runX = 1;
  let runXY = 1;
  for (let k = 1; k < n; k++) {
    const sameX = xs[order[k]] === xs[order[k - 1]];
    if (sameX) {
      runX++;
      if (ys[order[k]] === ys[order[k - 1]]) runXY++;
      else {
        tiedBoth += pairsOf(runXY);
        runXY = 1;
      }
    } else {
      tiedX += pairsOf(runX);
      tiedBoth += pairsOf(runXY);
      runX = 1;
      runXY = 1;
    }
  }
  tiedX += pairsOf(runX);
  tiedBoth += pairsOf(runXY);

  // Bottom-up merge sort of y in the (x, y) order; every time an element of the right run overtakes elements of
  // the left run, those pairs are discordant (x strictly increases, y strictly decreases).
  let source = new Float64Array(n);
  for (let k = 0; k < n; k++) source[k] = ys[order[k]];
  let target = new Float64Array(n);
  let swaps = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let left = 0; left < n; left += 2 * width) {
      const middle = Math.min(left + width, n);
      const right = Math.min(left + 2 * width, n);
      let i = left;
      let j = middle;
      let k = left;
      while (i < middle && j < right) {
        if (source[j] < source[i]) {
          swaps += middle - i;
          target[k++] = source[j++];
        } else {
          target[k++] = source[i++];
        }
      }
      while (i < middle) target[k++] = source[i++];
      while (j < right) target[k++] = source[j++];
    }
    const swap = source;
    source = target;
    target = swap;
  }

  // y is now sorted in `source`: its tie groups give n2.
  let tiedY = 0;
  let runY = 1;
  for (let k = 1; k < n; k++) {
    if (source[k] === source[k - 1]) runY++;
    else {
      tiedY += pairsOf(runY);
      runY = 1;
    }
  }
  tiedY += pairsOf(runY);

  const totalPairs = pairsOf(n);
  return { totalPairs, tiedX, tiedY, concordantMinusDiscordant: totalPairs - tiedX - tiedY + tiedBoth - 2 * swaps };
}

// Plain comparisons rather than Math.sign: the O(n^2) loops stay fast where Math is not inlined (jest's vm realm).
function signOf(a: number, b: number): number {
  return a > b ? 1 : a < b ? -1 : 0;
}

/** Kendall's tau-b by counting every pair, O(n^2). The reference kendallTauB is tested against. */
export function kendallTauBNaive(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const [xs, ys] = pairedArrays(x, y, 'kendallTauBNaive');
  const n = xs.length;
  let concordantMinusDiscordant = 0;
  let tiedX = 0;
  let tiedY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = signOf(xs[i], xs[j]);
      const dy = signOf(ys[i], ys[j]);
      if (dx === 0) tiedX++;
      if (dy === 0) tiedY++;
      concordantMinusDiscordant += dx * dy;
    }
  }
  return tauBFromCounts(pairsOf(n), tiedX, tiedY, concordantMinusDiscordant);
}

/**
 * "10%-PW" Kendall: tau-b over the pairs (i, j) whose sizes are within a relative band of each other,
 *   |p_i - p_j| / max(p_i, p_j) < band,
 * i.e. tau_b = (P - Q) / sqrt((N - Tx)(N - Ty)) with N the number of such pairs, P / Q the concordant /
 * discordant ones among them and Tx / Ty those tied in x / y. It asks whether a proxy orders architectures of
 * (almost) the same size correctly, which a plain parameter count cannot do. Pairs with equal sizes are included.
 * `params` must be positive; band must lie in (0, 1]. NaN when no pair qualifies or every qualifying pair is
 * tied in x or in y. O(n^2).
 */
export function kendallWithinParamBand(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  params: ArrayLike<number>,
  band = 0.1,
): number {
  const caller = 'kendallWithinParamBand';
  const [xs, ys] = pairedArrays(x, y, caller);
  const ps = toFiniteArray(params, 'params', caller);
  if (ps.length !== xs.length) {
    throw new ZeroLMError('E_ARGUMENT', `${caller}: params must have the length of x (${xs.length}), got ${ps.length}`, {
      field: 'params',
    });
  }
  for (let i = 0; i < ps.length; i++) {
    if (!(ps[i] > 0)) {
      throw new ZeroLMError('E_ARGUMENT', `${caller}: params[${i}] is ${ps[i]}; sizes must be positive`, {
        field: 'params',
        index: i,
      });
    }
  }
  if (typeof band !== 'number' || !(band > 0 && band <= 1)) {
    throw new ZeroLMError('E_ARGUMENT', `${caller}: band must be a number in (0, 1], got ${String(band)}`, { field: 'band' });
  }
  const n = xs.length;
  let pairs = 0;
  let tiedX = 0;
  let tiedY = 0;
  let concordantMinusDiscordant = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const larger = ps[i] > ps[j] ? ps[i] : ps[j];
      const smaller = ps[i] > ps[j] ? ps[j] : ps[i];
      if ((larger - smaller) / larger >= band) continue;
      pairs++;
      const dx = signOf(xs[i], xs[j]);
      const dy = signOf(ys[i], ys[j]);
      if (dx === 0) tiedX++;
      if (dy === 0) tiedY++;
      concordantMinusDiscordant += dx * dy;
    }
  }
  if (pairs === 0) return NaN;
  return tauBFromCounts(pairs, tiedX, tiedY, concordantMinusDiscordant);
}

// ---------------------------------------------------------------------------------------------------------------
// Top-k overlap

/** Indices of the k largest values; ties at the cut go to the lower index, so the result is deterministic. */
function topIndices(values: Float64Array, k: number): Uint32Array {
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => values[b] - values[a] || a - b);
  return order.subarray(0, k);
}

/**
 * |top_k(x) ∩ top_k(y)| / k, where top_k takes the k largest values: both inputs must be oriented so that
 * higher is better (negate perplexities and other lower-is-better quantities first). Ties at the k-th place are
 * broken by the lower index. k must be an integer in [1, n].
 */
export function topKOverlap(x: ArrayLike<number>, y: ArrayLike<number>, k: number): number {
  const [xs, ys] = pairedArrays(x, y, 'topKOverlap');
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > xs.length) {
    throw new ZeroLMError('E_ARGUMENT', `topKOverlap: k must be an integer in [1, ${xs.length}], got ${String(k)}`, { field: 'k' });
  }
  const inTopX = new Uint8Array(xs.length);
  for (const i of topIndices(xs, k)) inTopX[i] = 1;
  let common = 0;
  for (const i of topIndices(ys, k)) common += inTopX[i];
  return common / k;
}

// ---------------------------------------------------------------------------------------------------------------
// Bootstrap

export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** Coverage of the interval, in (0, 1) (default 0.95). */
  level?: number;
  /** Integer seed of the resampling stream (default 0): the same seed gives the same interval. */
  seed?: number;
}

export interface BootstrapInterval {
  /** The statistic on the full sample. */
  estimate: number;
  /** Percentile interval bounds: the (1-level)/2 and (1+level)/2 quantiles of the resampled statistic. */
  lower: number;
  upper: number;
  /** Resamples whose statistic was finite (a resample can be constant, and then a correlation is NaN). */
  resamplesUsed: number;
}

/** Quantile with linear interpolation between order statistics (the "type 7" rule of R and NumPy). */
function sortedQuantile(sorted: Float64Array, probability: number): number {
  const position = (sorted.length - 1) * probability;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * Paired percentile bootstrap: draws n pairs with replacement `resamples` times, evaluates `stat` on each
 * resample and returns the percentile interval. Resamples where `stat` is not finite are left out and counted
 * in `resamplesUsed`; if none is finite, lower and upper are NaN.
 */
export function bootstrapCI(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  stat: PairedStatistic,
  options: BootstrapOptions = {},
): BootstrapInterval {
  const caller = 'bootstrapCI';
  const [xs, ys] = pairedArrays(x, y, caller);
  if (typeof stat !== 'function') {
    throw new ZeroLMError('E_ARGUMENT', `${caller}: stat must be a function (x, y) => number`, { field: 'stat' });
  }
  const { resamples = 1000, level = 0.95, seed = 0 } = options;
  if (typeof resamples !== 'number' || !Number.isInteger(resamples) || resamples < 1) {
    throw new ZeroLMError('E_ARGUMENT', `${caller}: resamples must be a positive integer, got ${String(resamples)}`, {
      field: 'resamples',
    });
  }
  if (typeof level !== 'number' || !(level > 0 && level < 1)) {
    throw new ZeroLMError('E_ARGUMENT', `${caller}: level must be a number in (0, 1), got ${String(level)}`, { field: 'level' });
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new ZeroLMError('E_ARGUMENT', `${caller}: seed must be an integer, got ${String(seed)}`, { field: 'seed' });
  }
  const n = xs.length;
  const estimate = stat(xs, ys);
  // Fold the bits above 2^32 in, so that seeds differing only there still give different streams.
  const uniform = seededRandom(((seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x9e3779b1)) >>> 0);
  const values = new Float64Array(resamples);
  let used = 0;
  const sampleX = new Float64Array(n);
  const sampleY = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let k = 0; k < n; k++) {
      const i = Math.floor(uniform() * n);
      sampleX[k] = xs[i];
      sampleY[k] = ys[i];
    }
    const value = stat(sampleX, sampleY);
    if (Number.isFinite(value)) values[used++] = value;
  }
  if (used === 0) return { estimate, lower: NaN, upper: NaN, resamplesUsed: 0 };
  const sorted = values.subarray(0, used).sort();
  const tail = (1 - level) / 2;
  return { estimate, lower: sortedQuantile(sorted, tail), upper: sortedQuantile(sorted, 1 - tail), resamplesUsed: used };
}
