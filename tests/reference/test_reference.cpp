// The MPFR reference (triscan/reference.hpp) against exactly known answers, against
// LAPACK's dtrtri within the Du Croz & Higham forward-error bound, and its precision
// scope (including from several threads).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/reference/test_matrices.hpp"
#include "triscan/metrics.hpp"
#include "triscan/reference.hpp"

namespace triscan {
namespace {

using test::describe;
using test::u64;

const double nan_value = std::numeric_limits<double>::quiet_NaN();

bool exactly(const mp_float& x, double v) {
  return mpfr_cmp_d(x.backend().data(), v) == 0;
}
bool same(const mp_float& x, const mp_float& y) {
  return mpfr_equal_p(x.backend().data(), y.backend().data()) != 0;
}

Matrix<double> transpose(const Matrix<double>& M) {
  Matrix<double> T(M.cols(), M.rows());
  for (index_t i = 0; i < M.rows(); ++i)
    for (index_t j = 0; j < M.cols(); ++j) T(j, i) = M(i, j);
  return T;
}

// Every entry of the MPFR result equals the expected double exactly.
void expect_exact(const Matrix<mp_float>& X, const Matrix<double>& want, const std::string& what) {
  ASSERT_EQ(X.rows(), want.rows()) << what;
  ASSERT_EQ(X.cols(), want.cols()) << what;
  for (index_t i = 0; i < X.rows(); ++i)
    for (index_t j = 0; j < X.cols(); ++j)
      ASSERT_TRUE(exactly(X(i, j), want(i, j)))
          << what << ": X(" << i << ", " << j << ") = " << X(i, j).str() << ", expected "
          << want(i, j);
}

// Strictly lower all-ones with NaN on the (unread) diagonal and upper part.
Matrix<double> all_ones_unit_lower(index_t n, index_t block) {
  Matrix<double> A(n, n, nan_value);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < i; ++j) A(i, j) = (i / block == j / block) ? 1.0 : 0.0;
  return A;
}

// (I + N)^-1 for N = ones strictly below the diagonal within diagonal blocks of size
// `block`. Within a block, with S the subdiagonal shift (S(j+1, j) = 1):
// (N S)(i, j) = N(i, j+1) = [i > j+1], so (I + N)(I - S) = I + N - S - N S has
// (i > j) entries 1 - [i = j+1] - [i > j+1] = 0: the inverse is I - S, i.e. 1 on the
// diagonal, -1 on the subdiagonal inside blocks, 0 elsewhere (BACKGROUND.md).
Matrix<double> all_ones_inverse(index_t n, index_t block) {
  Matrix<double> X(n, n);
  for (index_t i = 0; i < n; ++i) {
    X(i, i) = 1.0;
    if (i > 0 && i / block == (i - 1) / block) X(i, i - 1) = -1.0;
  }
  return X;
}

TEST(ReferenceInverse, AllOnesStrictlyLowerHasBidiagonalInverse) {
  for (index_t n : {1, 2, 16, 64}) {
    const Matrix<double> A = all_ones_unit_lower(n, n);
    const std::string what =
        describe("all-ones strictly lower", n, Triangle::lower, Diagonal::unit, 0);
    expect_exact(reference_inverse(A.view(), Triangle::lower, Diagonal::unit),
                 all_ones_inverse(n, n), what);
    // Upper: A^T with the (unread) lower part NaN; inverse is the transpose.
    expect_exact(reference_inverse(transpose(A).view(), Triangle::upper, Diagonal::unit),
                 transpose(all_ones_inverse(n, n)), what + " (upper = transpose)");
  }
}

TEST(ReferenceInverse, BlockOnesHasBlockBidiagonalInverse) {
  const index_t n = 64, block = 16;
  const Matrix<double> A = all_ones_unit_lower(n, block);
  expect_exact(reference_inverse(A.view(), Triangle::lower, Diagonal::unit),
               all_ones_inverse(n, block),
               describe("16x16 diagonal blocks of ones", n, Triangle::lower, Diagonal::unit, 0));
}

TEST(ReferenceInverse, HandComputedIntegerUnitLower) {
  // L = [1 0 0; 2 1 0; 3 4 1]: X21 = -2, X32 = -4, X31 = -(3 - 4*2) = 5.
  Matrix<double> L(3, 3, 99.0);  // 99 on the unread diagonal and upper part
  L(1, 0) = 2;
  L(2, 0) = 3;
  L(2, 1) = 4;
  Matrix<double> want = Matrix<double>::identity(3);
  want(1, 0) = -2;
  want(2, 0) = 5;
  want(2, 1) = -4;
  expect_exact(reference_inverse(L.view(), Triangle::lower, Diagonal::unit), want,
               "hand 3x3 unit lower");
}

// (I + N)^-1 for an integer N by exact integer recursion (the inverse of a unit
// triangular integer matrix is integer): X(i,j) = -sum_{k=j}^{i-1} N(i,k) X(k,j).
std::vector<std::int64_t> integer_inverse(const Matrix<double>& N) {
  const index_t n = N.rows();
  std::vector<std::int64_t> X(static_cast<std::size_t>(n * n), 0);
  auto x = [&](index_t i, index_t j) -> std::int64_t& {
    return X[static_cast<std::size_t>(i * n + j)];
  };
  for (index_t j = 0; j < n; ++j) {
    x(j, j) = 1;
    for (index_t i = j + 1; i < n; ++i) {
      std::int64_t s = 0;
      for (index_t k = j; k < i; ++k) {
        std::int64_t p = 0;
        if (__builtin_mul_overflow(static_cast<std::int64_t>(N(i, k)), x(k, j), &p) ||
            __builtin_add_overflow(s, p, &s))
          throw std::overflow_error("integer_inverse: int64 overflow");
      }
      x(i, j) = -s;
    }
  }
  return X;
}

TEST(ReferenceInverse, RandomIntegerUnitAndScaledNonUnitLowerMatchExactIntegerRecursion) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const index_t n = 14;
    test::Uniform rnd(seed);
    Matrix<double> N(n, n, nan_value);  // NaN where the unit contract reads nothing
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < i; ++j) N(i, j) = std::floor(rnd(-2.0, 3.0));  // integers in [-2, 2]
    const std::vector<std::int64_t> Y = integer_inverse(N);
    Matrix<double> want(n, n);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j)
        want(i, j) = static_cast<double>(Y[static_cast<std::size_t>(i * n + j)]);
    expect_exact(reference_inverse(N.view(), Triangle::lower, Diagonal::unit), want,
                 describe("random integer unit lower", n, Triangle::lower, Diagonal::unit, seed));

    // Non-unit L = D (I + N), D = diag(+-2^k): L^-1 = (I + N)^-1 D^-1, so
    // L^-1(i, j) = Y(i, j) / d_j, exact in double (an integer times a power of 2).
    Matrix<double> L(n, n, nan_value);
    std::vector<double> d(static_cast<std::size_t>(n));
    for (index_t i = 0; i < n; ++i) {
      d[static_cast<std::size_t>(i)] =
          (i % 2 ? -1.0 : 1.0) * std::ldexp(1.0, static_cast<int>(i % 7) - 3);
      L(i, i) = d[static_cast<std::size_t>(i)];
      for (index_t j = 0; j < i; ++j) L(i, j) = d[static_cast<std::size_t>(i)] * N(i, j);
    }
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j) want(i, j) /= d[static_cast<std::size_t>(j)];
    expect_exact(reference_inverse(L.view(), Triangle::lower, Diagonal::non_unit), want,
                 describe("D (I + integer N)", n, Triangle::lower, Diagonal::non_unit, seed));
  }
}

