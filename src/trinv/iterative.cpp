// src/trinv/iterative.cpp — the iterative and product-form triangular-inversion
// methods and mixed-precision refinement (docs/trinv-iterative.md):
//   trinv/product_form    (I+N)^-1 = (I-N)(I+N^2)(I+N^4)...(I+N^(2^(m-1)))
//   trinv/newton_schulz   X <- X + X (I - L X) from X0 = I or X0 = I/(2n)
//   trinv/neumann         Horner: X <- I - N X, n-1 times
//   trinv/refine          X <- X + X (I - L X) on another method's result, the
//                         residual formed in a chosen (higher) precision
// Each is written once over the arithmetic model A (numerics/arith.hpp). Every
// intermediate written back to memory goes through a.store; the final iterate does
// not (the driver rounds it to the output format).
//
// Non-unit L = D M (D = diag(L), M = D^-1 L unit lower): the first three methods
// invert M and return M^-1 D^-1 (column j divided by L(j,j)). Refinement works on L
// itself.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "src/trinv/iterative.hpp"
#include "src/trinv/method.hpp"

namespace triscan::trinv_detail {
namespace {

template <class A>
using ValueOf = typename A::value_type;

template <class T>
MatrixView<const T> cview(const Matrix<T>& m) {
  return m.view();
}

// A number for a message, in %.3g form (std::to_string prints 1e-13 as 0.000000).
std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

MethodOutcome outcome(Status status, int iterations, std::string message = {}) {
  MethodOutcome o;
  o.status = status;
  o.iterations = iterations;
  o.message = std::move(message);
  return o;
}

// The strictly lower part N of the unit lower matrix M the methods invert:
// N = strictly_lower(L) for unit L (diagonal never read), N = strictly_lower(D^-1 L)
// for non-unit L, each quotient stored as an intermediate.
template <class A>
Matrix<ValueOf<A>> strictly_lower_part(A& a, MatrixView<const ValueOf<A>> L, const Context& ctx) {
  const index_t n = L.rows;
  Matrix<ValueOf<A>> N(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < i; ++j)
      N(i, j) = ctx.diagonal == Diagonal::unit ? L(i, j) : a.store(a.div(L(i, j), L(i, i)));
  return N;
}

// X = Y D^-1 (column j divided by L(j,j)) for non-unit L, X = Y for unit L; lower
// triangle only.
template <class A>
void write_inverse(A& a, MatrixView<const ValueOf<A>> L, const Context& ctx,
                   const Matrix<ValueOf<A>>& Y, MatrixView<ValueOf<A>> X) {
  for (index_t i = 0; i < Y.rows(); ++i)
    for (index_t j = 0; j <= i; ++j)
      X(i, j) = ctx.diagonal == Diagonal::unit ? Y(i, j) : a.div(Y(i, j), L(j, j));
}

// Overflow: the model saw a finite computation give a non-finite value (simulated
// formats), or a native intermediate is no longer finite.
template <class A>
bool overflowed(const A& a, const Matrix<ValueOf<A>>& M) {
  return a.overflowed() || !lower_all_finite(cview(M));
}

// The methods' own a-posteriori checks (DESIGN.md "Numerical contracts": finite but
// wrong output is reported `inaccurate`). The product form, Neumann and Newton–Schulz
// form the result by cancellation among intermediates (powers N^(2^k), partial sums,
// residuals) that can be far larger than it, and in bf16 or fp8 the driver's
// componentwise check (threshold 4(n+1)u >= 1/2) cannot flag anything: measured
// without these checks, the bf16 product form on nearly equal keys at n = 64 came back
// `ok` with relative error 5e6. Two cheap tests, either one flags:
//  - growth: every stored intermediate of magnitude G carries a rounding error up to
//    u G; when u G exceeds max |X| the result may have no correct digit;
//  - normwise residual on two fixed +-1 vectors v: if ||(I - M X) v||_inf >= 1 then
//    ||I - M X||_inf >= 1, so X is not an approximate inverse in any normwise sense
//    (for ||I - M X|| < 1, ||X - M^-1|| / ||M^-1|| <= ||I - M X||; ASNA 2nd ed. §14.1).
//    A garbage X with large entries passes a check relative to |M||X|, not this one.
// M is the unit lower matrix inverted (I + N), computed in double: O(n^2).
struct Growth {
  double max_intermediate = 0.0;
  template <class T>
  void observe(const Matrix<T>& M) {
    for (index_t i = 0; i < M.rows(); ++i)
      for (index_t j = 0; j <= i; ++j) max_intermediate = std::max(max_intermediate, std::fabs(double(M(i, j))));
  }
};

// u of the coarsest of the formats an intermediate passes through (operand,
// accumulation, storage); 0 when the context carries no precision.
double working_unit_roundoff(const Context& ctx) {
  if (ctx.precision == nullptr) return 0.0;
  const Precision& p = *ctx.precision;
  return std::max({p.operand.unit_roundoff(), p.accumulate.unit_roundoff(), p.storage.unit_roundoff()});
}

// +-1 from splitmix64 of (seed, j): fixed vectors, the same in every run and thread.
double check_sign(std::uint64_t seed, index_t j) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(j + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return ((z ^ (z >> 31)) & 1u) ? 1.0 : -1.0;
}

// max over two fixed +-1 vectors v of ||(I - (I + N) Y) v||_inf, in double.
template <class T>
double normwise_residual_on_vectors(const Matrix<T>& N, const Matrix<T>& Y) {
  const index_t n = Y.rows();
  std::vector<double> v(static_cast<std::size_t>(n)), t(static_cast<std::size_t>(n));
  double r = 0.0;
  for (std::uint64_t seed : {0x6974657231ull, 0x6974657232ull}) {
    for (index_t j = 0; j < n; ++j) v[j] = check_sign(seed, j);
    for (index_t i = 0; i < n; ++i) {
      double s = 0.0;
      for (index_t j = 0; j <= i; ++j) s += double(Y(i, j)) * v[j];
      t[i] = s;  // t = Y v
    }
    for (index_t i = 0; i < n; ++i) {
      double w = t[i] - v[i];
      for (index_t k = 0; k < i; ++k) w += double(N(i, k)) * t[k];  // ((I + N) Y v - v)_i
      r = std::isnan(w) ? w : std::max(r, std::fabs(w));
      if (std::isnan(r)) return r;
    }
  }
  return r;
}

template <class T>
void flag_unreliable(MethodOutcome& o, const Context& ctx, const Growth& g, const Matrix<T>& N,
                     const Matrix<T>& Y, const char* method) {
  if (o.status != Status::ok) return;
  double ymax = 0.0;
  for (index_t i = 0; i < Y.rows(); ++i)
    for (index_t j = 0; j <= i; ++j) ymax = std::max(ymax, std::fabs(double(Y(i, j))));
  const double u = working_unit_roundoff(ctx);
  if (u * g.max_intermediate > ymax) {
    o.status = Status::inaccurate;
    o.message = std::string(method) + ": growth check: max |intermediate| = " + number(g.max_intermediate) +
                ", u * growth = " + number(u * g.max_intermediate) + " > max |X| = " + number(ymax) +
                " (the result may have no correct digit)";
    return;
  }
  const double r = normwise_residual_on_vectors(N, Y);
  if (!(r < 1.0)) {
    o.status = Status::inaccurate;
    o.message = std::string(method) + ": ||(I - L X) v||_inf = " + number(r) +
                " >= 1 on a +-1 vector: X is not an approximate inverse";
  }
}

// ---------------------------------------------------------------------------------
// trinv/product_form
//
// (I + N)^-1 = (I - N)(I + N^2)(I + N^4) ... (I + N^(2^(m-1))), m = ceil(log2 n):
// the product expands to sum_{k=0}^{2^m - 1} (-N)^k, which is the inverse because
// N^n = 0 and 2^m >= n. Invariant after factor k: P = N^(2^k), zero on the 2^k - 1
// subdiagonals below the diagonal (and on it), and Y = sum_{j < 2^(k+1)} (-N)^j.
template <class A>
MethodOutcome product_form_unit(A& a, const Matrix<ValueOf<A>>& N, Matrix<ValueOf<A>>& Y, Growth& g) {
  using T = ValueOf<A>;
  const index_t n = N.rows();
  const int m = ceil_log2(n);
  Matrix<T> P = N, next(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) Y(i, j) = i == j ? T(1) : -N(i, j);  // Y = I - N
  const auto zero = [](index_t, index_t) { return T(0); };
  for (int k = 1; k < m; ++k) {
    const index_t half = index_t{1} << (k - 1);
    // P <- (N^(2^(k-1)))^2 = N^(2^k): both factors vanish within `half` of the diagonal.
    banded_lower_product(a, cview(P), half, cview(P), half, next.view(), zero,
                         [&a](index_t, index_t, T s) { return a.store(s); });
    std::swap(P, next);
    g.observe(P);
    if (overflowed(a, P))
      return outcome(Status::overflow, k,
                     "product_form: N^" + std::to_string(2 * half) + " overflowed");
    // Y <- Y (I + P) = Y + Y P; the last factor's result is the output (not stored).
    const bool last = k == m - 1;
    banded_lower_product(
        a, cview(Y), 0, cview(P), 2 * half, next.view(), [&Y](index_t i, index_t j) { return Y(i, j); },
        [&a, last](index_t, index_t, T s) { return last ? s : a.store(s); });
    std::swap(Y, next);
    g.observe(Y);
    if (overflowed(a, Y))
      return outcome(Status::overflow, k,
                     "product_form: the partial product up to factor I + N^" +
                         std::to_string(2 * half) + " overflowed");
  }
  return outcome(Status::ok, m);  // iterations: the number of factors
}

template <class A>
MethodOutcome product_form(const MethodSpec&, A& a, MatrixView<const ValueOf<A>> L,
                           MatrixView<ValueOf<A>> X, const Context& ctx) {
  const Matrix<ValueOf<A>> N = strictly_lower_part(a, L, ctx);
  Matrix<ValueOf<A>> Y(L.rows, L.rows);
  Growth g;
  MethodOutcome o = product_form_unit(a, N, Y, g);
  flag_unreliable(o, ctx, g, N, Y, "product_form");
  write_inverse(a, L, ctx, Y, X);
  return o;
}

// Exact multiply-add count of the implementation (2 flops each): factor k costs the
// squaring P^2 (band gap 2^k) and Y P (gap 2^k), so
// sum_{k=1}^{m-1} 2 [macs(n, 2^k) + macs(n, 2^k)], macs as in banded_product_macs.
double product_form_flops(index_t n) {
  double flops = 0.0;
  for (int k = 1; k < ceil_log2(n); ++k) flops += 4.0 * banded_product_macs(n, index_t{1} << k);
  return flops;
}

void validate_no_params(const MethodSpec& spec) { spec.check_keys({}); }

// ---------------------------------------------------------------------------------
// trinv/newton_schulz
//
// X_{k+1} = X_k + X_k R_k with R_k = I - M X_k. In exact arithmetic
// R_{k+1} = I - M X_k (I + R_k) = R_k - (I - R_k) R_k = R_k^2 (M X_k = I - R_k), so
// R_k = R_0^(2^k) and the iteration converges iff rho(R_0) < 1.
//  - start=identity: X0 = I, R_0 = -N, R_k = N^(2^k) = 0 for 2^k >= n: the iterates
//    are the partial products of the product form, exact after ceil(log2 n) steps.
//  - start=scaled: X0 = I/(2n) (BACKGROUND.md: I/(2C)), R_0 = (1 - a) I - a N with
//    a = 1/(2n): eigenvalue 1 - a, so the iteration converges, but only
//    asymptotically: ||R_k|| ~ binom(2^k, j) (1 - a)^(2^k - j) a^j ||N^j|| summed over
//    j < n, and the dominant (1 - a)^(2^k) ~ exp(-2^k / (2n)) falls below u only once
//    2^k > 2n ln(1/u), i.e. after about log2(n) + 6 steps in fp64 plus the transient
//    of the nilpotent part. Every step damps the rounding errors of earlier ones.
struct NewtonSchulzParams {
  bool scaled = false;
  int iters = 0;      // fixed count, or the cap in residual mode
  double tol = 0.0;   // > 0: stop when ||I - M X||_inf <= tol (residual mode)
};

int default_newton_schulz_iters(bool scaled, index_t n) {
  return ceil_log2(n) + (scaled ? 10 : 0);
}

NewtonSchulzParams newton_schulz_params(const MethodSpec& spec, index_t n) {
  spec.check_keys({"start", "iters", "tol"});
  NewtonSchulzParams p;
  p.scaled = spec.get_string("start", "identity", {"identity", "scaled"}) == "scaled";
  p.iters = static_cast<int>(spec.get_int("iters", default_newton_schulz_iters(p.scaled, n), 0, 1000));
  p.tol = spec.get_double("tol", 0.0, std::numeric_limits<double>::min(), 1.0);
  return p;
}

void validate_newton_schulz(const MethodSpec& spec) { newton_schulz_params(spec, 1); }

template <class A>
MethodOutcome newton_schulz_unit(A& a, const Matrix<ValueOf<A>>& N, const NewtonSchulzParams& p,
                                 Matrix<ValueOf<A>>& X, Growth& g) {
  using T = ValueOf<A>;
  const index_t n = N.rows();
  Matrix<T> M = N, R(n, n), next(n, n);
  for (index_t i = 0; i < n; ++i) M(i, i) = T(1);  // M = I + N
  const T start = p.scaled ? a.store(a.div(T(1), T(2 * n))) : T(1);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) X(i, j) = i == j ? start : T(0);
  const bool residual_mode = p.tol > 0.0;
  const auto zero = [](index_t, index_t) { return T(0); };
  for (int k = 0;; ++k) {
    if (!residual_mode && k == p.iters) return outcome(Status::ok, k);
    // R = I - M X (lower triangular: M and X are).
    banded_lower_product(a, cview(M), 0, cview(X), 0, R.view(), zero,
                         [&a](index_t i, index_t j, T s) { return a.store(a.sub(T(i == j ? 1 : 0), s)); });
    g.observe(R);
    if (overflowed(a, R))
      return outcome(Status::overflow, k, "newton_schulz: residual I - L X overflowed at step " +
                                              std::to_string(k));
    if (residual_mode) {
      const double r = lower_inf_norm(cview(R));
      if (r <= p.tol) return outcome(Status::ok, k);
      if (k == p.iters)
        return outcome(Status::not_converged, k,
                       "newton_schulz: ||I - L X||_inf = " + number(r) + " > tol = " + number(p.tol) +
                           " after " + std::to_string(k) + " steps");
    }
    // X <- X + X R; in fixed-count mode the last iterate is the output (not stored).
    const bool last = !residual_mode && k + 1 == p.iters;
    banded_lower_product(
        a, cview(X), 0, cview(R), 0, next.view(), [&X](index_t i, index_t j) { return X(i, j); },
        [&a, last](index_t, index_t, T s) { return last ? s : a.store(s); });
    std::swap(X, next);
    g.observe(X);
    if (overflowed(a, X))
      return outcome(Status::overflow, k + 1,
                     "newton_schulz: iterate overflowed at step " + std::to_string(k + 1));
  }
}

template <class A>
MethodOutcome newton_schulz(const MethodSpec& spec, A& a, MatrixView<const ValueOf<A>> L,
                            MatrixView<ValueOf<A>> X, const Context& ctx) {
  const NewtonSchulzParams p = newton_schulz_params(spec, L.rows);
  const Matrix<ValueOf<A>> N = strictly_lower_part(a, L, ctx);
  Matrix<ValueOf<A>> Y(L.rows, L.rows);
  Growth g;
  MethodOutcome o = newton_schulz_unit(a, N, p, Y, g);
  flag_unreliable(o, ctx, g, N, Y, "newton_schulz");
  write_inverse(a, L, ctx, Y, X);
  return o;
}

// Per step two full lower-triangular products (M X and X R), n(n+1)(n+2)/6 multiply-adds
// each; listed for the default start=identity, ceil(log2 n) steps.
double newton_schulz_flops(index_t n) {
  return 4.0 * banded_product_macs(n, 0) * default_newton_schulz_iters(false, n);
}

// ---------------------------------------------------------------------------------
// trinv/neumann
//
// Horner's rule for sum_{k=0}^{n-1} (-N)^k: Y_0 = I, Y_j = I - N Y_{j-1}, so
// Y_j = sum_{k=0}^{j} (-N)^k and Y_{n-1} = (I + N)^-1 (N^n = 0). Each step is one
// product of N (gap 1) with a full lower triangle.
template <class A>
MethodOutcome neumann_unit(A& a, const Matrix<ValueOf<A>>& N, Matrix<ValueOf<A>>& Y, Growth& g) {
  using T = ValueOf<A>;
  const index_t n = N.rows();
  Matrix<T> next(n, n);
  for (index_t i = 0; i < n; ++i) Y(i, i) = T(1);  // Y_0 = I
  const auto zero = [](index_t, index_t) { return T(0); };
  for (index_t step = 1; step < n; ++step) {
    const bool last = step == n - 1;
    banded_lower_product(a, cview(N), 1, cview(Y), 0, next.view(), zero,
                         [&a, last](index_t i, index_t j, T s) {
                           const T y = a.sub(T(i == j ? 1 : 0), s);
                           return last ? y : a.store(y);
                         });
    std::swap(Y, next);
    g.observe(Y);
    if (overflowed(a, Y))
      return outcome(Status::overflow, static_cast<int>(step),
                     "neumann: partial sum overflowed at step " + std::to_string(step));
  }
  return outcome(Status::ok, static_cast<int>(std::max<index_t>(n - 1, 0)));
}

template <class A>
MethodOutcome neumann(const MethodSpec&, A& a, MatrixView<const ValueOf<A>> L,
                      MatrixView<ValueOf<A>> X, const Context& ctx) {
  const Matrix<ValueOf<A>> N = strictly_lower_part(a, L, ctx);
  Matrix<ValueOf<A>> Y(L.rows, L.rows);
  Growth g;
  MethodOutcome o = neumann_unit(a, N, Y, g);
  flag_unreliable(o, ctx, g, N, Y, "neumann");
  write_inverse(a, L, ctx, Y, X);
  return o;
}

// n - 1 products N Y, each (n-1)n(n+1)/6 multiply-adds: (n-1)^2 n (n+1)/3 flops.
double neumann_flops(index_t n) { return n < 2 ? 0.0 : 2.0 * double(n - 1) * banded_product_macs(n, 1); }

// ---------------------------------------------------------------------------------
// trinv/refine
//
// k steps of X <- X + X R, R = I - L X, on the result of a base method. With
// E = X - L^-1 one exact step gives E' = -E L E (quadratic: Newton's method for the
// inverse); in floating point E' = -E L E + X dR + dX, where dR is the error of the
// residual (c n u_r |L||X| when formed in precision u_r) and dX that of the
// correction and the store (c n u |X||R| + u_s |X|). Forming R in a higher precision
// u_r therefore brings the error down to about u_s + c n u_r cond, the limiting
// accuracy of mixed-precision refinement (Carson & Higham, SIAM J. Sci. Comput. 40,
// 2018); with u_r = u the residual is as inaccurate as the error it should correct.
struct RefineParams {
  MethodSpec base;
  int steps = 1;
  std::string residual = "fp64";
};

const char* const kDefaultRefineBase = "trinv/forward_substitution";

RefineParams refine_params(const MethodSpec& spec) {
  spec.check_keys({"base", "steps", "residual"});
  RefineParams p;
  p.base = MethodSpec::parse(spec.get_string("base", kDefaultRefineBase, {}));
  p.steps = static_cast<int>(spec.get_int("steps", 1, 0, 100));
  p.residual = spec.get_string("residual", "fp64", {});
  return p;
}

void validate_refine(const MethodSpec& spec) {
  const RefineParams p = refine_params(spec);
  try {
    format_by_name(p.residual);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(spec.name + ": parameter 'residual=" + p.residual + "': " + e.what());
  }
  try {
    find_method(p.base.name).validate(p.base);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(spec.name + ": parameter 'base=" + p.base.to_string() + "': " + e.what());
  }
}

// R = I - L X formed under model B (both matrices lower triangular, explicit diagonal);
// the entries enter B's arithmetic as B's value type.
template <class B>
Matrix<double> residual_under(B& b, const Matrix<double>& L, const Matrix<double>& X) {
  using V = ValueOf<B>;
  const index_t n = L.rows();
  Matrix<V> Lb(n, n), Xb(n, n), Rb(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) {
      Lb(i, j) = static_cast<V>(L(i, j));
      Xb(i, j) = static_cast<V>(X(i, j));
    }
  banded_lower_product(
      b, cview(Lb), 0, cview(Xb), 0, Rb.view(), [](index_t, index_t) { return V(0); },
      [&b](index_t i, index_t j, V s) { return b.sub(V(i == j ? 1 : 0), s); });
  Matrix<double> R(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) R(i, j) = double(Rb(i, j));
  return R;
}

// The residual in the named format: native fp64 / fp32 (round to nearest), any other
// format simulated uniformly (Precision::uniform, round to nearest). Sets `overflow`
// when it is not finite.
Matrix<double> residual_in(const std::string& format, const Matrix<double>& L,
                           const Matrix<double>& X, bool& overflow) {
  Matrix<double> R;
  if (format == "fp64") {
    arith::Native<double> b;
    R = residual_under(b, L, X);
  } else if (format == "fp32") {
    arith::Native<float> b;
    R = residual_under(b, L, X);
  } else {
    arith::Simulated b(Precision::uniform(format_by_name(format)));
    R = residual_under(b, L, X);
    overflow = b.overflowed();
  }
  overflow = overflow || !lower_all_finite(cview(R));
  return R;
}

template <class T>
void copy_lower(const Matrix<T>& from, MatrixView<T> to) {
  for (index_t i = 0; i < from.rows(); ++i)
    for (index_t j = 0; j <= i; ++j) to(i, j) = from(i, j);
}

// The exponent s with 2^s max|R| ||X||_inf in [1/2, 1) (0 when R or X vanishes).
template <class T>
int correction_scale(const Matrix<double>& R, const Matrix<T>& X) {
  double rmax = 0.0;
  for (index_t i = 0; i < R.rows(); ++i)
    for (index_t j = 0; j <= i; ++j) rmax = std::max(rmax, std::fabs(R(i, j)));
  const double scale = rmax * lower_inf_norm(cview(X));
  if (!(scale > 0.0) || !std::isfinite(scale)) return 0;
  int e = 0;
  std::frexp(scale, &e);  // scale = f 2^e, f in [1/2, 1)
  return -e;
}

template <class A>
MethodOutcome refine(const MethodSpec& spec, A& a, MatrixView<const ValueOf<A>> L,
                     MatrixView<ValueOf<A>> X, const Context& ctx) {
  using T = ValueOf<A>;
  const RefineParams p = refine_params(spec);
  const index_t n = L.rows;
  if (ctx.diagonal == Diagonal::non_unit && !find_method(p.base.name).info.supports_non_unit)
    return outcome(Status::unsupported, 0, "refine: base " + p.base.name + " does not support non-unit L");
  MethodOutcome base = run_method(p.base, a, L, X, ctx);
  if (base.status != Status::ok && base.status != Status::not_converged && base.status != Status::inaccurate)
    return outcome(base.status, base.iterations, "refine: base " + p.base.name + ": " + base.message);
  // The base result is an intermediate here: stored. L with its diagonal made explicit.
  Matrix<double> Ld(n, n), Xd(n, n);
  Matrix<T> Xw(n, n), Rw(n, n), next(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) {
      Ld(i, j) = i == j && ctx.diagonal == Diagonal::unit ? 1.0 : double(L(i, j));
      Xw(i, j) = p.steps > 0 ? a.store(X(i, j)) : X(i, j);
    }
  double last_residual = 0.0;  // ||I - L X||_inf of the iterate the last step corrected
  for (int step = 0; step < p.steps; ++step) {
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j <= i; ++j) Xd(i, j) = double(Xw(i, j));
    bool residual_overflow = false;
    const Matrix<double> R = residual_in(p.residual, Ld, Xd, residual_overflow);
    last_residual = lower_inf_norm(cview(R));
    if (residual_overflow) {
      copy_lower(Xw, X);
      return outcome(Status::overflow, base.iterations + step,
                     "refine: residual I - L X overflowed in " + p.residual);
    }
    // The correction is formed scaled, D = store(X store(2^s R)), with the power of
    // two 2^s chosen so that 2^s max|R| ||X||_inf lies in [1/2, 1): then |D| <= 1, and
    // D's entries sit at the top of the storage format's range instead of near its
    // underflow threshold (R is of order the error of X: in fp16 an unscaled R or D
    // would be rounded to multiples of 2^-24, an absolute error larger than the
    // correction of X's small entries). Scaling by 2^s is exact; 2^-s is folded into
    // the update X <- X + 2^-s D, one rounding per entry (as x + d in refinement for
    // linear systems; cf. the scaling of Higham, Pranesh & Zounon, SIAM J. Sci.
    // Comput. 41, 2019). The last iterate is the output (not stored).
    const int s = correction_scale(R, Xw);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j <= i; ++j) Rw(i, j) = a.store(static_cast<T>(std::ldexp(R(i, j), s)));
    banded_lower_product(
        a, cview(Xw), 0, cview(Rw), 0, next.view(), [](index_t, index_t) { return T(0); },
        [&a](index_t, index_t, T d) { return a.store(d); });
    const bool last = step + 1 == p.steps;
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j <= i; ++j) {
        const T x = a.add(Xw(i, j), std::ldexp(next(i, j), -s));
        Xw(i, j) = last ? x : a.store(x);
      }
    if (overflowed(a, Xw)) {
      copy_lower(Xw, X);
      return outcome(Status::overflow, base.iterations + step + 1, "refine: iterate overflowed");
    }
  }
  copy_lower(Xw, X);
  // A Newton step contracts only from ||I - L X|| < 1 (E' = -E L E, R' = R^2): from a
  // base result with a larger residual the refined X is not to be trusted, whatever
  // the driver's residual check can still tell in a narrow format.
  if (p.steps > 0 && !(last_residual < 1.0))
    return outcome(Status::inaccurate, base.iterations + p.steps,
                   "refine: ||I - L X||_inf = " + number(last_residual) +
                       " >= 1 before the last step: the Newton iteration does not contract");
  std::string message;
  if (base.status != Status::ok)
    message = "refine: base " + p.base.name + " reported " + std::string(status_name(base.status)) +
              (base.message.empty() ? "" : " (" + base.message + ")") + "; refined " +
              std::to_string(p.steps) + " steps";
  return outcome(p.steps > 0 ? Status::ok : base.status, base.iterations + p.steps, message);
}

