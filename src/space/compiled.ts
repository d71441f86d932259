/**
 * Compiled search spaces: the fast path for millions of candidates, for every family.
 *
 * A space (src/space/definition.ts) compiles to tables. A context is one combination of the layer-shaping global
 * choices and one layer count; a layer kind is one combination of the per-layer choices. For every (context, kind)
 * the layer's attention and FFN capacities, its parameters and its forward FLOPs are computed ONCE, by building
 * probe candidates with the family's ordinary builder and scoring them through the ordinary scorer and cache (so
 * every measure, mode, init and cache works as on the object path). Per (context, embedding-global combination) a
 * base holds the parameters outside the layers. A candidate is then a row of choice indices and its values sums of
 * table entries, summed in the object path's order, so the two agree bit for bit; the final score goes through the
 * shared `combine` of src/proxy/alpha.ts.
 *
 * What compiling checks (and refuses with E_UNSUPPORTED when a space breaks it): a layer's capacities do not depend
 * on its position, nor on the embedding globals; the parameter count of a layer depends on its position by the same
 * amount for every kind (a final LayerNorm on the last layer, say), which the base absorbs. Seed policy 'position'
 * (every matrix a draw of its own, by name) is refused: its capacities differ per position by design.
 *
 * The tables are exposed for exact search (a knapsack over layers for each context): `tables.attention[c * kinds + k]`
 * and so on, and `tables.base[c * embeddingCombinations + e]`.
 */
import { buildPlan } from '../arch';
import { defaultSequenceLength, layerForwardFlops } from '../arch/flops';
import type { BuildName, ModelPlan } from '../arch/types';
import { ZeroLMError } from '../errors';
import { combine, type CombinationRule } from '../proxy/alpha';
import { componentsOfPlans, resolveScoreOptions, type ResolvedScoreOptions, type ScoreOptions } from '../proxy/score';
import { applyChoice, builtinSpace, composeArchitecture, readSpaceDefinition, type Choices, type SpaceDefinition } from './definition';

export interface CompileOptions extends ScoreOptions {
  /** Sequence length of the FLOPs column (default: the family's, see src/arch/flops.ts). */
  sequenceLength?: number;
}

/** Per-candidate choice indices, one row per candidate. */
export interface SpaceCandidates {
  count: number;
  /** count x globalFields.length: the index of each global choice (layer-shaping globals, then embedding globals). */
  globals: Uint32Array;
  /** Per candidate: index into depths. */
  depth: Uint32Array;
  /** count x maxDepth: each layer's kind (see kindOf); slots past the candidate's depth are ignored. */
  layers: Uint32Array;
}

export interface SpaceScores {
  score: Float64Array;
  attention: Float64Array;
  ffn: Float64Array;
  params: Float64Array;
  nonEmbeddingParams: Float64Array;
  flops: Float64Array;
}

export interface SpaceTables {
  /** Contexts: layer-shaping global combinations x depths (context = combination * depths.length + depthIndex). */
  contexts: number;
  kinds: number;
  embeddingCombinations: number;
  /** Per (context, kind), at context * kinds + kind; NaN where the builder refuses the layer in that context. */
  attention: Float64Array;
  ffn: Float64Array;
  params: Float64Array;
  flops: Float64Array;
  /** Per (context, embedding combination): parameters outside the layers' own (embeddings, heads, position terms). */
  base: Float64Array;
  /** Per (context, embedding combination): the embedding parameters (total - embedding = non-embedding). */
  embedding: Float64Array;
}

/**
 * The tables as `score` reads them, for a search that evaluates one candidate at a time in its own loop (evolution):
 * a candidate's context is its layer-shaping global indices in mixed radix times the number of depths plus its depth
 * index; its layers' entries are at 4 * (rowOfContext[context] * kinds + kind): attention, FFN, parameters, FLOPs,
 * side by side. Its base and embedding parameters are at context * embeddingCombinations + its embedding combination.
 * Summing the entries in layer order gives exactly what `score` gives.
 */
export interface PackedTables {
  readonly entries: Float64Array;
  readonly rowOfContext: Uint32Array;
  /** Layer count of each depth index. */
  readonly depthValues: Uint32Array;
  /** Size of each global field (layer-shaping ones first). */
  readonly globalSizes: Uint32Array;
  readonly layerGlobalCount: number;
  readonly kinds: number;
  readonly embeddingCombinations: number;
  readonly base: Float64Array;
  readonly embedding: Float64Array;
}

