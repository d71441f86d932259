/**
 * The addon in worker_threads, through the public API (src/native.ts built to plain JS): several workers at once
 * give the main thread's bits; workers that finish, exit or are terminated (also with a batch in flight) unload
 * without taking the process down, and leave no engine thread behind. Teardown while a batch is in flight runs in
 * a child process (worker-lifecycle.js), so that a crash there is reported with its signal.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { concurrency, spectra, spectraSync, Spectrum, SpectrumJob } from '../../../src/native';
import { seededRandom } from './fixtures';
import {
  childEnvironment, compiledNativeModule, describeChild, runNode, settleThreadCount, spectraDifference, startEnginePool, threadCount,
} from './hostile-helpers';

const workerScript = path.join(__dirname, 'worker-script.js');
/** Bound on how long terminate() may take while seconds of work are in flight (the work is cancelled). */
const TERMINATE_BOUND_MS = 2000;

function jobsForWorkers(): SpectrumJob[] {
  const random = seededRandom(31);
  const values = (rows: number, cols: number): Float32Array => new Float32Array(rows * cols).map(() => random() - 0.5);
  const backing = values(1, 90 * 70 + 5);
  return [
    { rows: 150, cols: 97, init: { distribution: 'normal', std: 1 }, seed: 21, stream: 0 },
    { rows: 64, cols: 200, init: { distribution: 'uniform', bound: 0.1 }, seed: 21, stream: 1, route: 'logDet' },
    { rows: 333, cols: 111, init: { distribution: 'normal', std: 1 }, seed: 21, stream: 3, route: 'top' },
    { rows: 41, cols: 59, init: { distribution: 'normal', std: 5 }, seed: 21, stream: 4, route: 'sumSquares' },
    { rows: 80, cols: 45, values: values(80, 45) },
    { rows: 90, cols: 70, values: backing.subarray(5), route: 'full' }, // a view with a byteOffset
  ];
}

interface WorkerReply {
  sync?: Spectrum[];
  async?: Spectrum[];
  error?: string;
}

function runWorker(workerData: Record<string, unknown>): { reply: Promise<WorkerReply>; exit: Promise<number> } {
  const worker = new Worker(workerScript, { workerData: { modulePath: compiledNativeModule(), ...workerData }, env: childEnvironment() });
  const reply = new Promise<WorkerReply>((resolve, reject) => {
    worker.once('message', (message: WorkerReply) => resolve(message));
    worker.once('error', reject);
  });
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
  return { reply, exit };
}

let baselineThreads = 0;

beforeAll(async () => {
  compiledNativeModule();
  await Promise.all(Array.from({ length: 4 }, () => spectra(jobsForWorkers().slice(0, 1), { threads: 1 })));
  startEnginePool({ spectraSync, concurrency });
  await new Promise((resolve) => setTimeout(resolve, 50));
  baselineThreads = threadCount();
});

describe('several worker threads at once', () => {
  it('four workers (sync and async) and the main thread, all computing at the same time, agree bit for bit', async () => {
    const jobs = jobsForWorkers();
    const workers = Array.from({ length: 4 }, () => runWorker({ task: 'compare', jobs }));
    const mainAsync = spectra(jobs, { threads: 2 });
    const main = spectraSync(jobs, { threads: 1 });
    const replies = await Promise.all(workers.map((w) => w.reply));
    for (const reply of replies) {
      expect(reply.error).toBeUndefined();
      expect(spectraDifference(reply.sync!, main)).toBe('');
      expect(spectraDifference(reply.async!, main)).toBe('');
    }
    expect(spectraDifference(await mainAsync, main)).toBe('');
    // The workers end on their own once their work is done.
    expect(await Promise.all(workers.map((w) => w.exit))).toEqual([0, 0, 0, 0]);
  });

  it('workers that load, compute and exit normally, five rounds of three, leave no thread behind', async () => {
    const jobs = jobsForWorkers().slice(0, 3);
    const expected = spectraSync(jobs, { threads: 1 });
    for (let round = 0; round < 5; round++) {
      const workers = Array.from({ length: 3 }, () => runWorker({ task: 'compare', jobs }));
      for (const reply of await Promise.all(workers.map((w) => w.reply))) expect(spectraDifference(reply.async!, expected)).toBe('');
      expect(await Promise.all(workers.map((w) => w.exit))).toEqual([0, 0, 0]);
    }
    const after = await settleThreadCount(baselineThreads, 2000);
    console.log(`threads after 15 workers exited: ${after} (baseline ${baselineThreads})`);
    expect(after).toBeLessThanOrEqual(baselineThreads);
    expect(spectraDifference(await spectra(jobs, { threads: 2 }), expected)).toBe('');
  });
});

describe('workers that end while a batch is in flight (child processes)', () => {
  interface LifecycleReport {
    scenario: string;
    baseline: number;
    during?: number;
    after: number;
    exitCodes: number[];
    terminateMs: number;
    probeSame: boolean;
  }
  const reports: string[] = [];
  afterAll(() => { if (reports.length) console.log(`worker teardown: ${reports.join('; ')}`); });

  function lifecycle(scenario: string): LifecycleReport {
    const outcome = runNode(path.join(__dirname, 'worker-lifecycle.js'), [scenario, compiledNativeModule()], 90000);
    expect(outcome.status === 0 && outcome.signal === null ? 'clean exit' : describeChild(outcome)).toBe('clean exit');
    const report = JSON.parse(outcome.stdout.trim().split('\n').pop()!) as LifecycleReport;
    reports.push(`${scenario}: terminate ${report.terminateMs} ms, threads ${report.baseline} -> ${report.during ?? '?'} -> ${report.after}`);
    // The process lives on: no thread of the dead workers' batches is left, and the engine answers as before.
    expect(report.after).toBeLessThanOrEqual(report.baseline);
    expect(report.probeSame).toBe(true);
    return report;
  }

  it('terminate() of two workers with seconds of work running: no crash, prompt, nothing left running', () => {
    const report = lifecycle('terminate-in-flight');
    expect(report.exitCodes).toEqual([1, 1]); // terminate() resolves with exit code 1
    expect(report.terminateMs).toBeLessThan(TERMINATE_BOUND_MS);
  });

  it('process.exit(0) inside a worker\'s progress callback, batch still running: no crash', () => {
    const report = lifecycle('exit-in-flight');
    expect(report.exitCodes).toEqual([0, 0]);
    expect(report.terminateMs).toBeLessThan(TERMINATE_BOUND_MS);
  });

  it('terminate() as soon as the batch is queued: no crash', () => {
    const report = lifecycle('terminate-queued');
    expect(report.exitCodes).toEqual([1]);
  });

  it('twelve workers terminated at seeded moments (0-60 ms after start): no crash', () => {
    const report = lifecycle('churn');
    expect(report.exitCodes).toHaveLength(12);
  });

  it('sixty workers terminated 0-15 ms after start, mostly while their batch is being set up: no crash', () => {
    const report = lifecycle('churn-early');
    expect(report.exitCodes).toHaveLength(60);
  });
});
