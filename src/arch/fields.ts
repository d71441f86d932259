/**
 * Reading and validating architecture fields. Every failure is a ZeroLMError whose message and location name the
 * field by its path in the input (e.g. `nas_config.encoder_layers[2].num_operation_heads`). A field the user gave
 * with the wrong type is always an error, never silently replaced by a default.
 */
import { ZeroLMError, type ErrorCode } from '../errors';
import { BuildMemo } from './memo';
import type { InitScheme } from './types';

/** Largest size accepted for any one dimension (rows, columns, vocabulary, layer count, ...): 2^20. */
export const MAX_DIMENSION = 1 << 20;

/**
 * Most layers one input may have: every layer costs its matrices' specs, their scoring and a record in the output,
 * so a short input asking for a million layers is refused before anything is built (a 170-byte config once took
 * 3.3 GB). Real models have at most a few hundred.
 */
export const MAX_LAYERS = 1 << 14;

/** Refuses a layer count over MAX_LAYERS (E_MEMORY_LIMIT naming the field); call before building the layers. */
export function checkLayerCount(count: number, path: string): number {
  if (count > MAX_LAYERS) {
    throw fieldError('E_MEMORY_LIMIT', path, `${count} layers exceed the per-input limit of ${MAX_LAYERS} (each layer's matrices are built, scored and reported)`);
  }
  return count;
}

/**
 * Most weight matrices one input may have (per-head slices and experts each counted): past it the specs, keys,
 * capacities and sums of a single input would take hundreds of megabytes. The largest published models have a few
 * tens of thousands (126 layers of 275 head slices, per head; 61 layers of 256 experts of 3 matrices).
 */
export const MAX_MATRICES_PER_INPUT = 1 << 20;

/** Refuses, before building them, more than MAX_MATRICES_PER_INPUT matrices (E_MEMORY_LIMIT naming the field). */
export function checkMatrixCount(count: number, path: string, what: string): void {
  if (count > MAX_MATRICES_PER_INPUT) {
    throw fieldError('E_MEMORY_LIMIT', path, `${what} give ${count} matrices, above the per-input limit of ${MAX_MATRICES_PER_INPUT}`);
  }
}

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether `value` is a valid dimension (a positive integer no larger than MAX_DIMENSION): the builders' fast check,
 * which calls the reporting readers only when it fails, so field paths are formatted only for errors.
 */
export function isDimension(value: unknown): value is number {
  return typeof value === 'number' && value > 0 && value <= MAX_DIMENSION && Number.isInteger(value);
}

