import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapacityCache } from '../../../src/proxy/cache';
import { loadCacheFile, saveCacheFile, CACHE_VERSION } from '../../../src/proxy/cache-file';
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
      ['garbage', '\u0000\u0001binary', /not valid JSON/],
      ['altered value', alter(good), /checksum mismatch/],
      ['other version', good.replace(`"version":${CACHE_VERSION}`, '"version":99'), /version 99 does not match/],
      ['other numerics', good.replace(/"numerics":\d+/, '"numerics":0'), /numerics revision 0/],
      ['not a cache', '{"format":"something-else"}', /not a zerolm cache file/],
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
});
