// The vendor baselines the GPU benchmarks compare with (gpu/baselines.cu): they must compute
// what they claim before their times mean anything.
//
// cusolver_trtri_inplace (cusolverDnXtrtri, lower, unit, fp32, in place) on one matrix of
// order 520 (larger than the batched kernels take; not a multiple of cuSOLVER's blocks),
// column-major with lda = n + 3, entries of the strictly lower part in [-1/n, 1/n).
// cuSOLVER's trtri is LAPACK's blocked xTRTRI: left-residual stable (Du Croz & Higham 1992,
// Method 2C; Higham, ASNA 2nd ed., §14.2.2), so with X = L^-1 (fp64 substitution, exact to
// ~n 2^-53 here) and X^ its result, |X^ - X| <= c_n u |X||L||X^| with u = 2^-24; asserted
// as ||X^ - X||_inf <= 4 (n + 1) u || |X||L||X^| ||_inf, the constant of the CPU tests.
// Entries outside the lower triangle (the strict upper part and the lda padding) must keep
// their value: they hold NaN before the call.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "tests/gpu/gpu_test_util.hpp"
#include "tests/gpu/test_trinv_gpu_util.hpp"
#include "triscan/gpu.hpp"

namespace triscan::gpu_test {
namespace {

TEST(GpuBaselines, CusolverTrtriInPlaceMeetsTheBlockedBound) {
  TRISCAN_REQUIRE_GPU();
  const index_t n = 520, lda = n + 3;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> a(static_cast<std::size_t>(lda * n),
                       nan);                                    // column-major: (i, j) at i + j lda
  std::vector<double> L(static_cast<std::size_t>(n * n), 0.0);  // row-major, the same values
  TestRng rng(520);
  for (index_t j = 0; j < n; ++j)
    for (index_t i = j; i < n; ++i) {
      const float v = i == j ? 1.0f : static_cast<float>(rng.uniform(-1.0, 1.0) / double(n));
      a[static_cast<std::size_t>(i + j * lda)] = v;  // the unit diagonal is stored as 1 (not read)
      L[static_cast<std::size_t>(i * n + j)] = v;
    }
  gpu::DeviceBytes d(a.size() * sizeof(float));
  d.upload(a.data(), a.size() * sizeof(float));
  ASSERT_EQ(gpu::cusolver_trtri_inplace(n, static_cast<float*>(d.data()), lda), 0);
  std::vector<float> out(a.size());
  d.download(out.data(), out.size() * sizeof(float));
  // Untouched outside the lower triangle.
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < lda; ++i)
      if (i < j || i >= n) {
        ASSERT_TRUE(std::isnan(out[static_cast<std::size_t>(i + j * lda)]))
            << "(" << i << ", " << j << ") written";
      }
  // X = L^-1 in fp64 (row by row), X^ the result (row-major copies).
  std::vector<double> X(static_cast<std::size_t>(n * n), 0.0), Xh(X.size(), 0.0);
  for (index_t i = 0; i < n; ++i) {
    X[static_cast<std::size_t>(i * n + i)] = 1.0;
    for (index_t k = 0; k < i; ++k) {
      const double l = L[static_cast<std::size_t>(i * n + k)];
      for (index_t j = 0; j <= k; ++j)
        X[static_cast<std::size_t>(i * n + j)] -= l * X[static_cast<std::size_t>(k * n + j)];
    }
    for (index_t j = 0; j <= i; ++j)
      Xh[static_cast<std::size_t>(i * n + j)] = out[static_cast<std::size_t>(i + j * lda)];
  }
  // || X^ - X ||_inf, ||X||_inf and || |X||L||X^| ||_inf (row sums of |X| (|L| |X^|)).
  std::vector<double> LX(X.size(), 0.0);  // |L||X^|
  for (index_t i = 0; i < n; ++i)
    for (index_t k = 0; k <= i; ++k) {
      const double l = std::fabs(L[static_cast<std::size_t>(i * n + k)]);
      for (index_t j = 0; j <= k; ++j)
        LX[static_cast<std::size_t>(i * n + j)] +=
            l * std::fabs(Xh[static_cast<std::size_t>(k * n + j)]);
    }
  double err = 0.0, xnorm = 0.0, bound_norm = 0.0;
  for (index_t i = 0; i < n; ++i) {
    double e = 0.0, x = 0.0, b = 0.0;
    std::vector<double> row(static_cast<std::size_t>(n), 0.0);
    for (index_t k = 0; k <= i; ++k) {
      const double xa = std::fabs(X[static_cast<std::size_t>(i * n + k)]);
      for (index_t j = 0; j <= k; ++j)
        row[static_cast<std::size_t>(j)] += xa * LX[static_cast<std::size_t>(k * n + j)];
    }
    for (index_t j = 0; j <= i; ++j) {
      e += std::fabs(Xh[static_cast<std::size_t>(i * n + j)] -
                     X[static_cast<std::size_t>(i * n + j)]);
      x += std::fabs(X[static_cast<std::size_t>(i * n + j)]);
      b += row[static_cast<std::size_t>(j)];
    }
    err = std::max(err, e);
    xnorm = std::max(xnorm, x);
    bound_norm = std::max(bound_norm, b);
  }
  const double u = std::ldexp(1.0, -24);
  const double bound = 4.0 * double(n + 1) * u * bound_norm;
  EXPECT_LE(err, bound) << "relative error " << err / xnorm << ", bound " << bound / xnorm;
  EXPECT_GT(err, 0.0);  // it computed in fp32 (an exact result here would mean no work was done)
  EXPECT_THROW(gpu::cusolver_trtri_inplace(n, static_cast<float*>(d.data()), n - 1),
               std::invalid_argument);
}

}  // namespace
}  // namespace triscan::gpu_test
