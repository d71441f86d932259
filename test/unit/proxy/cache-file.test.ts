import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapacityCache } from '../../../src/proxy/cache';
import { loadCacheFile, saveCacheFile, CACHE_VERSION, cacheFingerprint } from '../../../src/proxy/cache-file';
import { score } from '../../../src/proxy/score';

const dir = mkdtempSync(join(tmpdir(), 'zerolm-cache-'));
const entry = {
  hidden_size: 256,
  nas_config: { encoder_layers: [{ operation_type: 'SA', operation_parameter: 'SDP', num_operation_heads: 4, feed_forward_dimension: 1024, num_feed_forward: 3 }] },
};

describe('capacity cache', () => {
  it('is bounded: the least recently used entry goes first', () => {
    const cache = new CapacityCache(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.size).toBe(2);
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')).toBe(1);
  });
});

/** The same file with one capacity changed and its checksum left as it was. */
function alter(text: string): string {
  const contents = JSON.parse(text);
  contents.entries[0][1] += 1;
  return JSON.stringify(contents);
}

describe('cache file', () => {
  it('round-trips exactly, and a score from the loaded cache is bit-identical to recomputation without computing anything', async () => {
    const file = join(dir, 'round-trip.json');
    const first = new CapacityCache();
    const computed = await score(entry, { measure: 'effective-rank', cache: first });
    await saveCacheFile(file, first);
    const { cache, loaded, problem } = await loadCacheFile(file);
    expect(problem).toBeUndefined();
    expect(loaded).toBe(first.size);
    const fromFile = await score(entry, { measure: 'effective-rank', cache });
    expect(cache.misses).toBe(0);
    expect(fromFile.score).toBe(computed.score);
    expect(fromFile.layers).toEqual(computed.layers);
  });

  it('a missing file is a first run, not a problem', async () => {
    const result = await loadCacheFile(join(dir, 'absent.json'));
    expect(result.problem).toBeUndefined();
    expect(result.loaded).toBe(0);
  });

  it('refuses corrupt, altered, truncated and mismatched files, saying why, and starts empty', async () => {
    const file = join(dir, 'victim.json');
    const cache = new CapacityCache();
    await score(entry, { cache });
    await saveCacheFile(file, cache);
    const good = readFileSync(file, 'utf8');
    const cases: Array<[string, string, RegExp]> = [
      ['truncated', good.slice(0, good.length / 2), /not valid JSON/],
      ['altered value', alter(good), /checksum mismatch/],
      ['other version', good.replace(`"version":${CACHE_VERSION}`, '"version":99'), /version 99 does not match/],
      ['other numerics', good.replace(/"numerics":\d+/, '"numerics":0'), /numerics revision 0/],
      ['other SIMD path', good.replace(/"simd":"[^"]*"/, '"simd":"other-path"'), /SIMD path "other-path"/],
      ['other addon ABI', good.replace(/"abi":\d+/, '"abi":-1'), /addon ABI -1/],
      ['count mismatch', good.replace(/"count":\d+/, '"count":1000000'), /entry count does not match/],
    ];
    for (const [name, text, why] of cases) {
      writeFileSync(file, text);
      const result = await loadCacheFile(file);
      expect({ name, code: result.problem?.code }).toEqual({ name, code: 'E_CACHE' });
      expect(result.problem?.message).toMatch(why);
      expect(result.cache.size).toBe(0);
    }
  });

  it('writes atomically: no temporary file is left behind', async () => {
    const file = join(dir, 'atomic.json');
    await saveCacheFile(file, new CapacityCache());
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.${process.pid}.tmp`)).toBe(false);
    await expect(saveCacheFile(join(dir, 'no/such/dir/cache.json'), new CapacityCache())).rejects.toMatchObject({ code: 'E_IO' });
  });

  it('records the SIMD path and addon ABI it was made with', async () => {
    const file = join(dir, 'fingerprint.json');
    await saveCacheFile(file, new CapacityCache());
    const contents = JSON.parse(readFileSync(file, 'utf8'));
    expect({ simd: contents.simd, abi: contents.abi }).toEqual(cacheFingerprint());
    expect(['avx2-fma', 'scalar']).toContain(contents.simd);
  });
});

/** A cache with the given entries. */
function cacheOf(entries: Record<string, number>): CapacityCache {
  const cache = new CapacityCache();
  for (const [key, value] of Object.entries(entries)) cache.set(key, value);
  return cache;
}

describe('cache file: never destroys what is not a cache', () => {
  const foreign = '{"id":"input","hidden_size":128}\n{"id":"second"}\n';

  it.each([
    ['an input file (JSONL)', foreign],
    ['a JSON document of another kind', '{"format":"something-else"}'],
    ['binary bytes', '\u0000\u0001\u0002binary'],
  ])('%s is refused before load and before save, and left byte-identical', async (_name, text) => {
    const file = join(dir, `foreign-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(file, text);
    await expect(loadCacheFile(file)).rejects.toMatchObject({ code: 'E_CACHE', message: expect.stringMatching(/not a zerolm cache file; refusing to replace it/) });
    await expect(saveCacheFile(file, cacheOf({ k: 1 }))).rejects.toMatchObject({ code: 'E_CACHE' });
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('a directory, a device node and a missing folder are refused', async () => {
    await expect(loadCacheFile(dir)).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/is a directory/) });
    await expect(saveCacheFile('/dev/null', new CapacityCache())).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/not a regular file/) });
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    await expect(loadCacheFile(join(dir, 'no/such/dir/cache.json'))).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/does not exist/) });
  });

  it('a read-only cache file is refused up front and not replaced', async () => {
    const file = join(dir, 'read-only.json');
    await saveCacheFile(file, cacheOf({ k: 1 }));
    const before = readFileSync(file, 'utf8');
    chmodSync(file, 0o444);
    await expect(loadCacheFile(file)).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/read-only/) });
    await expect(saveCacheFile(file, cacheOf({ k: 2 }))).rejects.toMatchObject({ code: 'E_IO' });
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('writes through a symbolic link (the link stays a link), also a dangling one', async () => {
    const folder = join(dir, 'links');
    mkdirSync(folder);
    const target = join(folder, 'real.json');
    const link = join(folder, 'link.json');
    symlinkSync('real.json', link);
    await saveCacheFile(link, cacheOf({ a: 1 })); // dangling: creates the target
    await saveCacheFile(link, cacheOf({ b: 2 }));
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(target, 'utf8')).entries).toEqual([['a', 1], ['b', 2]]);
    const { cache } = await loadCacheFile(link);
    expect(cache.peek('b')).toBe(2);
    // A link to a file that is not a cache is refused like the file itself.
    const input = join(folder, 'input.jsonl');
    writeFileSync(input, foreign);
    const inputLink = join(folder, 'input-link.json');
    symlinkSync(input, inputLink);
    await expect(saveCacheFile(inputLink, cacheOf({ c: 3 }))).rejects.toMatchObject({ code: 'E_CACHE', message: expect.stringMatching(/through the link/) });
    expect(readFileSync(input, 'utf8')).toBe(foreign);
  });

  it('two caches saved to the same path keep each other\'s entries, and leave no lock or temporary file', async () => {
    const folder = join(dir, 'concurrent');
    mkdirSync(folder);
    const file = join(folder, 'shared.json');
    // Both loaded (empty) before either saved: the second save must merge, not overwrite.
    const first = (await loadCacheFile(file)).cache;
    const second = (await loadCacheFile(file)).cache;
    first.set('from-first', 1);
    second.set('from-second', 2);
    second.set('shared', 3);
    first.set('shared', 3);
    const results = await Promise.all([saveCacheFile(file, first), saveCacheFile(file, second)]);
    expect(results.map((r) => r.merged).sort()).toEqual([0, 1]);
    const { cache, problem } = await loadCacheFile(file);
    expect(problem).toBeUndefined();
    expect(Object.fromEntries([...cache])).toEqual({ 'from-first': 1, 'from-second': 2, shared: 3 });
    expect(readdirSync(folder)).toEqual(['shared.json']);
  });

  it('an empty file may be used as a new cache', async () => {
    const file = join(dir, 'empty.json');
    writeFileSync(file, '');
    expect((await loadCacheFile(file)).problem).toBeUndefined();
    await saveCacheFile(file, cacheOf({ k: 1 }));
    expect((await loadCacheFile(file)).loaded).toBe(1);
  });
});
