/**
 * Readers for architecture files: JSON (one object or an array), JSONL (streamed line by line, bounded memory),
 * YAML (one or many documents). Every input becomes an InputRecord; anything unreadable becomes an InputRecord
 * carrying the error and where it happened, so a stream of N inputs always yields N records.
 */
import { createReadStream, fstatSync, promises as fs } from 'node:fs';
import type { Readable } from 'node:stream';
import { CLOSE_BRACE, NEWLINE, OPEN_BRACE } from '../ascii';
import { ZeroLMError } from '../errors';

export type InputFormat = 'json' | 'jsonl' | 'yaml';
export const inputFormats: readonly InputFormat[] = ['json', 'jsonl', 'yaml'];

export interface InputRecord {
  /** The parsed architecture, when parsing succeeded. */
  value?: unknown;
  /** Where it came from. */
  source: string;
  /** 1-based line in the source, where known. */
  line?: number;
  /** 0-based position among the source's inputs. */
  index: number;
  error?: ZeroLMError;
}

export interface ReadOptions {
  format?: InputFormat;
  /** Longest JSONL line accepted; a longer one becomes an error record and is skipped without being buffered. */
  maxLineBytes?: number;
  /** Largest whole-document (JSON or YAML) input accepted. */
  maxDocumentBytes?: number;
}

const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

export function formatFromName(name: string): InputFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  return undefined;
}

/** Read a file path, or '-' for standard input, one record at a time. */
export async function* readArchitectures(path: string, options: ReadOptions = {}): AsyncGenerator<InputRecord> {
  for await (const batch of readArchitectureBatches(path, options)) yield* batch;
}

/**
 * The same records in batches (one per chunk read): a consumer of millions of inputs pays the async hand-over
 * once per batch instead of once per input.
 */
export async function* readArchitectureBatches(path: string, options: ReadOptions = {}): AsyncGenerator<InputRecord[]> {
  yield* readOpenedBatches(await openSource(path, options), options);
}

/** A source opened and its format decided (the bytes sniffed are still in `stream`), or why it cannot be read. */
export type OpenedSource =
  | { source: string; format: InputFormat; stream: Readable | AsyncIterable<Buffer>; /** Bytes, for a regular file. */ size?: number; error?: undefined }
  | { source: string; error: InputRecord };

/** Open a file path, or '-' for standard input, and decide its format as readArchitectures does. */
export async function openSource(path: string, options: ReadOptions = {}): Promise<OpenedSource> {
  if (typeof path !== 'string' || path === '') {
    throw new ZeroLMError('E_ARGUMENT', `path must be a file path or '-' (standard input), got ${typeof path === 'string' ? 'an empty string' : typeof path}`, { field: 'path' });
  }
  const source = path === '-' ? '<stdin>' : path;
  let stream: Readable;
  let size: number | undefined;
  if (path === '-') {
    stream = process.stdin;
    try {
      const stat = fstatSync(0);
      if (stat.isFile()) size = stat.size; // redirected from a file
    } catch {
      size = undefined;
    }
  } else {
    try {
      const stat = await fs.stat(path);
      if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      if (stat.isFile()) size = stat.size;
    } catch (cause) {
      const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
      return { source, error: { source, index: 0, error: new ZeroLMError('E_IO', `${source}: cannot read (${reason})`, { file: source }) } };
    }
    stream = createReadStream(path, { highWaterMark: 1 << 20 });
  }
  const opened = await decideFormat(stream, source, options.format ?? formatFromName(path), options);
  return opened.error || size === undefined ? opened : { ...opened, size };
}

