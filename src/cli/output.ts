/** Buffered line output with back-pressure, and a progress line on stderr when it is a terminal. */
import type { Writable } from 'node:stream';
import { NEWLINE } from '../ascii';
import type { LineEncoder } from '../proxy/serialize';

/**
 * Bytes handed to the stream at a time: a default Linux pipe's capacity. Writes to a pipe on stdout are synchronous
 * there and return only once all but a pipe's worth has been read, so writing more than the pipe holds makes
 * `sample | score` take turns (one produces while the other waits) instead of running side by side.
 */
export const DEFAULT_FLUSH_BYTES = 1 << 16;

/**
 * Lines are encoded straight into a byte buffer as they come (no array of strings to join, no second copy) and the
 * buffer is handed to the stream whole when full.
 */
export class LineWriter {
  private buffer: Buffer;
  private used = 0;
  constructor(private readonly stream: Writable = process.stdout, private readonly flushBytes = DEFAULT_FLUSH_BYTES) {
    this.buffer = Buffer.allocUnsafe(flushBytes);
  }

  /**
   * Buffers the line an encoder writes for `item` (as bytes, no string made first), without awaiting; true when the
   * stream asks the writer to wait (its own buffer is full), so the caller should `await flush()`.
   */
  pushEncoded<T>(encoder: LineEncoder<T>, item: T): boolean {
    // The line must leave one byte free for its newline; bytes past `used` are scratch until then.
    const end = encoder.encodeInto(item, this.buffer, this.used);
    if (end >= 0 && end < this.buffer.length) {
      this.buffer[end] = NEWLINE;
      this.used = end + 1;
      return false;
    }
    this.handOver();
    for (let size = 2 * this.flushBytes; ; size *= 2) {
      const written = encoder.encodeInto(item, this.buffer, 0);
      if (written >= 0 && written < this.buffer.length) {
        this.buffer[written] = NEWLINE;
        this.used = written + 1;
        return this.stream.writableNeedDrain;
      }
      // Longer than a whole buffer: it goes out in one of its own.
      this.buffer = Buffer.allocUnsafe(size);
    }
  }

  /** Lines already encoded (each ending in a newline), handed to the stream a buffer's worth at a time. */
  pushBytes(bytes: Buffer): boolean {
    this.handOver();
    for (let start = 0; start < bytes.length; start += this.flushBytes) this.stream.write(bytes.subarray(start, Math.min(bytes.length, start + this.flushBytes)));
    return this.stream.writableNeedDrain;
  }

  async flush(): Promise<void> {
    this.handOver();
    if (this.stream.writableNeedDrain) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
  }

  /** Gives the filled part of the buffer to the stream (which may keep it) and starts a fresh one; false if empty. */
  private handOver(): boolean {
    if (this.used === 0) return false;
    const filled = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(this.flushBytes);
    this.used = 0;
    this.stream.write(filled);
    return true;
  }
}

export class ProgressLine {
  private last = 0;
  private readonly started = Date.now();
  private shown = false;
  constructor(private readonly label: string, private readonly enabled = Boolean(process.stderr.isTTY)) {}

  update(done: number, total?: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    // Only long runs get a bar, and it is redrawn at most ten times a second.
    if (now - this.started < 500 || now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    const rate = done / ((now - this.started) / 1000);
    const width = 30;
    const bar = total ? `[${'#'.repeat(Math.round((width * done) / total)).padEnd(width)}] ${done}/${total}` : `${done}`;
    process.stderr.write(`\r${this.label} ${bar} (${Math.round(rate)}/s)\u001b[K`);
  }

  end(): void {
    if (this.shown) process.stderr.write('\r\u001b[K');
  }
}
