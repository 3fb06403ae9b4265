// validation/scan_experiment.hpp — one scan experiment end to end, as the CLI, the
// length sweep and the tests run it: generate a recurrence, round its inputs to the
// operand format, scan it with a registered algorithm, and measure the states against
// the MPFR sequential scan of the *same rounded inputs*, next to an a-priori error
// bound (docs/scan.md "Error bounds").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "triscan/scan.hpp"

namespace triscan::validation {

// A generated recurrence (all inputs deterministic functions of the seed):
//   scalar/diagonal: a ~ U(decay_min, 1), b ~ N(0, 1)
//   log_diagonal:    la ~ U(log(decay_min), 0), b ~ N(0, 1)
//   dense:           A_t with N(0, 1) entries scaled to ||A_t||_F = 1 (so ||A_t||_2 <= 1)
//   delta:           k_t unit-norm Gaussian, v ~ N(0, 1), beta ~ U(0, 1),
//                    g ~ U(gate, 0) (scalar gate) or per key channel (KDA)
//   h0 (with_h0):    N(0, 1)
struct ScanCase {
  ScanKind kind = ScanKind::diagonal;
  index_t length = 1024;  // T per sequence (packed total with cu_seqlens)
  index_t dim = 4;        // d; for delta dk = dv = dim unless dk/dv are set
  index_t dk = 0, dv = 0;
  DeltaGate gate = DeltaGate::none;
  double gate_value = -0.1;
  double decay_min = 0.95;
  index_t batch = 1;
  std::vector<index_t> cu_seqlens;
  bool with_h0 = false;
  std::uint64_t seed = 1;
};

struct ScanData {
  ScanCase c;
  std::vector<double> a, b, k, v, beta, g, h0;
  ScanInput<double> input() const;  // views into this object
};

// The generated inputs rounded (to nearest) to `input_format`.
ScanData generate_scan(const ScanCase& c, const Format& input_format);

// MPFR sequential scan of `in` at `bits` bits (products, sums and exp rounded to `bits`
// bits), each state then rounded to the nearest double. Needs MPFR
// (validation/mpfr/scan.cpp).
std::vector<double> reference_scan(const ScanInput<double>& in, unsigned bits = 256);

// The depth term D of the bound for an algorithm over sequences of at most `length`
// tokens: 0 for scan/sequential and scan/chunked (their error paths are sequential:
// covered by the distance term), ceil(log2 T) for scan/hillis_steele, 2 ceil(log2 T)
// for scan/blelloch.
index_t scan_bound_depth(const std::string& algorithm, index_t length);

// The a-priori bound on |h^_t - h_t| (docs/scan.md "Error bounds"), one entry per
// state component for scalar/diagonal/log_diagonal and one per token (on the 2-norm of
// the state) for dense/delta. `h_ref` is the reference (for the output-rounding term).
// u is the unit roundoff of the state format (the compute format is never narrower).
std::vector<double> scan_error_bound(const ScanInput<double>& in, const std::string& algorithm,
                                     const ScanOptions& options, const std::vector<double>& h_ref);

struct ScanErrors {
  double forward_error = 0;   // ||H^ - H||_F / ||H||_F over all states
  double max_rel_error = 0;   // max_t ||h^_t - h_t||_2 / ||h_t||_2
  double bound_ratio = 0;     // max of |error| / bound over the bound's entries (<= 1: within)
  index_t worst_token = -1;   // where bound_ratio is attained
};
ScanErrors measure_scan(const ScanInput<double>& in, const std::vector<double>& h,
                        const std::vector<double>& h_ref, const std::vector<double>& bound);

struct ScanRecord {
  std::string algorithm;  // canonical spec
  std::string precision;  // Precision::describe() plus the state format
  ScanCase c;
  ScanResult result;
  ScanErrors errors;      // NaN when the status is nonfinite_input
  std::vector<double> h;  // the states the algorithm returned
};

// Inputs rounded to options.precision.operand, then scan + reference + bound.
ScanRecord run_scan_experiment(const MethodSpec& algorithm, const ScanOptions& options, const ScanCase& c);

}  // namespace triscan::validation
