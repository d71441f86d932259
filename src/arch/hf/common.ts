/**
 * What the Hugging Face builders share: the parts a builder returns, per-layer field paths, the reads of layer and
 * head counts, the assembly of a layer from its counts, and the check that warns about config keys which would
 * change the architecture but which the builder for that model_type ignores.
 */
import { ZeroLMError } from '../../errors';
import { checkLayerCount, fieldError, indexPath, readOptionalPerLayer, readPerLayer, readPositiveInteger, type JsonRecord } from '../fields';
import { linearParams, matrix } from '../plan';
import type { InitScheme, LayerPlan, MatrixSpec } from '../types';

export interface Built {
  hiddenSize: number;
  layers: LayerPlan[];
  extras: MatrixSpec[];
  embeddingParams: number;
  /** Parameters of the routed experts a token does not use (mixture-of-experts models only). */
  inactiveParams?: number;
}

/** The path of a per-layer field's entry i: "key[i]" when the input gave a list, "key" when it gave one number. */
export function perLayerPath(record: JsonRecord, key: string, i: number): string {
  return Array.isArray(record[key]) ? indexPath(key, i) : key;
}

export function headsDividing(record: JsonRecord, key: string, heads: number[], hidden: number, hiddenKey: string): void {
  heads.forEach((h, i) => {
    if (hidden % h !== 0) throw fieldError('E_FORMAT', perLayerPath(record, key, i), `${h} heads do not divide ${hiddenKey} ${hidden}`);
  });
}

/** vocab_size, the hidden width and the layer count, read in that order (the first bad one is the error). */
export function readSizes(record: JsonRecord, hiddenKey = 'hidden_size', layersKey = 'num_hidden_layers'): { vocab: number; hidden: number; layerCount: number } {
  const vocab = readPositiveInteger(record, 'vocab_size', '');
  const hidden = readPositiveInteger(record, hiddenKey, '');
  return { vocab, hidden, layerCount: checkLayerCount(readPositiveInteger(record, layersKey, ''), layersKey) };
}

/** Grouped-query heads per layer: num_attention_heads, and num_key_value_heads (default: the same). */
export function readGroupedHeads(record: JsonRecord, layerCount: number): { heads: number[]; kvHeads: number[] } {
  const heads = readPerLayer(record, 'num_attention_heads', '', layerCount);
  return { heads, kvHeads: readOptionalPerLayer(record, 'num_key_value_heads', '', layerCount) ?? heads };
}

/** Key/value heads must divide the attention heads; the heads must divide hidden_size where head_dim comes from it. */
export function checkGroupedHeads(record: JsonRecord, heads: number[], kvHeads: number[], hidden: number, headDimFromHidden: boolean): void {
  if (headDimFromHidden) headsDividing(record, 'num_attention_heads', heads, hidden, 'hidden_size');
  kvHeads.forEach((kv, i) => {
    if (heads[i] % kv !== 0) throw fieldError('E_FORMAT', perLayerPath(record, 'num_key_value_heads', i), `${kv} key/value heads do not divide ${heads[i]} attention heads`);
  });
}

const ATTENTION_PARTS = ['query', 'key', 'value', 'output'];
const NAMES_KEPT = 4096;

/**
 * The matrix names of a family's layers: `<stack>.<i>.<block>.{query,key,value,output}` for each attention block,
 * then `<stack>.<i>.ffn.<part>` for each FFN part. The first layers' names are made once and reused (building
 * them for every plan showed in profiles of the hf-decoder pipe).
 */
export class LayerNaming {
  private readonly made: string[][] = [];
  /** ffnParts: two (up and down) or three (gate, up and down: a gated MLP). */
  constructor(
    private readonly stack: string,
    readonly blocks: readonly string[],
    readonly ffnParts: readonly string[],
  ) {}

  of(index: number): readonly string[] {
    let names = this.made[index];
    if (names === undefined) {
      const prefix = `${this.stack}.${index}`;
      names = [];
      for (const block of this.blocks) for (const part of ATTENTION_PARTS) names.push(`${prefix}.${block}.${part}`);
      for (const part of this.ffnParts) names.push(`${prefix}.ffn.${part}`);
      if (index < NAMES_KEPT) this.made[index] = names;
    }
    return names;
  }
}

