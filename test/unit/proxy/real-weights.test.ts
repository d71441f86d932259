/**
 * Scores from real weights: safetensors files written here (test/helpers/safetensors.ts), matrices with known singular
 * values in every dtype, sharded checkpoints, fused projections, pruning checked against explicitly sliced copies, and
 * a battery of hostile files.
 */
import { mkdtempSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getMeasure, measureNames } from '../../../src/capacity/measures';
import { ZeroLMError } from '../../../src/errors';
import { convertTensor, spectraSync } from '../../../src/native';
import { score } from '../../../src/proxy/score';
import { scoreWeights, type WeightsScore } from '../../../src/proxy/real-weights';
import { safetensorsBytes, toHalf, writeSafetensors, type TestDtype, type TestTensor } from '../../helpers/safetensors';
import { matrixWithSingularValues, seededRandom } from '../native/fixtures';

const work = mkdtempSync(join(tmpdir(), 'zerolm-weights-'));
let fileCount = 0;
const path = (name: string): string => join(work, `${fileCount++}-${name}`);

// A llama with grouped-query attention, small enough to write in a test: 2 query heads of 4, 1 key/value head.
const llama = { model_type: 'llama', vocab_size: 16, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 4, intermediate_size: 12 };
const SHAPES: Array<[string, number, number]> = [
  ['self_attn.q_proj', 8, 8],
  ['self_attn.k_proj', 4, 8],
  ['self_attn.v_proj', 4, 8],
  ['self_attn.o_proj', 8, 8],
  ['mlp.gate_proj', 12, 8],
  ['mlp.up_proj', 12, 8],
  ['mlp.down_proj', 8, 12],
];

/** Dense values k/64, |k| <= 128: exact in F32, F16 and BF16. */
function denseValues(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count }, () => (Math.floor(random() * 257) - 128) / 64);
}

/** A rows x cols matrix with singular values s exactly: s_i * (+-1) at a permuted position per i. */
function scaledPermutation(rows: number, cols: number, s: readonly number[], seed: number): Float32Array {
  const random = seededRandom(seed);
  const shuffle = (n: number): number[] => {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  };
  const rowOrder = shuffle(rows);
  const colOrder = shuffle(cols);
  const w = new Float32Array(rows * cols);
  s.forEach((value, i) => (w[rowOrder[i] * cols + colOrder[i]] = random() < 0.5 ? -value : value));
  return w;
}

interface Model {
  tensors: TestTensor[];
  /** name -> [rows, cols, values] */
  matrices: Map<string, { rows: number; cols: number; values: Float32Array }>;
}

function llamaModel(make: (rows: number, cols: number, seed: number) => Float32Array, dtype: TestDtype = 'F32', layers = 2): Model {
  const tensors: TestTensor[] = [{ name: 'model.embed_tokens.weight', shape: [16, 8], values: denseValues(128, 99), dtype }];
  const matrices = new Map<string, { rows: number; cols: number; values: Float32Array }>();
  for (let layer = 0; layer < layers; layer++) {
    SHAPES.forEach(([local, rows, cols], k) => {
      const values = make(rows, cols, 100 * layer + k);
      const name = `model.layers.${layer}.${local}.weight`;
      tensors.push({ name, shape: [rows, cols], values, dtype });
      matrices.set(name, { rows, cols, values });
    });
    tensors.push({ name: `model.layers.${layer}.input_layernorm.weight`, shape: [8], values: new Float32Array(8).fill(1), dtype });
  }
  return { tensors, matrices };
}

/** What a measure gives for a spectrum known exactly. */
function capacityOf(measure: string, rows: number, cols: number, singularValues: readonly number[]): number {
  const s = [...singularValues].sort((a, b) => b - a);
  const sumSquares = s.reduce((sum, v) => sum + v * v, 0);
  return getMeasure(measure).fromStats({ rows, cols, sumSquares, singularValues: Float64Array.from(s), logDet: s.reduce((sum, v) => sum + Math.log1p(v * v), 0), top: s[0] });
}

const relativelyClose = (actual: number, expected: number, tolerance: number): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
};

async function zerolmError(action: () => Promise<unknown>): Promise<ZeroLMError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(ZeroLMError);
    return error as ZeroLMError;
  }
  throw new Error('expected a ZeroLMError, nothing was thrown');
}

