/**
 * Streaming scorers. scoreMany, scoreBatches (here) and scoreJsonLines (parallel.ts) share one contract:
 * - Input: an iterable or async iterable (of architectures or InputRecords; of arrays of them; of JSONL bytes).
 *   Anything else is refused with E_ARGUMENT before any work.
 * - Output: exactly one record per input, in input order: N inputs give N records. A record is a Score, or a
 *   ScoreErrorRecord ({id?, source?, line?, index, error: {code, message, location}}) naming what was wrong and
 *   where; a bad input never stops the stream nor takes its neighbours down. scoreMany yields records one by one,
 *   scoreBatches one array per engine batch, scoreJsonLines the same records serialised as JSONL bytes.
 * - Memory is bounded: inputs are read and scored in batches of `batchSize`, never all at once.
 * - `signal` (an AbortSignal) is checked between batches; once aborted the stream throws E_ABORTED. Records already
 *   yielded stay valid.
 * - `onProgress({done, errors, total?})` (src/progress.ts) after each batch: inputs done so far, error records among
 *   them, and the number of inputs when known in advance (an array). A callback that throws ends the stream with
 *   E_ARGUMENT, its exception as cause.
 * - When the source itself throws, the records of the inputs it gave are yielded first, then the error is thrown
 *   (E_IO with the source's error as cause; a ZeroLMError of the source's own as it is).
 */
import type { InputRecord } from '../io/input';
import type { ModelPlan } from '../arch/types';
import { ZeroLMError, callerError, internalError, throwIfAborted } from '../errors';
import { checkOnProgress, reportProgress, type OnProgress } from '../progress';
import { calibrationMatch, componentsOfPlans, resolveScoreOptions, toPlan, withAlpha, type CalibrationMatch, type ResolvedScoreOptions, type Score, type ScoreOptions } from './score';

/** The record of an input that could not be scored; `index` is its position in the input (0-based). */
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
  /** Called after each batch: `{done, errors, total?}`, see the streaming contract above. */
  onProgress?: OnProgress;
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

function isIterable(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  const iterable = value as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
  return typeof iterable[Symbol.asyncIterator] === 'function' || typeof iterable[Symbol.iterator] === 'function';
}

/** Refuses (E_ARGUMENT) anything that is not an iterable or async iterable, a string included. */
export function checkIterable(value: unknown, name: string): void {
  let ok: boolean;
  try {
    ok = isIterable(value) && typeof value !== 'string';
  } catch (cause) {
    throw new ZeroLMError('E_ARGUMENT', `${name} could not be read: ${(cause as Error)?.message ?? String(cause)}`, { field: name }, { cause });
  }
  if (!ok) throw new ZeroLMError('E_ARGUMENT', `${name} must be an iterable or async iterable, got ${typeof value === 'string' ? 'a string' : String(value)}`, { field: name });
}

/** Scores a stream of architectures, one record per input in input order (see the streaming contract above). */
export async function* scoreMany(inputs: Iterable<ScoreInput> | AsyncIterable<ScoreInput>, options: ScoreManyOptions = {}): AsyncGenerator<ScoreRecord> {
  checkIterable(inputs, 'inputs');
  for await (const records of scoreCheckedBatches(singles(inputs), options, knownTotal(() => (inputs as readonly unknown[]).length, inputs))) yield* records;
}

async function* singles(inputs: Iterable<ScoreInput> | AsyncIterable<ScoreInput>): AsyncGenerator<readonly ScoreInput[]> {
  if (typeof (inputs as AsyncIterable<ScoreInput>)[Symbol.asyncIterator] === 'function') {
    for await (const input of inputs as AsyncIterable<ScoreInput>) yield [input];
  } else {
    // Not `for await`: it would await each input, running a `then` of its own (or a Proxy's trap) as a promise's.
    for (const input of inputs as Iterable<ScoreInput>) yield [input];
  }
}

/**
 * scoreMany for inputs that arrive in batches (readArchitectureBatches): yields the records of every engine batch
 * as one array, so streams of millions pay the async hand-over per batch, not per architecture.
 */
export async function* scoreBatches(batches: Iterable<readonly ScoreInput[]> | AsyncIterable<readonly ScoreInput[]>, options: ScoreManyOptions = {}): AsyncGenerator<ScoreRecord[]> {
  checkIterable(batches, 'batches');
  const arrays = batches as ReadonlyArray<readonly unknown[]>;
  yield* scoreCheckedBatches(batches, options, knownTotal(() => arrays.reduce((sum, batch) => (Array.isArray(batch) ? sum + batch.length : Number.NaN), 0), batches));
}

/** The number of inputs when the caller gave an array (progress's `total`); undefined when it cannot be known. */
function knownTotal(count: () => number, inputs: unknown): number | undefined {
  if (!Array.isArray(inputs)) return undefined;
  try {
    const total = count();
    return Number.isInteger(total) ? total : undefined;
  } catch {
    return undefined; // an array that throws when read is reported as an error record, input by input
  }
}

async function* scoreCheckedBatches(batches: Iterable<readonly ScoreInput[]> | AsyncIterable<readonly ScoreInput[]>, options: ScoreManyOptions, total: number | undefined): AsyncGenerator<ScoreRecord[]> {
  let resolved: ResolvedScoreOptions;
  let batchSize: number;
  let onProgress: ScoreManyOptions['onProgress'];
  try {
    resolved = resolveScoreOptions(options);
    batchSize = resolveBatchSize(options.batchSize);
    onProgress = options.onProgress;
  } catch (cause) {
    throw callerError(cause, [{ value: options, code: 'E_ARGUMENT', what: 'options' }]);
  }
  checkOnProgress(onProgress);
  yield* scoreResolvedBatches(batches, resolved, batchSize, onProgress, total);
}

