// src/capi/errors.cpp — version, error codes, dtype and status names of the C API
// (include/triscan/triscan.h).
#include <atomic>
#include <string>
#include <string_view>

#include "src/capi/capi.hpp"
#include "triscan/status.hpp"

// The header's version macros must be the project's version (CMake passes it in).
static_assert(
    TRISCAN_VERSION_MAJOR == TRISCAN_PROJECT_VERSION_MAJOR &&
        TRISCAN_VERSION_MINOR == TRISCAN_PROJECT_VERSION_MINOR &&
        TRISCAN_VERSION_PATCH == TRISCAN_PROJECT_VERSION_PATCH,
    "include/triscan/triscan.h's TRISCAN_VERSION_* differ from project(VERSION) in CMakeLists.txt");

// triscan_status must stay triscan::Status, value by value.
static_assert(TRISCAN_STATUS_OK == static_cast<int>(triscan::Status::ok));
static_assert(TRISCAN_STATUS_INACCURATE == static_cast<int>(triscan::Status::inaccurate));
static_assert(TRISCAN_STATUS_NOT_CONVERGED == static_cast<int>(triscan::Status::not_converged));
static_assert(TRISCAN_STATUS_OVERFLOW == static_cast<int>(triscan::Status::overflow));
static_assert(TRISCAN_STATUS_SINGULAR == static_cast<int>(triscan::Status::singular));
static_assert(TRISCAN_STATUS_NONFINITE_INPUT == static_cast<int>(triscan::Status::nonfinite_input));
static_assert(TRISCAN_STATUS_UNSUPPORTED == static_cast<int>(triscan::Status::unsupported));
static_assert(triscan::all_statuses.size() == 7,
              "a new triscan::Status needs a triscan_status value");

namespace triscan::capi {
namespace {
thread_local std::string last_error;
}  // namespace

void set_last_error(const char* function, const std::string& detail) {
  last_error = std::string(function) + ": " + detail;
}

}  // namespace triscan::capi

extern "C" {

const char* triscan_version(void) {
  return TRISCAN_PROJECT_VERSION;
}

void triscan_version_numbers(int* major, int* minor, int* patch) {
  if (major) *major = TRISCAN_PROJECT_VERSION_MAJOR;
  if (minor) *minor = TRISCAN_PROJECT_VERSION_MINOR;
  if (patch) *patch = TRISCAN_PROJECT_VERSION_PATCH;
}

const char* triscan_error_message(int code) {
  switch (code) {
    case TRISCAN_SUCCESS:
      return "success";
    case TRISCAN_ERROR_INVALID_ARGUMENT:
      return "invalid argument";
    case TRISCAN_ERROR_INVALID_METHOD:
      return "invalid method";
    case TRISCAN_ERROR_INVALID_DTYPE:
      return "invalid or unsupported dtype";
    case TRISCAN_ERROR_UNSUPPORTED:
      return "unsupported size, layout or option";
    case TRISCAN_ERROR_NOT_COMPILED:
      return "not compiled (triscan was built without CUDA)";
    case TRISCAN_ERROR_NO_DEVICE:
      return "no usable CUDA device";
    case TRISCAN_ERROR_DEVICE:
      return "CUDA runtime error";
    case TRISCAN_ERROR_OUT_OF_MEMORY:
      return "out of host memory";
    case TRISCAN_ERROR_INTERNAL:
      return "internal error";
    default:
      return "unknown error code";
  }
}

const char* triscan_last_error(void) {
  return triscan::capi::last_error.c_str();
}

const char* triscan_dtype_name(int dtype) {
  switch (dtype) {
    case TRISCAN_FP32:
      return "fp32";
    case TRISCAN_BF16:
      return "bf16";
    case TRISCAN_FP16:
      return "fp16";
    case TRISCAN_FP64:
      return "fp64";
    default:
      return nullptr;
  }
}

const char* triscan_status_name(int status) {
  if (status < 0 || status >= static_cast<int>(triscan::all_statuses.size())) return nullptr;
  // status_name returns views of string literals, so .data() is NUL-terminated.
  return triscan::status_name(static_cast<triscan::Status>(status)).data();
}

}  // extern "C"