export interface CompiledSpace {
  readonly definition: SpaceDefinition;
  readonly alpha: number;
  readonly rule: CombinationRule;
  /** Global fields in index order: layer-shaping globals, then embedding globals. */
  readonly globalFields: readonly string[];
  readonly globalSizes: readonly number[];
  readonly depths: readonly number[];
  readonly maxDepth: number;
  readonly layerFields: readonly string[];
  readonly layerSizes: readonly number[];
  readonly tables: SpaceTables;
  readonly packed: PackedTables;
  /** The kind of a layer from its choice indices (one per layer field, in order). */
  kindOf(choiceIndices: ArrayLike<number>): number;
  /** The choice indices of a kind. */
  choicesOfKind(kind: number): number[];
  /** The context of a candidate's global indices (layer-shaping ones) and depth index. */
  contextOf(globalIndices: ArrayLike<number>, depthIndex: number): number;
  /** The embedding combination of a candidate's global indices. */
  embeddingCombinationOf(globalIndices: ArrayLike<number>): number;
  /** Scores many candidates: typed arrays in, typed arrays out (reused when given). */
  score(candidates: SpaceCandidates, out?: SpaceScores): SpaceScores;
  /** Candidate i as its family's input (the object the builder reads; `zerolm score` scores it to the same values). */
  architectureOf(candidates: SpaceCandidates, i: number, id?: string): Record<string, unknown>;
  /** Uniformly random candidates (seeded), for benchmarks and tests. */
  randomCandidates(count: number, random: () => number): SpaceCandidates;
}

function sizesOf(choices: Choices | undefined): { fields: string[]; sizes: number[] } {
  const fields = Object.keys(choices ?? {});
  return { fields, sizes: fields.map((field) => (choices as Choices)[field].length) };
}

function product(sizes: readonly number[]): number {
  return sizes.reduce((a, b) => a * b, 1);
}

/** Mixed-radix digits of `index` (first field most significant). */
export function digits(index: number, sizes: readonly number[]): number[] {
  const out = new Array<number>(sizes.length);
  for (let f = sizes.length - 1; f >= 0; f--) {
    out[f] = index % sizes[f];
    index = Math.floor(index / sizes[f]);
  }
  return out;
}

function valuesOf(choices: Choices | undefined, fields: readonly string[], indices: readonly number[]): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  fields.forEach((field, f) => applyChoice(target, field, (choices as Choices)[field][indices[f]]));
  return target;
}

function unsupported(message: string): ZeroLMError {
  return new ZeroLMError('E_UNSUPPORTED', message, { field: 'space' });
}

/** Builds a probe, or undefined when the builder refuses it (a choice invalid in this context). */
function tryBuild(architecture: Record<string, unknown>, definition: SpaceDefinition): ModelPlan | undefined {
  try {
    return buildPlan(architecture, { family: definition.family, build: definition.build as BuildName | undefined });
  } catch (cause) {
    if (cause instanceof ZeroLMError && (cause.code === 'E_FORMAT' || cause.code === 'E_UNSUPPORTED' || cause.code === 'E_SHAPE')) return undefined;
    throw cause;
  }
}

