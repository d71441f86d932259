/**
 * Per-scorer memos of work that depends only on shapes, so a stream of candidates pays for each distinct matrix
 * shape once, whatever family it comes from and whether or not its builder shares objects between plans.
 *
 * MatrixCapacityMemo: a matrix's capacity by (rows, cols, init scheme). Under seed policy 'shape' (and in analytic
 * mode, or for shape-only measures) these determine the cache key completely, so a hit is exactly what the capacity
 * cache would return. Keys are numbers in a typed-array hash table (no string per lookup, nothing for the garbage
 * collector to trace); bounded, the oldest entry evicted first, one at a time.
 *
 * LayerMemo: a layer's capacities by LayerPlan identity, for builders that hand out one shared LayerPlan per
 * distinct layer. Bounded by generations: the least recently used half is dropped whole when the newer half fills.
 */
import type { InitScheme } from '../arch/types';

const FIELDS = 4;

/** A number per init scheme and kaiming mode; 0 = not memoisable (unknown scheme: the slow path reports it). */
function schemeCode(init: InitScheme): number {
  switch (init.scheme) {
    case 'normal':
      return 1;
    case 'uniform':
      return 2;
    case 'xavier-normal':
      return 3;
    case 'xavier-uniform':
      return 4;
    case 'kaiming-normal':
      return init.mode === 'fan-out' ? 6 : init.mode === undefined || init.mode === 'fan-in' ? 5 : 0;
    default:
      return 0;
  }
}

/** The scheme's one number (std, bound or gain; -1 for a default gain). */
function schemeParameter(init: InitScheme): number {
  switch (init.scheme) {
    case 'normal':
      return init.std;
    case 'uniform':
      return init.bound;
    default:
      return init.gain === undefined ? -1 : init.gain;
  }
}

const bits = new Float64Array(1);
const bitWords = new Int32Array(bits.buffer);

function hash(rows: number, cols: number, code: number, parameter: number): number {
  bits[0] = parameter;
  let h = Math.imul(rows | 0, 0x9e3779b1);
  h = Math.imul(h ^ (cols | 0) ^ (h >>> 15), 0x85ebca77);
  h = Math.imul(h ^ code ^ (h >>> 13), 0xc2b2ae3d);
  h = Math.imul(h ^ bitWords[0] ^ (h >>> 16), 0x27d4eb2f);
  h = Math.imul(h ^ bitWords[1] ^ (h >>> 15), 0x165667b1);
  return h ^ (h >>> 16);
}

export class MatrixCapacityMemo {
  private readonly mask: number;
  private readonly keys: Float64Array;
  private readonly values: Float64Array;
  /** 1 where a slot holds an entry. */
  private readonly used: Uint8Array;
  /** Slots in insertion order, a ring: ring[(head + k) % maxEntries] is the k-th oldest entry's slot. */
  private readonly ring: Int32Array;
  /** Per slot, its place in the ring (kept when backward-shift deletion moves an entry). */
  private readonly place: Int32Array;
  private head = 0;
  private count = 0;

  /** `maxEntries` distinct (shape, init) pairs are kept; the table is twice that, so probes stay short. */
  constructor(readonly maxEntries = 1 << 18) {
    let size = 4;
    while (size < 2 * maxEntries) size *= 2;
    this.mask = size - 1;
    this.keys = new Float64Array(size * FIELDS);
    this.values = new Float64Array(size);
    this.used = new Uint8Array(size);
    this.ring = new Int32Array(maxEntries);
    this.place = new Int32Array(size);
  }

  get size(): number {
    return this.count;
  }

  private find(rows: number, cols: number, code: number, parameter: number): number {
    const { keys, used, mask } = this;
    let slot = hash(rows, cols, code, parameter) & mask;
    for (;;) {
      if (used[slot] === 0) return slot;
      const o = slot * FIELDS;
      if (keys[o] === rows && keys[o + 1] === cols && keys[o + 2] === code && keys[o + 3] === parameter) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** The capacity of a rows x cols matrix with this init, or undefined. */
  get(rows: number, cols: number, init: InitScheme): number | undefined {
    const code = schemeCode(init);
    if (code === 0) return undefined;
    const slot = this.find(rows, cols, code, schemeParameter(init));
    return this.used[slot] === 1 ? this.values[slot] : undefined;
  }

  set(rows: number, cols: number, init: InitScheme, value: number): void {
    const code = schemeCode(init);
    const parameter = schemeParameter(init);
    // NaN never equals itself: such a key could never be found again (and its init is refused anyway).
    if (code === 0 || Number.isNaN(parameter)) return;
    let slot = this.find(rows, cols, code, parameter);
    if (this.used[slot] === 1) {
      this.values[slot] = value;
      return;
    }
    if (this.count === this.maxEntries) {
      this.evictOldest();
      slot = this.find(rows, cols, code, parameter);
    }
    const o = slot * FIELDS;
    this.keys[o] = rows;
    this.keys[o + 1] = cols;
    this.keys[o + 2] = code;
    this.keys[o + 3] = parameter;
    this.values[slot] = value;
    this.used[slot] = 1;
    const place = (this.head + this.count) % this.maxEntries;
    this.ring[place] = slot;
    this.place[slot] = place;
    this.count++;
  }

  /** Removes the oldest entry; later entries of its probe run shift back so every key stays reachable. */
  private evictOldest(): void {
    const { keys, values, used, place, ring, mask } = this;
    let hole = ring[this.head];
    this.head = (this.head + 1) % this.maxEntries;
    this.count--;
    used[hole] = 0;
    let slot = (hole + 1) & mask;
    while (used[slot] === 1) {
      const o = slot * FIELDS;
      const home = hash(keys[o], keys[o + 1], keys[o + 2], keys[o + 3]) & mask;
      // Move the entry into the hole when the hole lies on its probe path (between its home and where it sits).
      if (((slot - home) & mask) >= ((slot - hole) & mask)) {
        keys.copyWithin(hole * FIELDS, o, o + FIELDS);
        values[hole] = values[slot];
        used[hole] = 1;
        used[slot] = 0;
        place[hole] = place[slot];
        ring[place[hole]] = hole;
        hole = slot;
      }
      slot = (slot + 1) & mask;
    }
  }
}

export class LayerMemo<K extends object, V> {
  /**
   * Two generations: entries go into `current`; when it holds half the bound it becomes `previous` (the older half,
   * dropped whole at the next turn) and a hit there is moved back into `current`. Every operation is O(1): a Map
   * whose oldest entries are deleted one by one makes each later "oldest" lookup skip the deleted ones.
   */
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private readonly half: number;
  constructor(readonly maxEntries = 1 << 16) {
    this.half = Math.max(1, Math.floor(maxEntries / 2));
  }

  get(key: K): V | undefined {
    const value = this.current.get(key);
    if (value !== undefined) return value;
    const older = this.previous.get(key);
    if (older !== undefined) this.set(key, older);
    return older;
  }

  set(key: K, value: V): void {
    if (this.current.size >= this.half && !this.current.has(key)) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }

  /** Entries held (an entry in both generations counted once per generation). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}
