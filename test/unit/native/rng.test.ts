import { fillNormal, fillUniform, nativeTestHooks, spectraSync } from '../../../src/native';

const hex = (words: Uint32Array): string[] => Array.from(words, (w) => `0x${w.toString(16).padStart(8, '0')}`);

describe('Philox4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(hex(nativeTestHooks.philox4x32_10([0, 0, 0, 0], [0, 0]))).toEqual(['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']);
    const ones = 0xffffffff;
    expect(hex(nativeTestHooks.philox4x32_10([ones, ones, ones, ones], [ones, ones]))).toEqual([
      '0x408f276d', '0x41c83b0e', '0xa20bc7c6', '0x6d5451fd',
    ]);
  });

  it('fills use counter i/4 and lane i%4 under key (seed, stream)', () => {
    const seed = 1234;
    const stream = 56;
    const uniform = fillUniform(1, 4 * 3 + 2, { bound: 1, seed, stream });
    for (let counter = 0; counter < 3; counter++) {
      const words = nativeTestHooks.philox4x32_10([counter, 0, 0, 0], [seed, stream]);
      for (let lane = 0; lane < 4; lane++) {
        const expected = Math.fround(2 * ((words[lane] + 0.5) / 2 ** 32) - 1);
        expect(uniform[counter * 4 + lane]).toBe(expected);
      }
    }
    // Box-Muller on lane pairs (0, 1) and (2, 3).
    const normal = fillNormal(1, 8, { std: 2, seed, stream });
    for (let counter = 0; counter < 2; counter++) {
      const words = nativeTestHooks.philox4x32_10([counter, 0, 0, 0], [seed, stream]);
      for (const pair of [0, 1]) {
        const u0 = (words[2 * pair] + 0.5) / 2 ** 32;
        const u1 = (words[2 * pair + 1] + 0.5) / 2 ** 32;
        const radius = Math.sqrt(-2 * Math.log(u0));
        const expected = [2 * radius * Math.cos(2 * Math.PI * u1), 2 * radius * Math.sin(2 * Math.PI * u1)];
        for (const k of [0, 1]) {
          // JS Math and the C library may differ in the last bit before rounding to float32.
          expect(Math.abs(normal[counter * 4 + 2 * pair + k] - expected[k])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected[k])));
        }
      }
    }
  });
});

describe('fills', () => {
  const count = 1 << 20;

  it('normal(0, std): mean, variance and fourth moment', () => {
    const std = 0.7;
    const values = fillNormal(1024, 1024, { std, seed: 42, stream: 9 });
    let m1 = 0;
    let m2 = 0;
    let m4 = 0;
    for (const v of values) {
      const z = v / std;
      m1 += z;
      m2 += z * z;
      m4 += z * z * z * z;
    }
    m1 /= count;
    m2 /= count;
    m4 /= count;
    // Five standard errors: sd(mean) = 1/sqrt(N), sd(m2) = sqrt(2/N), sd(m4) = sqrt(96/N).
    expect(Math.abs(m1)).toBeLessThan(5 / Math.sqrt(count));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / count));
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(96 / count));
  });

  it('uniform(-bound, bound): bounds, mean and variance', () => {
    const bound = 0.25;
    const values = fillUniform(512, 2048, { bound, seed: 7, stream: 0 });
    let sum = 0;
    let squares = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      sum += v;
      squares += v * v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(-bound);
    expect(max).toBeLessThanOrEqual(bound);
    expect(min).toBeLessThan(-bound * 0.999);
    expect(max).toBeGreaterThan(bound * 0.999);
    const variance = bound * bound / 3;
    expect(Math.abs(sum / count)).toBeLessThan((5 * Math.sqrt(variance)) / Math.sqrt(count));
    // var(x^2) = b^4 (1/5 - 1/9) for uniform(-b, b).
    expect(Math.abs(squares / count - variance)).toBeLessThan(5 * Math.sqrt((bound ** 4 * (1 / 5 - 1 / 9)) / count));
  });

  it('are deterministic, and different seeds or streams give different values', () => {
    const a = fillNormal(10, 10, { std: 1, seed: 1, stream: 1 });
    expect(Array.from(fillNormal(10, 10, { std: 1, seed: 1, stream: 1 }))).toEqual(Array.from(a));
    expect(Array.from(fillNormal(10, 10, { std: 1, seed: 2, stream: 1 }))).not.toEqual(Array.from(a));
    expect(Array.from(fillNormal(10, 10, { std: 1, seed: 1, stream: 2 }))).not.toEqual(Array.from(a));
  });

  it('a value depends only on its index, not on the shape', () => {
    const flat = fillNormal(1, 6000, { std: 1, seed: 5, stream: 6 });
    const matrix = fillNormal(60, 100, { std: 1, seed: 5, stream: 6 });
    expect(Array.from(matrix)).toEqual(Array.from(flat));
    const odd = fillUniform(7, 13, { bound: 1, seed: 5, stream: 6 });
    expect(Array.from(odd)).toEqual(Array.from(fillUniform(1, 200, { bound: 1, seed: 5, stream: 6 }).subarray(0, 91)));
  });

  it('std scales the values exactly as the recipe does', () => {
    const unit = fillNormal(8, 8, { std: 1, seed: 3, stream: 3 });
    const scaled = fillNormal(8, 8, { std: 0.5, seed: 3, stream: 3 });
    for (let i = 0; i < unit.length; i++) expect(scaled[i]).toBe(Math.fround(unit[i] * 0.5));
  });

  it('a recipe matrix in the engine equals the filled one (also for the streamed sumSquares route)', () => {
    const values = fillUniform(300, 301, { bound: 3, seed: 8, stream: 2 });
    const recipe = { rows: 300, cols: 301, init: { distribution: 'uniform' as const, bound: 3 }, seed: 8, stream: 2 };
    for (const route of ['sumSquares', 'top'] as const) {
      const [fromRecipe] = spectraSync([{ ...recipe, route }]);
      const [fromValues] = spectraSync([{ rows: 300, cols: 301, values, route }]);
      expect(fromRecipe).toEqual(fromValues);
    }
  });
});
