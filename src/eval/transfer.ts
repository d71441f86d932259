/**
 * What a calibration is worth away from home, and how many labels it needs:
 * - transfer: alpha calibrated on all of benchmark A, applied to every architecture of benchmark B, beside the
 *   label-free default and #params on B;
 * - learning curve: held-out means of the calibrated score for each number of labels, beside #params and the
 *   label-free default on the same held-out sets.
 */
import { calibrateAlpha, forRanking } from '../calibrate';
import { combine, type CombinationRule } from '../proxy/alpha';
import { componentsOfPlans, resolveScoreOptions, DEFAULTS, type ScoreOptions } from '../proxy/score';
import type { BuildName } from '../arch/types';
import type { MeasureName } from '../capacity/measures';
import { listBenchmarks, loadBenchmark } from './benchmarks';
import { benchmarkPlans, evaluateSampleSizes, type EvaluateOptions, type MeanSd } from './evaluate';
import { kendallTauB, spearman } from '../stats/rank';
import type { RankPair } from './leave-one-out';

export interface TransferRow {
  calibratedOn: string;
  appliedTo: string;
  alpha: number;
  rule: CombinationRule;
  measure: string;
  /** The calibrated score on every architecture of `appliedTo`. */
  transferred: RankPair;
  /** alpha calibrated on `appliedTo` itself (all its labels): what transfer is compared against, an in-sample ceiling. */
  home: RankPair;
  labelFree: RankPair;
  nonEmbeddingParams: RankPair;
}

export interface TransferOptions extends Omit<ScoreOptions, 'alpha' | 'build'> {
  benchmarks?: string[];
  dataDir?: string;
}

const rankPair = (score: ArrayLike<number>, oriented: ArrayLike<number>): RankPair => {
  const rounded = Float64Array.from(score as ArrayLike<number>, forRanking);
  return { spearman: spearman(rounded, oriented), kendall: kendallTauB(rounded, oriented) };
};

/** Calibrate on each shipped benchmark, apply to each other one. */
export async function transferTable(options: TransferOptions = {}): Promise<TransferRow[]> {
  const names = options.benchmarks ?? listBenchmarks();
  const rule = options.rule ?? DEFAULTS.ruleWithAlpha;
  const resolved = resolveScoreOptions({ ...options, alpha: DEFAULTS.alpha, rule });
  const data = [];
  for (const name of names) {
    const benchmark = loadBenchmark(name, options.dataDir);
    const plans = benchmarkPlans(benchmark);
    const components = await componentsOfPlans(plans, resolved);
    const attention = components.map((c) => c.attention);
    const ffn = components.map((c) => c.ffn);
    const labels = benchmark.entries.map((e) => e.label);
    const oriented = Float64Array.from(labels, (label) => (benchmark.higherIsBetter ? label : -label));
    const { alpha } = calibrateAlpha({ attention, ffn, labels, higherIsBetter: benchmark.higherIsBetter }, { rule, sampleSize: labels.length });
    data.push({
      name,
      alpha,
      oriented,
      scoreWith: (a: number) => components.map((c) => combine(c.attention, c.ffn, a, rule)),
      labelFree: rankPair(components.map((c) => combine(c.attention, c.ffn, DEFAULTS.alpha, DEFAULTS.rule)), oriented),
      params: rankPair(plans.map((p) => p.params.nonEmbedding), oriented),
    });
  }
  const rows: TransferRow[] = [];
  for (const from of data) {
    for (const to of data) {
      if (from === to) continue;
      rows.push({
        calibratedOn: from.name,
        appliedTo: to.name,
        alpha: from.alpha,
        rule,
        measure: resolved.measure.name,
        transferred: rankPair(to.scoreWith(from.alpha), to.oriented),
        home: rankPair(to.scoreWith(to.alpha), to.oriented),
        labelFree: to.labelFree,
        nonEmbeddingParams: to.params,
      });
    }
  }
  return rows;
}

export function formatTransferTable(rows: readonly TransferRow[]): string {
  const f = (p: RankPair): string => `${p.spearman.toFixed(3)} / ${p.kendall.toFixed(3)}`;
  const lines = [
    `Transfer: ${rows[0]?.measure ?? ''} ${rows[0]?.rule ?? ''} alpha calibrated on all of one benchmark, applied to every architecture of another.`,
    'Spearman / Kendall against the target benchmark (higher is better); "at home" is alpha calibrated on the target itself.',
    '',
    `${'calibrated on'.padEnd(16)}  ${'applied to'.padEnd(16)}  alpha  transferred      at home          label-free default  #params (non-emb.)`,
  ];
  for (const r of rows) {
    lines.push(`${r.calibratedOn.padEnd(16)}  ${r.appliedTo.padEnd(16)}  ${r.alpha.toFixed(2).padStart(5)}  ${f(r.transferred)}  ${f(r.home)}  ${f(r.labelFree)}       ${f(r.nonEmbeddingParams)}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface LearningCurvePoint {
  sampleSize: number;
  calibrated: { spearman: MeanSd; kendall: MeanSd };
  labelFree: { spearman: MeanSd; kendall: MeanSd };
  nonEmbeddingParams: { spearman: MeanSd; kendall: MeanSd };
}

/**
 * Held-out means for each number of labels (each on its own splits, the baselines on the same held-out sets). The
 * capacities and every label-free score are computed once for all the sizes (evaluateSampleSizes).
 */
export async function learningCurve(benchmark: string, sampleSizes: readonly number[], options: Omit<EvaluateOptions, 'sampleSize' | 'measures' | 'builds'> & { measure?: MeasureName; build?: BuildName } = {}): Promise<LearningCurvePoint[]> {
  const { measure, build, ...rest } = options;
  const reports = await evaluateSampleSizes(benchmark, sampleSizes, { ...rest, measures: measure ? [measure] : undefined, builds: build ? [build] : undefined, baselines: true });
  return reports.map(([report], i) => {
    const params = report.baselines['#params (non-embedding)'];
    return {
      sampleSize: sampleSizes[i],
      calibrated: { spearman: report.heldOut.spearman, kendall: report.heldOut.kendall },
      labelFree: { spearman: report.labelFree.spearman, kendall: report.labelFree.kendall },
      nonEmbeddingParams: { spearman: params.spearman, kendall: params.kendall },
    };
  });
}

export function formatLearningCurve(benchmark: string, measure: string, points: readonly LearningCurvePoint[]): string {
  const f = (x: { spearman: MeanSd; kendall: MeanSd }): string => `${x.spearman.mean.toFixed(3)} / ${x.kendall.mean.toFixed(3)}`;
  const lines = [
    `${benchmark}: held-out Spearman / Kendall (means over the splits) by the number of labels alpha is calibrated on (${measure}); higher is better.`,
    '',
    `${'labels'.padStart(6)}  calibrated       label-free default  #params (non-emb.)`,
  ];
  for (const p of points) lines.push(`${String(p.sampleSize).padStart(6)}  ${f(p.calibrated)}  ${f(p.labelFree)}       ${f(p.nonEmbeddingParams)}`);
  return `${lines.join('\n')}\n`;
}
