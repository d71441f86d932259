// Hot loops with two implementations: portable scalar (kernels_scalar.cc) and AVX2+FMA (kernels_avx2.cc).
// One table is chosen at load time from the CPU's features; ZEROLM_SIMD=scalar forces the scalar table.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "philox.h"

namespace zerolm {

// Register tile of the double-precision matrix-multiply micro-kernel: C[MR x NR] += A-panel * B-panel^T.
constexpr size_t kMicroRows = 6;
constexpr size_t kMicroCols = 8;

// Running sums over a float32 array in double precision. Lane j accumulates the elements whose index is
// j mod kStatLanes, in both implementations, so chunked updates (chunks multiple of kStatLanes) give the same
// result as one update over the whole array.
constexpr size_t kStatLanes = 8;
struct EntryStats {
  double shift = 0;                    // subtracted before the shifted sums: keeps the variance free of cancellation
  double shifted_sum[kStatLanes] = {};  // sum of (x - shift)
  double shifted_squares[kStatLanes] = {};
  double squares[kStatLanes] = {};      // sum of x^2
  double max_abs = 0;
  uint64_t count = 0;
};

// Source of a packed panel: element (i, t) is data[i * row_stride + t * column_stride] * scale.
struct PackSource {
  const void* data = nullptr;
  bool is_float = false;  // float32 (converted exactly to double) or double
  size_t row_stride = 0;
  size_t column_stride = 0;
  double scale = 1.0;
};

// Packs rows [first_row, first_row + valid_rows) x columns [t0, t0 + depth) as dst[t * width + r], rows from
// valid_rows to width zero-filled. Portable version; the kernel tables add fast paths for unit strides.
void pack_panel_generic(const PackSource& source, size_t first_row, size_t valid_rows, size_t width, size_t t0,
                        size_t depth, double* dst);

struct KernelTable {
  const char* name;
  // Philox fill of whole counters (see fill_counters_portable): bit-identical in every table.
  void (*fill_counters)(Distribution distribution, double scale, uint32_t seed, uint32_t stream,
                        uint64_t first_counter, size_t counters, float* out);
  // stats += x[0..n)
  void (*stats_update)(EntryStats& stats, const float* x, size_t n);
  void (*pack_panel)(const PackSource& source, size_t first_row, size_t valid_rows, size_t width, size_t t0,
                     size_t depth, double* dst);
  // c[r*ldc + j] += sum_k a[k*MR + r] * b[k*NR + j], r < MR, j < NR (packed panels, see dense.cc).
  void (*micro_kernel)(size_t depth, const double* a, const double* b, double* c, size_t ldc);
  // y[0..n) += A x, A symmetric n x n given by its lower triangle (row-major, leading dimension lda).
  void (*symv_lower)(size_t n, const double* a, size_t lda, const double* x, double* y);
  double (*dot)(size_t n, const double* x, const double* y);
  void (*axpy)(size_t n, double alpha, const double* x, double* y);  // y += alpha x
  // y[0..n) -= sum_{q<k} coefficients[q] * columns[q * ld + 0..n): one pass over y.
  void (*subtract_columns)(size_t n, size_t k, const double* columns, size_t ld, const double* coefficients, double* y);
  // out[q] = columns[q * ld + 0..n) . x for q < k: one pass over x per four columns.
  void (*dot_columns)(size_t n, size_t k, const double* columns, size_t ld, const double* x, double* out);
  // Band (bandwidth b, bulge area zeroed) to tridiagonal d, e in place; false if *cancel became true.
  bool (*band_to_tridiagonal)(size_t n, double* a, size_t lda, size_t b, double* d, double* e,
                              const std::atomic<bool>* cancel);
  // y[0..n) += (w . x) w for every row w of the row-major float matrix (rows x n): y += W^T W x.
  void (*gram_apply)(size_t rows, size_t n, const float* w, const double* x, double* y);
  // t[0..n) += sum_r x[r] w_r over the rows w_r of the row-major float matrix (rows x n): t += W^T x.
  void (*combine_rows)(size_t rows, size_t n, const float* w, const double* x, double* t);
  // y[r] = w_r . u for every row w_r of the row-major float matrix (rows x n): y = W u.
  void (*dot_rows)(size_t rows, size_t n, const float* w, const double* u, double* y);
};

const KernelTable& scalar_kernels();
#if defined(ZEROLM_HAVE_X86)
const KernelTable& avx2_kernels();
#endif

// The active table (chosen once, on first use).
const KernelTable& kernels();
// "avx2-fma" or "scalar".
const char* active_simd();

}  // namespace zerolm
