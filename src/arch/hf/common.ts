/**
 * What the Hugging Face builders share: the parts a builder returns, per-layer field paths, and the check that
 * warns about config keys which would change the architecture but which the builder for that model_type ignores.
 */
import { ZeroLMError } from '../../errors';
import { fieldError, indexPath, type JsonRecord } from '../fields';
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

/** A gated MLP (SwiGLU/GeGLU): gate and up hidden -> width, down width -> hidden, no biases. */
export function gatedMlp(prefix: string, hidden: number, width: number, init: InitScheme): MatrixSpec[] {
  return [matrix(`${prefix}.gate`, width, hidden, init), matrix(`${prefix}.up`, width, hidden, init), matrix(`${prefix}.down`, hidden, width, init)];
}

export const gatedMlpParams = (hidden: number, width: number, bias = false): number => 2 * linearParams(width, hidden, bias) + linearParams(hidden, width, bias);

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
