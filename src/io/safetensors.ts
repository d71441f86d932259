/**
 * safetensors files, read directly: an 8-byte little-endian header length N, N bytes of JSON header
 * ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then the raw little-endian data, the
 * offsets counting from its start. A sharded checkpoint is a folder with model.safetensors.index.json, whose
 * weight_map names each tensor's shard.
 *
 * Opening reads and checks every header (and that every shard the index names exists) before a tensor is read, so a
 * bad file is refused at once with E_FORMAT or E_IO naming the file and the tensor. Tensor data is read on demand,
 * one tensor at a time (positioned reads into a buffer of that tensor's size: no whole-file buffer), so memory stays
 * at one tensor.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ZeroLMError } from '../errors';

/** Bytes per element of the dtypes safetensors defines (others are refused as unknown). */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};
/** Largest header accepted: real ones are well under a megabyte even for thousands of tensors. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;
export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range in `file`. */
  begin: number;
  end: number;
  file: string;
}

const formatError = (file: string, message: string, field?: string): ZeroLMError =>
  new ZeroLMError('E_FORMAT', `${file}: ${message}`, field === undefined ? { file } : { file, field });

function readExactly(fd: number, file: string, target: Buffer, position: number): void {
  let done = 0;
  while (done < target.length) {
    let count: number;
    try {
      count = readSync(fd, target, done, target.length - done, position + done);
    } catch (cause) {
      throw new ZeroLMError('E_IO', `${file}: read failed at byte ${position + done}: ${(cause as Error).message}`, { file }, { cause });
    }
    if (count === 0) throw new ZeroLMError('E_IO', `${file}: ended at byte ${position + done}, before the ${target.length} bytes wanted from byte ${position}`, { file });
    done += count;
  }
}

function openFile(file: string): number {
  try {
    return openSync(file, 'r');
  } catch (cause) {
    throw new ZeroLMError('E_IO', `${file}: cannot open: ${(cause as Error).message}`, { file }, { cause });
  }
}

