/**
 * How the label-free default was chosen, reproducibly: leave one benchmark out.
 *
 * The candidates are every measure under each combination rule at the label-free weight (alpha 0.5: nothing tuned).
 * For each benchmark in turn, the candidate is chosen on the OTHER benchmarks only, by its worst margin over
 * non-embedding parameter counts there (the smaller of its Spearman and Kendall gains, over all architectures), and
 * then reported on the benchmark left out. A rule that wins this way on every fold is one that was never fitted to
 * the benchmark it is judged on.
 */
import { measureNames, type MeasureName } from '../capacity/measures';
import { combinationRules, combine, type CombinationRule } from '../proxy/alpha';
import { componentsOfPlans, resolveScoreOptions, DEFAULTS, type ScoreOptions } from '../proxy/score';
import { forRanking } from '../calibrate';
import { ZeroLMError } from '../errors';
import { checkOnProgress, reportProgress, type OnProgress } from '../progress';
import { listBenchmarks, loadBenchmark } from './benchmarks';
import { benchmarkPlans, type EvalProgress } from './evaluate';
import { kendallTauB, spearman } from '../stats/rank';

export interface Candidate {
  measure: MeasureName;
  rule: CombinationRule;
}

export interface RankPair {
  spearman: number;
  kendall: number;
}

export interface LeaveOneOutFold {
  /** The benchmark left out: the choice never saw it. */
  heldOut: string;
  /** The benchmarks the choice was made on. */
  chosenOn: string[];
  chosen: Candidate;
  /** The chosen candidate's worst margin over non-embedding #params on the benchmarks it was chosen on. */
  marginWhereChosen: number;
  /** The chosen candidate on the held-out benchmark, over all its architectures. */
  result: RankPair;
  /** Non-embedding parameter counts on the held-out benchmark. */
  nonEmbeddingParams: RankPair;
  /** The shipped default (DEFAULTS.measure, DEFAULTS.rule) on the held-out benchmark. */
  defaultScore: RankPair;
}

export interface LeaveOneOutOptions extends Omit<ScoreOptions, 'alpha' | 'measure' | 'rule' | 'build'> {
  benchmarks?: string[];
  measures?: MeasureName[];
  dataDir?: string;
  /** `{done, errors: 0, total, message}`: (benchmark, measure) steps finished of `total`, and the step now running. */
  onProgress?: OnProgress<EvalProgress>;
}

function rankPair(score: ArrayLike<number>, oriented: ArrayLike<number>): RankPair {
  const rounded = Float64Array.from(score as ArrayLike<number>, forRanking);
  return { spearman: spearman(rounded, oriented), kendall: kendallTauB(rounded, oriented) };
}

const keyOf = (c: Candidate): string => `${c.measure}/${c.rule}`;

/** Every candidate's rank statistics on every benchmark, and #params' (non-embedding); benchmarks in their default build. */
export async function candidateTable(options: LeaveOneOutOptions = {}): Promise<{ candidates: Candidate[]; results: Map<string, Map<string, RankPair>>; params: Map<string, RankPair> }> {
  const benchmarks = options.benchmarks ?? listBenchmarks();
  const measures = options.measures ?? [...measureNames];
  const candidates: Candidate[] = measures.flatMap((measure) => combinationRules.map((rule) => ({ measure, rule })));
  const results = new Map<string, Map<string, RankPair>>();
  const params = new Map<string, RankPair>();
  checkOnProgress(options.onProgress);
  const total = benchmarks.length * measures.length;
  let done = 0;
  for (const name of benchmarks) {
    const benchmark = loadBenchmark(name, options.dataDir);
    const oriented = Float64Array.from(benchmark.entries, (e) => (benchmark.higherIsBetter ? e.label : -e.label));
    const plans = benchmarkPlans(benchmark);
    params.set(name, rankPair(Float64Array.from(plans, (p) => p.params.nonEmbedding), oriented));
    const byCandidate = new Map<string, RankPair>();
    for (const measure of measures) {
      reportProgress(options.onProgress, { done: done++, errors: 0, total, message: `${name}: ${measure}` });
      const components = await componentsOfPlans(plans, resolveScoreOptions({ ...options, measure, alpha: DEFAULTS.alpha, rule: DEFAULTS.rule }));
      for (const rule of combinationRules) {
        byCandidate.set(keyOf({ measure, rule }), rankPair(components.map((c) => combine(c.attention, c.ffn, DEFAULTS.alpha, rule)), oriented));
      }
    }
    results.set(name, byCandidate);
  }
  reportProgress(options.onProgress, { done, errors: 0, total, message: 'done' });
  return { candidates, results, params };
}