// Per step: the residual and the correction (full lower products, n(n+1)(n+2)/6
// multiply-adds each) and the n(n+1)/2 additions X + D, plus the base; listed for the
// default base and one step.
double refine_flops(index_t n) {
  return 4.0 * banded_product_macs(n, 0) + double(n) * double(n + 1) / 2.0 +
         find_method(kDefaultRefineBase).info.flops(n);
}

template <template <class> class K>
MethodImpl make_impl(TrinvMethodInfo info, void (*validate)(const MethodSpec&)) {
  MethodImpl impl;
  impl.info = std::move(info);
  impl.validate = validate;
  impl.run_f64 = &K<arith::Native<double>>::run;
  impl.run_f32 = &K<arith::Native<float>>::run;
  impl.run_sim = &K<arith::Simulated>::run;
  return impl;
}

// Adapters turning the function templates into the kernel pointer of each model.
template <class A>
struct ProductFormKernel {
  static MethodOutcome run(const MethodSpec& s, A& a, MatrixView<const ValueOf<A>> L,
                           MatrixView<ValueOf<A>> X, const Context& c) {
    return product_form(s, a, L, X, c);
  }
};
template <class A>
struct NewtonSchulzKernel {
  static MethodOutcome run(const MethodSpec& s, A& a, MatrixView<const ValueOf<A>> L,
                           MatrixView<ValueOf<A>> X, const Context& c) {
    return newton_schulz(s, a, L, X, c);
  }
};
template <class A>
struct NeumannKernel {
  static MethodOutcome run(const MethodSpec& s, A& a, MatrixView<const ValueOf<A>> L,
                           MatrixView<ValueOf<A>> X, const Context& c) {
    return neumann(s, a, L, X, c);
  }
};
template <class A>
struct RefineKernel {
  static MethodOutcome run(const MethodSpec& s, A& a, MatrixView<const ValueOf<A>> L,
                           MatrixView<ValueOf<A>> X, const Context& c) {
    return refine(s, a, L, X, c);
  }
};

