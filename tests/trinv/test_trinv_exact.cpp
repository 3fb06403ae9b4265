// Every direct method, natively in fp64 and fp32, on integer matrices whose inverse is
// exactly representable and is computed with no rounding at all: entries of L in
// {-1, 0, 1}, diagonal +-1, so |x_ij| <= 2^(i-j-1) and every intermediate of every
// method (partial sums of substitutions, TRMM/TRSM updates, the two products of a
// merge, at most n 2^(2n) in magnitude) is an integer below 2^53 for n <= 20 and below
// 2^24 for n <= 8. Exact arithmetic then gives the exact inverse, so the assertion is
// equality with the int64 inverse (an oracle that does not use triscan).
#include <gtest/gtest.h>

#include "tests/trinv/trinv_test_util.hpp"

namespace triscan {
namespace {

using trinv_test::describe;

template <class T>
void expect_exact(const std::string& spec, index_t n, std::uint64_t seed, Triangle tri, Diagonal diag) {
  const bool unit = diag == Diagonal::unit;
  const auto Li = trinv_test::integer_lower(n, seed, unit);
  const auto Xi = trinv_test::exact_inverse(Li);
  // Upper: A = L^T, whose inverse is X^T.
  Matrix<T> A = trinv_test::to_real<T>(Li), want = trinv_test::to_real<T>(Xi);
  if (tri == Triangle::upper)
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < i; ++j) {
        std::swap(A(i, j), A(j, i));
        std::swap(want(i, j), want(j, i));
      }
  Matrix<T> X(n, n);
  const char* fmt = std::is_same_v<T, double> ? "fp64" : "fp32";
  const TrinvResult r = invert(MethodSpec::parse(spec), A.view(), X.view(),
                               trinv_test::options_for(format_by_name(fmt), tri, diag));
  const std::string what = describe(spec, std::string("integer ") + (unit ? "unit " : "non-unit ") +
                                               (tri == Triangle::lower ? "lower" : "upper"),
                                    n, fmt, seed);
  EXPECT_EQ(r.status, Status::ok) << what << ": " << r.message;
  const std::string diff = trinv_test::first_difference<T>(X.view(), want.view());
  EXPECT_EQ(diff, "") << what;
}

TEST(TrinvExact, DirectMethodsInvertIntegerMatricesExactlyInFp64) {
  for (const auto& spec : trinv_test::direct_specs())
    for (index_t n : {1, 2, 3, 4, 7, 8, 13, 16, 17, 20})
      for (Triangle tri : {Triangle::lower, Triangle::upper})
        for (Diagonal diag : {Diagonal::unit, Diagonal::non_unit})
          expect_exact<double>(spec, n, static_cast<std::uint64_t>(100 + n), tri, diag);
}

TEST(TrinvExact, DirectMethodsInvertIntegerMatricesExactlyInFp32) {
  for (const auto& spec : trinv_test::direct_specs())
    for (index_t n : {1, 2, 3, 5, 6, 8})
      for (Triangle tri : {Triangle::lower, Triangle::upper})
        for (Diagonal diag : {Diagonal::unit, Diagonal::non_unit})
          expect_exact<float>(spec, n, static_cast<std::uint64_t>(200 + n), tri, diag);
}

// Larger n, where the native register tiles (2 x 64 bytes of columns, 4 rows) and the
// block methods' TRMM/TRSM loops run: block-diagonal integer matrices, diagonal blocks
// of order 8 with entries in {-1, 0, 1}. The inverse is block diagonal with
// |x_ij| <= 2^6; every row of L or X has at most 8 non-zeros in any block product, so
// every partial sum of every method is an integer of magnitude at most
// (8 * 2^6) * (8 * 2^6) = 2^18 < 2^24: exact in fp32 and fp64, so the results must
// equal the int64 inverse bit for bit (including the exact zeros outside the blocks).
template <class T>
void expect_exact_block_diagonal(const std::string& spec, index_t n, std::uint64_t seed, Diagonal diag) {
  auto Li = trinv_test::integer_lower(n, seed, diag == Diagonal::unit);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < i; ++j)
      if (i / 8 != j / 8) Li(i, j) = 0;
  const auto want = trinv_test::to_real<T>(trinv_test::exact_inverse(Li));
  const Matrix<T> A = trinv_test::to_real<T>(Li);
  Matrix<T> X(n, n);
  const char* fmt = std::is_same_v<T, double> ? "fp64" : "fp32";
  const auto r = invert(MethodSpec::parse(spec), A.view(), X.view(),
                        trinv_test::options_for(format_by_name(fmt), Triangle::lower, diag));
  const std::string what = trinv_test::describe(spec, "block-diagonal integer", n, fmt, seed);
  EXPECT_EQ(r.status, Status::ok) << what << ": " << r.message;
  EXPECT_EQ(trinv_test::first_difference<T>(X.view(), want.view()), "") << what;
}

TEST(TrinvExact, BlockDiagonalIntegerMatricesAtLargerSizes) {
  for (const auto& spec : trinv_test::direct_specs())
    for (index_t n : {33, 64, 70, 128})
      for (Diagonal diag : {Diagonal::unit, Diagonal::non_unit}) {
        expect_exact_block_diagonal<float>(spec, n, static_cast<std::uint64_t>(300 + n), diag);
        expect_exact_block_diagonal<double>(spec, n, static_cast<std::uint64_t>(400 + n), diag);
      }
}

// A hand-derived case: L = [1 0 0; 2 1 0; 3 4 1] has L^-1 = [1 0 0; -2 1 0; 5 -4 1]
// (x31 = -(3*1 + 4*(-2)) = 5); the non-unit [2 0; 1 4] has inverse [1/2 0; -1/8 1/4].
TEST(TrinvExact, HandDerivedInverses) {
  for (const auto& m : trinv_methods()) {
    if (m.family != "direct") continue;
    Matrix<double> A(3, 3), X(3, 3);
    A(1, 0) = 2, A(2, 0) = 3, A(2, 1) = 4;
    ASSERT_EQ(invert(MethodSpec::parse(m.name), A.view(), X.view()).status, Status::ok) << m.name;
    const double want[3][3] = {{1, 0, 0}, {-2, 1, 0}, {5, -4, 1}};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) EXPECT_EQ(X(i, j), want[i][j]) << m.name << " entry (" << i << ", " << j << ")";
    if (!m.supports_non_unit) continue;
    Matrix<double> B(2, 2), Y(2, 2);
    B(0, 0) = 2, B(1, 0) = 1, B(1, 1) = 4;
    TrinvOptions o;
    o.diagonal = Diagonal::non_unit;
    ASSERT_EQ(invert(MethodSpec::parse(m.name), B.view(), Y.view(), o).status, Status::ok) << m.name;
    EXPECT_EQ(Y(0, 0), 0.5) << m.name;
    EXPECT_EQ(Y(1, 0), -0.125) << m.name;
    EXPECT_EQ(Y(1, 1), 0.25) << m.name;
    EXPECT_EQ(Y(0, 1), 0.0) << m.name;
  }
}

}  // namespace
}  // namespace triscan
