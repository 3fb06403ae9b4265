// Inputs shared by the reference and metrics tests: a portable seeded generator,
// triangular matrices with garbage in the entries the input contract never reads,
// the LAPACK baseline (dtrtri) and small helpers.
#pragma once

#include <lapacke.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "triscan/matrix.hpp"
#include "triscan/trinv.hpp"

namespace triscan::test {

// fp64 unit roundoff u = 2^-53 (BACKGROUND.md "Formats").
inline const double u64 = std::ldexp(1.0, -53);

// Uniform in [lo, hi) from the top 53 bits of mt19937_64 (portable, unlike
// std::uniform_real_distribution whose algorithm the standard leaves open).
class Uniform {
 public:
  explicit Uniform(std::uint64_t seed) : gen_(seed) {}
  double operator()(double lo, double hi) {
    return lo + (hi - lo) * (static_cast<double>(gen_() >> 11) * std::ldexp(1.0, -53));
  }

 private:
  std::mt19937_64 gen_;
};

inline const char* name(Triangle t) {
  return t == Triangle::lower ? "lower" : "upper";
}
inline const char* name(Diagonal d) {
  return d == Diagonal::unit ? "unit" : "non_unit";
}

inline bool in_triangle(index_t i, index_t j, Triangle t) {
  return t == Triangle::lower ? i > j : i < j;
}

// A well-conditioned triangular matrix: off-diagonal entries of the triangle uniform
// in [-1, 1)/n, so every row's off-diagonal sum is < 1; a non-unit diagonal is
// +-(1 + U[0, 1)). Then |A| <= 2|D| row-wise with |D| >= 1 and kappa_inf(A) is
// modest (the matrix is diagonally dominant; Higham ASNA §8.3). Entries the contract
// never reads (the other triangle; a unit matrix's diagonal) hold `garbage`.
inline Matrix<double> well_conditioned(index_t n, Triangle t, Diagonal d, std::uint64_t seed,
                                       double garbage = 1e20) {
  Uniform rnd(seed);
  Matrix<double> A(n, n, garbage);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      if (in_triangle(i, j, t)) A(i, j) = rnd(-1.0, 1.0) / static_cast<double>(n);
      if (i == j && d == Diagonal::non_unit)
        A(i, i) = (rnd(0.0, 1.0) < 0.5 ? -1.0 : 1.0) * (1.0 + rnd(0.0, 1.0));
    }
  return A;
}

// X = A^-1 by LAPACK's dtrtri (OpenBLAS), completed to the full matrix the output
// contract defines: 1 on a unit diagonal, 0 in the other triangle.
inline Matrix<double> lapack_inverse(const Matrix<double>& A, Triangle t, Diagonal d) {
  const index_t n = A.rows();
  Matrix<double> X = A;
  const lapack_int info = LAPACKE_dtrtri(
      LAPACK_ROW_MAJOR, t == Triangle::lower ? 'L' : 'U', d == Diagonal::unit ? 'U' : 'N',
      static_cast<lapack_int>(n), X.data(), static_cast<lapack_int>(n));
  if (info != 0) throw std::runtime_error("LAPACKE_dtrtri failed, info = " + std::to_string(info));
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      if (i == j && d == Diagonal::unit) X(i, j) = 1.0;
      if (i != j && !in_triangle(i, j, t)) X(i, j) = 0.0;
    }
  return X;
}

inline std::string describe(const char* input_class, index_t n, Triangle t, Diagonal d,
                            std::uint64_t seed) {
  std::ostringstream s;
  s << "input " << input_class << ", n = " << n << ", " << name(t) << " " << name(d)
    << ", format fp64, seed " << seed;
  return s.str();
}

}  // namespace triscan::test
