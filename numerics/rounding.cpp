// numerics/rounding.cpp — rounding a real number to a simulated format, and the
// correctly rounded operations built on it.
//
// Every rounding goes through `round_scaled`, which rounds the exact real
//   x = (hi + lo) * 2^-scale
// given as a double `hi`, a tail `lo` and an integer exponent offset `scale`. The
// offset lets the operations work on operands scaled to [1, 2) (exactly, by a power
// of two), so their error-free transformations never under- or overflow, while the
// rounding itself uses the true exponent: the result is correctly rounded over the
// whole range, including results below double's underflow threshold for fp64.
//
// Contract on (hi, lo) ("hi is the double nearest x, lo faithful"):
//   (a) hi is finite and nonzero; |lo| <= half the double spacing on lo's side of hi;
//   (b) lo is 0 exactly when x == hi 2^-scale;
//   (c) lo lies on the same side as the exact tail of every power of two (the only
//       values it is compared with: half-quanta). An exact tail satisfies (c); an
//       inexact one is made to by rounding it to odd (never a power of two) or, for
//       div/sqrt whose exact tail is never a tie (Markstein; Muller et al., Handbook
//       of Floating-Point Arithmetic, 2nd ed., Sec. 4.5), by clamping below the half-ulp.
// The rounding then needs only integer operations on hi's significand and exponent
// and comparisons of exponents: no frexp, no MPFR, no double rounding.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "triscan/format.hpp"

