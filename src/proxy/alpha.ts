/** The ZeroLM combination of the two sub-module capacities. */
import { ZeroLMError } from '../errors';

export function combine(attention: number, ffn: number, alpha: number): number {
  return alpha * attention + (1 - alpha) * ffn;
}

export function validateAlpha(alpha: unknown, where = 'alpha'): number {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
    throw new ZeroLMError('E_NON_FINITE', `${where} must be a finite number, got ${String(alpha)}`, { field: where });
  }
  return alpha;
}
