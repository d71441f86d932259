/**
 * The only module that loads the compiled addon (a local build, or the prebuild the package ships). It validates
 * every argument before anything crosses into C++, and re-throws every native failure as a ZeroLMError of this realm.
 * The binary is loaded lazily, on first use, so pure-TypeScript modules work without it.
 */
import { availableParallelism } from 'os';
import * as path from 'path';
import { types } from 'util';
import type { InitScheme } from './arch/types';
import { AbortError, ErrorCode, ZeroLMError } from './errors';
import { resolveInit } from './weights/init';

export type NativeDistribution = { distribution: 'normal'; std: number } | { distribution: 'uniform'; bound: number };
/**
 * Where a recipe's spectrum comes from:
 * - 'weights' (default): the rows x cols weights are generated from (seed, stream), then analysed;
 * - 'bidiagonal' (normal init only): the spectrum is drawn from the bidiagonal model of a Gaussian matrix
 *   (Dumitriu and Edelman 2002): the same joint law of singular values as 'weights', from 2 min(rows, cols) - 1
 *   chi variates and an O(min(rows, cols)^2) eigenvalue problem; no weights exist, so maxAbs, mean and variance
 *   are NaN and sumSquares is the sum of squared singular values. A different draw from 'weights' for the same seed.
 */
export type SpectrumGenerator = 'weights' | 'bidiagonal';
export interface MatrixRecipe {
  rows: number;
  cols: number;
  /**
   * The init scheme as score() takes it ({ scheme: 'normal', std: 0.02 }, { scheme: 'xavier-normal' }, ...), resolved
   * for this shape, or the distribution itself.
   */
  init: InitScheme | NativeDistribution;
  seed: number;
  stream: number;
  generator?: SpectrumGenerator;
}
/** Row-major values, length rows * cols. Read in place (views with a byteOffset are fine), never copied. */
export interface MatrixValues {
  rows: number;
  cols: number;
  values: Float32Array;
}
/**
 * - 'full': all singular values (and logDet, top);
 * - 'sumSquares': entry statistics only, one pass, no Gram matrix;
 * - 'logDet': sum ln(1 + s_i^2) = ln det(I + G) by Cholesky of I + G, G the Gram matrix of the smaller side;
 * - 'top': s_max by Lanczos on the Gram matrix of the smaller side (W^T W, or W W^T for a wide W), without forming it.
 */
