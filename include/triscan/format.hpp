// triscan/format.hpp — simulated floating-point formats, rounding modes and the
// arithmetic model (`Precision`) every algorithm runs under.
//
// A value of any simulated format is carried in a `double`: every format here
// has p <= 53 and an exponent range inside double's, so each of its values is
// exactly a double. `round` maps an arbitrary double to the nearest value of the
// format in the requested mode; the `rounded_*` operations return the exact
// result of one operation rounded once (correctly rounded), which is NOT the
// same as rounding the double result again (double rounding; see docs/formats.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace triscan {

// How values below the smallest normal number are treated.
enum class Subnormals {
  gradual,        // IEEE gradual underflow: subnormals exist
  none,           // the format has no subnormals: results round to 0 or +-min normal
  flush_to_zero,  // results that would be subnormal become (signed) zero
};

// What a finite result too large for the format becomes.
enum class Overflow {
  infinity,  // IEEE: +-inf (or +-max finite where the rounding mode says so)
  saturate,  // +-max finite
  nan,       // NaN (OCP fp8 e4m3 without saturation: the format has no infinity)
};

struct Format {
  std::string name;
  int precision = 53;  // p: significand bits including the hidden bit
  int emin = -1022;    // the smallest normal number is 2^emin
  int emax = 1023;     // the largest binade is [2^emax, 2^(emax+1))
  Subnormals subnormals = Subnormals::gradual;
  Overflow overflow = Overflow::infinity;
  // Largest finite value. Usually (2 - 2^(1-p)) 2^emax; OCP e4m3 reserves its top
  // code for NaN, so its largest finite value is 448 instead of 480.
  double max_finite = 0.0;
  bool has_infinity = true;

  double unit_roundoff() const;  // u = 2^-p
  double epsilon() const;        // 2^(1-p), the spacing of values in [1, 2)
  double min_normal() const;     // 2^emin
  double min_subnormal() const;  // 2^(emin-p+1) (== min_normal() when Subnormals::none/ftz)
  double max_value() const { return max_finite; }

  // A user-defined format; max_finite is derived unless given (> 0).
  static Format custom(std::string name, int precision, int emin, int emax,
                       Subnormals subnormals = Subnormals::gradual,
                       Overflow overflow = Overflow::infinity, double max_finite = 0.0);
};

// Equal when every field but the name agrees (same values, same rounding rules).
bool operator==(const Format& a, const Format& b);
inline bool operator!=(const Format& a, const Format& b) { return !(a == b); }

// Presets: fp64, fp32, tf32, fp16, bf16, e4m3, e4m3-sat, e5m2 (docs/formats.md).
const std::vector<Format>& preset_formats();
// Looks a preset up by its CLI name; throws std::invalid_argument naming the token
// and the allowed names when unknown.
const Format& format_by_name(std::string_view name);
std::vector<std::string> format_names();

enum class Rounding {
  nearest_even,      // rn: round to nearest, ties to even (IEEE default)
  nearest_away,      // rna: round to nearest, ties away from zero (NVIDIA cvt.rna.tf32)
  toward_zero,       // rz
  up,                // ru: toward +inf
  down,              // rd: toward -inf
  stochastic,        // sr: RU with probability (x - RD(x)) / (RU(x) - RD(x)), else RD
  stochastic_equal,  // sr-equal: RD or RU with probability 1/2 each (biased; for study)
};

std::string_view rounding_name(Rounding r);                 // "rn", "rna", ...
Rounding rounding_by_name(std::string_view name);           // throws std::invalid_argument
std::vector<std::string> rounding_names();
inline bool is_stochastic(Rounding r) {
  return r == Rounding::stochastic || r == Rounding::stochastic_equal;
}

// splitmix64 (Steele, Lea & Flood 2014): advances `state` and returns the next output.
// Seeds RandomBits, and hashes stream ids into seeds (validation/generators).
std::uint64_t splitmix64_next(std::uint64_t& state);

// Seeded pseudo-random source for stochastic rounding (xoshiro256** seeded by
// splitmix64). One instance per thread; reproducible for a given seed and call order.
class RandomBits {
 public:
  explicit RandomBits(std::uint64_t seed = 0x7269736361ull);
  static RandomBits from_state(const std::array<std::uint64_t, 4>& state);  // state != 0
  std::uint64_t next();
  double uniform();  // k 2^-53, k uniform in [0, 2^53)

