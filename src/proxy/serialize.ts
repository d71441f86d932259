/**
 * JSON lines for score records, byte-identical to JSON.stringify but several times faster on streams. A record is
 * encoded straight into the output's bytes: the keys, the run's constant fields, each shared per-layer breakdown,
 * the source and the numeric fields met lately (a layer's capacities included, by value) are encoded once and then
 * copied; integers and plain ids are written character by character. Records of any other shape go through JSON.stringify.
 */
import type { ScoreRecord } from './many';
import type { LayerScore, Score } from './score';
import { BACKSLASH, CLOSE_BRACE, COMMA, OPEN_BRACE, QUOTE, writeSafeInteger } from '../ascii';

const CONSTANT_FIELDS = ['measure', 'rule', 'alpha', 'family', 'build', 'mode', 'seed', 'seedPolicy', 'perHead'] as const;
/** The key order withAlpha produces, after an optional id and before an optional source and line. */
const SCORE_FIELDS: readonly string[] = ['score', 'attention', 'ffn', 'params', 'nonEmbeddingParams', ...CONSTANT_FIELDS, 'layers'];
/** The whole key order for each combination of id (4), source (2) and line (1) being present. */
const EXPECTED_KEYS: ReadonlyArray<readonly string[]> = Array.from({ length: 8 }, (_, present) => [
  ...(present & 4 ? ['id'] : []),
  ...SCORE_FIELDS,
  ...(present & 2 ? ['source'] : []),
  ...(present & 1 ? ['line'] : []),
]);

type Scored = Score & { source?: string; line?: number };

/** Encodes items as lines into a byte buffer: see LineWriter.pushEncoded. */
export interface LineEncoder<T> {
  /**
   * Writes the item's line (no newline) at `offset` and returns where it ends, or -1 when it would not fit before
   * the end of `target` (bytes past `offset` may then have been overwritten).
   */
  encodeInto(item: T, target: Buffer, offset: number): number;
}

/**
 * A run of bytes encoded once and copied often: as bytes, and as the little-endian 32-bit words that copy it four
 * bytes at a time.
 */
export class Piece {
  readonly length: number;
  readonly bytes: Buffer;
  /** Words at byte 0, 4, 8, ... and, last, the word ending at the last byte (it may overlap the one before). */
  readonly words: Int32Array;
  constructor(text: string) {
    this.bytes = Buffer.from(text, 'utf8');
    this.length = this.bytes.length;
    const words: number[] = [];
    if (this.length >= 4) {
      for (let at = 0; at + 4 <= this.length; at += 4) words.push(this.bytes.readInt32LE(at));
      words.push(this.bytes.readInt32LE(this.length - 4));
    }
    this.words = Int32Array.from(words);
  }
}

/** A layer of exactly the keys attention and ffn, in that order, both finite numbers: then written from memory. */
function isPlainLayer(layer: unknown): layer is LayerScore {
  if (typeof layer !== 'object' || layer === null || Array.isArray(layer)) return false;
  let k = 0;
  for (const key in layer) {
    if (key !== (k === 0 ? 'attention' : k === 1 ? 'ffn' : '')) return false;
    k++;
  }
  const { attention, ffn } = layer as LayerScore;
  // An inherited toJSON (a class's) would change what JSON.stringify writes.
  return k === 2 && (layer as { toJSON?: unknown }).toJSON === undefined && typeof attention === 'number' && Number.isFinite(attention) && typeof ffn === 'number' && Number.isFinite(ffn);
}

/** Copies a piece to `target` (viewed as `view`) at `offset`; returns the new offset. */
function put(piece: Piece, view: DataView, target: Buffer, offset: number): number {
  const length = piece.length;
  if (length < 4) {
    for (let i = 0; i < length; i++) target[offset + i] = piece.bytes[i];
    return offset + length;
  }
  if (length > 24) {
    target.set(piece.bytes, offset); // a native copy beats word by word past a few words
    return offset + length;
  }
  const words = piece.words;
  const last = words.length - 1;
  for (let i = 0; i < last; i++) view.setInt32(offset + 4 * i, words[i], true);
  view.setInt32(offset + length - 4, words[last], true);
  return offset + length;
}

const OPEN_WITH_ID = new Piece('{"id":');
const LAYERS_KEY = ',"layers":[';
const LINE_KEY = new Piece(',"line":');
const NO_SOURCE = new Piece(']');
/** More than the longest text of a number ("-0.0000012345678901234567" has 25 characters). */
const NUMBER_BYTES = 32;

/** The bits of a double, for hashing it. */
const doubleBits = new Float64Array(1);
const doubleWords = new Int32Array(doubleBits.buffer);
const FIELD_SLOT_BITS = 12;
/** Per-layer capacities repeat less often than a record's totals take turns (one per distinct layer shape): more slots. */
const LAYER_FIELD_SLOT_BITS = 14;