export type SpectrumRoute = 'full' | 'sumSquares' | 'logDet' | 'top';
export type SpectrumJob = (MatrixRecipe | MatrixValues) & { route?: SpectrumRoute };
export interface Spectrum {
  rows: number;
  cols: number;
  /**
   * Entry statistics, always present: sum of w^2, max |w|, mean, variance (population: divided by rows*cols).
   * For generator 'bidiagonal' there are no entries: sumSquares is the sum of s_i^2 (equal in law) and the other
   * three are NaN.
   */
  sumSquares: number;
  maxAbs: number;
  mean: number;
  variance: number;
  /** 'full': descending, length min(rows, cols). */
  singularValues?: Float64Array;
  /** 'logDet' and 'full': sum ln(1 + s_i^2). */
  logDet?: number;
  /** 'top' and 'full': the largest singular value. */
  top?: number;
}
export interface SpectraOptions {
  /**
   * Threads for the batch (default: defaultThreads()). Results do not depend on it. However many batches run at once,
   * no more than concurrency() threads compute: this picks how a batch is spread, the process-wide pool how many run.
   */
  threads?: number;
  signal?: AbortSignal;
  /** Refuse the batch, before allocating, if it would need more (default 4 GiB). */
  memoryLimitBytes?: number;
  /** Jobs finished so far; always ends with (total, total) on success. */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_MEMORY_LIMIT_BYTES = 4 * 1024 ** 3;
const MAX_DIMENSION = 2 ** 31 - 1;
const MAX_THREADS = 1024;
const ROUTES: readonly SpectrumRoute[] = ['full', 'sumSquares', 'logDet', 'top'];
const GENERATORS: readonly SpectrumGenerator[] = ['weights', 'bidiagonal'];

interface NativeJob {
  rows: number;
  cols: number;
  route: SpectrumRoute;
  values?: Float32Array;
  distribution?: 'normal' | 'uniform';
  scale?: number;
  seed?: number;
  stream?: number;
  generator?: SpectrumGenerator;
}
/** What the addon returns per job: a Spectrum without the shape (its singularValues belong to the addon's realm). */
type NativeResult = Omit<Spectrum, 'rows' | 'cols'>;
interface NativeBinding {
  abiVersion: number;
  spectraSync(jobs: NativeJob[], threads: number): NativeResult[];
  spectraAsync(
    jobs: NativeJob[],
    threads: number,
    onProgress?: (done: number, total: number) => void,
  ): { promise: Promise<NativeResult[]>; cancel(): void };
  fill(distribution: 'normal' | 'uniform', target: Float32Array, scale: number, seed: number, stream: number): void;
  simd(): 'avx2-fma' | 'scalar';
  defaultThreads(): number;
  concurrency(limit?: number): number;
  availableCores(): number;
  philox4x32_10(counter: number[], key: number[]): Uint32Array;
  convertTensor(source: Uint8Array, dtype: string, sourceRows: number, sourceCols: number, rows: Uint32Array | null, cols: Uint32Array | null, out: Float32Array): void;
}

const EXPECTED_ABI_VERSION = 7;
/** The addon ABI this build loads (cache files record it: capacities from another ABI are not served). */
export const ADDON_ABI_VERSION = EXPECTED_ABI_VERSION;
let binding: NativeBinding | undefined;

/** Where this package's files are (dist/.. when compiled, src/.. under ts-jest). */
const PACKAGE_ROOT = path.resolve(__dirname, '..');

/**
 * Where the addon may be, in the order tried: ZEROLM_NATIVE_PATH alone when set; else a local build
 * (build/Release, build/Debug: what a source build, and `npm ci` in a checkout, makes), then the prebuilt binary for
 * this platform that the package ships (prebuilds/<platform>-<arch>/, found by node-gyp-build's rules).
 */
export function addonCandidates(): string[] {
  const fromEnvironment = process.env.ZEROLM_NATIVE_PATH;
  if (fromEnvironment) return [path.resolve(fromEnvironment)];
  const local = ['Release', 'Debug'].map((kind) => path.join(PACKAGE_ROOT, 'build', kind, 'zerolm_native.node'));
  const prebuild = prebuildPath();
  return prebuild === undefined || local.includes(prebuild) ? local : [...local, prebuild];
}

/** The prebuild node-gyp-build picks for this platform, Node-API and libc, or undefined when none fits. */
function prebuildPath(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    return path.resolve(nodeGypBuild.path(PACKAGE_ROOT));
  } catch {
    return undefined;
  }
}

/** This machine as the prebuilds name it: linux-x64 (glibc), darwin-arm64, ... */
export function platformName(): string {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const libc = process.platform === 'linux' ? (report?.header?.glibcVersionRuntime ? ' (glibc)' : ' (musl or another libc)') : '';
  return `${process.platform}-${process.arch}${libc}`;
}

/** The file the addon was loaded from, or undefined before it is loaded (it loads on first use). */
export function loadedAddonPath(): string | undefined {
  return loadedFrom;
}
let loadedFrom: string | undefined;

/** Set once loading failed: every later call throws the same error at once instead of searching again. */
let loadFailure: ZeroLMError | undefined;

function load(): NativeBinding {
  if (binding) return binding;
  if (loadFailure) throw loadFailure;
  checkConcurrencyEnvironment();
  const tried: string[] = [];
  let lastError: unknown;
  for (const candidate of addonCandidates()) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded = require(candidate) as NativeBinding;
      if (loaded.abiVersion !== EXPECTED_ABI_VERSION) {
        throw new Error(`addon ABI version ${String(loaded.abiVersion)}, expected ${EXPECTED_ABI_VERSION}`);
      }
      binding = loaded;
      loadedFrom = candidate;
      return loaded;
    } catch (error) {
      tried.push(candidate);
      lastError = error;
    }
  }
  const reason = messageOf(lastError).split('\n')[0];
  loadFailure = new ZeroLMError(
    'E_NATIVE_MISSING',
    `the zerolm native addon is not available for ${platformName()}, Node ${process.versions.node} (tried ${tried.join(', ')}: ${reason}). ` +
      'Exact and bidiagonal scoring and spectra need it; analytic mode does not (--mode analytic, or mode: \'analytic\'). ' +
      'To build it: install cmake (3.15 or later) and a C++17 compiler (g++ or clang++), then run `npm rebuild zerolm` in your project.',
    undefined,
    { cause: lastError },
  );
  throw loadFailure;
}

