/**
 * Budgets of a search and what a candidate costs. Parameters and non-embedding parameters are exact integers (the
 * compiled tables' sums); FLOPs are the compiled tables' forward FLOPs of one sequence at the space's sequence
 * length (src/arch/flops.ts: 2 * T * rows * cols per matrix, plus 4 * T^2 * d for attention scores and values).
 */
import { ZeroLMError } from '../errors';
import { buildPlan } from '../arch';
import type { BuildName } from '../arch/types';
import type { CompiledSpace } from '../space';
import { applyChoice, composeArchitecture, type Choices } from '../space/definition';

export interface Budgets {
  maxParams?: number;
  maxNonEmbeddingParams?: number;
  maxFlops?: number;
  minParams?: number;
  /** KV-cache bytes of one sequence (see kvCacheBytes); needs SearchOptions.hardware. */
  maxKvBytes?: number;
  /** Roofline latency of one forward pass (see rooflineLatencyMs); needs hardware.peakTflops and bandwidthGBs. */
  maxLatencyMs?: number;
}

/** What KV bytes and latency are computed with. */
export interface Hardware {
  /** The sequence length the space was compiled with (its FLOPs are at it). */
  sequenceLength: number;
  bytesPerValue: number;
  peakTflops?: number;
  bandwidthGBs?: number;
}

const budgetNames = ['maxParams', 'maxNonEmbeddingParams', 'maxFlops', 'minParams', 'maxKvBytes', 'maxLatencyMs'] as const;

export function checkBudgets(budgets: Budgets): Budgets {
  for (const name of budgetNames) {
    const value = budgets[name];
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value))) {
      throw new ZeroLMError('E_ARGUMENT', `budget ${name} must be a non-negative finite number, got ${String(value)}`, { field: name });
    }
  }
  return budgets;
}

/**
 * The additive limits a latency budget means: latency <= L exactly when FLOPs <= L x peak and bytes moved (params x
 * bytes per value + KV bytes) <= L x bandwidth, so the max() of the roofline splits into two sums.
 */
export function effectiveLimits(budgets: Budgets, hardware: Hardware | undefined): { maxFlops?: number; maxKvBytes?: number; maxBytesMoved?: number } {
  let maxFlops = budgets.maxFlops;
  let maxBytesMoved: number | undefined;
  if (budgets.maxLatencyMs !== undefined) {
    if (hardware?.peakTflops === undefined || hardware.bandwidthGBs === undefined) throw new ZeroLMError('E_ARGUMENT', 'a latency budget needs peakTflops and bandwidthGBs (--peak-tflops, --bandwidth-gbs)', { field: 'maxLatencyMs' });
    // A hair generous, for rounding: these limits prune; the final check is the latency formula itself.
    const byCompute = (budgets.maxLatencyMs / 1000) * hardware.peakTflops * 1e12 * (1 + 1e-9);
    maxFlops = maxFlops === undefined ? byCompute : Math.min(maxFlops * (1 + 1e-9), byCompute);
    maxBytesMoved = (budgets.maxLatencyMs / 1000) * hardware.bandwidthGBs * 1e9 * (1 + 1e-9);
  }
  return { maxFlops, maxKvBytes: budgets.maxKvBytes, maxBytesMoved };
}

/** How far a candidate is outside its budgets, as a sum of relative excesses (0 when it meets them all). */
export function violation(budgets: Budgets, params: number, nonEmbeddingParams: number, flops: number, kvBytes = 0, hardware?: Hardware): number {
  let excess = 0;
  if (budgets.maxKvBytes !== undefined && kvBytes > budgets.maxKvBytes) excess += (kvBytes - budgets.maxKvBytes) / Math.max(1, budgets.maxKvBytes);
  if (budgets.maxLatencyMs !== undefined && hardware?.peakTflops !== undefined && hardware.bandwidthGBs !== undefined) {
    const latency = rooflineLatencyMs(flops, params * hardware.bytesPerValue + kvBytes, hardware.peakTflops, hardware.bandwidthGBs);
    if (latency > budgets.maxLatencyMs) excess += (latency - budgets.maxLatencyMs) / budgets.maxLatencyMs;
  }
  if (budgets.maxParams !== undefined && params > budgets.maxParams) excess += (params - budgets.maxParams) / Math.max(1, budgets.maxParams);
  if (budgets.maxNonEmbeddingParams !== undefined && nonEmbeddingParams > budgets.maxNonEmbeddingParams) {
    excess += (nonEmbeddingParams - budgets.maxNonEmbeddingParams) / Math.max(1, budgets.maxNonEmbeddingParams);
  }
  if (budgets.maxFlops !== undefined && flops > budgets.maxFlops) excess += (flops - budgets.maxFlops) / Math.max(1, budgets.maxFlops);
  if (budgets.minParams !== undefined && params < budgets.minParams) excess += (budgets.minParams - params) / Math.max(1, budgets.minParams);
  return excess;
}

