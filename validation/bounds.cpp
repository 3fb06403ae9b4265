#include "validation/bounds.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace triscan::validation {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// ceil(log2 n): the number of factors of the product form (0 for n = 1).
int ceil_log2(index_t n) {
  int m = 0;
  while ((index_t{1} << m) < n) ++m;
  return m;
}

// |L| as read by the input contract: the lower triangle, diagonal 1 when unit.
Matrix<double> abs_lower(MatrixView<const double> L, Diagonal diagonal) {
  const index_t n = L.rows;
  Matrix<double> A(n, n);
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < i; ++j) A(i, j) = std::fabs(L(i, j));
    A(i, i) = diagonal == Diagonal::unit ? 1.0 : std::fabs(L(i, i));
  }
  return A;
}

// M(L)^-1, M(L) the comparison matrix (m_ii = |l_ii|, m_ij = -|l_ij|; ASNA §8.3):
// y_ij = (sum_{k=j}^{i-1} |l_ik| y_kj) / |l_ii|. Every term is >= 0, so the double
// computation has relative error <= gamma_n per entry (no cancellation); an entry
// beyond double's range becomes +inf, and so does the bound.
Matrix<double> comparison_inverse(const Matrix<double>& absL) {
  const index_t n = absL.rows();
  Matrix<double> Y(n, n);
  for (index_t i = 0; i < n; ++i) {
    Y(i, i) = 1.0 / absL(i, i);
    for (index_t j = 0; j < i; ++j) {
      double s = 0;
      for (index_t k = j; k < i; ++k) s += absL(i, k) * Y(k, j);
      Y(i, j) = s / absL(i, i);
    }
  }
  return Y;
}

// C = A B for nonnegative lower triangular A, B.
Matrix<double> lower_product(const Matrix<double>& A, const Matrix<double>& B) {
  const index_t n = A.rows();
  Matrix<double> C(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t k = 0; k <= i; ++k) {
      const double a = A(i, k);
      if (a == 0) continue;
      for (index_t j = 0; j <= k; ++j) C(i, j) += a * B(k, j);
    }
  return C;
}

Matrix<double> strictly_lower(const Matrix<double>& A) {
  Matrix<double> N = A;
  for (index_t i = 0; i < N.rows(); ++i) N(i, i) = 0;
  return N;
}

// Relative form of an absolute bound: ||E||_inf / ||L^-1||_inf, with
// ||L^-1||_inf = kappa / ||L||_inf (kappa from the MPFR reference).
double relative_to_inverse(double absolute, const Matrix<double>& absL, const InversionMetrics& m) {
  const double inverse_norm = m.kappa / norm_inf(absL.view());
  return absolute / inverse_norm;
}

// From |X^ - X| <= g C |X^| - type bounds: ||E|| <= g c ||X^|| <= g c (||X|| + ||E||), so
// ||E|| / ||X|| <= g c / (1 - g c) (+inf when g c >= 1: the bound says nothing).
double solve_relative(double g, double c) {
  const double gc = g * c;
  return gc < 1 ? gc / (1 - gc) : inf;
}

enum class Kind { none, substitution_cond, left_kappa, blocked_kappa, merge, product_form, neumann, newton_schulz };

Kind bound_kind(const MethodSpec& spec) {
  const std::string& n = spec.name;
  if (n == "trinv/forward_substitution") return Kind::substitution_cond;
  if (n == "trinv/forward_substitution_row") return Kind::left_kappa;
  if (n == "trinv/blocked" || n == "trinv/recursive") return Kind::blocked_kappa;
  if (n == "trinv/recursive_merge") return Kind::merge;
  if (n == "trinv/product_form") return Kind::product_form;
  if (n == "trinv/neumann") return Kind::neumann;
  // Newton-Schulz from X0 = I in fixed-count mode with at least ceil(log2 n) steps: the
  // product form's iterates (docs/trinv-iterative.md). The scaled start converges only
  // asymptotically and the residual mode stops early: no a-priori bound.
  if (n == "trinv/newton_schulz" && spec.get_string("start", "identity", {"identity", "scaled"}) == "identity" &&
      !spec.has("tol"))
    return Kind::newton_schulz;
  return Kind::none;  // trinv/refine: its error depends on the base's (Carson & Higham 2018)
}

}  // namespace

double gamma_bound(double k, double u) {
  const double ku = k * u;
  return ku < 1 ? ku / (1 - ku) : inf;
}

double bound_unit_roundoff(const Precision& p) {
  const double u = p.working_unit_roundoff();
  const bool nearest = p.rounding == Rounding::nearest_even || p.rounding == Rounding::nearest_away;
  return nearest ? u : 2 * u;
}

