import { ZeroLMError } from '../../../src/errors';
import { integrate } from '../../../src/capacity/quadrature';
import {
  marchenkoPasturEdges,
  mpCdf,
  mpDensity,
  mpEnergyQuantile,
  mpExpectation,
  mpQuantile,
  mpShannonTransform,
  mpSingularValueMoments,
} from '../../../src/capacity/marchenko-pastur';

const ratios = [1, 0.999, 0.9, 0.5, 0.25, 1 / 64, 1e-4];

function relativeError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

/** c = 1: x = sqrt(lambda) follows the quarter-circle law (1/pi) sqrt(4 - x^2) on [0, 2]. */
const quarterCircle = {
  cdf: (u: number): number => ((u / 2) * Math.sqrt(4 - u * u) + 2 * Math.asin(u / 2)) / Math.PI,
  /** integral_u^2 x^2 (1/pi) sqrt(4 - x^2) dx */
  tailEnergy: (u: number): number => {
    const antiderivative = (x: number): number => (x / 8) * (2 * x * x - 4) * Math.sqrt(Math.max(4 - x * x, 0)) + 2 * Math.asin(x / 2);
    return (antiderivative(2) - antiderivative(u)) / Math.PI;
  },
};

describe('adaptive Gauss-Legendre quadrature', () => {
  test('integrates smooth and endpoint-singular functions', () => {
    expect(integrate(Math.sin, 0, Math.PI)).toBeCloseTo(2, 14);
    expect(integrate((x) => Math.exp(-x * x), -8, 8)).toBeCloseTo(Math.sqrt(Math.PI), 13);
    expect(relativeError(integrate(Math.sqrt, 0, 1), 2 / 3)).toBeLessThan(1e-12);
    expect(relativeError(integrate((x) => 1 / Math.sqrt(x), 0, 1), 2)).toBeLessThan(1e-6);
    expect(integrate(Math.sin, 1, 1)).toBe(0);
  });
});

describe('Marchenko-Pastur law (mean 1, ratio c)', () => {
  test('support edges (1 -+ sqrt c)^2', () => {
    expect(marchenkoPasturEdges(1)).toEqual({ lower: 0, upper: 4 });
    const { lower, upper } = marchenkoPasturEdges(0.25);
    expect(lower).toBeCloseTo(0.25, 15);
    expect(upper).toBeCloseTo(2.25, 15);
  });

  test.each(ratios)('moments at c = %p: mass 1, mean 1, E[l^2] = 1 + c, E[l^3] = 1 + 3c + c^2', (c) => {
    expect(Math.abs(mpExpectation(c, () => 1) - 1)).toBeLessThan(1e-13);
    expect(Math.abs(mpExpectation(c, (l) => l) - 1)).toBeLessThan(1e-13);
    expect(Math.abs(mpExpectation(c, (l) => l * l) - (1 + c))).toBeLessThan(1e-12);
    expect(Math.abs(mpExpectation(c, (l) => l ** 3) - (1 + 3 * c + c * c))).toBeLessThan(1e-12);
  });

  test('c = 1: E[sqrt(lambda)] = 8 / (3 pi), the mean of the quarter-circle law', () => {
    expect(relativeError(mpSingularValueMoments(1).halfMoment, 8 / (3 * Math.PI))).toBeLessThan(1e-13);
  });

  test('the edge substitution agrees with integrating the density directly in lambda', () => {
    for (const c of [0.5, 0.1]) {
      const density = mpDensity(c);
      const { lower, upper } = marchenkoPasturEdges(c);
      expect(Math.abs(integrate(density, lower, upper) - 1)).toBeLessThan(1e-9);
      const direct = integrate((l) => Math.sqrt(l) * Math.log(Math.sqrt(l)) * density(l), lower, upper);
      expect(Math.abs(direct - mpSingularValueMoments(c).halfLogMoment)).toBeLessThan(1e-9);
    }
  });

  test('density formula and zero outside the support', () => {
    const density = mpDensity(0.5);
    const { lower, upper } = marchenkoPasturEdges(0.5);
    expect(density(1)).toBeCloseTo(Math.sqrt((upper - 1) * (1 - lower)) / Math.PI, 15);
    expect(density(lower / 2)).toBe(0);
    expect(density(upper + 0.1)).toBe(0);
    expect(mpDensity(1)(0)).toBe(Infinity);
  });

  test('singular-value moments tend to those of a point mass at 1 as c -> 0', () => {
    const { halfMoment, halfLogMoment } = mpSingularValueMoments(1e-6);
    expect(Math.abs(halfMoment - 1)).toBeLessThan(1e-6);
    expect(Math.abs(halfLogMoment)).toBeLessThan(1e-6);
  });

  test('rejects ratios outside (0, 1]', () => {
    for (const [ratio, code] of [[0, 'E_ARGUMENT'], [1.5, 'E_ARGUMENT'], [NaN, 'E_NON_FINITE'], [Infinity, 'E_NON_FINITE']] as const) {
      let thrown: unknown;
      try {
        mpExpectation(ratio, () => 1);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ZeroLMError);
      expect((thrown as ZeroLMError).code).toBe(code);
    }
  });
});

