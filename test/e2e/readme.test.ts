/**
 * README.md says what the CLI does; these tests hold it to that. Each line of its CLI example block runs as written
 * (`npx zerolm` being this checkout's compiled CLI) in an empty folder, in order, and must exit 0 and leave output of
 * the expected shape. Each table marked with the command that prints it lists the same rows, with the same numbers,
 * as that command prints.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli/main.js');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'zerolm-readme-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const zerolmCommand = `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)}`;

/** The lines of the fenced block that follows `marker`. */
function blockAfter(marker: string): string[] {
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no ${marker}`);
  const open = readme.indexOf('```', at);
  const body = readme.slice(readme.indexOf('\n', open) + 1, readme.indexOf('```', open + 3));
  return body.split('\n').filter((line) => line.trim() !== '');
}

interface Row {
  name: string;
  labels: string;
  spearman: string;
  kendall: string;
  kendall10pw: string;
  spearmanAll: string;
  kendallAll: string;
}

const rowOf = (cells: string[]): Row => {
  const [name, labels, spearman, kendall, kendall10pw, spearmanAll, kendallAll] = cells.map((cell) => (cell ?? '').trim());
  return { name, labels, spearman, kendall, kendall10pw, spearmanAll: spearmanAll ?? '', kendallAll: kendallAll ?? '' };
};

/** The rows of the table a `zerolm eval` prints (after its dashed rule). */
function printedRows(stdout: string): Row[] {
  const lines = stdout.split('\n');
  const rows: Row[] = [];
  let inTable = false;
  for (const line of lines) {
    if (/^-+$/.test(line)) inTable = true;
    else if (line.trim() === '') inTable = false;
    else if (inTable) rows.push(rowOf(line.trimEnd().split(/\s{2,}/)));
  }
  return rows;
}

/** The markdown table after `marker` (header and rule skipped). */
function readmeRows(marker: string): Row[] {
  const at = readme.indexOf(marker);
  const lines = readme.slice(at).split('\n').slice(1);
  const rows: Row[] = [];
  for (const line of lines.slice(2)) {
    if (!line.startsWith('|')) break;
    rows.push(rowOf(line.split('|').slice(1, -1)));
  }
  return rows;
}

function run(commandLine: string) {
  return spawnSync('bash', ['-o', 'pipefail', '-c', commandLine.replace(/\bnpx zerolm\b/g, zerolmCommand)], { cwd: work, encoding: 'utf8', maxBuffer: 1 << 28 });
}

const tables = [...readme.matchAll(/<!-- (printed by|rows of): (zerolm [^>]*?) -->/g)].map((m) => ({ marker: m[0], kind: m[1], command: m[2] }));

describe('README tables', () => {
  it('marks the main job table', () => {
    expect(tables.map((t) => t.command)).toContain('zerolm eval nas-bench-bert');
  });

  it.each(tables)('$kind: $command', ({ marker, kind, command }) => {
    const result = run(`npx ${command}`);
    expect(result.status).toBe(0);
    const printed = printedRows(result.stdout);
    const documented = readmeRows(marker);
    expect(documented.length).toBeGreaterThan(0);
    if (kind === 'printed by') expect(documented).toEqual(printed);
    else for (const row of documented) expect(printed).toContainEqual(row);
  }, 120000);
});

describe('README CLI examples, run as written', () => {
  const examples = blockAfter('<!-- cli-examples -->');

  it('are all zerolm commands', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const line of examples) expect(line.startsWith('npx zerolm ')).toBe(true);
  });

  // In order: later lines read what earlier ones wrote.
  it.each(examples)('%s', (line) => {
    const result = run(line);
    expect(result.stderr).not.toMatch(/E_[A-Z_]+:/);
    expect(result.status).toBe(0);
    const redirect = /> (\S+)$/.exec(line);
    if (!redirect) {
      if (!/--plot/.test(line)) expect(result.stdout.length).toBeGreaterThan(0);
    } else {
      const file = join(work, redirect[1]);
      const text = readFileSync(file, 'utf8');
      const records = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) {
        expect(record.error).toBeUndefined();
        // A score line, an evaluation report or an architecture.
        expect(Number.isFinite(record.score) || typeof record.heldOut === 'object' || 'hidden_size' in record).toBe(true);
      }
    }
    const plot = /--plot (\S+)/.exec(line);
    if (plot) expect(readFileSync(join(work, plot[1]), 'utf8')).toMatch(/^<svg/);
    const out = /--out (\S+)/.exec(line);
    if (out) expect(existsSync(join(work, out[1]))).toBe(true);
  }, 120000);
});
