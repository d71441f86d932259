/**
 * gpt2-flex: the heterogeneous GPT-2 decoders of LiteTransformerSearch (Javaheripi et al., NeurIPS 2022), as built
 * by archai's HfGPT2Flex (branch neurips-lts): per-layer n_head and d_inner, adaptive input embedding tied to a
 * projected adaptive log-softmax.
 *
 * Input: an LTS model_config.yaml object: n_layer, d_model, n_head and d_inner (a scalar or one entry per layer),
 * n_token, and optionally d_embed (absent or -1: d_model), div_val (1), cutoffs ([19997, 39997, 199997, n_token]),
 * tie_weight (true), tie_projs, adaptive (true), tgt_len (192, the number of learned positions),
 * weight_init_std (0.02), proj_init_std (0.01).
 *
 * Block i: LayerNorm, c_attn d -> 3d (scored as query, key, value, each d x d with n_head[i] heads), c_proj d -> d
 * (scored as `output`, heads along its columns), LayerNorm, c_fc d -> d_inner[i] (`ffn.up`), c_proj
 * d_inner[i] -> d (`ffn.down`); every projection has a bias. The final LayerNorm is counted in the last layer's
 * `other`.
 *
 * Counting follows archai exactly (params_summary.yaml): Attn = c_attn + c_proj with biases; FFN = c_fc + c_proj
 * with biases; nonembedding = Attn + FFN + LayerNorms; AdaEmb = adaptive embedding tables and their projections
 * plus the learned positions (tgt_len x d_model); total = every distinct parameter, which adds the softmax's
 * biases (n_token), cluster weights and biases, and any projection or output weight that is not tied.
 * ModelPlan.params.embedding is therefore AdaEmb plus those softmax parameters.
 *
 * Default init (archai's GPT2PreTrainedModel._init_weights): normal with std weight_init_std; every c_proj weight
 * (attention output and ffn.down) is re-drawn with std weight_init_std / sqrt(2 * n_layer), GPT-2's residual scaling.
 */
import {
  checkPositiveInteger,
  describeValue,
  fieldError,
  indexPath,
  isDimension,
  isRecord,
  readOptionalBoolean,
  readOptionalFiniteNumber,
  readOptionalPositiveInteger,
  readPerLayer,
  readPositiveInteger,
  checkLayerCount,
  requireRecord,
  resolveBuildOptions,
  type FamilyBuildOptions,
  type JsonRecord,
} from './fields';
import { deepFreeze, type BuildMemo } from './memo';
import { assemblePlan, idOf, layerNormParams, linearParams, matrix, normalInit } from './plan';
import type { InitScheme, LayerPlan, MatrixSpec, ModelPlan } from './types';

export const GPT2_FLEX_BUILDS = ['default'] as const;
export const GPT2_FLEX_DEFAULT_BUILD = 'default';

/** archai's default cutoffs; entries past n_token are trimmed and n_token appended. */
export const ARCHAI_DEFAULT_CUTOFFS = [19997, 39997, 199997];

export interface Gpt2FlexArchitecture {
  id?: string;
  layerCount: number;
  modelSize: number;
  embedSize: number;
  heads: number[];
  innerSizes: number[];
  tokenCount: number;
  divVal: number;
  /** Cluster ends after archai's cleaning: strictly increasing, last = n_token. */
  cutoffs: number[];
  tieWeight: boolean;
  /** One flag per cluster. */
  tieProjections: boolean[];
  positions: number;
  weightInitStd: number;
  projectionInitStd: number;
}

/**
 * archai's clean_cutoffs: entries must increase up to the first one beyond n_token, the list is cut there, and
 * n_token closes it.
 */
export function cleanCutoffs(cutoffs: number[], tokenCount: number, path: string): number[] {
  if (cutoffs.length === 0) return [tokenCount];
  let end = 1;
  while (end < cutoffs.length) {
    if (cutoffs[end] <= cutoffs[end - 1]) {
      throw fieldError('E_FORMAT', indexPath(path, end), `cutoffs must increase, but ${cutoffs[end]} follows ${cutoffs[end - 1]}`);
    }
    if (cutoffs[end] > tokenCount) break;
    end += 1;
  }
  const cleaned = cutoffs.slice(0, end);
  if (cleaned[cleaned.length - 1] > tokenCount) cleaned[cleaned.length - 1] = tokenCount;
  if (cleaned[cleaned.length - 1] < tokenCount) cleaned.push(tokenCount);
  return cleaned;
}

