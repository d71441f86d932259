/**
 * Random valid architectures from four search spaces, as the inputs the builders take, so that
 * `zerolm sample ... | zerolm score` works. Seeded: the same seed gives the same stream.
 */
import { seededRandom } from '../stats/random';
import { COMMA, writeSafeInteger } from '../ascii';
import { MAX_DIMENSION, MAX_LAYERS } from '../arch/fields';
import { ZeroLMError } from '../errors';
import type { LineEncoder } from '../proxy/serialize';
import { DEFAULT_DECODER_RANGES, FLEXIBERT_SPACE, LTS_SPACE, LTS_TXL_SPACE, type DecoderRanges } from '../space/ranges';

export { DEFAULT_DECODER_RANGES, FLEXIBERT_SPACE, LTS_SPACE, LTS_TXL_SPACE, type DecoderRanges };

export type SpaceName = 'nas-bench-bert' | 'lts-gpt2' | 'lts-txl' | 'hf-decoder';
export const spaceNames: readonly SpaceName[] = ['nas-bench-bert', 'lts-gpt2', 'lts-txl', 'hf-decoder'];

type Random = () => number;
const choice = <T>(random: Random, values: readonly T[]): T => values[Math.floor(random() * values.length)];
const between = (random: Random, low: number, high: number, step = 1): number => low + step * Math.floor(random() * (Math.floor((high - low) / step) + 1));

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
 * Draws one FlexiBERT architecture as sampleFlexibert does (same numbers, same order): the entries of `table` (laid
 * out as layerTexts) of its layers go to `layers`; returns its hidden size.
 */
function drawFlexibert<T>(random: Random, table: T[][][][][], layers: T[]): number {
  const count = FLEXIBERT_SPACE.layerCount[pick(random, FLEXIBERT_SPACE.layerCount.length)];
  layers.length = count;
  for (let i = 0; i < count; i++) {
    const type = table[pick(random, table.length)];
    const parameter = type[pick(random, type.length)];
    const heads = parameter[pick(random, parameter.length)];
    const dimension = heads[pick(random, heads.length)];
    layers[i] = dimension[pick(random, dimension.length)];
  }
  return FLEXIBERT_SPACE.hiddenSize[pick(random, FLEXIBERT_SPACE.hiddenSize.length)];
}

/**
 * JSON.stringify(sampleFlexibert(random, id)), drawing the same numbers in the same order, without building the
 * object.
 */
export function sampleFlexibertLine(random: Random, id: string): string {
  const layers: string[] = [];
  const hidden = drawFlexibert(random, layerTexts(), layers);
  return `{"id":${JSON.stringify(id)},"hidden_size":${hidden},"nas_config":{"encoder_layers":[${layers.join(',')}]}}`;
}

/** Sampled architectures, one at a time, each written as its JSON line's bytes (see LineWriter.pushEncoded). */
export interface SampledLines extends LineEncoder<void> {
  /** Draws the next architecture; false when `count` have been drawn. */
  next(): boolean;
}


/**
 * The nas-bench-bert lines of sampleSpaceLines, written straight into bytes from encoded layer texts: the CLI
 * sampler's hot path. The id of architecture i is `${space}-${i}`.
 */
class FlexibertLines implements SampledLines {
  private readonly layerBytes: Buffer[][][][][] = layerTexts().map((a) => a.map((b) => b.map((c) => c.map((d) => d.map((text) => Buffer.from(text))))));
  /** `{"id":"nas-bench-bert-`: the id's digits follow. */
  private readonly head: Buffer;
  /** After the id's digits, per hidden size: `","hidden_size":H,"nas_config":{"encoder_layers":[`. */
  private readonly hiddenBytes = new Map<number, Buffer>(FLEXIBERT_SPACE.hiddenSize.map((h) => [h, Buffer.from(`","hidden_size":${h},"nas_config":{"encoder_layers":[`)]));
  private readonly tail = Buffer.from(']}}');
  /** Longest a line can be but for its layers. */
  private readonly fixedBytes: number;
  private readonly layerMaxBytes: number;
  private readonly random: Random;
  private readonly layers: Buffer[] = [];
  private hidden = 0;
  private index = -1;

