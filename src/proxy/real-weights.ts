/**
 * Scores from real (trained or pruned) weights: a Hugging Face config's plan, each scored matrix read from a
 * safetensors checkpoint (src/io/safetensors.ts), converted to float32 by the addon (f32, f16, bf16; fused
 * projections split and pruned rows/columns sliced during the conversion), and every measure computed exactly on it.
 *
 * - Modes: only 'exact'. 'analytic' (Marchenko-Pastur expectations) and 'bidiagonal' (a random spectrum of the init's
 *   law) describe randomly initialised matrices, not these; both are refused, as is an init override.
 * - Pruning (PruneSpec): whole layers, attention heads (query heads; a key/value head of grouped-query attention goes
 *   when every query head of its group does; every attention of the layer, cross-attention included) and FFN
 *   channels (dense FFNs: rows of gate/up/wi, columns of down/wo). The sub-network is scored by reading only the
 *   kept rows and columns; no pruned copy is made. params subtracts the pruned layers and the removed weight entries
 *   (biases of removed rows are still counted).
 * - Memory: one stored tensor at a time (fused tensors are read once for their parts, into one reused buffer) and
 *   float32 batches of about 256 MiB in one reused arena, handed to the engine synchronously (spectraSync reads them
 *   in place; the async path would copy each batch). A signal is checked between matrices.
 */
import { buildPlan } from '../arch';
import type { LayerPlan, MatrixSpec } from '../arch/types';
import { isRecord } from '../arch/fields';
import { ZeroLMError, throwIfAborted } from '../errors';
import { checkOnProgress, reportProgress, type OnProgress } from '../progress';
import { WeightStore, type TensorEntry } from '../io/safetensors';
import { convertTensor, spectraSync, TENSOR_DTYPES, type SpectrumJob, type TensorDtype } from '../native';
import { pick, range, tensorRefOf, type TensorRef } from '../weights/tensor-map';
import { resolveScoreOptions, withAlpha, type Components, type LayerScore, type Score, type ScoreOptions } from './score';

/** Parts of a model to drop, by plan layer index (t5: the encoder's layers, then the decoder's). */
export interface PruneSpec {
  layers?: number[];
  /** Layer index -> query heads to drop. */
  heads?: Record<string, number[]>;
  /** Layer index -> FFN intermediate channels to drop. */
  channels?: Record<string, number[]>;
}

export interface WeightsScoreOptions extends ScoreOptions {
  /** A .safetensors file, a folder with model.safetensors, or a folder (or index file) of a sharded checkpoint. */
  weights: string;
  /** Add every matrix's capacity to the record (`matrices`). */
  perMatrix?: boolean;
  prune?: PruneSpec;
  /** float32 bytes per engine batch (default 256 MiB). */
  batchBytes?: number;
  /** After each engine batch: `{done, errors: 0, total}` in matrices (the progress contract of src/progress.ts). */
  onProgress?: OnProgress;
}

export interface MatrixCapacity {
  layer: number;
  block: 'attention' | 'ffn';
  name: string;
  tensor: string;
  rows: number;
  cols: number;
  capacity: number;
}

export type WeightsScore = Score & {
  weights: string;
  pruned?: { layers: number; heads: number; channels: number };
  matrices?: MatrixCapacity[];
};

/** One matrix to score: where it lives and which of its rows and columns are kept. */
interface Item {
  layer: number;
  block: 'attention' | 'ffn';
  spec: MatrixSpec;
  name: string;
  rows: number;
  cols: number;
  ref: TensorRef;
}

const DEFAULT_BATCH_BYTES = 256 * 1024 * 1024;

