// AVX2 + FMA kernels. The file is compiled for baseline x86-64 like the rest of the addon; each function here carries
// the target attribute ZEROLM_AVX2, so only these functions contain AVX2 or FMA instructions (library code they call
// and that is not inlined into them stays baseline), and they run only after the CPU check in kernels_dispatch.cc.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#if defined(__GNUC__) || defined(__clang__)
#define ZEROLM_AVX2 __attribute__((target("avx2,fma")))
#else
#define ZEROLM_AVX2  // MSVC: intrinsics need no target option
#endif

#define ZEROLM_BAND_CHASE_TARGET ZEROLM_AVX2
#include "band_chase.h"
#include "fill_math.h"
#include "kernels.h"

namespace zerolm {
namespace {

// ---- Philox fill: four counters per step, the same operations as philox.cc (see fill_math.h) -------------

ZEROLM_AVX2 inline __m256d words_to_double(__m256i words) {  // 64-bit lanes holding uint32 values, exactly
  const __m256i exponent = _mm256_set1_epi64x(0x4330000000000000LL);
  return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(words, exponent)), _mm256_set1_pd(4503599627370496.0));
}

ZEROLM_AVX2 inline __m256d unit_open(__m256i words) {
  return _mm256_mul_pd(_mm256_add_pd(words_to_double(words), _mm256_set1_pd(0.5)),
                       _mm256_set1_pd(fill_math::kTwoPow32Inverse));
}

ZEROLM_AVX2 inline __m256d log_unit(__m256d u) {
  using namespace fill_math;
  const __m256i bits = _mm256_castpd_si256(u);
  __m256i exponent = _mm256_sub_epi64(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(1023));
  const __m256i mantissa_bits = _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)),
                                                _mm256_set1_epi64x(0x3ff0000000000000LL));
  __m256d m = _mm256_castsi256_pd(mantissa_bits);
  const __m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(kSqrt2), _CMP_GT_OQ);
  m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), big);
  exponent = _mm256_sub_epi64(exponent, _mm256_castpd_si256(big));  // big lanes are all ones: +1
  const __m256d f = _mm256_sub_pd(m, _mm256_set1_pd(1.0));
  const __m256d s = _mm256_div_pd(f, _mm256_add_pd(_mm256_set1_pd(2.0), f));
  const __m256d z = _mm256_mul_pd(s, s);
  __m256d p = _mm256_set1_pd(kAtanhSeries[10]);
  for (int k = 9; k >= 0; --k) p = _mm256_add_pd(_mm256_mul_pd(p, z), _mm256_set1_pd(kAtanhSeries[k]));
  const __m256d log_m = _mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(2.0), s), p);
  const __m256d magic = _mm256_set1_pd(kRoundingMagic);
  const __m256d e =
      _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(exponent, _mm256_castpd_si256(magic))), magic);
  return _mm256_add_pd(_mm256_mul_pd(e, _mm256_set1_pd(kLn2High)),
                       _mm256_add_pd(_mm256_mul_pd(e, _mm256_set1_pd(kLn2Low)), log_m));
}

ZEROLM_AVX2 inline void cos_sin_turns(__m256d u, __m256d& cosine, __m256d& sine) {
  using namespace fill_math;
  const __m256d quarters = _mm256_mul_pd(u, _mm256_set1_pd(4.0));
  const __m256d nearest = _mm256_round_pd(quarters, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256d x = _mm256_mul_pd(_mm256_sub_pd(quarters, nearest), _mm256_set1_pd(kHalfPi));
  const __m256d z = _mm256_mul_pd(x, x);
  __m256d ps = _mm256_set1_pd(kSinSeries[8]);
  for (int k = 7; k >= 0; --k) ps = _mm256_add_pd(_mm256_mul_pd(ps, z), _mm256_set1_pd(kSinSeries[k]));
  __m256d pc = _mm256_set1_pd(kCosSeries[9]);
  for (int k = 8; k >= 0; --k) pc = _mm256_add_pd(_mm256_mul_pd(pc, z), _mm256_set1_pd(kCosSeries[k]));
  const __m256d s = _mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(x, z), ps), x);
  const __m256d c = _mm256_add_pd(_mm256_mul_pd(z, pc), _mm256_set1_pd(1.0));
  const __m256d magic = _mm256_set1_pd(kRoundingMagic);
  const __m256i quadrant = _mm256_castpd_si256(_mm256_add_pd(nearest, magic));  // low bits hold the integer
  const __m256i one = _mm256_set1_epi64x(1), two = _mm256_set1_epi64x(2);
  const __m256d swap = _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(quadrant, one), one));
  const __m256d negate_cos =
      _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(_mm256_add_epi64(quadrant, one), two), two));
  const __m256d negate_sin = _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(quadrant, two), two));
  const __m256d sign = _mm256_set1_pd(-0.0);
  cosine = _mm256_xor_pd(_mm256_blendv_pd(c, s, swap), _mm256_and_pd(negate_cos, sign));
  sine = _mm256_xor_pd(_mm256_blendv_pd(s, c, swap), _mm256_and_pd(negate_sin, sign));
}