const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'E_ARGUMENT', 'E_SHAPE', 'E_MEMORY_LIMIT', 'E_NON_FINITE', 'E_NATIVE', 'E_ABORTED',
]);

/** The message of an error from any realm (instanceof fails across realms). */
function messageOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}

/** Re-creates an addon error (another realm's Error with a `code`) as a ZeroLMError of ours. */
function fromNative(error: unknown): ZeroLMError {
  if (error instanceof ZeroLMError) return error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = messageOf(error);
  if (code === 'E_ABORTED') return new AbortError();
  const known = typeof code === 'string' && KNOWN_CODES.has(code) ? (code as ErrorCode) : 'E_NATIVE';
  return new ZeroLMError(known, `native: ${message}`, undefined, { cause: error });
}

function callNative<T>(call: (native: NativeBinding) => T): T {
  const native = load();
  try {
    return call(native);
  } catch (error) {
    throw fromNative(error);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

function fail(code: ErrorCode, field: string, message: string, index?: number): never {
  throw new ZeroLMError(code, `${field} ${message}`, index === undefined ? { field } : { field, index });
}

function checkDimension(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) {
    fail('E_SHAPE', field, `must be a positive integer up to ${MAX_DIMENSION}, got ${describe(value)}`);
  }
  return value;
}

function checkUint32(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    fail('E_ARGUMENT', field, `must be an unsigned 32-bit integer, got ${describe(value)}`);
  }
  return value;
}