/** The records of an opened source, in batches. */
export async function* readOpenedBatches(opened: OpenedSource, options: ReadOptions = {}): AsyncGenerator<InputRecord[]> {
  if (opened.error) {
    yield [opened.error];
    return;
  }
  const { source, format, stream } = opened;
  const records = format === 'jsonl'
    ? readJsonLines(stream, source, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)
    : readDocument(stream, source, format, options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES);
  // A failure nobody foresaw (the stream breaks, a parser throws) ends this source with one more record saying
  // so; the records read before it stand, and the sources after it are still read.
  let count = 0;
  try {
    for await (const batch of records) {
      if (batch.length > 0) count = batch[batch.length - 1].index + 1;
      yield batch;
    }
  } catch (cause) {
    yield [{ source, index: count, error: readFailure(source, cause) }];
  }
}

/**
 * A source's bytes that end, instead of throwing, when the source fails midway (a read error): `failure` then holds
 * the error for the record that ends the source (for readers that take a byte stream, such as scoreJsonLines).
 */
export class GuardedByteStream implements AsyncIterable<Buffer> {
  failure: ZeroLMError | undefined;
  constructor(
    private readonly stream: Readable | AsyncIterable<Buffer>,
    private readonly source: string,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of this.stream as AsyncIterable<Buffer>) yield chunk;
    } catch (cause) {
      this.failure = readFailure(this.source, cause);
    }
  }
}

function readFailure(source: string, cause: unknown): ZeroLMError {
  if (cause instanceof ZeroLMError) return cause;
  const code = (cause as NodeJS.ErrnoException)?.code;
  const message = (cause as Error)?.message ?? String(cause);
  return new ZeroLMError(typeof code === 'string' && code.startsWith('E') && code !== 'ERR_INVALID_ARG_TYPE' ? 'E_IO' : 'E_PARSE', `${source}: reading stopped (${message})`, { file: source }, { cause });
}

/**
 * Read inputs from a byte stream. With no format given, the first non-blank line decides: a line that parses as
 * JSON on its own means JSONL (unless the whole input is one JSON document), otherwise the whole input is JSON if
 * it starts with '[' or '{', else YAML.
 */
export async function* readStream(stream: Readable, source: string, format: InputFormat | undefined, options: ReadOptions = {}): AsyncGenerator<InputRecord> {
  for await (const batch of readStreamBatches(stream, source, format, options)) yield* batch;
}

export async function* readStreamBatches(stream: Readable, source: string, format: InputFormat | undefined, options: ReadOptions = {}): AsyncGenerator<InputRecord[]> {
  yield* readOpenedBatches(await decideFormat(stream, source, format, options), options);
}

async function decideFormat(stream: Readable | AsyncIterable<Buffer>, source: string, format: InputFormat | undefined, options: ReadOptions): Promise<OpenedSource> {
  if (format !== undefined) return { source, format, stream: withoutByteOrderMark(stream) };
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxDocument = options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  // Sniff: buffer up to the first newline (bounded), then decide.
  const sniffed = await sniff(withoutByteOrderMark(stream), Math.min(maxLine, maxDocument));
  const replay = prepend(sniffed.buffered, sniffed.rest);
  // Only JSONL can skip a line and go on: an over-long first line is its first (error) record, not the end.
  if (sniffed.kind === 'overlong') return { source, format: 'jsonl', stream: replay };
  const { firstLine } = sniffed;
  const trimmed = firstLine.trim();
  let lineIsJson = false;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      JSON.parse(trimmed);
      lineIsJson = true;
    } catch {
      lineIsJson = false;
    }
  }
  if (lineIsJson && sniffed.hasMore) return { source, format: 'jsonl', stream: replay };
  return { source, format: trimmed.startsWith('{') || trimmed.startsWith('[') ? 'json' : 'yaml', stream: replay };
}

type Sniffed =
  | { kind: 'ok'; firstLine: string; buffered: Buffer; rest: AsyncIterator<Buffer>; hasMore: boolean }
  | { kind: 'overlong'; buffered: Buffer; rest: AsyncIterator<Buffer> };

/**
 * Read up to the end of the first non-blank line (LF-terminated; in a stream with no LF at all, CR-terminated), or
 * past `limit` bytes. Returns the bytes read (to be replayed) and the rest of the stream. Each chunk is searched
 * once, so a long first line costs linear time.
 */
