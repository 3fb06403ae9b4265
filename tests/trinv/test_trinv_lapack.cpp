// Agreement with LAPACK on LAPACK's own kind of test matrices (the lapack-1..10
// generators, dlattr-style: unit and non-unit, well and ill conditioned, badly scaled):
// every direct method, natively in fp64 and fp32, lower and upper (through the driver),
// must pass LAPACK's acceptance test for xTRTRI — the ratio
//   ||A X - I||_1 / (n ||A||_1 ||X||_1 u) < 30
// (LAPACK's xTRT01 / xCHKTR threshold, u = 2^-53 / 2^-24) — as LAPACKE_dtrtri /
// LAPACKE_strtri themselves do on the same input, which is asserted too.
#include <gtest/gtest.h>
#include <lapacke.h>

#include "tests/trinv/trinv_test_util.hpp"
#include "triscan/metrics.hpp"
#include "validation/generators.hpp"

namespace triscan {
namespace {

constexpr double lapack_threshold = 30.0;

lapack_int trtri(char uplo, char diag, lapack_int n, double* a) {
  return LAPACKE_dtrtri(LAPACK_ROW_MAJOR, uplo, diag, n, a, n);
}
lapack_int trtri(char uplo, char diag, lapack_int n, float* a) {
  return LAPACKE_strtri(LAPACK_ROW_MAJOR, uplo, diag, n, a, n);
}

template <class T>
double ratio_of(const Matrix<double>& L, const Matrix<T>& X, Diagonal diag) {
  const index_t n = L.rows();
  Matrix<double> Xd(n, n), ref(n, n);  // the ratio does not use the reference
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) Xd(i, j) = double(X(i, j));
  for (index_t i = 0; i < n; ++i) ref(i, i) = 1.0;
  return compute_inversion_metrics(L.view(), Xd.view(), ref.view(), Triangle::lower, diag,
                                   std::numeric_limits<T>::epsilon() / 2)
      .lapack_ratio;
}

template <class T>
void check_type(int type, index_t n) {
  validation::GeneratorParams gp;
  gp.name = "lapack-" + std::to_string(type);
  gp.n = n;
  gp.seed = 7 + static_cast<std::uint64_t>(type);
  const auto g = validation::generate(gp);
  const char* fmt = std::is_same_v<T, float> ? "fp32" : "fp64";
  const bool unit = g.diagonal == Diagonal::unit;
  Matrix<T> A(n, n);
  Matrix<double> L(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) L(i, j) = double(A(i, j) = static_cast<T>(g.L(i, j)));
  if (unit)
    for (index_t i = 0; i < n; ++i) L(i, i) = 1.0;

  Matrix<T> XL = A;
  ASSERT_EQ(trtri('L', unit ? 'U' : 'N', static_cast<lapack_int>(n), XL.data()), 0) << gp.name;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = i + 1; j < n; ++j) XL(i, j) = T(0);
  const double lapack = ratio_of(L, XL, g.diagonal);
  EXPECT_LT(lapack, lapack_threshold) << "LAPACKE ?trtri, " << gp.name << ", n = " << n << ", " << fmt;

  for (const auto& m : trinv_methods()) {
    if (m.family != "direct") continue;
    const std::string what = trinv_test::describe(m.name, gp.name, n, fmt, gp.seed);
    TrinvOptions o = trinv_test::options_for(format_by_name(fmt), Triangle::lower, g.diagonal);
    Matrix<T> X(n, n), Xu(n, n);
    const TrinvResult r = invert(MethodSpec::parse(m.name), A.view(), X.view(), o);
    EXPECT_TRUE(r.status == Status::ok || r.status == Status::inaccurate) << what << ": " << status_name(r.status);
    const double ours = ratio_of(L, X, g.diagonal);
    EXPECT_LT(ours, lapack_threshold) << what << " (LAPACK's own ratio " << lapack << ")";
    // Upper: the same matrix stored transposed; the result must be X^T exactly.
    o.triangle = Triangle::upper;
    const TrinvResult ru = invert(MethodSpec::parse(m.name), MatrixView<const T>(A.view()).transposed(),
                                  Xu.view(), o);
    EXPECT_EQ(ru.status, r.status) << what << " upper";
    EXPECT_EQ(trinv_test::first_difference<T>(MatrixView<const T>(Xu.view()).transposed(), X.view()), "")
        << what << " upper";
  }
}

TEST(TrinvLapack, RatioBelow30OnLapackTypesFp64) {
  for (int type = 1; type <= 10; ++type)
    for (index_t n : {5, 17, 64, 128}) check_type<double>(type, n);
}

// lapack-5 and lapack-6 are scaled to the edges of fp64's range (docs/generators.md), so
// in fp32 their entries underflow to 0 (singular) or overflow: they are fp64 cases.
TEST(TrinvLapack, RatioBelow30OnLapackTypesFp32) {
  for (int type : {1, 2, 3, 4, 7, 8, 9, 10})
    for (index_t n : {5, 17, 64, 128}) check_type<float>(type, n);
}

}  // namespace
}  // namespace triscan
