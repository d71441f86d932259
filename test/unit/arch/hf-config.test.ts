import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPlan, detectFamily } from '../../../src/arch';
import { expectConsistent, expectError, shapes } from './helpers';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as Record<string, unknown>;

describe('hf: published parameter counts', () => {
  test.each([
    ['bert-base-uncased.json', 109_482_240],
    ['gpt2.json', 124_439_808],
    ['tinyllama-1.1b.json', 1_100_048_384],
    ['llama-2-7b.json', 6_738_415_616],
  ])('%s has %d parameters', (name, total) => {
    const input = fixture(name);
    expect(detectFamily(input)).toBe('hf');
    const plan = buildPlan(input);
    expect(plan.family).toBe('hf');
    expect(plan.params.total).toBe(total);
    expectConsistent(plan);
  });

  test('roberta-base (RobertaModel with pooler) has 124,645,632 parameters', () => {
    const bert = fixture('bert-base-uncased.json');
    const plan = buildPlan({ ...bert, model_type: 'roberta', vocab_size: 50265, max_position_embeddings: 514, type_vocab_size: 1 });
    expect(plan.params.total).toBe(124_645_632);
  });

  test('Qwen2-0.5B, by hand from its config: q/k/v biases, GQA, tied embeddings', () => {
    const plan = buildPlan(fixture('qwen2-0.5b.json'));
    const h = 896;
    const layer = h * h + h + 2 * (128 * h + 128) + h * h + 3 * h * 4864 + 2 * h; // kv width 2 heads x 64
    expect(plan.params.total).toBe(151936 * h + 24 * layer + h);
    expect(plan.params.total).toBe(494_032_768);
    expect(plan.extras.map((m) => m.name)).toEqual(['embeddings.word']);
  });
});

describe('hf: structure', () => {
  test('TinyLlama grouped-query attention: K/V rows = kv heads x head_dim', () => {
    const plan = buildPlan(fixture('tinyllama-1.1b.json'));
    expect(plan.layers).toHaveLength(22);
    const [query, key, value, output] = plan.layers[0].attention;
    expect([query.rows, query.cols, query.heads, query.headAxis]).toEqual([2048, 2048, 32, 'rows']);
    expect([key.rows, key.cols, key.heads, key.headAxis]).toEqual([256, 2048, 4, 'rows']);
    expect([value.rows, value.heads]).toEqual([256, 4]);
    expect([output.rows, output.cols, output.heads, output.headAxis]).toEqual([2048, 2048, 32, 'cols']);
    expect(plan.layers[0].ffn.map((m) => [m.name, m.rows, m.cols])).toEqual([
      ['layers.0.ffn.gate', 5632, 2048],
      ['layers.0.ffn.up', 5632, 2048],
      ['layers.0.ffn.down', 2048, 5632],
    ]);
    expect(plan.extras.map((m) => m.name)).toEqual(['embeddings.word', 'lm_head']);
    expect(plan.params.embedding).toBe(2 * 32000 * 2048);
  });

  test('BERT: shapes, pooler in extras, default init from initializer_range', () => {
    const plan = buildPlan(fixture('bert-base-uncased.json'));
    expect(shapes(plan.layers[11].attention)).toEqual([[768, 768], [768, 768], [768, 768], [768, 768]]);
    expect(shapes(plan.layers[11].ffn)).toEqual([[3072, 768], [768, 3072]]);
    expect(plan.extras.map((m) => m.name)).toEqual(['embeddings.word', 'embeddings.position', 'embeddings.token_type', 'pooler']);
    expect(plan.layers[0].attention[0].init).toEqual({ scheme: 'normal', std: 0.02 });
    const wider = buildPlan({ ...fixture('bert-base-uncased.json'), initializer_range: 0.05 });
    expect(wider.layers[0].ffn[0].init).toEqual({ scheme: 'normal', std: 0.05 });
  });

  test('ELECTRA-small: embedding_size 128 projected to 256, no pooler (hand count)', () => {
    const plan = buildPlan({
      model_type: 'electra',
      vocab_size: 30522,
      embedding_size: 128,
      hidden_size: 256,
      num_hidden_layers: 12,
      num_attention_heads: 4,
      intermediate_size: 1024,
    });
    const layer = 4 * (256 * 256 + 256) + (1024 * 256 + 1024) + (256 * 1024 + 256) + 4 * 256;
    const embeddings = (30522 + 512 + 2) * 128 + 2 * 128 + 256 * 128 + 256;
    expect(plan.params.total).toBe(embeddings + 12 * layer);
    expect(plan.extras.map((m) => m.name)).toEqual(['embeddings.word', 'embeddings.position', 'embeddings.token_type', 'embeddings.project']);
  });

  test('GPT-2: c_proj weights use initializer_range / sqrt(2 n_layer); untied head adds vocab x n_embd', () => {
    const plan = buildPlan(fixture('gpt2.json'));
    const residual = 0.02 / Math.sqrt(24);
    expect(plan.layers[0].attention.map((m) => m.init)).toEqual([
      { scheme: 'normal', std: 0.02 },
      { scheme: 'normal', std: 0.02 },
      { scheme: 'normal', std: 0.02 },
      { scheme: 'normal', std: residual },
    ]);
    expect(plan.layers[0].ffn.map((m) => m.init)).toEqual([{ scheme: 'normal', std: 0.02 }, { scheme: 'normal', std: residual }]);
    const untied = buildPlan({ ...fixture('gpt2.json'), tie_word_embeddings: false });
    expect(untied.params.total - plan.params.total).toBe(50257 * 768);
  });

  test('per-layer lists for heads, key/value heads and intermediate size', () => {
    const base = fixture('tinyllama-1.1b.json');
    const plan = buildPlan({
      ...base,
      num_hidden_layers: 3,
      num_attention_heads: [32, 16, 8],
      num_key_value_heads: [4, 16, 1],
      intermediate_size: [5632, 1024, 2048],
    });
    expect(plan.layers.map((l) => [l.attention[0].rows, l.attention[0].heads, l.attention[1].rows, l.attention[1].heads, l.ffn[0].rows])).toEqual([
      [2048, 32, 256, 4, 5632],
      [2048, 16, 2048, 16, 1024],
      [2048, 8, 256, 1, 2048],
    ]);
    // head_dim follows hidden / heads per layer: 64, 128, 256.
    expect(plan.layers.map((l) => l.description?.headDim)).toEqual([64, 128, 256]);
    const h = 2048;
    const layer = (kvWidth: number, inner: number): number => 2 * h * h + 2 * kvWidth * h + 3 * h * inner + 2 * h;
    expect(plan.params.total).toBe(2 * 32000 * h + layer(256, 5632) + layer(2048, 1024) + layer(256, 2048) + h);
  });

  test('explicit head_dim (Gemma style) need not divide hidden_size; llama biases follow attention_bias and mlp_bias', () => {
    const gemma = buildPlan({ model_type: 'gemma', vocab_size: 1000, hidden_size: 3072, num_hidden_layers: 1, num_attention_heads: 16, num_key_value_heads: 16, head_dim: 256, intermediate_size: 4096 });
    expect([gemma.layers[0].attention[0].rows, gemma.layers[0].attention[3].cols]).toEqual([4096, 4096]);
    expect(gemma.extras.map((m) => m.name)).toEqual(['embeddings.word']); // gemma ties by default
    const small = { model_type: 'llama', vocab_size: 100, hidden_size: 64, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 128 };
    const plain = buildPlan(small);
    const biased = buildPlan({ ...small, attention_bias: true, mlp_bias: true });
    expect(biased.params.attention - plain.params.attention).toBe(4 * 64);
    expect(biased.params.ffn - plain.params.ffn).toBe(2 * 128 + 64);
    const mistral = buildPlan({ ...small, model_type: 'mistral', attention_bias: true });
    expect(mistral.params.total).toBe(plain.params.total);
    const qwen3 = buildPlan({ ...small, model_type: 'qwen3' });
    expect(qwen3.params.total - plain.params.total).toBe(2 * 16); // q_norm and k_norm over head_dim 16
  });
});

