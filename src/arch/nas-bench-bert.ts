/**
 * nas-bench-bert: the 500 ELECTRA-style encoders of the FlexiBERT space benchmarked by Serianni & Kalita (ACL 2023).
 *
 * Input: a benchmark entry ({id, hparams: {model_hparam_overrides: {...}}}) or the bare overrides object
 * {hidden_size, nas_config: {encoder_layers: [{operation_type, operation_parameter, num_operation_heads,
 * feed_forward_dimension, num_feed_forward}, ...]}}.
 *
 * Every build shares the ELECTRA-small embeddings: word 30522x128, position 512x128, token type 2x128, their
 * LayerNorm, and a 128->hidden projection (with bias) when hidden != 128. Every Linear has a bias unless noted.
 * LayerNorms are counted in a layer's `other`.
 *
 * Builds:
 * - `as-trained` (default): what the TensorFlow training code (tensorflow-model/model/modeling.py) really built.
 *   It picks the operation with `operation_type is "SA"` on strings from json.load, which is never true, so every
 *   layer ran plain multi-head scaled-dot-product attention with num_operation_heads heads: Q, K, V, output h x h,
 *   LayerNorm. FFN: h -> 4h (ELECTRA's intermediate_size), then num_feed_forward-1 dense layers of width
 *   feed_forward_dimension (4h -> f, f -> f, ...), then -> h, LayerNorm. With num_feed_forward = 1,
 *   feed_forward_dimension is unused.
 * - `as-specified`: the operations as FlexiBERT defines them (jha-lab/txf_design-space, modeling_modular_bert.py):
 *   SA-SDP: Q, K, V, output h x h. SA-WMA: the same plus one learned d_h x d_h matrix W (d_h = h/heads) shared by
 *   the layer's heads, scores Q_i W K_i^T, initialised uniform(-0.1, 0.1) as in that code.
 *   LT-DFT / LT-DCT: the token mixing is a fixed transform with no learned weights; the block holds only the output
 *   projection h x h (no head structure) and its LayerNorm. (FlexiBERT's code also instantiates Q/K/V there, used
 *   only by a relative-position attention term; they are not part of the LT operation and are left out.)
 *   DSC-k (ConvBERT span-based dynamic convolution, head ratio 2): with r = heads/2 reduced heads and
 *   a = r*h/heads = h/2: Q, K, V h -> a; a separable convolution on the keys (depthwise h x k, not a matrix,
 *   counted but not scored; pointwise a x h, one bias of a); the dynamic kernel generator a -> r*k; the conv
 *   value projection h -> a; output h x h over the 2r concatenated heads; LayerNorm. heads must be even.
 *   FFN: h -> f, num_feed_forward-1 layers f -> f, f -> h, LayerNorm.
 * - `lpzero`: the PyTorch port (aaronserianni/training-free-nas, modeling_electra.py, ElectraModel) that the
 *   published proxies (Serianni & Kalita, LPZero) were computed on. It ignores hidden_size and
 *   feed_forward_dimension: hidden 256, intermediate 1024, but it does use the operations, heads and
 *   num_feed_forward. SA-SDP as above plus LayerNorm. SA-WMA adds a 256 x 256 query weighting without bias.
 *   LT: one input projection 256 x 256 (heads split after it), no output projection, no LayerNorm.
 *   DSC: as in as-specified with h = 256. FFN: 256 -> 1024, num_feed_forward-1 layers 1024 -> 1024, 1024 -> 256,
 *   LayerNorm. Its parameter count equals the "Number of Parameters" Serianni & Kalita published for every id.
 *
 * Default init: normal, std 0.02 (ELECTRA initializer_range; the TensorFlow code draws a truncated normal of that
 * std, the PyTorch port a plain normal), except the as-specified WMA matrix (uniform, bound 0.1).
 */