ZEROLM_AVX2 inline void transpose4(__m256d& r0, __m256d& r1, __m256d& r2, __m256d& r3) {
  const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
  const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
  r0 = _mm256_permute2f128_pd(t0, t2, 0x20);
  r1 = _mm256_permute2f128_pd(t1, t3, 0x20);
  r2 = _mm256_permute2f128_pd(t0, t2, 0x31);
  r3 = _mm256_permute2f128_pd(t1, t3, 0x31);
}

ZEROLM_AVX2 void fill_counters_avx2(Distribution distribution, double scale, uint32_t seed, uint32_t stream,
                        uint64_t first_counter, size_t counters, float* out) {
  __m256i round_key0[10], round_key1[10];
  uint32_t k0 = seed, k1 = stream;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    round_key0[round] = _mm256_set1_epi64x(k0);
    round_key1[round] = _mm256_set1_epi64x(k1);
  }
  const __m256i low32 = _mm256_set1_epi64x(0xffffffffLL);
  const __m256i multiplier0 = _mm256_set1_epi64x(0xD2511F53LL), multiplier1 = _mm256_set1_epi64x(0xCD9E8D57LL);
  const __m256d scale_vector = _mm256_set1_pd(scale);
  // Four counters (16 values) per group; two groups per step give the out-of-order core independent
  // dependency chains to interleave (the polynomial and division chains are long).
  auto group = [&](uint64_t c, float* destination) ZEROLM_AVX2 {
    __m256i x0 = _mm256_set_epi64x(static_cast<long long>((c + 3) & 0xffffffffULL),
                                   static_cast<long long>((c + 2) & 0xffffffffULL),
                                   static_cast<long long>((c + 1) & 0xffffffffULL),
                                   static_cast<long long>(c & 0xffffffffULL));
    __m256i x1 = _mm256_set_epi64x(static_cast<long long>((c + 3) >> 32), static_cast<long long>((c + 2) >> 32),
                                   static_cast<long long>((c + 1) >> 32), static_cast<long long>(c >> 32));
    __m256i x2 = _mm256_setzero_si256(), x3 = _mm256_setzero_si256();
    for (int round = 0; round < 10; ++round) {
      const __m256i product0 = _mm256_mul_epu32(x0, multiplier0);
      const __m256i product1 = _mm256_mul_epu32(x2, multiplier1);
      const __m256i next0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(product1, 32), x1), round_key0[round]);
      const __m256i next2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(product0, 32), x3), round_key1[round]);
      x1 = _mm256_and_si256(product1, low32);
      x3 = _mm256_and_si256(product0, low32);
      x0 = next0;
      x2 = next2;
    }
    __m256d v0, v1, v2, v3;
    if (distribution == Distribution::Normal) {
      const __m256d radius_a = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(-2.0), log_unit(unit_open(x0))));
      const __m256d radius_b = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(-2.0), log_unit(unit_open(x2))));
      __m256d cos_a, sin_a, cos_b, sin_b;
      cos_sin_turns(unit_open(x1), cos_a, sin_a);
      cos_sin_turns(unit_open(x3), cos_b, sin_b);
      const __m256d scaled_a = _mm256_mul_pd(scale_vector, radius_a);
      const __m256d scaled_b = _mm256_mul_pd(scale_vector, radius_b);
      v0 = _mm256_mul_pd(scaled_a, cos_a);
      v1 = _mm256_mul_pd(scaled_a, sin_a);
      v2 = _mm256_mul_pd(scaled_b, cos_b);
      v3 = _mm256_mul_pd(scaled_b, sin_b);
    } else {
      const __m256d two = _mm256_set1_pd(2.0), one = _mm256_set1_pd(1.0);
      v0 = _mm256_mul_pd(scale_vector, _mm256_sub_pd(_mm256_mul_pd(two, unit_open(x0)), one));
      v1 = _mm256_mul_pd(scale_vector, _mm256_sub_pd(_mm256_mul_pd(two, unit_open(x1)), one));
      v2 = _mm256_mul_pd(scale_vector, _mm256_sub_pd(_mm256_mul_pd(two, unit_open(x2)), one));
      v3 = _mm256_mul_pd(scale_vector, _mm256_sub_pd(_mm256_mul_pd(two, unit_open(x3)), one));
    }
    transpose4(v0, v1, v2, v3);  // now v_j = the four values of counter c + j
    _mm_storeu_ps(destination, _mm256_cvtpd_ps(v0));
    _mm_storeu_ps(destination + 4, _mm256_cvtpd_ps(v1));
    _mm_storeu_ps(destination + 8, _mm256_cvtpd_ps(v2));
    _mm_storeu_ps(destination + 12, _mm256_cvtpd_ps(v3));
  };
  size_t i = 0;
  for (; i + 8 <= counters; i += 8) {
    group(first_counter + i, out + 4 * i);
    group(first_counter + i + 4, out + 4 * (i + 4));
  }
  for (; i + 4 <= counters; i += 4) group(first_counter + i, out + 4 * i);
  if (i < counters) fill_counters_portable(distribution, scale, seed, stream, first_counter + i, counters - i, out + 4 * i);
}