function refuseOptions(options: WeightsScoreOptions): void {
  if (options.mode === 'analytic') {
    throw new ZeroLMError('E_ARGUMENT', "mode 'analytic' is refused for real weights: it is the Marchenko-Pastur expectation for random matrices of an init's variance, not the spectrum of these weights; they are scored exactly", { field: 'mode' });
  }
  if (options.mode === 'bidiagonal') {
    throw new ZeroLMError('E_ARGUMENT', "mode 'bidiagonal' is refused for real weights: it draws a random spectrum of an init's law instead of reading these weights; they are scored exactly", { field: 'mode' });
  }
  if (options.init !== undefined) throw new ZeroLMError('E_ARGUMENT', 'init is refused for real weights: the matrices are read, not initialised', { field: 'init' });
  if (typeof options.weights !== 'string' || options.weights === '') throw new ZeroLMError('E_ARGUMENT', 'weights must be a path to a .safetensors file or a checkpoint folder', { field: 'weights' });
  checkOnProgress(options.onProgress);
}

function modelTypeOf(config: unknown): string {
  const modelType = isRecord(config) ? config.model_type : undefined;
  if (typeof modelType !== 'string') throw new ZeroLMError('E_UNSUPPORTED', 'real weights are read for Hugging Face configs (config.json with model_type)', { field: 'model_type' });
  return modelType;
}

/** The weights' checked tensor entry for a ref: present, supported dtype, the shape the config implies. */
function checkedEntry(store: WeightStore, item: Item): TensorEntry {
  const entry = store.entry(item.ref.tensor);
  if (entry === undefined) {
    throw new ZeroLMError('E_FORMAT', `${store.location}: missing tensor ${JSON.stringify(item.ref.tensor)} (for ${item.spec.name})`, { file: store.location, field: item.ref.tensor });
  }
  if (!(TENSOR_DTYPES as readonly string[]).includes(entry.dtype)) {
    throw new ZeroLMError('E_UNSUPPORTED', `${entry.file}: tensor ${JSON.stringify(entry.name)} has dtype ${entry.dtype}; scored tensors must be ${TENSOR_DTYPES.join(', ')}`, { file: entry.file, field: entry.name });
  }
  const [rows, cols] = item.ref.shape;
  if (entry.shape.length !== 2 || entry.shape[0] !== rows || entry.shape[1] !== cols) {
    throw new ZeroLMError('E_FORMAT', `${entry.file}: tensor ${JSON.stringify(entry.name)} has shape [${entry.shape.join(', ')}], but the config implies [${rows}, ${cols}] (for ${item.spec.name})`, { file: entry.file, field: entry.name });
  }
  return entry;
}

function checkIndices(values: unknown, bound: number, path: string): Set<number> {
  if (!Array.isArray(values)) throw new ZeroLMError('E_FORMAT', `prune.${path} must be a list of indices`, { field: `prune.${path}` });
  const set = new Set<number>();
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= bound) {
      throw new ZeroLMError('E_FORMAT', `prune.${path}[${i}] must be an index in [0, ${bound - 1}], got ${JSON.stringify(v)}`, { field: `prune.${path}[${i}]` });
    }
    set.add(v);
  });
  return set;
}

function layerEntries(record: Record<string, number[]> | undefined, layerCount: number, what: string): Array<[number, number[]]> {
  if (record === undefined) return [];
  if (!isRecord(record)) throw new ZeroLMError('E_FORMAT', `prune.${what} must be an object of layer index -> list`, { field: `prune.${what}` });
  return Object.entries(record).map(([key, value]) => {
    const layer = Number(key);
    if (!Number.isInteger(layer) || layer < 0 || layer >= layerCount || String(layer) !== key) {
      throw new ZeroLMError('E_FORMAT', `prune.${what}: ${JSON.stringify(key)} is not a layer index in [0, ${layerCount - 1}]`, { field: `prune.${what}.${key}` });
    }
    return [layer, value];
  });
}

/** Keeps the positions of an item's axis not in `dropped` (positions counted along the matrix, not the tensor). */
function keep(item: Item, axis: 'rows' | 'cols', dropped: (position: number) => boolean): void {
  const length = item[axis];
  const kept: number[] = [];
  for (let p = 0; p < length; p++) if (!dropped(p)) kept.push(p);
  if (kept.length === 0) throw new ZeroLMError('E_FORMAT', `prune removes every ${axis === 'rows' ? 'row' : 'column'} of ${item.spec.name}`, { field: item.spec.name });
  item.ref[axis] = pick(item.ref[axis], kept);
  item[axis] = kept.length;
}

