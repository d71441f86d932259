/**
 * Random valid architectures from three search spaces, as the inputs the builders take, so that
 * `zerolm sample ... | zerolm score` works. Seeded: the same seed gives the same stream.
 */
import { seededRandom } from '../calibrate/random';
import { ZeroLMError } from '../errors';

export type SpaceName = 'nas-bench-bert' | 'lts-gpt2' | 'hf-decoder';
export const spaceNames: readonly SpaceName[] = ['nas-bench-bert', 'lts-gpt2', 'hf-decoder'];

type Random = () => number;
const choice = <T>(random: Random, values: readonly T[]): T => values[Math.floor(random() * values.length)];
const between = (random: Random, low: number, high: number, step = 1): number => low + step * Math.floor(random() * (Math.floor((high - low) / step) + 1));

/** The FlexiBERT space of the nas-bench-bert benchmark (its search_space.json). */
export const FLEXIBERT_SPACE = {
  hiddenSize: [128, 256],
  layerCount: [2, 4],
  operations: { SA: ['SDP', 'WMA'], LT: ['DFT', 'DCT'], DSC: [5, 9] } as Record<string, readonly (string | number)[]>,
  heads: [2, 4],
  feedForwardDimension: [512, 1024],
  feedForwardCount: [1, 3],
} as const;

export function sampleFlexibert(random: Random, id: string): unknown {
  const layers = choice(random, FLEXIBERT_SPACE.layerCount);
  const encoderLayers = Array.from({ length: layers }, () => {
    const type = choice(random, Object.keys(FLEXIBERT_SPACE.operations));
    return {
      operation_type: type,
      operation_parameter: choice(random, FLEXIBERT_SPACE.operations[type]),
      num_operation_heads: choice(random, FLEXIBERT_SPACE.heads),
      feed_forward_dimension: choice(random, FLEXIBERT_SPACE.feedForwardDimension),
      num_feed_forward: choice(random, FLEXIBERT_SPACE.feedForwardCount),
    };
  });
  return { id, hidden_size: choice(random, FLEXIBERT_SPACE.hiddenSize), nas_config: { encoder_layers: encoderLayers } };
}

/**
 * The JSON text of every FlexiBERT layer the sampler can draw, indexed as the draws are made: operation type,
 * operation parameter, heads, feed-forward dimension, feed-forward count. Built with JSON.stringify from the very
 * objects sampleFlexibert makes, so a line assembled from them is byte for byte what JSON.stringify writes.
 */
let flexibertLayerTexts: string[][][][][] | undefined;

function layerTexts(): string[][][][][] {
  if (flexibertLayerTexts) return flexibertLayerTexts;
  const types = Object.keys(FLEXIBERT_SPACE.operations);
  flexibertLayerTexts = types.map((type) =>
    FLEXIBERT_SPACE.operations[type].map((parameter) =>
      FLEXIBERT_SPACE.heads.map((heads) =>
        FLEXIBERT_SPACE.feedForwardDimension.map((dimension) =>
          FLEXIBERT_SPACE.feedForwardCount.map((count) =>
            JSON.stringify({ operation_type: type, operation_parameter: parameter, num_operation_heads: heads, feed_forward_dimension: dimension, num_feed_forward: count }),
          ),
        ),
      ),
    ),
  );
  return flexibertLayerTexts;
}

const pick = (random: Random, length: number): number => Math.floor(random() * length);

/**
 * JSON.stringify(sampleFlexibert(random, id)), drawing the same numbers in the same order, without building the
 * object: the sampler's hot path when it streams lines.
 */
export function sampleFlexibertLine(random: Random, id: string): string {
  const texts = layerTexts();
  const layers = FLEXIBERT_SPACE.layerCount[pick(random, FLEXIBERT_SPACE.layerCount.length)];
  let encoderLayers = '';
  for (let i = 0; i < layers; i++) {
    const type = texts[pick(random, texts.length)];
    const parameter = type[pick(random, type.length)];
    const heads = parameter[pick(random, parameter.length)];
    const dimension = heads[pick(random, heads.length)];
    const text = dimension[pick(random, dimension.length)];
    encoderLayers += i === 0 ? text : `,${text}`;
  }
  const hidden = FLEXIBERT_SPACE.hiddenSize[pick(random, FLEXIBERT_SPACE.hiddenSize.length)];
  return `{"id":${JSON.stringify(id)},"hidden_size":${hidden},"nas_config":{"encoder_layers":[${encoderLayers}]}}`;
}

/** The LTS GPT-2 space as its 200 benchmark configs span it (n_layer 2-16, d_model 64-512, per-layer heads and d_inner). */
export const LTS_SPACE = {
  layers: [2, 16],
  dModel: [64, 128, 256, 512],
  dEmbed: [128, 256, 512],
  divVal: [1, 2, 4],
  heads: [2, 4, 8],
  dInner: [512, 2048],
} as const;