/**
 * A numeric field: its key as a piece, and the text of the values met lately (a plain string: a value met once costs
 * no buffer). Formatting a double is the dearest step of a line, and a stream's values repeat (the capacities and
 * parameter counts of the same layers). Direct-mapped by the value's bits: a value that lands on a taken slot takes it
 * over. Integers are written digit by digit instead.
 */
class NumberField {
  private readonly values: Float64Array;
  private readonly texts: string[];
  private readonly shift: number;
  readonly key: Piece;
  /** The longest text this field can have. */
  readonly maxBytes: number;
  constructor(key: string, slotBits = FIELD_SLOT_BITS) {
    this.key = new Piece(key);
    this.maxBytes = key.length + NUMBER_BYTES;
    this.values = new Float64Array(1 << slotBits).fill(Number.NaN); // NaN equals nothing
    this.texts = new Array<string>(1 << slotBits).fill('');
    this.shift = 32 - slotBits;
  }

  /** Writes the key and a finite value (as String() writes it; 0 and -0 may share a slot: both are "0"). */
  write(value: number, view: DataView, target: Buffer, offset: number): number {
    const p = put(this.key, view, target, offset);
    if (Number.isSafeInteger(value)) return writeSafeInteger(value, target, p);
    doubleBits[0] = value;
    const slot = Math.imul(doubleWords[0] ^ Math.imul(doubleWords[1], 0x9e3779b1), 0x85ebca77) >>> this.shift;
    let text: string;
    if (this.values[slot] === value) text = this.texts[slot];
    else {
      text = String(value);
      this.values[slot] = value;
      this.texts[slot] = text;
    }
    return writeAscii(text, target, p);
  }
}

/** Writes an ASCII string (a number's text) byte by byte; returns the new offset. */
function writeAscii(text: string, target: Buffer, offset: number): number {
  const length = text.length;
  for (let i = 0; i < length; i++) target[offset + i] = text.charCodeAt(i);
  return offset + length;
}

/** Writes a finite number as JSON.stringify does (a safe integer as its plain digits); returns the new offset. */
function writeNumber(value: number, target: Buffer, offset: number): number {
  return Number.isSafeInteger(value) ? writeSafeInteger(value, target, offset) : writeString(String(value), target, offset, false);
}

/**
 * Writes a string as JSON.stringify does (`quoted`) or its plain text (a number's); returns the new offset. The caller
 * has made room for 6 bytes a character.
 */
function writeString(text: string, target: Buffer, offset: number, quoted = true): number {
  const length = text.length;
  const start = quoted ? offset + 1 : offset;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    // Anything JSON escapes, and anything beyond ASCII, is left to JSON.stringify and the UTF-8 encoder.
    if (code < 0x20 || code > 0x7e || code === QUOTE || code === BACKSLASH) return offset + target.write(quoted ? JSON.stringify(text) : text, offset, 'utf8');
    target[start + i] = code;
  }
  if (!quoted) return offset + length;
  target[offset] = QUOTE;
  target[start + length] = QUOTE;
  return start + length + 1;
}

