import { score, componentsOfPlans, resolveScoreOptions, scoredMatricesOf } from '../../../src/proxy/score';
import { scoreMany, isScoreError, type ScoreRecord } from '../../../src/proxy/many';
import { CapacityCache } from '../../../src/proxy/cache';
import { createFlexibertScorer, flexibertObjectAt, randomFlexibertColumns } from '../../../src/space/flexibert';
import { buildPlan } from '../../../src/arch';
import { fillNormal } from '../../../src/native';
import { parseInit, resolveInit, streamFor } from '../../../src/weights/init';
import { ZeroLMError } from '../../../src/errors';
import { measureNames } from '../../../src/capacity/measures';

import { toyEntry as entry } from './fixtures';

async function collect(iterable: AsyncIterable<ScoreRecord>): Promise<ScoreRecord[]> {
  const out: ScoreRecord[] = [];
  for await (const record of iterable) out.push(record);
  return out;
}

describe('score', () => {
  it('combines the sub-module sums with alpha and carries its breakdown', async () => {
    const result = await score(entry, { measure: 'mean-sq-sv', alpha: 0.3 });
    expect(result.id).toBe('toy');
    expect(result.layers).toHaveLength(2);
    expect(result.attention).toBeCloseTo(result.layers[0].attention + result.layers[1].attention, 12);
    expect(result.ffn).toBeCloseTo(result.layers[0].ffn + result.layers[1].ffn, 12);
    expect(result.score).toBe(0.3 * result.attention + 0.7 * result.ffn);
    expect(result).toMatchObject({ measure: 'mean-sq-sv', alpha: 0.3, build: 'as-trained', family: 'nas-bench-bert', seed: 0, seedPolicy: 'shape', mode: 'exact' });
    const plan = buildPlan(entry);
    expect(result.params).toBe(plan.params.total);
    expect(result.nonEmbeddingParams).toBe(plan.params.nonEmbedding);
  });

  it('mean-sq-sv of a layer is the sum of (sum of squares / min side) of the exact seeded matrices', async () => {
    const plan = buildPlan(entry);
    const result = await score(plan, { measure: 'mean-sq-sv', seed: 11 });
    let expected = 0;
    for (const spec of plan.layers[0].attention) {
      const distribution = resolveInit(spec.init, spec.rows, spec.cols);
      if (distribution.distribution !== 'normal') throw new Error('test expects normal init');
      const values = fillNormal(spec.rows, spec.cols, { std: distribution.std, seed: 11, stream: streamFor(spec, distribution, 'shape') });
      let sumSquares = 0;
      for (const v of values) sumSquares += v * v;
      expected += sumSquares / Math.min(spec.rows, spec.cols);
    }
    expect(result.layers[0].attention).toBeCloseTo(expected, 9);
  });

  it('is bit-identical across thread counts, and a cache hit equals recomputation', async () => {
    for (const measure of ['log-det', 'effective-rank'] as const) {
      const one = await score(entry, { measure, threads: 1, perHead: true });
      const two = await score(entry, { measure, threads: 2, perHead: true });
      expect(two.score).toBe(one.score);
      const cache = new CapacityCache();
      const first = await score(entry, { measure, cache });
      const misses = cache.misses;
      const second = await score(entry, { measure, cache });
      expect(cache.misses).toBe(misses); // nothing recomputed
      expect(cache.hits).toBeGreaterThan(0);
      expect(second.score).toBe(first.score);
      const fresh = await score(entry, { measure });
      expect(fresh.score).toBe(first.score);
    }
  });

  it("seed policy 'position' draws each matrix afresh; 'shape' shares draws between equal shapes", async () => {
    const shape = await score(entry, { measure: 'spectral', seedPolicy: 'shape' });
    const position = await score(entry, { measure: 'spectral', seedPolicy: 'position' });
    expect(position.score).not.toBe(shape.score);
    // Under 'shape', Q, K, V and O of one layer are the same draw, so the layer sum is 4x one of them.
    const plan = buildPlan(entry);
    const [components] = await componentsOfPlans([{ ...plan, layers: [{ ...plan.layers[0], attention: [plan.layers[0].attention[0]] }] }], resolveScoreOptions({ measure: 'spectral' }));
    expect(shape.layers[0].attention).toBeCloseTo(4 * components.attention, 12);
  });

  it("equal consecutive layers share capacities under 'shape', and are drawn apart under 'position'", async () => {
    const config = { model_type: 'llama', hidden_size: 32, num_hidden_layers: 3, num_attention_heads: 4, intermediate_size: 48, vocab_size: 50 };
    const shape = await score(config, { measure: 'log-det', seedPolicy: 'shape' });
    expect(shape.layers[1]).toEqual(shape.layers[0]);
    expect(shape.layers[2]).toEqual(shape.layers[0]);
    const position = await score(config, { measure: 'log-det', seedPolicy: 'position' });
    expect(position.layers[1].attention).not.toBe(position.layers[0].attention);
    expect(position.layers[2].ffn).not.toBe(position.layers[1].ffn);
    // Each layer alone (a fresh scorer, so nothing carried over) gives the same capacities as within the plan.
    const plan = buildPlan(config);
    for (let i = 0; i < 3; i++) {
      const [alone] = await componentsOfPlans([{ ...plan, layers: [plan.layers[i]] }], resolveScoreOptions({ measure: 'log-det', seedPolicy: 'position' }));
      expect(alone.layers[0]).toEqual(position.layers[i]);
    }
  });

  it('a layer that differs from the previous one only in its head split is scored apart when capacities are per head', async () => {
    const config = { model_type: 'llama', hidden_size: 32, num_hidden_layers: 3, num_attention_heads: [2, 8, 8], intermediate_size: [48, 48, 40], vocab_size: 50 };
    const plan = buildPlan(config);
    for (const perHead of [false, true]) {
      const whole = await score(config, { measure: 'log-det', mode: 'analytic', perHead });
      for (let i = 0; i < 3; i++) {
        const [alone] = await componentsOfPlans([{ ...plan, layers: [plan.layers[i]] }], resolveScoreOptions({ measure: 'log-det', mode: 'analytic', perHead }));
        expect(whole.layers[i]).toEqual(alone.layers[0]);
      }
      // Whole matrices of one shape have one capacity whatever their heads; per-head slices do not.
      if (perHead) expect(whole.layers[1].attention).not.toBe(whole.layers[0].attention);
      else expect(whole.layers[1].attention).toBe(whole.layers[0].attention);
    }
  });

  it('per-head splitting preserves parameter counts and shapes', async () => {
    const plan = buildPlan(entry);
    const query = plan.layers[0].attention.find((m) => m.heads === 4);
    expect(query).toBeDefined();
    const slices = scoredMatricesOf(query!, true);
    expect(slices).toHaveLength(4);
    expect(slices.reduce((s, m) => s + m.rows * m.cols, 0)).toBe(query!.rows * query!.cols);
    const whole = await score(entry, { measure: 'params' });
    const heads = await score(entry, { measure: 'params', perHead: true });
    expect(heads.attention).toBe(whole.attention);
  });

  it('analytic mode agrees with exact mode for every measure on this model', async () => {
    for (const measure of measureNames) {
      const exact = await score(entry, { measure, alpha: 0.5 });
      const analytic = await score(entry, { measure, alpha: 0.5, mode: 'analytic' });
      expect(Math.abs(analytic.score - exact.score) / Math.abs(exact.score)).toBeLessThan(0.05);
    }
  });

  it('bidiagonal mode draws other spectra of the same law: close to exact, deterministic, cached apart', async () => {
    const cache = new CapacityCache();
    for (const measure of measureNames) {
      const exact = await score(entry, { measure, cache });
      const bidiagonal = await score(entry, { measure, mode: 'bidiagonal', cache });
      const again = await score(entry, { measure, mode: 'bidiagonal', cache: new CapacityCache() });
      expect(bidiagonal.mode).toBe('bidiagonal');
      expect(again.score).toBe(bidiagonal.score);
      expect(Math.abs(bidiagonal.score - exact.score) / Math.abs(exact.score)).toBeLessThan(0.05);
      // params is a function of the shape alone; every spectral measure is a different draw.
      if (measure !== 'params') expect(bidiagonal.score).not.toBe(exact.score);
    }
  });

  it('bidiagonal mode refuses a uniform init: an override up front, a builder default naming the matrix', async () => {
    await expect(score(entry, { mode: 'bidiagonal', init: parseInit('xavier-uniform'), measure: 'log-det' })).rejects.toThrow("mode 'bidiagonal' needs a normal init, got init xavier-uniform; use mode 'exact'");
    const modules = { format: 'modules', layers: [{ attention: [{ name: 'q', rows: 8, cols: 8, init: { scheme: 'uniform', bound: 0.1 } }], ffn: [{ rows: 16, cols: 8 }] }] };
    await expect(score(modules, { mode: 'bidiagonal', measure: 'log-det' })).rejects.toThrow("q: mode 'bidiagonal' needs a normal init, got uniform; use mode 'exact'");
  });

  it('refuses an option the measure does not read (eta for anything but pca-k) instead of ignoring it', async () => {
    await expect(score(entry, { measure: 'mean-sq-sv', eta: 0.9 })).rejects.toThrow('measure "mean-sq-sv" takes no option eta (eta applies to pca-k)');
    const pca = await score(entry, { measure: 'pca-k', eta: 0.5 });
    const pcaDefault = await score(entry, { measure: 'pca-k' });
    expect(pca.score).toBeLessThan(pcaDefault.score);
  });

  it('refuses a NaN alpha, an unknown measure and an unknown mode with stable codes', async () => {
    await expect(score(entry, { alpha: Number.NaN })).rejects.toMatchObject({ code: 'E_NON_FINITE' });
    await expect(score(entry, { measure: 'vibes' as never })).rejects.toMatchObject({ code: 'E_ARGUMENT' });
    await expect(score(entry, { mode: 'psychic' as never })).rejects.toBeInstanceOf(ZeroLMError);
  });
});

