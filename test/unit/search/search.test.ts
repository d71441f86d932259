import { compileSpace, type CompiledSpace, type SpaceCandidates, type SpaceDefinition } from '../../../src/space';
import { smallLts, smallTxl } from '../../helpers/spaces';
import { searchBest, costExtremes, candidateRows, type Budgets } from '../../../src/search';
import { ZeroLMError } from '../../../src/errors';

const smallDecoder: SpaceDefinition = {
  family: 'hf',
  fixed: { model_type: 'llama', vocab_size: 100, tie_word_embeddings: false, initializer_range: 0.02 },
  globals: { hidden_size: [32, 64] },
  depths: [1, 2, 3],
  layerChoices: { num_attention_heads: [2, 4], num_key_value_heads: [1, 2], intermediate_size: [64, 96, 128] },
};

/** Every candidate of a small space, as rows (each layer multiset in every order: duplicates do not matter). */
function everyCandidate(space: CompiledSpace): SpaceCandidates {
  const globalCount = space.globalFields.length;
  const rows: Array<{ globals: number[]; depth: number; layers: number[] }> = [];
  const globalCombos = space.globalSizes.reduce((a, b) => a * b, 1);
  for (let g = 0; g < globalCombos; g++) {
    const globals: number[] = [];
    let rest = g;
    for (let f = globalCount - 1; f >= 0; f--) {
      globals[f] = rest % space.globalSizes[f];
      rest = Math.floor(rest / space.globalSizes[f]);
    }
    space.depths.forEach((n, depth) => {
      const total = space.tables.kinds ** n;
      for (let x = 0; x < total; x++) {
        const layers: number[] = [];
        let r = x;
        for (let j = 0; j < n; j++) {
          layers.push(r % space.tables.kinds);
          r = Math.floor(r / space.tables.kinds);
        }
        rows.push({ globals, depth, layers });
      }
    });
  }
  return candidateRows(space, rows);
}

function bruteForceBest(space: CompiledSpace, budgets: Budgets): number {
  const scores = space.score(everyCandidate(space));
  let best = -Infinity;
  for (let i = 0; i < scores.score.length; i++) {
    if (!Number.isFinite(scores.score[i])) continue;
    if (budgets.maxParams !== undefined && scores.params[i] > budgets.maxParams) continue;
    if (budgets.maxNonEmbeddingParams !== undefined && scores.nonEmbeddingParams[i] > budgets.maxNonEmbeddingParams) continue;
    if (budgets.maxFlops !== undefined && scores.flops[i] > budgets.maxFlops) continue;
    if (budgets.minParams !== undefined && scores.params[i] < budgets.minParams) continue;
    best = Math.max(best, scores.score[i]);
  }
  return best;
}

function quantile(values: Float64Array, q: number): number {
  const sorted = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))];
}

describe('exact search equals brute force on small spaces', () => {
  it.each([
    ['gpt2-flex, geometric (default rule)', smallLts, { mode: 'analytic' as const }],
    ['gpt2-flex, weighted sum alpha 0.3', smallLts, { mode: 'analytic' as const, alpha: 0.3 }],
    ['hf, geometric, exact weights', smallDecoder, { mode: 'exact' as const, seed: 4 }],
    ['hf, weighted sum alpha 0.8', smallDecoder, { mode: 'analytic' as const, alpha: 0.8 }],
    ['transformer-xl, geometric, exact weights', smallTxl, { mode: 'exact' as const, seed: 2 }],
    ['transformer-xl, weighted sum alpha 0.5', smallTxl, { mode: 'analytic' as const, alpha: 0.5 }],
  ])('%s', async (_name, definition, options) => {
    const space = await compileSpace(definition, options);
    const all = space.score(everyCandidate(space));
    const budgetsList: Budgets[] = [];
    for (const q of [0.05, 0.3, 0.6, 0.95]) {
      budgetsList.push({ maxParams: quantile(all.params, q) });
      budgetsList.push({ maxNonEmbeddingParams: quantile(all.nonEmbeddingParams, q), maxFlops: quantile(all.flops, Math.min(1, q + 0.2)) });
      budgetsList.push({ maxParams: quantile(all.params, Math.min(1, q + 0.3)), minParams: quantile(all.params, q) });
    }
    for (const budgets of budgetsList) {
      const expected = bruteForceBest(space, budgets);
      if (expected === -Infinity) continue;
      const result = await searchBest(space, { budgets });
      expect(result.algorithm).toBe('exact');
      expect(result.optimal).toBe(true);
      expect(result.picks[0].score).toBeCloseTo(expected, 9);
      for (const [name, left] of Object.entries(result.picks[0].slack)) expect([name, left >= 0]).toEqual([name, true]);
    }
  });
});

