// tests/numerics/reference.hpp — oracles for the rounding tests, independent of
// numerics/rounding.cpp:
//   * MPFR (Fousse et al., ACM TOMS 33, 2007) set to the format's precision and
//     exponent range with mpfr_subnormalize: the exact IEEE rounding for rn, rz, ru,
//     rd on the grid that continues up to 2^(emax+1) (infinity beyond);
//   * ties-away (rna), which MPFR's mpfr_set cannot do, from MPFR's RZ and RA results
//     and an exact comparison with their midpoint;
//   * the rules MPFR cannot express (finite max below the grid top as in OCP e4m3,
//     NaN/saturation on overflow, flush to zero), stated here from docs/formats.md;
//   * a brute-force nearest-value search over an explicit list of grid values, for
//     formats without subnormals.
#pragma once

#include <mpfr.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "triscan/format.hpp"

namespace triscan::testing {

inline std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

inline std::string hex(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", x);
  return buf;
}

// Bitwise equality, with every NaN equal to every NaN.
inline bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || bits_of(a) == bits_of(b);
}

inline mpfr_rnd_t to_mpfr(Rounding r) {
  switch (r) {
    case Rounding::nearest_even: return MPFR_RNDN;
    case Rounding::toward_zero: return MPFR_RNDZ;
    case Rounding::up: return MPFR_RNDU;
    case Rounding::down: return MPFR_RNDD;
    default: return MPFR_RNDA;
  }
}

// All nonnegative values of the grid with p bits and smallest normal 2^emin
// (gradual subnormals), continued one binade past emax: j 2^(emin-p+1) for
// j < 2^(p-1), then (2^(p-1) + j) 2^(e-p+1) for e = emin .. emax+1. Only for p <= 16.
inline std::vector<double> grid_values(const Format& f) {
  std::vector<double> v;
  const int m = f.precision - 1;
  for (std::int64_t j = 0; j < (std::int64_t{1} << m); ++j)
    v.push_back(std::ldexp(static_cast<double>(j), f.emin - m));
  for (int e = f.emin; e <= f.emax + 1; ++e)
    for (std::int64_t j = 0; j < (std::int64_t{1} << m); ++j)
      v.push_back(std::ldexp(static_cast<double>((std::int64_t{1} << m) + j), e - m));
  return v;
}

// Inputs around every grid value g (both signs): g, its double neighbours, the
// midpoints to the next value and their double neighbours.
inline std::vector<double> boundary_inputs(const std::vector<double>& grid) {
  std::vector<double> in;
  const double inf = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const double g = grid[i];
    for (double x : {g, std::nextafter(g, inf), std::nextafter(g, -inf)}) in.push_back(x);
    if (i + 1 < grid.size()) {
      const double mid = 0.5 * (g + grid[i + 1]);  // exact: p + 1 <= 53 bits
      for (double x : {mid, std::nextafter(mid, inf), std::nextafter(mid, -inf)}) in.push_back(x);
    }
  }
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) in.push_back(-in[i]);
  return in;
}

// Random finite doubles: 90% with exponent uniform in [emin - p - 20, emax + 4]
// (subnormal range, underflow below it, overflow above max), 10% with any exponent.
inline std::vector<double> random_doubles(const Format& f, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<double> out;
  out.reserve(n);
  const int lo = std::max(-1074, f.emin - f.precision - 20), hi = std::min(1023, f.emax + 4);
  std::uniform_int_distribution<int> exp_dist(lo, hi);
  while (out.size() < n) {
    const std::uint64_t r = gen();
    double x;
    if (r % 10 == 0) {
      std::uint64_t b = gen();
      std::memcpy(&x, &b, sizeof x);
      if (!std::isfinite(x)) continue;
    } else {
      const double m = 1.0 + static_cast<double>(gen() >> 12) * 0x1.0p-52;  // [1, 2)
      x = std::ldexp(m, exp_dist(gen));
      if (r & 2) x = -x;
    }
    out.push_back(x);
  }
  return out;
}

