// Presets against their specifications, names and errors, custom formats,
// is_representable, Precision, and the explicit overflow / special-value rules of
// the fp8 formats (hand-derived from the OCP 8-bit FP specification v1.0 and the
// rules of docs/formats.md, not produced by the code under test).
#include <gtest/gtest.h>

#include "reference.hpp"

namespace triscan {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Spec {
  const char* name;
  int p, emin, emax;
  double max, min_subnormal;
  bool has_infinity;
};

// IEEE 754-2019 Table 3.5 (binary16/32/64), NVIDIA TF32 (fp32 range, 10 fraction
// bits), bfloat16, OCP FP8 v1.0 Table 1 (E4M3: max 448; E5M2: max 57344).
TEST(FormatPresets, MatchTheirSpecifications) {
  const Spec specs[] = {
      {"fp64", 53, -1022, 1023, 0x1.fffffffffffffp+1023, 0x1p-1074, true},
      {"fp32", 24, -126, 127, 0x1.fffffep+127, 0x1p-149, true},
      {"tf32", 11, -126, 127, 0x1.ffcp+127, 0x1p-136, true},
      {"fp16", 11, -14, 15, 65504.0, 0x1p-24, true},
      {"bf16", 8, -126, 127, 0x1.fep+127, 0x1p-133, true},
      {"e4m3", 4, -6, 8, 448.0, 0x1p-9, false},
      {"e4m3-sat", 4, -6, 8, 448.0, 0x1p-9, false},
      {"e5m2", 3, -14, 15, 57344.0, 0x1p-16, true},
  };
  ASSERT_EQ(preset_formats().size(), std::size(specs));
  for (const Spec& s : specs) {
    const Format& f = format_by_name(s.name);
    EXPECT_EQ(f.name, s.name);
    EXPECT_EQ(f.precision, s.p) << s.name;
    EXPECT_EQ(f.emin, s.emin) << s.name;
    EXPECT_EQ(f.emax, s.emax) << s.name;
    EXPECT_EQ(f.max_value(), s.max) << s.name;
    EXPECT_EQ(f.min_subnormal(), s.min_subnormal) << s.name;
    EXPECT_EQ(f.min_normal(), std::ldexp(1.0, s.emin)) << s.name;
    EXPECT_EQ(f.unit_roundoff(), std::ldexp(1.0, -s.p)) << s.name;
    EXPECT_EQ(f.epsilon(), std::ldexp(1.0, 1 - s.p)) << s.name;
    EXPECT_EQ(f.has_infinity, s.has_infinity) << s.name;
    EXPECT_EQ(f.subnormals, Subnormals::gradual) << s.name;
  }
  EXPECT_EQ(format_by_name("e4m3").overflow, Overflow::nan);
  EXPECT_EQ(format_by_name("e4m3-sat").overflow, Overflow::saturate);
  EXPECT_EQ(format_by_name("fp16").overflow, Overflow::infinity);
}

TEST(FormatPresets, UnknownNameNamesTokenAndAllowedNames) {
  try {
    format_by_name("fp17");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'fp17'"), std::string::npos) << msg;
    for (const auto& n : format_names()) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
  EXPECT_THROW(format_by_name(""), std::invalid_argument);
  EXPECT_THROW(format_by_name("FP16"), std::invalid_argument);
}

TEST(RoundingNames, RoundTripAndErrors) {
  const std::vector<std::string> want = {"rn", "rna", "rz", "ru", "rd", "sr", "sr-equal"};
  EXPECT_EQ(rounding_names(), want);
  for (const auto& n : want) EXPECT_EQ(rounding_name(rounding_by_name(n)), n);
  try {
    rounding_by_name("nearest");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'nearest'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sr-equal"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(is_stochastic(Rounding::stochastic));
  EXPECT_TRUE(is_stochastic(Rounding::stochastic_equal));
  EXPECT_FALSE(is_stochastic(Rounding::nearest_away));
  for (auto a : {Accumulation::round_every_op, Accumulation::exact_products})
    EXPECT_EQ(accumulation_by_name(accumulation_name(a)), a);
  EXPECT_THROW(accumulation_by_name("fused"), std::invalid_argument);
}

TEST(CustomFormat, DerivesMaxAndValidates) {
  const Format f = Format::custom("e3m4", 5, -2, 4);
  EXPECT_EQ(f.max_finite, 31.0);  // 1.1111b * 2^4
  EXPECT_EQ(f.min_subnormal(), 0x1p-6);
  EXPECT_TRUE(f.has_infinity);
  const Format none = Format::custom("nosub", 5, -2, 4, Subnormals::none);
  EXPECT_EQ(none.min_subnormal(), none.min_normal());
  EXPECT_EQ(Format::custom("x", 4, -6, 8, Subnormals::gradual, Overflow::nan, 448.0),
            format_by_name("e4m3"));  // the name does not take part in ==
  EXPECT_NE(format_by_name("fp16"), format_by_name("bf16"));
  EXPECT_NE(format_by_name("e4m3"), format_by_name("e4m3-sat"));
  EXPECT_THROW(Format::custom("p", 54, -10, 10), std::invalid_argument);
  EXPECT_THROW(Format::custom("p", 1, -10, 10), std::invalid_argument);
  EXPECT_THROW(Format::custom("r", 53, -1023, 10), std::invalid_argument);  // 2^-1075 quantum
  EXPECT_THROW(Format::custom("r", 11, 0, 1024), std::invalid_argument);
  EXPECT_THROW(Format::custom("r", 11, 5, 4), std::invalid_argument);
  EXPECT_THROW(Format::custom("m", 4, -6, 8, Subnormals::gradual, Overflow::nan, 450.0),
               std::invalid_argument);  // not a value of the grid
  EXPECT_THROW(Format::custom("m", 4, -6, 8, Subnormals::gradual, Overflow::nan, 1000.0),
               std::invalid_argument);  // above the top of the grid
  EXPECT_THROW(Format::custom("", 4, -6, 8), std::invalid_argument);
  Format broken;  // default fields with max_finite unset
  EXPECT_THROW(round(1.0, broken, Rounding::nearest_even), std::invalid_argument);
}

TEST(IsRepresentable, EveryCodeOfTheSmallFormatsAndTheirNeighbours) {
  for (const char* name : {"fp16", "bf16", "e4m3", "e4m3-sat", "e5m2"}) {
    const Format& f = format_by_name(name);
    for (double g : testing::grid_values(f)) {
      const bool in_range = g <= f.max_finite;
      EXPECT_EQ(is_representable(g, f), in_range) << name << " " << g;
      EXPECT_EQ(is_representable(-g, f), in_range) << name << " " << -g;
      if (g > 0) {
        EXPECT_FALSE(is_representable(std::nextafter(g, kInf), f)) << name << " " << g;
      }
    }
    EXPECT_EQ(is_representable(kInf, f), f.has_infinity) << name;
    EXPECT_TRUE(is_representable(kNaN, f)) << name;
  }
  const Format ftz = Format::custom("fp16-ftz", 11, -14, 15, Subnormals::flush_to_zero);
  EXPECT_FALSE(is_representable(0x1p-24, ftz));
  EXPECT_TRUE(is_representable(0x1p-14, ftz));
}

// OCP e4m3: the top binade [256, 512) holds 256, 288, ..., 448; 480 would be the
// NaN code S.1111.111. Hand-derived expectations.
TEST(Fp8Rules, E4m3_OverflowIsNaN_E4m3Sat_Saturates) {
  const Format& e4 = format_by_name("e4m3");
  const Format& sat = format_by_name("e4m3-sat");
  struct Row {
    double x;
    Rounding mode;
    double e4m3, e4m3_sat;
  };
  const Rounding rn = Rounding::nearest_even, rna = Rounding::nearest_away,
                 rz = Rounding::toward_zero, ru = Rounding::up, rd = Rounding::down;
  const Row rows[] = {
      {448.0, rn, 448.0, 448.0},
      {463.9, rn, 448.0, 448.0},
      {464.0, rn, 448.0, 448.0},   // tie 448 (significand 1.110b, even) / 480
      {464.0, rna, kNaN, 448.0},   // tie away: 480 > max
      {464.0001, rn, kNaN, 448.0}, // nearest grid value 480 > max
      {-464.0001, rn, kNaN, -448.0},
      {449.0, rz, 448.0, 448.0},
      {1e300, rz, 448.0, 448.0},   // rz never goes past max
      {449.0, ru, kNaN, 448.0},
      {-449.0, ru, -448.0, -448.0},
      {449.0, rd, 448.0, 448.0},
      {-449.0, rd, kNaN, -448.0},
      {480.0, rn, kNaN, 448.0},    // on the grid, but that is the NaN code
      {480.0, rz, 448.0, 448.0},
      {kInf, rn, kNaN, 448.0},     // no infinity in e4m3
      {-kInf, rz, kNaN, -448.0},
      {kNaN, rn, kNaN, kNaN},
      {0x1p-10, rn, 0.0, 0.0},     // half the smallest subnormal 2^-9: tie to 0
      {0x1.8p-10, rn, 0x1p-9, 0x1p-9},
      {0x1p-10, ru, 0x1p-9, 0x1p-9},
  };
  for (const Row& r : rows) {
    EXPECT_TRUE(testing::same(round(r.x, e4, r.mode), r.e4m3))
        << "e4m3 " << rounding_name(r.mode) << " x = " << r.x << ": got " << round(r.x, e4, r.mode);
    EXPECT_TRUE(testing::same(round(r.x, sat, r.mode), r.e4m3_sat))
        << "e4m3-sat " << rounding_name(r.mode) << " x = " << r.x;
  }
  // Every input in the top binades, both signs: saturation gives a finite value,
  // never beyond 448; e4m3 gives NaN exactly when e4m3-sat gives +-448 from a value
  // the IEEE-style rounding would have taken past 448.
  const auto inputs = testing::boundary_inputs(testing::grid_values(e4));
  for (double x : inputs)
    for (Rounding mode : testing::deterministic_modes()) {
      const double s = round(x, sat, mode), n = round(x, e4, mode);
      ASSERT_TRUE(std::isfinite(s) && std::fabs(s) <= 448.0) << x;
      if (std::isnan(n)) {
        ASSERT_EQ(std::fabs(s), 448.0) << x;
      } else {
        ASSERT_TRUE(testing::same(n, s)) << "x = " << x << " " << rounding_name(mode);
      }
    }
}

TEST(Fp8Rules, E5m2_IeeeOverflowToInfinity) {
  const Format& f = format_by_name("e5m2");
  EXPECT_EQ(round(57344.0, f, Rounding::nearest_even), 57344.0);
  EXPECT_EQ(round(61439.0, f, Rounding::nearest_even), 57344.0);
  EXPECT_EQ(round(61440.0, f, Rounding::nearest_even), kInf);  // tie 57344 (odd) / 65536
  EXPECT_EQ(round(1e9, f, Rounding::toward_zero), 57344.0);
  EXPECT_EQ(round(-1e9, f, Rounding::up), -57344.0);
  EXPECT_EQ(round(-1e9, f, Rounding::down), -kInf);
  EXPECT_EQ(round(kInf, f, Rounding::toward_zero), kInf);  // inf is a value, not overflow
}

TEST(FlushToZero, SubnormalResultsBecomeSignedZero) {
  const Format f = Format::custom("fp16-ftz", 11, -14, 15, Subnormals::flush_to_zero);
  const double min_normal = 0x1p-14;
  EXPECT_EQ(round(min_normal, f, Rounding::nearest_even), min_normal);
  // Just below 2^-14: rounds (on the subnormal grid, spacing 2^-24) up to 2^-14: kept.
  EXPECT_EQ(round(min_normal - 0x1p-26, f, Rounding::nearest_even), min_normal);
  EXPECT_EQ(round(min_normal - 0x1p-26, f, Rounding::up), min_normal);
  // ... but toward zero it is the largest subnormal, which flushes.
  const double r = round(min_normal - 0x1p-26, f, Rounding::toward_zero);
  EXPECT_EQ(r, 0.0);
  EXPECT_FALSE(std::signbit(r));
  EXPECT_TRUE(std::signbit(round(-0x1p-20, f, Rounding::nearest_even)));
  EXPECT_EQ(round(-0x1p-20, f, Rounding::nearest_even), 0.0);
  EXPECT_EQ(rounded_mul(0x1p-7, 0x1p-8, f, Rounding::nearest_even), 0.0);
  EXPECT_EQ(rounded_mul(0x1p-7, 0x1p-7, f, Rounding::nearest_even), min_normal);
}

TEST(PrecisionTest, UniformDefaultsNativeAndDescribe) {
  const Precision p16 = Precision::uniform(format_by_name("fp16"));
  EXPECT_EQ(p16.accumulation, Accumulation::exact_products);
  EXPECT_EQ(p16.operand, format_by_name("fp16"));
  EXPECT_EQ(p16.output, format_by_name("fp16"));
  EXPECT_EQ(Precision::uniform(format_by_name("tf32")).accumulation, Accumulation::exact_products);
  EXPECT_EQ(Precision::uniform(format_by_name("fp32")).accumulation, Accumulation::round_every_op);
  EXPECT_EQ(Precision::uniform(format_by_name("fp64")).accumulation, Accumulation::round_every_op);
  const Format& fp32 = format_by_name("fp32");
  const Format& fp64 = format_by_name("fp64");
  EXPECT_TRUE(Precision::uniform(fp32).is_native(fp32));
  EXPECT_FALSE(Precision::uniform(fp32).is_native(fp64));
  EXPECT_TRUE(Precision::uniform(fp64).is_native(fp64));
  EXPECT_FALSE(Precision::uniform(fp32, Rounding::toward_zero).is_native(fp32));
  Precision mixed = Precision::uniform(fp32);
  mixed.storage = format_by_name("bf16");
  EXPECT_FALSE(mixed.is_native(fp32));
  Precision fused = Precision::uniform(fp32);
  fused.accumulation = Accumulation::exact_products;
  EXPECT_FALSE(fused.is_native(fp32));
  Precision tc = Precision::uniform(format_by_name("fp16"));
  tc.accumulate = fp32;
  EXPECT_EQ(tc.describe(), "fp16/fp32acc/fp16st/fp16out rn exact-products");
}

}  // namespace
}  // namespace triscan
