// Spectrum statistics of float32 matrices, one job per matrix, many jobs per batch on a team of threads.
// This is the engine's whole public surface; it knows nothing of JavaScript.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "philox.h"

namespace zerolm {

enum class Route { Full, SumSquares, LogDet, Top };

// Where a recipe's spectrum comes from: the generated weights, or (normal only) the bidiagonal model of
// bidiagonal.h, which draws the same joint law of singular values without the matrix.
enum class Generator { Weights, Bidiagonal };

struct MatrixJob {
  size_t rows = 0, cols = 0;
  const float* values = nullptr;  // row-major rows x cols, borrowed; null: generate from the recipe below
  Distribution distribution = Distribution::Normal;
  double scale = 1.0;  // standard deviation (normal) or bound (uniform)
  uint32_t seed = 0, stream = 0;
  Route route = Route::Full;
  Generator generator = Generator::Weights;  // recipes only
};

struct SpectrumResult {
  // Entry statistics; variance divides by rows*cols. The bidiagonal model has no entries: sum_squares is the
  // (equal in law) sum of squared singular values, and max_abs, mean and variance are NaN.
  double sum_squares = 0, max_abs = 0, mean = 0, variance = 0;
  std::vector<double> singular_values;                           // Full: descending, min(rows, cols) values
  bool has_log_det = false, has_top = false;
  double log_det = 0;  // sum ln(1 + s_i^2)
  double top = 0;      // largest singular value
};

enum class BatchStatus { Ok, Cancelled, Failed };

struct BatchOutcome {
  BatchStatus status = BatchStatus::Ok;
  std::string message;  // for Failed: which job and why
};

struct BatchControl {
  std::atomic<bool> cancel{false};
  // Called after each finished job with the number finished so far (from any engine thread, serialised).
  std::function<void(size_t done)> on_job_done;
};

// Checks a job cheaply (shape, pointer, scale); returns an empty string when valid.
std::string validate_job(const MatrixJob& job);

// Runs all jobs with up to `threads` threads of the process's pool (team.h); results[i] belongs to jobs[i], and
// never depends on `threads` or on the pool's limit. Never throws.
BatchOutcome run_batch(const std::vector<MatrixJob>& jobs, std::vector<SpectrumResult>& results, int threads,
                       BatchControl& control);

}  // namespace zerolm
