/**
 * Where each scored matrix of a Hugging Face plan lives in a checkpoint: the tensor's name, its stored shape, and
 * which of its rows and columns make the matrix (fused projections are row blocks of one tensor; GPT-2's Conv1D stores
 * the transpose). Pure TypeScript: the reading is src/io/safetensors.ts, the conversion the addon's convertTensor.
 *
 * Tensor names, per model_type (every name ends in ".weight"; a prefix such as "model." or "transformer." is found by
 * trying the family's prefixes in turn):
 * - llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, gemma3, mixtral, qwen2_moe, qwen3_moe, deepseek_v2/v3:
 *   layers.i.self_attn.{q,k,v,o}_proj (deepseek: q_proj or q_a_proj/q_b_proj, kv_a_proj_with_mqa, kv_b_proj);
 *   layers.i.mlp.{gate,up,down}_proj; mixtral block_sparse_moe.gate and experts.e.{w1,w3,w2} (gate, up, down); qwen
 *   mlp.gate, mlp.experts.e.*, mlp.shared_expert.*, mlp.shared_expert_gate; deepseek mlp.gate, mlp.experts.e.*,
 *   mlp.shared_experts.*.
 * - phi3: self_attn.qkv_proj (rows: queries, then keys, then values), self_attn.o_proj, mlp.gate_up_proj (rows: gate,
 *   then up), mlp.down_proj.
 * - gpt_neox: attention.query_key_value (rows per head: its query, key and value rows in turn), attention.dense,
 *   mlp.dense_h_to_4h, mlp.dense_4h_to_h.
 * - falcon: self_attention.query_key_value (new_decoder_architecture: per key/value group, its query heads then one key
 *   and one value head; multi_query: all query heads, then the key head, then the value head; otherwise per head
 *   q, k, v in turn), self_attention.dense, mlp.dense_h_to_4h, mlp.dense_4h_to_h.
 * - opt: decoder.layers.i.self_attn.{q,k,v,out}_proj, fc1, fc2.
 * - t5: {encoder,decoder}.block.i.layer.0.SelfAttention.{q,k,v,o}; decoder layer.1.EncDecAttention.*; the
 *   DenseReluDense.{wi,wi_0,wi_1,wo} of layer 1 (encoder) or 2 (decoder).
 * - gpt2: h.i.attn.c_attn (Conv1D, stored in x out: queries, keys, values are column blocks), attn.c_proj,
 *   mlp.c_fc, mlp.c_proj.
 * - bert, roberta, xlm-roberta, electra: encoder.layer.i.attention.self.{query,key,value}, attention.output.dense,
 *   intermediate.dense, output.dense.
 */
import { ZeroLMError } from '../errors';
import type { LayerPlan, MatrixSpec } from '../arch/types';

/**
 * One scored matrix in a checkpoint. `rows` and `cols` index the stored tensor's axis that holds the matrix's rows
 * (its columns when transposed) and columns; absent means the whole axis, in order.
 */
export interface TensorRef {
  tensor: string;
  /** The stored tensor's shape as the config implies it. */
  shape: [number, number];
  /** The tensor stores the matrix transposed (GPT-2's Conv1D: in x out). */
  transposed: boolean;
  rows?: Uint32Array;
  cols?: Uint32Array;
}

export function range(start: number, count: number): Uint32Array {
  const indices = new Uint32Array(count);
  for (let i = 0; i < count; i++) indices[i] = start + i;
  return indices;
}

/** The indices of `selection` (an axis of `length`, undefined = all) at `positions`. */
export function pick(selection: Uint32Array | undefined, positions: ArrayLike<number>): Uint32Array {
  const picked = new Uint32Array(positions.length);
  for (let i = 0; i < positions.length; i++) picked[i] = selection === undefined ? positions[i] : selection[positions[i]];
  return picked;
}

const DECODER_TYPES = new Set(['llama', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'gemma3_text', 'gemma3', 'mixtral', 'qwen2_moe', 'qwen3_moe', 'deepseek_v2', 'deepseek_v3', 'phi3']);
const ENCODER_TYPES = new Set(['bert', 'roberta', 'xlm-roberta', 'electra']);
export const WEIGHT_MODEL_TYPES: readonly string[] = [...DECODER_TYPES, 'gpt_neox', 'falcon', 'opt', 't5', 'gpt2', ...ENCODER_TYPES];

interface ParsedName {
  stack?: 'encoder' | 'decoder';
  layer: number;
  block: 'attention' | 'cross_attention' | 'ffn';
  part: string;
}

function parseName(name: string): ParsedName {
  const match = /^(?:(encoder|decoder)\.)?layers\.(\d+)\.(attention|cross_attention|ffn)\.(.+)$/.exec(name);
  if (!match) throw new ZeroLMError('E_UNSUPPORTED', `${name}: no checkpoint tensor is known for this matrix`, { field: name });
  return { stack: match[1] as ParsedName['stack'], layer: Number(match[2]), block: match[3] as ParsedName['block'], part: match[4] };
}

