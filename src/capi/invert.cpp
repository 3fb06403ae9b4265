// src/capi/invert.cpp — the C API's CPU inversion entry points (include/triscan/triscan.h),
// forwarding to triscan::invert_batch / triscan::invert_chunks (include/triscan/trinv.hpp).
// The C layer checks what it can name precisely (pointers, sizes, dtype, flags, method)
// and leaves strides and layouts to the C++ checks, whose messages name the argument.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "src/capi/capi.hpp"
#include "triscan/format.hpp"
#include "triscan/matrix.hpp"
#include "triscan/trinv.hpp"

namespace triscan::capi {
namespace {

constexpr const char* default_method = "trinv/forward_substitution";
constexpr unsigned known_flags = TRISCAN_NON_UNIT_DIAGONAL | TRISCAN_NO_ACCURACY_CHECK;
std::atomic<int> cpu_threads{0};

void require(bool ok, int code, const std::string& what) {
  if (!ok) fail(code, what);
}

}  // namespace

// fp32 or fp64; the precision is that format's, so the driver runs natively.
Format cpu_format(int dtype) {
  if (dtype == TRISCAN_FP32) return format_by_name("fp32");
  if (dtype == TRISCAN_FP64) return format_by_name("fp64");
  if (dtype == TRISCAN_BF16 || dtype == TRISCAN_FP16)
    fail(TRISCAN_ERROR_INVALID_DTYPE, std::string("dtype ") + triscan_dtype_name(dtype) +
                                          " is not supported on the CPU (use fp32 or fp64)");
  fail(TRISCAN_ERROR_INVALID_DTYPE, "dtype " + std::to_string(dtype) + " is not a triscan_dtype");
}

unsigned cpu_thread_count() {
  return static_cast<unsigned>(cpu_threads.load());
}

namespace {

TrinvOptions make_options(int dtype, unsigned flags) {
  require((flags & ~known_flags) == 0u, TRISCAN_ERROR_INVALID_ARGUMENT,
          "flags has unknown bits " + std::to_string(flags & ~known_flags));
  TrinvOptions opt;
  opt.precision = Precision::uniform(cpu_format(dtype));
  opt.diagonal = (flags & TRISCAN_NON_UNIT_DIAGONAL) != 0u ? Diagonal::non_unit : Diagonal::unit;
  opt.check_accuracy = (flags & TRISCAN_NO_ACCURACY_CHECK) == 0u;
  opt.threads = static_cast<unsigned>(cpu_threads.load());
  return opt;
}

// Parses the method and lets the driver check it, its parameters and the options on
// an empty batch, so that every problem of the method is TRISCAN_ERROR_INVALID_METHOD.
}  // namespace

MethodSpec checked_trinv_method(const char* method, const TrinvOptions& opt) {
  const char* text = method ? method : default_method;
  try {
    MethodSpec spec = MethodSpec::parse(text);
    (void)trinv_method(spec.name);
    float probe = 0.0f;
    (void)invert_batch(spec, BatchView<const float>{&probe, 0, 1, 1, 1, 1, 1},
                       BatchView<float>{&probe, 0, 1, 1, 1, 1, 1}, opt);
    return spec;
  } catch (const std::invalid_argument& e) {
    fail(TRISCAN_ERROR_INVALID_METHOD, std::string("method \"") + text + "\": " + e.what());
  }
}

namespace {

MethodSpec checked_method(const char* method, const TrinvOptions& opt) {
  return checked_trinv_method(method, opt);
}

void write_statuses(const std::vector<Status>& s, int32_t* out) {
  if (out)
    std::transform(s.begin(), s.end(), out, [](Status x) { return static_cast<int32_t>(x); });
}

ChunkLayout chunk_layout(int64_t B, int64_t T, int64_t H, int64_t BT, const int64_t* cu_seqlens,
                         int64_t cu_seqlens_len) {
  require(BT >= 1, TRISCAN_ERROR_INVALID_ARGUMENT, "BT must be >= 1, got " + std::to_string(BT));
  require(cu_seqlens_len >= 0, TRISCAN_ERROR_INVALID_ARGUMENT,
          "cu_seqlens_len must be >= 0, got " + std::to_string(cu_seqlens_len));
  require(cu_seqlens != nullptr || cu_seqlens_len == 0, TRISCAN_ERROR_INVALID_ARGUMENT,
          "cu_seqlens is NULL but cu_seqlens_len is " + std::to_string(cu_seqlens_len));
  ChunkLayout layout;
  layout.batch = B;
  layout.length = T;
  layout.heads = H;
  layout.chunk = BT;
  if (cu_seqlens && cu_seqlens_len > 0)
    layout.cu_seqlens.assign(cu_seqlens, cu_seqlens + cu_seqlens_len);
  layout.validate();  // names B, T, H, BT or cu_seqlens
  return layout;
}

}  // namespace

ChunkLayout make_chunk_layout(int64_t B, int64_t T, int64_t H, int64_t BT,
                              const int64_t* cu_seqlens, int64_t cu_seqlens_len) {
  return chunk_layout(B, T, H, BT, cu_seqlens, cu_seqlens_len);
}

}  // namespace triscan::capi

