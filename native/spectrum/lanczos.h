// Largest eigenvalue of W^T W (the squared largest singular value of W) without forming a Gram matrix.
#pragma once
#include <cstddef>

#include "team.h"

namespace zerolm {

// Lanczos with full reorthogonalisation on the Gram matrix of W's smaller side (W^T W, or W W^T for a wide W), applied
// block by block (one pass over W per step), with Krylov vectors of length min(rows, cols).
// Stops when the residual bound puts the top Ritz value within ~1e-10 (relative) of the eigenvalue.
// Row blocks are fixed by the shape, so the result does not depend on the team's size.
double top_gram_eigenvalue(const float* w, size_t rows, size_t cols, Team& team, const CancelToken& cancel);

}  // namespace zerolm
