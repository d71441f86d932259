import { chooseCandidate, leaveOneBenchmarkOut, type Candidate, type RankPair } from '../../../src/eval/leave-one-out';
import { DEFAULTS } from '../../../src/proxy/score';

describe('leave one benchmark out', () => {
  it('chooses by the worst margin over #params on the benchmarks it is chosen on, never by the held-out one', () => {
    const candidates: Candidate[] = [
      { measure: 'spectral', rule: 'weighted-sum' },
      { measure: 'params', rule: 'geometric' },
    ];
    const table = (a: RankPair, b: RankPair) => new Map([['spectral/weighted-sum', a], ['params/geometric', b]]);
    const results = new Map([
      // spectral wins big on A and loses on B; params/geometric wins a little on both.
      ['A', table({ spearman: 0.9, kendall: 0.8 }, { spearman: 0.71, kendall: 0.51 })],
      ['B', table({ spearman: 0.6, kendall: 0.4 }, { spearman: 0.72, kendall: 0.52 })],
      ['C', table({ spearman: 0.99, kendall: 0.99 }, { spearman: 0.0, kendall: 0.0 })],
    ]);
    const params = new Map([['A', { spearman: 0.7, kendall: 0.5 }], ['B', { spearman: 0.7, kendall: 0.5 }], ['C', { spearman: 0.5, kendall: 0.5 }]]);
    const onAB = chooseCandidate(candidates, results, params, ['A', 'B']);
    expect(onAB.chosen).toEqual({ measure: 'params', rule: 'geometric' });
    expect(onAB.margin).toBeCloseTo(0.01, 12);
    // Chosen on A alone, the candidate that is great there wins, whatever C says.
    expect(chooseCandidate(candidates, results, params, ['A']).chosen).toEqual({ measure: 'spectral', rule: 'weighted-sum' });
  });

  it('on the shipped benchmarks every fold beats non-embedding #params on the benchmark it left out, and so does the default', async () => {
    const folds = await leaveOneBenchmarkOut({ mode: 'analytic' });
    expect(folds.map((f) => f.heldOut)).toEqual(['nas-bench-bert', 'lts-gpt2-wt103', 'lts-txl-wt103']);
    for (const fold of folds) {
      expect(fold.chosenOn).not.toContain(fold.heldOut);
      expect(fold.marginWhereChosen).toBeGreaterThan(0);
      expect(fold.result.spearman).toBeGreaterThanOrEqual(fold.nonEmbeddingParams.spearman);
      expect(fold.result.kendall).toBeGreaterThanOrEqual(fold.nonEmbeddingParams.kendall);
      // Every fold picks the rule the default uses.
      expect(fold.chosen.rule).toBe(DEFAULTS.rule);
      expect(fold.defaultScore.spearman).toBeGreaterThanOrEqual(fold.nonEmbeddingParams.spearman);
      expect(fold.defaultScore.kendall).toBeGreaterThanOrEqual(fold.nonEmbeddingParams.kendall);
    }
  });
});
