/**
 * ZeroLM scoring: per-matrix capacities summed per sub-module, then combined (alpha.ts): by default the geometric
 * mean sqrt(S_attn * S_ffn) of log-det capacities; with an alpha, ZeroLM's alpha*S_attn + (1-alpha)*S_ffn.
 * Takes ModelPlans (from src/arch), asks the engine (or the MP expectations) for the statistics each measure
 * needs, memoises per-matrix capacities, and returns Scores with their breakdown.
 */
import { BuildMemo, buildPlan, detectFamily, families, familyNames } from '../arch';
import type { BuildName, FamilyName, InitScheme, LayerPlan, MatrixSpec, ModelPlan } from '../arch/types';
import { MAX_MATRICES_PER_INPUT } from '../arch/fields';
import { getMeasure, validateMeasureOptions, type Measure, type MeasureName, type MeasureOptions } from '../capacity/measures';
import { ZeroLMError, callerError, throwIfAborted } from '../errors';
import { MAX_NORMAL_STD, MAX_UNIFORM_BOUND, spectra, type SpectrumJob, type SpectrumRoute } from '../native';
import { resolveInit, streamFor, validateSeed, varianceOf, seedPolicies, type Distribution, type SeedPolicy } from '../weights/init';
import { CapacityCache } from './cache';
import { mismatchOf, type SpaceFingerprint } from '../arch/fingerprint';
import { LayerMemo, MatrixCapacityMemo } from './shape-memo';
import { combine, validateAlpha, validateRule, type CombinationRule } from './alpha';
import type { WeightsScore, WeightsScoreOptions } from './real-weights';

export { combine, validateAlpha, validateRule, type CombinationRule };

/**
 * - exact: seeded weights are generated and analysed;
 * - bidiagonal: for normal inits, each matrix's spectrum is drawn from the bidiagonal model of a Gaussian matrix
 *   (same joint law of singular values as exact, a different draw; O(n^2) instead of O(m n^2) per matrix);
 * - analytic: Marchenko-Pastur expectations, no randomness.
 */
export type ScoreMode = 'exact' | 'analytic' | 'bidiagonal';
export const scoreModes: readonly ScoreMode[] = ['exact', 'analytic', 'bidiagonal'];

/**
 * With no alpha and no calibration, a score is the geometric mean of the attention and FFN log-det capacities
 * (rule 'geometric', alpha 0.5: equal weights, nothing tuned). Giving an alpha selects ZeroLM's weighted sum
 * unless a rule is given too.
 */
export const DEFAULTS = Object.freeze({
  measure: 'log-det',
  alpha: 0.5,
  rule: 'geometric' as CombinationRule,
  /** The rule an explicitly given alpha selects. */
  ruleWithAlpha: 'weighted-sum' as CombinationRule,
  seed: 0,
  seedPolicy: 'shape' as SeedPolicy,
  perHead: false,
  mode: 'exact' as ScoreMode,
});

export interface ScoreOptions {
  family?: FamilyName;
  build?: BuildName;
  /** The build for inputs of a given family when `build` is not set (a calibration's build applies to its own family only). */
  familyBuilds?: Partial<Record<FamilyName, BuildName>>;
  /** Replaces the family's default init for every scored matrix. */
  init?: InitScheme;
  /** hf configs: refuse (E_UNSUPPORTED) architecture-changing keys the builder would ignore, instead of warning. */
  strictConfig?: boolean;
  measure?: MeasureName;
  /** pca-k energy fraction. */
  eta?: number;
  /** Weight of the attention capacity (default 0.5). Giving one selects rule 'weighted-sum' unless `rule` is given. */
  alpha?: number;
  /** How S_attn and S_ffn combine: 'geometric' (default without alpha) or 'weighted-sum' (ZeroLM's form). */
  rule?: CombinationRule;
  seed?: number;
  seedPolicy?: SeedPolicy;
  /** Score every attention head's slice as its own matrix. */
  perHead?: boolean;
  mode?: ScoreMode;
  threads?: number;
  signal?: AbortSignal;
  cache?: CapacityCache;
  memoryLimitBytes?: number;
  /**
   * The calibration file whose alpha is in use, with the space it was fitted on: every record then says whether
   * its architecture lies in that space (`calibration: {file, matches, why?}`).
   */
  calibration?: CalibrationInUse;
}