TEST(ReferenceInverse, DiagonalMatrixGivesCorrectlyRoundedReciprocals) {
  // 1/d rounded once to 256 bits and then to 53 is RN(1/d) unless 1/d lies within
  // 2^-256 relatively of a 53-bit midpoint, which none of these do; IEEE division is
  // RN(1/d). 1e308 checks a subnormal result, 2^1000 an exact one.
  const std::vector<double> d = {3.0, -7.0, 0.1, 1e308, std::ldexp(1.0, 1000), -1e-300};
  const index_t n = static_cast<index_t>(d.size());
  Matrix<double> D(n, n, nan_value);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) D(i, j) = i == j ? d[static_cast<std::size_t>(i)] : 0.0;
  const Matrix<double> X = reference_inverse_double(D.view(), Triangle::lower, Diagonal::non_unit);
  for (index_t i = 0; i < n; ++i) {
    EXPECT_EQ(X(i, i), 1.0 / d[static_cast<std::size_t>(i)])
        << "diagonal matrix, d = " << d[static_cast<std::size_t>(i)];
    for (index_t j = 0; j < n; ++j)
      if (j != i) {
        EXPECT_EQ(X(i, j), 0.0) << "diagonal matrix: X(" << i << ", " << j << ")";
      }
  }
}

TEST(ReferenceInverse, UpperIsTransposeOfLowerForAnyStrides) {
  for (Diagonal diag : {Diagonal::unit, Diagonal::non_unit}) {
    const index_t n = 24;
    const std::uint64_t seed = 11;
    const Matrix<double> L = test::well_conditioned(n, Triangle::lower, diag, seed, nan_value);
    const Matrix<mp_float> XL = reference_inverse(L.view(), Triangle::lower, diag);
    // The same storage read as a column-major view is L^T: upper triangular.
    const auto U = MatrixView<const double>::col_major(L.data(), n, n);
    const Matrix<mp_float> XU = reference_inverse(U, Triangle::upper, diag);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j)
        ASSERT_TRUE(same(XU(j, i), XL(i, j)))
            << describe("well-conditioned", n, Triangle::upper, diag, seed) << ": entry (" << j
            << ", " << i << ")";
  }
}

