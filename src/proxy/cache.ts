/**
 * Memo of per-matrix capacities. Keys name everything a capacity depends on (shape, distribution, measure and its
 * options, seed and stream, mode), so a hit returns exactly what recomputation would.
 * Bounded: least recently used entries are evicted past maxEntries.
 */
export class CapacityCache {
  private readonly entries = new Map<string, number>();
  hits = 0;
  misses = 0;
  constructor(readonly maxEntries = 1_000_000) {}

  get(key: string): number | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Refresh recency: Map iteration order is insertion order.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Look without counting or refreshing. */
  peek(key: string): number | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: number): void {
    if (this.entries.has(key)) this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  *[Symbol.iterator](): IterableIterator<[string, number]> {
    yield* this.entries;
  }
}
