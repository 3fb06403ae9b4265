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

#include "gpu/arg_checks.hpp"
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

const detail::ArgChecks check("gpu::delta_forward");
[[noreturn]] void bad(const std::string& msg) {
  check.fail(msg);
}
void check_pointer(const void* p, const char* what) {
  check.pointer(p, what);
}
using detail::Span;
using detail::span_of;

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

// One block of 256 threads per (sequence, head). S (row stride D + 4) and the segment's P
// (two buffers: P_{j+1} is copied by cp.async while S P_j + B_j is formed) in shared memory;
// thread (tr, tc) = (t / 16, t % 16) forms the TS x TS entries of S P_j + B_j (TS = D / 16)
// in rows TS tr.. and in TS / 4 groups of 4 columns, 4 tc.. + D / (TS / 4) per group (so that
// the 16-byte reads of a row of P by 8 lanes are contiguous), in registers, each entry one
// fp32 fma chain over k = 0..D-1 in order starting from B_j (deterministic; the order of
// docs/gpu-delta.md "Segments").
constexpr int combine_threads = 256;
template <int D>
constexpr int combine_ld() {
  return D + 4;
}
template <int D>
constexpr int combine_bytes() {
  return (D * combine_ld<D>() + 2 * D * D) * static_cast<int>(sizeof(float));
}

