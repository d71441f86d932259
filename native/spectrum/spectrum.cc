#include "spectrum.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <new>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "aligned_buffer.h"
#include "bidiagonal.h"
#include "dense.h"
#include "kernels.h"
#include "lanczos.h"
#include "symmetric_eigen.h"
#include "team.h"

namespace zerolm {
namespace {

constexpr size_t kFillChunk = 1 << 16;  // values generated per step when streaming (a multiple of kStatLanes)

void finish_stats(const EntryStats& stats, SpectrumResult& result) {
  double shifted_sum = 0, shifted_squares = 0, squares = 0;
  for (size_t lane = 0; lane < kStatLanes; ++lane) {
    shifted_sum += stats.shifted_sum[lane];
    shifted_squares += stats.shifted_squares[lane];
    squares += stats.squares[lane];
  }
  const double count = static_cast<double>(stats.count);
  const double shifted_mean = shifted_sum / count;
  result.sum_squares = squares;
  result.max_abs = stats.max_abs;
  result.mean = stats.shift + shifted_mean;
  result.variance = std::max(0.0, shifted_squares / count - shifted_mean * shifted_mean);
}

double job_cost(const MatrixJob& job) {
  const double m = static_cast<double>(job.rows), n = static_cast<double>(job.cols);
  const double p = std::min(m, n);
  if (job.generator == Generator::Bidiagonal) return job.route == Route::Full ? 10.0 * p * p : 60.0 * p;
  switch (job.route) {
    case Route::SumSquares: return m * n;
    case Route::Top: return 200.0 * m * n;
    case Route::LogDet: return m * n * p + p * p * p / 3.0;
    case Route::Full: default: return m * n * p + 2.0 * p * p * p;
  }
}

// Ascending eigenvalues of a Gram matrix -> the result's singular values (descending), log_det and top.
void set_full_spectrum(const std::vector<double>& eigenvalues, SpectrumResult& result) {
  const size_t p = eigenvalues.size();
  double log_det = 0;
  for (size_t i = 0; i < p; ++i) log_det += std::log1p(std::max(0.0, eigenvalues[p - 1 - i]));  // descending
  result.has_log_det = true;
  result.log_det = log_det;
  result.singular_values.resize(p);
  for (size_t i = 0; i < p; ++i) result.singular_values[i] = std::sqrt(std::max(0.0, eigenvalues[p - 1 - i]));
  result.has_top = true;
  result.top = p > 0 ? result.singular_values[0] : 0.0;
}

bool is_bidiagonal_full(const MatrixJob& job) {
  return job.generator == Generator::Bidiagonal && job.route == Route::Full;
}

// Draws the job's bidiagonal and fills every result its route needs except, for Route::Full, the spectrum: that is
// left as B^T B in (t_diagonal, t_off) for the tridiagonal eigenvalue solver.
void start_bidiagonal_job(const MatrixJob& job, SpectrumResult& result, std::vector<double>& t_diagonal,
                          std::vector<double>& t_off) {
  std::vector<double> diagonal, super;
  draw_gaussian_bidiagonal(job.rows, job.cols, job.scale, job.seed, job.stream, diagonal, super);
  const double not_a_number = std::numeric_limits<double>::quiet_NaN();
  double sum_squares = 0;
  for (double d : diagonal) sum_squares += d * d;
  for (double e : super) sum_squares += e * e;
  result.sum_squares = sum_squares;
  result.max_abs = result.mean = result.variance = not_a_number;
  switch (job.route) {
    case Route::SumSquares: return;
    case Route::LogDet:
      result.has_log_det = true;
      result.log_det = bidiagonal_log_det_identity_plus(diagonal, super);
      return;
    case Route::Top:
      result.has_top = true;
      result.top = bidiagonal_top(diagonal, super);
      return;
    case Route::Full:
      bidiagonal_gram(diagonal, super, t_diagonal, t_off);
      return;
  }
}

void finish_bidiagonal_full(bool converged, std::vector<double>& eigenvalues, SpectrumResult& result) {
  if (!converged) throw std::runtime_error("the tridiagonal QL iteration did not converge");
  std::sort(eigenvalues.begin(), eigenvalues.end());
  set_full_spectrum(eigenvalues, result);
}

void compute_bidiagonal_job(const MatrixJob& job, SpectrumResult& result, const CancelToken& cancel) {
  std::vector<double> eigenvalues, off;
  start_bidiagonal_job(job, result, eigenvalues, off);
  if (job.route != Route::Full) return;
  finish_bidiagonal_full(tridiagonal_eigenvalues_root_free(eigenvalues.size(), eigenvalues.data(), off.data(), &cancel),
                         eigenvalues, result);
}

// Runs `body`, the work of `who` ("job 3", "jobs 3 and 7"); returns an empty string or what went wrong.
// Cancellation passes through as Cancelled.
template <typename Body>
std::string failure_of(const std::string& who, Body body) {
  try {
    body();
    return std::string();
  } catch (const std::bad_alloc&) {
    return who + ": out of memory";
  } catch (const std::exception& error) {
    return who + ": " + error.what();
  }
}

std::string job_name(size_t index) { return "job " + std::to_string(index); }

// Two Route::Full bidiagonal jobs with their eigenvalue problems interleaved; the same bits as one at a time.
// Returns an empty string or what went wrong, naming the job it went wrong in (both, for the shared solve).
std::string run_bidiagonal_pair(const MatrixJob& first, SpectrumResult& first_result, const MatrixJob& second,
                                SpectrumResult& second_result, const CancelToken& cancel, size_t first_index,
                                size_t second_index) {
  first_result = SpectrumResult{};
  second_result = SpectrumResult{};
  std::vector<double> first_eigenvalues, first_off, second_eigenvalues, second_off;
  std::string failure = failure_of(job_name(first_index), [&] {
    start_bidiagonal_job(first, first_result, first_eigenvalues, first_off);
  });
  if (failure.empty())
    failure = failure_of(job_name(second_index), [&] {
      start_bidiagonal_job(second, second_result, second_eigenvalues, second_off);
    });
  RootFreePairOutcome outcome{};
  if (failure.empty())
    failure = failure_of("jobs " + std::to_string(first_index) + " and " + std::to_string(second_index), [&] {
      outcome = tridiagonal_eigenvalues_root_free_pair(first_eigenvalues.size(), first_eigenvalues.data(),
                                                       first_off.data(), second_eigenvalues.size(),
                                                       second_eigenvalues.data(), second_off.data(), &cancel);
    });
  if (failure.empty())
    failure = failure_of(job_name(first_index), [&] {
      finish_bidiagonal_full(outcome.first_converged, first_eigenvalues, first_result);
    });
  if (failure.empty())
    failure = failure_of(job_name(second_index), [&] {
      finish_bidiagonal_full(outcome.second_converged, second_eigenvalues, second_result);
    });
  return failure;
}

void compute_job(const MatrixJob& job, SpectrumResult& result, Team& team, const CancelToken& cancel) {
  result = SpectrumResult{};
  if (job.generator == Generator::Bidiagonal) {
    compute_bidiagonal_job(job, result, cancel);
    return;
  }
  const KernelTable& kernel = kernels();
  const size_t count = job.rows * job.cols;
  EntryStats stats;

  if (job.route == Route::SumSquares && job.values == nullptr) {
    // Stream: generate and reduce a chunk at a time, never holding the matrix.
    std::vector<float> chunk(std::min(count, kFillChunk));
    for (size_t first = 0; first < count; first += kFillChunk) {
      cancel.check();
      const size_t length = std::min(kFillChunk, count - first);
      fill_values(job.distribution, job.scale, job.seed, job.stream, first, length, chunk.data());
      kernel.stats_update(stats, chunk.data(), length);
    }
    finish_stats(stats, result);
    return;
  }

  AlignedBuffer<float> generated;
  const float* w = job.values;
  if (w == nullptr) {
    generated.reset(count);
    // Every value depends only on its index, so chunks may be filled by any thread.
    const size_t chunks = (count + kFillChunk - 1) / kFillChunk;
    team.run(chunks, [&](size_t chunk) {
      if (cancel.requested()) return;
      const size_t first = chunk * kFillChunk;
      fill_values(job.distribution, job.scale, job.seed, job.stream, first, std::min(kFillChunk, count - first),
                  generated.data() + first);
    });
    cancel.check();
    w = generated.data();
  }
  for (size_t first = 0; first < count; first += kFillChunk) {
    cancel.check();
    kernel.stats_update(stats, w + first, std::min(kFillChunk, count - first));
  }
  finish_stats(stats, result);
  if (job.route == Route::SumSquares) return;

  if (job.route == Route::Top) {
    result.has_top = true;
    result.top = std::sqrt(std::max(0.0, top_gram_eigenvalue(w, job.rows, job.cols, team, cancel)));
    return;
  }

  // Gram matrix in float64 (float32 products are exact in double). Measured on U diag(s) V^T test matrices:
  // float32 accumulation (numpy's float32 syrk + eigvalsh) misses the 1e-4 bar for rank-deficient matrices,
  // 2.8e-4 (150 x 100, rank 10) and 1.4e-4 (1024 x 1024, rank 100) of s_max, because a Gram error of
  // eps32 * ||G|| turns into sqrt(eps32) * s_max for zero singular values; float64 gives 1e-8 (the float32
  // rounding of the test matrix itself) on every shape up to 4096 x 4096.
  const size_t p = std::min(job.rows, job.cols);
  AlignedBuffer<double> gram(p * p);
  gram_lower(w, job.rows, job.cols, gram.data(), team, cancel);

  if (job.route == Route::LogDet) {
    // Fast path: Cholesky of I + G. The matrix is kept until it succeeds (no higher peak than during
    // gram_lower), so that a swamped pivot (large rank-deficient W) can fall back to QR of [W; I].
    const double log_det = cholesky_log_det_identity_plus(p, gram.data(), p, team, cancel);
    if (std::isfinite(log_det)) {
      result.has_log_det = true;
      result.log_det = log_det;
      return;
    }
    gram.release();
    const double stable_log_det = qr_log_det_identity_plus(w, job.rows, job.cols, cancel);
    if (!std::isfinite(stable_log_det)) throw std::runtime_error("ln det(I + W^T W) is not finite");
    result.has_log_det = true;
    result.log_det = stable_log_det;
    return;
  }
  generated.release();  // the matrix is no longer needed

  std::vector<double> eigenvalues(p);
  if (!symmetric_eigenvalues(p, gram.data(), p, eigenvalues.data(), team, cancel))
    throw std::runtime_error("the tridiagonal QL iteration did not converge");
  gram.release();
  set_full_spectrum(eigenvalues, result);
}

// Runs one job; returns an empty string or what went wrong. Cancellation passes through as Cancelled.
std::string run_job(const MatrixJob& job, SpectrumResult& result, Team& team, const CancelToken& cancel,
                    size_t index) {
  return failure_of(job_name(index), [&] { compute_job(job, result, team, cancel); });
}

}  // namespace

std::string validate_job(const MatrixJob& job) {
  if (job.rows == 0 || job.cols == 0) return "rows and cols must be positive";
  const size_t limit = std::numeric_limits<size_t>::max() / 8;
  if (job.rows > limit / job.cols) return "rows * cols is too large";
  if (job.generator == Generator::Bidiagonal) {
    if (job.values != nullptr) return "the bidiagonal model draws its own spectrum: give a recipe, not values";
    if (job.distribution != Distribution::Normal)
      return "the bidiagonal model needs a normal distribution (a uniform matrix's spectrum is not rotation-invariant)";
  }
  if (job.values == nullptr) return fill_scale_problem(job.distribution, job.scale);
  return std::string();
}

BatchOutcome run_batch(const std::vector<MatrixJob>& jobs, std::vector<SpectrumResult>& results, int threads,
                       BatchControl& control) {
  BatchOutcome outcome;
  try {
    results.assign(jobs.size(), SpectrumResult{});
    for (size_t i = 0; i < jobs.size(); ++i) {
      const std::string problem = validate_job(jobs[i]);
      if (!problem.empty()) {
        outcome.status = BatchStatus::Failed;
        outcome.message = "job " + std::to_string(i) + ": " + problem;
        return outcome;
      }
    }
    if (jobs.empty()) return outcome;
    threads = std::max(1, std::min(threads, kMaxConcurrency));
    // Results never depend on the team's size, so very large requests can be trimmed safely.
    constexpr int kMaxTeam = 64;
    const CancelToken cancel(&control.cancel);
    // This thread's seat in the process's pool: with the helpers it recruits, never more threads at work than
    // concurrency_limit(), however many batches run at once. `threads` still picks the schedule below (so the
    // memory estimate of src/native.ts holds); the pool decides how many threads carry it out.
    const Seat seat(cancel);
    std::mutex progress_mutex;
    size_t done = 0;
    auto report = [&] {
      std::lock_guard<std::mutex> lock(progress_mutex);
      ++done;
      if (control.on_job_done) control.on_job_done(done);
    };

    // Bidiagonal jobs never use a team: a batch of nothing else runs a task per thread however few jobs it has.
    const bool only_bidiagonal =
        std::all_of(jobs.begin(), jobs.end(), [](const MatrixJob& job) { return job.generator == Generator::Bidiagonal; });
    if (threads > 1 && jobs.size() < static_cast<size_t>(threads) && !only_bidiagonal) {
      // Few jobs: run them one after another, each spread over the whole team.
      Team team(std::min(threads, kMaxTeam));
      for (size_t i = 0; i < jobs.size(); ++i) {
        cancel.check();
        const std::string failure = run_job(jobs[i], results[i], team, cancel, i);
        if (!failure.empty()) {
          outcome.status = BatchStatus::Failed;
          outcome.message = failure;
          results.clear();
          return outcome;
        }
        report();
      }
    } else {
      // Many jobs: one task per thread at a time, most expensive first. A task is one job, or two full-spectrum
      // bidiagonal jobs of neighbouring cost whose eigenvalue problems run interleaved (bidiagonal_pair).
      std::vector<size_t> order(jobs.size());
      std::iota(order.begin(), order.end(), size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return job_cost(jobs[a]) > job_cost(jobs[b]); });
      constexpr size_t kNone = static_cast<size_t>(-1);
      std::vector<std::pair<size_t, size_t>> tasks;
      size_t waiting = kNone;  // a full bidiagonal job without a partner yet
      for (size_t index : order) {
        if (!is_bidiagonal_full(jobs[index])) {
          tasks.emplace_back(index, kNone);
        } else if (waiting == kNone) {
          waiting = index;
        } else {
          tasks.emplace_back(waiting, index);
          waiting = kNone;
        }
      }
      if (waiting != kNone) tasks.emplace_back(waiting, kNone);
      std::stable_sort(tasks.begin(), tasks.end(), [&](const auto& a, const auto& b) {
        const auto cost = [&](const std::pair<size_t, size_t>& task) {
          return job_cost(jobs[task.first]) + (task.second == kNone ? 0.0 : job_cost(jobs[task.second]));
        };
        return cost(a) > cost(b);
      });
      Team team(std::min<int>(threads, static_cast<int>(tasks.size())));
      std::mutex failure_mutex;
      auto fail_batch = [&](const std::string& failure) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (outcome.status == BatchStatus::Ok) {
          outcome.status = BatchStatus::Failed;
          outcome.message = failure;
        }
        throw Cancelled{};  // stop the other tasks
      };
      team.run(tasks.size(), [&](size_t slot) {
        const auto [index, partner] = tasks[slot];
        cancel.check();
        if (partner != kNone) {
          const std::string failure =
              run_bidiagonal_pair(jobs[index], results[index], jobs[partner], results[partner], cancel, index, partner);
          if (!failure.empty()) fail_batch(failure);
          report();
          report();
          return;
        }
        Team alone(1);
        const std::string failure = run_job(jobs[index], results[index], alone, cancel, index);
        if (!failure.empty()) fail_batch(failure);
        report();
      });
    }
  } catch (const Cancelled&) {
    if (outcome.status == BatchStatus::Ok) outcome.status = BatchStatus::Cancelled;
  } catch (const std::bad_alloc&) {
    outcome.status = BatchStatus::Failed;
    outcome.message = "out of memory";
  } catch (const std::exception& error) {
    outcome.status = BatchStatus::Failed;
    outcome.message = error.what();
  } catch (...) {
    outcome.status = BatchStatus::Failed;
    outcome.message = "unknown failure";
  }
  if (outcome.status != BatchStatus::Ok) results.clear();
  return outcome;
}

}  // namespace zerolm