ZEROLM_AVX2 inline double horizontal_sum(__m256d v) {
  const __m128d low = _mm256_castpd256_pd128(v);
  const __m128d high = _mm256_extractf128_pd(v, 1);
  const __m128d pair = _mm_add_pd(low, high);  // (l0 + h0, l1 + h1)
  return _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
}

ZEROLM_AVX2 void stats_update_avx2(EntryStats& stats, const float* x, size_t n) {
  if (stats.count == 0 && n > 0) stats.shift = x[0];
  size_t i = 0;
  // Align to lane 0 so the vector lanes match the scalar lane numbering.
  double max_abs = stats.max_abs;
  while (i < n && (stats.count + i) % kStatLanes != 0) {
    const size_t lane = static_cast<size_t>((stats.count + i) % kStatLanes);
    const double value = x[i], centred = value - stats.shift;
    stats.shifted_sum[lane] += centred;
    stats.shifted_squares[lane] += centred * centred;
    stats.squares[lane] += value * value;
    max_abs = std::fmax(max_abs, std::fabs(value));
    ++i;
  }
  const __m256d shift = _mm256_set1_pd(stats.shift);
  __m256d sum_low = _mm256_loadu_pd(stats.shifted_sum), sum_high = _mm256_loadu_pd(stats.shifted_sum + 4);
  __m256d csq_low = _mm256_loadu_pd(stats.shifted_squares), csq_high = _mm256_loadu_pd(stats.shifted_squares + 4);
  __m256d sq_low = _mm256_loadu_pd(stats.squares), sq_high = _mm256_loadu_pd(stats.squares + 4);
  const __m256 sign_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 max_vector = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    const __m256 values = _mm256_loadu_ps(x + i);
    max_vector = _mm256_max_ps(max_vector, _mm256_and_ps(values, sign_mask));
    const __m256d low = _mm256_cvtps_pd(_mm256_castps256_ps128(values));
    const __m256d high = _mm256_cvtps_pd(_mm256_extractf128_ps(values, 1));
    const __m256d centred_low = _mm256_sub_pd(low, shift), centred_high = _mm256_sub_pd(high, shift);
    sum_low = _mm256_add_pd(sum_low, centred_low);
    sum_high = _mm256_add_pd(sum_high, centred_high);
    csq_low = _mm256_fmadd_pd(centred_low, centred_low, csq_low);
    csq_high = _mm256_fmadd_pd(centred_high, centred_high, csq_high);
    sq_low = _mm256_fmadd_pd(low, low, sq_low);
    sq_high = _mm256_fmadd_pd(high, high, sq_high);
  }
  _mm256_storeu_pd(stats.shifted_sum, sum_low);
  _mm256_storeu_pd(stats.shifted_sum + 4, sum_high);
  _mm256_storeu_pd(stats.shifted_squares, csq_low);
  _mm256_storeu_pd(stats.shifted_squares + 4, csq_high);
  _mm256_storeu_pd(stats.squares, sq_low);
  _mm256_storeu_pd(stats.squares + 4, sq_high);
  alignas(32) float maxima[8];
  _mm256_store_ps(maxima, max_vector);
  for (float m : maxima) max_abs = std::fmax(max_abs, static_cast<double>(m));
  for (; i < n; ++i) {
    const size_t lane = static_cast<size_t>((stats.count + i) % kStatLanes);
    const double value = x[i], centred = value - stats.shift;
    stats.shifted_sum[lane] += centred;
    stats.shifted_squares[lane] += centred * centred;
    stats.squares[lane] += value * value;
    max_abs = std::fmax(max_abs, std::fabs(value));
  }
  stats.max_abs = max_abs;
  stats.count += n;
}

