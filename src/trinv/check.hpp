// src/trinv/check.hpp — the a-posteriori accuracy check of the triangular inversion
// (DESIGN.md "Numerical contracts"; docs/trinv.md "The a-posteriori check"), shared by the
// driver (one matrix at a time) and the batched fast path (src/trinv/lanes.hpp, the same
// operations lane-wise). Not installed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "triscan/format.hpp"
#include "triscan/matrix.hpp"

namespace triscan::trinv_detail {

// The fixed check vectors: v_j = +-1 from splitmix64 of (seed, j), so the check is the same
// for every thread and every run.
inline double check_sign(std::uint64_t seed, index_t j) {
  std::uint64_t state = seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(j);
  return (splitmix64_next(state) & 1u) ? 1.0 : -1.0;
}
inline constexpr std::uint64_t check_seeds[2] = {0x7472696E76636B31ull, 0x7472696E76636B32ull};

// rho = min(rho_right, rho_left), the componentwise relative residuals on the two fixed
// +-1 vectors v (computed in double):
//   rho_right = max_v max_i |(L X v - v)_i|     / (|L||X||v|)_i
//   rho_left  = max_v max_j |(v^T X L - v^T)_j| / (|v|^T|X||L|)_j
// Method 1 satisfies |L X - I| <= gamma_n |L||X| (and Method 2 the left analogue), so
// rho <= (n+1) u for them, the +u being the output rounding; a result that passes is the
// exact inverse, on the tested vectors, of a componentwise-nearby matrix on one side.
// L and X are lower triangular views with unit column stride (the driver's working copies
// or the caller's row-major views); a unit L's stored diagonal is not read; n >= 1.
template <class T>
double accuracy_check(const MatrixView<const T>& L, const MatrixView<const T>& X, bool unit) {
  const index_t n = L.rows;
  const auto N = static_cast<std::size_t>(n);
  std::vector<double> v0(N), v1(N), t0(N), t1(N), xa(N), s0(N, 0.0), s1(N, 0.0), ca(N, 0.0),
      w0(N, 0.0), w1(N, 0.0), dl(N, 0.0);
  for (index_t j = 0; j < n; ++j) {
    v0[j] = check_sign(check_seeds[0], j);
    v1[j] = check_sign(check_seeds[1], j);
  }
  auto diag = [&](index_t i) {
    return unit ? 1.0 : double(L(i, i));
  };  // a unit diagonal is not read
  // Right: t = X v, xa = |X| 1; r = L t - v against (|L| xa) (|v| = 1).
  for (index_t i = 0; i < n; ++i) {
    const T* x = &X(i, 0);
    double a0 = 0.0, a1 = 0.0, a = 0.0;
    for (index_t j = 0; j <= i; ++j) {
      const double xv = double(x[j]);
      a0 += xv * v0[j];
      a1 += xv * v1[j];
      a += std::fabs(xv);
    }
    t0[i] = a0, t1[i] = a1, xa[i] = a;
  }
  double rho_r = 0.0, rho_l = 0.0;
  auto ratio = [](double num, double den) { return num == 0.0 ? 0.0 : num / den; };
  for (index_t i = 0; i < n; ++i) {
    const T* l = &L(i, 0);
    double r0 = diag(i) * t0[i] - v0[i], r1 = diag(i) * t1[i] - v1[i],
           d = std::fabs(diag(i)) * xa[i];
    for (index_t k = 0; k < i; ++k) {
      const double lv = double(l[k]);
      r0 += lv * t0[k];
      r1 += lv * t1[k];
      d += std::fabs(lv) * xa[k];
    }
    rho_r = std::max(rho_r, std::max(ratio(std::fabs(r0), d), ratio(std::fabs(r1), d)));
  }
  // Left: s^T = v^T X, ca = 1^T |X|; w^T = s^T L - v^T against (ca^T |L|).
  for (index_t i = 0; i < n; ++i) {
    const T* x = &X(i, 0);
    for (index_t j = 0; j <= i; ++j) {
      const double xv = double(x[j]);
      s0[j] += v0[i] * xv;
      s1[j] += v1[i] * xv;
      ca[j] += std::fabs(xv);
    }
  }
  for (index_t i = 0; i < n; ++i) {
    const T* l = &L(i, 0);
    for (index_t k = 0; k < i; ++k) {
      const double lv = double(l[k]);
      w0[k] += s0[i] * lv;
      w1[k] += s1[i] * lv;
      dl[k] += ca[i] * std::fabs(lv);
    }
    w0[i] += s0[i] * diag(i);
    w1[i] += s1[i] * diag(i);
    dl[i] += ca[i] * std::fabs(diag(i));
  }
  for (index_t k = 0; k < n; ++k)
    rho_l = std::max(rho_l, std::max(ratio(std::fabs(w0[k] - v0[k]), dl[k]),
                                     ratio(std::fabs(w1[k] - v1[k]), dl[k])));
  return std::min(rho_r, rho_l);
}

// The `inaccurate` threshold: 4 (n+1) u_work. (n+1) u is Method 1's own bound on rho
// (gamma_n from the substitution, u from the output rounding); the factor 4 leaves room
// for the larger constants of the blocked and recursive methods and for evaluating rho in
// double (at most ~2(n+1) u_double, which matters only for fp64 work).
inline double check_threshold(index_t n, double u_work) {
  return 4.0 * static_cast<double>(n + 1) * u_work;
}

}  // namespace triscan::trinv_detail