describe('Shannon transform E[ln(1 + gamma lambda)] in closed form', () => {
  test.each(ratios)('matches the numerical integral at c = %p over twelve decades of gamma', (c) => {
    for (const gamma of [1e-6, 0.01, 1, 10, 768, 4096, 1e6]) {
      const integral = mpExpectation(c, (l) => Math.log1p(gamma * l));
      expect(relativeError(mpShannonTransform(c, gamma), integral)).toBeLessThan(1e-10);
    }
  });

  test('limits: 0 at gamma = 0, gamma - (1 + c) gamma^2 / 2 for small gamma, ln(1 + gamma) as c -> 0', () => {
    expect(mpShannonTransform(0.5, 0)).toBe(0);
    const gamma = 1e-4;
    expect(relativeError(mpShannonTransform(0.3, gamma), gamma - (1.3 * gamma * gamma) / 2)).toBeLessThan(1e-7);
    expect(relativeError(mpShannonTransform(1e-9, 100), Math.log(101))).toBeLessThan(1e-7);
  });

  test('rejects negative or non-finite gamma', () => {
    expect(() => mpShannonTransform(0.5, -1)).toThrow(ZeroLMError);
    expect(() => mpShannonTransform(0.5, Infinity)).toThrow(/finite/);
  });
});

describe('CDF, quantiles and the energy-weighted quantile', () => {
  test('c = 1: the CDF is the quarter-circle CDF of sqrt(lambda)', () => {
    for (const lambda of [0.01, 0.3, 1, 2.5, 3.9]) {
      expect(Math.abs(mpCdf(1, lambda) - quarterCircle.cdf(Math.sqrt(lambda)))).toBeLessThan(1e-12);
    }
    expect(mpCdf(1, 0)).toBe(0);
    expect(mpCdf(1, 4)).toBe(1);
  });

  test.each([1, 0.5, 0.05])('quantile inverts the CDF at c = %p', (c) => {
    for (const p of [0.001, 0.1, 0.5, 0.9, 0.999]) {
      expect(Math.abs(mpCdf(c, mpQuantile(c, p)) - p)).toBeLessThan(1e-11);
    }
    const { lower, upper } = marchenkoPasturEdges(c);
    expect(mpQuantile(c, 0)).toBeCloseTo(lower, 14);
    expect(mpQuantile(c, 1)).toBeCloseTo(upper, 14);
  });

  test('c = 1: the energy quantile carries exactly eta of the energy (closed form of the quarter circle)', () => {
    for (const eta of [0.5, 0.9, 0.99]) {
      const { threshold, countFraction } = mpEnergyQuantile(1, eta);
      const u = Math.sqrt(threshold);
      expect(Math.abs(quarterCircle.tailEnergy(u) - eta)).toBeLessThan(1e-11);
      expect(Math.abs(countFraction - (1 - quarterCircle.cdf(u)))).toBeLessThan(1e-11);
    }
  });

  test.each([0.5, 0.1])('energy quantile at c = %p: tail energy eta, fewer eigenvalues than energy', (c) => {
    for (const eta of [0.3, 0.9, 0.999]) {
      const { threshold, countFraction } = mpEnergyQuantile(c, eta);
      // Independent check in lambda: the density integrated from the threshold to the upper edge.
      const density = mpDensity(c);
      const { upper } = marchenkoPasturEdges(c);
      expect(Math.abs(integrate((l) => l * density(l), threshold, upper) - eta)).toBeLessThan(1e-8);
      expect(Math.abs(countFraction - (1 - mpCdf(c, threshold)))).toBeLessThan(1e-11);
      // The top eigenvalues are above the mean, so they carry more than their share of the energy.
      expect(countFraction).toBeLessThan(eta);
    }
    expect(mpEnergyQuantile(c, 1)).toEqual({ threshold: marchenkoPasturEdges(c).lower, countFraction: 1 });
  });
});