// Panels for the 6 x 8 micro-kernel (see PackSource). Fast paths: a source whose rows are adjacent for fixed t
// (row_stride 1: one contiguous load per t) and a float source with contiguous rows (8 x 8 transposes).
ZEROLM_AVX2 void pack_panel_avx2(const PackSource& source, size_t first_row, size_t valid_rows, size_t width, size_t t0,
                     size_t depth, double* dst) {
  const bool unit_scale = source.scale == 1.0;
  if (source.row_stride == 1 && valid_rows == width && unit_scale) {
    if (source.is_float) {
      const float* base = static_cast<const float*>(source.data) + first_row;
      for (size_t t = 0; t < depth; ++t) {
        const float* in = base + (t0 + t) * source.column_stride;
        double* out = dst + t * width;
        _mm256_storeu_pd(out, _mm256_cvtps_pd(_mm_loadu_ps(in)));
        if (width == 8) {
          _mm256_storeu_pd(out + 4, _mm256_cvtps_pd(_mm_loadu_ps(in + 4)));
        } else {
          for (size_t r = 4; r < width; ++r) out[r] = in[r];
        }
      }
    } else {
      const double* base = static_cast<const double*>(source.data) + first_row;
      for (size_t t = 0; t < depth; ++t) {
        const double* in = base + (t0 + t) * source.column_stride;
        double* out = dst + t * width;
        _mm256_storeu_pd(out, _mm256_loadu_pd(in));
        if (width == 8) {
          _mm256_storeu_pd(out + 4, _mm256_loadu_pd(in + 4));
        } else {
          for (size_t r = 4; r < width; ++r) out[r] = in[r];
        }
      }
    }
    return;
  }
  if (source.is_float && source.column_stride == 1 && unit_scale && width <= 8) {
    const float* base = static_cast<const float*>(source.data);
    const float* rows[8];
    for (size_t r = 0; r < 8; ++r) rows[r] = r < valid_rows ? base + (first_row + r) * source.row_stride + t0 : nullptr;
    size_t t = 0;
    for (; t + 8 <= depth; t += 8) {
      __m256 v[8];
      for (size_t r = 0; r < 8; ++r) v[r] = rows[r] != nullptr ? _mm256_loadu_ps(rows[r] + t) : _mm256_setzero_ps();
      const __m256 a0 = _mm256_unpacklo_ps(v[0], v[1]), a1 = _mm256_unpackhi_ps(v[0], v[1]);
      const __m256 a2 = _mm256_unpacklo_ps(v[2], v[3]), a3 = _mm256_unpackhi_ps(v[2], v[3]);
      const __m256 a4 = _mm256_unpacklo_ps(v[4], v[5]), a5 = _mm256_unpackhi_ps(v[4], v[5]);
      const __m256 a6 = _mm256_unpacklo_ps(v[6], v[7]), a7 = _mm256_unpackhi_ps(v[6], v[7]);
      const __m256 b0 = _mm256_shuffle_ps(a0, a2, 0x44), b1 = _mm256_shuffle_ps(a0, a2, 0xEE);
      const __m256 b2 = _mm256_shuffle_ps(a1, a3, 0x44), b3 = _mm256_shuffle_ps(a1, a3, 0xEE);
      const __m256 b4 = _mm256_shuffle_ps(a4, a6, 0x44), b5 = _mm256_shuffle_ps(a4, a6, 0xEE);
      const __m256 b6 = _mm256_shuffle_ps(a5, a7, 0x44), b7 = _mm256_shuffle_ps(a5, a7, 0xEE);
      // columns[q] = the 8 rows' values at t + q
      const __m256 columns[8] = {
          _mm256_permute2f128_ps(b0, b4, 0x20), _mm256_permute2f128_ps(b1, b5, 0x20),
          _mm256_permute2f128_ps(b2, b6, 0x20), _mm256_permute2f128_ps(b3, b7, 0x20),
          _mm256_permute2f128_ps(b0, b4, 0x31), _mm256_permute2f128_ps(b1, b5, 0x31),
          _mm256_permute2f128_ps(b2, b6, 0x31), _mm256_permute2f128_ps(b3, b7, 0x31),
      };
      for (size_t q = 0; q < 8; ++q) {
        double* out = dst + (t + q) * width;
        _mm256_storeu_pd(out, _mm256_cvtps_pd(_mm256_castps256_ps128(columns[q])));
        const __m256d high = _mm256_cvtps_pd(_mm256_extractf128_ps(columns[q], 1));
        if (width == 8) {
          _mm256_storeu_pd(out + 4, high);
        } else if (width == 6) {
          _mm_storeu_pd(out + 4, _mm256_castpd256_pd128(high));
        } else {
          alignas(32) double spill[4];
          _mm256_store_pd(spill, high);
          for (size_t r = 4; r < width; ++r) out[r] = spill[r - 4];
        }
      }
    }
    for (; t < depth; ++t) {
      double* out = dst + t * width;
      for (size_t r = 0; r < width; ++r) out[r] = rows[r] != nullptr ? static_cast<double>(rows[r][t]) : 0.0;
    }
    return;
  }
  if (!source.is_float && source.column_stride == 1 && width <= 8) {
    // Double rows: 4 x 4 transposes.
    const double* base = static_cast<const double*>(source.data);
    const double* rows[8];
    for (size_t r = 0; r < 8; ++r) rows[r] = r < valid_rows ? base + (first_row + r) * source.row_stride + t0 : nullptr;
    const __m256d scale = _mm256_set1_pd(source.scale);
    size_t t = 0;
    for (; t + 4 <= depth; t += 4) {
      for (size_t group = 0; group < width; group += 4) {
        __m256d v[4];
        for (size_t r = 0; r < 4; ++r) {
          const double* row = group + r < 8 ? rows[group + r] : nullptr;
          v[r] = row != nullptr ? _mm256_mul_pd(_mm256_loadu_pd(row + t), scale) : _mm256_setzero_pd();
        }
        const __m256d a0 = _mm256_unpacklo_pd(v[0], v[1]), a1 = _mm256_unpackhi_pd(v[0], v[1]);
        const __m256d a2 = _mm256_unpacklo_pd(v[2], v[3]), a3 = _mm256_unpackhi_pd(v[2], v[3]);
        const __m256d columns[4] = {
            _mm256_permute2f128_pd(a0, a2, 0x20), _mm256_permute2f128_pd(a1, a3, 0x20),
            _mm256_permute2f128_pd(a0, a2, 0x31), _mm256_permute2f128_pd(a1, a3, 0x31),
        };
        const size_t count = std::min<size_t>(4, width - group);
        for (size_t q = 0; q < 4; ++q) {
          double* out = dst + (t + q) * width + group;
          if (count == 4) {
            _mm256_storeu_pd(out, columns[q]);
          } else {
            alignas(32) double spill[4];
            _mm256_store_pd(spill, columns[q]);
            for (size_t r = 0; r < count; ++r) out[r] = spill[r];
          }
        }
      }
    }
    for (; t < depth; ++t) {
      double* out = dst + t * width;
      for (size_t r = 0; r < width; ++r) out[r] = rows[r] != nullptr ? rows[r][t] * source.scale : 0.0;
    }
    return;
  }
  pack_panel_generic(source, first_row, valid_rows, width, t0, depth, dst);
}

