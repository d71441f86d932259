/**
 * Analytic expectations of spectrum statistics for an m x n matrix with i.i.d. zero-mean entries of variance v:
 * no matrix is built. With k = min(m, n), N = max(m, n) and c = k / N, the singular values are
 * s = sqrt(v N lambda), lambda following the Marchenko-Pastur law of marchenko-pastur.ts, so
 *
 *   E[sum_i f(s_i)] ~= k * integral f(sqrt(v N lambda)) dMP_c(lambda).
 *
 * Exact or closed-form where possible:
 *   - E[sum s^2] = v m n exactly (every entry contributes v);
 *   - E[sum ln(1 + s^2)] = k * ShannonTransform_c(v N) in closed form (Verdu's formula);
 *   - E[s_max] is not an MP integral: the largest eigenvalue sits at the MP edge v (sqrt m + sqrt n)^2 plus a
 *     Tracy-Widom fluctuation; we use Johnstone's centring and scaling with the half-integer correction,
 *       mu = (sqrt(m - 1/2) + sqrt(n - 1/2))^2,  sigma = sqrt(mu) (1/sqrt(m - 1/2) + 1/sqrt(n - 1/2))^(1/3),
 *     E[lambda_max] = v (mu + sigma E[TW1]), Var[lambda_max] = v^2 sigma^2 Var[TW1], and E[s_max] = E[sqrt(lambda_max)]
 *     from a gamma law with those two moments (to first order sqrt(E lambda) (1 - Var / (8 E^2))). For k = 1 the
 *     single singular value is a scaled chi variable and its mean is exact.
 * These are expectations, asymptotic in the shape: they describe one draw to within the fluctuations the tests
 * document (linear statistics fluctuate by O(1/k) relatively, s_max by O(N^(-2/3))). Measured against Gaussian
 * draws the bias is below 0.5% for min(m, n) >= 64 and below 1.3% from 16 up; under 8 it grows to several percent
 * (the Tracy-Widom mean of a 2 x 2 matrix is 30% low), so tiny shapes get rough values only.
 */
import type { SpectrumStats } from './measures';
import { mpEnergyQuantile, mpShannonTransform, mpSingularValueMoments } from './marchenko-pastur';
import { checkFraction, checkShape, checkVariance } from './validate';

/** Mean and variance of the Tracy-Widom law for real (GOE, beta = 1) matrices. */
export const TRACY_WIDOM_GOE_MEAN = -1.2065335745820;
export const TRACY_WIDOM_GOE_VARIANCE = 1.6077810345810;

/** Default energy fraction of pca-k, the threshold W-PCA uses for its principal-component count. */
export const DEFAULT_PCA_ENERGY = 0.99;

interface Shape {
  rows: number;
  cols: number;
  small: number;
  large: number;
  ratio: number;
}

function shapeOf(rows: number, cols: number, variance: number): Shape & { variance: number } {
  const shape = checkShape(rows, cols);
  const checkedVariance = checkVariance(variance);
  const small = Math.min(shape.rows, shape.cols);
  const large = Math.max(shape.rows, shape.cols);
  return { rows: shape.rows, cols: shape.cols, small, large, ratio: small / large, variance: checkedVariance };
}

/**
 * Gamma(x + 1/2) / Gamma(x) for x > 0: the recurrence lifts x to >= 15, where Stirling's series of the log-ratio
 * (written without cancellation) is accurate to double precision.
 */
export function gammaHalfRatio(x: number): number {
  let factor = 1;
  let y = x;
  while (y < 15) {
    // Gamma(y + 1/2)/Gamma(y) = [Gamma(y + 3/2)/Gamma(y + 1)] * y / (y + 1/2)
    factor *= y / (y + 0.5);
    y += 1;
  }
  // ln Gamma(y + 1/2) - ln Gamma(y) from Stirling: y ln(1 + 1/(2y)) + ln(y)/2 - 1/2 + Bernoulli terms.
  const stirling = (z: number): number => {
    const inverse = 1 / z;
    const inverse2 = inverse * inverse;
    return inverse * (1 / 12 - inverse2 * (1 / 360 - inverse2 * (1 / 1260 - inverse2 * (1 / 1680 - inverse2 / 1188))));
  };
  const logRatio = y * Math.log1p(0.5 / y) + 0.5 * Math.log(y) - 0.5 + stirling(y + 0.5) - stirling(y);
  return factor * Math.exp(logRatio);
}

/**
 * Mean and standard deviation of the largest singular value s_max of an m x n matrix with i.i.d. entries of
 * variance v (Tracy-Widom, see the file header). std is what a single draw scatters by; tests comparing one draw
 * to the mean need a tolerance of a few std.
 */