template <int D>
__global__ void __launch_bounds__(combine_threads)
    combine_segments_kernel(int heads, const std::int64_t* seg_begin,
                            const std::int64_t* seg_first_row, const float* h0, bool transposed,
                            const float* P, const float* B, float* starts, float* final_state,
                            const int* wy, int* start_status) {
  constexpr int TS = D / 16, LD = combine_ld<D>(), NT = combine_threads, GW = D / (TS / 4);
  static_assert(TS % 4 == 0, "float4 rows of P");
  extern __shared__ __align__(16) float buf[];
  __shared__ int seg_max;
  float* cur = buf;            // D x LD
  float* pbuf = buf + D * LD;  // two D x D
  const int t = threadIdx.x, tr = t / 16, tc = t % 16, h = static_cast<int>(blockIdx.x % heads);
  // The first of the 4 columns of group c / 4 (c = 0, 4, ..).
  auto col = [&](int c) { return (c / 4) * GW + 4 * tc; };
  const long long n = blockIdx.x / heads;
  constexpr std::size_t DD = static_cast<std::size_t>(D) * D;
  const std::size_t s0 = (static_cast<std::size_t>(n) * heads + h) * DD;
  bool bad = false;
  for (int e = t; e < D * D; e += NT) {
    const int r = e / D, c = e % D;
    const float x = h0 ? h0[s0 + (transposed ? c * D + r : e)] : 0.0f;
    bad |= !isfinite(x);
    cur[r * LD + c] = x;
  }
  const long long j0 = seg_begin[n], j1 = seg_begin[n + 1];
  auto load_p = [&](long long j) {  // P_j into buffer (j - j0) mod 2, one commit group
    const float* src = P + (static_cast<std::size_t>(j) * heads + h) * DD;
    float* dst = pbuf + ((j - j0) & 1) * DD;
    for (int e = 4 * t; e < D * D; e += 4 * NT) detail::fused::cp_async_16(dst + e, src + e, 16);
    detail::fused::cp_async_commit();
  };
  if (j0 < j1) load_p(j0);
  int status = __syncthreads_or(bad) ? static_cast<int>(Status::nonfinite_input) : 0;
  for (long long j = j0; j < j1; ++j) {
    // Past the previous segment's last barrier nobody reads the other buffer any more.
    if (j + 1 < j1)
      load_p(j + 1);
    else
      detail::fused::cp_async_commit();  // an empty group: P_j is then the older one
    const std::size_t sj = (static_cast<std::size_t>(j) * heads + h) * DD;
    const float* pj = pbuf + ((j - j0) & 1) * DD;
    bool nf = false;
    for (int e = t; e < D * D; e += NT) {
      const float x = cur[(e / D) * LD + e % D];
      starts[sj + e] = x;
      nf |= !isfinite(x);
    }
    if (t == 0) seg_max = 0;
    // This thread's copies of P_j landed; the barrier publishes everyone's.
    detail::fused::cp_async_wait<1>();
    const int st = max(status, __syncthreads_or(nf) ? static_cast<int>(Status::overflow) : 0);
    if (t == 0) start_status[j * heads + h] = st;
    float acc[TS][TS];
#pragma unroll
    for (int i = 0; i < TS; ++i)
#pragma unroll
      for (int c = 0; c < TS; c += 4) {
        const float4 bv =
            *reinterpret_cast<const float4*>(B + sj + (TS * tr + i) * D + col(c));
        acc[i][c] = bv.x;
        acc[i][c + 1] = bv.y;
        acc[i][c + 2] = bv.z;
        acc[i][c + 3] = bv.w;
      }
#pragma unroll 1
    for (int k0 = 0; k0 < D; k0 += 4) {
      float4 a[TS];
#pragma unroll
      for (int i = 0; i < TS; ++i)
        a[i] = *reinterpret_cast<const float4*>(cur + (TS * tr + i) * LD + k0);
#pragma unroll
      for (int kk = 0; kk < 4; ++kk) {
        float b[TS];
#pragma unroll
        for (int c = 0; c < TS; c += 4)
          *reinterpret_cast<float4*>(b + c) =
              *reinterpret_cast<const float4*>(pj + (k0 + kk) * D + col(c));
#pragma unroll
        for (int i = 0; i < TS; ++i) {
          const float x = kk == 0 ? a[i].x : kk == 1 ? a[i].y : kk == 2 ? a[i].z : a[i].w;
#pragma unroll
          for (int c = 0; c < TS; ++c) acc[i][c] = fmaf(x, b[c], acc[i][c]);
        }
      }
    }
    // chunk_wy's statuses of the segment's chunks reach the later segments.
    int m = 0;
    for (long long row = seg_first_row[j] + t; row < seg_first_row[j + 1]; row += NT)
      m = max(m, wy[row * heads + h]);
    atomicMax(&seg_max, m);
    __syncthreads();  // S and P_j read by everyone; seg_max complete
#pragma unroll
    for (int i = 0; i < TS; ++i)
#pragma unroll
      for (int c = 0; c < TS; c += 4)
        *reinterpret_cast<float4*>(cur + (TS * tr + i) * LD + col(c)) =
            make_float4(acc[i][c], acc[i][c + 1], acc[i][c + 2], acc[i][c + 3]);
    status = max(st, seg_max);
    __syncthreads();
  }
  if (final_state)
    for (int e = t; e < D * D; e += NT) {
      const int r = e / D, c = e % D;
      final_state[s0 + (transposed ? c * D + r : e)] = cur[r * LD + c];
    }
}

template <int D>
void launch_combine(int sequences, int heads, const std::int64_t* seg_begin,
                    const std::int64_t* seg_first_row, const float* h0, bool transposed,
                    const float* P, const float* B, float* starts, float* final_state,
                    const int* wy_statuses, int* start_status, cudaStream_t stream) {
  static const cudaError_t attr_err =
      cudaFuncSetAttribute(combine_segments_kernel<D>,
                           cudaFuncAttributeMaxDynamicSharedMemorySize, combine_bytes<D>());
  check_cuda(attr_err, "cudaFuncSetAttribute(combine_segments_kernel)");
  combine_segments_kernel<D><<<static_cast<unsigned>(sequences) * heads, combine_threads,
                               combine_bytes<D>(), stream>>>(
      heads, seg_begin, seg_first_row, h0, transposed, P, B, starts, final_state, wy_statuses,
      start_status);
  check_cuda(cudaGetLastError(), "combine_segments_kernel launch");
}

}  // namespace

