/**
 * The builders' memo: immutable LayerPlans (and other parts) reused across plans.
 *
 * Two inputs with the same layer at the same index, built with the same build, hidden size and init, get the very
 * same frozen LayerPlan object, so consumers can memoise per-layer work by object identity (a scorer keeps
 * per-layer capacities in a bounded map keyed by LayerPlan, src/proxy/shape-memo.ts).
 *
 * Layers are keyed by a tuple of six small integers (a context id standing for build, hidden size and init, the
 * layer index, then the layer's own fields) in one open-addressing hash table held in typed arrays, so a lookup
 * allocates nothing and the table itself costs the garbage collector nothing.
 *
 * The memo is bounded: once it holds MAX_MEMO_ENTRIES entries it is dropped whole (with every builder's contexts)
 * and refilled, which changes object identity but never a result.
 */

/** Most entries (memoised values and builder contexts) kept before the whole memo is dropped. */
export const MAX_MEMO_ENTRIES = 100_000;

let limit = MAX_MEMO_ENTRIES;

/** Sets the bound (tests use a small one to exercise dropping); returns the previous bound. */
export function setMemoLimit(entriesLimit: number): number {
  const previous = limit;
  limit = entriesLimit;
  return previous;
}

const FIELDS = 6;
const EMPTY = 0;

let capacity = 0;
let mask = 0;
let keys = new Int32Array(0);
/** Per slot: EMPTY, or 1 + the index of the stored value. */
let states = new Int32Array(0);
let values: unknown[] = [];
let entries = 0;
let contextCount = 0;
const clearers: Array<() => void> = [];

/** Registers a builder's own clear function (its contexts); called once per builder module at load. */
export function registerMemo(clear: () => void): void {
  clearers.push(clear);
}

/** A fresh id for a builder context (one build, hidden size and init); ids restart when the memo is dropped. */
export function newContextId(): number {
  entries++; // contexts count too, so a stream of ever new inits cannot grow the builders' maps without bound
  return ++contextCount;
}

/**
 * Drops every memoised layer, every key seen and every builder context. Plans built afterwards are equal to earlier
 * ones but no longer share objects with them. For tests and for callers that want the memory back.
 */
export function clearBuildMemo(): void {
  for (const clear of clearers) clear();
  keys.fill(0);
  states.fill(EMPTY);
  values = [];
  entries = 0;
  contextCount = 0;
}

/** How many entries (memoised values and builder contexts) the memo holds now. */
export function buildMemoSize(): number {
  return entries;
}

function grow(minimum: number): void {
  let size = Math.max(1024, capacity);
  while (size < 2 * minimum) size *= 2;
  if (size === capacity) return;
  const oldKeys = keys;
  const oldStates = states;
  const oldCapacity = capacity;
  capacity = size;
  mask = size - 1;
  keys = new Int32Array(size * FIELDS);
  states = new Int32Array(size);
  for (let slot = 0; slot < oldCapacity; slot++) {
    const state = oldStates[slot];
    if (state === EMPTY) continue;
    const o = slot * FIELDS;
    const target = findSlot(oldKeys[o], oldKeys[o + 1], oldKeys[o + 2], oldKeys[o + 3], oldKeys[o + 4], oldKeys[o + 5]);
    keys.set(oldKeys.subarray(o, o + FIELDS), target * FIELDS);
    states[target] = state;
  }
}

/**
 * Makes room for `needed` more entries before a builder starts a plan: drops the memo when it would pass its bound
 * (MAX_MEMO_ENTRIES), and grows the table to keep it at most half full. Builders call it first, never halfway, so
 * one plan's layers all come from one generation.
 */
export function reserveMemo(needed: number): void {
  if (entries > 0 && entries + needed > limit) clearBuildMemo();
  if (2 * (entries + needed) > capacity) grow(entries + needed);
}

function hash(a: number, b: number, c: number, d: number, e: number, f: number): number {
  let h = Math.imul(a, 0x9e3779b1);
  h = Math.imul(h ^ b ^ (h >>> 15), 0x85ebca77);
  h = Math.imul(h ^ c ^ (h >>> 13), 0xc2b2ae3d);
  h = Math.imul(h ^ d ^ (h >>> 16), 0x27d4eb2f);
  h = Math.imul(h ^ e ^ (h >>> 15), 0x165667b1);
  h = Math.imul(h ^ f ^ (h >>> 13), 0x9e3779b1);
  return h ^ (h >>> 16);
}

/**
 * The slot of a key (six integers in the int32 range): where it is, or the empty slot where it would go. A slot is
 * valid until the next memoise or reserveMemo (either may fill or move it).
 */
export function findSlot(a: number, b: number, c: number, d: number, e: number, f: number): number {
  let slot = hash(a, b, c, d, e, f) & mask;
  for (;;) {
    if (states[slot] === EMPTY) return slot;
    const o = slot * FIELDS;
    if (keys[o] === a && keys[o + 1] === b && keys[o + 2] === c && keys[o + 3] === d && keys[o + 4] === e && keys[o + 5] === f) return slot;
    slot = (slot + 1) & mask;
  }
}

/** The value memoised at a slot, or undefined when there is none. */
export function memoised<T>(slot: number): T | undefined {
  const state = states[slot];
  return state > 0 ? (values[state - 1] as T) : undefined;
}

/** Stores a value (deep-frozen first) for the key at an empty slot found by findSlot, and returns it. */
export function memoise<T>(slot: number, a: number, b: number, c: number, d: number, e: number, f: number, value: T): T {
  const o = slot * FIELDS;
  keys[o] = a;
  keys[o + 1] = b;
  keys[o + 2] = c;
  keys[o + 3] = d;
  keys[o + 4] = e;
  keys[o + 5] = f;
  entries++;
  values.push(deepFreeze(value));
  states[slot] = values.length;
  return value;
}

/**
 * Freezes a freshly built object and every object and array inside it (matrix specs, their init schemes, params,
 * description). Objects already frozen are skipped with their contents, so shared parts cost nothing.
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
