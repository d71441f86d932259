/**
 * Evolutionary and random search over a compiled space: candidates are rows of choice indices, scored in batches
 * through the space's columnar `score`.
 * - One objective: regularized (aging) evolution (Real et al., 2019, "Regularized Evolution for Image Classifier
 *   Architecture Search"): a tournament picks a parent, a child is its mutation (and, half the time, its uniform
 *   crossover with a second tournament's winner), the child joins and the oldest member leaves.
 * - Several objectives: NSGA-II (Deb et al., 2002): non-dominated sorting with crowding distance, binary tournaments,
 *   (mu + lambda) survival; the output is the archive of every non-dominated feasible candidate seen.
 * Budgets are constraints in Deb's sense: a feasible candidate beats an infeasible one, two infeasible ones compare
 * by how far they are outside the budgets.
 */
import type { CompiledSpace, PackedTables, SpaceCandidates, SpaceScores } from '../space';
import { combine, type CombinationRule } from '../proxy/alpha';
import { rooflineLatencyMs, violation, type Budgets, type Hardware } from './budget';
import type { Candidate } from './exact';

/**
 * What a search can optimise: the score (maximised); parameters, non-embedding parameters, forward FLOPs, KV-cache
 * bytes and roofline latency (minimised). kvBytes and latencyMs need SearchOptions.hardware (latency: its peak and
 * bandwidth).
 */
export type Objective = 'score' | 'params' | 'flops' | 'nonEmbeddingParams' | 'kvBytes' | 'latencyMs';
export const objectiveNames: readonly Objective[] = ['score', 'params', 'nonEmbeddingParams', 'flops', 'kvBytes', 'latencyMs'];

export interface Evaluated {
  candidate: Candidate;
  /** kvBytes and latencyMs are NaN where the search has no KV table or no peak and bandwidth. */
  values: { score: number; attention: number; ffn: number; params: number; nonEmbeddingParams: number; flops: number; kvBytes: number; latencyMs: number };
}

/** What a population search yields after each batch (and returns at the end). */
export interface Progress {
  evaluations: number;
  best: Evaluated[];
}

export interface PopulationSearchOptions {
  budgets: Budgets;
  objectives: readonly Objective[];
  evaluations: number;
  population: number;
  top: number;
  random: () => number;
  signal?: AbortSignal;
  /** Per (context, kind) KV bytes of a layer and the hardware, when a KV or latency budget is given. */
  kv?: Float64Array;
  hardware?: Hardware;
}

/** Candidate rows: choice indices, one row per candidate (a batch's, or the evolution's store). */
type Rows = Pick<SpaceCandidates, 'globals' | 'depth' | 'layers'>;

/** A batch of candidates as typed rows, with their scores. */
class Batch {
  readonly rows: SpaceCandidates;
  readonly out: SpaceScores;
  constructor(readonly size: number, globalCount: number, maxDepth: number) {
    this.rows = { count: size, globals: new Uint32Array(size * globalCount), depth: new Uint32Array(size), layers: new Uint32Array(size * maxDepth) };
    this.out = { score: new Float64Array(size), attention: new Float64Array(size), ffn: new Float64Array(size), params: new Float64Array(size), nonEmbeddingParams: new Float64Array(size), flops: new Float64Array(size) };
  }
}

/** The genome store: a fixed pool of rows (population members), copied into and out of batches. */
class Genomes {
  readonly globals: Uint32Array;
  readonly depth: Uint32Array;
  readonly layers: Uint32Array;
  readonly fitness: Float64Array;
  readonly excess: Float64Array;
  constructor(readonly capacity: number, readonly globalCount: number, readonly maxDepth: number) {
    this.globals = new Uint32Array(capacity * globalCount);
    this.depth = new Uint32Array(capacity);
    this.layers = new Uint32Array(capacity * maxDepth);
    this.fitness = new Float64Array(capacity);
    this.excess = new Float64Array(capacity);
  }
}

