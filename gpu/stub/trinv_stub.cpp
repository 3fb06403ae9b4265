// Built when no CUDA compiler was found: the inversion entry points validate what
// they can and report "not compiled" (std::runtime_error).
#include <stdexcept>
#include <string>

#include "triscan/gpu.hpp"

namespace triscan::gpu {
namespace {
[[noreturn]] void not_compiled(const char* what) {
  throw std::runtime_error(std::string(what) + ": not compiled (triscan was built without CUDA)");
}
}  // namespace

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

std::vector<std::string> trinv_gpu_methods() { return {}; }

ChunkPlan::ChunkPlan(const ChunkLayout& layout) : layout_(layout) {
  layout_.validate();
  not_compiled("gpu::ChunkPlan");
}
ChunkPlan::~ChunkPlan() = default;

void invert_chunks(const MethodSpec&, const ChunkPlan&, DType, const void*, DType, void*, std::int32_t*,
                   std::int32_t*, void*) {
  not_compiled("gpu::invert_chunks");
}
void invert_batch(const MethodSpec&, index_t, index_t, index_t, index_t, DType, const void*, DType, void*,
                  std::int32_t*, std::int32_t*, void*) {
  not_compiled("gpu::invert_batch");
}
void cublas_trsm_batched_inverse(index_t, index_t, const float*, float*, void*) {
  not_compiled("gpu::cublas_trsm_batched_inverse");
}
int cusolver_trtri_inplace(index_t, float*, index_t, void*) { not_compiled("gpu::cusolver_trtri_inplace"); }

}  // namespace triscan::gpu

namespace triscan::gpu {

DeviceBytes::DeviceBytes(std::size_t bytes) : size_(bytes) {
  if (bytes > 0) throw std::runtime_error("gpu::DeviceBytes: not compiled (triscan was built without CUDA)");
}
DeviceBytes::~DeviceBytes() = default;
void DeviceBytes::upload(const void*, std::size_t) { throw std::runtime_error("gpu::DeviceBytes: not compiled"); }
void DeviceBytes::download(void*, std::size_t) const { throw std::runtime_error("gpu::DeviceBytes: not compiled"); }
void DeviceBytes::fill32(std::uint32_t) { throw std::runtime_error("gpu::DeviceBytes: not compiled"); }
void synchronize() { throw std::runtime_error("gpu::synchronize: not compiled (triscan was built without CUDA)"); }

}  // namespace triscan::gpu
