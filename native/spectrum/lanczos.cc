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

constexpr size_t kRowBlock = 256;       // rows per partial product, summed in block order
constexpr size_t kMaxSteps = 600;
constexpr double kResidualTolerance = 1e-9;   // |theta - lambda| <= residual
constexpr double kGapTolerance = 1e-12;       // |theta - lambda| <~ residual^2 / gap
constexpr uint32_t kStartSeed = 0x5A17C0DEu;  // fixed start vector: results are reproducible
constexpr uint32_t kStartStream = 0x70Bu;

struct GramOperator {
  const float* w;
  size_t rows, cols;
  std::vector<AlignedBuffer<double>> partial;

  GramOperator(const float* matrix, size_t r, size_t c) : w(matrix), rows(r), cols(c) {
    const size_t blocks = (rows + kRowBlock - 1) / kRowBlock;
    for (size_t b = 0; b < blocks; ++b) partial.emplace_back(cols);
  }

  // y = W^T W x
  void apply(const double* x, double* y, Team& team) {
    const KernelTable& kernel = kernels();
    team.run(partial.size(), [&](size_t block) {
      double* out = partial[block].data();
      std::fill(out, out + cols, 0.0);
      const size_t first = block * kRowBlock;
      kernel.gram_apply(std::min(kRowBlock, rows - first), cols, w + first * cols, x, out);
    });
    std::copy(partial[0].data(), partial[0].data() + cols, y);
    for (size_t b = 1; b < partial.size(); ++b) kernel.axpy(cols, 1.0, partial[b].data(), y);
  }
};

}  // namespace

double top_gram_eigenvalue(const float* w, size_t rows, size_t cols, Team& team, const CancelToken& cancel) {
  const KernelTable& kernel = kernels();
  const size_t n = cols;
  const size_t max_steps = std::min(n, kMaxSteps);
  GramOperator gram(w, rows, cols);

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
