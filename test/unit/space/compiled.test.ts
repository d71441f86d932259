import type { BuildName } from '../../../src/arch/types';
import { smallLts, smallTxl } from '../../helpers/spaces';
import { builtinSpace, compileSpace, readSpaceDefinition, type SpaceDefinition } from '../../../src/space';
import { score } from '../../../src/proxy/score';
import { CapacityCache } from '../../../src/proxy/cache';
import { seededRandom } from '../../../src/stats/random';
import { forwardFlops } from '../../../src/eval/flops';
import { buildPlan } from '../../../src/arch';
import { zerolmErrorOf } from '../../helpers/zerolm-error';

/** A small grouped-query Llama space (the GPT-2-flex one is shared: test/helpers/spaces.ts). */
const smallDecoder: SpaceDefinition = {
  family: 'hf',
  fixed: { model_type: 'llama', vocab_size: 100, tie_word_embeddings: false, initializer_range: 0.02 },
  globals: { hidden_size: [32, 64] },
  depths: [1, 3],
  layerChoices: { num_attention_heads: [2, 4], num_key_value_heads: [1, 2], intermediate_size: [64, 128] },
};

async function expectAgreement(space: Parameters<typeof compileSpace>[0], options: Parameters<typeof compileSpace>[1], count: number): Promise<void> {
  const compiled = await compileSpace(space, options);
  const candidates = compiled.randomCandidates(count, seededRandom(7));
  const out = compiled.score(candidates);
  for (let i = 0; i < count; i++) {
    const architecture = compiled.architectureOf(candidates, i);
    const alone = await score(architecture, { ...options, family: compiled.definition.family, build: compiled.definition.build as BuildName | undefined });
    expect(out.score[i]).toBe(alone.score);
    expect(out.attention[i]).toBe(alone.attention);
    expect(out.ffn[i]).toBe(alone.ffn);
    expect(out.params[i]).toBe(alone.params);
    expect(out.nonEmbeddingParams[i]).toBe(alone.nonEmbeddingParams);
    expect(out.flops[i]).toBe(forwardFlops(buildPlan(architecture, { family: compiled.definition.family, build: compiled.definition.build as BuildName | undefined }), options?.sequenceLength));
  }
}

describe('compiled spaces agree bit for bit with score() one candidate at a time', () => {
  it('nas-bench-bert, analytic and exact, every build', async () => {
    for (const build of ['as-trained', 'as-specified', 'lpzero']) {
      await expectAgreement({ ...builtinSpace('nas-bench-bert'), build }, { mode: 'analytic', alpha: 0.3 }, 40);
    }
    await expectAgreement('nas-bench-bert', { mode: 'exact', measure: 'mean-sq-sv', seed: 3 }, 40);
  });

  it('lts-gpt2 (the sampler\'s ranges) and hf-decoder (narrower ranges: a quicker compile), analytic', async () => {
    await expectAgreement('lts-gpt2', { mode: 'analytic', sequenceLength: 100 }, 40);
    await expectAgreement(builtinSpace('hf-decoder', { layers: [2, 6], hidden: [512, 1024, 256] }), { mode: 'analytic', measure: 'log-det' }, 30);
  });

  it('lts-txl (the sampler\'s ranges, analytic) and a small transformer-xl space (exact weights, per head)', async () => {
    await expectAgreement('lts-txl', { mode: 'analytic' }, 40);
    await expectAgreement('lts-txl', { mode: 'analytic', measure: 'mean-sq-sv', alpha: 0.4, sequenceLength: 300 }, 20);
    await expectAgreement(smallTxl, { mode: 'exact', measure: 'log-det', seed: 5 }, 30);
    await expectAgreement(smallTxl, { mode: 'exact', perHead: true, seed: 6 }, 20);
  });

  it('small gpt2-flex and hf spaces, exact and per head, with embedding globals', async () => {
    await expectAgreement(smallLts, { mode: 'exact', measure: 'effective-rank', seed: 1 }, 30);
    await expectAgreement(smallLts, { mode: 'analytic', perHead: true, alpha: 0.8 }, 30);
    await expectAgreement(smallDecoder, { mode: 'exact', measure: 'spectral', seed: 2 }, 30);
  });

  it('a cached exact compile computes nothing again and gives the same tables', async () => {
    const cache = new CapacityCache();
    const first = await compileSpace(smallLts, { mode: 'exact', cache });
    const misses = cache.misses;
    const second = await compileSpace(smallLts, { mode: 'exact', cache });
    expect(cache.misses).toBe(misses);
    expect(second.tables.attention).toEqual(first.tables.attention);
  });
});

