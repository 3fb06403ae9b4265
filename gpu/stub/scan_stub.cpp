// Built when no CUDA compiler was found: the scan entry points validate what they can
// and report "not compiled" (std::runtime_error).
#include <stdexcept>
#include <string>

#include "triscan/gpu.hpp"

namespace triscan::gpu {

struct ScanPlan::Device {};

std::vector<std::string> scan_gpu_methods() {
  return {};
}

ScanPlan::ScanPlan(const MethodSpec&, const ScanLayout& layout) : layout_(layout) {
  layout_.validate();
  throw std::runtime_error("gpu::ScanPlan: not compiled (triscan was built without CUDA)");
}
ScanPlan::~ScanPlan() = default;

void scan_diagonal(const ScanPlan&, ScanKind, DType, const void*, const void*, const float*, DType,
                   void*, float*, std::int32_t*, std::int32_t*, void*) {
  throw std::runtime_error("gpu::scan_diagonal: not compiled (triscan was built without CUDA)");
}

namespace detail {
void set_scan_epoch_for_testing(const ScanPlan&, unsigned) {
  throw std::runtime_error("gpu::detail::set_scan_epoch_for_testing: not compiled (no CUDA)");
}
}  // namespace detail

}  // namespace triscan::gpu
