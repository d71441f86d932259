// Dense double-precision building blocks on row-major storage: the lower-triangular rank-k update that serves
// the Gram matrix, the symmetric rank-2k update and the Cholesky trailing update; and the Cholesky log-determinant.
#pragma once
#include <cstddef>

#include "team.h"

namespace zerolm {

// Element (i, t) of a p x k operand is data[i * row_stride + t * column_stride] * scale.
struct Operand {
  const void* data = nullptr;
  bool is_float = false;  // float32 source (converted exactly to double while packing) or double
  size_t row_stride = 0;
  size_t column_stride = 0;
  double scale = 1.0;
};

// C[i][j] += sum_t X(i, t) * Y(j, t) for 0 <= j <= i < p (entries just above the diagonal, inside diagonal
// register tiles, are written too; symmetric callers ignore them). Tiles are fixed by p alone and every entry is
// summed in one fixed order, so the result does not depend on the team's size.
void lower_update(size_t p, size_t k, const Operand& x, const Operand& y, double* c, size_t ldc, Team& team,
                  const CancelToken& cancel);

// C[i][j] += sum_t X(i, t) * Y(j, t) for i < m, j < n (row-major C); same fixed order as lower_update.
void multiply_accumulate(size_t m, size_t n, size_t k, const Operand& x, const Operand& y, double* c, size_t ldc,
                         Team& team, const CancelToken& cancel);

// G = W W^T (rows <= cols) or W^T W (rows > cols): the Gram matrix of the smaller side, p = min(rows, cols),
// lower triangle of g (p x p, leading dimension p) filled; float products are exact in double.
void gram_lower(const float* w, size_t rows, size_t cols, double* g, Team& team, const CancelToken& cancel);

// ln det(I + G) for symmetric positive semidefinite G (lower triangle, n x n, leading dimension lda) by blocked
// Cholesky of I + G, the identity kept apart so that ln(1 + pivot excess) stays exact for tiny G; G is
// overwritten. Returns NaN when a pivot is not finite or is swamped by rounding (cancellation of order
// eps * G_jj against an exact pivot >= 1): the caller should then use eigenvalues instead.
double cholesky_log_det_identity_plus(size_t n, double* a, size_t lda, Team& team, const CancelToken& cancel);

// ln det(I + G), G the Gram matrix of the smaller side of row-major w (rows x cols), by Householder QR of the
// stacked [B; I] (B the tall orientation of w): accurate where the Cholesky of I + G is swamped by rounding
// (entries ~1e8 and above, rank-deficient). O((rows + cols) p^2), one thread; NaN only for non-finite input.
double qr_log_det_identity_plus(const float* w, size_t rows, size_t cols, const CancelToken& cancel);

}  // namespace zerolm
