/**
 * Shared by the hostile-use tests (fuzz, concurrency, workers): where the binary is, a plain-JS build of
 * src/native.ts for child processes and worker threads, OS thread counts, and bit-exact comparison of spectra.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import type { Spectrum } from '../../../src/native';

const repositoryRoot = path.resolve(__dirname, '../../..');

/** The binary the tests exercise: ZEROLM_NATIVE_PATH (the sanitizer run sets it) or build/Release. */
export const addonPath = process.env.ZEROLM_NATIVE_PATH
  ? path.resolve(process.env.ZEROLM_NATIVE_PATH)
  : path.join(repositoryRoot, 'build', 'Release', 'zerolm_native.node');

let compiledPath: string | undefined;

/**
 * src/native.ts and the modules it imports transpiled to CommonJS in a temporary folder, so that worker threads and child
 * processes (which jest does not transform) run the current source rather than a possibly stale dist/.
 * The folder is named by a hash of the sources: reused while they are unchanged, never half-written (rename).
 * Load it with ZEROLM_NATIVE_PATH = addonPath in the environment.
 */
export function compiledNativeModule(): string {
  if (compiledPath) return compiledPath;
  // native.ts and what it imports at run time (weights/init resolves init schemes; it imports errors).
  const sources = ['native', 'errors', 'weights/init'].map((name) => [name, readFileSync(path.join(repositoryRoot, 'src', `${name}.ts`), 'utf8')]);
  const hash = createHash('sha256').update(JSON.stringify(sources)).digest('hex').slice(0, 16);
  const directory = path.join(tmpdir(), `zerolm-native-js-${hash}`);
  if (!existsSync(path.join(directory, 'native.js'))) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ts = require('typescript') as typeof import('typescript');
    const staging = `${directory}.${process.pid}.${Date.now()}`;
    mkdirSync(staging, { recursive: true });
    for (const [name, source] of sources) {
      const output = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      mkdirSync(path.dirname(path.join(staging, `${name}.js`)), { recursive: true });
      writeFileSync(path.join(staging, `${name}.js`), output.outputText);
    }
    try {
      renameSync(staging, directory);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process got there first
    }
  }
  compiledPath = path.join(directory, 'native.js');
  return compiledPath;
}

/** Environment for child processes and workers: the binary under test, whatever the defaults say. */
export function childEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ZEROLM_NATIVE_PATH: addonPath, ...extra };
}

export interface ChildOutcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  milliseconds: number;
  timedOut: boolean;
}

/** Runs `node [nodeOptions] script args` and reports how it ended; a hang is killed after timeoutMs. */
export function runNode(script: string, args: string[], timeoutMs: number, nodeOptions: string[] = []): ChildOutcome {
  const started = Date.now();
  const result = spawnSync(process.execPath, [...nodeOptions, script, ...args], {
    env: childEnvironment(),
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  const milliseconds = Date.now() - started;
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    milliseconds,
    timedOut: result.signal === 'SIGKILL' && milliseconds >= timeoutMs,
  };
}

/** A readable account of a child that did not exit cleanly (for expect messages). */
export function describeChild(outcome: ChildOutcome): string {
  const how = outcome.timedOut ? `hung (killed after ${outcome.milliseconds} ms)` :
    outcome.signal ? `died of ${outcome.signal}` : `exited with status ${outcome.status}`;
  return `${how}\n--- stderr (tail) ---\n${outcome.stderr.slice(-4000)}\n--- stdout (tail) ---\n${outcome.stdout.slice(-2000)}`;
}

/**
 * Runs work wide enough that the engine's persistent pool starts every helper its limit allows (one team spread over
 * a single job, one of many jobs), so that a thread count taken afterwards includes them.
 */
export function startEnginePool(native: Pick<typeof import('../../../src/native'), 'spectraSync' | 'concurrency'>): void {
  const threads = native.concurrency();
  const job = { rows: 300, cols: 300, init: { distribution: 'normal' as const, std: 1 }, seed: 1, stream: 1 };
  native.spectraSync([job], { threads });
  native.spectraSync(Array.from({ length: 2 * threads }, (_, i) => ({ ...job, rows: 40, cols: 30, stream: i })), { threads });
}

/** OS threads of this process now (Linux: one entry per thread in /proc/self/task). */
export function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

/** Polls until the thread count is at most `target` or `timeoutMs` passes; returns the last count seen. */
export async function settleThreadCount(target: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = threadCount();
  while (count > target && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    count = threadCount();
  }
  return count;
}

const SCALAR_FIELDS = ['sumSquares', 'maxAbs', 'mean', 'variance', 'logDet', 'top'] as const;

/** Empty when a and b are bit-identical spectra (Object.is on every number, bytes of singular values). */
export function spectraDifference(a: readonly Spectrum[], b: readonly Spectrum[]): string {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i].rows !== b[i].rows || a[i].cols !== b[i].cols) return `[${i}] shape`;
    for (const key of SCALAR_FIELDS) {
      if (!Object.is(a[i][key], b[i][key])) return `[${i}].${key}: ${a[i][key]} vs ${b[i][key]}`;
    }
    const x = a[i].singularValues;
    const y = b[i].singularValues;
    if ((x === undefined) !== (y === undefined)) return `[${i}].singularValues present in one only`;
    if (x && y && !Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength))) {
      return `[${i}].singularValues differ`;
    }
  }
  return '';
}
