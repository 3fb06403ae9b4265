// arith::Simulated under Precision::uniform(fp32) in rn is IEEE single precision:
// every operation is the exact result rounded once to fp32, which is what native
// float arithmetic does (ISO C++ mode: no FMA contraction). So the simulated dot
// product and GEMM must reproduce arith::Native<float> bit for bit.
#include <gtest/gtest.h>

#include <random>

#include "numerics/arith.hpp"
#include "reference.hpp"

namespace triscan {
namespace {

constexpr std::uint64_t kSeed = 99;

std::vector<float> random_floats(std::size_t n, std::mt19937_64& gen) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen) * std::ldexp(1.0f, static_cast<int>(gen() % 9) - 4);
  return v;
}

TEST(SimulatedVsNative, Fp32DotProductBitForBit) {
  std::mt19937_64 gen(kSeed);
  arith::Native<float> native;
  arith::Simulated sim(Precision::uniform(format_by_name("fp32")));
  for (index_t n : {1, 7, 64, 1000}) {
    const auto x = random_floats(static_cast<std::size_t>(n), gen);
    const auto y = random_floats(static_cast<std::size_t>(n), gen);
    const std::vector<double> xd(x.begin(), x.end()), yd(y.begin(), y.end());
    const float want = native.dot(n, x.data(), 1, y.data(), 1, 0.5f);
    const double got = sim.dot(n, xd.data(), 1, yd.data(), 1, 0.5);
    EXPECT_EQ(testing::bits_of(got), testing::bits_of(static_cast<double>(want)))
        << "dot, n = " << n << ", seed " << kSeed << ": simulated " << testing::hex(got)
        << ", native " << testing::hex(want);
  }
}

TEST(SimulatedVsNative, Fp32GemmBitForBit) {
  std::mt19937_64 gen(kSeed);
  const index_t m = 13, k = 37, n = 11;
  const auto a = random_floats(m * k, gen), b = random_floats(k * n, gen);
  std::vector<float> c(m * n, 0.0f);
  std::vector<double> ad(a.begin(), a.end()), bd(b.begin(), b.end()), cd(m * n, 0.0);
  arith::Native<float>().gemm(MatrixView<const float>::row_major(a.data(), m, k),
                              MatrixView<const float>::row_major(b.data(), k, n),
                              MatrixView<float>::row_major(c.data(), m, n));
  arith::Simulated sim(Precision::uniform(format_by_name("fp32")));
  sim.gemm(MatrixView<const double>::row_major(ad.data(), m, k),
           MatrixView<const double>::row_major(bd.data(), k, n),
           MatrixView<double>::row_major(cd.data(), m, n));
  for (index_t i = 0; i < m * n; ++i)
    ASSERT_EQ(testing::bits_of(cd[i]), testing::bits_of(static_cast<double>(c[i])))
        << "gemm " << m << "x" << k << "x" << n << ", entry " << i << ", seed " << kSeed;
}

}  // namespace
}  // namespace triscan
