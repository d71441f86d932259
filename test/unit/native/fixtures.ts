/** Test matrices with known singular values, built from Householder reflections in double precision. */

/** Small deterministic PRNG (mulberry32) for test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * First `count` columns of Q = H_1 H_2 ... H_r (each H = I - 2 u u^T / u^T u, u random), an orthogonal
 * dim x dim matrix. Column k is returned at [k * dim, (k + 1) * dim).
 */
function orthogonalColumns(dim: number, count: number, random: () => number, reflections = 3): Float64Array {
  const vectors: Float64Array[] = [];
  for (let r = 0; r < reflections; r++) {
    const u = new Float64Array(dim);
    for (let i = 0; i < dim; i++) u[i] = random() - 0.5;
    vectors.push(u);
  }
  const out = new Float64Array(dim * count);
  for (let k = 0; k < count; k++) {
    const column = out.subarray(k * dim, (k + 1) * dim);
    column[k] = 1;
    for (let r = reflections - 1; r >= 0; r--) {
      const u = vectors[r];
      let dot = 0;
      let norm = 0;
      for (let i = 0; i < dim; i++) {
        dot += u[i] * column[i];
        norm += u[i] * u[i];
      }
      const factor = (2 * dot) / norm;
      for (let i = 0; i < dim; i++) column[i] -= factor * u[i];
    }
  }
  return out;
}

/** W = U diag(s) V^T (rows x cols, row-major float32); s has min(rows, cols) entries. */
export function matrixWithSingularValues(rows: number, cols: number, singularValues: readonly number[], seed: number): Float32Array {
  const p = Math.min(rows, cols);
  if (singularValues.length !== p) throw new Error('need min(rows, cols) singular values');
  const random = seededRandom(seed);
  const u = orthogonalColumns(rows, p, random);
  const v = orthogonalColumns(cols, p, random);
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let k = 0; k < p; k++) sum += u[k * rows + i] * singularValues[k] * v[k * cols + j];
      w[i * cols + j] = sum;
    }
  }
  return w;
}

/** Largest |a_i - b_i| / scale. */
export function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>, scale: number): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

export function descending(values: readonly number[]): number[] {
  return [...values].sort((x, y) => y - x);
}