export const PLAIN_NAMING = new LayerNaming('layers', ['attention'], ['up', 'down']);
export const GATED_NAMING = new LayerNaming('layers', ['attention'], ['gate', 'up', 'down']);

/** What all layers of one model share: width, names, inits by role, biases. */
export interface LayerStyle {
  readonly hidden: number;
  readonly naming: LayerNaming;
  /** Query, key, value and the FFN's input projections. */
  readonly init: InitScheme;
  readonly queryInit: InitScheme;
  /** Attention output projection (gpt2's residual scaling, T5's own std). */
  readonly outputInit: InitScheme;
  /** The FFN's last (down) projection. */
  readonly ffnOutInit: InitScheme;
  readonly qkvBias: boolean;
  readonly outputBias: boolean;
  readonly mlpBias: boolean;
  readonly gated: boolean;
}

/** A style with the inits a family leaves out set to `init` (every style has one shape: the hot loops stay monomorphic). */
export function layerStyle(parts: Omit<LayerStyle, 'queryInit' | 'outputInit' | 'ffnOutInit' | 'gated'> & Partial<Pick<LayerStyle, 'queryInit' | 'outputInit' | 'ffnOutInit'>>): LayerStyle {
  const { hidden, naming, init, qkvBias, outputBias, mlpBias } = parts;
  const queryInit = parts.queryInit ?? init;
  const outputInit = parts.outputInit ?? init;
  const ffnOutInit = parts.ffnOutInit ?? init;
  return { hidden, naming, init, queryInit, outputInit, ffnOutInit, qkvBias, outputBias, mlpBias, gated: naming.ffnParts.length === 3 };
}

/** One attention block: query, key, value (rows split by head) and output (columns split by head). */
export function attentionBlock(style: LayerStyle, names: readonly string[], first: number, heads: number, kvHeads: number, headDim: number): MatrixSpec[] {
  const hidden = style.hidden;
  // Literals with every field in matrix()'s order (the same objects, byte for byte in JSON): a builder's hottest
  // allocation, made in one step here instead of a call that adds the head fields afterwards.
  const queryWidth = heads * headDim;
  const keyValueWidth = kvHeads * headDim;
  return [
    { name: names[first], rows: queryWidth, cols: hidden, init: style.queryInit, heads, headAxis: 'rows' },
    { name: names[first + 1], rows: keyValueWidth, cols: hidden, init: style.init, heads: kvHeads, headAxis: 'rows' },
    { name: names[first + 2], rows: keyValueWidth, cols: hidden, init: style.init, heads: kvHeads, headAxis: 'rows' },
    { name: names[first + 3], rows: hidden, cols: queryWidth, init: style.outputInit, heads, headAxis: 'cols' },
  ];
}

export function attentionBlockParams(style: LayerStyle, heads: number, kvHeads: number, headDim: number): number {
  const hidden = style.hidden;
  return linearParams(heads * headDim, hidden, style.qkvBias) + 2 * linearParams(kvHeads * headDim, hidden, style.qkvBias) + linearParams(hidden, heads * headDim, style.outputBias);
}

/** The FFN: up and down, or gate, up and down; `first` is the index of its first name. */
export function ffnBlock(style: LayerStyle, names: readonly string[], first: number, width: number): MatrixSpec[] {
  const hidden = style.hidden;
  const input: MatrixSpec = { name: names[first], rows: width, cols: hidden, init: style.init };
  if (!style.gated) return [input, { name: names[first + 1], rows: hidden, cols: width, init: style.ffnOutInit }];
  return [input, { name: names[first + 1], rows: width, cols: hidden, init: style.init }, { name: names[first + 2], rows: hidden, cols: width, init: style.ffnOutInit }];
}

export function ffnBlockParams(style: LayerStyle, width: number): number {
  return (style.gated ? 2 : 1) * linearParams(width, style.hidden, style.mlpBias) + linearParams(style.hidden, width, style.mlpBias);
}

/**
 * Layer `index` of a model in `style`: its attention blocks and FFN from the layer's head counts and FFN width,
 * their parameters, `other` (norms and whatever else the family counts there) and the family's description.
 */