/** Joins a parent path and a key: ('a.b', 'c') -> 'a.b.c'; ('', 'c') -> 'c'. */
export function fieldPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** A short, readable rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)} (a string)`;
  if (typeof value === 'number') return String(value);
  return `${String(value)} (a ${typeof value})`;
}

export function fieldError(code: ErrorCode, path: string, message: string): ZeroLMError {
  return new ZeroLMError(code, path === '' ? message : `${path}: ${message}`, path === '' ? undefined : { field: path });
}

function missing(path: string): ZeroLMError {
  return fieldError('E_FORMAT', path, 'missing required field');
}

export function requireRecord(value: unknown, path: string): JsonRecord {
  if (!isRecord(value)) throw fieldError('E_FORMAT', path, `expected an object, got ${describeValue(value)}`);
  return value;
}

/** Validates a positive integer no larger than `max`. */
export function checkPositiveInteger(value: unknown, path: string, max = MAX_DIMENSION): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw fieldError('E_FORMAT', path, `must be a positive integer, got ${describeValue(value)}`);
  }
  if (value > max) throw fieldError('E_FORMAT', path, `${value} exceeds the limit of ${max}`);
  return value;
}

export function readPositiveInteger(record: JsonRecord, key: string, parent: string, max = MAX_DIMENSION): number {
  const path = fieldPath(parent, key);
  if (record[key] === undefined) throw missing(path);
  return checkPositiveInteger(record[key], path, max);
}

/** Absent or null gives `fallback`; any other non-positive-integer value is an error. */
export function readOptionalPositiveInteger<T>(record: JsonRecord, key: string, parent: string, fallback: T, max = MAX_DIMENSION): number | T {
  const value = record[key];
  if (value === undefined || value === null) return fallback;
  return checkPositiveInteger(value, fieldPath(parent, key), max);
}

export function readOptionalBoolean(record: JsonRecord, key: string, parent: string, fallback: boolean): boolean {
  const value = record[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw fieldError('E_FORMAT', fieldPath(parent, key), `must be true or false, got ${describeValue(value)}`);
  return value;
}

export function readString(record: JsonRecord, key: string, parent: string): string {
  const path = fieldPath(parent, key);
  const value = record[key];
  if (value === undefined) throw missing(path);
  if (typeof value !== 'string') throw fieldError('E_FORMAT', path, `must be a string, got ${describeValue(value)}`);
  return value;
}

export function readOptionalFiniteNumber(record: JsonRecord, key: string, parent: string, fallback: number, positive = true): number {
  const value = record[key];
  if (value === undefined || value === null) return fallback;
  const path = fieldPath(parent, key);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw fieldError('E_FORMAT', path, `must be a finite number, got ${describeValue(value)}`);
  if (positive && value <= 0) throw fieldError('E_FORMAT', path, `must be positive, got ${value}`);
  return value;
}

/**
 * A per-layer size: one positive integer for every layer, or a list with exactly one entry per layer.
 * Returns an array of length `layerCount`.
 */
export function checkPerLayer(value: unknown, path: string, layerCount: number): number[] {
  if (Array.isArray(value)) {
    if (value.length !== layerCount) {
      throw fieldError('E_FORMAT', path, `has ${value.length} entries but the model has ${layerCount} layers`);
    }
    return value.map((entry, i) => checkPositiveInteger(entry, indexPath(path, i)));
  }
  if (typeof value === 'number') return new Array<number>(layerCount).fill(checkPositiveInteger(value, path));
  throw fieldError('E_FORMAT', path, `must be a positive integer or a list of one per layer, got ${describeValue(value)}`);
}

export function readPerLayer(record: JsonRecord, key: string, parent: string, layerCount: number): number[] {
  const path = fieldPath(parent, key);
  if (record[key] === undefined) throw missing(path);
  return checkPerLayer(record[key], path, layerCount);
}

export function readOptionalPerLayer(record: JsonRecord, key: string, parent: string, layerCount: number): number[] | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  return checkPerLayer(value, fieldPath(parent, key), layerCount);
}

const INIT_SCHEMES = ['normal', 'uniform', 'xavier-normal', 'xavier-uniform', 'kaiming-normal'] as const;

/**
 * Validates an init scheme given in an input file (code E_FORMAT) or as a function option (code E_ARGUMENT).
 * Returns a clean copy holding only the scheme's own fields.
 */
export function checkInit(value: unknown, path: string, code: 'E_FORMAT' | 'E_ARGUMENT' = 'E_FORMAT'): InitScheme {
  if (!isRecord(value)) throw fieldError(code, path, `must be an init scheme object like {"scheme":"normal","std":0.02}, got ${describeValue(value)}`);
  const scheme = value.scheme;
  if (typeof scheme !== 'string' || !(INIT_SCHEMES as readonly string[]).includes(scheme)) {
    throw fieldError(code, fieldPath(path, 'scheme'), `must be one of ${INIT_SCHEMES.join(', ')}, got ${describeValue(scheme)}`);
  }
  const positive = (key: string, required: boolean): number | undefined => {
    const v = value[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw fieldError(code, fieldPath(path, key), `must be a finite positive number, got ${describeValue(v)}`);
    }
    return v;
  };
  switch (scheme as (typeof INIT_SCHEMES)[number]) {
    case 'normal':
      return { scheme: 'normal', std: positive('std', true) as number };
    case 'uniform':
      return { scheme: 'uniform', bound: positive('bound', true) as number };
    case 'xavier-normal':
    case 'xavier-uniform': {
      const gain = positive('gain', false);
      return gain === undefined ? { scheme: scheme as 'xavier-normal' | 'xavier-uniform' } : { scheme: scheme as 'xavier-normal' | 'xavier-uniform', gain };
    }
    case 'kaiming-normal': {
      const gain = positive('gain', false);
      const mode = value.mode;
      if (mode !== undefined && mode !== 'fan-in' && mode !== 'fan-out') {
        throw fieldError(code, fieldPath(path, 'mode'), `must be "fan-in" or "fan-out", got ${describeValue(mode)}`);
      }
      return {
        scheme: 'kaiming-normal',
        ...(gain === undefined ? {} : { gain }),
        ...(mode === undefined ? {} : { mode: mode as 'fan-in' | 'fan-out' }),
      };
    }
  }
}

/** Options every family's build function takes (BuildOptions plus an id that overrides the input's own). */
export interface FamilyBuildOptions {
  build?: string;
  init?: InitScheme;
  id?: string;
  /** Refuse (E_UNSUPPORTED) a config whose architecture-changing keys the builder would ignore, instead of warning. */
  strictConfig?: boolean;
  /** Shares layers with the other plans built with this memo (see BuildMemo); without one, nothing is shared. */
  memo?: BuildMemo;
}

export interface ResolvedBuildOptions {
  build: string;
  /** Validated replacement for the family's default init of scored matrices, when given. */
  init?: InitScheme;
  id?: string;
  strictConfig: boolean;
  /** The caller's memo, when given. */
  memo?: BuildMemo;
}

/** Validates the options a caller passed: a known build name, a valid init scheme, a string id. */
export function resolveBuildOptions(options: FamilyBuildOptions | undefined, family: string, builds: readonly string[], defaultBuild: string): ResolvedBuildOptions {
  if (options !== undefined && !isRecord(options)) {
    throw new ZeroLMError('E_ARGUMENT', `options must be an object, got ${describeValue(options)}`, { field: 'options' });
  }
  const build = options?.build ?? defaultBuild;
  if (typeof build !== 'string') throw fieldError('E_ARGUMENT', 'build', `must be a string, got ${describeValue(build)}`);
  if (!builds.includes(build)) {
    throw fieldError('E_UNSUPPORTED', 'build', `family ${family} has no build ${JSON.stringify(build)}; its builds are ${builds.join(', ')}`);
  }
  const strictConfig = options?.strictConfig ?? false;
  if (typeof strictConfig !== 'boolean') throw fieldError('E_ARGUMENT', 'strictConfig', `must be true or false, got ${describeValue(strictConfig)}`);
  const memo = options?.memo;
  if (memo !== undefined && !(memo instanceof BuildMemo)) throw fieldError('E_ARGUMENT', 'memo', `must be a BuildMemo, got ${describeValue(memo)}`);
  const resolved: ResolvedBuildOptions = memo === undefined ? { build, strictConfig } : { build, strictConfig, memo };
  if (options?.init !== undefined) resolved.init = checkInit(options.init, 'init', 'E_ARGUMENT');
  if (options?.id !== undefined) {
    if (typeof options.id !== 'string') throw fieldError('E_ARGUMENT', 'id', `must be a string, got ${describeValue(options.id)}`);
    resolved.id = options.id;
  }
  return resolved;
}

export function readRecord(record: JsonRecord, key: string, parent: string): JsonRecord {
  const path = fieldPath(parent, key);
  if (record[key] === undefined) throw missing(path);
  return requireRecord(record[key], path);
}

export function readArray(record: JsonRecord, key: string, parent: string): unknown[] {
  const path = fieldPath(parent, key);
  const value = record[key];
  if (value === undefined) throw missing(path);
  if (!Array.isArray(value)) throw fieldError('E_FORMAT', path, `must be a list, got ${describeValue(value)}`);
  return value;
}
