// Helpers shared by the registry-wide trinv tests: exact integer inverses (an oracle
// independent of triscan), method specs that exercise every code path, and small
// matrix utilities.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "triscan/trinv.hpp"

namespace triscan::trinv_test {

// A lower-triangular integer matrix with off-diagonal entries in {-1, 0, 1} and a
// diagonal of +-1 (non-unit) or 1 (unit). Deterministic in `seed` (splitmix64).
inline Matrix<std::int64_t> integer_lower(index_t n, std::uint64_t seed, bool unit) {
  Matrix<std::int64_t> L(n, n);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 12345u;
  auto next = [&s] {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < i; ++j) L(i, j) = static_cast<std::int64_t>(next() % 3) - 1;
    L(i, i) = unit ? 1 : ((next() & 1u) ? 1 : -1);
  }
  return L;
}

// The exact inverse of a lower-triangular integer matrix with diagonal +-1, by forward
// substitution in int64: x_ij = (delta_ij - sum_{k=j}^{i-1} l_ik x_kj) / l_ii. With
// |l_ij| <= 1 the entries satisfy |x_ij| <= 2^(i-j-1) (the comparison-matrix bound of
// Higham ASNA §8.3), so nothing overflows for n <= 60.
inline Matrix<std::int64_t> exact_inverse(const Matrix<std::int64_t>& L) {
  const index_t n = L.rows();
  Matrix<std::int64_t> X(n, n);
  for (index_t j = 0; j < n; ++j)
    for (index_t i = j; i < n; ++i) {
      std::int64_t s = i == j ? 1 : 0;
      for (index_t k = j; k < i; ++k) s -= L(i, k) * X(k, j);
      X(i, j) = s / L(i, i);  // L(i, i) = +-1: exact
    }
  return X;
}

template <class T>
Matrix<T> to_real(const Matrix<std::int64_t>& M) {
  Matrix<T> R(M.rows(), M.cols());
  for (index_t i = 0; i < M.rows(); ++i)
    for (index_t j = 0; j < M.cols(); ++j) R(i, j) = static_cast<T>(M(i, j));
  return R;
}

// Method specs covering every code path of the direct methods on small n (block and
// base sizes 1, 2, 3, 5, so that partial blocks and uneven splits occur), plus every
// other registered method with its defaults.
inline std::vector<std::string> direct_specs() {
  std::vector<std::string> out;
  for (const auto& m : trinv_methods()) {
    if (m.family != "direct") continue;
    out.push_back(m.name);
    if (m.name == "trinv/blocked")
      for (int nb : {1, 2, 3, 5}) out.push_back(m.name + ":nb=" + std::to_string(nb));
    if (m.name == "trinv/recursive" || m.name == "trinv/recursive_merge")
      for (int b : {1, 2, 3, 5}) out.push_back(m.name + ":base=" + std::to_string(b));
  }
  return out;
}

inline TrinvOptions options_for(const Format& f, Triangle t = Triangle::lower, Diagonal d = Diagonal::unit) {
  TrinvOptions o;
  o.precision = Precision::uniform(f);
  o.triangle = t;
  o.diagonal = d;
  return o;
}

inline std::string describe(const std::string& spec, const std::string& input, index_t n, const std::string& format,
                     std::uint64_t seed) {
  std::ostringstream os;
  os << "method " << spec << ", input " << input << ", n = " << n << ", format " << format << ", seed " << seed;
  return os.str();
}

// |A||B| for lower triangular A, B (n^3/6 multiply-adds of non-negative terms).
inline Matrix<double> abs_product(const Matrix<double>& A, const Matrix<double>& B) {
  const index_t n = A.rows();
  Matrix<double> C(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t k = 0; k <= i; ++k) {
      const double a = std::fabs(A(i, k));
      if (a == 0.0) continue;
      for (index_t j = 0; j <= k; ++j) C(i, j) += a * std::fabs(B(k, j));
    }
  return C;
}

// The first entry where two matrices differ bitwise (NaN == NaN), or "" when equal.
template <class T>
std::string first_difference(MatrixView<const T> A, MatrixView<const T> B) {
  for (index_t i = 0; i < A.rows; ++i)
    for (index_t j = 0; j < A.cols; ++j) {
      const T a = A(i, j), b = B(i, j);
      if (!(a == b || (std::isnan(a) && std::isnan(b))))
        return "(" + std::to_string(i) + ", " + std::to_string(j) + "): " + std::to_string(double(a)) +
               " vs " + std::to_string(double(b));
    }
  return "";
}

}  // namespace triscan::trinv_test
