/**
 * The command line as a newcomer meets it: exit statuses (0 scored, 1 some inputs failed, 2 a bad command line),
 * --help with defaults and examples, single-value ranges, --memory-limit, and the CLI's --init string meaning the
 * library's init object.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { score } from '../../src/proxy/score';
import { DEFAULT_BATCH_SIZE } from '../../src/proxy/many';
import { loadBenchmark } from '../../src/eval/benchmarks';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'zerolm-usage-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function zerolm(args: string[], input = '') {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: work, input, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, lines: result.stdout.split('\n').filter(Boolean) };
}

const oneArchitecture = `${JSON.stringify(loadBenchmark('nas-bench-bert').entries[0].architecture)}\n`;

describe('exit status', () => {
  it.each([
    [['score', '--bogus'], "unknown option '--bogus'"],
    [['score', '--mode', 'fast'], "argument 'fast' is invalid"],
    [['score', '--seed', '-1'], '--seed must be an integer'],
    [['sample', 'nas-bench-bert'], "required option '--count <n>' not specified"],
    [['score', '--memory-limit', 'lots'], '--memory-limit must be a size'],
    [['sample', 'hf-decoder', '--count', '1', '--layers', '8-'], '--layers must look like LOW-HIGH or one value'],
    [['frobnicate'], "unknown command 'frobnicate'"],
  ])('a bad command line (%j) exits 2, with the reason on stderr and nothing on stdout', (args, reason) => {
    const result = zerolm(args, oneArchitecture);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(reason);
    expect(result.stdout).toBe('');
  });

  it('an option the library refuses (eta with a measure that does not read it) exits 2 before any input', () => {
    const result = zerolm(['score', '--eta', '0.9', '--measure', 'log-det'], oneArchitecture);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('E_ARGUMENT');
  });

  it('0 when every input scored, 1 when any failed (and the others are still scored)', () => {
    expect(zerolm(['score', '--mode', 'analytic'], oneArchitecture).status).toBe(0);
    const mixed = zerolm(['score', '--mode', 'analytic'], `${oneArchitecture}{"hidden_size":-1}\n${oneArchitecture}`);
    expect(mixed.status).toBe(1);
    expect(mixed.lines).toHaveLength(3);
    expect(mixed.lines.filter((line) => line.includes('"error"'))).toHaveLength(1);
  });

  it('--help and --version exit 0', () => {
    expect(zerolm(['--help']).status).toBe(0);
    expect(zerolm(['score', '--help']).status).toBe(0);
    expect(zerolm(['--version']).stdout.trim()).toBe(require('../../package.json').version);
  });
});

describe('--help', () => {
  it.each(['score', 'calibrate', 'eval', 'sample', 'info'])('%s --help ends with examples of itself', (command) => {
    const help = zerolm([command, '--help']).stdout;
    const examples = help.slice(help.indexOf('Examples:'));
    expect(help).toContain('Examples:');
    expect(examples.split('\n').filter((line) => line.startsWith(`  $ zerolm ${command}`)).length).toBeGreaterThanOrEqual(1);
  });

  it('shows the defaults of the options whose default is not obvious', () => {
    const scoreHelp = zerolm(['score', '--help']).stdout.replace(/\s+/g, ' ');
    for (const text of ['(default: log-det)', '(default: exact)', '(default: 0)', '(default: shape)', '(default: 0.5)', '(default: 4G)', `(default: ${DEFAULT_BATCH_SIZE})`, '(default: all cores)']) {
      expect(scoreHelp).toContain(text);
    }
    const sampleHelp = zerolm(['sample', '--help']).stdout.replace(/\s+/g, ' ');
    for (const text of ['(default: 4-32)', '(default: 512-4096:256)', '(default: 32000)']) expect(sampleHelp).toContain(text);
    expect(zerolm(['--help']).stdout).toContain('Exit status: 0');
  });
});

describe('ranges', () => {
  it('--layers 8 means 8-8 (and --hidden 1024 one size)', () => {
    const single = zerolm(['sample', 'hf-decoder', '--count', '50', '--layers', '8', '--hidden', '1024', '--heads', '16', '--kv-heads', '4']);
    const ranged = zerolm(['sample', 'hf-decoder', '--count', '50', '--layers', '8-8', '--hidden', '1024-1024:256', '--heads', '16', '--kv-heads', '4']);
    expect(single.status).toBe(0);
    const architectures = single.lines.map((line) => JSON.parse(line));
    expect(new Set(architectures.map((a) => a.num_hidden_layers))).toEqual(new Set([8]));
    expect(new Set(architectures.map((a) => a.hidden_size))).toEqual(new Set([1024]));
    expect(single.stdout).toBe(ranged.stdout);
  });
});

describe('--memory-limit', () => {
  // Every nas-bench-bert architecture holds a matrix of 256 x 1024 floats or more: 1 MiB as float32.
  it('exact mode refuses a matrix over the limit as that input\'s error, suggesting the modes that fit', () => {
    const result = zerolm(['score', '--memory-limit', '512K'], oneArchitecture);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('E_MEMORY_LIMIT');
    expect(result.stderr).toContain("mode 'bidiagonal'");
    expect(result.stderr).toContain("'analytic'");
    expect(result.stderr).toContain('--memory-limit');
  });

  it('bidiagonal mode counts what it allocates, O(min(rows, cols)), and scores under the same limit', () => {
    const result = zerolm(['score', '--memory-limit', '512K', '--mode', 'bidiagonal'], oneArchitecture);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(Number.isFinite(JSON.parse(result.lines[0]).score)).toBe(true);
  });

  it('raising the limit past what exact mode needs scores as without it', () => {
    expect(zerolm(['score', '--memory-limit', '1G'], oneArchitecture).stdout).toBe(zerolm(['score'], oneArchitecture).stdout);
  });

  it('sizes: K, M, G are powers of 1024; a bare number is bytes', () => {
    // 1 MiB written three ways: the same refusal for a matrix of 1024 x 1024 floats (4 MiB).
    const wide = JSON.stringify({ ...JSON.parse(oneArchitecture), hidden_size: 1024 });
    const messages = ['1M', '1024K', '1048576'].map((size) => zerolm(['score', '--memory-limit', size], wide).stderr);
    expect(messages[0]).toContain('over the limit of 1048576 bytes');
    expect(new Set(messages).size).toBe(1);
  });
});

describe('--init', () => {
  it('the CLI string is the library object: normal:0.05 scores as { scheme: "normal", std: 0.05 }', async () => {
    const architecture = JSON.parse(oneArchitecture);
    const fromCli = JSON.parse(zerolm(['score', '--init', 'normal:0.05', '--measure', 'log-det'], oneArchitecture).lines[0]);
    const fromLibrary = await score(architecture, { init: { scheme: 'normal', std: 0.05 }, measure: 'log-det' });
    expect(fromCli.score).toBe(fromLibrary.score);
    const xavier = JSON.parse(zerolm(['score', '--init', 'xavier-uniform', '--measure', 'log-det'], oneArchitecture).lines[0]);
    expect(xavier.score).toBe((await score(architecture, { init: { scheme: 'xavier-uniform' }, measure: 'log-det' })).score);
    writeFileSync(join(work, 'unused'), ''); // the work folder exists for the CLI's cwd
  });
});
