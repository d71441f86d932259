import { Readable } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuardedByteStream, openSource, readArchitectures, readOpenedBatches, readStream, type InputRecord } from '../../../src/io/input';
import { sampleSpaceLines } from '../../../src/search/sample';

async function collect(iterable: AsyncIterable<InputRecord>): Promise<InputRecord[]> {
  const out: InputRecord[] = [];
  for await (const record of iterable) out.push(record);
  return out;
}
const fromText = (text: string, chunk = 7): Readable => {
  const pieces: Buffer[] = [];
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
  return Readable.from(pieces);
};

describe('readStream', () => {
  it('reads JSONL line by line with line numbers, across chunk boundaries, keeping bad lines as error records', async () => {
    const text = '{"id":"a","x":1}\n\n{"id":"b"\n{"id":"c"}\n';
    const records = await collect(readStream(fromText(text, 3), 'in.jsonl', 'jsonl'));
    expect(records.map((r) => r.line)).toEqual([1, 3, 4]);
    // Inputs are numbered without gaps, also after a line that does not parse (it once took two numbers).
    expect(records.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(records[0].value).toEqual({ id: 'a', x: 1 });
    expect(records[1].error?.code).toBe('E_PARSE');
    expect(records[1].error?.message).toMatch(/^in\.jsonl:3: invalid JSON/);
    expect(records[2].value).toEqual({ id: 'c' });
  });

  it('reads a last line without a trailing newline', async () => {
    const records = await collect(readStream(fromText('{"a":1}\n{"a":2}'), 's', 'jsonl'));
    expect(records.map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('skips an over-long line without buffering it and goes on', async () => {
    const long = `{"pad":"${'x'.repeat(5000)}"}`;
    const records = await collect(readStream(fromText(`{"a":1}\n${long}\n{"a":3}\n`, 100), 's', 'jsonl', { maxLineBytes: 1000 }));
    expect(records).toHaveLength(3);
    expect(records[1].error?.message).toMatch(/line is longer than 1000 bytes/);
    expect(records[1].line).toBe(2);
    expect(records[2].value).toEqual({ a: 3 });
  });

  it('sniffs JSONL, a JSON array and YAML when no format is given', async () => {
    expect((await collect(readStream(fromText('{"a":1}\n{"a":2}\n'), 's', undefined))).map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect((await collect(readStream(fromText('[\n{"a":1},\n{"a":2}\n]\n'), 's', undefined))).map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect((await collect(readStream(fromText('{"a": [1,\n 2]}\n'), 's', undefined))).map((r) => r.value)).toEqual([{ a: [1, 2] }]);
    expect((await collect(readStream(fromText('a: 1\nb: [2, 3]\n'), 's', undefined))).map((r) => r.value)).toEqual([{ a: 1, b: [2, 3] }]);
  });

  it('reads multi-document YAML and reports a broken document with its line', async () => {
    const records = await collect(readStream(fromText('a: 1\n---\nb: [2\n---\nc: 3\n'), 'f.yaml', 'yaml'));
    expect(records[0].value).toEqual({ a: 1 });
    expect(records[1].error?.code).toBe('E_PARSE');
    expect(records[1].error?.message).toMatch(/^f\.yaml:\d+: invalid YAML/);
    expect(records[2].value).toEqual({ c: 3 });
  });

  it('gives no records for empty input (zero inputs), and E_PARSE records for truncated JSON and binary garbage', async () => {
    for (const [text, format] of [['', 'json'], ['  \n', 'yaml'], ['', 'jsonl'], ['\n\n', 'jsonl'], ['', undefined], [' \n\t\n', undefined], ['[]', 'json'], ['---\n---\n', 'yaml']] as const) {
      expect(await collect(readStream(fromText(text), 'e', format))).toEqual([]);
    }
    const truncated = await collect(readStream(fromText('[{"a":1},\n{"b":'), 't.json', 'json'));
    expect(truncated).toHaveLength(1);
    expect(truncated[0].error?.code).toBe('E_PARSE');
    expect(truncated[0].error?.message).toMatch(/^t\.json(:\d+)?: invalid JSON/);
    const garbage = await collect(readStream(Readable.from([Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0a, 0xfe])]), 'g', undefined));
    expect(garbage.length).toBeGreaterThan(0);
    expect(garbage.every((r) => r.error?.code === 'E_PARSE' || r.value !== undefined)).toBe(true);
  });
});

describe('readStream of mixed JSON lines', () => {
  const sampled = [...sampleSpaceLines('nas-bench-bert', { count: 6, seed: 3 })];
  // Sampled lines among every other kind of line: other JSON, blank, CRLF, padded, Unicode white space, broken,
  // multi-byte characters (which chunk boundaries cut through), and a last line without its newline.
  const text = [
    sampled[0],
    '{"id":"caf\u00e9","x":[1,2]}',
    '',
    `${sampled[1]}\r`,
    `  ${sampled[2]}  `,
    '\u00a0{"nbsp":true}',
    '\ufeff{"bom":true}',
    '{"id": "broken"',
    '{"id":"\u00e9\u00e9\u00e9\u4e2d\u6587","y":2}',
    '   ',
    sampled[3],
    sampled[4],
    sampled[5],
  ].join('\n');

  it('gives every line the record JSON.parse of its trimmed text gives, whatever the chunk size', async () => {
    const plain = await collect(readStream(fromText(text, 1 << 16), 's', 'jsonl'));
    expect(plain.map((r) => r.line)).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 11, 12, 13]);
    expect(plain[6].error?.message).toMatch(/^s:8: invalid JSON/);
    expect(plain[0].value).toEqual(JSON.parse(sampled[0]));
    expect(plain[2].value).toEqual(JSON.parse(sampled[1]));
    expect(plain[3].value).toEqual(JSON.parse(sampled[2]));
    for (const chunk of [1, 2, 3, 7, 64]) {
      const small = await collect(readStream(fromText(text, chunk), 's', 'jsonl'));
      expect(small.map(({ error, ...rest }) => ({ ...rest, error: error?.message }))).toEqual(plain.map(({ error, ...rest }) => ({ ...rest, error: error?.message })));
    }
    const sniffed = await collect(readStream(fromText(text, 5), 's', undefined));
    expect(sniffed.map((r) => r.value)).toEqual(plain.map((r) => r.value));
  });
});

describe('readArchitectures', () => {
  it('reports a missing file as one E_IO record naming it', async () => {
    const records = await collect(readArchitectures('/nonexistent/zerolm.json'));
    expect(records).toHaveLength(1);
    expect(records[0].error?.code).toBe('E_IO');
    expect(records[0].error?.message).toMatch(/\/nonexistent\/zerolm\.json: cannot read \(no such file\)/);
  });
  it('reads by extension', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zerolm-'));
    writeFileSync(join(dir, 'a.jsonl'), '{"a":1}\n');
    writeFileSync(join(dir, 'b.yml'), '- a: 1\n- a: 2\n');
    expect((await collect(readArchitectures(join(dir, 'a.jsonl')))).map((r) => r.value)).toEqual([{ a: 1 }]);
    expect((await collect(readArchitectures(join(dir, 'b.yml')))).map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }]);
  });
});

