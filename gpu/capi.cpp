// gpu/capi.cpp — the C API's GPU entry points (include/triscan/triscan.h), forwarding to
// triscan::gpu (include/triscan/gpu.hpp). Built with CUDA; gpu/stub/capi_stub.cpp gives
// the same symbols without it. Arguments are checked on the host before any device
// work, in the order: dtype, method, pointers and layout, supported sizes, device.
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gpu/trinv_method.hpp"
#include "src/capi/capi.hpp"
#include "triscan/gpu.hpp"

namespace triscan::capi {
namespace {

// The GPU default: the fastest kernel (docs/gpu.md, docs/benchmarks.md).
constexpr const char* default_method = "trinv/recursive_merge";

void require(bool ok, int code, const std::string& what) {
  if (!ok) fail(code, what);
}

gpu::DType gpu_dtype(int dtype, const char* what) {
  if (dtype == TRISCAN_FP32 || dtype == TRISCAN_BF16 || dtype == TRISCAN_FP16)
    return static_cast<gpu::DType>(dtype);
  if (dtype == TRISCAN_FP64)
    fail(TRISCAN_ERROR_INVALID_DTYPE,
         std::string(what) + " fp64 is not supported on the GPU (fp32, bf16, fp16)");
  fail(TRISCAN_ERROR_INVALID_DTYPE,
       std::string(what) + " " + std::to_string(dtype) + " is not a triscan_dtype");
}

std::size_t dtype_bytes(gpu::DType t) {
  return t == gpu::DType::fp32 ? 4 : 2;
}

// The GPU methods' names ("name: what it computes" -> "name").
const std::vector<std::string>& gpu_method_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const std::string& entry : gpu::trinv_gpu_methods())
      out.push_back(entry.substr(0, entry.find(':')));
    return out;
  }();
  return names;
}

MethodSpec gpu_method(const char* method) {
  const char* text = method ? method : default_method;
  MethodSpec spec;
  try {
    spec = MethodSpec::parse(text);
  } catch (const std::invalid_argument& e) {
    fail(TRISCAN_ERROR_INVALID_METHOD, std::string("method \"") + text + "\": " + e.what());
  }
  for (const std::string& name : gpu_method_names())
    if (spec.name == name) {
      try {  // the keys, exactly as gpu::invert_* checks them (mma, refine, check, tau)
        gpu::detail::check_trinv_method(spec);
      } catch (const std::invalid_argument& e) {
        fail(TRISCAN_ERROR_INVALID_METHOD, std::string("method \"") + text + "\": " + e.what());
      }
      return spec;
    }
  std::string list;
  for (const std::string& name : gpu_method_names()) list += (list.empty() ? "" : ", ") + name;
  fail(TRISCAN_ERROR_INVALID_METHOD,
       std::string("method \"") + text + "\" has no GPU kernel; GPU methods: " + list);
}

// Device 0 is queried once per process (cudaGetDeviceProperties is slow).
const gpu::DeviceInfo& device() {
  static const gpu::DeviceInfo info = gpu::device_info();
  return info;
}

void require_device() {
  require(device().usable, TRISCAN_ERROR_NO_DEVICE, "no usable CUDA device: " + device().reason);
}

bool aligned16(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

// After the checks above, what remains is a CUDA failure (std::runtime_error).
template <class Body>
int guarded_device(const char* function, Body&& body) noexcept {
  return guarded(function, [&] {
    try {
      return body();
    } catch (const Error&) {
      throw;
    } catch (const std::invalid_argument&) {
      throw;
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      fail(TRISCAN_ERROR_DEVICE, e.what());
    }
  });
}

}  // namespace
}  // namespace triscan::capi

using namespace triscan;
using namespace triscan::capi;

