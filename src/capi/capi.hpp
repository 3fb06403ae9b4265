// src/capi/capi.hpp — what every C API translation unit shares (the CPU ones in
// src/capi/, the GPU ones in gpu/capi*.cpp): the thread-local last-error string and
// the exception-to-error-code guard. Not installed; the public interface is
// include/triscan/triscan.h.
#pragma once

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include "triscan/format.hpp"
#include "triscan/matrix.hpp"
#include "triscan/registry.hpp"
#include "triscan/trinv.hpp"
#include "triscan/triscan.h"

namespace triscan::capi {

// An error whose code is known where it is raised.
class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

[[noreturn]] inline void fail(int code, const std::string& what) {
  throw Error(code, what);
}

// Stores `function: detail` as the calling thread's last error (src/capi/errors.cpp).
void set_last_error(const char* function, const std::string& detail);

// Runs body() (which returns TRISCAN_SUCCESS or throws) and turns every exception into
// an error code plus the last-error detail. An std::invalid_argument that escapes the
// C++ layer is an argument error: the C layer checks methods before calling it.
template <class Body>
int guarded(const char* function, Body&& body) noexcept {
  try {
    return body();
  } catch (const Error& e) {
    set_last_error(function, e.what());
    return e.code();
  } catch (const std::invalid_argument& e) {
    set_last_error(function, e.what());
    return TRISCAN_ERROR_INVALID_ARGUMENT;
  } catch (const std::bad_alloc&) {
    set_last_error(function, "out of host memory");
    return TRISCAN_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    set_last_error(function, e.what());
    return TRISCAN_ERROR_INTERNAL;
  } catch (...) {
    set_last_error(function, "unknown exception");
    return TRISCAN_ERROR_INTERNAL;
  }
}

// The ChunkLayout of the C arguments, validated (names BT, cu_seqlens, B, T, H);
// shared by the CPU and GPU chunk entry points (src/capi/invert.cpp).
ChunkLayout make_chunk_layout(int64_t B, int64_t T, int64_t H, int64_t BT,
                              const int64_t* cu_seqlens, int64_t cu_seqlens_len);

// The Format of a CPU dtype (TRISCAN_FP32 / TRISCAN_FP64); TRISCAN_ERROR_INVALID_DTYPE
// otherwise (src/capi/invert.cpp).
Format cpu_format(int dtype);
// The process-wide thread count of triscan_set_cpu_threads (0 = all cores).
unsigned cpu_thread_count();
// `method` (NULL: "trinv/forward_substitution") parsed and checked, parameters and
// options included, on an empty batch; every problem is TRISCAN_ERROR_INVALID_METHOD.
MethodSpec checked_trinv_method(const char* method, const TrinvOptions& opt);

}  // namespace triscan::capi
