// Transcendentals for the normal fill, written so that the scalar code (philox.cc) and the AVX2 code
// (kernels_avx2.cc) perform the very same IEEE operations in the same order: only +, -, *, /, sqrt, round to
// nearest integer and bit manipulation, never a fused multiply-add (the engine builds with -ffp-contract=off).
// Fills are then bit-identical across kernels and platforms, unlike libm's log/sincos.
#pragma once
#include <cstdint>

namespace zerolm {
namespace fill_math {

constexpr double kTwoPow32Inverse = 1.0 / 4294967296.0;
constexpr double kSqrt2 = 1.4142135623730950488;
// ln 2 split so that e * kLn2High is exact for |e| < 2^11 (fdlibm's constants).
constexpr double kLn2High = 6.93147180369123816490e-01;
constexpr double kLn2Low = 1.90821492927058770002e-10;
constexpr double kHalfPi = 1.5707963267948966192;
// Converts small integers between int64 bit patterns and doubles exactly (add, then subtract, 2^52 + 2^51).
constexpr double kRoundingMagic = 6755399441055744.0;

// log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716: 2 s (1 + s^2/3 + s^4/5 + ...), terms to s^21.
constexpr double kAtanhSeries[11] = {1.0,        1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9, 1.0 / 11,
                                     1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21};
// sin(x) = x + x^3 (S1 + x^2 (S2 + ...)), cos(x) = 1 + x^2 (C1 + x^2 (C2 + ...)), |x| <= pi/4, to x^19 / x^20.
constexpr double kSinSeries[9] = {-1.0 / 6,
                                  1.0 / 120,
                                  -1.0 / 5040,
                                  1.0 / 362880,
                                  -1.0 / 39916800,
                                  1.0 / 6227020800,
                                  -1.0 / 1307674368000,
                                  1.0 / 355687428096000,
                                  -1.0 / 121645100408832000};
constexpr double kCosSeries[10] = {-1.0 / 2,
                                   1.0 / 24,
                                   -1.0 / 720,
                                   1.0 / 40320,
                                   -1.0 / 3628800,
                                   1.0 / 479001600,
                                   -1.0 / 87178291200,
                                   1.0 / 20922789888000,
                                   -1.0 / 6402373705728000,
                                   1.0 / 2432902008176640000};

}  // namespace fill_math
}  // namespace zerolm
