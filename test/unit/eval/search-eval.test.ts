import { evalSearch } from '../../../src/eval/search-eval';
import { loadBenchmark } from '../../../src/eval/benchmarks';

describe('eval-search', () => {
  it('nas-bench-bert: budgets at the parameter-count deciles; regret 0 exactly when the pick ranks first; random is the mean over those that fit', async () => {
    const report = await evalSearch('nas-bench-bert', { mode: 'analytic', splits: 3 });
    const benchmark = loadBenchmark('nas-bench-bert');
    expect(report.budgets.map((b) => b.percentile)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    for (const row of report.budgets) {
      // The budget is the sorted parameter counts' value at that percentile: at least that many fit.
      expect(row.fit).toBeGreaterThanOrEqual(Math.round(((benchmark.entries.length - 1) * row.percentile) / 100) + 1);
      expect(row.fit).toBeLessThanOrEqual(benchmark.entries.length);
      for (const [name, q] of Object.entries(row.methods)) {
        expect([name, q.regret >= 0]).toEqual([name, true]);
        if (!name.startsWith('random') && !name.startsWith('calibrated')) expect([name, q.regret === 0]).toEqual([name, q.rank === 1]);
        expect(q.rank).toBeGreaterThanOrEqual(1);
        expect(q.rank).toBeLessThanOrEqual(row.fit);
      }
      // A uniformly random pick's expected rank over n that fit, without ties, is (n + 1) / 2; ties only lower it.
      expect(row.methods['random (expected)'].rank).toBeLessThanOrEqual((row.fit + 1) / 2 + 1e-9);
    }
    const budgets = report.budgets.map((b) => b.maxParams);
    expect([...budgets].sort((a, b) => a - b)).toEqual(budgets);
  });
});
