// The random streams and the deterministic exp/log: known-answer vectors published
// with the reference implementations, and accuracy against libm.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "validation/generators.hpp"

namespace triscan::validation {
namespace {

constexpr double u = 0x1.0p-53;  // fp64 unit roundoff

TEST(Splitmix64, MatchesReferenceOutputsForSeedZero) {
  // Vigna's splitmix64.c, state 0 (the values published with the reference code).
  std::uint64_t s = 0;
  EXPECT_EQ(splitmix64_next(s), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(splitmix64_next(s), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(splitmix64_next(s), 0x06C45D188009454FULL);
  EXPECT_EQ(splitmix64_next(s), 0xF88BB8A8724C81ECULL);
}

TEST(Xoshiro256StarStar, MatchesReferenceOutputsForState1234) {
  // Blackman & Vigna's xoshiro256starstar.c from state {1, 2, 3, 4}.
  Rng r = Rng::from_state({1, 2, 3, 4});
  const std::uint64_t expected[] = {11520ULL, 0ULL, 1509978240ULL, 1215971899390074240ULL,
                                    1216172134540287360ULL, 607988272756665600ULL};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(r.next(), expected[i]) << "output " << i;
}

TEST(Rng, StreamsAreReproducibleAndDistinct) {
  Rng a(7, {1, 2}), b(7, {1, 2}), c(7, {1, 3}), d(8, {1, 2});
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
    EXPECT_NE(x, d.next());
  }
}

TEST(Rng, UniformsStayInTheirIntervalsWithTheRightMean) {
  // Mean of N uniforms: standard deviation 1/sqrt(12 N); a 6-sigma band fails by
  // chance with probability < 2e-9.
  Rng r(42, {});
  const int N = 100000;
  double sum = 0.0, sum_open = 0.0;
  for (int i = 0; i < N; ++i) {
    const double x = r.uniform(), y = r.uniform_open(), z = r.uniform(-1.0, 2.0);
    ASSERT_TRUE(x >= 0.0 && x < 1.0) << x;
    ASSERT_TRUE(y > 0.0 && y < 1.0) << y;
    ASSERT_TRUE(z > -1.0 && z < 2.0) << z;
    sum += x;
    sum_open += y;
  }
  const double band = 6.0 / std::sqrt(12.0 * N);
  EXPECT_NEAR(sum / N, 0.5, band);
  EXPECT_NEAR(sum_open / N, 0.5, band);
}

TEST(Rng, NormalsHaveMeanZeroVarianceOneAndGaussianTails) {
  // Sample mean ~ N(0, 1/N); sample variance has standard deviation sqrt(2/N); the
  // fraction beyond |x| > 2 is 0.0455 with standard deviation sqrt(p(1-p)/N). 6-sigma bands.
  Rng r(3, {9});
  const int N = 100000;
  double s1 = 0.0, s2 = 0.0;
  int beyond2 = 0;
  for (int i = 0; i < N; ++i) {
    const double x = r.normal();
    ASSERT_TRUE(std::isfinite(x));
    s1 += x;
    s2 += x * x;
    beyond2 += std::fabs(x) > 2.0;
  }
  const double mean = s1 / N, var = s2 / N - mean * mean;
  EXPECT_NEAR(mean, 0.0, 6.0 / std::sqrt(double(N)));
  EXPECT_NEAR(var, 1.0, 6.0 * std::sqrt(2.0 / N));
  const double p = 0.04550026389635842;  // 2 (1 - Phi(2))
  EXPECT_NEAR(double(beyond2) / N, p, 6.0 * std::sqrt(p * (1 - p) / N));
}

TEST(DetExp, AgreesWithLibmToItsErrorBound) {
  // det_exp: Cody-Waite reduction to |r| <= ln2/2 and a degree-17 Taylor polynomial by
  // Horner's rule; Horner's error is <= gamma_34 p(|r|) <= 34u e^0.35 (Higham ASNA
  // eq. (5.3)), below 60u, and libm is within 1 ulp: tolerance 64u relative.
  for (double x = -700.0; x <= 709.0; x += 0.37) {
    const double ref = std::exp(x);
    EXPECT_LE(std::fabs(det_exp(x) - ref), 64 * u * ref) << "x = " << x;
  }
  for (double x = -1e-3; x <= 1e-3; x += 1.3e-5) EXPECT_LE(std::fabs(det_exp(x) - std::exp(x)), 64 * u) << x;
  EXPECT_EQ(det_exp(0.0), 1.0);
  EXPECT_EQ(det_exp(800.0), std::numeric_limits<double>::infinity());
  EXPECT_EQ(det_exp(-800.0), 0.0);
  EXPECT_TRUE(std::isnan(det_exp(std::nan(""))));
}

TEST(DetLog, AgreesWithLibmToItsErrorBound) {
  // det_log(x) = e ln2 + 2 atanh(s): s has relative error <= 2u, the odd series
  // (13 terms, |s| <= 0.172) a few u more, and the sum e ln2 + ln m at most
  // u (e ln2 + |ln m|). Tolerance 64u (|ln x| + ln2 |round(log2 x)|), libm's ulp included.
  for (double x = 1e-300; x < 1e300; x *= 1.37) {
    const double ref = std::log(x);
    const double tol = 64 * u * (std::fabs(ref) + 0.6931471805599453 * std::fabs(std::round(std::log2(x))));
    EXPECT_LE(std::fabs(det_log(x) - ref), tol) << "x = " << x;
  }
  for (double x = 0.999; x < 1.001; x += 1.1e-5) {
    const double ref = std::log(x);
    EXPECT_LE(std::fabs(det_log(x) - ref), 64 * u * std::fabs(ref)) << "x = " << x;
  }
  EXPECT_EQ(det_log(1.0), 0.0);
  EXPECT_NEAR(det_log(4.9e-324), std::log(4.9e-324), 64 * u * 745);  // subnormal input
  EXPECT_TRUE(std::isnan(det_log(-1.0)));
  EXPECT_EQ(det_log(0.0), -std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace triscan::validation
