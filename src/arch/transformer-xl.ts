/**
 * transformer-xl: the Transformer-XL decoders of LiteTransformerSearch (Javaheripi et al., NeurIPS 2022), as built by
 * archai's MemTransformerLM (NVIDIA's mem_transformer, branch neurips-lts) with attn_type 0: relative positional
 * attention over a segment memory, per-layer n_head and d_inner, adaptive input embedding tied to a projected
 * adaptive log-softmax.
 *
 * Input: an LTS model_config.yaml object, the same fields as gpt2-flex (n_layer, d_model, n_head and d_inner as a
 * scalar or one entry per layer, n_token, d_embed, div_val, cutoffs, tie_weight, tie_projs, adaptive,
 * weight_init_std, proj_init_std), plus d_head (absent or negative: d_model // n_head[i], per layer as archai
 * derives it; else a scalar or one entry per layer). attn_type must be 0 (or absent); sampled softmax and Primer-EZ's
 * convolution, which add parameters this builder does not model, are refused.
 *
 * Layer i, with h = n_head[i], e = h * d_head[i]: qkv_net d -> 3e without bias (scored as query, key and value, each
 * e x d with h heads), r_net d -> e without bias (the projection of the sinusoidal relative positions, a per-head
 * key: scored as `position` in the attention block, where archai counts it), o_net e -> d without bias (`output`),
 * the learned biases r_w_bias and r_r_bias (h x d_head each, one pair per layer), a post-LayerNorm; then the FFN
 * d -> d_inner[i] -> d with biases (`ffn.up`, `ffn.down`) and its post-LayerNorm. There is no final LayerNorm and no
 * learned position table.
 *
 * Counting follows archai exactly (params_summary.yaml): Attn = qkv_net + r_net + o_net + r_w_bias + r_r_bias;
 * FFN = both Linear layers with biases; nonembedding = Attn + FFN + the two LayerNorms per layer; AdaEmb = the
 * adaptive embedding tables and their projections; total adds the softmax's biases, cluster weights and biases and
 * any untied projection or output weight (as gpt2-flex). ModelPlan.params.embedding is AdaEmb plus those softmax
 * parameters.
 *
 * Default init (archai's weights_init for mem_transformer): every Linear weight normal with std weight_init_std
 * (no residual scaling), embedding projections std proj_init_std.
 *
 * Telling it from gpt2-flex: archai writes the same model keys into the model_config.yaml of both models (its GPT-2
 * configs carry mem_transformer's attn_type and mem_len too) and takes the model from its command line
 * (`--model_type mem_transformer`), so nothing in the model fields says which one a file describes. An input names
 * it with `model_type: mem_transformer` (archai's name), or the caller chooses the family (`--family transformer-xl`).
 */
import {
  checkLayerCount,
  describeValue,
  fieldError,
  indexPath,
  isRecord,
  requireRecord,
  resolveBuildOptions,
  checkPositiveInteger,
  type FamilyBuildOptions,
  type JsonRecord,
} from './fields';
import {
  dimension,
  embeddingSide,
  optionalBoolean,
  optionalDimension,
  optionalPositive,
  perLayer,
  readCutoffs,
  readTieProjections,
  type AdaptiveEmbeddingFields,
} from './gpt2-flex';
import { assemblePlan, idOf, layerNormParams, linearParams, matrix, normalInit } from './plan';
import type { InitScheme, LayerPlan, ModelPlan } from './types';

export const TRANSFORMER_XL_BUILDS = ['default'] as const;
export const TRANSFORMER_XL_DEFAULT_BUILD = 'default';

/** Values of `model_type` that name this family: archai's name for NVIDIA's Transformer-XL. */
export const TRANSFORMER_XL_MODEL_TYPES: readonly string[] = ['mem_transformer'];

export function isTransformerXlModelType(value: unknown): boolean {
  return typeof value === 'string' && TRANSFORMER_XL_MODEL_TYPES.includes(value);
}

export interface TransformerXlArchitecture extends AdaptiveEmbeddingFields {
  id?: string;
  layerCount: number;
  heads: number[];
  /** Width of one head, per layer. */
  headSizes: number[];
  innerSizes: number[];
}

/** d_head: absent, null or negative derives d_model // n_head[i] per layer (archai); else a scalar or a per-layer list. */
function readHeadSizes(record: JsonRecord, modelSize: number, heads: number[], layerCount: number): number[] {
  const value = record.d_head;
  if (value === undefined || value === null || (typeof value === 'number' && Number.isInteger(value) && value < 0)) {
    return heads.map((h, i) => {
      const size = Math.floor(modelSize / h);
      if (size < 1) {
        throw fieldError('E_FORMAT', Array.isArray(record.n_head) ? indexPath('n_head', i) : 'n_head', `${h} heads leave no width of d_model ${modelSize} per head`);
      }
      return size;
    });
  }
  if (typeof value === 'number') return new Array<number>(layerCount).fill(checkPositiveInteger(value, 'd_head'));
  return perLayer(record, 'd_head', layerCount);
}

