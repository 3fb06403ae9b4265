// src/scan/registry.hpp — the registered scan algorithms, parsed from a MethodSpec
// (not installed).
#pragma once

#include "triscan/registry.hpp"
#include "triscan/scan.hpp"

namespace triscan::scan_detail {

struct Algorithm {
  enum Which { sequential, hillis_steele, blelloch, chunked } which = sequential;
  index_t chunk = 256;  // scan/chunked: tokens per chunk
};

// Throws std::invalid_argument naming an unknown algorithm (listing the registered
// ones) or a bad parameter.
Algorithm parse_algorithm(const MethodSpec& spec);

}  // namespace triscan::scan_detail
