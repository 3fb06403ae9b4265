// numerics/arith.hpp — the arithmetic models algorithms are written against.
//
// Every algorithm in src/ is a template over an arithmetic model `A`:
//   using T = typename A::value_type;
//   a.add(x, y), a.sub(x, y), a.mul(x, y), a.div(x, y), a.sqrt(x)
//   a.muladd(x, y, c)                         c + x*y under the model
//   a.dot(n, x, incx, y, incy, init)          init + sum_k x[k*incx] y[k*incy]
//   a.gemm(A, B, C, alpha, beta)              C <- store(beta C + alpha A B)
//   a.operand(x), a.store(x), a.output(x)     round to the operand / storage / output format
// `Native<float>` and `Native<double>` are IEEE arithmetic in round-to-nearest with
// no rounding calls (the fast path). `Simulated` carries values in double and
// rounds every operation as the `Precision` says:
//   - multiplicative operands (mul, muladd, dot, gemm) are first rounded to `operand`;
//   - round_every_op: each product and each sum is rounded to `accumulate`;
//   - exact_products: products are exact, each sum (c + x*y) is rounded once to
//     `accumulate` (the tensor-core / NPU cube-unit model);
//   - add, sub, div, sqrt round their exact result to `accumulate`;
//   - `store` rounds an intermediate written back to memory, `output` the final result.
// Both models record whether a finite computation produced a non-finite value
// (`overflowed()`) and the largest magnitude they produced (`growth()`), which the
// algorithms turn into statuses.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "triscan/format.hpp"
#include "triscan/matrix.hpp"

namespace triscan::arith {

template <class T>
class Native {
 public:
  using value_type = T;
  static constexpr bool native = true;

  T operand(T x) const { return x; }
  T store(T x) const { return x; }
  T output(T x) const { return x; }
  T add(T x, T y) const { return x + y; }
  T sub(T x, T y) const { return x - y; }
  T mul(T x, T y) const { return x * y; }
  T div(T x, T y) const { return x / y; }
  T sqrt(T x) const { return std::sqrt(x); }
  T muladd(T x, T y, T c) const { return c + x * y; }

  T dot(index_t n, const T* x, index_t incx, const T* y, index_t incy, T init) const {
    T s = init;
    for (index_t k = 0; k < n; ++k) s += x[k * incx] * y[k * incy];
    return s;
  }

  // C <- beta C + alpha A B (i-k-j loop order: the inner loop runs along C's rows
  // with unit stride for row-major operands and vectorizes).
  void gemm(MatrixView<const T> A, MatrixView<const T> B, MatrixView<T> C, T alpha = T(1),
            T beta = T(0)) const {
    for (index_t i = 0; i < C.rows; ++i) {
      for (index_t j = 0; j < C.cols; ++j) C(i, j) = beta == T(0) ? T(0) : beta * C(i, j);
      for (index_t k = 0; k < A.cols; ++k) {
        const T a = alpha * A(i, k);
        if (a == T(0)) continue;
        for (index_t j = 0; j < C.cols; ++j) C(i, j) += a * B(k, j);
      }
    }
  }

  // Native arithmetic records nothing as it goes; callers check the output.
  bool overflowed() const { return false; }
  double growth() const { return 0.0; }
  void reset_tracking() {}
};

class Simulated {
 public:
  using value_type = double;
  static constexpr bool native = false;

  explicit Simulated(const Precision& p, std::uint64_t stream = 0)
      : p_(p), rng_(p.seed ^ (0x9E3779B97F4A7C15ull * (stream + 1))) {}

  const Precision& precision() const { return p_; }

  double operand(double x) { return track(x, triscan::round(x, p_.operand, p_.rounding, &rng_)); }
  double store(double x) { return track(x, triscan::round(x, p_.storage, p_.rounding, &rng_)); }
  double output(double x) { return track(x, triscan::round(x, p_.output, p_.rounding, &rng_)); }
  double accumulate(double x) {
    return track(x, triscan::round(x, p_.accumulate, p_.rounding, &rng_));
  }

  double add(double x, double y) { return track2(x, y, rounded_add(x, y, acc(), mode(), &rng_)); }
  double sub(double x, double y) { return track2(x, y, rounded_sub(x, y, acc(), mode(), &rng_)); }
  double div(double x, double y) { return track2(x, y, rounded_div(x, y, acc(), mode(), &rng_)); }
  double sqrt(double x) { return track(x, rounded_sqrt(x, acc(), mode(), &rng_)); }
  double mul(double x, double y) {
    const double a = operand(x), b = operand(y);
    return track2(a, b, rounded_mul(a, b, acc(), mode(), &rng_));
  }
  double muladd(double x, double y, double c) {
    const double a = operand(x), b = operand(y);
    if (p_.accumulation == Accumulation::exact_products)
      return track2(a * b, c, rounded_fma(a, b, c, acc(), mode(), &rng_));
    return add(c, track2(a, b, rounded_mul(a, b, acc(), mode(), &rng_)));
  }
  double dot(index_t n, const double* x, index_t incx, const double* y, index_t incy,
             double init) {
    double s = init;
    for (index_t k = 0; k < n; ++k) s = muladd(x[k * incx], y[k * incy], s);
    return s;
  }
  void gemm(MatrixView<const double> A, MatrixView<const double> B, MatrixView<double> C,
            double alpha = 1.0, double beta = 0.0) {
    for (index_t i = 0; i < C.rows; ++i) {
      for (index_t j = 0; j < C.cols; ++j) {
        double s = dot(A.cols, &A(i, 0), A.col_stride, &B(0, j), B.row_stride, 0.0);
        if (alpha != 1.0) s = mul(alpha, s);
        if (beta != 0.0) s = muladd(beta, C(i, j), s);
        C(i, j) = store(s);
      }
    }
  }

  bool overflowed() const { return overflowed_; }
  double growth() const { return growth_; }
  void reset_tracking() {
    overflowed_ = false;
    growth_ = 0.0;
  }

 private:
  const Format& acc() const { return p_.accumulate; }
  Rounding mode() const { return p_.rounding; }
  // Records growth, and overflow when a finite input produced a non-finite result.
  double track(double in, double out) {
    if (!std::isfinite(out)) {
      if (std::isfinite(in)) overflowed_ = true;
    } else {
      growth_ = std::max(growth_, std::fabs(out));
    }
    return out;
  }
  double track2(double x, double y, double out) {
    return track(std::isfinite(x) && std::isfinite(y) ? 0.0 : x + y, out);
  }

  Precision p_;
  RandomBits rng_;
  bool overflowed_ = false;
  double growth_ = 0.0;
};

}  // namespace triscan::arith