export function readCutoffs(record: JsonRecord, tokenCount: number): number[] {
  const value = record.cutoffs;
  if (value === undefined || value === null) return cleanCutoffs([...ARCHAI_DEFAULT_CUTOFFS, tokenCount], tokenCount, 'cutoffs');
  if (Array.isArray(value) && value.every(isDimension)) return cleanCutoffs(value as number[], tokenCount, 'cutoffs');
  // Slow path, only for a wrong value: the readers name the entry.
  if (!Array.isArray(value)) throw fieldError('E_FORMAT', 'cutoffs', `must be a list of positive integers, got ${describeValue(value)}`);
  const numbers = value.map((entry, i) => checkPositiveInteger(entry, indexPath('cutoffs', i)));
  return cleanCutoffs(numbers, tokenCount, 'cutoffs');
}

function isBoolean(value: unknown): value is boolean {
  return value === true || value === false;
}

export function readTieProjections(record: JsonRecord, clusterCount: number, adaptive: boolean): boolean[] {
  const value = record.tie_projs;
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    // archai's default_tie_proj: the head cluster's projection is tied only when the softmax is not adaptive.
    const ties = new Array<boolean>(clusterCount).fill(true);
    ties[0] = !adaptive;
    return ties;
  }
  if (!Array.isArray(value)) throw fieldError('E_FORMAT', 'tie_projs', `must be a list of true/false, got ${describeValue(value)}`);
  if (value.length < clusterCount) {
    throw fieldError('E_FORMAT', 'tie_projs', `has ${value.length} entries but the softmax has ${clusterCount} clusters`);
  }
  const ties = value.slice(0, clusterCount);
  if (ties.every(isBoolean)) return ties as boolean[];
  return ties.map((entry, i) => {
    if (typeof entry !== 'boolean') throw fieldError('E_FORMAT', indexPath('tie_projs', i), `must be true or false, got ${describeValue(entry)}`);
    return entry;
  });
}

/** A required per-layer size as a list of one entry per layer; the reporting reader runs only for a wrong value. */
export function perLayer(record: JsonRecord, key: string, layerCount: number): number[] {
  const value = record[key];
  if (Array.isArray(value)) {
    if (value.length === layerCount && value.every(isDimension)) return value.slice() as number[];
  } else if (isDimension(value)) {
    return new Array<number>(layerCount).fill(value);
  }
  return readPerLayer(record, key, '', layerCount);
}

export function dimension(record: JsonRecord, key: string): number {
  const value = record[key];
  return isDimension(value) ? value : readPositiveInteger(record, key, '');
}

export function optionalDimension(record: JsonRecord, key: string, fallback: number): number {
  const value = record[key];
  if (value === undefined || value === null) return fallback;
  return isDimension(value) ? value : readOptionalPositiveInteger(record, key, '', fallback);
}

export function optionalBoolean(record: JsonRecord, key: string, fallback: boolean): boolean {
  const value = record[key];
  if (value === undefined || value === null) return fallback;
  return isBoolean(value) ? value : readOptionalBoolean(record, key, '', fallback);
}

export function optionalPositive(record: JsonRecord, key: string, fallback: number): number {
  const value = record[key];
  if (value === undefined || value === null) return fallback;
  return typeof value === 'number' && value > 0 && value < Infinity ? value : readOptionalFiniteNumber(record, key, '', fallback);
}

export function parseGpt2Flex(input: unknown): Gpt2FlexArchitecture {
  const record = isRecord(input) ? input : requireRecord(input, '');
  const layerCount = checkLayerCount(dimension(record, 'n_layer'), 'n_layer');
  const modelSize = dimension(record, 'd_model');
  const heads = perLayer(record, 'n_head', layerCount);
  for (let i = 0; i < layerCount; i++) {
    // (An entry is undefined only in a sparse list given through the API; like forEach, skip it.)
    if (heads[i] !== undefined && modelSize % heads[i] !== 0) {
      const path = Array.isArray(record.n_head) ? indexPath('n_head', i) : 'n_head';
      throw fieldError('E_FORMAT', path, `${heads[i]} heads do not divide d_model ${modelSize}`);
    }
  }
  const innerSizes = perLayer(record, 'd_inner', layerCount);
  const tokenCount = dimension(record, 'n_token');
  const embedSize = record.d_embed === -1 ? modelSize : optionalDimension(record, 'd_embed', modelSize);
  const divVal = optionalDimension(record, 'div_val', 1);
  const cutoffs = readCutoffs(record, tokenCount);
  if (divVal > 1) {
    const smallest = Math.floor(embedSize / divVal ** (cutoffs.length - 1));
    if (smallest < 1) {
      throw fieldError('E_FORMAT', 'div_val', `div_val ${divVal} shrinks d_embed ${embedSize} to zero over ${cutoffs.length} clusters`);
    }
  }
  const adaptive = optionalBoolean(record, 'adaptive', true);
  const tieWeight = optionalBoolean(record, 'tie_weight', true);
  const tieProjections = readTieProjections(record, cutoffs.length, adaptive);
  const positions = optionalDimension(record, 'tgt_len', 192);
  const weightInitStd = optionalPositive(record, 'weight_init_std', 0.02);
  const projectionInitStd = optionalPositive(record, 'proj_init_std', 0.01);
  const id = idOf(record.id);
  // Literals rather than a spread; the id comes first when there is one, as it always has.
  return id === undefined
    ? { layerCount, modelSize, embedSize, heads, innerSizes, tokenCount, divVal, cutoffs, tieWeight, tieProjections, positions, weightInitStd, projectionInitStd }
    : { id, layerCount, modelSize, embedSize, heads, innerSizes, tokenCount, divVal, cutoffs, tieWeight, tieProjections, positions, weightInitStd, projectionInitStd };
}