describe('openSource', () => {
  it('decides the format (sniffing a file with no known extension) and tells a regular file\'s size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zerolm-'));
    const text = '{"a":1}\n{"a":2}\n';
    writeFileSync(join(dir, 'lines.txt'), text);
    const opened = await openSource(join(dir, 'lines.txt'));
    expect(opened.error).toBeUndefined();
    expect(opened).toMatchObject({ format: 'jsonl', size: Buffer.byteLength(text), source: join(dir, 'lines.txt') });
    // The sniffed first line is still there to read.
    expect((await collect((async function* () { for await (const batch of readOpenedBatches(opened)) yield* batch; })())).map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }]);
    const missing = await openSource(join(dir, 'none.jsonl'));
    expect(missing.error?.error?.code).toBe('E_IO');
  });
});

describe('readStream: hostile and unusual sources', () => {
  it('accepts a UTF-8 byte order mark in JSON, JSONL and YAML, given or sniffed, whatever the chunk size', async () => {
    const cases: Array<[string, 'json' | 'jsonl' | 'yaml']> = [
      ['{"a":1}', 'json'],
      ['[{"a":1},{"a":2}]', 'json'],
      ['{"a":1}\n{"a":2}\n', 'jsonl'],
      ['a: 1\n---\na: 2\n', 'yaml'],
    ];
    for (const [text, format] of cases) {
      const expected = (await collect(readStream(fromText(text), 's', format))).map((r) => r.value);
      expect(expected.length).toBeGreaterThan(0);
      for (const chunk of [1, 2, 3, 1000]) {
        for (const given of [format, undefined]) {
          const records = await collect(readStream(fromText(`\ufeff${text}`, chunk), 's', given));
          expect({ text, given, chunk, values: records.map((r) => r.value ?? r.error?.message) }).toEqual({ text, given, chunk, values: expected });
        }
      }
    }
  });

  it('an over-long first line, sniffed, is one error record and the lines after it are still read', async () => {
    const long = `{"pad":"${'x'.repeat(5000)}"}`;
    for (const chunk of [100, 1 << 16]) {
      const records = await collect(readStream(fromText(`${long}\n{"a":2}\n{"a":3}\n`, chunk), 's', undefined, { maxLineBytes: 1000 }));
      expect(records.map((r) => r.value ?? r.error?.code)).toEqual(['E_PARSE', { a: 2 }, { a: 3 }]);
      expect(records[0]).toMatchObject({ line: 1, index: 0 });
      expect(records[0].error?.message).toMatch(/line is longer than 1000 bytes/);
    }
  });

  it('a YAML document the parser refuses to build (alias bomb) is one error record; the documents after it are read', async () => {
    const aliases = Array.from({ length: 150 }, (_, i) => `  - *a`).join('\n');
    const bomb = `anchor: &a [1, 2, 3]\nmany:\n${aliases}\n`;
    const records = await collect(readStream(fromText(`x: 1\n---\n${bomb}---\ny: 2\n`, 64), 'b.yaml', 'yaml'));
    expect(records.map((r) => r.value ?? r.error?.code)).toEqual([{ x: 1 }, 'E_PARSE', { y: 2 }]);
    expect(records[1].error?.message).toMatch(/^b\.yaml:2: YAML document not read \(.*alias/i);
    expect(records.map((r) => r.index)).toEqual([0, 1, 2]);
  });

  it('a stream that breaks midway keeps the records read before it and ends with one error record', async () => {
    async function* breaking(): AsyncGenerator<Buffer> {
      yield Buffer.from('{"a":1}\n{"a":2}\n');
      throw Object.assign(new Error('device went away'), { code: 'EIO' });
    }
    const records = await collect(readStream(Readable.from(breaking()), 's', 'jsonl'));
    expect(records.map((r) => r.value ?? r.error?.code)).toEqual([{ a: 1 }, { a: 2 }, 'E_IO']);
    expect(records[2]).toMatchObject({ index: 2, error: { message: expect.stringMatching(/^s: reading stopped \(device went away\)/) } });
  });

  it('reads CR-only line ends as lines, sniffed', async () => {
    const records = await collect(readStream(fromText('{"a":1}\r{"a":2}\r{"a":3}', 4), 's', undefined));
    expect(records.map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3]);
  });
});

describe('GuardedByteStream', () => {
  it('ends where its source breaks, keeping the error for the record that ends the source', async () => {
    async function* breaking(): AsyncGenerator<Buffer> {
      yield Buffer.from('{"a":1}\n');
      throw Object.assign(new Error('read failed'), { code: 'EIO' });
    }
    const guarded = new GuardedByteStream(breaking(), 'f.jsonl');
    const chunks: Buffer[] = [];
    for await (const chunk of guarded) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('{"a":1}\n');
    expect(guarded.failure).toMatchObject({ code: 'E_IO', message: 'f.jsonl: reading stopped (read failed)' });
  });
});
