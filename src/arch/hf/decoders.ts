/**
 * Hugging Face decoders with gated MLPs: llama, mistral, qwen2, qwen3 and gemma (described in hf-config.ts), gemma2,
 * gemma3_text, phi3, and the mixture-of-experts families mixtral, qwen2_moe, qwen3_moe, deepseek_v2 and deepseek_v3
 * (multi-head latent attention).
 *
 * - gemma2: grouped-query attention with an explicit head_dim, four RMSNorms per layer (before and after attention
 *   and MLP), embeddings tied by default. gemma3_text adds per-head q/k RMSNorms and takes Gemma3TextConfig's
 *   defaults for fields a config leaves out (the text_config of a gemma3 checkpoint usually lists only a few).
 * - phi3: qkv_proj is one (heads + 2 kv heads) * head_dim x hidden matrix and gate_up_proj one 2 * intermediate x
 *   hidden matrix; they are scored as their query/key/value and gate/up row blocks, as llama's separate projections
 *   (the same weights, sliced where the fused layer slices them).
 * - Mixture of experts: each sparse layer's FFN block holds the router (experts x hidden, no bias), every routed expert
 *   (a gated MLP of the expert width), and where the family has them the shared experts (qwen2_moe: one shared MLP of
 *   shared_expert_intermediate_size and its 1 x hidden shared_expert_gate; deepseek: n_shared_experts experts fused as
 *   one MLP of n_shared_experts * moe_intermediate_size) and deepseek_v3's e_score_correction_bias. Dense layers:
 *   qwen mlp_only_layers and layers off decoder_sparse_step; deepseek the first first_k_dense_replace layers and those
 *   off moe_layer_freq.
 * - What FFN capacity means for experts: build 'default' scores every expert (the capacity of the weights that
 *   exist); build 'active-experts' scores the router, the shared experts and num_experts_per_tok routed experts
 *   (what one token passes through). Parameter counts are the model's in both; params.active (activeParams in a
 *   score record) is total minus the routed experts a token does not use, embeddings included.
 * - deepseek MLA: q_proj (heads * (qk_nope + qk_rope) x hidden) or, with q_lora_rank, q_a_proj (q_lora_rank x hidden),
 *   q_a_layernorm, q_b_proj; kv_a_proj_with_mqa ((kv_lora_rank + qk_rope) x hidden), kv_a_layernorm, kv_b_proj
 *   (heads * (qk_nope + v_head_dim) x kv_lora_rank); o_proj (hidden x heads * v_head_dim). Biases on q_proj/q_a,
 *   kv_a and o_proj when attention_bias. All projections count as attention; their RMSNorms go to `other`.
 */
import { ZeroLMError } from '../../errors';
import {
  checkMatrixCount,
  fieldError,
  indexPath,
  readOptionalBoolean,
  readOptionalFiniteNumber,
  readOptionalPositiveInteger,
  readPerLayer,
  readPositiveInteger,
  type JsonRecord,
} from '../fields';
import { linearParams, matrix, normalInit } from '../plan';
import type { InitScheme, LayerPlan, MatrixSpec } from '../types';
import {
  assembleLayer,
  attentionBlock,
  attentionBlockParams,
  checkGroupedHeads,
  ffnBlock,
  ffnBlockParams,
  GATED_NAMING,
  layerStyle,
  readGroupedHeads,
  readSizes,
  withWordTables,
  type Built,
  type LayerStyle,
} from './common';

/** Dense decoders with grouped-query attention and a gated MLP, in hf-config.ts's list. */
const DENSE_TYPES = ['llama', 'mistral', 'qwen2', 'qwen3', 'gemma'] as const;
export const DECODER_TYPES = [...DENSE_TYPES, 'gemma2', 'gemma3_text', 'phi3', 'mixtral', 'qwen2_moe', 'qwen3_moe', 'deepseek_v2', 'deepseek_v3'] as const;
export type DecoderType = (typeof DECODER_TYPES)[number];
const NO_ATTENTION_BIAS: ReadonlySet<string> = new Set(['mistral', 'qwen2', 'phi3', 'mixtral']);

