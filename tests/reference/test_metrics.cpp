// Metrics (triscan/metrics.hpp) against values computed by hand on 2x2 and 3x3
// matrices, their invariances, the compensated residual against the MPFR residual,
// LAPACK's ratio on dtrtri results, and non-finite X.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "tests/reference/test_matrices.hpp"
#include "triscan/metrics.hpp"
#include "triscan/reference.hpp"

namespace triscan {
namespace {

using test::describe;
using test::u64;

const double nan_value = std::numeric_limits<double>::quiet_NaN();
const double inf_value = std::numeric_limits<double>::infinity();

TEST(Norms, HandComputedValuesAnyStrides) {
  // M = [1 -2 3; -4 5 -6]: column sums 5 7 9, row sums 6 15, sum of squares 91.
  double data[] = {1, -2, 3, -4, 5, -6};
  const auto M = MatrixView<const double>::row_major(data, 2, 3);
  EXPECT_EQ(norm_one(M), 9.0);
  EXPECT_EQ(norm_inf(M), 15.0);
  EXPECT_EQ(norm(M, Norm::max), 6.0);
  EXPECT_NEAR(norm_frobenius(M), std::sqrt(91.0), 4 * u64 * std::sqrt(91.0));
  // The same storage read column-major is M^T: the 1- and inf-norms swap.
  const auto T = MatrixView<const double>::col_major(data, 3, 2);
  EXPECT_EQ(norm_one(T), 15.0);
  EXPECT_EQ(norm_inf(T), 9.0);
  // Frobenius is scaled: entries near the overflow threshold do not overflow.
  double big[] = {1e300, 1e300};
  EXPECT_NEAR(norm_frobenius(MatrixView<const double>::row_major(big, 1, 2)),
              std::sqrt(2.0) * 1e300, 4 * u64 * std::sqrt(2.0) * 1e300);
  // NaN anywhere gives NaN, whatever its position relative to larger entries.
  double with_nan[] = {nan_value, 5, 1, 2};
  for (Norm w : {Norm::one, Norm::inf, Norm::frobenius, Norm::max})
    EXPECT_TRUE(std::isnan(norm(MatrixView<const double>::row_major(with_nan, 2, 2), w)));
  EXPECT_EQ(norm_inf(MatrixView<const double>{}), 0.0);
}

// A = [1 0; a 1] (unit lower; 7 and 5 stored in the unread diagonal and upper part),
// X_ref = A^-1 = [1 0; -a 1], X = X_ref + delta e_1 e_0^T. With a = 1/2, delta = 2^-10
// every quantity below is exact in double:
//   X - X_ref = delta e_1 e_0^T;  A X - I = A E = delta e_1 e_0^T;  X A - I = E A = same
//   ||X_ref||_F = sqrt(2 + a^2), ||X_ref||_inf = 1 + a, ||A||_inf = ||A||_1 = 1 + a
//   ||X||_inf = ||X||_1 = 1 + |delta - a|
//   |A^-1||A| = [1 0; 2a 1]  ->  cond = 1 + 2a;  kappa = (1 + a)^2.
TEST(InversionMetrics, HandComputed2x2UnitLower) {
  const double a = 0.5, delta = std::ldexp(1.0, -10);
  double A[] = {7, 5, a, 7};
  double Xr[] = {1, 0, -a, 1};
  double X[] = {1, 0, -a + delta, 1};
  const auto v = [](double* p) { return MatrixView<const double>::row_major(p, 2, 2); };
  const double max_intermediate = 3.0;
  const InversionMetrics m = compute_inversion_metrics(v(A), v(X), v(Xr), Triangle::lower,
                                                       Diagonal::unit, u64, max_intermediate);
  const double x_norm = 1 + std::fabs(delta - a);
  EXPECT_DOUBLE_EQ(m.forward_error, delta / std::sqrt(2 + a * a));
  EXPECT_DOUBLE_EQ(m.forward_error_inf, delta / (1 + a));
  EXPECT_DOUBLE_EQ(m.componentwise_error, delta / a);
  EXPECT_DOUBLE_EQ(m.right_residual, delta / ((1 + a) * x_norm));
  EXPECT_DOUBLE_EQ(m.left_residual, delta / ((1 + a) * x_norm));
  EXPECT_DOUBLE_EQ(m.lapack_ratio, delta / (2 * (1 + a) * x_norm * u64));
  EXPECT_DOUBLE_EQ(m.kappa, (1 + a) * (1 + a));
  EXPECT_DOUBLE_EQ(m.cond, 1 + 2 * a);
  EXPECT_DOUBLE_EQ(m.growth, max_intermediate / 1.0);  // max |A| = 1 (the unit diagonal)
  EXPECT_EQ(m.nonfinite, 0);
}

// A = [2 1 0; 0 4 2; 0 0 8] (non-unit upper; 9 stored below the diagonal, unread),
// X_ref = A^-1 = [1/2 -1/8 1/32; 0 1/4 -1/16; 0 0 1/8] (back substitution:
// X13 = (A12 A23 - A13 A22)/(A11 A22 A33) = 2/64). X = X_ref + E, E = eps e_2 e_0^T:
// garbage in the triangle the output contract says is 0.
//   A X - I = A E: column 0 = eps A(:, 2) = eps (0, 2, 8)  -> ||.||_inf = 8 eps, ||.||_1 = 10 eps
//   X A - I = E A: row 2 = eps A(0, :) = eps (2, 1, 0)      -> ||.||_inf = 3 eps
//   componentwise: eps / |X_ref(2, 0)| = eps / 0 = inf.
TEST(InversionMetrics, HandComputed3x3UpperCatchesGarbageInTheOtherTriangle) {
  const double eps = std::ldexp(1.0, -6);
  double A[] = {2, 1, 0, 9, 4, 2, 9, 9, 8};
  double Xr[] = {1.0 / 2, -1.0 / 8, 1.0 / 32, 0, 1.0 / 4, -1.0 / 16, 0, 0, 1.0 / 8};
  double X[9];
  for (int k = 0; k < 9; ++k) X[k] = Xr[k];
  X[6] = eps;
  const auto v = [](double* p) { return MatrixView<const double>::row_major(p, 3, 3); };
  // X_ref really is the inverse: the MPFR reference agrees exactly.
  const Matrix<double> R = reference_inverse_double(v(A), Triangle::upper, Diagonal::non_unit);
  for (int k = 0; k < 9; ++k) ASSERT_EQ(R.data()[k], Xr[k]) << "hand inverse entry " << k;
  const InversionMetrics m =
      compute_inversion_metrics(v(A), v(X), v(Xr), Triangle::upper, Diagonal::non_unit, u64);
  const double a_inf = 8, a_one = 10;                 // rows 3 6 8; columns 2 5 10
  const double x_inf = 1.0 / 2 + 1.0 / 8 + 1.0 / 32;  // row 0 (row 2 is eps + 1/8)
  const double x_one = 1.0 / 2 + eps;                 // column 0 (columns 1, 2: 3/8, 7/32)
  const double xr_fro =
      std::sqrt(1.0 / 4 + 1.0 / 64 + 1.0 / 1024 + 1.0 / 16 + 1.0 / 256 + 1.0 / 64);
  EXPECT_DOUBLE_EQ(m.forward_error, eps / xr_fro);
  EXPECT_DOUBLE_EQ(m.forward_error_inf, eps / x_inf);  // ||X_ref||_inf is row 0 too
  EXPECT_EQ(m.componentwise_error, inf_value);
  EXPECT_DOUBLE_EQ(m.right_residual, 8 * eps / (a_inf * x_inf));
  EXPECT_DOUBLE_EQ(m.left_residual, 3 * eps / (x_inf * a_inf));
  EXPECT_DOUBLE_EQ(m.lapack_ratio, 10 * eps / (3 * a_one * x_one * u64));
  EXPECT_DOUBLE_EQ(m.kappa, a_inf * x_inf);
  // |X_ref| |A| row sums: |X_ref| (|A| e) with |A| e = (3, 6, 8).
  EXPECT_DOUBLE_EQ(m.cond, std::max({3.0 / 2 + 6.0 / 8 + 8.0 / 32, 6.0 / 4 + 8.0 / 16, 8.0 / 8}));
  EXPECT_DOUBLE_EQ(m.growth, (1.0 / 2) / 8);  // max |X| / max |A| (no intermediates tracked)
}

TEST(InversionMetrics, RelativeMetricsInvariantUnderScalingByPowersOfTwo) {
  // A -> 2^k A, X -> 2^-k X, X_ref -> 2^-k X_ref: every product and sum the metrics
  // form scales by an exact power of 2 (no overflow or underflow here), so the
  // relative metrics are bitwise equal. (growth = max|X|/max|A| scales by 2^-2k.)
  const index_t n = 16;
  for (Triangle tri : {Triangle::lower, Triangle::upper})
    for (int k : {-20, 7, 30}) {
      const std::uint64_t seed = 31;
      const Matrix<double> A = test::well_conditioned(n, tri, Diagonal::non_unit, seed);
      const Matrix<double> X = test::lapack_inverse(A, tri, Diagonal::non_unit);
      const Matrix<double> R = reference_inverse_double(A.view(), tri, Diagonal::non_unit);
      Matrix<double> As = A, Xs = X, Rs = R;
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j) {
          As(i, j) = std::ldexp(A(i, j), k);
          Xs(i, j) = std::ldexp(X(i, j), -k);
          Rs(i, j) = std::ldexp(R(i, j), -k);
        }
      const auto m =
          compute_inversion_metrics(A.view(), X.view(), R.view(), tri, Diagonal::non_unit, u64);
      const auto s =
          compute_inversion_metrics(As.view(), Xs.view(), Rs.view(), tri, Diagonal::non_unit, u64);
      const std::string what =
          describe("well-conditioned, scaled by 2^k", n, tri, Diagonal::non_unit, seed) +
          ", k = " + std::to_string(k);
      EXPECT_EQ(m.forward_error, s.forward_error) << what;
      EXPECT_EQ(m.forward_error_inf, s.forward_error_inf) << what;
      EXPECT_EQ(m.componentwise_error, s.componentwise_error) << what;
      EXPECT_EQ(m.right_residual, s.right_residual) << what;
      EXPECT_EQ(m.left_residual, s.left_residual) << what;
      EXPECT_EQ(m.lapack_ratio, s.lapack_ratio) << what;
      EXPECT_EQ(m.kappa, s.kappa) << what;
      EXPECT_EQ(m.cond, s.cond) << what;
      EXPECT_GT(m.right_residual, 0.0) << what << " (a zero residual would make the test vacuous)";
    }
}

// LAPACK's test suite accepts ratio < 30 (BACKGROUND.md; xTRT01 with threshold 30).
// Also: Skeel's cond <= kappa_inf always (|| |A^-1||A| || <= ||A^-1|| ||A||), and the
// compensated residual matches the MPFR residual: by Ogita-Rump-Oishi (2005, §5) each
// Dot2 entry has |r^ - r| <= u |r| + gamma_{n+1}^2 (|A||X| + I), so the inf-norm
// differs by at most u ||R|| + gamma_{n+1}^2 (|| |A||X| ||_inf + 1) (plus n u ||R||
// for the norm's own sum); plain double evaluation would miss by ~n u || |A||X| ||.
TEST(InversionMetrics, DtrtriResultsPassLapackRatioAndResidualsMatchMpfr) {
  for (index_t n : {8, 33, 64})
    for (Triangle tri : {Triangle::lower, Triangle::upper})
      for (Diagonal diag : {Diagonal::unit, Diagonal::non_unit})
        for (std::uint64_t seed : {41u, 42u}) {
          const std::string what = describe("well-conditioned", n, tri, diag, seed);
          const Matrix<double> A = test::well_conditioned(n, tri, diag, seed);
          const Matrix<double> X = test::lapack_inverse(A, tri, diag);
          const Matrix<mp_float> Rmp = reference_inverse(A.view(), tri, diag);
          const Matrix<double> Rhi = round_to_double(Rmp), Rlo = rounding_remainder(Rmp);
          const InversionMetrics m = compute_inversion_metrics(A.view(), X.view(), Rhi.view(), tri,
                                                               diag, u64, 0.0, Rlo.view());
          EXPECT_LT(m.lapack_ratio, 30.0) << what;
          EXPECT_LE(m.cond, m.kappa * (1 + 4 * static_cast<double>(n) * u64)) << what;
          EXPECT_EQ(m.nonfinite, 0) << what;

          const ReferenceResiduals r = reference_residuals(A.view(), X.view(), tri, diag);
          const double right = norm_inf(round_to_double(r.right).view());
          const double left = norm_inf(round_to_double(r.left).view());
          // || |A||X| ||_inf <= ||A||_inf ||X||_inf, the metric's denominator; ||A||_inf
          // (of the contract's matrix) is kappa / ||X_ref||_inf.
          const double ax = m.kappa / norm_inf(Rhi.view()) * norm_inf(X.view());
          const double g =
              (static_cast<double>(n) + 1) * u64 / (1 - (static_cast<double>(n) + 1) * u64);
          const double slack_right = (static_cast<double>(n) + 1) * u64 * right + g * g * (ax + 1);
          const double slack_left = (static_cast<double>(n) + 1) * u64 * left + g * g * (ax + 1);
          EXPECT_NEAR(m.right_residual * ax, right, slack_right) << what << " (right residual)";
          EXPECT_NEAR(m.left_residual * ax, left, slack_left) << what << " (left residual)";
          EXPECT_GT(right, 0.0) << what << " (a zero residual would make the comparison vacuous)";
        }
}

TEST(InversionMetrics, ReferenceLowPartRemovesTheDoubleRoundingFloor) {
  // X_ref = diag(1/3): X = RN(1/3) is the best double, its true error is
  // |RN(1/3) - 1/3| / (1/3) ~ 2^-54 (nonzero); against the double reference alone it
  // measures 0.
  Matrix<double> D(1, 1, 3.0);
  const Matrix<mp_float> M = reference_inverse(D.view(), Triangle::lower, Diagonal::non_unit);
  const Matrix<double> hi = round_to_double(M), lo = rounding_remainder(M);
  EXPECT_EQ(relative_error(hi.view(), hi.view(), Norm::frobenius), 0.0);
  const double e = relative_error(hi.view(), hi.view(), Norm::frobenius, lo.view());
  EXPECT_GT(e, 0.0);
  EXPECT_LE(e, u64);  // |RN(x) - x| <= u |x|
  EXPECT_DOUBLE_EQ(e, std::fabs(lo(0, 0)) / hi(0, 0));
  EXPECT_DOUBLE_EQ(componentwise_relative_error(hi.view(), hi.view(), lo.view()), e);
}

TEST(InversionMetrics, NonFiniteXIsCountedAndDoesNotCrash) {
  const index_t n = 4;
  const Matrix<double> A = test::well_conditioned(n, Triangle::lower, Diagonal::unit, 51);
  const Matrix<double> R = reference_inverse_double(A.view(), Triangle::lower, Diagonal::unit);
  Matrix<double> X = R;
  X(2, 0) = nan_value;
  X(3, 1) = inf_value;
  X(0, 3) = -inf_value;  // in the other triangle: still counted
  const InversionMetrics m = compute_inversion_metrics(A.view(), X.view(), R.view(),
                                                       Triangle::lower, Diagonal::unit, u64, 2.0);
  EXPECT_EQ(m.nonfinite, 3);
  EXPECT_TRUE(std::isnan(m.forward_error));
  EXPECT_TRUE(std::isnan(m.forward_error_inf));
  EXPECT_TRUE(std::isnan(m.componentwise_error));
  EXPECT_TRUE(std::isnan(m.right_residual));
  EXPECT_TRUE(std::isnan(m.left_residual));
  EXPECT_TRUE(std::isnan(m.lapack_ratio));
  // Properties of A alone stay finite; growth uses the finite entries.
  EXPECT_TRUE(std::isfinite(m.kappa));
  EXPECT_TRUE(std::isfinite(m.cond));
  EXPECT_TRUE(std::isfinite(m.growth));
  // Only inf (no NaN): the errors are inf.
  X(2, 0) = 0.0;
  X(0, 3) = 0.0;
  const InversionMetrics mi =
      compute_inversion_metrics(A.view(), X.view(), R.view(), Triangle::lower, Diagonal::unit, u64);
  EXPECT_EQ(mi.nonfinite, 1);
  EXPECT_EQ(mi.forward_error, inf_value);
  EXPECT_EQ(mi.componentwise_error, inf_value);
  EXPECT_TRUE(
      std::isnan(mi.right_residual));  // the compensated product inf - inf (docs/metrics.md)
}

TEST(InversionMetrics, RejectsBadArgumentsNamingThem) {
  const Matrix<double> A = test::well_conditioned(3, Triangle::lower, Diagonal::non_unit, 61);
  const Matrix<double> R = reference_inverse_double(A.view(), Triangle::lower, Diagonal::non_unit);
  auto expect_message = [](auto&& call, const std::string& needle) {
    try {
      call();
      ADD_FAILURE() << "expected invalid_argument mentioning '" << needle << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Matrix<double> small(2, 2);
  expect_message(
      [&] {
        compute_inversion_metrics(A.view(), small.view(), R.view(), Triangle::lower,
                                  Diagonal::non_unit, u64);
      },
      "X is 2x2");
  expect_message(
      [&] {
        compute_inversion_metrics(A.view(), R.view(), R.view(), Triangle::lower, Diagonal::non_unit,
                                  0.0);
      },
      "unit_roundoff");
  Matrix<double> Rbad = R;
  Rbad(1, 1) = inf_value;
  expect_message(
      [&] {
        compute_inversion_metrics(A.view(), R.view(), Rbad.view(), Triangle::lower,
                                  Diagonal::non_unit, u64);
      },
      "X_ref(1, 1)");
  Matrix<double> Abad = A;
  Abad(2, 1) = nan_value;
  expect_message(
      [&] {
        compute_inversion_metrics(Abad.view(), R.view(), R.view(), Triangle::lower,
                                  Diagonal::non_unit, u64);
      },
      "A(2, 1)");
  // NaN where the contract reads nothing is fine.
  Abad(2, 1) = A(2, 1);
  Abad(0, 2) = nan_value;
  EXPECT_NO_THROW(compute_inversion_metrics(Abad.view(), R.view(), R.view(), Triangle::lower,
                                            Diagonal::non_unit, u64));
  // Empty matrices: every metric 0.
  const InversionMetrics e =
      compute_inversion_metrics({}, {}, {}, Triangle::lower, Diagonal::unit, u64);
  EXPECT_EQ(e.forward_error, 0.0);
  EXPECT_EQ(e.lapack_ratio, 0.0);
}

}  // namespace
}  // namespace triscan
