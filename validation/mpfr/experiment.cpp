#include "validation/experiment.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "triscan/reference.hpp"

namespace triscan::validation {
namespace {

const Format& format_flag(const std::string& flag, const std::string& name, const Format& fallback) {
  if (name.empty()) return fallback;
  try {
    return format_by_name(name);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("--" + flag + ": " + e.what());
  }
}

bool all_finite(const Matrix<double>& M) {
  for (index_t i = 0; i < M.rows(); ++i)
    for (index_t j = 0; j < M.cols(); ++j)
      if (!std::isfinite(M(i, j))) return false;
  return true;
}

}  // namespace

Precision make_precision(const PrecisionFlags& flags) {
  const Format& base = format_flag("format", flags.format, format_by_name("fp64"));
  Rounding mode;
  try {
    mode = rounding_by_name(flags.rounding);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("--rounding: ") + e.what());
  }
  Precision p = Precision::uniform(base, mode);
  p.accumulate = format_flag("accumulate", flags.accumulate, base);
  p.storage = format_flag("storage", flags.storage, base);
  p.output = format_flag("output", flags.output, base);
  if (!flags.accumulation.empty()) p.accumulation = accumulation_by_name(flags.accumulation);
  p.seed = flags.seed;
  return p;
}

InversionRecord run_inversion(const MethodSpec& method, const TrinvOptions& options,
                              const GeneratorParams& generator) {
  InversionRecord rec;
  rec.method = method.to_string();
  rec.precision = options.precision.describe();
  rec.generator = generator;
  rec.n = generator.n;

  // The input as the method sees it: L rounded (to nearest) to the storage format.
  Generated g = generate(generator);
  Matrix<double> A = g.L;
  for (index_t i = 0; i < A.rows(); ++i)
    for (index_t j = 0; j < A.cols(); ++j)
      A(i, j) = round(A(i, j), options.precision.storage, Rounding::nearest_even);

  TrinvOptions opts = options;
  opts.diagonal = g.diagonal;
  Matrix<double> X(A.rows(), A.cols());
  rec.result = invert(method, A.view(), X.view(), opts);

  // The reference needs a finite, non-singular input; otherwise the metrics are NaN
  // and the status (nonfinite_input / singular) carries the information.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  rec.metrics = {nan, nan, nan, nan, nan, nan, nan, nan, nan, 0};
  if (!all_finite(A)) return rec;
  try {
    const unsigned bits = reference_bits_for(options.precision.accumulate);
    const Matrix<mp_float> ref = reference_inverse(A.view(), opts.triangle, opts.diagonal, bits);
    const Matrix<double> hi = round_to_double(ref), lo = rounding_remainder(ref);
    if (!all_finite(hi)) return rec;  // the exact inverse overflows double: no metrics
    rec.metrics = compute_inversion_metrics(A.view(), X.view(), hi.view(), opts.triangle,
                                            opts.diagonal, options.precision.working_unit_roundoff(),
                                            rec.result.growth, lo.view());
    rec.has_metrics = true;
  } catch (const std::domain_error&) {
    // singular input: the status says so
  }
  return rec;
}

}  // namespace triscan::validation