TrinvMethodInfo info(std::string name, std::string family, std::string flops_formula,
                     double (*flops)(index_t), bool product_rich, std::string stability,
                     std::vector<std::string> params) {
  TrinvMethodInfo i;
  i.name = std::move(name);
  i.family = std::move(family);
  i.flops_formula = std::move(flops_formula);
  i.flops = flops;
  i.product_rich = product_rich;
  i.stability = std::move(stability);
  i.params = std::move(params);
  i.supports_upper = true;
  i.supports_non_unit = true;
  return i;
}

}  // namespace

std::vector<MethodImpl> iterative_methods() {
  std::vector<MethodImpl> methods;
  methods.push_back(make_impl<ProductFormKernel>(
      info("trinv/product_form", "iterative",
           "sum_{k=1}^{m-1} 4 sum_{d=2^k}^{n-1} (n-d)(d-2^k+1) ~ (2/3)(m-1)n^3, m = ceil(log2 n) "
           "(banded triangular products; dense GEMMs: 4(m-1)n^3)",
           &product_form_flops, true,
           "conditionally stable: |X - L^-1| <= gamma_{(n+2)(2^m-2)} M(L)^-1, M(L) = I - |N| the "
           "comparison matrix (grows with |N|^(2^k)); no residual bound (cf. fan-in, Higham ASNA "
           "2nd ed. sec. 8.4; docs/trinv-iterative.md)",
           {}),
      &validate_no_params));
  methods.push_back(make_impl<NewtonSchulzKernel>(
      info("trinv/newton_schulz", "iterative",
           "(2/3) n(n+1)(n+2) per step; ceil(log2 n) steps by default (start=identity)",
           &newton_schulz_flops, true,
           "Newton's method for the inverse (Schulz 1933): I - L X_{k+1} = (I - L X_k)^2; from "
           "X0 = I the iterates are the product form's (same growth); rounding errors of a step "
           "are damped by later ones (docs/trinv-iterative.md)",
           {"start=identity: identity (X0 = I, exact after ceil(log2 n) steps) or scaled "
            "(X0 = I/(2n), converges asymptotically)",
            "iters=ceil(log2 n) (identity) / ceil(log2 n)+10 (scaled): step count, or the cap "
            "when tol is given",
            "tol=off: stop when ||I - L X||_inf <= tol; not_converged if not met within iters"}),
      &validate_newton_schulz));
  methods.push_back(make_impl<NeumannKernel>(
      info("trinv/neumann", "iterative",
           "(n-1)^2 n(n+1)/3 ~ n^4/3 (n-1 triangular products; dense: 2(n-1)n^3)", &neumann_flops,
           true,
           "conditionally stable: |X - L^-1| <= gamma_{(n+1)(n-1)} M(L)^-1, M(L) = I - |N| "
           "(Horner's rule, error analysis as Higham ASNA 2nd ed. sec. 5.1; docs/trinv-iterative.md)",
           {}),
      &validate_no_params));
  methods.push_back(make_impl<RefineKernel>(
      info("trinv/refine", "refinement",
           "steps * ((2/3) n(n+1)(n+2) + n(n+1)/2) + flops(base); listed for steps=1, base "
           "trinv/forward_substitution",
           &refine_flops, true,
           "one Newton step per refinement step, E' = -E L E + rounding: limiting accuracy about "
           "u_storage + c n u_residual cond(L) (Carson & Higham, SIAM J. Sci. Comput. 40, 2018)",
           {"base=trinv/forward_substitution: the method refined (a spec; nested parameters in "
            "parentheses)",
            "steps=1: refinement steps X <- X + X (I - L X)",
            "residual=fp64: format in which R = I - L X is formed (fp64/fp32 native, others "
            "simulated, round to nearest)"}),
      &validate_refine));
  return methods;
}

}  // namespace triscan::trinv_detail
