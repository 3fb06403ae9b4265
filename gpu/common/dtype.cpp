// Element-type names of the GPU interface; built with and without CUDA.
#include <stdexcept>
#include <string>

#include "triscan/gpu.hpp"

namespace triscan::gpu {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::fp32: return "fp32";
    case DType::bf16: return "bf16";
    case DType::fp16: return "fp16";
  }
  return "unknown";
}

DType dtype_by_name(std::string_view name) {
  for (DType t : {DType::fp32, DType::bf16, DType::fp16})
    if (dtype_name(t) == name) return t;
  throw std::invalid_argument("gpu: unknown dtype '" + std::string(name) + "' (allowed: fp32, bf16, fp16)");
}

}  // namespace triscan::gpu
