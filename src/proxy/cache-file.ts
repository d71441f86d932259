/**
 * Persistent capacity cache: a versioned, checksummed JSON file. A file that is corrupt, truncated, of another
 * version, made by another numerics revision or on another SIMD path / addon ABI is reported and ignored (the cache
 * is rebuilt), never trusted.
 *
 * The file is only ever replaced when it is one of ours: a path that holds anything else (an input file, a device,
 * a directory, a read-only file) is refused before any work, so a mistyped `--cache` can never destroy data.
 * A symbolic link is written through (the file it points at is replaced), never over. Saving merges the entries
 * another process saved to the same file since, under a lock file, so concurrent runs do not lose each other's work.
 */
import { accessible } from '../io/files';
import { createHash } from 'node:crypto';
import { constants, promises as fs, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ZeroLMError } from '../errors';
import { ADDON_ABI_VERSION, simd } from '../native';
import { CapacityCache } from './cache';

export const CACHE_FORMAT = 'zerolm-capacity-cache';
export const CACHE_VERSION = 2;
/**
 * Bumped whenever a change anywhere in the pipeline could change a cached capacity (RNG, fills, solvers, measure
 * definitions, key layout): old files then stop matching instead of serving stale numbers.
 */
export const NUMERICS_REVISION = 1;

/**
 * What the capacities were computed with beyond the numerics revision: full spectra may differ in the last bits
 * between the avx2-fma and scalar kernels, and a new addon ABI may change them too.
 */
export interface CacheFingerprint {
  simd: string;
  abi: number;
}

interface CacheFileContents extends CacheFingerprint {
  format: string;
  version: number;
  numerics: number;
  count: number;
  checksum: string;
  entries: Array<[string, number]>;
}

/** This process's fingerprint; without the addon (analytic scoring needs none) the SIMD path is 'none'. */
export function cacheFingerprint(): CacheFingerprint {
  let path: string;
  try {
    path = simd();
  } catch {
    path = 'none';
  }
  return { simd: path, abi: ADDON_ABI_VERSION };
}

function checksumOf(entries: Array<[string, number]>): string {
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

/** How every cache file starts (JSON.stringify writes `format` first); anything else is not ours to replace. */
const CACHE_HEADER = /^\s*\{\s*"format"\s*:\s*"zerolm-capacity-cache"/;
const HEADER_BYTES = 256;

/** Follows symbolic links (also dangling ones, whose target a save creates) to the path that really holds the file. */
async function resolveTarget(path: string): Promise<string> {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let stat: Stats;
    try {
      stat = await fs.lstat(current);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return current;
      throw ioError(path, `cannot inspect ${current} (${(cause as Error).message})`, cause);
    }
    if (!stat.isSymbolicLink()) return current;
    current = resolve(dirname(current), await fs.readlink(current));
  }
  throw ioError(path, 'too many levels of symbolic links');
}

function ioError(path: string, why: string, cause?: unknown): ZeroLMError {
  return new ZeroLMError('E_IO', `cache ${path}: ${why}`, { file: path }, cause === undefined ? undefined : { cause });
}

/**
 * Checks, before any work, that `path` may be used as a cache file: it is absent (in a writable folder), empty, or a
 * writable regular file that starts as a zerolm cache does. Returns the path to read and replace (symbolic links
 * resolved); throws a ZeroLMError (E_IO, or E_CACHE for a file that is not a cache) otherwise.
 */
export async function checkCacheFile(path: string): Promise<string> {
  const target = await resolveTarget(path);
  const through = target === resolve(path) ? '' : ` (through the link to ${target})`;
  let stat: Stats | undefined;
  try {
    stat = await fs.stat(target);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(path, `cannot inspect${through} (${(cause as Error).message})`, cause);
  }
  const folder = dirname(target);
  if (stat === undefined) {
    let folderStat: Stats;
    try {
      folderStat = await fs.stat(folder);
    } catch {
      throw ioError(path, `folder ${folder} does not exist`);
    }
    if (!folderStat.isDirectory()) throw ioError(path, `${folder} is not a folder`);
  } else {
    if (stat.isDirectory()) throw ioError(path, `is a directory${through}; give a file path`);
    if (!stat.isFile()) throw ioError(path, `is not a regular file${through} (a device, FIFO or socket); refusing to replace it`);
    // Mode bits as well as access(): a file marked read-only is refused even for root, who may write anything.
    if ((stat.mode & 0o222) === 0 || !(await accessible(target, constants.R_OK | constants.W_OK))) {
      throw ioError(path, `is read-only${through}; refusing to replace it`);
    }
    if (stat.size > 0 && !(await startsAsCache(target))) {
      throw new ZeroLMError('E_CACHE', `cache ${path}: is not a zerolm cache file${through}; refusing to replace it (choose another --cache path)`, { file: path });
    }
  }
  if (!(await accessible(folder, constants.W_OK | constants.X_OK))) throw ioError(path, `folder ${folder} is not writable`);
  return target;
}

async function startsAsCache(path: string): Promise<boolean> {
  const handle = await fs.open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
    return CACHE_HEADER.test(buffer.toString('utf8', 0, bytesRead).replace(/^\uFEFF/, ''));
  } finally {
    await handle.close();
  }
}

