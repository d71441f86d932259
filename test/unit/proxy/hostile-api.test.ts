/**
 * The library API against hostile callers: producers that throw, streams to stop, objects that throw when read,
 * callbacks that throw, overflowing scores. Whatever crosses the API is a ZeroLMError with a code, and no input
 * that was read is lost.
 */
import { readArchitectures } from '../../../src/io/input';
import { calibrateAlpha } from '../../../src/calibrate';
import { ZeroLMError } from '../../../src/errors';
import { createFlexibertScorer, randomFlexibertColumns } from '../../../src/space/flexibert';
import * as arch from '../../../src/arch';
import { parseInit } from '../../../src/weights/init';
import * as scoring from '../../../src/proxy/score';
import { isScoreError, scoreBatches, scoreMany, type ScoreRecord } from '../../../src/proxy/many';
import { zerolmRejectionOf } from '../../helpers/zerolm-error';
import { toyEntry } from './fixtures';

const entry = (id: string) => ({ ...toyEntry, id });

async function collect<T>(iterable: AsyncIterable<T>, into: T[] = []): Promise<T[]> {
  for await (const item of iterable) into.push(item);
  return into;
}

describe('a throwing producer', () => {
  async function* throwsAfter(count: number, error: unknown): AsyncGenerator<unknown> {
    for (let i = 0; i < count; i++) yield entry(`in-${i}`);
    throw error;
  }

  it('scoreMany: the inputs read before are scored and yielded, then the error comes as a ZeroLMError with its cause', async () => {
    const cause = new Error('producer broke');
    const records: ScoreRecord[] = [];
    const error = await zerolmRejectionOf(() => collect(scoreMany(throwsAfter(5, cause), { mode: 'analytic', batchSize: 2 }), records));
    expect(records.map((r) => r.id)).toEqual(['in-0', 'in-1', 'in-2', 'in-3', 'in-4']);
    expect(records.every((r) => !isScoreError(r))).toBe(true);
    expect(error.code).toBe('E_IO');
    expect(error.message).toMatch(/stopped after 5 .*producer broke/);
    expect(error.cause).toBe(cause);
  });

  it('scoreBatches: the same, and a ZeroLMError of the producer\'s own comes through as it is', async () => {
    const own = new ZeroLMError('E_PARSE', 'my parse failed');
    async function* batches(): AsyncGenerator<unknown[]> {
      yield [entry('a'), entry('b')];
      yield [entry('c')];
      throw own;
    }
    const batchesOut: ScoreRecord[][] = [];
    const error = await zerolmRejectionOf(() => collect(scoreBatches(batches(), { mode: 'analytic', batchSize: 100 }), batchesOut));
    expect(batchesOut.flat().map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(error).toBe(own);
  });

  it('a synchronous iterable that throws is handled the same way', async () => {
    function* inputs(): Generator<unknown> {
      yield entry('x');
      throw new RangeError('sync producer broke');
    }
    const records: ScoreRecord[] = [];
    const error = await zerolmRejectionOf(() => collect(scoreMany(inputs(), { mode: 'analytic' }), records));
    expect(records.map((r) => r.id)).toEqual(['x']);
    expect(error.cause).toBeInstanceOf(RangeError);
  });
});

describe('stopping', () => {
  it('a timer-driven abort stops scoreMany over a long stream of cheap (analytic, memoised) inputs', async () => {
    const total = 20_000_000;
    function* many(): Generator<unknown> {
      for (let i = 0; i < total; i++) yield toyEntry;
    }
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    let seen = 0;
    const error = await zerolmRejectionOf(async () => {
      for await (const record of scoreMany(many(), { mode: 'analytic', signal: controller.signal })) {
        if (!isScoreError(record)) seen++;
      }
    });
    expect(error.code).toBe('E_ABORTED');
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(total);
  }, 60000);
});

describe('errors are ours', () => {
  const throwingGetter = Object.defineProperty({ ...toyEntry }, 'hidden_size', {
    get() {
      throw new TypeError('getter exploded');
    },
    enumerable: true,
  });
  const throwingProxy = new Proxy(
    {},
    {
      get() {
        throw new Error('proxy trap exploded');
      },
      has() {
        throw new Error('proxy trap exploded');
      },
      ownKeys() {
        throw new Error('proxy trap exploded');
      },
    },
  );

  it.each([
    ['a throwing getter', throwingGetter, /getter exploded/],
    ['a throwing Proxy', throwingProxy, /proxy trap exploded/],
  ])('score() of %s is E_FORMAT with the cause kept', async (_name, input, message) => {
    const error = await zerolmRejectionOf(() => scoring.score(input, { mode: 'analytic' }));
    expect(error.code).toBe('E_FORMAT');
    expect(error.message).toMatch(message);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('scoreMany: an input that throws when read is its own error record; its neighbours are scored', async () => {
    const records = await collect(scoreMany([entry('a'), throwingProxy, throwingGetter, entry('d')], { mode: 'analytic' }));
    expect(records.map((r) => (isScoreError(r) ? r.error.code : r.id))).toEqual(['a', 'E_FORMAT', 'E_FORMAT', 'd']);
    expect(records.map((r) => (isScoreError(r) ? r.index : undefined))).toEqual([undefined, 1, 2, undefined]);
  });

  it.each([42, 'a string', null, { not: 'iterable' }])('scoreMany(%p) is E_ARGUMENT', async (inputs) => {
    const error = await zerolmRejectionOf(() => collect(scoreMany(inputs as never)));
    expect(error.code).toBe('E_ARGUMENT');
    expect(error.message).toMatch(/inputs must be an iterable/);
  });

  it('null options and a non-string path are E_ARGUMENT, not TypeErrors', async () => {
    expect((await zerolmRejectionOf(() => scoring.score(toyEntry, null as never))).code).toBe('E_ARGUMENT');
    expect((await zerolmRejectionOf(() => createFlexibertScorer(null as never))).code).toBe('E_ARGUMENT');
    expect((await zerolmRejectionOf(() => collect(readArchitectures(42 as never)))).code).toBe('E_ARGUMENT');
    let caught: unknown;
    try {
      calibrateAlpha(null as never);
    } catch (error) {
      caught = error;
    }
    expect((caught as ZeroLMError).code).toBe('E_ARGUMENT');
  });

  it('an exception from onProgress is wrapped, its cause kept', async () => {
    const cause = new Error('progress bar broke');
    const error = await zerolmRejectionOf(() =>
      collect(scoreMany([entry('a')], { mode: 'analytic', onProgress: () => {
        throw cause;
      } })),
    );
    expect(error.code).toBe('E_ARGUMENT');
    expect(error.message).toMatch(/onProgress callback threw: progress bar broke/);
    expect(error.cause).toBe(cause);
  });

  it('the columnar scorer refuses null and non-objects as E_ARGUMENT', async () => {
    const scorer = await createFlexibertScorer({ mode: 'analytic' });
    for (const columns of [null, undefined, 42]) {
      let caught: unknown;
      try {
        scorer.score(columns as never);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ZeroLMError);
      expect((caught as ZeroLMError).code).toBe('E_ARGUMENT');
    }
    expect(() => scorer.score(randomFlexibertColumns(2, 1), { score: null } as never)).toThrow(/out\.score must be a Float64Array/);
  });

  it('an unexpected exception inside the scorer is E_INTERNAL (a bug), not an input error, and keeps its cause', async () => {
    const bug = new TypeError('undefined is not a function');
    const spy = jest.spyOn(arch, 'buildPlan').mockImplementation(() => {
      throw bug;
    });
    try {
      const records = await collect(scoreMany([entry('a')], { mode: 'analytic' }));
      expect(records).toHaveLength(1);
      const record = records[0];
      expect(isScoreError(record) && record.error.code).toBe('E_INTERNAL');
      const error = await zerolmRejectionOf(() => scoring.score(entry('b'), { mode: 'analytic' }));
      expect(error.code).toBe('E_INTERNAL');
      expect(error.cause).toBe(bug);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('non-finite scores', () => {
  it('an alpha that overflows the score is E_NON_FINITE, per input, never a null score', async () => {
    // Capacities near 1 with init normal:1 (attention and ffn differ by far more than 1): alpha * (attention - ffn) overflows.
    const options = { mode: 'analytic' as const, alpha: 1e308, init: parseInit('normal:1') };
    const error = await zerolmRejectionOf(() => scoring.score(toyEntry, options));
    expect(error.code).toBe('E_NON_FINITE');
    expect(error.message).toMatch(/the score is (NaN|-?Infinity)/);
    const records = await collect(scoreMany([entry('a'), entry('b')], options));
    expect(records.map((r) => (isScoreError(r) ? r.error.code : 'scored'))).toEqual(['E_NON_FINITE', 'E_NON_FINITE']);
  });

  it('the columnar scorer refuses one too', async () => {
    const scorer = await createFlexibertScorer({ mode: 'analytic', alpha: 1e308, init: parseInit('normal:1') });
    expect(() => scorer.score(randomFlexibertColumns(3, 2))).toThrow(expect.objectContaining({ code: 'E_NON_FINITE' }));
  });
});

describe('per-input cost', () => {
  it('an input that would score more than MAX_SCORED_MATRICES matrices (per head) is refused before any per-matrix work', async () => {
    const config = { model_type: 'llama', vocab_size: 100, hidden_size: 64, num_hidden_layers: 8192, num_attention_heads: 64, intermediate_size: 128 };
    const error = await zerolmRejectionOf(() => scoring.score(config, { mode: 'analytic', perHead: true }));
    expect(error.code).toBe('E_MEMORY_LIMIT');
    // 64 query, 64 key, 64 value and 64 output head slices and 3 FFN matrices per layer.
    expect(error.message).toBe(`8192 layers with ${8192 * (4 * 64 + 3)} matrices to score (per head) exceed the per-input limit of ${scoring.MAX_SCORED_MATRICES}`);
    // Without per-head slices the same model is 7 matrices a layer, and is scored.
    expect((await scoring.score(config, { mode: 'analytic' })).layers).toHaveLength(8192);
  });
});

describe('options no input could be scored with are refused up front', () => {
  it.each<[string, scoring.ScoreOptions, string, RegExp]>([
    ['an unknown build', { build: 'bogus' as never }, 'E_UNSUPPORTED', /build "bogus" is not a build of any family/],
    ['a build of another family', { build: 'lpzero', family: 'hf' }, 'E_UNSUPPORTED', /not a build of family hf/],
    ['an unknown family', { family: 'rnn' as never }, 'E_UNSUPPORTED', /family "rnn" is not supported/],
    ['an init std no float32 weight can have', { init: parseInit('normal:1e300') }, 'E_ARGUMENT', /init std 1e\+300 is above/],
    ['an unknown init scheme', { init: { scheme: 'laplace' } as never }, 'E_ARGUMENT', /init\.scheme must be one of/],
  ])('%s', (_name, options, code, message) => {
    let caught: unknown;
    try {
      scoring.resolveScoreOptions(options);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ZeroLMError);
    expect((caught as ZeroLMError).code).toBe(code);
    expect((caught as ZeroLMError).message).toMatch(message);
  });

  it('a build of some family is accepted without a family (other families\' inputs then fail one by one)', () => {
    expect(() => scoring.resolveScoreOptions({ build: 'lpzero' })).not.toThrow();
  });
});

describe('parseInit is strict', () => {
  it.each(['normal:0.02:3', 'normal:0x10', 'normal: 0.02', 'normal:', 'uniform:Infinity', 'xavier-normal:1:2'])('refuses %j', (text) => {
    expect(() => parseInit(text)).toThrow(expect.objectContaining({ code: 'E_ARGUMENT' }));
  });
  it('accepts decimal and exponent forms', () => {
    expect(parseInit('normal:1e-2')).toEqual({ scheme: 'normal', std: 0.01 });
    expect(parseInit('uniform:.5')).toEqual({ scheme: 'uniform', bound: 0.5 });
  });
});
