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
import {
  checkLayerCount,
  fieldError,
  readOptionalBoolean,
  readOptionalFiniteNumber,
  readOptionalPositiveInteger,
  readPositiveInteger,
  type JsonRecord,
} from '../fields';
import { layerNormParams, linearParams, matrix, normalInit } from '../plan';
import type { InitScheme, LayerPlan, MatrixSpec } from '../types';
import type { Built } from './common';

const COMMON = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'tie_word_embeddings', 'initializer_range'];
export const CLASSIC_KEYS: Record<'opt' | 'gpt_neox' | 'falcon', ReadonlySet<string>> = {
  opt: new Set([...COMMON, 'ffn_dim', 'word_embed_proj_dim', 'enable_bias', 'do_layer_norm_before', '_remove_final_layer_norm', 'max_position_embeddings', 'init_std']),
  gpt_neox: new Set([...COMMON, 'intermediate_size', 'attention_bias']),
  falcon: new Set([...COMMON, 'n_head', 'n_layer', 'num_kv_heads', 'n_head_kv', 'multi_query', 'new_decoder_architecture', 'parallel_attn', 'bias', 'ffn_hidden_size', 'num_ln_in_parallel_attn']),
};

function dividing(heads: number, hidden: number, key: string): number {
  if (hidden % heads !== 0) throw fieldError('E_FORMAT', key, `${heads} heads do not divide hidden_size ${hidden}`);
  return hidden / heads;
}

function attentionBlock(prefix: string, hidden: number, heads: number, kvHeads: number, headDim: number, init: InitScheme): MatrixSpec[] {
  return [
    matrix(`${prefix}.query`, heads * headDim, hidden, init, heads, 'rows'),
    matrix(`${prefix}.key`, kvHeads * headDim, hidden, init, kvHeads, 'rows'),
    matrix(`${prefix}.value`, kvHeads * headDim, hidden, init, kvHeads, 'rows'),
    matrix(`${prefix}.output`, hidden, heads * headDim, init, heads, 'cols'),
  ];
}

function plainMlp(prefix: string, hidden: number, width: number, init: InitScheme): MatrixSpec[] {
  return [matrix(`${prefix}.up`, width, hidden, init), matrix(`${prefix}.down`, hidden, width, init)];
}