/** What the adaptive embedding and softmax depend on; `positions` 0 means no learned position table (Transformer-XL). */
export type AdaptiveEmbeddingFields = Pick<
  Gpt2FlexArchitecture,
  'modelSize' | 'embedSize' | 'tokenCount' | 'divVal' | 'cutoffs' | 'tieWeight' | 'tieProjections' | 'positions' | 'weightInitStd' | 'projectionInitStd'
>;

/** Embedding-side matrices and counts: the adaptive embedding, learned positions, and the softmax's own parameters. */
export function embeddingSide(a: AdaptiveEmbeddingFields): { extras: MatrixSpec[]; adaptiveEmbedding: number; softmax: number } {
  const d = a.modelSize;
  const tableInit = normalInit(a.weightInitStd);
  const projectionInit = normalInit(a.projectionInitStd);
  const extras: MatrixSpec[] = [];
  let adaptiveEmbedding = 0;
  let softmax = a.tokenCount; // output biases, one per token
  const add = (list: 'embedding' | 'softmax', spec: MatrixSpec): void => {
    extras.push(spec);
    if (list === 'embedding') adaptiveEmbedding += spec.rows * spec.cols;
    else softmax += spec.rows * spec.cols;
  };
  const ends = [0, ...a.cutoffs];
  if (a.divVal === 1) {
    add('embedding', matrix('embeddings.word', a.tokenCount, a.embedSize, tableInit));
    if (d !== a.embedSize) {
      add('embedding', matrix('embeddings.projection', d, a.embedSize, projectionInit));
      a.tieProjections.forEach((tied, i) => {
        if (!tied) add('softmax', matrix(`softmax.projection.${i}`, d, a.embedSize, projectionInit));
      });
    }
    if (!a.tieWeight) add('softmax', matrix('softmax.weight', a.tokenCount, a.embedSize, tableInit));
  } else {
    for (let i = 0; i < a.cutoffs.length; i++) {
      const width = Math.floor(a.embedSize / a.divVal ** i);
      const size = ends[i + 1] - ends[i];
      add('embedding', matrix(`embeddings.cluster.${i}`, size, width, tableInit));
      add('embedding', matrix(`embeddings.projection.${i}`, d, width, projectionInit));
      if (!a.tieProjections[i]) add('softmax', matrix(`softmax.projection.${i}`, d, width, projectionInit));
      if (!a.tieWeight) add('softmax', matrix(`softmax.weight.${i}`, size, width, tableInit));
    }
  }
  if (a.positions > 0) add('embedding', matrix('embeddings.position', a.positions, d, tableInit));
  const clusterCount = a.cutoffs.length - 1;
  if (clusterCount > 0) {
    add('softmax', matrix('softmax.cluster_weight', clusterCount, a.embedSize, tableInit));
    softmax += clusterCount; // cluster biases
  }
  return { extras, adaptiveEmbedding, softmax };
}

/**
 * A memo context: one (init, d_model, n_layer); n_layer sets the residual init of c_proj and which layer holds the
 * final LayerNorm. Within it a layer depends on its index, heads and d_inner. The attention block of (index, heads)
 * is memoised when first built (nearly every plan reuses it); whole layers are not, since with d_inner drawn per layer
 * most never repeat.
 */
interface Gpt2Context {
  id: number;
  init: InitScheme;
  residualInit: InitScheme;
}

/** The kind of memo entry, the last field of its key. */
const ATTENTION_ENTRY = 1;

function newContext(id: number, a: Gpt2FlexArchitecture, init: InitScheme | undefined): Gpt2Context {
  const frozen = init === undefined ? undefined : deepFreeze(init);
  return {
    id,
    init: frozen ?? Object.freeze(normalInit(a.weightInitStd)),
    residualInit: frozen ?? Object.freeze(normalInit(a.weightInitStd / Math.sqrt(2 * a.layerCount))),
  };
}

