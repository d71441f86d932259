import { buildPlan, detectFamily } from '../../../src/arch';
import { adaptiveEmbedding, expectError, expectLtsCountsExact, ltsBenchmark, shapes } from './helpers';

const { config } = ltsBenchmark('lts-txl-wt103');

describe('transformer-xl against LTS params_summary.yaml', () => {
  test('Attn, FFN, nonembedding, AdaEmb and total match exactly for all 200 architectures', () => {
    expectLtsCountsExact('lts-txl-wt103', 'transformer-xl');
  });

  test('config_0_j0 by hand: fused QKV, r_net, output, per-layer relative biases, no learned positions', () => {
    const input = config('config_0_j0'); // d_model 64, d_embed 512, div_val 2, n_head [4,2,2,8,8]
    const plan = buildPlan(input);
    expect(plan.family).toBe('transformer-xl');
    expect(plan.layers.map((l) => l.attention[0].heads)).toEqual([4, 2, 2, 8, 8]);
    expect(plan.layers[1].attention.map((m) => m.name)).toEqual([
      'layers.1.attention.query',
      'layers.1.attention.key',
      'layers.1.attention.value',
      'layers.1.attention.position',
      'layers.1.attention.output',
    ]);
    expect(shapes(plan.layers[1].attention)).toEqual([[64, 64], [64, 64], [64, 64], [64, 64], [64, 64]]);
    expect(plan.layers[1].attention[4].headAxis).toBe('cols');
    expect(shapes(plan.layers[1].ffn)).toEqual([[1021, 64], [64, 1021]]);
    // Bias-free qkv_net (3 d^2), r_net and o_net (d^2 each), r_w_bias and r_r_bias (d each), per layer.
    expect(plan.params.attention).toBe(5 * (5 * 64 * 64 + 2 * 64));
    // Two post-LayerNorms per layer and no final one.
    expect(plan.params.nonEmbedding).toBe(plan.params.attention + plan.params.ffn + 5 * 2 * 2 * 64);
    expect(plan.extras.some((m) => m.name === 'embeddings.position')).toBe(false);
    // Four clusters of widths 512, 256, 128, 64.
    expect(plan.extras.filter((m) => m.name.startsWith('embeddings.cluster')).map((m) => [m.rows, m.cols])).toEqual([
      [19997, 512],
      [20000, 256],
      [160000, 128],
      [67739, 64],
    ]);
    // Softmax: n_token biases, cluster weight 3 x 512 and its 3 biases, the untied head projection 64 x 512.
    expect(plan.params.total - plan.params.nonEmbedding - adaptiveEmbedding(plan)).toBe(267736 + 3 * 512 + 3 + 64 * 512);
  });

  test('default init: every layer matrix normal with std weight_init_std, no residual scaling', () => {
    const plan = buildPlan({ ...config('config_0_j0'), weight_init_std: 0.03 });
    const matrices = plan.layers.flatMap((l) => [...l.attention, ...l.ffn]);
    expect(matrices.every((m) => m.init.scheme === 'normal' && m.init.std === 0.03)).toBe(true);
    const replaced = buildPlan(config('config_0_j0'), { init: { scheme: 'normal', std: 0.05 } });
    expect(replaced.layers.flatMap((l) => [...l.attention, ...l.ffn]).every((m) => m.init.scheme === 'normal' && m.init.std === 0.05)).toBe(true);
  });
});

describe('transformer-xl inputs beyond the benchmark', () => {
  const base = { model_type: 'mem_transformer', n_layer: 2, d_model: 64, n_head: 4, d_inner: 256, n_token: 1000, cutoffs: [] };

  test('an explicit d_head sets the attention width n_head * d_head', () => {
    const plan = buildPlan({ ...base, d_head: 8 });
    expect(shapes(plan.layers[0].attention)).toEqual([[32, 64], [32, 64], [32, 64], [32, 64], [64, 32]]);
    expect(plan.params.attention).toBe(2 * (5 * 32 * 64 + 2 * 32));
    const perLayer = buildPlan({ ...base, d_head: [8, 16] });
    expect(perLayer.layers.map((l) => l.attention[0].rows)).toEqual([32, 64]);
  });

  test('d_head -1: d_model // n_head per layer, also when the heads do not divide d_model', () => {
    const plan = buildPlan({ ...base, d_head: -1, n_head: [3, 4] });
    expect(plan.layers.map((l) => [l.attention[0].rows, l.attention[0].heads])).toEqual([[63, 3], [64, 4]]);
    expect(buildPlan({ ...base, d_head: -1 })).toEqual(buildPlan(base));
  });

  test('the same config as gpt2-flex differs where the models differ', () => {
    const { model_type: _, ...lts } = base;
    const gpt2 = buildPlan(lts);
    const txl = buildPlan(lts, { family: 'transformer-xl' });
    expect(gpt2.family).toBe('gpt2-flex');
    expect(txl.family).toBe('transformer-xl');
    // One more d x d matrix (r_net) and 2d relative biases per layer, but no attention biases.
    expect(txl.params.attention - gpt2.params.attention).toBe(2 * (64 * 64 + 2 * 64 - 4 * 64));
    // GPT-2 instead has attention biases (4d per layer), a final LayerNorm (2d) and learned positions (tgt_len 192).
    expect(gpt2.params.total).toBe(txl.params.total - 2 * (64 * 64 + 2 * 64) + 2 * 4 * 64 + 2 * 64 + 192 * 64);
  });

  test('unsupported variants and bad fields are refused, naming the field', () => {
    let e = expectError(() => buildPlan({ ...base, attn_type: 2 }), 'E_UNSUPPORTED');
    expect(e.location?.field).toBe('attn_type');
    e = expectError(() => buildPlan({ ...base, sample_softmax: 1000 }), 'E_UNSUPPORTED');
    expect(e.location?.field).toBe('sample_softmax');
    e = expectError(() => buildPlan({ ...base, primer_conv: true }), 'E_UNSUPPORTED');
    expect(e.location?.field).toBe('primer_conv');
    e = expectError(() => buildPlan({ ...base, n_head: [4, 128] }), 'E_FORMAT');
    expect(e.location?.field).toBe('n_head[1]');
    e = expectError(() => buildPlan({ ...base, d_head: [8, 0] }), 'E_FORMAT');
    expect(e.location?.field).toBe('d_head[1]');
    e = expectError(() => buildPlan({ ...base, d_head: 2.5 }), 'E_FORMAT');
    expect(e.location?.field).toBe('d_head');
    e = expectError(() => buildPlan({ ...base, d_inner: [256] }), 'E_FORMAT');
    expect(e.location?.field).toBe('d_inner');
    e = expectError(() => buildPlan({ ...base, tie_weight: 'yes' }), 'E_FORMAT');
    expect(e.location?.field).toBe('tie_weight');
  });

  test('model_type mem_transformer without the LTS fields is not taken for a Hugging Face config', () => {
    const e = expectError(() => detectFamily({ model_type: 'mem_transformer', d_model: 64 }), 'E_FORMAT');
    expect(e.message).toContain('transformer-xl needs n_layer, n_head, d_inner, n_token');
    expect(e.message).toContain('hf needs a model_type other than "mem_transformer"');
  });
});
