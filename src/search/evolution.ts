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
import type { CompiledSpace, SpaceCandidates, SpaceScores } from '../space';
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

function keyOf(rows: SpaceCandidates, i: number, globalCount: number, maxDepth: number, depths: readonly number[]): string {
  const n = depths[rows.depth[i]];
  // Layers are interchangeable: the sorted multiset identifies the model.
  const layers = Array.from(rows.layers.subarray(i * maxDepth, i * maxDepth + n)).sort((a, b) => a - b);
  return `${Array.from(rows.globals.subarray(i * globalCount, (i + 1) * globalCount)).join(',')}|${rows.depth[i]}|${layers.join(',')}`;
}

function candidateOf(rows: SpaceCandidates, i: number, globalCount: number, maxDepth: number, depths: readonly number[]): Candidate {
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
  randomize(rows: SpaceCandidates, i: number): void;
  mutate(rows: SpaceCandidates, i: number): void;
  crossover(target: SpaceCandidates, i: number, other: Genomes, j: number): void;
}

function makeMutator(space: CompiledSpace, random: () => number): Mutator {
  const globalCount = space.globalFields.length;
  const { maxDepth, depths, globalSizes, layerSizes } = space;
  const kinds = space.tables.kinds;
  const pick = (n: number): number => Math.floor(random() * n);
  // A layer kind's choice digits are mixed-radix: changing one field changes the kind by a multiple of its stride.
  const strides = layerSizes.map((_, f) => layerSizes.slice(f + 1).reduce((a, b) => a * b, 1));
  const genes = globalCount + 1 + maxDepth;
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
          const step = random() < 0.5 ? -1 : 1;
          rows.depth[i] = random() < 0.8 ? Math.min(depths.length - 1, Math.max(0, d + step)) : pick(depths.length);
        } else {
          const n = depths[rows.depth[i]];
          const slot = i * maxDepth + pick(n);
          const move = random();
          if (move < 0.1) {
            rows.layers[slot] = rows.layers[i * maxDepth + pick(n)]; // copy a sibling layer
          } else if (move < 0.2) {
            // Make every layer like one of them: uniform models are often good, and far apart in layer-by-layer steps.
            rows.layers.fill(rows.layers[slot], i * maxDepth, i * maxDepth + maxDepth);
          } else {
            const f = pick(layerSizes.length);
            const size = layerSizes[f];
            const applyTo = random() < 0.2 ? n : 1; // the same change on every layer, sometimes
            // A step of log-uniform length (choices are ordered: near values are alike), any value a quarter of the time.
            const step = Math.max(1, Math.round(Math.exp(random() * Math.log(size)))) * (random() < 0.5 ? -1 : 1);
            const anywhere = random() < 0.25 ? pick(size) : -1;
            for (let a = 0; a < applyTo; a++) {
              const at = applyTo === 1 ? slot : i * maxDepth + a;
              const kind = rows.layers[at];
              const digit = Math.floor(kind / strides[f]) % size;
              const next = anywhere >= 0 ? anywhere : Math.min(size - 1, Math.max(0, digit + step));
              rows.layers[at] = kind + (next - digit) * strides[f];
            }
          }
        }
      } while (random() < 0.5);
    },
    crossover(target, i, other, j) {
      for (let f = 0; f < globalCount; f++) if (random() < 0.5) target.globals[i * globalCount + f] = other.globals[j * globalCount + f];
      if (random() < 0.5) target.depth[i] = other.depth[j];
      for (let s = 0; s < maxDepth; s++) if (random() < 0.5) target.layers[i * maxDepth + s] = other.layers[j * maxDepth + s];
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

/** Regularized evolution for the score; returns the best `top` distinct feasible candidates and the evaluations. */
export function* regularizedEvolution(space: CompiledSpace, options: PopulationSearchOptions): Generator<Progress, Progress> {
  const globalCount = space.globalFields.length;
  const { maxDepth, depths } = space;
  const { budgets, population, random } = options;
  const tournament = Math.max(2, Math.round(population / 20));
  const batchSize = Math.max(1, Math.min(64, population));
  const mutator = makeMutator(space, random);
  const members = new Genomes(population, globalCount, maxDepth);
  const batch = new Batch(batchSize, globalCount, maxDepth);
  const topList = new TopList(options.top);
  let evaluations = 0;
  let filled = 0;
  let oldest = 0;

  const record = (i: number): void => {
    const fitness = fitnessOf(batch.out, i);
    const excess = excessOf(batch.out, i, budgets, options, batch.rows, space);
    if (excess === 0 && (fitness > topList.floor() || (fitness === topList.floor() && topList.entries.length < options.top))) {
      topList.offer(keyOf(batch.rows, i, globalCount, maxDepth, depths), () => ({ candidate: candidateOf(batch.rows, i, globalCount, maxDepth, depths), values: valuesOf(batch.out, i, space, options, batch.rows) }));
    }
    // The child joins; once the population is full, the oldest leaves.
    const slot = filled < population ? filled++ : oldest;
    if (filled === population && slot === oldest) oldest = (oldest + 1) % population;
    copyRow(batch.rows, i, members, slot, globalCount, maxDepth);
    members.fitness[slot] = fitness;
    members.excess[slot] = excess;
  };
  const winner = (): number => {
    let best = Math.floor(random() * filled);
    for (let t = 1; t < tournament; t++) {
      const c = Math.floor(random() * filled);
      if (better(members.fitness[c], members.excess[c], members.fitness[best], members.excess[best])) best = c;
    }
    return best;
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
    batch.rows.count = count;
    const seeding = filled < population;
    for (let i = 0; i < count; i++) {
      if (seeding) mutator.randomize(batch.rows, i);
      else {
        copyRow(members, winner(), batch.rows, i, globalCount, maxDepth);
        if (random() < 0.5) mutator.crossover(batch.rows, i, members, winner());
        mutator.mutate(batch.rows, i);
      }
    }
    space.score(batch.rows, batch.out);
    for (let i = 0; i < count; i++) record(i);
    evaluations += count;
    yield { evaluations, best: topList.entries };
  }
  return { best: topList.entries, evaluations };
}

/** Uniformly random candidates: the baseline. */
export function* randomSearch(space: CompiledSpace, options: PopulationSearchOptions): Generator<Progress, Progress> {
  const globalCount = space.globalFields.length;
  const { maxDepth, depths } = space;
  const batch = new Batch(1024, globalCount, maxDepth);
  const mutator = makeMutator(space, options.random);
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
  const mutator = makeMutator(space, random);
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
