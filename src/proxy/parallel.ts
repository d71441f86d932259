/**
 * Scoring of JSONL byte streams on worker threads: what `zerolm score` runs on a JSONL input. This thread only cuts
 * the stream into units of whole lines (counting lines and inputs, so every record keeps its line and index) and
 * writes the results; each worker parses, plans, scores and serialises whole units and hands back their JSONL
 * bytes. Results come back in input order, and are byte for byte what scoring the same records on one thread
 * gives, error records included: a capacity depends only on its cache key, never on which thread computed it.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { availableCores } from '../native';
import { JsonLineCutter, recordsOfLineUnit, type InputRecord, type LineUnit, type LineUnitItem } from '../io/input';
import { NEWLINE } from '../ascii';
import { ZeroLMError, callerError, throwIfAborted } from '../errors';
import { checkOnProgress, reportProgress } from '../progress';
import { checkIterable, isScoreError, resolveBatchSize, scoreResolvedBatches, type ScoreErrorRecord, type ScoreManyOptions } from './many';
import { resolveScoreOptions, type ResolvedScoreOptions, type ScoreOptions } from './score';
import { ScoreSerializer } from './serialize';

/** Scored records of one stretch of the input, as the JSONL `zerolm score` writes. */
export interface EncodedScores {
  /** One line per record, each ending in a newline: exactly ScoreSerializer's lines. */
  jsonl: Buffer;
  /** The error records among them, in order, for reporting. */
  errors: ScoreErrorRecord[];
  /** Records in `jsonl`. */
  count: number;
  /** The distinct warnings of the scored records (see Score.warnings), when there are any. */
  warnings?: string[];
}

export interface ScoreJsonLinesOptions extends ScoreManyOptions {
  /**
   * Worker threads that score units of the input; 0 scores everything on the calling thread. Default:
   * defaultScoreWorkers(). Workers start only on a long input (see sizeHint); the default ones of a stream of unknown
   * length (a pipe) only when they pay (see pipeWorkersPay).
   */
  workers?: number;
  /** Longest line accepted (as in readArchitectures). */
  maxLineBytes?: number;
  /** Input bytes per unit of work (default 256 KiB). */
  unitBytes?: number;
  /**
   * The input's length in bytes, when known (a file's size). An input of 64 MiB or more starts its workers at once;
   * otherwise they start once this thread has spent a second scoring it.
   */
  sizeHint?: number;
}

/**
 * Workers for a stream when none are asked for: one per core, up to four; none on a single core. On a stream of
 * unknown length (no sizeHint: a pipe, whose producer needs a core too) they are only allowed: they start when this
 * thread proves to be the bottleneck on lines that cost enough (see scoreJsonLines).
 */
export function defaultScoreWorkers(_sizeHint?: number): number {
  // (The input's length decides when the workers start, not how many there are.)
  const cores = availableCores();
  return cores < 2 ? 0 : Math.min(cores, 4);
}

/**
 * Scoring time spent on the calling thread before workers are started. A worker starts cold (its JIT warms up on
 * its first few hundred thousand lines), which costs more than it saves on a stream this thread scores in a second,
 * so only longer streams get them.
 */
const LOCAL_MS_BEFORE_WORKERS = 1000;

/**
 * A pipe gets its workers only when this process has used at least this fraction of a core since the stream began
 * (it is never waiting for the producer: when it does wait, more scorers would only wait with it)...
 */
const PIPE_CPU_FRACTION = 0.8;

/**
 * ... and its lines cost at least this many microseconds each to score here. Below it, what a line costs this thread
 * on the worker path (cutting, posting, writing) and each worker's cold start eat the gain (nas-bench-bert's sampled
 * lines, ~2-5 us each, ran 12% slower through one worker than on this thread, while the sampler shared the 2 cores).
 */
const PIPE_MIN_US_PER_LINE = 10;

/**
 * Whether a pipe's default workers should start, from what this process has seen since the stream began: `busyMs`
 * spent scoring its first `lines` lines on this thread, `cpuMs` of CPU time used, `elapsedMs` of wall time.
 */
