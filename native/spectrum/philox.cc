#include "philox.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "fill_math.h"
#include "kernels.h"

namespace zerolm {
namespace {

constexpr uint32_t kMultiplier0 = 0xD2511F53u;
constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1

inline void multiply_high_low(uint32_t a, uint32_t b, uint32_t& high, uint32_t& low) {
  const uint64_t product = static_cast<uint64_t>(a) * b;
  high = static_cast<uint32_t>(product >> 32);
  low = static_cast<uint32_t>(product);
}

inline void philox_block(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
                         uint32_t out[4]) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    uint32_t high0, low0, high1, low1;
    multiply_high_low(kMultiplier0, c0, high0, low0);
    multiply_high_low(kMultiplier1, c2, high1, low1);
    const uint32_t n0 = high1 ^ c1 ^ k0;
    const uint32_t n2 = high0 ^ c3 ^ k1;
    c0 = n0;
    c1 = low1;
    c2 = n2;
    c3 = low0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// Open interval (0, 1): never 0, so the logarithm in Box-Muller is finite.
inline double unit_open(uint32_t word) { return (static_cast<double>(word) + 0.5) * fill_math::kTwoPow32Inverse; }

// log(u), u in (0, 1). Mirrored operation for operation by log_unit in kernels_avx2.cc.
inline double log_unit(double u) {
  using namespace fill_math;
  uint64_t bits;
  std::memcpy(&bits, &u, sizeof bits);
  int64_t exponent = static_cast<int64_t>((bits >> 52) & 0x7ff) - 1023;
  const uint64_t mantissa_bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double m;
  std::memcpy(&m, &mantissa_bits, sizeof m);
  if (m > kSqrt2) {
    m = m * 0.5;
    exponent += 1;
  }
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s;
  double p = kAtanhSeries[10];
  for (int k = 9; k >= 0; --k) p = p * z + kAtanhSeries[k];
  const double log_m = (2.0 * s) * p;
  const double e = static_cast<double>(exponent);
  return e * kLn2High + (e * kLn2Low + log_m);
}

// cos and sin of 2 pi u, u in (0, 1): quarter turns are exact, the rest is |x| <= pi/4.
inline void cos_sin_turns(double u, double& cosine, double& sine) {
  using namespace fill_math;
  const double quarters = u * 4.0;
  const double nearest = std::nearbyint(quarters);
  const double x = (quarters - nearest) * kHalfPi;
  const double z = x * x;
  double ps = kSinSeries[8];
  for (int k = 7; k >= 0; --k) ps = ps * z + kSinSeries[k];
  double pc = kCosSeries[9];
  for (int k = 8; k >= 0; --k) pc = pc * z + kCosSeries[k];
  const double s = (x * z) * ps + x;
  const double c = z * pc + 1.0;
  const int quadrant = static_cast<int>(nearest) & 3;
  double cos_out = (quadrant & 1) ? s : c;
  double sin_out = (quadrant & 1) ? c : s;
  if ((quadrant + 1) & 2) cos_out = -cos_out;
  if (quadrant & 2) sin_out = -sin_out;
  cosine = cos_out;
  sine = sin_out;
}

inline void block_values(Distribution distribution, double scale, const uint32_t words[4], double values[4]) {
  if (distribution == Distribution::Normal) {
    for (int pair = 0; pair < 2; ++pair) {
      const double radius = std::sqrt(-2.0 * log_unit(unit_open(words[2 * pair])));
      double cosine, sine;
      cos_sin_turns(unit_open(words[2 * pair + 1]), cosine, sine);
      const double scaled = scale * radius;
      values[2 * pair] = scaled * cosine;
      values[2 * pair + 1] = scaled * sine;
    }
  } else {
    for (int lane = 0; lane < 4; ++lane) values[lane] = scale * (2.0 * unit_open(words[lane]) - 1.0);
  }
}

}  // namespace

PhiloxBlock philox4x32_10(const uint32_t counter[4], const uint32_t key[2]) {
  PhiloxBlock block;
  philox_block(counter[0], counter[1], counter[2], counter[3], key[0], key[1], block.word);
  return block;
}

void fill_counters_portable(Distribution distribution, double scale, uint32_t seed, uint32_t stream,
                            uint64_t first_counter, size_t counters, float* out) {
  uint32_t words[4];
  double values[4];
  for (size_t i = 0; i < counters; ++i) {
    const uint64_t counter = first_counter + i;
    philox_block(static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0, 0, seed, stream, words);
    block_values(distribution, scale, words, values);
    for (int lane = 0; lane < 4; ++lane) out[4 * i + lane] = static_cast<float>(values[lane]);
  }
}

double portable_log(double x) { return log_unit(x); }

uint32_t PhiloxSequence::next_word() {
  if (used_ == 4) {
    philox_block(static_cast<uint32_t>(counter_), static_cast<uint32_t>(counter_ >> 32), 1, 0, key_[0], key_[1],
                 words_);
    ++counter_;
    used_ = 0;
  }
  return words_[used_++];
}

double PhiloxSequence::unit() {
  const uint64_t high = next_word() >> 5;  // 27 bits
  const uint64_t low = next_word() >> 6;   // 26 bits
  return (static_cast<double>((high << 26) | low) + 0.5) * 0x1p-53;
}

double PhiloxSequence::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  const double radius = std::sqrt(-2.0 * log_unit(unit()));
  double cosine, sine;
  cos_sin_turns(unit(), cosine, sine);
  spare_ = radius * sine;
  has_spare_ = true;
  return radius * cosine;
}

std::string fill_scale_problem(Distribution distribution, double scale) {
  if (!(std::isfinite(scale) && scale > 0)) return "std/bound must be finite and positive";
  const double largest = std::numeric_limits<float>::max();
  if (distribution == Distribution::Normal && scale > largest / kMaxNormalRadius)
    return "std must be at most FLT_MAX / 6.77 (about 5.026e37), or draws overflow float32";
  if (distribution == Distribution::Uniform && scale > largest)
    return "bound must be at most FLT_MAX (3.4028234663852886e38), or draws overflow float32";
  return std::string();
}

void fill_values(Distribution distribution, double scale, uint32_t seed, uint32_t stream, uint64_t first,
                 size_t count, float* out) {
  const std::string problem = fill_scale_problem(distribution, scale);
  if (!problem.empty()) throw std::invalid_argument(problem);
  uint64_t counter = first / 4;
  const size_t whole = count / 4;
  kernels().fill_counters(distribution, scale, seed, stream, counter, whole, out);
  counter += whole;
  size_t written = whole * 4;
  uint32_t words[4];
  double values[4];
  while (written < count) {
    philox_block(static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0, 0, seed, stream, words);
    block_values(distribution, scale, words, values);
    const size_t take = count - written < 4 ? count - written : 4;
    for (size_t lane = 0; lane < take; ++lane) out[written + lane] = static_cast<float>(values[lane]);
    written += take;
    ++counter;
  }
}

}  // namespace zerolm