export interface CalibrationInUse {
  file: string;
  space?: SpaceFingerprint;
}

/** What a record says about the calibration in use. */
export interface CalibrationMatch {
  file: string;
  matches: boolean;
  /** Why the architecture lies outside the calibration's space (or that the file has no fingerprint). */
  why?: string;
}

/** Whether `plan` lies in the space of the calibration in use. */
export function calibrationMatch(plan: ModelPlan, calibration: CalibrationInUse): CalibrationMatch {
  if (calibration.space === undefined) return { file: calibration.file, matches: false, why: 'the calibration file records no space to check against' };
  const why = mismatchOf(plan, calibration.space);
  return why === undefined ? { file: calibration.file, matches: true } : { file: calibration.file, matches: false, why };
}

/** The capacities of one plan before alpha combines them. */
export interface Components {
  id?: string;
  attention: number;
  ffn: number;
  params: number;
  nonEmbeddingParams: number;
  family: FamilyName;
  build: string;
  layers: readonly LayerScore[];
  /** Mixture of experts only: the plan's params.active. */
  activeParams?: number;
  /** The plan's warnings, when it has any. */
  warnings?: readonly string[];
}

export interface LayerScore {
  attention: number;
  ffn: number;
}

export interface Score {
  id?: string;
  score: number;
  attention: number;
  ffn: number;
  params: number;
  nonEmbeddingParams: number;
  measure: string;
  rule: CombinationRule;
  alpha: number;
  family: FamilyName;
  build: string;
  mode: ScoreMode;
  seed: number;
  seedPolicy: SeedPolicy;
  perHead: boolean;
  layers: readonly LayerScore[];
  /** Mixture-of-experts models only: the parameters one token uses (params counts every expert). */
  activeParams?: number;
  /** Only when the builder had something to say (e.g. config keys it ignored). */
  warnings?: readonly string[];
}

/** Options after validation, with defaults filled in. */
export interface ResolvedScoreOptions {
  family?: FamilyName;
  build?: BuildName;
  familyBuilds?: Partial<Record<FamilyName, BuildName>>;
  init?: InitScheme;
  strictConfig?: boolean;
  measure: Measure;
  measureOptions: MeasureOptions;
  alpha: number;
  rule: CombinationRule;
  seed: number;
  seedPolicy: SeedPolicy;
  perHead: boolean;
  mode: ScoreMode;
  threads?: number;
  signal?: AbortSignal;
  cache: CapacityCache;
  memoryLimitBytes?: number;
  calibration?: CalibrationInUse;
  /**
   * The builders' memo of this scorer: inputs planned with these options share one frozen LayerPlan per distinct
   * layer (src/arch/memo.ts). Bounded; it goes with these options.
   */
  buildMemo: BuildMemo;
  /**
   * Capacities of layers already scored with these options, by LayerPlan identity. Builders hand out one shared,
   * immutable LayerPlan per distinct layer (through buildMemo), so a stream of candidates from one space mostly hits
   * this memo. Bounded; it belongs to this scorer (these resolved options) and goes when they go.
   */
  layerMemo: LayerMemo<LayerPlan, LayerScore>;
  /**
   * Capacities by (rows, cols, init): every layer of every family whose shapes were met before is summed from it,
   * without cache keys. Absent under seed policy 'position' when capacities depend on each matrix's name.
   */
  matrixMemo: MatrixCapacityMemo | undefined;
}