const ROW_CHANNELS = /\.(gate|up|wi|wi_0|wi_1)$/;
const COLUMN_CHANNELS = /\.(down|wo)$/;

/** Parameters of the routed experts a token skips in a mixture-of-experts layer (0 for a dense one). */
function inactiveExpertParams(layer: LayerPlan, hidden: number): number {
  const description = layer.description;
  if (description?.experts === undefined) return 0;
  return (Number(description.experts) - Number(description.activeExperts)) * 3 * hidden * Number(description.expertIntermediate);
}

interface PruneOutcome {
  /** Parameters removed. */
  removed: number;
  /** Of them, parameters that count as active (all but the skipped experts of dropped layers). */
  activeRemoved: number;
  counts: { layers: number; heads: number; channels: number };
}

function applyPrune(prune: PruneSpec, layers: readonly LayerPlan[], items: Item[][], hidden: number): PruneOutcome {
  if (!isRecord(prune)) throw new ZeroLMError('E_FORMAT', 'prune must be an object with layers, heads and/or channels', { field: 'prune' });
  let removed = 0;
  let inactiveRemoved = 0;
  const counts = { layers: 0, heads: 0, channels: 0 };
  const entryCount = (item: Item): number => item.rows * item.cols;
  for (const [layer, heads] of layerEntries((prune as PruneSpec).heads, layers.length, 'heads')) {
    const total = Number(layers[layer].description?.heads);
    if (!(total > 0)) throw new ZeroLMError('E_UNSUPPORTED', `prune.heads.${layer}: layer ${layer} has no attention heads to prune`, { field: `prune.heads.${layer}` });
    const dropped = checkIndices(heads, total, `heads.${layer}`);
    counts.heads += dropped.size;
    for (const item of items[layer]) {
      const spec = item.spec;
      if (item.block !== 'attention' || spec.heads === undefined || spec.headAxis === undefined) continue;
      const before = entryCount(item);
      const axis = spec.headAxis;
      const width = (axis === 'rows' ? spec.rows : spec.cols) / spec.heads;
      const perGroup = total / spec.heads; // 1 unless grouped-query keys/values
      const gone = (head: number): boolean => {
        for (let h = head * perGroup; h < (head + 1) * perGroup; h++) if (!dropped.has(h)) return false;
        return true;
      };
      keep(item, axis, (position) => gone(Math.floor(position / width)));
      removed += before - entryCount(item);
    }
  }
  for (const [layer, channels] of layerEntries((prune as PruneSpec).channels, layers.length, 'channels')) {
    if (layers[layer].description?.experts !== undefined) {
      throw new ZeroLMError('E_UNSUPPORTED', `prune.channels.${layer}: layer ${layer} is a mixture of experts; channels are pruned in dense FFNs only`, { field: `prune.channels.${layer}` });
    }
    const up = items[layer].find((item) => item.block === 'ffn' && ROW_CHANNELS.test(item.spec.name));
    if (up === undefined) throw new ZeroLMError('E_UNSUPPORTED', `prune.channels.${layer}: layer ${layer} has no FFN channels to prune`, { field: `prune.channels.${layer}` });
    const dropped = checkIndices(channels, up.spec.rows, `channels.${layer}`);
    counts.channels += dropped.size;
    for (const item of items[layer]) {
      if (item.block !== 'ffn') continue;
      const axis = ROW_CHANNELS.test(item.spec.name) ? 'rows' : COLUMN_CHANNELS.test(item.spec.name) ? 'cols' : undefined;
      if (axis === undefined) continue;
      const before = entryCount(item);
      keep(item, axis, (position) => dropped.has(position));
      removed += before - entryCount(item);
    }
  }
  if (prune.layers !== undefined) {
    const dropped = checkIndices(prune.layers, layers.length, 'layers');
    if (dropped.size === layers.length) throw new ZeroLMError('E_FORMAT', 'prune.layers removes every layer', { field: 'prune.layers' });
    counts.layers = dropped.size;
    for (const layer of dropped) {
      const params = layers[layer].params;
      // Entries already removed from this layer by head or channel pruning are part of its params: not twice.
      const already = items[layer].reduce((sum, item) => sum + item.spec.rows * item.spec.cols - item.rows * item.cols, 0);
      removed += params.attention + params.ffn + params.other - already;
      inactiveRemoved += inactiveExpertParams(layers[layer], hidden);
      items[layer] = [];
    }
  }
  return { removed, activeRemoved: removed - inactiveRemoved, counts };
}