function better(fitnessA: number, excessA: number, fitnessB: number, excessB: number): boolean {
  if (excessA !== excessB) return excessA < excessB;
  return fitnessA > fitnessB;
}

function keyOf(rows: Rows, i: number, globalCount: number, maxDepth: number, depths: readonly number[]): string {
  const n = depths[rows.depth[i]];
  // Layers are interchangeable: the sorted multiset identifies the model.
  const layers = Array.from(rows.layers.subarray(i * maxDepth, i * maxDepth + n)).sort((a, b) => a - b);
  return `${Array.from(rows.globals.subarray(i * globalCount, (i + 1) * globalCount)).join(',')}|${rows.depth[i]}|${layers.join(',')}`;
}

function candidateOf(rows: Rows, i: number, globalCount: number, maxDepth: number, depths: readonly number[]): Candidate {
  const n = depths[rows.depth[i]];
  return {
    globals: Array.from(rows.globals.subarray(i * globalCount, (i + 1) * globalCount)),
    depth: rows.depth[i],
    layers: Array.from(rows.layers.subarray(i * maxDepth, i * maxDepth + n)).sort((a, b) => a - b),
  };
}

/** Batch row i's values; its KV bytes and latency from the KV table and hardware when the search has them. */
function valuesOf(out: SpaceScores, i: number, space: CompiledSpace, options: PopulationSearchOptions, rows: SpaceCandidates): Evaluated['values'] {
  const kvBytes = options.kv !== undefined ? kvOfRow(space, options.kv, rows, i) : NaN;
  const hardware = options.hardware;
  const latencyMs =
    hardware?.peakTflops !== undefined && hardware.bandwidthGBs !== undefined && options.kv !== undefined
      ? rooflineLatencyMs(out.flops[i], out.params[i] * hardware.bytesPerValue + kvBytes, hardware.peakTflops, hardware.bandwidthGBs)
      : NaN;
  return { score: out.score[i], attention: out.attention[i], ffn: out.ffn[i], params: out.params[i], nonEmbeddingParams: out.nonEmbeddingParams[i], flops: out.flops[i], kvBytes, latencyMs };
}

/** The best `top` distinct feasible candidates seen, best first. */
class TopList {
  readonly entries: Evaluated[] = [];
  private readonly keys = new Set<string>();
  constructor(private readonly top: number) {}
  floor(): number {
    return this.entries.length < this.top ? -Infinity : this.entries[this.entries.length - 1].values.score;
  }
  offer(key: string, make: () => Evaluated): boolean {
    if (this.keys.has(key)) return false;
    const entry = make();
    this.entries.push(entry);
    this.keys.add(key);
    this.entries.sort((a, b) => b.values.score - a.values.score);
    if (this.entries.length > this.top) {
      const removed = this.entries.pop() as Evaluated;
      this.keys.delete(removed.candidate.globals.join(',') + '|' + removed.candidate.depth + '|' + removed.candidate.layers.join(','));
    }
    return true;
  }
}

interface Mutator {
  randomize(rows: Rows, i: number): void;
  mutate(rows: Rows, i: number): void;
  crossover(target: Rows, i: number, other: Rows, j: number): void;
}

/**
 * Splitmix32 draws as small integers, its state in a typed array: nothing is allocated per draw (a double returned
 * by a closure that V8 does not inline is boxed, one heap number per draw). Seeded from the search's random stream,
 * so a search is deterministic for its seed.
 */
