// gpu/delta.cu — host side of the GPU chunkwise delta-rule forward (include/triscan/
// gpu.hpp "Chunkwise delta-rule forward"): argument checks, the workspace, the fused chunk
// WY kernel, then the chunk-state kernel (gpu/delta_kernel.cuh, instantiated in
// gpu/delta_bt*.cu). Design and bound: docs/gpu-delta.md.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu/cuda_check.hpp"
#include "gpu/delta_kernel.cuh"
#include "triscan/delta.hpp"
#include "triscan/gpu.hpp"

namespace triscan::gpu {

TRISCAN_EXTERN_LAUNCH_DELTA_STATE(32, 64);
TRISCAN_EXTERN_LAUNCH_DELTA_STATE(32, 128);
TRISCAN_EXTERN_LAUNCH_DELTA_STATE(64, 64);
TRISCAN_EXTERN_LAUNCH_DELTA_STATE(64, 128);

namespace {

[[noreturn]] void bad(const std::string& msg) {
  throw std::invalid_argument("gpu::delta_forward: " + msg);
}

void check_pointer(const void* p, const char* what) {
  if (!p) bad(std::string("null ") + what);
  if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0)
    bad(std::string(what) + " is not 16-byte aligned");
}

struct Span {
  const char* name;
  std::uintptr_t begin, end;
};
Span span_of(const char* name, const void* p, std::size_t bytes) {
  const auto b = reinterpret_cast<std::uintptr_t>(p);
  return {name, b, b + bytes};
}
bool overlap(const Span& a, const Span& b) {
  return a.begin < b.end && b.begin < a.end;
}

// Stream-ordered device memory, freed (stream-ordered) when the call returns.
struct AsyncBytes {
  void* ptr = nullptr;
  cudaStream_t stream;
  AsyncBytes(std::size_t bytes, cudaStream_t s) : stream(s) {
    if (bytes) check_cuda(cudaMallocAsync(&ptr, bytes, s), "cudaMallocAsync(delta workspace)");
  }
  ~AsyncBytes() {
    if (ptr) cudaFreeAsync(ptr, stream);
  }
  AsyncBytes(const AsyncBytes&) = delete;
  AsyncBytes& operator=(const AsyncBytes&) = delete;
};

}  // namespace

