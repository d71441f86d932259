/**
 * Persistent capacity cache: a versioned, checksummed JSON file. A file that is corrupt, truncated, of another
 * version or made by another numerics revision is reported and ignored (the cache is rebuilt), never trusted.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { ZeroLMError } from '../errors';
import { CapacityCache } from './cache';

export const CACHE_FORMAT = 'zerolm-capacity-cache';
export const CACHE_VERSION = 1;
/**
 * Bumped whenever a change anywhere in the pipeline could change a cached capacity (RNG, fills, solvers, measure
 * definitions, key layout): old files then stop matching instead of serving stale numbers.
 */
export const NUMERICS_REVISION = 1;

interface CacheFileContents {
  format: string;
  version: number;
  numerics: number;
  count: number;
  checksum: string;
  entries: Array<[string, number]>;
}

function checksumOf(entries: Array<[string, number]>): string {
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

export interface LoadResult {
  cache: CapacityCache;
  /** Why the file was not used, when it was not. */
  problem?: ZeroLMError;
  loaded: number;
}

/** Load a cache file into a new cache. A missing file is not a problem (a first run); anything wrong is reported. */
export async function loadCacheFile(path: string, maxEntries?: number): Promise<LoadResult> {
  const cache = new CapacityCache(maxEntries);
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { cache, loaded: 0 };
    return { cache, loaded: 0, problem: new ZeroLMError('E_IO', `cache ${path}: cannot read (${(cause as Error).message}); starting empty`, { file: path }) };
  }
  const reject = (why: string, field?: string): LoadResult => ({
    cache,
    loaded: 0,
    problem: new ZeroLMError('E_CACHE', `cache ${path}: ${why}; ignored and rebuilt`, { file: path, ...(field ? { field } : {}) }),
  });
  let contents: CacheFileContents;
  try {
    contents = JSON.parse(text);
  } catch (cause) {
    return reject(`not valid JSON (${(cause as Error).message})`);
  }
  if (contents?.format !== CACHE_FORMAT) return reject(`not a zerolm cache file (format ${JSON.stringify(contents?.format)})`, 'format');
  if (contents.version !== CACHE_VERSION) return reject(`version ${String(contents.version)} does not match ${CACHE_VERSION}`, 'version');
  if (contents.numerics !== NUMERICS_REVISION) return reject(`made by numerics revision ${String(contents.numerics)}, this is ${NUMERICS_REVISION}`, 'numerics');
  if (!Array.isArray(contents.entries) || contents.entries.length !== contents.count) return reject('entry count does not match', 'count');
  if (checksumOf(contents.entries) !== contents.checksum) return reject('checksum mismatch (the file was altered or truncated)', 'checksum');
  for (const [i, entry] of contents.entries.entries()) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number' || !Number.isFinite(entry[1])) {
      cache.clear();
      return reject(`entry ${i} is malformed`, `entries[${i}]`);
    }
    cache.set(entry[0], entry[1]);
  }
  return { cache, loaded: contents.entries.length };
}

/** Write atomically (temporary file, then rename), so a crash never leaves a half-written cache. */
export async function saveCacheFile(path: string, cache: CapacityCache): Promise<void> {
  const entries = [...cache];
  const contents: CacheFileContents = { format: CACHE_FORMAT, version: CACHE_VERSION, numerics: NUMERICS_REVISION, count: entries.length, checksum: checksumOf(entries), entries };
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await fs.writeFile(temporary, JSON.stringify(contents));
    await fs.rename(temporary, path);
  } catch (cause) {
    await fs.rm(temporary, { force: true });
    throw new ZeroLMError('E_IO', `cannot write cache ${path}: ${(cause as Error).message}`, { file: path });
  }
}
