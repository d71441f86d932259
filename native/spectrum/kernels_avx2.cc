// AVX2 + FMA kernels. This file alone is compiled with -mavx2 -mfma; it is only called after the CPU
// check in kernels_dispatch.cc.
#include <immintrin.h>

#include <cmath>

#include "kernels.h"

namespace zerolm {
namespace {

inline double horizontal_sum(__m256d v) {
  const __m128d low = _mm256_castpd256_pd128(v);
  const __m128d high = _mm256_extractf128_pd(v, 1);
  const __m128d pair = _mm_add_pd(low, high);  // (l0 + h0, l1 + h1)
  return _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
}

void stats_update_avx2(EntryStats& stats, const float* x, size_t n) {
  if (stats.count == 0 && n > 0) stats.shift = x[0];
  size_t i = 0;
  // Align to lane 0 so the vector lanes match the scalar lane numbering.
  double max_abs = stats.max_abs;
  while (i < n && (stats.count + i) % kStatLanes != 0) {
    const size_t lane = static_cast<size_t>((stats.count + i) % kStatLanes);
    const double value = x[i], centred = value - stats.shift;
    stats.shifted_sum[lane] += centred;
    stats.shifted_squares[lane] += centred * centred;
    stats.squares[lane] += value * value;
    max_abs = std::fmax(max_abs, std::fabs(value));
    ++i;
  }
  const __m256d shift = _mm256_set1_pd(stats.shift);
  __m256d sum_low = _mm256_loadu_pd(stats.shifted_sum), sum_high = _mm256_loadu_pd(stats.shifted_sum + 4);
  __m256d csq_low = _mm256_loadu_pd(stats.shifted_squares), csq_high = _mm256_loadu_pd(stats.shifted_squares + 4);
  __m256d sq_low = _mm256_loadu_pd(stats.squares), sq_high = _mm256_loadu_pd(stats.squares + 4);
  const __m256 sign_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 max_vector = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    const __m256 values = _mm256_loadu_ps(x + i);
    max_vector = _mm256_max_ps(max_vector, _mm256_and_ps(values, sign_mask));
    const __m256d low = _mm256_cvtps_pd(_mm256_castps256_ps128(values));
    const __m256d high = _mm256_cvtps_pd(_mm256_extractf128_ps(values, 1));
    const __m256d centred_low = _mm256_sub_pd(low, shift), centred_high = _mm256_sub_pd(high, shift);
    sum_low = _mm256_add_pd(sum_low, centred_low);
    sum_high = _mm256_add_pd(sum_high, centred_high);
    csq_low = _mm256_fmadd_pd(centred_low, centred_low, csq_low);
    csq_high = _mm256_fmadd_pd(centred_high, centred_high, csq_high);
    sq_low = _mm256_fmadd_pd(low, low, sq_low);
    sq_high = _mm256_fmadd_pd(high, high, sq_high);
  }
  _mm256_storeu_pd(stats.shifted_sum, sum_low);
  _mm256_storeu_pd(stats.shifted_sum + 4, sum_high);
  _mm256_storeu_pd(stats.shifted_squares, csq_low);
  _mm256_storeu_pd(stats.shifted_squares + 4, csq_high);
  _mm256_storeu_pd(stats.squares, sq_low);
  _mm256_storeu_pd(stats.squares + 4, sq_high);
  alignas(32) float maxima[8];
  _mm256_store_ps(maxima, max_vector);
  for (float m : maxima) max_abs = std::fmax(max_abs, static_cast<double>(m));
  for (; i < n; ++i) {
    const size_t lane = static_cast<size_t>((stats.count + i) % kStatLanes);
    const double value = x[i], centred = value - stats.shift;
    stats.shifted_sum[lane] += centred;
    stats.shifted_squares[lane] += centred * centred;
    stats.squares[lane] += value * value;
    max_abs = std::fmax(max_abs, std::fabs(value));
  }
  stats.max_abs = max_abs;
  stats.count += n;
}

// 6 x 8 register tile: 12 accumulators, two B vectors, one broadcast A value.
void micro_kernel_avx2(size_t depth, const double* a, const double* b, double* c, size_t ldc) {
  __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
  __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
  __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
  __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
  __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
  __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
#define ZEROLM_STEP(k)                                                  \
  {                                                                     \
    const __m256d b0 = _mm256_load_pd(b + (k) * kMicroCols);            \
    const __m256d b1 = _mm256_load_pd(b + (k) * kMicroCols + 4);        \
    const double* ak = a + (k) * kMicroRows;                            \
    __m256d av = _mm256_broadcast_sd(ak + 0);                           \
    c00 = _mm256_fmadd_pd(av, b0, c00);                                 \
    c01 = _mm256_fmadd_pd(av, b1, c01);                                 \
    av = _mm256_broadcast_sd(ak + 1);                                   \
    c10 = _mm256_fmadd_pd(av, b0, c10);                                 \
    c11 = _mm256_fmadd_pd(av, b1, c11);                                 \
    av = _mm256_broadcast_sd(ak + 2);                                   \
    c20 = _mm256_fmadd_pd(av, b0, c20);                                 \
    c21 = _mm256_fmadd_pd(av, b1, c21);                                 \
    av = _mm256_broadcast_sd(ak + 3);                                   \
    c30 = _mm256_fmadd_pd(av, b0, c30);                                 \
    c31 = _mm256_fmadd_pd(av, b1, c31);                                 \
    av = _mm256_broadcast_sd(ak + 4);                                   \
    c40 = _mm256_fmadd_pd(av, b0, c40);                                 \
    c41 = _mm256_fmadd_pd(av, b1, c41);                                 \
    av = _mm256_broadcast_sd(ak + 5);                                   \
    c50 = _mm256_fmadd_pd(av, b0, c50);                                 \
    c51 = _mm256_fmadd_pd(av, b1, c51);                                 \
  }
  size_t k = 0;
  for (; k + 4 <= depth; k += 4) {
    ZEROLM_STEP(k)
    ZEROLM_STEP(k + 1)
    ZEROLM_STEP(k + 2)
    ZEROLM_STEP(k + 3)
  }
  for (; k < depth; ++k) ZEROLM_STEP(k)
#undef ZEROLM_STEP
  double* row = c;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c00));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c01));
  row += ldc;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c10));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c11));
  row += ldc;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c20));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c21));
  row += ldc;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c30));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c31));
  row += ldc;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c40));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c41));
  row += ldc;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c50));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c51));
}

