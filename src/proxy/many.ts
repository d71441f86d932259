/**
 * Streaming scorer: an async generator over any (async) iterable of architectures. Works in fixed-size batches so
 * memory stays bounded on streams of millions, and yields exactly one record per input, in input order: a Score,
 * or an error record naming what was wrong and where.
 */
import type { InputRecord } from '../arch/input';
import type { ModelPlan } from '../arch/types';
import { ZeroLMError, throwIfAborted } from '../errors';
import { calibrationMatch, componentsOfPlans, resolveScoreOptions, toPlan, withAlpha, type CalibrationMatch, type ResolvedScoreOptions, type Score, type ScoreOptions } from './score';

export interface ScoreErrorRecord {
  id?: string;
  source?: string;
  line?: number;
  index: number;
  error: ReturnType<ZeroLMError['toJSON']>;
}

export type ScoreRecord = (Score & { source?: string; line?: number; calibration?: CalibrationMatch }) | ScoreErrorRecord;

export function isScoreError(record: ScoreRecord): record is ScoreErrorRecord {
  return (record as ScoreErrorRecord).error !== undefined;
}

export interface ScoreManyOptions extends ScoreOptions {
  /** Architectures per engine call; larger batches share more matrices, smaller ones bound memory. */
  batchSize?: number;
  /** Called after each batch with the number of inputs handled so far. */
  onProgress?: (done: number) => void;
}

/** Inputs are raw architectures, or InputRecords from readArchitectures (which carry source, line and parse errors). */
export type ScoreInput = unknown;

function isInputRecord(value: unknown): value is InputRecord {
  const v = value as InputRecord;
  return typeof v === 'object' && v !== null && typeof v.source === 'string' && typeof v.index === 'number' && ('value' in v || v.error instanceof ZeroLMError);
}

function idOf(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

function asZeroLMError(cause: unknown): ZeroLMError {
  if (cause instanceof ZeroLMError) return cause;
  return new ZeroLMError('E_FORMAT', (cause as Error)?.message ?? String(cause));
}

export async function* scoreMany(inputs: Iterable<ScoreInput> | AsyncIterable<ScoreInput>, options: ScoreManyOptions = {}): AsyncGenerator<ScoreRecord> {
  for await (const records of scoreBatches(singles(inputs), options)) yield* records;
}

async function* singles(inputs: Iterable<ScoreInput> | AsyncIterable<ScoreInput>): AsyncGenerator<readonly ScoreInput[]> {
  for await (const input of inputs as AsyncIterable<ScoreInput>) yield [input];
}

/**
 * scoreMany for inputs that arrive in batches (readArchitectureBatches): yields the records of every engine batch
 * as one array, so streams of millions pay the async hand-over per batch, not per architecture.
 */
export async function* scoreBatches(batches: Iterable<readonly ScoreInput[]> | AsyncIterable<readonly ScoreInput[]>, options: ScoreManyOptions = {}): AsyncGenerator<ScoreRecord[]> {
  const resolved = resolveScoreOptions(options);
  yield* scoreResolvedBatches(batches, resolved, resolveBatchSize(options.batchSize), options.onProgress);
}

export const DEFAULT_BATCH_SIZE = 1024;

export function resolveBatchSize(batchSize: number | undefined): number {
  const size = batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1) {
    throw new ZeroLMError('E_ARGUMENT', `batchSize must be a positive integer, got ${String(batchSize)}`, { field: 'batchSize' });
  }
  return size;
}

