/**
 * The Marchenko-Pastur (MP) law with aspect ratio c in (0, 1], normalised to mean 1:
 *
 *   p_c(lambda) = sqrt((b - lambda)(lambda - a)) / (2 pi c lambda),  a = (1 - sqrt c)^2 <= lambda <= b = (1 + sqrt c)^2.
 *
 * For an m x n matrix W with i.i.d. zero-mean entries of variance v, k = min(m, n), N = max(m, n), the k eigenvalues
 * of the smaller Gram matrix divided by v N follow p_c with c = k / N as both sides grow. Everything here is in
 * those normalised units; src/capacity/analytic.ts scales back to a shape and a variance.
 *
 * Integration variable. With x = sqrt(lambda) (a normalised singular value) running over [alpha, beta] =
 * [1 - sqrt c, 1 + sqrt c] and x = alpha + (beta - alpha) sin^2(theta), theta in [0, pi/2], the measure becomes
 *
 *   p_c(lambda) d lambda = (8 / pi) sin^2(theta) cos^2(theta) sqrt((beta + x)(x + alpha)) / x  d theta,
 *
 * which has no square-root singularity at either edge. At c = 1 (alpha = 0) the density's 1/sqrt(lambda) blow-up
 * at 0 cancels as well (x = 2 sin^2 theta, so the weight is proportional to sin theta near 0). For c just below 1
 * the weight has a narrow transition at theta ~ sqrt(alpha), which the adaptive rule in quadrature.ts resolves.
 */
import { ZeroLMError } from '../errors';
import { integrate } from './quadrature';

const HALF_PI = Math.PI / 2;

/** The ratio c = min(m, n) / max(m, n): a finite number in (0, 1]. */
export function checkRatio(ratio: unknown, field = 'ratio'): number {
  if (typeof ratio !== 'number') throw new ZeroLMError('E_ARGUMENT', `${field} must be a number, got ${typeof ratio}`, { field });
  if (!Number.isFinite(ratio)) throw new ZeroLMError('E_NON_FINITE', `${field} must be finite, got ${ratio}`, { field });
  if (!(ratio > 0 && ratio <= 1)) {
    throw new ZeroLMError('E_ARGUMENT', `${field} must satisfy 0 < ${field} <= 1 (min(m, n) / max(m, n)), got ${ratio}`, { field });
  }
  return ratio;
}

/** Support [lower, upper] = [(1 - sqrt c)^2, (1 + sqrt c)^2] of the mean-1 MP law. */
export function marchenkoPasturEdges(ratio: number): { lower: number; upper: number } {
  const c = checkRatio(ratio);
  const root = Math.sqrt(c);
  return { lower: (1 - root) ** 2, upper: (1 + root) ** 2 };
}

/** The MP density p_c(lambda) (0 outside the support; at c = 1 it is infinite at lambda = 0). */
export function mpDensity(ratio: number): (lambda: number) => number {
  const c = checkRatio(ratio);
  const { lower, upper } = marchenkoPasturEdges(c);
  return (lambda: number): number => {
    if (!(lambda > lower && lambda < upper)) return lambda === 0 && lower === 0 ? Infinity : 0;
    return Math.sqrt((upper - lambda) * (lambda - lower)) / (2 * Math.PI * c * lambda);
  };
}

/** Normalised singular-value scale of the substitution: x(theta) and the MP weight w(theta) at theta. */
interface Substitution {
  alpha: number;
  beta: number;
  /** theta at which x = sqrt(lambda); clamped to [0, pi/2]. */
  thetaOf(lambda: number): number;
  /** Integral of g(x) * w(theta) d theta over [from, to]. */
  integrate(g: (x: number) => number, from?: number, to?: number): number;
  /** x(theta) and the MP weight w(theta) at one theta: the integrand's derivative for Newton steps. */
  weightAt(theta: number): { x: number; weight: number };
}

