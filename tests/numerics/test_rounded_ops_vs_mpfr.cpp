// rounded_add/sub/mul/div/fma/sqrt: the exact result rounded once, bit for bit
// against MPFR computing the same operation directly at the format's precision and
// exponent range with mpfr_subnormalize (reference.hpp), for every preset and every
// deterministic mode. Operands are values of the format: exhaustive pairs for the
// 8-bit formats, random values otherwise, mixed with boundary values (subnormals,
// min normal, max), exact cancellations and constructed ties. Correct rounding is
// exact, so the comparison has no tolerance.
#include <gtest/gtest.h>

#include "reference.hpp"

namespace triscan {
namespace {

using testing::MpfrFormat;
using Op = MpfrFormat::Op;

constexpr std::uint64_t kSeed = 7;
constexpr std::size_t kRandomCases = 20000;

// A random value of the format: (2^(p-1) + j) 2^(e-p+1) for a normal binade e, or a
// subnormal j 2^(emin-p+1); with probability 1/2 the binade is a boundary one.
double random_value(const Format& f, std::mt19937_64& gen) {
  const int m = f.precision - 1;
  const std::uint64_t j = m == 0 ? 0 : gen() & ((std::uint64_t{1} << m) - 1);
  const int r = static_cast<int>(gen() % 16);
  int e;
  if (r < 8) {
    e = f.emin + static_cast<int>(gen() % static_cast<std::uint64_t>(f.emax - f.emin + 1));
  } else {
    const int choices[] = {f.emin - 1, f.emin, f.emin + 1, f.emax, f.emax - 1, 0, -1, 1};
    e = choices[r - 8];
  }
  double x = e < f.emin ? std::ldexp(static_cast<double>(j), f.emin - m)  // subnormal (or 0)
                        : std::ldexp(static_cast<double>((std::uint64_t{1} << m) + j), e - m);
  if (x > f.max_finite) x = f.max_finite;
  return (gen() & 1) ? -x : x;
}

struct Case {
  double a, b, c;
};

// Random operand triples with constructed special cases: b = -a (exact cancellation
// in add), b = a (in sub), b = +-half an ulp of a (sum exactly a midpoint: a tie),
// c = -RN(a b) (cancellation in fma), b = a (x / x = 1, sqrt of squares).
std::vector<Case> random_cases(const Format& f, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<Case> cases;
  cases.reserve(n);
  while (cases.size() < n) {
    Case k{random_value(f, gen), random_value(f, gen), random_value(f, gen)};
    switch (gen() % 8) {
      case 0: k.b = -k.a; break;
      case 1: k.b = k.a; break;
      case 2: {
        int e = 0;
        std::frexp(k.a, &e);  // |a| in [2^(e-1), 2^e): half ulp is 2^(e-1-p)
        k.b = std::ldexp((gen() & 1) ? 1.0 : -1.0, std::max(e - 1, f.emin) - f.precision);
        if (std::fabs(k.b) < std::ldexp(1.0, f.emin - f.precision + 1)) k.b = k.a;
        break;
      }
      case 3: k.c = -(k.a * k.b); break;
      default: break;
    }
    cases.push_back(k);
  }
  return cases;
}

// Every finite value of a small format (both signs, one zero of each sign).
std::vector<double> all_values(const Format& f) {
  std::vector<double> v;
  for (double g : testing::grid_values(f))
    if (g <= f.max_finite) {
      v.push_back(g);
      v.push_back(-g);
    }
  return v;
}

double call(Op op, const Case& k, const Format& f, Rounding mode) {
  switch (op) {
    case Op::add: return rounded_add(k.a, k.b, f, mode);
    case Op::sub: return rounded_sub(k.a, k.b, f, mode);
    case Op::mul: return rounded_mul(k.a, k.b, f, mode);
    case Op::div: return rounded_div(k.a, k.b, f, mode);
    case Op::fma: return rounded_fma(k.a, k.b, k.c, f, mode);
    case Op::sqrt: return rounded_sqrt(k.a, f, mode);
    case Op::set: return round(k.a, f, mode);
  }
  return 0.0;
}

const char* op_name(Op op) {
  switch (op) {
    case Op::add: return "add";
    case Op::sub: return "sub";
    case Op::mul: return "mul";
    case Op::div: return "div";
    case Op::fma: return "fma";
    case Op::sqrt: return "sqrt";
    case Op::set: return "round";
  }
  return "?";
}

void check_cases(const Format& f, Rounding mode, Op op, const std::vector<Case>& cases,
                 const char* input_class) {
  MpfrFormat ref(f);
  int failures = 0;
  for (const Case& k : cases) {
    const double want = ref.reference(op, k.a, k.b, k.c, mode);
    const double got = call(op, k, f, mode);
    if (!testing::same(got, want) && ++failures <= 5)
      ADD_FAILURE() << "rounded_" << op_name(op) << ", format " << f.name << ", mode "
                    << rounding_name(mode) << ", " << input_class << " (seed " << kSeed
                    << "): a = " << testing::hex(k.a) << ", b = " << testing::hex(k.b)
                    << ", c = " << testing::hex(k.c) << ": got " << testing::hex(got)
                    << ", MPFR " << testing::hex(want);
  }
  EXPECT_EQ(failures, 0) << "rounded_" << op_name(op) << ", format " << f.name << ", mode "
                         << rounding_name(mode) << ", " << input_class << ", "
                         << cases.size() << " cases";
}

void check_format(const char* name, Rounding mode) {
  const Format& f = format_by_name(name);
  const auto random = random_cases(f, kRandomCases, kSeed);
  for (Op op : {Op::add, Op::sub, Op::mul, Op::div, Op::fma, Op::sqrt})
    check_cases(f, mode, op, random, "random format values");
  if (f.precision > 4) return;
  // 8-bit formats: every pair of values (and every value for sqrt).
  const auto values = all_values(f);
  std::vector<Case> pairs;
  for (double a : values)
    for (double b : values) pairs.push_back({a, b, 0.0});
  for (Op op : {Op::add, Op::mul, Op::div}) check_cases(f, mode, op, pairs, "all pairs");
  std::vector<Case> singles;
  for (double a : values) singles.push_back({a, 0.0, 0.0});
  check_cases(f, mode, Op::sqrt, singles, "all values");
}

#define TRISCAN_OPS_TESTS(Fmt, name)                                                       \
  TEST(RoundedOpsVsMpfr, Fmt##_NearestEven) { check_format(name, Rounding::nearest_even); } \
  TEST(RoundedOpsVsMpfr, Fmt##_NearestAway) { check_format(name, Rounding::nearest_away); } \
  TEST(RoundedOpsVsMpfr, Fmt##_TowardZero) { check_format(name, Rounding::toward_zero); }   \
  TEST(RoundedOpsVsMpfr, Fmt##_Up) { check_format(name, Rounding::up); }                    \
  TEST(RoundedOpsVsMpfr, Fmt##_Down) { check_format(name, Rounding::down); }

TRISCAN_OPS_TESTS(Fp16, "fp16")
TRISCAN_OPS_TESTS(Bf16, "bf16")
TRISCAN_OPS_TESTS(E4m3, "e4m3")
TRISCAN_OPS_TESTS(E4m3Sat, "e4m3-sat")
TRISCAN_OPS_TESTS(E5m2, "e5m2")
TRISCAN_OPS_TESTS(Tf32, "tf32")
TRISCAN_OPS_TESTS(Fp32, "fp32")
TRISCAN_OPS_TESTS(Fp64, "fp64")

// fma whose product is not exact in double (fp32 operands: 48 bits, exact; these
// are 53-bit operands) with c placed at every relative exponent in [-300, 300]
// around the product: exercises the three-term sum, its tie repair and the sticky
// replacement of a term more than 2^200 below the other.
TEST(RoundedOpsVsMpfr, Fp32_FmaWideOperands_AllModes) {
  const Format& f = format_by_name("fp32");
  std::mt19937_64 gen(kSeed);
  std::vector<Case> cases;
  for (int shift = -300; shift <= 300; ++shift)
    for (int r = 0; r < 8; ++r) {
      const double a = 1.0 + static_cast<double>(gen() >> 12) * 0x1.0p-52;
      const double b = 1.0 + static_cast<double>(gen() >> 12) * 0x1.0p-52;
      double c = std::ldexp(1.0 + static_cast<double>(gen() >> 12) * 0x1.0p-52, shift);
      if (r % 2) c = -c;
      if (r == 7) c = -(a * b);  // near-total cancellation
      cases.push_back({a, (r & 4) ? -b : b, c});
    }
  for (Rounding mode : testing::deterministic_modes())
    check_cases(f, mode, Op::fma, cases, "53-bit operands, c at relative exponent -300..300");
}

// fma results within 2^-100 relative of a tie of the target (fp64: the exact
// c + a b is 1 + 2^-53 -+ 2^-157 and the like): the tail of the three-term sum is
// inexact there and must still compare with the half-ulp as the exact tail does
// (round to odd). a = 1 + 2^-52 and b = (1 -+ 2^-52) 2^k make a b = 2^k (1 -+ 2^-104).
TEST(RoundedOpsVsMpfr, FmaNearTies_Fp64AndFp32_AllModes) {
  for (const char* name : {"fp64", "fp32"}) {
    const Format& f = format_by_name(name);
    const int p = f.precision;
    std::vector<Case> cases;
    for (double a : {1.0 + 0x1p-52, 1.0 - 0x1p-53})
      for (double bm : {1.0 - 0x1p-52, 1.0 + 0x1p-52, 1.0})
        for (int k = -p - 4; k <= -p + 2; ++k)
          for (double c : {1.0, 1.0 + std::ldexp(1.0, 1 - p), 1.0 + std::ldexp(1.0, 2 - p),
                           1.0 - std::ldexp(1.0, -p), 2.0 - std::ldexp(1.0, 1 - p), 0.75})
            for (int signs = 0; signs < 4; ++signs)
              cases.push_back({a, std::ldexp((signs & 1) ? -bm : bm, k), (signs & 2) ? -c : c});
    for (Rounding mode : testing::deterministic_modes())
      check_cases(f, mode, Op::fma, cases, "near ties");
  }
}

// Square roots and quotients whose exact value is within 2^-100 relative of an fp64
// tie (e.g. sqrt(1 + 2^-52) = 1 + 2^-53 - 2^-107 + ...): the approximate tail
// remainder / 2r rounds to exactly half an ulp and must not be taken for a tie.
TEST(RoundedOpsVsMpfr, DivSqrtNearTies_Fp64_AllModes) {
  const Format& f = format_by_name("fp64");
  std::vector<Case> roots, quotients;
  for (int j = 1; j <= 64; ++j)
    for (int scale : {0, 1, 2, -2, 3, -1074 + 60, 900}) {
      roots.push_back({std::ldexp(1.0 + j * 0x1p-52, scale), 0.0, 0.0});
      roots.push_back({std::ldexp(2.0 - j * 0x1p-52, scale), 0.0, 0.0});
    }
  for (int i = -32; i <= 32; ++i)
    for (int j = -32; j <= 32; ++j)
      quotients.push_back({1.0 + i * 0x1p-52, 1.0 + j * 0x1p-53, 0.0});
  for (Rounding mode : testing::deterministic_modes()) {
    check_cases(f, mode, Op::sqrt, roots, "square roots near ties");
    check_cases(f, mode, Op::div, quotients, "quotients near ties");
  }
}

// fp64 targets near and below double's underflow threshold: the scaled error-free
// transformations keep the result correctly rounded there too.
TEST(RoundedOpsVsMpfr, Fp64_TinyResults_AllModes) {
  const Format& f = format_by_name("fp64");
  std::mt19937_64 gen(kSeed);
  std::vector<Case> cases;
  for (int i = 0; i < 4000; ++i) {
    const auto mant = [&] { return 1.0 + static_cast<double>(gen() >> 12) * 0x1.0p-52; };
    const int ea = -540 - static_cast<int>(gen() % 540), eb = -560 + static_cast<int>(gen() % 80);
    cases.push_back({std::ldexp(mant(), ea), std::ldexp(mant(), eb),
                     std::ldexp(mant(), -1070 + static_cast<int>(gen() % 60))});
  }
  for (Rounding mode : testing::deterministic_modes())
    for (Op op : {Op::mul, Op::fma, Op::sqrt, Op::add}) check_cases(f, mode, op, cases, "tiny");
  std::vector<Case> quotients;
  for (const Case& k : cases) quotients.push_back({k.a, 1.0 / k.b, 0.0});
  for (Rounding mode : testing::deterministic_modes())
    check_cases(f, mode, Op::div, quotients, "tiny quotients");
}

// Exact zero results carry IEEE 754 Sec. 6.3 signs: +0 except -0 in rd.
TEST(RoundedOps, ExactZeroSign) {
  const Format& f = format_by_name("fp16");
  for (Rounding mode : testing::deterministic_modes()) {
    const bool want_negative = mode == Rounding::down;
    EXPECT_EQ(std::signbit(rounded_add(1.5, -1.5, f, mode)), want_negative) << rounding_name(mode);
    EXPECT_EQ(std::signbit(rounded_sub(2.0, 2.0, f, mode)), want_negative) << rounding_name(mode);
    EXPECT_EQ(std::signbit(rounded_fma(2.0, 3.0, -6.0, f, mode)), want_negative)
        << rounding_name(mode);
    EXPECT_TRUE(std::signbit(rounded_add(-0.0, -0.0, f, mode))) << rounding_name(mode);
  }
}

}  // namespace
}  // namespace triscan
