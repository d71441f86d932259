/**
 * Search over a finite pool of architectures (a benchmark's, or a file of candidates) instead of a space: every
 * input is scored by the ordinary scorer, those within the budgets are ranked by score, best first. Inputs that
 * cannot be scored are returned as error records, never dropped.
 */
import { buildPlan } from '../arch';
import { layerForwardFlops } from '../arch/flops';
import type { ModelPlan } from '../arch/types';
import { ZeroLMError } from '../errors';
import { isScoreError, scoreMany, type ScoreErrorRecord, type ScoreManyOptions } from '../proxy/many';
import type { Score } from '../proxy/score';
import { checkBudgets, kvCacheBytes, slackOf, violation, type Budgets, type Hardware } from './budget';

export interface PoolInput {
  id?: string;
  architecture: unknown;
}

export interface PoolPick {
  rank: number;
  score: Score;
  params: number;
  nonEmbeddingParams: number;
  flops: number;
  kvBytes?: number;
  slack: Record<string, number>;
  architecture: unknown;
}

export interface PoolResult {
  picks: PoolPick[];
  /** How many inputs were scored, and how many of them met the budgets. */
  scored: number;
  feasible: number;
  errors: ScoreErrorRecord[];
  /** The smallest costs among the scored inputs (each alone): what an infeasible budget can be told. */
  smallest: { params: number; nonEmbeddingParams: number; flops: number };
}

export interface PoolOptions extends ScoreManyOptions {
  budgets?: Budgets;
  /** How many picks to return (default 10). */
  top?: number;
  /** Sequence length of the FLOPs and KV-cache bytes (default 1024). */
  sequenceLength?: number;
  bytesPerValue?: number;
  /** For a latency budget: peak TFLOP/s and memory bandwidth in GB/s (roofline, see budget.ts). */
  peakTflops?: number;
  bandwidthGBs?: number;
}

function flopsOf(plan: ModelPlan, sequenceLength: number): number {
  let flops = 0;
  for (const layer of plan.layers) flops += layerForwardFlops(layer, sequenceLength);
  return flops;
}

export async function searchPool(inputs: Iterable<PoolInput> | AsyncIterable<PoolInput>, options: PoolOptions = {}): Promise<PoolResult> {
  const budgets = checkBudgets(options.budgets ?? {});
  const top = options.top ?? 10;
  if (!Number.isSafeInteger(top) || top < 1) throw new ZeroLMError('E_ARGUMENT', `top must be a positive integer, got ${String(options.top)}`, { field: 'top' });
  const sequenceLength = options.sequenceLength ?? 1024;
  const bytesPerValue = options.bytesPerValue ?? 2;
  const hardware: Hardware = { sequenceLength, bytesPerValue, peakTflops: options.peakTflops, bandwidthGBs: options.bandwidthGBs };
  if (budgets.maxLatencyMs !== undefined && (hardware.peakTflops === undefined || hardware.bandwidthGBs === undefined)) {
    throw new ZeroLMError('E_ARGUMENT', 'a latency budget needs peakTflops and bandwidthGBs (--peak-tflops, --bandwidth-gbs)', { field: 'maxLatencyMs' });
  }
  // Inputs read but not yet scored: scoreMany yields in input order, so this queue holds at most a batch.
  const pending: PoolInput[] = [];
  async function* architectures(): AsyncGenerator<unknown> {
    for await (const input of inputs as AsyncIterable<PoolInput>) {
      pending.push(input);
      const value = input.architecture;
      yield input.id !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(value as object), id: input.id } : value;
    }
  }
  const feasible: Array<Omit<PoolPick, 'rank'>> = [];
  const errors: ScoreErrorRecord[] = [];
  let scored = 0;
  const smallest = { params: Infinity, nonEmbeddingParams: Infinity, flops: Infinity };
  for await (const record of scoreMany(architectures(), options)) {
    const input = pending.shift() as PoolInput;
    if (isScoreError(record)) {
      errors.push(record);
      continue;
    }
    scored++;
    const plan = buildPlan(input.architecture, { family: record.family, build: record.build as never });
    const flops = flopsOf(plan, sequenceLength);
    const decoder = record.family !== 'nas-bench-bert';
    const kvBytes = decoder ? kvCacheBytes(plan, sequenceLength, bytesPerValue) : 0;
    smallest.params = Math.min(smallest.params, record.params);
    smallest.nonEmbeddingParams = Math.min(smallest.nonEmbeddingParams, record.nonEmbeddingParams);
    smallest.flops = Math.min(smallest.flops, flops);
    if (violation(budgets, record.params, record.nonEmbeddingParams, flops, kvBytes, hardware) > 0) continue;
    feasible.push({
      score: record as Score,
      params: record.params,
      nonEmbeddingParams: record.nonEmbeddingParams,
      flops,
      ...(decoder ? { kvBytes } : {}),
      slack: slackOf(budgets, record.params, record.nonEmbeddingParams, flops, kvBytes, hardware),
      architecture: input.architecture,
    });
  }
  // Best score first; equal scores keep the pool's order (stable sort).
  feasible.sort((a, b) => b.score.score - a.score.score);
  return { picks: feasible.slice(0, top).map((pick, i) => ({ rank: i + 1, ...pick })), scored, feasible: feasible.length, errors, smallest };
}
