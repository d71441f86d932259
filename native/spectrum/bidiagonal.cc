#include "bidiagonal.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace zerolm {
namespace {

// Marsaglia and Tsang's squeeze-free acceptance test, shape >= 1; expected 1.05 or fewer normal-uniform pairs.
double gamma_at_least_one(double shape, PhiloxSequence& random) {
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = random.normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = random.unit();
    if (portable_log(u) < 0.5 * x * x + d - d * v + d * portable_log(v)) return d * v;
  }
}

}  // namespace

double chi_variate(double degrees, PhiloxSequence& random) {
  if (!(degrees > 0) || !std::isfinite(degrees)) throw std::invalid_argument("chi degrees must be finite and positive");
  const double shape = 0.5 * degrees;
  double gamma;
  if (shape >= 1.0) {
    gamma = gamma_at_least_one(shape, random);
  } else {
    // U^(1/a) = exp(ln U / a); for a = 1/2 (one degree) that is U^2, computed exactly as a product.
    const double boosted = gamma_at_least_one(shape + 1.0, random);
    const double u = random.unit();
    const double power = shape == 0.5 ? u * u : std::exp(portable_log(u) / shape);
    gamma = boosted * power;
  }
  return std::sqrt(2.0 * gamma);
}

void draw_gaussian_bidiagonal(size_t rows, size_t cols, double std, uint32_t seed, uint32_t stream,
                              std::vector<double>& diagonal, std::vector<double>& super) {
  const size_t large = std::max(rows, cols), small = std::min(rows, cols);
  PhiloxSequence random(seed, stream);
  diagonal.assign(small, 0.0);
  super.assign(small > 0 ? small - 1 : 0, 0.0);
  // Interleaved in the order Householder bidiagonalisation produces them: column norm, then row norm.
  for (size_t i = 0; i < small; ++i) {
    diagonal[i] = std * chi_variate(static_cast<double>(large - i), random);
    if (i + 1 < small) super[i] = std * chi_variate(static_cast<double>(small - 1 - i), random);
  }
}

void bidiagonal_gram(const std::vector<double>& diagonal, const std::vector<double>& super,
                     std::vector<double>& t_diagonal, std::vector<double>& t_off) {
  const size_t p = diagonal.size();
  t_diagonal.assign(p, 0.0);
  t_off.assign(p, 0.0);
  for (size_t i = 0; i < p; ++i) {
    const double left = i > 0 ? super[i - 1] : 0.0;
    t_diagonal[i] = diagonal[i] * diagonal[i] + left * left;
    if (i + 1 < p) t_off[i] = diagonal[i] * super[i];
  }
}

double bidiagonal_log_det_identity_plus(const std::vector<double>& diagonal, const std::vector<double>& super) {
  // Pivots of I + B^T B: pi_0 = 1 + d_0^2, pi_i = 1 + d_i^2 + e_{i-1}^2 - (d_{i-1} e_{i-1})^2 / pi_{i-1}.
  // Since pi_{i-1} >= 1 + d_{i-1}^2 > d_{i-1}^2, the subtracted term is below e_{i-1}^2: every pivot is >= 1.
  double log_det = 0, previous = 1;
  for (size_t i = 0; i < diagonal.size(); ++i) {
    double pivot = 1.0 + diagonal[i] * diagonal[i];
    if (i > 0) {
      const double coupling = diagonal[i - 1] * super[i - 1];
      pivot += super[i - 1] * super[i - 1] - coupling * (coupling / previous);
    }
    log_det += std::log(pivot);
    previous = pivot;
  }
  return log_det;
}

double bidiagonal_top(const std::vector<double>& diagonal, const std::vector<double>& super) {
  // Scale B by a power of two (exact) to entries ~1, so that B^T B and the Sturm pivots neither overflow nor sink
  // below the pivot floor for any std the engine accepts.
  double largest = 0;
  for (double d : diagonal) largest = std::max(largest, std::fabs(d));
  for (double e : super) largest = std::max(largest, std::fabs(e));
  if (largest == 0) return 0;
  const int exponent = std::ilogb(largest);
  std::vector<double> scaled_diagonal(diagonal), scaled_super(super);
  for (double& d : scaled_diagonal) d = std::ldexp(d, -exponent);
  for (double& e : scaled_super) e = std::ldexp(e, -exponent);
  std::vector<double> t_diagonal, t_off;
  bidiagonal_gram(scaled_diagonal, scaled_super, t_diagonal, t_off);
  const size_t p = t_diagonal.size();
  if (p == 0) return 0;
  // Gershgorin: every eigenvalue of B^T B lies in [0, upper].
  double upper = 0;
  for (size_t i = 0; i < p; ++i) {
    const double left = i > 0 ? std::fabs(t_off[i - 1]) : 0.0;
    const double right = i + 1 < p ? std::fabs(t_off[i]) : 0.0;
    upper = std::max(upper, t_diagonal[i] + left + right);
  }
  if (upper == 0) return 0;
  const double tiny = std::numeric_limits<double>::min() / std::numeric_limits<double>::epsilon();
  // Is every eigenvalue below x? Sylvester: the LDL^T pivots of T - x I are all negative exactly then.
  auto all_below = [&](double x) {
    double pivot = t_diagonal[0] - x;
    for (size_t i = 1;; ++i) {
      if (pivot >= 0) return false;
      if (i == p) return true;
      if (pivot > -tiny) pivot = -tiny;  // a zero pivot is an eigenvalue at x: perturb it to the safe side
      pivot = (t_diagonal[i] - x) - t_off[i - 1] * (t_off[i - 1] / pivot);
    }
  };
  double low = 0, high = upper;
  for (int step = 0; step < 2100 && high - low > 2.0 * std::numeric_limits<double>::epsilon() * high; ++step) {
    const double middle = 0.5 * (low + high);
    if (middle <= low || middle >= high) break;
    if (all_below(middle)) high = middle; else low = middle;
  }
  return std::ldexp(std::sqrt(high), exponent);
}

}  // namespace zerolm