describe('evolution against exact', () => {
  it.each([['nas-bench-bert'], ['lts-gpt2'], ['lts-txl']])('%s: within 1%% of the exact optimum at three budgets (seeded, default evaluations)', async (name) => {
    const space = await compileSpace(name, { mode: 'analytic' });
    const { minParams, maxParams } = costExtremes(space);
    for (const fraction of [0.1, 0.3, 0.6]) {
      const budgets = { maxParams: Math.round(minParams + fraction * (maxParams - minParams)) };
      const exact = await searchBest(space, { budgets });
      const evolved = await searchBest(space, { budgets, algorithm: 'evolution', seed: 1 });
      expect(evolved.picks[0].params).toBeLessThanOrEqual(budgets.maxParams);
      expect(evolved.picks[0].score).toBeGreaterThanOrEqual(0.99 * exact.picks[0].score);
      expect(evolved.picks[0].score).toBeLessThanOrEqual(exact.picks[0].score * (1 + 1e-12));
    }
    // Two million evaluations per budget on lts-gpt2 take about a minute on two idle cores: room for a busy machine.
  }, 600000);

  it('is deterministic for a seed; several objectives give a Pareto set', async () => {
    const space = await compileSpace('nas-bench-bert', { mode: 'analytic' });
    const a = await searchBest(space, { algorithm: 'evolution', seed: 5, evaluations: 3000, top: 3 });
    const b = await searchBest(space, { algorithm: 'evolution', seed: 5, evaluations: 3000, top: 3 });
    expect(a.picks).toEqual(b.picks);
    const front = await searchBest(space, { objectives: ['score', 'params'], evaluations: 5000 });
    expect(front.pareto).toBe(true);
    expect(front.exactness).toMatch(/several objectives/);
    for (const p of front.picks) {
      for (const q of front.picks) {
        const dominates = q.score >= p.score && q.params <= p.params && (q.score > p.score || q.params < p.params);
        expect(dominates).toBe(false);
      }
    }
  });
});

