// src/scan/registry.cpp — names, metadata and parameters of the scan algorithms, and
// the names of the transition kinds.
#include "src/scan/registry.hpp"

#include <stdexcept>
#include <string>

namespace triscan {

std::string_view scan_kind_name(ScanKind k) {
  switch (k) {
    case ScanKind::scalar: return "scalar";
    case ScanKind::diagonal: return "diagonal";
    case ScanKind::log_diagonal: return "log_diagonal";
    case ScanKind::dense: return "dense";
    case ScanKind::delta: return "delta";
  }
  return "unknown";
}

ScanKind scan_kind_by_name(std::string_view name) {
  for (ScanKind k : {ScanKind::scalar, ScanKind::diagonal, ScanKind::log_diagonal, ScanKind::dense, ScanKind::delta})
    if (scan_kind_name(k) == name) return k;
  throw std::invalid_argument("unknown scan kind '" + std::string(name) +
                              "' (known: scalar, diagonal, log_diagonal, dense, delta)");
}

const std::vector<ScanAlgorithmInfo>& scan_algorithms() {
  static const std::vector<ScanAlgorithmInfo> infos = {
      {"scan/sequential", "the recurrence token by token (parallel over sequences only)", "T steps",
       "T steps", {}},
      {"scan/hillis_steele",
       "Hillis & Steele 1986: log2 T rounds, x_i <- x_i o x_{i-s} for s = 1, 2, 4, ... (double-buffered)",
       "T ceil(log2 T) combines", "ceil(log2 T) combines", {}},
      {"scan/blelloch",
       "work-efficient up-sweep (reduce) / down-sweep (Blelloch 1990), inclusive form without an identity "
       "(Brent & Kung 1982)",
       "< 2T combines", "< 2 ceil(log2 T) combines", {}},
      {"scan/chunked",
       "chunks of C tokens: per-chunk aggregate, chained scan of chunk carries, fix-up by the recurrence "
       "from each carry (a chunk's data is reused from cache)",
       "< 2T steps/combines + T/C applies", "2C + T/C", {"chunk=256: tokens per chunk (1..2^30)"}},
  };
  return infos;
}

const ScanAlgorithmInfo& scan_algorithm(std::string_view name) {
  for (const auto& a : scan_algorithms())
    if (a.name == name) return a;
  std::string known;
  for (const auto& a : scan_algorithms()) known += (known.empty() ? "" : ", ") + a.name;
  throw std::invalid_argument("unknown scan algorithm '" + std::string(name) + "' (registered: " + known + ")");
}

namespace scan_detail {

Algorithm parse_algorithm(const MethodSpec& spec) {
  scan_algorithm(spec.name);
  Algorithm a;
  if (spec.name == "scan/sequential") {
    spec.check_keys({});
    a.which = Algorithm::sequential;
  } else if (spec.name == "scan/hillis_steele") {
    spec.check_keys({});
    a.which = Algorithm::hillis_steele;
  } else if (spec.name == "scan/blelloch") {
    spec.check_keys({});
    a.which = Algorithm::blelloch;
  } else {
    spec.check_keys({"chunk"});
    a.which = Algorithm::chunked;
    a.chunk = spec.get_int("chunk", 256, 1, 1L << 30);
  }
  return a;
}

}  // namespace scan_detail
}  // namespace triscan
