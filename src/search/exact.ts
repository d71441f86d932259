/**
 * Exact search over a compiled space. A context (one layer-shaping global choice and one depth) fixes everything
 * but the layers' kinds and the embedding globals; its layers are interchangeable (compiling checks that a layer's
 * values do not depend on its position), so a candidate is a multiset of n kinds and the problem is a
 * multiple-choice knapsack: n slots, each one kind, with the parameter (and non-embedding, FLOPs) budgets as
 * capacities.
 *
 * - weighted-sum rule: the score alpha * sum a + (1 - alpha) * sum f adds up over layers; the dynamic programme keeps,
 *   per exact parameter sum, the best sum (and the FLOPs when a FLOPs budget is given, as a second coordinate).
 * - geometric rule (S_attn^alpha * S_ffn^(1 - alpha), 0 <= alpha <= 1, capacities >= 0): the score does not add up,
 *   but it increases with both sums, which do; per exact parameter sum the programme keeps the Pareto set of
 *   (sum a, sum f[, -FLOPs]) and takes the best product at the end. Nothing is bucketed inexactly: parameter counts
 *   are integers and are keyed exactly.
 *
 * Pruning keeps it exact: a partial state is dropped only when an upper bound on every completion is below the best
 * complete candidate found so far. The bound of r more layers with R parameters left is r times the upper concave
 * envelope of the kinds' (params, value) points at R / r (the LP relaxation), per coordinate; contexts are visited
 * in order of their bound, and a context whose bound is below the incumbent is skipped whole.
 */
import { ZeroLMError } from '../errors';
import { combine } from '../proxy/alpha';
import type { CompiledSpace } from '../space';
import { digits } from '../space/compiled';
import type { Budgets } from './budget';

export interface Candidate {
  globals: number[];
  depth: number;
  layers: number[];
}

export interface ExactOutcome {
  /** The best candidate of each of the best contexts, best first (at most `top`); the first is the optimum. */
  picks: Candidate[];
  contexts: number;
  contextsSkipped: number;
  states: number;
}

/** Why exact search does not apply to this space and objective, or undefined when it does. */
export function exactDoesNotApply(space: CompiledSpace, objectives: readonly string[]): string | undefined {
  if (objectives.length > 1) return `several objectives (${objectives.join(', ')}): the Pareto set is searched by evolution (NSGA-II)`;
  if (space.rule === 'geometric') {
    if (space.alpha < 0 || space.alpha > 1) return `the geometric rule with alpha ${space.alpha} outside [0, 1] does not increase with both capacities`;
    const { attention, ffn } = space.tables;
    for (let e = 0; e < attention.length; e++) {
      if (attention[e] < 0 || ffn[e] < 0) return 'a layer has a negative capacity under this measure: the geometric score of summed capacities is not monotone';
    }
  }
  return undefined;
}

/** Upper concave envelope of (x, y) points, made non-decreasing: the best average y at average x at most X. */
function envelope(xs: ArrayLike<number>, ys: ArrayLike<number>): (x: number) => number {
  const order = Array.from({ length: xs.length }, (_, i) => i).sort((a, b) => xs[a] - xs[b] || ys[b] - ys[a]);
  const hx: number[] = [];
  const hy: number[] = [];
  for (const i of order) {
    const x = xs[i];
    const y = ys[i];
    if (hx.length > 0 && hx[hx.length - 1] === x) continue; // same x, lower y (sorted)
    while (hx.length >= 2) {
      const n = hx.length;
      // Drop the middle point when it lies on or below the chord.
      if ((hy[n - 1] - hy[n - 2]) * (x - hx[n - 2]) <= (y - hy[n - 2]) * (hx[n - 1] - hx[n - 2])) {
        hx.pop();
        hy.pop();
      } else break;
    }
    hx.push(x);
    hy.push(y);
  }
  let top = 0;
  for (let i = 1; i < hy.length; i++) if (hy[i] > hy[top]) top = i;
  hx.length = top + 1;
  hy.length = top + 1;
  return (x: number): number => {
    if (!(x >= hx[0])) return -Infinity;
    if (x >= hx[hx.length - 1]) return hy[hy.length - 1];
    let low = 0;
    let high = hx.length - 1;
    while (high - low > 1) {
      const mid = (low + high) >> 1;
      if (hx[mid] <= x) low = mid;
      else high = mid;
    }
    const t = (x - hx[low]) / (hx[high] - hx[low]);
    // Rounding must not make the bound smaller than the true envelope: take the larger end's share generously.
    return Math.max(hy[low] + t * (hy[high] - hy[low]), hy[low]);
  };
}