function contextFor(memo: BuildMemo, a: Gpt2FlexArchitecture, init: InitScheme | undefined): Gpt2Context {
  // Contexts by init (weight_init_std for the default init, the JSON of a caller-given one), then d_model and n_layer.
  const contexts = memo.contexts<Map<number, Gpt2Context>>('gpt2-flex');
  const initKey = init === undefined ? a.weightInitStd : JSON.stringify(init);
  let byShape = contexts.get(initKey);
  if (byShape === undefined) {
    byShape = new Map();
    contexts.set(initKey, byShape);
  }
  // d_model and n_layer are at most 2^20 each: one exact number.
  const shapeKey = a.modelSize * 2 ** 21 + a.layerCount;
  let context = byShape.get(shapeKey);
  if (context === undefined) {
    context = newContext(memo.newContextId(), a, init);
    byShape.set(shapeKey, context);
  }
  return context;
}

function attentionMatrices(context: Gpt2Context, index: number, d: number, heads: number): MatrixSpec[] {
  const prefix = `layers.${index}.attention`;
  return [
    matrix(`${prefix}.query`, d, d, context.init, heads, 'rows'),
    matrix(`${prefix}.key`, d, d, context.init, heads, 'rows'),
    matrix(`${prefix}.value`, d, d, context.init, heads, 'rows'),
    matrix(`${prefix}.output`, d, d, context.residualInit, heads, 'cols'),
  ];
}

function attentionBlock(memo: BuildMemo | undefined, context: Gpt2Context, index: number, d: number, heads: number): MatrixSpec[] {
  if (memo === undefined) return attentionMatrices(context, index, d, heads);
  const slot = memo.findSlot(context.id, index, heads, 0, 0, ATTENTION_ENTRY);
  const block = memo.memoised<MatrixSpec[]>(slot);
  if (block !== undefined) return block;
  return memo.memoise(slot, context.id, index, heads, 0, 0, ATTENTION_ENTRY, attentionMatrices(context, index, d, heads));
}

/** ffn.up / ffn.down names of the first layers, made once. */
const ffnNames: Array<[string, string]> = [];
function ffnNamesOf(index: number): [string, string] {
  let names = ffnNames[index];
  if (names === undefined) {
    names = [`layers.${index}.ffn.up`, `layers.${index}.ffn.down`];
    if (index < 4096) ffnNames[index] = names;
  }
  return names;
}

function buildLayer(memo: BuildMemo | undefined, context: Gpt2Context, index: number, a: Gpt2FlexArchitecture, heads: number, inner: number): LayerPlan {
  const d = a.modelSize;
  const names = ffnNamesOf(index);
  const finalNorm = index === a.layerCount - 1 ? layerNormParams(d) : 0;
  return {
    attention: attentionBlock(memo, context, index, d, heads),
    ffn: [
      { name: names[0], rows: inner, cols: d, init: context.init },
      { name: names[1], rows: d, cols: inner, init: context.residualInit },
    ],
    params: {
      attention: linearParams(3 * d, d, true) + linearParams(d, d, true),
      ffn: linearParams(inner, d, true) + linearParams(d, inner, true),
      other: 2 * layerNormParams(d) + finalNorm,
    },
    description: { heads, dInner: inner },
  };
}

export function buildGpt2Flex(input: unknown, options?: FamilyBuildOptions): ModelPlan {
  const resolved = resolveBuildOptions(options, 'gpt2-flex', GPT2_FLEX_BUILDS, GPT2_FLEX_DEFAULT_BUILD);
  const a = parseGpt2Flex(input);
  const layerCount = a.layerCount;
  // Without the caller's memo nothing is memoised: the plan shares nothing with any other.
  const memo = resolved.memo;
  memo?.reserve(layerCount); // an attention block each
  const context = memo === undefined ? newContext(0, a, resolved.init) : contextFor(memo, a, resolved.init);
  const layers = new Array<LayerPlan>(layerCount);
  // Each layer is the plan's own (its attention block shared through the memo): with d_inner drawn per layer most
  // layers never repeat, and the scorer's shape memo needs no shared object to find their capacities.
  for (let i = 0; i < layerCount; i++) layers[i] = buildLayer(memo, context, i, a, a.heads[i], a.innerSizes[i]);
  const side = embeddingSide(a);
  return assemblePlan(resolved.id ?? a.id, 'gpt2-flex', resolved.build, a.modelSize, layers, side.extras, side.adaptiveEmbedding + side.softmax);
}