describe('convertTensor (addon)', () => {
  test('every half converts to its IEEE value: normals, subnormals, zeros, infinities, NaN', () => {
    const halves = new Uint8Array(65536 * 2);
    for (let h = 0; h < 65536; h++) {
      halves[2 * h] = h & 0xff;
      halves[2 * h + 1] = h >>> 8;
    }
    const out = convertTensor(halves, 'F16', [256, 256]);
    const decode = (h: number): number => {
      const sign = h & 0x8000 ? -1 : 1;
      const exponent = (h >>> 10) & 0x1f;
      const mantissa = h & 0x3ff;
      if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
      if (exponent === 0) return sign * mantissa * 2 ** -24;
      return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
    };
    const wrong: number[] = [];
    for (let h = 0; h < 65536; h++) if (!Object.is(out[h], decode(h))) wrong.push(h);
    expect(wrong).toEqual([]);
    expect(toHalf(decode(0x3555))).toBe(0x3555); // the tests' encoder agrees
  });

  test('bf16 and f32 round-trip; rows and columns are gathered as asked (runs and single columns)', () => {
    const values = denseValues(6 * 10, 3);
    for (const dtype of ['F32', 'BF16', 'F16'] as const) {
      const bytes = new Uint8Array(safetensorsBytes([{ name: 'w', shape: [6, 10], values, dtype }]).subarray(-(dtype === 'F32' ? 240 : 120)));
      expect(convertTensor(bytes, dtype, [6, 10])).toEqual(values);
      const rows = Uint32Array.from([5, 0, 2]);
      const cols = Uint32Array.from([1, 2, 3, 7, 9, 0]);
      const gathered = convertTensor(bytes, dtype, [6, 10], { rows, cols });
      const expected = Float32Array.from({ length: 18 }, (_, k) => values[rows[Math.floor(k / 6)] * 10 + cols[k % 6]]);
      expect(gathered).toEqual(expected);
    }
  });

  test('refuses indices out of range, a short source and other dtypes', () => {
    const bytes = new Uint8Array(16);
    expect(() => convertTensor(bytes, 'F32', [2, 2], { rows: Uint32Array.from([2]) })).toThrow(/rows\[0\]/);
    expect(() => convertTensor(bytes, 'F32', [2, 3])).toThrow(/fewer/);
    expect(() => convertTensor(bytes, 'I32' as 'F32', [2, 2])).toThrow(ZeroLMError);
    // The addon repeats every check itself: called directly, bad arguments are errors with a code, never a crash.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const raw = require(join(__dirname, '../../../build/Release/zerolm_native.node')) as { convertTensor: (...args: unknown[]) => void };
    const out = new Float32Array(4);
    const codeOf = (...args: unknown[]): unknown => {
      try {
        raw.convertTensor(...args);
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return 'no error';
    };
    expect(codeOf(bytes, 'F32', 2, 2, Uint32Array.from([7]), null, new Float32Array(2))).toBe('E_SHAPE');
    expect(codeOf(bytes, 'F32', 2, 2, null, Uint32Array.from([0, 9]), out)).toBe('E_SHAPE');
    expect(codeOf(bytes, 'F32', 4, 4, null, null, new Float32Array(16))).toBe('E_SHAPE');
    expect(codeOf(bytes, 'F32', 2, 2, null, null, new Float32Array(3))).toBe('E_SHAPE');
    expect(codeOf(bytes, 'F64', 2, 2, null, null, out)).toBe('E_UNSUPPORTED');
    expect(codeOf(new Float32Array(4), 'F32', 2, 2, null, null, out)).toBe('E_ARGUMENT');
    expect(codeOf(bytes, 'F32', 2, 2, [0, 1], null, out)).toBe('E_ARGUMENT');
    expect(codeOf(bytes, 'F32', 2, 2, null, null, out)).toBe('no error');
  });
});

describe('scoreWeights: every measure on real matrices', () => {
  const singular = (rows: number, cols: number, seed: number): number[] => Array.from({ length: Math.min(rows, cols) }, (_, i) => [0.25, 0.5, 1, 1.5, 2, 3, 4, 0.75][(i + seed) % 8]);

  test.each(['F16', 'BF16'] as const)('%s: matrices with exactly known singular values give each measure its exact value', async (dtype) => {
    const model = llamaModel((rows, cols, seed) => scaledPermutation(rows, cols, singular(rows, cols, seed), seed), dtype);
    const file = path('known.safetensors');
    writeSafetensors(file, model.tensors);
    for (const measure of measureNames) {
      const record = await scoreWeights(llama, { weights: file, measure, perMatrix: true });
      let attention = 0;
      let ffn = 0;
      for (let layer = 0; layer < 2; layer++) {
        SHAPES.forEach(([, rows, cols], k) => {
          const c = capacityOf(measure, rows, cols, singular(rows, cols, 100 * layer + k));
          if (k < 4) attention += c;
          else ffn += c;
        });
      }
      relativelyClose(record.attention, attention, 1e-9);
      relativelyClose(record.ffn, ffn, 1e-9);
      expect(record.matrices).toHaveLength(14);
    }
  });

  test('F32: Householder matrices of known spectrum; the record keeps its fields and adds weights and matrices', async () => {
    const model = llamaModel((rows, cols, seed) => matrixWithSingularValues(rows, cols, singular(rows, cols, seed), seed));
    const file = path('householder.safetensors');
    writeSafetensors(file, model.tensors);
    const record = await score(llama, { weights: file, measure: 'nuclear', perMatrix: true });
    const matrices = record.matrices ?? [];
    expect(matrices.map((m) => [m.name, m.tensor, m.rows, m.cols]).slice(0, 2)).toEqual([
      ['layers.0.attention.query', 'model.layers.0.self_attn.q_proj.weight', 8, 8],
      ['layers.0.attention.key', 'model.layers.0.self_attn.k_proj.weight', 4, 8],
    ]);
    matrices.forEach((m) => {
      const k = SHAPES.findIndex(([local]) => m.tensor.includes(local));
      relativelyClose(m.capacity, capacityOf('nuclear', m.rows, m.cols, singular(m.rows, m.cols, 100 * m.layer + k)), 1e-5);
    });
    expect(record.layers[1].ffn).toBeCloseTo(matrices.filter((m) => m.layer === 1 && m.block === 'ffn').reduce((sum, m) => sum + m.capacity, 0), 12);
    expect(Object.keys(record)).toEqual(['score', 'attention', 'ffn', 'params', 'nonEmbeddingParams', 'measure', 'rule', 'alpha', 'family', 'build', 'mode', 'seed', 'seedPolicy', 'perHead', 'layers', 'weights', 'matrices']);
    expect(record.weights).toBe(file);
    expect(record.mode).toBe('exact');
  });

  test('per-head slices of the real matrices, and a sharded checkpoint scoring exactly like one file', async () => {
    const model = llamaModel((rows, cols, seed) => denseValues(rows * cols, seed));
    const single = path('single.safetensors');
    writeSafetensors(single, model.tensors);
    const folder = path('sharded');
    mkdirSync(folder);
    const half = Math.floor(model.tensors.length / 2);
    writeSafetensors(join(folder, 'model-00001-of-00002.safetensors'), model.tensors.slice(0, half));
    writeSafetensors(join(folder, 'model-00002-of-00002.safetensors'), model.tensors.slice(half));
    const weightMap = Object.fromEntries(model.tensors.map((t, i) => [t.name, i < half ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
    writeFileSync(join(folder, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    for (const options of [{}, { perHead: true, measure: 'log-det' as const }]) {
      const one = await scoreWeights(llama, { weights: single, ...options });
      const sharded = await scoreWeights(llama, { weights: folder, ...options });
      expect({ ...sharded, weights: '' }).toEqual({ ...one, weights: '' });
    }
    // Batches of one matrix, some larger than the arena: the same numbers as one batch.
    const progress: number[][] = [];
    const tiny = await scoreWeights(llama, { weights: single, perMatrix: true, batchBytes: 300, onProgress: ({ done, errors, total }) => progress.push([done, errors, total ?? -1]) });
    expect(progress[progress.length - 1]).toEqual([14, 0, 14]);
    expect(progress.length).toBeGreaterThan(1);
    expect(tiny.matrices).toEqual((await scoreWeights(llama, { weights: single, perMatrix: true })).matrices);
    const perHead = await scoreWeights(llama, { weights: single, perHead: true, perMatrix: true, measure: 'log-det' });
    const query = model.matrices.get('model.layers.0.self_attn.q_proj.weight') as { values: Float32Array };
    const [head1] = spectraSync([{ rows: 4, cols: 8, values: query.values.slice(32, 64), route: 'logDet' }]);
    expect(perHead.matrices?.find((m) => m.name === 'layers.0.attention.query.head1')?.capacity).toBe(head1.logDet);
  });

  test('fused projections: phi3 qkv_proj/gate_up_proj and gpt_neox interleaved query_key_value score as their parts', async () => {
    const model = llamaModel((rows, cols, seed) => denseValues(rows * cols, seed), 'F32', 1);
    const get = (local: string): Float32Array => (model.matrices.get(`model.layers.0.${local}.weight`) as { values: Float32Array }).values;
    const concat = (...parts: Float32Array[]): Float32Array => Float32Array.from(parts.flatMap((p) => [...p]));
    const phi3 = { ...llama, model_type: 'phi3', num_hidden_layers: 1, num_key_value_heads: 2, head_dim: undefined, hidden_size: 8, num_attention_heads: 2 };
    // phi3 needs kv heads x head_dim rows for k and v: use 8-row k and v.
    const k8 = denseValues(64, 7);
    const v8 = denseValues(64, 8);
    const file = path('phi3.safetensors');
    writeSafetensors(file, [
      { name: 'model.layers.0.self_attn.qkv_proj.weight', shape: [24, 8], values: concat(get('self_attn.q_proj'), k8, v8) },
      { name: 'model.layers.0.self_attn.o_proj.weight', shape: [8, 8], values: get('self_attn.o_proj') },
      { name: 'model.layers.0.mlp.gate_up_proj.weight', shape: [24, 8], values: concat(get('mlp.gate_proj'), get('mlp.up_proj')) },
      { name: 'model.layers.0.mlp.down_proj.weight', shape: [8, 12], values: get('mlp.down_proj') },
    ]);
    const fused = await scoreWeights(phi3, { weights: file, perMatrix: true, measure: 'nuclear' });
    const expected = spectraSync(
      [get('self_attn.q_proj'), k8, v8, get('self_attn.o_proj'), get('mlp.gate_proj'), get('mlp.up_proj'), get('mlp.down_proj')].map((values, i) => ({
        rows: i === 6 ? 8 : values.length / 8,
        cols: i === 6 ? 12 : 8,
        values,
        route: 'full' as const,
      })),
    ).map((stats) => getMeasure('nuclear').fromStats(stats));
    expect(fused.matrices?.map((m) => m.capacity)).toEqual(expected);

    // gpt_neox: per head h, rows [q_h; k_h; v_h] of head_dim each.
    const neox = { model_type: 'gpt_neox', vocab_size: 16, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12 };
    const q = denseValues(64, 11);
    const k = denseValues(64, 12);
    const v = denseValues(64, 13);
    const headRows = (m: Float32Array, h: number): number[] => [...m.slice(h * 32, (h + 1) * 32)];
    const interleavedRows = Float32Array.from([0, 1].flatMap((h) => [...headRows(q, h), ...headRows(k, h), ...headRows(v, h)]));
    const neoxFile = path('neox.safetensors');
    writeSafetensors(neoxFile, [
      { name: 'gpt_neox.layers.0.attention.query_key_value.weight', shape: [24, 8], values: interleavedRows },
      { name: 'gpt_neox.layers.0.attention.dense.weight', shape: [8, 8], values: denseValues(64, 14) },
      { name: 'gpt_neox.layers.0.mlp.dense_h_to_4h.weight', shape: [12, 8], values: denseValues(96, 15) },
      { name: 'gpt_neox.layers.0.mlp.dense_4h_to_h.weight', shape: [8, 12], values: denseValues(96, 16) },
    ]);
    const neoxRecord = await scoreWeights(neox, { weights: neoxFile, perMatrix: true, measure: 'nuclear' });
    const parts = spectraSync([q, k, v].map((values) => ({ rows: 8, cols: 8, values, route: 'full' as const }))).map((stats) => getMeasure('nuclear').fromStats(stats));
    expect(neoxRecord.matrices?.slice(0, 3).map((m) => m.capacity)).toEqual(parts);
  });
});

describe('scoreWeights: pruning', () => {
  test('heads, channels and layers dropped score exactly like an explicitly sliced copy of the weights', async () => {
    const layers = 3;
    const model = llamaModel((rows, cols, seed) => denseValues(rows * cols, seed), 'BF16', layers);
    const full = path('full.safetensors');
    writeSafetensors(full, model.tensors);
    const config = { ...llama, num_hidden_layers: layers };
    const prune = { heads: { '0': [1] }, channels: { '2': [0, 3, 4, 11] }, layers: [1] };
    const pruned = await scoreWeights(config, { weights: full, prune, perMatrix: true });

    // The sliced copy: layer 1 gone, layer 0 keeps query head 0 (rows 0..3 of q, columns 0..3 of o; the one key/value
    // head stays: head 0 still uses it), layer 2 keeps 8 of 12 channels.
    const m = (layer: number, local: string): Float32Array => (model.matrices.get(`model.layers.${layer}.${local}.weight`) as { values: Float32Array }).values;
    const rowsOf = (values: Float32Array, cols: number, keep: number[]): Float32Array => Float32Array.from(keep.flatMap((r) => [...values.slice(r * cols, (r + 1) * cols)]));
    const colsOf = (values: Float32Array, cols: number, keep: number[]): Float32Array => {
      const rows = values.length / cols;
      return Float32Array.from(Array.from({ length: rows }, (_, r) => keep.map((c) => values[r * cols + c])).flat());
    };
    const kept = [1, 2, 5, 6, 7, 8, 9, 10];
    const sliced: TestTensor[] = [];
    const put = (layer: number, local: string, shape: number[], values: Float32Array): void => {
      sliced.push({ name: `model.layers.${layer}.${local}.weight`, shape, values, dtype: 'BF16' });
    };
    put(0, 'self_attn.q_proj', [4, 8], rowsOf(m(0, 'self_attn.q_proj'), 8, [0, 1, 2, 3]));
    put(0, 'self_attn.k_proj', [4, 8], m(0, 'self_attn.k_proj'));
    put(0, 'self_attn.v_proj', [4, 8], m(0, 'self_attn.v_proj'));
    put(0, 'self_attn.o_proj', [8, 4], colsOf(m(0, 'self_attn.o_proj'), 8, [0, 1, 2, 3]));
    for (const local of ['mlp.gate_proj', 'mlp.up_proj']) put(0, local, [12, 8], m(0, local));
    put(0, 'mlp.down_proj', [8, 12], m(0, 'mlp.down_proj'));
    SHAPES.slice(0, 4).forEach(([local, rows, cols]) => put(1, local, [rows, cols], m(2, local)));
    put(1, 'mlp.gate_proj', [8, 8], rowsOf(m(2, 'mlp.gate_proj'), 8, kept));
    put(1, 'mlp.up_proj', [8, 8], rowsOf(m(2, 'mlp.up_proj'), 8, kept));
    put(1, 'mlp.down_proj', [8, 8], colsOf(m(2, 'mlp.down_proj'), 12, kept));
    const copy = path('sliced.safetensors');
    writeSafetensors(copy, sliced);
    const slicedConfig = { ...llama, num_hidden_layers: 2, num_attention_heads: [1, 2], num_key_value_heads: [1, 1], intermediate_size: [12, 8] };
    const reference = await scoreWeights(slicedConfig, { weights: copy, perMatrix: true });

    expect(pruned.layers).toEqual(reference.layers);
    expect(pruned.attention).toBe(reference.attention);
    expect(pruned.ffn).toBe(reference.ffn);
    expect(pruned.matrices?.map((x) => x.capacity)).toEqual(reference.matrices?.map((x) => x.capacity));
    expect(pruned.pruned).toEqual({ layers: 1, heads: 1, channels: 4 });
    // Bias-free llama: the pruned count is exactly the sliced model's.
    expect(pruned.params).toBe(reference.params);
  });

  test('a dropped mixture-of-experts layer lowers activeParams by its active part only', async () => {
    const config = { model_type: 'mixtral', vocab_size: 16, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 4, intermediate_size: 12, num_local_experts: 3, num_experts_per_tok: 1 };
    const layer = (i: number): TestTensor[] => [
      ...SHAPES.slice(0, 4).map(([local, rows, cols], k) => ({ name: `model.layers.${i}.${local}.weight`, shape: [rows, cols], values: denseValues(rows * cols, k) })),
      { name: `model.layers.${i}.block_sparse_moe.gate.weight`, shape: [3, 8], values: denseValues(24, 10) },
      ...[0, 1, 2].flatMap((e) => [
        { name: `model.layers.${i}.block_sparse_moe.experts.${e}.w1.weight`, shape: [12, 8], values: denseValues(96, 20 + e) },
        { name: `model.layers.${i}.block_sparse_moe.experts.${e}.w3.weight`, shape: [12, 8], values: denseValues(96, 30 + e) },
        { name: `model.layers.${i}.block_sparse_moe.experts.${e}.w2.weight`, shape: [8, 12], values: denseValues(96, 40 + e) },
      ]),
    ];
    const file = path('mixtral.safetensors');
    writeSafetensors(file, [...layer(0), ...layer(1)]); // both layers hold the same values
    const pruned = await scoreWeights(config, { weights: file, prune: { layers: [0] } });
    const single = await scoreWeights({ ...config, num_hidden_layers: 1 }, { weights: file });
    expect([pruned.attention, pruned.ffn, pruned.params, pruned.activeParams]).toEqual([single.attention, single.ffn, single.params, single.activeParams]);
    expect(pruned.activeParams).toBeLessThan(pruned.params);
  });

  test('bad prune files are refused naming the field', async () => {
    const model = llamaModel((rows, cols, seed) => denseValues(rows * cols, seed));
    const file = path('prune-bad.safetensors');
    writeSafetensors(file, model.tensors);
    const refused = async (prune: unknown): Promise<string> => (await zerolmError(() => scoreWeights(llama, { weights: file, prune: prune as never }))).message;
    expect(await refused({ heads: { '0': [2] } })).toMatch(/prune\.heads\.0\[0\].*\[0, 1\]/);
    expect(await refused({ heads: { '5': [0] } })).toMatch(/prune\.heads: "5"/);
    expect(await refused({ heads: { '0': [0, 1] } })).toMatch(/removes every row/);
    expect(await refused({ channels: { '1': [12] } })).toMatch(/prune\.channels\.1\[0\]/);
    expect(await refused({ layers: [0, 1] })).toMatch(/every layer/);
    expect(await refused([1])).toMatch(/prune must be an object/);
  });
});

describe('scoreWeights: refusals and hostile files', () => {
  const model = llamaModel((rows, cols, seed) => denseValues(rows * cols, seed));
  const good = safetensorsBytes(model.tensors);

  test('analytic and bidiagonal modes and an init override are refused with the reason', async () => {
    const file = path('good.safetensors');
    writeFileSync(file, good);
    expect((await zerolmError(() => scoreWeights(llama, { weights: file, mode: 'analytic' }))).message).toMatch(/Marchenko-Pastur .* not the spectrum of these weights/);
    expect((await zerolmError(() => score(llama, { weights: file, mode: 'bidiagonal' }))).message).toMatch(/random spectrum/);
    expect((await zerolmError(() => scoreWeights(llama, { weights: file, init: { scheme: 'normal', std: 1 } }))).code).toBe('E_ARGUMENT');
    expect((await zerolmError(() => scoreWeights({ format: 'modules', layers: [] }, { weights: file }))).code).toBe('E_UNSUPPORTED');
    const aborted = new AbortController();
    aborted.abort();
    expect((await zerolmError(() => scoreWeights(llama, { weights: file, signal: aborted.signal }))).code).toBe('E_ABORTED');
  });

  /** A copy of the good file with its header JSON replaced (same data). */
  function withHeader(edit: (header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): Buffer {
    const length = Number(good.readBigUInt64LE(0));
    const header = JSON.parse(good.subarray(8, 8 + length).toString('utf8'));
    edit(header);
    const json = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([prefix, json, good.subarray(8 + length)]);
  }
  const q0 = 'model.layers.0.self_attn.q_proj.weight';
  const k0 = 'model.layers.0.self_attn.k_proj.weight';

  test.each([
    ['a truncated shard', () => good.subarray(0, good.length - 10), 'E_FORMAT', /truncated or the offsets are out of range/],
    ['a file shorter than its header length', () => good.subarray(0, 5), 'E_FORMAT', /fewer than the 8-byte header length/],
    ['a header longer than the file', () => Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0, 0, 0, 0, 0]), good.subarray(8, 100)]), 'E_FORMAT', /header length 16777215 is longer than the file/],
    ['a header that is not JSON', () => Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a"')]), 'E_FORMAT', /not valid JSON/],
    ['overlapping offsets', () => withHeader((h) => (h[k0].data_offsets = [h[q0].data_offsets[0] + 4, h[q0].data_offsets[0] + 4 + 128])), 'E_FORMAT', /overlap/],
    ['out-of-range offsets', () => withHeader((h) => (h[q0].data_offsets = [1e9, 1e9 + 256])), 'E_FORMAT', new RegExp(`${q0.replace(/\./g, '\\.')}.*run past the end`)],
    ['offsets disagreeing with the shape', () => withHeader((h) => (h[q0].shape = [8, 9])), 'E_FORMAT', /needs 288 bytes/],
    ['an unknown dtype', () => withHeader((h) => (h[q0].dtype = 'F7')), 'E_FORMAT', /unknown dtype "F7"/],
    ['a dtype the engine does not read', () => withHeader((h) => (h[q0].dtype = 'I32')), 'E_UNSUPPORTED', new RegExp(`${q0.replace(/\./g, '\\.')}.*dtype I32`)],
    ['a shape disagreeing with the config', () => withHeader((h) => { h[q0].shape = [16, 4]; }), 'E_FORMAT', /has shape \[16, 4\], but the config implies \[8, 8\]/],
    ['a missing tensor', () => withHeader((h) => delete (h as Record<string, unknown>)[k0]), 'E_FORMAT', new RegExp(`missing tensor "${k0.replace(/\./g, '\\.')}"`)],
  ])('%s is refused naming the file and tensor; the process carries on', async (_label, make, code, message) => {
    const file = path('hostile.safetensors');
    writeFileSync(file, make());
    const error = await zerolmError(() => scoreWeights(llama, { weights: file }));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(file);
  });

  test('a tensor holding Inf or NaN is refused naming the file and tensor', async () => {
    for (const poison of [Infinity, NaN]) {
      const tensors = model.tensors.map((t) => (t.name === k0 ? { ...t, values: Float32Array.from(t.values, (v, i) => (i === 5 ? poison : v)), dtype: 'F16' as const } : t));
      const file = path('poisoned.safetensors');
      writeSafetensors(file, tensors);
      const error = await zerolmError(() => scoreWeights(llama, { weights: file }));
      expect(error.code).toBe('E_NON_FINITE');
      expect(error.message).toContain(`${file}: tensor "${k0}" (layers.0.attention.key)`);
    }
  });

  test('an index naming a missing shard, a shard missing a tensor its index claims, a folder without weights', async () => {
    const folder = path('bad-index');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.safetensors'), good);
    writeFileSync(join(folder, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { [q0]: 'a.safetensors', [k0]: 'b.safetensors' } }));
    const missing = await zerolmError(() => scoreWeights(llama, { weights: folder }));
    expect([missing.code, missing.message]).toEqual(['E_IO', expect.stringMatching(/names shard b\.safetensors .* which does not exist/)]);
    writeFileSync(join(folder, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'not.there': 'a.safetensors' } }));
    expect((await zerolmError(() => scoreWeights(llama, { weights: folder }))).message).toMatch(/whose header does not list it/);
    const empty = path('empty');
    mkdirSync(empty);
    expect((await zerolmError(() => scoreWeights(llama, { weights: empty }))).code).toBe('E_IO');
    expect((await zerolmError(() => scoreWeights(llama, { weights: join(work, 'nothing.safetensors') }))).code).toBe('E_IO');
  });

  test('a file truncated after opening checks fails with E_IO, not a crash', async () => {
    const file = path('shrinking.safetensors');
    writeFileSync(file, good);
    const { SafetensorsFile } = await import('../../../src/io/safetensors');
    const opened = SafetensorsFile.open(file);
    truncateSync(file, 100);
    expect(() => opened.read(opened.tensors.get(q0) as never)).toThrow(/ended at byte/);
    opened.close();
    expect(readFileSync(file).length).toBe(100);
  });
});

export type { WeightsScore };
