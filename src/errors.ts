/** Stable error codes. Every error zerolm raises is a ZeroLMError carrying one of these. */
export type ErrorCode =
  | 'E_ARGUMENT' // a function argument or option has the wrong type or value
  | 'E_SHAPE' // a matrix shape is zero, negative, fractional or inconsistent
  | 'E_MEMORY_LIMIT' // the work would need more memory than the configured limit
  | 'E_PARSE' // a file or line could not be parsed (JSON, JSONL, YAML)
  | 'E_FORMAT' // parsed, but not a known architecture format / missing or mistyped field
  | 'E_UNSUPPORTED' // a valid value this build does not support (unknown operation, family)
  | 'E_NON_FINITE' // NaN or Infinity where a finite number is required
  | 'E_IO' // a file could not be read or written
  | 'E_NATIVE_MISSING' // the compiled addon is not there
  | 'E_NATIVE' // the addon reported a failure
  | 'E_ABORTED' // the operation was cancelled through an AbortSignal
  | 'E_CACHE' // a cache file is corrupt or does not match
  | 'E_INTERNAL'; // a bug in zerolm: an exception nobody foresaw (its cause is kept; please report it)

export class ZeroLMError extends Error {
  readonly code: ErrorCode;
  /** Where the problem is: a file, a line, a field path. */
  readonly location?: { file?: string; line?: number; field?: string; index?: number };
  constructor(code: ErrorCode, message: string, location?: ZeroLMError['location'], options?: { cause?: unknown }) {
    super(message, options);
    this.name = code === 'E_ABORTED' ? 'AbortError' : 'ZeroLMError';
    this.code = code;
    if (location) this.location = location;
  }
  toJSON(): { code: ErrorCode; message: string; location?: ZeroLMError['location'] } {
    return this.location ? { code: this.code, message: this.message, location: this.location } : { code: this.code, message: this.message };
  }
}

/** Abort error: a ZeroLMError with code E_ABORTED and name 'AbortError', as DOM AbortSignal users expect. */
export class AbortError extends ZeroLMError {
  constructor(message = 'The operation was aborted') {
    super('E_ABORTED', message);
    this.name = 'AbortError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}

/** Any exception as a ZeroLMError: ours pass through, anything else is an internal error (a bug), its cause kept. */
export function internalError(cause: unknown, context?: string): ZeroLMError {
  if (cause instanceof ZeroLMError) return cause;
  const message = typeof (cause as Error)?.message === 'string' ? (cause as Error).message : String(cause);
  return new ZeroLMError('E_INTERNAL', `internal error${context ? ` ${context}` : ''}: ${message} (a bug in zerolm; please report it)`, undefined, { cause });
}

/** Whether a value can be read through (no throwing getters, Proxy traps, cycles or BigInts): JSON.stringify walks it all. */
function readable(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The error to report when handling a caller's value threw something that is not ours: the value's own fault when
 * merely reading it throws (`code`, typically E_FORMAT for an architecture, E_ARGUMENT for options), else a bug.
 */
export function callerError(cause: unknown, values: ReadonlyArray<{ value: unknown; code: ErrorCode; what: string }>): ZeroLMError {
  if (cause instanceof ZeroLMError) return cause;
  const message = typeof (cause as Error)?.message === 'string' ? (cause as Error).message : String(cause);
  for (const { value, code, what } of values) {
    if (!readable(value)) return new ZeroLMError(code, `${what} could not be read: ${message}`, undefined, { cause });
  }
  return internalError(cause);
}
