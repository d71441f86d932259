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
  readOptionalBoolean,
  readOptionalFiniteNumber,
  readOptionalPositiveInteger,
  readPerLayer,
  readPositiveInteger,
  requireRecord,
  resolveBuildOptions,
  type FamilyBuildOptions,
  type JsonRecord,
} from './fields';
import { finishPlan, idOf, layerNormParams, linearParams, matrix, normalInit } from './plan';
import type { LayerPlan, MatrixSpec, ModelPlan } from './types';

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

function readCutoffs(record: JsonRecord, tokenCount: number): number[] {
  const value = record.cutoffs;
  const raw = value === undefined || value === null ? [...ARCHAI_DEFAULT_CUTOFFS, tokenCount] : value;
  if (!Array.isArray(raw)) throw fieldError('E_FORMAT', 'cutoffs', `must be a list of positive integers, got ${describeValue(raw)}`);
  const numbers = raw.map((entry, i) => checkPositiveInteger(entry, indexPath('cutoffs', i)));
  return cleanCutoffs(numbers, tokenCount, 'cutoffs');
}

function readTieProjections(record: JsonRecord, clusterCount: number, adaptive: boolean): boolean[] {
  const value = record.tie_projs;
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    // archai's default_tie_proj: the head cluster's projection is tied only when the softmax is not adaptive.
    return [!adaptive, ...new Array<boolean>(clusterCount - 1).fill(true)];
  }
  if (!Array.isArray(value)) throw fieldError('E_FORMAT', 'tie_projs', `must be a list of true/false, got ${describeValue(value)}`);
  if (value.length < clusterCount) {
    throw fieldError('E_FORMAT', 'tie_projs', `has ${value.length} entries but the softmax has ${clusterCount} clusters`);
  }
  return value.slice(0, clusterCount).map((entry, i) => {
    if (typeof entry !== 'boolean') throw fieldError('E_FORMAT', indexPath('tie_projs', i), `must be true or false, got ${describeValue(entry)}`);
    return entry;
  });
}

export function parseGpt2Flex(input: unknown): Gpt2FlexArchitecture {
  const record = requireRecord(input, '');
  const layerCount = readPositiveInteger(record, 'n_layer', '');
  const modelSize = readPositiveInteger(record, 'd_model', '');
  const heads = readPerLayer(record, 'n_head', '', layerCount);
  heads.forEach((h, i) => {
    if (modelSize % h !== 0) {
      const path = Array.isArray(record.n_head) ? indexPath('n_head', i) : 'n_head';
      throw fieldError('E_FORMAT', path, `${h} heads do not divide d_model ${modelSize}`);
    }
  });
  const innerSizes = readPerLayer(record, 'd_inner', '', layerCount);
  const tokenCount = readPositiveInteger(record, 'n_token', '');
  const embedSize = record.d_embed === -1 ? modelSize : readOptionalPositiveInteger(record, 'd_embed', '', modelSize);
  const divVal = readOptionalPositiveInteger(record, 'div_val', '', 1);
  const cutoffs = readCutoffs(record, tokenCount);
  if (divVal > 1) {
    const smallest = Math.floor(embedSize / divVal ** (cutoffs.length - 1));
    if (smallest < 1) {
      throw fieldError('E_FORMAT', 'div_val', `div_val ${divVal} shrinks d_embed ${embedSize} to zero over ${cutoffs.length} clusters`);
    }
  }
  const adaptive = readOptionalBoolean(record, 'adaptive', '', true);
  const architecture: Gpt2FlexArchitecture = {
    layerCount,
    modelSize,
    embedSize,
    heads,
    innerSizes,
    tokenCount,
    divVal,
    cutoffs,
    tieWeight: readOptionalBoolean(record, 'tie_weight', '', true),
    tieProjections: readTieProjections(record, cutoffs.length, adaptive),
    positions: readOptionalPositiveInteger(record, 'tgt_len', '', 192),
    weightInitStd: readOptionalFiniteNumber(record, 'weight_init_std', '', 0.02),
    projectionInitStd: readOptionalFiniteNumber(record, 'proj_init_std', '', 0.01),
  };
  const id = idOf(record.id);
  return id === undefined ? architecture : { id, ...architecture };
}

/** Embedding-side matrices and counts: the adaptive embedding, learned positions, and the softmax's own parameters. */
function embeddingSide(a: Gpt2FlexArchitecture): { extras: MatrixSpec[]; adaptiveEmbedding: number; softmax: number } {
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
  add('embedding', matrix('embeddings.position', a.positions, d, tableInit));
  const clusterCount = a.cutoffs.length - 1;
  if (clusterCount > 0) {
    add('softmax', matrix('softmax.cluster_weight', clusterCount, a.embedSize, tableInit));
    softmax += clusterCount; // cluster biases
  }
  return { extras, adaptiveEmbedding, softmax };
}

export function buildGpt2Flex(input: unknown, options?: FamilyBuildOptions): ModelPlan {
  const resolved = resolveBuildOptions(options, 'gpt2-flex', GPT2_FLEX_BUILDS, GPT2_FLEX_DEFAULT_BUILD);
  const a = parseGpt2Flex(input);
  const d = a.modelSize;
  const init = resolved.init ?? normalInit(a.weightInitStd);
  const residualInit = resolved.init ?? normalInit(a.weightInitStd / Math.sqrt(2 * a.layerCount));
  const layers: LayerPlan[] = [];
  for (let i = 0; i < a.layerCount; i++) {
    const heads = a.heads[i];
    const inner = a.innerSizes[i];
    const prefix = `layers.${i}`;
    const finalNorm = i === a.layerCount - 1 ? layerNormParams(d) : 0;
    layers.push({
      attention: [
        matrix(`${prefix}.attention.query`, d, d, init, heads, 'rows'),
        matrix(`${prefix}.attention.key`, d, d, init, heads, 'rows'),
        matrix(`${prefix}.attention.value`, d, d, init, heads, 'rows'),
        matrix(`${prefix}.attention.output`, d, d, residualInit, heads, 'cols'),
      ],
      ffn: [matrix(`${prefix}.ffn.up`, inner, d, init), matrix(`${prefix}.ffn.down`, d, inner, residualInit)],
      params: {
        attention: linearParams(3 * d, d, true) + linearParams(d, d, true),
        ffn: linearParams(inner, d, true) + linearParams(d, inner, true),
        other: 2 * layerNormParams(d) + finalNorm,
      },
      description: { heads, dInner: inner },
    });
  }
  const side = embeddingSide(a);
  const id = resolved.id ?? a.id;
  return finishPlan({
    ...(id === undefined ? {} : { id }),
    family: 'gpt2-flex',
    build: resolved.build,
    hiddenSize: d,
    layers,
    extras: side.extras,
    embeddingParams: side.adaptiveEmbedding + side.softmax,
  });
}