async function sniff(stream: AsyncIterable<Buffer>, limit: number): Promise<Sniffed> {
  const iterator = stream[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  /** Bytes of the line being read, and whether it has shown anything but white space. */
  let lineBytes = 0;
  let lineBlank = true;
  for (;;) {
    const { value, done } = await iterator.next();
    if (done) {
      const buffered = Buffer.concat(chunks, length);
      const text = buffered.toString('utf8');
      // No LF anywhere: the lines may end in CR alone (classic Mac OS).
      const crLines = text.includes('\n') ? [] : text.split('\r').filter((line) => line.trim() !== '');
      if (crLines.length > 1) return { kind: 'ok', firstLine: crLines[0], buffered, rest: emptyIterator(), hasMore: true };
      return { kind: 'ok', firstLine: text, buffered, rest: emptyIterator(), hasMore: false };
    }
    const chunk = typeof value === 'string' ? Buffer.from(value) : (value as Buffer);
    chunks.push(chunk);
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline < 0 ? chunk.length : newline;
      if (lineBlank && chunk.toString('utf8', start, end).trim() !== '') lineBlank = false;
      lineBytes += end - start;
      if (newline < 0) break;
      if (!lineBlank) {
        const buffered = Buffer.concat(chunks, length + chunk.length);
        const lineEnd = length + newline + 1;
        return { kind: 'ok', firstLine: buffered.toString('utf8', 0, lineEnd), buffered, rest: iterator, hasMore: true };
      }
      lineBytes = 0;
      start = newline + 1;
    }
    length += chunk.length;
    if (lineBytes > limit) return { kind: 'overlong', buffered: Buffer.concat(chunks, length), rest: iterator };
  }
}

const BYTE_ORDER_MARK = Buffer.from([0xef, 0xbb, 0xbf]);

/** The stream without a UTF-8 byte order mark at its start (JSON.parse refuses one; editors on Windows write it). */
async function* withoutByteOrderMark(stream: Readable | AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  for await (const raw of stream as AsyncIterable<Buffer | string>) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    if (head === undefined) {
      yield chunk;
      continue;
    }
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.length < BYTE_ORDER_MARK.length && BYTE_ORDER_MARK.subarray(0, head.length).equals(head)) continue; // undecided yet
    const first: Buffer = head.subarray(0, 3).equals(BYTE_ORDER_MARK) ? head.subarray(3) : head;
    head = undefined;
    if (first.length > 0) yield first;
  }
  if (head !== undefined && head.length > 0) yield head;
}

function emptyIterator(): AsyncIterator<Buffer> {
  return { next: async () => ({ value: undefined, done: true }) };
}

function prependIterator(first: Buffer, rest: AsyncIterator<Buffer>): AsyncIterator<Buffer> {
  let pending: Buffer | undefined = first.length > 0 ? first : undefined;
  return {
    next: async () => {
      if (pending) {
        const value = pending;
        pending = undefined;
        return { value, done: false };
      }
      return rest.next();
    },
  };
}

function prepend(first: Buffer, rest: AsyncIterator<Buffer>): Readable {
  const iterable = { [Symbol.asyncIterator]: () => prependIterator(first, rest) };
  return iterable as unknown as Readable;
}


/** Whether the JSONL line on bytes [start, end) is blank (white space only): blank lines separate, they are not inputs. */
function isBlankLine(bytes: Buffer, start: number, end: number): boolean {
  return !(end > start && bytes[start] === OPEN_BRACE) && bytes.toString('utf8', start, end).trim() === '';
}

/** Turns JSONL lines into InputRecords, counting lines and inputs on from where it is told to start. */
class JsonLineRecords {
  constructor(
    readonly source: string,
    readonly maxLine: number,
    /** Lines read so far; the caller counts each line before asking for its record. */
    public lineNumber = 0,
    /** Inputs (non-blank lines) so far. */
    public index = 0,
  ) {}

