/**
 * Columnar scoring of the FlexiBERT (nas-bench-bert) space: typed arrays in, typed arrays out, no object per
 * candidate. (The general form, for every space, is src/space/compiled.ts; this one keeps its column layout.) Layers of this space are independent given the hidden size, so each distinct layer (hidden size,
 * operation, heads, FFN width and depth: 96 kinds) is scored once through the ordinary path (the same builder, the
 * same cache) and a candidate's score is a sum of table entries, in the same order as the object path sums them,
 * so the two agree bit for bit.
 */
import { buildPlan } from '../arch';
import type { ModelPlan } from '../arch/types';
import { ZeroLMError, callerError } from '../errors';
import { FLEXIBERT_SPACE } from './ranges';
import { seededRandom } from '../stats/random';
import { componentsOfPlans, resolveScoreOptions, type ScoreOptions } from '../proxy/score';
import { combine, type CombinationRule } from '../proxy/alpha';

/** Operation choices in column order: index = 2*type + parameter. */
export const FLEXIBERT_OPERATIONS: ReadonlyArray<readonly [string, string | number]> = Object.entries(FLEXIBERT_SPACE.operations).flatMap(([type, parameters]) =>
  parameters.map((parameter) => [type, parameter] as const),
);

export interface FlexibertColumns {
  count: number;
  /** Layer slots per candidate in the per-layer columns (candidate i, layer j at i*maxLayers + j). */
  maxLayers: number;
  /** Index into FLEXIBERT_SPACE.hiddenSize, per candidate. */
  hidden: Uint8Array;
  /** Layers actually used, per candidate (1..maxLayers). */
  layers: Uint8Array;
  /** Per slot: index into FLEXIBERT_OPERATIONS. */
  operation: Uint8Array;
  /** Per slot: index into FLEXIBERT_SPACE.heads. */
  heads: Uint8Array;
  /** Per slot: index into FLEXIBERT_SPACE.feedForwardDimension. */
  feedForwardDimension: Uint8Array;
  /** Per slot: index into FLEXIBERT_SPACE.feedForwardCount. */
  feedForwardCount: Uint8Array;
}

export interface ColumnarScores {
  score: Float64Array;
  attention: Float64Array;
  ffn: Float64Array;
  params: Float64Array;
}

const sizes = {
  hidden: FLEXIBERT_SPACE.hiddenSize.length,
  operation: FLEXIBERT_OPERATIONS.length,
  heads: FLEXIBERT_SPACE.heads.length,
  feedForwardDimension: FLEXIBERT_SPACE.feedForwardDimension.length,
  feedForwardCount: FLEXIBERT_SPACE.feedForwardCount.length,
};
const LAYER_KINDS = sizes.hidden * sizes.operation * sizes.heads * sizes.feedForwardDimension * sizes.feedForwardCount;

function layerKind(hidden: number, operation: number, heads: number, width: number, depth: number): number {
  return (((hidden * sizes.operation + operation) * sizes.heads + heads) * sizes.feedForwardDimension + width) * sizes.feedForwardCount + depth;
}

function layerObject(operation: number, heads: number, width: number, depth: number): Record<string, unknown> {
  const [type, parameter] = FLEXIBERT_OPERATIONS[operation];
  return {
    operation_type: type,
    operation_parameter: parameter,
    num_operation_heads: FLEXIBERT_SPACE.heads[heads],
    feed_forward_dimension: FLEXIBERT_SPACE.feedForwardDimension[width],
    num_feed_forward: FLEXIBERT_SPACE.feedForwardCount[depth],
  };
}

export interface FlexibertScorer {
  readonly alpha: number;
  readonly rule: CombinationRule;
  score(columns: FlexibertColumns, out?: ColumnarScores): ColumnarScores;
}