export interface LoadResult {
  cache: CapacityCache;
  /** Why the file was not used, when it was not. */
  problem?: ZeroLMError;
  loaded: number;
}

/** The entries of a cache file's text, or why they cannot be used. */
function parseContents(text: string, path: string): { entries: Array<[string, number]> } | { problem: ZeroLMError } {
  const reject = (why: string, field?: string) => ({ problem: new ZeroLMError('E_CACHE', `cache ${path}: ${why}; ignored and rebuilt`, { file: path, ...(field ? { field } : {}) }) });
  let contents: CacheFileContents;
  try {
    contents = JSON.parse(text);
  } catch (cause) {
    return reject(`not valid JSON (${(cause as Error).message})`);
  }
  if (contents?.format !== CACHE_FORMAT) return reject(`not a zerolm cache file (format ${JSON.stringify(contents?.format)})`, 'format');
  if (contents.version !== CACHE_VERSION) return reject(`version ${String(contents.version)} does not match ${CACHE_VERSION}`, 'version');
  if (contents.numerics !== NUMERICS_REVISION) return reject(`made by numerics revision ${String(contents.numerics)}, this is ${NUMERICS_REVISION}`, 'numerics');
  const mine = cacheFingerprint();
  if (contents.simd !== mine.simd || contents.abi !== mine.abi) {
    return reject(`made on SIMD path ${JSON.stringify(contents.simd)} with addon ABI ${String(contents.abi)}, this is ${mine.simd} with ABI ${mine.abi} (full spectra may differ in the last bits)`, 'simd');
  }
  if (!Array.isArray(contents.entries) || contents.entries.length !== contents.count) return reject('entry count does not match', 'count');
  if (checksumOf(contents.entries) !== contents.checksum) return reject('checksum mismatch (the file was altered or truncated)', 'checksum');
  for (const [i, entry] of contents.entries.entries()) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number' || !Number.isFinite(entry[1])) {
      return reject(`entry ${i} is malformed`, `entries[${i}]`);
    }
  }
  return { entries: contents.entries };
}

/**
 * Load a cache file into a new cache. A missing file is not a problem (a first run); a damaged or mismatched cache
 * is reported in `problem` (and rebuilt). A path that must not be replaced (see checkCacheFile) throws, before any work.
 */
