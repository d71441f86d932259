import { readFileSync } from 'node:fs';
import { buildPlan, families } from '../../../src/arch';
import { benchmarkFile, expectConsistent, expectError, shapes } from './helpers';

const entries = JSON.parse(readFileSync(benchmarkFile('nas-bench-bert/BERT_benchmark.json'), 'utf8')) as Array<{
  id: number;
  hparams: { model_hparam_overrides: unknown };
}>;

// Linear layer with bias, rows = out features.
const lin = (out: number, inp: number): number => out * inp + out;
// ELECTRA-small embeddings: word, position, token type, LayerNorm (all width 128).
const EMBEDDINGS_128 = 30522 * 128 + 512 * 128 + 2 * 128 + 2 * 128;
const EMBEDDINGS_256 = EMBEDDINGS_128 + lin(256, 128); // plus the 128 -> 256 projection

describe('nas-bench-bert as-trained (every layer SDP attention, FFN h -> 4h -> f... -> h)', () => {
  test('entry 0, hidden 256: shapes and counts by hand', () => {
    const plan = buildPlan(entries[0]);
    expect(plan.family).toBe('nas-bench-bert');
    expect(plan.build).toBe('as-trained');
    expect(plan.id).toBe('0');
    expect(plan.hiddenSize).toBe(256);
    // Layer 0 is SA-WMA in the entry, but the training code ran plain SDP attention.
    expect(plan.layers[0].description).toMatchObject({ operation: 'SA-SDP', specified: 'SA-WMA', heads: 4 });
    expect(shapes(plan.layers[0].attention)).toEqual([[256, 256], [256, 256], [256, 256], [256, 256]]);
    expect(plan.layers[0].attention.map((m) => [m.heads, m.headAxis])).toEqual([[4, 'rows'], [4, 'rows'], [4, 'rows'], [4, 'cols']]);
    // Layer 1 (LT-DCT, 2 heads, f = 512, 3 FFN layers) is SDP with 2 heads; widths chain 256 -> 1024 -> 512 -> 512 -> 256.
    expect(plan.layers[1].attention.map((m) => m.heads)).toEqual([2, 2, 2, 2]);
    expect(shapes(plan.layers[1].ffn)).toEqual([[1024, 256], [512, 1024], [512, 512], [256, 512]]);
    // Layer 3 has one FFN layer: feed_forward_dimension is unused.
    expect(shapes(plan.layers[3].ffn)).toEqual([[1024, 256], [256, 1024]]);

    const attention = 4 * lin(256, 256);
    const norms = 4 * 256;
    const ffn0 = lin(1024, 256) + 2 * lin(1024, 1024) + lin(256, 1024);
    const ffn12 = lin(1024, 256) + lin(512, 1024) + lin(512, 512) + lin(256, 512);
    const ffn3 = lin(1024, 256) + lin(256, 1024);
    expect(plan.layers.map((l) => l.params)).toEqual([
      { attention, ffn: ffn0, other: norms },
      { attention, ffn: ffn12, other: norms },
      { attention, ffn: ffn12, other: norms },
      { attention, ffn: ffn3, other: norms },
    ]);
    expect(plan.params.embedding).toBe(EMBEDDINGS_256);
    expect(plan.params.total).toBe(EMBEDDINGS_256 + 4 * (attention + norms) + ffn0 + 2 * ffn12 + ffn3);
    expect(shapes(plan.extras)).toEqual([[30522, 128], [512, 128], [2, 128], [256, 128]]);
    expectConsistent(plan);
  });

  test('entry 3, hidden 128 (two DSC layers): no embedding projection, SDP attention', () => {
    const plan = buildPlan(entries[3]);
    expect(plan.extras.map((m) => m.name)).toEqual(['embeddings.word', 'embeddings.position', 'embeddings.token_type']);
    const layer = 4 * lin(128, 128) + lin(512, 128) + lin(128, 512) + 4 * 128;
    expect(plan.params.total).toBe(EMBEDDINGS_128 + 2 * layer);
    expectConsistent(plan);
  });

  test('the bare overrides object builds the same plan as the entry', () => {
    const bare = buildPlan(entries[1].hparams.model_hparam_overrides);
    const full = buildPlan(entries[1]);
    expect(bare.id).toBeUndefined();
    expect({ ...bare, id: '1' }).toEqual(full);
  });
});