/** Build the layer table once (exact or analytic, through the cache), then score columns synchronously. */
export async function createFlexibertScorer(options: ScoreOptions = {}): Promise<FlexibertScorer> {
  if (typeof options !== 'object' || options === null) resolveScoreOptions(options); // refuses it, as E_ARGUMENT
  const resolved = resolveScoreOptions({ ...options, family: 'nas-bench-bert' });
  if (resolved.seedPolicy === 'position') {
    // Each layer kind is built once, at index 0; under 'position' a layer's draws depend on its index.
    throw new ZeroLMError('E_UNSUPPORTED', "createFlexibertScorer needs seedPolicy 'shape': under 'position' a layer kind's capacities differ by position; score such candidates with score()/scoreMany", { field: 'seedPolicy' });
  }
  const plans: ModelPlan[] = [];
  const kinds: number[] = [];
  for (let h = 0; h < sizes.hidden; h++)
    for (let o = 0; o < sizes.operation; o++)
      for (let a = 0; a < sizes.heads; a++)
        for (let w = 0; w < sizes.feedForwardDimension; w++)
          for (let d = 0; d < sizes.feedForwardCount; d++) {
            kinds.push(layerKind(h, o, a, w, d));
            plans.push(buildPlan({ hidden_size: FLEXIBERT_SPACE.hiddenSize[h], nas_config: { encoder_layers: [layerObject(o, a, w, d)] } }, { family: 'nas-bench-bert', build: options.build }));
          }
  const components = await componentsOfPlans(plans, resolved);
  const attention = new Float64Array(LAYER_KINDS);
  const ffn = new Float64Array(LAYER_KINDS);
  const layerParams = new Float64Array(LAYER_KINDS);
  const baseParams = new Float64Array(sizes.hidden);
  kinds.forEach((kind, i) => {
    attention[kind] = components[i].layers[0].attention;
    ffn[kind] = components[i].layers[0].ffn;
    const layer = plans[i].layers[0].params;
    layerParams[kind] = layer.attention + layer.ffn + layer.other;
    // Everything outside the layers (embeddings, projections) depends on the hidden size only.
    baseParams[Math.floor(kind / (LAYER_KINDS / sizes.hidden))] = plans[i].params.total - layerParams[kind];
  });
  const { alpha, rule } = resolved;
  return {
    alpha,
    rule,
    score(columns: FlexibertColumns, out?: ColumnarScores): ColumnarScores {
      try {
        return scoreColumns(columns, out);
      } catch (cause) {
        throw callerError(cause, [{ value: columns, code: 'E_ARGUMENT', what: 'columns' }, { value: out, code: 'E_ARGUMENT', what: 'out' }]);
      }
    },
  };

  function scoreColumns(columns: FlexibertColumns, out?: ColumnarScores): ColumnarScores {
    validateColumns(columns);
    if (out !== undefined && (typeof out !== 'object' || out === null)) throw new ZeroLMError('E_ARGUMENT', `out must be an object of four Float64Arrays, got ${out === null ? 'null' : typeof out}`, { field: 'out' });
    const { count, maxLayers } = columns;
    const result = out ?? { score: new Float64Array(count), attention: new Float64Array(count), ffn: new Float64Array(count), params: new Float64Array(count) };
    for (const field of ['score', 'attention', 'ffn', 'params'] as const) {
      if (!(result[field] instanceof Float64Array) || result[field].length < count) {
        throw new ZeroLMError('E_ARGUMENT', `output arrays must hold at least ${count} values (out.${field} must be a Float64Array)`, { field: 'out' });
      }
    }
    const { hidden, layers, operation, heads, feedForwardDimension, feedForwardCount } = columns;
    for (let i = 0; i < count; i++) {
      const h = hidden[i];
      let a = 0;
      let f = 0;
      let p = baseParams[h];
      const base = i * maxLayers;
      for (let j = 0; j < layers[i]; j++) {
        const s = base + j;
        const kind = layerKind(h, operation[s], heads[s], feedForwardDimension[s], feedForwardCount[s]);
        a += attention[kind];
        f += ffn[kind];
        p += layerParams[kind];
      }
      result.attention[i] = a;
      result.ffn[i] = f;
      result.params[i] = p;
      const score = combine(a, f, alpha, rule);
      if (!Number.isFinite(score)) throw new ZeroLMError('E_NON_FINITE', `candidate ${i}: the score is ${score} (${rule}, alpha ${alpha}); choose a smaller alpha or another rule`, { field: 'score', index: i });
      result.score[i] = score;
    }
    return result;
  }
}