export function parseTransformerXl(input: unknown): TransformerXlArchitecture {
  const record = isRecord(input) ? input : requireRecord(input, '');
  const attentionType = record.attn_type;
  if (attentionType !== undefined && attentionType !== null && attentionType !== 0) {
    throw fieldError('E_UNSUPPORTED', 'attn_type', `only attn_type 0 (relative positional attention) is supported, got ${describeValue(attentionType)}`);
  }
  if (typeof record.sample_softmax === 'number' && record.sample_softmax > 0) {
    throw fieldError('E_UNSUPPORTED', 'sample_softmax', `a sampled softmax (sample_softmax ${record.sample_softmax}) is not supported; use -1`);
  }
  if (record.primer_conv === true) {
    throw fieldError('E_UNSUPPORTED', 'primer_conv', "Primer-EZ's depth-wise convolution is not supported");
  }
  const layerCount = checkLayerCount(dimension(record, 'n_layer'), 'n_layer');
  const modelSize = dimension(record, 'd_model');
  const heads = perLayer(record, 'n_head', layerCount);
  const headSizes = readHeadSizes(record, modelSize, heads, layerCount);
  const innerSizes = perLayer(record, 'd_inner', layerCount);
  const tokenCount = dimension(record, 'n_token');
  const embedSize = record.d_embed === -1 ? modelSize : optionalDimension(record, 'd_embed', modelSize);
  const divVal = optionalDimension(record, 'div_val', 1);
  const cutoffs = readCutoffs(record, tokenCount);
  if (divVal > 1 && Math.floor(embedSize / divVal ** (cutoffs.length - 1)) < 1) {
    throw fieldError('E_FORMAT', 'div_val', `div_val ${divVal} shrinks d_embed ${embedSize} to zero over ${cutoffs.length} clusters`);
  }
  const adaptive = optionalBoolean(record, 'adaptive', true);
  const architecture: TransformerXlArchitecture = {
    layerCount,
    modelSize,
    embedSize,
    heads,
    headSizes,
    innerSizes,
    tokenCount,
    divVal,
    cutoffs,
    tieWeight: optionalBoolean(record, 'tie_weight', true),
    tieProjections: readTieProjections(record, cutoffs.length, adaptive),
    positions: 0, // relative sinusoidal positions: nothing learned
    weightInitStd: optionalPositive(record, 'weight_init_std', 0.02),
    projectionInitStd: optionalPositive(record, 'proj_init_std', 0.01),
  };
  const id = idOf(record.id);
  if (id !== undefined) architecture.id = id;
  return architecture;
}

function buildLayer(index: number, d: number, heads: number, headSize: number, inner: number, init: InitScheme): LayerPlan {
  const width = heads * headSize;
  const prefix = `layers.${index}`;
  return {
    attention: [
      matrix(`${prefix}.attention.query`, width, d, init, heads, 'rows'),
      matrix(`${prefix}.attention.key`, width, d, init, heads, 'rows'),
      matrix(`${prefix}.attention.value`, width, d, init, heads, 'rows'),
      matrix(`${prefix}.attention.position`, width, d, init, heads, 'rows'),
      matrix(`${prefix}.attention.output`, d, width, init, heads, 'cols'),
    ],
    ffn: [matrix(`${prefix}.ffn.up`, inner, d, init), matrix(`${prefix}.ffn.down`, d, inner, init)],
    params: {
      // qkv_net and r_net (4 e x d), o_net (d x e), all without bias; r_w_bias and r_r_bias (e each).
      attention: 4 * linearParams(width, d, false) + linearParams(d, width, false) + 2 * width,
      ffn: linearParams(inner, d, true) + linearParams(d, inner, true),
      other: 2 * layerNormParams(d),
    },
    description: { heads, dHead: headSize, dInner: inner },
  };
}

export function buildTransformerXl(input: unknown, options?: FamilyBuildOptions): ModelPlan {
  const resolved = resolveBuildOptions(options, 'transformer-xl', TRANSFORMER_XL_BUILDS, TRANSFORMER_XL_DEFAULT_BUILD);
  const a = parseTransformerXl(input);
  const init = resolved.init ?? normalInit(a.weightInitStd);
  const layers = a.heads.map((heads, i) => buildLayer(i, a.modelSize, heads, a.headSizes[i], a.innerSizes[i], init));
  const side = embeddingSide(a);
  return assemblePlan(resolved.id ?? a.id, 'transformer-xl', resolved.build, a.modelSize, layers, side.extras, side.adaptiveEmbedding + side.softmax);
}
