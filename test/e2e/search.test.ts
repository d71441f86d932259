/** zerolm search driven as a user drives it (the compiled CLI in a real process). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'zerolm-search-'));

function zerolm(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, input, encoding: 'utf8', maxBuffer: 1 << 26 });
  const lines = result.stdout.split('\n').filter(Boolean);
  return { status: result.status, stderr: result.stderr, records: lines.map((l) => JSON.parse(l)) };
}

describe('zerolm search', () => {
  it('prints the best architectures best first; their architecture re-scores to the same score and params', () => {
    const found = zerolm(['search', 'nas-bench-bert', '--max-params', '8000000', '--top', '3', '--emit-hf', join(work, 'hf')]);
    expect(found.stderr).toBe('');
    expect(found.status).toBe(0);
    expect(found.records).toHaveLength(3);
    expect(found.records.map((r) => r.rank)).toEqual([1, 2, 3]);
    expect(found.records[0]).toMatchObject({ optimal: true, algorithm: 'exact' });
    for (let i = 1; i < 3; i++) expect(found.records[i].score).toBeLessThanOrEqual(found.records[i - 1].score);
    for (const r of found.records) expect(r.params).toBeLessThanOrEqual(8000000);
    const again = zerolm(['score'], found.records.map((r) => `${JSON.stringify(r.architecture)}\n`).join(''));
    expect(again.status).toBe(0);
    again.records.forEach((r, i) => {
      expect(r.score).toBe(found.records[i].score);
      expect(r.params).toBe(found.records[i].params);
    });
    // The emitted config is the benchmark's own JSON: its architecture re-scores to the same params.
    const emitted = JSON.parse(readFileSync(join(work, 'hf', 'rank-1', 'config.json'), 'utf8'));
    const fromConfig = zerolm(['score'], `${JSON.stringify(emitted.hparams.model_hparam_overrides)}\n`);
    expect(fromConfig.records[0].params).toBe(found.records[0].params);
  });

  it('lts-txl under NSC-DP\'s budget (38.4M +-5%): exact and proven; the architecture re-scores as a Transformer-XL', () => {
    const found = zerolm(['search', 'lts-txl', '--max-params', '40.32M', '--min-params', '36.48M', '--mode', 'analytic', '--top', '2']);
    expect(found.stderr).toBe('');
    expect(found.status).toBe(0);
    expect(found.records[0]).toMatchObject({ optimal: true, algorithm: 'exact', family: 'transformer-xl' });
    const again = zerolm(['score', '--mode', 'analytic'], found.records.map((r) => `${JSON.stringify(r.architecture)}\n`).join(''));
    again.records.forEach((r, i) => {
      expect(r.family).toBe('transformer-xl');
      expect(r.score).toBe(found.records[i].score);
      expect(r.params).toBe(found.records[i].params);
      expect(r.params).toBeGreaterThanOrEqual(36.48e6);
      expect(r.params).toBeLessThanOrEqual(40.32e6);
    });
  });

  it('with two objectives prints a Pareto set', () => {
    const front = zerolm(['search', 'nas-bench-bert', '--objectives', 'score,params', '--evaluations', '4000', '--mode', 'analytic']);
    expect(front.status).toBe(0);
    expect(front.records.length).toBeGreaterThan(1);
    expect(front.records.every((r) => r.pareto === true)).toBe(true);
  });

  it('KV-cache bytes and latency as objectives: a Pareto set over three, none dominated; latency without hardware exits 2', () => {
    const front = zerolm(['search', 'lts-txl', '--objectives', 'score,kv-bytes,latency', '--peak-tflops', '100', '--bandwidth-gbs', '1000', '--evaluations', '1000', '--mode', 'analytic']);
    expect(front.stderr).toBe('');
    expect(front.status).toBe(0);
    expect(front.records.length).toBeGreaterThan(1);
    expect(front.records.every((r) => r.pareto === true && r.algorithm === 'evolution')).toBe(true);
    const dominated = front.records.filter((p) =>
      front.records.some((q) => q.score >= p.score && q.kvBytes <= p.kvBytes && q.latencyMs <= p.latencyMs && (q.score > p.score || q.kvBytes < p.kvBytes || q.latencyMs < p.latencyMs)),
    );
    expect(dominated).toEqual([]);
    const refused = zerolm(['search', 'lts-txl', '--objectives', 'score,latency']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/latency needs --peak-tflops/);
  });

  it('an infeasible budget exits 1 naming the smallest feasible value; a malformed flag exits 2', () => {
    const infeasible = zerolm(['search', 'nas-bench-bert', '--max-params', '1000']);
    expect(infeasible.status).toBe(1);
    expect(infeasible.stderr).toMatch(/smallest feasible value is \d+/);
    const malformed = zerolm(['search', 'nas-bench-bert', '--max-params', 'lots']);
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toMatch(/--max-params must be/);
  });
});

describe('zerolm search --pool', () => {
  it('ranks a benchmark within the budget, best first, and each line re-scores to itself', () => {
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const { join, resolve } = require('node:path') as typeof import('node:path');
    const cli = join(resolve(__dirname, '../..'), 'dist/cli/main.js');
    const run = (args: string[], input?: string) => spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
    const result = run(['search', '--pool', 'lts-gpt2-wt103', '--max-params', '30M', '--top', '5', '--mode', 'analytic']);
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.rank)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 0; i < lines.length; i++) {
      expect(lines[i].params).toBeLessThanOrEqual(30e6);
      if (i > 0) expect(lines[i].score).toBeLessThanOrEqual(lines[i - 1].score);
    }
    const rescored = run(['score', '--mode', 'analytic'], lines.map((l) => JSON.stringify(l.architecture)).join('\n'));
    expect(rescored.stdout.trim().split('\n').map((l) => JSON.parse(l).score)).toEqual(lines.map((l) => l.score));
    const none = run(['search', '--pool', 'nas-bench-bert', '--max-params', '1', '--mode', 'analytic']);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no architecture of the pool \(500 scored\) meets the budgets; the smallest has \d+ parameters/);
  });
});

describe('zerolm search --plot', () => {
  it('draws the Pareto front as SVG, and refuses a format it cannot draw before any work', () => {
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const { join, resolve } = require('node:path') as typeof import('node:path');
    const { mkdtempSync, readFileSync, existsSync } = require('node:fs') as typeof import('node:fs');
    const { tmpdir } = require('node:os') as typeof import('node:os');
    const cli = join(resolve(__dirname, '../..'), 'dist/cli/main.js');
    const dir = mkdtempSync(join(tmpdir(), 'zerolm-plot-'));
    const svg = join(dir, 'front.svg');
    const drawn = spawnSync(process.execPath, [cli, 'search', 'nas-bench-bert', '--objectives', 'score,params', '--mode', 'analytic', '--plot', svg], { encoding: 'utf8' });
    expect(drawn.status).toBe(0);
    const lines = drawn.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    const text = readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    expect(text).toContain(`Pareto front (${lines.length} architectures)`);
    const gif = join(dir, 'front.gif');
    const refused = spawnSync(process.execPath, [cli, 'search', 'nas-bench-bert', '--plot', gif], { encoding: 'utf8' });
    expect(refused.status).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/\.svg or \.png/);
    expect(existsSync(gif)).toBe(false);
  });
});