/** Compiles a space: a built-in name, a definition, or a space file's parsed JSON (checked field by field). */
export async function compileSpace(space: string | SpaceDefinition | unknown, options: CompileOptions = {}): Promise<CompiledSpace> {
  const definition = typeof space === 'string' ? builtinSpace(space) : readSpaceDefinition(space);
  const resolved = resolveScoreOptions({ ...options, family: definition.family, build: (definition.build as BuildName | undefined) ?? options.build });
  if (resolved.seedPolicy === 'position') {
    throw new ZeroLMError('E_UNSUPPORTED', "compiled spaces need seedPolicy 'shape': under 'position' every matrix is a draw of its own, so a layer kind's capacities differ by position; score such candidates with score()/scoreMany", { field: 'seedPolicy' });
  }
  const sequenceLength = options.sequenceLength ?? defaultSequenceLength(definition.family);
  if (!Number.isInteger(sequenceLength) || sequenceLength < 1) {
    throw new ZeroLMError('E_ARGUMENT', `sequenceLength must be a positive integer, got ${String(options.sequenceLength)}`, { field: 'sequenceLength' });
  }
  const layerGlobals = sizesOf(definition.globals);
  const embeddingGlobals = sizesOf(definition.embeddingGlobals);
  const layerChoices = sizesOf(definition.layerChoices);
  const depths = definition.depths;
  const kinds = product(layerChoices.sizes);
  const layerCombinations = product(layerGlobals.sizes);
  const embeddingCombinations = product(embeddingGlobals.sizes);
  const contexts = layerCombinations * depths.length;
  if (contexts * kinds > 50_000_000) throw new ZeroLMError('E_ARGUMENT', `space has ${contexts} contexts x ${kinds} layer kinds: too many table entries to compile (at most 5e7)`, { field: 'space' });
  const tables: SpaceTables = {
    contexts,
    kinds,
    embeddingCombinations,
    attention: new Float64Array(contexts * kinds).fill(NaN),
    ffn: new Float64Array(contexts * kinds).fill(NaN),
    params: new Float64Array(contexts * kinds).fill(NaN),
    flops: new Float64Array(contexts * kinds).fill(NaN),
    base: new Float64Array(contexts * embeddingCombinations).fill(NaN),
    embedding: new Float64Array(contexts * embeddingCombinations).fill(NaN),
  };
  const kindLayers = Array.from({ length: kinds }, (_, k) => valuesOf(definition.layerChoices, layerChoices.fields, digits(k, layerChoices.sizes)));
  const embeddingValues = Array.from({ length: embeddingCombinations }, (_, e) => valuesOf(definition.embeddingGlobals, embeddingGlobals.fields, digits(e, embeddingGlobals.sizes)));

  for (let g = 0; g < layerCombinations; g++) {
    const globals = valuesOf(definition.globals, layerGlobals.fields, digits(g, layerGlobals.sizes));
    for (let d = 0; d < depths.length; d++) {
      await compileContext(g * depths.length + d, depths[d]);
    }

    async function compileContext(context: number, depth: number): Promise<void> {
      const compose = (layerKinds: readonly number[], embedding: number): Record<string, unknown> =>
        composeArchitecture(definition, { ...globals, ...embeddingValues[embedding] }, layerKinds.map((k) => kindLayers[k]));
      // Rotation probes: each kind once, at some position; a probe the builder refuses is split into uniform ones.
      const probes: Array<{ plan: ModelPlan; layerKinds: number[] }> = [];
      for (let first = 0; first < kinds; first += depth) {
        const layerKinds = Array.from({ length: depth }, (_, j) => (first + j) % kinds);
        const plan = tryBuild(compose(layerKinds, 0), definition);
        if (plan !== undefined) probes.push({ plan, layerKinds });
        else {
          for (let k = first; k < Math.min(kinds, first + depth); k++) {
            const uniform = new Array<number>(depth).fill(k);
            const alone = tryBuild(compose(uniform, 0), definition);
            if (alone !== undefined) probes.push({ plan: alone, layerKinds: uniform });
          }
        }
      }
      if (probes.length === 0) return; // no valid layer in this context: its entries stay NaN
      // Uniform probes of one valid kind, one per embedding combination: the base, and the position terms.
      const reference = probes[0].layerKinds[0];
      const uniformKinds = new Array<number>(depth).fill(reference);
      const uniforms: Array<ModelPlan | undefined> = embeddingValues.map((_, e) => tryBuild(compose(uniformKinds, e), definition));
      const plans = [...probes.map((p) => p.plan), ...uniforms.filter((u): u is ModelPlan => u !== undefined)];
      const components = await componentsOfPlans(plans, resolved);
      const uniform0 = uniforms[0];
      if (uniform0 === undefined) return;
      const layerParams = (plan: ModelPlan, j: number): number => plan.layers[j].params.attention + plan.layers[j].params.ffn + plan.layers[j].params.other;
      // How much a position adds to a layer's parameters (the same for every kind, checked below).
      const positionTerm = Array.from({ length: depth }, (_, j) => layerParams(uniform0, j) - layerParams(uniform0, 0));
      probes.forEach((probe, p) => {
        probe.layerKinds.forEach((k, j) => {
          const e = context * kinds + k;
          const layer = components[p].layers[j];
          if (!Number.isNaN(tables.attention[e]) && (tables.attention[e] !== layer.attention || tables.ffn[e] !== layer.ffn)) {
            throw unsupported(`layer kind ${k} has different capacities at different positions (context ${context}): this space's layers depend on where they sit`);
          }
          tables.attention[e] = layer.attention;
          tables.ffn[e] = layer.ffn;
          tables.params[e] = layerParams(probe.plan, j) - positionTerm[j];
          tables.flops[e] = layerForwardFlops(probe.plan.layers[j], sequenceLength);
        });
      });
      const referenceEntry = context * kinds + reference;
      uniforms.forEach((plan, e) => {
        if (plan === undefined) return;
        const scored = components[probes.length + uniforms.slice(0, e).filter((u) => u !== undefined).length];
        for (const layer of scored.layers) {
          if (layer.attention !== tables.attention[referenceEntry] || layer.ffn !== tables.ffn[referenceEntry]) {
            throw unsupported(`the embedding globals (${embeddingGlobals.fields.join(', ')}) change the layers' capacities: list them under "globals"`);
          }
        }
        tables.base[context * embeddingCombinations + e] = plan.params.total - depth * tables.params[referenceEntry];
        tables.embedding[context * embeddingCombinations + e] = plan.params.embedding;
      });
      // Every probe's total must be the base plus its kinds' entries: position terms equal for every kind.
      const base0 = tables.base[context * embeddingCombinations];
      for (const probe of probes) {
        let total = base0;
        for (const k of probe.layerKinds) total += tables.params[context * kinds + k];
        if (total !== probe.plan.params.total) {
          throw unsupported(`a layer's parameter count depends on its position differently for different kinds (context ${context}); this space cannot be compiled`);
        }
      }
    }
  }
  return makeCompiledSpace(definition, resolved, tables, { layerGlobals, embeddingGlobals, layerChoices, kindLayers });
}