describe('built-in spaces span their samplers', () => {
  it.each([['lts-gpt2'], ['lts-txl']])('%s: every sampled architecture is a candidate of the space (same fixed fields, choices within the lists)', (name) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { sampleSpace } = require('../../../src/search/sample');
    const space = builtinSpace(name);
    for (const sampled of sampleSpace(name, { count: 300, seed: 4 }) as Iterable<Record<string, unknown>>) {
      for (const [field, value] of Object.entries(space.fixed ?? {})) expect([field, sampled[field]]).toEqual([field, value]);
      for (const [field, values] of Object.entries({ ...space.globals, ...space.embeddingGlobals })) expect(values).toContain(sampled[field]);
      expect(space.depths).toContain(sampled.n_layer);
      for (const [field, values] of Object.entries(space.layerChoices)) {
        for (const value of sampled[field] as unknown[]) expect(values).toContain(value);
      }
    }
  });
});

describe('seed policies', () => {
  it.each([['nas-bench-bert'], ['lts-txl']])("%s: 'shape' compiles; 'position' is refused with the reason", async (name) => {
    await expect(compileSpace(name, { seedPolicy: 'shape', mode: 'analytic' })).resolves.toBeDefined();
    const error = await compileSpace(name, { seedPolicy: 'position' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_UNSUPPORTED' });
    expect((error as Error).message).toMatch(/seedPolicy 'shape'/);
  });
});

describe('tables for exact search', () => {
  it('a candidate is its base plus its kinds\' entries, per context', async () => {
    const compiled = await compileSpace(smallDecoder, { mode: 'analytic' });
    const { tables } = compiled;
    const candidates = compiled.randomCandidates(20, seededRandom(3));
    const out = compiled.score(candidates);
    for (let i = 0; i < 20; i++) {
      const globals = candidates.globals.subarray(i * compiled.globalFields.length, (i + 1) * compiled.globalFields.length);
      const context = compiled.contextOf(globals, candidates.depth[i]);
      let params = tables.base[context * tables.embeddingCombinations + compiled.embeddingCombinationOf(globals)];
      for (let j = 0; j < compiled.depths[candidates.depth[i]]; j++) params += tables.params[context * tables.kinds + candidates.layers[i * compiled.maxDepth + j]];
      expect(params).toBe(out.params[i]);
    }
    expect(compiled.kindOf(compiled.choicesOfKind(5))).toBe(5);
  });
});

describe('space definitions', () => {
  it('reject a bad field by name', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[], /^space: must be a JSON object/],
      [{ ...smallLts, family: 'bert' }, /^space\.family: must be one of/],
      [{ ...smallLts, depths: [] }, /^space\.depths: must be a non-empty array/],
      [{ ...smallLts, depths: [2, 0] }, /^space\.depths\[1\]: must be an integer/],
      [{ ...smallLts, layerChoices: { n_head: [] } }, /^space\.layerChoices\.n_head: must be a non-empty array/],
      [{ ...smallLts, globals: { n_head: [2] } }, /^space\.layerChoices\.n_head: is chosen twice/],
      [{ ...smallLts, extra: 1 }, /^space\.extra: unknown field/],
      [{ ...smallLts, build: 3 }, /^space\.build: must be a string/],
    ];
    for (const [input, message] of cases) {
      const error = zerolmErrorOf(() => readSpaceDefinition(input));
      expect(error.code).toBe('E_FORMAT');
      expect(error.message).toMatch(message);
    }
  });

  it('refuse embedding globals that change the layers', async () => {
    const wrong = { ...smallLts, globals: { d_embed: [32, 64] }, embeddingGlobals: { d_model: [32, 64] } };
    await expect(compileSpace(wrong, { mode: 'analytic' })).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
  });

  it('leave entries NaN where the builder refuses a layer (heads that do not divide the hidden size)', async () => {
    const compiled = await compileSpace({ ...smallDecoder, layerChoices: { num_attention_heads: [2, 3], intermediate_size: [64] } }, { mode: 'analytic' });
    expect(Number.isNaN(compiled.tables.attention[compiled.kindOf([1, 0])])).toBe(true);
    expect(Number.isNaN(compiled.tables.attention[compiled.kindOf([0, 0])])).toBe(false);
  });
});