describe('Pareto sets over two or three objectives equal brute force on a small space', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildPlan } = require('../../../src/arch');
  const { kvCacheBytes, rooflineLatencyMs } = require('../../../src/search/budget');
  const hardware = { sequenceLength: 64, bytesPerValue: 2, peakTflops: 1e-6, bandwidthGBs: 1e-3 };
  type Name = 'score' | 'params' | 'flops' | 'kvBytes' | 'latencyMs';
  const cases: Array<[Name[], Budgets]> = [
    [['score', 'params'], {}],
    [['score', 'kvBytes'], {}],
    [['score', 'latencyMs'], { maxParams: 60000 }],
    [['score', 'params', 'kvBytes'], {}],
    [['score', 'flops', 'latencyMs'], {}],
    [['params', 'kvBytes'], { minParams: 20000 }],
  ];
  it.each(cases)('%j within %j', async (objectives, budgets) => {
    const space = await compileSpace(smallDecoder, { mode: 'analytic', sequenceLength: 64 });
    const rows = everyCandidate(space);
    const all = space.score(rows);
    // Each candidate's costs from its own architecture, built alone: not from the search's tables.
    const front: number[][] = [];
    const points: number[][] = [];
    for (let i = 0; i < rows.count; i++) {
      if (!Number.isFinite(all.score[i])) continue;
      // One order of each multiset of layers, sorted as the search reports it (sums in another order may differ in
      // the last bit).
      const layers = rows.layers.subarray(i * space.maxDepth, i * space.maxDepth + space.depths[rows.depth[i]]);
      if (layers.some((k, j) => j > 0 && k < layers[j - 1])) continue;
      if (budgets.maxParams !== undefined && all.params[i] > budgets.maxParams) continue;
      if (budgets.minParams !== undefined && all.params[i] < budgets.minParams) continue;
      const kv = kvCacheBytes(buildPlan(space.architectureOf(rows, i), { family: 'hf' }), 64, 2);
      const values: Record<Name, number> = { score: all.score[i], params: all.params[i], flops: all.flops[i], kvBytes: kv, latencyMs: rooflineLatencyMs(all.flops[i], all.params[i] * 2 + kv, hardware.peakTflops, hardware.bandwidthGBs) };
      points.push(objectives.map((o) => (o === 'score' ? -values[o] : values[o])));
    }
    const dominated = (a: number[], b: number[]): boolean => a.every((v, m) => b[m] <= v) && a.some((v, m) => b[m] < v);
    for (const p of points) if (!points.some((q) => dominated(p, q)) && !front.some((q) => q.every((v, m) => v === p[m]))) front.push(p);
    const vectorOf = (pick: Record<string, unknown>): number[] => objectives.map((o) => (o === 'score' ? -(pick[o] as number) : (pick[o] as number)));
    // Equal but for the last bits of a score: models alike in every objective, whose sums ran in another order.
    const alike = (a: number[], b: number[]): boolean => a.every((v, m) => Math.abs(v - b[m]) <= 1e-12 * Math.max(1, Math.abs(v)));
    const onFront = (v: number[]): boolean => front.some((q) => alike(q, v));
    // Random search sees every candidate of this space many times over: its archive is the whole front.
    const random = await searchBest(space, { objectives, budgets, hardware, algorithm: 'random', evaluations: 200000, seed: 3 });
    expect(random.pareto).toBe(true);
    const found = random.picks.map((p) => vectorOf(p as unknown as Record<string, unknown>));
    expect(found.length).toBe(front.length);
    for (const v of found) expect(onFront(v)).toBe(true);
    for (const q of front) expect(found.some((v) => alike(q, v))).toBe(true);
    // NSGA-II (the default with several objectives): every point it reports is on the true front.
    const evolved = await searchBest(space, { objectives, budgets, hardware, evaluations: 20000, seed: 4 });
    expect(evolved.algorithm).toBe('evolution');
    for (const pick of evolved.picks) expect(onFront(vectorOf(pick as unknown as Record<string, unknown>))).toBe(true);
    // Best first by the first objective.
    const first = evolved.picks.map((p) => (p as unknown as Record<string, number>)[objectives[0]]);
    expect(first).toEqual([...first].sort((a, b) => (objectives[0] === 'score' ? b - a : a - b)));
  });

  it('refuses a latency objective without peak and bandwidth, and KV bytes on an encoder', async () => {
    const space = await compileSpace(smallDecoder, { mode: 'analytic', sequenceLength: 64 });
    await expect(searchBest(space, { objectives: ['score', 'latencyMs'], hardware: { sequenceLength: 64, bytesPerValue: 2 } })).rejects.toMatchObject({ code: 'E_ARGUMENT', message: expect.stringMatching(/peakTflops/) });
    await expect(searchBest(space, { objectives: ['params'] })).rejects.toMatchObject({ code: 'E_ARGUMENT' });
    const encoder = await compileSpace('nas-bench-bert', { mode: 'analytic' });
    await expect(searchBest(encoder, { objectives: ['score', 'kvBytes'], hardware: { sequenceLength: 128, bytesPerValue: 2 } })).rejects.toMatchObject({ code: 'E_ARGUMENT', message: expect.stringMatching(/encoder/) });
  });
});