/**
 * Architectures per batch by default. A batch's plans and records stay alive until it is written, so a larger batch
 * outlives the young generation and costs the garbage collector more: 1024 lts-gpt2 lines per batch took 20% more
 * CPU than 256 or 32 (analytic mode, 1e5 lines, one thread); 256 plans still give an engine call thousands of matrices.
 */
export const DEFAULT_BATCH_SIZE = 256;

export function resolveBatchSize(batchSize: number | undefined): number {
  const size = batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1) {
    throw new ZeroLMError('E_ARGUMENT', `batchSize must be a positive integer, got ${String(batchSize)}`, { field: 'batchSize' });
  }
  return size;
}

/** The batches of a source, with what the source threw (if it did) kept aside instead of thrown. */
class GuardedSource {
  failure: { cause: unknown } | undefined;
  constructor(private readonly batches: Iterable<readonly ScoreInput[]> | AsyncIterable<readonly ScoreInput[]>) {}
  async *[Symbol.asyncIterator](): AsyncGenerator<readonly ScoreInput[]> {
    try {
      yield* this.batches as AsyncIterable<readonly ScoreInput[]>;
    } catch (cause) {
      this.failure = { cause };
    }
  }
}

/** Lets timers, I/O and an AbortSignal's listeners run between batches, even when every capacity is cached. */
const yieldToEventLoop = (): Promise<void> => new Promise((resume) => setImmediate(resume));

/**
 * scoreBatches with options resolved once by the caller (who may score many streams with them). When the source
 * throws, the inputs read before are scored and yielded first; then the error is thrown (E_IO, the source's error as
 * its cause; a ZeroLMError of the source's own as it is).
 */
export async function* scoreResolvedBatches(
  batches: Iterable<readonly ScoreInput[]> | AsyncIterable<readonly ScoreInput[]>,
  resolved: ResolvedScoreOptions,
  batchSize: number,
  onProgress?: OnProgress,
  total?: number,
): AsyncGenerator<ScoreRecord[]> {
  let position = 0;
  let done = 0;
  let errors = 0;
  const progressOf = (records: readonly ScoreRecord[]): { done: number; errors: number; total?: number } => {
    for (let i = 0; i < records.length; i++) if (isScoreError(records[i])) errors++;
    return total === undefined ? { done, errors } : { done, errors, total };
  };
  let batch: PendingInput[] = [];
  const source = new GuardedSource(batches);
  for await (const inputs of source) {
    throwIfAborted(resolved.signal);
    if (!Array.isArray(inputs)) throw new ZeroLMError('E_ARGUMENT', `each batch must be an array of inputs, got ${typeof inputs}`, { field: 'batches', index: position });
    for (let i = 0; i < inputs.length; i++) {
      batch.push(plan(inputs[i], position++, resolved));
      if (batch.length >= batchSize) {
        const records = await scorePending(batch, resolved);
        done += batch.length;
        batch = [];
        if (onProgress !== undefined) reportProgress(onProgress, progressOf(records));
        yield records;
        await yieldToEventLoop();
        throwIfAborted(resolved.signal);
      }
    }
  }
  if (batch.length > 0) {
    const records = await scorePending(batch, resolved);
    done += batch.length;
    if (onProgress !== undefined) reportProgress(onProgress, progressOf(records));
    yield records;
  }
  if (source.failure !== undefined) {
    const { cause } = source.failure;
    if (cause instanceof ZeroLMError) throw cause;
    throw new ZeroLMError('E_IO', `the inputs stopped after ${position} with an error: ${(cause as Error)?.message ?? String(cause)}`, { index: position }, { cause });
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
  let id: string | undefined;
  let source: string | undefined;
  let line: number | undefined;
  let index = position;
  try {
    const record = isInputRecord(input) ? input : undefined;
    const value = record ? record.value : input;
    id = idOf(value);
    source = record?.source;
    line = record?.line;
    index = record?.index ?? position;
    if (record?.error) return new PendingInput(id, source, line, index, undefined, record.error);
    return new PendingInput(id, source, line, index, toPlan(value, resolved, id), undefined);
  } catch (cause) {
    // An input that throws when read (getters, Proxies) is that input's error; anything else is a bug of ours.
    return new PendingInput(id, source, line, index, undefined, callerError(cause, [{ value: input, code: 'E_FORMAT', what: 'the architecture' }]));
  }
}

/** Scores of the batch's plans, in order, or the error of each plan when scoring them together failed. */
async function outcomesOf(plans: ModelPlan[], resolved: ResolvedScoreOptions): Promise<Array<Score | ZeroLMError>> {
  try {
    const components = await componentsOfPlans(plans, resolved);
    const scores = new Array<Score | ZeroLMError>(components.length);
    for (let i = 0; i < components.length; i++) scores[i] = finiteOrError(components[i], resolved);
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
      outcomes.push(finiteOrError(single, resolved));
    } catch (inner) {
      if (inner instanceof ZeroLMError && inner.code === 'E_ABORTED') throw inner;
      outcomes.push(internalError(inner));
    }
  }
  return outcomes;
}

function finiteOrError(components: Parameters<typeof withAlpha>[0], resolved: ResolvedScoreOptions): Score | ZeroLMError {
  try {
    return withAlpha(components, resolved);
  } catch (cause) {
    return internalError(cause);
  }
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