import {
  checkLayerCount,
  checkPositiveInteger,
  describeValue,
  fieldError,
  fieldPath,
  indexPath,
  isDimension,
  isRecord,
  readArray,
  readPositiveInteger,
  readRecord,
  readString,
  requireRecord,
  resolveBuildOptions,
  type FamilyBuildOptions,
  type JsonRecord,
} from './fields';
import { deepFreeze, type BuildMemo } from './memo';
import { assemblePlan, bertEmbeddings, idOf, layerNormParams, linearParams, matrix, normalInit } from './plan';
import type { InitScheme, LayerPlan, MatrixSpec, ModelPlan } from './types';

export const NAS_BENCH_BERT_BUILDS = ['as-trained', 'as-specified', 'lpzero'] as const;
export type NasBenchBertBuild = (typeof NAS_BENCH_BERT_BUILDS)[number];
export const NAS_BENCH_BERT_DEFAULT_BUILD: NasBenchBertBuild = 'as-trained';

/** ELECTRA-small settings shared by every build (ELECTRA's configure_pretraining / training_utils). */
export const ELECTRA_SMALL = { vocabSize: 30522, embeddingSize: 128, maxPositions: 512, tokenTypes: 2, initializerRange: 0.02 } as const;
/** The sizes the PyTorch port fixes whatever the entry says (ElectraConfig defaults). */
export const LPZERO_PORT = { hiddenSize: 256, intermediateSize: 1024 } as const;
/** ConvBERT's head ratio: half the heads attend, half convolve. */
const CONV_HEAD_RATIO = 2;
/** FlexiBERT initialises the WMA matrix uniform(-0.1, 0.1). */
const WMA_INIT: InitScheme = Object.freeze({ scheme: 'uniform', bound: 0.1 });

export type Operation =
  | { type: 'SA'; parameter: 'SDP' | 'WMA' }
  | { type: 'LT'; parameter: 'DFT' | 'DCT' }
  | { type: 'DSC'; parameter: number };

export interface EncoderLayerSpec {
  operation: Operation;
  heads: number;
  feedForwardDimension: number;
  feedForwardCount: number;
  /** Field path of this layer in the input, for error messages. */
  path: string;
}

export interface NasBenchBertArchitecture {
  id?: string;
  hiddenSize: number;
  hiddenPath: string;
  layers: EncoderLayerSpec[];
}

const OPERATION_PARAMETERS = { SA: ['SDP', 'WMA'], LT: ['DFT', 'DCT'] } as const;

function parseOperation(record: JsonRecord, path: string): Operation {
  const type = readString(record, 'operation_type', path);
  const typePath = fieldPath(path, 'operation_type');
  const parameterPath = fieldPath(path, 'operation_parameter');
  const parameter = record.operation_parameter;
  if (parameter === undefined) throw fieldError('E_FORMAT', parameterPath, 'missing required field');
  if (typeof parameter !== 'string' && typeof parameter !== 'number') {
    throw fieldError('E_FORMAT', parameterPath, `must be a string or an integer, got ${describeValue(parameter)}`);
  }
  if (type === 'SA' || type === 'LT') {
    const allowed: readonly string[] = OPERATION_PARAMETERS[type];
    if (typeof parameter !== 'string' || !allowed.includes(parameter)) {
      throw fieldError('E_UNSUPPORTED', parameterPath, `${describeValue(parameter)} is not an operation parameter of ${type}; expected ${allowed.join(' or ')}`);
    }
    return type === 'SA' ? { type, parameter: parameter as 'SDP' | 'WMA' } : { type, parameter: parameter as 'DFT' | 'DCT' };
  }
  if (type === 'DSC') {
    if (typeof parameter !== 'number') {
      throw fieldError('E_UNSUPPORTED', parameterPath, `${describeValue(parameter)} is not a DSC kernel size; expected an odd integer such as 5 or 9`);
    }
    const kernel = checkPositiveInteger(parameter, parameterPath);
    if (kernel % 2 === 0) {
      throw fieldError('E_UNSUPPORTED', parameterPath, `DSC kernel size ${kernel} is even; the convolution's same padding needs an odd kernel (e.g. 5 or 9)`);
    }
    return { type, parameter: kernel };
  }
  throw fieldError('E_UNSUPPORTED', typePath, `operation type ${describeValue(type)} is not supported; expected SA, LT or DSC`);
}

