/**
 * JSON lines for score records, byte-identical to JSON.stringify but several times faster on streams. A record is
 * encoded straight into the output's bytes: the keys, the run's constant fields, each shared per-layer breakdown,
 * the source and the numbers met lately are encoded once and then copied four bytes at a time; integers and plain
 * ids are written character by character. Records of any other shape go through JSON.stringify.
 */
import type { ScoreRecord } from './many';
import type { LayerScore, Score } from './score';

const CONSTANT_FIELDS = ['measure', 'alpha', 'family', 'build', 'mode', 'seed', 'seedPolicy', 'perHead'] as const;
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

/** A run of bytes encoded once and copied often: as bytes, and as the little-endian 32-bit words that copy it. */
class Piece {
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
const SCORE_KEY = new Piece(',"score":');
const OPEN_WITH_SCORE = new Piece('{"score":');
const ATTENTION_KEY = new Piece(',"attention":');
const FFN_KEY = new Piece(',"ffn":');
const PARAMS_KEY = new Piece(',"params":');
const NON_EMBEDDING_KEY = new Piece(',"nonEmbeddingParams":');
const LAYERS_KEY = ',"layers":[';
const LINE_KEY = new Piece(',"line":');
const NO_SOURCE = new Piece(']');
/** More than the longest text of a number ("-0.0000012345678901234567" has 25 characters). */
const NUMBER_BYTES = 32;
/** Bytes of every key and bracket a line can have and of its six numbers: the part of its size known up front. */
const FIXED_BYTES = [OPEN_WITH_ID, SCORE_KEY, ATTENTION_KEY, FFN_KEY, PARAMS_KEY, NON_EMBEDDING_KEY, LINE_KEY].reduce((sum, key) => sum + key.length, 2) + 6 * NUMBER_BYTES;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const ZERO = 0x30;

/** Texts of the fractional numbers met lately (formatting a double is the dearest step of a line); dropped when full. */
const numberTexts = new Map<number, Piece>();
const MAX_NUMBER_TEXTS = 1 << 16;

/** Writes a finite number as JSON.stringify does; returns the new offset. */
function writeNumber(value: number, view: DataView, target: Buffer, offset: number): number {
  if (!Number.isSafeInteger(value)) {
    let text = numberTexts.get(value);
    if (text === undefined) {
      if (numberTexts.size >= MAX_NUMBER_TEXTS) numberTexts.clear();
      text = new Piece(String(value));
      numberTexts.set(value, text);
    }
    return put(text, view, target, offset);
  }
  // A safe integer's text is its plain decimal digits (-0 gives "0").
  let rest = value;
  if (rest < 0) {
    target[offset++] = MINUS;
    rest = -rest;
  }
  let digits = 1;
  for (let power = 10; power <= rest; power *= 10) digits++;
  const end = offset + digits;
  for (let p = end - 1; p >= offset; p--) {
    const next = Math.floor(rest / 10);
    target[p] = ZERO + (rest - next * 10);
    rest = next;
  }
  return end;
}

/** Writes a string as JSON.stringify does; returns the new offset. The caller has made room for 6 bytes a character. */
function writeString(text: string, target: Buffer, offset: number): number {
  const length = text.length;
  target[offset] = QUOTE;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    // Anything JSON escapes, and anything beyond ASCII, is left to JSON.stringify and the UTF-8 encoder.
    if (code < 0x20 || code > 0x7e || code === QUOTE || code === BACKSLASH) return offset + target.write(JSON.stringify(text), offset, 'utf8');
    target[offset + 1 + i] = code;
  }
  target[offset + 1 + length] = QUOTE;
  return offset + length + 2;
}

export class ScoreSerializer implements LineEncoder<ScoreRecord> {
  private readonly layerTexts = new WeakMap<LayerScore, Piece>();
  /** Layer texts of the record being written (reused: no allocation per record). */
  private readonly scratchLayers: Piece[] = [];
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
    const scratchLayers = this.scratchLayers;
    let layerBytes = 0;
    for (let i = 0; i < layerCount; i++) {
      const layer = layers[i];
      let text = this.layerTexts.get(layer);
      if (text === undefined) {
        text = new Piece(JSON.stringify(layer));
        // Only an immutable breakdown can be written from memory the next time it comes.
        if (Object.isFrozen(layer)) this.layerTexts.set(layer, text);
      }
      scratchLayers[i] = text;
      layerBytes += text.length + 1;
    }
    const id = score.id;
    const tail = score.source === undefined ? NO_SOURCE : this.sourceTextOf(score.source);
    // Room for the longest this line can be; nothing is written unless all of it fits.
    const bound = FIXED_BYTES + (id === undefined ? 0 : 6 * id.length + 2) + this.constantText.length + layerBytes + tail.length;
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
      p = put(SCORE_KEY, view, target, p);
    } else {
      p = put(OPEN_WITH_SCORE, view, target, p);
    }
    p = writeNumber(score.score, view, target, p);
    p = put(ATTENTION_KEY, view, target, p);
    p = writeNumber(score.attention, view, target, p);
    p = put(FFN_KEY, view, target, p);
    p = writeNumber(score.ffn, view, target, p);
    p = put(PARAMS_KEY, view, target, p);
    p = writeNumber(score.params, view, target, p);
    p = put(NON_EMBEDDING_KEY, view, target, p);
    p = writeNumber(score.nonEmbeddingParams, view, target, p);
    p = put(this.constantText, view, target, p);
    for (let i = 0; i < layerCount; i++) {
      if (i > 0) target[p++] = COMMA;
      p = put(scratchLayers[i], view, target, p);
    }
    p = put(tail, view, target, p);
    if (score.line !== undefined) {
      p = put(LINE_KEY, view, target, p);
      p = writeNumber(score.line, view, target, p);
    }
    target[p++] = CLOSE_BRACE;
    return p;
  }

  private sameConstants(score: Scored): boolean {
    const last = this.constants;
    return (
      last !== undefined &&
      score.measure === last.measure &&
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