  constructor(space: string, private readonly count: number, seed: number) {
    this.random = seededRandom(seed);
    const id = JSON.stringify(`${space}-`);
    this.head = Buffer.from(`{"id":${id.slice(0, -1)}`);
    this.fixedBytes = this.head.length + 16 + Math.max(...[...this.hiddenBytes.values()].map((b) => b.length)) + this.tail.length;
    this.layerMaxBytes = 1 + Math.max(...this.layerBytes.flat(4).map((b) => b.length));
  }

  next(): boolean {
    if (this.index + 1 >= this.count) return false;
    this.index++;
    this.hidden = drawFlexibert(this.random, this.layerBytes, this.layers);
    return true;
  }

  encodeInto(_: void, target: Buffer, offset: number): number {
    const layers = this.layers;
    if (offset + this.fixedBytes + layers.length * this.layerMaxBytes > target.length) return -1;
    target.set(this.head, offset);
    let p = offset + this.head.length;
    p = writeSafeInteger(this.index, target, p);
    const hidden = this.hiddenBytes.get(this.hidden) as Buffer;
    target.set(hidden, p);
    p += hidden.length;
    for (let i = 0; i < layers.length; i++) {
      if (i > 0) target[p++] = COMMA;
      target.set(layers[i], p);
      p += layers[i].length;
    }
    target.set(this.tail, p);
    return p + this.tail.length;
  }
}

/** Any other space's lines, from their strings. */
class TextLines implements SampledLines {
  private line = '';
  constructor(private readonly lines: Iterator<string>) {}

  next(): boolean {
    const next = this.lines.next();
    if (next.done) return false;
    this.line = next.value;
    return true;
  }

  encodeInto(_: void, target: Buffer, offset: number): number {
    if (offset + 3 * this.line.length > target.length) return -1;
    return offset + target.write(this.line, offset, 'utf8');
  }
}

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

export function sampleLtsTxl(random: Random, id: string): unknown {
  const layers = between(random, LTS_TXL_SPACE.layers[0], LTS_TXL_SPACE.layers[1]);
  const dModel = choice(random, LTS_TXL_SPACE.dModel);
  return {
    id,
    model_type: 'mem_transformer',
    n_layer: layers,
    d_model: dModel,
    n_head: Array.from({ length: layers }, () => choice(random, LTS_TXL_SPACE.heads)),
    d_head: -1,
    d_inner: Array.from({ length: layers }, () => between(random, LTS_TXL_SPACE.dInner[0], LTS_TXL_SPACE.dInner[1])),
    d_embed: choice(random, LTS_TXL_SPACE.dEmbed),
    div_val: choice(random, LTS_TXL_SPACE.divVal),
    n_token: 267736,
    cutoffs: [19997, 39997, 199997, 267736],
    tie_weight: true,
    tie_projs: [false, true, true, true],
    adaptive: true,
    attn_type: 0,
    mem_len: 192,
    weight_init_std: 0.02,
    tgt_len: 192,
  };
}

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
  if (space === 'hf-decoder') checkDecoderRanges({ ...DEFAULT_DECODER_RANGES, ...options.decoder });
}

/**
 * Refuses, before the first line, decoder ranges that could give a line `zerolm score` refuses: every size within
 * the builders' limits (MAX_DIMENSION, MAX_LAYERS), a parameter count that can be counted exactly, and at least one
 * hidden size / heads / key-value heads combination that divides.
 */