const DECODER_BASE_KEYS = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'intermediate_size', 'head_dim', 'tie_word_embeddings', 'initializer_range'];
const QWEN_MOE_KEYS = ['num_experts', 'num_experts_per_tok', 'moe_intermediate_size', 'decoder_sparse_step', 'mlp_only_layers', 'norm_topk_prob', 'output_router_logits', 'router_aux_loss_coef'];
const DEEPSEEK_KEYS = [
  'n_routed_experts', 'n_shared_experts', 'num_experts_per_tok', 'moe_intermediate_size', 'first_k_dense_replace', 'moe_layer_freq',
  'q_lora_rank', 'kv_lora_rank', 'qk_rope_head_dim', 'qk_nope_head_dim', 'v_head_dim', 'attention_bias', 'topk_method',
  'n_group', 'topk_group', 'routed_scaling_factor', 'scoring_func', 'norm_topk_prob', 'aux_loss_alpha', 'seq_aux', 'ep_size',
  'num_nextn_predict_layers',
];
/** The config keys each model type reads (for the unread-key warning; see common.ts). */
export const DECODER_KEYS: Record<DecoderType, ReadonlySet<string>> = {
  llama: new Set([...DECODER_BASE_KEYS, 'attention_bias', 'mlp_bias']),
  mistral: new Set(DECODER_BASE_KEYS),
  qwen2: new Set(DECODER_BASE_KEYS),
  qwen3: new Set([...DECODER_BASE_KEYS, 'attention_bias']),
  gemma: new Set([...DECODER_BASE_KEYS, 'attention_bias']),
  gemma2: new Set([...DECODER_BASE_KEYS, 'attention_bias']),
  gemma3_text: new Set([...DECODER_BASE_KEYS, 'attention_bias']),
  phi3: new Set(DECODER_BASE_KEYS),
  mixtral: new Set([...DECODER_BASE_KEYS, 'num_local_experts', 'num_experts_per_tok', 'output_router_logits', 'router_aux_loss_coef', 'router_jitter_noise']),
  qwen2_moe: new Set([...DECODER_BASE_KEYS, ...QWEN_MOE_KEYS, 'shared_expert_intermediate_size']),
  qwen3_moe: new Set([...DECODER_BASE_KEYS, ...QWEN_MOE_KEYS, 'attention_bias']),
  deepseek_v2: new Set([...DECODER_BASE_KEYS, ...DEEPSEEK_KEYS]),
  deepseek_v3: new Set([...DECODER_BASE_KEYS, ...DEEPSEEK_KEYS]),
};

/** Gemma3TextConfig's defaults, for the fields a gemma3 text_config usually omits. */
const GEMMA3_TEXT_DEFAULTS: JsonRecord = {
  vocab_size: 262_208,
  hidden_size: 2304,
  intermediate_size: 9216,
  num_hidden_layers: 26,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 256,
};

