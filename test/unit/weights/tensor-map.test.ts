/**
 * Each family's checkpoint naming, written here from the tensor names Hugging Face checkpoints use (not from the
 * mapping under test): every scored matrix is found, in plan order, and fused or transposed tensors are sliced where
 * the family's modelling code slices them (checked against spectra of the slices made by hand).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getMeasure } from '../../../src/capacity/measures';
import { spectraSync } from '../../../src/native';
import { scoreWeights } from '../../../src/proxy/real-weights';
import { writeSafetensors } from '../../helpers/safetensors';
import { seededRandom } from '../native/fixtures';

const work = mkdtempSync(join(tmpdir(), 'zerolm-tensor-map-'));
let files = 0;

function values(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count }, () => (Math.floor(random() * 257) - 128) / 64);
}

/** Writes the tensors (name, rows, cols) with seeded values; returns the values by name. */
function checkpoint(entries: Array<[string, number, number]>): { file: string; get: (name: string) => Float32Array } {
  const file = join(work, `${files++}.safetensors`);
  const data = new Map(entries.map(([name, rows, cols], i) => [name, values(rows * cols, 1000 + i)]));
  writeSafetensors(file, entries.map(([name, rows, cols]) => ({ name, shape: [rows, cols], values: data.get(name) as Float32Array })));
  return { file, get: (name) => data.get(name) as Float32Array };
}

const nuclear = (rows: number, cols: number, matrix: Float32Array): number => getMeasure('nuclear').fromStats(spectraSync([{ rows, cols, values: matrix, route: 'full' }])[0]);
const rowBlock = (matrix: Float32Array, cols: number, rows: number[]): Float32Array => Float32Array.from(rows.flatMap((r) => [...matrix.slice(r * cols, (r + 1) * cols)]));

async function tensorsUsed(config: Record<string, unknown>, file: string): Promise<string[]> {
  const record = await scoreWeights(config, { weights: file, perMatrix: true });
  return (record.matrices ?? []).map((m) => m.tensor);
}

const attention = (prefix: string, q = 8, kv = 4, hidden = 8): Array<[string, number, number]> => [
  [`${prefix}.self_attn.q_proj.weight`, q, hidden],
  [`${prefix}.self_attn.k_proj.weight`, kv, hidden],
  [`${prefix}.self_attn.v_proj.weight`, kv, hidden],
  [`${prefix}.self_attn.o_proj.weight`, hidden, q],
];
const mlp = (prefix: string, width: number, hidden = 8): Array<[string, number, number]> => [
  [`${prefix}.gate_proj.weight`, width, hidden],
  [`${prefix}.up_proj.weight`, width, hidden],
  [`${prefix}.down_proj.weight`, hidden, width],
];
const names = (entries: Array<[string, number, number]>): string[] => entries.map(([name]) => name);

