// The GPU scan layout's checks (include/triscan/gpu.hpp); built with and without CUDA.
#include <stdexcept>
#include <string>

#include "triscan/gpu.hpp"

namespace triscan::gpu {

void ScanLayout::validate() const {
  const std::string what = "gpu::ScanLayout: ";
  if (dim < 1)
    throw std::invalid_argument(what + "'dim' must be >= 1 (got " + std::to_string(dim) + ")");
  if (length < 0) throw std::invalid_argument(what + "'length' is negative");
  if (cu_seqlens.empty()) {
    if (batch < 1) throw std::invalid_argument(what + "'batch' must be >= 1");
    return;
  }
  if (batch != 1) throw std::invalid_argument(what + "'batch' must be 1 with cu_seqlens");
  if (cu_seqlens.size() < 2 || cu_seqlens.front() != 0 || cu_seqlens.back() != length)
    throw std::invalid_argument(what + "'cu_seqlens' must run from 0 to length");
  for (std::size_t i = 1; i < cu_seqlens.size(); ++i)
    if (cu_seqlens[i] < cu_seqlens[i - 1])
      throw std::invalid_argument(what + "'cu_seqlens' is not non-decreasing at entry " +
                                  std::to_string(i));
}

}  // namespace triscan::gpu