export function pipeWorkersPay(busyMs: number, cpuMs: number, elapsedMs: number, lines: number): boolean {
  return busyMs >= LOCAL_MS_BEFORE_WORKERS && cpuMs >= PIPE_CPU_FRACTION * elapsedMs && (1000 * busyMs) / lines >= PIPE_MIN_US_PER_LINE;
}

/** An input known to be at least this long (sizeHint) starts its workers at once. */
const BYTES_FOR_WORKERS_AT_ONCE = 64 << 20;

/**
 * Scores a JSONL stream (already known to be JSONL; see openSource) and yields its records' JSONL in input order,
 * one EncodedScores per unit, under scoreMany's streaming contract (src/proxy/many.ts): one record (one line) per
 * input line that is not blank, in input order, bad lines as error records naming `source` and the line; `signal`
 * checked between chunks; `onProgress({done, errors})` after each unit (no `total`: lines are counted as they come).
 * `stream` is an iterable or async iterable of chunks (Buffers or strings, cut anywhere); `source` names it in
 * records and errors. `options.cache`, if given, is used on this thread, copied into each worker when it starts, and
 * receives every worker's entries when the stream ends.
 */
export async function* scoreJsonLines(stream: Iterable<Buffer | string> | AsyncIterable<Buffer | string>, source: string, options: ScoreJsonLinesOptions = {}): AsyncGenerator<EncodedScores> {
  checkIterable(stream, 'stream');
  let resolved: ResolvedScoreOptions;
  let batchSize: number;
  try {
    resolved = resolveScoreOptions(options);
    batchSize = resolveBatchSize(options.batchSize);
  } catch (cause) {
    throw callerError(cause, [{ value: options, code: 'E_ARGUMENT', what: 'options' }]);
  }
  const onProgress = options.onProgress;
  checkOnProgress(onProgress);
  const requested = options.workers ?? defaultScoreWorkers(options.sizeHint);
  if (!Number.isInteger(requested) || requested < 0 || requested > 64) {
    throw new ZeroLMError('E_ARGUMENT', `workers must be an integer from 0 to 64, got ${String(options.workers)}`, { field: 'workers' });
  }
  // Run from TypeScript sources with no compiled worker script (ts-node, say), everything is scored here: the same
  // output, on one thread.
  const workers = requested > 0 && existsSync(workerScript()) ? requested : 0;
  const cutter = new JsonLineCutter(source, { maxLineBytes: options.maxLineBytes, unitBytes: options.unitBytes });
  const local = new LocalScorer(resolved, batchSize);
  const longInput = (options.sizeHint ?? 0) >= BYTES_FOR_WORKERS_AT_ONCE;
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  const workersPay = (): boolean => {
    if (longInput) return true;
    if (local.busyMs < LOCAL_MS_BEFORE_WORKERS) return false;
    // Workers asked for by number start like a file's; the default ones of a pipe only where they pay.
    if (options.sizeHint !== undefined || options.workers !== undefined) return true;
    const cpu = process.cpuUsage(cpuAtStart);
    return pipeWorkersPay(local.busyMs, (cpu.user + cpu.system) / 1000, performance.now() - startedAt, local.lines);
  };
  let pool: ScoringPool | undefined;
  let done = 0;
  let errors = 0;
  const pending: Array<Promise<EncodedScores>> = [];
  const maxPending = 2 * Math.max(1, workers) + 1;

  const enqueue = ({ unit, record }: LineUnitItem): void => {
    if (unit === undefined) pending.push(local.score([record]));
    else if (workers > 0 && (pool !== undefined || workersPay())) {
      pool ??= new ScoringPool(workers, options, resolved, batchSize);
      pending.push(pool.score(unit, source));
    } else pending.push(local.score(recordsOfLineUnit(unit, source)));
  };
  const next = async (): Promise<EncodedScores> => {
    const scored = await (pending.shift() as Promise<EncodedScores>);
    done += scored.count;
    errors += scored.errors.length;
    reportProgress(onProgress, { done, errors });
    return scored;
  };

  try {
    for await (const raw of stream) {
      throwIfAborted(resolved.signal);
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      for (const item of cutter.push(chunk)) {
        enqueue(item);
        while (pending.length >= maxPending) yield await next();
      }
    }
    for (const item of cutter.end()) enqueue(item);
    while (pending.length > 0) {
      throwIfAborted(resolved.signal);
      yield await next();
    }
    if (pool) await pool.close(resolved.cache);
  } finally {
    // An abandoned stream (an error, an abort, a consumer that stopped early) must not leave workers behind; the
    // unsettled results are dropped unobserved.
    for (const result of pending) result.catch(() => undefined);
    if (pool) await pool.terminate();
  }
}

