// Philox4x32-10 counter-based generator (Salmon et al., SC'11) and the fills built on it.
// Key = (seed, stream). The value at index i of a stream uses counter (i/4 as 64 bits: lo, hi, 0, 0) and
// output lane i%4, so any value can be produced on its own: fills are independent of chunking and threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace zerolm {

struct PhiloxBlock {
  uint32_t word[4];
};

// One Philox4x32-10 evaluation.
PhiloxBlock philox4x32_10(const uint32_t counter[4], const uint32_t key[2]);

enum class Distribution { Normal, Uniform };

// Largest |z| the normal fill can draw: sqrt(-2 ln u) for the smallest u, 2^-33, is 6.7637 (rounded up here).
constexpr double kMaxNormalRadius = 6.77;

// Why `scale` cannot be filled into float32 (not finite and positive, or draws could pass FLT_MAX and become
// Infinity: std * kMaxNormalRadius or bound > FLT_MAX); empty when it can.
std::string fill_scale_problem(Distribution distribution, double scale);

// Writes values [first, first + count) of stream (seed, stream) into out. `first` must be a multiple of 4
// (chunked callers keep chunk starts aligned); the last chunk may end anywhere.
// Normal: Box-Muller on lane pairs (0,1) and (2,3), scaled by `scale` (the standard deviation).
// Uniform: (u + 0.5) * 2^-32 mapped affinely onto (-scale, scale).
// Throws std::invalid_argument, writing nothing, when fill_scale_problem(distribution, scale) is not empty.
void fill_values(Distribution distribution, double scale, uint32_t seed, uint32_t stream, uint64_t first,
                 size_t count, float* out);

// Whole counters only: out[4 i + lane] for counters first_counter + i, i < counters. The portable version;
// the kernel tables' fill_counters give bit-identical results.
void fill_counters_portable(Distribution distribution, double scale, uint32_t seed, uint32_t stream,
                            uint64_t first_counter, size_t counters, float* out);

// Sequential draws for samplers that consume a variable number of random numbers (rejection methods). Uses the
// counters (i as 64 bits, 1, 0) of key (seed, stream): disjoint from the fills above, whose third word is 0.
// Portable: built on the same +, -, *, /, sqrt-only transcendentals as the fills, never on libm.
class PhiloxSequence {
 public:
  PhiloxSequence(uint32_t seed, uint32_t stream) : key_{seed, stream} {}
  // Uniform on (0, 1] with 53 random bits (two words): the midpoint of one of 2^53 equal cells. The top cell's
  // midpoint rounds to exactly 1.0 (probability 2^-53), which every caller takes (log 1 = 0).
  double unit();
  // Standard normal (Box-Muller in double precision; the pair's second value is kept for the next call).
  double normal();

 private:
  uint32_t next_word();
  uint32_t key_[2];
  uint64_t counter_ = 0;
  uint32_t words_[4] = {0, 0, 0, 0};
  int used_ = 4;
  bool has_spare_ = false;
  double spare_ = 0;
};

// Natural logarithm of a positive normal double by the portable series the normal fill uses.
double portable_log(double x);

}  // namespace zerolm