describe('lts-txl', () => {
  it('NSC-DP\'s setting (38.4M parameters +-5%): the exact optimum is proven; the emitted TransfoXLConfig carries the reported parameter count', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildPlan } = require('../../../src/arch');
    const { hfConfigOf } = require('../../../src/search/emit');
    const space = await compileSpace('lts-txl', { mode: 'analytic' });
    const budgets = { maxParams: 38.4e6 * 1.05, minParams: 38.4e6 * 0.95 };
    const result = await searchBest(space, { budgets, top: 3 });
    expect(result).toMatchObject({ algorithm: 'exact', optimal: true });
    const rows = candidateRows(space, result.picks.map((p) => p.candidate));
    result.picks.forEach((pick, i) => {
      expect(pick.params).toBeGreaterThanOrEqual(budgets.minParams);
      expect(pick.params).toBeLessThanOrEqual(budgets.maxParams);
      const architecture = space.architectureOf(rows, i);
      expect(buildPlan(architecture, { family: 'transformer-xl' }).params.total).toBe(pick.params);
      const config = hfConfigOf('transformer-xl', architecture);
      // The optimum here is uniform (8 layers of the widest FFN): a TransfoXLConfig. Others may keep LTS's config.
      if (i === 0) expect(config.model_type).toBe('transfo-xl');
      if (config.model_type !== 'transfo-xl') return; // layers that differ: LTS's own config, the architecture itself
      // transformers' fields read back as LTS's: the same model, the same count.
      const back = {
        model_type: 'mem_transformer', n_layer: config.n_layer, d_model: config.d_model, n_head: config.n_head, d_head: config.d_head, d_inner: config.d_inner,
        n_token: config.vocab_size, cutoffs: [...config.cutoffs, config.vocab_size], d_embed: config.d_embed, div_val: config.div_val,
        tie_weight: config.tie_word_embeddings, tie_projs: [false, ...config.cutoffs.map(() => config.proj_share_all_but_first)], adaptive: config.adaptive,
      };
      expect(config.n_head * config.d_head).toBe(config.d_model);
      expect(buildPlan(back, { family: 'transformer-xl' }).params.total).toBe(pick.params);
    });
  });
});

describe('evolution\'s in-place evaluation', () => {
  it('gives exactly the columnar score and the budget excess of each candidate (packed tables, same order)', async () => {
    const { evaluateRow } = require('../../../src/search/evolution');
    const { violation, kvTable } = require('../../../src/search/budget');
    const { seededRandom } = require('../../../src/stats/random');
    const hardware = { sequenceLength: 64, bytesPerValue: 2, peakTflops: 1e-6, bandwidthGBs: 1e-3 };
    for (const [definition, budgets] of [
      [smallLts, { maxParams: 60000, maxFlops: 2e7 }],
      [smallDecoder, { maxKvBytes: 20000, maxLatencyMs: 50, minParams: 10000 }],
    ] as Array<[SpaceDefinition, Budgets]>) {
      const space = await compileSpace(definition, { mode: 'analytic', sequenceLength: 64 });
      const kv = kvTable(space, hardware);
      const rows = space.randomCandidates(2000, seededRandom(9));
      const out = space.score(rows);
      const evaluated = new Float64Array(2);
      for (let i = 0; i < rows.count; i++) {
        evaluateRow(i, rows.globals, rows.depth, rows.layers, space.globalFields.length, space.maxDepth, space.packed, space.alpha, space.rule, kv, budgets, hardware, evaluated);
        const finite = Number.isFinite(out.score[i]);
        expect(evaluated[0]).toBe(finite ? out.score[i] : -Infinity);
        if (!finite) {
          expect(evaluated[1]).toBe(Infinity);
          continue;
        }
        const globals = rows.globals.subarray(i * space.globalFields.length, (i + 1) * space.globalFields.length);
        const context = space.contextOf(globals, rows.depth[i]);
        let bytes = 0;
        for (let j = 0; j < space.depths[rows.depth[i]]; j++) bytes += kv[context * space.tables.kinds + rows.layers[i * space.maxDepth + j]];
        expect(evaluated[1]).toBe(violation(budgets, out.params[i], out.nonEmbeddingParams[i], out.flops[i], bytes, hardware));
      }
    }
  });
});

