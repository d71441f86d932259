/**
 * Hugging Face decoders with LayerNorms and plain (ungated) MLPs: opt, gpt_neox (Pythia) and falcon.
 *
 * - opt: OPTForCausalLM. q/k/v/out_proj hidden x hidden and fc1 (ffn_dim x hidden), fc2 with biases when enable_bias
 *   (default true); two LayerNorms per layer; learned positions of max_position_embeddings + 2 rows (OPT's offset);
 *   word embeddings of word_embed_proj_dim with project_in/project_out (no bias) when it differs from hidden_size;
 *   a final LayerNorm when do_layer_norm_before and not _remove_final_layer_norm; LM head tied.
 * - gpt_neox: GPTNeoXForCausalLM. query_key_value (3 hidden x hidden, per head [q, k, v] interleaved) scored as
 *   query/key/value; dense as output; dense_h_to_4h / dense_4h_to_h as ffn.up / ffn.down; biases on attention when
 *   attention_bias (default true) and always on the MLP; two LayerNorms per layer, a final one; embed_out separate
 *   unless tie_word_embeddings (default false).
 * - falcon: FalconForCausalLM. query_key_value is (heads + 2 kv heads) * head_dim x hidden: kv heads =
 *   num_kv_heads with new_decoder_architecture, 1 with multi_query, else heads; dense (output); MLP
 *   dense_h_to_4h (ffn_hidden_size, default 4 hidden) and dense_4h_to_h; biases when bias. LayerNorms: ln_attn and
 *   ln_mlp with new_decoder_architecture and num_ln_in_parallel_attn 2 (its default there), else input_layernorm and,
 *   without parallel_attn, post_attention_layernorm; a final ln_f; LM head tied unless tie_word_embeddings is false.
 *   Accepts RefinedWeb's n_head, n_layer and n_head_kv.
 */
import { checkLayerCount, fieldError, readOptionalBoolean, readOptionalFiniteNumber, readOptionalPositiveInteger, readPositiveInteger, type JsonRecord } from '../fields';
import { layerNormParams, matrix, normalInit } from '../plan';
import type { InitScheme, LayerPlan } from '../types';
import { assembleLayer, headsDividing, layerStyle, PLAIN_NAMING, readSizes, withWordTables, type Built } from './common';

const COMMON = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'tie_word_embeddings', 'initializer_range'];
export const CLASSIC_KEYS: Record<'opt' | 'gpt_neox' | 'falcon', ReadonlySet<string>> = {
  opt: new Set([...COMMON, 'ffn_dim', 'word_embed_proj_dim', 'enable_bias', 'do_layer_norm_before', '_remove_final_layer_norm', 'max_position_embeddings', 'init_std']),
  gpt_neox: new Set([...COMMON, 'intermediate_size', 'attention_bias']),
  falcon: new Set([...COMMON, 'n_head', 'n_layer', 'num_kv_heads', 'n_head_kv', 'multi_query', 'new_decoder_architecture', 'parallel_attn', 'bias', 'ffn_hidden_size', 'num_ln_in_parallel_attn']),
};

export function buildOpt(record: JsonRecord, scoredInit: InitScheme | undefined): Built {
  const { vocab, hidden, layerCount } = readSizes(record);
  const heads = readPositiveInteger(record, 'num_attention_heads', '');
  headsDividing(record, 'num_attention_heads', [heads], hidden, 'hidden_size');
  const width = readPositiveInteger(record, 'ffn_dim', '');
  const positions = readOptionalPositiveInteger(record, 'max_position_embeddings', '', 2048);
  const wordWidth = readOptionalPositiveInteger(record, 'word_embed_proj_dim', '', hidden);
  const bias = readOptionalBoolean(record, 'enable_bias', '', true);
  const normFirst = readOptionalBoolean(record, 'do_layer_norm_before', '', true);
  const finalNorm = normFirst && !readOptionalBoolean(record, '_remove_final_layer_norm', '', false);
  const std = readOptionalFiniteNumber(record, 'init_std', '', 0.02);
  const tableInit = normalInit(std);
  const style = layerStyle({ hidden, naming: PLAIN_NAMING, init: scoredInit ?? tableInit, qkvBias: bias, outputBias: bias, mlpBias: bias });
  const layers: LayerPlan[] = [];
  for (let i = 0; i < layerCount; i++) {
    const other = 2 * layerNormParams(hidden) + (finalNorm && i === layerCount - 1 ? layerNormParams(hidden) : 0);
    layers.push(assembleLayer(style, i, heads, heads, hidden / heads, width, other, { heads, intermediate: width }));
  }
  const extras = [matrix('embeddings.word', vocab, wordWidth, tableInit), matrix('embeddings.position', positions + 2, hidden, tableInit)];
  let embeddingParams = vocab * wordWidth + (positions + 2) * hidden;
  if (wordWidth !== hidden) {
    extras.push(matrix('embeddings.project_in', hidden, wordWidth, tableInit), matrix('embeddings.project_out', wordWidth, hidden, tableInit));
    embeddingParams += 2 * hidden * wordWidth;
  }
  return { hiddenSize: hidden, layers, extras, embeddingParams };
}

