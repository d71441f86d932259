// Eigenvalues of a dense symmetric matrix: blocked Householder reduction to tridiagonal form, then implicit QL.
#pragma once
#include <atomic>
#include <cstddef>

#include "team.h"

namespace zerolm {

// Reduces the symmetric n x n matrix held in the lower triangle of a (row-major, leading dimension lda) to a
// tridiagonal matrix with the same eigenvalues: diagonal[0..n), off_diagonal[0..n-1). Overwrites a.
void tridiagonalize_lower(size_t n, double* a, size_t lda, double* diagonal, double* off_diagonal, Team& team,
                          const CancelToken& cancel);

// Same result (to rounding) in two stages: to a band of width 32 with matrix-matrix work only, then Householder
// bulge chasing from band to tridiagonal. Avoids the memory-bound matrix-vector half of the one-stage method.
void tridiagonalize_two_stage(size_t n, double* a, size_t lda, double* diagonal, double* off_diagonal, Team& team,
                              const CancelToken& cancel);

// Eigenvalues of the symmetric tridiagonal matrix (diagonal d[0..n), off-diagonal e[0..n-1)) by implicit QL with
// Wilkinson shifts, written into d (unsorted). e is destroyed. If last_components is not null it must hold n
// values; it receives the last component of each normalised eigenvector (used by Lanczos to bound residuals).
// Returns false if an eigenvalue failed to converge.
bool tridiagonal_eigenvalues(size_t n, double* d, double* e, double* last_components);

// Eigenvalues only, by the root-free QL variant (Pal, Walker, Kahan): same results to rounding, about twice as fast.
// Checks `cancel` (when given) between eigenvalues.
bool tridiagonal_eigenvalues_root_free(size_t n, double* d, double* e, const CancelToken* cancel = nullptr);

// Two independent problems at once, their sweeps interleaved (the QL recurrence is latency-bound, so two chains
// run in little more time than one); each gets exactly the bits it would get alone.
struct RootFreePairOutcome {
  bool first_converged, second_converged;
};
RootFreePairOutcome tridiagonal_eigenvalues_root_free_pair(size_t n_first, double* d_first, double* e_first,
                                                           size_t n_second, double* d_second, double* e_second,
                                                           const CancelToken* cancel = nullptr);

// Smallest n for which symmetric_eigenvalues uses the two-stage reduction.
size_t two_stage_threshold();

// All eigenvalues of the symmetric matrix in the lower triangle of a (destroyed), ascending.
bool symmetric_eigenvalues(size_t n, double* a, size_t lda, double* eigenvalues, Team& team,
                           const CancelToken& cancel);

}  // namespace zerolm