describe('checkpoint tensor names per family', () => {
  test('mixtral: block_sparse_moe.gate and experts.e.w1/w3/w2', async () => {
    const config = { model_type: 'mixtral', vocab_size: 16, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 12, num_local_experts: 2, num_experts_per_tok: 1 };
    const experts = [0, 1].flatMap((e): Array<[string, number, number]> => [
      [`model.layers.0.block_sparse_moe.experts.${e}.w1.weight`, 12, 8],
      [`model.layers.0.block_sparse_moe.experts.${e}.w3.weight`, 12, 8],
      [`model.layers.0.block_sparse_moe.experts.${e}.w2.weight`, 8, 12],
    ]);
    const entries = [...attention('model.layers.0'), ['model.layers.0.block_sparse_moe.gate.weight', 2, 8] as [string, number, number], ...experts];
    expect(await tensorsUsed(config, checkpoint(entries).file)).toEqual(names(entries));
  });

  test('qwen2_moe: mlp.gate, experts, shared_expert and shared_expert_gate', async () => {
    const config = { model_type: 'qwen2_moe', vocab_size: 16, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2, num_experts: 2, num_experts_per_tok: 1, moe_intermediate_size: 4, shared_expert_intermediate_size: 6 };
    const entries: Array<[string, number, number]> = [
      ...attention('model.layers.0', 8, 8),
      ['model.layers.0.mlp.gate.weight', 2, 8],
      ...mlp('model.layers.0.mlp.experts.0', 4),
      ...mlp('model.layers.0.mlp.experts.1', 4),
      ...mlp('model.layers.0.mlp.shared_expert', 6),
      ['model.layers.0.mlp.shared_expert_gate.weight', 1, 8],
    ];
    expect(await tensorsUsed(config, checkpoint(entries).file)).toEqual(names(entries));
  });

  test('deepseek_v3: MLA projections, a dense first layer, routed and shared experts', async () => {
    const config = {
      model_type: 'deepseek_v3', vocab_size: 16, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 6,
      q_lora_rank: 4, kv_lora_rank: 4, qk_rope_head_dim: 2, qk_nope_head_dim: 2, v_head_dim: 2,
      n_routed_experts: 2, num_experts_per_tok: 1, n_shared_experts: 1, moe_intermediate_size: 4, first_k_dense_replace: 1,
    };
    const mla = (prefix: string): Array<[string, number, number]> => [
      [`${prefix}.self_attn.q_a_proj.weight`, 4, 8],
      [`${prefix}.self_attn.q_b_proj.weight`, 8, 4],
      [`${prefix}.self_attn.kv_a_proj_with_mqa.weight`, 6, 8],
      [`${prefix}.self_attn.kv_b_proj.weight`, 8, 4],
      [`${prefix}.self_attn.o_proj.weight`, 8, 4],
    ];
    const entries: Array<[string, number, number]> = [
      ...mla('model.layers.0'),
      ...mlp('model.layers.0.mlp', 6),
      ...mla('model.layers.1'),
      ['model.layers.1.mlp.gate.weight', 2, 8],
      ...mlp('model.layers.1.mlp.experts.0', 4),
      ...mlp('model.layers.1.mlp.experts.1', 4),
      ...mlp('model.layers.1.mlp.shared_experts', 4),
    ];
    expect(await tensorsUsed(config, checkpoint(entries).file)).toEqual(names(entries));
  });

  test('opt, bert and t5 (gated, encoder then decoder with EncDecAttention)', async () => {
    const opt = { model_type: 'opt', vocab_size: 16, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, ffn_dim: 12 };
    const optEntries: Array<[string, number, number]> = ['q_proj', 'k_proj', 'v_proj', 'out_proj']
      .map((p): [string, number, number] => [`model.decoder.layers.0.self_attn.${p}.weight`, 8, 8])
      .concat([['model.decoder.layers.0.fc1.weight', 12, 8], ['model.decoder.layers.0.fc2.weight', 8, 12]]);
    expect(await tensorsUsed(opt, checkpoint(optEntries).file)).toEqual(names(optEntries));

    const bert = { model_type: 'bert', vocab_size: 16, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12 };
    const bertEntries: Array<[string, number, number]> = [
      ['bert.encoder.layer.0.attention.self.query.weight', 8, 8],
      ['bert.encoder.layer.0.attention.self.key.weight', 8, 8],
      ['bert.encoder.layer.0.attention.self.value.weight', 8, 8],
      ['bert.encoder.layer.0.attention.output.dense.weight', 8, 8],
      ['bert.encoder.layer.0.intermediate.dense.weight', 12, 8],
      ['bert.encoder.layer.0.output.dense.weight', 8, 12],
    ];
    expect(await tensorsUsed(bert, checkpoint(bertEntries).file)).toEqual(names(bertEntries));

    const t5 = { model_type: 't5', vocab_size: 16, d_model: 8, d_kv: 2, num_heads: 2, d_ff: 6, num_layers: 1, feed_forward_proj: 'gated-gelu' };
    const block = (prefix: string): Array<[string, number, number]> => ['q', 'k', 'v', 'o'].map((p): [string, number, number] => [`${prefix}.${p}.weight`, p === 'o' ? 8 : 4, p === 'o' ? 4 : 8]);
    const ffn = (prefix: string): Array<[string, number, number]> => [[`${prefix}.wi_0.weight`, 6, 8], [`${prefix}.wi_1.weight`, 6, 8], [`${prefix}.wo.weight`, 8, 6]];
    const t5Entries: Array<[string, number, number]> = [
      ...block('encoder.block.0.layer.0.SelfAttention'),
      ...ffn('encoder.block.0.layer.1.DenseReluDense'),
      ...block('decoder.block.0.layer.0.SelfAttention'),
      ...block('decoder.block.0.layer.1.EncDecAttention'),
      ...ffn('decoder.block.0.layer.2.DenseReluDense'),
    ];
    expect(await tensorsUsed(t5, checkpoint(t5Entries).file)).toEqual(names(t5Entries));
  });

  test('gpt2: Conv1D tensors stored in x out; c_attn column blocks are the queries, keys and values', async () => {
    const config = { model_type: 'gpt2', vocab_size: 16, n_embd: 8, n_layer: 1, n_head: 2, n_inner: 12 };
    const written = checkpoint([
      ['h.0.attn.c_attn.weight', 8, 24],
      ['h.0.attn.c_proj.weight', 8, 8],
      ['h.0.mlp.c_fc.weight', 8, 12],
      ['h.0.mlp.c_proj.weight', 12, 8],
    ]);
    const record = await scoreWeights(config, { weights: written.file, perMatrix: true, measure: 'nuclear' });
    const cAttn = written.get('h.0.attn.c_attn.weight');
    const columns = (start: number): Float32Array => Float32Array.from({ length: 64 }, (_, k) => cAttn[Math.floor(k / 8) * 24 + start + (k % 8)]);
    expect(record.matrices?.slice(0, 3).map((m) => m.capacity)).toEqual([0, 8, 16].map((start) => nuclear(8, 8, columns(start))));
    expect(record.matrices?.[4]).toMatchObject({ tensor: 'h.0.mlp.c_fc.weight', rows: 12, cols: 8, capacity: nuclear(8, 12, written.get('h.0.mlp.c_fc.weight')) });
  });

  test('falcon query_key_value in its three layouts: new_decoder_architecture, multi_query, and per-head q/k/v', async () => {
    const base = { model_type: 'falcon', vocab_size: 16, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 4 };
    const rest: Array<[string, number, number]> = [
      ['transformer.h.0.self_attention.dense.weight', 8, 8],
      ['transformer.h.0.mlp.dense_h_to_4h.weight', 32, 8],
      ['transformer.h.0.mlp.dense_4h_to_h.weight', 8, 32],
    ];
    const heads = (firstRows: number[]): number[] => firstRows.flatMap((r) => [r, r + 1]); // head_dim 8 / 4 = 2
    // new_decoder_architecture, 2 kv groups of [q, q, k, v] heads: rows 0-7 group 0, 8-15 group 1.
    const grouped = checkpoint([['transformer.h.0.self_attention.query_key_value.weight', 16, 8], ...rest]);
    const fused = grouped.get('transformer.h.0.self_attention.query_key_value.weight');
    const newArch = await scoreWeights({ ...base, new_decoder_architecture: true, num_kv_heads: 2 }, { weights: grouped.file, perMatrix: true, measure: 'nuclear' });
    const expectedGrouped = [
      nuclear(8, 8, rowBlock(fused, 8, heads([0, 2, 8, 10]))),
      nuclear(4, 8, rowBlock(fused, 8, heads([4, 12]))),
      nuclear(4, 8, rowBlock(fused, 8, heads([6, 14]))),
    ];
    expect(newArch.matrices?.slice(0, 3).map((m) => m.capacity)).toEqual(expectedGrouped);
    // multi_query: all query heads, then one key head, then one value head.
    const mq = checkpoint([['transformer.h.0.self_attention.query_key_value.weight', 12, 8], ...rest]);
    const mqFused = mq.get('transformer.h.0.self_attention.query_key_value.weight');
    const multiQuery = await scoreWeights({ ...base, multi_query: true }, { weights: mq.file, perMatrix: true, measure: 'nuclear' });
    expect(multiQuery.matrices?.slice(0, 3).map((m) => m.capacity)).toEqual([
      nuclear(8, 8, rowBlock(mqFused, 8, [0, 1, 2, 3, 4, 5, 6, 7])),
      nuclear(2, 8, rowBlock(mqFused, 8, [8, 9])),
      nuclear(2, 8, rowBlock(mqFused, 8, [10, 11])),
    ]);
    // Neither: per head [q, k, v] of head_dim rows each.
    const mha = checkpoint([['transformer.h.0.self_attention.query_key_value.weight', 24, 8], ...rest]);
    const mhaFused = mha.get('transformer.h.0.self_attention.query_key_value.weight');
    const perHead = await scoreWeights({ ...base, multi_query: false }, { weights: mha.file, perMatrix: true, measure: 'nuclear' });
    expect(perHead.matrices?.[1].capacity).toEqual(nuclear(8, 8, rowBlock(mhaFused, 8, heads([2, 8, 14, 20]))));
  });
});