export function sampleLts(random: Random, id: string): unknown {
  const layers = between(random, LTS_SPACE.layers[0], LTS_SPACE.layers[1]);
  const dModel = choice(random, LTS_SPACE.dModel);
  return {
    id,
    n_layer: layers,
    d_model: dModel,
    n_head: Array.from({ length: layers }, () => choice(random, LTS_SPACE.heads)),
    d_inner: Array.from({ length: layers }, () => between(random, LTS_SPACE.dInner[0], LTS_SPACE.dInner[1])),
    d_embed: choice(random, LTS_SPACE.dEmbed),
    div_val: choice(random, LTS_SPACE.divVal),
    n_token: 50264,
    cutoffs: [19997, 39997, 199997, 50264],
    tie_weight: true,
    tie_projs: [false, true, true, true],
    adaptive: true,
    weight_init_std: 0.02,
    tgt_len: 192,
  };
}

/** Ranges of the HF decoder space: [low, high] or a step grid "low-high:step", and choice lists. */
export interface DecoderRanges {
  layers: [number, number];
  hidden: [number, number, number];
  heads: number[];
  kvHeads: number[];
  /** intermediate_size as a multiple of hidden, [low, high], rounded to a multiple of 256. */
  ffnRatio: [number, number];
  vocab: number;
}

export const DEFAULT_DECODER_RANGES: DecoderRanges = { layers: [4, 32], hidden: [512, 4096, 256], heads: [8, 16, 32], kvHeads: [1, 2, 4, 8], ffnRatio: [2, 4], vocab: 32000 };

export function sampleDecoder(random: Random, id: string, ranges: DecoderRanges): unknown {
  // Heads must divide hidden and kv heads must divide heads; redraw within the ranges until they do.
  for (let attempt = 0; attempt < 1000; attempt++) {
    const hidden = between(random, ranges.hidden[0], ranges.hidden[1], ranges.hidden[2]);
    const heads = choice(random, ranges.heads);
    const kvHeads = choice(random, ranges.kvHeads);
    if (hidden % heads !== 0 || heads % kvHeads !== 0) continue;
    const ratio = ranges.ffnRatio[0] + random() * (ranges.ffnRatio[1] - ranges.ffnRatio[0]);
    return {
      id,
      model_type: 'llama',
      hidden_size: hidden,
      num_hidden_layers: between(random, ranges.layers[0], ranges.layers[1]),
      num_attention_heads: heads,
      num_key_value_heads: kvHeads,
      intermediate_size: Math.max(256, Math.round((hidden * ratio) / 256) * 256),
      vocab_size: ranges.vocab,
      tie_word_embeddings: false,
      initializer_range: 0.02,
    };
  }
  throw new ZeroLMError('E_ARGUMENT', `decoder ranges admit no architecture: no hidden size in ${ranges.hidden.join('-')} is divisible by heads ${ranges.heads.join(',')} with kv heads ${ranges.kvHeads.join(',')} dividing them`);
}

export interface SampleOptions {
  count: number;
  seed?: number;
  decoder?: Partial<DecoderRanges>;
}

function checkSampleArguments(space: string, options: SampleOptions): void {
  if (!spaceNames.includes(space as SpaceName)) {
    throw new ZeroLMError('E_ARGUMENT', `unknown search space "${space}"; known: ${spaceNames.join(', ')}`, { field: 'space' });
  }
  if (!Number.isInteger(options.count) || options.count < 0) {
    throw new ZeroLMError('E_ARGUMENT', `count must be a non-negative integer, got ${String(options.count)}`, { field: 'count' });
  }
}

export function* sampleSpace(space: string, options: SampleOptions): Generator<unknown> {
  checkSampleArguments(space, options);
  const random = seededRandom(options.seed ?? 0);
  const ranges = { ...DEFAULT_DECODER_RANGES, ...options.decoder };
  for (let i = 0; i < options.count; i++) {
    const id = `${space}-${i}`;
    if (space === 'nas-bench-bert') yield sampleFlexibert(random, id);
    else if (space === 'lts-gpt2') yield sampleLts(random, id);
    else yield sampleDecoder(random, id, ranges);
  }
}

/**
 * The same stream as sampleSpace, as JSON lines (without their newline): exactly JSON.stringify of each
 * architecture sampleSpace yields for the same space and options.
 */
export function* sampleSpaceLines(space: string, options: SampleOptions): Generator<string> {
  checkSampleArguments(space, options);
  if (space !== 'nas-bench-bert') {
    for (const architecture of sampleSpace(space, options)) yield JSON.stringify(architecture);
    return;
  }
  const random = seededRandom(options.seed ?? 0);
  for (let i = 0; i < options.count; i++) yield sampleFlexibertLine(random, `${space}-${i}`);
}