  /** The record of the whole line on bytes [start, end), or undefined for a blank line. */
  record(bytes: Buffer, start: number, end: number): InputRecord | undefined {
    const { source, lineNumber } = this;
    let text = bytes.toString('utf8', start, end);
    // Most lines are a bare object; anything else is trimmed (of all Unicode white space, as always) first.
    if (!(end > start && bytes[start] === OPEN_BRACE && bytes[end - 1] === CLOSE_BRACE)) {
      text = text.trim();
      if (text === '') return undefined;
    }
    // Parsed before the record is built: its index must be taken once, whether the line parses or not.
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      return { source, line: lineNumber, index: this.index++, error: new ZeroLMError('E_PARSE', `${source}:${lineNumber}: invalid JSON (${(cause as Error).message})`, { file: source, line: lineNumber }) };
    }
    return { source, line: lineNumber, index: this.index++, value };
  }

  /** The record of a line longer than maxLine, which is skipped without being buffered. */
  tooLong(): InputRecord {
    const { source, lineNumber, maxLine } = this;
    return { source, line: lineNumber, index: this.index++, error: new ZeroLMError('E_PARSE', `${source}:${lineNumber}: line is longer than ${maxLine} bytes; skipped`, { file: source, line: lineNumber }) };
  }

}

/** What JsonLineSplitter finds, line by line, in input order. */
interface LineVisitor {
  /**
   * A whole line on bytes [start, end) (its newline excluded). `inChunk`: the bytes are the chunk being split, and
   * `end` is the line's newline in it; otherwise the line spanned chunks (or ended the stream without a newline)
   * and `bytes` holds it alone.
   */
  line(bytes: Buffer, start: number, end: number, inChunk: boolean): void;
  /** A line longer than maxLine: skipped without being buffered. */
  tooLong(): void;
}

/**
 * Finds the lines of a byte stream given chunk by chunk, numbering them: a line inside a chunk is read in place, a
 * line that spans chunks is joined (bytes are decoded only once the line is whole, so multi-byte characters
 * survive), and a line longer than maxLine is reported without being buffered.
 */
class JsonLineSplitter {
  /** Lines found so far (the one being reported included). */
  lineNumber = 0;
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  private overlong = false;
  constructor(private readonly maxLine: number) {}

  split(chunk: Buffer, visitor: LineVisitor): void {
    let start = 0;
    /** The next carriage return at or after `start` (-1: none left in the chunk). */
    let carriageReturn = chunk.indexOf(CARRIAGE_RETURN);
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline < 0) break;
      this.lineNumber++;
      if (this.pieces.length === 0 && !this.overlong) {
        // The common case: the whole line is inside this chunk.
        if (newline - start > this.maxLine) visitor.tooLong();
        else {
          if (carriageReturn >= 0 && carriageReturn < start) carriageReturn = chunk.indexOf(CARRIAGE_RETURN, start);
          if (carriageReturn >= 0 && carriageReturn < newline - 1) this.carriageReturnLines(chunk, start, newline, true, visitor);
          else visitor.line(chunk, start, newline, true);
        }
      } else {
        this.pieces.push(chunk.subarray(start, newline));
        this.pieceBytes += newline - start;
        this.endSpanningLine(visitor);
      }
      start = newline + 1;
    }
    if (!this.overlong && start < chunk.length) {
      this.pieces.push(chunk.subarray(start));
      this.pieceBytes += chunk.length - start;
      if (this.pieceBytes > this.maxLine) {
        this.overlong = true;
        this.pieces = [];
        this.pieceBytes = 0;
      }
    }
  }

  /** The stream's last line, if it has no newline. */
  finish(visitor: LineVisitor): void {
    if (this.pieceBytes === 0 && !this.overlong) return;
    this.lineNumber++;
    this.endSpanningLine(visitor);
  }

  private endSpanningLine(visitor: LineVisitor): void {
    if (this.overlong || this.pieceBytes > this.maxLine) visitor.tooLong();
    else {
      const whole = Buffer.concat(this.pieces, this.pieceBytes);
      this.carriageReturnLines(whole, 0, whole.length, false, visitor);
    }
    this.overlong = false;
    this.pieces = [];
    this.pieceBytes = 0;
  }

  /** The line on [start, end), split where a carriage return ends a line by itself (see nextLineEnd). */
  private carriageReturnLines(bytes: Buffer, start: number, end: number, inChunk: boolean, visitor: LineVisitor): void {
    for (;;) {
      const lineEnd = nextLineEnd(bytes, start, end);
      visitor.line(bytes, start, lineEnd, inChunk);
      if (lineEnd === end) return;
      this.lineNumber++;
      start = lineEnd + 1;
    }
  }
}