/** Splits an item into per-head pieces along its head axis (perHead). */
function piecesOf(item: Item, perHead: boolean): Item[] {
  const { heads, headAxis } = item.spec;
  if (!perHead || heads === undefined || headAxis === undefined || heads <= 1) return [item];
  const length = item[headAxis];
  const original = headAxis === 'rows' ? item.spec.rows : item.spec.cols;
  const width = original / heads;
  // Heads survive pruning whole, so the kept length is a multiple of the head width.
  const pieces: Item[] = [];
  for (let h = 0; h < length / width; h++) {
    const ref = { ...item.ref, [headAxis]: pick(item.ref[headAxis], range(h * width, width)) };
    pieces.push({ ...item, name: `${item.name}.head${h}`, [headAxis]: width, ref });
  }
  return pieces;
}

/** Score a Hugging Face config on its real weights. */
export async function scoreWeights(config: unknown, options: WeightsScoreOptions): Promise<WeightsScore> {
  refuseOptions(options);
  const resolved = resolveScoreOptions({ ...options, mode: 'exact' });
  const modelType = modelTypeOf(config);
  const plan = buildPlan(config, { family: 'hf', build: options.build, strictConfig: options.strictConfig });
  const configRecord = config as Record<string, unknown>;
  const store = WeightStore.open(options.weights);
  try {
    const items: Item[][] = plan.layers.map((layer, index) => {
      const list: Item[] = [];
      for (const block of ['attention', 'ffn'] as const) {
        for (const spec of layer[block]) {
          const ref = tensorRefOf(modelType, configRecord, spec, layer, (name) => store.has(name));
          list.push({ layer: index, block, spec, name: spec.name, rows: spec.rows, cols: spec.cols, ref });
        }
      }
      return list;
    });
    // Every tensor is checked before any is read: a bad checkpoint costs no scoring time.
    for (const list of items) for (const item of list) checkedEntry(store, item);
    const pruned = options.prune === undefined ? undefined : applyPrune(options.prune, plan.layers, items, plan.hiddenSize);

    const capacities = new Map<Item, number>();
    const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
    const route = resolved.measure.needs === 'shape' ? 'sumSquares' : resolved.measure.needs;
    const pieces = items.map((list) => list.map((item) => piecesOf(item, resolved.perHead)));
    // float32 values live in one arena reused from batch to batch (fresh memory costs more than the conversion), read
    // in place by the engine; a matrix larger than the arena gets an array of its own.
    let needed = 0;
    let total = 0;
    for (const list of pieces) {
      for (const itemPieces of list) {
        for (const piece of itemPieces) needed += piece.rows * piece.cols;
        total += itemPieces.length;
      }
    }
    const arenaLength = Math.min(needed, Math.max(1, Math.floor(batchBytes / 4)));
    let arena: Float32Array | undefined;
    let used = 0;
    let jobs: SpectrumJob[] = [];
    let owners: Item[] = [];
    const flush = (): void => {
      if (jobs.length === 0) return;
      let results;
      try {
        results = spectraSync(jobs, { threads: resolved.threads, memoryLimitBytes: resolved.memoryLimitBytes });
      } catch (cause) {
        // Name the checkpoint's tensor (say, one holding NaN or Inf) rather than the engine's job index.
        const job = cause instanceof ZeroLMError ? /^jobs\[(\d+)\]\.?\s*(.*)$/s.exec(cause.message) : null;
        const owner = job ? owners[Number(job[1])] : undefined;
        if (owner === undefined) throw cause;
        const entry = store.entry(owner.ref.tensor) as TensorEntry;
        throw new ZeroLMError((cause as ZeroLMError).code, `${entry.file}: tensor ${JSON.stringify(entry.name)} (${owner.name}): ${job?.[2]}`, { file: entry.file, field: entry.name }, { cause });
      }
      results.forEach((stats, i) => capacities.set(owners[i], resolved.measure.fromStats(stats, resolved.measureOptions)));
      reportProgress(options.onProgress, { done: capacities.size, errors: 0, total });
      jobs = [];
      owners = [];
      used = 0;
    };
    let scratch: Buffer | undefined;
    let cached: { name: string; bytes: Buffer } | undefined;
    for (let layer = 0; layer < items.length; layer++) {
      for (let k = 0; k < items[layer].length; k++) {
        throwIfAborted(resolved.signal);
        const item = items[layer][k];
        const entry = checkedEntry(store, item);
        if (cached?.name !== entry.name) {
          const size = entry.end - entry.begin;
          if (scratch === undefined || scratch.length < size) scratch = Buffer.allocUnsafe(size);
          cached = { name: entry.name, bytes: store.read(entry, scratch) };
        }
        for (const piece of pieces[layer][k]) {
          const { ref } = piece;
          const length = piece.rows * piece.cols;
          if (used + length > arenaLength) flush();
          let out: Float32Array;
          if (length > arenaLength) out = new Float32Array(length);
          else {
            arena ??= new Float32Array(arenaLength);
            out = arena.subarray(used, used + length);
            used += length;
          }
          const dtype = entry.dtype as TensorDtype;
          const values = ref.transposed
            ? convertTensor(cached.bytes, dtype, ref.shape, { rows: ref.cols, cols: ref.rows }, out)
            : convertTensor(cached.bytes, dtype, ref.shape, { rows: ref.rows, cols: ref.cols }, out);
          const [rows, cols] = ref.transposed ? [piece.cols, piece.rows] : [piece.rows, piece.cols];
          jobs.push({ rows, cols, values, route });
          owners.push(piece);
          if (length > arenaLength) flush();
        }
      }
    }
    flush();

    // Sums in scoring order: pieces were scored layer by layer, in plan order (a Map keeps insertion order).
    const layers: LayerScore[] = [];
    const matrices: MatrixCapacity[] = [];
    let attention = 0;
    let ffn = 0;
    let current: { attention: number; ffn: number } | undefined;
    let currentLayer = -1;
    for (const [piece, capacity] of capacities) {
      if (current === undefined || piece.layer !== currentLayer) {
        current = { attention: 0, ffn: 0 };
        currentLayer = piece.layer;
        layers.push(current);
      }
      current[piece.block] += capacity;
      if (piece.block === 'attention') attention += capacity;
      else ffn += capacity;
      if (options.perMatrix) matrices.push({ layer: piece.layer, block: piece.block, name: piece.name, tensor: piece.ref.tensor, rows: piece.rows, cols: piece.cols, capacity });
    }
    const params = plan.params.total - (pruned?.removed ?? 0);
    const components: Components = {
      attention,
      ffn,
      params,
      nonEmbeddingParams: params - plan.params.embedding,
      family: plan.family,
      build: plan.build,
      layers,
    };
    if (plan.id !== undefined) components.id = plan.id;
    if (plan.params.active !== undefined) components.activeParams = plan.params.active - (pruned?.activeRemoved ?? 0);
    if (plan.warnings !== undefined) components.warnings = plan.warnings;
    const record = withAlpha(components, resolved) as WeightsScore;
    record.weights = store.location;
    if (pruned !== undefined) record.pruned = pruned.counts;
    if (options.perMatrix) record.matrices = matrices;
    return record;
  } finally {
    store.close();
  }
}