namespace triscan {
namespace {

constexpr std::uint64_t kSignMask = 0x8000000000000000ull;
constexpr std::uint64_t kFracMask = 0x000FFFFFFFFFFFFFull;
constexpr std::uint64_t kHiddenBit = 0x0010000000000000ull;

std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
double from_bits(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// 2^e as a double: exact for e in [-1074, 1023], 0 below, +inf above.
double pow2(int e) {
  if (e > 1023) return std::numeric_limits<double>::infinity();
  if (e >= -1022) return from_bits(static_cast<std::uint64_t>(e + 1023) << 52);
  if (e >= -1074) return from_bits(1ull << (e + 1074));
  return 0.0;
}

int leading_bit(std::uint64_t v) { return 63 - __builtin_clzll(v); }  // v != 0

// |x| = significand * 2^low with significand < 2^53; its leading bit is 2^top.
struct Decomposed {
  std::uint64_t significand;
  int low;
  int top;
};

Decomposed decompose(double x) {  // x finite, nonzero
  const std::uint64_t b = bits_of(x) & ~kSignMask;
  const int biased = static_cast<int>(b >> 52);
  const std::uint64_t frac = b & kFracMask;
  if (biased == 0) return {frac, -1074, -1074 + leading_bit(frac)};  // double subnormal
  return {frac | kHiddenBit, biased - 1075, biased - 1023};
}

bool is_power_of_two(std::uint64_t v) { return (v & (v - 1)) == 0; }

// x 2^-top in [1, 2) with x's sign, and top; pure bit manipulation (x finite, nonzero).
double normalized(double x, int& top) {
  const Decomposed d = decompose(x);
  top = d.top;
  const std::uint64_t sig = d.significand << (52 - (d.top - d.low));
  return from_bits((bits_of(x) & kSignMask) | (1023ull << 52) | (sig & kFracMask));
}

// Sign of |v| - 2^e for finite v, without forming 2^e (which may be out of range).
int compare_with_pow2(double v, int e) {
  if (v == 0.0) return -1;
  const Decomposed d = decompose(v);
  if (d.top != e) return d.top < e ? -1 : 1;
  return is_power_of_two(d.significand) ? 0 : 1;
}

// Exponent of the format's spacing (quantum) in the binade [2^top, 2^(top+1)).
// Without subnormals the only values below 2^emin are 0 and 2^emin itself, so the
// spacing there is 2^emin.
int quantum_exponent(int top, const Format& f) {
  if (f.subnormals == Subnormals::none && top < f.emin) return f.emin;
  return std::max(top, f.emin) - f.precision + 1;
}

// IEEE 754-2019 Sec. 7.4: an overflowing result is +-inf for the nearest modes and
// for the directed mode pointing away from zero, +-max finite otherwise. Stochastic
// modes round on the unbounded grid and treat a result beyond max like nearest.
bool overflow_goes_to_infinity(Rounding mode, bool negative) {
  switch (mode) {
    case Rounding::toward_zero: return false;
    case Rounding::up: return !negative;
    case Rounding::down: return negative;
    default: return true;
  }
}

// The value of an overflow: +-inf becomes NaN in a format without infinity
// (Overflow::nan, OCP e4m3); Overflow::saturate always gives +-max finite.
double overflow_result(bool negative, const Format& f, Rounding mode) {
  double m = f.max_finite;
  if (f.overflow != Overflow::saturate && overflow_goes_to_infinity(mode, negative)) {
    if (f.overflow == Overflow::nan || !f.has_infinity)
      return std::numeric_limits<double>::quiet_NaN();
    m = std::numeric_limits<double>::infinity();
  }
  return negative ? -m : m;
}

// The two format values around x (magnitudes) and where x lies between them.
struct Bracket {
  double down = 0.0;  // largest value of the unbounded-above grid <= |x|
  double up = 0.0;    // smallest value > |x| (may be +inf past double's range)
  int vs_midpoint = 0;  // sign of |x| - (down + up)/2
  bool down_even = true;  // down's significand at its quantum is even (0 counts as even)
  double fraction = 0.0;  // (|x| - down) / (up - down), to double precision, for sr
};

// Bracket when |hi| itself is a format value (h) and tail != 0 moves x off it.
// The sr fraction (two ldexp calls) is formed only when `with_fraction`.
Bracket bracket_on_grid(double h, const Decomposed& d, bool h_odd, int qe, double tail,
                        int scale, const Format& f, bool with_fraction) {
  Bracket b;
  if (tail > 0) {  // down = h, up = h + 2^qe
    b.down = h;
    b.up = h + pow2(qe);
    b.vs_midpoint = compare_with_pow2(tail, qe - 1 + scale);
    b.down_even = !h_odd;
    if (with_fraction) b.fraction = std::ldexp(tail, -(qe + scale));
    return b;
  }
  // up = h; down = h - (spacing just below h), which is half the spacing at h when
  // h = 2^top starts a normal binade.
  const int top = d.top - scale;
  const bool pow2_h = is_power_of_two(d.significand);
  const int qb = pow2_h ? quantum_exponent(top - 1, f) : qe;
  b.up = h;
  if (pow2_h) {  // down = (2^(top-qb) - 1) 2^qb: all ones, or 0 below 2^emin without subnormals
    b.down = static_cast<double>((1ull << (top - qb)) - 1) * pow2(qb);
    b.down_even = top == qb;
  } else {
    b.down = h - pow2(qe);
    b.down_even = h_odd;
  }
  b.vs_midpoint = -compare_with_pow2(tail, qb - 1 + scale);  // |tail| small: x near up
  if (with_fraction) b.fraction = 1.0 - std::ldexp(-tail, -(qb + scale));
  return b;
}

// Bracket when q_index 2^qe < |x| < (q_index + 1) 2^qe, |hi| = q_index 2^qe + rem 2^low
// with 0 < rem < 2^k. |tail| < 2^low, so x is a tie only if rem == 2^(k-1) and tail == 0.
Bracket bracket_between(std::uint64_t q_index, std::uint64_t rem, int k, int qe, double tail,
                        int scale, bool with_fraction) {
  Bracket b;
  b.down = static_cast<double>(q_index) * pow2(qe);
  b.up = static_cast<double>(q_index + 1) * pow2(qe);
  if (k >= 64) {
    b.vs_midpoint = -1;  // rem = significand < 2^53 <= 2^(k-1)
  } else {
    const std::uint64_t half = 1ull << (k - 1);
    b.vs_midpoint = rem > half ? 1 : rem < half ? -1 : (tail > 0) - (tail < 0);
  }
  b.down_even = (q_index & 1) == 0;
  if (with_fraction)
    b.fraction = std::ldexp(static_cast<double>(rem), -k) + std::ldexp(tail, -(qe + scale));
  return b;
}

bool choose_up(const Bracket& b, Rounding mode, bool negative, RandomBits* rng) {
  switch (mode) {
    case Rounding::nearest_even: return b.vs_midpoint > 0 || (b.vs_midpoint == 0 && !b.down_even);
    case Rounding::nearest_away: return b.vs_midpoint >= 0;
    case Rounding::toward_zero: return false;
    case Rounding::up: return !negative;
    case Rounding::down: return negative;
    case Rounding::stochastic: return rng->uniform() < b.fraction;
    case Rounding::stochastic_equal: return (rng->next() >> 63) != 0;
  }
  throw std::invalid_argument("round: invalid Rounding value " +
                              std::to_string(static_cast<int>(mode)));
}

double round_scaled(double hi, double lo, int scale, const Format& f, Rounding mode,
                    RandomBits* rng) {
  const bool negative = std::signbit(hi);
  const double tail = negative ? -lo : lo;  // measured away from zero
  const Decomposed d = decompose(hi);
  const int top = d.top - scale, low = d.low - scale;  // true exponents
  // |x| >= 2^(emax+1): beyond every finite value (only 2^(emax+1) minus a tail is below).
  if (top > f.emax + 1 ||
      (top == f.emax + 1 && !(is_power_of_two(d.significand) && tail < 0)))
    return overflow_result(negative, f, mode);

  const int qe = quantum_exponent(top, f);
  const int k = qe - low;  // significand bits of hi below the quantum
  std::uint64_t q_index = 0, rem = 0;  // |hi| = q_index 2^qe + rem 2^low
  if (k >= 64) {
    rem = d.significand;
  } else if (k > 0) {
    q_index = d.significand >> k;
    rem = d.significand & ((1ull << k) - 1);
  }

  const bool sr = mode == Rounding::stochastic;
  double result;
  if (rem == 0) {  // |hi| is a value h of the format's grid
    const bool h_odd = k == 0 ? (d.significand & 1) != 0 : k > 0 && (q_index & 1) != 0;
    const double h = k > 0 ? static_cast<double>(q_index) * pow2(qe)
                           : static_cast<double>(d.significand) * pow2(low);
    result = h;
    if (tail != 0.0) {
      const Bracket b = bracket_on_grid(h, d, h_odd, qe, tail, scale, f, sr);
      result = choose_up(b, mode, negative, rng) ? b.up : b.down;
    }
  } else {
    const Bracket b = bracket_between(q_index, rem, k, qe, tail, scale, sr);
    result = choose_up(b, mode, negative, rng) ? b.up : b.down;
  }
  // Overflow: the result on the grid unbounded above exceeds max finite (for OCP
  // e4m3 the grid holds 480 > 448, which is where its NaN code sits).
  if (result > f.max_finite) return overflow_result(negative, f, mode);
  // Flush to zero: a result that is subnormal after rounding (to the subnormal
  // grid) becomes a zero of x's sign.
  if (f.subnormals == Subnormals::flush_to_zero && result < pow2(f.emin)) result = 0.0;
  return negative ? -result : result;
}

// The error paths, kept out of line so the checks below stay a few compares.
[[noreturn]] __attribute__((noinline, cold)) void throw_bad_format(const Format& f,
                                                                   const char* who) {
  throw std::invalid_argument(std::string(who) + ": format '" + f.name +
                              "' is not a valid simulated format (precision in [2,53], "
                              "emin-p+1 >= -1074, emin <= emax <= 1023, max_finite > 0; "
                              "build custom formats with Format::custom)");
}

[[noreturn]] __attribute__((noinline, cold)) void throw_missing_rng(Rounding mode,
                                                                    const char* who) {
  throw std::invalid_argument(std::string(who) + ": rounding mode '" +
                              std::string(rounding_name(mode)) +
                              "' needs a RandomBits source (rng is null)");
}

// Cheap checks that a Format can be simulated (its fields are public).
inline void check_format(const Format& f, const char* who) {
  if (f.precision < 2 || f.precision > 53 || f.emax > 1023 || f.emax < f.emin ||
      f.emin - f.precision + 1 < -1074 || !(f.max_finite > 0.0))
    throw_bad_format(f, who);
}

inline void check_call(const Format& f, Rounding mode, RandomBits* rng, const char* who) {
  check_format(f, who);
  if (rng == nullptr && is_stochastic(mode)) throw_missing_rng(mode, who);
}

// Non-finite x: NaN stays NaN; +-inf stays when the format has infinity, else
// saturates (Overflow::saturate) or becomes NaN.
double round_non_finite(double x, const Format& f) {
  if (std::isnan(x) || f.has_infinity) return x;
  if (f.overflow == Overflow::saturate) return std::signbit(x) ? -f.max_finite : f.max_finite;
  return std::numeric_limits<double>::quiet_NaN();
}

double round_checked(double x, const Format& f, Rounding mode, RandomBits* rng) {
  if (!std::isfinite(x)) return round_non_finite(x, f);
  if (x == 0.0) return x;
  return round_scaled(x, 0.0, 0, f, mode, rng);
}

// --- error-free transformations (Knuth TwoSum; TwoProd via fma) ---
std::pair<double, double> two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}

// Half the double spacing on the side of h that a tail of sign `tail_sign` points to
// (away from zero when the tail has h's sign), as an exponent.
int half_spacing_exponent(double h, double tail_sign) {
  const Decomposed d = decompose(h);
  const bool toward_zero = std::signbit(h) != std::signbit(tail_sign);
  const bool binade_start = is_power_of_two(d.significand) && d.low > -1074;
  return d.low - 1 - (toward_zero && binade_start ? 1 : 0);
}

// An approximate tail of a quotient or square root, which is never exactly half an
// ulp (no ties: Muller et al., Handbook of FP Arithmetic, Sec. 4.5), kept strictly
// below the half-ulp so that a rounding error in the tail cannot fake a tie.
double clamp_below_half_ulp(double h, double tail) {
  if (tail == 0.0) return tail;
  const int e = half_spacing_exponent(h, tail);
  if (compare_with_pow2(tail, e) < 0) return tail;
  const double below = pow2(e) * (1.0 - 0x1.0p-53);  // the double just below 2^e
  return std::copysign(below, tail);
}

// t + e (exact) rounded to odd: t itself when e == 0 or t's last bit is odd, else the
// neighbour of t toward e. The result is never a power of two unless exact, so it
// compares with every power of two as t + e does (Boldo & Melquiond, IEEE TC 2008).
double round_to_odd(double t, double e) {
  if (e == 0.0 || (bits_of(t) & 1) != 0) return t;
  const bool away = (e > 0) == (t > 0);
  return from_bits(bits_of(t) + (away ? 1 : -1));
}

// (hi, lo) for x = a + b + c (scaled, well inside double's range), satisfying the
// round_scaled contract: hi = RN(x) and lo = RO(x - hi).
std::pair<double, double> sum_of_three(double a, double b, double c) {
  const auto [s, t] = two_sum(a, b);
  const auto [v, w] = two_sum(t, c);
  auto [h, m] = two_sum(s, v);  // x = h + m + w, |m| <= half-ulp(h), |w| << ulp(h)
  if (h == 0.0) return {w, 0.0};
  // If m is exactly a half-ulp and w pushes past it, the nearest double is the
  // neighbour h + 2m and the tail becomes w - m.
  if (m != 0.0 && w != 0.0 && std::signbit(m) == std::signbit(w) &&
      compare_with_pow2(m, half_spacing_exponent(h, m)) == 0) {
    h += 2.0 * m;
    m = -m;
  }
  const auto [l, e] = two_sum(m, w);
  return {h, round_to_odd(l, e)};
}

// IEEE 754 Sec. 6.3: an exact zero sum of nonzero terms (or of zeros of opposite
// sign) is +0, except -0 when rounding down; zeros of one sign keep it.
double exact_zero_sum(double a, double b, Rounding mode) {
  if (a == 0.0 && b == 0.0 && std::signbit(a) == std::signbit(b)) return a;
  return mode == Rounding::down ? -0.0 : 0.0;
}

}  // namespace

double round(double x, const Format& fmt, Rounding mode, RandomBits* rng) {
  check_call(fmt, mode, rng, "round");
  return round_checked(x, fmt, mode, rng);
}

bool is_representable(double x, const Format& fmt) {
  check_format(fmt, "is_representable");
  if (std::isnan(x)) return true;
  if (std::isinf(x)) return fmt.has_infinity;
  return round_checked(x, fmt, Rounding::toward_zero, nullptr) == x;
}

double rounded_add(double a, double b, const Format& fmt, Rounding mode, RandomBits* rng) {
  check_call(fmt, mode, rng, "rounded_add");
  if (!std::isfinite(a) || !std::isfinite(b)) return round_checked(a + b, fmt, mode, rng);
  auto [s, e] = two_sum(a, b);  // a + b = s + e exactly
  if (s == 0.0) return exact_zero_sum(a, b, mode);
  if (std::isinf(s)) {  // |a + b| >= 2^1024 - 2^970: both are large, so halving is exact
    std::tie(s, e) = two_sum(a * 0.5, b * 0.5);
    return round_scaled(s, e, -1, fmt, mode, rng);
  }
  return round_scaled(s, e, 0, fmt, mode, rng);
}

double rounded_sub(double a, double b, const Format& fmt, Rounding mode, RandomBits* rng) {
  return rounded_add(a, -b, fmt, mode, rng);  // IEEE: a - b is a + (-b), zeros included
}

double rounded_mul(double a, double b, const Format& fmt, Rounding mode, RandomBits* rng) {
  check_call(fmt, mode, rng, "rounded_mul");
  if (!std::isfinite(a) || !std::isfinite(b) || a == 0.0 || b == 0.0)
    return round_checked(a * b, fmt, mode, rng);
  // a b = a' b' 2^(ea+eb) with a', b' in [1, 2): TwoProd of a', b' is exact.
  int ea = 0, eb = 0;
  const double na = normalized(a, ea), nb = normalized(b, eb);
  const double p = na * nb;
  return round_scaled(p, std::fma(na, nb, -p), -(ea + eb), fmt, mode, rng);
}

double rounded_div(double a, double b, const Format& fmt, Rounding mode, RandomBits* rng) {
  check_call(fmt, mode, rng, "rounded_div");
  if (!std::isfinite(a) || !std::isfinite(b) || a == 0.0 || b == 0.0)
    return round_checked(a / b, fmt, mode, rng);
  // a / b = (a' / b') 2^(ea-eb); q = RN(a'/b') and the remainder a' - q b' is exact.
  int ea = 0, eb = 0;
  const double na = normalized(a, ea), nb = normalized(b, eb);
  const double q = na / nb;
  const double remainder = std::fma(-q, nb, na);
  return round_scaled(q, clamp_below_half_ulp(q, remainder / nb), eb - ea, fmt, mode, rng);
}

double rounded_sqrt(double a, const Format& fmt, Rounding mode, RandomBits* rng) {
  check_call(fmt, mode, rng, "rounded_sqrt");
  if (!std::isfinite(a) || a <= 0.0) return round_checked(std::sqrt(a), fmt, mode, rng);
  // sqrt(a) = sqrt(a') 2^m with a' = a 2^-2m in [1, 4); r = RN(sqrt(a')) and the
  // remainder a' - r^2 is exact; sqrt(a') - r = remainder / (sqrt(a') + r) ~ rem / 2r.
  int ea = 0;
  const double na = normalized(a, ea);
  const int m = ea >= 0 ? ea / 2 : -((1 - ea) / 2);  // floor(ea / 2)
  const double sa = na * pow2(ea - 2 * m);
  const double r = std::sqrt(sa);
  const double remainder = std::fma(-r, r, sa);
  return round_scaled(r, clamp_below_half_ulp(r, remainder / (2.0 * r)), -m, fmt, mode, rng);
}

double rounded_fma(double a, double b, double c, const Format& fmt, Rounding mode,
                   RandomBits* rng) {
  check_call(fmt, mode, rng, "rounded_fma");
  if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(c))
    return round_checked(std::fma(a, b, c), fmt, mode, rng);
  if (a == 0.0 || b == 0.0) {
    if (c != 0.0) return round_checked(c, fmt, mode, rng);
    return exact_zero_sum(a * b, c, mode);
  }
  if (c == 0.0) return rounded_mul(a, b, fmt, mode, rng);
  // Fast path (narrow operands: p_a + p_b <= 53): a b is exact in double, so the fma
  // is one correctly rounded sum. Above 2^-968 the product error is representable
  // (e_a + e_b >= emin + p - 1 for double), so fma(a, b, -p) == 0 proves exactness.
  const double p = a * b;
  if (std::isfinite(p) && std::fabs(p) >= 0x1.0p-968 && std::fma(a, b, -p) == 0.0)
    return rounded_add(c, p, fmt, mode, rng);