// One pass over each row: its dot with x (for y[r]) and its axpy into y[0..r) (the mirrored upper half).
void symv_lower_avx2(size_t n, const double* a, size_t lda, const double* x, double* y) {
  for (size_t r = 0; r < n; ++r) {
    const double* row = a + r * lda;
    const double xr = x[r];
    const __m256d xr_vector = _mm256_set1_pd(xr);
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    size_t j = 0;
    for (; j + 8 <= r; j += 8) {
      const __m256d a0 = _mm256_loadu_pd(row + j), a1 = _mm256_loadu_pd(row + j + 4);
      acc0 = _mm256_fmadd_pd(a0, _mm256_loadu_pd(x + j), acc0);
      acc1 = _mm256_fmadd_pd(a1, _mm256_loadu_pd(x + j + 4), acc1);
      _mm256_storeu_pd(y + j, _mm256_fmadd_pd(a0, xr_vector, _mm256_loadu_pd(y + j)));
      _mm256_storeu_pd(y + j + 4, _mm256_fmadd_pd(a1, xr_vector, _mm256_loadu_pd(y + j + 4)));
    }
    double tail = 0;
    for (; j < r; ++j) {
      tail += row[j] * x[j];
      y[j] += row[j] * xr;
    }
    y[r] += horizontal_sum(_mm256_add_pd(acc0, acc1)) + tail + row[r] * xr;
  }
}

double dot_avx2(size_t n, const double* x, const double* y) {
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i), acc0);
    acc1 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i + 4), _mm256_loadu_pd(y + i + 4), acc1);
  }
  double tail = 0;
  for (; i < n; ++i) tail += x[i] * y[i];
  return horizontal_sum(_mm256_add_pd(acc0, acc1)) + tail;
}

void axpy_avx2(size_t n, double alpha, const double* x, double* y) {
  const __m256d alpha_vector = _mm256_set1_pd(alpha);
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm256_storeu_pd(y + i, _mm256_fmadd_pd(alpha_vector, _mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

void gram_apply_avx2(size_t rows, size_t n, const float* w, const double* x, double* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * n;
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
      const __m256 values = _mm256_loadu_ps(row + j);
      acc0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(values)), _mm256_loadu_pd(x + j), acc0);
      acc1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(values, 1)), _mm256_loadu_pd(x + j + 4), acc1);
    }
    double tail = 0;
    for (; j < n; ++j) tail += static_cast<double>(row[j]) * x[j];
    const double projection = horizontal_sum(_mm256_add_pd(acc0, acc1)) + tail;
    const __m256d p = _mm256_set1_pd(projection);
    for (j = 0; j + 8 <= n; j += 8) {
      const __m256 values = _mm256_loadu_ps(row + j);
      _mm256_storeu_pd(y + j, _mm256_fmadd_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(values)), _mm256_loadu_pd(y + j)));
      _mm256_storeu_pd(y + j + 4,
                       _mm256_fmadd_pd(p, _mm256_cvtps_pd(_mm256_extractf128_ps(values, 1)), _mm256_loadu_pd(y + j + 4)));
    }
    for (; j < n; ++j) y[j] += projection * static_cast<double>(row[j]);
  }
}

const KernelTable kAvx2Table = {
    "avx2-fma", stats_update_avx2, micro_kernel_avx2, symv_lower_avx2, dot_avx2, axpy_avx2, gram_apply_avx2,
};

}  // namespace

const KernelTable& avx2_kernels() { return kAvx2Table; }

}  // namespace zerolm
