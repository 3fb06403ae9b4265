// triscan/scan.hpp — parallel scans of linear recurrences (docs/scan.md).
//
// Left-multiplied states (scalar, diagonal, log-space diagonal, dense kinds):
//   h_t = A_t h_{t-1} + b_t,  t = 1..T,  h_0 given (default 0),
// combined associatively by (A2, b2) o (A1, b1) = (A2 A1, A2 b1 + b2).
// Right-multiplied states (delta kind, S is dv x dk):
//   S_t = S_{t-1} P_t + B_t,  P_t = D_t (I - beta_t k_t k_t^T),  B_t = beta_t v_t k_t^T,
// combined by (P1, B1) then (P2, B2) = (P1 P2, B1 P2 + B2), with D_t = I (DeltaNet),
// exp(g_t) I (Gated DeltaNet, scalar gate) or diag(exp(g_t)) (KDA, per-channel gate on
// the key side).
//
// Algorithms are registered by name (`scan_algorithms()`): scan/sequential,
// scan/hillis_steele, scan/blelloch, scan/chunked:chunk=C. Every algorithm runs under
// any Precision with the carried state in `ScanOptions::state_format`, on
// `ScanOptions::threads` threads, and its result does not depend on the thread count.
//
// Layout. Time-major, row-major, packed over sequences: element (n, ...) of token n,
// n = 0 .. tokens-1. Without cu_seqlens there are `batch` sequences of `length` tokens
// ([B, T, ...]); with cu_seqlens (then batch == 1) sequence i is tokens
// [cu_seqlens[i], cu_seqlens[i+1]) and the recurrence restarts at each sequence start.
//   scalar:       a [N]        b [N, d]   h [N, d]     (one a_t for the d channels)
//   diagonal:     a [N, d]     b [N, d]   h [N, d]
//   log_diagonal: la [N, d]    b [N, d]   h [N, d]     (a_t = exp(la_t) > 0)
//   dense:        A [N, d, d]  b [N, d]   h [N, d]
//   delta:        k [N, dk]  v [N, dv]  beta [N]  g [N] (scalar gate) or [N, dk] (KDA)
//                 S [N, dv, dk]
// h0 (optional) is [sequences, state size]: state size d, or dv*dk for delta.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "triscan/format.hpp"
#include "triscan/matrix.hpp"
#include "triscan/registry.hpp"
#include "triscan/status.hpp"

namespace triscan {

enum class ScanKind { scalar, diagonal, log_diagonal, dense, delta };
std::string_view scan_kind_name(ScanKind k);      // "scalar", "diagonal", "log_diagonal", ...
ScanKind scan_kind_by_name(std::string_view name);  // throws std::invalid_argument

enum class DeltaGate {
  none,     // DeltaNet:       S_t = S_{t-1}(I - b k k^T) + b v k^T
  scalar,   // Gated DeltaNet: S_t = S_{t-1} exp(g_t)(I - b k k^T) + b v k^T
  channel,  // KDA:            S_t = S_{t-1} diag(exp(g_t))(I - b k k^T) + b v k^T
};

template <class T>
struct ScanInput {
  ScanKind kind = ScanKind::diagonal;
  index_t batch = 1;                 // B (1 when cu_seqlens is set)
  index_t length = 0;                // T per sequence, or the packed total with cu_seqlens
  std::vector<index_t> cu_seqlens;   // empty, or [0, l1, l1+l2, ..., length]
  index_t dim = 1;                   // d (all kinds but delta)
  index_t dk = 0, dv = 0;            // delta
  DeltaGate gate = DeltaGate::none;  // delta
  const T* a = nullptr;              // scalar / diagonal / log_diagonal (la) / dense (A)
  const T* b = nullptr;              // all kinds but delta
  const T* k = nullptr;              // delta
  const T* v = nullptr;              // delta
  const T* beta = nullptr;           // delta
  const T* g = nullptr;              // delta with a gate: natural-log decays
  const T* h0 = nullptr;             // optional initial states

  index_t tokens() const { return cu_seqlens.empty() ? batch * length : length; }
  index_t sequences() const {
    return cu_seqlens.empty() ? batch : static_cast<index_t>(cu_seqlens.size()) - 1;
  }
  index_t state_size() const { return kind == ScanKind::delta ? dv * dk : dim; }
};

struct ScanOptions {
  // Inputs are rounded to precision.operand (the format they are stored in); products
  // and sums of the recurrence are rounded to the wider of precision.accumulate and the
  // state format; every carried state and combined element is stored in the state
  // format; the states handed back are rounded to precision.output.
  Precision precision = Precision::uniform(format_by_name("fp64"));
  std::optional<Format> state_format;  // default: precision.storage
  unsigned threads = 0;                // 0 = all cores; results never depend on it
};

struct ScanResult {
  Status status = Status::ok;
  double growth = 0.0;  // largest |value| produced (simulated arithmetic; 0 on the native paths)
  std::string message;  // why a flagged status was set
};

struct ScanAlgorithmInfo {
  std::string name;         // "scan/blelloch"
  std::string description;
  std::string work;         // combines (or steps) as a function of T
  std::string depth;        // longest chain of dependent combines
  std::vector<std::string> params;  // "key=default: meaning"
};

const std::vector<ScanAlgorithmInfo>& scan_algorithms();
// Throws std::invalid_argument naming `name` and listing the registered algorithms.
const ScanAlgorithmInfo& scan_algorithm(std::string_view name);

// Runs the recurrence; h receives tokens() x state_size() states (h_t for every t).
// Invalid arguments (null pointers, non-positive sizes, bad cu_seqlens, unknown
// algorithm or parameter) throw std::invalid_argument naming the argument. Numerical
// trouble is a status: nonfinite_input (h filled with NaN), overflow (a finite input
// produced a non-finite value; h holds what was computed). The float overload runs
// natively when the precision (and state format) is fp32 throughout, and simulated in
// double otherwise (the output format must then be representable in float).
ScanResult scan(const MethodSpec& algorithm, const ScanInput<double>& input, double* h,
                const ScanOptions& options = {});
ScanResult scan(const MethodSpec& algorithm, const ScanInput<float>& input, float* h,
                const ScanOptions& options = {});

}  // namespace triscan