/** The candidate with the best worst-case margin over #params on `on` (ties: the earlier candidate). */
export function chooseCandidate(candidates: readonly Candidate[], results: Map<string, Map<string, RankPair>>, params: Map<string, RankPair>, on: readonly string[]): { chosen: Candidate; margin: number } {
  if (candidates.length === 0 || on.length === 0) throw new ZeroLMError('E_ARGUMENT', 'leave-one-out needs candidates and at least two benchmarks');
  let best: { chosen: Candidate; margin: number } | undefined;
  for (const candidate of candidates) {
    let margin = Infinity;
    for (const name of on) {
      const result = results.get(name)?.get(keyOf(candidate));
      const baseline = params.get(name);
      if (!result || !baseline) throw new ZeroLMError('E_ARGUMENT', `no result for ${keyOf(candidate)} on ${name}`);
      margin = Math.min(margin, result.spearman - baseline.spearman, result.kendall - baseline.kendall);
    }
    if (best === undefined || margin > best.margin) best = { chosen: candidate, margin };
  }
  return best as { chosen: Candidate; margin: number };
}

/** One fold per benchmark: choose on the others, report on it. */
export async function leaveOneBenchmarkOut(options: LeaveOneOutOptions = {}): Promise<LeaveOneOutFold[]> {
  const benchmarks = options.benchmarks ?? listBenchmarks();
  if (benchmarks.length < 2) throw new ZeroLMError('E_ARGUMENT', `leave-one-out needs at least two benchmarks, got ${benchmarks.length}`, { field: 'benchmarks' });
  const { candidates, results, params } = await candidateTable({ ...options, benchmarks });
  const shipped = keyOf({ measure: DEFAULTS.measure as MeasureName, rule: DEFAULTS.rule });
  return benchmarks.map((heldOut) => {
    const chosenOn = benchmarks.filter((b) => b !== heldOut);
    const { chosen, margin } = chooseCandidate(candidates, results, params, chosenOn);
    const row = results.get(heldOut) as Map<string, RankPair>;
    return {
      heldOut,
      chosenOn,
      chosen,
      marginWhereChosen: margin,
      result: row.get(keyOf(chosen)) as RankPair,
      nonEmbeddingParams: params.get(heldOut) as RankPair,
      defaultScore: row.get(shipped) ?? { spearman: Number.NaN, kendall: Number.NaN },
    };
  });
}

export function formatLeaveOneOut(folds: readonly LeaveOneOutFold[]): string {
  const lines = [
    'Leave one benchmark out: the label-free rule is chosen on the other benchmarks (best worst-case margin over',
    'non-embedding #params) and reported on the one left out, over all its architectures (higher is better).',
    '',
    `${'held out'.padEnd(16)}  ${'chosen on the others'.padEnd(24)}  Spearman  Kendall  | #params (non-emb.)  | shipped default`,
  ];
  const f = (x: number): string => x.toFixed(3);
  for (const fold of folds) {
    lines.push(
      `${fold.heldOut.padEnd(16)}  ${`${fold.chosen.measure} ${fold.chosen.rule}`.padEnd(24)}  ${f(fold.result.spearman).padEnd(8)}  ${f(fold.result.kendall).padEnd(7)}  | ${f(fold.nonEmbeddingParams.spearman)} / ${f(fold.nonEmbeddingParams.kendall)}       | ${f(fold.defaultScore.spearman)} / ${f(fold.defaultScore.kendall)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
