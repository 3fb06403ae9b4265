// Accuracy metrics (include/triscan/metrics.hpp; formulas in docs/metrics.md).
//
// Precision. Everything is double. Quantities that are sums of non-negative terms
// (norms, |X_ref| |A| e) are computed with relative error <= n u_64, which is
// irrelevant for a metric. Quantities formed by cancellation are computed so that the
// cancellation is exact or compensated:
//   - residuals A X - I, X A - I: Dot2 of Ogita, Rump & Oishi (SIAM J. Sci. Comput.
//     26(6), 2005, §5): the result is as if computed in twice the working precision,
//     |res - r| <= u_64 |r| + gamma_{n+1}^2 (|A||X| + I)_ij, so a residual of size
//     ~u_64 |A||X| (a backward-stable fp64 inverse) is measured to relative accuracy
//     ~n^2 u_64;
//   - errors X - X_ref: (X - X_ref) - X_ref_low; the first difference is exact when X
//     is within a factor 2 of X_ref (Sterbenz), so the measured error carries a
//     relative error ~u_64 plus the reference's own (X_ref + X_ref_low is ~2^-106
//     accurate; without X_ref_low the floor is u_64 |X_ref|).
#include "triscan/metrics.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace triscan {
namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_value = std::numeric_limits<double>::infinity();

// max that propagates NaN (std::max drops it depending on argument order).
double nan_max(double a, double b) {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  return a > b ? a : b;
}

// num / den with 0/0 := 0 and x/0 := inf for x > 0; NaN stays NaN.
double safe_ratio(double num, double den) {
  if (std::isnan(num) || std::isnan(den)) return nan_value;
  if (den == 0.0) return num == 0.0 ? 0.0 : inf_value;
  return num / den;
}

// Error-free transformations (Knuth TwoSum; TwoProduct through fma).
struct Dot2 {
  double sum = 0.0;
  double correction = 0.0;
  void add(double x) {
    const double s = sum + x;
    const double z = s - sum;
    correction += (sum - (s - z)) + (x - z);  // exact error of sum + x
    sum = s;
  }
  void add_product(double a, double b) {
    const double p = a * b;
    correction += std::fma(a, b, -p);  // exact error of a * b
    add(p);
  }
  double value() const { return sum + correction; }
};

void check_same_shape(MatrixView<const double> M, MatrixView<const double> ref, const char* name,
                      const char* what) {
  check_view(M, what);
  if (M.rows != ref.rows || M.cols != ref.cols)
    throw std::invalid_argument(std::string(what) + ": " + name + " is " + std::to_string(M.rows) +
                                "x" + std::to_string(M.cols) + ", expected " +
                                std::to_string(ref.rows) + "x" + std::to_string(ref.cols));
}

void check_finite(MatrixView<const double> M, const char* name, const char* what) {
  for (index_t i = 0; i < M.rows; ++i)
    for (index_t j = 0; j < M.cols; ++j)
      if (!std::isfinite(M(i, j)))
        throw std::invalid_argument(std::string(what) + ": " + name + "(" + std::to_string(i) +
                                    ", " + std::to_string(j) + ") = " + std::to_string(M(i, j)) +
                                    " is not finite");
}

// The full triangular matrix of the input contract: the named triangle, the diagonal
// (1 for unit matrices, whatever is stored), 0 elsewhere.
Matrix<double> contract_matrix(MatrixView<const double> A, Triangle tri, Diagonal diag) {
  const index_t n = A.rows;
  Matrix<double> T(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      const bool in_triangle = tri == Triangle::lower ? i > j : i < j;
      if (i == j)
        T(i, j) = diag == Diagonal::unit ? 1.0 : A(i, i);
      else if (in_triangle)
        T(i, j) = A(i, j);
    }
  return T;
}