export function resolveScoreOptions(options: ScoreOptions = {}): ResolvedScoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ZeroLMError('E_ARGUMENT', `options must be an object, got ${options === null ? 'null' : typeof options}`, { field: 'options' });
  }
  const mode = options.mode ?? DEFAULTS.mode;
  if (!scoreModes.includes(mode)) {
    throw new ZeroLMError('E_ARGUMENT', `mode must be one of ${scoreModes.join(', ')}, got ${JSON.stringify(mode)}`, { field: 'mode' });
  }
  const seedPolicy = options.seedPolicy ?? DEFAULTS.seedPolicy;
  if (!seedPolicies.includes(seedPolicy)) {
    throw new ZeroLMError('E_ARGUMENT', `seedPolicy must be one of ${seedPolicies.join(', ')}, got ${JSON.stringify(seedPolicy)}`, { field: 'seedPolicy' });
  }
  const measureOptions: MeasureOptions = {};
  if (options.eta !== undefined) measureOptions.eta = options.eta;
  const measure = getMeasure(options.measure ?? DEFAULTS.measure);
  validateMeasureOptions(measure, measureOptions);
  const init = options.init;
  checkFamilyAndBuild(options.family, options.build);
  if (init !== undefined) checkInitOverride(init);
  if (mode === 'bidiagonal' && init !== undefined && (init.scheme === 'uniform' || init.scheme === 'xavier-uniform')) {
    // Caught here, once, rather than as an error record for every architecture of a stream.
    throw new ZeroLMError('E_ARGUMENT', `mode 'bidiagonal' needs a normal init, got init ${init.scheme}; use mode 'exact'`, { field: 'init' });
  }
  return {
    family: options.family,
    build: options.build,
    familyBuilds: options.familyBuilds,
    init: options.init,
    strictConfig: options.strictConfig,
    measure,
    measureOptions,
    alpha: validateAlpha(options.alpha ?? DEFAULTS.alpha),
    rule: options.rule !== undefined ? validateRule(options.rule) : options.alpha !== undefined ? DEFAULTS.ruleWithAlpha : DEFAULTS.rule,
    seed: validateSeed(options.seed ?? DEFAULTS.seed),
    seedPolicy,
    perHead: options.perHead ?? DEFAULTS.perHead,
    mode,
    threads: options.threads,
    signal: options.signal,
    cache: options.cache ?? new CapacityCache(),
    memoryLimitBytes: options.memoryLimitBytes,
    calibration: options.calibration,
    buildMemo: new BuildMemo(),
    layerMemo: new LayerMemo(),
    // A capacity is a function of shape and init alone unless draws depend on where a matrix sits.
    matrixMemo: seedPolicy === 'shape' || mode === 'analytic' || measure.needs === 'shape' ? new MatrixCapacityMemo() : undefined,
  };
}

/**
 * A family or build no input could be scored with is refused once, up front, instead of once per input: a build
 * must belong to the family given, or without one to some family.
 */
function checkFamilyAndBuild(family: unknown, build: unknown): void {
  if (family !== undefined && !(familyNames as unknown[]).includes(family)) {
    throw new ZeroLMError('E_UNSUPPORTED', `family ${JSON.stringify(family)} is not supported; families: ${familyNames.join(', ')}`, { field: 'family' });
  }
  if (build === undefined) return;
  if (typeof build !== 'string') throw new ZeroLMError('E_ARGUMENT', `build must be a string, got ${typeof build}`, { field: 'build' });
  const candidates = family === undefined ? familyNames : [family as FamilyName];
  if (candidates.some((name) => families[name].builds.includes(build))) return;
  const known = candidates.map((name) => `${name}: ${families[name].builds.join(', ')}`).join('; ');
  throw new ZeroLMError('E_UNSUPPORTED', `build ${JSON.stringify(build)} is not a build of ${family === undefined ? 'any family' : `family ${family}`} (${known})`, { field: 'build' });
}

/** An init override applies to every matrix: a scheme or size no matrix could use is refused up front. */
function checkInitOverride(init: InitScheme): void {
  const distribution = resolveInit(init, 1, 1, 'init');
  if (distribution.distribution === 'normal' && distribution.std > MAX_NORMAL_STD) {
    throw new ZeroLMError('E_ARGUMENT', `init std ${distribution.std} is above ${MAX_NORMAL_STD.toExponential(3)}, the largest the engine's float32 weights allow`, { field: 'init.std' });
  }
  if (distribution.distribution === 'uniform' && distribution.bound > MAX_UNIFORM_BOUND) {
    throw new ZeroLMError('E_ARGUMENT', `init bound ${distribution.bound} is above ${MAX_UNIFORM_BOUND.toExponential(3)}, the largest float32 value`, { field: 'init.bound' });
  }
}

