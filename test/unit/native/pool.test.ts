/**
 * The engine's process-wide thread pool: concurrency() reads and sets its limit (validated, ZEROLM_CONCURRENCY sets
 * the initial one), results do not depend on it, helper threads are persistent and never more than the limit allows,
 * and availableCores() is the one core count, the same as Node's.
 */
import { spawnSync } from 'child_process';
import { availableParallelism } from 'os';
import { ZeroLMError } from '../../../src/errors';
import { availableCores, concurrency, defaultThreads, spectra, spectraSync, SpectrumJob } from '../../../src/native';
import { childEnvironment, compiledNativeModule, settleThreadCount, spectraDifference, startEnginePool, threadCount } from './hostile-helpers';

const initial = concurrency();
afterAll(() => concurrency(initial));

function jobs(count: number, seed: number): SpectrumJob[] {
  const routes = ['full', 'logDet', 'top', 'sumSquares'] as const;
  return Array.from({ length: count }, (_, i) => ({
    rows: 20 + ((i * 37) % 90), cols: 15 + ((i * 53) % 80), init: { distribution: 'normal', std: 0.5 }, seed, stream: i, route: routes[i % 4],
  }));
}

function errorOf(call: () => unknown): ZeroLMError {
  try {
    call();
  } catch (error) {
    return error as ZeroLMError;
  }
  throw new Error('expected a throw');
}

describe('concurrency()', () => {
  it('starts at the available cores (no ZEROLM_CONCURRENCY here), and batches default to it', () => {
    if (process.env.ZEROLM_CONCURRENCY) return;
    expect(initial).toBe(availableCores());
    expect(defaultThreads()).toBe(initial);
  });

  it('sets the limit and returns it; reading does not change it', () => {
    expect(concurrency(3)).toBe(3);
    expect(concurrency()).toBe(3);
    expect(defaultThreads()).toBe(3);
    expect(concurrency(1)).toBe(1);
    expect(concurrency(initial)).toBe(initial);
  });

  it.each([0, -1, 1.5, 1025, Number.NaN, Number.POSITIVE_INFINITY, '2', null])('refuses %p with E_ARGUMENT naming the field', (value) => {
    const before = concurrency();
    const error = errorOf(() => (concurrency as (limit?: unknown) => number)(value));
    expect(error).toBeInstanceOf(ZeroLMError);
    expect(error.code).toBe('E_ARGUMENT');
    expect(error.message).toMatch(/^concurrency must be an integer from 1 to 1024/);
    expect(error.location?.field).toBe('concurrency');
    expect(concurrency()).toBe(before);
  });

  it('results are bit-identical under limits 1, 2 and 3, for concurrent async batches and sync ones', async () => {
    const batches = [jobs(12, 1), jobs(3, 2), jobs(7, 3), [{ rows: 260, cols: 200, init: { distribution: 'normal' as const, std: 1 }, seed: 4, stream: 0 }]];
    concurrency(1);
    const reference = batches.map((batch) => spectraSync(batch, { threads: 1 }));
    for (const limit of [1, 2, 3]) {
      concurrency(limit);
      const concurrent = await Promise.all(batches.flatMap((batch) => [spectra(batch, { threads: 4 }), spectra(batch)]));
      concurrent.forEach((results, i) => expect(spectraDifference(results, reference[Math.floor(i / 2)])).toBe(''));
      batches.forEach((batch, i) => expect(spectraDifference(spectraSync(batch, { threads: 8 }), reference[i])).toBe(''));
    }
    concurrency(initial);
  });

  it('helper threads persist between calls, never exceed limit - 1, and retire when the limit is lowered', async () => {
    concurrency(1);
    const floor = await settleThreadCount(0, 300); // every helper retired: only the process's own threads are left
    concurrency(3);
    startEnginePool({ spectraSync, concurrency });
    const warm = threadCount();
    expect(warm - floor).toBeLessThanOrEqual(2);
    // Six concurrent batches asking for 8 threads each start no thread of their own.
    let peak = 0;
    const sampler = setInterval(() => { peak = Math.max(peak, threadCount()); }, 2);
    await Promise.all(Array.from({ length: 6 }, (_, b) => spectra(jobs(24, 10 + b), { threads: 8 })));
    clearInterval(sampler);
    expect(Math.max(peak, threadCount())).toBeLessThanOrEqual(warm);
    concurrency(1);
    expect(await settleThreadCount(floor, 2000)).toBe(floor);
    concurrency(initial);
  });
});

describe('ZEROLM_CONCURRENCY and availableCores()', () => {
  const run = (environment: Record<string, string>, script: string): { status: number | null; stdout: string; stderr: string } => {
    const result = spawnSync(process.execPath, ['-e', script], {
      env: { ...childEnvironment(), ...environment }, encoding: 'utf8', timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const native = JSON.stringify(compiledNativeModule());

  it('sets the initial limit', () => {
    const result = run({ ZEROLM_CONCURRENCY: '3' }, `const n = require(${native}); console.log(n.concurrency(), n.defaultThreads())`);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('3 3');
  });

  it.each(['0', '2.5', 'four', '1025', ' 2'])('%p is refused with E_ARGUMENT naming the variable', (value) => {
    const script = `const n = require(${native}); try { n.concurrency(); console.log('no error'); } catch (e) { console.log(e.code + ' ' + e.message); }`;
    const result = run({ ZEROLM_CONCURRENCY: value }, script);
    expect(result.stdout.trim()).toMatch(/^E_ARGUMENT ZEROLM_CONCURRENCY must be an integer from 1 to 1024/);
  });

  it('availableCores() is the count Node gives (both read the CPU affinity)', () => {
    expect(availableCores()).toBe(availableParallelism());
  });

  it('follows the affinity mask: one core under taskset -c 0 (where taskset exists)', () => {
    if (spawnSync('taskset', ['-V']).error) return;
    const result = spawnSync('taskset', ['-c', '0', process.execPath, '-e', `const n = require(${native}); console.log(n.availableCores(), n.concurrency())`], {
      env: childEnvironment(), encoding: 'utf8', timeout: 60_000,
    });
    expect(result.stdout.trim()).toBe('1 1');
  });
});
