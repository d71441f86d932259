// Portable kernels. Same lane structure as the AVX2 ones so that both round alike wherever they can.
#include <cmath>

#include "band_chase.h"
#include "kernels.h"

namespace zerolm {

namespace {

template <typename Source>
void pack_typed(const PackSource& source, size_t first_row, size_t valid_rows, size_t width, size_t t0, size_t depth,
                double* dst) {
  const Source* data = static_cast<const Source*>(source.data);
  const double scale = source.scale;
  if (source.column_stride == 1) {
    for (size_t r = 0; r < width; ++r) {
      if (r < valid_rows) {
        const Source* row = data + (first_row + r) * source.row_stride + t0;
        for (size_t t = 0; t < depth; ++t) dst[t * width + r] = static_cast<double>(row[t]) * scale;
      } else {
        for (size_t t = 0; t < depth; ++t) dst[t * width + r] = 0.0;
      }
    }
  } else {
    for (size_t t = 0; t < depth; ++t) {
      const Source* column = data + (t0 + t) * source.column_stride + first_row * source.row_stride;
      double* out = dst + t * width;
      for (size_t r = 0; r < valid_rows; ++r) out[r] = static_cast<double>(column[r * source.row_stride]) * scale;
      for (size_t r = valid_rows; r < width; ++r) out[r] = 0.0;
    }
  }
}

}  // namespace

void pack_panel_generic(const PackSource& source, size_t first_row, size_t valid_rows, size_t width, size_t t0,
                        size_t depth, double* dst) {
  if (source.is_float)
    pack_typed<float>(source, first_row, valid_rows, width, t0, depth, dst);
  else
    pack_typed<double>(source, first_row, valid_rows, width, t0, depth, dst);
}

namespace {

void stats_update_scalar(EntryStats& stats, const float* x, size_t n) {
  if (stats.count == 0 && n > 0) stats.shift = x[0];
  const double shift = stats.shift;
  const size_t lane_offset = static_cast<size_t>(stats.count % kStatLanes);
  double max_abs = stats.max_abs;
  for (size_t i = 0; i < n; ++i) {
    const size_t lane = (lane_offset + i) % kStatLanes;
    const double value = x[i];
    const double centred = value - shift;
    stats.shifted_sum[lane] += centred;
    stats.shifted_squares[lane] += centred * centred;
    stats.squares[lane] += value * value;
    const double magnitude = std::fabs(value);
    if (magnitude > max_abs) max_abs = magnitude;
  }
  stats.max_abs = max_abs;
  stats.count += n;
}

void micro_kernel_scalar(size_t depth, const double* a, const double* b, double* c, size_t ldc) {
  double acc[kMicroRows][kMicroCols] = {};
  for (size_t k = 0; k < depth; ++k) {
    const double* ak = a + k * kMicroRows;
    const double* bk = b + k * kMicroCols;
    for (size_t r = 0; r < kMicroRows; ++r)
      for (size_t j = 0; j < kMicroCols; ++j) acc[r][j] += ak[r] * bk[j];
  }
  for (size_t r = 0; r < kMicroRows; ++r)
    for (size_t j = 0; j < kMicroCols; ++j) c[r * ldc + j] += acc[r][j];
}

void symv_lower_scalar(size_t n, const double* a, size_t lda, const double* x, double* y) {
  for (size_t r = 0; r < n; ++r) {
    const double* row = a + r * lda;
    const double xr = x[r];
    double acc[4] = {0, 0, 0, 0};
    size_t j = 0;
    for (; j + 4 <= r; j += 4) {
      for (size_t l = 0; l < 4; ++l) {
        acc[l] += row[j + l] * x[j + l];
        y[j + l] += row[j + l] * xr;
      }
    }
    double tail = 0;
    for (; j < r; ++j) {
      tail += row[j] * x[j];
      y[j] += row[j] * xr;
    }
    y[r] += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail + row[r] * xr;
  }
}

double dot_scalar(size_t n, const double* x, const double* y) {
  double acc[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (size_t l = 0; l < 4; ++l) acc[l] += x[i + l] * y[i + l];
  double tail = 0;
  for (; i < n; ++i) tail += x[i] * y[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail;
}

void axpy_scalar(size_t n, double alpha, const double* x, double* y) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void subtract_columns_scalar(size_t n, size_t k, const double* columns, size_t ld, const double* coefficients,
                             double* y) {
  for (size_t q = 0; q < k; ++q) {
    const double* column = columns + q * ld;
    const double coefficient = coefficients[q];
    for (size_t i = 0; i < n; ++i) y[i] -= coefficient * column[i];
  }
}

void dot_columns_scalar(size_t n, size_t k, const double* columns, size_t ld, const double* x, double* out) {
  for (size_t q = 0; q < k; ++q) out[q] = dot_scalar(n, columns + q * ld, x);
}

void gram_apply_scalar(size_t rows, size_t n, const float* w, const double* x, double* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * n;
    double acc[4] = {0, 0, 0, 0};
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
      for (size_t l = 0; l < 4; ++l) acc[l] += static_cast<double>(row[j + l]) * x[j + l];
    double tail = 0;
    for (; j < n; ++j) tail += static_cast<double>(row[j]) * x[j];
    const double projection = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail;
    for (j = 0; j < n; ++j) y[j] += projection * static_cast<double>(row[j]);
  }
}

bool band_to_tridiagonal_scalar(size_t n, double* a, size_t lda, size_t b, double* d, double* e,
                                const std::atomic<bool>* cancel) {
  return band_chase::reduce(n, a, lda, b, d, e, cancel);
}

void combine_rows_scalar(size_t rows, size_t n, const float* w, const double* x, double* t) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * n;
    const double xr = x[r];
    for (size_t j = 0; j < n; ++j) t[j] += xr * static_cast<double>(row[j]);
  }
}

void dot_rows_scalar(size_t rows, size_t n, const float* w, const double* u, double* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * n;
    double acc[4] = {0, 0, 0, 0};
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
      for (size_t lane = 0; lane < 4; ++lane) acc[lane] += static_cast<double>(row[j + lane]) * u[j + lane];
    double tail = 0;
    for (; j < n; ++j) tail += static_cast<double>(row[j]) * u[j];
    y[r] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail;
  }
}

const KernelTable kScalarTable = {
    "scalar",       fill_counters_portable, stats_update_scalar, pack_panel_generic, micro_kernel_scalar, symv_lower_scalar,
    dot_scalar,     axpy_scalar,         subtract_columns_scalar, dot_columns_scalar, band_to_tridiagonal_scalar,
    gram_apply_scalar, combine_rows_scalar, dot_rows_scalar,
};

}  // namespace

const KernelTable& scalar_kernels() { return kScalarTable; }

}  // namespace zerolm
