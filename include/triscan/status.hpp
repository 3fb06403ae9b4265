// triscan/status.hpp — per-result statuses (DESIGN.md "Statuses").
#pragma once

#include <array>
#include <string_view>

namespace triscan {

// Ordered from best to worst: `worst(a, b)` is the one further down.
enum class Status : int {
  ok = 0,
  inaccurate,       // finite output that failed the a-posteriori accuracy check
  not_converged,    // an iteration stopped before its stopping test was met
  overflow,         // an intermediate or the output overflowed the working format
  singular,         // zero or non-finite diagonal entry
  nonfinite_input,  // NaN or Inf in the part of the input that is read
  unsupported,      // size, layout or option the method does not support
};

inline constexpr std::array<Status, 7> all_statuses = {
    Status::ok,       Status::inaccurate,      Status::not_converged, Status::overflow,
    Status::singular, Status::nonfinite_input, Status::unsupported};

constexpr std::string_view status_name(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::inaccurate: return "inaccurate";
    case Status::not_converged: return "not_converged";
    case Status::overflow: return "overflow";
    case Status::singular: return "singular";
    case Status::nonfinite_input: return "nonfinite_input";
    case Status::unsupported: return "unsupported";
  }
  return "unknown";
}

constexpr Status worst(Status a, Status b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

}  // namespace triscan
