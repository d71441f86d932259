/**
 * t5: T5ForConditionalGeneration. The plan's layers are the encoder's num_layers, then the decoder's
 * num_decoder_layers (default num_layers); each layer's description says which stack it belongs to.
 *
 * - Attention: q, k, v (num_heads * d_kv x d_model) and o (d_model x num_heads * d_kv), no biases; a decoder layer
 *   also has cross-attention (the same four shapes, k and v reading the encoder's d_model output), counted and scored
 *   as attention. The relative attention bias (relative_attention_num_buckets x num_heads) of each stack's first layer
 *   is in that layer's `other`.
 * - FFN: wi (d_ff x d_model) and wo (d_model x d_ff); a "gated-*" feed_forward_proj (T5 v1.1, flan-t5) has wi_0 and
 *   wi_1. No biases.
 * - Norms: T5LayerNorm (weight only, d_model) before each sub-layer, and a final one per stack.
 * - Embeddings: the shared table (vocab x d_model), and an lm_head unless tie_word_embeddings (default true).
 * - Default init, as T5PreTrainedModel draws (factor = initializer_factor, default 1): q std factor/sqrt(d_model *
 *   d_kv), k and v factor/sqrt(d_model), o factor/sqrt(num_heads * d_kv), wi factor/sqrt(d_model), wo factor/sqrt(d_ff),
 *   embeddings factor.
 */
import { checkLayerCount, readOptionalBoolean, readOptionalFiniteNumber, readOptionalPositiveInteger, readPositiveInteger, type JsonRecord } from '../fields';
import { normalInit } from '../plan';
import type { InitScheme, LayerPlan } from '../types';
import { assembleLayer, LayerNaming, layerStyle, withWordTables, type Built } from './common';

export const T5_KEYS: ReadonlySet<string> = new Set([
  'vocab_size', 'd_model', 'd_kv', 'd_ff', 'num_layers', 'num_decoder_layers', 'num_heads', 'relative_attention_num_buckets',
  'feed_forward_proj', 'tie_word_embeddings', 'initializer_factor', 'is_encoder_decoder', 'relative_attention_max_distance',
]);

export function buildT5(record: JsonRecord, scoredInit: InitScheme | undefined): Built {
  const vocab = readPositiveInteger(record, 'vocab_size', '');
  const model = readPositiveInteger(record, 'd_model', '');
  const keyValueDim = readPositiveInteger(record, 'd_kv', '');
  const width = readPositiveInteger(record, 'd_ff', '');
  const encoderLayers = checkLayerCount(readPositiveInteger(record, 'num_layers', ''), 'num_layers');
  const decoderLayers = checkLayerCount(readOptionalPositiveInteger(record, 'num_decoder_layers', '', encoderLayers), 'num_decoder_layers');
  checkLayerCount(encoderLayers + decoderLayers, 'num_layers');
  const heads = readPositiveInteger(record, 'num_heads', '');
  const buckets = readOptionalPositiveInteger(record, 'relative_attention_num_buckets', '', 32);
  const projection = record.feed_forward_proj ?? 'relu';
  const gated = typeof projection === 'string' && projection.startsWith('gated-');
  const tied = readOptionalBoolean(record, 'tie_word_embeddings', '', true);
  const factor = readOptionalFiniteNumber(record, 'initializer_factor', '', 1);
  const pick = (std: number): InitScheme => scoredInit ?? normalInit(std);
  const queryInit = pick(factor / Math.sqrt(model * keyValueDim));
  const outputInit = pick(factor / Math.sqrt(heads * keyValueDim));
  const inInit = pick(factor / Math.sqrt(model)); // k, v and wi
  const outInit = pick(factor / Math.sqrt(width));
  const ffnParts = gated ? ['wi_0', 'wi_1', 'wo'] : ['wi', 'wo'];
  const stacks = [
    { stack: 'encoder', count: encoderLayers, naming: new LayerNaming('encoder.layers', ['attention'], ffnParts), norms: 2 },
    { stack: 'decoder', count: decoderLayers, naming: new LayerNaming('decoder.layers', ['attention', 'cross_attention'], ffnParts), norms: 3 },
  ];
  const layers: LayerPlan[] = [];
  for (const { stack, count, naming, norms } of stacks) {
    const style = layerStyle({ hidden: model, naming, init: inInit, queryInit, outputInit, ffnOutInit: outInit, qkvBias: false, outputBias: false, mlpBias: false });
    for (let i = 0; i < count; i++) {
      const other = norms * model + (i === count - 1 ? model : 0) + (i === 0 ? buckets * heads : 0);
      layers.push(assembleLayer(style, i, heads, heads, keyValueDim, width, other, { stack, heads, headDim: keyValueDim, intermediate: width }));
    }
  }
  return withWordTables(layers, model, vocab, tied, normalInit(factor));
}
