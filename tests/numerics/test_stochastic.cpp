// Stochastic rounding (sr, sr-equal): every result is RD(x) or RU(x); sr is unbiased
// (E[sr(x)] = x) and sr-equal has mean (RD + RU)/2; the exact value of an operation
// (not its double approximation) sets the probability; a seed fixes the sequence;
// RandomBits instances on different threads do not interact.
//
// Statistical bound used: the number of round-ups U of N independent trials with
// probability P is Binomial(N, P); we require |U - N P| <= 5 sqrt(N P (1-P)) + 1
// (a 5-sigma band: a correct implementation fails with probability < 1e-6 per check,
// and the seeds are fixed, so the outcome is deterministic).
#include <gtest/gtest.h>

#include <thread>

#include "reference.hpp"

namespace triscan {
namespace {

constexpr std::uint64_t kSeed = 12345;
constexpr int kTrials = 100000;

struct Counts {
  int ups = 0, downs = 0, others = 0;
};

// Rounds x kTrials times; RD and RU come from the deterministic modes (checked
// against MPFR in test_round_vs_mpfr.cpp).
Counts count_outcomes(double x, const Format& f, Rounding mode, std::uint64_t seed) {
  const double rd = round(x, f, Rounding::down), ru = round(x, f, Rounding::up);
  RandomBits rng(seed);
  Counts c;
  for (int i = 0; i < kTrials; ++i) {
    const double r = round(x, f, mode, &rng);
    if (testing::same(r, ru)) ++c.ups;
    else if (testing::same(r, rd)) ++c.downs;
    else ++c.others;
  }
  return c;
}

void expect_binomial(int ups, double p, const std::string& what) {
  const double mean = kTrials * p, sd = std::sqrt(kTrials * p * (1 - p));
  EXPECT_LE(std::fabs(ups - mean), 5 * sd + 1)
      << what << ": " << ups << " round-ups of " << kTrials << ", expected " << mean
      << " +- 5 * " << sd << " (seed " << kSeed << ")";
}

// Inputs with known position inside their bracket: x = RD + P (RU - RD).
struct Probe {
  const char* format;
  double x;
  double p;  // (x - RD) / (RU - RD), exact
  const char* what;
};

const std::vector<Probe>& probes() {
  static const std::vector<Probe> list = {
      {"fp16", 1.0 + 0.25 * 0x1p-10, 0.25, "fp16 normal, P = 1/4"},
      {"fp16", -(1.0 + 0.75 * 0x1p-10), 0.25, "fp16 negative, P(RU) = 1/4"},
      {"fp16", 0.1 * 0x1p-24, 0.1, "fp16 below min subnormal"},
      {"fp16", 65504.0 + 0.5 * 32.0, 0.5, "fp16 between max and 2^16 (overflow half the time)"},
      {"bf16", 3.0 + 0.0625 * 0x1p-6, 0.0625, "bf16, P = 1/16"},
      {"e4m3", 0.3 * 0x1p-9, 0.3, "e4m3 subnormal range"},
      {"fp32", 1.0 + 0x1p-23 * 0.9, 0.9, "fp32, P = 0.9"},
  };
  return list;
}

TEST(StochasticRounding, Sr_OnlyNeighboursAndUnbiased) {
  for (const Probe& pr : probes()) {
    const Format& f = format_by_name(pr.format);
    const Counts c = count_outcomes(pr.x, f, Rounding::stochastic, kSeed);
    EXPECT_EQ(c.others, 0) << pr.what << ": results other than RD(x), RU(x)";
    // Overflowing round-ups give inf (fp16): RU(x) is inf there too.
    expect_binomial(c.ups, std::fabs(pr.p), std::string("sr, ") + pr.what);
  }
}

// sr-equal picks RD or RU with probability 1/2 whatever x is: its mean is
// (RD + RU)/2, biased by (1/2 - P)(RU - RD). Shown with P = 1/16, where the bias
// is hundreds of standard errors, as docs/formats.md states.
TEST(StochasticRounding, SrEqual_HalfAndHalf_BiasedMean) {
  for (const Probe& pr : probes()) {
    const Format& f = format_by_name(pr.format);
    const Counts c = count_outcomes(pr.x, f, Rounding::stochastic_equal, kSeed);
    EXPECT_EQ(c.others, 0) << pr.what;
    expect_binomial(c.ups, 0.5, std::string("sr-equal, ") + pr.what);
  }
  // The bias, measured: x = 3 + 2^-10 in bf16 (RD = 3, RU = 3 + 2^-6, P = 1/16).
  const Format& bf16 = format_by_name("bf16");
  const double x = 3.0 + 0x1p-10, rd = 3.0, ru = 3.0 + 0x1p-6;
  RandomBits rng(kSeed);
  double sum = 0.0;
  for (int i = 0; i < kTrials; ++i) sum += round(x, bf16, Rounding::stochastic_equal, &rng) - rd;
  const double mean = rd + sum / kTrials;
  const double se = 0.5 * (ru - rd) / std::sqrt(double(kTrials));
  EXPECT_NEAR(mean, 0.5 * (rd + ru), 5 * se) << "sr-equal mean is (RD+RU)/2 (seed " << kSeed << ")";
  EXPECT_GT(mean - x, 50 * se) << "sr-equal is biased away from x";
}

TEST(StochasticRounding, ExactValuesAreReturnedAndConsumeNoRandomness) {
  const Format& f = format_by_name("fp16");
  RandomBits a(kSeed), b(kSeed);
  for (double x : {1.0, -2.5, 65504.0, 0x1p-24, 0.0, -0.0}) {
    EXPECT_TRUE(testing::same(round(x, f, Rounding::stochastic, &a), x)) << x;
    EXPECT_TRUE(testing::same(round(x, f, Rounding::stochastic_equal, &a), x)) << x;
  }
  EXPECT_EQ(a.next(), b.next());
}

// The probability uses the exact result: 1 + 2^-60 is 1 in double, so an
// implementation rounding the double sum would never round up; the exact sum is
// 2^-8 of the way from 1 to 1 + 2^-52.
TEST(StochasticRounding, OperationsUseTheExactValue) {
  struct Item {
    const char* what;
    double (*op)(RandomBits&);
    double rd, ru, p;
  };
  const Item items[] = {
      {"rounded_add(1, 2^-60)", [](RandomBits& r) { return rounded_add(1.0, 0x1p-60, format_by_name("fp64"), Rounding::stochastic, &r); },
       1.0, 1.0 + 0x1p-52, 0x1p-8},
      {"rounded_fma(1 + 2^-30, 1 - 2^-30, 0) = 1 - 2^-60",
       [](RandomBits& r) { return rounded_fma(1.0 + 0x1p-30, 1.0 - 0x1p-30, 0.0, format_by_name("fp64"), Rounding::stochastic, &r); },
       1.0 - 0x1p-53, 1.0, 1.0 - 0x1p-7},
      {"rounded_mul(1 + 2^-30, 1 + 2^-30) = 1 + 2^-29 + 2^-60",
       [](RandomBits& r) { return rounded_mul(1.0 + 0x1p-30, 1.0 + 0x1p-30, format_by_name("fp64"), Rounding::stochastic, &r); },
       1.0 + 0x1p-29, 1.0 + 0x1p-29 + 0x1p-52, 0x1p-8},
  };
  for (const Item& it : items) {
    RandomBits rng(kSeed);
    int ups = 0, others = 0;
    for (int i = 0; i < kTrials; ++i) {
      const double r = it.op(rng);
      if (r == it.ru) ++ups;
      else if (r != it.rd) ++others;
    }
    EXPECT_EQ(others, 0) << it.what;
    expect_binomial(ups, it.p, std::string("sr, ") + it.what);
  }
}

// Every stochastically rounded operation returns the rd or the ru result of the
// same operation (both checked against MPFR in test_rounded_ops_vs_mpfr.cpp), for
// random operands of each small format, both stochastic modes.
TEST(StochasticRounding, OperationsReturnTheirRdOrRuResult) {
  using Fn = double (*)(double, double, const Format&, Rounding, RandomBits*);
  const std::pair<const char*, Fn> ops[] = {
      {"add", rounded_add}, {"sub", rounded_sub}, {"mul", rounded_mul}, {"div", rounded_div},
      {"fma(a,b,a)", [](double a, double b, const Format& f, Rounding m, RandomBits* r) {
         return rounded_fma(a, b, a, f, m, r);
       }},
      {"sqrt", [](double a, double, const Format& f, Rounding m, RandomBits* r) {
         return rounded_sqrt(std::fabs(a), f, m, r);
       }},
  };
  for (const char* name : {"fp16", "bf16", "e4m3", "e5m2", "fp32"}) {
    const Format& f = format_by_name(name);
    const auto x = testing::random_doubles(f, 4000, kSeed);
    for (Rounding mode : {Rounding::stochastic, Rounding::stochastic_equal}) {
      RandomBits rng(kSeed);
      for (const auto& [op_name, op] : ops)
        for (std::size_t i = 0; i + 1 < x.size(); ++i) {
          const double a = round(x[i], f, Rounding::nearest_even);
          const double b = round(x[i + 1], f, Rounding::nearest_even);
          const double r = op(a, b, f, mode, &rng);
          const double rd = op(a, b, f, Rounding::down, nullptr);
          const double ru = op(a, b, f, Rounding::up, nullptr);
          ASSERT_TRUE(testing::same(r, rd) || testing::same(r, ru))
              << op_name << ", format " << name << ", mode " << rounding_name(mode)
              << ", a = " << testing::hex(a) << ", b = " << testing::hex(b) << ": got "
              << testing::hex(r) << ", rd " << testing::hex(rd) << ", ru " << testing::hex(ru)
              << " (seed " << kSeed << ")";
        }
    }
  }
}

TEST(StochasticRounding, SameSeedSameSequenceDifferentSeedDifferent) {
  const Format& f = format_by_name("bf16");
  const auto inputs = testing::random_doubles(f, 10000, kSeed);
  RandomBits a(kSeed), b(kSeed), c(kSeed + 1);
  int differ = 0;
  for (double x : inputs) {
    const double ra = round(x, f, Rounding::stochastic, &a);
    const double rb = round(x, f, Rounding::stochastic, &b);
    const double rc = round(x, f, Rounding::stochastic, &c);
    ASSERT_TRUE(testing::same(ra, rb)) << "seed " << kSeed << ", x = " << testing::hex(x);
    differ += !testing::same(ra, rc);
  }
  EXPECT_GT(differ, 100) << "seeds " << kSeed << " and " << kSeed + 1 << " agree too often";
}

// xoshiro256** reference outputs for the state splitmix64 gives seed 0, taken from
// the algorithms' published C code (Vigna, prng.di.unimi.it): splitmix64 from 0
// yields 0xe220a8397b1dcdaf, ...; checks the generator, not just self-consistency.
TEST(RandomBitsTest, SplitmixSeedingMatchesReferenceAlgorithm) {
  // splitmix64 and xoshiro256** re-implemented here from the published algorithms.
  std::uint64_t x = 0;
  auto splitmix = [&x] {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  std::uint64_t s[4] = {splitmix(), splitmix(), splitmix(), splitmix()};
  EXPECT_EQ(s[0], 0xe220a8397b1dcdafull);  // the first splitmix64 output from seed 0
  auto rotl = [](std::uint64_t v, int k) { return (v << k) | (v >> (64 - k)); };
  RandomBits rng(0);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t want = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    ASSERT_EQ(rng.next(), want) << "output " << i;
  }
  RandomBits u(kSeed);
  for (int i = 0; i < 1000; ++i) {
    const double v = u.uniform();
    ASSERT_TRUE(v >= 0.0 && v < 1.0);
    ASSERT_EQ(v, std::ldexp(std::floor(std::ldexp(v, 53)), -53)) << "not a multiple of 2^-53";
  }
}

// One RandomBits per thread: each thread's results equal a sequential run with the
// same seed (no shared state between instances).
TEST(StochasticRounding, ThreadsWithOwnGeneratorsDoNotInterfere) {
  const Format& f = format_by_name("fp16");
  const auto inputs = testing::random_doubles(f, 20000, kSeed);
  constexpr int kThreads = 4;
  std::vector<std::vector<double>> sequential(kThreads), parallel(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    RandomBits rng(kSeed + t);
    for (double x : inputs) sequential[t].push_back(round(x, f, Rounding::stochastic, &rng));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      RandomBits rng(kSeed + t);
      for (double x : inputs) parallel[t].push_back(round(x, f, Rounding::stochastic, &rng));
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    for (std::size_t i = 0; i < inputs.size(); ++i)
      ASSERT_TRUE(testing::same(sequential[t][i], parallel[t][i]))
          << "thread " << t << ", input " << i << ", seed " << kSeed + t;
}

TEST(StochasticRounding, MissingGeneratorIsAnError) {
  const Format& f = format_by_name("fp16");
  EXPECT_THROW(round(1.1, f, Rounding::stochastic), std::invalid_argument);
  EXPECT_THROW(rounded_add(1.0, 0.1, f, Rounding::stochastic_equal), std::invalid_argument);
  try {
    round(1.1, f, Rounding::stochastic);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("sr"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace triscan
