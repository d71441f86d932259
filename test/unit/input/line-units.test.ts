/**
 * JsonLineCutter + recordsOfLineUnit (the JSONL reading of `zerolm score`'s worker threads) against readStream:
 * the same records, with the same lines, indexes, values and errors, however the bytes are chunked and cut.
 */
import { Readable } from 'node:stream';
import { JsonLineCutter, readStream, recordsOfLineUnit, type InputRecord, type LineUnitItem } from '../../../src/io/input';
import { seededRandom } from '../native/fixtures';

/** The bytes in chunks of random sizes from 1 to maxChunk. */
function chunked(bytes: Buffer, random: () => number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + Math.floor(random() * maxChunk);
    chunks.push(bytes.subarray(i, i + size));
    i += size;
  }
  return chunks;
}

async function sequential(chunks: Buffer[], maxLineBytes: number): Promise<InputRecord[]> {
  const out: InputRecord[] = [];
  for await (const record of readStream(Readable.from(chunks), 'in.jsonl', 'jsonl', { maxLineBytes })) out.push(record);
  return out;
}

function cut(chunks: Buffer[], maxLineBytes: number, unitBytes: number): { records: InputRecord[]; items: LineUnitItem[] } {
  const cutter = new JsonLineCutter('in.jsonl', { maxLineBytes, unitBytes });
  const items: LineUnitItem[] = [];
  for (const chunk of chunks) items.push(...cutter.push(chunk));
  items.push(...cutter.end());
  const records: InputRecord[] = [];
  for (const item of items) {
    if (item.record) records.push(item.record);
    else {
      const unitRecords = recordsOfLineUnit(item.unit, 'in.jsonl');
      expect(unitRecords).toHaveLength(item.unit.inputs);
      records.push(...unitRecords);
    }
  }
  return { records, items };
}

/** Records in a form toEqual compares fully (errors by code, message and location). */
const comparable = (records: InputRecord[]): unknown[] =>
  records.map((r) => ({ ...r, error: r.error && { code: r.error.code, message: r.error.message, location: r.error.location } }));

describe('JsonLineCutter and recordsOfLineUnit', () => {
  const awkwardLines = [
    '{"id":"a","x":1}',
    '',
    '   ',
    ' \u00a0\u2003 ', // Unicode white space only: blank
    '{"id":"b"', // invalid JSON
    '{"id":"crlf"}\r',
    '  {"id":"padded"}  ',
    '{"id":"\u00e9\u4e2d\ud83d\ude00"}', // multi-byte characters, split across chunks below
    `{"pad":"${'x'.repeat(300)}"}`, // over the 200-byte limit used below
    '[1,2]',
    'not json at all',
    '{}',
  ];

  it('gives readStream\'s records for 300 random mixes of awkward lines, random chunks and unit sizes', async () => {
    const random = seededRandom(11);
    let units = 0;
    let overlong = 0;
    for (let round = 0; round < 300; round++) {
      const count = Math.floor(random() * 40);
      const lines = Array.from({ length: count }, () => awkwardLines[Math.floor(random() * awkwardLines.length)]);
      const text = lines.join('\n') + (random() < 0.5 ? '\n' : '');
      const chunks = chunked(Buffer.from(text), random, 1 + Math.floor(random() * 64));
      const expected = await sequential(chunks, 200);
      const { records, items } = cut(chunks, 200, 1 + Math.floor(random() * 300));
      expect(comparable(records)).toEqual(comparable(expected));
      units += items.filter((item) => item.unit).length;
      overlong += expected.filter((r) => r.error?.message.includes('longer than')).length;
    }
    // The mixes did cut many units and did skip over-long lines (the cases above were exercised).
    expect(units).toBeGreaterThan(1000);
    expect(overlong).toBeGreaterThan(100);
  });

  it('numbers units where they sit: lines and inputs before each, across blank and over-long lines', () => {
    const text = '{"a":1}\n\n{"a":2}\n' + `{"pad":"${'x'.repeat(50)}"}\n` + '{"a":3}\n  \n{"a":4}';
    const shape = (items: LineUnitItem[]): unknown[] =>
      items.map((item) => (item.unit ? { linesBefore: item.unit.linesBefore, inputsBefore: item.unit.inputsBefore, inputs: item.unit.inputs } : { line: item.record.line, index: item.record.index }));
    expect(shape(cut([Buffer.from(text)], 40, 1000).items)).toEqual([
      { linesBefore: 0, inputsBefore: 0, inputs: 2 }, // lines 1-3 (line 2 blank)
      { line: 4, index: 2 }, // the over-long line, as an error record between units
      { linesBefore: 4, inputsBefore: 3, inputs: 2 }, // lines 5-7 (line 6 blank, line 7 without a newline)
    ]);
    // Units of one byte: every line is a unit of its own.
    expect(shape(cut([Buffer.from(text)], 40, 1).items)).toEqual([
      { linesBefore: 0, inputsBefore: 0, inputs: 1 },
      { linesBefore: 1, inputsBefore: 1, inputs: 0 },
      { linesBefore: 2, inputsBefore: 1, inputs: 1 },
      { line: 4, index: 2 },
      { linesBefore: 4, inputsBefore: 3, inputs: 1 },
      { linesBefore: 5, inputsBefore: 4, inputs: 0 },
      { linesBefore: 6, inputsBefore: 4, inputs: 1 },
    ]);
  });

  it('gives no records for a stream with no inputs (empty, or blank lines only), as readStream does', async () => {
    for (const text of ['', '\n\n', '  \n\t\n', '\r\r\n']) {
      const chunks = [Buffer.from(text)];
      const { records } = cut(chunks, 100, 10);
      expect(records).toEqual([]);
      expect(await sequential(chunks, 100)).toEqual([]);
    }
  });

  it('splits lines at carriage returns that end a line alone (CR-only files) as readStream does, however chunked', async () => {
    const text = '{"a":1}\r{"a":2}\r\n\r{"a":3}\r\r{"a":\r{"a":5}';
    const random = seededRandom(11);
    for (let round = 0; round < 20; round++) {
      const chunks = chunked(Buffer.from(text), random, 9);
      const expected = await sequential(chunks, 100);
      expect(expected.map((r) => r.value ?? r.error?.code)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }, 'E_PARSE', { a: 5 }]);
      expect(expected.map((r) => r.line)).toEqual([1, 2, 4, 6, 7]);
      expect(comparable(cut(chunks, 100, 1 + Math.floor(random() * 20)).records)).toEqual(comparable(expected));
    }
  });

  it('hands over units whose bytes are an ArrayBuffer of their own (transferable, nothing else in it)', () => {
    const { items } = cut([Buffer.from('{"a":1}\n{"a":2}\n'), Buffer.from('{"a":3}\n')], 100, 4);
    for (const item of items) {
      if (!item.unit) continue;
      expect(item.unit.bytes.byteOffset).toBe(0);
      expect(item.unit.bytes.buffer.byteLength).toBe(item.unit.bytes.byteLength);
    }
  });
});