/** A matrix as the scorer sees it: a shape with a concrete distribution and the stream it draws from. */
interface ScoredMatrix {
  /** The first matrix seen with this key (for error messages). */
  name: string;
  rows: number;
  cols: number;
  distribution: Distribution;
  stream: number;
}

/** Split attention matrices into per-head slices when asked; every other matrix passes through. */
export function scoredMatricesOf(spec: MatrixSpec, perHead: boolean): Array<Pick<MatrixSpec, 'name' | 'rows' | 'cols'>> {
  if (!perHead || !spec.heads || spec.heads <= 1) return [spec];
  const heads = spec.heads;
  const alongRows = (spec.headAxis ?? 'rows') === 'rows';
  const sliced = alongRows ? spec.rows : spec.cols;
  if (sliced % heads !== 0) {
    throw new ZeroLMError('E_SHAPE', `${spec.name}: ${alongRows ? 'rows' : 'cols'} ${sliced} not divisible by ${heads} heads`, { field: spec.name });
  }
  const slices: Array<Pick<MatrixSpec, 'name' | 'rows' | 'cols'>> = [];
  for (let head = 0; head < heads; head++) {
    slices.push({
      name: `${spec.name}.head${head}`,
      rows: alongRows ? spec.rows / heads : spec.rows,
      cols: alongRows ? spec.cols : spec.cols / heads,
    });
  }
  return slices;
}

function routeFor(measure: Measure): SpectrumRoute | undefined {
  return measure.needs === 'shape' ? undefined : measure.needs;
}

function cacheKey(matrix: ScoredMatrix, options: ResolvedScoreOptions): string {
  const d = matrix.distribution;
  const parameter = d.distribution === 'normal' ? d.std : d.bound;
  const measurePart = `${options.measure.name}${options.measureOptions.eta === undefined ? '' : `:${options.measureOptions.eta}`}`;
  if (options.mode === 'analytic' || options.measure.needs === 'shape') {
    return `a|${matrix.rows}x${matrix.cols}|${d.distribution}:${parameter}|${measurePart}`;
  }
  return `${options.mode === 'bidiagonal' ? 'b' : 'x'}|${matrix.rows}x${matrix.cols}|${d.distribution}:${parameter}|${measurePart}|${options.seed}:${matrix.stream}`;
}

/** What the scorer needs to find a matrix's capacity: its cache key, and where its shape memo keeps it. */
interface KeyedMatrix {
  key: string;
  matrix: ScoredMatrix;
  spec: MatrixSpec;
  init: InitScheme;
  pieces: number;
}

/**
 * The shape memo's code for a spec: the init scheme's rows/cols stay the spec's own (an init may depend on them), and
 * a per-head split adds its head count and axis, since the memo keeps the capacity of one slice.
 */
function memoCols(spec: MatrixSpec, perHead: boolean): number {
  if (!perHead || !spec.heads || spec.heads <= 1) return spec.cols;
  // Negative: never a real column count, so split and unsplit specs cannot meet. (cols, heads, axis) in one number.
  return -(spec.cols * 2 ** 21 + spec.heads * 2 + ((spec.headAxis ?? 'rows') === 'rows' ? 0 : 1));
}

function piecesOf(spec: MatrixSpec, perHead: boolean): number {
  return perHead && spec.heads && spec.heads > 1 ? spec.heads : 1;
}

/**
 * A layer's capacities from the shape memo alone, or undefined when any of its matrices is not there yet. Sums run
 * left to right over every scored matrix (each per-head slice counted once), as recomputation would.
 */