/** Scores records on this thread, one call after another (so they share the cache without racing for it). */
class LocalScorer {
  private previous: Promise<unknown> = Promise.resolve();
  private readonly encoder = new ScoreEncoder();
  constructor(private readonly resolved: ResolvedScoreOptions, private readonly batchSize: number) {}

  /** Time spent scoring so far. */
  busyMs = 0;
  /** Lines scored (or queued) so far. */
  lines = 0;

  score(records: InputRecord[]): Promise<EncodedScores> {
    this.lines += records.length;
    const result = this.previous.then(async () => {
      const started = performance.now();
      try {
        return await this.encoder.encode(records, this.resolved, this.batchSize);
      } finally {
        this.busyMs += performance.now() - started;
      }
    });
    this.previous = result.catch(() => undefined);
    return result;
  }
}

/** Scores records and encodes the results; shared by this thread and the workers, so both write the same bytes. */
export class ScoreEncoder {
  private readonly serializer = new ScoreSerializer();
  /** Reused from unit to unit: encoding into memory that is already warm in the cache is markedly faster. */
  private scratch = Buffer.allocUnsafeSlow(1 << 20);

  /** The records' lines in a buffer of their own (its ArrayBuffer holds nothing else, so it can be transferred). */
  async encode(records: InputRecord[], resolved: ResolvedScoreOptions, batchSize: number): Promise<EncodedScores> {
    let used = 0;
    const errors: ScoreErrorRecord[] = [];
    let warnings: Set<string> | undefined;
    let count = 0;
    for await (const batch of scoreResolvedBatches([records], resolved, batchSize)) {
      for (const record of batch) {
        for (;;) {
          const end = this.serializer.encodeInto(record, this.scratch, used);
          // The line must leave one byte for its newline.
          if (end >= 0 && end < this.scratch.length) {
            this.scratch[end] = NEWLINE;
            used = end + 1;
            break;
          }
          const grown = Buffer.allocUnsafeSlow(2 * this.scratch.length);
          this.scratch.copy(grown, 0, 0, used);
          this.scratch = grown;
        }
        if (isScoreError(record)) errors.push(record);
        else if (record.warnings !== undefined) for (const warning of record.warnings) (warnings ??= new Set()).add(warning);
        count++;
      }
    }
    const jsonl = Buffer.allocUnsafeSlow(used);
    this.scratch.copy(jsonl, 0, 0, used);
    return warnings === undefined ? { jsonl, errors, count } : { jsonl, errors, count, warnings: [...warnings] };
  }
}

/** What the worker script gets: the options a worker can be given (no functions, no cache object, no signal). */
export interface ScoreWorkerData {
  options: Omit<ScoreOptions, 'cache' | 'signal'>;
  batchSize: number;
  cacheEntries: Array<[string, number]>;
  cacheMaxEntries: number;
}

export type ScoreWorkerRequest = { kind: 'unit'; id: number; unit: LineUnit; source: string } | { kind: 'finish' };
export type ScoreWorkerReply =
  | { kind: 'unit'; id: number; jsonl: Uint8Array; errors: ScoreErrorRecord[]; count: number; warnings?: string[] }
  | { kind: 'failed'; id: number; error: ReturnType<ZeroLMError['toJSON']> }
  | { kind: 'finished'; cacheEntries: Array<[string, number]> };

/**
 * The worker script, compiled: beside this file in dist/. Under ts-jest this file runs from src/, where only the
 * TypeScript exists, so the compiled copy in dist/ (built by `npm test`'s pretest) is used.
 */