// 6 x 8 register tile: 12 accumulators, two B vectors, one broadcast A value.
ZEROLM_AVX2 void micro_kernel_avx2(size_t depth, const double* a, const double* b, double* c, size_t ldc) {
  for (size_t r = 0; r < kMicroRows; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + kMicroCols - 1), _MM_HINT_T0);
  }
  __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
  __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
  __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
  __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
  __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
  __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
#define ZEROLM_STEP(k)                                                  \
  {                                                                     \
    const __m256d b0 = _mm256_load_pd(b + (k) * kMicroCols);            \
    const __m256d b1 = _mm256_load_pd(b + (k) * kMicroCols + 4);        \
    const double* ak = a + (k) * kMicroRows;                            \
    __m256d av = _mm256_broadcast_sd(ak + 0);                           \
    c00 = _mm256_fmadd_pd(av, b0, c00);                                 \
    c01 = _mm256_fmadd_pd(av, b1, c01);                                 \
    av = _mm256_broadcast_sd(ak + 1);                                   \
    c10 = _mm256_fmadd_pd(av, b0, c10);                                 \
    c11 = _mm256_fmadd_pd(av, b1, c11);                                 \
    av = _mm256_broadcast_sd(ak + 2);                                   \
    c20 = _mm256_fmadd_pd(av, b0, c20);                                 \
    c21 = _mm256_fmadd_pd(av, b1, c21);                                 \
    av = _mm256_broadcast_sd(ak + 3);                                   \
    c30 = _mm256_fmadd_pd(av, b0, c30);                                 \
    c31 = _mm256_fmadd_pd(av, b1, c31);                                 \
    av = _mm256_broadcast_sd(ak + 4);                                   \
    c40 = _mm256_fmadd_pd(av, b0, c40);                                 \
    c41 = _mm256_fmadd_pd(av, b1, c41);                                 \
    av = _mm256_broadcast_sd(ak + 5);                                   \
    c50 = _mm256_fmadd_pd(av, b0, c50);                                 \
    c51 = _mm256_fmadd_pd(av, b1, c51);                                 \
  }
  size_t k = 0;
  for (; k + 4 <= depth; k += 4) {
    ZEROLM_STEP(k)
    ZEROLM_STEP(k + 1)
    ZEROLM_STEP(k + 2)
    ZEROLM_STEP(k + 3)
  }
  for (; k < depth; ++k) ZEROLM_STEP(k)
#undef ZEROLM_STEP
  double* row = c;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c00));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c01));
  row += ldc;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c10));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c11));
  row += ldc;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c20));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c21));
  row += ldc;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c30));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c31));
  row += ldc;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c40));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c41));
  row += ldc;
  _mm256_storeu_pd(row, _mm256_add_pd(_mm256_loadu_pd(row), c50));
  _mm256_storeu_pd(row + 4, _mm256_add_pd(_mm256_loadu_pd(row + 4), c51));
}

