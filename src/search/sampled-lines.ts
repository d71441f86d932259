/**
 * A fast reader for the lines `zerolm sample nas-bench-bert` writes, so that `zerolm sample | zerolm score` does not
 * spend most of its time in JSON.parse. It recognises exactly one canonical form, byte by byte, and gives up (returns
 * undefined, and the caller parses the line with JSON.parse) on anything else:
 *
 *   line  := '{"id":"' plain '","hidden_size":' int ',"nas_config":{"encoder_layers":[' layer (',' layer)* ']}}'
 *   layer := '{"operation_type":"' plain '","operation_parameter":' ('"' plain '"' | int) ',"num_operation_heads":'
 *            int ',"feed_forward_dimension":' int ',"num_feed_forward":' int '}'
 *   plain := bytes 0x20-0x7E other than '"' and '\' (a JSON string whose value is its own bytes)
 *   int   := '0' | [1-9][0-9]{0,14} (an integer a double holds exactly)
 *
 * No whitespace, no escapes, no other keys or key order. For every line of that form the object returned is the one
 * JSON.parse returns (same keys in the same order, same values, fresh objects), which the tests check.
 */

import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COMMA, QUOTE, ZERO } from '../ascii';
import { memoisedNasBenchBertPlan, type EncoderLayerFields } from '../arch/nas-bench-bert';
import { Piece } from '../proxy/serialize';

/** Literals to find in a line: their bytes as words, compared four bytes at a time. */
const ROOT_START = new Piece('{"id":"');
const HIDDEN_KEY = new Piece('","hidden_size":');
const LAYERS_KEY = new Piece(',"nas_config":{"encoder_layers":[');
const TYPE_KEY = new Piece('{"operation_type":"');
const PARAMETER_KEY = new Piece('","operation_parameter":');
const HEADS_KEY = new Piece(',"num_operation_heads":');
const WIDTH_KEY = new Piece(',"feed_forward_dimension":');
const COUNT_KEY = new Piece(',"num_feed_forward":');

/** Digits in an accepted integer: every such integer is below 2^53, so the sum below is exact. */
const MAX_DIGITS = 15;

/** Whether `literal` sits at `position` of the bytes `view` shows (and ends by `end`). */
function at(view: DataView, position: number, literal: Piece, end: number): boolean {
  const length = literal.length;
  if (position + length > end) return false;
  const words = literal.words;
  const last = words.length - 1;
  for (let i = 0; i < last; i++) if (view.getInt32(position + 4 * i, true) !== words[i]) return false;
  return view.getInt32(position + length - 4, true) === words[last];
}

/** The bytes last read, and a view of them (one per chunk of input, not one per line). */
let viewed: Buffer | undefined;
let view: DataView = new DataView(new ArrayBuffer(0));

/** The integer read by the last successful `integerEnd`. */
let integerValue = 0;

/** Where the integer starting at `position` ends (its value in integerValue), or -1 if none in the accepted form. */
function integerEnd(bytes: Uint8Array, position: number, end: number): number {
  let value = 0;
  let p = position;
  while (p < end) {
    const digit = bytes[p] - ZERO;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
    p++;
  }
  const digits = p - position;
  if (digits === 0 || digits > MAX_DIGITS || (digits > 1 && bytes[position] === ZERO)) return -1;
  integerValue = value;
  return p;
}

/** Where the plain string content starting at `position` ends (at its closing quote), or -1. */
function plainEnd(bytes: Uint8Array, position: number, end: number): number {
  for (let p = position; p < end; p++) {
    const byte = bytes[p];
    if (byte === QUOTE) return p;
    if (byte === BACKSLASH || byte < 0x20 || byte > 0x7e) return -1;
  }
  return -1;
}

type Latin1Slicer = { latin1Slice(start: number, end: number): string };

/**
 * Text of ASCII bytes: Buffer's own latin1 decoder, which toString('latin1', ...) calls after checks that cost more
 * than the decoding of a short id; toString where a Node lacks it.
 */
const decodeAscii: (bytes: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as unknown as Partial<Latin1Slicer>).latin1Slice === 'function'
    ? (bytes, start, end) => (bytes as unknown as Latin1Slicer).latin1Slice(start, end)
    : (bytes, start, end) => bytes.toString('latin1', start, end);

