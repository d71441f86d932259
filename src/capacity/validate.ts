/** Argument checks shared by the capacity measures and the analytic expectations. */
import { ZeroLMError } from '../errors';

/** A matrix dimension: a positive safe integer. Non-numbers are E_ARGUMENT, NaN/Infinity E_NON_FINITE, the rest E_SHAPE. */
export function checkDimension(value: unknown, field: string): number {
  if (typeof value !== 'number') throw new ZeroLMError('E_ARGUMENT', `${field} must be a number, got ${describe(value)}`, { field });
  if (!Number.isFinite(value)) throw new ZeroLMError('E_NON_FINITE', `${field} must be finite, got ${value}`, { field });
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ZeroLMError('E_SHAPE', `${field} must be a positive integer, got ${value}`, { field });
  }
  return value;
}

/** rows and cols together; their product must also be a safe integer (it is the parameter count). */
export function checkShape(rows: unknown, cols: unknown, prefix = ''): { rows: number; cols: number } {
  const r = checkDimension(rows, `${prefix}rows`);
  const c = checkDimension(cols, `${prefix}cols`);
  if (!Number.isSafeInteger(r * c)) throw new ZeroLMError('E_SHAPE', `${prefix}rows x ${prefix}cols = ${r} x ${c} is too large`, { field: `${prefix}rows` });
  return { rows: r, cols: c };
}

/** Entry variance of an i.i.d. initialisation: finite and > 0. */
export function checkVariance(value: unknown, field = 'variance'): number {
  if (typeof value !== 'number') throw new ZeroLMError('E_ARGUMENT', `${field} must be a number, got ${describe(value)}`, { field });
  if (!Number.isFinite(value)) throw new ZeroLMError('E_NON_FINITE', `${field} must be finite, got ${value}`, { field });
  if (!(value > 0)) throw new ZeroLMError('E_ARGUMENT', `${field} must be > 0, got ${value}`, { field });
  return value;
}

/** A statistic that is a finite number >= 0 (a sum of squares, a norm, a log-determinant). */
export function checkNonNegative(value: unknown, field: string): number {
  if (typeof value !== 'number') throw new ZeroLMError('E_ARGUMENT', `${field} must be a number, got ${describe(value)}`, { field });
  if (!Number.isFinite(value)) throw new ZeroLMError('E_NON_FINITE', `${field} must be finite, got ${value}`, { field });
  if (value < 0) throw new ZeroLMError('E_ARGUMENT', `${field} must be >= 0, got ${value}`, { field });
  return value;
}

/** A fraction in (0, 1]. */
export function checkFraction(value: unknown, field: string): number {
  if (typeof value !== 'number') throw new ZeroLMError('E_ARGUMENT', `${field} must be a number, got ${describe(value)}`, { field });
  if (!Number.isFinite(value)) throw new ZeroLMError('E_NON_FINITE', `${field} must be finite, got ${value}`, { field });
  if (!(value > 0 && value <= 1)) throw new ZeroLMError('E_ARGUMENT', `${field} must satisfy 0 < ${field} <= 1, got ${value}`, { field });
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return typeof value;
}