using namespace triscan;
using namespace triscan::capi;

extern "C" {

int triscan_set_cpu_threads(int threads) {
  return guarded("triscan_set_cpu_threads", [&] {
    require(threads >= 0, TRISCAN_ERROR_INVALID_ARGUMENT,
            "threads must be >= 0, got " + std::to_string(threads));
    cpu_threads.store(threads);
    return TRISCAN_SUCCESS;
  });
}

int triscan_chunk_rows(int64_t B, int64_t T, int64_t BT, const int64_t* cu_seqlens,
                       int64_t cu_seqlens_len, int64_t* chunk_rows) {
  return guarded("triscan_chunk_rows", [&] {
    require(chunk_rows != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "chunk_rows is NULL");
    *chunk_rows = chunk_count(chunk_layout(B, T, 1, BT, cu_seqlens, cu_seqlens_len));
    return TRISCAN_SUCCESS;
  });
}

int triscan_invert_batch(const char* method, int dtype, int64_t count, int64_t n, const void* A,
                         int64_t a_batch_stride, int64_t a_row_stride, int64_t a_col_stride,
                         void* X, int64_t x_batch_stride, int64_t x_row_stride,
                         int64_t x_col_stride, unsigned flags, int32_t* statuses,
                         int32_t* worst_status) {
  return guarded("triscan_invert_batch", [&] {
    require(count >= 0, TRISCAN_ERROR_INVALID_ARGUMENT,
            "count must be >= 0, got " + std::to_string(count));
    require(n >= 1, TRISCAN_ERROR_INVALID_ARGUMENT, "n must be >= 1, got " + std::to_string(n));
    require(count == 0 || A != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "A is NULL");
    require(count == 0 || X != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "X is NULL");
    const TrinvOptions opt = make_options(dtype, flags);
    const MethodSpec spec = checked_method(method, opt);
    if (count == 0) {  // nothing to read: the pointers and strides are not looked at
      if (worst_status) *worst_status = TRISCAN_STATUS_OK;
      return TRISCAN_SUCCESS;
    }
    std::vector<Status> s(static_cast<std::size_t>(count));
    Status w = Status::ok;
    if (dtype == TRISCAN_FP64) {
      w = invert_batch(spec,
                       BatchView<const double>{static_cast<const double*>(A), count, a_batch_stride,
                                               n, n, a_row_stride, a_col_stride},
                       BatchView<double>{static_cast<double*>(X), count, x_batch_stride, n, n,
                                         x_row_stride, x_col_stride},
                       opt, s.data());
    } else {
      w = invert_batch(spec,
                       BatchView<const float>{static_cast<const float*>(A), count, a_batch_stride,
                                              n, n, a_row_stride, a_col_stride},
                       BatchView<float>{static_cast<float*>(X), count, x_batch_stride, n, n,
                                        x_row_stride, x_col_stride},
                       opt, s.data());
    }
    write_statuses(s, statuses);
    if (worst_status) *worst_status = static_cast<int32_t>(w);
    return TRISCAN_SUCCESS;
  });
}

int triscan_invert_chunks(const char* method, int dtype, int64_t B, int64_t T, int64_t H,
                          int64_t BT, const int64_t* cu_seqlens, int64_t cu_seqlens_len,
                          const void* A, void* X, unsigned flags, int32_t* statuses,
                          int32_t* worst_status) {
  return guarded("triscan_invert_chunks", [&] {
    const ChunkLayout layout = chunk_layout(B, T, H, BT, cu_seqlens, cu_seqlens_len);
    require((flags & TRISCAN_NON_UNIT_DIAGONAL) == 0u, TRISCAN_ERROR_INVALID_ARGUMENT,
            "flags: TRISCAN_NON_UNIT_DIAGONAL does not apply to the chunk layout (it holds the "
            "strictly lower N "
            "of I + N)");
    const bool empty = layout.elements() == 0;
    require(empty || A != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "A is NULL");
    require(empty || X != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "X is NULL");
    const TrinvOptions opt = make_options(dtype, flags);
    const MethodSpec spec = checked_method(method, opt);
    std::vector<Status> s(static_cast<std::size_t>(chunk_count(layout) * H));
    const Status w = dtype == TRISCAN_FP64
                         ? invert_chunks(spec, layout, static_cast<const double*>(A),
                                         static_cast<double*>(X), opt, s.data())
                         : invert_chunks(spec, layout, static_cast<const float*>(A),
                                         static_cast<float*>(X), opt, s.data());
    write_statuses(s, statuses);
    if (worst_status) *worst_status = static_cast<int32_t>(w);
    return TRISCAN_SUCCESS;
  });
}

}  // extern "C"