  // General case: x = c + ph + pl (TwoProd of normalized operands), all scaled by
  // 2^-top so the largest term is below 4. A term more than 2^200 below the other
  // only decides the sign of a sticky tail: it is replaced by +-2^-210, which lies
  // below every bit of the other terms and below every half-quantum, so the result
  // is unchanged (the sr probability moves by < 2^-150).
  int ea = 0, eb = 0, ec = 0;
  const double na = normalized(a, ea), nb = normalized(b, eb), nc = normalized(c, ec);
  const double ph = na * nb, pl = std::fma(na, nb, -ph);
  const int ep = ea + eb;
  const int top = std::max(ec, ep + 1);
  constexpr int kGap = 200;
  const double sticky = 0x1.0p-210;
  double cs = std::copysign(sticky, nc), phs = std::copysign(sticky, ph), pls = 0.0;
  if (ec - top >= -kGap) cs = nc * pow2(ec - top);
  if (ep - top >= -kGap) {
    phs = ph * pow2(ep - top);
    pls = pl * pow2(ep - top);
  }
  const auto [hi, lo] = sum_of_three(cs, phs, pls);
  if (hi == 0.0) return exact_zero_sum(c, p, mode);
  return round_scaled(hi, lo, -top, fmt, mode, rng);
}

}  // namespace triscan
