import { CapacityCache } from '../../../src/proxy/cache';
import { LayerMemo, MatrixCapacityMemo } from '../../../src/proxy/shape-memo';
import { score, type Score } from '../../../src/proxy/score';
import { scoreMany } from '../../../src/proxy/many';
import { sampleSpace } from '../../../src/search/sample';

const normal = (std: number) => ({ scheme: 'normal' as const, std });

describe('MatrixCapacityMemo', () => {
  it('keeps at most maxEntries, evicts the oldest first one at a time, and every kept key stays reachable', () => {
    const memo = new MatrixCapacityMemo(100);
    for (let i = 0; i < 1000; i++) {
      memo.set(64 + (i % 37), 128 + i, normal(0.02), i);
      expect(memo.size).toBe(Math.min(i + 1, 100));
      // After inserting i, exactly the last 100 keys are held, each with its own value.
      if (i % 97 === 0 || i === 999) {
        for (let j = 0; j <= i; j++) {
          const value = memo.get(64 + (j % 37), 128 + j, normal(0.02));
          expect(value).toBe(j > i - 100 ? j : undefined);
        }
      }
    }
  });

  it('tells inits apart by scheme, parameter and kaiming mode', () => {
    const memo = new MatrixCapacityMemo(16);
    memo.set(8, 8, normal(0.02), 1);
    memo.set(8, 8, { scheme: 'uniform', bound: 0.02 }, 2);
    memo.set(8, 8, { scheme: 'kaiming-normal' }, 3);
    memo.set(8, 8, { scheme: 'kaiming-normal', mode: 'fan-out' }, 4);
    expect(memo.get(8, 8, normal(0.02))).toBe(1);
    expect(memo.get(8, 8, { scheme: 'uniform', bound: 0.02 })).toBe(2);
    expect(memo.get(8, 8, { scheme: 'kaiming-normal', mode: 'fan-in' })).toBe(3);
    expect(memo.get(8, 8, { scheme: 'kaiming-normal', mode: 'fan-out' })).toBe(4);
    expect(memo.get(8, 8, normal(0.01))).toBeUndefined();
    expect(memo.get(8, 9, normal(0.02))).toBeUndefined();
  });
});

describe('MatrixCapacityMemo growth', () => {
  it('grows from a small table without losing an entry or its age, then evicts the oldest first', () => {
    const memo = new MatrixCapacityMemo(5000); // the table starts at 4096 slots and doubles twice on the way
    const key = (i: number): [number, number] => [1 + (i % 97), 1000 + i];
    for (let i = 0; i < 12_000; i++) {
      const [rows, cols] = key(i);
      memo.set(rows, cols, normal(0.02), i);
      if (i === 4000) {
        // Mid-way, after two doublings: every key so far is there with its value.
        for (let j = 0; j <= i; j++) expect(memo.get(...key(j), normal(0.02))).toBe(j);
      }
    }
    expect(memo.size).toBe(5000);
    for (let j = 0; j < 12_000; j++) expect(memo.get(...key(j), normal(0.02))).toBe(j >= 7000 ? j : undefined);
  });
});

describe('LayerMemo', () => {
  it('keeps at most its bound, drops the least recently used half first, and keeps what was used lately', () => {
    const memo = new LayerMemo<object, number>(4);
    const keys = Array.from({ length: 6 }, () => ({}));
    memo.set(keys[0], 0);
    memo.set(keys[1], 1);
    memo.set(keys[2], 2); // the first two become the older generation
    expect(memo.get(keys[0])).toBe(0); // used: moved back into the newer one, which is now full
    memo.set(keys[3], 3); // the older generation (keys[1]) is dropped
    expect(memo.get(keys[1])).toBeUndefined();
    expect(memo.get(keys[0])).toBe(0);
    expect(memo.get(keys[3])).toBe(3);
    for (let i = 0; i < 100; i++) {
      memo.set({}, i);
      expect(memo.size).toBeLessThanOrEqual(4);
    }
  });

  it('after churning through many more keys than it holds, it keeps the newest', () => {
    const memo = new LayerMemo<object, number>(1 << 10);
    const keys = Array.from({ length: 1 << 14 }, () => ({}));
    keys.forEach((key, i) => memo.set(key, i));
    // The newest keys are all still there, in either generation.
    expect(keys.slice(-(1 << 9)).every((key, i) => memo.get(key) === keys.length - (1 << 9) + i)).toBe(true);
    expect(memo.get(keys[0])).toBeUndefined();
  });
});