/** Validates a benchmark entry or a bare overrides object. */
export function parseNasBenchBert(input: unknown): NasBenchBertArchitecture {
  const root = requireRecord(input, '');
  let overrides: JsonRecord;
  let prefix: string;
  if (root.hparams !== undefined) {
    overrides = readRecord(readRecord(root, 'hparams', ''), 'model_hparam_overrides', 'hparams');
    prefix = 'hparams.model_hparam_overrides';
  } else {
    overrides = root;
    prefix = '';
  }
  const hiddenSize = readPositiveInteger(overrides, 'hidden_size', prefix);
  const nasConfigPath = fieldPath(prefix, 'nas_config');
  const layersPath = fieldPath(nasConfigPath, 'encoder_layers');
  const list = readArray(readRecord(overrides, 'nas_config', prefix), 'encoder_layers', nasConfigPath);
  if (list.length === 0) throw fieldError('E_FORMAT', layersPath, 'must list at least one encoder layer');
  checkLayerCount(list.length, layersPath);
  const layers = list.map((value, i): EncoderLayerSpec => {
    const path = indexPath(layersPath, i);
    const record = requireRecord(value, path);
    return {
      operation: parseOperation(record, path),
      heads: readPositiveInteger(record, 'num_operation_heads', path),
      feedForwardDimension: readPositiveInteger(record, 'feed_forward_dimension', path),
      feedForwardCount: readPositiveInteger(record, 'num_feed_forward', path),
      path,
    };
  });
  const id = idOf(root.id);
  return { ...(id === undefined ? {} : { id }), hiddenSize, hiddenPath: fieldPath(prefix, 'hidden_size'), layers };
}

/** Short label of an operation, e.g. "SA-WMA", "DSC-9". */
export function operationLabel(operation: Operation): string {
  return `${operation.type}-${operation.parameter}`;
}

function checkHeadsDivide(hidden: number, layer: EncoderLayerSpec, hiddenLabel: string): number {
  if (hidden % layer.heads !== 0) {
    throw fieldError('E_FORMAT', fieldPath(layer.path, 'num_operation_heads'), `${layer.heads} heads do not divide the hidden size ${hidden}${hiddenLabel}`);
  }
  return hidden / layer.heads;
}

interface Block {
  matrices: MatrixSpec[];
  params: number;
  description?: Record<string, string | number>;
}

function sdpAttention(prefix: string, hidden: number, heads: number, init: InitScheme): Block {
  return {
    matrices: [
      matrix(`${prefix}.query`, hidden, hidden, init, heads, 'rows'),
      matrix(`${prefix}.key`, hidden, hidden, init, heads, 'rows'),
      matrix(`${prefix}.value`, hidden, hidden, init, heads, 'rows'),
      matrix(`${prefix}.output`, hidden, hidden, init, heads, 'cols'),
    ],
    params: 4 * linearParams(hidden, hidden, true),
  };
}

