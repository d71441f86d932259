/**
 * Numerical integration for the analytic (Marchenko-Pastur) expectations: adaptive Gauss-Legendre.
 *
 * The integrands reaching here are smooth after the edge substitution done in marchenko-pastur.ts, except for a
 * narrow transition near the lower edge when the aspect ratio is close to 1; bisecting where two estimates
 * disagree finds that region without knowing where it is.
 */

const NODE_COUNT = 20;

/** Gauss-Legendre nodes and weights on [-1, 1], computed once by Newton's method on the Legendre polynomial. */
function gaussLegendre(n: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    // Tricomi's initial guess for the i-th root, then Newton steps on P_n.
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iteration = 0; iteration < 100; iteration++) {
      let previous = 1; // P_0
      let current = x; // P_1
      for (let degree = 2; degree <= n; degree++) {
        const next = ((2 * degree - 1) * x * current - (degree - 1) * previous) / degree;
        previous = current;
        current = next;
      }
      derivative = (n * (x * current - previous)) / (x * x - 1);
      const step = current / derivative;
      x -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    const weight = 2 / ((1 - x * x) * derivative * derivative);
    nodes[i] = -x;
    nodes[n - 1 - i] = x;
    weights[i] = weight;
    weights[n - 1 - i] = weight;
  }
  return { nodes, weights };
}

const RULE = gaussLegendre(NODE_COUNT);

/** One fixed Gauss-Legendre rule on [lo, hi]; also returns the rule applied to |f| for a tolerance scale. */
function fixedRule(f: (x: number) => number, lo: number, hi: number): { value: number; magnitude: number } {
  const half = (hi - lo) / 2;
  const middle = (hi + lo) / 2;
  let value = 0;
  let magnitude = 0;
  for (let i = 0; i < NODE_COUNT; i++) {
    const y = f(middle + half * RULE.nodes[i]);
    value += RULE.weights[i] * y;
    magnitude += RULE.weights[i] * Math.abs(y);
  }
  return { value: value * half, magnitude: magnitude * Math.abs(half) };
}

export interface IntegrateOptions {
  /** Target error relative to the integral of |f| over the whole interval. */
  relativeTolerance?: number;
  /** Deepest bisection; an interval this narrow is accepted as it is. */
  maxDepth?: number;
}

/**
 * Integral of f over [lo, hi] by adaptive bisection of a 20-point Gauss-Legendre rule: a panel is accepted when
 * the rule on it and the sum of the rule on its two halves agree within its share of the tolerance.
 */
export function integrate(f: (x: number) => number, lo: number, hi: number, options: IntegrateOptions = {}): number {
  if (lo === hi) return 0;
  const relativeTolerance = options.relativeTolerance ?? 1e-13;
  const maxDepth = options.maxDepth ?? 40;
  const whole = fixedRule(f, lo, hi);
  const tolerance = relativeTolerance * Math.max(whole.magnitude, Number.MIN_VALUE);
  const width = hi - lo;
  let total = 0;
  // Explicit stack: [lo, hi, estimate on [lo, hi], depth].
  const stack: Array<[number, number, number, number]> = [[lo, hi, whole.value, 0]];
  while (stack.length > 0) {
    const [a, b, estimate, depth] = stack.pop()!;
    const middle = (a + b) / 2;
    const left = fixedRule(f, a, middle).value;
    const right = fixedRule(f, middle, b).value;
    const refined = left + right;
    const share = tolerance * Math.abs((b - a) / width);
    if (Math.abs(refined - estimate) <= share || depth >= maxDepth) {
      total += refined;
    } else {
      stack.push([a, middle, left, depth + 1], [middle, b, right, depth + 1]);
    }
  }
  return total;
}