export class Draws {
  private readonly state = new Uint32Array(1);
  constructor(seed: number) {
    this.state[0] = seed >>> 0;
  }
  static from(random: () => number): Draws {
    return new Draws((random() * 4294967296) >>> 0);
  }
  /** 31 uniform random bits. */
  bits(): number {
    const next = (this.state[0] + 0x9e3779b9) >>> 0;
    this.state[0] = next;
    let z = Math.imul(next ^ (next >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 1;
  }
  /** Uniform in 0..n-1. */
  below(n: number): number {
    return Math.floor((this.bits() / 2147483648) * n);
  }
  /** True with probability p (to within 2^-31). */
  chance(p: number): boolean {
    return this.bits() < p * 2147483648;
  }
}

function makeMutator(space: CompiledSpace, draws: Draws): Mutator {
  const globalCount = space.globalFields.length;
  const { maxDepth, depths, globalSizes, layerSizes } = space;
  const kinds = space.tables.kinds;
  const pick = (n: number): number => draws.below(n);
  // A layer kind's choice digits are mixed-radix: changing one field changes the kind by a multiple of its stride.
  const strides = layerSizes.map((_, f) => layerSizes.slice(f + 1).reduce((a, b) => a * b, 1));
  const genes = globalCount + 1 + maxDepth;
  const logSizes = layerSizes.map((size) => Math.log(size));
  return {
    randomize(rows, i) {
      for (let f = 0; f < globalCount; f++) rows.globals[i * globalCount + f] = pick(globalSizes[f]);
      rows.depth[i] = pick(depths.length);
      for (let j = 0; j < maxDepth; j++) rows.layers[i * maxDepth + j] = pick(kinds);
    },
    mutate(rows, i) {
      // One gene, and with probability 1/2 another: a global field, the depth, or one field of one layer.
      do {
        const gene = pick(genes);
        if (gene < globalCount) rows.globals[i * globalCount + gene] = pick(globalSizes[gene]);
        else if (gene === globalCount) {
          // Depth moves to a neighbour most of the time (layers kept), anywhere sometimes.
          const d = rows.depth[i];
          const step = draws.chance(0.5) ? -1 : 1;
          rows.depth[i] = draws.chance(0.8) ? Math.min(depths.length - 1, Math.max(0, d + step)) : pick(depths.length);
        } else {
          const n = depths[rows.depth[i]];
          const slot = i * maxDepth + pick(n);
          const move = draws.bits() / 2147483648;
          if (move < 0.1) {
            rows.layers[slot] = rows.layers[i * maxDepth + pick(n)]; // copy a sibling layer
          } else if (move < 0.2) {
            // Make every layer like one of them: uniform models are often good, and far apart in layer-by-layer steps.
            const kind = rows.layers[slot];
            for (let j = i * maxDepth; j < (i + 1) * maxDepth; j++) rows.layers[j] = kind;
          } else {
            const f = pick(layerSizes.length);
            const size = layerSizes[f];
            const applyTo = draws.chance(0.2) ? n : 1; // the same change on every layer, sometimes
            // A step of log-uniform length (choices are ordered: near values are alike), any value a quarter of the time.
            const step = Math.max(1, Math.round(Math.exp((draws.bits() / 2147483648) * logSizes[f]))) * (draws.chance(0.5) ? -1 : 1);
            const anywhere = draws.chance(0.25) ? pick(size) : -1;
            for (let a = 0; a < applyTo; a++) {
              const at = applyTo === 1 ? slot : i * maxDepth + a;
              const kind = rows.layers[at];
              const digit = Math.floor(kind / strides[f]) % size;
              const next = anywhere >= 0 ? anywhere : Math.min(size - 1, Math.max(0, digit + step));
              rows.layers[at] = kind + (next - digit) * strides[f];
            }
          }
        }
      } while (draws.chance(0.5));
    },
    crossover(target, i, other, j) {
      // Uniform crossover: each gene from the other parent with probability 1/2, one random bit per gene.
      let bits = draws.bits();
      let left = 31;
      for (let gene = 0; gene < genes; gene++) {
        if (left === 0) {
          bits = draws.bits();
          left = 31;
        }
        left--;
        const take = (bits & 1) === 1;
        bits >>>= 1;
        if (!take) continue;
        if (gene < globalCount) target.globals[i * globalCount + gene] = other.globals[j * globalCount + gene];
        else if (gene === globalCount) target.depth[i] = other.depth[j];
        else target.layers[i * maxDepth + gene - globalCount - 1] = other.layers[j * maxDepth + gene - globalCount - 1];
      }
    },
  };
}

function copyRow(from: { globals: Uint32Array; depth: Uint32Array; layers: Uint32Array }, i: number, to: { globals: Uint32Array; depth: Uint32Array; layers: Uint32Array }, j: number, globalCount: number, maxDepth: number): void {
  // Element by element: subarray() would allocate three views per child, and the garbage collector would notice.
  for (let f = 0; f < globalCount; f++) to.globals[j * globalCount + f] = from.globals[i * globalCount + f];
  to.depth[j] = from.depth[i];
  for (let s = 0; s < maxDepth; s++) to.layers[j * maxDepth + s] = from.layers[i * maxDepth + s];
}

/** Fitness of batch row i: the score, or -Infinity for a non-finite score (an invalid combination). */
function fitnessOf(out: SpaceScores, i: number): number {
  const s = out.score[i];
  return Number.isFinite(s) ? s : -Infinity;
}

/** The KV bytes of candidate row i (the sum of its layers' table entries). */
export function kvOfRow(space: CompiledSpace, kv: Float64Array, rows: SpaceCandidates, i: number): number {
  const globalCount = space.globalFields.length;
  const context = space.contextOf(rows.globals.subarray(i * globalCount, (i + 1) * globalCount), rows.depth[i]);
  const n = space.depths[rows.depth[i]];
  let bytes = 0;
  for (let j = 0; j < n; j++) bytes += kv[context * space.tables.kinds + rows.layers[i * space.maxDepth + j]];
  return bytes;
}

function excessOf(out: SpaceScores, i: number, budgets: Budgets, options: PopulationSearchOptions, rows: SpaceCandidates, space: CompiledSpace): number {
  if (!Number.isFinite(out.score[i]) || !Number.isFinite(out.params[i])) return Infinity;
  const kv = options.kv !== undefined ? kvOfRow(space, options.kv, rows, i) : 0;
  if (!Number.isFinite(kv)) return Infinity;
  return violation(budgets, out.params[i], out.nonEmbeddingParams[i], out.flops[i], kv, options.hardware);
}

/** How many independent populations regularized evolution runs, one after the other. */
export const RESTARTS = 10;

/**
 * One candidate's fitness and budget excess, from the packed tables (src/space/compiled.ts) in place: the same entries
 * summed in the same order as the space's `score`, then excessOf's rules, so the values are exactly those of the
 * columnar path. Every array is an argument so that V8 optimises this function alone; nothing is allocated.
 */
export function evaluateRow(
  row: number,
  globals: Uint32Array,
  depth: Uint32Array,
  layers: Uint32Array,
  globalCount: number,
  maxDepth: number,
  packed: PackedTables,
  alpha: number,
  rule: CombinationRule,
  kv: Float64Array | undefined,
  budgets: Budgets,
  hardware: Hardware | undefined,
  out: Float64Array,
): void {
  const { entries, rowOfContext, depthValues, globalSizes, layerGlobalCount, kinds, embeddingCombinations, base, embedding } = packed;
  const g = row * globalCount;
  let combination = 0;
  for (let f = 0; f < layerGlobalCount; f++) combination = combination * globalSizes[f] + globals[g + f];
  let embeddingCombination = 0;
  for (let f = layerGlobalCount; f < globalCount; f++) embeddingCombination = embeddingCombination * globalSizes[f] + globals[g + f];
  const d = depth[row];
  const context = combination * depthValues.length + d;
  const n = depthValues[d];
  const tableRow = rowOfContext[context] * kinds;
  const slot = row * maxDepth;
  let a = 0;
  let ffn = 0;
  let p = 0;
  let fl = 0;
  for (let j = 0; j < n; j++) {
    const e = 4 * (tableRow + layers[slot + j]);
    a += entries[e];
    ffn += entries[e + 1];
    p += entries[e + 2];
    fl += entries[e + 3];
  }
  const b = context * embeddingCombinations + embeddingCombination;
  const params = base[b] + p;
  const score = combine(a, ffn, alpha, rule);
  out[0] = Number.isFinite(score) ? score : -Infinity;
  if (!Number.isFinite(score) || !Number.isFinite(params)) {
    out[1] = Infinity;
    return;
  }
  let bytes = 0;
  if (kv !== undefined) {
    const at = context * kinds;
    for (let j = 0; j < n; j++) bytes += kv[at + layers[slot + j]];
    if (!Number.isFinite(bytes)) {
      out[1] = Infinity;
      return;
    }
  }
  out[1] = violation(budgets, params, params - embedding[b], fl, bytes, hardware);
}

/**
 * Regularized evolution for the score; returns the best `top` distinct feasible candidates and the evaluations.
 * Allocation-free in its loop: the population and each batch's children live in one store of typed rows; a child is
 * a copy of its parent's row mutated in place and evaluated from the packed tables, and joining the population
 * swaps its row index with the leaving member's (nothing is copied back). Children of a batch are made from the
 * population as it was before the batch, then join in order.
 */
export function* regularizedEvolution(space: CompiledSpace, options: PopulationSearchOptions): Generator<Progress, Progress> {
  const globalCount = space.globalFields.length;
  const { maxDepth, depths, packed, alpha, rule } = space;
  const { budgets, population, random, kv, hardware } = options;
  const tournament = Math.max(2, Math.round(population / 20));
  const batchSize = Math.max(1, Math.min(64, population));
  const draws = Draws.from(random);
  const mutator = makeMutator(space, draws);
  // Rows 0..population-1 start as the members' rows, the rest as the batch's; rowOfMember and rowOfChild say which.
  const store = new Genomes(population + batchSize, globalCount, maxDepth);
  const rowOfMember = Uint32Array.from({ length: population }, (_, m) => m);
  const rowOfChild = Uint32Array.from({ length: batchSize }, (_, i) => population + i);
  const fitness = new Float64Array(population);
  const excess = new Float64Array(population);
  const childFitness = new Float64Array(batchSize);
  const childExcess = new Float64Array(batchSize);
  const evaluated = new Float64Array(2);
  const topList = new TopList(options.top);
  // Progress every 1,024 evaluations or so (whole batches): often enough for Ctrl-C, rarely enough to cost nothing.
  const yieldEvery = Math.max(1, Math.round(1024 / batchSize));
  let evaluations = 0;
  let filled = 0;
  let oldest = 0;
  let batches = 0;

  const largeWinner = (): number => {
    let best = draws.below(filled);
    for (let t = 1; t < tournament; t++) {
      const c = draws.below(filled);
      if (better(fitness[c], excess[c], fitness[best], excess[best])) best = c;
    }
    return best;
  };
  // A tournament's entrants two per draw: 15 bits pick one of `filled` (at most 32,768 members, so the pick is
  // uniform to within filled / 32,768).
  const smallWinner = (): number => {
    let bits = draws.bits();
    let best = ((bits & 0x7fff) * filled) >>> 15;
    for (let t = 1; t < tournament; t++) {
      if ((t & 1) === 0) bits = draws.bits();
      else bits >>>= 15;
      const c = ((bits & 0x7fff) * filled) >>> 15;
      if (better(fitness[c], excess[c], fitness[best], excess[best])) best = c;
    }
    return best;
  };
  const winner = population <= 32768 ? smallWinner : largeWinner;
  const offer = (row: number): void => {
    topList.offer(keyOf(store, row, globalCount, maxDepth, depths), () => {
      const rows = candidateRows1(store, row, globalCount, maxDepth);
      return { candidate: candidateOf(store, row, globalCount, maxDepth, depths), values: valuesOf(space.score(rows), 0, space, options, rows) };
    });
  };

  // Independent restarts share the budget of evaluations: one population can settle on one global choice and
  // depth whose neighbours are all over budget or worse; a fresh population may settle elsewhere.
  const restarts = Math.max(1, Math.min(RESTARTS, Math.floor(options.evaluations / (population * 20))));
  const perRestart = Math.ceil(options.evaluations / restarts);
  while (evaluations < options.evaluations && !options.signal?.aborted) {
    const count = Math.min(batchSize, options.evaluations - evaluations, perRestart - (evaluations % perRestart));
    if (evaluations % perRestart === 0) {
      filled = 0;
      oldest = 0;
    }
    const seeding = filled < population;
    for (let i = 0; i < count; i++) {
      const child = rowOfChild[i];
      if (seeding) mutator.randomize(store, child);
      else {
        copyRow(store, rowOfMember[winner()], store, child, globalCount, maxDepth);
        if (draws.chance(0.5)) mutator.crossover(store, child, store, rowOfMember[winner()]);
        mutator.mutate(store, child);
      }
      evaluateRow(child, store.globals, store.depth, store.layers, globalCount, maxDepth, packed, alpha, rule, kv, budgets, hardware, evaluated);
      childFitness[i] = evaluated[0];
      childExcess[i] = evaluated[1];
    }
    for (let i = 0; i < count; i++) {
      const floor = topList.floor();
      if (childExcess[i] === 0 && (childFitness[i] > floor || (childFitness[i] === floor && topList.entries.length < options.top))) offer(rowOfChild[i]);
      // The child joins; once the population is full, the oldest leaves (its row becomes a child's row).
      const slot = filled < population ? filled++ : oldest;
      if (filled === population && slot === oldest) oldest = (oldest + 1) % population;
      const leaving = rowOfMember[slot];
      rowOfMember[slot] = rowOfChild[i];
      rowOfChild[i] = leaving;
      fitness[slot] = childFitness[i];
      excess[slot] = childExcess[i];
    }
    evaluations += count;
    if (++batches % yieldEvery === 0) yield { evaluations, best: topList.entries };
  }
  return { best: topList.entries, evaluations };
}

/** Row `row` of a store as a one-candidate SpaceCandidates (for the rare full record of a new best). */
function candidateRows1(store: Rows, row: number, globalCount: number, maxDepth: number): SpaceCandidates {
  const rows: SpaceCandidates = { count: 1, globals: new Uint32Array(globalCount), depth: new Uint32Array(1), layers: new Uint32Array(maxDepth) };
  copyRow(store, row, rows, 0, globalCount, maxDepth);
  return rows;
}

/** Uniformly random candidates: the baseline. */
export function* randomSearch(space: CompiledSpace, options: PopulationSearchOptions): Generator<Progress, Progress> {
  const globalCount = space.globalFields.length;
  const { maxDepth, depths } = space;
  const batch = new Batch(1024, globalCount, maxDepth);
  const mutator = makeMutator(space, Draws.from(options.random));
  const topList = new TopList(options.top);
  const archive = options.objectives.length > 1 ? new ParetoArchive(options.objectives) : undefined;
  let evaluations = 0;
  while (evaluations < options.evaluations && !options.signal?.aborted) {
    const count = Math.min(1024, options.evaluations - evaluations);
    batch.rows.count = count;
    for (let i = 0; i < count; i++) mutator.randomize(batch.rows, i);
    space.score(batch.rows, batch.out);
    for (let i = 0; i < count; i++) {
      if (excessOf(batch.out, i, options.budgets, options, batch.rows, space) !== 0) continue;
      if (archive) archive.offer(batch.rows, valuesOf(batch.out, i, space, options, batch.rows), i, globalCount, maxDepth, depths);
      else if (fitnessOf(batch.out, i) > topList.floor()) {
        topList.offer(keyOf(batch.rows, i, globalCount, maxDepth, depths), () => ({ candidate: candidateOf(batch.rows, i, globalCount, maxDepth, depths), values: valuesOf(batch.out, i, space, options, batch.rows) }));
      }
    }
    evaluations += count;
    yield { evaluations, best: archive ? archive.sorted() : topList.entries };
  }
  return { best: archive ? archive.sorted() : topList.entries, evaluations };
}

/** Objective vector to minimise: the score is negated. */
function costs(values: Evaluated['values'], objectives: readonly Objective[]): number[] {
  return objectives.map((o) => (o === 'score' ? -values.score : values[o]));
}

function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strictly = false;
  for (let m = 0; m < a.length; m++) {
    if (a[m] > b[m]) return false;
    if (a[m] < b[m]) strictly = true;
  }
  return strictly;
}

/** Every non-dominated feasible candidate seen (equal objective vectors: the first one kept). */
class ParetoArchive {
  private members: Array<{ entry: Evaluated; cost: number[]; key: string }> = [];
  constructor(private readonly objectives: readonly Objective[]) {}
  offer(rows: SpaceCandidates, values: Evaluated['values'], i: number, globalCount: number, maxDepth: number, depths: readonly number[]): void {
    const cost = costs(values, this.objectives);
    for (const m of this.members) {
      if (dominates(m.cost, cost) || m.cost.every((v, x) => v === cost[x])) return;
    }
    this.members = this.members.filter((m) => !dominates(cost, m.cost));
    this.members.push({ entry: { candidate: candidateOf(rows, i, globalCount, maxDepth, depths), values }, cost, key: keyOf(rows, i, globalCount, maxDepth, depths) });
  }
  /** Best first by the first objective, then the next (objectives in the order given; the score highest first). */
  sorted(): Evaluated[] {
    const order = [...this.members].sort((a, b) => {
      for (let m = 0; m < a.cost.length; m++) if (a.cost[m] !== b.cost[m]) return a.cost[m] - b.cost[m];
      return 0;
    });
    return order.map((m) => m.entry);
  }
}

/** Non-dominated sorting: the front index of each point (0 = non-dominated). Constraint violation first (Deb). */
function frontsOf(cost: number[][], excess: Float64Array): number[] {
  const n = cost.length;
  const dominatedBy = new Array<number>(n).fill(0);
  const dominatesList: number[][] = Array.from({ length: n }, () => []);
  const beats = (a: number, b: number): boolean => {
    if (excess[a] !== excess[b]) return excess[a] < excess[b];
    return dominates(cost[a], cost[b]);
  };
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      if (beats(a, b)) {
        dominatesList[a].push(b);
        dominatedBy[b]++;
      } else if (beats(b, a)) {
        dominatesList[b].push(a);
        dominatedBy[a]++;
      }
    }
  }
  const front = new Array<number>(n).fill(-1);
  let current = [];
  for (let a = 0; a < n; a++) if (dominatedBy[a] === 0) current.push(a);
  let level = 0;
  while (current.length > 0) {
    const next: number[] = [];
    for (const a of current) {
      front[a] = level;
      for (const b of dominatesList[a]) if (--dominatedBy[b] === 0) next.push(b);
    }
    current = next;
    level++;
  }
  return front;
}