/** Rows of a per-head interleaved [heads][parts][headDim] tensor that hold part `index` of every head. */
function interleaved(heads: number, parts: number, headDim: number, index: number): Uint32Array {
  const rows = new Uint32Array(heads * headDim);
  for (let h = 0; h < heads; h++) for (let j = 0; j < headDim; j++) rows[h * headDim + j] = (h * parts + index) * headDim + j;
  return rows;
}

/** A local name (no prefix, no ".weight") and how the matrix sits in that tensor. */
interface Local {
  suffix: string;
  shape: [number, number];
  transposed?: boolean;
  rows?: Uint32Array;
}

/** What the mapping needs to know about one layer beyond a matrix's own shape. */
function layerMatrix(layer: LayerPlan, block: 'attention' | 'ffn', part: string): MatrixSpec | undefined {
  return layer[block].find((m) => m.name.endsWith(`.${part}`));
}

const PROJECTION: Record<string, string> = {
  query: 'q_proj', key: 'k_proj', value: 'v_proj', output: 'o_proj',
  query_a: 'q_a_proj', query_b: 'q_b_proj', key_value_a: 'kv_a_proj_with_mqa', key_value_b: 'kv_b_proj',
};

function decoderLocal(modelType: string, spec: MatrixSpec, parsed: ParsedName, layer: LayerPlan): Local {
  const whole: [number, number] = [spec.rows, spec.cols];
  const { part } = parsed;
  if (parsed.block === 'attention') {
    if (modelType === 'phi3' && (part === 'query' || part === 'key' || part === 'value')) {
      const q = (layerMatrix(layer, 'attention', 'query') as MatrixSpec).rows;
      const kv = (layerMatrix(layer, 'attention', 'key') as MatrixSpec).rows;
      const start = part === 'query' ? 0 : part === 'key' ? q : q + kv;
      return { suffix: 'self_attn.qkv_proj', shape: [q + 2 * kv, spec.cols], rows: range(start, spec.rows) };
    }
    const projection = PROJECTION[part];
    if (projection === undefined) throw new ZeroLMError('E_UNSUPPORTED', `${spec.name}: no checkpoint tensor is known for this matrix`, { field: spec.name });
    return { suffix: `self_attn.${projection}`, shape: whole };
  }
  if (modelType === 'phi3' && (part === 'gate' || part === 'up')) {
    return { suffix: 'mlp.gate_up_proj', shape: [2 * spec.rows, spec.cols], rows: range(part === 'gate' ? 0 : spec.rows, spec.rows) };
  }
  const mlpName: Record<string, string> = { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' };
  if (mlpName[part] !== undefined) return { suffix: `mlp.${mlpName[part]}`, shape: whole };
  const expert = /^experts\.(\d+)\.(gate|up|down)$/.exec(part);
  const shared = /^shared\.(gate|up|down)$/.exec(part);
  if (modelType === 'mixtral') {
    if (part === 'router') return { suffix: 'block_sparse_moe.gate', shape: whole };
    if (expert) return { suffix: `block_sparse_moe.experts.${expert[1]}.${{ gate: 'w1', up: 'w3', down: 'w2' }[expert[2] as 'gate']}`, shape: whole };
  } else {
    if (part === 'router') return { suffix: 'mlp.gate', shape: whole };
    if (expert) return { suffix: `mlp.experts.${expert[1]}.${mlpName[expert[2]]}`, shape: whole };
    if (shared) return { suffix: `mlp.${modelType.startsWith('deepseek') ? 'shared_experts' : 'shared_expert'}.${mlpName[shared[1]]}`, shape: whole };
    if (part === 'shared_gate') return { suffix: 'mlp.shared_expert_gate', shape: whole };
  }
  throw new ZeroLMError('E_UNSUPPORTED', `${spec.name}: no checkpoint tensor is known for this matrix`, { field: spec.name });
}

function falconQueryKeyValue(spec: MatrixSpec, part: string, layer: LayerPlan, newArchitecture: boolean, multiQuery: boolean): Local {
  const heads = Number(layer.description?.heads);
  const kvHeads = Number(layer.description?.keyValueHeads);
  const headDim = Number(layer.description?.headDim);
  const hidden = spec.cols;
  const shape: [number, number] = [(heads + 2 * kvHeads) * headDim, hidden];
  const index = part === 'query' ? 0 : part === 'key' ? 1 : 2;
  if (newArchitecture) {
    const perGroup = heads / kvHeads;
    const rows: number[] = [];
    for (let g = 0; g < kvHeads; g++) {
      const base = g * (perGroup + 2) * headDim;
      if (index === 0) for (let j = 0; j < perGroup * headDim; j++) rows.push(base + j);
      else for (let j = 0; j < headDim; j++) rows.push(base + (perGroup + index - 1) * headDim + j);
    }
    return { suffix: 'self_attention.query_key_value', shape, rows: Uint32Array.from(rows) };
  }
  if (multiQuery) {
    const start = index === 0 ? 0 : heads * headDim + (index - 1) * headDim;
    return { suffix: 'self_attention.query_key_value', shape, rows: range(start, spec.rows) };
  }
  return { suffix: 'self_attention.query_key_value', shape, rows: interleaved(heads, 3, headDim, index) };
}

function localOf(modelType: string, config: Record<string, unknown>, spec: MatrixSpec, parsed: ParsedName, layer: LayerPlan): Local {
  const whole: [number, number] = [spec.rows, spec.cols];
  const { part, block } = parsed;
  if (DECODER_TYPES.has(modelType)) return decoderLocal(modelType, spec, parsed, layer);
  switch (modelType) {
    case 'gpt_neox': {
      if (part === 'query' || part === 'key' || part === 'value') {
        const heads = Number(layer.description?.heads);
        const index = part === 'query' ? 0 : part === 'key' ? 1 : 2;
        return { suffix: 'attention.query_key_value', shape: [3 * spec.rows, spec.cols], rows: interleaved(heads, 3, spec.rows / heads, index) };
      }
      return { suffix: { output: 'attention.dense', up: 'mlp.dense_h_to_4h', down: 'mlp.dense_4h_to_h' }[part] ?? part, shape: whole };
    }
    case 'falcon': {
      if (part === 'query' || part === 'key' || part === 'value') {
        return falconQueryKeyValue(spec, part, layer, config.new_decoder_architecture === true, config.multi_query !== false);
      }
      return { suffix: { output: 'self_attention.dense', up: 'mlp.dense_h_to_4h', down: 'mlp.dense_4h_to_h' }[part] ?? part, shape: whole };
    }
    case 'opt':
      return { suffix: { query: 'self_attn.q_proj', key: 'self_attn.k_proj', value: 'self_attn.v_proj', output: 'self_attn.out_proj', up: 'fc1', down: 'fc2' }[part] ?? part, shape: whole };
    case 't5': {
      const letter = { query: 'q', key: 'k', value: 'v', output: 'o' }[part];
      if (block === 'attention') return { suffix: `layer.0.SelfAttention.${letter}`, shape: whole };
      if (block === 'cross_attention') return { suffix: `layer.1.EncDecAttention.${letter}`, shape: whole };
      return { suffix: `layer.${parsed.stack === 'decoder' ? 2 : 1}.DenseReluDense.${part}`, shape: whole };
    }
    case 'gpt2': {
      if (part === 'query' || part === 'key' || part === 'value') {
        const index = part === 'query' ? 0 : part === 'key' ? 1 : 2;
        return { suffix: 'attn.c_attn', shape: [spec.cols, 3 * spec.rows], transposed: true, rows: range(index * spec.rows, spec.rows) };
      }
      return { suffix: { output: 'attn.c_proj', up: 'mlp.c_fc', down: 'mlp.c_proj' }[part] ?? part, shape: [spec.cols, spec.rows], transposed: true };
    }
    default:
      if (ENCODER_TYPES.has(modelType)) {
        const suffix = { query: 'attention.self.query', key: 'attention.self.key', value: 'attention.self.value', output: 'attention.output.dense', up: 'intermediate.dense', down: 'output.dense' }[part];
        if (suffix !== undefined) return { suffix, shape: whole };
      }
  }
  throw new ZeroLMError('E_UNSUPPORTED', `${spec.name}: no checkpoint tensor is known for this matrix`, { field: spec.name });
}

/** The prefixes a family's checkpoints put before layer i's tensor names, most common first. */
function prefixes(modelType: string, parsed: ParsedName): string[] {
  const i = parsed.layer;
  if (DECODER_TYPES.has(modelType)) return [`model.layers.${i}.`, `model.language_model.layers.${i}.`, `language_model.model.layers.${i}.`, `layers.${i}.`];
  switch (modelType) {
    case 'gpt_neox':
      return [`gpt_neox.layers.${i}.`, `layers.${i}.`];
    case 'falcon':
      return [`transformer.h.${i}.`, `h.${i}.`];
    case 'opt':
      return [`model.decoder.layers.${i}.`, `decoder.layers.${i}.`];
    case 't5':
      return [`${parsed.stack}.block.${i}.`];
    case 'gpt2':
      return [`transformer.h.${i}.`, `h.${i}.`];
    default: {
      const root = modelType === 'xlm-roberta' ? 'roberta' : modelType;
      return [`${root}.encoder.layer.${i}.`, `encoder.layer.${i}.`];
    }
  }
}

/**
 * The TensorRef of a plan matrix, its name chosen among the family's prefixes by what `has` finds; when none is
 * there, the first candidate is returned (the caller reports it missing).
 */
export function tensorRefOf(modelType: string, config: Record<string, unknown>, spec: MatrixSpec, layer: LayerPlan, has: (name: string) => boolean): TensorRef {
  const parsed = parseName(spec.name);
  const local = localOf(modelType, config, spec, parsed, layer);
  const candidates = prefixes(modelType, parsed).map((prefix) => `${prefix}${local.suffix}.weight`);
  const tensor = candidates.find(has) ?? candidates[0];
  const ref: TensorRef = { tensor, shape: local.shape, transposed: local.transposed === true };
  if (local.rows !== undefined) ref.rows = local.rows;
  return ref;
}