describe('nas-bench-bert as-specified (FlexiBERT operations)', () => {
  test('entry 0: WMA adds a d_h x d_h matrix, LT keeps only the output projection', () => {
    const plan = buildPlan(entries[0], { build: 'as-specified' });
    expect(plan.build).toBe('as-specified');
    const [wma, lt, sdp, sdp1] = plan.layers;
    expect(wma.attention.map((m) => m.name)).toEqual([
      'layers.0.attention.query',
      'layers.0.attention.key',
      'layers.0.attention.value',
      'layers.0.attention.wma',
      'layers.0.attention.output',
    ]);
    const wmaMatrix = wma.attention[3];
    expect([wmaMatrix.rows, wmaMatrix.cols, wmaMatrix.heads]).toEqual([64, 64, undefined]); // 256 / 4 heads
    expect(wmaMatrix.init).toEqual({ scheme: 'uniform', bound: 0.1 });
    expect(lt.attention.map((m) => [m.name, m.rows, m.cols, m.heads])).toEqual([['layers.1.attention.output', 256, 256, undefined]]);
    // FFN f -> f stacks: 256 -> 512 -> 512 -> 512 -> 256 for entry 0's layer 1.
    expect(shapes(lt.ffn)).toEqual([[512, 256], [512, 512], [512, 512], [256, 512]]);
    expect(shapes(sdp1.ffn)).toEqual([[1024, 256], [256, 1024]]);

    const norms = 4 * 256;
    const ffn1024x3 = lin(1024, 256) + 2 * lin(1024, 1024) + lin(256, 1024);
    const ffn512x3 = lin(512, 256) + 2 * lin(512, 512) + lin(256, 512);
    expect(wma.params).toEqual({ attention: 4 * lin(256, 256) + 64 * 64, ffn: ffn1024x3, other: norms });
    expect(lt.params).toEqual({ attention: lin(256, 256), ffn: ffn512x3, other: norms });
    expect(sdp.params).toEqual({ attention: 4 * lin(256, 256), ffn: ffn512x3, other: norms });
    expect(sdp1.params).toEqual({ attention: 4 * lin(256, 256), ffn: lin(1024, 256) + lin(256, 1024), other: norms });
    // With the layers' counts above and the embeddings by hand, expectConsistent checks the total is their sum.
    expect(plan.params.embedding).toBe(EMBEDDINGS_256);
    expectConsistent(plan);
  });

  test('entry 3, DSC-9 with 4 heads and DSC-5 with 2 heads on hidden 128', () => {
    const plan = buildPlan(entries[3], { build: 'as-specified' });
    const [dsc9, dsc5] = plan.layers;
    // 4 heads -> 2 attention heads + 2 convolution heads of size 32; the attention half is 64 wide.
    expect(dsc9.attention.map((m) => [m.name.split('.').pop(), m.rows, m.cols, m.heads, m.headAxis])).toEqual([
      ['query', 64, 128, 2, 'rows'],
      ['key', 64, 128, 2, 'rows'],
      ['value', 64, 128, 2, 'rows'],
      ['conv_key_pointwise', 64, 128, 2, 'rows'],
      ['conv_kernel', 18, 64, 2, 'rows'],
      ['conv_value', 64, 128, 2, 'rows'],
      ['output', 128, 128, 4, 'cols'],
    ]);
    expect(dsc5.attention.map((m) => [m.rows, m.cols, m.heads])).toEqual([
      [64, 128, 1],
      [64, 128, 1],
      [64, 128, 1],
      [64, 128, 1],
      [5, 64, 1],
      [64, 128, 1],
      [128, 128, 2],
    ]);
    const dsc = (kernel: number, reducedHeads: number): number =>
      3 * lin(64, 128) + 128 * kernel /* depthwise */ + lin(64, 128) /* pointwise + bias */ + lin(reducedHeads * kernel, 64) + lin(64, 128) + lin(128, 128);
    expect(dsc9.params.attention).toBe(dsc(9, 2));
    expect(dsc5.params.attention).toBe(dsc(5, 1));
    expect(dsc9.description).toMatchObject({ operation: 'DSC-9', depthwiseParams: 1152, kernel: 9 });
    const ffn = lin(512, 128) + lin(128, 512);
    expect(plan.params.total).toBe(EMBEDDINGS_128 + dsc(9, 2) + dsc(5, 1) + 2 * (ffn + 4 * 128));
    expectConsistent(plan);
  });
});

