// gpu/trinv_capi.cpp — a minimal C entry point into the batched inversion, for callers
// that hold device pointers but no C++ (bench/fla_compare.py loads libtriscan_gpu with
// ctypes and passes torch tensors' data_ptr()). It forwards to
// triscan::gpu::invert_chunks (include/triscan/gpu.hpp), which documents the layout,
// the contracts and the statuses.
//
//   int triscan_gpu_invert_chunks(const char* method, int64 B, int64 T, int64 H, int64 BT,
//                                 const int64* cu_seqlens /* host, or NULL */, int64 n_cu,
//                                 int in_dtype, const void* A, int out_dtype, void* X,
//                                 int32* statuses /* device, or NULL */, int32* flag /* device, or NULL */,
//                                 void* stream, char* error, int64 error_len);
//
// dtypes: 0 = fp32, 1 = bf16, 2 = fp16. Returns 0 on success (launched, asynchronous),
// 1 for an invalid argument, 2 for a CUDA/runtime error; the message goes to `error`
// (NUL-terminated, truncated to error_len). With cu_seqlens the chunk table is built
// and uploaded on every call (a synchronous copy): time fixed-length calls for speed.
#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "triscan/gpu.hpp"

namespace {

void write_error(char* error, std::int64_t error_len, const char* what) {
  if (!error || error_len <= 0) return;
  std::strncpy(error, what, static_cast<std::size_t>(error_len - 1));
  error[error_len - 1] = '\0';
}

}  // namespace

extern "C" int triscan_gpu_invert_chunks(const char* method, std::int64_t B, std::int64_t T, std::int64_t H,
                                         std::int64_t BT, const std::int64_t* cu_seqlens, std::int64_t n_cu,
                                         int in_dtype, const void* A, int out_dtype, void* X,
                                         std::int32_t* statuses, std::int32_t* flag, void* stream, char* error,
                                         std::int64_t error_len) {
  try {
    if (!method) throw std::invalid_argument("method is NULL");
    triscan::ChunkLayout layout;
    layout.batch = B;
    layout.length = T;
    layout.heads = H;
    layout.chunk = BT;
    if (cu_seqlens && n_cu > 0) layout.cu_seqlens.assign(cu_seqlens, cu_seqlens + n_cu);
    const triscan::gpu::ChunkPlan plan(layout);
    triscan::gpu::invert_chunks(triscan::MethodSpec::parse(method), plan, static_cast<triscan::gpu::DType>(in_dtype),
                                A, static_cast<triscan::gpu::DType>(out_dtype), X, statuses, flag, stream);
    return 0;
  } catch (const std::invalid_argument& e) {
    write_error(error, error_len, e.what());
    return 1;
  } catch (const std::exception& e) {
    write_error(error, error_len, e.what());
    return 2;
  }
}