/** ConvBERT-style span-based dynamic convolution mixed with attention (FlexiBERT's DSC, the port's DSC). */
function dscAttention(prefix: string, hidden: number, layer: EncoderLayerSpec, kernel: number, init: InitScheme): Block {
  const headSize = hidden / layer.heads;
  const reducedHeads = Math.max(1, Math.floor(layer.heads / CONV_HEAD_RATIO));
  const reducedWidth = reducedHeads * headSize;
  if (2 * reducedWidth !== hidden) {
    throw fieldError(
      'E_UNSUPPORTED',
      fieldPath(layer.path, 'num_operation_heads'),
      `DSC with ${layer.heads} heads is not supported: the attention and convolution halves must together fill the hidden size, which needs an even number of heads`,
    );
  }
  const depthwiseParams = hidden * kernel;
  return {
    matrices: [
      matrix(`${prefix}.query`, reducedWidth, hidden, init, reducedHeads, 'rows'),
      matrix(`${prefix}.key`, reducedWidth, hidden, init, reducedHeads, 'rows'),
      matrix(`${prefix}.value`, reducedWidth, hidden, init, reducedHeads, 'rows'),
      matrix(`${prefix}.conv_key_pointwise`, reducedWidth, hidden, init, reducedHeads, 'rows'),
      matrix(`${prefix}.conv_kernel`, reducedHeads * kernel, reducedWidth, init, reducedHeads, 'rows'),
      matrix(`${prefix}.conv_value`, reducedWidth, hidden, init, reducedHeads, 'rows'),
      matrix(`${prefix}.output`, hidden, 2 * reducedWidth, init, 2 * reducedHeads, 'cols'),
    ],
    params:
      3 * linearParams(reducedWidth, hidden, true) +
      depthwiseParams +
      linearParams(reducedWidth, hidden, true) + // pointwise convolution and the separable convolution's bias
      linearParams(reducedHeads * kernel, reducedWidth, true) +
      linearParams(reducedWidth, hidden, true) +
      linearParams(hidden, 2 * reducedWidth, true),
    description: { attentionHeads: reducedHeads, convolutionHeads: reducedHeads, kernel, depthwiseParams },
  };
}

/** FFN stack hidden -> widths[0] -> ... -> widths[n-1] -> hidden, every Linear with a bias. */
function ffnStack(prefix: string, hidden: number, widths: number[], init: InitScheme): Block {
  const matrices: MatrixSpec[] = [matrix(`${prefix}.up`, widths[0], hidden, init)];
  let params = linearParams(widths[0], hidden, true);
  for (let j = 1; j < widths.length; j++) {
    matrices.push(matrix(`${prefix}.hidden.${j - 1}`, widths[j], widths[j - 1], init));
    params += linearParams(widths[j], widths[j - 1], true);
  }
  const last = widths[widths.length - 1];
  matrices.push(matrix(`${prefix}.down`, hidden, last, init));
  params += linearParams(hidden, last, true);
  return { matrices, params };
}

function electraEmbeddings(hidden: number): { extras: MatrixSpec[]; params: number } {
  const { vocabSize, embeddingSize, maxPositions, tokenTypes, initializerRange } = ELECTRA_SMALL;
  return bertEmbeddings({ vocab: vocabSize, positions: maxPositions, tokenTypes, embeddingSize, hidden }, normalInit(initializerRange));
}

function layerPlan(attention: Block, ffn: Block, other: number, description: Record<string, string | number>): LayerPlan {
  return {
    attention: attention.matrices,
    ffn: ffn.matrices,
    params: { attention: attention.params, ffn: ffn.params, other },
    description: { ...description, ...(attention.description ?? {}) },
  };
}

