/** Buffered line output with back-pressure, and a progress line on stderr when it is a terminal. */
import type { Writable } from 'node:stream';

export class LineWriter {
  private buffer: string[] = [];
  private bytes = 0;
  constructor(private readonly stream: Writable = process.stdout, private readonly flushBytes = 1 << 20) {}

  async write(line: string): Promise<void> {
    if (this.push(line)) await this.flush();
  }

  /** Buffer a line without awaiting; true when the buffer is full and the caller should `await flush()`. */
  push(line: string): boolean {
    this.buffer.push(line, '\n');
    this.bytes += line.length + 1;
    return this.bytes >= this.flushBytes;
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.bytes = 0;
    if (!this.stream.write(text)) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
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