function substitution(c: number): Substitution {
  const root = Math.sqrt(c);
  const alpha = 1 - root;
  const beta = 1 + root;
  const width = beta - alpha;
  const weightAt = (theta: number): { x: number; weight: number } => {
    const sine = Math.sin(theta);
    const cosine = Math.cos(theta);
    const sine2 = sine * sine;
    const x = alpha + width * sine2;
    if (x === 0) return { x, weight: 0 }; // theta = 0 at c = 1: the weight tends to 0 there
    const weight = ((8 / Math.PI) * sine2 * cosine * cosine * Math.sqrt((beta + x) * (x + alpha))) / x;
    return { x, weight };
  };
  return {
    alpha,
    beta,
    thetaOf(lambda: number): number {
      const x = Math.sqrt(Math.max(lambda, 0));
      const s2 = (x - alpha) / width;
      if (!(s2 > 0)) return 0;
      if (s2 >= 1) return HALF_PI;
      return Math.asin(Math.sqrt(s2));
    },
    integrate(g, from = 0, to = HALF_PI) {
      return integrate((theta) => {
        const { x, weight } = weightAt(theta);
        return weight === 0 ? 0 : g(x) * weight;
      }, from, to);
    },
    weightAt,
  };
}

/** E[f(lambda)] under the MP law with ratio c: the integral of f against p_c. */
export function mpExpectation(ratio: number, f: (lambda: number) => number): number {
  const c = checkRatio(ratio);
  return substitution(c).integrate((x) => f(x * x));
}

/** E[g(sqrt(lambda))]: the same with the integrand given in normalised singular values x = sqrt(lambda). */
export function mpSingularValueExpectation(ratio: number, g: (x: number) => number): number {
  return substitution(checkRatio(ratio)).integrate(g);
}

/**
 * Shannon transform E[ln(1 + gamma lambda)] of the mean-1 MP law, in closed form (Verdu's formula, as in Tulino &
 * Verdu, "Random Matrix Theory and Wireless Communications", 2004, written here for the mean-1 law):
 *
 *   ln(1 + gamma - F/4) + (1/c) ln(1 + gamma c - F/4) - F / (4 c gamma),
 *   F = (sqrt(1 + gamma b) - sqrt(1 + gamma a))^2 = 16 c gamma^2 / S^2,  S = sqrt(1 + gamma b) + sqrt(1 + gamma a).
 *
 * Written with S so that nothing cancels badly as c -> 0 or gamma -> 0. The tests check it against the integral.
 */
export function mpShannonTransform(ratio: number, gamma: number): number {
  const c = checkRatio(ratio);
  if (typeof gamma !== 'number' || !Number.isFinite(gamma)) {
    throw new ZeroLMError(typeof gamma === 'number' ? 'E_NON_FINITE' : 'E_ARGUMENT', `gamma must be a finite number, got ${gamma}`, { field: 'gamma' });
  }
  if (gamma < 0) throw new ZeroLMError('E_ARGUMENT', `gamma must be >= 0, got ${gamma}`, { field: 'gamma' });
  if (gamma === 0) return 0;
  const { lower, upper } = marchenkoPasturEdges(c);
  const sum = Math.sqrt(1 + gamma * upper) + Math.sqrt(1 + gamma * lower);
  const sum2 = sum * sum;
  const quarterF = (4 * c * gamma * gamma) / sum2; // F / 4
  const smaller = gamma - (4 * gamma * gamma) / sum2; // (gamma c - F/4) / c
  return Math.log1p(gamma - quarterF) + Math.log1p(c * smaller) / c - (4 * gamma) / sum2;
}

/** Bounded memo of per-ratio integrals: they depend on c alone, and a search space repeats few shapes. */
const MEMO_LIMIT = 4096;
const momentMemo = new Map<number, { halfMoment: number; halfLogMoment: number }>();
const energyMemo = new Map<string, { threshold: number; countFraction: number }>();

function remember<K, V>(memo: Map<K, V>, key: K, value: V): V {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}

/**
 * The two singular-value moments the nuclear norm and the effective rank need:
 * halfMoment = E[sqrt(lambda)] = E[x], halfLogMoment = E[sqrt(lambda) ln sqrt(lambda)] = E[x ln x].
 */
