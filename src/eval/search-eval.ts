/**
 * `zerolm eval-search BENCHMARK`: how good the proxy's pick under a parameter budget is, on real labels. Budgets are
 * the 10th to 90th percentiles of the benchmark's parameter counts; at each, every method picks the architecture it
 * ranks first among those that fit, and the pick is judged against the true best that fits: regret in label units
 * (GLUE points, perplexity), its true rank among those that fit, and whether it is in the true top 5.
 * Methods: the label-free default score; the score with alpha calibrated on each held-out split's sample (as `eval`
 * does; the mean over splits); the largest total and the largest non-embedding parameter count that fit; NSC; and
 * a uniformly random pick (its expectation, computed exactly over those that fit).
 */
import { calibrateAlpha, forRanking } from '../calibrate';
import { combine } from '../proxy/alpha';
import { componentsOfPlans, resolveScoreOptions, DEFAULTS, type ScoreOptions } from '../proxy/score';
import { loadBenchmark } from './benchmarks';
import { benchmarkPlans, makeSplits, DEFAULT_SAMPLE_SIZE, DEFAULT_SPLITS } from './evaluate';
import { nscScores } from './nsc';

export interface PickQuality {
  regret: number;
  rank: number;
  top5: number;
}

export interface BudgetRow {
  percentile: number;
  maxParams: number;
  fit: number;
  trueBest: number;
  methods: Record<string, PickQuality>;
}

export interface SearchEvalReport {
  benchmark: string;
  labelName: string;
  higherIsBetter: boolean;
  budgets: BudgetRow[];
  /** Per method, the mean over budgets. */
  mean: Record<string, PickQuality>;
}

export interface SearchEvalOptions extends ScoreOptions {
  splits?: number;
  sampleSize?: number;
  splitSeed?: number;
}

export async function evalSearch(benchmarkName: string, options: SearchEvalOptions = {}): Promise<SearchEvalReport> {
  const benchmark = loadBenchmark(benchmarkName);
  const n = benchmark.entries.length;
  const oriented = Float64Array.from(benchmark.entries, (e) => (benchmark.higherIsBetter ? e.label : -e.label));
  const plans = benchmarkPlans(benchmark, options.build);
  const params = Float64Array.from(plans, (p) => p.params.total);
  const nonEmbedding = Float64Array.from(plans, (p) => p.params.nonEmbedding);
  const resolved = resolveScoreOptions({ ...options, family: benchmark.family });
  const components = await componentsOfPlans(plans, resolved);
  const attention = Float64Array.from(components, (c) => c.attention);
  const ffn = Float64Array.from(components, (c) => c.ffn);
  const defaultScore = Float64Array.from(components, (c) => forRanking(combine(c.attention, c.ffn, resolved.alpha, resolved.rule)));
  const nsc = nscScores(benchmark);
  const splits = makeSplits(n, options.sampleSize ?? DEFAULT_SAMPLE_SIZE, options.splits ?? DEFAULT_SPLITS, options.splitSeed ?? 0);
  const calibrated = splits.map((split, i) => {
    const calibration = calibrateAlpha({ attention, ffn, labels: Float64Array.from(benchmark.entries, (e) => e.label), higherIsBetter: benchmark.higherIsBetter }, { rule: 'weighted-sum', seed: (options.splitSeed ?? 0) + i, candidates: split.sample, sampleSize: split.sample.length });
    return Float64Array.from(components, (c) => forRanking(combine(c.attention, c.ffn, calibration.alpha, 'weighted-sum')));
  });

  const sortedParams = Array.from(params).sort((a, b) => a - b);
  const rows: BudgetRow[] = [];
  for (let percentile = 10; percentile <= 90; percentile += 10) {
    const maxParams = sortedParams[Math.round(((n - 1) * percentile) / 100)];
    const fit: number[] = [];
    for (let i = 0; i < n; i++) if (params[i] <= maxParams) fit.push(i);
    const best = Math.max(...fit.map((i) => oriented[i]));
    const judge = (pick: number): PickQuality => {
      const rank = 1 + fit.filter((i) => oriented[i] > oriented[pick]).length;
      return { regret: best - oriented[pick], rank, top5: rank <= 5 ? 1 : 0 };
    };
    // The first of the highest (ties broken by benchmark order: no method sees labels).
    const argmax = (values: ArrayLike<number>): number => fit.reduce((a, b) => (values[b] > values[a] ? b : a), fit[0]);
    const mean = (qualities: PickQuality[]): PickQuality => ({
      regret: qualities.reduce((s, q) => s + q.regret, 0) / qualities.length,
      rank: qualities.reduce((s, q) => s + q.rank, 0) / qualities.length,
      top5: qualities.reduce((s, q) => s + q.top5, 0) / qualities.length,
    });
    const methods: Record<string, PickQuality> = {
      [`default (${resolved.rule}, ${resolved.measure.name})`]: judge(argmax(defaultScore)),
      'calibrated alpha (weighted sum)': mean(calibrated.map((score) => judge(argmax(score)))),
      '#params (largest that fits)': judge(argmax(params)),
      '#params non-embedding (largest)': judge(argmax(nonEmbedding)),
      NSC: judge(argmax(nsc)),
      'random (expected)': mean(fit.map(judge)),
    };
    rows.push({ percentile, maxParams, fit: fit.length, trueBest: benchmark.higherIsBetter ? best : -best, methods });
  }
  const mean: Record<string, PickQuality> = {};
  for (const name of Object.keys(rows[0].methods)) {
    mean[name] = {
      regret: rows.reduce((s, r) => s + r.methods[name].regret, 0) / rows.length,
      rank: rows.reduce((s, r) => s + r.methods[name].rank, 0) / rows.length,
      top5: rows.reduce((s, r) => s + r.methods[name].top5, 0) / rows.length,
    };
  }
  return { benchmark: benchmark.name, labelName: benchmark.labelName, higherIsBetter: benchmark.higherIsBetter, budgets: rows, mean };
}

export function formatSearchEval(report: SearchEvalReport): string {
  const names = Object.keys(report.mean);
  const lines = [`${report.benchmark}: the pick under a parameter budget (10th-90th percentile of #params), against the true best that fits (${report.labelName}, ${report.higherIsBetter ? 'higher' : 'lower'} is better)`];
  lines.push(`${'method'.padEnd(36)} ${'mean regret'.padStart(12)} ${'mean rank'.padStart(10)} ${'top-5 hits'.padStart(10)}`);
  for (const name of names) {
    const q = report.mean[name];
    lines.push(`${name.padEnd(36)} ${q.regret.toFixed(3).padStart(12)} ${q.rank.toFixed(1).padStart(10)} ${`${(100 * q.top5).toFixed(0)}%`.padStart(10)}`);
  }
  lines.push('', `per budget, regret (rank):`);
  lines.push(`${'pct'.padEnd(4)} ${'maxParams'.padStart(11)} ${'fit'.padStart(4)}  ${names.map((n) => n.slice(0, 14).padStart(15)).join('')}`);
  for (const row of report.budgets) {
    lines.push(`${String(row.percentile).padEnd(4)} ${String(row.maxParams).padStart(11)} ${String(row.fit).padStart(4)}  ${names.map((n) => `${row.methods[n].regret.toFixed(2)} (${row.methods[n].rank.toFixed(0)})`.padStart(15)).join('')}`);
  }
  return `${lines.join('\n')}\n`;
}

export const SEARCH_EVAL_DEFAULTS = { sampleSize: DEFAULT_SAMPLE_SIZE, splits: DEFAULT_SPLITS, measure: DEFAULTS.measure };
