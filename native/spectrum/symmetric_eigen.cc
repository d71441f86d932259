#include "symmetric_eigen.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "aligned_buffer.h"
#include "dense.h"
#include "kernels.h"

namespace zerolm {
namespace {

// Panel width of the blocked reduction: half of each column's work is a symmetric matrix-vector product over
// the trailing matrix (memory bound), the other half goes into a rank-2*kPanel update (compute bound).
constexpr size_t kPanel = 32;

inline double safe_hypot(double a, double b) {
  const double sum = a * a + b * b;
  if (sum > std::numeric_limits<double>::min() && sum < std::numeric_limits<double>::max()) return std::sqrt(sum);
  return std::hypot(a, b);
}

}  // namespace

void tridiagonalize_lower(size_t n, double* a, size_t lda, double* diagonal, double* off_diagonal, Team& team,
                          const CancelToken& cancel) {
  if (n == 0) return;
  const KernelTable& kernel = kernels();
  // Panel vectors, column-major with leading dimension n and indexed by global row: columns [0, b) hold the
  // Householder vectors v, columns [b, 2b) the matching w, so that the panel's net effect is A -= V W^T + W V^T.
  AlignedBuffer<double> panel(2 * kPanel * n);
  AlignedBuffer<double> swapped(2 * kPanel * n);
  AlignedBuffer<double> column(n);

  for (size_t j0 = 0; j0 < n; j0 += kPanel) {
    const size_t width = std::min(kPanel, n - j0);
    double* v_columns = panel.data();
    double* w_columns = panel.data() + width * n;
    for (size_t i = 0; i < width; ++i) {
      cancel.check();
      const size_t c = j0 + i;
      const size_t below = n - c - 1;  // length of the Householder vector
      double* col = column.data();
      for (size_t t = 0; t <= below; ++t) col[t] = a[(c + t) * lda + c];
      // Bring column c up to date with the reflections already taken in this panel.
      for (size_t q = 0; q < i; ++q) {
        kernel.axpy(below + 1, -w_columns[q * n + c], v_columns + q * n + c, col);
        kernel.axpy(below + 1, -v_columns[q * n + c], w_columns + q * n + c, col);
      }
      diagonal[c] = col[0];
      double* v = v_columns + i * n;
      double* w = w_columns + i * n;
      std::fill(v + j0, v + c + 1, 0.0);
      std::fill(w + j0, w + c + 1, 0.0);
      if (below == 0) break;

      // Householder reflector H = I - tau v v^T with H x = beta e1, v[0] = 1.
      const double* x = col + 1;
      const double alpha = x[0];
      const double sigma = below > 1 ? kernel.dot(below - 1, x + 1, x + 1) : 0.0;
      double tau = 0, beta = alpha;
      v += c + 1;
      w += c + 1;
      if (sigma == 0) {
        v[0] = 1;
        std::fill(v + 1, v + below, 0.0);
      } else {
        const double norm = std::sqrt(alpha * alpha + sigma);
        beta = alpha <= 0 ? norm : -norm;
        tau = (beta - alpha) / beta;
        const double scale = 1.0 / (alpha - beta);
        v[0] = 1;
        for (size_t t = 1; t < below; ++t) v[t] = x[t] * scale;
      }
      off_diagonal[c] = beta;
      std::fill(w, w + below, 0.0);
      if (tau == 0) continue;

      // w = tau (A_eff v) - (tau^2 / 2)(v^T A_eff v) v, A_eff = stored trailing matrix minus this panel's updates.
      kernel.symv_lower(below, a + (c + 1) * lda + c + 1, lda, v, w);
      for (size_t q = 0; q < i; ++q) {
        const double* vq = v_columns + q * n + c + 1;
        const double* wq = w_columns + q * n + c + 1;
        const double w_dot = kernel.dot(below, wq, v);
        const double v_dot = kernel.dot(below, vq, v);
        kernel.axpy(below, -w_dot, vq, w);
        kernel.axpy(below, -v_dot, wq, w);
      }
      for (size_t t = 0; t < below; ++t) w[t] *= tau;
      kernel.axpy(below, -0.5 * tau * kernel.dot(below, w, v), v, w);
    }

    const size_t next = j0 + width;
    if (next >= n) break;
    // Trailing update A22 -= [V W] [W V]^T over rows/columns [next, n).
    for (size_t q = 0; q < width; ++q) {
      std::copy(w_columns + q * n + next, w_columns + q * n + n, swapped.data() + q * n + next);
      std::copy(v_columns + q * n + next, v_columns + q * n + n, swapped.data() + (width + q) * n + next);
    }
    Operand left;
    left.data = panel.data() + next;
    left.row_stride = 1;
    left.column_stride = n;
    left.scale = -1.0;
    Operand right = left;
    right.data = swapped.data() + next;
    right.scale = 1.0;
    lower_update(n - next, 2 * width, left, right, a + next * lda + next, lda, team, cancel);
  }
}

bool tridiagonal_eigenvalues(size_t n, double* d, double* e, double* last_components) {
  if (n == 0) return true;
  e[n - 1] = 0;
  if (last_components != nullptr) {
    std::fill(last_components, last_components + n, 0.0);
    last_components[n - 1] = 1.0;
  }
  constexpr double kEpsilon = std::numeric_limits<double>::epsilon();
  for (size_t l = 0; l < n; ++l) {
    int iterations = 0;
    for (;;) {
      size_t m = l;
      for (; m + 1 < n; ++m) {
        if (std::fabs(e[m]) <= kEpsilon * (std::fabs(d[m]) + std::fabs(d[m + 1]))) break;
      }
      if (m == l) break;
      if (++iterations > 60) return false;
      // Wilkinson-style shift from the leading 2 x 2 block.
      double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
      double r = safe_hypot(g, 1.0);
      g = d[m] - d[l] + e[l] / (g + std::copysign(r, g));
      double s = 1, c = 1, p = 0;
      bool deflated = false;
      for (size_t i = m; i-- > l;) {
        double f = s * e[i];
        const double b = c * e[i];
        r = safe_hypot(f, g);
        e[i + 1] = r;
        if (r == 0) {  // the rotation underflowed: split the matrix here and start over
          d[i + 1] -= p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2.0 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (last_components != nullptr) {
          f = last_components[i + 1];
          last_components[i + 1] = s * last_components[i] + c * f;
          last_components[i] = c * last_components[i] - s * f;
        }
      }
      if (deflated) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return true;
}

bool tridiagonal_eigenvalues_root_free(size_t n, double* d, double* e) {
  if (n == 0) return true;
  constexpr double kEpsilon = std::numeric_limits<double>::epsilon();
  constexpr double kEpsilonSquared = kEpsilon * kEpsilon;
  // Work on squared off-diagonal entries: the QL sweep then needs one division per rotation and no square root.
  for (size_t i = 0; i + 1 < n; ++i) e[i] = e[i] * e[i];
  e[n - 1] = 0;
  for (size_t l = 0; l < n; ++l) {
    int iterations = 0;
    for (;;) {
      size_t m = l;
      for (; m + 1 < n; ++m) {
        const double scale = std::fabs(d[m]) + std::fabs(d[m + 1]);
        if (e[m] <= kEpsilonSquared * scale * scale) break;
      }
      if (m == l) break;
      if (++iterations > 60) return false;
      // Shift: the eigenvalue of the leading 2 x 2 block nearer d[l].
      const double root = std::sqrt(e[l]);
      double sigma = (d[l + 1] - d[l]) / (2.0 * root);
      const double radius = safe_hypot(sigma, 1.0);
      sigma = d[l] - root / (sigma + std::copysign(radius, sigma));

      double c = 1, s = 0;
      double gamma = d[m] - sigma;
      double p = gamma * gamma;
      for (size_t i = m; i-- > l;) {
        const double bb = e[i];
        const double r = p + bb;
        if (i + 1 != m) e[i + 1] = s * r;
        const double old_c = c;
        c = p / r;
        s = bb / r;
        const double old_gamma = gamma;
        const double alpha = d[i];
        gamma = c * (alpha - sigma) - s * old_gamma;
        d[i + 1] = old_gamma + (alpha - gamma);
        p = c != 0 ? (gamma * gamma) / c : old_c * bb;
      }
      e[l] = s * p;
      d[l] = sigma + gamma;
    }
  }
  return true;
}

bool symmetric_eigenvalues(size_t n, double* a, size_t lda, double* eigenvalues, Team& team,
                           const CancelToken& cancel) {
  if (n == 0) return true;
  AlignedBuffer<double> off_diagonal(n);
  tridiagonalize_lower(n, a, lda, eigenvalues, off_diagonal.data(), team, cancel);
  if (!tridiagonal_eigenvalues_root_free(n, eigenvalues, off_diagonal.data())) return false;
  std::sort(eigenvalues, eigenvalues + n);
  return true;
}

}  // namespace zerolm