/**
 * The sums, candidate by candidate: a function of its own with every array an argument, so that V8 optimises this
 * loop alone (and the same entries are added in the same order as on the object path).
 */
function sumRows(
  count: number,
  contextOfCandidate: Uint32Array,
  rowOfContext: Uint32Array,
  layers: Uint32Array,
  maxDepth: number,
  depthValues: Uint32Array,
  depthCount: number,
  kinds: number,
  entries: Float64Array,
  globals: Uint32Array,
  globalCount: number,
  layerGlobalCount: number,
  sizes: Uint32Array,
  embeddingCombinations: number,
  base: Float64Array,
  embedding: Float64Array,
  alpha: number,
  rule: CombinationRule,
  score: Float64Array,
  attention: Float64Array,
  ffn: Float64Array,
  params: Float64Array,
  nonEmbeddingParams: Float64Array,
  flops: Float64Array,
): void {
  for (let i = 0; i < count; i++) {
    const context = contextOfCandidate[i];
    const n = depthValues[context % depthCount];
    const row = rowOfContext[context] * kinds;
    const slot = i * maxDepth;
    let a = 0;
    let f = 0;
    let p = 0;
    let fl = 0;
    for (let j = 0; j < n; j++) {
      const k = layers[slot + j];
      if (k >= kinds) throw new ZeroLMError('E_ARGUMENT', `layers[${slot + j}] = ${k} is out of range (${kinds} layer kinds; candidate ${i}, layer ${j})`, { field: 'layers', index: slot + j });
      const e = 4 * (row + k);
      a += entries[e];
      f += entries[e + 1];
      p += entries[e + 2];
      fl += entries[e + 3];
    }
    let embeddingCombination = 0;
    const g = i * globalCount;
    for (let x = layerGlobalCount; x < globalCount; x++) embeddingCombination = embeddingCombination * sizes[x] + globals[g + x];
    const b = context * embeddingCombinations + embeddingCombination;
    const total = base[b] + p;
    attention[i] = a;
    ffn[i] = f;
    params[i] = total;
    nonEmbeddingParams[i] = total - embedding[b];
    flops[i] = fl;
    score[i] = combine(a, f, alpha, rule);
  }
}