export async function loadCacheFile(path: string, maxEntries?: number): Promise<LoadResult> {
  const target = await checkCacheFile(path);
  const cache = new CapacityCache(maxEntries);
  let text: string;
  try {
    text = await fs.readFile(target, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { cache, loaded: 0 };
    return { cache, loaded: 0, problem: new ZeroLMError('E_IO', `cache ${path}: cannot read (${(cause as Error).message}); starting empty`, { file: path }) };
  }
  if (text.trim() === '') return { cache, loaded: 0 };
  const parsed = parseContents(text, path);
  if ('problem' in parsed) return { cache, loaded: 0, problem: parsed.problem };
  for (const [key, value] of parsed.entries) cache.set(key, value);
  return { cache, loaded: parsed.entries.length };
}

export interface SaveResult {
  /** Entries written. */
  saved: number;
  /** Of those, entries another process had saved to the file since (kept, not lost). */
  merged: number;
}

/** How long a save waits for another process's lock, and how old a lock must be to count as abandoned. */
const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 60_000;

/**
 * Write the cache, keeping the entries already in the file (another process may have saved since this one loaded),
 * atomically (temporary file beside the target, then rename) and under an exclusive lock file (`<file>.lock`), so a
 * crash never leaves a half-written cache and two concurrent saves never lose each other's entries. The file is
 * checked again as loadCacheFile checks it: a path that must not be replaced throws.
 */
export async function saveCacheFile(path: string, cache: CapacityCache): Promise<SaveResult> {
  const target = await checkCacheFile(path);
  const lock = await takeLock(target, path);
  const temporary = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const entries = await mergedEntries(target, path, cache);
    const fingerprint = cacheFingerprint();
    const contents: CacheFileContents = {
      format: CACHE_FORMAT,
      version: CACHE_VERSION,
      numerics: NUMERICS_REVISION,
      simd: fingerprint.simd,
      abi: fingerprint.abi,
      count: entries.list.length,
      checksum: checksumOf(entries.list),
      entries: entries.list,
    };
    let mode = 0o666;
    try {
      mode = (await fs.stat(target)).mode & 0o777;
    } catch {
      // a new file: the usual mode, less the umask
    }
    await fs.writeFile(temporary, JSON.stringify(contents), { mode, flag: 'wx' });
    await fs.rename(temporary, target);
    return { saved: entries.list.length, merged: entries.merged };
  } catch (cause) {
    await fs.rm(temporary, { force: true });
    if (cause instanceof ZeroLMError) throw cause;
    throw ioError(path, `cannot write (${(cause as Error).message})`, cause);
  } finally {
    await lock.release();
  }
}

/** The file's entries that `cache` lacks (older first), then the cache's own, bounded by its maxEntries. */
async function mergedEntries(target: string, path: string, cache: CapacityCache): Promise<{ list: Array<[string, number]>; merged: number }> {
  const own = [...cache];
  let text = '';
  try {
    text = await fs.readFile(target, 'utf8');
  } catch {
    return { list: own, merged: 0 };
  }
  const parsed = text.trim() === '' ? undefined : parseContents(text, path);
  if (parsed === undefined || 'problem' in parsed) return { list: own, merged: 0 }; // a damaged or foreign-made cache is replaced
  const theirs = parsed.entries.filter(([key]) => cache.peek(key) === undefined);
  const room = Math.max(0, cache.maxEntries - own.length);
  const kept = theirs.slice(Math.max(0, theirs.length - room));
  return { list: [...kept, ...own], merged: kept.length };
}

async function takeLock(target: string, path: string): Promise<{ release(): Promise<void> }> {
  const lockPath = `${target}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return { release: () => fs.rm(lockPath, { force: true }) };
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(path, `cannot create lock file ${lockPath} (${(cause as Error).message})`, cause);
    }
    try {
      const age = Date.now() - (await fs.stat(lockPath)).mtimeMs;
      if (age > STALE_LOCK_MS) {
        await fs.rm(lockPath, { force: true }); // left by a process that died while saving
        continue;
      }
    } catch {
      continue; // released meanwhile
    }
    if (Date.now() > deadline) {
      throw ioError(path, `locked by another process for over ${LOCK_WAIT_MS / 1000} s (${lockPath}); remove that file if no zerolm is running`);
    }
    await new Promise((wake) => setTimeout(wake, 25));
  }
}