/** Yields after each context (contexts done, contexts in all); returns the outcome. */
export function* solveExact(
  space: CompiledSpace,
  budgets: Budgets,
  top = 1,
  signal?: AbortSignal,
  memory?: { kv: Float64Array; bytesPerValue: number; maxKvBytes?: number; maxBytesMoved?: number; maxFlops?: number; fits?: (params: number, flops: number, kv: number) => boolean },
): Generator<{ done: number; total: number }, ExactOutcome> {
  const { tables, depths, alpha, rule } = space;
  const { kinds, embeddingCombinations } = tables;
  const layerGlobalCount = Object.keys(space.definition.globals ?? {}).length;
  const layerSizes = space.globalSizes.slice(0, layerGlobalCount);
  const embeddingSizes = space.globalSizes.slice(layerGlobalCount);
  const weighted = rule === 'weighted-sum';
  const objective = (v0: number, v1: number): number => (weighted ? v0 : combine(v0, v1, alpha, 'geometric'));
  const maxFlops = memory?.maxFlops ?? budgets.maxFlops;
  // KV bytes are a third additive resource when a KV or latency budget is given; bytes moved = b x params + KV.
  const maxKv = memory?.maxKvBytes;
  const maxMoved = memory?.maxBytesMoved;
  const withKv = memory !== undefined && (maxKv !== undefined || maxMoved !== undefined);
  const bytesPerValue = memory?.bytesPerValue ?? 0;
  // The exact check of a complete candidate (the latency formula, the FLOPs budget as given), where limits were widened.
  const fits = memory?.fits ?? ((): boolean => true);
  const kvOf = (x: number): number => (withKv ? (memory as { kv: Float64Array }).kv[x] : 0);
  const withFlops = maxFlops !== undefined;
  const tolerance = (value: number): number => value - 1e-9 * Math.max(1, Math.abs(value));

  interface Prepared {
    context: number;
    n: number;
    lo: number[];
    hi: number[];
    embeddings: number[];
    items: { p: Float64Array; fl: Float64Array; kv: Float64Array; v0: Float64Array; v1: Float64Array; kind: Uint32Array };
    minKv: number;
    /** Per listed embedding combination: the most bytes moved the layers may add (b x layer params + KV). */
    movedLeft: number[];
    env0: (x: number) => number;
    env1: (x: number) => number;
    minP: number;
    maxP: number;
    minFl: number;
    hiMax: number;
    loMin: number;
    bound: number;
  }

  const prepared: Prepared[] = [];
  for (let c = 0; c < tables.contexts; c++) {
    const n = depths[c % depths.length];
    const lo: number[] = [];
    const hi: number[] = [];
    const embeddings: number[] = [];
    const movedLeft: number[] = [];
    for (let e = 0; e < embeddingCombinations; e++) {
      const base = tables.base[c * embeddingCombinations + e];
      if (Number.isNaN(base)) continue;
      let high = Infinity;
      if (budgets.maxParams !== undefined) high = Math.min(high, budgets.maxParams - base);
      if (budgets.maxNonEmbeddingParams !== undefined) high = Math.min(high, budgets.maxNonEmbeddingParams - (base - tables.embedding[c * embeddingCombinations + e]));
      const low = budgets.minParams !== undefined ? budgets.minParams - base : -Infinity;
      if (high < low) continue;
      lo.push(low);
      hi.push(high);
      embeddings.push(e);
      movedLeft.push(maxMoved === undefined ? Infinity : maxMoved - bytesPerValue * base);
    }
    if (embeddings.length === 0) continue;
    // Kinds with the same params and FLOPs: only those not dominated in value matter.
    const groups = new Map<string, number[]>();
    for (let k = 0; k < kinds; k++) {
      const x = c * kinds + k;
      if (Number.isNaN(tables.attention[x]) || Number.isNaN(tables.params[x]) || Number.isNaN(kvOf(x))) continue;
      const key = `${tables.params[x]}/${withFlops ? tables.flops[x] : 0}/${kvOf(x)}`;
      const v0 = weighted ? alpha * tables.attention[x] + (1 - alpha) * tables.ffn[x] : tables.attention[x];
      const v1 = weighted ? 0 : tables.ffn[x];
      const group = groups.get(key) ?? [];
      if (group.some((j) => {
        const y = c * kinds + j;
        const w0 = weighted ? alpha * tables.attention[y] + (1 - alpha) * tables.ffn[y] : tables.attention[y];
        const w1 = weighted ? 0 : tables.ffn[y];
        return w0 >= v0 && w1 >= v1;
      })) continue;
      groups.set(key, [...group.filter((j) => {
        const y = c * kinds + j;
        const w0 = weighted ? alpha * tables.attention[y] + (1 - alpha) * tables.ffn[y] : tables.attention[y];
        const w1 = weighted ? 0 : tables.ffn[y];
        return !(v0 >= w0 && v1 >= w1);
      }), k]);
    }
    const chosen = [...groups.values()].flat().sort((a, b) => a - b);
    if (chosen.length === 0) continue;
    const items = {
      p: Float64Array.from(chosen, (k) => tables.params[c * kinds + k]),
      fl: Float64Array.from(chosen, (k) => tables.flops[c * kinds + k]),
      kv: Float64Array.from(chosen, (k) => kvOf(c * kinds + k)),
      v0: Float64Array.from(chosen, (k) => (weighted ? alpha * tables.attention[c * kinds + k] + (1 - alpha) * tables.ffn[c * kinds + k] : tables.attention[c * kinds + k])),
      v1: Float64Array.from(chosen, (k) => (weighted ? 0 : tables.ffn[c * kinds + k])),
      kind: Uint32Array.from(chosen),
    };
    const minP = Math.min(...items.p);
    const maxP = Math.max(...items.p);
    const minFl = Math.min(...items.fl);
    const minKv = Math.min(...items.kv);
    const hiMax = Math.max(...hi);
    const loMin = Math.min(...lo);
    if (minP * n > hiMax || maxP * n < loMin || (withFlops && minFl * n > (maxFlops as number))) continue;
    if (withKv && ((maxKv !== undefined && minKv * n > maxKv) || n * (bytesPerValue * minP + minKv) > Math.max(...movedLeft))) continue;
    const env0 = envelope(items.p, items.v0);
    const env1 = envelope(items.p, items.v1);
    let limit = -Infinity;
    for (let x = 0; x < lo.length; x++) if (lo[x] <= n * maxP && hi[x] > limit) limit = hi[x];
    if (limit < n * minP) continue;
    const bound = objective(n * env0(Math.min(limit, n * maxP) / n), n * env1(Math.min(limit, n * maxP) / n));
    prepared.push({ context: c, n, lo, hi, embeddings, items, minKv, movedLeft, env0, env1, minP, maxP, minFl, hiMax, loMin, bound });
  }
  prepared.sort((a, b) => b.bound - a.bound || a.context - b.context);

  // The best complete candidate of each solved context.
  const found: Array<{ value: number; candidate: Candidate }> = [];
  const threshold = (): number => (found.length < top ? -Infinity : tolerance(found[top - 1].value));
  let states = 0;
  let skipped = 0;
  for (let index = 0; index < prepared.length; index++) {
    if (signal?.aborted) break;
    yield { done: index, total: prepared.length };
    const ctx = prepared[index];
    if (ctx.bound < threshold()) {
      skipped++;
      continue;
    }
    const solved = solveContext(ctx);
    if (solved !== undefined) {
      found.push(solved);
      found.sort((a, b) => b.value - a.value);
      if (found.length > top) found.length = top;
    }
  }
  return { picks: found.map((f) => f.candidate), contexts: prepared.length, contextsSkipped: skipped, states };

  /**
   * A good feasible value of a context by local search: the best uniform choice, then single-layer replacements while
   * they improve. Only a threshold: the programme still proves (or finds better than) it.
   */
  function incumbent(ctx: Prepared): number {
    const { n, items, lo, hi, movedLeft } = ctx;
    const count = items.p.length;
    const feasible = (p: number, fl: number, kv: number): boolean => {
      if (withFlops && fl > (maxFlops as number)) return false;
      if (maxKv !== undefined && kv > maxKv) return false;
      for (let x = 0; x < lo.length; x++) {
        if (lo[x] <= p && p <= hi[x] && bytesPerValue * p + kv <= movedLeft[x] && fits(tables.base[ctx.context * embeddingCombinations + ctx.embeddings[x]] + p, fl, kv)) return true;
      }
      return false;
    };
    let start = -1;
    let startValue = -Infinity;
    for (let t = 0; t < count; t++) {
      if (!feasible(n * items.p[t], n * items.fl[t], n * items.kv[t])) continue;
      const value = objective(n * items.v0[t], n * items.v1[t]);
      if (value > startValue) {
        startValue = value;
        start = t;
      }
    }
    if (start < 0) return -Infinity;
    const chosen = new Array<number>(n).fill(start);
    let p = n * items.p[start];
    let fl = n * items.fl[start];
    let kv = n * items.kv[start];
    let v0 = n * items.v0[start];
    let v1 = n * items.v1[start];
    let value = startValue;
    for (let pass = 0; pass < 8; pass++) {
      let improved = false;
      for (let slot = 0; slot < n; slot++) {
        const u = chosen[slot];
        let bestT = -1;
        for (let t = 0; t < count; t++) {
          const np = p - items.p[u] + items.p[t];
          const nfl = fl - items.fl[u] + items.fl[t];
          const nkv = kv - items.kv[u] + items.kv[t];
          if (!feasible(np, nfl, nkv)) continue;
          const candidate = objective(v0 - items.v0[u] + items.v0[t], v1 - items.v1[u] + items.v1[t]);
          if (candidate > value) {
            value = candidate;
            bestT = t;
          }
        }
        if (bestT >= 0) {
          p += items.p[bestT] - items.p[u];
          fl += items.fl[bestT] - items.fl[u];
          kv += items.kv[bestT] - items.kv[u];
          v0 += items.v0[bestT] - items.v0[u];
          v1 += items.v1[bestT] - items.v1[u];
          chosen[slot] = bestT;
          improved = true;
        }
      }
      if (!improved) break;
    }
    return value;
  }

  function solveContext(ctx: Prepared): { value: number; candidate: Candidate } | undefined {
    const { n, items, env0, env1, minP, maxP, minFl, minKv, movedLeft, hiMax, loMin, lo, hi, embeddings } = ctx;
    const movedMax = Math.max(...movedLeft);
    // The lowest window that reaches hiMax: a state that can reach it has hiMax as its limit (the common case).
    let loOfHiMax = Infinity;
    for (let x = 0; x < lo.length; x++) if (hi[x] === hiMax && lo[x] < loOfHiMax) loOfHiMax = lo[x];
    const count = items.p.length;
    // All states of all layers, side by side; parent and item give the path back.
    const P: number[] = [0];
    const FL: number[] = [0];
    const KV: number[] = [0];
    const V0: number[] = [0];
    const V1: number[] = [0];
    const parent: number[] = [-1];
    const item: number[] = [-1];
    const dead: boolean[] = [false];
    let layer: number[] = [0];
    let best = -Infinity;
    let bestState = -1;
    let bestItem = -1;
    let bestE = -1;
    // A feasible incumbent before the programme, for its bound to prune from the first layer on.
    best = tolerance(incumbent(ctx));
    const cut = (): number => Math.max(threshold(), tolerance(best));
    for (let j = 0; j < n; j++) {
      const r = n - j - 1;
      const buckets = new Map<number, number[]>();
      const next: number[] = [];
      for (const s of layer) {
        if (dead[s]) continue;
        const p0 = P[s];
        const f0 = FL[s];
        const a0 = V0[s];
        const b0 = V1[s];
        for (let t = 0; t < count; t++) {
          const p = p0 + items.p[t];
          if (p + r * minP > hiMax || p + r * maxP < loMin) continue;
          const fl = f0 + items.fl[t];
          if (withFlops && fl + r * minFl > (maxFlops as number)) continue;
          const kv = KV[s] + items.kv[t];
          if (withKv && ((maxKv !== undefined && kv + r * minKv > maxKv) || bytesPerValue * p + kv + r * (bytesPerValue * minP + minKv) > movedMax)) continue;
          const v0 = a0 + items.v0[t];
          const v1 = b0 + items.v1[t];
          if (r === 0) {
            let e = -1;
            for (let x = 0; x < lo.length; x++) {
              if (lo[x] <= p && p <= hi[x] && bytesPerValue * p + kv <= movedLeft[x] && fits(tables.base[ctx.context * embeddingCombinations + embeddings[x]] + p, fl, kv) && (e < 0 || tables.base[ctx.context * embeddingCombinations + embeddings[x]] < tables.base[ctx.context * embeddingCombinations + embeddings[e]])) e = x;
            }
            if (e < 0) continue;
            const value = objective(v0, v1);
            if (value > best) {
              best = value;
              bestState = s;
              bestItem = t;
              bestE = embeddings[e];
            }
            continue;
          }
          // The completion's total lies in one embedding's window [lo, hi] and at most `reach`: windows the layers
          // cannot reach do not widen the bound (they would when the embeddings' windows are far apart).
          const reach = p + r * maxP;
          let limit = hiMax;
          if (reach < loOfHiMax) {
            limit = -Infinity;
            for (let x = 0; x < lo.length; x++) if (lo[x] <= reach && hi[x] > limit) limit = hi[x];
          }
          if (limit < p + r * minP) continue;
          const left = (Math.min(limit, reach) - p) / r;
          const bound = objective(v0 + r * env0(left), v1 + r * env1(left));
          if (!(bound >= cut())) continue;
          let bucket = buckets.get(p);
          if (bucket === undefined) buckets.set(p, (bucket = []));
          let dominated = false;
          for (const u of bucket) {
            if (dead[u]) continue;
            if (V0[u] >= v0 && V1[u] >= v1 && (!withFlops || FL[u] <= fl) && (!withKv || KV[u] <= kv)) {
              dominated = true;
              break;
            }
          }
          if (dominated) continue;
          for (const u of bucket) if (!dead[u] && v0 >= V0[u] && v1 >= V1[u] && (!withFlops || fl <= FL[u]) && (!withKv || kv <= KV[u])) dead[u] = true;
          const id = P.length;
          P.push(p);
          FL.push(fl);
          KV.push(kv);
          V0.push(v0);
          V1.push(v1);
          parent.push(s);
          item.push(t);
          dead.push(false);
          bucket.push(id);
          next.push(id);
        }
      }
      states += next.length;
      if (P.length > 20_000_000) throw new ZeroLMError('E_MEMORY_LIMIT', `exact search kept more than 2e7 partial states in context ${ctx.context}; use --algorithm evolution`, { field: 'algorithm' });
      layer = next;
    }
    if (bestState < 0) return undefined;
    const layers: number[] = [items.kind[bestItem]];
    for (let s = bestState; s > 0; s = parent[s]) layers.push(items.kind[item[s]]);
    layers.sort((a, b) => a - b);
    const g = Math.floor(ctx.context / depths.length);
    const globals = [...digits(g, layerSizes), ...digits(bestE, embeddingSizes)];
    return { value: best, candidate: { globals, depth: ctx.context % depths.length, layers } };
  }
}