extern "C" {

int triscan_gpu_compiled(void) {
  return 1;
}

int triscan_gpu_available(void) {
  return guarded("triscan_gpu_available", [] {
    require_device();
    return TRISCAN_SUCCESS;
  });
}

const char* triscan_gpu_methods(void) {
  static const std::string text = [] {
    std::string out;
    for (const std::string& name : gpu_method_names()) out += name + "\n";
    return out;
  }();
  return text.c_str();
}

int triscan_gpu_invert_chunks(const char* method, int64_t B, int64_t T, int64_t H, int64_t BT,
                              const int64_t* cu_seqlens, int64_t cu_seqlens_len, int in_dtype,
                              const void* A, int out_dtype, void* X, int32_t* statuses,
                              int32_t* flag, void* stream) {
  return guarded_device("triscan_gpu_invert_chunks", [&] {
    const gpu::DType in = gpu_dtype(in_dtype, "in_dtype");
    const gpu::DType out = gpu_dtype(out_dtype, "out_dtype");
    const MethodSpec spec = gpu_method(method);
    const ChunkLayout layout = make_chunk_layout(B, T, H, BT, cu_seqlens, cu_seqlens_len);
    const bool empty = layout.elements() == 0;
    require(empty || A != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "A is NULL");
    require(empty || X != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "X is NULL");
    require(BT == 16 || BT == 32 || BT == 64 || BT == 128, TRISCAN_ERROR_UNSUPPORTED,
            "BT = " + std::to_string(BT) + " is not supported on the GPU (16, 32, 64, 128)");
    require(empty || aligned16(A), TRISCAN_ERROR_UNSUPPORTED, "A is not 16-byte aligned");
    require_device();
    const gpu::ChunkPlan plan(layout);
    gpu::invert_chunks(spec, plan, in, A, out, X, statuses, flag, stream);
    return TRISCAN_SUCCESS;
  });
}

int triscan_gpu_invert_batch(const char* method, int64_t count, int64_t n, int64_t batch_stride,
                             int64_t row_stride, int in_dtype, const void* A, int out_dtype,
                             void* X, int32_t* statuses, int32_t* flag, void* stream) {
  return guarded_device("triscan_gpu_invert_batch", [&] {
    const gpu::DType in = gpu_dtype(in_dtype, "in_dtype");
    const gpu::DType out = gpu_dtype(out_dtype, "out_dtype");
    const MethodSpec spec = gpu_method(method);
    require(count >= 0, TRISCAN_ERROR_INVALID_ARGUMENT,
            "count must be >= 0, got " + std::to_string(count));
    require(n >= 1, TRISCAN_ERROR_INVALID_ARGUMENT, "n must be >= 1, got " + std::to_string(n));
    require(count == 0 || A != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "A is NULL");
    require(count == 0 || X != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "X is NULL");
    require(
        row_stride >= n, TRISCAN_ERROR_INVALID_ARGUMENT,
        "row_stride " + std::to_string(row_stride) + " is smaller than n = " + std::to_string(n));
    require(count <= 1 || batch_stride >= (n - 1) * row_stride + n, TRISCAN_ERROR_INVALID_ARGUMENT,
            "batch_stride " + std::to_string(batch_stride) + " is smaller than one matrix's span");
    require(n <= 128, TRISCAN_ERROR_UNSUPPORTED,
            "n = " + std::to_string(n) + " is above the GPU's 128");
    const auto bytes = static_cast<int64_t>(dtype_bytes(in));
    require((row_stride * bytes) % 16 == 0 && (batch_stride * bytes) % 16 == 0,
            TRISCAN_ERROR_UNSUPPORTED,
            "row_stride and batch_stride must be multiples of 16 bytes of the input dtype");
    require(count == 0 || aligned16(A), TRISCAN_ERROR_UNSUPPORTED, "A is not 16-byte aligned");
    require_device();
    gpu::invert_batch(spec, count, n, batch_stride, row_stride, in, A, out, X, statuses, flag,
                      stream);
    return TRISCAN_SUCCESS;
  });
}

int triscan_gpu_scan(const char* algorithm, int kind, int64_t B, int64_t T,
                     const int64_t* cu_seqlens, int64_t cu_seqlens_len, int64_t dim,
                     int in_dtype, const void* a, const void* b, const float* h0, int out_dtype,
                     void* h, float* final_state, int32_t* statuses, int32_t* flag, void* stream) {
  return guarded_device("triscan_gpu_scan", [&] {
    const gpu::DType in = gpu_dtype(in_dtype, "in_dtype");
    const gpu::DType out = gpu_dtype(out_dtype, "out_dtype");
    require(kind == TRISCAN_SCAN_SCALAR || kind == TRISCAN_SCAN_DIAGONAL || kind == TRISCAN_SCAN_LOG_DIAGONAL ||
                kind == TRISCAN_SCAN_DENSE || kind == TRISCAN_SCAN_DELTA,
            TRISCAN_ERROR_INVALID_ARGUMENT, "kind " + std::to_string(kind) + " is not a triscan_scan_kind");
    require(kind == TRISCAN_SCAN_SCALAR || kind == TRISCAN_SCAN_DIAGONAL, TRISCAN_ERROR_UNSUPPORTED,
            "kind " + std::to_string(kind) + " has no GPU kernel (TRISCAN_SCAN_SCALAR, TRISCAN_SCAN_DIAGONAL)");
    MethodSpec spec;
    const char* text = algorithm ? algorithm : "scan/chunked";
    try {
      spec = MethodSpec::parse(text);
    } catch (const std::invalid_argument& e) {
      fail(TRISCAN_ERROR_INVALID_METHOD, std::string("algorithm \"") + text + "\": " + e.what());
    }
    require(spec.name == "scan/chunked", TRISCAN_ERROR_INVALID_METHOD,
            std::string("algorithm \"") + text + "\" has no GPU kernel; GPU scans: scan/chunked[:chunk=C]");
    gpu::ScanLayout layout;
    layout.batch = B;
    layout.length = T;
    layout.dim = dim;
    if (cu_seqlens_len > 0) {
      require(cu_seqlens != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, "cu_seqlens is NULL with a length");
      layout.cu_seqlens.assign(cu_seqlens, cu_seqlens + cu_seqlens_len);
    }
    try {
      layout.validate();
    } catch (const std::invalid_argument& e) {
      fail(TRISCAN_ERROR_INVALID_ARGUMENT, e.what());
    }
    const bool empty = layout.tokens() == 0;
    require(empty || (a != nullptr && b != nullptr && h != nullptr), TRISCAN_ERROR_INVALID_ARGUMENT,
            "a, b and h must not be NULL");
    require_device();
    std::unique_ptr<gpu::ScanPlan> plan;
    try {
      plan = std::make_unique<gpu::ScanPlan>(spec, layout);
    } catch (const std::invalid_argument& e) {
      fail(TRISCAN_ERROR_INVALID_METHOD, e.what());
    }
    gpu::scan_diagonal(*plan, kind == TRISCAN_SCAN_SCALAR ? ScanKind::scalar : ScanKind::diagonal, in, a, b, h0, out,
                       h, final_state, statuses, flag, stream);
    // The plan goes out of scope here: its device memory is released by cudaFree, which
    // waits for the device's work in flight (as the chunk table of triscan_gpu_invert_chunks).
    return TRISCAN_SUCCESS;
  });
}

int triscan_gpu_chunk_wy(int family, int64_t B, int64_t T, int64_t H, int64_t key_heads,
                         int64_t dk, int64_t dv, int64_t BT, const int64_t* cu_seqlens,
                         int64_t cu_seqlens_len, int in_dtype, const void* k, const void* v,
                         const void* beta, const float* g, int out_dtype, void* W, void* U,
                         void* Ainv, unsigned flags, int32_t* statuses, int32_t* flag,
                         void* stream) {
  return guarded_device("triscan_gpu_chunk_wy", [&] {
    const gpu::DType in = gpu_dtype(in_dtype, "in_dtype");
    const gpu::DType out = gpu_dtype(out_dtype, "out_dtype");
    require(in != gpu::DType::fp32, TRISCAN_ERROR_INVALID_DTYPE,
            "in_dtype fp32 is not supported by the fused kernel (bf16, fp16)");
    require(family == TRISCAN_WY_DELTANET || family == TRISCAN_WY_GATED || family == TRISCAN_WY_KDA ||
                family == TRISCAN_WY_DPLR,
            TRISCAN_ERROR_INVALID_ARGUMENT, "family " + std::to_string(family) + " is not a triscan_wy_family");
    require(family != TRISCAN_WY_DPLR, TRISCAN_ERROR_UNSUPPORTED,
            std::string("family ") + triscan_wy_family_name(family) + " has no GPU kernel (deltanet, gated, kda)");
    require((flags & ~(TRISCAN_CUMULATIVE_G | TRISCAN_G_LOG2 | TRISCAN_ROUNDED_PRODUCTS |
                       TRISCAN_ROUNDED_REENTRY)) == 0,
            TRISCAN_ERROR_INVALID_ARGUMENT,
            "flags " + std::to_string(flags) +
                ": only TRISCAN_CUMULATIVE_G, TRISCAN_G_LOG2, TRISCAN_ROUNDED_PRODUCTS and "
                "TRISCAN_ROUNDED_REENTRY apply");
    const ChunkLayout layout = make_chunk_layout(B, T, H, BT, cu_seqlens, cu_seqlens_len);
    require(BT == 32 || BT == 64 || BT == 128, TRISCAN_ERROR_UNSUPPORTED,
            "BT = " + std::to_string(BT) + " is not supported by the fused kernel (32, 64, 128)");
    require(dk == dv && (dk == 64 || dk == 128) && (BT < 128 || dk == 128), TRISCAN_ERROR_UNSUPPORTED,
            "dk = " + std::to_string(dk) + ", dv = " + std::to_string(dv) +
                " not supported by the fused kernel (dk = dv in {64, 128}; 128 when BT = 128)");
    require(key_heads >= 0 && (key_heads == 0 || H % key_heads == 0), TRISCAN_ERROR_INVALID_ARGUMENT,
            "key_heads " + std::to_string(key_heads) + " does not divide H = " + std::to_string(H));
    const bool empty = layout.elements() == 0;
    for (const auto& [p, name] : {std::pair<const void*, const char*>{k, "k"}, {v, "v"}, {beta, "beta"}, {W, "W"}, {U, "U"}}) {
      require(empty || p != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, std::string(name) + " is NULL");
      require(empty || aligned16(p), TRISCAN_ERROR_UNSUPPORTED, std::string(name) + " is not 16-byte aligned");
    }
    require(empty || family == TRISCAN_WY_DELTANET || g != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT,
            std::string("g is NULL (family ") + triscan_wy_family_name(family) + ")");
    require_device();
    const gpu::ChunkPlan plan(layout);
    gpu::WyGpuInputs gi;
    gi.dtype = in;
    gi.k = k;
    gi.v = v;
    gi.beta = beta;
    gi.g = g;
    gi.dk = dk;
    gi.dv = dv;
    gi.key_heads = key_heads;
    gpu::WyGpuOutputs go;
    go.dtype = out;
    go.w = W;
    go.u = U;
    go.inverse = Ainv;
    gpu::WyGpuOptions opt;
    opt.cumulative_g = (flags & TRISCAN_CUMULATIVE_G) != 0;
    opt.log2_g = (flags & TRISCAN_G_LOG2) != 0;
    opt.split_products = (flags & TRISCAN_ROUNDED_PRODUCTS) == 0;
    opt.rounded_reentry = (flags & TRISCAN_ROUNDED_REENTRY) != 0;
    const WyFamily fam = family == TRISCAN_WY_GATED ? WyFamily::gated
                         : family == TRISCAN_WY_KDA ? WyFamily::kda
                                                    : WyFamily::deltanet;
    gpu::chunk_wy(fam, plan, gi, go, opt, statuses, flag, stream);
    return TRISCAN_SUCCESS;
  });
}

int triscan_gpu_delta_forward(int family, int64_t B, int64_t T, int64_t H, int64_t key_heads,
                              int64_t dk, int64_t dv, int64_t BT, const int64_t* cu_seqlens,
                              int64_t cu_seqlens_len, int in_dtype, const void* q, const void* k,
                              const void* v, const void* beta, const float* g,
                              const float* initial_state, float scale, int segments, int out_dtype,
                              void* o, float* final_state, unsigned flags, int32_t* statuses,
                              int32_t* flag, void* stream) {
  return guarded_device("triscan_gpu_delta_forward", [&] {
    const gpu::DType in = gpu_dtype(in_dtype, "in_dtype");
    const gpu::DType out = gpu_dtype(out_dtype, "out_dtype");
    require(in != gpu::DType::fp32, TRISCAN_ERROR_INVALID_DTYPE,
            "in_dtype fp32 is not supported (bf16, fp16: the tensor-core operands)");
    require(family == TRISCAN_WY_DELTANET || family == TRISCAN_WY_GATED || family == TRISCAN_WY_KDA ||
                family == TRISCAN_WY_DPLR,
            TRISCAN_ERROR_INVALID_ARGUMENT, "family " + std::to_string(family) + " is not a triscan_wy_family");
    require(family == TRISCAN_WY_DELTANET || family == TRISCAN_WY_GATED, TRISCAN_ERROR_UNSUPPORTED,
            std::string("family ") + triscan_wy_family_name(family) + " has no GPU kernel (deltanet, gated)");
    const unsigned known = TRISCAN_CUMULATIVE_G | TRISCAN_G_LOG2 | TRISCAN_ROUNDED_PRODUCTS | TRISCAN_STATE_TRANSPOSED;
    require((flags & ~known) == 0, TRISCAN_ERROR_INVALID_ARGUMENT,
            "flags " + std::to_string(flags) +
                ": only TRISCAN_CUMULATIVE_G, TRISCAN_G_LOG2, TRISCAN_ROUNDED_PRODUCTS and "
                "TRISCAN_STATE_TRANSPOSED apply");
    const ChunkLayout layout = make_chunk_layout(B, T, H, BT, cu_seqlens, cu_seqlens_len);
    require(BT == 32 || BT == 64, TRISCAN_ERROR_UNSUPPORTED,
            "BT = " + std::to_string(BT) + " is not supported by the GPU forward (32, 64)");
    require(dk == dv && (dk == 64 || dk == 128), TRISCAN_ERROR_UNSUPPORTED,
            "dk = " + std::to_string(dk) + ", dv = " + std::to_string(dv) +
                " not supported by the GPU forward (dk = dv in {64, 128})");
    require(key_heads >= 0 && (key_heads == 0 || H % key_heads == 0), TRISCAN_ERROR_INVALID_ARGUMENT,
            "key_heads " + std::to_string(key_heads) + " does not divide H = " + std::to_string(H));
    require(std::isfinite(scale), TRISCAN_ERROR_INVALID_ARGUMENT, "scale is not finite");
    require(segments >= 1 && segments <= 4096, TRISCAN_ERROR_INVALID_ARGUMENT,
            "segments = " + std::to_string(segments) + " not in [1, 4096]");
    const bool empty = layout.elements() == 0;
    for (const auto& [p, name] :
         {std::pair<const void*, const char*>{q, "q"}, {k, "k"}, {v, "v"}, {beta, "beta"}, {o, "o"}}) {
      require(empty || p != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT, std::string(name) + " is NULL");
      require(empty || aligned16(p), TRISCAN_ERROR_UNSUPPORTED, std::string(name) + " is not 16-byte aligned");
    }
    require(empty || family != TRISCAN_WY_GATED || g != nullptr, TRISCAN_ERROR_INVALID_ARGUMENT,
            "g is NULL (family gated)");
    require_device();
    const gpu::ChunkPlan plan(layout);
    gpu::DeltaGpuInputs gi;
    gi.dtype = in;
    gi.q = q;
    gi.k = k;
    gi.v = v;
    gi.beta = beta;
    gi.g = family == TRISCAN_WY_GATED ? g : nullptr;
    gi.initial_state = initial_state;
    gi.dk = dk;
    gi.dv = dv;
    gi.key_heads = key_heads;
    gpu::DeltaGpuOutputs go;
    go.dtype = out;
    go.o = o;
    go.final_state = final_state;
    gpu::DeltaGpuOptions opt;
    opt.cumulative_g = (flags & TRISCAN_CUMULATIVE_G) != 0;
    opt.log2_g = (flags & TRISCAN_G_LOG2) != 0;
    opt.split_products = (flags & TRISCAN_ROUNDED_PRODUCTS) == 0;
    opt.state_transposed = (flags & TRISCAN_STATE_TRANSPOSED) != 0;
    opt.scale = scale;
    opt.segments = segments;
    gpu::delta_forward(family == TRISCAN_WY_GATED ? WyFamily::gated : WyFamily::deltanet, plan, gi, go, opt,
                       statuses, flag, stream);
    return TRISCAN_SUCCESS;
  });
}

}  // extern "C"