export function buildOpt(record: JsonRecord, scoredInit: InitScheme | undefined): Built {
  const vocab = readPositiveInteger(record, 'vocab_size', '');
  const hidden = readPositiveInteger(record, 'hidden_size', '');
  const layerCount = checkLayerCount(readPositiveInteger(record, 'num_hidden_layers', ''), 'num_hidden_layers');
  const heads = readPositiveInteger(record, 'num_attention_heads', '');
  const headDim = dividing(heads, hidden, 'num_attention_heads');
  const width = readPositiveInteger(record, 'ffn_dim', '');
  const positions = readOptionalPositiveInteger(record, 'max_position_embeddings', '', 2048);
  const wordWidth = readOptionalPositiveInteger(record, 'word_embed_proj_dim', '', hidden);
  const bias = readOptionalBoolean(record, 'enable_bias', '', true);
  const normFirst = readOptionalBoolean(record, 'do_layer_norm_before', '', true);
  const finalNorm = normFirst && !readOptionalBoolean(record, '_remove_final_layer_norm', '', false);
  const std = readOptionalFiniteNumber(record, 'init_std', '', 0.02);
  const tableInit = normalInit(std);
  const init = scoredInit ?? tableInit;
  const layers: LayerPlan[] = [];
  for (let i = 0; i < layerCount; i++) {
    layers.push({
      attention: attentionBlock(`layers.${i}.attention`, hidden, heads, heads, headDim, init),
      ffn: plainMlp(`layers.${i}.ffn`, hidden, width, init),
      params: {
        attention: 4 * linearParams(hidden, hidden, bias),
        ffn: linearParams(width, hidden, bias) + linearParams(hidden, width, bias),
        other: 2 * layerNormParams(hidden) + (finalNorm && i === layerCount - 1 ? layerNormParams(hidden) : 0),
      },
      description: { heads, intermediate: width },
    });
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
  const vocab = readPositiveInteger(record, 'vocab_size', '');
  const hidden = readPositiveInteger(record, 'hidden_size', '');
  const layerCount = checkLayerCount(readPositiveInteger(record, 'num_hidden_layers', ''), 'num_hidden_layers');
  const heads = readPositiveInteger(record, 'num_attention_heads', '');
  const headDim = dividing(heads, hidden, 'num_attention_heads');
  const width = readPositiveInteger(record, 'intermediate_size', '');
  const attentionBias = readOptionalBoolean(record, 'attention_bias', '', true);
  const tied = readOptionalBoolean(record, 'tie_word_embeddings', '', false);
  const std = readOptionalFiniteNumber(record, 'initializer_range', '', 0.02);
  const tableInit = normalInit(std);
  const init = scoredInit ?? tableInit;
  const layers: LayerPlan[] = [];
  for (let i = 0; i < layerCount; i++) {
    layers.push({
      attention: attentionBlock(`layers.${i}.attention`, hidden, heads, heads, headDim, init),
      ffn: plainMlp(`layers.${i}.ffn`, hidden, width, init),
      params: {
        attention: linearParams(3 * hidden, hidden, attentionBias) + linearParams(hidden, hidden, attentionBias),
        ffn: linearParams(width, hidden, true) + linearParams(hidden, width, true),
        other: 2 * layerNormParams(hidden) + (i === layerCount - 1 ? layerNormParams(hidden) : 0),
      },
      description: { heads, headDim, intermediate: width },
    });
  }
  const extras = [matrix('embeddings.word', vocab, hidden, tableInit)];
  let embeddingParams = vocab * hidden;
  if (!tied) {
    extras.push(matrix('lm_head', vocab, hidden, tableInit));
    embeddingParams += vocab * hidden;
  }
  return { hiddenSize: hidden, layers, extras, embeddingParams };
}

export interface FalconShape {
  heads: number;
  kvHeads: number;
  headDim: number;
  newArchitecture: boolean;
}

export function falconShape(record: JsonRecord): FalconShape & { hidden: number; layerCount: number } {
  const hidden = readPositiveInteger(record, 'hidden_size', '');
  const headsKey = record.num_attention_heads !== undefined ? 'num_attention_heads' : 'n_head';
  const heads = readPositiveInteger(record, headsKey, '');
  const layersKey = record.num_hidden_layers !== undefined ? 'num_hidden_layers' : 'n_layer';
  const layerCount = checkLayerCount(readPositiveInteger(record, layersKey, ''), layersKey);
  const headDim = dividing(heads, hidden, headsKey);
  const newArchitecture = readOptionalBoolean(record, 'new_decoder_architecture', '', false);
  const multiQuery = readOptionalBoolean(record, 'multi_query', '', true);
  const kvKey = record.num_kv_heads !== undefined ? 'num_kv_heads' : 'n_head_kv';
  const kvHeads = newArchitecture ? readOptionalPositiveInteger(record, kvKey, '', heads) : multiQuery ? 1 : heads;
  if (heads % kvHeads !== 0) throw fieldError('E_FORMAT', kvKey, `${kvHeads} key/value heads do not divide ${heads} attention heads`);
  return { hidden, layerCount, heads, kvHeads, headDim, newArchitecture };
}

export function buildFalcon(record: JsonRecord, scoredInit: InitScheme | undefined): Built {
  const vocab = readPositiveInteger(record, 'vocab_size', '');
  const { hidden, layerCount, heads, kvHeads, headDim, newArchitecture } = falconShape(record);
  const parallel = readOptionalBoolean(record, 'parallel_attn', '', true);
  const bias = readOptionalBoolean(record, 'bias', '', false);
  const width = readOptionalPositiveInteger(record, 'ffn_hidden_size', '', 4 * hidden);
  const parallelNorms = readOptionalPositiveInteger(record, 'num_ln_in_parallel_attn', '', newArchitecture ? 2 : 1);
  const norms = newArchitecture && parallelNorms === 2 ? 2 : parallel ? 1 : 2;
  const tied = readOptionalBoolean(record, 'tie_word_embeddings', '', true);
  const std = readOptionalFiniteNumber(record, 'initializer_range', '', 0.02);
  const tableInit = normalInit(std);
  const init = scoredInit ?? tableInit;
  const layers: LayerPlan[] = [];
  for (let i = 0; i < layerCount; i++) {
    layers.push({
      attention: attentionBlock(`layers.${i}.attention`, hidden, heads, kvHeads, headDim, init),
      ffn: plainMlp(`layers.${i}.ffn`, hidden, width, init),
      params: {
        attention: linearParams((heads + 2 * kvHeads) * headDim, hidden, bias) + linearParams(hidden, hidden, bias),
        ffn: linearParams(width, hidden, bias) + linearParams(hidden, width, bias),
        other: norms * layerNormParams(hidden) + (i === layerCount - 1 ? layerNormParams(hidden) : 0),
      },
      description: { heads, keyValueHeads: kvHeads, headDim, intermediate: width },
    });
  }
  const extras = [matrix('embeddings.word', vocab, hidden, tableInit)];
  let embeddingParams = vocab * hidden;
  if (!tied) {
    extras.push(matrix('lm_head', vocab, hidden, tableInit));
    embeddingParams += vocab * hidden;
  }
  return { hiddenSize: hidden, layers, extras, embeddingParams };
}