// Du Croz & Higham (1992) / Higham ASNA 2nd ed. §14.2: the triangular inversion
// methods used by LAPACK (Methods 1, 2 and their blocked forms 1B, 2C) satisfy the
// componentwise forward bound |X^ - A^-1| <= c_n u |A^-1| |A| |X^| (or with the
// factors in the other order), c_n a small multiple of n. We take c_n = 2n (= 2 gamma_n
// to first order) and use |X_ref| for |X^| (they agree to O(u)); the reference's own
// rounding to double adds u |X_ref|.
TEST(ReferenceInverse, AgreesWithLapackDtrtriWithinDuCrozHighamBound) {
  for (index_t n : {1, 8, 33, 64})
    for (Triangle tri : {Triangle::lower, Triangle::upper})
      for (Diagonal diag : {Diagonal::unit, Diagonal::non_unit})
        for (std::uint64_t seed : {21u, 22u}) {
          const Matrix<double> A = test::well_conditioned(n, tri, diag, seed);
          const Matrix<double> X = test::lapack_inverse(A, tri, diag);
          const Matrix<double> R = reference_inverse_double(A.view(), tri, diag);
          // |A| of the contract (unit diagonal 1, other triangle 0).
          Matrix<double> absA(n, n);
          for (index_t i = 0; i < n; ++i)
            for (index_t j = 0; j < n; ++j)
              absA(i, j) = i == j ? (diag == Diagonal::unit ? 1.0 : std::fabs(A(i, i)))
                                  : (test::in_triangle(i, j, tri) ? std::fabs(A(i, j)) : 0.0);
          Matrix<double> absR(n, n);
          for (index_t i = 0; i < n; ++i)
            for (index_t j = 0; j < n; ++j) absR(i, j) = std::fabs(R(i, j));
          const Matrix<double> RA = reference_gemm_double(absR.view(), absA.view());
          const Matrix<double> RAR = reference_gemm_double(RA.view(), absR.view());
          const double c_n = 2.0 * static_cast<double>(n);
          for (index_t i = 0; i < n; ++i)
            for (index_t j = 0; j < n; ++j) {
              const double bound = c_n * u64 * RAR(i, j) + u64 * std::fabs(R(i, j));
              ASSERT_LE(std::fabs(X(i, j) - R(i, j)), bound)
                  << describe("well-conditioned", n, tri, diag, seed) << ": entry (" << i << ", "
                  << j << "), dtrtri " << X(i, j) << ", reference " << R(i, j);
            }
        }
}

// L = [3 0 0; 1 d 0; b 1 1] with d = RN(0.3) and b = RN(1/d). Exactly, X11 = 1/3,
// X21 = -1/(3d) and X31 = -(b X11 + X21) = (1/d - b)/3, a tiny entry (|1/d - b| <=
// ulp(b)/2) formed by cancelling b/3 against 1/(3d). Substitution at p bits rounds
// X11 and X21 (errors ~2^-p), and the cancellation leaves those errors as the whole
// of X31 when p = 53 (no correct digit), but only a ~2^-200 relative error when
// p = 256. Triangular substitution is usually far more accurate than kappa suggests
// (Higham ASNA §8.2; random triangular matrices with kappa ~1e60 lose almost nothing
// when dot products are exact), so the test needs such a built-in cancellation.
Matrix<double> cancelling() {
  Matrix<double> A(3, 3, nan_value);  // NaN above the diagonal: never read
  A(0, 0) = 3.0;
  A(1, 0) = 1.0;
  A(1, 1) = 0.3;
  A(2, 0) = 1.0 / 0.3;
  A(2, 1) = 1.0;
  A(2, 2) = 1.0;
  return A;
}

