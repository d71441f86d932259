/**
 * Forward FLOPs of one sequence through a plan's layers (embeddings and LM head excluded), the usual 2 FLOPs per
 * multiply-add: 2*L*(sum of the layer's matrix sizes) plus, for a layer with multi-head attention, 4*L^2*d for the
 * scores QK^T and their product with V (d = the attention width, the query projection's rows).
 */
import type { LayerPlan } from './types';

export const DEFAULT_SEQUENCE_LENGTH: Readonly<Record<string, number>> = Object.freeze({
  'nas-bench-bert': 128, // max_seq_length of the ELECTRA pretraining/GLUE runs
  'gpt2-flex': 192, // tgt_len of the LTS runs
  'transformer-xl': 192, // tgt_len of the LTS runs (the memory's keys are not counted)
});

/** The sequence length FLOPs are counted at when none is given: the family's own, else 512. */
export function defaultSequenceLength(family: string): number {
  return DEFAULT_SEQUENCE_LENGTH[family] ?? 512;
}

export function layerForwardFlops(layer: LayerPlan, sequenceLength: number): number {
  let flops = 0;
  for (const matrix of layer.attention) flops += 2 * sequenceLength * matrix.rows * matrix.cols;
  for (const matrix of layer.ffn) flops += 2 * sequenceLength * matrix.rows * matrix.cols;
  const query = layer.attention.find((m) => m.heads !== undefined && (m.headAxis ?? 'rows') === 'rows');
  if (query) flops += 4 * sequenceLength * sequenceLength * query.rows;
  return flops;
}