function validateColumns(columns: FlexibertColumns): void {
  if (typeof columns !== 'object' || columns === null) throw new ZeroLMError('E_ARGUMENT', `columns must be an object of typed arrays, got ${columns === null ? 'null' : typeof columns}`, { field: 'columns' });
  const { count, maxLayers } = columns;
  if (!Number.isInteger(count) || count < 0) throw new ZeroLMError('E_ARGUMENT', `count must be a non-negative integer, got ${String(count)}`, { field: 'count' });
  if (!Number.isInteger(maxLayers) || maxLayers < 1) throw new ZeroLMError('E_ARGUMENT', `maxLayers must be a positive integer, got ${String(maxLayers)}`, { field: 'maxLayers' });
  const perCandidate = { hidden: sizes.hidden, layers: maxLayers + 1 } as const;
  for (const [field, limit] of Object.entries(perCandidate)) {
    const column = columns[field as keyof typeof perCandidate];
    if (!(column instanceof Uint8Array) || column.length < count) throw new ZeroLMError('E_ARGUMENT', `${field} must be a Uint8Array of at least ${count} values`, { field });
    for (let i = 0; i < count; i++) {
      if (column[i] >= limit || (field === 'layers' && column[i] === 0)) throw new ZeroLMError('E_ARGUMENT', `${field}[${i}] = ${column[i]} is out of range`, { field, index: i });
    }
  }
  const perSlot = { operation: sizes.operation, heads: sizes.heads, feedForwardDimension: sizes.feedForwardDimension, feedForwardCount: sizes.feedForwardCount } as const;
  for (const [field, limit] of Object.entries(perSlot)) {
    const column = columns[field as keyof typeof perSlot];
    if (!(column instanceof Uint8Array) || column.length < count * maxLayers) throw new ZeroLMError('E_ARGUMENT', `${field} must be a Uint8Array of at least count*maxLayers = ${count * maxLayers} values`, { field });
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < columns.layers[i]; j++) {
        const s = i * maxLayers + j;
        if (column[s] >= limit) throw new ZeroLMError('E_ARGUMENT', `${field}[${s}] = ${column[s]} is out of range (candidate ${i}, layer ${j})`, { field, index: s });
      }
    }
  }
}

/** Random FlexiBERT candidates as columns (for benchmarks and tests). */
export function randomFlexibertColumns(count: number, seed = 0): FlexibertColumns {
  const random = seededRandom(seed);
  const maxLayers = Math.max(...FLEXIBERT_SPACE.layerCount);
  const pick = (n: number): number => Math.floor(random() * n);
  const columns: FlexibertColumns = {
    count,
    maxLayers,
    hidden: new Uint8Array(count),
    layers: new Uint8Array(count),
    operation: new Uint8Array(count * maxLayers),
    heads: new Uint8Array(count * maxLayers),
    feedForwardDimension: new Uint8Array(count * maxLayers),
    feedForwardCount: new Uint8Array(count * maxLayers),
  };
  for (let i = 0; i < count; i++) {
    columns.hidden[i] = pick(sizes.hidden);
    columns.layers[i] = FLEXIBERT_SPACE.layerCount[pick(FLEXIBERT_SPACE.layerCount.length)];
    for (let j = 0; j < maxLayers; j++) {
      const s = i * maxLayers + j;
      columns.operation[s] = pick(sizes.operation);
      columns.heads[s] = pick(sizes.heads);
      columns.feedForwardDimension[s] = pick(sizes.feedForwardDimension);
      columns.feedForwardCount[s] = pick(sizes.feedForwardCount);
    }
  }
  return columns;
}

/** Candidate i of the columns as the object a builder takes (for checking the two paths against each other). */
export function flexibertObjectAt(columns: FlexibertColumns, i: number): Record<string, unknown> {
  const layers = [];
  for (let j = 0; j < columns.layers[i]; j++) {
    const s = i * columns.maxLayers + j;
    layers.push(layerObject(columns.operation[s], columns.heads[s], columns.feedForwardDimension[s], columns.feedForwardCount[s]));
  }
  return { hidden_size: FLEXIBERT_SPACE.hiddenSize[columns.hidden[i]], nas_config: { encoder_layers: layers } };
}