function buildLayer(build: NasBenchBertBuild, layer: EncoderLayerSpec, index: number, hidden: number, init: InitScheme, wmaInit: InitScheme): LayerPlan {
  const attentionPrefix = `layers.${index}.attention`;
  const ffnPrefix = `layers.${index}.ffn`;
  const op = layer.operation;
  const specified = operationLabel(op);
  const repeat = (width: number): number[] => new Array<number>(layer.feedForwardCount).fill(width);

  if (build === 'as-trained') {
    checkHeadsDivide(hidden, layer, '');
    const widths = [4 * hidden, ...new Array<number>(layer.feedForwardCount - 1).fill(layer.feedForwardDimension)];
    const ffn = ffnStack(ffnPrefix, hidden, widths, init);
    return layerPlan(sdpAttention(attentionPrefix, hidden, layer.heads, init), ffn, 2 * layerNormParams(hidden), {
      operation: 'SA-SDP',
      specified,
      heads: layer.heads,
      ffn: widths.join('-'),
    });
  }

  const label = build === 'lpzero' ? ' (the lpzero port always uses hidden 256)' : '';
  const headSize = checkHeadsDivide(hidden, layer, label);
  const widths = build === 'lpzero' ? repeat(LPZERO_PORT.intermediateSize) : repeat(layer.feedForwardDimension);
  const ffn = ffnStack(ffnPrefix, hidden, widths, init);
  const description = { operation: specified, heads: layer.heads, ffn: widths.join('-') };
  const twoNorms = 2 * layerNormParams(hidden);

  switch (op.type) {
    case 'SA': {
      const attention = sdpAttention(attentionPrefix, hidden, layer.heads, init);
      if (op.parameter === 'WMA') {
        if (build === 'lpzero') {
          // The port weights the full query projection before the head split: one h x h matrix without bias.
          attention.matrices.splice(1, 0, matrix(`${attentionPrefix}.weighted_query`, hidden, hidden, init));
          attention.params += hidden * hidden;
        } else {
          attention.matrices.splice(3, 0, matrix(`${attentionPrefix}.wma`, headSize, headSize, wmaInit));
          attention.params += headSize * headSize;
        }
      }
      return layerPlan(attention, ffn, twoNorms, description);
    }
    case 'LT': {
      if (build === 'lpzero') {
        // The port projects the input, splits heads, transforms, and feeds the FFN directly: no output
        // projection and no LayerNorm in the token-mixing block.
        const attention: Block = {
          matrices: [matrix(`${attentionPrefix}.transform_input`, hidden, hidden, init, layer.heads, 'rows')],
          params: linearParams(hidden, hidden, true),
        };
        return layerPlan(attention, ffn, layerNormParams(hidden), description);
      }
      const attention: Block = { matrices: [matrix(`${attentionPrefix}.output`, hidden, hidden, init)], params: linearParams(hidden, hidden, true) };
      return layerPlan(attention, ffn, twoNorms, description);
    }
    case 'DSC':
      return layerPlan(dscAttention(attentionPrefix, hidden, layer, op.parameter, init), ffn, twoNorms, description);
  }
}

/**
 * A memo context: one (build, hidden size, init). Every layer in it depends only on its index and its own five
 * fields, so identical layers at the same index share one frozen LayerPlan (memoised when first built: the space
 * of distinct layers is small). The ELECTRA embeddings depend on the hidden size alone.
 */
interface NasContext {
  id: number;
  init: InitScheme;
  wmaInit: InitScheme;
  embeddings?: { extras: MatrixSpec[]; params: number };
}

const DEFAULT_INIT: InitScheme = Object.freeze(normalInit(ELECTRA_SMALL.initializerRange));
/** The largest hidden size plus one: default-init contexts are keyed by build index * HIDDEN_KEYS + hidden size. */
const HIDDEN_KEYS = 2 ** 21;

function contextFor(memo: BuildMemo, buildIndex: number, hidden: number, init: InitScheme | undefined): NasContext {
  // Default-init contexts by build (index in NAS_BENCH_BERT_BUILDS) and hidden size; a caller-given init's by build,
  // hidden size and the init's JSON.
  const contexts = memo.contexts<NasContext>('nas-bench-bert');
  const key = init === undefined ? buildIndex * HIDDEN_KEYS + hidden : `${buildIndex}|${hidden}|${JSON.stringify(init)}`;
  let context = contexts.get(key);
  if (context === undefined) {
    context = newContext(memo.newContextId(), init);
    contexts.set(key, context);
  }
  return context;
}

function newContext(id: number, init: InitScheme | undefined): NasContext {
  const frozen = init === undefined ? undefined : deepFreeze(init);
  return { id, init: frozen ?? DEFAULT_INIT, wmaInit: frozen ?? WMA_INIT };
}

