// src/trinv/iterative.hpp — building blocks of the iterative triangular-inversion
// methods (src/trinv/iterative.cpp), internal and not installed. They are in a header
// so that tests can check them against the dense GEMM of the arithmetic model.
#pragma once

#include <cmath>
#include <cstdint>

#include "numerics/arith.hpp"
#include "triscan/matrix.hpp"

namespace triscan::trinv_detail {

// Smallest m with 2^m >= n (0 for n <= 1): the number of factors of the product form
// and the number of Newton–Schulz steps from X0 = I that make the iterate exact.
inline int ceil_log2(index_t n) {
  int m = 0;
  while ((index_t{1} << m) < n) ++m;
  return m;
}

// Multiply-adds of one banded lower-triangular product C = A B (n x n), where
// A(i,k) = 0 for i - k < a_gap and B(k,j) = 0 for k - j < b_gap: entry (i,j) with
// d = i - j needs the d - g + 1 terms k = j + b_gap .. i - a_gap (g = a_gap + b_gap),
// so the count is sum_{d=g}^{n-1} (n - d)(d - g + 1). g = 0 gives n(n+1)(n+2)/6.
inline double banded_product_macs(index_t n, index_t gap) {
  double macs = 0.0;
  for (index_t d = gap; d < n; ++d) macs += double(n - d) * double(d - gap + 1);
  return macs;
}

// C(i,j) <- finish(i, j, init(i,j) + sum_{k=j+b_gap}^{i-a_gap} A(i,k) B(k,j)) for the
// lower triangle i >= j of C, for lower-triangular A, B with zero bands as above
// (A(i,k) = 0 when i - k < a_gap, B(k,j) = 0 when k - j < b_gap). Entries above the
// diagonal of C are not written. C must alias neither A nor B.
//
// Each entry is one `a.dot` in ascending k, i.e. the multiply-add sequence that
// `a.gemm` performs on the dense matrices minus the terms with a factor that is
// zero by the band structure. Those terms are exact zeros (x*0 = 0 and s + 0 = s
// for an s already in the accumulation format), so with init = 0 and finish = store
// the result equals the dense `a.gemm` bit for bit under every deterministic
// rounding mode (tests/trinv/test_iterative_kernels.cpp checks it) at 1/6 of its
// cost or less. The accumulation model (operand rounding, exact products or
// rounding every op) is therefore exactly that of the GEMM.
template <class A, class Init, class Finish>
void banded_lower_product(A& a, MatrixView<const typename A::value_type> Am, index_t a_gap,
                          MatrixView<const typename A::value_type> B, index_t b_gap,
                          MatrixView<typename A::value_type> C, Init init, Finish finish) {
  const index_t n = C.rows;
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j <= i; ++j) {
      const index_t lo = j + b_gap, hi = i - a_gap;
      auto s = init(i, j);
      if (hi >= lo) s = a.dot(hi - lo + 1, &Am(i, lo), Am.col_stride, &B(lo, j), B.row_stride, s);
      C(i, j) = finish(i, j, s);
    }
  }
}

// max_i sum_j |R(i,j)| over the lower triangle (the infinity norm of a lower
// triangular R), evaluated in double: a monitoring quantity, not part of the model.
template <class T>
double lower_inf_norm(MatrixView<const T> R) {
  double norm = 0.0;
  for (index_t i = 0; i < R.rows; ++i) {
    double row = 0.0;
    for (index_t j = 0; j <= i; ++j) row += std::fabs(double(R(i, j)));
    norm = std::isnan(row) ? row : std::fmax(norm, row);
    if (std::isnan(norm)) return norm;
  }
  return norm;
}

// True when every entry of the lower triangle is finite.
template <class T>
bool lower_all_finite(MatrixView<const T> X) {
  for (index_t i = 0; i < X.rows; ++i)
    for (index_t j = 0; j <= i; ++j)
      if (!std::isfinite(double(X(i, j)))) return false;
  return true;
}

}  // namespace triscan::trinv_detail