/** Budget slack of a candidate: how much of each given budget is left (negative would mean infeasible). */
export function slackOf(budgets: Budgets, params: number, nonEmbeddingParams: number, flops: number, kvBytes = 0, hardware?: Hardware): Record<string, number> {
  const slack: Record<string, number> = {};
  if (budgets.maxKvBytes !== undefined) slack.maxKvBytes = budgets.maxKvBytes - kvBytes;
  if (budgets.maxLatencyMs !== undefined && hardware?.peakTflops !== undefined && hardware.bandwidthGBs !== undefined) {
    slack.maxLatencyMs = budgets.maxLatencyMs - rooflineLatencyMs(flops, params * hardware.bytesPerValue + kvBytes, hardware.peakTflops, hardware.bandwidthGBs);
  }
  if (budgets.maxParams !== undefined) slack.maxParams = budgets.maxParams - params;
  if (budgets.maxNonEmbeddingParams !== undefined) slack.maxNonEmbeddingParams = budgets.maxNonEmbeddingParams - nonEmbeddingParams;
  if (budgets.maxFlops !== undefined) slack.maxFlops = budgets.maxFlops - flops;
  if (budgets.minParams !== undefined) slack.minParams = params - budgets.minParams;
  return slack;
}

/** The smallest (and largest) params, non-embedding params and FLOPs any candidate of the space has, each alone. */
export function costExtremes(space: CompiledSpace): { minParams: number; maxParams: number; minNonEmbeddingParams: number; minFlops: number } {
  const { tables, depths } = space;
  const { kinds, embeddingCombinations } = tables;
  let minParams = Infinity;
  let maxParams = -Infinity;
  let minNonEmbeddingParams = Infinity;
  let minFlops = Infinity;
  for (let c = 0; c < tables.contexts; c++) {
    const n = depths[c % depths.length];
    let lowP = Infinity;
    let highP = -Infinity;
    let lowF = Infinity;
    for (let k = 0; k < kinds; k++) {
      const p = tables.params[c * kinds + k];
      if (Number.isNaN(tables.attention[c * kinds + k]) || Number.isNaN(p)) continue;
      lowP = Math.min(lowP, p);
      highP = Math.max(highP, p);
      lowF = Math.min(lowF, tables.flops[c * kinds + k]);
    }
    if (lowP === Infinity) continue;
    for (let e = 0; e < embeddingCombinations; e++) {
      const base = tables.base[c * embeddingCombinations + e];
      if (Number.isNaN(base)) continue;
      minParams = Math.min(minParams, base + n * lowP);
      maxParams = Math.max(maxParams, base + n * highP);
      minNonEmbeddingParams = Math.min(minNonEmbeddingParams, base - tables.embedding[c * embeddingCombinations + e] + n * lowP);
      minFlops = Math.min(minFlops, n * lowF);
    }
  }
  return { minParams, maxParams, minNonEmbeddingParams, minFlops };
}

/** Refuses a budget no candidate can meet, naming the smallest (or, for minParams, largest) feasible value. */
export function checkFeasible(space: CompiledSpace, budgets: Budgets): void {
  const extremes = costExtremes(space);
  const refuse = (name: string, value: number, bound: string, feasible: number): never => {
    throw new ZeroLMError('E_ARGUMENT', `no candidate of the space meets ${name} ${value}: the ${bound} feasible value is ${feasible}`, { field: `budget.${name}` });
  };
  if (budgets.maxParams !== undefined && budgets.maxParams < extremes.minParams) refuse('maxParams', budgets.maxParams, 'smallest', extremes.minParams);
  if (budgets.maxNonEmbeddingParams !== undefined && budgets.maxNonEmbeddingParams < extremes.minNonEmbeddingParams) {
    refuse('maxNonEmbeddingParams', budgets.maxNonEmbeddingParams, 'smallest', extremes.minNonEmbeddingParams);
  }
  if (budgets.maxFlops !== undefined && budgets.maxFlops < extremes.minFlops) refuse('maxFlops', budgets.maxFlops, 'smallest', extremes.minFlops);
  if (budgets.minParams !== undefined && budgets.minParams > extremes.maxParams) refuse('minParams', budgets.minParams, 'largest', extremes.maxParams);
}