function embeddingsOf(context: NasContext, hidden: number): { extras: MatrixSpec[]; params: number } {
  return (context.embeddings ??= deepFreeze(electraEmbeddings(hidden)));
}

/** Operation code of a valid (type, parameter): SA-SDP 0, SA-WMA 1, LT-DFT 2, LT-DCT 3, DSC-k 4 + (k - 1) / 2; else -1. */
function operationCode(type: unknown, parameter: unknown): number {
  if (type === 'SA') return parameter === 'SDP' ? 0 : parameter === 'WMA' ? 1 : -1;
  if (type === 'LT') return parameter === 'DFT' ? 2 : parameter === 'DCT' ? 3 : -1;
  if (type === 'DSC' && isDimension(parameter) && parameter % 2 === 1) return 4 + (parameter - 1) / 2;
  return -1;
}

function codeOfOperation(operation: Operation): number {
  if (operation.type === 'SA') return operation.parameter === 'SDP' ? 0 : 1;
  if (operation.type === 'LT') return operation.parameter === 'DFT' ? 2 : 3;
  return 4 + (operation.parameter - 1) / 2;
}

const OPERATIONS: readonly Operation[] = [
  { type: 'SA', parameter: 'SDP' },
  { type: 'SA', parameter: 'WMA' },
  { type: 'LT', parameter: 'DFT' },
  { type: 'LT', parameter: 'DCT' },
];

function operationOfCode(code: number): Operation {
  return code < 4 ? OPERATIONS[code] : { type: 'DSC', parameter: 2 * (code - 4) + 1 };
}

/** A layer phase 1 found valid but not memoised. */
interface PendingLayer {
  code: number;
  heads: number;
  feedForwardDimension: number;
  feedForwardCount: number;
}

/**
 * The part of a layer's memo key that depends on feed_forward_dimension: fields a build ignores are left out, so
 * layers that build the same share (lpzero ignores it, as-trained uses it only with more than one FFN layer).
 */
function keyWidth(build: NasBenchBertBuild, width: number, count: number): number {
  return build === 'lpzero' || (build === 'as-trained' && count === 1) ? 0 : width;
}

/**
 * A layer's positive-integer field, read by the reporting reader (which names the field) when the fast check on the
 * value the caller read failed. Callers read the field by name: a load by a computed key is several times slower.
 */
function layerDimension(value: unknown, record: JsonRecord, key: string, layersPath: string, index: number): number {
  return isDimension(value) ? value : readPositiveInteger(record, key, indexPath(layersPath, index));
}

const PREFIXED_PATH = 'hparams.model_hparam_overrides';
const PREFIXED_NAS_CONFIG_PATH = `${PREFIXED_PATH}.nas_config`;
const PREFIXED_LAYERS_PATH = `${PREFIXED_NAS_CONFIG_PATH}.encoder_layers`;

