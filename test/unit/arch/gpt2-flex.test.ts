import { buildPlan, cleanCutoffs } from '../../../src/arch';
import { adaptiveEmbedding, expectError, expectLtsCountsExact, ltsBenchmark, shapes } from './helpers';

const { config } = ltsBenchmark('lts-gpt2-wt103');

describe('gpt2-flex against LTS params_summary.yaml', () => {
  test('Attn, FFN, nonembedding, AdaEmb and total match exactly for all 200 architectures', () => {
    expectLtsCountsExact('lts-gpt2-wt103', 'gpt2-flex');
  });

  test('config_0_j0 by hand: per-layer heads and widths, three adaptive clusters', () => {
    const input = config('config_0_j0'); // d_model 128, d_embed 256, div_val 4, n_head [2,4,4,8,8]
    const plan = buildPlan(input);
    expect(plan.family).toBe('gpt2-flex');
    expect(plan.layers.map((l) => l.attention[0].heads)).toEqual([2, 4, 4, 8, 8]);
    expect(plan.layers.map((l) => l.ffn[0].rows)).toEqual([1071, 640, 1286, 800, 1871]);
    expect(shapes(plan.layers[2].attention)).toEqual([[128, 128], [128, 128], [128, 128], [128, 128]]);
    expect(plan.layers[2].attention[3].headAxis).toBe('cols');
    expect(shapes(plan.layers[2].ffn)).toEqual([[1286, 128], [128, 1286]]);
    // cutoffs [19997, 39997, 199997, 50264] clean to [19997, 39997, 50264]: cluster widths 256, 64, 16.
    expect(plan.extras.filter((m) => m.name.startsWith('embeddings.cluster')).map((m) => [m.rows, m.cols])).toEqual([
      [19997, 256],
      [20000, 64],
      [10267, 16],
    ]);
    const attention = 5 * (128 * 384 + 384 + 128 * 128 + 128);
    expect(plan.params.attention).toBe(attention);
    // LayerNorms: two per block plus the final one.
    expect(plan.params.nonEmbedding).toBe(attention + plan.params.ffn + 5 * 512 + 256);
    // Softmax: n_token biases, cluster weight 2 x 256 and its 2 biases, the untied head projection 128 x 256.
    expect(plan.params.total - plan.params.nonEmbedding - adaptiveEmbedding(plan)).toBe(50264 + 2 * 256 + 2 + 128 * 256);
  });

  test('default init: std weight_init_std, c_proj weights scaled by 1/sqrt(2 n_layer)', () => {
    const plan = buildPlan(config('config_0_j0'));
    const residual = 0.02 / Math.sqrt(10);
    const [query, , , output] = plan.layers[0].attention;
    const [up, down] = plan.layers[0].ffn;
    expect(query.init).toEqual({ scheme: 'normal', std: 0.02 });
    expect(up.init).toEqual({ scheme: 'normal', std: 0.02 });
    expect(output.init).toEqual({ scheme: 'normal', std: residual });
    expect(down.init).toEqual({ scheme: 'normal', std: residual });
    const replaced = buildPlan(config('config_0_j0'), { init: { scheme: 'normal', std: 0.05 } });
    expect(replaced.layers.flatMap((l) => [...l.attention, ...l.ffn]).every((m) => m.init.scheme === 'normal' && m.init.std === 0.05)).toBe(true);
  });
});

describe('gpt2-flex inputs beyond the benchmark', () => {
  const base = { n_layer: 2, d_model: 64, n_head: 4, d_inner: 256, n_token: 1000 };

  test('scalars for n_head and d_inner, no adaptive softmax when div_val 1 and d_embed = d_model', () => {
    const plan = buildPlan({ ...base, cutoffs: [] });
    expect(plan.layers.map((l) => [l.attention[0].heads, l.ffn[0].rows])).toEqual([[4, 256], [4, 256]]);
    const layer = 64 * 192 + 192 + 64 * 64 + 64 + (64 * 256 + 256 + 256 * 64 + 64) + 4 * 64;
    // word 1000 x 64, positions 192 x 64, output biases 1000; no clusters, no projections.
    expect(plan.params.total).toBe(2 * layer + 2 * 64 + 1000 * 64 + 192 * 64 + 1000);
    expect(plan.extras.map((m) => m.name)).toEqual(['embeddings.word', 'embeddings.position']);
  });

  test('d_embed -1 (archai: same as d_model) and an absent d_embed agree', () => {
    expect(buildPlan({ ...base, d_embed: -1 })).toEqual(buildPlan(base));
    expect(buildPlan({ ...base, d_embed: 32 }).params.total).not.toBe(buildPlan(base).params.total);
  });

  test('untied output weights are counted', () => {
    const tied = buildPlan({ ...base, cutoffs: [] });
    const untied = buildPlan({ ...base, cutoffs: [], tie_weight: false });
    expect(untied.params.total - tied.params.total).toBe(1000 * 64);
  });

  test('archai cutoff cleaning', () => {
    expect(cleanCutoffs([19997, 39997, 199997, 50264], 50264, 'cutoffs')).toEqual([19997, 39997, 50264]);
    expect(cleanCutoffs([100, 200], 1000, 'cutoffs')).toEqual([100, 200, 1000]);
    expect(cleanCutoffs([100, 2000], 1000, 'cutoffs')).toEqual([100, 1000]);
    expect(cleanCutoffs([], 1000, 'cutoffs')).toEqual([1000]);
  });

  test('errors name the field', () => {
    let e = expectError(() => buildPlan({ ...base, n_head: [4, 4, 4] }), 'E_FORMAT');
    expect(e.location?.field).toBe('n_head');
    e = expectError(() => buildPlan({ ...base, n_head: [4, 3] }), 'E_FORMAT');
    expect(e.location?.field).toBe('n_head[1]');
    e = expectError(() => buildPlan({ ...base, d_inner: [256, '256'] }), 'E_FORMAT');
    expect(e.location?.field).toBe('d_inner[1]');
    e = expectError(() => buildPlan({ ...base, tie_weight: 'yes' }), 'E_FORMAT');
    expect(e.location?.field).toBe('tie_weight');
    e = expectError(() => buildPlan({ ...base, cutoffs: [500, 300] }), 'E_FORMAT');
    expect(e.location?.field).toBe('cutoffs[1]');
    e = expectError(() => buildPlan({ ...base, cutoffs: [300, 600], tie_projs: [false] }), 'E_FORMAT');
    expect(e.location?.field).toBe('tie_projs');
    e = expectError(() => buildPlan({ ...base, d_embed: 8, div_val: 4, cutoffs: [100, 200, 300] }), 'E_FORMAT');
    expect(e.location?.field).toBe('div_val');
    e = expectError(() => buildPlan({ ...base, d_model: 2 ** 20 + 64 }), 'E_FORMAT');
    expect(e.location?.field).toBe('d_model');
    e = expectError(() => buildPlan({ ...base, n_layer: 0 }, { family: 'gpt2-flex' }), 'E_FORMAT');
    expect(e.location?.field).toBe('n_layer');
    expectError(() => buildPlan(base, { build: 'as-trained' }), 'E_UNSUPPORTED');
  });
});
