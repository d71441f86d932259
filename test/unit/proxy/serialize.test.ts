import { ScoreSerializer } from '../../../src/proxy/serialize';
import { score } from '../../../src/proxy/score';
import { scoreMany, type ScoreRecord } from '../../../src/proxy/many';
import { sampleSpace } from '../../../src/search/sample';

import { toyEntry as entry } from './fixtures';

/** Bytes encodeInto writes for a record at `offset` of a buffer filled with junk. */
function encoded(serializer: ScoreSerializer, record: ScoreRecord, offset = 3): string {
  const target = Buffer.alloc(1 << 16, 0x7e);
  const end = serializer.encodeInto(record, target, offset);
  expect(end).toBeGreaterThan(offset);
  expect(target.subarray(0, offset).every((byte) => byte === 0x7e)).toBe(true);
  return target.toString('utf8', offset, end);
}

describe('ScoreSerializer.encodeInto', () => {
  it('writes the bytes of JSON.stringify for a stream of sampled scores, with and without where they came from', async () => {
    const inputs = [...sampleSpace('nas-bench-bert', { count: 400, seed: 6 })];
    for (const options of [{ mode: 'analytic' as const }, {}, { measure: 'log-det' as const, alpha: -0.25, perHead: true }]) {
      const serializer = new ScoreSerializer();
      let i = 0;
      for await (const record of scoreMany(inputs, options)) {
        const where = i % 3 === 0 ? { ...record } : i % 3 === 1 ? { ...record, source: '<stdin>', line: i + 1 } : { ...record, source: 'a "quoted" \u00e9 path', line: 1e21 };
        expect(encoded(serializer, where)).toBe(JSON.stringify(where));
        i++;
      }
    }
  });

  it('writes ids and sources that need escaping or are not ASCII as JSON.stringify does', async () => {
    const serializer = new ScoreSerializer();
    const base = await score(entry, { mode: 'analytic' });
    for (const id of ['', 'quote"and\\slash', 'tab\there', 'line\u2028sep', 'caf\u00e9', '\u4e2d\u6587', 'emoji \ud83d\ude00', 'lone \ud800 surrogate', 'x'.repeat(5000)]) {
      const record = { ...base, id, source: `src ${id}`, line: 7 };
      expect(encoded(serializer, record)).toBe(JSON.stringify(record));
    }
  });

  it('writes numbers as JSON.stringify does', async () => {
    const serializer = new ScoreSerializer();
    const base = await score(entry, { mode: 'analytic' });
    const numbers = [0, -0, 1, -1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, 2 ** 53, 1e21, 123456789.5, 0.1 + 0.2, 1e-7, -1.5e-300, 5e-324, Number.MAX_VALUE];
    for (const value of numbers) {
      const record = { ...base, score: value, attention: -value, ffn: value / 3, params: value, nonEmbeddingParams: -value, line: Math.abs(value) };
      expect(encoded(serializer, record)).toBe(JSON.stringify(record));
    }
  });

  it('hands anything of another shape to JSON.stringify', async () => {
    const serializer = new ScoreSerializer();
    const base = await score(entry, { mode: 'analytic' });
    const { id, score: first, ...rest } = base;
    const reordered = { score: first, id, ...rest };
    const inherited = Object.assign(Object.create({ inheritedKey: 1 }), base);
    const others: unknown[] = [
      { ...base, extra: true },
      reordered,
      { ...base, id: 42 },
      { ...base, line: '12' },
      { ...base, line: Number.NaN },
      { ...base, score: Number.POSITIVE_INFINITY },
      { ...base, params: Number.NaN },
      { ...base, layers: 'not a list' },
      { ...base, layers: [{ attention: 1, ffn: 2, note: 'a mutable layer' }] },
      { ...base, layers: [{ ffn: 2, attention: 1 }] },
      { ...base, layers: [{ attention: 1.5, ffn: Number.NaN }] },
      // Own keys as expected, but an inherited toJSON decides what JSON.stringify writes.
      { ...base, layers: [new (class { attention = 0.25; ffn = 2; toJSON(): string { return 'custom'; } })()] },
      { ...base, id: undefined },
      inherited,
      { index: 3, error: { code: 'E_FORMAT', message: 'bad "thing"' } },
    ];
    for (const record of others) expect(encoded(serializer, record as ScoreRecord)).toBe(JSON.stringify(record));
    // A mutable layer is not remembered: changing it changes the next line.
    const layer = { attention: 1, ffn: 2 };
    const record = { ...base, layers: [layer] };
    expect(encoded(serializer, record)).toBe(JSON.stringify(record));
    layer.ffn = 3;
    expect(encoded(serializer, record)).toBe(JSON.stringify(record));
  });

  it('follows a change of the constant fields from one record to the next', async () => {
    const serializer = new ScoreSerializer();
    for (const options of [{ alpha: 0.1 }, { alpha: 0.9 }, { alpha: 0.9, seed: 5 }, { alpha: 0.9, seed: 5, mode: 'analytic' as const }]) {
      const record = await score(entry, options);
      expect(serializer.line(record)).toBe(JSON.stringify(record));
    }
  });

  it('writes a plain record without JSON.stringify once its constants and layers are known', async () => {
    const serializer = new ScoreSerializer();
    const first = { ...(await score(entry, { mode: 'analytic' })), source: 's', line: 1 };
    const second = { ...first, id: 'another', line: 2 };
    serializer.line(first);
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      const text = encoded(serializer, second);
      expect(stringify).not.toHaveBeenCalled();
      stringify.mockRestore();
      expect(text).toBe(JSON.stringify(second));
    } finally {
      stringify.mockRestore();
    }
  });

  it('returns -1 when the line does not fit', async () => {
    const serializer = new ScoreSerializer();
    const record = { ...(await score(entry, { mode: 'analytic' })), source: 's', line: 1 };
    const length = Buffer.byteLength(JSON.stringify(record));
    const small = Buffer.alloc(length - 1);
    expect(serializer.encodeInto(record, small, 0)).toBe(-1);
    const tail = Buffer.alloc(100);
    expect(serializer.encodeInto(record, tail, 60)).toBe(-1);
    expect(serializer.line(record)).toBe(JSON.stringify(record));
  });
});
