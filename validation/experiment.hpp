// validation/experiment.hpp — one inversion experiment, end to end, exactly as the
// CLI and the study driver run it: generate the input, round it to the format the
// matrices are stored in, invert it with a registered method under a Precision, and
// measure the result against the MPFR reference of the *same rounded input*
// (DESIGN.md "Numerical contracts").
#pragma once

#include <cstdint>
#include <string>

#include "triscan/format.hpp"
#include "triscan/metrics.hpp"
#include "triscan/registry.hpp"
#include "triscan/trinv.hpp"
#include "validation/generators.hpp"

namespace triscan::validation {

// The CLI's precision flags: --format (operands; the default for all four), then
// optional --accumulate, --storage, --output and --rounding. An empty string means
// "not given". Throws std::invalid_argument naming the flag and the bad token.
struct PrecisionFlags {
  std::string format = "fp64";
  std::string accumulate, storage, output;
  std::string rounding = "rn";
  std::string accumulation;  // "", "round-every-op" or "exact-products"
  std::uint64_t seed = 1;
};
Precision make_precision(const PrecisionFlags& flags);

struct InversionRecord {
  std::string method;     // canonical spec
  std::string precision;  // Precision::describe()
  GeneratorParams generator;
  index_t n = 0;
  TrinvResult result;
  InversionMetrics metrics;  // all NaN when the reference cannot be formed (non-finite input)
  bool has_metrics = false;
};

// Runs `method` on the matrix of `generator` (its L rounded to the storage format).
// Needs MPFR (validation/mpfr/experiment.cpp).
InversionRecord run_inversion(const MethodSpec& method, const TrinvOptions& options,
                              const GeneratorParams& generator);

}  // namespace triscan::validation