function layerFromMemo(layer: LayerPlan, options: ResolvedScoreOptions, previous?: LayerPlan, previousValue?: LayerScore): LayerScore | undefined {
  const memo = options.matrixMemo;
  if (memo === undefined) return undefined;
  const { perHead } = options;
  const override = options.init;
  let attention = 0;
  let ffn = 0;
  for (let block = 0; block < 2; block++) {
    const specs = block === 0 ? layer.attention : layer.ffn;
    let total = 0;
    if (previous !== undefined && previousValue !== undefined && sameSpecShapes(specs, block === 0 ? previous.attention : previous.ffn, perHead)) {
      // A block equal in shapes to the previous layer's (often: layers differ in one block) takes its sum.
      total = block === 0 ? previousValue.attention : previousValue.ffn;
    } else {
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[i];
        const value = memo.get(spec.rows, memoCols(spec, perHead), override ?? spec.init);
        if (value === undefined) return undefined;
        const pieces = piecesOf(spec, perHead);
        for (let k = 0; k < pieces; k++) total += value;
      }
    }
    if (block === 0) attention = total;
    else ffn = total;
  }
  return { attention, ffn };
}

/**
 * Whether two blocks' matrices agree in everything a capacity depends on (shape, init, and the head split when
 * capacities are per head), position by position; names may differ (the caller reuses capacities only where names
 * cannot matter).
 */
function sameSpecShapes(a: readonly MatrixSpec[], b: readonly MatrixSpec[], perHead: boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.rows !== y.rows || x.cols !== y.cols || x.init !== y.init) return false;
    if (perHead && (x.heads !== y.heads || x.headAxis !== y.headAxis)) return false;
  }
  return true;
}

/** Puts the MP expectation of every matrix of the layer that the memo lacks into it. */
function memoiseExpectations(layer: LayerPlan, options: ResolvedScoreOptions, memo: MatrixCapacityMemo): void {
  const { perHead, measure, measureOptions } = options;
  for (let block = 0; block < 2; block++) {
    for (const spec of block === 0 ? layer.attention : layer.ffn) {
      const init = options.init ?? spec.init;
      const cols = memoCols(spec, perHead);
      if (memo.get(spec.rows, cols, init) !== undefined) continue;
      const distribution = resolveInit(init, spec.rows, spec.cols, `${spec.name}.init`);
      const piece = scoredMatricesOf(spec, perHead)[0];
      memo.set(spec.rows, cols, init, measure.analytic(piece.rows, piece.cols, varianceOf(distribution), measureOptions));
    }
  }
}

/** The cache keys of a layer's scored matrices, per block (attention, ffn). */
function keyedMatricesOf(layer: LayerPlan, options: ResolvedScoreOptions): [KeyedMatrix[], KeyedMatrix[]] {
  const blocks: [KeyedMatrix[], KeyedMatrix[]] = [[], []];
  for (let block = 0; block < 2; block++) {
    for (const spec of block === 0 ? layer.attention : layer.ffn) {
      const init = options.init ?? spec.init;
      const distribution = resolveInit(init, spec.rows, spec.cols, `${spec.name}.init`);
      const pieces = scoredMatricesOf(spec, options.perHead);
      for (const piece of pieces) {
        const matrix: ScoredMatrix = { name: piece.name, rows: piece.rows, cols: piece.cols, distribution, stream: streamFor(piece, distribution, options.seedPolicy) };
        blocks[block].push({ key: cacheKey(matrix, options), matrix, spec, init, pieces: pieces.length });
      }
    }
  }
  return blocks;
}

/** What a memory refusal suggests: the mode that allocates less (bidiagonal: O(n) per matrix; analytic: nothing). */
function memoryLimitHint(mode: ScoreMode): string {
  const raise = 'or raise the limit (--memory-limit SIZE, or the memoryLimitBytes option)';
  if (mode === 'exact') return `; mode 'bidiagonal' (normal inits: the same law of singular values, without the weights) or 'analytic' (no matrices) needs far less, ${raise}`;
  return mode === 'bidiagonal' ? `; mode 'analytic' needs no matrices, ${raise}` : '';
}

/**
 * Capacities for many plans at once: every distinct matrix is computed once per call (and not at all when the
 * scorer's shape memo or the cache has it), in one batched engine call.
 */
