import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_LAYERS, buildPlan, detectFamily, families, familyNames } from '../../../src/arch';
import { MAX_MATRICES_PER_INPUT } from '../../../src/arch/fields';
import { benchmarkFile, expectConsistent, expectError } from './helpers';

const entry = (JSON.parse(readFileSync(benchmarkFile('nas-bench-bert/BERT_benchmark.json'), 'utf8')) as Array<Record<string, unknown>>)[0];
const overrides = (entry.hparams as Record<string, unknown>).model_hparam_overrides;
const lts = { n_layer: 2, d_model: 64, n_head: [2, 4], d_inner: [128, 256], n_token: 500 };
const hf = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'gpt2.json'), 'utf8')) as Record<string, unknown>;
const modules = { format: 'modules', layers: [{ attention: [{ rows: 8, cols: 8 }], ffn: [] }] };

describe('detectFamily', () => {
  test('recognises each family unambiguously', () => {
    expect(detectFamily(entry)).toBe('nas-bench-bert');
    expect(detectFamily(overrides)).toBe('nas-bench-bert');
    expect(detectFamily(lts)).toBe('gpt2-flex');
    expect(detectFamily({ ...lts, model_type: 'mem_transformer' })).toBe('transformer-xl');
    expect(detectFamily(hf)).toBe('hf');
    expect(detectFamily(modules)).toBe('modules');
  });

  test('nothing recognisable: E_FORMAT naming the missing fields of every candidate', () => {
    const e = expectError(() => detectFamily({ d_model: 64, n_layer: 2 }), 'E_FORMAT');
    expect(e.message).toContain('nas-bench-bert needs hidden_size, nas_config.encoder_layers');
    expect(e.message).toContain('gpt2-flex needs n_head, d_inner, n_token');
    expect(e.message).not.toContain('gpt2-flex needs n_layer');
    expect(e.message).toContain('transformer-xl needs n_head, d_inner, n_token, model_type: "mem_transformer"');
    expect(e.message).toContain('hf needs model_type');
    expect(e.message).toContain('modules needs format: "modules"');
    const partial = expectError(() => detectFamily({ hparams: {} }), 'E_FORMAT');
    expect(partial.message).toContain('hparams.model_hparam_overrides.nas_config.encoder_layers');
  });

  test('two complete signatures: E_FORMAT asking to choose; the family option resolves it', () => {
    const both = { ...lts, model_type: 'transfo-xl' };
    const e = expectError(() => detectFamily(both), 'E_FORMAT');
    expect(e.message).toContain('gpt2-flex and hf');
    expect(buildPlan(both, { family: 'gpt2-flex' }).family).toBe('gpt2-flex');
  });

  test.each([[null], [[entry]], ['{"format":"modules"}'], [42]])('non-objects are E_FORMAT: %p', (input) => {
    expectError(() => detectFamily(input), 'E_FORMAT');
    expectError(() => buildPlan(input), 'E_FORMAT');
  });
});

describe('buildPlan options', () => {
  test('unknown family is E_UNSUPPORTED, a non-string family E_ARGUMENT', () => {
    const e = expectError(() => buildPlan(lts, { family: 'resnet' as never }), 'E_UNSUPPORTED');
    expect(e.message).toContain('"resnet"');
    expectError(() => buildPlan(lts, { family: 3 as never }), 'E_ARGUMENT');
    expectError(() => buildPlan(lts, 'fast' as never), 'E_ARGUMENT');
  });

  test('invalid init options are E_ARGUMENT naming the field', () => {
    let e = expectError(() => buildPlan(lts, { init: { scheme: 'normal', std: -1 } }), 'E_ARGUMENT');
    expect(e.location?.field).toBe('init.std');
    e = expectError(() => buildPlan(lts, { init: { scheme: 'glorot' } as never }), 'E_ARGUMENT');
    expect(e.location?.field).toBe('init.scheme');
    e = expectError(() => buildPlan(lts, { init: { scheme: 'kaiming-normal', mode: 'sideways' } as never }), 'E_ARGUMENT');
    expect(e.location?.field).toBe('init.mode');
    expectError(() => buildPlan(lts, { build: 5 as never }), 'E_ARGUMENT');
    expectError(() => buildPlan(lts, { id: 5 as never }), 'E_ARGUMENT');
  });

  test('every family documents its builds, default build and default init', () => {
    expect(familyNames).toEqual(['nas-bench-bert', 'gpt2-flex', 'transformer-xl', 'hf', 'modules']);
    for (const name of familyNames) {
      const family = families[name];
      expect(family.builds).toContain(family.defaultBuild);
      expect(family.defaultInit.length).toBeGreaterThan(0);
      expect(family.build).toBeInstanceOf(Function);
    }
    expect(families.modules.build(modules).build).toBe('default');
  });
});

