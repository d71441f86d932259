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
 *
 * The bytes are read by the addon (native/lines/, scanSampledLines in src/native.ts), a whole buffer of lines per
 * call; here the fields it found become objects or plans. Without the addon (not built: analytic scoring needs
 * none) every line is left to JSON.parse: the same records, slower.
 */

import type { LineParser } from '../arch/input';
import { memoisedNasBenchBertPlan, type EncoderLayerFields } from '../arch/nas-bench-bert';
import { ZeroLMError } from '../errors';
import { SAMPLED_LAYER_FIELDS, SAMPLED_LINE_FIELDS, scanSampledLines, type SampledLinesScan } from '../native';

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

/** Per-line fields of a SampledLinesScan: see scanSampledLines. */
const LINE_START = 0;
const LINE_END = 1;
const LINE_FIRST_LAYER = 2;
const LINE_LAYER_COUNT = 3;
const LINE_ID_START = 4;
const LINE_ID_END = 5;
/** Per-layer fields. */
const TYPE_START = 0;
const TYPE_END = 1;
/** Where a quoted parameter's text starts, or -1 when the parameter is an integer (then PARAMETER_VALUE holds it). */
const PARAMETER_START = 2;
const PARAMETER_END = 3;
const PARAMETER_VALUE = 4;
const HEADS = 5;
const WIDTH = 6;
const COUNT = 7;

/**
 * One canonical line of a scanned buffer, as the fields the builder reads: a cursor over the addon's arrays (it
 * copies nothing), moved from line to line.
 */
class SampledLine implements EncoderLayerFields {
  bytes: Buffer = Buffer.alloc(0);
  scan: SampledLinesScan | undefined;
  /** The line's index in the scan, and where its first layer starts in scan.layers. */
  private lineIndex = 0;
  private layerOffset = 0;
  layerCount = 0;

  /** Points at line `line` of `scan` (of `bytes`); false when that line is not in the canonical form. */
  point(bytes: Buffer, scan: SampledLinesScan, line: number): boolean {
    const o = line * SAMPLED_LINE_FIELDS;
    const firstLayer = scan.lines[o + LINE_FIRST_LAYER];
    if (firstLayer < 0) return false;
    this.bytes = bytes;
    this.scan = scan;
    this.lineIndex = line;
    this.layerOffset = firstLayer * SAMPLED_LAYER_FIELDS;
    this.layerCount = scan.lines[o + LINE_LAYER_COUNT];
    return true;
  }

  private field(layer: number, field: number): number {
    return (this.scan as SampledLinesScan).layers[this.layerOffset + layer * SAMPLED_LAYER_FIELDS + field];
  }

  id(): string {
    const lines = (this.scan as SampledLinesScan).lines;
    const o = this.lineIndex * SAMPLED_LINE_FIELDS;
    return decodeAscii(this.bytes, lines[o + LINE_ID_START], lines[o + LINE_ID_END]);
  }

  hiddenSize(): number {
    return (this.scan as SampledLinesScan).hidden[this.lineIndex];
  }

  /** The layer's operation_type, as the string JSON.parse gives. */
  type(layer: number): string {
    return plainText(this.bytes, this.field(layer, TYPE_START), this.field(layer, TYPE_END));
  }

  /** The layer's operation_parameter, as the string or number JSON.parse gives. */
  parameter(layer: number): string | number {
    const start = this.field(layer, PARAMETER_START);
    return start < 0 ? this.field(layer, PARAMETER_VALUE) : plainText(this.bytes, start, this.field(layer, PARAMETER_END));
  }

  heads(layer: number): number {
    return this.field(layer, HEADS);
  }

  width(layer: number): number {
    return this.field(layer, WIDTH);
  }

  count(layer: number): number {
    return this.field(layer, COUNT);
  }

  /** The object JSON.parse gives for the line. */
  architecture(): unknown {
    const count = this.layerCount;
    const layers = new Array<unknown>(count);
    for (let i = 0; i < count; i++) {
      layers[i] = { operation_type: this.type(i), operation_parameter: this.parameter(i), num_operation_heads: this.heads(i), feed_forward_dimension: this.width(i), num_feed_forward: this.count(i) };
    }
    return { id: this.id(), hidden_size: this.hiddenSize(), nas_config: { encoder_layers: layers } };
  }
}