/** scoreBatches with options resolved once by the caller (who may score many streams with them). */
export async function* scoreResolvedBatches(batches: Iterable<readonly ScoreInput[]> | AsyncIterable<readonly ScoreInput[]>, resolved: ResolvedScoreOptions, batchSize: number, onProgress?: (done: number) => void): AsyncGenerator<ScoreRecord[]> {
  let position = 0;
  let done = 0;
  let batch: PendingInput[] = [];
  for await (const inputs of batches as AsyncIterable<readonly ScoreInput[]>) {
    throwIfAborted(resolved.signal);
    for (let i = 0; i < inputs.length; i++) {
      batch.push(plan(inputs[i], position++, resolved));
      if (batch.length >= batchSize) {
        const records = await scorePending(batch, resolved);
        done += batch.length;
        batch = [];
        onProgress?.(done);
        yield records;
        throwIfAborted(resolved.signal);
      }
    }
  }
  if (batch.length > 0) {
    const records = await scorePending(batch, resolved);
    onProgress?.(done + batch.length);
    yield records;
  }
}

/** One input on its way through a batch: where it came from, and its plan or what went wrong. */
class PendingInput {
  constructor(
    readonly id: string | undefined,
    readonly source: string | undefined,
    readonly line: number | undefined,
    readonly index: number,
    readonly plan: ModelPlan | undefined,
    readonly error: ZeroLMError | undefined,
  ) {}
}

function plan(input: ScoreInput, position: number, resolved: ResolvedScoreOptions): PendingInput {
  const record = isInputRecord(input) ? input : undefined;
  const value = record ? record.value : input;
  const id = idOf(value);
  const source = record?.source;
  const line = record?.line;
  const index = record?.index ?? position;
  if (record?.error) return new PendingInput(id, source, line, index, undefined, record.error);
  try {
    return new PendingInput(id, source, line, index, toPlan(value, resolved, id), undefined);
  } catch (cause) {
    return new PendingInput(id, source, line, index, undefined, asZeroLMError(cause));
  }
}

/** Scores of the batch's plans, in order, or the error of each plan when scoring them together failed. */
async function outcomesOf(plans: ModelPlan[], resolved: ResolvedScoreOptions): Promise<Array<Score | ZeroLMError>> {
  try {
    const components = await componentsOfPlans(plans, resolved);
    const scores = new Array<Score>(components.length);
    for (let i = 0; i < components.length; i++) scores[i] = withAlpha(components[i], resolved);
    return scores;
  } catch (cause) {
    if (cause instanceof ZeroLMError && cause.code === 'E_ABORTED') throw cause;
  }
  // A batch-wide failure (say, one plan over the memory limit) is retried plan by plan, so one bad input never takes
  // its neighbours down with it.
  const outcomes: Array<Score | ZeroLMError> = [];
  for (const plan of plans) {
    try {
      const [single] = await componentsOfPlans([plan], resolved);
      outcomes.push(withAlpha(single, resolved));
    } catch (inner) {
      if (inner instanceof ZeroLMError && inner.code === 'E_ABORTED') throw inner;
      outcomes.push(asZeroLMError(inner));
    }
  }
  return outcomes;
}

async function scorePending(batch: readonly PendingInput[], resolved: ResolvedScoreOptions): Promise<ScoreRecord[]> {
  const plans: ModelPlan[] = [];
  for (let i = 0; i < batch.length; i++) if (batch[i].plan !== undefined) plans.push(batch[i].plan as ModelPlan);
  const outcomes = await outcomesOf(plans, resolved);
  const records = new Array<ScoreRecord>(batch.length);
  let planned = 0;
  for (let i = 0; i < batch.length; i++) {
    const item = batch[i];
    const outcome = item.plan !== undefined ? outcomes[planned++] : (item.error as ZeroLMError);
    const { id, source, line } = item;
    if (outcome instanceof ZeroLMError) {
      const record = {} as ScoreErrorRecord;
      if (id !== undefined) record.id = id;
      if (source !== undefined) record.source = source;
      if (line !== undefined) record.line = line;
      record.index = item.index;
      record.error = outcome.toJSON();
      records[i] = record;
    } else {
      const record = outcome as Score & { source?: string; line?: number; calibration?: CalibrationMatch };
      if (source !== undefined) record.source = source;
      if (line !== undefined) record.line = line;
      if (resolved.calibration) record.calibration = calibrationMatch(item.plan as ModelPlan, resolved.calibration);
      records[i] = record;
    }
  }
  return records;
}
