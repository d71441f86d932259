/**
 * `search(space, options)`: the best architectures of a compiled space under budgets. An async generator of
 * improving results (the last one has `done: true`); between batches it gives the event loop a turn, so an
 * AbortSignal (Ctrl-C in the CLI) stops it with the best found so far as its last result.
 */
import { ZeroLMError } from '../errors';
import { checkOnProgress, reportProgress, type OnProgress, type Progress as WorkProgress } from '../progress';
import { seededRandom } from '../stats/random';
import type { CompiledSpace, SpaceCandidates } from '../space';
import { violation, checkBudgets, checkFeasible, effectiveLimits, jointlyInfeasible, kvTable, rooflineLatencyMs, slackOf, type Budgets, type Hardware } from './budget';
import { exactDoesNotApply, solveExact, type Candidate } from './exact';
import { kvOfRow, nsga2, objectiveNames, randomSearch, regularizedEvolution, type Objective, type Progress } from './evolution';

export type SearchAlgorithm = 'exact' | 'evolution' | 'random';
export const searchAlgorithms: readonly SearchAlgorithm[] = ['exact', 'evolution', 'random'];

export const SEARCH_DEFAULTS = Object.freeze({ evaluations: 200000, population: 100, top: 1, seed: 0 });

export interface SearchOptions {
  budgets?: Budgets;
  /** Default: exact where it applies, evolution otherwise (the result says why). */
  algorithm?: SearchAlgorithm;
  /**
   * ['score'] (default), or two or more distinct objectives, e.g. ['score', 'params', 'kvBytes']: then the result is
   * the Pareto set, best first by the first objective. kvBytes and latencyMs need `hardware` (latency: its peak and
   * bandwidth).
   */
  objectives?: readonly Objective[];
  top?: number;
  evaluations?: number;
  population?: number;
  seed?: number;
  /** For KV-cache and latency budgets: the space's sequence length, bytes per value, peak TFLOP/s, GB/s. */
  hardware?: Hardware;
  signal?: AbortSignal;
  /** The progress contract of src/progress.ts: `done` of `total` evaluations (or, for exact search, contexts). */
  onProgress?: OnProgress<SearchProgress>;
}

export interface SearchProgress extends WorkProgress {
  algorithm: SearchAlgorithm;
  evaluations?: number;
  contexts?: number;
  contextsDone?: number;
  best?: number;
}

export interface SearchPick {
  candidate: Candidate;
  score: number;
  attention: number;
  ffn: number;
  params: number;
  nonEmbeddingParams: number;
  flops: number;
  /** KV-cache bytes and roofline latency, where the search computed them (a KV or latency budget or objective). */
  kvBytes?: number;
  latencyMs?: number;
  /** How much of each given budget is left. */
  slack: Record<string, number>;
}

export interface SearchResult {
  algorithm: SearchAlgorithm;
  /** True when the first pick is proven the best of the space under the budgets (exact search, run to the end). */
  optimal: boolean;
  /** Why exact search was not used, when it was not asked for or could not apply. */
  exactness?: string;
  objectives: Objective[];
  /** With several objectives: the Pareto set (each pick non-dominated among all candidates evaluated). */
  pareto: boolean;
  evaluations: number;
  done: boolean;
  aborted: boolean;
  picks: SearchPick[];
}

function checkCount(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new ZeroLMError('E_ARGUMENT', `${name} must be an integer >= ${min}, got ${String(value)}`, { field: name });
  return v;
}

/** A candidate as one typed row (for the space's score and architectureOf). */
export function candidateRows(space: CompiledSpace, candidates: readonly Candidate[]): SpaceCandidates {
  const globalCount = space.globalFields.length;
  const rows: SpaceCandidates = { count: candidates.length, globals: new Uint32Array(candidates.length * globalCount), depth: new Uint32Array(candidates.length), layers: new Uint32Array(candidates.length * space.maxDepth) };
  candidates.forEach((c, i) => {
    rows.globals.set(c.globals, i * globalCount);
    rows.depth[i] = c.depth;
    rows.layers.set(c.layers, i * space.maxDepth);
  });
  return rows;
}