TEST(ReferencePrecision, PrecisionChangesTheAnswerOnAnIllConditionedMatrix) {
  const std::string what = describe("cancelling 3x3", 3, Triangle::lower, Diagonal::non_unit, 0);
  const Matrix<double> A = cancelling();
  const Matrix<double> X53 =
      reference_inverse_double(A.view(), Triangle::lower, Diagonal::non_unit, 53);
  const Matrix<mp_float> M = reference_inverse(A.view(), Triangle::lower, Diagonal::non_unit);
  const Matrix<double> X256 = round_to_double(M);
  EXPECT_EQ(mpfr_get_prec(M(2, 0).backend().data()), 256) << what;
  // 256 bits: X31 = (1/d - b)/3, evaluated independently at 1024 bits and rounded.
  mp_float t = M(0, 0), d = M(0, 0);
  mpfr_ptr x = t.backend().data(), y = d.backend().data();
  mpfr_set_prec(x, 1024);
  mpfr_set_prec(y, 1024);
  mpfr_set_d(y, A(1, 1), MPFR_RNDN);
  mpfr_ui_div(x, 1, y, MPFR_RNDN);
  mpfr_sub_d(x, x, A(2, 0), MPFR_RNDN);
  mpfr_div_ui(x, x, 3, MPFR_RNDN);
  EXPECT_EQ(X256(2, 0), mpfr_get_d(x, MPFR_RNDN)) << what;
  EXPECT_NE(X256(2, 0), 0.0) << what;
  // 53 bits: X31 has no correct digit. 0.5 is far above double rounding (2u).
  EXPECT_GT(std::fabs(X53(2, 0) - X256(2, 0)), 0.5 * std::fabs(X256(2, 0)))
      << what << ": X53(2, 0) = " << X53(2, 0);
}

TEST(ReferencePrecision, ScopeSetsThreadPrecisionAndRestoresIt) {
  const index_t n = 3;
  const Matrix<double> A = cancelling();
  const Matrix<double> X53 =
      reference_inverse_double(A.view(), Triangle::lower, Diagonal::non_unit, 53);
  EXPECT_EQ(current_reference_bits(), default_reference_bits);
  const unsigned boost_default = mp_float::default_precision();
  {
    ReferencePrecision outer(53);
    EXPECT_EQ(current_reference_bits(), 53u);
    const Matrix<mp_float> M = reference_inverse(A.view(), Triangle::lower, Diagonal::non_unit);
    EXPECT_EQ(mpfr_get_prec(M(1, 0).backend().data()), 53);
    const Matrix<double> X = round_to_double(M);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j)
        ASSERT_EQ(X(i, j), X53(i, j)) << "scope 53 bits: entry (" << i << ", " << j << ")";
    {
      ReferencePrecision inner(512);
      EXPECT_EQ(current_reference_bits(), 512u);
    }
    EXPECT_EQ(current_reference_bits(), 53u);
  }
  EXPECT_EQ(current_reference_bits(), default_reference_bits);
  // The scope is triscan's own: Boost's process-wide default is never touched.
  EXPECT_EQ(mp_float::default_precision(), boost_default);
  EXPECT_THROW(ReferencePrecision(0), std::invalid_argument);
  EXPECT_THROW(ReferencePrecision(max_reference_bits + 1), std::invalid_argument);
  EXPECT_THROW(
      reference_inverse(A.view(), Triangle::lower, Diagonal::non_unit, max_reference_bits + 1),
      std::invalid_argument);
}