export class ScoreSerializer implements LineEncoder<ScoreRecord> {
  private readonly scoreTexts = new NumberField('"score":');
  private readonly attentionTexts = new NumberField(',"attention":');
  private readonly ffnTexts = new NumberField(',"ffn":');
  private readonly paramsTexts = new NumberField(',"params":');
  private readonly nonEmbeddingTexts = new NumberField(',"nonEmbeddingParams":');
  /** Bytes of every key, bracket and number a line can have: the part of its size known up front. */
  private readonly fixedBytes =
    OPEN_WITH_ID.length + 2 + LINE_KEY.length + NUMBER_BYTES + [this.scoreTexts, this.attentionTexts, this.ffnTexts, this.paramsTexts, this.nonEmbeddingTexts].reduce((sum, field) => sum + field.maxBytes, 0);
  /**
   * A layer's text is `{"attention":A,"ffn":F}`, kept per value rather than per LayerScore object: layers of different
   * candidates are distinct objects but their capacities repeat (one per distinct layer shape).
   */
  private readonly layerAttentionTexts = new NumberField('{"attention":', LAYER_FIELD_SLOT_BITS);
  private readonly layerFfnTexts = new NumberField(',"ffn":', LAYER_FIELD_SLOT_BITS);
  /** Per layer of the record being written, its JSON.stringify text when it is not plain (reused per record). */
  private readonly otherLayers: Array<string | undefined> = [];
  private constants: Scored | undefined;
  /** The constant fields, then the key of the layers. */
  private constantText = new Piece('');
  private source: string | undefined;
  /** The end of the layers, then source and the key of the line. */
  private sourceText = new Piece('');
  private scratch = Buffer.allocUnsafe(1 << 16);
  private viewed: Buffer | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));

  /** The record's JSON line (no newline): exactly JSON.stringify(record). */
  line(record: ScoreRecord): string {
    for (;;) {
      const end = this.encodeInto(record, this.scratch, 0);
      if (end >= 0) return this.scratch.toString('utf8', 0, end);
      this.scratch = Buffer.allocUnsafe(2 * this.scratch.length);
    }
  }

  encodeInto(record: ScoreRecord, target: Buffer, offset: number): number {
    const score = record as Scored;
    if (typeof score.score !== 'number' || !Number.isFinite(score.score) || !Array.isArray(score.layers) || !this.hasExpectedShape(score)) {
      const text = JSON.stringify(record);
      return offset + 3 * text.length <= target.length ? offset + target.write(text, offset, 'utf8') : -1;
    }
    if (!this.sameConstants(score)) {
      this.constants = score;
      this.constantText = new Piece(`,${CONSTANT_FIELDS.map((field) => `${JSON.stringify(field)}:${JSON.stringify(score[field])}`).join(',')}${LAYERS_KEY}`);
    }
    const layers = score.layers;
    const layerCount = layers.length;
    const otherLayers = this.otherLayers;
    let layerBytes = 0;
    // Plain layers are written from their numbers below; any other is written as JSON.stringify writes it.
    const plainLayerBytes = this.layerAttentionTexts.maxBytes + this.layerFfnTexts.maxBytes + 2; // and "}" and ","
    for (let i = 0; i < layerCount; i++) {
      const layer = layers[i];
      if (isPlainLayer(layer)) {
        otherLayers[i] = undefined;
        layerBytes += plainLayerBytes;
      } else {
        const text = JSON.stringify(layer);
        otherLayers[i] = text;
        layerBytes += 3 * text.length + 1;
      }
    }
    const id = score.id;
    const tail = score.source === undefined ? NO_SOURCE : this.sourceTextOf(score.source);
    // Room for the longest this line can be; nothing is written unless all of it fits.
    const bound = this.fixedBytes + (id === undefined ? 0 : 6 * id.length + 2) + this.constantText.length + layerBytes + tail.length;
    if (offset + bound > target.length) return -1;
    if (target !== this.viewed) {
      this.viewed = target;
      this.view = new DataView(target.buffer, target.byteOffset, target.byteLength);
    }
    const view = this.view;
    let p = offset;
    if (id !== undefined) {
      p = put(OPEN_WITH_ID, view, target, p);
      p = writeString(id, target, p);
      target[p++] = COMMA;
    } else {
      target[p++] = OPEN_BRACE;
    }
    p = this.scoreTexts.write(score.score, view, target, p);
    p = this.attentionTexts.write(score.attention, view, target, p);
    p = this.ffnTexts.write(score.ffn, view, target, p);
    p = this.paramsTexts.write(score.params, view, target, p);
    p = this.nonEmbeddingTexts.write(score.nonEmbeddingParams, view, target, p);
    p = put(this.constantText, view, target, p);
    for (let i = 0; i < layerCount; i++) {
      if (i > 0) target[p++] = COMMA;
      const other = otherLayers[i];
      if (other === undefined) {
        const layer = layers[i];
        p = this.layerAttentionTexts.write(layer.attention, view, target, p);
        p = this.layerFfnTexts.write(layer.ffn, view, target, p);
        target[p++] = CLOSE_BRACE;
      } else {
        p += target.write(other, p, 'utf8');
      }
    }
    p = put(tail, view, target, p);
    if (score.line !== undefined) {
      p = put(LINE_KEY, view, target, p);
      p = writeNumber(score.line, target, p);
    }
    target[p++] = CLOSE_BRACE;
    return p;
  }

  private sameConstants(score: Scored): boolean {
    const last = this.constants;
    return (
      last !== undefined &&
      score.measure === last.measure &&
      score.rule === last.rule &&
      score.alpha === last.alpha &&
      score.family === last.family &&
      score.build === last.build &&
      score.mode === last.mode &&
      score.seed === last.seed &&
      score.seedPolicy === last.seedPolicy &&
      score.perHead === last.perHead
    );
  }

  private sourceTextOf(source: string): Piece {
    if (source !== this.source) {
      this.source = source;
      this.sourceText = new Piece(`],"source":${JSON.stringify(source)}`);
    }
    return this.sourceText;
  }

  /** The fast path only knows the key order withAlpha produces and plain values; the rest is JSON.stringify's. */
  private hasExpectedShape(score: Scored): boolean {
    if (score.id !== undefined && typeof score.id !== 'string') return false;
    if (score.source !== undefined && typeof score.source !== 'string') return false;
    if (score.line !== undefined && !Number.isFinite(score.line)) return false;
    const expected = EXPECTED_KEYS[(score.id !== undefined ? 4 : 0) | (score.source !== undefined ? 2 : 0) | (score.line !== undefined ? 1 : 0)];
    // for-in walks the keys Object.keys would list, in the same order, without allocating (and then any enumerable
    // inherited ones, which make the shape unexpected, as they should).
    let k = 0;
    for (const key in score) if (key !== expected[k++]) return false;
    return k === expected.length && Number.isFinite(score.attention) && Number.isFinite(score.ffn) && Number.isFinite(score.params) && Number.isFinite(score.nonEmbeddingParams);
  }

}
