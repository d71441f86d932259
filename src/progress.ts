/**
 * The one progress contract of zerolm's long operations: scoreMany, scoreBatches, scoreJsonLines, scoreWeights,
 * search and evaluate all take `onProgress(progress)`, called with one object after each step of work (a batch of
 * inputs, a unit of lines, an engine batch of matrices, a stretch of a search, a measure of an evaluation). An
 * operation may add fields of its own (search adds its algorithm and best score), never change these three.
 */
import { ZeroLMError } from './errors';

export interface Progress {
  /** Inputs (or steps) finished so far, error records included; never decreases. */
  done: number;
  /** Error records among `done` (0 for an operation that yields none). */
  errors: number;
  /** How many there are in all, when known before the end (an array of inputs, a number of evaluations). */
  total?: number;
}

/** The progress callback of every long operation. An exception it throws comes back as E_ARGUMENT, its cause kept. */
export type OnProgress<P extends Progress = Progress> = (progress: P) => void;

/** Refuses an onProgress that is given but not a function, before any work starts. */
export function checkOnProgress(onProgress: unknown): void {
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new ZeroLMError('E_ARGUMENT', `onProgress must be a function, got ${onProgress === null ? 'null' : typeof onProgress}`, { field: 'onProgress' });
  }
}

/** Calls the callback (if any); its exception is the caller's, so it comes back as E_ARGUMENT with its cause. */
export function reportProgress<P extends Progress>(onProgress: OnProgress<P> | undefined, progress: P): void {
  if (onProgress === undefined) return;
  try {
    onProgress(progress);
  } catch (cause) {
    if (cause instanceof ZeroLMError) throw cause;
    throw new ZeroLMError('E_ARGUMENT', `the onProgress callback threw: ${(cause as Error)?.message ?? String(cause)}`, { field: 'onProgress' }, { cause });
  }
}
