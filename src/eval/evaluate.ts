/**
 * Honest evaluation: calibrate alpha on a random labelled sample, measure rank correlation on the held-out rest,
 * repeat over seeded splits; the label-free score (no labels at all) and the baselines (#params, FLOPs, peer
 * proxies, NSC as its authors compute it) are measured on the very same held-out architectures, and over all of them.
 */
import { calibrateAlpha, forRanking, type AlphaStrategy, type CalibrationCriterion } from '../calibrate';
import { sampleSplit, seededRandom } from '../stats/random';
import { ZeroLMError, throwIfAborted } from '../errors';
import { checkOnProgress, reportProgress, type OnProgress, type Progress } from '../progress';
import type { BuildName, ModelPlan } from '../arch/types';
import { combine, type CombinationRule } from '../proxy/alpha';
import { componentsOfPlans, resolveScoreOptions, toPlan, DEFAULTS, type ResolvedScoreOptions, type ScoreOptions } from '../proxy/score';
import { getMeasure, measureReads, type MeasureName } from '../capacity/measures';
import { loadBenchmark, type Benchmark } from './benchmarks';
import { forwardFlops } from './flops';
import { nscScores } from './nsc';
import { loadPeerScores } from './peers';
import { kendallTauB, kendallWithinParamBand, spearman } from '../stats/rank';

export interface MeanSd {
  mean: number;
  sd: number;
}

export interface HeldOut {
  spearman: MeanSd;
  kendall: MeanSd;
  kendall10pw: MeanSd;
}

/** Rank statistics over every architecture of the benchmark (only for scores that saw no labels). */
export interface AllArchitectures {
  spearman: number;
  kendall: number;
  kendall10pw: number;
}

/** A score that used no labels: held out on the same splits as the calibrated ones, and over all architectures. */
export interface LabelFree extends HeldOut {
  all: AllArchitectures;
}

export interface EvalReport {
  benchmark: string;
  n: number;
  /** What the proxies are ranked against: the benchmark's label ('glue', 'valid_ppl') and its direction. */
  label: { name: string; higherIsBetter: boolean };
  build: string;
  measure: string;
  mode: string;
  perHead: boolean;
  seedPolicy: string;
  alphaStrategy: AlphaStrategy;
  /** The combination the calibrated alpha weighs (default 'weighted-sum', ZeroLM's form). */
  rule: CombinationRule;
  criterion: CalibrationCriterion;
  sampleSize: number;
  splits: number;
  seed: number;
  /** The alphas the splits calibrated. */
  alpha: MeanSd;
  heldOut: HeldOut;
  /**
   * This measure's label-free score: the default rule (geometric mean of S_attn and S_ffn, alpha 0.5), no labels.
   * With the default measure this is exactly what `zerolm score` computes without --alpha or --calibration.
   */
  labelFree: LabelFree;
  /** On the same held-out sets; a score oriented so that larger predicts a better label. */
  baselines: Record<string, LabelFree & { source?: string }>;
}

export interface EvaluateOptions extends Omit<ScoreOptions, 'alpha' | 'measure' | 'build' | 'rule'> {
  /** The combination whose alpha the calibrated rows choose (default 'weighted-sum'). */
  rule?: CombinationRule;
  builds?: BuildName[];
  measures?: MeasureName[];
  strategy?: AlphaStrategy;
  criterion?: CalibrationCriterion;
  /** Alpha for the 'fixed' strategy. */
  alpha?: number;
  sampleSize?: number;
  splits?: number;
  /** Seeds the calibration/held-out splits; the weights' seed is the separate `seed`. */
  splitSeed?: number;
  /** Include peer proxies and the other baselines (default true). */
  baselines?: boolean;
  /** `{done, errors: 0, total, message}`: (build, measure) steps finished of `total`, and the step now running. */
  onProgress?: OnProgress<EvalProgress>;
  dataDir?: string;
}

/** Progress of an evaluation (src/progress.ts's contract) with a line saying which step runs now. */
export interface EvalProgress extends Progress {
  message: string;
}

export const DEFAULT_SPLITS = 20;
export const DEFAULT_SAMPLE_SIZE = 50;

function meanSd(values: number[]): MeanSd {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { mean: Number.NaN, sd: Number.NaN };
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const variance = finite.length > 1 ? finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (finite.length - 1) : 0;
  return { mean, sd: Math.sqrt(variance) };
}

function pick(values: ArrayLike<number>, rows: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]];
  return out;
}

interface Split {
  sample: Uint32Array;
  rest: Uint32Array;
}