export function assembleLayer(
  style: LayerStyle,
  index: number,
  heads: number,
  kvHeads: number,
  headDim: number,
  width: number,
  other: number,
  description: Record<string, string | number>,
): LayerPlan {
  const names = style.naming.of(index);
  const blocks = style.naming.blocks.length;
  const attention = attentionBlock(style, names, 0, heads, kvHeads, headDim);
  for (let b = 1; b < blocks; b++) attention.push(...attentionBlock(style, names, 4 * b, heads, kvHeads, headDim));
  return {
    attention,
    ffn: ffnBlock(style, names, 4 * blocks, width),
    params: { attention: blocks * attentionBlockParams(style, heads, kvHeads, headDim), ffn: ffnBlockParams(style, width), other },
    description,
  };
}

/** A decoder's tables: the word embeddings (or `extras` with their `params`) and an LM head unless tied. */
export function withWordTables(
  layers: LayerPlan[],
  hidden: number,
  vocab: number,
  tied: boolean,
  init: InitScheme,
  extras: MatrixSpec[] = [matrix('embeddings.word', vocab, hidden, init)],
  params = vocab * hidden,
): Built {
  if (!tied) {
    extras.push(matrix('lm_head', vocab, hidden, init));
    params += vocab * hidden;
  }
  return { hiddenSize: hidden, layers, extras, embeddingParams: params };
}

/**
 * Config keys that change a model's parameters or structure in some Hugging Face family. A key from this list (or
 * any key naming experts or starting with moe_) that a config sets but its model_type's builder does not read means
 * the plan may not be the model the user has: e.g. a Mixtral config relabelled "mistral" would score as dense.
 * Keys that change no weight (sliding_window, rope_*, use_parallel_residual, ...) are not listed.
 */
const ARCHITECTURE_KEYS = new Set([
  'num_local_experts', 'num_experts', 'n_routed_experts', 'n_shared_experts', 'num_experts_per_tok', 'moe_intermediate_size',
  'shared_expert_intermediate_size', 'moe_layer_freq', 'first_k_dense_replace', 'decoder_sparse_step', 'mlp_only_layers',
  'q_lora_rank', 'kv_lora_rank', 'qk_rope_head_dim', 'qk_nope_head_dim', 'v_head_dim', 'head_dim', 'num_key_value_heads',
  'multi_query', 'new_decoder_architecture', 'num_kv_heads', 'n_head_kv', 'num_ln_in_parallel_attn', 'parallel_attn',
  'attention_bias', 'mlp_bias', 'bias', 'qkv_bias', 'use_qkv_bias', 'enable_bias', 'ffn_dim', 'ffn_hidden_size', 'd_ff', 'd_kv',
  'feed_forward_proj', 'n_inner', 'intermediate_size', 'num_decoder_layers', 'word_embed_proj_dim', 'embedding_size',
  'tie_word_embeddings', 'do_layer_norm_before', 'vision_config', 'audio_config', 'text_config', 'topk_method',
]);

function changesArchitecture(key: string): boolean {
  return ARCHITECTURE_KEYS.has(key) || key.startsWith('moe_') || key.includes('expert');
}

/**
 * The keys of `record` that would change the architecture but are not in `read`. A key set to null, false or 0
 * turns a feature off and is not reported. Costs one pass over the record's own keys.
 */
export function unreadArchitectureKeys(record: JsonRecord, read: ReadonlySet<string>): string[] {
  const unread: string[] = [];
  for (const key in record) {
    if (!changesArchitecture(key) || read.has(key)) continue;
    const value = record[key];
    if (value === null || value === false || value === 0 || value === undefined) continue;
    unread.push(key);
  }
  return unread;
}

/** The warning for unread keys, or, with strict, the E_UNSUPPORTED error. Undefined when nothing is unread. */
export function unreadKeysWarning(record: JsonRecord, modelType: string, read: ReadonlySet<string>, strict: boolean, parent = ''): string | undefined {
  const unread = unreadArchitectureKeys(record, read);
  if (unread.length === 0) return undefined;
  const where = parent === '' ? '' : `${parent}: `;
  const message = `${where}model_type ${JSON.stringify(modelType)} does not read ${unread.join(', ')}, which would change the architecture; the plan ignores ${unread.length === 1 ? 'it' : 'them'}`;
  if (strict) throw new ZeroLMError('E_UNSUPPORTED', `${message} (strictConfig refuses such configs)`, { field: parent === '' ? unread[0] : `${parent}.${unread[0]}` });
  return message;
}
