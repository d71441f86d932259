#include "philox.h"

#include <cmath>

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

constexpr double kTwoPow32Inverse = 1.0 / 4294967296.0;
constexpr double kTwoPi = 6.283185307179586476925286766559;

// Open interval (0, 1): never 0, so the logarithm in Box-Muller is finite.
inline double unit_open(uint32_t word) { return (static_cast<double>(word) + 0.5) * kTwoPow32Inverse; }

inline void block_values(Distribution distribution, double scale, const uint32_t words[4], double values[4]) {
  if (distribution == Distribution::Normal) {
    for (int pair = 0; pair < 2; ++pair) {
      const double radius = std::sqrt(-2.0 * std::log(unit_open(words[2 * pair])));
      const double angle = kTwoPi * unit_open(words[2 * pair + 1]);
      values[2 * pair] = scale * radius * std::cos(angle);
      values[2 * pair + 1] = scale * radius * std::sin(angle);
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

void fill_values(Distribution distribution, double scale, uint32_t seed, uint32_t stream, uint64_t first,
                 size_t count, float* out) {
  uint64_t counter = first / 4;
  size_t written = 0;
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