export async function componentsOfPlans(plans: readonly ModelPlan[], options: ResolvedScoreOptions): Promise<Components[]> {
  throwIfAborted(options.signal);
  const { cache, measure, measureOptions, layerMemo, matrixMemo } = options;
  // Pass 1: each layer's capacities from the memos where they have them (the common case: nothing but the scores is
  // allocated); every other layer gets its cache keys, and the capacities missing everywhere are collected once.
  const expectations = matrixMemo !== undefined && (options.mode === 'analytic' || measure.needs === 'shape');
  const layerScores = new Array<Array<LayerScore | undefined>>(plans.length);
  const pending = new Map<LayerPlan, [KeyedMatrix[], KeyedMatrix[]]>();
  const missing = new Map<string, KeyedMatrix>();
  for (let p = 0; p < plans.length; p++) {
    const planLayers = plans[p].layers;
    const scores = new Array<LayerScore | undefined>(planLayers.length);
    layerScores[p] = scores;
    let previousValue: LayerScore | undefined;
    for (let i = 0; i < planLayers.length; i++) {
      const layer = planLayers[i];
      // Only layers a builder shares (frozen, handed to many plans) are kept by identity.
      const shared = Object.isFrozen(layer);
      let value = shared ? layerMemo.get(layer) : undefined;
      if (value === undefined) {
        // Consecutive layers of one plan are often equal but for their names, or in one block: where capacities
        // depend on shape and init alone (the shape memo exists), the previous layer's serve for equal blocks.
        value = layerFromMemo(layer, options, i > 0 ? planLayers[i - 1] : undefined, previousValue);
        if (value === undefined && expectations) {
          // Expectations need no engine and no cache: each new shape is computed into the scorer's memo directly.
          memoiseExpectations(layer, options, matrixMemo);
          value = layerFromMemo(layer, options);
        }
        if (value !== undefined && shared) layerMemo.set(layer, Object.freeze(value));
      }
      scores[i] = value;
      previousValue = value;
      if (value !== undefined || pending.has(layer)) continue;
      const blocks = keyedMatricesOf(layer, options);
      for (const keyed of blocks[0].concat(blocks[1])) {
        if (missing.has(keyed.key)) continue;
        const cached = cache.get(keyed.key);
        if (cached === undefined) missing.set(keyed.key, keyed);
        else matrixMemo?.set(keyed.spec.rows, memoCols(keyed.spec, options.perHead), keyed.init, cached);
      }
      pending.set(layer, blocks);
    }
  }

  // Pass 2: compute the missing capacities.
  if (missing.size > 0) {
    const entries = [...missing.values()];
    const store = (keyed: KeyedMatrix, value: number): void => {
      cache.set(keyed.key, value);
      matrixMemo?.set(keyed.spec.rows, memoCols(keyed.spec, options.perHead), keyed.init, value);
    };
    const route = routeFor(measure);
    if (options.mode === 'analytic' || route === undefined) {
      for (const keyed of entries) {
        const m = keyed.matrix;
        store(keyed, measure.analytic(m.rows, m.cols, varianceOf(m.distribution), measureOptions));
      }
    } else {
      const bidiagonal = options.mode === 'bidiagonal';
      const jobs: SpectrumJob[] = entries.map(({ matrix: m }) => {
        if (bidiagonal && m.distribution.distribution !== 'normal') {
          throw new ZeroLMError('E_ARGUMENT', `${m.name}: mode 'bidiagonal' needs a normal init, got ${m.distribution.distribution}; use mode 'exact'`, { field: m.name });
        }
        return { rows: m.rows, cols: m.cols, init: m.distribution, seed: options.seed, stream: m.stream, route, ...(bidiagonal ? { generator: 'bidiagonal' as const } : {}) };
      });
      let results;
      try {
        results = await spectra(jobs, { threads: options.threads, signal: options.signal, memoryLimitBytes: options.memoryLimitBytes });
      } catch (cause) {
        // Name the architecture's matrix rather than the engine's job index.
        const index = cause instanceof ZeroLMError ? cause.location?.index : undefined;
        const hint = cause instanceof ZeroLMError && cause.code === 'E_MEMORY_LIMIT' ? memoryLimitHint(options.mode) : '';
        if (cause instanceof ZeroLMError && index !== undefined && entries[index]) {
          const matrix = entries[index].matrix;
          throw new ZeroLMError(cause.code, `${matrix.name}: ${cause.message.replace(/^jobs\[\d+\] is an? /, '')}${hint}`, { field: matrix.name }, { cause });
        }
        if (hint && cause instanceof ZeroLMError) throw new ZeroLMError(cause.code, `${cause.message}${hint}`, cause.location, { cause });
        throw cause;
      }
      results.forEach((stats, i) => store(entries[i], measure.fromStats(stats, measureOptions)));
    }
  }

  // Pass 3: sum per layer and sub-module.
  const capacityOf = (key: string): number => {
    const value = cache.peek(key);
    // The cache may have evicted a key computed above if the batch holds more distinct matrices than it can keep.
    if (value !== undefined) return value;
    throw new ZeroLMError('E_CACHE', `capacity cache evicted "${key}" within one batch: raise its maxEntries (now ${cache.maxEntries}) or lower the batch size`);
  };
  const computed = new Map<LayerPlan, LayerScore>();
  for (const [layer, [attentionKeys, ffnKeys]] of pending) {
    const value: LayerScore = { attention: sum(attentionKeys.map((k) => capacityOf(k.key))), ffn: sum(ffnKeys.map((k) => capacityOf(k.key))) };
    computed.set(layer, value);
    if (Object.isFrozen(layer)) layerMemo.set(layer, Object.freeze(value));
  }
  const components = new Array<Components>(plans.length);
  for (let p = 0; p < plans.length; p++) {
    const plan = plans[p];
    const scores = layerScores[p];
    let attention = 0;
    let ffn = 0;
    for (let i = 0; i < scores.length; i++) {
      let value = scores[i];
      if (value === undefined) scores[i] = value = computed.get(plan.layers[i]) as LayerScore;
      attention += value.attention;
      ffn += value.ffn;
    }
    const entry: Components = { id: plan.id, attention, ffn, params: plan.params.total, nonEmbeddingParams: plan.params.nonEmbedding, family: plan.family, build: plan.build, layers: scores as LayerScore[] };
    if (plan.params.active !== undefined) entry.activeParams = plan.params.active;
    if (plan.warnings !== undefined) entry.warnings = plan.warnings;
    components[p] = entry;
  }
  return components;
}

