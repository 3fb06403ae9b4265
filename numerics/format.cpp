// numerics/format.cpp — format presets, names, the random source for stochastic
// rounding, and Precision. The rounding itself is in numerics/rounding.cpp.
#include "triscan/format.hpp"

#include <algorithm>

#include <cmath>
#include <stdexcept>

namespace triscan {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// (2 - 2^(1-p)) 2^emax: the largest value with p significand bits in binade emax.
double ieee_max(int precision, int emax) {
  return std::ldexp(2.0 - std::ldexp(1.0, 1 - precision), emax);
}

Format make_preset(std::string name, int precision, int emin, int emax, Overflow overflow,
                   double max_finite, bool has_infinity) {
  Format f;
  f.name = std::move(name);
  f.precision = precision;
  f.emin = emin;
  f.emax = emax;
  f.subnormals = Subnormals::gradual;
  f.overflow = overflow;
  f.max_finite = max_finite;
  f.has_infinity = has_infinity;
  return f;
}

std::vector<Format> build_presets() {
  const Overflow inf = Overflow::infinity;
  return {
      make_preset("fp64", 53, -1022, 1023, inf, ieee_max(53, 1023), true),
      make_preset("fp32", 24, -126, 127, inf, ieee_max(24, 127), true),
      // tf32: fp32's exponent range with 10 stored fraction bits (p = 11); its
      // smallest subnormal is 2^(-126-10) = 2^-136.
      make_preset("tf32", 11, -126, 127, inf, ieee_max(11, 127), true),
      make_preset("fp16", 11, -14, 15, inf, 65504.0, true),
      make_preset("bf16", 8, -126, 127, inf, ieee_max(8, 127), true),
      // OCP 8-bit FP (v1.0) E4M3: bias 7, no infinity, S.1111.111 is NaN, so the
      // top binade [256, 512) stops at 1.110b * 2^8 = 448. Conversion overflow -> NaN.
      make_preset("e4m3", 4, -6, 8, Overflow::nan, 448.0, false),
      // The same encoding with saturating conversion (overflow -> +-448).
      make_preset("e4m3-sat", 4, -6, 8, Overflow::saturate, 448.0, false),
      // OCP E5M2: IEEE-like, bias 15, has infinity; max 1.11b * 2^15 = 57344.
      make_preset("e5m2", 3, -14, 15, inf, 57344.0, true),
  };
}

// True when v (> 0) has at most `precision` significant bits at the quantum of
// its binade in a format with smallest normal 2^emin.
bool on_grid(double v, int precision, int emin) {
  int e = 0;
  std::frexp(v, &e);  // v = f 2^e, f in [0.5, 1): leading bit 2^(e-1)
  const int quantum = std::max(e - 1, emin) - precision + 1;
  const double scaled = std::ldexp(v, -quantum);
  return scaled == std::floor(scaled);
}

}  // namespace

double Format::unit_roundoff() const { return std::ldexp(1.0, -precision); }
double Format::epsilon() const { return std::ldexp(1.0, 1 - precision); }
double Format::min_normal() const { return std::ldexp(1.0, emin); }
double Format::min_subnormal() const {
  return subnormals == Subnormals::gradual ? std::ldexp(1.0, emin - precision + 1) : min_normal();
}

Format Format::custom(std::string name, int precision, int emin, int emax, Subnormals subnormals,
                      Overflow overflow, double max_finite) {
  const std::string what = "Format::custom('" + name + "'): ";
  if (name.empty()) throw std::invalid_argument("Format::custom: empty format name");
  // Every value must be a double: p <= 53, 2^emax's binade inside double's, and the
  // smallest quantum 2^(emin-p+1) no finer than double's 2^-1074.
  if (precision < 2 || precision > 53)
    throw std::invalid_argument(what + "precision " + std::to_string(precision) +
                                " outside [2, 53]");
  if (emax > 1023 || emax < emin)
    throw std::invalid_argument(what + "emax " + std::to_string(emax) +
                                " must satisfy emin <= emax <= 1023");
  if (emin - precision + 1 < -1074)
    throw std::invalid_argument(what + "emin " + std::to_string(emin) +
                                " too small: 2^(emin-p+1) must be >= 2^-1074");
  const double top = ieee_max(precision, emax);
  if (max_finite == 0.0) max_finite = top;
  if (!(max_finite > 0.0) || max_finite > top || max_finite < std::ldexp(1.0, emin) ||
      !on_grid(max_finite, precision, emin))
    throw std::invalid_argument(what + "max_finite " + std::to_string(max_finite) +
                                " is not a normal value of the format");
  Format f;
  f.name = std::move(name);
  f.precision = precision;
  f.emin = emin;
  f.emax = emax;
  f.subnormals = subnormals;
  f.overflow = overflow;
  f.max_finite = max_finite;
  // A format that saturates or turns overflow into NaN is modelled without an
  // infinity code (as OCP e4m3); set the field afterwards to say otherwise.
  f.has_infinity = overflow == Overflow::infinity;
  return f;
}

