// Helpers shared by tests/trinv/test_iterative*.cpp: running an iterative kernel
// directly under an arithmetic model, the comparison-matrix bounds, the MPFR
// reference of the same input.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/arith.hpp"
#include "src/trinv/iterative.hpp"
#include "src/trinv/method.hpp"
#include "triscan/metrics.hpp"
#include "triscan/reference.hpp"
#include "validation/generators.hpp"

namespace triscan::iterative_test {

inline const trinv_detail::MethodImpl& iterative_impl(const std::string& name) {
  static const std::vector<trinv_detail::MethodImpl> methods = trinv_detail::iterative_methods();
  for (const auto& m : methods)
    if (m.info.name == name) return m;
  throw std::invalid_argument("no iterative method " + name);
}

template <class T>
struct KernelRun {
  Matrix<T> X;
  trinv_detail::MethodOutcome outcome;
  double growth = 0.0;
  bool overflowed = false;
};

// Runs the kernel of `spec_text` under model `a` on the lower matrix L (X's upper part
// is left 0). The result is the kernel's, before the driver's output rounding.
template <class A>
KernelRun<typename A::value_type> run_kernel(const std::string& spec_text, A& a,
                                             const Matrix<typename A::value_type>& L,
                                             Diagonal diagonal = Diagonal::unit,
                                             const Precision* precision = nullptr) {
  const MethodSpec spec = MethodSpec::parse(spec_text);
  const trinv_detail::MethodImpl& m = iterative_impl(spec.name);
  m.validate(spec);
  trinv_detail::Context ctx;
  ctx.diagonal = diagonal;
  ctx.precision = precision;
  KernelRun<typename A::value_type> r{Matrix<typename A::value_type>(L.rows(), L.cols()), {}};
  if constexpr (std::is_same_v<A, arith::Native<double>>)
    r.outcome = m.run_f64(spec, a, L.view(), r.X.view(), ctx);
  else if constexpr (std::is_same_v<A, arith::Native<float>>)
    r.outcome = m.run_f32(spec, a, L.view(), r.X.view(), ctx);
  else
    r.outcome = m.run_sim(spec, a, L.view(), r.X.view(), ctx);
  r.growth = a.growth();
  r.overflowed = a.overflowed();
  return r;
}

inline KernelRun<double> run_f64(const std::string& spec, const Matrix<double>& L,
                                 Diagonal diagonal = Diagonal::unit) {
  arith::Native<double> a;
  return run_kernel(spec, a, L, diagonal);
}

inline KernelRun<double> run_simulated(const std::string& spec, const Matrix<double>& L,
                                       const Precision& p) {
  arith::Simulated a(p);
  return run_kernel(spec, a, L, Diagonal::unit, &p);
}

// gamma_k = k u / (1 - k u) (Higham ASNA 2nd ed. Lemma 3.1); +inf when k u >= 1.
inline double gamma(double k, double u) {
  return k * u < 1.0 ? k * u / (1.0 - k * u) : std::numeric_limits<double>::infinity();
}

// |L| with L's unit diagonal explicit.
inline Matrix<double> abs_unit_lower(const Matrix<double>& L) {
  const index_t n = L.rows();
  Matrix<double> A(n, n);
  for (index_t i = 0; i < n; ++i) {
    A(i, i) = 1.0;
    for (index_t j = 0; j < i; ++j) A(i, j) = std::fabs(L(i, j));
  }
  return A;
}

// M(L)^-1 = (I - |N|)^-1 = sum_k |N|^k for unit L = I + N, by column-oriented forward
// substitution on nonnegative numbers: no cancellation, so each computed entry is
// within a factor (1 + gamma_n) of the exact one (Higham ASNA 2nd ed. §8.3); the bounds
// that use it allow for that factor.
inline Matrix<double> comparison_inverse(const Matrix<double>& L) {
  const index_t n = L.rows();
  Matrix<double> W(n, n);
  for (index_t j = 0; j < n; ++j) {
    W(j, j) = 1.0;
    for (index_t i = j + 1; i < n; ++i) {
      double s = 0.0;
      for (index_t k = j; k < i; ++k) s += std::fabs(L(i, k)) * W(k, j);
      W(i, j) = s;
    }
  }
  return W;
}

// C = A B in double (i-k-j order). For nonnegative matrices an upper bound within a
// factor 1 + gamma_n (no cancellation).
inline Matrix<double> product(const Matrix<double>& A, const Matrix<double>& B) {
  const index_t n = A.rows();
  Matrix<double> C(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t k = 0; k < n; ++k)
      for (index_t j = 0; j < n; ++j) C(i, j) += A(i, k) * B(k, j);
  return C;
}

inline double max_entry(const Matrix<double>& M) {
  double m = 0.0;
  for (index_t i = 0; i < M.rows(); ++i)
    for (index_t j = 0; j < M.cols(); ++j) m = std::max(m, std::fabs(M(i, j)));
  return m;
}

// The MPFR reference inverse of the same (already rounded) unit lower L as a
// double-double (high + low), and the relative Frobenius error of X against it.
struct Reference {
  Matrix<double> high, low;
};
inline Reference reference_of(const Matrix<double>& L, Diagonal diagonal = Diagonal::unit) {
  const Matrix<mp_float> R = reference_inverse(L.view(), Triangle::lower, diagonal);
  return {round_to_double(R), rounding_remainder(R)};
}
inline double forward_error(const Matrix<double>& X, const Reference& ref) {
  return relative_error(X.view(), ref.high.view(), Norm::frobenius, ref.low.view());
}

inline Matrix<double> generate(const std::string& name, index_t n, std::uint64_t seed) {
  validation::GeneratorParams p;
  p.name = name;
  p.n = n;
  p.seed = seed;
  return validation::generate(p).L;
}

inline std::string describe(const std::string& method, const std::string& input, index_t n,
                            const std::string& format, std::uint64_t seed) {
  return method + " on " + input + " n=" + std::to_string(n) + " format=" + format +
         " seed=" + std::to_string(seed);
}

}  // namespace triscan::iterative_test