// E = (X - X_ref) - X_ref_low, entrywise.
Matrix<double> error_matrix(MatrixView<const double> X, MatrixView<const double> X_ref,
                            MatrixView<const double> X_ref_low) {
  Matrix<double> E(X.rows, X.cols);
  const bool has_low = !X_ref_low.empty();
  for (index_t i = 0; i < X.rows; ++i)
    for (index_t j = 0; j < X.cols; ++j)
      E(i, j) = (X(i, j) - X_ref(i, j)) - (has_low ? X_ref_low(i, j) : 0.0);
  return E;
}

// R = P Q - I with every entry a Dot2 compensated dot product; zero entries of P (the
// structural zeros of a triangular factor) are skipped.
Matrix<double> residual(MatrixView<const double> P, MatrixView<const double> Q) {
  const index_t n = P.rows;
  Matrix<double> R(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      Dot2 d;
      if (i == j) d.add(-1.0);
      for (index_t k = 0; k < n; ++k)
        if (P(i, k) != 0.0) d.add_product(P(i, k), Q(k, j));
      R(i, j) = d.value();
    }
  return R;
}

// || |B| |C| ||_inf = max_i sum_k |B(i,k)| (sum_j |C(k,j)|): for non-negative
// matrices the inf-norm of the product is the largest entry of |B| (|C| e).
double abs_product_norm_inf(MatrixView<const double> B, MatrixView<const double> C) {
  Matrix<double> row_sums(C.rows, 1);
  for (index_t k = 0; k < C.rows; ++k)
    for (index_t j = 0; j < C.cols; ++j) row_sums(k, 0) += std::fabs(C(k, j));
  double result = 0.0;
  for (index_t i = 0; i < B.rows; ++i) {
    double s = 0.0;
    for (index_t k = 0; k < B.cols; ++k) s += std::fabs(B(i, k)) * row_sums(k, 0);
    result = nan_max(result, s);
  }
  return result;
}

double max_abs_finite(MatrixView<const double> M) {
  double m = 0.0;
  for (index_t i = 0; i < M.rows; ++i)
    for (index_t j = 0; j < M.cols; ++j)
      if (std::isfinite(M(i, j))) m = nan_max(m, std::fabs(M(i, j)));
  return m;
}

std::int64_t count_nonfinite(MatrixView<const double> M) {
  std::int64_t count = 0;
  for (index_t i = 0; i < M.rows; ++i)
    for (index_t j = 0; j < M.cols; ++j)
      if (!std::isfinite(M(i, j))) ++count;
  return count;
}

double frobenius(MatrixView<const double> M) {
  // ||M||_F = s sqrt(sum (M_ij / s)^2) with s = max |M_ij|: no overflow or underflow.
  const double s = norm(M, Norm::max);
  if (s == 0.0 || !std::isfinite(s)) return s;
  double sum = 0.0;
  for (index_t i = 0; i < M.rows; ++i)
    for (index_t j = 0; j < M.cols; ++j) {
      const double t = M(i, j) / s;
      sum += t * t;
    }
  return s * std::sqrt(sum);
}

}  // namespace

double norm(MatrixView<const double> M, Norm which) {
  check_view(M, "norm");
  if (which == Norm::frobenius) return frobenius(M);
  const bool by_rows = which == Norm::inf;
  const index_t outer = by_rows ? M.rows : M.cols, inner = by_rows ? M.cols : M.rows;
  double result = 0.0;
  for (index_t a = 0; a < outer; ++a) {
    double s = 0.0;
    for (index_t b = 0; b < inner; ++b) {
      const double v = std::fabs(by_rows ? M(a, b) : M(b, a));
      if (which == Norm::max)
        result = nan_max(result, v);
      else
        s += v;
    }
    if (which != Norm::max) result = nan_max(result, s);
  }
  return result;
}

double relative_error(MatrixView<const double> X, MatrixView<const double> X_ref, Norm which,
                      MatrixView<const double> X_ref_low) {
  const char* what = "relative_error";
  check_view(X_ref, what);
  check_same_shape(X, X_ref, "X", what);
  if (!X_ref_low.empty()) check_same_shape(X_ref_low, X_ref, "X_ref_low", what);
  const Matrix<double> E = error_matrix(X, X_ref, X_ref_low);
  return safe_ratio(norm(E.view(), which), norm(X_ref, which));
}

