/** Forward FLOPs of one sequence through the scored part of a plan (see src/arch/flops.ts for the formula). */
import { DEFAULT_SEQUENCE_LENGTH, defaultSequenceLength, layerForwardFlops } from '../arch/flops';
import type { ModelPlan } from '../arch/types';

export { DEFAULT_SEQUENCE_LENGTH };

export function forwardFlops(plan: ModelPlan, sequenceLength = defaultSequenceLength(plan.family)): number {
  let flops = 0;
  for (const layer of plan.layers) flops += layerForwardFlops(layer, sequenceLength);
  return flops;
}
