// Singular values of Gaussian matrices without the matrix: the bidiagonal model.
//
// Householder bidiagonalisation of an m x n matrix (m >= n) with i.i.d. N(0, s^2) entries, W = Q B P^T, gives an
// upper bidiagonal B whose entries are independent, B_ii ~ s chi_{m-i} (i = 0..n-1) and B_i,i+1 ~ s chi_{n-1-i}
// (Silverstein 1985; Dumitriu and Edelman, "Matrix models for beta ensembles", 2002, the beta = 1 Laguerre case).
// Q and P are orthogonal, so W and B have the same singular values: drawing B draws the joint law of W's whole
// spectrum exactly, from 2n - 1 random variates and an O(n^2) tridiagonal eigenvalue problem instead of m n
// values and O(m n^2) work. It is the same distribution, not the same draw as generating W from the same seed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "philox.h"

namespace zerolm {

// chi with `degrees` (> 0) degrees of freedom: sqrt of 2 Gamma(degrees / 2), Gamma by Marsaglia and Tsang (2000),
// with the boost Gamma(a) = Gamma(a + 1) U^(1/a) below a = 1.
double chi_variate(double degrees, PhiloxSequence& random);

// The bidiagonal of an m x n N(0, std^2) matrix, p = min(m, n): diagonal[0..p), super[0..p-1). Seeded by
// (seed, stream); the same arguments give the same bits on every platform.
void draw_gaussian_bidiagonal(size_t rows, size_t cols, double std, uint32_t seed, uint32_t stream,
                              std::vector<double>& diagonal, std::vector<double>& super);

// ln det(I + B^T B) in O(p) by the LDL^T pivots of the tridiagonal I + B^T B (all >= 1, so no cancellation).
double bidiagonal_log_det_identity_plus(const std::vector<double>& diagonal, const std::vector<double>& super);

// The largest singular value of B in O(p log(1/eps)): bisection with Sturm counts on B^T B.
double bidiagonal_top(const std::vector<double>& diagonal, const std::vector<double>& super);

// B^T B as a symmetric tridiagonal matrix: t_diagonal[0..p), t_off[0..p) (the last entry is unused).
void bidiagonal_gram(const std::vector<double>& diagonal, const std::vector<double>& super,
                     std::vector<double>& t_diagonal, std::vector<double>& t_off);

}  // namespace zerolm
