import { calibrateAlpha } from '../../../src/calibrate';
import { learningCurve, transferTable } from '../../../src/eval/transfer';
import { evaluate } from '../../../src/eval/evaluate';

describe('calibration away from home', () => {
  it('transfer covers every ordered pair of benchmarks, with the source benchmark\'s own alpha', async () => {
    const rows = await transferTable({ mode: 'analytic' });
    expect(rows).toHaveLength(6);
    const pairs = new Set(rows.map((r) => `${r.calibratedOn}>${r.appliedTo}`));
    expect(pairs.size).toBe(6);
    for (const r of rows) expect(r.calibratedOn).not.toBe(r.appliedTo);
    // The same source gives the same alpha whatever it is applied to; the label-free row does not depend on the source.
    const bySource = new Map<string, number>();
    for (const r of rows) {
      expect(bySource.get(r.calibratedOn) ?? r.alpha).toBe(r.alpha);
      bySource.set(r.calibratedOn, r.alpha);
    }
    const gpt2 = rows.filter((r) => r.appliedTo === 'lts-gpt2-wt103');
    expect(gpt2[0].labelFree).toEqual(gpt2[1].labelFree);
    expect(typeof calibrateAlpha).toBe('function');
  });

  it('a learning curve is one held-out evaluation per number of labels', async () => {
    const points = await learningCurve('lts-txl-wt103', [10, 50], { mode: 'analytic', splits: 4 });
    expect(points.map((p) => p.sampleSize)).toEqual([10, 50]);
    const [report] = await evaluate('lts-txl-wt103', { mode: 'analytic', splits: 4, sampleSize: 50 });
    expect(points[1].calibrated.kendall).toEqual(report.heldOut.kendall);
    expect(points[1].nonEmbeddingParams.kendall).toEqual(report.baselines['#params (non-embedding)'].kendall);
  });
});