describe('budgets', () => {
  it('a budget no candidate meets names the smallest feasible value', async () => {
    const space = await compileSpace('nas-bench-bert', { mode: 'analytic' });
    const { minParams } = costExtremes(space);
    const all = space.score(space.randomCandidates(5000, Math.random));
    expect(Math.min(...Array.from(all.params))).toBeGreaterThanOrEqual(minParams);
    const error = await searchBest(space, { budgets: { maxParams: minParams - 1 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZeroLMError);
    expect((error as ZeroLMError).message).toContain(`smallest feasible value is ${minParams}`);
    const atTheEdge = await searchBest(space, { budgets: { maxParams: minParams } });
    expect(atTheEdge.picks[0].params).toBe(minParams);
  });
});

describe('cost models', () => {
  it('KV-cache bytes: 2 * kv_heads * head_dim * T * bytes per layer (grouped-query attention counts its kv heads); roofline latency is the larger bound', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildPlan } = require('../../../src/arch');
    const { kvCacheBytes, rooflineLatencyMs } = require('../../../src/search/budget');
    const plan = buildPlan({ model_type: 'llama', vocab_size: 100, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: [4, 8], num_key_value_heads: [2, 1], intermediate_size: 128 }, { family: 'hf' });
    // Layer 0: 2 kv heads of 64/4 = 16; layer 1: 1 kv head of 64/8 = 8.
    expect(kvCacheBytes(plan, 1024, 2)).toBe((2 * 2 * 16 + 2 * 1 * 8) * 1024 * 2);
    expect(rooflineLatencyMs(2e12, 1e9, 1, 1000)).toBe(2000); // compute-bound: 2e12 FLOPs at 1 TFLOP/s
    expect(rooflineLatencyMs(1e9, 4e9, 1, 1)).toBe(4000); // memory-bound: 4 GB at 1 GB/s
  });
});

describe('KV-cache and latency budgets', () => {
  it('exact equals brute force (KV bytes and roofline latency from each architecture built on its own)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildPlan } = require('../../../src/arch');
    const { kvCacheBytes, rooflineLatencyMs } = require('../../../src/search/budget');
    const hardware = { sequenceLength: 64, bytesPerValue: 2, peakTflops: 1e-6, bandwidthGBs: 1e-3 };
    const space = await compileSpace(smallDecoder, { mode: 'analytic', sequenceLength: 64 });
    const rows = everyCandidate(space);
    const all = space.score(rows);
    const kv = Float64Array.from({ length: rows.count }, (_, i) => kvCacheBytes(buildPlan(space.architectureOf(rows, i), { family: 'hf' }), 64, 2));
    const latency = Float64Array.from({ length: rows.count }, (_, i) => rooflineLatencyMs(all.flops[i], all.params[i] * 2 + kv[i], hardware.peakTflops, hardware.bandwidthGBs));
    for (const q of [0.1, 0.4, 0.8]) {
      for (const budgets of [{ maxKvBytes: quantile(kv, q) }, { maxLatencyMs: quantile(latency, q) }, { maxKvBytes: quantile(kv, q), maxParams: quantile(all.params, 0.5) }] as Budgets[]) {
        let expected = -Infinity;
        for (let i = 0; i < rows.count; i++) {
          if (budgets.maxKvBytes !== undefined && kv[i] > budgets.maxKvBytes) continue;
          if (budgets.maxLatencyMs !== undefined && latency[i] > budgets.maxLatencyMs) continue;
          if (budgets.maxParams !== undefined && all.params[i] > budgets.maxParams) continue;
          expected = Math.max(expected, all.score[i]);
        }
        if (expected === -Infinity) continue;
        const result = await searchBest(space, { budgets, hardware });
        expect(result.optimal).toBe(true);
        expect(result.picks[0].score).toBeCloseTo(expected, 9);
        for (const [name, left] of Object.entries(result.picks[0].slack)) expect([name, left >= -1e-9]).toEqual([name, true]);
        const evolved = await searchBest(space, { budgets, hardware, algorithm: 'evolution', evaluations: 20000, seed: 2 });
        for (const [name, left] of Object.entries(evolved.picks[0].slack)) expect([name, left >= -1e-9]).toEqual([name, true]);
      }
    }
  });
});
