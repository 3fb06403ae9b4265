// gpu/baselines.cu — vendor baselines behind the same interface as triscan's kernels,
// for the benchmarks: cuBLAS batched TRSM and cuSOLVER TRTRI.
//
// Row-major L = I + N seen column-major is U = L^T (unit upper), so solving
// U Y = I column-major gives Y = U^-1 = (L^-1)^T, i.e. L^-1 row-major: the buffers
// need no transposition.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu/cuda_check.hpp"
#include "triscan/gpu.hpp"

namespace triscan::gpu {
namespace {

void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLAS error in ") + what + ": status " + std::to_string(static_cast<int>(s)));
}

void check_cusolver(cusolverStatus_t s, const char* what) {
  if (s != CUSOLVER_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuSOLVER error in ") + what + ": status " +
                             std::to_string(static_cast<int>(s)));
}

__global__ void set_identity_kernel(float* X, long long count, int n) {
  const long long total = count * n * n;
  for (long long e = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long r = e % (static_cast<long long>(n) * n);
    X[e] = (r / n == r % n) ? 1.0f : 0.0f;
  }
}

__global__ void pointer_array_kernel(const float* A, float* X, long long count, long long stride, const float** pa,
                                     float** px) {
  for (long long b = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; b < count;
       b += static_cast<long long>(gridDim.x) * blockDim.x) {
    pa[b] = A + b * stride;
    px[b] = X + b * stride;
  }
}

// One cuBLAS handle and the last pointer arrays, reused across calls (benchmarks call
// with the same buffers many times). Guarded by a mutex; not for concurrent streams.
struct TrsmState {
  std::mutex mutex;
  cublasHandle_t handle = nullptr;
  const float* A = nullptr;
  float* X = nullptr;
  long long count = 0, n = 0;
  const float** pa = nullptr;
  float** px = nullptr;
};

TrsmState& trsm_state() {
  static TrsmState s;
  return s;
}

}  // namespace

void cublas_trsm_batched_inverse(index_t count, index_t n, const float* A, float* X, void* stream) {
  if (count < 0 || n < 1 || n > 4096)
    throw std::invalid_argument("cublas_trsm_batched_inverse: need count >= 0 and 1 <= n <= 4096");
  if (count == 0) return;
  auto s = static_cast<cudaStream_t>(stream);
  TrsmState& st = trsm_state();
  std::lock_guard<std::mutex> lock(st.mutex);
  if (!st.handle) check_cublas(cublasCreate(&st.handle), "cublasCreate");
  check_cublas(cublasSetStream(st.handle, s), "cublasSetStream");
  if (st.A != A || st.X != X || st.count != count || st.n != n) {
    if (st.pa) cudaFree(st.pa);
    if (st.px) cudaFree(st.px);
    st.pa = nullptr;
    st.px = nullptr;
    check_cuda(cudaMalloc(&st.pa, count * sizeof(float*)), "cudaMalloc(pointer array)");
    check_cuda(cudaMalloc(&st.px, count * sizeof(float*)), "cudaMalloc(pointer array)");
    pointer_array_kernel<<<256, 256, 0, s>>>(A, X, count, n * n, st.pa, st.px);
    check_cuda(cudaGetLastError(), "pointer_array_kernel");
    st.A = A;
    st.X = X;
    st.count = count;
    st.n = n;
  }
  set_identity_kernel<<<1024, 256, 0, s>>>(X, count, static_cast<int>(n));
  check_cuda(cudaGetLastError(), "set_identity_kernel");
  const float one = 1.0f;
  const int ni = static_cast<int>(n);
  check_cublas(cublasStrsmBatched(st.handle, CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N,
                                  CUBLAS_DIAG_UNIT, ni, ni, &one, st.pa, ni, st.px, ni, static_cast<int>(count)),
               "cublasStrsmBatched");
}

int cusolver_trtri_inplace(index_t n, float* A, index_t lda, void* stream) {
  if (n < 1 || lda < n) throw std::invalid_argument("cusolver_trtri_inplace: need n >= 1 and lda >= n");
  auto s = static_cast<cudaStream_t>(stream);
  cusolverDnHandle_t handle = nullptr;
  check_cusolver(cusolverDnCreate(&handle), "cusolverDnCreate");
  struct Guard {
    cusolverDnHandle_t h;
    ~Guard() { cusolverDnDestroy(h); }
  } guard{handle};
  check_cusolver(cusolverDnSetStream(handle, s), "cusolverDnSetStream");
  std::size_t dev_bytes = 0, host_bytes = 0;
  check_cusolver(cusolverDnXtrtri_bufferSize(handle, CUBLAS_FILL_MODE_LOWER, CUBLAS_DIAG_UNIT, n, CUDA_R_32F, A,
                                             lda, &dev_bytes, &host_bytes),
                 "cusolverDnXtrtri_bufferSize");
  DeviceBuffer<unsigned char> work(dev_bytes > 0 ? dev_bytes : 1);
  std::vector<unsigned char> host_work(host_bytes > 0 ? host_bytes : 1);
  DeviceBuffer<int> info(1);
  check_cusolver(cusolverDnXtrtri(handle, CUBLAS_FILL_MODE_LOWER, CUBLAS_DIAG_UNIT, n, CUDA_R_32F, A, lda,
                                  work.get(), dev_bytes, host_work.data(), host_bytes, info.get()),
                 "cusolverDnXtrtri");
  int h_info = 0;
  check_cuda(cudaMemcpyAsync(&h_info, info.get(), sizeof(int), cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync(info)");
  check_cuda(cudaStreamSynchronize(s), "cudaStreamSynchronize");
  return h_info;
}

}  // namespace triscan::gpu