describe('CapacityCache eviction', () => {
  it('is bounded and spares an entry used since it was last spared (second chance)', () => {
    const cache = new CapacityCache(3);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.get('a')).toBe(1);
    cache.set('d', 4); // a was used: b goes
    expect(cache.size).toBe(3);
    expect(cache.peek('b')).toBeUndefined();
    expect([...cache].map(([key]) => key).sort()).toEqual(['a', 'c', 'd']);
    cache.set('e', 5); // c is the oldest unused
    expect(cache.peek('c')).toBeUndefined();
    expect(cache.peek('a')).toBe(1);
  });
});

describe('a stream scored through the shape memo', () => {
  const families = ['lts-gpt2', 'hf-decoder'] as const;
  for (const space of families) {
    for (const [mode, seedPolicy, perHead] of [['analytic', 'shape', false], ['analytic', 'shape', true], ['exact', 'shape', true], ['exact', 'position', false]] as const) {
      it(`${space}, ${mode}, seed policy ${seedPolicy}${perHead ? ', per head' : ''}: equals scoring each candidate alone, bit for bit`, async () => {
        const candidates = [...sampleSpace(space, { count: mode === 'exact' ? 4 : 60, seed: 5, decoder: { layers: [1, 3], hidden: [64, 256, 64], heads: [2, 4], kvHeads: [1, 2], vocab: 100 } })];
        const options = { mode, seedPolicy, perHead, measure: 'log-det' as const };
        const streamed: Score[] = [];
        for await (const record of scoreMany(candidates, options)) streamed.push(record as Score);
        for (let i = 0; i < candidates.length; i++) {
          const alone = await score(candidates[i], options);
          expect(streamed[i].score).toBe(alone.score);
          expect(streamed[i].layers).toEqual(alone.layers);
        }
      });
    }
  }
});

describe('a stream of modules inputs (xavier and kaiming inits, per-head splits) through the shape memo', () => {
  it('equals scoring each alone, bit for bit, in analytic and exact modes', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => ({
      format: 'modules',
      id: `m${i}`,
      layers: Array.from({ length: 1 + (i % 3) }, (_, j) => ({
        attention: [
          { rows: 32, cols: 32, heads: 4, headAxis: 'rows', init: { scheme: 'xavier-normal' } },
          { rows: 32, cols: 32, heads: 4, headAxis: 'cols' },
        ],
        ffn: [
          { rows: 32 * (1 + ((i + j) % 2)), cols: 32, init: { scheme: 'kaiming-normal', mode: j % 2 === 0 ? 'fan-in' : 'fan-out' } },
          { rows: 32, cols: 32 * (1 + ((i + j) % 2)), init: { scheme: 'uniform', bound: 0.05 } },
        ],
      })),
    }));
    for (const options of [{ mode: 'analytic' as const, perHead: true }, { mode: 'exact' as const, measure: 'nuclear' as const }]) {
      const streamed: Score[] = [];
      for await (const record of scoreMany(inputs, options)) streamed.push(record as Score);
      for (let i = 0; i < inputs.length; i++) {
        const alone = await score(inputs[i], options);
        expect(streamed[i].score).toBe(alone.score);
        expect(streamed[i].layers).toEqual(alone.layers);
      }
    }
  });
});