/** Whether the addon can be used here (undefined until first tried). */
let addonAvailable: boolean | undefined;

/**
 * The addon's scan of `bytes`, or undefined without the addon (not built, or stale: then nothing is scanned in this
 * process again, and lines go to JSON.parse). Any other failure of the addon is thrown: it is a bug to see.
 */
function scanned(bytes: Uint8Array): SampledLinesScan | undefined {
  if (addonAvailable === false || bytes.length >= 2 ** 31) return undefined;
  try {
    const scan = scanSampledLines(bytes);
    addonAvailable = true;
    return scan;
  } catch (cause) {
    if (!(cause instanceof ZeroLMError && cause.code === 'E_NATIVE_MISSING')) throw cause;
    addonAvailable = false;
    return undefined;
  }
}

/**
 * Lines read by one reader: the scan of the buffer announced last (startBuffer), handed out line by line in the
 * order lines are asked for; a line it does not hold (no buffer announced, or a range that is not one of its
 * lines) is scanned alone.
 */
class LineScans {
  private bytes: Buffer | undefined;
  private scan: SampledLinesScan | undefined;
  /** The line of `scan` asked for next. */
  private next = 0;
  readonly line = new SampledLine();

  start(bytes: Buffer): void {
    this.bytes = undefined;
    this.scan = undefined;
    this.next = 0;
    const scan = scanned(bytes);
    this.bytes = bytes;
    this.scan = scan;
  }

  /** Points `line` at the line on bytes [start, end); false when it is not in the canonical form (or unread). */
  find(bytes: Buffer, start: number, end: number): boolean {
    if (start < 0 || end > bytes.length || start > end) return false;
    const scan = this.scan;
    if (scan !== undefined && bytes === this.bytes) {
      const lines = scan.lines;
      const count = lines.length / SAMPLED_LINE_FIELDS;
      let line = this.next;
      while (line < count && lines[line * SAMPLED_LINE_FIELDS + LINE_START] < start) line++;
      this.next = line;
      if (line < count && lines[line * SAMPLED_LINE_FIELDS + LINE_START] === start && lines[line * SAMPLED_LINE_FIELDS + LINE_END] === end) {
        return this.line.point(bytes, scan, line);
      }
    }
    // Scanned alone, the line's offsets count from its start: it is read in a buffer of its own.
    const lineBytes = bytes.subarray(start, end);
    const alone = scanned(lineBytes);
    if (alone === undefined || alone.lines.length !== SAMPLED_LINE_FIELDS) return false;
    return this.line.point(lineBytes, alone, 0);
  }
}

const plainScans = new LineScans();

/** The architecture on bytes [start, end) of a sampled nas-bench-bert line, or undefined if not in the form above. */
export function parseSampledLine(bytes: Buffer, start: number, end: number): unknown {
  return plainScans.find(bytes, start, end) ? plainScans.line.architecture() : undefined;
}

/**
 * A reader of JSONL lines for scoring with these options: a sampled nas-bench-bert line whose every part the
 * builder has memoised becomes its ModelPlan straight from the scan (no objects parsed, nothing built: the plan the
 * builder would return); any other sampled line becomes its object as parseSampledLine reads it; anything else is
 * left to JSON.parse. The plan is taken only where the scorer would build the line as nas-bench-bert itself (no
 * family given, or that one), since a plan bypasses the family and build options. Announce each buffer with
 * startBuffer (the JSONL readers do) and its lines are scanned in one call.
 */
export function sampledLineParser(options: { family?: string; build?: string }): LineParser {
  const planned = options.family === undefined || options.family === 'nas-bench-bert';
  const build = options.build;
  const scans = new LineScans();
  const line = scans.line;
  const parser: LineParser = (bytes, start, end) => {
    if (!scans.find(bytes, start, end)) return undefined;
    return (planned && memoisedNasBenchBertPlan(line.id(), line.hiddenSize(), line, build)) || line.architecture();
  };
  parser.startBuffer = (bytes) => scans.start(bytes);
  return parser;
}
