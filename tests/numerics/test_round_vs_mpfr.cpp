// round(x, fmt, mode) for the deterministic modes, bit for bit against MPFR
// (reference.hpp): exhaustively around every value of the 8- and 16-bit formats
// (the value, its double neighbours, the midpoints to the next value and their
// neighbours) and on 10^6 random doubles per format and mode spread over the whole
// exponent range. The claim under test is exact: correct rounding admits no
// tolerance, so any differing bit fails.
#include <gtest/gtest.h>

#include "reference.hpp"

namespace triscan {
namespace {

using testing::MpfrFormat;

constexpr std::size_t kRandomInputs = 1000000;
constexpr std::uint64_t kSeed = 20261128;

// Checks round() against the oracle on `inputs`; reports the first few mismatches
// with input class, format, mode and seed.
void check_inputs(const Format& f, Rounding mode, const std::vector<double>& inputs,
                  const char* input_class) {
  MpfrFormat ref(f);
  int failures = 0;
  for (double x : inputs) {
    const double want = ref.reference_round(x, mode);
    const double got = round(x, f, mode);
    if (!testing::same(got, want) && ++failures <= 5)
      ADD_FAILURE() << "format " << f.name << ", mode " << rounding_name(mode) << ", "
                    << input_class << " (seed " << kSeed << "), x = " << testing::hex(x)
                    << ": got " << testing::hex(got) << ", MPFR reference " << testing::hex(want);
  }
  EXPECT_EQ(failures, 0) << failures << " mismatches of " << inputs.size() << " inputs, format "
                         << f.name << ", mode " << rounding_name(mode) << ", " << input_class;
}

void check_exhaustive(const char* name, Rounding mode) {
  const Format& f = format_by_name(name);
  check_inputs(f, mode, testing::boundary_inputs(testing::grid_values(f)),
               "every value, neighbours and midpoints");
}

void check_random(const char* name, Rounding mode) {
  const Format& f = format_by_name(name);
  const double inf = std::numeric_limits<double>::infinity();
  check_inputs(f, mode, {inf, -inf, std::numeric_limits<double>::quiet_NaN(), 0.0, -0.0},
               "special values");
  // fp64 rounding of a double is the identity: a smaller sample suffices there.
  const std::size_t n = f.precision == 53 ? kRandomInputs / 10 : kRandomInputs;
  check_inputs(f, mode, testing::random_doubles(f, n, kSeed), "random doubles");
}

// One TEST per (format, mode), named e.g. RoundVsMpfr.Fp16_TowardZero.
#define TRISCAN_ROUND_TESTS(Fmt, name, exhaustive)                                        \
  TEST(RoundVsMpfr, Fmt##_NearestEven) { exhaustive_and_random(name, Rounding::nearest_even, exhaustive); } \
  TEST(RoundVsMpfr, Fmt##_NearestAway) { exhaustive_and_random(name, Rounding::nearest_away, exhaustive); } \
  TEST(RoundVsMpfr, Fmt##_TowardZero) { exhaustive_and_random(name, Rounding::toward_zero, exhaustive); } \
  TEST(RoundVsMpfr, Fmt##_Up) { exhaustive_and_random(name, Rounding::up, exhaustive); }                  \
  TEST(RoundVsMpfr, Fmt##_Down) { exhaustive_and_random(name, Rounding::down, exhaustive); }

void exhaustive_and_random(const char* name, Rounding mode, bool exhaustive) {
  if (exhaustive) check_exhaustive(name, mode);
  check_random(name, mode);
}

TRISCAN_ROUND_TESTS(Fp16, "fp16", true)
TRISCAN_ROUND_TESTS(Bf16, "bf16", true)
TRISCAN_ROUND_TESTS(E4m3, "e4m3", true)
TRISCAN_ROUND_TESTS(E4m3Sat, "e4m3-sat", true)
TRISCAN_ROUND_TESTS(E5m2, "e5m2", true)
TRISCAN_ROUND_TESTS(Tf32, "tf32", false)
TRISCAN_ROUND_TESTS(Fp32, "fp32", false)
TRISCAN_ROUND_TESTS(Fp64, "fp64", false)

// Flush to zero (not expressible in MPFR): the gradual-underflow result, then a
// nonzero result below 2^emin becomes a zero of x's sign (docs/formats.md).
TEST(RoundVsMpfr, Fp16FlushToZero_AllModes) {
  const Format f = Format::custom("fp16-ftz", 11, -14, 15, Subnormals::flush_to_zero);
  const Format gradual = format_by_name("fp16");
  for (Rounding mode : testing::deterministic_modes())
    check_inputs(f, mode, testing::boundary_inputs(testing::grid_values(gradual)),
                 "every fp16 value, neighbours and midpoints (ftz)");
}

TEST(RoundVsMpfr, Bf16FlushToZero_RandomAllModes) {
  const Format f = Format::custom("bf16-ftz", 8, -126, 127, Subnormals::flush_to_zero);
  for (Rounding mode : testing::deterministic_modes())
    check_inputs(f, mode, testing::random_doubles(f, kRandomInputs / 4, kSeed), "random doubles");
}

// fp16 ties-to-even agrees with the compiler's double -> _Float16 conversion (GCC
// on x86-64 converts correctly rounded, round-to-nearest-even, IEEE binary16).
TEST(RoundVsHardware, Fp16_NearestEven_Float16Conversion) {
#if defined(__FLT16_MANT_DIG__)
  const Format& f = format_by_name("fp16");
  std::vector<double> inputs = testing::boundary_inputs(testing::grid_values(f));
  const auto random = testing::random_doubles(f, kRandomInputs, kSeed);
  inputs.insert(inputs.end(), random.begin(), random.end());
  int failures = 0;
  for (double x : inputs) {
    const double want = static_cast<double>(static_cast<_Float16>(x));
    const double got = round(x, f, Rounding::nearest_even);
    if (!testing::same(got, want) && ++failures <= 5)
      ADD_FAILURE() << "fp16 rn vs _Float16, x = " << testing::hex(x) << " (seed " << kSeed
                    << "): got " << testing::hex(got) << ", _Float16 " << testing::hex(want);
  }
  EXPECT_EQ(failures, 0);
#else
  GTEST_SKIP() << "this compiler has no _Float16";
#endif
}

// Subnormals::none (not expressible in MPFR): brute force over the explicit value
// list {0, 2^emin, 2^emin + q, ...}; a tie between 0 and 2^emin goes to 0 (even).
TEST(RoundExplicitRules, NoSubnormals_BruteForceAllModes) {
  const Format f = Format::custom("e5m2-nosub", 3, -14, 15, Subnormals::none);
  testing::ValueList list;
  list.value.push_back(0.0);
  list.even.push_back(true);
  for (int e = f.emin; e <= f.emax; ++e)
    for (int j = 0; j < 4; ++j) {
      list.value.push_back(std::ldexp(4.0 + j, e - 2));
      list.even.push_back(j % 2 == 0);
    }
  std::vector<double> grid(list.value.begin(), list.value.end());
  grid.pop_back();  // keep inputs below max: overflow is checked by the MPFR tests
  const auto inputs = testing::boundary_inputs(grid);
  for (Rounding mode : testing::deterministic_modes()) {
    int failures = 0;
    for (double x : inputs) {
      const double want = testing::list_round(x, list, mode);
      const double got = round(x, f, mode);
      if (!testing::same(got, want) && ++failures <= 5)
        ADD_FAILURE() << "e5m2 without subnormals, mode " << rounding_name(mode)
                      << ", x = " << testing::hex(x) << ": got " << testing::hex(got)
                      << ", brute force " << testing::hex(want);
    }
    EXPECT_EQ(failures, 0) << "mode " << rounding_name(mode);
  }
  // The rule at the boundary, stated explicitly: 2^(emin-1) is a tie.
  const double tie = std::ldexp(1.0, f.emin - 1), min_normal = std::ldexp(1.0, f.emin);
  EXPECT_EQ(testing::bits_of(round(tie, f, Rounding::nearest_even)), testing::bits_of(0.0));
  EXPECT_EQ(round(tie, f, Rounding::nearest_away), min_normal);
  EXPECT_EQ(round(-tie, f, Rounding::nearest_away), -min_normal);
  EXPECT_EQ(round(0x1p-40, f, Rounding::up), min_normal);
  EXPECT_EQ(round(-0x1p-40, f, Rounding::up), -0.0);
  EXPECT_TRUE(std::signbit(round(-0x1p-40, f, Rounding::up)));
  EXPECT_EQ(round(-0x1p-40, f, Rounding::down), -min_normal);
}

}  // namespace
}  // namespace triscan
