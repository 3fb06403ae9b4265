// Built when no CUDA compiler was found: the C API's GPU entry points
// (include/triscan/triscan.h) exist and return TRISCAN_ERROR_NOT_COMPILED.
#include <cstdint>

#include "src/capi/capi.hpp"

namespace {
int not_compiled(const char* function) {
  triscan::capi::set_last_error(function, "not compiled (triscan was built without CUDA)");
  return TRISCAN_ERROR_NOT_COMPILED;
}
}  // namespace

extern "C" {

int triscan_gpu_compiled(void) {
  return 0;
}
int triscan_gpu_available(void) {
  return not_compiled("triscan_gpu_available");
}
const char* triscan_gpu_methods(void) {
  return "";
}

int triscan_gpu_invert_chunks(const char*, int64_t, int64_t, int64_t, int64_t, const int64_t*,
                              int64_t, int, const void*, int, void*, int32_t*, int32_t*, void*) {
  return not_compiled("triscan_gpu_invert_chunks");
}

int triscan_gpu_invert_batch(const char*, int64_t, int64_t, int64_t, int64_t, int, const void*, int,
                             void*, int32_t*, int32_t*, void*) {
  return not_compiled("triscan_gpu_invert_batch");
}

int triscan_gpu_scan(const char*, int, int64_t, int64_t, const int64_t*, int64_t, int64_t, int,
                     const void*, const void*, const float*, int, void*, float*, int32_t*, int32_t*,
                     void*) {
  return not_compiled("triscan_gpu_scan");
}

int triscan_gpu_chunk_wy(int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                         const int64_t*, int64_t, int, const void*, const void*, const void*,
                         const float*, int, void*, void*, void*, unsigned, int32_t*, int32_t*, void*) {
  return not_compiled("triscan_gpu_chunk_wy");
}

int triscan_gpu_delta_forward(int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                              const int64_t*, int64_t, int, const void*, const void*, const void*,
                              const void*, const float*, const float*, float, int, int, void*,
                              float*, unsigned, int32_t*, int32_t*, void*) {
  return not_compiled("triscan_gpu_delta_forward");
}

}  // extern "C"