export function mpSingularValueMoments(ratio: number): { halfMoment: number; halfLogMoment: number } {
  const c = checkRatio(ratio);
  const known = momentMemo.get(c);
  if (known) return known;
  const sub = substitution(c);
  const halfMoment = sub.integrate((x) => x);
  const halfLogMoment = sub.integrate((x) => (x > 0 ? x * Math.log(x) : 0));
  return remember(momentMemo, c, { halfMoment, halfLogMoment });
}

/** Solves increasing/decreasing h(theta) = target on [0, pi/2] by Newton steps kept inside a bisection bracket. */
function solveTheta(h: (theta: number) => number, slope: (theta: number) => number, target: number, increasing: boolean): number {
  let lo = 0;
  let hi = HALF_PI;
  let theta = Math.PI / 4;
  for (let iteration = 0; iteration < 100; iteration++) {
    const residual = h(theta) - target;
    if (residual === 0) return theta;
    // Keep the bracket: the root lies above theta when the residual has the sign of "not there yet".
    if ((residual < 0) === increasing) lo = theta;
    else hi = theta;
    const derivative = slope(theta);
    let next = derivative !== 0 ? theta - residual / derivative : NaN;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - theta) < 1e-15 || hi - lo < 1e-15) return next;
    theta = next;
  }
  return theta;
}

/** CDF P(lambda' <= lambda) of the MP law with ratio c. */
export function mpCdf(ratio: number, lambda: number): number {
  const c = checkRatio(ratio);
  const sub = substitution(c);
  const theta = sub.thetaOf(lambda);
  if (theta <= 0) return 0;
  if (theta >= HALF_PI) return 1;
  return Math.min(1, Math.max(0, sub.integrate(() => 1, 0, theta)));
}

/** The p-quantile of the MP law with ratio c: lambda with P(lambda' <= lambda) = p, p in [0, 1]. */
export function mpQuantile(ratio: number, probability: number): number {
  const c = checkRatio(ratio);
  if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
    throw new ZeroLMError('E_ARGUMENT', `probability must be a number in [0, 1], got ${probability}`, { field: 'probability' });
  }
  const sub = substitution(c);
  if (probability === 0) return sub.alpha ** 2;
  if (probability === 1) return sub.beta ** 2;
  const theta = solveTheta((t) => sub.integrate(() => 1, 0, t), (t) => sub.weightAt(t).weight, probability, true);
  return sub.weightAt(theta).x ** 2;
}

/**
 * Energy-weighted quantile: the threshold t with E[lambda; lambda >= t] = eta (the top eigenvalues that carry a
 * fraction eta of the total energy, the mean being 1) and countFraction = P(lambda >= t), the fraction of
 * eigenvalues above it. eta = 1 gives the lower edge and the whole spectrum.
 */
export function mpEnergyQuantile(ratio: number, eta: number): { threshold: number; countFraction: number } {
  const c = checkRatio(ratio);
  if (typeof eta !== 'number' || !(eta > 0 && eta <= 1)) {
    throw new ZeroLMError('E_ARGUMENT', `eta must be a number with 0 < eta <= 1, got ${eta}`, { field: 'eta' });
  }
  const key = `${c}|${eta}`;
  const known = energyMemo.get(key);
  if (known) return known;
  const sub = substitution(c);
  if (eta === 1) return remember(energyMemo, key, { threshold: sub.alpha ** 2, countFraction: 1 });
  const tailEnergy = (theta: number): number => sub.integrate((x) => x * x, theta, HALF_PI);
  const theta = solveTheta(tailEnergy, (t) => {
    const { x, weight } = sub.weightAt(t);
    return -x * x * weight;
  }, eta, false);
  const countFraction = sub.integrate(() => 1, theta, HALF_PI);
  return remember(energyMemo, key, { threshold: sub.weightAt(theta).x ** 2, countFraction: Math.min(1, Math.max(0, countFraction)) });
}