function checkPositiveFinite(value: unknown, field: string): number {
  if (typeof value !== 'number') fail('E_ARGUMENT', field, `must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) fail('E_NON_FINITE', field, `must be finite, got ${describe(value)}`);
  if (value <= 0) fail('E_ARGUMENT', field, `must be positive, got ${describe(value)}`);
  return value;
}

const FLOAT32_MAX = 3.4028234663852886e38;
/** Largest std whose draws stay finite in float32: Box-Muller normals reach |z| ~ 6.7; 8 leaves a margin. */
export const MAX_NORMAL_STD = FLOAT32_MAX / 8;
export const MAX_UNIFORM_BOUND = FLOAT32_MAX;

/** A distribution's scale: finite, positive, and small enough that float32 draws stay finite. */
function checkScale(value: unknown, field: string, limit: number): number {
  const scale = checkPositiveFinite(value, field);
  if (scale > limit) fail('E_ARGUMENT', field, `is ${scale}, over ${limit}: float32 weights drawn with it would overflow to Infinity`);
  return scale;
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

/** Index of the first NaN or +-Infinity, or -1. (v - v is NaN exactly for those.) */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

function checkJob(job: unknown, field: string): NativeJob {
  if (typeof job !== 'object' || job === null) fail('E_ARGUMENT', field, `must be an object, got ${describe(job)}`);
  const record = job as Record<string, unknown>;
  const rows = checkDimension(record.rows, `${field}.rows`);
  const cols = checkDimension(record.cols, `${field}.cols`);
  if (rows * cols > Number.MAX_SAFE_INTEGER) fail('E_SHAPE', `${field}`, `rows * cols is too large`);
  const route = record.route === undefined ? 'full' : record.route;
  if (typeof route !== 'string' || !ROUTES.includes(route as SpectrumRoute)) {
    fail('E_ARGUMENT', `${field}.route`, `must be one of ${ROUTES.join(', ')}, got ${describe(route)}`);
  }
  const hasValues = record.values !== undefined;
  const hasInit = record.init !== undefined;
  if (hasValues && hasInit) fail('E_ARGUMENT', field, 'must have either values or init, not both');
  const generator = record.generator === undefined ? 'weights' : record.generator;
  if (typeof generator !== 'string' || !GENERATORS.includes(generator as SpectrumGenerator)) {
    fail('E_ARGUMENT', `${field}.generator`, `must be one of ${GENERATORS.join(', ')}, got ${describe(generator)}`);
  }
  if (hasValues && generator !== 'weights') fail('E_ARGUMENT', `${field}.generator`, `is '${generator}', which draws its own spectrum: it takes init, not values`);
  if (hasValues) {
    const values = record.values;
    // util.types works across realms (jest's sandbox has its own Float32Array).
    if (!types.isFloat32Array(values)) fail('E_ARGUMENT', `${field}.values`, `must be a Float32Array, got ${describe(values)}`);
    if (values.length !== rows * cols) {
      fail('E_SHAPE', `${field}.values`, `has length ${values.length}, expected rows * cols = ${rows * cols}`);
    }
    const bad = firstNonFinite(values);
    if (bad >= 0) fail('E_NON_FINITE', `${field}.values[${bad}]`, `is ${values[bad]}; values must be finite`, bad);
    return { rows, cols, route: route as SpectrumRoute, values };
  }
  if (!hasInit) fail('E_ARGUMENT', field, 'needs values (Float32Array) or init (a distribution) with seed and stream');
  let init = record.init;
  if (typeof init !== 'object' || init === null) fail('E_ARGUMENT', `${field}.init`, `must be an object, got ${describe(init)}`);
  // The scheme form score() takes ({scheme: 'xavier-normal'}, ...), resolved for this shape.
  if ('scheme' in init) init = resolveInit(init as InitScheme, rows, cols, `${field}.init`);
  const distribution = (init as Record<string, unknown>).distribution;
  let scale: number;
  if (distribution === 'normal') {
    scale = checkScale((init as Record<string, unknown>).std, `${field}.init.std`, MAX_NORMAL_STD);
  } else if (distribution === 'uniform') {
    scale = checkScale((init as Record<string, unknown>).bound, `${field}.init.bound`, MAX_UNIFORM_BOUND);
  } else {
    fail('E_ARGUMENT', `${field}.init.distribution`, `must be 'normal' or 'uniform', got ${describe(distribution)}`);
  }
  if (generator === 'bidiagonal' && distribution !== 'normal') {
    fail('E_ARGUMENT', `${field}.generator`, `is 'bidiagonal', which needs a normal init (got ${describe(distribution)}): only Gaussian spectra are rotation-invariant`);
  }
  const seed = checkUint32(record.seed, `${field}.seed`);
  const stream = checkUint32(record.stream, `${field}.stream`);
  const checked: NativeJob = { rows, cols, route: route as SpectrumRoute, distribution, scale, seed, stream };
  if (generator === 'bidiagonal') checked.generator = 'bidiagonal';
  return checked;
}

function checkJobs(jobs: unknown): NativeJob[] {
  if (!Array.isArray(jobs)) fail('E_ARGUMENT', 'jobs', `must be an array, got ${describe(jobs)}`);
  // An index loop, not map: map skips holes, and a sparse array must be refused at its first hole.
  const length = jobs.length;
  const checked: NativeJob[] = [];
  for (let index = 0; index < length; index++) {
    if (!(index in jobs)) fail('E_ARGUMENT', `jobs[${index}]`, 'is missing (the jobs array has a hole)');
    checked.push(checkJob(jobs[index], `jobs[${index}]`));
  }
  return checked;
}

interface CheckedOptions {
  threads: number;
  memoryLimitBytes: number;
}

function checkOptions(options: unknown): CheckedOptions {
  if (options === undefined) return { threads: defaultThreads(), memoryLimitBytes: DEFAULT_MEMORY_LIMIT_BYTES };
  if (typeof options !== 'object' || options === null) fail('E_ARGUMENT', 'options', `must be an object, got ${describe(options)}`);
  const record = options as Record<string, unknown>;
  let threads: number;
  if (record.threads === undefined) {
    threads = defaultThreads();
  } else {
    const value = record.threads;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
      fail('E_ARGUMENT', 'options.threads', `must be an integer from 1 to ${MAX_THREADS}, got ${describe(value)}`);
    }
    threads = value;
  }
  let memoryLimitBytes = DEFAULT_MEMORY_LIMIT_BYTES;
  if (record.memoryLimitBytes !== undefined) {
    const value = record.memoryLimitBytes;
    if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
      fail('E_ARGUMENT', 'options.memoryLimitBytes', `must be a positive number, got ${describe(value)}`);
    }
    memoryLimitBytes = value;
  }
  if (record.onProgress !== undefined && typeof record.onProgress !== 'function') {
    fail('E_ARGUMENT', 'options.onProgress', `must be a function, got ${describe(record.onProgress)}`);
  }
  const signal = record.signal;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).addEventListener !== 'function')) {
    fail('E_ARGUMENT', 'options.signal', `must be an AbortSignal, got ${describe(signal)}`);
  }
  return { threads, memoryLimitBytes };
}

// ---------------------------------------------------------------------------------------------------------------
// Memory guard

const DEPTH_BLOCK = 256; // native/spectrum/dense.cc: packed panel depth
// native/spectrum/symmetric_eigen.cc: panel vectors of the one-stage reduction (~5 x 32 x p doubles) or, for the
// two-stage one, panel work space and compact band (~7 x 32 x p + 65 x p doubles); the larger is counted.
const EIGEN_WORK_DOUBLES_PER_ROW = 7 * 32 + 65 + 8;
const LANCZOS_MAX_STEPS = 600; // native/spectrum/lanczos.cc
const FILL_CHUNK = 65536; // native/spectrum/spectrum.cc

function nativeJobBytes(job: NativeJob): number {
  const { rows, cols } = job;
  const small = Math.min(rows, cols);
  const large = Math.max(rows, cols);
  const generated = job.values ? 0 : rows * cols * 4; // the engine-filled matrix, freed after its job
  // native/spectrum/bidiagonal.cc: the bidiagonal, B^T B as a tridiagonal, and the singular values.
  if (job.generator === 'bidiagonal') return 6 * small * 8;
  switch (job.route) {
    case 'sumSquares':
      return job.values ? 0 : Math.min(rows * cols, FILL_CHUNK) * 4;
    case 'top': {
      // native/spectrum/lanczos.cc: Krylov vectors of the smaller side; a partial product of length cols per block of
      // 256 rows, and for a wide matrix W^T x (cols) as well.
      const basis = Math.min(small, LANCZOS_MAX_STEPS) * small * 8;
      const partials = Math.ceil(rows / 256) * cols * 8 + (rows < cols ? cols * 8 : 0);
      return generated + basis + partials + 4 * small * 8;
    }
    case 'logDet':
    case 'full':
    default: {
      const gram = small * small * 8;
      const packing = (Math.ceil(small / 6) * 6 + Math.ceil(small / 8) * 8) * Math.min(large, DEPTH_BLOCK) * 8;
      const eigen = job.route === 'full' ? EIGEN_WORK_DOUBLES_PER_ROW * small * 8 : 0;
      return generated + gram + packing + eigen;
    }
  }
}

/** Peak bytes the engine allocates for one job (the memory guard sums these over jobs that run at once). */
export function estimateJobBytes(job: SpectrumJob): number {
  return nativeJobBytes(checkJob(job, 'job'));
}

/** Peak for the batch: the jobs that may run at the same time, plus the results kept until the batch ends. */
function batchBytes(jobs: NativeJob[], threads: number, copiesValues = false): number {
  const sizes = jobs.map(nativeJobBytes).sort((a, b) => b - a);
  // Fewer jobs than threads: they run one after another, each spread over all threads (spectrum.cc).
  const concurrent = threads > 1 && jobs.length < threads ? 1 : Math.min(threads, jobs.length);
  let peak = 0;
  for (let i = 0; i < concurrent; i++) peak += sizes[i];
  const results = jobs.reduce((sum, job) => sum + (job.route === 'full' ? Math.min(job.rows, job.cols) * 8 : 0) + 64, 0);
  const copies = copiesValues ? jobs.reduce((sum, job) => sum + (job.values ? job.values.length * 4 : 0), 0) : 0;
  return peak + results + copies;
}

function checkMemory(jobs: NativeJob[], options: CheckedOptions, copiesValues = false): void {
  // A matrix of weights is refused if it could not be held as float32 within the limit, even on routes that stream
  // it (sumSquares of a recipe): such a matrix is a mistake, and generating it would take hours. A bidiagonal draw
  // has no weights: only what it allocates (O(min(rows, cols))) counts, in the batch total below.
  for (let i = 0; i < jobs.length; i++) {
    if (jobs[i].generator === 'bidiagonal') continue;
    const dense = jobs[i].rows * jobs[i].cols * 4;
    if (dense > options.memoryLimitBytes) {
      throw new ZeroLMError(
        'E_MEMORY_LIMIT',
        `jobs[${i}] is a ${jobs[i].rows} x ${jobs[i].cols} matrix: ${dense} bytes (${formatBytes(dense)}) as float32, over the limit of ` +
          `${options.memoryLimitBytes} bytes (options.memoryLimitBytes)`,
        { field: `jobs[${i}]`, index: i },
      );
    }
  }
  const needed = batchBytes(jobs, options.threads, copiesValues);
  if (needed > options.memoryLimitBytes) {
    throw new ZeroLMError(
      'E_MEMORY_LIMIT',
      `the batch would need ${needed} bytes (${formatBytes(needed)}) with ${options.threads} thread(s), over the limit of ` +
        `${options.memoryLimitBytes} bytes (options.memoryLimitBytes); use fewer threads, smaller batches or raise the limit`,
      { field: 'options.memoryLimitBytes' },
    );
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 4) return `${(bytes / 1024 ** 4).toFixed(2)} TiB`;
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

function toSpectrum(job: NativeJob, result: NativeResult): Spectrum {
  const spectrum: Spectrum = {
    rows: job.rows,
    cols: job.cols,
    sumSquares: result.sumSquares,
    maxAbs: result.maxAbs,
    mean: result.mean,
    variance: result.variance,
  };
  // Copied into this realm's Float64Array (the addon's belongs to the main context; jest runs in a sandbox).
  if (result.singularValues !== undefined) spectrum.singularValues = new Float64Array(result.singularValues);
  if (result.logDet !== undefined) spectrum.logDet = result.logDet;
  if (result.top !== undefined) spectrum.top = result.top;
  return spectrum;
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

/**
 * Spectra of many matrices on a thread pool, off the main thread. Results are bit-identical whatever `threads`.
 * Rejects with AbortError (name 'AbortError', code 'E_ABORTED') once the engine has stopped after `signal` fires.
 */
export async function spectra(jobs: readonly SpectrumJob[], options?: SpectraOptions): Promise<Spectrum[]> {
  // The engine reads values on worker threads after this returns; the caller could transfer (detach) its buffer
  // meanwhile. An async batch therefore works on copies nobody else can reach (counted by the memory guard);
  // spectraSync stays zero-copy.
  const checked = checkJobs(jobs);
  const settings = checkOptions(options);
  checkMemory(checked, settings, true);
  for (const job of checked) if (job.values) job.values = job.values.slice();
  const signal = options?.signal;
  if (signal?.aborted) throw new AbortError();
  if (checked.length === 0) return [];
  const native = load();
  const onProgress = options?.onProgress;
  let reported = 0;
  let progressError: unknown;
  let handle: ReturnType<NativeBinding['spectraAsync']> | undefined;
  const progress = onProgress
    ? (done: number, total: number): void => {
        if (done <= reported || progressError !== undefined) return;
        reported = done;
        try {
          onProgress(done, total);
        } catch (error) {
          progressError = error;
          handle?.cancel();
        }
      }
    : undefined;
  try {
    handle = native.spectraAsync(checked, settings.threads, progress);
  } catch (error) {
    throw fromNative(error);
  }
  const started = handle;
  const abort = (): void => started.cancel();
  signal?.addEventListener('abort', abort, { once: true });
  let results: NativeResult[];
  try {
    results = await started.promise;
  } catch (error) {
    if (progressError !== undefined) throw progressError;
    throw fromNative(error);
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  if (progress && reported < checked.length) progress(checked.length, checked.length);
  if (progressError !== undefined) throw progressError;
  return results.map((result, index) => toSpectrum(checked[index], result));
}

/** Synchronous twin of spectra() for small work: blocks the calling thread (it still uses `threads`). */
export function spectraSync(jobs: readonly SpectrumJob[], options?: Omit<SpectraOptions, 'signal' | 'onProgress'>): Spectrum[] {
  const checked = checkJobs(jobs);
  const settings = checkOptions(options);
  checkMemory(checked, settings);
  if (checked.length === 0) return [];
  const results = callNative((native) => native.spectraSync(checked, settings.threads));
  return results.map((result, index) => toSpectrum(checked[index], result));
}

function checkFill(rows: number, cols: number, seed: unknown, stream: unknown, where: string): void {
  checkDimension(rows, `${where} rows`);
  checkDimension(cols, `${where} cols`);
  if (rows * cols > 2 ** 32 - 1) fail('E_SHAPE', `${where} rows * cols`, 'is too large for one Float32Array');
  checkUint32(seed, `${where} seed`);
  checkUint32(stream, `${where} stream`);
}

/** Row-major rows x cols values of normal(0, std) for stream (seed, stream): what a recipe job generates. */
export function fillNormal(rows: number, cols: number, o: { std: number; seed: number; stream: number }): Float32Array {
  if (typeof o !== 'object' || o === null) fail('E_ARGUMENT', 'fillNormal options', 'must be an object');
  checkFill(rows, cols, o.seed, o.stream, 'fillNormal');
  const std = checkScale(o.std, 'fillNormal std', MAX_NORMAL_STD);
  const target = new Float32Array(rows * cols);
  callNative((native) => native.fill('normal', target, std, o.seed, o.stream));
  return target;
}

/** Row-major rows x cols values of uniform(-bound, bound) for stream (seed, stream). */
export function fillUniform(rows: number, cols: number, o: { bound: number; seed: number; stream: number }): Float32Array {
  if (typeof o !== 'object' || o === null) fail('E_ARGUMENT', 'fillUniform options', 'must be an object');
  checkFill(rows, cols, o.seed, o.stream, 'fillUniform');
  const bound = checkScale(o.bound, 'fillUniform bound', MAX_UNIFORM_BOUND);
  const target = new Float32Array(rows * cols);
  callNative((native) => native.fill('uniform', target, bound, o.seed, o.stream));
  return target;
}

/** The stored element types convertTensor reads: safetensors' names. */
export type TensorDtype = 'F32' | 'F16' | 'BF16';
export const TENSOR_DTYPES: readonly TensorDtype[] = ['F32', 'F16', 'BF16'];

/**
 * The rows and columns `select` picks of a row-major sourceRows x sourceCols tensor stored as little-endian `dtype`
 * bytes, converted to float32 by the addon (native/tensors/): rows[i], cols[j] index the source; null takes all, in
 * order. Returns rows.length x cols.length values. Fused projections are split and pruned matrices sliced this way,
 * so nothing but the selected block is ever made in float32.
 */
export function convertTensor(
  source: Uint8Array,
  dtype: TensorDtype,
  shape: readonly [number, number],
  select: { rows?: Uint32Array; cols?: Uint32Array } = {},
  /** Where to write (reused memory converts several times faster than a fresh array); its length must match. */
  out?: Float32Array,
): Float32Array {
  if (!types.isUint8Array(source)) fail('E_ARGUMENT', 'convertTensor source', `must be a Uint8Array, got ${describe(source)}`);
  if (!TENSOR_DTYPES.includes(dtype)) fail('E_UNSUPPORTED', 'convertTensor dtype', `must be one of ${TENSOR_DTYPES.join(', ')}, got ${describe(dtype)}`);
  const [sourceRows, sourceCols] = shape;
  checkDimension(sourceRows, 'convertTensor sourceRows');
  checkDimension(sourceCols, 'convertTensor sourceCols');
  const bytes = dtype === 'F32' ? 4 : 2;
  if (sourceRows * sourceCols * bytes > source.byteLength) {
    fail('E_SHAPE', 'convertTensor source', `has ${source.byteLength} bytes, fewer than ${sourceRows} x ${sourceCols} ${dtype} values need`);
  }
  const check = (indices: Uint32Array | undefined, bound: number, name: string): void => {
    if (indices === undefined) return;
    if (!types.isUint32Array(indices)) fail('E_ARGUMENT', `convertTensor ${name}`, `must be a Uint32Array, got ${describe(indices)}`);
    for (let i = 0; i < indices.length; i++) if (indices[i] >= bound) fail('E_SHAPE', `convertTensor ${name}[${i}]`, `is ${indices[i]}, outside 0..${bound - 1}`, i);
  };
  check(select.rows, sourceRows, 'rows');
  check(select.cols, sourceCols, 'cols');
  const length = (select.rows?.length ?? sourceRows) * (select.cols?.length ?? sourceCols);
  if (out !== undefined && (!types.isFloat32Array(out) || out.length !== length)) fail('E_ARGUMENT', 'convertTensor out', `must be a Float32Array of ${length} values`);
  const target = out ?? new Float32Array(length);
  callNative((native) => native.convertTensor(source, dtype, sourceRows, sourceCols, select.rows ?? null, select.cols ?? null, target));
  return target;
}

/** Which kernels run: chosen once at load from the CPU; ZEROLM_SIMD=scalar forces the portable ones. */
export function simd(): 'avx2-fma' | 'scalar' {
  return callNative((native) => native.simd());
}

/** Threads a batch uses by default: the pool's limit, concurrency(). */
export function defaultThreads(): number {
  return callNative((native) => native.defaultThreads());
}

/**
 * The process-wide limit on engine threads (as sharp's concurrency()): every batch, sync or async, from any worker
 * thread, runs on one persistent pool, and no more than this many threads compute at once; concurrent calls share
 * them. With a limit (an integer from 1 to 1024), sets it first; returns the limit in force. Initially
 * ZEROLM_CONCURRENCY when set, else availableCores(). Results never depend on it.
 */
export function concurrency(limit?: number): number {
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_THREADS)) {
    fail('E_ARGUMENT', 'concurrency', `must be an integer from 1 to ${MAX_THREADS}, got ${describe(limit)}`);
  }
  return callNative((native) => native.concurrency(limit));
}

/**
 * Cores this process may run on (its CPU affinity): the one count every default in zerolm starts from. Asked of the
 * addon (native/spectrum/team.cc, available_cores) so the engine and TypeScript agree; without the addon (analytic
 * mode needs none) Node's availableParallelism(), which reads the same affinity mask.
 */
export function availableCores(): number {
  let native: NativeBinding;
  try {
    native = load();
  } catch {
    return availableParallelism();
  }
  return native.availableCores();
}

/** ZEROLM_CONCURRENCY, read by the engine when its pool starts, must be a valid limit: checked before it loads. */
function checkConcurrencyEnvironment(): void {
  const text = process.env.ZEROLM_CONCURRENCY;
  if (text === undefined || text === '') return;
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < 1 || value > MAX_THREADS) {
    fail('E_ARGUMENT', 'ZEROLM_CONCURRENCY', `must be an integer from 1 to ${MAX_THREADS}, got ${describe(text)}`);
  }
}

/** Test hooks; not part of the public API. */
export const nativeTestHooks = {
  /** spectraSync without the TypeScript checks, to exercise the addon's own; errors still mapped to ZeroLMError. */
  unvalidatedSpectraSync(jobs: unknown, threads?: unknown): unknown {
    return callNative((native) => (native.spectraSync as (j: unknown, t: unknown) => unknown)(jobs, threads));
  },
  /** One Philox4x32-10 block: counter (4 words), key (2 words). */
  philox4x32_10(counter: readonly number[], key: readonly number[]): Uint32Array {
    return new Uint32Array(callNative((native) => native.philox4x32_10([...counter], [...key])));
  },
};
