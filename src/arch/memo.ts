/**
 * The builders' memo: immutable LayerPlans (and embedding extras) reused across plans.
 *
 * Two inputs with the same layer at the same index, built with the same build, hidden size and init, get the very
 * same frozen LayerPlan object, so consumers can memoise per-layer work by object identity (the scorer keeps
 * per-layer capacities in a WeakMap keyed by LayerPlan). The memo is bounded: once it holds more than
 * MAX_MEMO_LAYERS layers, every builder's memo is dropped and refilled from scratch, which changes object identity
 * but never a result.
 */

/** Most memoised layers kept before the whole memo is dropped. */
export const MAX_MEMO_LAYERS = 100_000;

let memoLayers = 0;
const clearers: Array<() => void> = [];

/** Registers a builder's own clear function; called once per builder module at load. */
export function registerMemo(clear: () => void): void {
  clearers.push(clear);
}

/** Counts one memoised entry (a layer or a builder's embeddings). */
export function countMemoLayer(): void {
  memoLayers++;
}

/**
 * Drops every memo once it holds MAX_MEMO_LAYERS entries. Builders call it before they start, never halfway, so
 * one plan's layers all come from the same generation (the bound may be passed by at most one plan's layers).
 */
export function trimMemo(): void {
  if (memoLayers >= MAX_MEMO_LAYERS) clearBuildMemo();
}

/**
 * Drops every memoised layer and embedding. Plans built afterwards are equal to earlier ones but no longer share
 * objects with them. For tests and for callers that want to release memory.
 */
export function clearBuildMemo(): void {
  for (const clear of clearers) clear();
  memoLayers = 0;
}

/** How many layers the memo holds now. */
export function buildMemoSize(): number {
  return memoLayers;
}

/**
 * Freezes a freshly built LayerPlan-like object and every object and array inside it (matrix specs, their init
 * schemes, params, description). Objects already frozen are skipped with their contents, so shared constants cost
 * nothing.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
  } else {
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
