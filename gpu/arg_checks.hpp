// gpu/arg_checks.hpp — argument checks shared by the host sides of the GPU entry points
// (gpu/chunk_wy.cu, gpu/delta.cu): std::invalid_argument messages prefixed by the entry
// point's name, device-pointer checks, and the overlap test between output and input
// byte ranges. Plain C++ (no CUDA).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace triscan::gpu::detail {

// One named device buffer's byte range [begin, end).
struct Span {
  const char* name;
  std::uintptr_t begin, end;
};
inline Span span_of(const char* name, const void* p, std::size_t bytes) {
  const auto b = reinterpret_cast<std::uintptr_t>(p);
  return {name, b, b + bytes};
}

class ArgChecks {
 public:
  explicit ArgChecks(std::string function) : function_(std::move(function)) {}
  [[noreturn]] void fail(const std::string& msg) const {
    throw std::invalid_argument(function_ + ": " + msg);
  }
  // Non-null and 16-byte aligned (the kernels' vector loads and cp.async).
  void pointer(const void* p, const char* what) const {
    if (!p) fail(std::string("null ") + what);
    if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0)
      fail(std::string(what) + " is not 16-byte aligned");
  }
  // No output may overlap an input or another output.
  void no_overlap(const std::vector<Span>& outputs, const std::vector<Span>& inputs) const {
    auto overlap = [](const Span& a, const Span& b) { return a.begin < b.end && b.begin < a.end; };
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      for (const Span& s : inputs)
        if (overlap(outputs[i], s))
          fail(std::string("output ") + outputs[i].name + " overlaps input " + s.name);
      for (std::size_t j = 0; j < i; ++j)
        if (overlap(outputs[i], outputs[j]))
          fail(std::string("outputs ") + outputs[i].name + " and " + outputs[j].name + " overlap");
    }
  }

 private:
  std::string function_;
};

}  // namespace triscan::gpu::detail