describe('nas-bench-bert lpzero (the PyTorch port the published proxies used)', () => {
  const csv = readFileSync(benchmarkFile('peer-proxy-scores/nas-bench-bert/serianni_kalita_2023.csv'), 'utf8').trim().split('\n');
  const header = csv[0].split(',');
  const idColumn = header.indexOf('ID');
  const paramsColumn = header.indexOf('Number of Parameters');
  const published = new Map(csv.slice(1).map((line) => {
    const cells = line.split(',');
    return [Number(cells[idColumn]), Number(cells[paramsColumn])];
  }));

  test('params.total equals the published "Number of Parameters" for all 500 ids', () => {
    expect(paramsColumn).toBeGreaterThan(0);
    expect(published.size).toBe(500);
    const mismatches: string[] = [];
    for (const entry of entries) {
      const plan = buildPlan(entry, { build: 'lpzero' });
      if (plan.params.total !== published.get(entry.id)) mismatches.push(`${entry.id}: ${plan.params.total} != ${published.get(entry.id)}`);
    }
    expect(mismatches).toEqual([]);
    expect(buildPlan(entries[0], { build: 'lpzero' }).params.total).toBe(13330176);
    expect(buildPlan(entries[1], { build: 'lpzero' }).params.total).toBe(11106199);
  });

  test('ignores hidden_size and feed_forward_dimension but not operations, heads or FFN depth', () => {
    const plan = buildPlan(entries[2], { build: 'lpzero' }); // hidden 128 in the entry
    expect(plan.hiddenSize).toBe(256);
    const [sdp, lt, dsc, lt2] = plan.layers;
    expect(shapes(sdp.ffn)).toEqual([[1024, 256], [256, 1024]]);
    expect(shapes(dsc.ffn)).toEqual([[1024, 256], [1024, 1024], [1024, 1024], [256, 1024]]);
    // LT: one input projection split into heads, no output projection, one LayerNorm.
    expect(lt.attention.map((m) => [m.name, m.rows, m.cols, m.heads])).toEqual([['layers.1.attention.transform_input', 256, 256, 2]]);
    expect(lt.params).toEqual({ attention: lin(256, 256), ffn: lin(1024, 256) + lin(256, 1024), other: 512 });
    expect(lt2.attention[0].heads).toBe(4);
    const wma = buildPlan(entries[0], { build: 'lpzero' }).layers[0];
    expect(wma.attention.find((m) => m.name.endsWith('weighted_query'))).toMatchObject({ rows: 256, cols: 256 });
    expect(wma.params.attention).toBe(4 * lin(256, 256) + 256 * 256);
    expectConsistent(plan);
  });
});

describe('nas-bench-bert defaults and options', () => {
  test('family metadata', () => {
    expect(families['nas-bench-bert'].builds).toEqual(['as-trained', 'as-specified', 'lpzero']);
    expect(families['nas-bench-bert'].defaultBuild).toBe('as-trained');
  });

  test('default init is normal(0.02) everywhere; an init option replaces every scored matrix, not extras', () => {
    const plan = buildPlan(entries[0], { build: 'as-specified' });
    const scored = plan.layers.flatMap((l) => [...l.attention, ...l.ffn]);
    expect(scored.filter((m) => !m.name.endsWith('.wma')).every((m) => m.init.scheme === 'normal' && m.init.std === 0.02)).toBe(true);
    const replaced = buildPlan(entries[0], { build: 'as-specified', init: { scheme: 'xavier-uniform' } });
    expect(replaced.layers.flatMap((l) => [...l.attention, ...l.ffn]).every((m) => m.init.scheme === 'xavier-uniform')).toBe(true);
    expect(replaced.extras.every((m) => m.init.scheme === 'normal')).toBe(true);
  });

  test('id option overrides the entry id', () => {
    expect(buildPlan(entries[5], { id: 'mine' }).id).toBe('mine');
  });
});