export function buildGptNeox(record: JsonRecord, scoredInit: InitScheme | undefined): Built {
  const { vocab, hidden, layerCount } = readSizes(record);
  const heads = readPositiveInteger(record, 'num_attention_heads', '');
  headsDividing(record, 'num_attention_heads', [heads], hidden, 'hidden_size');
  const headDim = hidden / heads;
  const width = readPositiveInteger(record, 'intermediate_size', '');
  const attentionBias = readOptionalBoolean(record, 'attention_bias', '', true);
  const tied = readOptionalBoolean(record, 'tie_word_embeddings', '', false);
  const std = readOptionalFiniteNumber(record, 'initializer_range', '', 0.02);
  const tableInit = normalInit(std);
  const style = layerStyle({ hidden, naming: PLAIN_NAMING, init: scoredInit ?? tableInit, qkvBias: attentionBias, outputBias: attentionBias, mlpBias: true });
  const layers: LayerPlan[] = [];
  for (let i = 0; i < layerCount; i++) {
    const other = 2 * layerNormParams(hidden) + (i === layerCount - 1 ? layerNormParams(hidden) : 0);
    layers.push(assembleLayer(style, i, heads, heads, headDim, width, other, { heads, headDim, intermediate: width }));
  }
  return withWordTables(layers, hidden, vocab, tied, tableInit);
}

export function buildFalcon(record: JsonRecord, scoredInit: InitScheme | undefined): Built {
  const vocab = readPositiveInteger(record, 'vocab_size', '');
  const hidden = readPositiveInteger(record, 'hidden_size', '');
  const headsKey = record.num_attention_heads !== undefined ? 'num_attention_heads' : 'n_head';
  const heads = readPositiveInteger(record, headsKey, '');
  const layersKey = record.num_hidden_layers !== undefined ? 'num_hidden_layers' : 'n_layer';
  const layerCount = checkLayerCount(readPositiveInteger(record, layersKey, ''), layersKey);
  headsDividing(record, headsKey, [heads], hidden, 'hidden_size');
  const headDim = hidden / heads;
  const newArchitecture = readOptionalBoolean(record, 'new_decoder_architecture', '', false);
  const multiQuery = readOptionalBoolean(record, 'multi_query', '', true);
  const kvKey = record.num_kv_heads !== undefined ? 'num_kv_heads' : 'n_head_kv';
  const kvHeads = newArchitecture ? readOptionalPositiveInteger(record, kvKey, '', heads) : multiQuery ? 1 : heads;
  if (heads % kvHeads !== 0) throw fieldError('E_FORMAT', kvKey, `${kvHeads} key/value heads do not divide ${heads} attention heads`);
  const parallel = readOptionalBoolean(record, 'parallel_attn', '', true);
  const bias = readOptionalBoolean(record, 'bias', '', false);
  const width = readOptionalPositiveInteger(record, 'ffn_hidden_size', '', 4 * hidden);
  const parallelNorms = readOptionalPositiveInteger(record, 'num_ln_in_parallel_attn', '', newArchitecture ? 2 : 1);
  const norms = newArchitecture && parallelNorms === 2 ? 2 : parallel ? 1 : 2;
  const tied = readOptionalBoolean(record, 'tie_word_embeddings', '', true);
  const std = readOptionalFiniteNumber(record, 'initializer_range', '', 0.02);
  const tableInit = normalInit(std);
  const style = layerStyle({ hidden, naming: PLAIN_NAMING, init: scoredInit ?? tableInit, qkvBias: bias, outputBias: bias, mlpBias: bias });
  const layers: LayerPlan[] = [];
  for (let i = 0; i < layerCount; i++) {
    const other = norms * layerNormParams(hidden) + (i === layerCount - 1 ? layerNormParams(hidden) : 0);
    layers.push(assembleLayer(style, i, heads, kvHeads, headDim, width, other, { heads, keyValueHeads: kvHeads, headDim, intermediate: width }));
  }
  return withWordTables(layers, hidden, vocab, tied, tableInit);
}
