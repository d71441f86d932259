/**
 * The plotting packages are optional peers: without them zerolm works, and `eval --plot` fails before any work
 * (no table printed) with one message naming the packages and the command that installs them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageCopy } from '../helpers/package-copy';

const work = mkdtempSync(join(tmpdir(), 'zerolm-no-plot-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('zerolm eval --plot without the plotting packages', () => {
  const copy = packageCopy(join(work, 'package'), { withoutPackages: ['vega', 'vega-lite', '@resvg/resvg-js'] });
  const cli = join(copy, 'dist/cli/main.js');
  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: work, encoding: 'utf8' });

  it.each([
    ['plot.png', 'vega, vega-lite, @resvg/resvg-js', 'npm install vega vega-lite @resvg/resvg-js'],
    ['plot.svg', 'vega, vega-lite', 'npm install vega vega-lite'],
  ])('--plot %s stops before scoring, naming %s', (file, named, command) => {
    const result = run(['eval', 'nas-bench-bert', '--mode', 'analytic', '--splits', '1', '--plot', join(work, file)]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe(''); // no evaluation table: nothing was scored
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('E_UNSUPPORTED');
    expect(result.stderr).toContain(`optional packages ${named}`);
    expect(result.stderr).toContain(command);
  });

  it('everything else works without them', () => {
    const result = run(['eval', 'nas-bench-bert', '--mode', 'analytic', '--splits', '1', '--no-baselines']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Spearman');
  });
});
