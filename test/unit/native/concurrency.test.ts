/**
 * Many batches at once, and cancellation. What must hold: results do not depend on what else runs at the same
 * time, nor on the thread count; an AbortSignal stops a batch (and a single long job on every route) promptly;
 * batches run on the process's persistent pool (no thread is started per call) and afterwards the engine gives the
 * same answers as before.
 */
import { AbortError, ZeroLMError } from '../../../src/errors';
import { concurrency, spectra, spectraSync, Spectrum, SpectrumJob, SpectrumRoute } from '../../../src/native';
import { seededRandom } from './fixtures';
import { settleThreadCount, spectraDifference, startEnginePool, threadCount } from './hostile-helpers';

const ROUTES: Array<SpectrumRoute | undefined> = ['full', 'sumSquares', 'logDet', 'top', undefined];
/** Generous bound on abort latency; measured values are printed, and are far lower on an idle machine. */
const ABORT_BOUND_MS = 2000;

/** Seeded small batches of 1-3 jobs: recipes and explicit values (some shared between batches), every route. */
function mixedBatches(count: number, seed: number): SpectrumJob[][] {
  const random = seededRandom(seed);
  const integer = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  const shared: SpectrumJob[] = Array.from({ length: 8 }, (_, k) => {
    const rows = integer(1, 40);
    const cols = integer(1, 40);
    const values = new Float32Array(rows * cols).map(() => random() * 2 - 1);
    return { rows, cols, values, route: ROUTES[k % ROUTES.length] };
  });
  return Array.from({ length: count }, () => Array.from({ length: integer(1, 3) }, (): SpectrumJob => {
    const kind = random();
    if (kind < 0.2) return shared[integer(0, shared.length - 1)];
    const rows = integer(1, 48);
    const cols = integer(1, 48);
    const route = ROUTES[integer(0, ROUTES.length - 1)];
    if (kind < 0.5) {
      const values = new Float32Array(rows * cols).map(() => random() - 0.5);
      return route ? { rows, cols, values, route } : { rows, cols, values };
    }
    const init = random() < 0.5 ? { distribution: 'normal' as const, std: 0.02 + random() } : { distribution: 'uniform' as const, bound: 0.1 + random() };
    return { rows, cols, init, seed: integer(0, 2 ** 32 - 1), stream: integer(0, 1000), ...(route ? { route } : {}) };
  }));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectAbortError(error: unknown): void {
  expect(error).toBeInstanceOf(AbortError);
  expect((error as ZeroLMError).name).toBe('AbortError');
  expect((error as ZeroLMError).code).toBe('E_ABORTED');
}

const probe: SpectrumJob[] = [
  { rows: 37, cols: 23, init: { distribution: 'normal', std: 1 }, seed: 9, stream: 1 },
  { rows: 60, cols: 61, init: { distribution: 'uniform', bound: 1 }, seed: 9, stream: 2, route: 'top' },
];

let baselineThreads = 0;
let probeBefore: Spectrum[] = [];

beforeAll(async () => {
  // Start the libuv pool and the engine's pool (their threads stay for the life of the process) before counting.
  await Promise.all(Array.from({ length: 8 }, () => spectra(probe, { threads: 1 })));
  startEnginePool({ spectraSync, concurrency });
  probeBefore = spectraSync(probe, { threads: 1 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  baselineThreads = threadCount();
});

describe('many batches at once', () => {
  it('1000 concurrent spectra calls (threads 1, 2, 4) equal the same calls made one by one, twice over', async () => {
    const batches = mixedBatches(1000, 4242);
    const sequential = batches.map((batch) => spectraSync(batch, { threads: 1 }));
    const threadChoices = [1, 2, 4];
    for (const rotation of [0, 1]) {
      const progress = batches.map(() => [] as Array<[number, number]>);
      const started = Date.now();
      const concurrent = await Promise.all(batches.map((batch, i) => spectra(batch, {
        threads: threadChoices[(i + rotation) % 3],
        onProgress: (done, total) => progress[i].push([done, total]),
      })));
      const elapsed = Date.now() - started;
      console.log(`1000 concurrent batches (${batches.flat().length} jobs), rotation ${rotation}: ${elapsed} ms`);
      const differences = concurrent.map((results, i) => spectraDifference(results, sequential[i])).filter(Boolean);
      expect(differences).toEqual([]);
      // Progress belongs to its own batch: it ends at (its length, its length) and never mixes totals.
      for (let i = 0; i < batches.length; i++) {
        const calls = progress[i];
        expect(calls[calls.length - 1]).toEqual([batches[i].length, batches[i].length]);
        expect(calls.every(([, total]) => total === batches[i].length)).toBe(true);
      }
    }
    expect(await settleThreadCount(baselineThreads, 2000)).toBeLessThanOrEqual(baselineThreads);
  });

  it('a batch of 20000 tiny jobs: progress reports coalesce, stay monotone, end at the total; results exact', async () => {
    const jobs: SpectrumJob[] = Array.from({ length: 20000 }, (_, i) => ({
      rows: 1 + (i % 3), cols: 2, init: { distribution: 'normal', std: 1 }, seed: 1, stream: i, route: (['full', 'top', 'logDet', 'sumSquares'] as const)[i % 4],
    }));
    const calls: number[] = [];
    const results = await spectra(jobs, { threads: 4, onProgress: (done, total) => { expect(total).toBe(jobs.length); calls.push(done); } });
    expect(calls[calls.length - 1]).toBe(jobs.length);
    for (let i = 1; i < calls.length; i++) expect(calls[i]).toBeGreaterThan(calls[i - 1]);
    expect(spectraDifference(results, spectraSync(jobs, { threads: 1 }))).toBe('');
  });

  it('a progress callback may start more work (sync and async) without disturbing the outer batch', async () => {
    const outer = mixedBatches(1, 77)[0].concat(mixedBatches(1, 78)[0], probe);
    const nested: Array<Promise<Spectrum[]>> = [];
    const nestedSync: Spectrum[][] = [];
    const results = await spectra(outer, {
      threads: 2,
      onProgress: () => {
        nestedSync.push(spectraSync(probe, { threads: 2 }));
        nested.push(spectra(probe, { threads: 4 }));
      },
    });
    expect(spectraDifference(results, spectraSync(outer, { threads: 1 }))).toBe('');
    expect(nested.length).toBeGreaterThan(0);
    for (const inner of [...nestedSync, ...(await Promise.all(nested))]) expect(spectraDifference(inner, probeBefore)).toBe('');
  });
});

describe('cancellation', () => {
  afterEach(async () => {
    // Whatever was aborted, the engine is idle and gives the answers it gave before.
    expect(await settleThreadCount(baselineThreads, 1000)).toBeLessThanOrEqual(baselineThreads);
    expect(spectraDifference(await spectra(probe, { threads: 2 }), probeBefore)).toBe('');
  });

  it('a batch of ~10 s stops within the bound, runs on the pool\'s threads (none started for it), and later calls still work', async () => {
    const batch: SpectrumJob[] = Array.from({ length: 300 }, (_, i) => ({
      rows: 700, cols: 700, init: { distribution: 'normal', std: 1 }, seed: 3, stream: i,
    }));
    const controller = new AbortController();
    let firstProgress: () => void = () => {};
    const running = new Promise<void>((resolve) => { firstProgress = resolve; });
    const progress: number[] = [];
    const result = rejection(spectra(batch, {
      threads: 4,
      signal: controller.signal,
      onProgress: (done) => { progress.push(done); firstProgress(); },
    }));
    await running;
    const during = threadCount();
    const abortedAt = Date.now();
    controller.abort();
    const error = await result;
    const latency = Date.now() - abortedAt;
    const after = await settleThreadCount(baselineThreads, 1000);
    console.log(`abort of a 300-job batch: ${latency} ms; threads: baseline ${baselineThreads}, during ${during}, after ${after}; jobs done ${progress[progress.length - 1]}`);
    expectAbortError(error);
    expect(latency).toBeLessThan(ABORT_BOUND_MS);
    expect(during).toBeLessThanOrEqual(baselineThreads); // the pool's helpers, started before the baseline, did the work
    expect(progress[progress.length - 1]).toBeLessThan(batch.length);
  });

  // One job of several seconds: the engine must poll the signal inside the job (fill, Gram, reduction, QL,
  // Cholesky, Lanczos, streaming), on one thread and spread over a team.
  const longJobs: Array<[SpectrumRoute, number, number]> = [
    ['full', 3000, 3000],
    ['logDet', 4000, 4000],
    ['top', 8000, 6000],
    ['sumSquares', 30000, 30000],
  ];
  const latencies: string[] = [];
  afterAll(() => console.log(`abort latency inside one long job: ${latencies.join(', ')}`));

  it.each(longJobs.flatMap(([route, rows, cols]) => [1, 2].map((threads) => [route, rows, cols, threads] as const)))(
    'one %s job of %d x %d (threads %d) stops mid-job',
    async (route, rows, cols, threads) => {
      const controller = new AbortController();
      // Rejecting with AbortError (rather than resolving) is the proof that the job was still running.
      const result = rejection(spectra([{ rows, cols, init: { distribution: 'normal', std: 1 }, seed: 5, stream: 5, route }], {
        threads, signal: controller.signal,
      }));
      await new Promise((resolve) => setTimeout(resolve, 150));
      const abortedAt = Date.now();
      controller.abort();
      const error = await result;
      const latency = Date.now() - abortedAt;
      latencies.push(`${route}/${threads}: ${latency} ms`);
      expectAbortError(error);
      expect(latency).toBeLessThan(ABORT_BOUND_MS);
    },
  );

  it('one signal stops six concurrent batches, all with AbortError', async () => {
    const controller = new AbortController();
    let firstProgress: () => void = () => {};
    const running = new Promise<void>((resolve) => { firstProgress = resolve; });
    const results = Array.from({ length: 6 }, (_, b) => rejection(spectra(
      Array.from({ length: 60 }, (_, i): SpectrumJob => ({ rows: 600, cols: 650, init: { distribution: 'normal', std: 1 }, seed: b, stream: i })),
      { threads: 1 + (b % 3), signal: controller.signal, onProgress: () => firstProgress() },
    )));
    await running;
    const abortedAt = Date.now();
    controller.abort();
    const errors = await Promise.all(results);
    const latency = Date.now() - abortedAt;
    console.log(`abort of six concurrent batches: ${latency} ms`);
    errors.forEach(expectAbortError);
    expect(latency).toBeLessThan(ABORT_BOUND_MS);
  });

  it('an abort right after the call (before the engine starts) rejects, and an abort after completion changes nothing', async () => {
    const batch: SpectrumJob[] = Array.from({ length: 100 }, (_, i) => ({ rows: 500, cols: 500, init: { distribution: 'normal', std: 1 }, seed: 1, stream: i }));
    const early = new AbortController();
    const started = Date.now();
    const pending = rejection(spectra(batch, { signal: early.signal }));
    early.abort();
    expectAbortError(await pending);
    expect(Date.now() - started).toBeLessThan(ABORT_BOUND_MS);

    const late = new AbortController();
    const results = await spectra(probe, { signal: late.signal });
    late.abort();
    late.abort();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(spectraDifference(results, probeBefore)).toBe('');
  });

  it('aborting one of two concurrent batches leaves the other complete and exact', async () => {
    const controller = new AbortController();
    const long: SpectrumJob[] = Array.from({ length: 200 }, (_, i) => ({ rows: 600, cols: 600, init: { distribution: 'normal', std: 1 }, seed: 2, stream: i }));
    const survivor = mixedBatches(1, 99)[0].concat(probe);
    let firstProgress: () => void = () => {};
    const running = new Promise<void>((resolve) => { firstProgress = resolve; });
    const aborted = rejection(spectra(long, { threads: 2, signal: controller.signal, onProgress: () => firstProgress() }));
    const kept = spectra(survivor, { threads: 2 });
    await running;
    controller.abort();
    expectAbortError(await aborted);
    expect(spectraDifference(await kept, spectraSync(survivor, { threads: 1 }))).toBe('');
  });
});
