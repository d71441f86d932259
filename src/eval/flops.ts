/**
 * Forward FLOPs of one sequence through the scored part of a plan (the layers; embeddings and LM head excluded),
 * the usual 2 FLOPs per multiply-add: 2*L*(sum of layer matrix sizes) plus, for each layer with multi-head attention,
 * 4*L^2*d for the scores QK^T and their product with V (d = the attention width, the query projection's rows).
 */
import type { ModelPlan } from '../arch/types';

export const DEFAULT_SEQUENCE_LENGTH: Record<string, number> = {
  'nas-bench-bert': 128, // max_seq_length of the ELECTRA pretraining/GLUE runs
  'gpt2-flex': 192, // tgt_len of the LTS runs
  'transformer-xl': 192, // tgt_len of the LTS runs (the memory's keys are not counted)
};

export function forwardFlops(plan: ModelPlan, sequenceLength = DEFAULT_SEQUENCE_LENGTH[plan.family] ?? 512): number {
  let flops = 0;
  for (const layer of plan.layers) {
    for (const matrix of [...layer.attention, ...layer.ffn]) flops += 2 * sequenceLength * matrix.rows * matrix.cols;
    const query = layer.attention.find((m) => m.heads !== undefined && (m.headAxis ?? 'rows') === 'rows');
    if (query) flops += 4 * sequenceLength * sequenceLength * query.rows;
  }
  return flops;
}