/** Sequential left-to-right sum: the order is fixed so results never depend on batching or threads. */
function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/**
 * A Score, its fields in the documented order. One object literal per case (with or without an id), so that V8
 * allocates each record once instead of growing it field by field (object spreads are slower still).
 */
export function withAlpha(components: Components, options: Pick<ResolvedScoreOptions, 'alpha' | 'rule' | 'measure' | 'mode' | 'seed' | 'seedPolicy' | 'perHead'>): Score {
  const { id, attention, ffn, params, nonEmbeddingParams, family, build, layers } = components;
  const { alpha, rule, mode, seed, seedPolicy, perHead } = options;
  const score = combine(attention, ffn, alpha, rule);
  if (!Number.isFinite(score)) {
    throw new ZeroLMError('E_NON_FINITE', `the score is ${score} (${rule} of attention ${attention} and ffn ${ffn} with alpha ${alpha}); choose a smaller alpha or another rule`, { field: 'alpha' });
  }
  const measure = options.measure.name;
  const record: Score =
    id !== undefined
      ? { id, score, attention, ffn, params, nonEmbeddingParams, measure, rule, alpha, family, build, mode, seed, seedPolicy, perHead, layers }
      : { score, attention, ffn, params, nonEmbeddingParams, measure, rule, alpha, family, build, mode, seed, seedPolicy, perHead, layers };
  // Appended after the documented fields, and only where they apply, so every other record keeps its exact shape.
  if (components.activeParams !== undefined) record.activeParams = components.activeParams;
  if (components.warnings !== undefined) record.warnings = components.warnings;
  return record;
}

/**
 * Score one architecture (any input a builder accepts, or a ModelPlan). With `weights` (a safetensors checkpoint), a
 * Hugging Face config is scored on its real weights instead: see scoreWeights (src/proxy/real-weights.ts).
 */
