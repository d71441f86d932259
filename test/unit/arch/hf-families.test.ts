/**
 * The Hugging Face families beyond llama/bert/gpt2: totals of real models from their published config.json files,
 * the structure each family's modelling code defines, mixture-of-experts active counts, and the unread-key warning.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPlan, type ModelPlan } from '../../../src/arch';
import { expectConsistent, expectError, shapes } from './helpers';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as Record<string, unknown>;
const names = (plan: ModelPlan, layer: number, block: 'attention' | 'ffn'): string[] => plan.layers[layer][block].map((m) => m.name.replace(`layers.${layer}.${block}.`, ''));

describe('hf families: exact totals of real models', () => {
  // The exact published parameter counts of these checkpoints (pythia-1b with its untied embed_out), each built from
  // the model's real config.json in fixtures/.
  test.each([
    ['phi-3-mini-4k-instruct.json', 3_821_079_552],
    ['mixtral-8x7b.json', 46_702_792_704],
    ['pythia-1b.json', 1_011_781_632],
    ['opt-1.3b.json', 1_315_758_080],
    ['falcon-7b.json', 6_921_720_704],
    ['t5-small.json', 60_506_624],
    ['gemma-2-9b.json', 9_241_705_984],
  ])('%s has %d parameters', (name, total) => {
    const plan = buildPlan(fixture(name));
    expect(plan.family).toBe('hf');
    expect(plan.params.total).toBe(total);
    expect(plan.warnings).toBeUndefined();
    expectConsistent(plan);
  });

  // Published as rounded figures: asserted within half a unit of the last published digit, and exactly against a
  // count by hand from the modelling code's layer shapes.
  test('Mixtral-8x7B: about 12.9B active (2 of 8 experts per token)', () => {
    const plan = buildPlan(fixture('mixtral-8x7b.json'));
    const expert = 3 * 4096 * 14336;
    expect(plan.params.active).toBe(46_702_792_704 - 32 * 6 * expert);
    expect(Math.abs((plan.params.active as number) - 12.9e9)).toBeLessThan(0.05e9);
  });

  test('Qwen1.5-MoE-A2.7B: 14.3B total, 2.7B active; shared expert and its gate in every layer', () => {
    const plan = buildPlan(fixture('qwen1.5-moe-a2.7b.json'));
    const h = 2048;
    const attention = 3 * (h * h + h) + h * h; // q/k/v with biases, o without
    const experts = 60 * 3 * h * 1408;
    const layer = attention + experts + 3 * h * 5632 + h + 60 * h + 2 * h;
    expect(plan.params.total).toBe(2 * 151936 * h + 24 * layer + h);
    expect(Math.abs(plan.params.total - 14.3e9)).toBeLessThan(0.05e9);
    expect(Math.abs((plan.params.active as number) - 2.7e9)).toBeLessThan(0.05e9);
    expect(names(plan, 0, 'ffn').slice(-4)).toEqual(['shared.gate', 'shared.up', 'shared.down', 'shared_gate']);
    expect(plan.layers[0].ffn[0]).toMatchObject({ name: 'layers.0.ffn.router', rows: 60, cols: h });
  });

  test('Qwen3-30B-A3B: 30.5B total, 3.3B active; 128 experts, q/k norms', () => {
    const plan = buildPlan(fixture('qwen3-30b-a3b.json'));
    const h = 2048;
    const layer = 4096 * h + 2 * 512 * h + h * 4096 + 2 * 128 + 128 * 3 * h * 768 + 128 * h + 2 * h;
    expect(plan.params.total).toBe(2 * 151936 * h + 48 * layer + h);
    expect(Math.abs(plan.params.total - 30.5e9)).toBeLessThan(0.05e9);
    // "3.3B activated"; the count with both embedding tables is 3.35B, hence a tolerance of 0.1B here.
    expect(Math.abs((plan.params.active as number) - 3.3e9)).toBeLessThan(0.1e9);
    expect(plan.layers[0].ffn).toHaveLength(1 + 128 * 3);
  });

  test('DeepSeek-V3: 671B total and 37B active (MLA with q_lora_rank, 3 dense layers, 1 shared + 256 routed experts)', () => {
    const plan = buildPlan(fixture('deepseek-v3.json'));
    expect(Math.abs(plan.params.total - 671e9)).toBeLessThan(0.5e9);
    // "37B activated": published rounded down; the count with both embedding tables is 37.55B.
    expect((plan.params.active as number) / 1e9).toBeGreaterThan(37);
    expect((plan.params.active as number) / 1e9).toBeLessThan(38);
    expect(plan.layers.map((l) => l.description?.experts ?? 0).slice(0, 4)).toEqual([0, 0, 0, 256]);
    expect(shapes(plan.layers[0].attention)).toEqual([
      [1536, 7168], // q_a_proj
      [128 * 192, 1536], // q_b_proj
      [512 + 64, 7168], // kv_a_proj_with_mqa
      [128 * 256, 512], // kv_b_proj
      [7168, 128 * 128], // o_proj
    ]);
  });

  test('DeepSeek-V2-Lite: 15.7B total (q_proj without LoRA, first layer dense, 2 shared experts as one MLP)', () => {
    const plan = buildPlan(fixture('deepseek-v2-lite.json'));
    const h = 2048;
    const attention = 16 * 192 * h + 576 * h + 16 * 256 * 512 + h * 16 * 128;
    const norms = 2 * h + 512;
    const dense = attention + 3 * h * 10944 + norms;
    const sparse = attention + 64 * 3 * h * 1408 + 3 * h * 2816 + 64 * h + norms;
    expect(plan.params.total).toBe(2 * 102400 * h + dense + 26 * sparse + h);
    expect(Math.abs(plan.params.total - 15.7e9)).toBeLessThan(0.05e9);
    expect(names(plan, 0, 'attention')).toEqual(['query', 'key_value_a', 'key_value_b', 'output']);
    expect(names(plan, 1, 'ffn').slice(-3)).toEqual(['shared.gate', 'shared.up', 'shared.down']);
    expect(plan.layers[1].ffn[plan.layers[1].ffn.length - 1]).toMatchObject({ rows: h, cols: 2816 });
  });
});

describe('hf families: structure', () => {
  test('phi3: fused qkv_proj and gate_up_proj are scored as their row blocks', () => {
    const plan = buildPlan(fixture('phi-3-mini-4k-instruct.json'));
    expect(names(plan, 0, 'attention')).toEqual(['query', 'key', 'value', 'output']);
    expect(shapes(plan.layers[0].attention)).toEqual([[3072, 3072], [3072, 3072], [3072, 3072], [3072, 3072]]);
    expect(shapes(plan.layers[0].ffn)).toEqual([[8192, 3072], [8192, 3072], [3072, 8192]]);
    expect(plan.extras.map((m) => m.name)).toEqual(['embeddings.word', 'lm_head']);
  });

  test('MoE builds: default scores every expert, active-experts the top k; counts are the same', () => {
    const all = buildPlan(fixture('mixtral-8x7b.json'));
    const active = buildPlan(fixture('mixtral-8x7b.json'), { build: 'active-experts' });
    expect(all.layers[0].ffn).toHaveLength(1 + 8 * 3);
    expect(active.layers[0].ffn).toHaveLength(1 + 2 * 3);
    expect(active.params).toEqual(all.params);
    expect(active.build).toBe('active-experts');
    // Dense families ignore the build's expert choice.
    expect(buildPlan(fixture('llama-2-7b.json'), { build: 'active-experts' }).params.total).toBe(6_738_415_616);
    expect(buildPlan(fixture('llama-2-7b.json')).params.active).toBeUndefined();
  });

  test('qwen moe: mlp_only_layers and decoder_sparse_step give dense layers of intermediate_size', () => {
    const base: Record<string, unknown> = { ...fixture('qwen3-30b-a3b.json'), num_hidden_layers: 4, num_experts: 4, num_experts_per_tok: 2 };
    const plan = buildPlan({ ...base, mlp_only_layers: [0], decoder_sparse_step: 2 });
    expect(plan.layers.map((l) => l.description?.experts ?? 0)).toEqual([0, 4, 0, 4]);
    expect(plan.layers[0].ffn.map((m) => m.rows)).toEqual([6144, 6144, 2048]);
    const { intermediate_size: _unused, ...noDense } = base;
    expectError(() => buildPlan({ ...noDense, mlp_only_layers: [1] }), 'E_FORMAT');
    expectError(() => buildPlan({ ...base, mlp_only_layers: [9] }), 'E_FORMAT');
    expectError(() => buildPlan({ ...base, num_experts_per_tok: 5 }), 'E_FORMAT');
  });

  test('gpt_neox: tied embeddings remove embed_out; attention_bias false removes 4h attention biases per layer', () => {
    const plan = buildPlan(fixture('pythia-1b.json'));
    expect(buildPlan({ ...fixture('pythia-1b.json'), tie_word_embeddings: true }).params.total).toBe(plan.params.total - 50304 * 2048);
    expect(buildPlan({ ...fixture('pythia-1b.json'), attention_bias: false }).params.total).toBe(plan.params.total - 16 * 4 * 2048);
  });

  test('opt-350m: word_embed_proj_dim 512 with project_in/out, post-norm (no final LayerNorm)', () => {
    const plan = buildPlan({ model_type: 'opt', vocab_size: 50272, hidden_size: 1024, word_embed_proj_dim: 512, ffn_dim: 4096, num_hidden_layers: 24, num_attention_heads: 16, max_position_embeddings: 2048, do_layer_norm_before: false });
    expect(plan.params.total).toBe(331_196_416); // facebook/opt-350m
    expect(plan.extras.map((m) => m.name)).toEqual(['embeddings.word', 'embeddings.position', 'embeddings.project_in', 'embeddings.project_out']);
  });

  test('falcon: multi-query keys/values are one head; new_decoder_architecture uses num_kv_heads and two norms', () => {
    const seven = buildPlan(fixture('falcon-7b.json'));
    expect(shapes(seven.layers[0].attention)).toEqual([[4544, 4544], [64, 4544], [64, 4544], [4544, 4544]]);
    // falcon-40b: hidden 8192, 128 heads, 8 kv heads, 60 layers.
    const forty = buildPlan({ model_type: 'falcon', vocab_size: 65024, hidden_size: 8192, num_attention_heads: 128, num_kv_heads: 8, num_hidden_layers: 60, new_decoder_architecture: true, parallel_attn: true, bias: false });
    const h = 8192;
    const layer = (128 + 16) * 64 * h + h * h + 2 * 4 * h * h + 2 * 2 * h;
    expect(forty.params.total).toBe(65024 * h + 60 * layer + 2 * h);
    // RefinedWeb's key names build the same plan.
    const { num_attention_heads: heads, num_hidden_layers: layers, ...rest } = fixture('falcon-7b.json');
    expect(buildPlan({ ...rest, n_head: heads, n_layer: layers }).params.total).toBe(6_921_720_704);
    // Not parallel: a second LayerNorm per layer.
    expect(buildPlan({ ...fixture('falcon-7b.json'), parallel_attn: false }).params.total).toBe(6_921_720_704 + 32 * 2 * 4544);
  });

  test('t5: encoder then decoder layers; cross-attention counted as attention; gated-gelu and untied head', () => {
    const plan = buildPlan(fixture('t5-small.json'));
    expect(plan.layers).toHaveLength(12);
    expect(plan.layers.map((l) => l.description?.stack)).toEqual([...Array(6).fill('encoder'), ...Array(6).fill('decoder')]);
    expect(plan.layers[0].attention.map((m) => m.name)).toEqual(['encoder.layers.0.attention.query', 'encoder.layers.0.attention.key', 'encoder.layers.0.attention.value', 'encoder.layers.0.attention.output']);
    expect(plan.layers[6].attention.map((m) => m.name.replace('decoder.layers.0.', ''))).toEqual([
      'attention.query', 'attention.key', 'attention.value', 'attention.output',
      'cross_attention.query', 'cross_attention.key', 'cross_attention.value', 'cross_attention.output',
    ]);
    expect(plan.layers[6].params.attention).toBe(2 * plan.layers[0].params.attention);
    // T5's init: q std 1/sqrt(d_model * d_kv), wo std 1/sqrt(d_ff).
    expect(plan.layers[0].attention[0].init).toEqual({ scheme: 'normal', std: 1 / Math.sqrt(512 * 64) });
    expect(plan.layers[0].ffn[1].init).toEqual({ scheme: 'normal', std: 1 / Math.sqrt(2048) });
    // google/t5-v1_1-small: gated-gelu, untied lm_head, d_ff 1024, 8 layers, 6 heads: 76,961,152 parameters.
    const v11 = buildPlan({ model_type: 't5', vocab_size: 32128, d_model: 512, d_kv: 64, d_ff: 1024, num_layers: 8, num_heads: 6, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false });
    expect(v11.params.total).toBe(76_961_152);
    expect(v11.layers[0].ffn.map((m) => m.name)).toEqual(['encoder.layers.0.ffn.wi_0', 'encoder.layers.0.ffn.wi_1', 'encoder.layers.0.ffn.wo']);
  });

  test('gemma3: text_config built as gemma3_text with its defaults, q/k norms, and a warning about the vision tower', () => {
    // google/gemma-3-4b-pt lists only these in its text_config.
    const plan = buildPlan({ model_type: 'gemma3', text_config: { hidden_size: 2560, intermediate_size: 10240, model_type: 'gemma3_text', num_hidden_layers: 34, rope_scaling: { factor: 8, rope_type: 'linear' }, sliding_window: 1024 }, vision_config: { hidden_size: 1152 } });
    const h = 2560;
    const layer = 2048 * h + 2 * 1024 * h + h * 2048 + 3 * h * 10240 + 4 * h + 2 * 256;
    expect(plan.params.total).toBe(262208 * h + 34 * layer + h);
    expect(plan.warnings).toEqual(['gemma3: only the language model (text_config) is built; the vision tower and projector are not counted']);
    const text = buildPlan({ model_type: 'gemma3_text', hidden_size: 2560, intermediate_size: 10240, num_hidden_layers: 34 });
    expect(text.params.total).toBe(plan.params.total);
    expect(text.params.total - buildPlan({ ...fixture('gemma-2-9b.json'), model_type: 'gemma3_text' }).params.total).not.toBe(0);
    expect(buildPlan({ ...fixture('gemma-2-9b.json'), model_type: 'gemma3_text' }).params.total).toBe(9_241_705_984 + 42 * 2 * 256);
    const bad = expectError(() => buildPlan({ model_type: 'gemma3', text_config: { hidden_size: 2560, num_hidden_layers: -1 } }), 'E_FORMAT');
    expect([bad.location?.field, bad.message]).toEqual(['text_config.num_hidden_layers', expect.stringMatching(/^text_config\.num_hidden_layers: must be a positive integer/)]);
  });
});

describe('hf families: config keys the builder would ignore', () => {
  const mixtral = fixture('mixtral-8x7b.json');

  test('a Mixtral config relabelled mistral builds dense, with a warning naming the expert keys', () => {
    const plan = buildPlan({ ...mixtral, model_type: 'mistral' });
    expect(plan.params.total).toBeLessThan(8e9);
    expect(plan.warnings).toHaveLength(1);
    expect(plan.warnings?.[0]).toContain('"mistral"');
    expect(plan.warnings?.[0]).toContain('num_local_experts');
    expect(plan.warnings?.[0]).toContain('num_experts_per_tok');
    expect(plan.warnings?.[0]).not.toContain('sliding_window');
  });

  test('strictConfig turns the warning into E_UNSUPPORTED naming the keys', () => {
    const e = expectError(() => buildPlan({ ...mixtral, model_type: 'mistral' }, { strictConfig: true }), 'E_UNSUPPORTED');
    expect(e.message).toContain('num_local_experts');
    expectError(() => buildPlan(mixtral, { strictConfig: 'yes' as unknown as boolean }), 'E_ARGUMENT');
    expect(buildPlan(mixtral, { strictConfig: true }).params.total).toBe(46_702_792_704);
  });

  test('expert-named and moe_ keys are caught too; null, false and 0 turn a feature off and are not reported', () => {
    const llama = fixture('llama-2-7b.json');
    expect(buildPlan({ ...llama, moe_top_k: 2, n_expert_groups: 4 }).warnings?.[0]).toContain('moe_top_k, n_expert_groups');
    expect(buildPlan({ ...llama, num_experts: 0, q_lora_rank: null, multi_query: false }).warnings).toBeUndefined();
    expect(buildPlan({ ...llama, sliding_window: 4096, rope_theta: 1e6 }).warnings).toBeUndefined();
  });

  test('no real config of the fixtures raises a warning', () => {
    for (const name of ['bert-base-uncased.json', 'gpt2.json', 'llama-2-7b.json', 'qwen2-0.5b.json', 'tinyllama-1.1b.json', 'qwen1.5-moe-a2.7b.json', 'qwen3-30b-a3b.json', 'deepseek-v2-lite.json', 'deepseek-v3.json']) {
      expect([name, buildPlan(fixture(name)).warnings]).toEqual([name, undefined]);
    }
  });
});
