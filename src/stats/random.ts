/**
 * The one seeded pseudo-random generator of the TypeScript side (splitmix32): samplers, calibration splits and
 * bootstrap resamples all draw from it, so a seed means the same stream everywhere, on every platform. (The
 * weights' random numbers are the addon's Philox streams, keyed by matrix shape: a different job.)
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  };
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, random: () => number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** Split 0..n-1 into a random sample of k and the rest. */
export function sampleSplit(n: number, k: number, random: () => number): { sample: Uint32Array; rest: Uint32Array } {
  const order = permutation(n, random);
  return { sample: order.slice(0, k).sort(), rest: order.slice(k).sort() };
}