export async function score(architecture: unknown, options: WeightsScoreOptions): Promise<WeightsScore>;
export async function score(architecture: unknown, options?: ScoreOptions): Promise<Score>;
export async function score(architecture: unknown, options: ScoreOptions | WeightsScoreOptions = {}): Promise<Score> {
  try {
    if ((options as { weights?: unknown } | null)?.weights !== undefined) {
      const { scoreWeights } = await import('./real-weights');
      return await scoreWeights(architecture, options as WeightsScoreOptions);
    }
    const resolved = resolveScoreOptions(options);
    const plan = toPlan(architecture, resolved);
    const [components] = await componentsOfPlans([plan], resolved);
    const result = withAlpha(components, resolved);
    if (resolved.calibration) (result as Score & { calibration?: CalibrationMatch }).calibration = calibrationMatch(plan, resolved.calibration);
    return result;
  } catch (cause) {
    // Every error crossing the API is ours: an input or options object that throws when read is its own fault.
    throw callerError(cause, [
      { value: architecture, code: 'E_FORMAT', what: 'the architecture' },
      { value: options, code: 'E_ARGUMENT', what: 'options' },
    ]);
  }
}

export function isModelPlan(value: unknown): value is ModelPlan {
  const v = value as ModelPlan;
  return typeof v === 'object' && v !== null && Array.isArray(v.layers) && Array.isArray(v.extras) && typeof v.params === 'object' && typeof v.family === 'string';
}

/**
 * The plan of an input (or the input itself when it already is one). An init override is not passed to the builder:
 * componentsOfPlans applies it to every scored matrix, ModelPlans given directly included.
 */
export function toPlan(architecture: unknown, options: Pick<ResolvedScoreOptions, 'family' | 'build' | 'strictConfig'> & { familyBuilds?: ResolvedScoreOptions['familyBuilds']; perHead?: boolean; buildMemo?: BuildMemo }, id?: string): ModelPlan {
  const plan = planOf(architecture, options, id);
  checkScoredMatrices(plan, options.perHead ?? false);
  return plan;
}

function planOf(architecture: unknown, options: Pick<ResolvedScoreOptions, 'family' | 'build' | 'strictConfig'> & { familyBuilds?: ResolvedScoreOptions['familyBuilds']; buildMemo?: BuildMemo }, id?: string): ModelPlan {
  if (isModelPlan(architecture)) return architecture;
  const strict = options.strictConfig ? { strictConfig: true } : {};
  if (options.build === undefined && options.familyBuilds !== undefined) {
    const family = options.family ?? detectFamily(architecture);
    return buildPlan(architecture, { family, build: options.familyBuilds[family], id, memo: options.buildMemo, ...strict });
  }
  return buildPlan(architecture, { family: options.family, build: options.build, id, memo: options.buildMemo, ...strict });
}

/**
 * Most matrices one input may have scored (per-head slices counted one by one): past it, the keys, capacities and
 * sums of a single input would take hundreds of megabytes. The largest published models score a few tens of
 * thousands (126 layers of 275 head slices, per head).
 */
export const MAX_SCORED_MATRICES = MAX_MATRICES_PER_INPUT;

/** Refuses, before any per-matrix work, a plan that would score more than MAX_SCORED_MATRICES matrices. */
function checkScoredMatrices(plan: ModelPlan, perHead: boolean): void {
  const layers = plan.layers;
  let count = 0;
  for (let i = 0; i < layers.length; i++) {
    const { attention, ffn } = layers[i];
    if (!perHead) count += attention.length + ffn.length;
    else for (const block of [attention, ffn]) for (const spec of block) count += spec.heads !== undefined && spec.heads > 1 ? spec.heads : 1;
  }
  if (count > MAX_SCORED_MATRICES) {
    throw new ZeroLMError('E_MEMORY_LIMIT', `${layers.length} layers with ${count} matrices to score${perHead ? ' (per head)' : ''} exceed the per-input limit of ${MAX_SCORED_MATRICES}`, { field: 'layers' });
  }
}
