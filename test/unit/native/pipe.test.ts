/**
 * enlargePipe: the pipe between `zerolm sample` and `zerolm score` grows to a megabyte where Linux allows it.
 * A named pipe (mkfifo) opened read-write stands in for a shell pipe: the same kind of file.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enlargePipe, nativeTestHooks } from '../../../src/native';
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
    const before = enlargePipe(fd, 1); // asks for nothing: the capacity as it is
    expect(before).toBe(65536); // Linux's default pipe
    const asked = Math.min(1 << 20, pipeMaxSize());
    const capacity = enlargePipe(fd, asked);
    // The kernel rounds a capacity up to a power-of-two number of pages.
    expect(capacity).toBeGreaterThanOrEqual(asked);
    expect(capacity).toBeLessThan(2 * asked);
    expect(enlargePipe(fd, 4096)).toBe(capacity);
    expect(enlargePipe(fd, capacity)).toBe(capacity);
  });

  // Root may pass pipe-max-size (CAP_SYS_RESOURCE), so only an unprivileged process sees the refusal.
  (process.getuid?.() === 0 ? it.skip : it)('leaves the pipe as it is when the kernel refuses (past pipe-max-size)', () => {
    const before = enlargePipe(fd, 1);
    expect(enlargePipe(fd, Math.min(2 ** 30, 2 * pipeMaxSize()))).toBe(before);
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

  const bad = [[-1, 4096, 'fd'], [1.5, 4096, 'fd'], [2 ** 31, 4096, 'fd'], [0, 0, 'bytes'], [0, 2 ** 31, 'bytes'], [0, Number.NaN, 'bytes']] as const;

  it('refuses a bad descriptor or size, naming the argument', () => {
    for (const [fd, bytes, field] of bad) {
      const error = zerolmErrorOf(() => enlargePipe(fd, bytes));
      expect(error.code).toBe('E_ARGUMENT');
      expect(error.message).toContain(`enlargePipe ${field}`);
    }
  });

  it('is refused by the addon itself too, when the TypeScript checks are bypassed', () => {
    for (const [fd, bytes, field] of [...bad, ['3', 4096, 'fd and bytes'], [0, undefined, 'fd and bytes']] as const) {
      const error = zerolmErrorOf(() => nativeTestHooks.unvalidatedEnlargePipe(fd, bytes));
      expect(error.code).toBe('E_ARGUMENT');
      expect(error.message).toContain(`enlargePipe: ${field}`);
    }
  });
});
