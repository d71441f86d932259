/**
 * Test-only exact spectra: seeded Gaussian matrices and their singular values from a cyclic Jacobi
 * eigenvalue solver on the smaller Gram matrix. Slow (O(k^3) per sweep) but simple and accurate; keep shapes small.
 */

/** xoshiro128** (32-bit state words) seeded through splitmix32; uniform doubles in (0, 1). */
export function seededUniform(seed: number): () => number {
  let z = seed >>> 0;
  const splitmix = (): number => {
    z = (z + 0x9e3779b9) >>> 0;
    let t = z;
    t = Math.imul(t ^ (t >>> 16), 0x85ebca6b) >>> 0;
    t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35) >>> 0;
    return (t ^ (t >>> 16)) >>> 0;
  };
  const s = [splitmix(), splitmix(), splitmix(), splitmix()];
  const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return (result + 0.5) / 4294967296;
  };
}

/** Standard normal draws by Box-Muller. */
export function seededNormal(seed: number): () => number {
  const uniform = seededUniform(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/** Row-major rows x cols matrix with i.i.d. N(0, variance) entries. */
export function gaussianMatrix(rows: number, cols: number, variance: number, seed: number): Float64Array {
  const normal = seededNormal(seed);
  const scale = Math.sqrt(variance);
  const matrix = new Float64Array(rows * cols);
  for (let i = 0; i < matrix.length; i++) matrix[i] = scale * normal();
  return matrix;
}

/** Eigenvalues of a symmetric k x k matrix (row-major, destroyed) by cyclic Jacobi rotations, descending. */
export function symmetricEigenvalues(a: Float64Array, k: number): Float64Array {
  for (let sweep = 0; sweep < 100; sweep++) {
    let offDiagonal = 0;
    let diagonal = 0;
    for (let p = 0; p < k; p++) {
      diagonal += a[p * k + p] * a[p * k + p];
      for (let q = p + 1; q < k; q++) offDiagonal += a[p * k + q] * a[p * k + q];
    }
    if (offDiagonal <= 1e-30 * diagonal) break;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q];
        if (apq === 0) continue;
        const app = a[p * k + p];
        const aqq = a[q * k + q];
        // Rotation angle that zeroes a[p][q]: t = tan(phi), the smaller root of t^2 + 2 tau t - 1 = 0.
        const tau = (aqq - app) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = a[r * k + p];
          const arq = a[r * k + q];
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = a[p * k + r];
          const aqr = a[q * k + r];
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
      }
    }
  }
  const values = new Float64Array(k);
  for (let i = 0; i < k; i++) values[i] = a[i * k + i];
  return values.sort().reverse();
}

/** Singular values (descending) of a row-major rows x cols matrix, from the Gram matrix of its smaller side. */
export function singularValues(matrix: Float64Array, rows: number, cols: number): Float64Array {
  const k = Math.min(rows, cols);
  const gram = new Float64Array(k * k);
  // rows <= cols: W W^T (row dot products); otherwise W^T W (column dot products).
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let sum = 0;
      if (rows <= cols) for (let t = 0; t < cols; t++) sum += matrix[i * cols + t] * matrix[j * cols + t];
      else for (let t = 0; t < rows; t++) sum += matrix[t * cols + i] * matrix[t * cols + j];
      gram[i * k + j] = sum;
      gram[j * k + i] = sum;
    }
  }
  return symmetricEigenvalues(gram, k).map((lambda) => Math.sqrt(Math.max(lambda, 0)));
}