std::string forward_error_bound_formula(const MethodSpec& method) {
  switch (bound_kind(method)) {
    case Kind::substitution_cond:
      return "gamma_{n+3} cond(L) / (1 - gamma_{n+3} cond(L)): |X^ - L^-1| <= gamma_n |L^-1||L||X^| "
             "(Method 1; Higham ASNA 2nd ed. Thm 8.5, §14.2.1; Du Croz & Higham 1992) + store, input "
             "and output roundings";
    case Kind::left_kappa:
      return "gamma_{n+3} kappa(L) / (1 - gamma_{n+3} kappa(L)): |X^ - L^-1| <= c_n u |X^||L||L^-1| "
             "(Method 2; ASNA §14.2.1; Du Croz & Higham 1992), || |L||L^-1| || <= kappa(L)";
    case Kind::blocked_kappa:
      return "gamma_{2n+3} kappa(L) / (1 - gamma_{2n+3} kappa(L)): blocked Methods 2C / 1B-type "
             "recursion (ASNA §14.2.2; Du Croz & Higham 1992); c_n = 2n+3 counts one gamma_n for the "
             "block product and one for the block solve";
    case Kind::merge:
      return "gamma_{n+4} || M(L)^-1 |L| M(L)^-1 || / ||L^-1||: Method 2B first-order bound by "
             "induction over the merges (docs/trinv.md; Du Croz & Higham 1992), M(L) the comparison matrix";
    case Kind::product_form:
      return "(gamma_{(n+2)(2^m-2)+1} ||M(L)^-1|| + u ||M(L)^-1 |N| M(L)^-1||) / ||L^-1||, m = ceil(log2 n): "
             "growth bound of the product form (docs/trinv-iterative.md; cf. fan-in, ASNA §8.4)";
    case Kind::neumann:
      return "(gamma_{(n+1)(n-1)+1} ||M(L)^-1|| + u ||M(L)^-1 |N| M(L)^-1||) / ||L^-1||: Horner's rule "
             "on absolute values (ASNA §5.1; docs/trinv-iterative.md)";
    case Kind::newton_schulz:
      return "(4 m gamma_{n+2} ||M M |L| M M|| + u ||M |N| M|| + u ||M||) / ||L^-1||, M = M(L)^-1: "
             "first-order damping bound of Newton-Schulz from X0 = I (docs/trinv-iterative.md)";
    case Kind::none: break;
  }
  return "";
}

std::optional<ForwardErrorBound> forward_error_bound(const MethodSpec& method, const Precision& precision,
                                                     MatrixView<const double> L, Diagonal diagonal,
                                                     const InversionMetrics& metrics) {
  const Kind kind = bound_kind(method);
  if (kind == Kind::none) return std::nullopt;
  const bool growth_kind = kind == Kind::product_form || kind == Kind::neumann || kind == Kind::newton_schulz;
  if (growth_kind && diagonal == Diagonal::non_unit) return std::nullopt;  // not derived for D M scaling
  if (!std::isfinite(metrics.kappa) || !std::isfinite(metrics.cond)) return std::nullopt;

  const double n = static_cast<double>(L.rows);
  const double u = bound_unit_roundoff(precision);
  const Matrix<double> absL = abs_lower(L, diagonal);
  switch (kind) {
    case Kind::substitution_cond:
      return ForwardErrorBound{"gamma_{n+3} cond(L)", solve_relative(gamma_bound(n + 3, u), metrics.cond)};
    case Kind::left_kappa:
      return ForwardErrorBound{"gamma_{n+3} kappa(L)", solve_relative(gamma_bound(n + 3, u), metrics.kappa)};
    case Kind::blocked_kappa:
      return ForwardErrorBound{"gamma_{2n+3} kappa(L)", solve_relative(gamma_bound(2 * n + 3, u), metrics.kappa)};
    default: break;
  }
  const Matrix<double> M = comparison_inverse(absL);
  const Matrix<double> N = strictly_lower(absL);
  // Rounding the input to the operand format perturbs N by |dN| <= u|N|, which moves the
  // inverse by <~ |X||dN||X| <= u M |N| M (|X| <= M = M(L)^-1, ASNA Thm 8.12).
  const double input_term = u * norm_inf(lower_product(lower_product(M, N), M).view());
  const double m = ceil_log2(L.rows);
  double absolute = 0;
  std::string name;
  if (kind == Kind::merge) {
    absolute = gamma_bound(n + 4, u) * norm_inf(lower_product(lower_product(M, absL), M).view());
    name = "gamma_{n+4} ||M(L)^-1|L|M(L)^-1||";
  } else if (kind == Kind::product_form) {
    const double k = (n + 2) * std::max(0.0, std::pow(2.0, m) - 2) + 1;
    absolute = gamma_bound(k, u) * norm_inf(M.view()) + input_term;
    name = "gamma_{(n+2)(2^m-2)+1} ||M(L)^-1||";
  } else if (kind == Kind::neumann) {
    absolute = gamma_bound((n + 1) * (n - 1) + 1, u) * norm_inf(M.view()) + input_term;
    name = "gamma_{(n+1)(n-1)+1} ||M(L)^-1||";
  } else {  // newton_schulz from the identity
    const long iters = method.get_int("iters", static_cast<long>(m), 0, 1000);
    if (static_cast<double>(iters) < m) return std::nullopt;  // stopped before N^(2^k) = 0: truncation, not rounding
    const Matrix<double> MM = lower_product(M, M);
    absolute = 4 * static_cast<double>(iters) * gamma_bound(n + 2, u) *
                   norm_inf(lower_product(lower_product(MM, absL), MM).view()) +
               input_term + u * norm_inf(M.view());
    name = "4 k gamma_{n+2} ||M^2|L|M^2||";
  }
  return ForwardErrorBound{name, relative_to_inverse(absolute, absL, metrics)};
}

}  // namespace triscan::validation