function workerScript(): string {
  return __filename.endsWith('.ts') ? path.resolve(__dirname, '..', '..', 'dist', 'proxy', 'score-worker.js') : path.join(__dirname, 'score-worker.js');
}

interface Waiting {
  resolve: (scores: EncodedScores) => void;
  reject: (error: Error) => void;
  worker: number;
}

/** Worker threads that score units; each unit goes to the worker with the least work waiting. */
class ScoringPool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private readonly finished: Array<Promise<Array<[string, number]>>> = [];
  private failure: Error | undefined;
  /** Set once the workers have been told to finish (or are being terminated): their exit is expected. */
  private closing = false;
  private nextId = 0;

  constructor(count: number, options: ScoreJsonLinesOptions, resolved: ResolvedScoreOptions, batchSize: number) {
    const { cache: _cache, signal: _signal, onProgress: _onProgress, workers: _workers, maxLineBytes: _maxLine, unitBytes: _unitBytes, sizeHint: _sizeHint, batchSize: _batchSize, ...plain } = options;
    const workerOptions: ScoreWorkerData['options'] = { ...plain };
    // The engine's threads are shared out among the workers unless the caller chose a number.
    if (plain.threads === undefined) workerOptions.threads = Math.max(1, Math.floor(availableCores() / count));
    const data: ScoreWorkerData = { options: workerOptions, batchSize, cacheEntries: [...resolved.cache], cacheMaxEntries: resolved.cache.maxEntries };
    for (let i = 0; i < count; i++) {
      const worker = new Worker(workerScript(), { workerData: data });
      this.workers.push(worker);
      this.load.push(0);
      this.finished.push(new Promise((resolve, reject) => {
        worker.on('message', (reply: ScoreWorkerReply) => {
          if (reply.kind === 'finished') resolve(reply.cacheEntries);
          else this.settle(reply);
        });
        const failed = (error: Error): void => {
          const wrapped = new ZeroLMError('E_NATIVE', `score worker ${i} failed: ${error.message}`);
          // Units still waiting fail with it; once the pool is closing, only a close() still waiting does.
          if (!this.closing) this.fail(wrapped);
          reject(wrapped);
        };
        worker.on('error', failed);
        // After its 'finished' reply (delivered before 'exit'), the rejection changes nothing.
        worker.on('exit', (code) => failed(new Error(`it exited (code ${code}) before it finished`)));
      }));
      this.finished[i].catch(() => undefined);
    }
  }

  score(unit: LineUnit, source: string): Promise<EncodedScores> {
    if (this.failure) return Promise.reject(this.failure);
    let chosen = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[chosen]) chosen = i;
    const id = this.nextId++;
    this.load[chosen]++;
    const request: ScoreWorkerRequest = { kind: 'unit', id, unit, source };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, worker: chosen });
      this.workers[chosen].postMessage(request, [unit.bytes.buffer as ArrayBuffer]);
    });
  }

  /** Asks every worker for its cache entries, merges them into `cache`, and lets the workers end. */
  async close(cache: { set(key: string, value: number): void }): Promise<void> {
    this.closing = true;
    const finish: ScoreWorkerRequest = { kind: 'finish' };
    for (const worker of this.workers) worker.postMessage(finish);
    for (const entries of await Promise.all(this.finished)) for (const [key, value] of entries) cache.set(key, value);
  }

  async terminate(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private settle(reply: Exclude<ScoreWorkerReply, { kind: 'finished' }>): void {
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    this.load[waiting.worker]--;
    if (reply.kind === 'failed') {
      const { code, message, location } = reply.error;
      waiting.reject(new ZeroLMError(code, message, location));
      return;
    }
    const scores: EncodedScores = { jsonl: Buffer.from(reply.jsonl.buffer, reply.jsonl.byteOffset, reply.jsonl.byteLength), errors: reply.errors, count: reply.count };
    if (reply.warnings !== undefined) scores.warnings = reply.warnings;
    waiting.resolve(scores);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.waiting.values()) waiting.reject(this.failure);
    this.waiting.clear();
  }
}
