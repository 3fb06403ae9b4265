// gpu/chunk_wy.cu — host side of the fused chunk WY kernel (include/triscan/gpu.hpp
// "Fused chunk WY"): argument checks and the dispatch over (BT, D) to the instantiations
// in gpu/chunk_wy_bt*.cu. Design and bounds: docs/gpu-chunk-wy.md.
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "gpu/arg_checks.hpp"
#include "gpu/chunk_wy_kernel.cuh"
#include "gpu/cuda_check.hpp"
#include "gpu/trinv.cuh"
#include "triscan/gpu.hpp"

namespace triscan::gpu {

TRISCAN_EXTERN_LAUNCH_CHUNK_WY(32, 64);
TRISCAN_EXTERN_LAUNCH_CHUNK_WY(32, 128);
TRISCAN_EXTERN_LAUNCH_CHUNK_WY(64, 64);
TRISCAN_EXTERN_LAUNCH_CHUNK_WY(64, 128);
TRISCAN_EXTERN_LAUNCH_CHUNK_WY(128, 128);

namespace {

const detail::ArgChecks check("gpu::chunk_wy");
[[noreturn]] void bad(const std::string& msg) {
  check.fail(msg);
}
void check_pointer(const void* p, const char* what) {
  check.pointer(p, what);
}
using detail::Span;
using detail::span_of;

}  // namespace

void chunk_wy(WyFamily family, const ChunkPlan& plan, const WyGpuInputs& in,
              const WyGpuOutputs& out, const WyGpuOptions& options, std::int32_t* statuses,
              std::int32_t* flag, void* stream) {
  detail::chunk_wy_impl(family, plan, in, out, options, statuses, flag, stream, nullptr);
}

void detail::chunk_wy_impl(WyFamily family, const ChunkPlan& plan, const WyGpuInputs& in,
                           const WyGpuOutputs& out, const WyGpuOptions& options,
                           std::int32_t* statuses, std::int32_t* flag, void* stream,
                           double* g_out, void* xs_out, float* gamma_out) {
  if (family != WyFamily::deltanet && family != WyFamily::gated && family != WyFamily::kda)
    bad("family '" + wy_family_name(family) +
        "' has no GPU kernel (GPU families: deltanet, gated, kda)");
  const bool gated = family == WyFamily::gated || family == WyFamily::kda;
  if (options.method.name != "trinv/recursive_merge")
    bad("method '" + options.method.name +
        "' is not fused (fused: trinv/recursive_merge, base=16)");
  options.method.check_keys({"base"});
  if (options.method.get_int("base", 16, 1, 1 << 20) != 16)
    bad("trinv/recursive_merge is fused with base = 16 only (got base=" +
        options.method.params.at("base") + ")");
  if (in.dtype != DType::bf16 && in.dtype != DType::fp16)
    bad("input dtype " + std::string(dtype_name(in.dtype)) +
        " not supported (bf16 or fp16: the tensor-core operands)");
  if (out.dtype != DType::bf16 && out.dtype != DType::fp16 && out.dtype != DType::fp32)
    bad("unknown output dtype " + std::to_string(static_cast<int>(out.dtype)));
  const ChunkLayout& layout = plan.layout();
  const int bt = static_cast<int>(layout.chunk);
  if (bt != 32 && bt != 64 && bt != 128)
    bad("chunk size " + std::to_string(bt) + " not in {32, 64, 128}");
  if (in.dk != in.dv || (in.dk != 64 && in.dk != 128))
    bad("dk = " + std::to_string(in.dk) + ", dv = " + std::to_string(in.dv) +
        ": the kernel has dk = dv in {64, 128}");
  if (bt == 128 && in.dk != 128) bad("chunk size 128 needs dk = dv = 128");
  const index_t H = layout.heads;
  const index_t Hk = in.key_heads == 0 ? H : in.key_heads;
  if (Hk < 1 || H % Hk != 0)
    bad("key_heads " + std::to_string(in.key_heads) + " does not divide heads " +
        std::to_string(H));

  detail::MatrixAddressing addr = detail::chunk_addressing(plan);
  auto clear_flag = [&] {
    if (flag)
      check_cuda(cudaMemsetAsync(flag, 0, sizeof(int), static_cast<cudaStream_t>(stream)),
                 "cudaMemsetAsync(flag)");
  };
  if (addr.count == 0) return clear_flag();
  check_pointer(in.k, "k");
  check_pointer(in.v, "v");
  check_pointer(in.beta, "beta");
  if (gated) check_pointer(in.g, "g");
  // W and U are required, except on the delta forward's path (xs_out), where they are
  // optional.
  const bool with_wu = !xs_out || out.w;
  if (with_wu) {
    check_pointer(out.w, "w");
    check_pointer(out.u, "u");
  }
  if (out.inverse) check_pointer(out.inverse, "inverse");

  // Byte ranges: rows = B * T token rows (the packed total with cu_seqlens).
  const index_t rows = layout.cu_seqlens.empty() ? layout.batch * layout.length : layout.length;
  const std::size_t isz = 2, osz = out.dtype == DType::fp32 ? 4 : 2;
  const std::size_t r = static_cast<std::size_t>(rows);
  std::vector<Span> inputs = {span_of("k", in.k, r * Hk * in.dk * isz),
                              span_of("v", in.v, r * H * in.dv * isz),
                              span_of("beta", in.beta, r * H * isz)};
  // g: [rows, H] (gated) or [rows, H, dk] (kda) fp32.
  const std::size_t gw = family == WyFamily::kda ? static_cast<std::size_t>(in.dk) : 1;
  if (gated) inputs.push_back(span_of("g", in.g, r * H * gw * sizeof(float)));
  std::vector<Span> outputs;
  if (with_wu) {
    outputs.push_back(span_of("w", out.w, r * H * in.dk * osz));
    outputs.push_back(span_of("u", out.u, r * H * in.dv * osz));
  }
  if (out.inverse) outputs.push_back(span_of("inverse", out.inverse, r * H * bt * osz));
  check.no_overlap(outputs, inputs);

  clear_flag();  // after every check: a call that throws enqueues nothing
  detail::ChunkWyArgs args{in.k,
                           in.v,
                           in.beta,
                           gated ? in.g : nullptr,
                           options.cumulative_g,
                           options.log2_g,
                           options.split_products,
                           options.rounded_reentry,
                           static_cast<int>(Hk),
                           out.w,
                           out.u,
                           out.inverse,
                           statuses,
                           flag,
                           family == WyFamily::kda,
                           family == WyFamily::gated ? g_out : nullptr,
                           xs_out,
                           family == WyFamily::gated ? gamma_out : nullptr};
  auto s = static_cast<cudaStream_t>(stream);
  const int d = static_cast<int>(in.dk);
  if (bt == 32)
    return d == 64 ? detail::launch_chunk_wy<32, 64>(in.dtype, out.dtype, addr, args, s)
                   : detail::launch_chunk_wy<32, 128>(in.dtype, out.dtype, addr, args, s);
  if (bt == 64)
    return d == 64 ? detail::launch_chunk_wy<64, 64>(in.dtype, out.dtype, addr, args, s)
                   : detail::launch_chunk_wy<64, 128>(in.dtype, out.dtype, addr, args, s);
  detail::launch_chunk_wy<128, 128>(in.dtype, out.dtype, addr, args, s);
}

}  // namespace triscan::gpu