void delta_forward(WyFamily family, const ChunkPlan& plan, const DeltaGpuInputs& in,
                   const DeltaGpuOutputs& out, const DeltaGpuOptions& options,
                   std::int32_t* statuses, std::int32_t* flag, void* stream) {
  if (family != WyFamily::deltanet && family != WyFamily::gated)
    bad("family '" + wy_family_name(family) +
        "' has no GPU kernel (GPU families: deltanet, gated)");
  if (in.dtype != DType::bf16 && in.dtype != DType::fp16)
    bad("input dtype " + std::string(dtype_name(in.dtype)) +
        " not supported (bf16 or fp16: the tensor-core operands)");
  if (out.dtype != DType::bf16 && out.dtype != DType::fp16 && out.dtype != DType::fp32)
    bad("unknown output dtype " + std::to_string(static_cast<int>(out.dtype)));
  const ChunkLayout& layout = plan.layout();
  const int bt = static_cast<int>(layout.chunk);
  if (bt != 32 && bt != 64) bad("chunk size " + std::to_string(bt) + " not in {32, 64}");
  if (in.dk != in.dv || (in.dk != 64 && in.dk != 128))
    bad("dk = " + std::to_string(in.dk) + ", dv = " + std::to_string(in.dv) +
        ": the kernel has dk = dv in {64, 128}");
  if (!std::isfinite(options.scale)) bad("scale is not finite");
  if ((out.w == nullptr) != (out.u == nullptr)) bad("give both w and u, or neither");
  const index_t H = layout.heads;
  const index_t Hk = in.key_heads == 0 ? H : in.key_heads;
  if (Hk < 1 || H % Hk != 0)
    bad("key_heads " + std::to_string(in.key_heads) + " does not divide heads " +
        std::to_string(H));
  const index_t N = sequence_count(layout);
  const index_t rows = layout.cu_seqlens.empty() ? layout.batch * layout.length : layout.length;
  auto s = static_cast<cudaStream_t>(stream);
  auto clear_flag = [&] {
    if (flag)
      check_cuda(cudaMemsetAsync(flag, 0, sizeof(int), s), "cudaMemsetAsync(flag)");
  };
  if (N == 0 || H == 0) return clear_flag();
  check_pointer(in.q, "q");
  check_pointer(in.k, "k");
  check_pointer(in.v, "v");
  check_pointer(in.beta, "beta");
  if (family == WyFamily::gated) check_pointer(in.g, "g");
  if (in.initial_state) check_pointer(in.initial_state, "initial_state");
  check_pointer(out.o, "o");
  if (out.final_state) check_pointer(out.final_state, "final_state");
  if (out.w) {
    check_pointer(out.w, "w");
    check_pointer(out.u, "u");
  }
  const std::size_t r = static_cast<std::size_t>(rows), d = static_cast<std::size_t>(in.dk),
                    osz = out.dtype == DType::fp32 ? 4 : 2, states = static_cast<std::size_t>(N * H) * d * d * 4;
  std::vector<Span> inputs = {span_of("q", in.q, r * Hk * d * 2), span_of("k", in.k, r * Hk * d * 2),
                              span_of("v", in.v, r * H * d * 2), span_of("beta", in.beta, r * H * 2)};
  if (family == WyFamily::gated) inputs.push_back(span_of("g", in.g, r * H * 4));
  if (in.initial_state) inputs.push_back(span_of("initial_state", in.initial_state, states));
  std::vector<Span> outputs = {span_of("o", out.o, r * H * d * osz)};
  if (out.final_state) outputs.push_back(span_of("final_state", out.final_state, states));
  if (out.w) {
    outputs.push_back(span_of("w", out.w, r * H * d * 2));
    outputs.push_back(span_of("u", out.u, r * H * d * 2));
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (const Span& sp : inputs)
      if (overlap(outputs[i], sp))
        bad(std::string("output ") + outputs[i].name + " overlaps input " + sp.name);
    for (std::size_t j = 0; j < i; ++j)
      if (overlap(outputs[i], outputs[j]))
        bad(std::string("outputs ") + outputs[i].name + " and " + outputs[j].name + " overlap");
  }

  // Sequence tables: bos[N + 1] and the chunk row of each sequence's first chunk.
  std::vector<std::int64_t> tables(2 * static_cast<std::size_t>(N + 1));
  {
    std::int64_t row = 0;
    for (index_t n = 0; n <= N; ++n) {
      const std::int64_t b =
          layout.cu_seqlens.empty() ? n * layout.length : layout.cu_seqlens[static_cast<std::size_t>(n)];
      tables[static_cast<std::size_t>(n)] = b;
      tables[static_cast<std::size_t>(N + 1 + n)] = row;
      if (n < N) {
        const std::int64_t len = layout.cu_seqlens.empty()
                                     ? layout.length
                                     : layout.cu_seqlens[static_cast<std::size_t>(n + 1)] - b;
        row += (len + bt - 1) / bt;
      }
    }
  }
  const std::size_t wu_bytes = out.w ? 0 : 2 * r * H * d * 2;
  // chunk_wy's statuses in the workspace: the chunk-state kernel's blocks read them while
  // sibling blocks (the D / 64 blocks of a (sequence, head)) add theirs to `statuses`.
  const std::size_t stat_bytes = static_cast<std::size_t>(plan.chunk_rows() * H) * 4;
  const std::size_t table_bytes = tables.size() * sizeof(std::int64_t);
  AsyncBytes work(wu_bytes + ((stat_bytes + 15) / 16) * 16 + table_bytes, s);
  auto* base = static_cast<unsigned char*>(work.ptr);
  void* w = out.w ? out.w : base;
  void* u = out.u ? out.u : base + r * H * d * 2;
  auto* wy_st = reinterpret_cast<std::int32_t*>(base + wu_bytes);
  auto* table = reinterpret_cast<std::int64_t*>(base + wu_bytes + ((stat_bytes + 15) / 16) * 16);
  check_cuda(cudaMemcpyAsync(table, tables.data(), table_bytes, cudaMemcpyHostToDevice, s),
             "cudaMemcpyAsync(sequence table)");

  WyGpuInputs wi;
  wi.dtype = in.dtype;
  wi.k = in.k;
  wi.v = in.v;
  wi.beta = in.beta;
  wi.g = in.g;
  wi.dk = in.dk;
  wi.dv = in.dv;
  wi.key_heads = in.key_heads;
  WyGpuOutputs wo;
  wo.dtype = in.dtype;
  wo.w = w;
  wo.u = u;
  WyGpuOptions wopt;
  wopt.cumulative_g = options.cumulative_g;
  wopt.log2_g = options.log2_g;
  wopt.split_products = options.split_products;
  chunk_wy(family, plan, wi, wo, wopt, wy_st, flag, stream);
  if (statuses)
    check_cuda(cudaMemsetAsync(statuses, 0, stat_bytes, s), "cudaMemsetAsync(statuses)");

  detail::DeltaArgs args{in.q,
                         in.k,
                         w,
                         u,
                         family == WyFamily::gated ? in.g : nullptr,
                         options.cumulative_g,
                         options.log2_g,
                         options.split_products,
                         options.state_transposed,
                         static_cast<int>(H),
                         static_cast<int>(Hk),
                         options.scale,
                         in.initial_state,
                         out.final_state,
                         out.o,
                         table,
                         table + (N + 1),
                         wy_st,
                         statuses,
                         flag};
  const long long seqs = static_cast<long long>(N);
  if (bt == 32)
    return in.dk == 64 ? detail::launch_delta_state<32, 64>(in.dtype, out.dtype, seqs, args, s)
                       : detail::launch_delta_state<32, 128>(in.dtype, out.dtype, seqs, args, s);
  in.dk == 64 ? detail::launch_delta_state<64, 64>(in.dtype, out.dtype, seqs, args, s)
              : detail::launch_delta_state<64, 128>(in.dtype, out.dtype, seqs, args, s);
}

}  // namespace triscan::gpu
