/**
 * A build memo: immutable LayerPlans (and other parts) reused across the plans built with it.
 *
 * Two inputs with the same layer at the same index, built with the same memo, build, hidden size and init, get the
 * very same frozen LayerPlan object, so consumers can memoise per-layer work by object identity (a scorer keeps
 * per-layer capacities in a bounded map keyed by LayerPlan, src/proxy/shape-memo.ts).
 *
 * A memo belongs to whoever holds it: each scorer makes its own (ResolvedScoreOptions.buildMemo) and drops it with
 * its other memos; `buildPlan` without one shares nothing between plans. There is no process-wide memo.
 *
 * Layers are keyed by a tuple of six small integers (a context id standing for build, hidden size and init, the
 * layer index, then the layer's own fields) in one open-addressing hash table held in typed arrays, so a lookup
 * allocates nothing and the table itself costs the garbage collector nothing.
 *
 * The memo is bounded: once it holds `maxEntries` entries it is dropped whole (with every builder's contexts) and
 * refilled, which changes object identity but never a result.
 */

/** Most entries (memoised values and builder contexts) a memo keeps before it is dropped whole. */
export const MAX_MEMO_ENTRIES = 100_000;

const FIELDS = 6;
const EMPTY = 0;
/** The table of a memo that has been used for one small plan only (a buildPlan call without a memo). */
const SMALLEST_TABLE = 64;

function hash(a: number, b: number, c: number, d: number, e: number, f: number): number {
  let h = Math.imul(a, 0x9e3779b1);
  h = Math.imul(h ^ b ^ (h >>> 15), 0x85ebca77);
  h = Math.imul(h ^ c ^ (h >>> 13), 0xc2b2ae3d);
  h = Math.imul(h ^ d ^ (h >>> 16), 0x27d4eb2f);
  h = Math.imul(h ^ e ^ (h >>> 15), 0x165667b1);
  h = Math.imul(h ^ f ^ (h >>> 13), 0x9e3779b1);
  return h ^ (h >>> 16);
}

export class BuildMemo {
  private capacity = 0;
  private mask = 0;
  private keys = new Int32Array(0);
  /** Per slot: EMPTY, or 1 + the index of the stored value. */
  private states = new Int32Array(0);
  private values: unknown[] = [];
  private entries = 0;
  private contextCount = 0;
  /** The builders' own context maps, by builder (see contexts()). */
  private readonly tables = new Map<string, Map<number | string, unknown>>();

  /** `maxEntries`: memoised values and builder contexts kept before the memo is dropped whole. */
  constructor(readonly maxEntries = MAX_MEMO_ENTRIES) {}

  /** How many entries (memoised values and builder contexts) the memo holds now. */
  get size(): number {
    return this.entries;
  }

  /**
   * A builder's map of its contexts (one per build, hidden size and init, say), created on first use and emptied
   * when the memo is dropped. `owner` names the builder, so builders never share a map.
   */
  contexts<V>(owner: string): Map<number | string, V> {
    let table = this.tables.get(owner);
    if (table === undefined) {
      table = new Map();
      this.tables.set(owner, table);
    }
    return table as Map<number | string, V>;
  }

  /** A fresh id for a builder context; ids restart when the memo is dropped. */
  newContextId(): number {
    this.entries++; // contexts count too, so a stream of ever new inits cannot grow the builders' maps without bound
    return ++this.contextCount;
  }

  /**
   * Drops every memoised layer, every key seen and every builder context. Plans built afterwards are equal to
   * earlier ones but no longer share objects with them.
   */
  clear(): void {
    for (const table of this.tables.values()) table.clear();
    this.keys.fill(0);
    this.states.fill(EMPTY);
    this.values = [];
    this.entries = 0;
    this.contextCount = 0;
  }

  /**
   * Makes room for `needed` more entries before a builder starts a plan: drops the memo when it would pass its
   * bound, and grows the table to keep it at most half full. Builders call it first, never halfway, so one plan's
   * layers all come from one generation.
   */
  reserve(needed: number): void {
    if (this.entries > 0 && this.entries + needed > this.maxEntries) this.clear();
    if (2 * (this.entries + needed) > this.capacity) this.grow(this.entries + needed);
  }

  /**
   * The slot of a key (six integers in the int32 range): where it is, or the empty slot where it would go. A slot
   * is valid until the next memoise or reserve (either may fill or move it).
   */
  findSlot(a: number, b: number, c: number, d: number, e: number, f: number): number {
    const { keys, states, mask } = this;
    let slot = hash(a, b, c, d, e, f) & mask;
    for (;;) {
      if (states[slot] === EMPTY) return slot;
      const o = slot * FIELDS;
      if (keys[o] === a && keys[o + 1] === b && keys[o + 2] === c && keys[o + 3] === d && keys[o + 4] === e && keys[o + 5] === f) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** The value memoised at a slot, or undefined when there is none. */
  memoised<T>(slot: number): T | undefined {
    const state = this.states[slot];
    return state > 0 ? (this.values[state - 1] as T) : undefined;
  }

  /** Stores a value (deep-frozen first) for the key at an empty slot found by findSlot, and returns it. */
  memoise<T>(slot: number, a: number, b: number, c: number, d: number, e: number, f: number, value: T): T {
    const o = slot * FIELDS;
    const keys = this.keys;
    keys[o] = a;
    keys[o + 1] = b;
    keys[o + 2] = c;
    keys[o + 3] = d;
    keys[o + 4] = e;
    keys[o + 5] = f;
    this.entries++;
    this.values.push(deepFreeze(value));
    this.states[slot] = this.values.length;
    return value;
  }

  private grow(minimum: number): void {
    let size = Math.max(SMALLEST_TABLE, this.capacity);
    while (size < 2 * minimum) size *= 2;
    if (size === this.capacity) return;
    const oldKeys = this.keys;
    const oldStates = this.states;
    const oldCapacity = this.capacity;
    this.capacity = size;
    this.mask = size - 1;
    this.keys = new Int32Array(size * FIELDS);
    this.states = new Int32Array(size);
    for (let slot = 0; slot < oldCapacity; slot++) {
      const state = oldStates[slot];
      if (state === EMPTY) continue;
      const o = slot * FIELDS;
      const target = this.findSlot(oldKeys[o], oldKeys[o + 1], oldKeys[o + 2], oldKeys[o + 3], oldKeys[o + 4], oldKeys[o + 5]);
      this.keys.set(oldKeys.subarray(o, o + FIELDS), target * FIELDS);
      this.states[target] = state;
    }
  }
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
