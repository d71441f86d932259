import { Writable } from 'node:stream';
import { LineWriter } from '../../../src/cli/output';
import type { LineEncoder } from '../../../src/proxy/serialize';

/** A stream that keeps what it is given and, when `slow`, asks for a drain after every write. */
class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  drains = 0;
  constructor(private readonly slow = false) {
    super({ highWaterMark: slow ? 1 : 1 << 30 });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    if (this.slow) {
      this.drains++;
      setImmediate(done);
    } else done();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Encodes a string as its UTF-8 bytes, refusing (-1) when it does not fit. */
const textEncoder: LineEncoder<string> = {
  encodeInto(item, target, offset) {
    const length = Buffer.byteLength(item);
    if (offset + length > target.length) return -1;
    target.write(item, offset, 'utf8');
    return offset + length;
  },
};

const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${'\u00e9\u4e2d'.repeat(i % 7)} ${'x'.repeat((i * 37) % 90)}`);

describe('LineWriter', () => {
  it('writes every line once, in order, whatever the buffer size', async () => {
    for (const flushBytes of [1, 16, 100, 1 << 20]) {
      const sink = new Sink();
      const writer = new LineWriter(sink, flushBytes);
      for (const line of lines) if (writer.pushEncoded(textEncoder, line)) await writer.flush();
      await writer.flush();
      expect(sink.text).toBe(lines.map((line) => `${line}\n`).join(''));
    }
  });

  it('passes encoded bytes through in order with encoded lines, in pieces no larger than its buffer', async () => {
    const sink = new Sink();
    const writer = new LineWriter(sink, 100);
    const block = Buffer.from(lines.slice(0, 50).map((line) => `${line}\n`).join(''));
    if (writer.pushEncoded(textEncoder, 'first')) await writer.flush();
    if (writer.pushBytes(block)) await writer.flush();
    if (writer.pushEncoded(textEncoder, 'last')) await writer.flush();
    await writer.flush();
    expect(sink.text).toBe(`first\n${block.toString()}last\n`);
    expect(Math.max(...sink.chunks.map((chunk) => chunk.length))).toBeLessThanOrEqual(100);
  });

  it('hands its bytes over in buffers of about the size asked for', async () => {
    const sink = new Sink();
    const writer = new LineWriter(sink, 1000);
    for (const line of lines) if (writer.pushEncoded(textEncoder, line)) await writer.flush();
    await writer.flush();
    const sizes = sink.chunks.map((chunk) => chunk.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
    expect(sizes.slice(0, -1).every((size) => size > 800)).toBe(true);
  });

  it('lines longer than the buffer go out whole', async () => {
    const long = `${'\u4e2d'.repeat(3000)}end`;
    const sink = new Sink();
    const writer = new LineWriter(sink, 64);
    for (const line of ['a', long, 'b', long]) if (writer.pushEncoded(textEncoder, line)) await writer.flush();
    await writer.flush();
    expect(sink.text).toBe(`a\n${long}\nb\n${long}\n`);
  });

  it('waits for a slow stream to drain', async () => {
    const sink = new Sink(true);
    const writer = new LineWriter(sink, 50);
    for (const line of lines) {
      if (writer.pushEncoded(textEncoder, line)) {
        await writer.flush();
        expect(sink.writableNeedDrain).toBe(false);
      }
    }
    await writer.flush();
    expect(sink.drains).toBeGreaterThan(10);
    await new Promise((resolve) => sink.end(resolve));
    expect(sink.text).toBe(lines.map((line) => `${line}\n`).join(''));
  });
});