namespace detail {
void launch_combine_segments(int sequences, int heads, int D, const std::int64_t* seg_begin,
                             const std::int64_t* seg_first_row, const float* h0, bool transposed,
                             const float* P, const float* B, float* starts, float* final_state,
                             const int* wy_statuses, int* start_status, cudaStream_t stream) {
  if (D == 64)
    return launch_combine<64>(sequences, heads, seg_begin, seg_first_row, h0, transposed, P, B,
                              starts, final_state, wy_statuses, start_status, stream);
  if (D != 128) throw std::logic_error("launch_combine_segments: D must be 64 or 128");
  launch_combine<128>(sequences, heads, seg_begin, seg_first_row, h0, transposed, P, B, starts,
                      final_state, wy_statuses, start_status, stream);
}
}  // namespace detail

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
  if (options.segments < 1 || options.segments > 4096)
    bad("segments = " + std::to_string(options.segments) + " not in [1, 4096]");
  const index_t H = layout.heads;
  const index_t Hk = in.key_heads == 0 ? H : in.key_heads;
  if (Hk < 1 || H % Hk != 0)
    bad("key_heads " + std::to_string(in.key_heads) + " does not divide heads " +
        std::to_string(H));
  const index_t N = sequence_count(layout);
  const index_t rows = layout.cu_seqlens.empty() ? layout.batch * layout.length : layout.length;
  auto s = static_cast<cudaStream_t>(stream);
  auto clear_flag = [&] {
    if (flag) check_cuda(cudaMemsetAsync(flag, 0, sizeof(int), s), "cudaMemsetAsync(flag)");
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
  if (out.inverse_beta) check_pointer(out.inverse_beta, "inverse_beta");
  const std::size_t r = static_cast<std::size_t>(rows), d = static_cast<std::size_t>(in.dk),
                    osz = out.dtype == DType::fp32 ? 4 : 2,
                    states = static_cast<std::size_t>(N * H) * d * d * 4;
  std::vector<Span> inputs = {span_of("q", in.q, r * Hk * d * 2),
                              span_of("k", in.k, r * Hk * d * 2), span_of("v", in.v, r * H * d * 2),
                              span_of("beta", in.beta, r * H * 2)};
  if (family == WyFamily::gated) inputs.push_back(span_of("g", in.g, r * H * 4));
  if (in.initial_state) inputs.push_back(span_of("initial_state", in.initial_state, states));
  std::vector<Span> outputs = {span_of("o", out.o, r * H * d * osz)};
  if (out.final_state) outputs.push_back(span_of("final_state", out.final_state, states));
  if (out.w) {
    outputs.push_back(span_of("w", out.w, r * H * d * 2));
    outputs.push_back(span_of("u", out.u, r * H * d * 2));
  }
  if (out.inverse_beta)
    outputs.push_back(span_of("inverse_beta", out.inverse_beta,
                              static_cast<std::size_t>(plan.chunk_rows() * H) * 2 * bt * bt * 2));
  check.no_overlap(outputs, inputs);

  // Segment tables: each sequence's chunks are split into at most options.segments runs of
  // whole chunks (every sequence has at least one segment, possibly empty):
  //   sbos[Nseg + 1]    first token row of each segment, then the end of the last;
  //   sfirst[Nseg + 1]  chunk row of each segment's first chunk, then the total;
  //   sbegin[N + 1]     each sequence's first segment, then Nseg.
  std::vector<std::int64_t> sbos, sfirst, sbegin;
  {
    std::int64_t row = 0;
    for (index_t n = 0; n < N; ++n) {
      const std::int64_t b = layout.cu_seqlens.empty()
                                 ? n * layout.length
                                 : layout.cu_seqlens[static_cast<std::size_t>(n)];
      const std::int64_t e = layout.cu_seqlens.empty()
                                 ? b + layout.length
                                 : layout.cu_seqlens[static_cast<std::size_t>(n + 1)];
      const std::int64_t nc = (e - b + bt - 1) / bt;
      const std::int64_t per = nc == 0 ? 1 : (nc + options.segments - 1) / options.segments;
      sbegin.push_back(static_cast<std::int64_t>(sbos.size()));
      for (std::int64_t c0 = 0; c0 == 0 || c0 < nc; c0 += per) {
        sbos.push_back(b + c0 * bt);
        sfirst.push_back(row + c0);
      }
      row += nc;
    }
    sbos.push_back(layout.cu_seqlens.empty() ? N * layout.length : layout.cu_seqlens.back());
    sfirst.push_back(row);
    sbegin.push_back(static_cast<std::int64_t>(sbos.size()) - 1);
  }
  const std::size_t nseg = sbos.size() - 1;
  const bool segmented = nseg > static_cast<std::size_t>(N);

  auto round16 = [](std::size_t x) { return (x + 15) / 16 * 16; };
  // X~ = (I + N)^-1 diag(beta) per chunk and head (hi and lo 16-bit tiles; unless the
  // caller keeps it in inverse_beta) and, gated, gamma_i = exp(G_i) (fp32): what chunk_wy
  // hands the chunk-state kernel.
  const std::size_t cr = static_cast<std::size_t>(plan.chunk_rows() * H);
  const std::size_t xs_size = cr * 2 * bt * bt * 2;
  const std::size_t xs_bytes = out.inverse_beta ? 0 : xs_size;
  const std::size_t gam_bytes = family == WyFamily::gated ? cr * bt * 4 : 0;
  const std::size_t wu_bytes = xs_bytes + gam_bytes;
  // chunk_wy's statuses in the workspace: the chunk-state kernel's blocks read them while
  // sibling blocks (the D / 64 blocks of a (sequence, head)) add theirs to `statuses`.
  const std::size_t stat_bytes = static_cast<std::size_t>(plan.chunk_rows() * H) * 4;
  const std::size_t table_bytes =
      (sbos.size() + sfirst.size() + sbegin.size()) * sizeof(std::int64_t);
  // Gated: chunk_wy's in-chunk cumulative log-decays (fp64, BT per chunk and head), which
  // the chunk-state kernel reads instead of forming them again.
  const std::size_t g_bytes =
      family == WyFamily::gated ? static_cast<std::size_t>(plan.chunk_rows() * H) * bt * 8 : 0;
  // Segmented: the transitions P, the zero-start states B and the start states per segment.
  const std::size_t seg_states = segmented ? nseg * static_cast<std::size_t>(H) * d * d * 4 : 0;
  const std::size_t seg_status = segmented ? nseg * static_cast<std::size_t>(H) * 4 : 0;
  AsyncBytes work(wu_bytes + round16(stat_bytes) + round16(table_bytes) + g_bytes +
                       3 * seg_states + seg_status,
                   s);
  auto* base = static_cast<unsigned char*>(work.ptr);
  void* xs = out.inverse_beta ? out.inverse_beta : base;
  auto* gam = gam_bytes ? reinterpret_cast<float*>(base + xs_bytes) : nullptr;
  auto* wy_st = reinterpret_cast<std::int32_t*>(base + wu_bytes);
  auto* table = reinterpret_cast<std::int64_t*>(base + wu_bytes + round16(stat_bytes));
  unsigned char* g_base = base + wu_bytes + round16(stat_bytes) + round16(table_bytes);
  auto* G = g_bytes ? reinterpret_cast<double*>(g_base) : nullptr;
  unsigned char* seg_base = g_base + g_bytes;
  auto* P = reinterpret_cast<float*>(seg_base);
  auto* Bz = reinterpret_cast<float*>(seg_base + seg_states);
  auto* starts = reinterpret_cast<float*>(seg_base + 2 * seg_states);
  auto* start_status = reinterpret_cast<int*>(seg_base + 3 * seg_states);
  {
    std::vector<std::int64_t> host;
    host.insert(host.end(), sbos.begin(), sbos.end());
    host.insert(host.end(), sfirst.begin(), sfirst.end());
    host.insert(host.end(), sbegin.begin(), sbegin.end());
    check_cuda(cudaMemcpyAsync(table, host.data(), table_bytes, cudaMemcpyHostToDevice, s),
               "cudaMemcpyAsync(segment tables)");
  }
  const std::int64_t* d_sbos = table;
  const std::int64_t* d_sfirst = table + sbos.size();
  const std::int64_t* d_sbegin = table + sbos.size() + sfirst.size();

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
  wo.w = out.w;  // null: chunk_wy skips W and U
  wo.u = out.u;
  WyGpuOptions wopt;
  wopt.cumulative_g = options.cumulative_g;
  wopt.log2_g = options.log2_g;
  wopt.split_products = options.split_products;
  detail::chunk_wy_impl(family, plan, wi, wo, wopt, wy_st, flag, stream, G, xs, gam);
  if (statuses)
    check_cuda(cudaMemsetAsync(statuses, 0, stat_bytes, s), "cudaMemsetAsync(statuses)");

  detail::DeltaArgs args{};
  args.q = in.q;
  args.k = in.k;
  args.G = G;
  args.xs = xs;
  args.gamma = gam;
  args.v = in.v;
  args.split = options.split_products;
  args.transposed = options.state_transposed;
  args.heads = static_cast<int>(H);
  args.key_heads = static_cast<int>(Hk);
  args.scale = options.scale;
  args.h0 = in.initial_state;
  args.hT = out.final_state;
  args.o = out.o;
  args.identity_h0 = false;
  args.start_status = nullptr;
  args.bos = d_sbos;
  args.first_row = d_sfirst;
  args.wy_statuses = wy_st;
  args.statuses = statuses;
  args.flag = flag;
  auto launch = [&](const detail::DeltaArgs& a) {
    const long long seqs = static_cast<long long>(nseg);
    if (bt == 32)
      return in.dk == 64 ? detail::launch_delta_state<32, 64>(in.dtype, out.dtype, seqs, a, s)
                         : detail::launch_delta_state<32, 128>(in.dtype, out.dtype, seqs, a, s);
    in.dk == 64 ? detail::launch_delta_state<64, 64>(in.dtype, out.dtype, seqs, a, s)
                : detail::launch_delta_state<64, 128>(in.dtype, out.dtype, seqs, a, s);
  };
  if (!segmented) return launch(args);

  // The associative form across segments (docs/gpu-delta.md "Segments"): per segment the
  // state from 0 (B) and the transition P (the state from I with U = 0), both without o;
  // then S_start(j + 1) = S_start(j) P_j + B_j per (sequence, head); then every segment
  // from its start state, with o.
  detail::DeltaArgs pass = args;
  pass.o = nullptr;
  pass.h0 = nullptr;
  pass.transposed = false;
  // The state from 0 adds its statuses to chunk_wy's (atomicMax; both only grow): v is
  // first read by the chunk-state kernel, so a NaN in v is classified there, and the
  // combine carries what the segment's chunks got into the later segments.
  pass.statuses = wy_st;
  pass.flag = nullptr;
  pass.hT = Bz;
  launch(pass);
  pass.statuses = nullptr;
  pass.v = nullptr;
  pass.identity_h0 = true;
  pass.hT = P;
  launch(pass);
  detail::launch_combine_segments(static_cast<int>(N), static_cast<int>(H), static_cast<int>(d),
                                  d_sbegin, d_sfirst, in.initial_state, options.state_transposed, P,
                                  Bz, starts, out.final_state, wy_st, start_status, s);
  detail::DeltaArgs main = args;
  main.h0 = starts;
  main.transposed = false;
  main.hT = nullptr;
  main.start_status = start_status;
  launch(main);
}

}  // namespace triscan::gpu