TEST(ReferencePrecision, ConcurrentScopesInThreadsDoNotInterfere) {
  // MPFR keeps its global state (exponent range, caches, flags) per thread only when
  // built with thread-local storage; the reference's thread safety relies on it.
  ASSERT_TRUE(mpfr_buildopt_tls_p()) << "MPFR was built without thread-local storage";
  const index_t n = 3;
  const Matrix<double> A = cancelling();
  const Matrix<double> want53 =
      reference_inverse_double(A.view(), Triangle::lower, Diagonal::non_unit, 53);
  const Matrix<double> want256 =
      reference_inverse_double(A.view(), Triangle::lower, Diagonal::non_unit, 256);
  // The two precisions give different answers, so a thread using the other's
  // precision would be caught.
  ASSERT_GT(componentwise_relative_error(want53.view(), want256.view()), 1e-3);
  auto worker = [&](unsigned bits, const Matrix<double>& want, int* mismatches) {
    ReferencePrecision scope(bits);
    for (int rep = 0; rep < 300; ++rep) {
      const Matrix<double> X =
          reference_inverse_double(A.view(), Triangle::lower, Diagonal::non_unit);
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j)
          if (X(i, j) != want(i, j)) ++*mismatches;
    }
  };
  int bad53 = 0, bad256a = 0, bad256b = 0;
  std::thread t1(worker, 53u, std::cref(want53), &bad53);
  std::thread t2(worker, 256u, std::cref(want256), &bad256a);
  std::thread t3(worker, 256u, std::cref(want256), &bad256b);
  t1.join();
  t2.join();
  t3.join();
  EXPECT_EQ(bad53, 0) << "thread with a 53-bit scope";
  EXPECT_EQ(bad256a + bad256b, 0) << "threads with 256-bit scopes";
  EXPECT_EQ(current_reference_bits(), default_reference_bits)
      << "main thread's scope must be untouched";
}

TEST(ReferenceInverse, RejectsBadInputWithClearErrors) {
  auto expect_message = [](auto&& call, const std::string& needle, bool domain) {
    try {
      call();
      ADD_FAILURE() << "expected an exception mentioning '" << needle << "'";
    } catch (const std::domain_error& e) {
      EXPECT_TRUE(domain) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    } catch (const std::invalid_argument& e) {
      EXPECT_FALSE(domain) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Matrix<double> A = test::well_conditioned(5, Triangle::lower, Diagonal::non_unit, 3, nan_value);
  A(3, 3) = 0.0;
  expect_message([&] { reference_inverse(A.view(), Triangle::lower, Diagonal::non_unit); },
                 "A(3, 3)", true);
  // The unit contract never reads the diagonal: the zero (and the NaN above) are fine.
  EXPECT_NO_THROW(reference_inverse(A.view(), Triangle::lower, Diagonal::unit));
  A(2, 1) = std::numeric_limits<double>::infinity();
  expect_message([&] { reference_inverse(A.view(), Triangle::lower, Diagonal::unit); }, "A(2, 1)",
                 false);
  Matrix<double> rect(3, 4);
  expect_message([&] { reference_inverse(rect.view(), Triangle::lower, Diagonal::unit); }, "square",
                 false);
  expect_message([&] { reference_gemm(rect.view(), rect.view()); }, "inner dimensions", false);
  Matrix<double> X = Matrix<double>::identity(5);
  X(4, 0) = nan_value;
  Matrix<double> B = test::well_conditioned(5, Triangle::lower, Diagonal::unit, 3);
  expect_message([&] { reference_residuals(B.view(), X.view(), Triangle::lower, Diagonal::unit); },
                 "X(4, 0)", false);
}

TEST(ReferenceGemm, ExactOnIntegerMatrices) {
  const index_t m = 20, k = 30, n = 10;
  test::Uniform rnd(17);
  Matrix<double> A(m, k), B(k, n);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < k; ++j) A(i, j) = std::floor(rnd(-1000.0, 1001.0));
  for (index_t i = 0; i < k; ++i)
    for (index_t j = 0; j < n; ++j) B(i, j) = std::floor(rnd(-1000.0, 1001.0));
  Matrix<double> want(m, n);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      std::int64_t s = 0;  // |s| <= 30 * 10^6: exact in int64 and in double
      for (index_t l = 0; l < k; ++l)
        s += static_cast<std::int64_t>(A(i, l)) * static_cast<std::int64_t>(B(l, j));
      want(i, j) = static_cast<double>(s);
    }
  expect_exact(reference_gemm(A.view(), B.view()), want, "integer GEMM 20x30 * 30x10, seed 17");
}

