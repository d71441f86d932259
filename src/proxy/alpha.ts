/**
 * How the two sub-module capacities become one score.
 * - 'geometric' (the default): the weighted geometric mean S_attn^alpha * S_ffn^(1 - alpha); with the default
 *   alpha 0.5 it is sqrt(S_attn * S_ffn), which has no constant to tune: a model is as strong as the product of its
 *   token-mixing and its feed-forward capacity, and a model with an empty sub-module scores 0. Chosen by leaving each
 *   shipped benchmark out in turn (README, "The default score").
 * - 'weighted-sum': ZeroLM's alpha * S_attn + (1 - alpha) * S_ffn, what `--alpha` and calibrations select.
 */
import { ZeroLMError } from '../errors';

export type CombinationRule = 'geometric' | 'weighted-sum';
export const combinationRules: readonly CombinationRule[] = ['geometric', 'weighted-sum'];

export function combine(attention: number, ffn: number, alpha: number, rule: CombinationRule): number {
  if (rule === 'geometric') return Math.pow(attention, alpha) * Math.pow(ffn, 1 - alpha);
  return alpha * attention + (1 - alpha) * ffn;
}

export function validateAlpha(alpha: unknown, where = 'alpha'): number {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
    throw new ZeroLMError('E_NON_FINITE', `${where} must be a finite number, got ${String(alpha)}`, { field: where });
  }
  return alpha;
}

export function validateRule(rule: unknown, where = 'rule'): CombinationRule {
  if (!combinationRules.includes(rule as CombinationRule)) {
    throw new ZeroLMError('E_ARGUMENT', `${where} must be one of ${combinationRules.join(', ')}, got ${JSON.stringify(rule)}`, { field: where });
  }
  return rule as CombinationRule;
}
