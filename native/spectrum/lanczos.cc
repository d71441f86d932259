#include "lanczos.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "aligned_buffer.h"
#include "kernels.h"
#include "philox.h"
#include "symmetric_eigen.h"

namespace zerolm {
namespace {

// Single-vector Lanczos: each step is one pass over W, about half memory traffic and half arithmetic. A block
// version (four vectors per pass) was tried and lost: it needed 37 passes instead of 68 for 768 x 3072, but each
// pass did four times the arithmetic.
//
// The Krylov vectors live on the smaller side of W: W^T W (cols x cols) for a tall or square W, W W^T (rows x rows)
// for a wide one. Both have the same nonzero eigenvalues; the smaller one keeps the vectors, the basis and the
// reorthogonalisation min(rows, cols) long. A tall W is applied in one pass (per row, w . x then y += (w . x) w, the
// row still in cache); a wide one in two passes over contiguous rows, u = W^T x then y = W u, since the one-pass form
// would keep two vectors of the larger side in use for every row (measured on 768 x 3072 and 1024 x 4096: the two
// passes beat both the one-pass W^T W operator and column strips of W, whose strided rows ran 1.5-4x slower).

constexpr size_t kRowBlock = 256;       // rows per partial product, summed in block order
constexpr size_t kMaxSteps = 600;
constexpr double kResidualTolerance = 1e-9;   // |theta - lambda| <= residual
constexpr double kGapTolerance = 1e-12;       // |theta - lambda| <~ residual^2 / gap
constexpr uint32_t kStartSeed = 0x5A17C0DEu;  // fixed start vector: results are reproducible
constexpr uint32_t kStartStream = 0x70Bu;

// y = G x for the Gram matrix G of W's smaller side. Work is split into fixed blocks of rows (fixed by the shape,
// never by the team); partial sums are added in block order, so the result does not depend on the team's size.
struct GramOperator {
  const float* w;
  size_t rows, cols;
  bool wide;         // rows < cols: G = W W^T, else G = W^T W
  size_t dimension;  // min(rows, cols): the length of the Krylov vectors
  size_t blocks;
  std::vector<AlignedBuffer<double>> partial;  // per block: its share of W^T W x (tall) or of W^T x (wide)
  AlignedBuffer<double> combined;              // wide: u = W^T x

  GramOperator(const float* matrix, size_t r, size_t c)
      : w(matrix), rows(r), cols(c), wide(r < c), dimension(std::min(r, c)), blocks((r + kRowBlock - 1) / kRowBlock) {
    for (size_t b = 0; b < blocks; ++b) partial.emplace_back(cols);
    if (wide) combined.reset(cols);
  }

  void apply(const double* x, double* y, Team& team) {
    const KernelTable& kernel = kernels();
    const auto block_rows = [&](size_t block) { return std::min(kRowBlock, rows - block * kRowBlock); };
    team.run(blocks, [&](size_t block) {
      double* out = partial[block].data();
      std::fill(out, out + cols, 0.0);
      const size_t first = block * kRowBlock;
      if (wide)
        kernel.combine_rows(block_rows(block), cols, w + first * cols, x + first, out);
      else
        kernel.gram_apply(block_rows(block), cols, w + first * cols, x, out);
    });
    double* sum = wide ? combined.data() : y;
    std::copy(partial[0].data(), partial[0].data() + cols, sum);
    for (size_t b = 1; b < blocks; ++b) kernel.axpy(cols, 1.0, partial[b].data(), sum);
    if (!wide) return;
    team.run(blocks, [&](size_t block) {
      const size_t first = block * kRowBlock;
      kernel.dot_rows(block_rows(block), cols, w + first * cols, sum, y + first);
    });
  }
};

}  // namespace

double top_gram_eigenvalue(const float* w, size_t rows, size_t cols, Team& team, const CancelToken& cancel) {
  const KernelTable& kernel = kernels();
  GramOperator gram(w, rows, cols);
  const size_t n = gram.dimension;
  const size_t max_steps = std::min(n, kMaxSteps);

  AlignedBuffer<double> basis(max_steps * n);
  std::vector<double> alpha, beta, ritz, ritz_off, last_components;
  AlignedBuffer<double> y(n);

  {
    std::vector<float> start(n);
    fill_values(Distribution::Normal, 1.0, kStartSeed, kStartStream, 0, n, start.data());
    double* q0 = basis.data();
    for (size_t i = 0; i < n; ++i) q0[i] = start[i];
    const double norm = std::sqrt(kernel.dot(n, q0, q0));
    for (size_t i = 0; i < n; ++i) q0[i] /= norm;
  }

  double theta = 0;
  for (size_t j = 0; j < max_steps; ++j) {
    cancel.check();
    const double* q = basis.data() + j * n;
    gram.apply(q, y.data(), team);
    const double a = kernel.dot(n, q, y.data());
    alpha.push_back(a);
    // Full reorthogonalisation, twice (classical Gram-Schmidt applied twice is enough in practice).
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t i = 0; i <= j; ++i) {
        const double* qi = basis.data() + i * n;
        kernel.axpy(n, -kernel.dot(n, qi, y.data()), qi, y.data());
      }
    }
    const double b = std::sqrt(kernel.dot(n, y.data(), y.data()));

    const size_t steps = j + 1;
    const bool last = steps == max_steps;
    if (steps < 48 || steps % 4 == 0 || last || b == 0) {
      ritz.assign(alpha.begin(), alpha.end());
      ritz_off.assign(beta.begin(), beta.end());
      ritz_off.push_back(0.0);
      last_components.resize(steps);
      if (!tridiagonal_eigenvalues(steps, ritz.data(), ritz_off.data(), last_components.data())) break;
      size_t top = 0, second = steps;
      for (size_t i = 1; i < steps; ++i)
        if (ritz[i] > ritz[top]) top = i;
      for (size_t i = 0; i < steps; ++i)
        if (i != top && (second == steps || ritz[i] > ritz[second])) second = i;
      theta = ritz[top];
      const double residual = b * std::fabs(last_components[top]);
      if (theta <= 0) return 0;  // W == 0: every Krylov vector is annihilated
      if (residual <= kResidualTolerance * theta) break;
      if (second < steps) {
        const double gap = theta - ritz[second];
        if (gap > 0 && residual * residual <= kGapTolerance * theta * gap) break;
      }
    }
    // Breakdown (an invariant subspace that holds the random start vector, hence the top eigenvector's
    // component) or the full dimension reached: the top Ritz value is exact.
    if (b <= 1e-300 || last) break;
    beta.push_back(b);
    double* next = basis.data() + steps * n;
    for (size_t i = 0; i < n; ++i) next[i] = y[i] / b;
  }
  return theta;
}

}  // namespace zerolm