// One pass over the lower triangle: row r contributes its dot with x to y[r] and, mirrored, x[r] times the row to
// y[0..r). Four rows at a time share the loads and stores of x[j] and y[j], which otherwise bound this
// memory-streaming loop.
ZEROLM_AVX2 void symv_lower_avx2(size_t n, const double* a, size_t lda, const double* x, double* y) {
  size_t r = 0;
  for (; r + 4 <= n; r += 4) {
    const double* row0 = a + r * lda;
    const double* row1 = row0 + lda;
    const double* row2 = row1 + lda;
    const double* row3 = row2 + lda;
    const __m256d x0 = _mm256_set1_pd(x[r]), x1 = _mm256_set1_pd(x[r + 1]);
    const __m256d x2 = _mm256_set1_pd(x[r + 2]), x3 = _mm256_set1_pd(x[r + 3]);
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    __m256d acc2 = _mm256_setzero_pd(), acc3 = _mm256_setzero_pd();
    size_t j = 0;
    for (; j + 4 <= r; j += 4) {
      const __m256d xj = _mm256_loadu_pd(x + j);
      const __m256d a0 = _mm256_loadu_pd(row0 + j), a1 = _mm256_loadu_pd(row1 + j);
      const __m256d a2 = _mm256_loadu_pd(row2 + j), a3 = _mm256_loadu_pd(row3 + j);
      acc0 = _mm256_fmadd_pd(a0, xj, acc0);
      acc1 = _mm256_fmadd_pd(a1, xj, acc1);
      acc2 = _mm256_fmadd_pd(a2, xj, acc2);
      acc3 = _mm256_fmadd_pd(a3, xj, acc3);
      __m256d yj = _mm256_loadu_pd(y + j);
      yj = _mm256_fmadd_pd(a0, x0, yj);
      yj = _mm256_fmadd_pd(a1, x1, yj);
      yj = _mm256_fmadd_pd(a2, x2, yj);
      yj = _mm256_fmadd_pd(a3, x3, yj);
      _mm256_storeu_pd(y + j, yj);
    }
    double sums[4] = {horizontal_sum(acc0), horizontal_sum(acc1), horizontal_sum(acc2), horizontal_sum(acc3)};
    const double* rows[4] = {row0, row1, row2, row3};
    // The rest of the four rows: columns [j, r + q], a small triangle, done in scalar.
    for (size_t q = 0; q < 4; ++q) {
      const double* row = rows[q];
      const double xq = x[r + q];
      for (size_t c = j; c < r + q; ++c) {
        sums[q] += row[c] * x[c];
        y[c] += row[c] * xq;
      }
      y[r + q] += sums[q] + row[r + q] * xq;
    }
  }
  for (; r < n; ++r) {
    const double* row = a + r * lda;
    const double xr = x[r];
    double sum = 0;
    for (size_t c = 0; c < r; ++c) {
      sum += row[c] * x[c];
      y[c] += row[c] * xr;
    }
    y[r] += sum + row[r] * xr;
  }
}

// Four independent accumulators: FMA latency, not throughput, would otherwise bound the loop.
ZEROLM_AVX2 double dot_avx2(size_t n, const double* x, const double* y) {
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  __m256d acc2 = _mm256_setzero_pd(), acc3 = _mm256_setzero_pd();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i), acc0);
    acc1 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i + 4), _mm256_loadu_pd(y + i + 4), acc1);
    acc2 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i + 8), _mm256_loadu_pd(y + i + 8), acc2);
    acc3 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i + 12), _mm256_loadu_pd(y + i + 12), acc3);
  }
  for (; i + 4 <= n; i += 4) acc0 = _mm256_fmadd_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i), acc0);
  double tail = 0;
  for (; i < n; ++i) tail += x[i] * y[i];
  return horizontal_sum(_mm256_add_pd(_mm256_add_pd(acc0, acc1), _mm256_add_pd(acc2, acc3))) + tail;
}