function crowding(indices: number[], cost: number[][]): Map<number, number> {
  const distance = new Map<number, number>(indices.map((i) => [i, 0]));
  const objectives = cost[indices[0]]?.length ?? 0;
  for (let m = 0; m < objectives; m++) {
    const sorted = [...indices].sort((a, b) => cost[a][m] - cost[b][m]);
    const span = cost[sorted[sorted.length - 1]][m] - cost[sorted[0]][m];
    distance.set(sorted[0], Infinity);
    distance.set(sorted[sorted.length - 1], Infinity);
    for (let x = 1; x < sorted.length - 1; x++) {
      if (span > 0) distance.set(sorted[x], (distance.get(sorted[x]) as number) + (cost[sorted[x + 1]][m] - cost[sorted[x - 1]][m]) / span);
    }
  }
  return distance;
}

/** NSGA-II over several objectives; returns the archive of non-dominated feasible candidates, by score. */
export function* nsga2(space: CompiledSpace, options: PopulationSearchOptions): Generator<Progress, Progress> {
  const globalCount = space.globalFields.length;
  const { maxDepth, depths } = space;
  const { budgets, population, random, objectives } = options;
  const mutator = makeMutator(space, Draws.from(random));
  const archive = new ParetoArchive(objectives);
  // Parents and children side by side: 2 * population rows.
  const pool = new Genomes(2 * population, globalCount, maxDepth);
  const batch = new Batch(population, globalCount, maxDepth);
  let cost: number[][] = [];
  let rank: number[] = [];
  let crowd = new Map<number, number>();
  let parents = 0;
  let evaluations = 0;
  const tournament = (): number => {
    const a = Math.floor(random() * parents);
    const b = Math.floor(random() * parents);
    if (rank[a] !== rank[b]) return rank[a] < rank[b] ? a : b;
    return (crowd.get(a) ?? 0) >= (crowd.get(b) ?? 0) ? a : b;
  };
  while (evaluations < options.evaluations && !options.signal?.aborted) {
    const count = Math.min(population, options.evaluations - evaluations);
    batch.rows.count = count;
    for (let i = 0; i < count; i++) {
      if (parents === 0) mutator.randomize(batch.rows, i);
      else {
        copyRow(pool, tournament(), batch.rows, i, globalCount, maxDepth);
        if (random() < 0.5) mutator.crossover(batch.rows, i, pool, tournament());
        mutator.mutate(batch.rows, i);
      }
    }
    space.score(batch.rows, batch.out);
    for (let i = 0; i < count; i++) {
      const slot = parents + i;
      copyRow(batch.rows, i, pool, slot, globalCount, maxDepth);
      pool.excess[slot] = excessOf(batch.out, i, budgets, options, batch.rows, space);
      const values = valuesOf(batch.out, i, space, options, batch.rows);
      cost[slot] = Number.isFinite(batch.out.score[i]) ? costs(values, objectives) : objectives.map(() => Infinity);
      if (pool.excess[slot] === 0) archive.offer(batch.rows, values, i, globalCount, maxDepth, depths);
    }
    evaluations += count;
    // Survival: fronts in order, the last one cut by crowding distance.
    const total = parents + count;
    const fronts = frontsOf(cost.slice(0, total), pool.excess.subarray(0, total));
    const levels = new Map<number, number[]>();
    fronts.forEach((level, i) => levels.set(level, [...(levels.get(level) ?? []), i]));
    const survivors: number[] = [];
    const nextCrowd = new Map<number, number>();
    for (const level of [...levels.keys()].sort((a, b) => a - b)) {
      const members = levels.get(level) as number[];
      const distance = crowding(members, cost);
      const ordered = survivors.length + members.length <= population ? members : [...members].sort((a, b) => (distance.get(b) as number) - (distance.get(a) as number)).slice(0, population - survivors.length);
      for (const m of ordered) {
        nextCrowd.set(survivors.length, distance.get(m) as number);
        survivors.push(m);
      }
      if (survivors.length >= population) break;
    }
    const next = new Genomes(2 * population, globalCount, maxDepth);
    const nextCost: number[][] = [];
    const nextRank: number[] = [];
    survivors.forEach((from, to) => {
      copyRow(pool, from, next, to, globalCount, maxDepth);
      next.excess[to] = pool.excess[from];
      nextCost[to] = cost[from];
      nextRank[to] = fronts[from];
    });
    pool.globals.set(next.globals);
    pool.depth.set(next.depth);
    pool.layers.set(next.layers);
    pool.excess.set(next.excess);
    cost = nextCost;
    rank = nextRank;
    crowd = nextCrowd;
    parents = survivors.length;
    yield { evaluations, best: archive.sorted() };
  }
  return { best: archive.sorted(), evaluations };
}