export function analyticLargestSingularValue(rows: number, cols: number, variance: number): { mean: number; std: number } {
  const shape = shapeOf(rows, cols, variance);
  const { small, large, variance: v } = shape;
  if (small === 1) {
    // s = sqrt(v) chi_N exactly: E[chi_N] = sqrt(2) Gamma((N + 1)/2) / Gamma(N/2), E[chi_N^2] = N.
    const mean = Math.sqrt(2 * v) * gammaHalfRatio(large / 2);
    return { mean, std: Math.sqrt(Math.max(v * large - mean * mean, 0)) };
  }
  const m = shape.rows - 0.5;
  const n = shape.cols - 0.5;
  const mu = (Math.sqrt(m) + Math.sqrt(n)) ** 2;
  const sigma = Math.sqrt(mu) * Math.cbrt(1 / Math.sqrt(m) + 1 / Math.sqrt(n));
  // lambda_max is at least the mean eigenvalue N and at most the trace m n; the clamp only acts on tiny shapes.
  const meanLambda = Math.min(Math.max(mu + sigma * TRACY_WIDOM_GOE_MEAN, large), shape.rows * shape.cols);
  const varianceLambda = sigma * sigma * TRACY_WIDOM_GOE_VARIANCE;
  // E[sqrt X] for X ~ Gamma(shape = mean^2/var, scale = var/mean): sqrt(scale) Gamma(shape + 1/2) / Gamma(shape).
  const gammaShape = (meanLambda * meanLambda) / varianceLambda;
  const meanRoot = Math.sqrt(varianceLambda / meanLambda) * gammaHalfRatio(gammaShape);
  const mean = Math.sqrt(v) * meanRoot;
  return { mean, std: Math.sqrt(Math.max(v * meanLambda - mean * mean, 0)) };
}

/** E[sum s^2] = v m n (exact). */
export function expectedSumSquares(rows: number, cols: number, variance: number): number {
  const { rows: m, cols: n, variance: v } = shapeOf(rows, cols, variance);
  return v * m * n;
}

/** E[sum s] = k sqrt(v N) E_MP[sqrt(lambda)]. */
export function expectedNuclearNorm(rows: number, cols: number, variance: number): number {
  const { small, large, ratio, variance: v } = shapeOf(rows, cols, variance);
  return small * Math.sqrt(v * large) * mpSingularValueMoments(ratio).halfMoment;
}

/** E[sum ln(1 + s^2)] = k * ShannonTransform_c(v N), closed form. */
export function expectedLogDet(rows: number, cols: number, variance: number): number {
  const { small, large, ratio, variance: v } = shapeOf(rows, cols, variance);
  return small * mpShannonTransform(ratio, v * large);
}

/** E[s_max], see analyticLargestSingularValue. */
export function expectedSpectralNorm(rows: number, cols: number, variance: number): number {
  return analyticLargestSingularValue(rows, cols, variance).mean;
}

/**
 * E[sum s^2] / E[s_max]^2, clamped to [1, k], the range of the exact measure (for k = 1 the exact value is 1, while
 * E[s]^2 < E[s^2] would put the ratio just above it).
 */
export function expectedStableRank(rows: number, cols: number, variance: number): number {
  const top = expectedSpectralNorm(rows, cols, variance);
  const value = expectedSumSquares(rows, cols, variance) / (top * top);
  return Math.min(Math.max(value, 1), Math.min(rows, cols));
}

/**
 * exp(H) with H = ln E[sum s] - E[sum s ln s] / E[sum s], the entropy of p_i = s_i / sum s with the two sums
 * replaced by their expectations. The variance and N cancel: exp(H) = k M exp(-E[x ln x] / M), M = E[x], x = sqrt(lambda).
 * Clamped to [1, k], the range of the exact measure (for k = 1 the plug-in would fall just below 1).
 */
export function expectedEffectiveRank(rows: number, cols: number, variance: number): number {
  const { small, ratio } = shapeOf(rows, cols, variance);
  const { halfMoment, halfLogMoment } = mpSingularValueMoments(ratio);
  const value = small * halfMoment * Math.exp(-halfLogMoment / halfMoment);
  return Math.min(Math.max(value, 1), small);
}

/**
 * Smallest count of top singular values whose squares carry a fraction eta of the energy: k times the MP mass above
 * the energy-weighted quantile (mpEnergyQuantile), rounded up, in [1, k]. The variance cancels.
 */
export function expectedPcaCount(rows: number, cols: number, variance: number, eta: number = DEFAULT_PCA_ENERGY): number {
  const { small, ratio } = shapeOf(rows, cols, variance);
  const fraction = checkFraction(eta, 'eta');
  if (fraction === 1) return small;
  const { countFraction } = mpEnergyQuantile(ratio, fraction);
  // The slack (far above the quadrature error, far below 1) keeps an exact integer from being bumped to the next one.
  return Math.min(Math.max(Math.ceil(small * countFraction * (1 - 1e-9)), 1), small);
}

/**
 * Expected statistics of the exact path, for feeding analytic values through SpectrumStats consumers: sumSquares
 * (exact), logDet (closed form) and top (Tracy-Widom mean of s_max). No singular values: measures that need the
 * full spectrum use their own analytic().
 */
export function analyticSpectrumStats(rows: number, cols: number, variance: number): SpectrumStats {
  const { rows: m, cols: n, variance: v } = shapeOf(rows, cols, variance);
  return { rows: m, cols: n, sumSquares: v * m * n, logDet: expectedLogDet(m, n, v), top: expectedSpectralNorm(m, n, v) };
}