TEST(ReferenceGemm, SumIsExactBeforeItsOneRounding) {
  // [1e16, 1, -1e16] . [1, 1, 1] = 1 exactly; left-to-right double summation gives 0
  // (1e16 + 1 rounds to 1e16), so only an exact sum passes.
  Matrix<double> a(1, 3), b(3, 1, 1.0);
  a(0, 0) = 1e16;
  a(0, 1) = 1.0;
  a(0, 2) = -1e16;
  EXPECT_TRUE(exactly(reference_gemm(a.view(), b.view())(0, 0), 1.0)) << "cancelling dot product";
  // 1 + 2^-300 is exact at 512 bits and rounds to 1 at 256 bits.
  a(0, 0) = 1.0;
  a(0, 1) = std::ldexp(1.0, -300);
  a(0, 2) = 0.0;
  const Matrix<mp_float> c512 = reference_gemm(a.view(), b.view(), 512);
  const Matrix<mp_float> c256 = reference_gemm(a.view(), b.view(), 256);
  EXPECT_TRUE(exactly(c256(0, 0), 1.0));
  EXPECT_FALSE(exactly(c512(0, 0), 1.0));
  mp_float excess = c512(0, 0);
  mpfr_sub_ui(excess.backend().data(), c512(0, 0).backend().data(), 1, MPFR_RNDN);
  EXPECT_TRUE(exactly(excess, std::ldexp(1.0, -300)));
}

TEST(ReferenceResiduals, HandComputedLeftAndRightResidualsDiffer) {
  // A = [1 0 0; 2 1 0; 3 4 1] (unit, 9 stored on the unread diagonal), X = A^-1 + E
  // with E = delta e_1 e_0^T: A X - I = A E has column 0 equal to delta A(:, 1) =
  // (0, delta, 4 delta); X A - I = E A has row 1 equal to delta A(0, :) = (delta, 0, 0).
  Matrix<double> A(3, 3, 9.0);
  A(1, 0) = 2;
  A(2, 0) = 3;
  A(2, 1) = 4;
  A(0, 1) = A(0, 2) = A(1, 2) = 0.0;
  const double delta = std::ldexp(1.0, -40);
  Matrix<double> X = Matrix<double>::identity(3);
  X(1, 0) = -2 + delta;
  X(2, 0) = 5;
  X(2, 1) = -4;
  const ReferenceResiduals r =
      reference_residuals(A.view(), X.view(), Triangle::lower, Diagonal::unit);
  Matrix<double> right(3, 3), left(3, 3);
  right(1, 0) = delta;
  right(2, 0) = 4 * delta;
  left(1, 0) = delta;
  expect_exact(r.right, right, "hand 3x3: A X - I");
  expect_exact(r.left, left, "hand 3x3: X A - I");
}

TEST(ReferenceRounding, HighPlusLowRepresentsTheReferenceToTwiceDoublePrecision) {
  // diag(3): 1/3 = hi + lo + O(2^-106).
  Matrix<double> D(1, 1, 3.0);
  const Matrix<mp_float> M = reference_inverse(D.view(), Triangle::lower, Diagonal::non_unit);
  const double hi = round_to_double(M)(0, 0), lo = rounding_remainder(M)(0, 0);
  EXPECT_EQ(hi, 1.0 / 3.0);
  EXPECT_NE(lo, 0.0);
  EXPECT_LE(std::fabs(lo), std::ldexp(std::fabs(hi), -53));  // |lo| <= ulp(hi)/2
  // 3 (hi + lo) - 1, exactly in MPFR: |.| <= 3 * 2^-53 * 2^-53 (the remainder's rounding).
  mp_float t = M(0, 0);
  mpfr_set_prec(t.backend().data(), 400);
  mpfr_set_d(t.backend().data(), hi, MPFR_RNDN);
  mpfr_add_d(t.backend().data(), t.backend().data(), lo, MPFR_RNDN);
  mpfr_mul_ui(t.backend().data(), t.backend().data(), 3, MPFR_RNDN);
  mpfr_sub_ui(t.backend().data(), t.backend().data(), 1, MPFR_RNDN);
  EXPECT_LE(std::fabs(mpfr_get_d(t.backend().data(), MPFR_RNDN)), 3.0 * std::ldexp(1.0, -106));
}

}  // namespace
}  // namespace triscan
