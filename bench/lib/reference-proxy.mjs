// The same exact proxy without the addon: plain JavaScript Gaussian fill, Gram matrix of the smaller side,
// Householder tridiagonalisation and implicit-shift QL for the eigenvalues. The reference the addon's exact path
// is compared with (`bench/throughput.bench.mjs`); it is not part of the package.

/** xorshift128+ uniform doubles and Box-Muller normals: a plain, reasonably fast JS generator. */
export function gaussianMatrix(rows, cols, std, seed) {
  let s0 = (seed * 2654435761) >>> 0 || 1;
  let s1 = (seed ^ 0x9e3779b9) >>> 0 || 2;
  const uniform = () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x >>> 0;
    return ((s0 + s1) >>> 0) / 4294967296 + 1e-12;
  };
  const values = new Float32Array(rows * cols);
  for (let i = 0; i < values.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const t = 2 * Math.PI * uniform();
    values[i] = std * r * Math.cos(t);
    if (i + 1 < values.length) values[i + 1] = std * r * Math.sin(t);
  }
  return values;
}

export function sumOfSquares(values) {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return sum;
}

/** Gram matrix of the smaller side, in float64: k x k with k = min(rows, cols). */
export function gram(values, rows, cols) {
  if (rows >= cols) {
    const k = cols;
    const g = new Float64Array(k * k);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      for (let i = 0; i < k; i++) {
        const a = values[base + i];
        if (a === 0) continue;
        const row = i * k;
        for (let j = i; j < k; j++) g[row + j] += a * values[base + j];
      }
    }
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) g[i * k + j] = g[j * k + i];
    return { g, k };
  }
  const k = rows;
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let sum = 0;
      const a = i * cols;
      const b = j * cols;
      for (let c = 0; c < cols; c++) sum += values[a + c] * values[b + c];
      g[i * k + j] = sum;
      g[j * k + i] = sum;
    }
  }
  return { g, k };
}

/** Eigenvalues of a symmetric matrix (row-major, destroyed): Householder tridiagonalisation + implicit QL (tred2/tqli without vectors). */
export function symmetricEigenvalues(a, n) {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    let scale = 0;
    if (l > 0) {
      for (let k = 0; k <= l; k++) scale += Math.abs(a[i * n + k]);
      if (scale === 0) e[i] = a[i * n + l];
      else {
        for (let k = 0; k <= l; k++) {
          a[i * n + k] /= scale;
          h += a[i * n + k] * a[i * n + k];
        }
        let f = a[i * n + l];
        const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        a[i * n + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          let g2 = 0;
          for (let k = 0; k <= j; k++) g2 += a[j * n + k] * a[i * n + k];
          for (let k = j + 1; k <= l; k++) g2 += a[k * n + j] * a[i * n + k];
          e[j] = g2 / h;
          f += e[j] * a[i * n + j];
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          const fj = a[i * n + j];
          const gj = (e[j] -= hh * fj);
          for (let k = 0; k <= j; k++) a[j * n + k] -= fj * e[k] + gj * a[i * n + k];
        }
      }
    } else e[i] = a[i * n + l];
    d[i] = h;
  }
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    let m;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m !== l) {
        if (iterations++ === 60) throw new Error('QL did not converge');
        let g = (d[l + 1] - d[l]) / (2 * e[l]);
        let r = Math.hypot(g, 1);
        g = d[m] - d[l] + e[l] / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
        let s = 1;
        let c = 1;
        let p = 0;
        let i;
        for (i = m - 1; i >= l; i--) {
          let f = s * e[i];
          const b = c * e[i];
          e[i + 1] = r = Math.hypot(f, g);
          if (r === 0) {
            d[i + 1] -= p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          d[i + 1] = g + (p = s * r);
          g = c * r - b;
        }
        if (r === 0 && i >= l) continue;
        d[l] -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
  return d;
}

export function singularValues(values, rows, cols) {
  const { g, k } = gram(values, rows, cols);
  const eigen = symmetricEigenvalues(g, k);
  const s = Float64Array.from(eigen, (x) => Math.sqrt(Math.max(x, 0)));
  return s.sort().reverse();
}

/** effective-rank of one matrix from its singular values: exp of the entropy of s / sum s. */
export function effectiveRank(s) {
  let total = 0;
  for (const v of s) total += v;
  if (total === 0) return 0;
  let entropy = 0;
  for (const v of s) if (v > 0) entropy -= (v / total) * Math.log(v / total);
  return Math.exp(entropy);
}