/** The string of plain bytes [start, stop): the space's operation names without allocating, anything else decoded. */
function plainText(bytes: Buffer, start: number, stop: number): string {
  const length = stop - start;
  if (length === 2) {
    const a = bytes[start];
    const b = bytes[start + 1];
    if (a === 0x53 && b === 0x41) return 'SA';
    if (a === 0x4c && b === 0x54) return 'LT';
  } else if (length === 3) {
    const a = bytes[start];
    const b = bytes[start + 1];
    const c = bytes[start + 2];
    if (a === 0x53 && b === 0x44 && c === 0x50) return 'SDP';
    if (a === 0x57 && b === 0x4d && c === 0x41) return 'WMA';
    if (a === 0x44) {
      if (b === 0x46 && c === 0x54) return 'DFT';
      if (b === 0x43 && c === 0x54) return 'DCT';
      if (b === 0x53 && c === 0x43) return 'DSC';
    }
  }
  return decodeAscii(bytes, start, stop);
}

/** Fields of one layer in SampledLineScan.layers, LAYER_FIELDS numbers a layer. */
const TYPE_START = 0;
const TYPE_END = 1;
/** Where a quoted parameter's text starts, or -1 when the parameter is an integer (then PARAMETER_VALUE holds it). */
const PARAMETER_START = 2;
const PARAMETER_END = 3;
const PARAMETER_VALUE = 4;
const HEADS = 5;
const WIDTH = 6;
const COUNT = 7;
const LAYER_FIELDS = 8;

/**
 * Where the parts of a line in the canonical form sit, and its integers: what scanSampledLine fills. Names stay
 * bytes (ranges of the scanned buffer) until a caller wants them as strings.
 */
export class SampledLineScan implements EncoderLayerFields {
  /** The bytes scanned last. */
  bytes: Buffer = Buffer.alloc(0);
  idStart = 0;
  idEnd = 0;
  hiddenSize = 0;
  layerCount = 0;
  /**
   * LAYER_FIELDS numbers per layer (byte offsets, and integers below 2^53). A plain array, not a Float64Array: its
   * small integers read back as small integers, which the objects parseSampledLine builds store unboxed (one
   * integer past 2^31 turns it into doubles for good: slower from then on, never wrong).
   */
  layers: number[] = new Array<number>(16 * LAYER_FIELDS).fill(0);

  /** The layer's operation_type, as the string JSON.parse gives. */
  type(layer: number): string {
    const o = layer * LAYER_FIELDS;
    return plainText(this.bytes, this.layers[o + TYPE_START], this.layers[o + TYPE_END]);
  }

  /** The layer's operation_parameter, as the string or number JSON.parse gives. */
  parameter(layer: number): string | number {
    const o = layer * LAYER_FIELDS;
    const start = this.layers[o + PARAMETER_START];
    return start < 0 ? this.layers[o + PARAMETER_VALUE] : plainText(this.bytes, start, this.layers[o + PARAMETER_END]);
  }

  heads(layer: number): number {
    return this.layers[layer * LAYER_FIELDS + HEADS];
  }

  width(layer: number): number {
    return this.layers[layer * LAYER_FIELDS + WIDTH];
  }

  count(layer: number): number {
    return this.layers[layer * LAYER_FIELDS + COUNT];
  }

  /** Room for one more layer's fields. */
  grow(): void {
    if ((this.layerCount + 1) * LAYER_FIELDS <= this.layers.length) return;
    this.layers = this.layers.concat(new Array<number>(this.layers.length).fill(0));
  }
}

/**
 * Scans bytes [start, end) for a sampled nas-bench-bert line in the form above and fills `scan` with what it found;
 * false (scan then holds nothing meaningful) when the line is not in that form.
 */