ZEROLM_AVX2 void axpy_avx2(size_t n, double alpha, const double* x, double* y) {
  const __m256d alpha_vector = _mm256_set1_pd(alpha);
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm256_storeu_pd(y + i, _mm256_fmadd_pd(alpha_vector, _mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// 32 rows at a time: eight independent FMA chains hide the FMA latency across the k columns.
ZEROLM_AVX2 void subtract_columns_avx2(size_t n, size_t k, const double* columns, size_t ld, const double* coefficients,
                           double* y) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256d acc[8];
    for (int l = 0; l < 8; ++l) acc[l] = _mm256_loadu_pd(y + i + 4 * l);
    for (size_t q = 0; q < k; ++q) {
      const __m256d c = _mm256_set1_pd(coefficients[q]);
      const double* column = columns + q * ld + i;
      for (int l = 0; l < 8; ++l) acc[l] = _mm256_fnmadd_pd(c, _mm256_loadu_pd(column + 4 * l), acc[l]);
    }
    for (int l = 0; l < 8; ++l) _mm256_storeu_pd(y + i + 4 * l, acc[l]);
  }
  for (; i + 4 <= n; i += 4) {
    __m256d acc = _mm256_loadu_pd(y + i);
    for (size_t q = 0; q < k; ++q)
      acc = _mm256_fnmadd_pd(_mm256_set1_pd(coefficients[q]), _mm256_loadu_pd(columns + q * ld + i), acc);
    _mm256_storeu_pd(y + i, acc);
  }
  for (; i < n; ++i) {
    double value = y[i];
    for (size_t q = 0; q < k; ++q) value -= coefficients[q] * columns[q * ld + i];
    y[i] = value;
  }
}

ZEROLM_AVX2 void dot_columns_avx2(size_t n, size_t k, const double* columns, size_t ld, const double* x, double* out) {
  size_t q = 0;
  for (; q + 4 <= k; q += 4) {
    const double* c0 = columns + q * ld;
    const double* c1 = c0 + ld;
    const double* c2 = c1 + ld;
    const double* c3 = c2 + ld;
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    __m256d acc2 = _mm256_setzero_pd(), acc3 = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const __m256d xi = _mm256_loadu_pd(x + i);
      acc0 = _mm256_fmadd_pd(_mm256_loadu_pd(c0 + i), xi, acc0);
      acc1 = _mm256_fmadd_pd(_mm256_loadu_pd(c1 + i), xi, acc1);
      acc2 = _mm256_fmadd_pd(_mm256_loadu_pd(c2 + i), xi, acc2);
      acc3 = _mm256_fmadd_pd(_mm256_loadu_pd(c3 + i), xi, acc3);
    }
    double tails[4] = {0, 0, 0, 0};
    for (; i < n; ++i) {
      tails[0] += c0[i] * x[i];
      tails[1] += c1[i] * x[i];
      tails[2] += c2[i] * x[i];
      tails[3] += c3[i] * x[i];
    }
    out[q] = horizontal_sum(acc0) + tails[0];
    out[q + 1] = horizontal_sum(acc1) + tails[1];
    out[q + 2] = horizontal_sum(acc2) + tails[2];
    out[q + 3] = horizontal_sum(acc3) + tails[3];
  }
  for (; q < k; ++q) out[q] = dot_avx2(n, columns + q * ld, x);
}

ZEROLM_AVX2 inline __m256d low_half(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
ZEROLM_AVX2 inline __m256d high_half(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

ZEROLM_AVX2 void gram_apply_avx2(size_t rows, size_t n, const float* w, const double* x, double* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * n;
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    __m256d acc2 = _mm256_setzero_pd(), acc3 = _mm256_setzero_pd();
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
      const __m256 v0 = _mm256_loadu_ps(row + j), v1 = _mm256_loadu_ps(row + j + 8);
      acc0 = _mm256_fmadd_pd(low_half(v0), _mm256_loadu_pd(x + j), acc0);
      acc1 = _mm256_fmadd_pd(high_half(v0), _mm256_loadu_pd(x + j + 4), acc1);
      acc2 = _mm256_fmadd_pd(low_half(v1), _mm256_loadu_pd(x + j + 8), acc2);
      acc3 = _mm256_fmadd_pd(high_half(v1), _mm256_loadu_pd(x + j + 12), acc3);
    }
    for (; j + 8 <= n; j += 8) {
      const __m256 v0 = _mm256_loadu_ps(row + j);
      acc0 = _mm256_fmadd_pd(low_half(v0), _mm256_loadu_pd(x + j), acc0);
      acc1 = _mm256_fmadd_pd(high_half(v0), _mm256_loadu_pd(x + j + 4), acc1);
    }
    double tail = 0;
    for (; j < n; ++j) tail += static_cast<double>(row[j]) * x[j];
    const double projection =
        horizontal_sum(_mm256_add_pd(_mm256_add_pd(acc0, acc1), _mm256_add_pd(acc2, acc3))) + tail;
    const __m256d p = _mm256_set1_pd(projection);
    for (j = 0; j + 8 <= n; j += 8) {
      const __m256 values = _mm256_loadu_ps(row + j);
      _mm256_storeu_pd(y + j, _mm256_fmadd_pd(p, low_half(values), _mm256_loadu_pd(y + j)));
      _mm256_storeu_pd(y + j + 4, _mm256_fmadd_pd(p, high_half(values), _mm256_loadu_pd(y + j + 4)));
    }
    for (; j < n; ++j) y[j] += projection * static_cast<double>(row[j]);
  }
}