/** A non-negative integer (0 allowed, unlike dimensions), absent or null giving `fallback`. */
function readCount(record: JsonRecord, key: string, fallback: number): number {
  const value = record[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1 << 20) {
    throw fieldError('E_FORMAT', key, `must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function readLayerList(record: JsonRecord, key: string, layerCount: number): Set<number> {
  const value = record[key];
  if (value === undefined || value === null) return new Set();
  if (!Array.isArray(value)) throw fieldError('E_FORMAT', key, 'must be a list of layer indices');
  value.forEach((entry, i) => {
    if (typeof entry !== 'number' || !Number.isInteger(entry) || entry < 0 || entry >= layerCount) {
      throw fieldError('E_FORMAT', indexPath(key, i), `must be a layer index in [0, ${layerCount - 1}], got ${JSON.stringify(entry)}`);
    }
  });
  return new Set(value as number[]);
}

/** How a layer's FFN is made: dense, or routed experts with optional shared experts. */
interface MoeShape {
  experts: number;
  active: number;
  expertWidth: number;
  sharedWidth: number;
  /** qwen2_moe's sigmoid gate on the shared expert (1 x hidden). */
  sharedGate: boolean;
  /** deepseek_v3's per-expert e_score_correction_bias. */
  correctionBias: boolean;
}

/** A gated MLP (gate and up hidden -> width, down width -> hidden, no biases): an expert, or the shared experts. */
function gatedMlp(prefix: string, hidden: number, width: number, init: InitScheme): MatrixSpec[] {
  return [matrix(`${prefix}.gate`, width, hidden, init), matrix(`${prefix}.up`, width, hidden, init), matrix(`${prefix}.down`, hidden, width, init)];
}

function moeBlock(prefix: string, style: LayerStyle, moe: MoeShape, activeOnly: boolean): { matrices: MatrixSpec[]; params: number; inactive: number } {
  const { hidden, init } = style;
  const expertParams = ffnBlockParams(style, moe.expertWidth);
  const matrices: MatrixSpec[] = [matrix(`${prefix}.router`, moe.experts, hidden, init)];
  const scoredExperts = activeOnly ? moe.active : moe.experts;
  for (let e = 0; e < scoredExperts; e++) matrices.push(...gatedMlp(`${prefix}.experts.${e}`, hidden, moe.expertWidth, init));
  let params = moe.experts * hidden + moe.experts * expertParams;
  if (moe.sharedWidth > 0) {
    matrices.push(...gatedMlp(`${prefix}.shared`, hidden, moe.sharedWidth, init));
    params += ffnBlockParams(style, moe.sharedWidth);
  }
  if (moe.sharedGate) {
    matrices.push(matrix(`${prefix}.shared_gate`, 1, hidden, init));
    params += hidden;
  }
  if (moe.correctionBias) params += moe.experts;
  return { matrices, params, inactive: (moe.experts - moe.active) * expertParams };
}

export function buildDecoder(input: JsonRecord, modelType: DecoderType, scoredInit: InitScheme | undefined, activeOnly: boolean): Built {
  const record = modelType === 'gemma3_text' ? { ...GEMMA3_TEXT_DEFAULTS, ...dropNulls(input) } : input;
  const { vocab, hidden, layerCount } = readSizes(record);
  const { heads, kvHeads } = readGroupedHeads(record, layerCount);
  // The dense families read intermediate_size here, before head_dim (the first bad field is the error).
  const dense = (DENSE_TYPES as readonly string[]).includes(modelType) ? readPerLayer(record, 'intermediate_size', '', layerCount) : undefined;
  const explicitHeadDim = readOptionalPositiveInteger(record, 'head_dim', '', undefined);
  const isDeepseek = modelType === 'deepseek_v2' || modelType === 'deepseek_v3';
  checkGroupedHeads(record, heads, kvHeads, hidden, explicitHeadDim === undefined && !isDeepseek);
  const tied = readOptionalBoolean(record, 'tie_word_embeddings', '', modelType === 'gemma' || modelType === 'gemma2' || modelType === 'gemma3_text');
  const attentionBias = NO_ATTENTION_BIAS.has(modelType) ? false : readOptionalBoolean(record, 'attention_bias', '', false);
  const mlpBias = modelType === 'llama' ? readOptionalBoolean(record, 'mlp_bias', '', false) : false;
  const std = readOptionalFiniteNumber(record, 'initializer_range', '', 0.02);
  const tableInit = normalInit(std);
  const init = scoredInit ?? tableInit;
  const style = layerStyle({
    hidden,
    naming: GATED_NAMING,
    init,
    qkvBias: modelType === 'qwen2' || modelType === 'qwen2_moe' || attentionBias,
    outputBias: modelType === 'qwen2_moe' ? false : attentionBias,
    mlpBias,
  });
  // RMSNorms (weight only) besides the two before attention and MLP: gemma2's after them, per-head q/k norms.
  const postNorms = modelType === 'gemma2' || modelType === 'gemma3_text' ? 2 * hidden : 0;
  const headNorms = modelType === 'qwen3' || modelType === 'gemma3_text' || modelType === 'qwen3_moe' ? 2 : 0;

  const moeAt = moeRule(record, modelType, layerCount);
  // Without experts a layer has 7 matrices, and checkLayerCount's limit keeps that far below checkMatrixCount's.
  if (moeAt !== noExperts) checkMatrixCount(matricesAtMost(layerCount, moeAt), 'num_hidden_layers', `${layerCount} layers and their experts`);
  const mla = isDeepseek ? readMla(record) : undefined;
  const denseWidths = dense ?? denseIntermediate(record, modelType, layerCount, moeAt);

  const layers: LayerPlan[] = [];
  let inactiveParams = 0;
  for (let i = 0; i < layerCount; i++) {
    let normParams = 2 * hidden + (i === layerCount - 1 ? hidden : 0);
    const moe = moeAt(i);
    let attention: MatrixSpec[];
    let attentionParams: number;
    let description: Record<string, string | number>;
    if (mla === undefined) {
      const headDim = explicitHeadDim ?? hidden / heads[i];
      normParams += postNorms + headNorms * headDim;
      if (moe === undefined) {
        layers.push(assembleLayer(style, i, heads[i], kvHeads[i], headDim, denseWidths[i], normParams, { heads: heads[i], keyValueHeads: kvHeads[i], headDim, intermediate: denseWidths[i] }));
        continue;
      }
      attention = attentionBlock(style, GATED_NAMING.of(i), 0, heads[i], kvHeads[i], headDim);
      attentionParams = attentionBlockParams(style, heads[i], kvHeads[i], headDim);
      description = { heads: heads[i], keyValueHeads: kvHeads[i], headDim };
    } else {
      const block = mlaAttention(`layers.${i}`, hidden, heads[i], mla, init, attentionBias);
      attention = block.matrices;
      attentionParams = block.params;
      normParams += block.normParams;
      description = { heads: heads[i], qLoraRank: mla.qLoraRank ?? 0, kvLoraRank: mla.kvLoraRank, queryHeadDim: mla.nope + mla.rope, valueHeadDim: mla.value };
    }
    let ffn: MatrixSpec[];
    let ffnParams: number;
    if (moe === undefined) {
      ffn = ffnBlock(style, GATED_NAMING.of(i), 4, denseWidths[i]);
      ffnParams = ffnBlockParams(style, denseWidths[i]);
      description.intermediate = denseWidths[i];
    } else {
      const block = moeBlock(`layers.${i}.ffn`, style, moe, activeOnly);
      ffn = block.matrices;
      ffnParams = block.params;
      inactiveParams += block.inactive;
      Object.assign(description, { experts: moe.experts, activeExperts: moe.active, expertIntermediate: moe.expertWidth });
      if (moe.sharedWidth > 0) description.sharedIntermediate = moe.sharedWidth;
    }
    layers.push({ attention, ffn, params: { attention: attentionParams, ffn: ffnParams, other: normParams }, description });
  }
  const built = withWordTables(layers, hidden, vocab, tied, tableInit);
  if (moeAt !== noExperts) built.inactiveParams = inactiveParams;
  return built;
}

/** Multi-head latent attention: its projections, their parameters, and the RMSNorms of its low-rank latents. */
function mlaAttention(prefix: string, hidden: number, heads: number, mla: Mla, init: InitScheme, bias: boolean): { matrices: MatrixSpec[]; params: number; normParams: number } {
  const queryWidth = heads * (mla.nope + mla.rope);
  const matrices: MatrixSpec[] = [];
  let params: number;
  let normParams = mla.kvLoraRank;
  if (mla.qLoraRank === undefined) {
    matrices.push(matrix(`${prefix}.attention.query`, queryWidth, hidden, init, heads, 'rows'));
    params = linearParams(queryWidth, hidden, bias);
  } else {
    matrices.push(matrix(`${prefix}.attention.query_a`, mla.qLoraRank, hidden, init));
    matrices.push(matrix(`${prefix}.attention.query_b`, queryWidth, mla.qLoraRank, init, heads, 'rows'));
    params = linearParams(mla.qLoraRank, hidden, bias) + linearParams(queryWidth, mla.qLoraRank, false);
    normParams += mla.qLoraRank;
  }
  matrices.push(matrix(`${prefix}.attention.key_value_a`, mla.kvLoraRank + mla.rope, hidden, init));
  matrices.push(matrix(`${prefix}.attention.key_value_b`, heads * (mla.nope + mla.value), mla.kvLoraRank, init, heads, 'rows'));
  matrices.push(matrix(`${prefix}.attention.output`, hidden, heads * mla.value, init, heads, 'cols'));
  params +=
    linearParams(mla.kvLoraRank + mla.rope, hidden, bias) + linearParams(heads * (mla.nope + mla.value), mla.kvLoraRank, false) + linearParams(hidden, heads * mla.value, bias);
  return { matrices, params, normParams };
}

function dropNulls(record: JsonRecord): JsonRecord {
  const kept: JsonRecord = {};
  for (const key in record) if (record[key] !== null) kept[key] = record[key];
  return kept;
}

const noExperts = (): MoeShape | undefined => undefined;

/** An upper bound on the matrices a decoder's layers hold: attention, a router, and three per expert (or dense FFN). */
function matricesAtMost(layerCount: number, moeAt: (layer: number) => MoeShape | undefined): number {
  let count = 0;
  for (let i = 0; i < layerCount; i++) {
    const moe = moeAt(i);
    count += 8 + (moe === undefined ? 3 : 3 * (moe.experts + 1) + 1);
  }
  return count;
}

/** Which layers are sparse and how their experts are shaped. */
function moeRule(record: JsonRecord, modelType: DecoderType, layerCount: number): (layer: number) => MoeShape | undefined {
  switch (modelType) {
    case 'mixtral': {
      const experts = readPositiveInteger(record, 'num_local_experts', '');
      const active = readActive(record, experts);
      const width = readPositiveInteger(record, 'intermediate_size', '');
      const shape: MoeShape = { experts, active, expertWidth: width, sharedWidth: 0, sharedGate: false, correctionBias: false };
      return () => shape;
    }
    case 'qwen2_moe':
    case 'qwen3_moe': {
      const experts = readCount(record, 'num_experts', 0);
      if (experts === 0) return noExperts;
      const active = readActive(record, experts);
      const expertWidth = readPositiveInteger(record, 'moe_intermediate_size', '');
      const sharedWidth = modelType === 'qwen2_moe' ? readCount(record, 'shared_expert_intermediate_size', 0) : 0;
      const step = readOptionalPositiveInteger(record, 'decoder_sparse_step', '', 1);
      const denseLayers = readLayerList(record, 'mlp_only_layers', layerCount);
      const shape: MoeShape = { experts, active, expertWidth, sharedWidth, sharedGate: sharedWidth > 0, correctionBias: false };
      return (layer) => (!denseLayers.has(layer) && (layer + 1) % step === 0 ? shape : undefined);
    }
    case 'deepseek_v2':
    case 'deepseek_v3': {
      const experts = readCount(record, 'n_routed_experts', 0);
      if (experts === 0) return noExperts;
      const active = readActive(record, experts);
      const expertWidth = readPositiveInteger(record, 'moe_intermediate_size', '');
      const shared = readCount(record, 'n_shared_experts', 0);
      const firstDense = readCount(record, 'first_k_dense_replace', 0);
      const frequency = readOptionalPositiveInteger(record, 'moe_layer_freq', '', 1);
      const topkMethod = record.topk_method ?? (modelType === 'deepseek_v3' ? 'noaux_tc' : 'greedy');
      const shape: MoeShape = { experts, active, expertWidth, sharedWidth: shared * expertWidth, sharedGate: false, correctionBias: topkMethod === 'noaux_tc' };
      return (layer) => (layer >= firstDense && layer % frequency === 0 ? shape : undefined);
    }
    default:
      return noExperts;
  }
}

function readActive(record: JsonRecord, experts: number): number {
  const active = readPositiveInteger(record, 'num_experts_per_tok', '');
  if (active > experts) throw fieldError('E_FORMAT', 'num_experts_per_tok', `${active} exceeds the ${experts} experts`);
  return active;
}

/** intermediate_size per layer, needed only where a layer is dense. */
function denseIntermediate(record: JsonRecord, modelType: DecoderType, layerCount: number, moeAt: (layer: number) => MoeShape | undefined): number[] {
  let anyDense = false;
  for (let i = 0; i < layerCount && !anyDense; i++) anyDense = moeAt(i) === undefined;
  if (!anyDense) return [];
  if (record.intermediate_size === undefined) {
    throw new ZeroLMError('E_FORMAT', `intermediate_size: missing required field (${modelType} has dense layers)`, { field: 'intermediate_size' });
  }
  return readPerLayer(record, 'intermediate_size', '', layerCount);
}

interface Mla {
  qLoraRank?: number;
  kvLoraRank: number;
  rope: number;
  nope: number;
  value: number;
}

function readMla(record: JsonRecord): Mla {
  return {
    qLoraRank: readOptionalPositiveInteger(record, 'q_lora_rank', '', undefined),
    kvLoraRank: readPositiveInteger(record, 'kv_lora_rank', ''),
    rope: readPositiveInteger(record, 'qk_rope_head_dim', ''),
    nope: readPositiveInteger(record, 'qk_nope_head_dim', ''),
    value: readPositiveInteger(record, 'v_head_dim', ''),
  };
}
