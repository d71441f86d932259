/** The README's headline numbers are measured, not typed: recompute them and compare (to the 3 digits printed, +-0.01). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../../src/eval/evaluate';

const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');

/** "0.795 / 0.602" cells of the README's row for `benchmark` in the default-score table. */
function defaultRow(benchmark: string): number[][] {
  const row = readme.split('\n').find((line) => line.startsWith(`| ${benchmark} |`) && line.split('|').length === 8 && /^ \d\.\d{3} \/ \d\.\d{3} $/.test(line.split('|')[2]));
  if (row === undefined) throw new Error(`README has no default-score row for ${benchmark}`);
  return row.split('|').slice(2, 7).map((cell) => cell.trim().split(' / ').map(Number));
}

describe('README: the default score against #params and NSC', () => {
  // The README's numbers are exact mode. nas-bench-bert is checked in exact mode; the LTS spaces (about a thousand
  // distinct matrix shapes each, a minute of Cholesky factorisations) in analytic mode, whose log-det expectations
  // rank these models within 0.001 of exact mode's draws.
  it.each([
    ['nas-bench-bert (as-trained)', 'nas-bench-bert', 'exact'],
    ['lts-gpt2-wt103', 'lts-gpt2-wt103', 'analytic'],
    ['lts-txl-wt103', 'lts-txl-wt103', 'analytic'],
  ] as const)('%s', async (label, benchmark, mode) => {
    const [defaultAll, paramsAll, nscAll, defaultHeldOut, paramsHeldOut] = defaultRow(label);
    const [report] = await evaluate(benchmark, { mode });
    expect(report.measure).toBe('log-det');
    const close = (stated: number[], spearman: number, kendall: number) => {
      expect(Math.abs(stated[0] - spearman)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(stated[1] - kendall)).toBeLessThanOrEqual(0.01);
    };
    close(defaultAll, report.labelFree.all.spearman, report.labelFree.all.kendall);
    close(paramsAll, report.baselines['#params (non-embedding)'].all.spearman, report.baselines['#params (non-embedding)'].all.kendall);
    close(nscAll, report.baselines.NSC.all.spearman, report.baselines.NSC.all.kendall);
    close(defaultHeldOut, report.labelFree.spearman.mean, report.labelFree.kendall.mean);
    close(paramsHeldOut, report.baselines['#params (non-embedding)'].spearman.mean, report.baselines['#params (non-embedding)'].kendall.mean);
    // The claim itself: the default is at least #params (non-embedding) over all architectures.
    expect(report.labelFree.all.spearman).toBeGreaterThanOrEqual(report.baselines['#params (non-embedding)'].all.spearman);
    expect(report.labelFree.all.kendall).toBeGreaterThanOrEqual(report.baselines['#params (non-embedding)'].all.kendall);
  });
});
