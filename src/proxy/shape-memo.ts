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

/** Per slot: rows, cols, scheme code (0: empty slot), scheme parameter, capacity. One slot is one stretch of memory. */
const STRIDE = 5;
/** The smallest table; it doubles as entries come, up to twice maxEntries slots. */
const FIRST_SLOTS = 1 << 12;

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
  private mask: number;
  /** Slots side by side (see STRIDE): a lookup reads one stretch of memory, not three arrays. */
  private table: Float64Array;
  /**
   * Entries in insertion order, a ring: ring[(head + k) % ring.length] is the k-th oldest entry's slot. It grows with
   * the table (never shorter than the entries it holds) up to maxEntries, so a scorer made for one input costs little.
   */
  private ring: Int32Array;
  /** Per slot, its place in the ring (kept when backward-shift deletion moves an entry). */
  private place: Int32Array;
  private head = 0;
  private count = 0;
  private readonly largestSlots: number;

  /**
   * `maxEntries` distinct (shape, init) pairs are kept. The table starts small and doubles while it is more than half
   * full, up to twice maxEntries slots, so probes stay short and a stream with few shapes touches little memory.
   */
  constructor(readonly maxEntries = 1 << 18) {
    let largest = 4;
    while (largest < 2 * maxEntries) largest *= 2;
    this.largestSlots = largest;
    const size = Math.min(largest, FIRST_SLOTS);
    this.mask = size - 1;
    this.table = new Float64Array(size * STRIDE);
    this.place = new Int32Array(size);
    this.ring = new Int32Array(Math.min(maxEntries, size));
  }

  get size(): number {
    return this.count;
  }

  private find(rows: number, cols: number, code: number, parameter: number): number {
    const { table, mask } = this;
    let slot = hash(rows, cols, code, parameter) & mask;
    for (;;) {
      const o = slot * STRIDE;
      const slotCode = table[o + 2];
      if (slotCode === 0) return slot;
      if (table[o] === rows && table[o + 1] === cols && slotCode === code && table[o + 3] === parameter) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** The capacity of a rows x cols matrix with this init, or undefined. */
  get(rows: number, cols: number, init: InitScheme): number | undefined {
    const code = schemeCode(init);
    if (code === 0) return undefined;
    const o = this.find(rows, cols, code, schemeParameter(init)) * STRIDE;
    return this.table[o + 2] !== 0 ? this.table[o + 4] : undefined;
  }

  set(rows: number, cols: number, init: InitScheme, value: number): void {
    const code = schemeCode(init);
    const parameter = schemeParameter(init);
    // NaN never equals itself: such a key could never be found again (and its init is refused anyway).
    if (code === 0 || Number.isNaN(parameter)) return;
    let slot = this.find(rows, cols, code, parameter);
    if (this.table[slot * STRIDE + 2] !== 0) {
      this.table[slot * STRIDE + 4] = value;
      return;
    }
    if (this.count === this.maxEntries) {
      this.evictOldest();
      slot = this.find(rows, cols, code, parameter);
    } else if (2 * (this.count + 1) > this.mask + 1 && this.mask + 1 < this.largestSlots) {
      this.grow();
      slot = this.find(rows, cols, code, parameter);
    }
    const o = slot * STRIDE;
    const table = this.table;
    table[o] = rows;
    table[o + 1] = cols;
    table[o + 2] = code;
    table[o + 3] = parameter;
    table[o + 4] = value;
    const place = (this.head + this.count) % this.ring.length;
    this.ring[place] = slot;
    this.place[slot] = place;
    this.count++;
  }

  /** Doubles the table; entries keep their order of insertion (the ring is rewritten from its head). */
  private grow(): void {
    const old = this.table;
    const size = 2 * (this.mask + 1);
    this.mask = size - 1;
    this.table = new Float64Array(size * STRIDE);
    this.place = new Int32Array(size);
    const oldRing = this.ring;
    const ring = new Int32Array(Math.min(this.maxEntries, size));
    for (let k = 0; k < this.count; k++) {
      const o = oldRing[(this.head + k) % oldRing.length] * STRIDE;
      const slot = this.find(old[o], old[o + 1], old[o + 2], old[o + 3]);
      this.table.set(old.subarray(o, o + STRIDE), slot * STRIDE);
      ring[k] = slot;
      this.place[slot] = k;
    }
    this.ring = ring;
    this.head = 0;
  }

  /** Removes the oldest entry; later entries of its probe run shift back so every key stays reachable. */
  private evictOldest(): void {
    const { table, place, ring, mask } = this;
    let hole = ring[this.head];
    this.head = (this.head + 1) % ring.length;
    this.count--;
    table[hole * STRIDE + 2] = 0;
    let slot = (hole + 1) & mask;
    while (table[slot * STRIDE + 2] !== 0) {
      const o = slot * STRIDE;
      const home = hash(table[o], table[o + 1], table[o + 2], table[o + 3]) & mask;
      // Move the entry into the hole when the hole lies on its probe path (between its home and where it sits).
      if (((slot - home) & mask) >= ((slot - hole) & mask)) {
        table.copyWithin(hole * STRIDE, o, o + STRIDE);
        table[o + 2] = 0;
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