export function scanSampledLine(bytes: Buffer, start: number, end: number, scan: SampledLineScan): boolean {
  if (start < 0 || end > bytes.length) return false;
  if (bytes !== viewed) {
    viewed = bytes;
    view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  scan.bytes = bytes;
  let p = start;
  if (!at(view, p, ROOT_START, end)) return false;
  p += ROOT_START.length;
  let close = plainEnd(bytes, p, end);
  if (close < 0) return false;
  scan.idStart = p;
  scan.idEnd = close;
  if (!at(view, close, HIDDEN_KEY, end)) return false;
  p = integerEnd(bytes, close + HIDDEN_KEY.length, end);
  if (p < 0) return false;
  scan.hiddenSize = integerValue;
  if (!at(view, p, LAYERS_KEY, end)) return false;
  p += LAYERS_KEY.length;
  scan.layerCount = 0;
  for (;;) {
    scan.grow();
    const fields = scan.layers;
    const o = scan.layerCount * LAYER_FIELDS;
    if (!at(view, p, TYPE_KEY, end)) return false;
    p += TYPE_KEY.length;
    close = plainEnd(bytes, p, end);
    if (close < 0) return false;
    fields[o + TYPE_START] = p;
    fields[o + TYPE_END] = close;
    if (!at(view, close, PARAMETER_KEY, end)) return false;
    p = close + PARAMETER_KEY.length;
    if (p < end && bytes[p] === QUOTE) {
      close = plainEnd(bytes, p + 1, end);
      if (close < 0) return false;
      fields[o + PARAMETER_START] = p + 1;
      fields[o + PARAMETER_END] = close;
      p = close + 1;
    } else {
      p = integerEnd(bytes, p, end);
      if (p < 0) return false;
      fields[o + PARAMETER_START] = -1;
      fields[o + PARAMETER_VALUE] = integerValue;
    }
    if (!at(view, p, HEADS_KEY, end)) return false;
    p = integerEnd(bytes, p + HEADS_KEY.length, end);
    if (p < 0) return false;
    fields[o + HEADS] = integerValue;
    if (!at(view, p, WIDTH_KEY, end)) return false;
    p = integerEnd(bytes, p + WIDTH_KEY.length, end);
    if (p < 0) return false;
    fields[o + WIDTH] = integerValue;
    if (!at(view, p, COUNT_KEY, end)) return false;
    p = integerEnd(bytes, p + COUNT_KEY.length, end);
    if (p < 0 || p >= end || bytes[p] !== CLOSE_BRACE) return false;
    fields[o + COUNT] = integerValue;
    scan.layerCount++;
    p++;
    if (p >= end || bytes[p] !== COMMA) break;
    p++;
  }
  return p + 3 === end && bytes[p] === CLOSE_BRACKET && bytes[p + 1] === CLOSE_BRACE && bytes[p + 2] === CLOSE_BRACE;
}

/** The scan the parsers below fill (one line at a time: nothing here is re-entrant). */
const lineScan = new SampledLineScan();

/** The architecture on bytes [start, end) of a sampled nas-bench-bert line, or undefined if not in the form above. */
export function parseSampledLine(bytes: Buffer, start: number, end: number): unknown {
  return scanSampledLine(bytes, start, end, lineScan) ? architectureOfScan(lineScan) : undefined;
}

/**
 * A reader of JSONL lines for scoring with these options: a sampled nas-bench-bert line whose every part the
 * builder has memoised becomes its ModelPlan straight from the scan (no objects parsed, nothing built: the plan the
 * builder would return); any other sampled line becomes its object as parseSampledLine reads it; anything else is
 * left to JSON.parse. The plan is taken only where the scorer would build the line as nas-bench-bert itself (no
 * family given, or that one), since a plan bypasses the family and build options.
 */
export function sampledLineParser(options: { family?: string; build?: string }): (bytes: Buffer, start: number, end: number) => unknown {
  if (options.family !== undefined && options.family !== 'nas-bench-bert') return parseSampledLine;
  const build = options.build;
  return (bytes, start, end) => {
    const scan = lineScan;
    if (!scanSampledLine(bytes, start, end, scan)) return undefined;
    return memoisedNasBenchBertPlan(decodeAscii(bytes, scan.idStart, scan.idEnd), scan.hiddenSize, scan, build) ?? architectureOfScan(scan);
  };
}

/** The object JSON.parse gives for a scanned line. */
function architectureOfScan(scan: SampledLineScan): unknown {
  const bytes = scan.bytes;
  const count = scan.layerCount;
  const fields = scan.layers;
  const layers = new Array<unknown>(count);
  for (let i = 0, o = 0; i < count; i++, o += LAYER_FIELDS) {
    const parameterStart = fields[o + PARAMETER_START];
    layers[i] = {
      operation_type: plainText(bytes, fields[o + TYPE_START], fields[o + TYPE_END]),
      operation_parameter: parameterStart < 0 ? fields[o + PARAMETER_VALUE] : plainText(bytes, parameterStart, fields[o + PARAMETER_END]),
      num_operation_heads: fields[o + HEADS],
      feed_forward_dimension: fields[o + WIDTH],
      num_feed_forward: fields[o + COUNT],
    };
  }
  return { id: decodeAscii(bytes, scan.idStart, scan.idEnd), hidden_size: scan.hiddenSize, nas_config: { encoder_layers: layers } };
}