double componentwise_relative_error(MatrixView<const double> X, MatrixView<const double> X_ref,
                                    MatrixView<const double> X_ref_low) {
  const char* what = "componentwise_relative_error";
  check_view(X_ref, what);
  check_same_shape(X, X_ref, "X", what);
  if (!X_ref_low.empty()) check_same_shape(X_ref_low, X_ref, "X_ref_low", what);
  const Matrix<double> E = error_matrix(X, X_ref, X_ref_low);
  double worst = 0.0;
  for (index_t i = 0; i < X.rows; ++i)
    for (index_t j = 0; j < X.cols; ++j)
      worst = nan_max(worst, safe_ratio(std::fabs(E(i, j)), std::fabs(X_ref(i, j))));
  return worst;
}

InversionMetrics compute_inversion_metrics(MatrixView<const double> A, MatrixView<const double> X,
                                           MatrixView<const double> X_ref, Triangle triangle,
                                           Diagonal diagonal, double unit_roundoff,
                                           double max_intermediate,
                                           MatrixView<const double> X_ref_low) {
  const char* what = "compute_inversion_metrics";
  check_view(A, what);
  if (A.rows != A.cols)
    throw std::invalid_argument(std::string(what) + ": A must be square, got " +
                                std::to_string(A.rows) + "x" + std::to_string(A.cols));
  check_same_shape(X, A, "X", what);
  check_same_shape(X_ref, A, "X_ref", what);
  if (!X_ref_low.empty()) check_same_shape(X_ref_low, A, "X_ref_low", what);
  if (!(unit_roundoff > 0.0 && unit_roundoff < 1.0))
    throw std::invalid_argument(std::string(what) + ": unit_roundoff = " +
                                std::to_string(unit_roundoff) + " must lie in (0, 1)");
  const Matrix<double> T = contract_matrix(A, triangle, diagonal);
  check_finite(T.view(), "A", what);
  check_finite(X_ref, "X_ref", what);
  check_finite(X_ref_low, "X_ref_low", what);

  InversionMetrics m;
  const index_t n = A.rows;
  if (n == 0) return m;
  m.nonfinite = count_nonfinite(X);
  m.forward_error = relative_error(X, X_ref, Norm::frobenius, X_ref_low);
  m.forward_error_inf = relative_error(X, X_ref, Norm::inf, X_ref_low);
  m.componentwise_error = componentwise_relative_error(X, X_ref, X_ref_low);

  const Matrix<double> right = residual(T.view(), X);  // A X - I
  const Matrix<double> left = residual(X, T.view());   // X A - I
  const double a_inf = norm_inf(T.view()), x_inf = norm_inf(X);
  m.right_residual = safe_ratio(safe_ratio(norm_inf(right.view()), a_inf), x_inf);
  m.left_residual = safe_ratio(safe_ratio(norm_inf(left.view()), x_inf), a_inf);

  // LAPACK dtrt01: RESID = ||A AINV - I||_1 / (N ||A||_1 ||AINV||_1 EPS), and 1/EPS
  // when either norm is <= 0 (the test then fails on purpose).
  const double a_one = norm_one(T.view()), x_one = norm_one(X);
  if (a_one <= 0.0 || x_one <= 0.0)
    m.lapack_ratio = 1.0 / unit_roundoff;
  else
    m.lapack_ratio =
        norm_one(right.view()) / a_one / x_one / static_cast<double>(n) / unit_roundoff;

  m.kappa = a_inf * norm_inf(X_ref);
  m.cond = abs_product_norm_inf(X_ref, T.view());
  m.growth = safe_ratio(nan_max(max_intermediate, max_abs_finite(X)), norm(T.view(), Norm::max));
  return m;
}

}  // namespace triscan