function makeCompiledSpace(
  definition: SpaceDefinition,
  resolved: ResolvedScoreOptions,
  tables: SpaceTables,
  shape: { layerGlobals: { fields: string[]; sizes: number[] }; embeddingGlobals: { fields: string[]; sizes: number[] }; layerChoices: { fields: string[]; sizes: number[] }; kindLayers: Array<Record<string, unknown>> },
): CompiledSpace {
  const { layerGlobals, embeddingGlobals, layerChoices, kindLayers } = shape;
  const depths = [...definition.depths];
  const maxDepth = Math.max(...depths);
  const globalFields = [...layerGlobals.fields, ...embeddingGlobals.fields];
  const globalSizes = [...layerGlobals.sizes, ...embeddingGlobals.sizes];
  const layerGlobalCount = layerGlobals.fields.length;
  const globalCount = globalFields.length;
  const { kinds, embeddingCombinations, attention, ffn, params, flops, base, embedding } = tables;
  const depthCount = depths.length;
  const depthValues = Uint32Array.from(depths);
  const sizes = Uint32Array.from(globalSizes);
  const { alpha, rule } = resolved;
  // The four entries of a (context, kind) side by side: a candidate's layer costs one cache line, not four. Contexts
  // whose rows are identical (layers that do not depend on the layer count, say) share one row, so the rows scoring
  // touches stay few enough to stay in cache.
  const rowOfContext = new Uint32Array(tables.contexts);
  const rowBits = new Int32Array(attention.buffer);
  const rowsByHash = new Map<number, number[]>();
  const uniqueContexts: number[] = [];
  const sameRow = (a: number, b: number): boolean => {
    for (let k = 0; k < kinds; k++) {
      const x = a * kinds + k;
      const y = b * kinds + k;
      if (!Object.is(attention[x], attention[y]) || !Object.is(ffn[x], ffn[y]) || !Object.is(params[x], params[y]) || !Object.is(flops[x], flops[y])) return false;
    }
    return true;
  };
  for (let c = 0; c < tables.contexts; c++) {
    let h = 0x811c9dc5;
    for (let w = 2 * c * kinds; w < 2 * (c + 1) * kinds; w++) h = Math.imul(h ^ rowBits[w], 0x01000193);
    const candidates = rowsByHash.get(h) ?? [];
    const match = candidates.find((row) => sameRow(uniqueContexts[row], c));
    if (match !== undefined) rowOfContext[c] = match;
    else {
      rowOfContext[c] = uniqueContexts.length;
      candidates.push(uniqueContexts.length);
      rowsByHash.set(h, candidates);
      uniqueContexts.push(c);
    }
  }
  const entries = new Float64Array(uniqueContexts.length * kinds * 4);
  uniqueContexts.forEach((c, row) => {
    for (let k = 0; k < kinds; k++) {
      const e = c * kinds + k;
      const o = 4 * (row * kinds + k);
      entries[o] = attention[e];
      entries[o + 1] = ffn[e];
      entries[o + 2] = params[e];
      entries[o + 3] = flops[e];
    }
  });

  const contextOf = (globalIndices: ArrayLike<number>, depthIndex: number): number => {
    let combination = 0;
    for (let f = 0; f < layerGlobalCount; f++) combination = combination * sizes[f] + globalIndices[f];
    return combination * depthCount + depthIndex;
  };
  const embeddingCombinationOf = (globalIndices: ArrayLike<number>): number => {
    let combination = 0;
    for (let f = layerGlobalCount; f < globalCount; f++) combination = combination * sizes[f] + globalIndices[f];
    return combination;
  };

  function checkCandidates(candidates: SpaceCandidates): void {
    const { count } = candidates;
    if (!Number.isInteger(count) || count < 0) throw new ZeroLMError('E_ARGUMENT', `count must be a non-negative integer, got ${String(count)}`, { field: 'count' });
    const expect = (field: 'globals' | 'depth' | 'layers', length: number): void => {
      const column = candidates[field];
      if (!(column instanceof Uint32Array) || column.length < length) throw new ZeroLMError('E_ARGUMENT', `${field} must be a Uint32Array of at least ${length} values`, { field });
    };
    expect('globals', count * globalCount);
    expect('depth', count);
    expect('layers', count * maxDepth);
  }

  let contextScratch = new Uint32Array(0);
  const scratch = (count: number): Uint32Array => (contextScratch.length >= count ? contextScratch : (contextScratch = new Uint32Array(count)));

  /** Candidate i's context, its indices checked. */
  function candidateContext(globals: Uint32Array, depth: Uint32Array, i: number): number {
    const g = i * globalCount;
    let combination = 0;
    for (let f = 0; f < globalCount; f++) {
      const index = globals[g + f];
      if (index >= sizes[f]) throw new ZeroLMError('E_ARGUMENT', `globals[${g + f}] = ${index} is out of range for ${globalFields[f]} (candidate ${i})`, { field: 'globals', index: g + f });
      if (f < layerGlobalCount) combination = combination * sizes[f] + index;
    }
    const d = depth[i];
    if (d >= depthCount) throw new ZeroLMError('E_ARGUMENT', `depth[${i}] = ${d} is out of range (${depthCount} depths)`, { field: 'depth', index: i });
    return combination * depthCount + d;
  }

  /** Fills each candidate's context, its indices checked. */
  function contextsOf(count: number, globals: Uint32Array, depth: Uint32Array, contextOfCandidate: Uint32Array): void {
    for (let i = 0; i < count; i++) contextOfCandidate[i] = candidateContext(globals, depth, i);
  }

  function score(candidates: SpaceCandidates, out?: SpaceScores): SpaceScores {
    checkCandidates(candidates);
    const { count, globals, depth, layers } = candidates;
    const result = out ?? { score: new Float64Array(count), attention: new Float64Array(count), ffn: new Float64Array(count), params: new Float64Array(count), nonEmbeddingParams: new Float64Array(count), flops: new Float64Array(count) };
    for (const field of ['score', 'attention', 'ffn', 'params', 'nonEmbeddingParams', 'flops'] as const) {
      if (!(result[field] instanceof Float64Array) || result[field].length < count) throw new ZeroLMError('E_ARGUMENT', `out.${field} must be a Float64Array of at least ${count} values`, { field: `out.${field}` });
    }
    const contextOfCandidate = scratch(count);
    contextsOf(count, globals, depth, contextOfCandidate);
    sumRows(count, contextOfCandidate, rowOfContext, layers, maxDepth, depthValues, depthCount, kinds, entries, globals, globalCount, layerGlobalCount, sizes, embeddingCombinations, base, embedding, alpha, rule, result.score, result.attention, result.ffn, result.params, result.nonEmbeddingParams, result.flops);
    return result;
  }

  return {
    definition,
    alpha,
    rule,
    globalFields,
    globalSizes,
    depths,
    maxDepth,
    layerFields: layerChoices.fields,
    layerSizes: layerChoices.sizes,
    tables,
    packed: { entries, rowOfContext, depthValues, globalSizes: sizes, layerGlobalCount, kinds, embeddingCombinations, base, embedding },
    kindOf(choiceIndices: ArrayLike<number>): number {
      let kind = 0;
      layerChoices.sizes.forEach((size, f) => {
        const index = choiceIndices[f];
        if (!Number.isInteger(index) || index < 0 || index >= size) throw new ZeroLMError('E_ARGUMENT', `choice ${layerChoices.fields[f]} index ${String(index)} is out of range (0 to ${size - 1})`, { field: layerChoices.fields[f] });
        kind = kind * size + index;
      });
      return kind;
    },
    choicesOfKind: (kind: number) => digits(kind, layerChoices.sizes),
    contextOf,
    embeddingCombinationOf,
    score,
    architectureOf(candidates: SpaceCandidates, i: number, id?: string): Record<string, unknown> {
      const indices = Array.from(candidates.globals.subarray(i * globalCount, (i + 1) * globalCount));
      const globals: Record<string, unknown> = {};
      globalFields.forEach((field, f) => applyChoice(globals, field, (f < layerGlobalCount ? definition.globals : definition.embeddingGlobals)?.[field][indices[f]]));
      const n = depths[candidates.depth[i]];
      const layers = Array.from({ length: n }, (_, j) => kindLayers[candidates.layers[i * maxDepth + j]]);
      return composeArchitecture(definition, globals, layers, id);
    },
    randomCandidates(count: number, random: () => number): SpaceCandidates {
      const candidates: SpaceCandidates = { count, globals: new Uint32Array(count * globalCount), depth: new Uint32Array(count), layers: new Uint32Array(count * maxDepth) };
      for (let i = 0; i < count; i++) {
        for (let f = 0; f < globalCount; f++) candidates.globals[i * globalCount + f] = Math.floor(random() * globalSizes[f]);
        candidates.depth[i] = Math.floor(random() * depthCount);
        for (let j = 0; j < maxDepth; j++) candidates.layers[i * maxDepth + j] = Math.floor(random() * kinds);
      }
      return candidates;
    },
  };
}