describe('hf: validation', () => {
  const llama = fixture('tinyllama-1.1b.json');

  test('unknown model_type is E_UNSUPPORTED naming the value', () => {
    const e = expectError(() => buildPlan({ ...llama, model_type: 'bloom' }), 'E_UNSUPPORTED');
    expect(e.message).toContain('"bloom"');
    expect(e.location?.field).toBe('model_type');
    expectError(() => buildPlan({ ...llama, model_type: 7 }, { family: 'hf' }), 'E_FORMAT');
  });

  test('field errors name the field', () => {
    let e = expectError(() => buildPlan({ ...llama, num_key_value_heads: 3 }), 'E_FORMAT');
    expect(e.location?.field).toBe('num_key_value_heads');
    e = expectError(() => buildPlan({ ...llama, num_attention_heads: 30 }), 'E_FORMAT');
    expect(e.location?.field).toBe('num_attention_heads');
    e = expectError(() => buildPlan({ ...llama, intermediate_size: [5632, 5632] }), 'E_FORMAT');
    expect(e.location?.field).toBe('intermediate_size');
    expect(e.message).toContain('22 layers');
    e = expectError(() => buildPlan({ ...llama, num_key_value_heads: [4, 4, 'x', ...new Array(19).fill(4)] }), 'E_FORMAT');
    expect(e.location?.field).toBe('num_key_value_heads[2]');
    e = expectError(() => buildPlan({ ...llama, tie_word_embeddings: 'false' }), 'E_FORMAT');
    expect(e.location?.field).toBe('tie_word_embeddings');
    e = expectError(() => buildPlan({ ...llama, vocab_size: 2 ** 20 + 1 }), 'E_FORMAT');
    expect(e.location?.field).toBe('vocab_size');
    e = expectError(() => buildPlan({ ...llama, initializer_range: -1 }), 'E_FORMAT');
    expect(e.location?.field).toBe('initializer_range');
    const { hidden_size: _h, ...noHidden } = llama;
    e = expectError(() => buildPlan(noHidden), 'E_FORMAT');
    expect(e.location?.field).toBe('hidden_size');
    e = expectError(() => buildPlan({ ...fixture('gpt2.json'), n_head: 7 }), 'E_FORMAT');
    expect(e.location?.field).toBe('n_head');
  });
});