function picksOf(space: CompiledSpace, budgets: Budgets, candidates: readonly Candidate[], kv?: Float64Array, hardware?: Hardware): SearchPick[] {
  if (candidates.length === 0) return [];
  const rows = candidateRows(space, candidates);
  const out = space.score(rows);
  return candidates.map((candidate, i) => {
    const kvBytes = kv === undefined ? undefined : kvOfRow(space, kv, rows, i);
    const pick: SearchPick = {
      candidate,
      score: out.score[i],
      attention: out.attention[i],
      ffn: out.ffn[i],
      params: out.params[i],
      nonEmbeddingParams: out.nonEmbeddingParams[i],
      flops: out.flops[i],
      slack: slackOf(budgets, out.params[i], out.nonEmbeddingParams[i], out.flops[i], kvBytes ?? 0, hardware),
    };
    if (kvBytes !== undefined) {
      pick.kvBytes = kvBytes;
      if (hardware?.peakTflops !== undefined && hardware.bandwidthGBs !== undefined) {
        pick.latencyMs = rooflineLatencyMs(out.flops[i], out.params[i] * hardware.bytesPerValue + kvBytes, hardware.peakTflops, hardware.bandwidthGBs);
      }
    }
    return pick;
  });
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function* search(space: CompiledSpace, options: SearchOptions = {}): AsyncGenerator<SearchResult, void, undefined> {
  const budgets = checkBudgets({ ...options.budgets });
  checkOnProgress(options.onProgress);
  const objectives = [...(options.objectives ?? ['score'])] as Objective[];
  for (const o of objectives) if (!objectiveNames.includes(o)) throw new ZeroLMError('E_ARGUMENT', `unknown objective "${o}"; known: ${objectiveNames.join(', ')}`, { field: 'objectives' });
  if (new Set(objectives).size !== objectives.length || (objectives.length === 1 && objectives[0] !== 'score')) {
    throw new ZeroLMError('E_ARGUMENT', `objectives must be "score" alone or two or more that do not repeat, got ${objectives.join(',')}`, { field: 'objectives' });
  }
  if (options.algorithm !== undefined && !searchAlgorithms.includes(options.algorithm)) throw new ZeroLMError('E_ARGUMENT', `algorithm must be one of ${searchAlgorithms.join(', ')}, got ${JSON.stringify(options.algorithm)}`, { field: 'algorithm' });
  const top = checkCount('top', options.top, SEARCH_DEFAULTS.top, 1);
  const evaluations = checkCount('evaluations', options.evaluations, SEARCH_DEFAULTS.evaluations, 1);
  const population = checkCount('population', options.population, SEARCH_DEFAULTS.population, 2);
  const seed = checkCount('seed', options.seed, SEARCH_DEFAULTS.seed, 0);
  checkFeasible(space, budgets);
  const memoryBudget = budgets.maxKvBytes !== undefined || budgets.maxLatencyMs !== undefined;
  const memoryObjective = objectives.includes('kvBytes') || objectives.includes('latencyMs');
  if ((memoryBudget || memoryObjective) && options.hardware === undefined) throw new ZeroLMError('E_ARGUMENT', 'KV-cache and latency budgets and objectives need options.hardware (sequence length, bytes per value, peak, bandwidth)', { field: 'hardware' });
  if (objectives.includes('kvBytes') && space.definition.family === 'nas-bench-bert') throw new ZeroLMError('E_ARGUMENT', 'the kvBytes objective needs a decoder: an encoder (nas-bench-bert) keeps no KV cache', { field: 'objectives' });
  if (objectives.includes('latencyMs') && (options.hardware?.peakTflops === undefined || options.hardware.bandwidthGBs === undefined)) {
    throw new ZeroLMError('E_ARGUMENT', 'the latency objective needs hardware.peakTflops and hardware.bandwidthGBs (--peak-tflops, --bandwidth-gbs)', { field: 'objectives' });
  }
  const limits = effectiveLimits(budgets, options.hardware);
  const kv = memoryBudget || memoryObjective ? kvTable(space, options.hardware as Hardware) : undefined;

  const notExact = exactDoesNotApply(space, objectives);
  if (options.algorithm === 'exact' && notExact !== undefined) throw new ZeroLMError('E_UNSUPPORTED', `exact search does not apply: ${notExact}`, { field: 'algorithm' });
  const algorithm: SearchAlgorithm = options.algorithm ?? (notExact === undefined ? 'exact' : 'evolution');
  const exactness = algorithm === 'exact' ? undefined : notExact ?? `algorithm ${algorithm} was asked for`;
  const pareto = objectives.length > 1;
  const result = (picks: SearchPick[], evaluated: number, done: boolean, optimal: boolean): SearchResult => ({
    algorithm,
    optimal,
    ...(exactness !== undefined ? { exactness } : {}),
    objectives,
    pareto,
    evaluations: evaluated,
    done,
    aborted: options.signal?.aborted === true,
    picks,
  });

  if (algorithm === 'exact') {
    const hardware = options.hardware;
    const memory =
      kv !== undefined && hardware !== undefined
        ? {
            kv,
            bytesPerValue: hardware.bytesPerValue,
            ...limits,
            fits: (params: number, flops: number, kvBytes: number): boolean => violation(budgets, params, 0, flops, kvBytes, hardware) === 0,
          }
        : undefined;
    const run = solveExact(space, budgets, top, options.signal, memory);
    let last = Date.now();
    for (;;) {
      const step = run.next();
      if (step.done) {
        const outcome = step.value;
        if (outcome.picks.length === 0 && !options.signal?.aborted) throw jointlyInfeasible(space, budgets);
        yield result(picksOf(space, budgets, outcome.picks, kv, options.hardware), outcome.states, true, !options.signal?.aborted);
        return;
      }
      reportProgress(options.onProgress, { algorithm, done: step.value.done, errors: 0, total: step.value.total, contexts: step.value.total, contextsDone: step.value.done });
      if (Date.now() - last > 50) {
        last = Date.now();
        await turn();
      }
    }
  }

  const population_ = { budgets, objectives, evaluations, population, top, random: seededRandom(seed), signal: options.signal, kv, hardware: options.hardware };
  const run = algorithm === 'random' ? randomSearch(space, population_) : pareto ? nsga2(space, population_) : regularizedEvolution(space, population_);
  let bestScore = -Infinity;
  let last = Date.now();
  let final: Progress | undefined;
  for (;;) {
    const step = run.next();
    if (step.done) {
      final = step.value;
      break;
    }
    const progress = step.value;
    const head = progress.best[0]?.values.score ?? -Infinity;
    reportProgress(options.onProgress, { algorithm, done: progress.evaluations, errors: 0, total: evaluations, evaluations: progress.evaluations, best: head });
    if (Date.now() - last > 50) {
      last = Date.now();
      if (head > bestScore && !pareto) {
        bestScore = head;
        yield result(picksOf(space, budgets, progress.best.map((e) => e.candidate), kv, options.hardware), progress.evaluations, false, false);
      }
      await turn();
    }
  }
  if (final.best.length === 0 && !options.signal?.aborted) throw jointlyInfeasible(space, budgets);
  yield result(picksOf(space, budgets, final.best.map((e) => e.candidate), kv, options.hardware), final.evaluations, true, false);
}

/** Runs a search to the end and returns its last result. */
export async function searchBest(space: CompiledSpace, options: SearchOptions = {}): Promise<SearchResult> {
  let last: SearchResult | undefined;
  for await (const result of search(space, options)) last = result;
  return last as SearchResult;
}