export function checkDecoderRanges(ranges: DecoderRanges): void {
  const fail = (field: string, message: string): never => {
    throw new ZeroLMError('E_ARGUMENT', `hf-decoder ${field}: ${message}`, { field });
  };
  const integerIn = (value: unknown, field: string, max: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) fail(field, `must be an integer from 1 to ${max}, got ${String(value)}`);
    return value as number;
  };
  const pair = (values: unknown, field: string, length: 2 | 3): number[] => {
    if (!Array.isArray(values) || values.length !== length) fail(field, `must be ${length === 2 ? '[low, high]' : '[low, high, step]'}`);
    return values as number[];
  };
  const [layersLow, layersHigh] = pair(ranges.layers, 'layers', 2).map((v) => integerIn(v, 'layers', MAX_LAYERS));
  const [hiddenLow, hiddenHigh, step] = pair(ranges.hidden, 'hidden', 3).map((v) => integerIn(v, 'hidden', MAX_DIMENSION));
  if (layersLow > layersHigh) fail('layers', `low ${layersLow} is above high ${layersHigh}`);
  if (hiddenLow > hiddenHigh) fail('hidden', `low ${hiddenLow} is above high ${hiddenHigh}`);
  const lists = { heads: ranges.heads, kvHeads: ranges.kvHeads };
  for (const [field, list] of Object.entries(lists)) {
    if (!Array.isArray(list) || list.length === 0) fail(field, 'must be a non-empty list');
    for (const value of list) integerIn(value, field, MAX_DIMENSION);
  }
  const [ratioLow, ratioHigh] = pair(ranges.ffnRatio, 'ffnRatio', 2);
  for (const ratio of [ratioLow, ratioHigh]) {
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio <= 0) fail('ffnRatio', `must be positive finite numbers, got ${String(ratio)}`);
  }
  if (ratioLow > ratioHigh) fail('ffnRatio', `low ${ratioLow} is above high ${ratioHigh}`);
  const vocab = integerIn(ranges.vocab, 'vocab', MAX_DIMENSION);
  const hiddenMax = hiddenLow + step * Math.floor((hiddenHigh - hiddenLow) / step);
  const innerMax = Math.max(256, Math.round((hiddenMax * ratioHigh) / 256) * 256);
  if (innerMax > MAX_DIMENSION) fail('ffnRatio', `hidden ${hiddenMax} x ${ratioHigh} gives intermediate sizes up to ${innerMax}, above the limit of ${MAX_DIMENSION}`);
  // Attention (4 matrices of at most hidden^2) and FFN (3 of hidden x intermediate) per layer, two vocabulary tables.
  const paramsMax = layersHigh * (4 * hiddenMax * hiddenMax + 3 * hiddenMax * innerMax + 3 * hiddenMax) + 2 * vocab * hiddenMax;
  if (paramsMax > Number.MAX_SAFE_INTEGER) fail('layers', `these ranges give up to ${paramsMax.toExponential(2)} parameters, more than can be counted exactly (2^53)`);
  const admits = (): boolean => {
    for (const heads of ranges.heads) {
      if (!ranges.kvHeads.some((kv) => heads % kv === 0)) continue;
      for (let hidden = hiddenLow; hidden <= hiddenHigh; hidden += step) if (hidden % heads === 0) return true;
    }
    return false;
  };
  if (!admits()) fail('hidden', `the ranges admit no architecture: no hidden size in ${hiddenLow}-${hiddenHigh}:${step} is divisible by heads ${ranges.heads.join(',')} with kv heads ${ranges.kvHeads.join(',')} dividing them`);
}

export function* sampleSpace(space: string, options: SampleOptions): Generator<unknown> {
  checkSampleArguments(space, options);
  const random = seededRandom(options.seed ?? 0);
  const ranges = { ...DEFAULT_DECODER_RANGES, ...options.decoder };
  for (let i = 0; i < options.count; i++) {
    const id = `${space}-${i}`;
    if (space === 'nas-bench-bert') yield sampleFlexibert(random, id);
    else if (space === 'lts-gpt2') yield sampleLts(random, id);
    else if (space === 'lts-txl') yield sampleLtsTxl(random, id);
    else yield sampleDecoder(random, id, ranges);
  }
}

/**
 * The same stream as sampleSpace, as JSON lines (without their newline): exactly JSON.stringify of each
 * architecture sampleSpace yields for the same space and options.
 */
/** The stream of sampleSpaceLines, drawn one architecture at a time and written as bytes. */
export function sampleLineEncoder(space: string, options: SampleOptions): SampledLines {
  checkSampleArguments(space, options);
  if (space === 'nas-bench-bert') return new FlexibertLines(space, options.count, options.seed ?? 0);
  return new TextLines(sampleSpaceLines(space, options));
}

export function* sampleSpaceLines(space: string, options: SampleOptions): Generator<string> {
  checkSampleArguments(space, options);
  if (space !== 'nas-bench-bert') {
    for (const architecture of sampleSpace(space, options)) yield JSON.stringify(architecture);
    return;
  }
  const random = seededRandom(options.seed ?? 0);
  for (let i = 0; i < options.count; i++) yield sampleFlexibertLine(random, `${space}-${i}`);
}