 private:
  std::uint64_t s_[4];
};

// x rounded to `fmt` in `mode`. NaN stays NaN, +-inf stays +-inf (or becomes NaN /
// max finite for formats without infinity, per fmt.overflow). `rng` is required for
// the stochastic modes (std::invalid_argument when null) and ignored otherwise.
// Rules (docs/formats.md): overflow is decided on the grid continued above max
// (e4m3: 464 < x rounds to 480 > 448 -> NaN); rz, and ru/rd pointing toward zero,
// give +-max, the other modes +-inf / NaN, Overflow::saturate always +-max.
// Subnormals::flush_to_zero: tininess after rounding to the subnormal grid, i.e. a
// nonzero result below 2^emin becomes a zero of x's sign. Subnormals::none: the grid
// below 2^emin is {0, 2^emin}; the rn tie 2^(emin-1) goes to 0. An invalid Format
// (fields out of range) throws std::invalid_argument.
double round(double x, const Format& fmt, Rounding mode, RandomBits* rng = nullptr);

// True when x is a value of fmt (finite and exactly representable, or inf/NaN the
// format can hold).
bool is_representable(double x, const Format& fmt);

// Correctly rounded operations: the exact result rounded once to fmt in mode, for
// every format including fp64 and results outside double's range (error-free
// transformations on operands scaled into [1, 2), tails rounded to odd; see
// docs/formats.md). Exact zero sums are +0 (-0 in rd), IEEE 754 Sec. 6.3. Stochastic
// modes draw with the exact result's position between RD and RU (to 2^-52).
double rounded_add(double a, double b, const Format& fmt, Rounding mode, RandomBits* rng = nullptr);
double rounded_sub(double a, double b, const Format& fmt, Rounding mode, RandomBits* rng = nullptr);
double rounded_mul(double a, double b, const Format& fmt, Rounding mode, RandomBits* rng = nullptr);
double rounded_div(double a, double b, const Format& fmt, Rounding mode, RandomBits* rng = nullptr);
double rounded_fma(double a, double b, double c, const Format& fmt, Rounding mode,
                   RandomBits* rng = nullptr);
double rounded_sqrt(double a, const Format& fmt, Rounding mode, RandomBits* rng = nullptr);

// How a dot product / GEMM accumulates (the arithmetic models of DESIGN.md).
enum class Accumulation {
  round_every_op,  // operands rounded to `operand`, each product and each sum rounded to `accumulate`
  exact_products,  // operands rounded to `operand`, products exact, sums rounded to `accumulate`
                   // (tensor cores / NPU cube units: fp16/bf16/tf32 operands, fp32 sums)
};
std::string_view accumulation_name(Accumulation a);
Accumulation accumulation_by_name(std::string_view name);

// The arithmetic model an algorithm runs under (DESIGN.md "Precision").
struct Precision {
  Format operand;      // what enters a product
  Format accumulate;   // sums (and products under round_every_op)
  Format storage;      // intermediates written back to memory
  Format output;       // the result handed to the caller
  Rounding rounding = Rounding::nearest_even;
  Accumulation accumulation = Accumulation::round_every_op;
  std::uint64_t seed = 1;  // stochastic rounding seed

  // All four formats `f`; accumulation defaults to exact_products when the operand
  // format is narrower than fp32 and round_every_op otherwise.
  static Precision uniform(const Format& f, Rounding r = Rounding::nearest_even);
  // Native IEEE fp32 / fp64 in round-to-nearest: all four formats equal f, rounding
  // rn and round_every_op (exact products would be an FMA). Algorithms take the fast path.
  bool is_native(const Format& f) const;
  std::string describe() const;  // e.g. "fp16/fp32acc/fp16st/fp16out rn exact-products"
  // The working precision's unit roundoff: the largest u of the four formats (the eps
  // of LAPACK's ratio, the u of bounds and of the a-posteriori check's threshold).
  double working_unit_roundoff() const;
};

}  // namespace triscan
