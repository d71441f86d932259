/**
 * Memo of per-matrix capacities. Keys name everything a capacity depends on (shape, distribution, measure and its
 * options, seed and stream, mode), so a hit returns exactly what recomputation would.
 * Bounded: past maxEntries, entries are evicted one at a time by the second-chance (clock) rule, oldest first but
 * sparing once each entry used since it was last spared, an approximation of least-recently-used eviction whose
 * hits write nothing to the map (refreshing recency by delete and re-insert made every hit a map mutation, and
 * the map's rehashing grew with its size).
 */
interface CacheEntry {
  value: number;
  used: boolean;
}

export class CapacityCache {
  private readonly entries = new Map<string, CacheEntry>();
  hits = 0;
  misses = 0;
  constructor(readonly maxEntries = 1_000_000) {}

  get(key: string): number | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    entry.used = true;
    return entry.value;
  }

  /** Look without counting or marking use. */
  peek(key: string): number | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: string, value: number): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
      entry.used = true;
      return;
    }
    this.entries.set(key, { value, used: false });
    while (this.entries.size > this.maxEntries) this.evictOne();
  }

  /** Drops the oldest entry not used since it was last spared; the used ones it passes go to the back, unmarked. */
  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (!entry.used) return;
      entry.used = false;
      this.entries.set(key, entry);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  *[Symbol.iterator](): IterableIterator<[string, number]> {
    for (const [key, entry] of this.entries) yield [key, entry.value];
  }
}