/** One .safetensors file: its checked header and an open descriptor for the data. */
export class SafetensorsFile {
  readonly tensors = new Map<string, TensorEntry>();
  readonly size: number;
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
    this.size = fstatSync(fd).size;
  }

  static open(path: string): SafetensorsFile {
    const file = new SafetensorsFile(path, openFile(path));
    try {
      file.readHeader();
    } catch (error) {
      file.close();
      throw error;
    }
    return file;
  }

  private readHeader(): void {
    const { path, size } = this;
    if (size < 8) throw formatError(path, `truncated: ${size} bytes, fewer than the 8-byte header length`);
    const lengthBytes = Buffer.alloc(8);
    readExactly(this.fd as number, path, lengthBytes, 0);
    const length = lengthBytes.readBigUInt64LE(0);
    if (length > BigInt(size - 8)) throw formatError(path, `header length ${length} is longer than the file (${size} bytes): truncated, or not a safetensors file`);
    if (length > BigInt(MAX_HEADER_BYTES)) throw formatError(path, `header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    const headerBytes = Buffer.alloc(Number(length));
    readExactly(this.fd as number, path, headerBytes, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBytes.toString('utf8'));
    } catch (cause) {
      throw formatError(path, `header is not valid JSON: ${(cause as Error).message}`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw formatError(path, 'header must be a JSON object');
    const dataStart = 8 + Number(length);
    const dataBytes = size - dataStart;
    const entries: TensorEntry[] = [];
    for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') continue;
      entries.push(checkEntry(path, name, value, dataStart, dataBytes));
    }
    entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
    for (let i = 1; i < entries.length; i++) {
      const previous = entries[i - 1];
      const entry = entries[i];
      if (entry.begin < previous.end) {
        throw formatError(
          path,
          `tensors ${JSON.stringify(previous.name)} and ${JSON.stringify(entry.name)} overlap (data bytes ${previous.begin - dataStart}..${previous.end - dataStart} and ${entry.begin - dataStart}..${entry.end - dataStart})`,
          entry.name,
        );
      }
    }
    for (const entry of entries) this.tensors.set(entry.name, entry);
  }

  /**
   * The raw bytes of a tensor of this file: in a fresh buffer, or at the start of `scratch` when it is large enough
   * (reusing memory reads several times faster than touching new pages).
   */
  read(entry: TensorEntry, scratch?: Buffer): Buffer {
    if (this.fd === undefined) throw new ZeroLMError('E_IO', `${this.path}: already closed`, { file: this.path });
    const length = entry.end - entry.begin;
    const bytes = scratch !== undefined && scratch.length >= length ? scratch.subarray(0, length) : Buffer.allocUnsafe(length);
    readExactly(this.fd, this.path, bytes, entry.begin);
    return bytes;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function checkEntry(path: string, name: string, value: unknown, dataStart: number, dataBytes: number): TensorEntry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw formatError(path, `${where}: must be an object with dtype, shape and data_offsets`, name);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') throw formatError(path, `${where}: dtype must be a string`, name);
  const elementBytes = DTYPE_BYTES[dtype];
  if (elementBytes === undefined) throw formatError(path, `${where}: unknown dtype ${JSON.stringify(dtype)}`, name);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) throw formatError(path, `${where}: shape must be a list of non-negative integers`, name);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
    throw formatError(path, `${where}: data_offsets must be [begin, end], two non-negative integers`, name);
  }
  const [begin, end] = offsets as number[];
  if (begin > end) throw formatError(path, `${where}: data_offsets [${begin}, ${end}] end before they begin`, name);
  if (end > dataBytes) {
    throw formatError(path, `${where}: data_offsets [${begin}, ${end}] run past the end of the data (${dataBytes} bytes): the file is truncated or the offsets are out of range`, name);
  }
  const elements = (shape as number[]).reduce((product, d) => product * d, 1);
  if (elements * elementBytes !== end - begin) {
    throw formatError(path, `${where}: shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${elements * elementBytes} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`, name);
  }
  return { name, dtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end, file: path };
}

/**
 * The weights of one checkpoint: a .safetensors file, a folder holding model.safetensors, or a folder (or the index
 * file itself) with model.safetensors.index.json and its shards.
 */
export class WeightStore {
  private readonly files: SafetensorsFile[] = [];
  private readonly byName = new Map<string, SafetensorsFile>();

  private constructor(
    /** What the user named, for messages. */
    readonly location: string,
  ) {}

  static open(location: string): WeightStore {
    const store = new WeightStore(location);
    try {
      store.load(location);
    } catch (error) {
      store.close();
      throw error;
    }
    return store;
  }

  private load(location: string): void {
    let stats;
    try {
      stats = statSync(location);
    } catch (cause) {
      throw new ZeroLMError('E_IO', `${location}: cannot read weights: ${(cause as Error).message}`, { file: location }, { cause });
    }
    if (stats.isDirectory()) {
      const index = join(location, INDEX_FILE);
      if (existsSync(index)) return this.loadIndex(index, location);
      const single = join(location, SINGLE_FILE);
      if (existsSync(single)) return this.add(SafetensorsFile.open(single));
      throw new ZeroLMError('E_IO', `${location}: holds neither ${INDEX_FILE} nor ${SINGLE_FILE}`, { file: location });
    }
    if (location.endsWith('.index.json')) return this.loadIndex(location, dirname(location));
    this.add(SafetensorsFile.open(location));
  }

  private loadIndex(index: string, folder: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(index, 'utf8'));
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code !== undefined ? 'E_IO' : 'E_FORMAT';
      throw new ZeroLMError(code, `${index}: ${(cause as Error).message}`, { file: index }, { cause });
    }
    const weightMap = (parsed as { weight_map?: unknown } | null)?.weight_map;
    if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) throw formatError(index, 'weight_map must be an object of tensor name -> shard file', 'weight_map');
    const shards = new Map<string, SafetensorsFile>();
    for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
      if (typeof shard !== 'string' || shard === '' || shard.includes('/') || shard.includes('\\')) {
        throw formatError(index, `weight_map[${JSON.stringify(name)}] must be a shard file name in the same folder, got ${JSON.stringify(shard)}`, `weight_map.${name}`);
      }
      if (!shards.has(shard)) {
        const path = join(folder, shard);
        if (!existsSync(path)) {
          throw new ZeroLMError('E_IO', `${index}: names shard ${shard} (for tensor ${JSON.stringify(name)}), which does not exist in ${folder}`, { file: index, field: `weight_map.${name}` });
        }
        const file = SafetensorsFile.open(path);
        shards.set(shard, file);
        this.files.push(file);
      }
      const file = shards.get(shard) as SafetensorsFile;
      if (!file.tensors.has(name)) throw formatError(index, `weight_map puts tensor ${JSON.stringify(name)} in ${shard}, whose header does not list it`, `weight_map.${name}`);
      this.byName.set(name, file);
    }
  }

  private add(file: SafetensorsFile): void {
    this.files.push(file);
    for (const name of file.tensors.keys()) this.byName.set(name, file);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): TensorEntry | undefined {
    return this.byName.get(name)?.tensors.get(name);
  }

  read(entry: TensorEntry, scratch?: Buffer): Buffer {
    const file = this.byName.get(entry.name);
    if (file === undefined) throw new ZeroLMError('E_FORMAT', `${this.location}: no tensor ${JSON.stringify(entry.name)}`, { file: this.location });
    return file.read(entry, scratch);
  }

  close(): void {
    for (const file of this.files) file.close();
  }
}