// MPFR configured as the format (precision p; exponent range of the format in MPFR's
// convention, significand in [0.5, 1): 2^emin is 0.1b * 2^(emin+1), the smallest
// subnormal 2^(emin-p+1) has MPFR exponent emin-p+2, and the top binade emax+1).
// Restores MPFR's exponent range on destruction. Reuses its mpfr_t variables.
inline bool testing_same_or_nan(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

class MpfrFormat {
 public:
  explicit MpfrFormat(const Format& f)
      : f_(f), old_emin_(mpfr_get_emin()), old_emax_(mpfr_get_emax()) {
    mpfr_init2(y_, f.precision);
    mpfr_init2(wide_, kWide);
    mpfr_init2(mid_, kWide);
    for (auto* v : {&in_a_, &in_b_, &in_c_}) mpfr_init2(*v, 53);
  }
  ~MpfrFormat() {
    for (auto* v : {&y_, &wide_, &mid_, &in_a_, &in_b_, &in_c_}) mpfr_clear(*v);
    mpfr_set_emin(old_emin_);
    mpfr_set_emax(old_emax_);
  }
  MpfrFormat(const MpfrFormat&) = delete;
  MpfrFormat& operator=(const MpfrFormat&) = delete;

  enum class Op { set, add, sub, mul, div, fma, sqrt };

  // The IEEE result of op on exact double operands in mode (rn/rz/ru/rd/rna) on the
  // grid continued to 2^(emax+1), infinity beyond: no format rules applied yet.
  double ieee(Op op, double a, double b, double c, Rounding mode) {
    if (mode != Rounding::nearest_away) return ieee_directed(op, a, b, c, to_mpfr(mode));
    // Ties away: rn unless the exact result (computed in the wide variable) is the
    // midpoint of its RZ and RA neighbours; quotients and roots of doubles are never
    // ties here because an inexact wide result cannot be a midpoint of <= 54 bits.
    const double rz = ieee_directed(op, a, b, c, MPFR_RNDZ);
    const double ra = ieee_directed(op, a, b, c, MPFR_RNDA);
    if (testing_same_or_nan(rz, ra)) return rz;  // exact (or NaN)
    if (!compute_wide(op, a, b, c)) return ieee_directed(op, a, b, c, MPFR_RNDN);  // no tie
    // "Infinity" stands for the grid point 2^(emax+1), which may be 2^1024.
    if (std::isinf(ra)) {
      mpfr_set_ui_2exp(mid_, 1, f_.emax + 1, MPFR_RNDN);
      if (ra < 0) mpfr_neg(mid_, mid_, MPFR_RNDN);
    } else {
      mpfr_set_d(mid_, ra, MPFR_RNDN);
    }
    mpfr_add_d(mid_, mid_, rz, MPFR_RNDN);  // exact: 2 * 64 bits < kWide
    mpfr_div_2ui(mid_, mid_, 1, MPFR_RNDN);
    return mpfr_cmpabs(wide_, mid_) >= 0 ? ra : rz;
  }

  // The format's result: the IEEE result, then the rules of docs/formats.md for a
  // finite max below the grid top (e4m3), Overflow::nan / saturate, flush to zero.
  double reference(Op op, double a, double b, double c, Rounding mode) {
    const double r = ieee(op, a, b, c, mode);
    if (std::isinf(r) && !overflowed_) {  // an exact infinity (x / 0, inf operand): no overflow
      if (f_.has_infinity) return r;
      if (f_.overflow == Overflow::saturate) return std::copysign(f_.max_finite, r);
      return std::numeric_limits<double>::quiet_NaN();
    }
    return apply_format_rules(r, f_, mode);
  }
  double reference_round(double x, Rounding mode) { return reference(Op::set, x, 0, 0, mode); }

  static double apply_format_rules(double r, const Format& f, Rounding mode) {
    if (std::isnan(r)) return r;
    const bool negative = std::signbit(r);
    if (std::fabs(r) > f.max_finite) {  // overflow (r may be +-inf or a grid value > max)
      const bool to_inf = mode == Rounding::toward_zero ? false
                          : mode == Rounding::up        ? !negative
                          : mode == Rounding::down      ? negative
                                                        : true;
      if (f.overflow == Overflow::saturate || !to_inf)
        return negative ? -f.max_finite : f.max_finite;
      if (f.overflow == Overflow::nan || !f.has_infinity)
        return std::numeric_limits<double>::quiet_NaN();
      return negative ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
    }
    if (f.subnormals == Subnormals::flush_to_zero && r != 0.0 &&
        std::fabs(r) < std::ldexp(1.0, f.emin))
      return negative ? -0.0 : 0.0;
    return r;
  }

 private:
  static constexpr mpfr_prec_t kWide = 2400;  // holds any exact sum/product/fma of doubles

  void narrow_range() {
    mpfr_set_emin(f_.emin - f_.precision + 2);
    mpfr_set_emax(f_.emax + 1);
  }
  void wide_range() {
    mpfr_set_emin(old_emin_);
    mpfr_set_emax(old_emax_);
  }
  void load(double a, double b, double c) {
    mpfr_set_d(in_a_, a, MPFR_RNDN);  // exact: 53 bits, default range
    mpfr_set_d(in_b_, b, MPFR_RNDN);
    mpfr_set_d(in_c_, c, MPFR_RNDN);
  }
  int apply(mpfr_t out, Op op, mpfr_rnd_t rnd) {
    switch (op) {
      case Op::set: return mpfr_set(out, in_a_, rnd);
      case Op::add: return mpfr_add(out, in_a_, in_b_, rnd);
      case Op::sub: return mpfr_sub(out, in_a_, in_b_, rnd);
      case Op::mul: return mpfr_mul(out, in_a_, in_b_, rnd);
      case Op::div: return mpfr_div(out, in_a_, in_b_, rnd);
      case Op::fma: return mpfr_fma(out, in_a_, in_b_, in_c_, rnd);
      case Op::sqrt: return mpfr_sqrt(out, in_a_, rnd);
    }
    return 0;
  }
  // The documented MPFR recipe for emulating a format (mpfr.info, mpfr_subnormalize).
  double ieee_directed(Op op, double a, double b, double c, mpfr_rnd_t rnd) {
    load(a, b, c);
    narrow_range();
    mpfr_clear_flags();
    int t = apply(y_, op, rnd);
    t = mpfr_check_range(y_, t, rnd);
    mpfr_subnormalize(y_, t, rnd);
    overflowed_ = mpfr_overflow_p() != 0;
    const double r = mpfr_get_d(y_, MPFR_RNDN);  // exact: p <= 53 bits in double's range
    wide_range();
    return r;
  }
  // The exact result in wide_ (default exponent range); false when inexact.
  bool compute_wide(Op op, double a, double b, double c) {
    load(a, b, c);
    return apply(wide_, op, MPFR_RNDN) == 0;
  }

  Format f_;
  mpfr_exp_t old_emin_, old_emax_;
  bool overflowed_ = false;
  mpfr_t y_, wide_, mid_, in_a_, in_b_, in_c_;
};

// A sorted list of nonnegative values of a format, each with the parity of its
// integer significand (0 counts as even), for brute-force rounding.
struct ValueList {
  std::vector<double> value;
  std::vector<bool> even;
};

// Brute force over a ValueList: RD and RU of |x|, nearest with ties to the even value.
// Used for formats MPFR cannot emulate (no subnormals: the list is {0, 2^emin, ...}).
inline double list_round(double x, const ValueList& grid, Rounding mode) {
  const double ax = std::fabs(x);
  std::size_t i = 0;
  while (i + 1 < grid.value.size() && grid.value[i + 1] <= ax) ++i;
  const double down = grid.value[i];
  if (down == ax) return x;
  const double up = grid.value[i + 1];
  bool take_up = false;
  const bool negative = std::signbit(x);
  switch (mode) {
    case Rounding::nearest_even:
      take_up = ax - down > up - ax || (ax - down == up - ax && !grid.even[i]);
      break;
    case Rounding::nearest_away: take_up = ax - down >= up - ax; break;
    case Rounding::toward_zero: take_up = false; break;
    case Rounding::up: take_up = !negative; break;
    case Rounding::down: take_up = negative; break;
    default: break;
  }
  const double r = take_up ? up : down;
  return negative ? -r : r;
}

inline const std::vector<Rounding>& deterministic_modes() {
  static const std::vector<Rounding> modes = {Rounding::nearest_even, Rounding::nearest_away,
                                              Rounding::toward_zero, Rounding::up,
                                              Rounding::down};
  return modes;
}

}  // namespace triscan::testing