/** The error when each budget alone can be met but not all of them together. */
export function jointlyInfeasible(space: CompiledSpace, budgets: Budgets): ZeroLMError {
  const extremes = costExtremes(space);
  return new ZeroLMError(
    'E_ARGUMENT',
    `no candidate of the space meets all the budgets together (${JSON.stringify(budgets)}); alone, the smallest feasible maxParams is ${extremes.minParams}, maxNonEmbeddingParams ${extremes.minNonEmbeddingParams}, maxFlops ${extremes.minFlops}`,
    { field: 'budget' },
  );
}

/**
 * KV-cache bytes of one sequence of T tokens: every attention layer keeps its keys and values, T x (key width +
 * value width) numbers, i.e. 2 * layers * kv_heads * head_dim * T * bytesPerValue for uniform layers (the widths
 * are the rows of each layer's key and value projections, so grouped-query attention counts its kv heads only).
 * Formula as in Pope et al. 2022, "Efficiently Scaling Transformer Inference", section 2.
 */
export function kvCacheBytes(plan: { layers: ReadonlyArray<{ attention: ReadonlyArray<{ name: string; rows: number }> }> }, sequenceLength: number, bytesPerValue: number): number {
  let width = 0;
  for (const layer of plan.layers) {
    for (const matrix of layer.attention) if (/\.(key|value)$/.test(matrix.name)) width += matrix.rows;
  }
  return width * sequenceLength * bytesPerValue;
}

/**
 * Analytic roofline latency (Williams, Waterman, Patterson 2009, "Roofline"): a forward pass takes at least its
 * FLOPs at peak compute and at least its bytes moved (weights once, plus the KV cache) at peak memory bandwidth;
 * the estimate is the larger, in milliseconds.
 */
export function rooflineLatencyMs(flops: number, bytesMoved: number, peakTflops: number, bandwidthGBs: number): number {
  return 1000 * Math.max(flops / (peakTflops * 1e12), bytesMoved / (bandwidthGBs * 1e9));
}

/**
 * Per (context, kind): the KV-cache bytes of one layer of that kind (0 for an encoder family, NaN where the
 * builder refuses the layer), from a one-layer model of the context's layer-shaping globals.
 */
export function kvTable(space: CompiledSpace, hardware: Hardware): Float64Array {
  const { tables, depths, definition } = space;
  const table = new Float64Array(tables.contexts * tables.kinds);
  if (definition.family === 'nas-bench-bert') return table;
  const layerFields = Object.keys(definition.globals ?? {});
  const sizes = layerFields.map((f) => (definition.globals as Choices)[f].length);
  const embedding: Record<string, unknown> = {};
  for (const [field, values] of Object.entries(definition.embeddingGlobals ?? {})) applyChoice(embedding, field, values[0]);
  const combinations = tables.contexts / depths.length;
  const kindLayers = Array.from({ length: tables.kinds }, (_, k) => {
    const layer: Record<string, unknown> = {};
    space.choicesOfKind(k).forEach((index, f) => applyChoice(layer, space.layerFields[f], definition.layerChoices[space.layerFields[f]][index]));
    return layer;
  });
  for (let g = 0; g < combinations; g++) {
    const globals: Record<string, unknown> = { ...embedding };
    let rest = g;
    for (let f = layerFields.length - 1; f >= 0; f--) {
      applyChoice(globals, layerFields[f], (definition.globals as Choices)[layerFields[f]][rest % sizes[f]]);
      rest = Math.floor(rest / sizes[f]);
    }
    for (let k = 0; k < tables.kinds; k++) {
      let bytes = NaN;
      try {
        bytes = kvCacheBytes(buildPlan(composeArchitecture(definition, globals, [kindLayers[k]]), { family: definition.family, build: definition.build as BuildName | undefined }), hardware.sequenceLength, hardware.bytesPerValue);
      } catch (cause) {
        if (!(cause instanceof ZeroLMError)) throw cause;
      }
      for (let d = 0; d < depths.length; d++) table[(g * depths.length + d) * tables.kinds + k] = bytes;
    }
  }
  return table;
}
