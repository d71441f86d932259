import { AbortError, ZeroLMError } from '../../../src/errors';
import { caughtZeroLMError } from '../../helpers/zerolm-error';
import {
  DEFAULT_MEMORY_LIMIT_BYTES, estimateJobBytes, fillNormal, fillUniform, spectra, spectraSync, SpectrumJob,
} from '../../../src/native';

const good = { rows: 4, cols: 3, init: { distribution: 'normal', std: 1 }, seed: 1, stream: 2 } as const;

const codeOf = (run: () => unknown): string | undefined => caughtZeroLMError(run)?.code;

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('argument validation (before anything reaches C++)', () => {
  const cases: Array<[string, unknown, string, string]> = [
    ['zero rows', [{ ...good, rows: 0 }], 'E_SHAPE', 'jobs[0].rows'],
    ['negative cols', [good, { ...good, cols: -3 }], 'E_SHAPE', 'jobs[1].cols'],
    ['fractional rows', [good, good, good, { ...good, rows: 2.5 }], 'E_SHAPE', 'jobs[3].rows'],
    ['string cols', [{ ...good, cols: '3' }], 'E_SHAPE', 'jobs[0].cols'],
    ['NaN rows', [{ ...good, rows: NaN }], 'E_SHAPE', 'jobs[0].rows'],
    ['values of the wrong length', [{ rows: 2, cols: 2, values: new Float32Array(3) }], 'E_SHAPE', 'jobs[0].values'],
    ['values not a Float32Array', [{ rows: 1, cols: 2, values: new Float64Array(2) }], 'E_ARGUMENT', 'jobs[0].values'],
    ['values and init together', [{ ...good, values: new Float32Array(12) }], 'E_ARGUMENT', 'jobs[0]'],
    ['neither values nor init', [{ rows: 1, cols: 1 }], 'E_ARGUMENT', 'jobs[0]'],
    ['negative seed', [{ ...good, seed: -1 }], 'E_ARGUMENT', 'jobs[0].seed'],
    ['seed above 2^32 - 1', [{ ...good, seed: 2 ** 32 }], 'E_ARGUMENT', 'jobs[0].seed'],
    ['fractional stream', [{ ...good, stream: 0.5 }], 'E_ARGUMENT', 'jobs[0].stream'],
    ['missing stream', [{ ...good, stream: undefined }], 'E_ARGUMENT', 'jobs[0].stream'],
    ['infinite std', [{ ...good, init: { distribution: 'normal', std: Infinity } }], 'E_NON_FINITE', 'jobs[0].init.std'],
    ['NaN bound', [{ ...good, init: { distribution: 'uniform', bound: NaN } }], 'E_NON_FINITE', 'jobs[0].init.bound'],
    ['zero std', [{ ...good, init: { distribution: 'normal', std: 0 } }], 'E_ARGUMENT', 'jobs[0].init.std'],
    ['negative bound', [{ ...good, init: { distribution: 'uniform', bound: -1 } }], 'E_ARGUMENT', 'jobs[0].init.bound'],
    ['string std', [{ ...good, init: { distribution: 'normal', std: '1' } }], 'E_ARGUMENT', 'jobs[0].init.std'],
    ['unknown distribution', [{ ...good, init: { distribution: 'cauchy', scale: 1 } }], 'E_ARGUMENT', 'jobs[0].init.distribution'],
    ['unknown route', [{ ...good, route: 'nuclear' }], 'E_ARGUMENT', 'jobs[0].route'],
    ['a job that is not an object', [good, 7], 'E_ARGUMENT', 'jobs[1]'],
    ['jobs not an array', { 0: good }, 'E_ARGUMENT', 'jobs'],
  ];

  it.each(cases)('%s', (_name, jobs, code, field) => {
    const run = (): unknown => spectraSync(jobs as SpectrumJob[]);
    expect(codeOf(run)).toBe(code);
    expect(messageOf(run)).toContain(field);
  });

  it.each(cases)('%s (async rejects alike)', async (_name, jobs, code) => {
    await expect(spectra(jobs as SpectrumJob[])).rejects.toMatchObject({ code, name: 'ZeroLMError' });
  });

  it('reports the index of the first non-finite value', () => {
    const values = new Float32Array(12);
    values[5] = NaN;
    values[9] = Infinity;
    let caught: unknown;
    try {
      spectraSync([good, { rows: 3, cols: 4, values }]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ZeroLMError);
    expect((caught as ZeroLMError).code).toBe('E_NON_FINITE');
    expect((caught as ZeroLMError).message).toContain('jobs[1].values[5]');
    expect((caught as ZeroLMError).location).toEqual({ field: 'jobs[1].values[5]', index: 5 });
    values[5] = 0;
    values[9] = -Infinity;
    expect(messageOf(() => spectraSync([{ rows: 3, cols: 4, values }]))).toContain('values[9]');
  });

  it('checks options', () => {
    for (const threads of [0, 1.5, -1, 2000, '2']) {
      expect(codeOf(() => spectraSync([good], { threads: threads as number }))).toBe('E_ARGUMENT');
    }
    expect(codeOf(() => spectraSync([good], { memoryLimitBytes: -5 }))).toBe('E_ARGUMENT');
    expect(codeOf(() => spectraSync([good], 'fast' as never))).toBe('E_ARGUMENT');
  });

  it('checks fill arguments', () => {
    expect(codeOf(() => fillNormal(0, 3, { std: 1, seed: 1, stream: 1 }))).toBe('E_SHAPE');
    expect(codeOf(() => fillNormal(2, 3, { std: NaN, seed: 1, stream: 1 }))).toBe('E_NON_FINITE');
    expect(codeOf(() => fillNormal(2, 3, { std: -2, seed: 1, stream: 1 }))).toBe('E_ARGUMENT');
    expect(codeOf(() => fillUniform(2, 3, { bound: 1, seed: 1.5, stream: 1 }))).toBe('E_ARGUMENT');
    expect(codeOf(() => fillUniform(2, 3, { bound: 1, seed: 1, stream: 2 ** 32 }))).toBe('E_ARGUMENT');
  });
});

describe('memory guard', () => {
  it('refuses a batch over the limit before allocating, naming the bytes it needs', async () => {
    // 100000 x 100000 recipe: 40 GB of values plus an 80 GB Gram matrix. Refused at once.
    const huge: SpectrumJob = { rows: 100000, cols: 100000, init: { distribution: 'normal', std: 1 }, seed: 0, stream: 0 };
    const bytes = estimateJobBytes(huge);
    expect(bytes).toBeGreaterThan(1e11);
    expect(DEFAULT_MEMORY_LIMIT_BYTES).toBe(4 * 1024 ** 3);
    const started = Date.now();
    await expect(spectra([huge])).rejects.toMatchObject({ code: 'E_MEMORY_LIMIT' });
    expect(Date.now() - started).toBeLessThan(1000);
    // The matrix alone could not be held as float32 within the limit: refused with its own size.
    expect(messageOf(() => spectraSync([huge]))).toContain(`jobs[0] is a 100000 x 100000 matrix: ${100000 * 100000 * 4} bytes`);
    // Under a limit that holds the matrix but not the batch's working memory, the batch total is named.
    const limit = 100000 * 100000 * 4;
    expect(messageOf(() => spectraSync([huge], { memoryLimitBytes: limit }))).toContain(String(bytes + 100000 * 8 + 64));
  });

  it('refuses a streamed matrix too large to hold as float32, on every route', () => {
    const streamed: SpectrumJob = { rows: 1000000, cols: 1000000, init: { distribution: 'normal', std: 1 }, seed: 0, stream: 0, route: 'sumSquares' };
    expect(codeOf(() => spectraSync([streamed]))).toBe('E_MEMORY_LIMIT');
    expect(messageOf(() => spectraSync([streamed]))).toMatch(/4000000000000 bytes \(3\.64 TiB\) as float32/);
  });

  it('uses the limit the caller gives, and counts jobs that run at the same time', () => {
    const job: SpectrumJob = { rows: 200, cols: 100, init: { distribution: 'normal', std: 1 }, seed: 0, stream: 0 };
    const each = estimateJobBytes(job);
    // 200 x 100 floats, a 100 x 100 double Gram matrix, packed panels and the eigen-solver's vectors.
    expect(each).toBeGreaterThan(200 * 100 * 4 + 100 * 100 * 8);
    expect(codeOf(() => spectraSync([job], { memoryLimitBytes: each }))).toBe('E_MEMORY_LIMIT');
    expect(codeOf(() => spectraSync([job], { memoryLimitBytes: each + 2000 }))).toBeUndefined();
    // Two threads, two jobs: both may be in flight.
    expect(codeOf(() => spectraSync([job, job], { threads: 2, memoryLimitBytes: each + 2000 }))).toBe('E_MEMORY_LIMIT');
    expect(codeOf(() => spectraSync([job, job], { threads: 1, memoryLimitBytes: each + 2000 }))).toBeUndefined();
  });

  it('knows that the streamed sumSquares route holds no matrix', () => {
    const job: SpectrumJob = { rows: 50000, cols: 50000, init: { distribution: 'normal', std: 1 }, seed: 0, stream: 0, route: 'sumSquares' };
    expect(estimateJobBytes(job)).toBeLessThan(1 << 20);
  });
});

describe('cancellation', () => {
  const longBatch: SpectrumJob[] = Array.from({ length: 40 }, (_, i) => ({
    rows: 700, cols: 700, init: { distribution: 'normal', std: 1 }, seed: 1, stream: i,
  }));

  it('an AbortSignal stops a long batch promptly with AbortError', async () => {
    const controller = new AbortController();
    const progress: number[] = [];
    const running = spectra(longBatch, { threads: 2, signal: controller.signal, onProgress: (done) => progress.push(done) });
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    let caught: unknown;
    try {
      await running;
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AbortError);
    expect((caught as AbortError).name).toBe('AbortError');
    expect((caught as AbortError).code).toBe('E_ABORTED');
    expect(Date.now() - started).toBeLessThan(2000); // the whole batch takes several seconds
    expect(progress.length).toBeLessThan(longBatch.length);
    // The engine is idle again and usable.
    expect(spectraSync([good])[0].rows).toBe(4);
  });

  it('an already aborted signal rejects without starting', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(spectra(longBatch, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError', code: 'E_ABORTED' });
  });

  it('a throwing onProgress stops the batch and its error comes back', async () => {
    const problem = new Error('progress bar broke');
    await expect(
      spectra(longBatch.slice(0, 6), { threads: 1, onProgress: () => { throw problem; } }),
    ).rejects.toBe(problem);
  });
});

describe('missing binary', () => {
  it('throws one E_NATIVE_MISSING that says how to build it', () => {
    const saved = process.env.ZEROLM_NATIVE_PATH;
    process.env.ZEROLM_NATIVE_PATH = '/nonexistent/zerolm_native.node';
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const isolated = require('../../../src/native') as typeof import('../../../src/native');
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const errors = require('../../../src/errors') as typeof import('../../../src/errors');
        let caught: unknown;
        try {
          isolated.simd();
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(errors.ZeroLMError);
        expect((caught as ZeroLMError).code).toBe('E_NATIVE_MISSING');
        expect((caught as ZeroLMError).message).toContain('npm rebuild zerolm');
      });
    } finally {
      if (saved === undefined) delete process.env.ZEROLM_NATIVE_PATH;
      else process.env.ZEROLM_NATIVE_PATH = saved;
    }
  });
});
