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

namespace triscan::gpu {
void chunk_wy(WyFamily, const ChunkPlan&, const WyGpuInputs&, const WyGpuOutputs&, const WyGpuOptions&,
              std::int32_t*, std::int32_t*, void*) {
  throw std::runtime_error("gpu::chunk_wy: not compiled (triscan was built without CUDA)");
}
}  // namespace triscan::gpu
namespace triscan::gpu {
void delta_forward(WyFamily, const ChunkPlan&, const DeltaGpuInputs&, const DeltaGpuOutputs&,
                   const DeltaGpuOptions&, std::int32_t*, std::int32_t*, void*) {
  throw std::runtime_error("gpu::delta_forward: not compiled (triscan was built without CUDA)");
}
}  // namespace triscan::gpu