const CARRIAGE_RETURN = 13;

/**
 * Where the line starting at `start` ends within [start, end): at a carriage return that ends a line by itself
 * (classic Mac OS line ends), or at `end`. A carriage return just before `end` is the CR of a CRLF and stays in the
 * line (white space, trimmed like any other).
 */
function nextLineEnd(bytes: Buffer, start: number, end: number): number {
  const carriageReturn = bytes.indexOf(CARRIAGE_RETURN, start);
  return carriageReturn >= 0 && carriageReturn < end - 1 ? carriageReturn : end;
}

async function* readJsonLines(stream: Readable | AsyncIterable<Buffer>, source: string, maxLine: number): AsyncGenerator<InputRecord[]> {
  const lines = new JsonLineRecords(source, maxLine);
  const splitter = new JsonLineSplitter(maxLine);
  let batch: InputRecord[] = [];
  const visitor: LineVisitor = {
    line(bytes, start, end) {
      lines.lineNumber = splitter.lineNumber;
      const record = lines.record(bytes, start, end);
      if (record) batch.push(record);
    },
    tooLong() {
      lines.lineNumber = splitter.lineNumber;
      batch.push(lines.tooLong());
    },
  };
  for await (const raw of stream as AsyncIterable<Buffer | string>) {
    splitter.split(typeof raw === 'string' ? Buffer.from(raw) : raw, visitor);
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
  splitter.finish(visitor);
  if (batch.length > 0) yield batch;
}

/** Input bytes per LineUnit: small enough that scoring a unit keeps its output in a core's cache. */
const DEFAULT_UNIT_BYTES = 1 << 16;

/**
 * Whole JSONL lines cut from a stream, to be read elsewhere (another thread) with recordsOfLineUnit. `linesBefore`
 * and `inputsBefore` say where the unit starts in its source, so its records are numbered as readArchitectures
 * numbers them. The bytes are a fresh buffer of their own, so they can be transferred.
 */
export interface LineUnit {
  bytes: Uint8Array;
  linesBefore: number;
  inputsBefore: number;
  /** Non-blank lines in the unit: the records it will give. */
  inputs: number;
}

/** What a JsonLineCutter hands on, in input order: a unit of lines, or a record it made itself (an error). */
export type LineUnitItem = { unit: LineUnit; record?: undefined } | { unit?: undefined; record: InputRecord };

/**
 * Cuts a JSONL byte stream into units of whole lines of about `unitBytes` each (default 256 KiB), counting lines and inputs as
 * readArchitectures does. A line longer than maxLineBytes is not buffered: it becomes an error record between
 * units, and so does a source with no inputs. The units' records, read with recordsOfLineUnit, together with
 * those records, are exactly readArchitectures' records of the same bytes.
 */
export class JsonLineCutter implements LineVisitor {
  private readonly unitTarget: number;
  private readonly splitter: JsonLineSplitter;
  private readonly records: JsonLineRecords;
  /** Items completed by the chunk being split. */
  private out: LineUnitItem[] = [];
  /** The chunk being split, and its run of whole lines [runStart, runEnd) not yet added to the unit. */
  private chunk: Buffer | undefined;
  private runStart = -1;
  private runEnd = -1;
  private parts: Buffer[] = [];
  private unitBytes = 0;
  private unitOpen = false;
  private unitLinesBefore = 0;
  private unitInputsBefore = 0;

  constructor(readonly source: string, options: { maxLineBytes?: number; unitBytes?: number } = {}) {
    const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.unitTarget = options.unitBytes ?? DEFAULT_UNIT_BYTES;
    this.splitter = new JsonLineSplitter(maxLine);
    this.records = new JsonLineRecords(source, maxLine);
  }

  /** Items completed by this chunk. */
  push(chunk: Buffer): LineUnitItem[] {
    this.chunk = chunk;
    this.splitter.split(chunk, this);
    this.closeRun();
    this.chunk = undefined;
    return this.take();
  }

  /** Items left at the end of the stream. */
  end(): LineUnitItem[] {
    this.splitter.finish(this);
    this.flush();
    return this.take();
  }

  /** A whole line joins the unit. */
  line(bytes: Buffer, start: number, end: number, inChunk: boolean): void {
    if (!this.unitOpen) {
      this.unitOpen = true;
      this.unitLinesBefore = this.splitter.lineNumber - 1;
      this.unitInputsBefore = this.records.index;
    }
    if (!isBlankLine(bytes, start, end)) this.records.index++;
    if (!inChunk) {
      this.addPart(bytes.subarray(start, end));
      // A joined line lacks its newline, unless it ended the stream without one.
      if (this.chunk !== undefined || end < bytes.length) this.addPart(NEWLINE_BYTE);
      return;
    }
    if (this.runStart < 0) this.runStart = start;
    this.runEnd = end + 1;
    if (this.unitBytes + this.runEnd - this.runStart >= this.unitTarget) {
      this.closeRun();
      this.flush();
    }
  }

  /** An over-long line becomes an error record between units. */
  tooLong(): void {
    this.closeRun();
    this.flush();
    this.records.lineNumber = this.splitter.lineNumber;
    this.out.push({ record: this.records.tooLong() });
  }

  private take(): LineUnitItem[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private closeRun(): void {
    if (this.runStart >= 0) this.addPart((this.chunk as Buffer).subarray(this.runStart, this.runEnd));
    this.runStart = -1;
  }

  private addPart(part: Buffer): void {
    if (part.length === 0) return;
    this.parts.push(part);
    this.unitBytes += part.length;
  }

  private flush(): void {
    if (!this.unitOpen) return;
    const bytes = new Uint8Array(this.unitBytes);
    let offset = 0;
    for (const part of this.parts) {
      bytes.set(part, offset);
      offset += part.length;
    }
    this.out.push({ unit: { bytes, linesBefore: this.unitLinesBefore, inputsBefore: this.unitInputsBefore, inputs: this.records.index - this.unitInputsBefore } });
    this.parts = [];
    this.unitBytes = 0;
    this.unitOpen = false;
  }
}

const NEWLINE_BYTE = Buffer.from([NEWLINE]);

/** The records of a unit cut by JsonLineCutter, numbered where the unit sits in `source`. */
export function recordsOfLineUnit(unit: LineUnit, source: string): InputRecord[] {
  const bytes = Buffer.from(unit.bytes.buffer, unit.bytes.byteOffset, unit.bytes.byteLength);
  const lines = new JsonLineRecords(source, Infinity, unit.linesBefore, unit.inputsBefore);
  const records: InputRecord[] = [];
  let start = 0;
  // The next carriage return at or after `start` (-1: none left), found once rather than searched for from every line
  // to the end of the unit (which made reading a unit quadratic in its length).
  let carriageReturn = bytes.indexOf(CARRIAGE_RETURN);
  while (start < bytes.length) {
    let newline = bytes.indexOf(NEWLINE, start);
    if (newline < 0) newline = bytes.length; // the source's last line, with no newline
    for (;;) {
      if (carriageReturn >= 0 && carriageReturn < start) carriageReturn = bytes.indexOf(CARRIAGE_RETURN, start);
      // A carriage return that ends a line by itself (see nextLineEnd); one just before the newline stays in the line.
      const lineEnd = carriageReturn >= 0 && carriageReturn < newline - 1 ? carriageReturn : newline;
      lines.lineNumber++;
      const record = lines.record(bytes, start, lineEnd);
      if (record) records.push(record);
      start = lineEnd + 1;
      if (lineEnd === newline) break;
    }
  }
  return records;
}

async function* readDocument(stream: Readable | AsyncIterable<Buffer>, source: string, format: 'json' | 'yaml', maxDocument: number): AsyncGenerator<InputRecord[]> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const raw of stream as AsyncIterable<Buffer | string>) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    length += chunk.length;
    if (length > maxDocument) {
      (stream as Readable).destroy?.();
      yield [{ source, index: 0, error: new ZeroLMError('E_PARSE', `${source}: a ${format.toUpperCase()} document larger than ${maxDocument} bytes is not read whole; use JSONL for large streams`, { file: source }) }];
      return;
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return; // no inputs, no records
  const values: Array<{ value: unknown; line?: number }> = [];
  if (format === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      const message = (cause as Error).message;
      const line = lineOfJsonError(text, message);
      yield [{ source, index: 0, ...(line ? { line } : {}), error: new ZeroLMError('E_PARSE', `${source}${line ? `:${line}` : ''}: invalid JSON (${message})`, { file: source, ...(line ? { line } : {}) }) }];
      return;
    }
    for (const value of Array.isArray(parsed) ? parsed : [parsed]) values.push({ value });
  } else {
    // Loaded here, not at the top: the YAML parser takes longer to load than a JSONL stream takes to start.
    const { parseAllDocuments } = await import('yaml');
    const documents = parseAllDocuments(text);
    const list = Array.isArray(documents) ? documents : [documents];
    for (const document of list) {
      const line = lineAt(text, document.range?.[0] ?? 0);
      if (document.errors.length > 0) {
        const first = document.errors[0];
        const errorLine = first.linePos?.[0]?.line ?? line;
        values.push({ value: new ZeroLMError('E_PARSE', `${source}:${errorLine}: invalid YAML (${first.message.split('\n')[0]})`, { file: source, line: errorLine }), line: errorLine });
        continue;
      }
      let value: unknown;
      try {
        value = document.toJS({ maxAliasCount: 100 });
      } catch (cause) {
        // Parsed, but refused when built: more aliases than allowed (a "billion laughs" document), nesting too deep.
        values.push({ value: new ZeroLMError('E_PARSE', `${source}:${line}: YAML document not read (${(cause as Error)?.message ?? String(cause)})`, { file: source, line }, { cause }), line });
        continue;
      }
      if (value === null || value === undefined) continue; // empty document between separators
      if (Array.isArray(value)) for (const item of value) values.push({ value: item, line });
      else values.push({ value, line });
    }
  }
  if (values.length === 0) return;
  let index = 0;
  const records: InputRecord[] = [];
  for (const { value, line } of values) {
    const where = line === undefined ? {} : { line };
    if (value instanceof ZeroLMError) records.push({ source, index: index++, ...where, error: value });
    else records.push({ source, index: index++, ...where, value });
  }
  yield records;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** V8's JSON errors name a position ("at position 123" or "line 4 column 2"); turn it into a line. */
function lineOfJsonError(text: string, message: string): number | undefined {
  const lineMatch = /line (\d+)/.exec(message);
  if (lineMatch) return Number(lineMatch[1]);
  const positionMatch = /position (\d+)/.exec(message);
  if (positionMatch) return lineAt(text, Number(positionMatch[1]));
  return undefined;
}
