// Compact-WY T factors and the explicit Q against LAPACK, in fp64, on the reflectors
// LAPACKE_dgeqrf produces (v_i with v_i(i) = 1 and zeros above, beta_i = tau_i).
//
// Ratios (LAPACK test-suite style, eps = dlamch('E') = 2^-53 = u):
//   T:  ||T - T_lapack||_F / (||T_lapack||_F  r  eps)
//       (the normalization the issue asks for. Every entry of T is formed from length-m
//       dot products V^T v_i and a length-<=r triangular product, so a rigorous worst case
//       would normalize by m + r; measured ratios with r are ~0.1 on these cases, so the
//       stricter normalization is kept and a failure would be worth a look, not a retune)
//   Q:  ||Q - Q_dorgqr||_F / (||Q_dorgqr||_F  m  eps)
//   orthogonality: ||I - Q^T Q||_1 / (m eps)    (LAPACK dqrt02's RESULT(2))
// each compared with LAPACK's threshold 30 (xCHKQR's THRESH in its sample input).
#include <gtest/gtest.h>
#include <lapacke.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "triscan/householder.hpp"
#include "triscan/metrics.hpp"

namespace triscan {
namespace {

constexpr double threshold = 30.0;
constexpr double eps = std::numeric_limits<double>::epsilon() / 2;

struct Qr {
  index_t m, r;
  std::vector<double> a;    // m x r column-major, dgeqrf's output
  std::vector<double> tau;  // r
  Matrix<double> V;         // m x r (row-major) unit lower trapezoidal
};

// dgeqrf of a seeded uniform(-1, 1) matrix; zero_first_column makes column 0 a multiple
// of e_0, so dgeqrf returns tau_0 = 0 (H_0 = I).
Qr factor(index_t m, index_t r, std::uint64_t seed, bool zero_first_column) {
  Qr q{m, r, std::vector<double>(static_cast<std::size_t>(m * r)),
       std::vector<double>(static_cast<std::size_t>(r)), Matrix<double>(m, r)};
  RandomBits rng(seed);
  for (auto& x : q.a) x = 2.0 * rng.uniform() - 1.0;
  if (zero_first_column)
    for (index_t i = 1; i < m; ++i) q.a[static_cast<std::size_t>(i)] = 0.0;
  EXPECT_EQ(LAPACKE_dgeqrf(LAPACK_COL_MAJOR, lapack_int(m), lapack_int(r), q.a.data(),
                           lapack_int(m), q.tau.data()),
            0);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < r; ++j)
      q.V(i, j) = i < j ? 0.0 : i == j ? 1.0 : q.a[static_cast<std::size_t>(j * m + i)];
  return q;
}

Matrix<double> lapack_t(const Qr& q) {
  std::vector<double> v = q.a, t(static_cast<std::size_t>(q.r * q.r), 0.0);
  LAPACKE_dlarft(LAPACK_COL_MAJOR, 'F', 'C', lapack_int(q.m), lapack_int(q.r), v.data(),
                 lapack_int(q.m), q.tau.data(), t.data(), lapack_int(q.r));
  Matrix<double> T(q.r, q.r);
  for (index_t i = 0; i < q.r; ++i)
    for (index_t j = i; j < q.r; ++j) T(i, j) = t[static_cast<std::size_t>(j * q.r + i)];
  return T;
}

Matrix<double> lapack_q(const Qr& q) {
  std::vector<double> a(static_cast<std::size_t>(q.m * q.m), 0.0);
  std::copy(q.a.begin(), q.a.end(), a.begin());
  EXPECT_EQ(LAPACKE_dorgqr(LAPACK_COL_MAJOR, lapack_int(q.m), lapack_int(q.m), lapack_int(q.r),
                           a.data(), lapack_int(q.m), q.tau.data()),
            0);
  Matrix<double> Q(q.m, q.m);
  for (index_t i = 0; i < q.m; ++i)
    for (index_t j = 0; j < q.m; ++j) Q(i, j) = a[static_cast<std::size_t>(j * q.m + i)];
  return Q;
}

double difference_ratio(const Matrix<double>& X, const Matrix<double>& ref, double n) {
  return relative_error(X.view(), ref.view(), Norm::frobenius) / (n * eps);
}

double orthogonality_ratio(const Matrix<double>& Q) {
  const index_t m = Q.rows();
  Matrix<double> R(m, m);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < m; ++j) {
      long double s = i == j ? -1.0L : 0.0L;  // long double: the ratio must resolve O(eps)
      for (index_t k = 0; k < m; ++k) s += static_cast<long double>(Q(k, i)) * Q(k, j);
      R(i, j) = static_cast<double>(s);
    }
  return norm_one(R.view()) / (double(m) * eps);
}

void check(index_t m, index_t r, std::uint64_t seed, bool zero_first_column) {
  const Qr q = factor(m, r, seed, zero_first_column);
  const Matrix<double> T_lapack = lapack_t(q), Q_lapack = lapack_q(q);
  std::ostringstream id;
  id << "m = " << m << ", r = " << r << ", seed = " << seed
     << (zero_first_column ? ", tau_0 = 0" : "");
  if (zero_first_column) {
    EXPECT_EQ(q.tau[0], 0.0) << id.str();
  }
  EXPECT_LT(orthogonality_ratio(Q_lapack), threshold) << "dorgqr itself, " << id.str();

  for (const char* name :
       {"householder/compact_wy:construction=sequential",
        "householder/compact_wy:construction=recursive", "householder/tree",
        "householder/tree:leaf=4", "householder/ut", "householder/explicit", "householder/wy"}) {
    const std::string what = std::string(name) + ", " + id.str();
    const auto p = accumulate_householder(MethodSpec::parse(name), q.V.view(), q.tau);
    ASSERT_EQ(p.status, Status::ok) << what << ": " << p.message;
    if (p.form == HouseholderForm::compact_wy) {
      for (index_t i = 0; i < r; ++i)
        for (index_t j = 0; j < i; ++j)
          EXPECT_EQ(p.T_factor(i, j), 0.0) << what << " T below the diagonal";
      EXPECT_LT(difference_ratio(p.T_factor, T_lapack, double(r)), threshold)
          << "T vs dlarft, " << what;
    }
    Matrix<double> Q(m, m);
    ASSERT_EQ(form_householder_q(p, Q.view()), Status::ok) << what;
    EXPECT_LT(difference_ratio(Q, Q_lapack, double(m)), threshold) << "Q vs dorgqr, " << what;
    EXPECT_LT(orthogonality_ratio(Q), threshold) << "orthogonality, " << what;
  }
}

TEST(HouseholderLapack, TallAndSquareBlocks) {
  check(64, 16, 1, false);
  check(200, 48, 2, false);
  check(40, 40, 3, false);
}

TEST(HouseholderLapack, ZeroTau) {
  check(50, 12, 4, true);
}

}  // namespace
}  // namespace triscan
