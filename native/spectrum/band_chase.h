// Second stage of the two-stage tridiagonal reduction: a symmetric band matrix to tridiagonal form by
// Householder bulge chasing, in place. Included by kernels_scalar.cc and kernels_avx2.cc, so each table gets
// a copy compiled for its instruction set (the loops are short and vectorise well).
#pragma once
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>

// The includer may give these functions a target attribute (kernels_avx2.cc does).
#ifndef ZEROLM_BAND_CHASE_TARGET
#define ZEROLM_BAND_CHASE_TARGET
#endif

namespace zerolm {
namespace {  // internal linkage: each kernel table's file compiles its own copy with its own instruction set
namespace band_chase {

constexpr size_t kMaxBandwidth = 64;

// Four partial sums, so that the compiler may vectorise without reassociating a single sum.
ZEROLM_BAND_CHASE_TARGET inline double short_dot(size_t n, const double* x, const double* y) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i] * y[i];
    s1 += x[i + 1] * y[i + 1];
    s2 += x[i + 2] * y[i + 2];
    s3 += x[i + 3] * y[i + 3];
  }
  for (; i < n; ++i) s0 += x[i] * y[i];
  return (s0 + s1) + (s2 + s3);
}

// a: lower triangle, row-major, leading dimension lda. On entry a[r][c] = 0 for b < r - c < 2b (the bulges
// live there); entries further out are never read. Bandwidth b <= kMaxBandwidth.
ZEROLM_BAND_CHASE_TARGET inline bool reduce(size_t n, double* a, size_t lda, size_t b, double* d, double* e,
                   const std::atomic<bool>* cancel) {
  double v[kMaxBandwidth], w[kMaxBandwidth], u[kMaxBandwidth];
  for (size_t j = 0; j + 2 < n; ++j) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) return false;
    size_t c = j;      // column whose entries below row r0 are annihilated
    size_t r0 = j + 1; // first row of the reflector
    while (r0 + 1 < n) {
      const size_t len = std::min(b, n - r0);
      // Reflector H = I - tau v v^T with H x = beta e1, x = a[r0 .. r0 + len)[c].
      const double alpha = a[r0 * lda + c];
      double sigma = 0;
      for (size_t t = 1; t < len; ++t) {
        const double x = a[(r0 + t) * lda + c];
        sigma += x * x;
      }
      double tau = 0;
      if (sigma != 0) {
        const double norm = std::sqrt(alpha * alpha + sigma);
        const double beta = alpha <= 0 ? norm : -norm;
        tau = (beta - alpha) / beta;
        const double scale = 1.0 / (alpha - beta);
        v[0] = 1;
        for (size_t t = 1; t < len; ++t) {
          v[t] = a[(r0 + t) * lda + c] * scale;
          a[(r0 + t) * lda + c] = 0;
        }
        a[r0 * lda + c] = beta;

        // Left block: rows [r0, r0 + len), columns (c, r0). H L = L - tau v (v^T L).
        const size_t left = c + 1, left_width = r0 - c - 1;
        if (left_width > 0) {
          for (size_t q = 0; q < left_width; ++q) u[q] = 0;
          for (size_t t = 0; t < len; ++t) {
            const double* row = a + (r0 + t) * lda + left;
            for (size_t q = 0; q < left_width; ++q) u[q] += v[t] * row[q];
          }
          for (size_t t = 0; t < len; ++t) {
            double* row = a + (r0 + t) * lda + left;
            const double factor = tau * v[t];
            for (size_t q = 0; q < left_width; ++q) row[q] -= factor * u[q];
          }
        }

        // Diagonal block S (len x len, lower): S <- H S H = S - v w^T - w v^T.
        for (size_t t = 0; t < len; ++t) w[t] = 0;
        for (size_t t = 0; t < len; ++t) {
          const double* row = a + (r0 + t) * lda + r0;
          const double vt = v[t];
          for (size_t q = 0; q < t; ++q) w[q] += row[q] * vt;
          w[t] += short_dot(t, row, v) + row[t] * vt;
        }
        double wv = 0;
        for (size_t t = 0; t < len; ++t) {
          w[t] *= tau;
          wv += w[t] * v[t];
        }
        const double gamma = -0.5 * tau * wv;
        for (size_t t = 0; t < len; ++t) w[t] += gamma * v[t];
        for (size_t t = 0; t < len; ++t) {
          double* row = a + (r0 + t) * lda + r0;
          const double vt = v[t], wt = w[t];
          for (size_t q = 0; q <= t; ++q) row[q] -= vt * w[q] + wt * v[q];
        }

        // Rows below: [r0 + len, r0 + len + b), columns [r0, r0 + len). B H = B - tau (B v) v^T (fills a bulge).
        const size_t below_end = std::min(n, r0 + len + b);
        for (size_t r = r0 + len; r < below_end; ++r) {
          double* row = a + r * lda + r0;
          const double factor = tau * short_dot(len, row, v);
          for (size_t q = 0; q < len; ++q) row[q] -= factor * v[q];
        }
      }
      // Chase: the bulge's first column is column r0, below row r0 + len.
      c = r0;
      r0 += len;
    }
  }
  for (size_t i = 0; i < n; ++i) d[i] = a[i * lda + i];
  for (size_t i = 0; i + 1 < n; ++i) e[i] = a[(i + 1) * lda + i];
  return true;
}

}  // namespace band_chase
}  // namespace
}  // namespace zerolm