describe('scale: a 10,000-layer model is legal and builds (its speed is measured in bench/, not asserted here)', () => {
  const layerCount = 10_000;

  test('gpt2-flex, nas-bench-bert and modules with 10,000 layers', () => {
    const gpt = buildPlan({ n_layer: layerCount, d_model: 64, n_head: new Array(layerCount).fill(4), d_inner: 256, n_token: 500 });
    const layer = { operation_type: 'DSC', operation_parameter: 9, num_operation_heads: 4, feed_forward_dimension: 512, num_feed_forward: 3 };
    const bert = buildPlan({ hidden_size: 128, nas_config: { encoder_layers: new Array(layerCount).fill(layer) } }, { build: 'as-specified' });
    const generic = buildPlan({ format: 'modules', layers: new Array(layerCount).fill({ attention: [{ rows: 64, cols: 64 }], ffn: [{ rows: 256, cols: 64 }] }) });
    expect(gpt.layers).toHaveLength(layerCount);
    expect(bert.layers).toHaveLength(layerCount);
    expect(generic.params.total).toBe(layerCount * (64 * 64 + 256 * 64));
    for (const plan of [gpt, bert, generic]) expectConsistent(plan);
  });

  test('more than 2^20 layers are refused', () => {
    const e = expectError(() => buildPlan({ n_layer: 2 ** 20 + 1, d_model: 64, n_head: 4, d_inner: 256, n_token: 500 }), 'E_FORMAT');
    expect(e.location?.field).toBe('n_layer');
  });

  test('every family refuses more than MAX_LAYERS layers as E_MEMORY_LIMIT naming the field, and accepts MAX_LAYERS', () => {
    const over = MAX_LAYERS + 1;
    const layer = { operation_type: 'SA', operation_parameter: 'SDP', num_operation_heads: 2, feed_forward_dimension: 512, num_feed_forward: 1 };
    const cases: Array<[unknown, string]> = [
      [{ model_type: 'llama', vocab_size: 100, hidden_size: 64, num_hidden_layers: 2 ** 20, num_attention_heads: 4, intermediate_size: 128 }, 'num_hidden_layers'],
      [{ model_type: 'bert', vocab_size: 100, hidden_size: 64, num_hidden_layers: over, num_attention_heads: 4, intermediate_size: 128 }, 'num_hidden_layers'],
      [{ model_type: 'gpt2', vocab_size: 100, n_embd: 64, n_layer: over, n_head: 4 }, 'n_layer'],
      [{ n_layer: over, d_model: 64, n_head: 4, d_inner: 256, n_token: 500 }, 'n_layer'],
      [{ model_type: 'mem_transformer', n_layer: over, d_model: 64, n_head: 4, d_inner: 256, n_token: 500 }, 'n_layer'],
      [{ model_type: 'opt', vocab_size: 100, hidden_size: 64, num_hidden_layers: over, num_attention_heads: 4, ffn_dim: 128, max_position_embeddings: 32 }, 'num_hidden_layers'],
      [{ model_type: 'falcon', vocab_size: 100, hidden_size: 64, num_hidden_layers: over, num_attention_heads: 4 }, 'num_hidden_layers'],
      [{ model_type: 'gpt_neox', vocab_size: 100, hidden_size: 64, num_hidden_layers: over, num_attention_heads: 4, intermediate_size: 128 }, 'num_hidden_layers'],
      [{ model_type: 'mixtral', vocab_size: 100, hidden_size: 64, num_hidden_layers: over, num_attention_heads: 4, num_local_experts: 2, num_experts_per_tok: 1, intermediate_size: 128 }, 'num_hidden_layers'],
      [{ model_type: 't5', vocab_size: 100, d_model: 64, d_kv: 16, d_ff: 128, num_layers: MAX_LAYERS / 2 + 1, num_decoder_layers: MAX_LAYERS / 2, num_heads: 4 }, 'num_layers'],
      [{ hidden_size: 128, nas_config: { encoder_layers: new Array(over).fill(layer) } }, 'nas_config.encoder_layers'],
      [{ format: 'modules', layers: new Array(over).fill({ attention: [{ rows: 64, cols: 64 }], ffn: [] }) }, 'layers'],
    ];
    for (const [input, field] of cases) {
      const e = expectError(() => buildPlan(input), 'E_MEMORY_LIMIT');
      expect(e.location?.field).toBe(field);
      expect(e.message).toMatch(/exceed the per-input limit of 16384/);
    }
    expect(buildPlan({ n_layer: MAX_LAYERS, d_model: 64, n_head: 4, d_inner: 256, n_token: 500 }).layers).toHaveLength(MAX_LAYERS);
  });

  test('a mixture of experts with more matrices than MAX_MATRICES_PER_INPUT is refused before its experts are built', () => {
    const config = { model_type: 'mixtral', vocab_size: 100, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_local_experts: MAX_MATRICES_PER_INPUT, num_experts_per_tok: 2, intermediate_size: 128 };
    const e = expectError(() => buildPlan(config), 'E_MEMORY_LIMIT');
    expect(e.message).toMatch(/2 layers and their experts give \d+ matrices, above the per-input limit of 1048576/);
  });
});
