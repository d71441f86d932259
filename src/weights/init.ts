/**
 * Init schemes resolved to a concrete i.i.d. distribution for one matrix shape, and the seed policy that decides
 * which random stream a matrix draws from.
 */
import type { InitScheme, MatrixSpec } from '../arch/types';
import { ZeroLMError } from '../errors';

/** A concrete entry distribution; the engine generates exactly these. */
export type Distribution = { distribution: 'normal'; std: number } | { distribution: 'uniform'; bound: number };

/**
 * Resolve an init scheme for a rows x cols weight (rows = fan-out, cols = fan-in, PyTorch's Linear layout).
 * xavier: std = gain*sqrt(2/(fan_in+fan_out)), bound = gain*sqrt(6/(fan_in+fan_out)); kaiming-normal: std = gain/sqrt(fan),
 * gain sqrt(2) by default (ReLU), fan = fan_in unless mode 'fan-out'.
 */
export function resolveInit(init: InitScheme, rows: number, cols: number, where = 'init'): Distribution {
  const gainOf = (gain: number | undefined, fallback: number): number => {
    const value = gain ?? fallback;
    if (!Number.isFinite(value) || value <= 0) {
      throw new ZeroLMError('E_NON_FINITE', `${where}.gain must be a finite positive number, got ${String(gain)}`, { field: `${where}.gain` });
    }
    return value;
  };
  let result: Distribution;
  switch (init?.scheme) {
    case 'normal':
      result = { distribution: 'normal', std: init.std };
      break;
    case 'uniform':
      result = { distribution: 'uniform', bound: init.bound };
      break;
    case 'xavier-normal':
      result = { distribution: 'normal', std: gainOf(init.gain, 1) * Math.sqrt(2 / (rows + cols)) };
      break;
    case 'xavier-uniform':
      result = { distribution: 'uniform', bound: gainOf(init.gain, 1) * Math.sqrt(6 / (rows + cols)) };
      break;
    case 'kaiming-normal': {
      const fan = init.mode === 'fan-out' ? rows : cols;
      result = { distribution: 'normal', std: gainOf(init.gain, Math.SQRT2) / Math.sqrt(fan) };
      break;
    }
    default:
      throw new ZeroLMError(
        'E_ARGUMENT',
        `${where}.scheme must be one of normal, uniform, xavier-normal, xavier-uniform, kaiming-normal; got ${JSON.stringify((init as { scheme?: unknown })?.scheme)}`,
        { field: `${where}.scheme` },
      );
  }
  const parameter = result.distribution === 'normal' ? result.std : result.bound;
  if (!Number.isFinite(parameter) || parameter <= 0) {
    const name = result.distribution === 'normal' ? 'std' : 'bound';
    throw new ZeroLMError('E_NON_FINITE', `${where}.${name} must be a finite positive number, got ${String(parameter)}`, { field: `${where}.${name}` });
  }
  return result;
}

/** Entry variance of a distribution: std^2 for normal, bound^2/3 for uniform(-bound, bound). */
export function varianceOf(distribution: Distribution): number {
  return distribution.distribution === 'normal' ? distribution.std ** 2 : distribution.bound ** 2 / 3;
}

/** A plain decimal number (no hexadecimal, no white space, no Infinity): what a person types for a size or scale. */
const DECIMAL = /^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parse an init given on a command line: "normal:0.02", "uniform:0.1", "xavier-normal", "kaiming-normal:fan-out". */
export function parseInit(text: string): InitScheme {
  if (typeof text !== 'string') throw new ZeroLMError('E_ARGUMENT', `init must be a string such as "normal:0.02", got ${typeof text}`, { field: 'init' });
  const [scheme, argument, ...rest] = text.split(':');
  if (rest.length > 0) {
    throw new ZeroLMError('E_ARGUMENT', `init "${text}": unexpected text after "${scheme}:${argument}" (one ":" at most, e.g. normal:0.02)`, { field: 'init' });
  }
  const number = (label: string): number => {
    const value = Number(argument);
    if (argument === undefined || !DECIMAL.test(argument) || !Number.isFinite(value) || value <= 0) {
      throw new ZeroLMError('E_ARGUMENT', `init "${text}": ${label} must be a finite positive number (e.g. ${scheme}:0.02)`, { field: 'init' });
    }
    return value;
  };
  switch (scheme) {
    case 'normal':
      return { scheme, std: number('std') };
    case 'uniform':
      return { scheme, bound: number('bound') };
    case 'xavier-normal':
    case 'xavier-uniform':
      return argument === undefined ? { scheme } : { scheme, gain: number('gain') };
    case 'kaiming-normal':
      if (argument === undefined) return { scheme };
      if (argument === 'fan-in' || argument === 'fan-out') return { scheme, mode: argument };
      return { scheme, gain: number('gain') };
    default:
      throw new ZeroLMError('E_ARGUMENT', `init "${text}": unknown scheme "${scheme}"; known: normal:STD, uniform:BOUND, xavier-normal, xavier-uniform, kaiming-normal`, { field: 'init' });
  }
}

export type SeedPolicy = 'shape' | 'position';
export const seedPolicies: readonly SeedPolicy[] = ['shape', 'position'];

/**
 * The random stream a matrix draws from.
 * 'shape' (common random numbers): a function of rows, cols and the distribution only, so two matrices of the same
 * shape and init are the same draw wherever they sit, and a cached capacity is exactly what recomputation gives.
 * 'position': also a function of the matrix name (which carries its layer), so every matrix is an independent draw.
 */
export function streamFor(spec: Pick<MatrixSpec, 'name' | 'rows' | 'cols'>, distribution: Distribution, policy: SeedPolicy): number {
  const parameter = distribution.distribution === 'normal' ? distribution.std : distribution.bound;
  const shapeKey = `${spec.rows}x${spec.cols}:${distribution.distribution}:${parameter}`;
  return hash32(policy === 'shape' ? shapeKey : `${shapeKey}@${spec.name}`);
}

/** FNV-1a over UTF-16 code units, finished with murmur3's avalanche so near-identical keys land far apart. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Seeds are uint32: they key Philox directly. */
export function validateSeed(seed: unknown, where = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ZeroLMError('E_ARGUMENT', `${where} must be an integer in [0, 4294967295], got ${JSON.stringify(seed)}`, { field: where });
  }
  return seed;
}