describe('scoreMany', () => {
  it('yields one record per input, in order, with error records for bad inputs', async () => {
    const inputs = [entry, { hidden_size: -3, nas_config: { encoder_layers: [] } }, { nonsense: true }, { ...entry, id: 'again' }];
    const records = await collect(scoreMany(inputs, { batchSize: 3 }));
    expect(records).toHaveLength(4);
    expect(isScoreError(records[0])).toBe(false);
    expect(isScoreError(records[1])).toBe(true);
    expect(isScoreError(records[2])).toBe(true);
    expect((records[3] as { id: string }).id).toBe('again');
    expect((records[3] as { score: number }).score).toBe((records[0] as { score: number }).score);
    const bad = records[2] as { index: number; error: { code: string; message: string } };
    expect(bad.index).toBe(2);
    expect(bad.error.code).toBe('E_FORMAT');
  });

  it('scores a stream of many inputs with bounded batches and the same numbers as one by one', async () => {
    function* many() {
      for (let i = 0; i < 3000; i++) yield { ...entry, id: String(i) };
    }
    let count = 0;
    let last: number | undefined;
    for await (const record of scoreMany(many(), { batchSize: 256 })) {
      if (isScoreError(record)) throw new Error(record.error.message);
      last ??= record.score;
      expect(record.score).toBe(last);
      count++;
    }
    expect(count).toBe(3000);
  });

  it('stops with an AbortError when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(collect(scoreMany([entry], { signal: controller.signal }))).rejects.toMatchObject({ name: 'AbortError', code: 'E_ABORTED' });
  });
});

