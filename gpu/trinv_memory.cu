// gpu/trinv_memory.cu — DeviceBytes and synchronize() (include/triscan/gpu.hpp).
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "gpu/cuda_check.hpp"
#include "triscan/gpu.hpp"

namespace triscan::gpu {
namespace {

__global__ void fill32_kernel(std::uint32_t* p, std::size_t words, std::uint32_t pattern) {
  for (std::size_t e = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; e < words;
       e += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    p[e] = pattern;
}

void check_bytes(std::size_t bytes, std::size_t size, const char* what) {
  if (bytes > size)
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(bytes) + " bytes exceed the allocation of " +
                                std::to_string(size));
}

}  // namespace

DeviceBytes::DeviceBytes(std::size_t bytes) : size_(bytes) {
  if (size_ > 0) check_cuda(cudaMalloc(&ptr_, size_), "cudaMalloc");
}

DeviceBytes::~DeviceBytes() {
  if (ptr_) cudaFree(ptr_);
}

void DeviceBytes::upload(const void* host, std::size_t bytes) {
  check_bytes(bytes, size_, "DeviceBytes::upload");
  if (bytes) check_cuda(cudaMemcpy(ptr_, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy(upload)");
}

void DeviceBytes::download(void* host, std::size_t bytes) const {
  check_bytes(bytes, size_, "DeviceBytes::download");
  if (bytes) check_cuda(cudaMemcpy(host, ptr_, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy(download)");
}

void DeviceBytes::fill32(std::uint32_t pattern) {
  const std::size_t words = size_ / 4;
  if (words == 0) return;
  fill32_kernel<<<1024, 256>>>(static_cast<std::uint32_t*>(ptr_), words, pattern);
  check_cuda(cudaGetLastError(), "fill32_kernel launch");
  check_cuda(cudaDeviceSynchronize(), "fill32_kernel");
}

void synchronize() { check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

}  // namespace triscan::gpu