describe('nas-bench-bert validation', () => {
  const layer = { operation_type: 'SA', operation_parameter: 'SDP', num_operation_heads: 4, feed_forward_dimension: 512, num_feed_forward: 1 };
  const bare = (layers: unknown[], hidden: unknown = 256): unknown => ({ hidden_size: hidden, nas_config: { encoder_layers: layers } });
  const entryWith = (layers: unknown[]): unknown => ({ id: 7, hparams: { model_hparam_overrides: bare(layers) } });

  test.each([
    ['a string', '4'],
    ['zero', 0],
    ['a negative number', -2],
    ['a fraction', 2.5],
    ['null', null],
  ])('num_operation_heads as %s is E_FORMAT naming the field path', (_label, heads) => {
    const layers = [layer, layer, { ...layer, num_operation_heads: heads }];
    const e = expectError(() => buildPlan(bare(layers)), 'E_FORMAT');
    expect(e.location?.field).toBe('nas_config.encoder_layers[2].num_operation_heads');
    expect(e.message).toContain('nas_config.encoder_layers[2].num_operation_heads');
    const full = expectError(() => buildPlan(entryWith(layers)), 'E_FORMAT');
    expect(full.location?.field).toBe('hparams.model_hparam_overrides.nas_config.encoder_layers[2].num_operation_heads');
  });

  test('sizes beyond 2^20 are refused', () => {
    const e = expectError(() => buildPlan(bare([{ ...layer, feed_forward_dimension: 2 ** 20 + 1 }])), 'E_FORMAT');
    expect(e.location?.field).toBe('nas_config.encoder_layers[0].feed_forward_dimension');
    expectError(() => buildPlan(bare([layer], 2 ** 21)), 'E_FORMAT');
  });

  test('unknown operation types and parameters are E_UNSUPPORTED naming value and field', () => {
    let e = expectError(() => buildPlan(bare([{ ...layer, operation_type: 'MLP' }])), 'E_UNSUPPORTED');
    expect(e.message).toContain('"MLP"');
    expect(e.location?.field).toBe('nas_config.encoder_layers[0].operation_type');
    e = expectError(() => buildPlan(bare([{ ...layer, operation_parameter: 'DFT' }])), 'E_UNSUPPORTED');
    expect(e.message).toContain('"DFT"');
    expect(e.location?.field).toBe('nas_config.encoder_layers[0].operation_parameter');
    e = expectError(() => buildPlan(bare([{ ...layer, operation_type: 'LT', operation_parameter: 5 }])), 'E_UNSUPPORTED');
    expect(e.location?.field).toBe('nas_config.encoder_layers[0].operation_parameter');
    e = expectError(() => buildPlan(bare([{ ...layer, operation_type: 'DSC', operation_parameter: '9' }])), 'E_UNSUPPORTED');
    expect(e.message).toContain('"9"');
    expectError(() => buildPlan(bare([{ ...layer, operation_type: 'DSC', operation_parameter: 4 }])), 'E_UNSUPPORTED');
    // Validated in every build, even as-trained, which runs SDP attention whatever the entry says.
    expectError(() => buildPlan(bare([{ ...layer, operation_type: 'XX' }]), { build: 'as-trained' }), 'E_UNSUPPORTED');
  });

  test('wrongly typed fields are E_FORMAT, never defaulted', () => {
    let e = expectError(() => buildPlan(bare([{ ...layer, operation_type: 3 }])), 'E_FORMAT');
    expect(e.location?.field).toBe('nas_config.encoder_layers[0].operation_type');
    e = expectError(() => buildPlan(bare([{ ...layer, operation_parameter: true }])), 'E_FORMAT');
    expect(e.location?.field).toBe('nas_config.encoder_layers[0].operation_parameter');
    e = expectError(() => buildPlan(bare([layer], '256')), 'E_FORMAT');
    expect(e.location?.field).toBe('hidden_size');
    const { num_feed_forward: _dropped, ...withoutDepth } = layer;
    e = expectError(() => buildPlan(bare([withoutDepth])), 'E_FORMAT');
    expect(e.message).toContain('missing');
    expect(e.location?.field).toBe('nas_config.encoder_layers[0].num_feed_forward');
    e = expectError(() => buildPlan(bare([])), 'E_FORMAT');
    expect(e.location?.field).toBe('nas_config.encoder_layers');
    e = expectError(() => buildPlan({ hidden_size: 256, nas_config: { encoder_layers: 'SA' } }, { family: 'nas-bench-bert' }), 'E_FORMAT');
    expect(e.location?.field).toBe('nas_config.encoder_layers');
    e = expectError(() => buildPlan(bare(['SA'])), 'E_FORMAT');
    expect(e.location?.field).toBe('nas_config.encoder_layers[0]');
    e = expectError(() => buildPlan({ id: 1, hparams: { model_hparam_overrides: 5 } }, { family: 'nas-bench-bert' }), 'E_FORMAT');
    expect(e.location?.field).toBe('hparams.model_hparam_overrides');
  });

  test('hidden size not divisible by the heads is E_FORMAT (lpzero checks against its own 256)', () => {
    const odd = bare([{ ...layer, num_operation_heads: 3 }], 96);
    expect(buildPlan(odd).layers[0].attention[0].heads).toBe(3); // 96 / 3 is fine
    const e = expectError(() => buildPlan(bare([{ ...layer, num_operation_heads: 3 }], 128)), 'E_FORMAT');
    expect(e.location?.field).toBe('nas_config.encoder_layers[0].num_operation_heads');
    expectError(() => buildPlan(odd, { build: 'lpzero' }), 'E_FORMAT');
    expect(buildPlan(bare([{ ...layer, num_operation_heads: 8 }], 100), { build: 'lpzero' }).hiddenSize).toBe(256);
  });

  test('DSC needs an even number of heads', () => {
    const e = expectError(() => buildPlan(bare([{ ...layer, operation_type: 'DSC', operation_parameter: 5, num_operation_heads: 3 }], 192), { build: 'as-specified' }), 'E_UNSUPPORTED');
    expect(e.location?.field).toBe('nas_config.encoder_layers[0].num_operation_heads');
  });

  test('unknown build is E_UNSUPPORTED and names the valid ones', () => {
    const e = expectError(() => buildPlan(entries[0], { build: 'as-dreamt' as never }), 'E_UNSUPPORTED');
    expect(e.message).toContain('as-trained, as-specified, lpzero');
  });
});