export function makeSplits(n: number, sampleSize: number, splits: number, seed: number): Split[] {
  if (!Number.isInteger(splits) || splits < 1) throw new ZeroLMError('E_ARGUMENT', `splits must be a positive integer, got ${String(splits)}`, { field: 'splits' });
  if (!Number.isInteger(sampleSize) || sampleSize < 2 || sampleSize > n - 2) {
    throw new ZeroLMError('E_ARGUMENT', `sampleSize must be an integer in [2, ${n - 2}] for ${n} architectures, got ${String(sampleSize)}`, { field: 'sampleSize' });
  }
  const random = seededRandom(seed);
  return Array.from({ length: splits }, () => sampleSplit(n, sampleSize, random));
}

/** A score that saw no labels, rounded for ranking once, with its statistics over all architectures (no split changes them). */
interface FixedScore {
  rounded: Float64Array;
  all: AllArchitectures;
  source?: string;
}

function fixedScore(score: ArrayLike<number>, oriented: Float64Array, params: Float64Array, source?: string): FixedScore {
  const rounded = Float64Array.from(score, forRanking);
  const all = { spearman: spearman(rounded, oriented), kendall: kendallTauB(rounded, oriented), kendall10pw: kendallWithinParamBand(rounded, oriented, params) };
  return source === undefined ? { rounded, all } : { rounded, all, source };
}

/** A label-free score's held-out statistics over the splits, beside its statistics over all architectures. */
function labelFreeOn(score: FixedScore, oriented: Float64Array, params: Float64Array, splits: Split[]): LabelFree & { source?: string } {
  const row: LabelFree & { source?: string } = { ...heldOutOf(score.rounded, oriented, params, splits), all: score.all };
  if (score.source !== undefined) row.source = score.source;
  return row;
}

/** Held-out statistics of a fixed score vector over the splits. */
function heldOutOf(score: ArrayLike<number>, oriented: Float64Array, params: Float64Array, splits: Split[]): HeldOut {
  const s: number[] = [];
  const k: number[] = [];
  const pw: number[] = [];
  for (const { rest } of splits) {
    const x = pick(score, rest);
    const y = pick(oriented, rest);
    s.push(spearman(x, y));
    k.push(kendallTauB(x, y));
    pw.push(kendallWithinParamBand(x, y, pick(params, rest)));
  }
  return { spearman: meanSd(s), kendall: meanSd(k), kendall10pw: meanSd(pw) };
}

/** The plan of every entry of a benchmark, in its order, in one build of its family. */
export function benchmarkPlans(benchmark: Benchmark, build?: BuildName): ModelPlan[] {
  return benchmark.entries.map((entry) => toPlan(entry.architecture, { family: benchmark.family, build }, entry.id));
}

export async function evaluate(benchmarkName: string, options: EvaluateOptions = {}): Promise<EvalReport[]> {
  const [reports] = await evaluateSampleSizes(benchmarkName, [options.sampleSize ?? DEFAULT_SAMPLE_SIZE], options);
  return reports;
}

/** One measure's capacities in one build, computed once for every sample size. */
interface MeasureStep {
  resolved: ResolvedScoreOptions;
  attention: Float64Array;
  ffn: Float64Array;
  labelFree: FixedScore;
}

/**
 * `evaluate` for several sample sizes (a learning curve): the reports of each size, in the order given. What no
 * sample size changes (plans, capacities, NSC and the peer scores, every statistic over all architectures) is
 * computed once; each size has its own splits, calibrations and held-out statistics. options.sampleSize is not read.
 */
