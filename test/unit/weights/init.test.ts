import { hash32, parseInit, resolveInit, streamFor, validateSeed, varianceOf } from '../../../src/weights/init';
import { ZeroLMError } from '../../../src/errors';

describe('resolveInit', () => {
  it('passes normal and uniform through', () => {
    expect(resolveInit({ scheme: 'normal', std: 0.02 }, 10, 20)).toEqual({ distribution: 'normal', std: 0.02 });
    expect(resolveInit({ scheme: 'uniform', bound: 0.1 }, 10, 20)).toEqual({ distribution: 'uniform', bound: 0.1 });
  });

  it('resolves xavier and kaiming from fan-in (cols) and fan-out (rows)', () => {
    const xn = resolveInit({ scheme: 'xavier-normal' }, 300, 100);
    expect(xn).toEqual({ distribution: 'normal', std: Math.sqrt(2 / 400) });
    const xu = resolveInit({ scheme: 'xavier-uniform', gain: 2 }, 300, 100);
    expect(xu).toEqual({ distribution: 'uniform', bound: 2 * Math.sqrt(6 / 400) });
    // Xavier's two forms have the same variance 2/(fan_in + fan_out).
    expect(varianceOf(resolveInit({ scheme: 'xavier-uniform' }, 300, 100))).toBeCloseTo(varianceOf(xn), 15);
    expect(resolveInit({ scheme: 'kaiming-normal' }, 300, 100)).toEqual({ distribution: 'normal', std: Math.SQRT2 / 10 });
    expect(resolveInit({ scheme: 'kaiming-normal', mode: 'fan-out' }, 400, 100)).toEqual({ distribution: 'normal', std: Math.SQRT2 / 20 });
  });

  it('refuses NaN, Infinity, zero and negative parameters, naming the field', () => {
    for (const std of [Number.NaN, Infinity, 0, -1]) {
      expect(() => resolveInit({ scheme: 'normal', std }, 2, 2, 'layers.0.query.init')).toThrow(/layers\.0\.query\.init\.std/);
    }
    try {
      resolveInit({ scheme: 'normal', std: Number.NaN }, 2, 2);
    } catch (error) {
      expect(error).toBeInstanceOf(ZeroLMError);
      expect((error as ZeroLMError).code).toBe('E_NON_FINITE');
    }
    expect(() => resolveInit({ scheme: 'bogus' } as never, 2, 2)).toThrow(/scheme must be one of/);
  });
});

describe('parseInit', () => {
  it('parses the command-line forms', () => {
    expect(parseInit('normal:0.02')).toEqual({ scheme: 'normal', std: 0.02 });
    expect(parseInit('uniform:0.1')).toEqual({ scheme: 'uniform', bound: 0.1 });
    expect(parseInit('xavier-normal')).toEqual({ scheme: 'xavier-normal' });
    expect(parseInit('kaiming-normal:fan-out')).toEqual({ scheme: 'kaiming-normal', mode: 'fan-out' });
  });
  it('refuses malformed forms', () => {
    expect(() => parseInit('normal')).toThrow(/std must be a finite positive number/);
    expect(() => parseInit('normal:NaN')).toThrow(ZeroLMError);
    expect(() => parseInit('gaussian:1')).toThrow(/unknown scheme "gaussian"/);
  });
});

describe('seed policy', () => {
  const normal = { distribution: 'normal' as const, std: 0.02 };
  it("'shape' gives the same stream to equal shapes wherever they sit", () => {
    expect(streamFor({ name: 'layers.0.q', rows: 64, cols: 64 }, normal, 'shape')).toBe(streamFor({ name: 'layers.9.v', rows: 64, cols: 64 }, normal, 'shape'));
    expect(streamFor({ name: 'a', rows: 64, cols: 32 }, normal, 'shape')).not.toBe(streamFor({ name: 'a', rows: 32, cols: 64 }, normal, 'shape'));
    expect(streamFor({ name: 'a', rows: 64, cols: 64 }, normal, 'shape')).not.toBe(streamFor({ name: 'a', rows: 64, cols: 64 }, { distribution: 'normal', std: 0.03 }, 'shape'));
  });
  it("'position' gives different streams to different positions", () => {
    expect(streamFor({ name: 'layers.0.q', rows: 64, cols: 64 }, normal, 'position')).not.toBe(streamFor({ name: 'layers.1.q', rows: 64, cols: 64 }, normal, 'position'));
  });
  it('hash32 is a uint32 and spreads near-identical keys', () => {
    const values = new Set<number>();
    for (let i = 0; i < 10000; i++) {
      const h = hash32(`${i}x64`);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
      values.add(h);
    }
    expect(values.size).toBe(10000);
  });
  it('validates seeds as uint32', () => {
    expect(validateSeed(4294967295)).toBe(4294967295);
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN, '3']) expect(() => validateSeed(bad)).toThrow(/seed must be an integer/);
  });
});
