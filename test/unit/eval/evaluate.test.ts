import { evaluate, evaluateSampleSizes, type EvalProgress } from '../../../src/eval/evaluate';

describe('evaluate: measure options', () => {
  it('gives eta to the measures that read it and refuses it when none of them does', async () => {
    await expect(evaluate('nas-bench-bert', { measures: ['mean-sq-sv', 'log-det'], eta: 0.9, splits: 2, baselines: false })).rejects.toThrow(
      'eta applies to pca-k, which is not among the measures evaluated (mean-sq-sv, log-det)',
    );
    const reports = await evaluate('nas-bench-bert', { measures: ['mean-sq-sv', 'pca-k'], eta: 0.5, splits: 2, mode: 'analytic' });
    expect(reports.map((r) => r.measure)).toEqual(['mean-sq-sv', 'pca-k']);
    const defaultEta = await evaluate('nas-bench-bert', { measures: ['pca-k'], splits: 2, mode: 'analytic', baselines: false });
    // A different energy fraction changes the pca-k counts, so the held-out statistics differ.
    expect(reports[1].heldOut.kendall.mean).not.toBe(defaultEta[0].heldOut.kendall.mean);
  });

  it('reports progress by the one contract: (build, measure) steps done of total, with the step that runs', async () => {
    const progress: EvalProgress[] = [];
    await evaluate('nas-bench-bert', { measures: ['mean-sq-sv', 'log-det'], builds: ['as-trained', 'lpzero'], splits: 2, mode: 'analytic', baselines: false, onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => [p.done, p.errors, p.total])).toEqual([[0, 0, 4], [1, 0, 4], [2, 0, 4], [3, 0, 4], [4, 0, 4]]);
    expect(progress[1].message).toBe('nas-bench-bert: build as-trained, measure log-det');
  });

  it('several sample sizes at once: each size gives what evaluate gives for it alone; a bad size is refused before any work', async () => {
    const options = { measures: ['log-det' as const], splits: 3, mode: 'analytic' as const };
    const [small, large] = await evaluateSampleSizes('nas-bench-bert', [10, 40], options);
    expect(small).toEqual(await evaluate('nas-bench-bert', { ...options, sampleSize: 10 }));
    expect(large).toEqual(await evaluate('nas-bench-bert', { ...options, sampleSize: 40 }));
    const progress: EvalProgress[] = [];
    await expect(evaluateSampleSizes('nas-bench-bert', [10, 1], { ...options, onProgress: (p) => progress.push(p) })).rejects.toMatchObject({ code: 'E_ARGUMENT', location: { field: 'sampleSize' } });
    expect(progress).toEqual([]);
  });
});
