/**
 * enlargePipe: the pipe between `zerolm sample` and `zerolm score` grows to a megabyte where Linux allows it.
 * A named pipe (mkfifo) opened read-write stands in for a shell pipe: the same kind of file.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enlargePipe } from '../../../src/native';
import { zerolmErrorOf } from '../../helpers/zerolm-error';

const linux = process.platform === 'linux';
const directory = mkdtempSync(join(tmpdir(), 'zerolm-pipe-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** The largest pipe an unprivileged process may ask for. */
const pipeMaxSize = (): number => Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));

(linux ? describe : describe.skip)('enlargePipe (Linux)', () => {
  let fd = -1;
  beforeEach(() => {
    const fifo = join(directory, `fifo-${Date.now()}-${Math.random()}`);
    execFileSync('mkfifo', [fifo]);
    fd = openSync(fifo, constants.O_RDWR);
  });
  afterEach(() => closeSync(fd));

  it('grows a pipe to what was asked (within the system limit), and never shrinks it', () => {
    const limit = pipeMaxSize();
    const asked = Math.min(1 << 20, limit);
    const capacity = enlargePipe(fd, asked);
    // The kernel rounds a capacity up to a power-of-two number of pages.
    expect(capacity).toBeGreaterThanOrEqual(asked);
    expect(capacity).toBeLessThan(2 * asked);
    expect(enlargePipe(fd, 4096)).toBe(capacity);
    expect(enlargePipe(fd, capacity)).toBe(capacity);
  });

  it('keeps the pipe as it is when the kernel refuses, and says how large it is', () => {
    // Past pipe-max-size an unprivileged process is refused (root is not: then it may grow).
    const capacity = enlargePipe(fd, Math.min(2 ** 30, 4 * pipeMaxSize()));
    expect(capacity).toBeGreaterThanOrEqual(65536);
  });
});

describe('enlargePipe', () => {
  it('gives 0 for a descriptor that is not a pipe', () => {
    const file = join(directory, 'plain.txt');
    writeFileSync(file, 'not a pipe\n');
    const fd = openSync(file, 'r');
    try {
      expect(enlargePipe(fd, 1 << 20)).toBe(0);
    } finally {
      closeSync(fd);
    }
  });

  it('refuses a bad descriptor or size, naming the argument', () => {
    for (const [fd, bytes, field] of [[-1, 4096, 'fd'], [1.5, 4096, 'fd'], [0, 0, 'bytes'], [0, 2 ** 31, 'bytes'], [0, Number.NaN, 'bytes']] as const) {
      const error = zerolmErrorOf(() => enlargePipe(fd, bytes));
      expect(error.code).toBe('E_ARGUMENT');
      expect(error.message).toContain(`enlargePipe ${field}`);
    }
  });
});