// Four rows per pass over t; each element's sum is still taken row by row, in order.
ZEROLM_AVX2 void combine_rows_avx2(size_t rows, size_t n, const float* w, const double* x, double* t) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* r0 = w + r * n;
    const float* r1 = r0 + n;
    const float* r2 = r1 + n;
    const float* r3 = r2 + n;
    const __m256d x0 = _mm256_set1_pd(x[r]), x1 = _mm256_set1_pd(x[r + 1]);
    const __m256d x2 = _mm256_set1_pd(x[r + 2]), x3 = _mm256_set1_pd(x[r + 3]);
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      __m256d acc = _mm256_loadu_pd(t + j);
      acc = _mm256_fmadd_pd(x0, _mm256_cvtps_pd(_mm_loadu_ps(r0 + j)), acc);
      acc = _mm256_fmadd_pd(x1, _mm256_cvtps_pd(_mm_loadu_ps(r1 + j)), acc);
      acc = _mm256_fmadd_pd(x2, _mm256_cvtps_pd(_mm_loadu_ps(r2 + j)), acc);
      acc = _mm256_fmadd_pd(x3, _mm256_cvtps_pd(_mm_loadu_ps(r3 + j)), acc);
      _mm256_storeu_pd(t + j, acc);
    }
    for (; j < n; ++j) {
      double sum = t[j];
      sum = std::fma(x[r], static_cast<double>(r0[j]), sum);
      sum = std::fma(x[r + 1], static_cast<double>(r1[j]), sum);
      sum = std::fma(x[r + 2], static_cast<double>(r2[j]), sum);
      sum = std::fma(x[r + 3], static_cast<double>(r3[j]), sum);
      t[j] = sum;
    }
  }
  for (; r < rows; ++r) {
    const float* row = w + r * n;
    const __m256d xr = _mm256_set1_pd(x[r]);
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
      _mm256_storeu_pd(t + j, _mm256_fmadd_pd(xr, _mm256_cvtps_pd(_mm_loadu_ps(row + j)), _mm256_loadu_pd(t + j)));
    for (; j < n; ++j) t[j] = std::fma(x[r], static_cast<double>(row[j]), t[j]);
  }
}

// Four rows at a time share the loads of u.
ZEROLM_AVX2 void dot_rows_avx2(size_t rows, size_t n, const float* w, const double* u, double* y) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* r0 = w + r * n;
    const float* r1 = r0 + n;
    const float* r2 = r1 + n;
    const float* r3 = r2 + n;
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    __m256d acc2 = _mm256_setzero_pd(), acc3 = _mm256_setzero_pd();
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
      const __m256d uj = _mm256_loadu_pd(u + j);
      acc0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(r0 + j)), uj, acc0);
      acc1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(r1 + j)), uj, acc1);
      acc2 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(r2 + j)), uj, acc2);
      acc3 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(r3 + j)), uj, acc3);
    }
    double tails[4] = {0, 0, 0, 0};
    for (; j < n; ++j) {
      tails[0] += static_cast<double>(r0[j]) * u[j];
      tails[1] += static_cast<double>(r1[j]) * u[j];
      tails[2] += static_cast<double>(r2[j]) * u[j];
      tails[3] += static_cast<double>(r3[j]) * u[j];
    }
    y[r] = horizontal_sum(acc0) + tails[0];
    y[r + 1] = horizontal_sum(acc1) + tails[1];
    y[r + 2] = horizontal_sum(acc2) + tails[2];
    y[r + 3] = horizontal_sum(acc3) + tails[3];
  }
  for (; r < rows; ++r) {
    const float* row = w + r * n;
    __m256d acc = _mm256_setzero_pd();
    size_t j = 0;
    for (; j + 4 <= n; j += 4) acc = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(row + j)), _mm256_loadu_pd(u + j), acc);
    double tail = 0;
    for (; j < n; ++j) tail += static_cast<double>(row[j]) * u[j];
    y[r] = horizontal_sum(acc) + tail;
  }
}

ZEROLM_AVX2 bool band_to_tridiagonal_avx2(size_t n, double* a, size_t lda, size_t b, double* d, double* e,
                              const std::atomic<bool>* cancel) {
  return band_chase::reduce(n, a, lda, b, d, e, cancel);
}

const KernelTable kAvx2Table = {
    "avx2-fma",      fill_counters_avx2,    stats_update_avx2,     pack_panel_avx2,  micro_kernel_avx2, symv_lower_avx2, dot_avx2,
    axpy_avx2,       subtract_columns_avx2, dot_columns_avx2, band_to_tridiagonal_avx2, gram_apply_avx2,
    combine_rows_avx2, dot_rows_avx2,
};

}  // namespace

const KernelTable& avx2_kernels() { return kAvx2Table; }

}  // namespace zerolm
