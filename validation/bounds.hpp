// validation/bounds.hpp — a-priori forward-error bounds of the triangular-inversion
// methods, evaluated on a given input, for the stability study (docs/study.md
// "Bounds" has each derivation). Every bound is on the metric forward_error_inf,
// ||X^ - L^-1||_inf / ||L^-1||_inf, and is first order in u (terms O(u^2) dropped,
// as in the sources' "<~"), so a measured error above it is a finding to look at,
// not a proof of a bug. A method without a known bound gets none.
//
// u is the working unit roundoff: the largest u of the Precision's four formats
// (Precision::working_unit_roundoff), doubled for the directed and stochastic
// rounding modes, whose one-operation error is below the spacing 2u, not u.
// gamma_k = k u / (1 - k u) (Higham, ASNA 2nd ed., Lemma 3.1), +inf when k u >= 1.
//
// Each constant counts, besides the method's own analysis, the rounding of the input
// to the operand format and of the output to the output format (one u |X||L||X| term
// each, for Method 1 bounded by u |X||L||X^| because |X||L| >= I on the diagonal).
#pragma once

#include <optional>
#include <string>

#include "triscan/format.hpp"
#include "triscan/metrics.hpp"
#include "triscan/registry.hpp"

namespace triscan::validation {

struct ForwardErrorBound {
  std::string name;   // which bound, e.g. "gamma_{n+3} cond(L)"
  double value = 0;   // the bound on forward_error_inf (+inf when it says nothing)
};

// The bound's formula and source for `method` (any parameters), "" when none is known.
std::string forward_error_bound_formula(const MethodSpec& method);

// The bound for `method` on the n x n lower triangular input L (the matrix the method
// saw; unit diagonal taken as 1 when `diagonal` is unit) under `precision`; `metrics`
// supplies kappa and cond (computed from the MPFR reference). std::nullopt when the
// method has no known bound for this case (e.g. Newton-Schulz from the scaled start,
// refinement, the iterative methods on non-unit input).
std::optional<ForwardErrorBound> forward_error_bound(const MethodSpec& method,
                                                     const Precision& precision,
                                                     MatrixView<const double> L, Diagonal diagonal,
                                                     const InversionMetrics& metrics);

// gamma_k for unit roundoff u (+inf when k u >= 1).
double gamma_bound(double k, double u);
// The u the bounds use for `precision` (see above).
double bound_unit_roundoff(const Precision& precision);

}  // namespace triscan::validation