describe('columnar FlexiBERT scoring', () => {
  it('agrees bit for bit with the object path, scores and params', async () => {
    const columns = randomFlexibertColumns(300, 4);
    for (const build of ['as-trained', 'as-specified', 'lpzero'] as const) {
      const scorer = await createFlexibertScorer({ measure: 'log-det', alpha: 0.4, build });
      const result = scorer.score(columns);
      const objects = Array.from({ length: columns.count }, (_, i) => flexibertObjectAt(columns, i));
      const records = await collect(scoreMany(objects, { measure: 'log-det', alpha: 0.4, build }));
      records.forEach((record, i) => {
        if (isScoreError(record)) throw new Error(record.error.message);
        expect(result.score[i]).toBe(record.score);
        expect(result.params[i]).toBe(record.params);
      });
    }
  });

  it("refuses seed policy 'position', under which a layer's draws depend on its index (each kind is built at index 0)", async () => {
    await expect(createFlexibertScorer({ seedPolicy: 'position' })).rejects.toMatchObject({ code: 'E_UNSUPPORTED', message: expect.stringMatching(/seedPolicy 'shape'/) });
    // Indeed the object path gives another score under 'position' for a layer away from index 0.
    const deep = { hidden_size: 128, nas_config: { encoder_layers: [entry.nas_config.encoder_layers[0], entry.nas_config.encoder_layers[0]] } };
    const shaped = await score(deep, { seedPolicy: 'shape', measure: 'spectral' });
    const positioned = await score(deep, { seedPolicy: 'position', measure: 'spectral' });
    expect(positioned.layers[1].attention).not.toBe(shaped.layers[1].attention);
  });

  it('refuses out-of-range column values with their index', async () => {
    const scorer = await createFlexibertScorer({ mode: 'analytic' });
    const columns = randomFlexibertColumns(10, 1);
    columns.operation[columns.maxLayers * 3] = 99;
    expect(() => scorer.score(columns)).toThrow(/operation\[12\] = 99 is out of range \(candidate 3, layer 0\)/);
  });
});

describe('ScoreSerializer', () => {
  it('writes exactly what JSON.stringify writes, for scores and error records', async () => {
    const { ScoreSerializer } = await import('../../../src/proxy/serialize');
    const serializer = new ScoreSerializer();
    const inputs = [
      entry,
      { ...entry, id: 'quote"and\\slash\u2028' },
      { hidden_size: 128, nas_config: { encoder_layers: [entry.nas_config.encoder_layers[1]] } },
      { bogus: 1 },
    ];
    for (const options of [{}, { measure: 'log-det' as const, alpha: -0.25, perHead: true }, { mode: 'analytic' as const, seed: 7 }]) {
      for await (const record of scoreMany(inputs, options)) expect(serializer.line(record)).toBe(JSON.stringify(record));
      const withWhere = { ...(await score(entry, options)), source: 'file.jsonl', line: 12 };
      expect(serializer.line(withWhere)).toBe(JSON.stringify(withWhere));
    }
  });
});