// Two formats are equal when they hold the same values and round the same way;
// the name is a label and does not take part.
bool operator==(const Format& a, const Format& b) {
  return a.precision == b.precision && a.emin == b.emin && a.emax == b.emax &&
         a.subnormals == b.subnormals && a.overflow == b.overflow &&
         a.max_finite == b.max_finite && a.has_infinity == b.has_infinity;
}

const std::vector<Format>& preset_formats() {
  static const std::vector<Format> presets = build_presets();
  return presets;
}

std::vector<std::string> format_names() {
  std::vector<std::string> names;
  for (const auto& f : preset_formats()) names.push_back(f.name);
  return names;
}

const Format& format_by_name(std::string_view name) {
  for (const auto& f : preset_formats())
    if (f.name == name) return f;
  throw std::invalid_argument("unknown format '" + std::string(name) +
                              "' (allowed: " + join(format_names()) + ")");
}

namespace {
struct RoundingName {
  Rounding mode;
  std::string_view name;
};
constexpr RoundingName kRoundingNames[] = {
    {Rounding::nearest_even, "rn"}, {Rounding::nearest_away, "rna"},
    {Rounding::toward_zero, "rz"},  {Rounding::up, "ru"},
    {Rounding::down, "rd"},         {Rounding::stochastic, "sr"},
    {Rounding::stochastic_equal, "sr-equal"},
};
struct AccumulationName {
  Accumulation model;
  std::string_view name;
};
constexpr AccumulationName kAccumulationNames[] = {
    {Accumulation::round_every_op, "round-every-op"},
    {Accumulation::exact_products, "exact-products"},
};
}  // namespace

std::string_view rounding_name(Rounding r) {
  for (const auto& entry : kRoundingNames)
    if (entry.mode == r) return entry.name;
  throw std::invalid_argument("rounding_name: invalid Rounding value " +
                              std::to_string(static_cast<int>(r)));
}

std::vector<std::string> rounding_names() {
  std::vector<std::string> names;
  for (const auto& entry : kRoundingNames) names.emplace_back(entry.name);
  return names;
}

Rounding rounding_by_name(std::string_view name) {
  for (const auto& entry : kRoundingNames)
    if (entry.name == name) return entry.mode;
  throw std::invalid_argument("unknown rounding mode '" + std::string(name) +
                              "' (allowed: " + join(rounding_names()) + ")");
}

std::string_view accumulation_name(Accumulation a) {
  for (const auto& entry : kAccumulationNames)
    if (entry.model == a) return entry.name;
  throw std::invalid_argument("accumulation_name: invalid Accumulation value " +
                              std::to_string(static_cast<int>(a)));
}

Accumulation accumulation_by_name(std::string_view name) {
  std::vector<std::string> names;
  for (const auto& entry : kAccumulationNames) {
    if (entry.name == name) return entry.model;
    names.emplace_back(entry.name);
  }
  throw std::invalid_argument("unknown accumulation model '" + std::string(name) +
                              "' (allowed: " + join(names) + ")");
}

// --- RandomBits: xoshiro256** (Blackman & Vigna 2018), state filled by splitmix64 ---
std::uint64_t splitmix64_next(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

namespace {
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

RandomBits::RandomBits(std::uint64_t seed) {
  // splitmix64 never yields four zero words, so the xoshiro state is valid.
  for (auto& word : s_) word = splitmix64_next(seed);
}

RandomBits RandomBits::from_state(const std::array<std::uint64_t, 4>& state) {
  if (state[0] == 0 && state[1] == 0 && state[2] == 0 && state[3] == 0)
    throw std::invalid_argument("RandomBits::from_state: the all-zero state is invalid for xoshiro256**");
  RandomBits r;
  for (int i = 0; i < 4; ++i) r.s_[i] = state[i];
  return r;
}

std::uint64_t RandomBits::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double RandomBits::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;  // k 2^-53, k uniform in [0, 2^53)
}

// --- Precision ---
Precision Precision::uniform(const Format& f, Rounding r) {
  Precision p;
  p.operand = p.accumulate = p.storage = p.output = f;
  p.rounding = r;
  // Narrow operands (p < 24: tf32, fp16, bf16, fp8) model tensor-core / cube-unit
  // products, which are exact; fp32 and wider round every operation.
  p.accumulation = f.precision < 24 ? Accumulation::exact_products : Accumulation::round_every_op;
  return p;
}

bool Precision::is_native(const Format& f) const {
  // exact_products would be a fused multiply-add, which native code does not do.
  return operand == f && accumulate == f && storage == f && output == f &&
         rounding == Rounding::nearest_even && accumulation == Accumulation::round_every_op;
}

double Precision::working_unit_roundoff() const {
  return std::max({operand.unit_roundoff(), accumulate.unit_roundoff(), storage.unit_roundoff(),
                   output.unit_roundoff()});
}

std::string Precision::describe() const {
  return operand.name + "/" + accumulate.name + "acc/" + storage.name + "st/" + output.name +
         "out " + std::string(rounding_name(rounding)) + " " +
         std::string(accumulation_name(accumulation));
}

}  // namespace triscan