export function buildNasBenchBert(input: unknown, options?: FamilyBuildOptions): ModelPlan {
  const resolved = resolveBuildOptions(options, 'nas-bench-bert', NAS_BENCH_BERT_BUILDS, NAS_BENCH_BERT_DEFAULT_BUILD);
  const build = resolved.build as NasBenchBertBuild;
  const buildIndex = build === 'as-trained' ? 0 : build === 'as-specified' ? 1 : 2;

  // Phase 1: validate the whole input in parseNasBenchBert's order and look every layer up in the memo. Each fast
  // check that fails hands over to the reporting reader, which throws the error naming the field (or, should it
  // accept the value, returns it).
  const root = isRecord(input) ? input : requireRecord(input, '');
  let overrides: JsonRecord;
  let prefix: string;
  if (root.hparams !== undefined) {
    const hparams = root.hparams;
    overrides =
      isRecord(hparams) && isRecord(hparams.model_hparam_overrides)
        ? hparams.model_hparam_overrides
        : readRecord(readRecord(root, 'hparams', ''), 'model_hparam_overrides', 'hparams');
    prefix = PREFIXED_PATH;
  } else {
    overrides = root;
    prefix = '';
  }
  const nasConfigPath = prefix === '' ? 'nas_config' : PREFIXED_NAS_CONFIG_PATH;
  const layersPath = prefix === '' ? 'nas_config.encoder_layers' : PREFIXED_LAYERS_PATH;
  const givenHidden = overrides.hidden_size;
  const hiddenSize = isDimension(givenHidden) ? givenHidden : readPositiveInteger(overrides, 'hidden_size', prefix);
  const nasConfig = isRecord(overrides.nas_config) ? overrides.nas_config : readRecord(overrides, 'nas_config', prefix);
  const list = Array.isArray(nasConfig.encoder_layers) ? (nasConfig.encoder_layers as unknown[]) : readArray(nasConfig, 'encoder_layers', nasConfigPath);
  if (list.length === 0) throw fieldError('E_FORMAT', layersPath, 'must list at least one encoder layer');
  checkLayerCount(list.length, layersPath);

  const hidden = build === 'lpzero' ? LPZERO_PORT.hiddenSize : hiddenSize;
  // Without the caller's memo nothing is memoised: the plan shares nothing with any other.
  const memo = resolved.memo;
  memo?.reserve(list.length);
  const context = memo === undefined ? newContext(0, resolved.init) : contextFor(memo, buildIndex, hidden, resolved.init);
  const contextId = context.id;
  const count = list.length;
  const layers = new Array<LayerPlan>(count);
  let pending: PendingLayer[] | undefined;
  for (let i = 0; i < count; i++) {
    const value = list[i];
    const record = isRecord(value) ? value : requireRecord(value, indexPath(layersPath, i));
    let code = operationCode(record.operation_type, record.operation_parameter);
    if (code < 0) code = codeOfOperation(parseOperation(record, indexPath(layersPath, i)));
    const heads = layerDimension(record.num_operation_heads, record, 'num_operation_heads', layersPath, i);
    const width = layerDimension(record.feed_forward_dimension, record, 'feed_forward_dimension', layersPath, i);
    const depth = layerDimension(record.num_feed_forward, record, 'num_feed_forward', layersPath, i);
    const layer = memo === undefined ? undefined : memo.memoised<LayerPlan>(memo.findSlot(contextId, i, code, heads, keyWidth(build, width, depth), depth));
    if (layer !== undefined) layers[i] = layer;
    else (pending ??= new Array<PendingLayer>(count))[i] = { code, heads, feedForwardDimension: width, feedForwardCount: depth };
  }

  // Phase 2: build the layers the memo lacks, in order, so the first build error (heads that do not divide) is the
  // one an unmemoised build would report.
  if (pending !== undefined) {
    for (let i = 0; i < count; i++) {
      const miss = pending[i];
      if (miss === undefined) continue;
      const spec: EncoderLayerSpec = {
        operation: operationOfCode(miss.code),
        heads: miss.heads,
        feedForwardDimension: miss.feedForwardDimension,
        feedForwardCount: miss.feedForwardCount,
        path: indexPath(layersPath, i),
      };
      const layer = buildLayer(build, spec, i, hidden, context.init, context.wmaInit);
      if (memo === undefined) {
        layers[i] = layer;
        continue;
      }
      const width = keyWidth(build, miss.feedForwardDimension, miss.feedForwardCount);
      // Found again: slots found in phase 1 may have been taken by the layers memoised before this one.
      const slot = memo.findSlot(contextId, i, miss.code, miss.heads, width, miss.feedForwardCount);
      layers[i] = memo.memoise(slot, contextId, i, miss.code, miss.heads, width, miss.feedForwardCount, layer);
    }
  }

  const embeddings = embeddingsOf(context, hidden);
  const id = resolved.id ?? idOf(root.id);
  return assemblePlan(id, 'nas-bench-bert', build, hidden, layers, embeddings.extras, embeddings.params);
}
