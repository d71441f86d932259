#include "dense.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "aligned_buffer.h"
#include "kernels.h"

namespace zerolm {
namespace {

constexpr size_t kDepthBlock = 256;  // k-extent of packed panels: an 8-column B micro-panel (16 KiB) stays in L1
constexpr size_t kTile = 96;         // C tile per task: 16 x 12 register tiles, A block of 192 KiB in L2
constexpr size_t kPackChunk = 16;    // micro-panels packed per task

static_assert(kTile % kMicroRows == 0 && kTile % kMicroCols == 0, "tile must hold whole register tiles");

// Packs rows [0, p) x columns [t0, t0 + depth) of op into micro-panels of `width` rows.
void pack_operand(const Operand& op, size_t p, size_t width, size_t t0, size_t depth, double* dst, Team& team) {
  const KernelTable& kernel = kernels();
  PackSource source;
  source.data = op.data;
  source.is_float = op.is_float;
  source.row_stride = op.row_stride;
  source.column_stride = op.column_stride;
  source.scale = op.scale;
  const size_t panels = (p + width - 1) / width;
  const size_t chunks = (panels + kPackChunk - 1) / kPackChunk;
  team.run(chunks, [&](size_t chunk) {
    const size_t end = std::min(panels, (chunk + 1) * kPackChunk);
    for (size_t panel = chunk * kPackChunk; panel < end; ++panel) {
      const size_t first_row = panel * width;
      const size_t valid = std::min(width, p - first_row);
      double* out = dst + panel * width * depth;
      kernel.pack_panel(source, first_row, valid, width, t0, depth, out);
    }
  });
}

}  // namespace

namespace {

// C[i][j] += sum_t X(i, t) Y(j, t) over i < m, j < n (only j <= i, at register-tile granularity, if lower).
void update_tiles(size_t m, size_t n, size_t k, const Operand& x, const Operand& y, double* c, size_t ldc,
                  bool lower, Team& team, const CancelToken& cancel) {
  if (m == 0 || n == 0 || k == 0) return;
  const KernelTable& kernel = kernels();
  const size_t a_panels = (m + kMicroRows - 1) / kMicroRows;
  const size_t b_panels = (n + kMicroCols - 1) / kMicroCols;
  const size_t block_depth = std::min(k, kDepthBlock);
  AlignedBuffer<double> packed_a(a_panels * kMicroRows * block_depth);
  AlignedBuffer<double> packed_b(b_panels * kMicroCols * block_depth);
  const size_t row_tiles = (m + kTile - 1) / kTile;
  const size_t col_tiles = (n + kTile - 1) / kTile;
  std::vector<std::pair<size_t, size_t>> tiles;
  for (size_t ib = 0; ib < row_tiles; ++ib)
    for (size_t jb = 0; jb < col_tiles && (!lower || jb <= ib); ++jb) tiles.emplace_back(ib, jb);

  for (size_t t0 = 0; t0 < k; t0 += kDepthBlock) {
    cancel.check();
    const size_t depth = std::min(kDepthBlock, k - t0);
    pack_operand(x, m, kMicroRows, t0, depth, packed_a.data(), team);
    pack_operand(y, n, kMicroCols, t0, depth, packed_b.data(), team);
    team.run(tiles.size(), [&](size_t task) {
      if (cancel.requested()) return;  // the check after the block throws
      const size_t i0 = tiles[task].first * kTile, j0 = tiles[task].second * kTile;
      const size_t i_end = std::min(m, i0 + kTile), j_end = std::min(n, j0 + kTile);
      alignas(32) double edge[kMicroRows * kMicroCols];
      for (size_t col = j0; col < j_end; col += kMicroCols) {
        const double* b_panel = packed_b.data() + (col / kMicroCols) * kMicroCols * depth;
        const size_t valid_cols = std::min(kMicroCols, j_end - col);
        for (size_t row = i0; row < i_end; row += kMicroRows) {
          if (lower && col > row + kMicroRows - 1) continue;  // register tile entirely above the diagonal
          const double* a_panel = packed_a.data() + (row / kMicroRows) * kMicroRows * depth;
          const size_t valid_rows = std::min(kMicroRows, i_end - row);
          if (valid_rows == kMicroRows && valid_cols == kMicroCols) {
            kernel.micro_kernel(depth, a_panel, b_panel, c + row * ldc + col, ldc);
          } else {
            std::fill(edge, edge + kMicroRows * kMicroCols, 0.0);
            kernel.micro_kernel(depth, a_panel, b_panel, edge, kMicroCols);
            for (size_t r = 0; r < valid_rows; ++r)
              for (size_t j = 0; j < valid_cols; ++j) c[(row + r) * ldc + col + j] += edge[r * kMicroCols + j];
          }
        }
      }
    });
  }
  cancel.check();
}

}  // namespace

void lower_update(size_t p, size_t k, const Operand& x, const Operand& y, double* c, size_t ldc, Team& team,
                  const CancelToken& cancel) {
  update_tiles(p, p, k, x, y, c, ldc, true, team, cancel);
}

void multiply_accumulate(size_t m, size_t n, size_t k, const Operand& x, const Operand& y, double* c, size_t ldc,
                         Team& team, const CancelToken& cancel) {
  update_tiles(m, n, k, x, y, c, ldc, false, team, cancel);
}

void gram_lower(const float* w, size_t rows, size_t cols, double* g, Team& team, const CancelToken& cancel) {
  const bool wide = rows <= cols;
  const size_t p = wide ? rows : cols;
  const size_t k = wide ? cols : rows;
  std::fill(g, g + p * p, 0.0);
  Operand operand;
  operand.data = w;
  operand.is_float = true;
  operand.row_stride = wide ? cols : 1;
  operand.column_stride = wide ? 1 : cols;
  lower_update(p, k, operand, operand, g, p, team, cancel);
}

double cholesky_log_det_identity_plus(size_t n, double* a, size_t lda, Team& team, const CancelToken& cancel) {
  constexpr size_t kBlock = 96;
  // A pivot d_j of I + G is trusted while its rounding error, of order eps * G_jj (the cancellation in
  // G_jj - sum l^2), stays below kPivotAccuracy of 1 + d_j. Every exact pivot is at least 1 (a Schur complement
  // of a matrix whose eigenvalues are all >= 1), so for weights of ordinary size (G_jj up to ~1e6) the test never
  // fires; for rank-deficient matrices with entries ~1e8 it catches pivots that are pure rounding noise.
  constexpr double kPivotAccuracy = 1e-9;
  const double epsilon = std::numeric_limits<double>::epsilon();
  std::vector<double> original_diagonal(n);
  for (size_t i = 0; i < n; ++i) original_diagonal[i] = std::fabs(a[i * lda + i]);
  const KernelTable& kernel = kernels();
  double log_det = 0;
  for (size_t j0 = 0; j0 < n; j0 += kBlock) {
    cancel.check();
    const size_t jb = std::min(kBlock, n - j0);
    // Diagonal block, row by row (Cholesky-Banachiewicz): dot products over contiguous row segments.
    for (size_t i = j0; i < j0 + jb; ++i) {
      double* row_i = a + i * lda;
      for (size_t j = j0; j <= i; ++j) {
        const double* row_j = a + j * lda;
        const double s = row_i[j] - kernel.dot(j - j0, row_i + j0, row_j + j0);
        if (j < i) {
          row_i[j] = s / row_j[j];
        } else {
          // s is the pivot less the identity's 1, kept apart so that ln(1 + s) keeps tiny s exactly.
          if (!std::isfinite(s) || !(epsilon * original_diagonal[i] <= kPivotAccuracy * (1.0 + std::fabs(s))) ||
              !(s > -0.5))
            return std::numeric_limits<double>::quiet_NaN();
          const double excess = std::max(0.0, s);  // the exact excess is >= 0; a tiny negative one is rounding
          row_i[i] = std::sqrt(1.0 + excess);
          log_det += std::log1p(excess);
        }
      }
    }
    if (j0 + jb >= n) break;
    // Panel below: L21 = A21 L11^-T, each row independently.
    const size_t below = n - j0 - jb;
    const size_t row_chunks = (below + 63) / 64;
    team.run(row_chunks, [&](size_t chunk) {
      const size_t first = j0 + jb + chunk * 64, last = std::min(n, first + 64);
      for (size_t i = first; i < last; ++i) {
        double* row_i = a + i * lda;
        for (size_t j = j0; j < j0 + jb; ++j) {
          const double* row_j = a + j * lda;
          row_i[j] = (row_i[j] - kernel.dot(j - j0, row_i + j0, row_j + j0)) / row_j[j];
        }
      }
    });
    // Trailing update: A22 -= L21 L21^T (the diagonal still holds G's part only).
    Operand panel;
    panel.data = a + (j0 + jb) * lda + j0;
    panel.row_stride = lda;
    panel.column_stride = 1;
    Operand negated = panel;
    negated.scale = -1.0;
    lower_update(below, jb, negated, panel, a + (j0 + jb) * lda + j0 + jb, lda, team, cancel);
  }
  return log_det;
}

double qr_log_det_identity_plus(const float* w, size_t rows, size_t cols, const CancelToken& cancel) {
  // ln det(I + B^T B) = 2 sum ln |R_jj| for B = W^T (wide W) or W (tall W), k x p, and [B; I_p] = Q R.
  // Householder QR is backward stable on the stacked matrix, so each singular value of B is perturbed by about
  // eps * ||B|| rather than each eigenvalue of B^T B by eps * ||B||^2: rank-deficient matrices with huge entries
  // keep their exact-zero directions at ln(1 + ~0) instead of ln(1 + rounding noise).
  const bool wide = rows <= cols;
  const size_t p = wide ? rows : cols;
  const size_t k = wide ? cols : rows;
  const size_t height = k + p;
  std::vector<double> a(height * p, 0.0);  // column-major: column j at a[j * height]
  for (size_t j = 0; j < p; ++j) {
    double* column = a.data() + j * height;
    for (size_t t = 0; t < k; ++t) column[t] = static_cast<double>(wide ? w[j * cols + t] : w[t * cols + j]);
    column[k + j] = 1.0;
  }
  double log_det = 0;
  for (size_t j = 0; j < p; ++j) {
    cancel.check();
    double* x = a.data() + j * height;
    // Rows below k + j of the identity part are still zero in this and later columns, so the reflector's support
    // is rows [j, k + j].
    const size_t last = k + j + 1;
    double largest = 0;
    for (size_t r = j; r < last; ++r) largest = std::max(largest, std::fabs(x[r]));
    if (!(largest > 0) || !std::isfinite(largest)) return std::numeric_limits<double>::quiet_NaN();
    double norm_squared = 0;
    for (size_t r = j; r < last; ++r) norm_squared += (x[r] / largest) * (x[r] / largest);
    const double norm = largest * std::sqrt(norm_squared);
    const double alpha = x[j] > 0 ? -norm : norm;
    log_det += 2.0 * std::log(norm);
    // v = x - alpha e_j stored in place; v^T v = 2 norm (norm + |x_j|).
    const double head = x[j] - alpha;
    const double v_norm_squared = 2.0 * norm * (norm + std::fabs(x[j]));
    x[j] = head;
    for (size_t c = j + 1; c < p; ++c) {
      double* y = a.data() + c * height;
      double dot = 0;
      for (size_t r = j; r < last; ++r) dot += x[r] * y[r];
      const double factor = 2.0 * dot / v_norm_squared;
      for (size_t r = j; r < last; ++r) y[r] -= factor * x[r];
    }
  }
  return log_det;
}

}  // namespace zerolm