export async function evaluateSampleSizes(benchmarkName: string, sampleSizes: readonly number[], options: EvaluateOptions = {}): Promise<EvalReport[][]> {
  const benchmark: Benchmark = loadBenchmark(benchmarkName, options.dataDir);
  const n = benchmark.entries.length;
  const oriented = Float64Array.from(benchmark.entries, (e) => (benchmark.higherIsBetter ? e.label : -e.label));
  const labels = Float64Array.from(benchmark.entries, (e) => e.label);
  const splitSeed = options.splitSeed ?? 0;
  // Every size's splits before any work: a bad size is refused at once.
  const splitsOfSize = sampleSizes.map((sampleSize) => makeSplits(n, sampleSize, options.splits ?? DEFAULT_SPLITS, splitSeed));
  const strategy = options.strategy ?? 'sampling';
  const rule = options.rule ?? 'weighted-sum';
  const builds = options.builds ?? [undefined as unknown as BuildName];
  const measures = options.measures ?? [undefined as unknown as MeasureName];
  // Options a measure reads (eta) go to the measures that read them; one that none of them reads is refused.
  const takesEta = (measure: string | undefined): boolean => measureReads(getMeasure(measure ?? DEFAULTS.measure), 'eta');
  if (options.eta !== undefined && !measures.some(takesEta)) {
    throw new ZeroLMError('E_ARGUMENT', `eta applies to pca-k, which is not among the measures evaluated (${measures.map((m) => m ?? DEFAULTS.measure).join(', ')})`, { field: 'eta' });
  }
  const peers = options.baselines === false ? [] : loadPeerScores(benchmark.name, options.dataDir);
  // NSC reads the architectures as given (its FlexiBERT recipe builds no model), so one vector serves every build.
  const nsc = options.baselines === false ? undefined : nscScores(benchmark);

  checkOnProgress(options.onProgress);
  const total = builds.length * measures.length;
  let done = 0;
  const prepared: { build: string; params: Float64Array; baselines: [string, FixedScore][]; steps: MeasureStep[] }[] = [];
  for (const build of builds) {
    const plans = benchmarkPlans(benchmark, build);
    const params = Float64Array.from(plans, (p) => p.params.total);
    const baselines: [string, FixedScore][] = [];
    if (options.baselines !== false) {
      baselines.push(['#params', fixedScore(params, oriented, params)]);
      baselines.push(['#params (non-embedding)', fixedScore(Float64Array.from(plans, (p) => p.params.nonEmbedding), oriented, params)]);
      baselines.push(['FLOPs', fixedScore(Float64Array.from(plans, (p) => forwardFlops(p)), oriented, params)]);
      if (nsc !== undefined) baselines.push(['NSC', fixedScore(nsc, oriented, params)]);
      for (const peer of peers) {
        const values = benchmark.entries.map((e) => peer.scores.get(e.id));
        if (values.some((v) => v === undefined || !Number.isFinite(v))) continue; // a peer must cover every architecture to be compared fairly
        const score = Float64Array.from(values as number[], (v) => (peer.higherIsBetter ? v : -v));
        baselines.push([peer.name, fixedScore(score, oriented, params, peer.source)]);
      }
    }
    const steps: MeasureStep[] = [];
    for (const measure of measures) {
      throwIfAborted(options.signal);
      const resolved = resolveScoreOptions({ ...options, build, measure, alpha: 0.5, eta: takesEta(measure) ? options.eta : undefined });
      reportProgress(options.onProgress, { done: done++, errors: 0, total, message: `${benchmark.name}: build ${plans[0]?.build ?? build}, measure ${resolved.measure.name}` });
      const components = await componentsOfPlans(plans, resolved);
      const labelFree = fixedScore(Float64Array.from(components, (c) => combine(c.attention, c.ffn, DEFAULTS.alpha, DEFAULTS.rule)), oriented, params);
      steps.push({ resolved, attention: Float64Array.from(components, (c) => c.attention), ffn: Float64Array.from(components, (c) => c.ffn), labelFree });
    }
    prepared.push({ build: plans[0]?.build ?? build, params, baselines, steps });
  }

  const reportsOfSize = splitsOfSize.map((splits, j) => {
    const sampleSize = sampleSizes[j];
    const reports: EvalReport[] = [];
    for (const { build, params, baselines: fixed, steps } of prepared) {
      const baselines: EvalReport['baselines'] = {};
      for (const [name, score] of fixed) baselines[name] = labelFreeOn(score, oriented, params, splits);
      for (const { resolved, attention, ffn, labelFree } of steps) {
        const alphas: number[] = [];
        const s: number[] = [];
        const k: number[] = [];
        const pw: number[] = [];
        splits.forEach(({ rest }, i) => {
          const calibration = calibrateAlpha(
            { attention, ffn, labels, higherIsBetter: benchmark.higherIsBetter },
            // The split's own sample: calibrate exactly on the architectures held out from evaluation.
            { strategy, rule, criterion: options.criterion, alpha: options.alpha, sampleSize, seed: splitSeed + i, candidates: splits[i].sample },
          );
          alphas.push(calibration.alpha);
          const score = Float64Array.from(rest, (r) => forRanking(combine(attention[r], ffn[r], calibration.alpha, rule)));
          const y = pick(oriented, rest);
          s.push(spearman(score, y));
          k.push(kendallTauB(score, y));
          pw.push(kendallWithinParamBand(score, y, pick(params, rest)));
        });
        reports.push({
          benchmark: benchmark.name,
          n,
          label: { name: benchmark.labelName, higherIsBetter: benchmark.higherIsBetter },
          build,
          measure: resolved.measure.name,
          mode: resolved.mode,
          perHead: resolved.perHead,
          seedPolicy: resolved.seedPolicy,
          alphaStrategy: strategy,
          rule,
          criterion: options.criterion ?? 'tau-a',
          sampleSize: strategy === 'fixed' ? 0 : sampleSize,
          splits: splits.length,
          seed: splitSeed,
          alpha: meanSd(alphas),
          heldOut: { spearman: meanSd(s), kendall: meanSd(k), kendall10pw: meanSd(pw) },
          labelFree: labelFreeOn(labelFree, oriented, params, splits),
          baselines,
        });
      }
    }
    return reports;
  });
  reportProgress(options.onProgress, { done: total, errors: 0, total, message: `${benchmark.name}: done` });
  return reportsOfSize;
}
