// gpu/chunk_wy_kernel.cuh — the fused chunk WY kernel (include/triscan/gpu.hpp
// "Fused chunk WY"; design and bounds in docs/gpu-chunk-wy.md).
//
// One thread block per (chunk, head), 2 BT threads = BT / 16 warps:
//   1. cp.async: K (BT x D, 16-bit) into shared memory, then V (a second group that
//      lands while N is formed and inverted); beta and the gates through registers.
//   2. N = strictly_lower(diag(beta) K K^T ⊙ exp(G_i - G_j)) on tensor cores: the
//      lower 16 x 16 blocks of K K^T spread over the warps, mma.sync m16n8k16 (exact
//      products, fp32 accumulation), scaled in fp32 into the shared fp32 array S.
//   3. (I + N)^-1 in S by the recursive-merge inversion of gpu/trinv_merge_kernel.cuh
//      (16 x 16 fp64 base blocks, fp32 merges), by the first BT threads.
//   4. W = X diag(beta gamma) K and U = X diag(beta) V on tensor cores. Warp w computes
//      row strips p = w / 2 and NW - 1 - p (together NW + 1 blocks of X, the same work for
//      every warp) for column half w % 2; the A operand is X's 16 x 16 block read from S,
//      scaled by its column factors in fp32 and split into hi + lo 16-bit parts (or
//      rounded once); blocks above the diagonal are skipped. 16-bit results are staged in
//      the K (then V) tile and written in 16-byte stores; fp32 results go straight out.
// Rows >= m of a partial chunk are zero-filled in shared memory (so N, X are the identity
// there) and never written.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstdint>
#include <type_traits>

#include "gpu/cuda_check.hpp"
#include "gpu/mma.cuh"
#include "gpu/trinv.cuh"
#include "gpu/trinv_merge_kernel.cuh"
#include "triscan/status.hpp"

namespace triscan::gpu::detail {

// What the host passes to the kernel besides the chunk addressing (addr.heads = H).
struct ChunkWyArgs {
  const void* k;
  const void* v;
  const void* beta;
  const float* g;  // nullptr: ungated
  bool cumulative_g;
  bool log2_g;  // g in base-2 logarithms: scaled by ln 2 on load
  bool split;
  int key_heads;  // Hk
  void* w;
  void* u;
  void* inverse;  // nullptr: not written
  int* statuses;
  int* flag;
};

template <int BT, int D>
void launch_chunk_wy(DType in, DType out, const MatrixAddressing& addr, const ChunkWyArgs& args,
                     cudaStream_t stream);

namespace {
namespace fused {

constexpr int status_ok = static_cast<int>(Status::ok);
constexpr int status_overflow = static_cast<int>(Status::overflow);
constexpr int status_nonfinite = static_cast<int>(Status::nonfinite_input);

// 16-bit rows padded by 8 elements (16 bytes): the 8 rows an ldmatrix reads fall in
// different bank groups.
template <int D>
__host__ __device__ constexpr int kld() {
  return D + 8;
}

template <int BT, int D>
struct Layout {
  static constexpr int threads = 2 * BT;
  static constexpr int warps = BT / 16;
  static constexpr std::size_t s_bytes = sizeof(float) * BT * merge::ld<BT>();
  static constexpr std::size_t kv_bytes = 2 * BT * kld<D>();  // one 16-bit tile
  // S | K | V | G (double) | colW | colU | flags
  static constexpr std::size_t k_off = s_bytes;
  static constexpr std::size_t v_off = k_off + kv_bytes;
  static constexpr std::size_t g_off = v_off + kv_bytes;
  static constexpr std::size_t cw_off = g_off + sizeof(double) * BT;
  static constexpr std::size_t cu_off = cw_off + sizeof(float) * BT;
  static constexpr std::size_t flag_off = cu_off + sizeof(float) * BT;
  static constexpr std::size_t bytes = flag_off + 4 * sizeof(int);
};

using tc::smem_addr;  // the tensor-core helpers: gpu/mma.cuh
using tc::ldmatrix_x4;
using tc::ldmatrix_x4_trans;
using tc::mma;
using tc::pack2;

__device__ inline void cp_async_16(void* dst, const void* src, int src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src),
               "r"(src_bytes)
               : "memory");
}
__device__ inline void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
template <int N>
__device__ inline void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Loads the chunk's rows of a [.., heads_of_tensor, D] 16-bit tensor into a padded tile
// (rows >= m zero-filled), 16 bytes per cp.async; thread t copies column block t % per_row
// of rows t / per_row, t / per_row + rows_per_pass, ...
template <int BT, int D, class T16>
__device__ void load_tile(const T16* __restrict__ base, long long row0, int m,
                          long long token_stride, long long head_offset, T16* tile, int t) {
  constexpr int per_row = D * 2 / 16;
  constexpr int rows_per_pass = 2 * BT / per_row;
  const int e0 = (t % per_row) * 8;
  T16* dst = tile + (t / per_row) * kld<D>() + e0;
  const T16* src = base + (row0 + t / per_row) * token_stride + head_offset + e0;
  const T16* any = base + row0 * token_stride + head_offset;  // a valid address for the zero fill
#pragma unroll
  for (int it = 0; it < BT / rows_per_pass; ++it) {
    const int i = t / per_row + it * rows_per_pass;
    cp_async_16(dst, i < m ? src : any, i < m ? 16 : 0);
    dst += rows_per_pass * kld<D>();
    src += rows_per_pass * token_stride;
  }
}

// Product work of one warp: row strips rs0 = p and rs1 = NW - 1 - p (p = warp / 2; they
// need p + 1 and NW - p blocks of X, NW + 1 together, so every warp does the same work)
// for one half of the columns (warp % 2). acc[s][n][e]: strip s, n8 tile n of the half.
template <int D>
struct Half {
  static constexpr int cols = D / 2;
  static constexpr int tiles = cols / 8;
};

// acc := X diag(col) B for the warp's two strips and column half: X from S (unit lower,
// read through selects: S holds stale data on and above the diagonal; blocks above the
// diagonal skipped), B the 16-bit tile (K or V).
template <int BT, int D, class T16>
__device__ void products(const float* S, const float* col, const T16* tile, bool split, int warp,
                         int lane, float (&acc)[2][Half<D>::tiles][4]) {
  constexpr int NW = BT / 16;
  constexpr int NT = Half<D>::tiles;
  static_assert(NT % 2 == 0, "ldmatrix.x4.trans loads n8 tiles in pairs");
  constexpr int LD = merge::ld<BT>();
  const int g = lane / 4, tq = lane % 4;
  const int p = warp / 2, c_half = (warp % 2) * Half<D>::cols;
#pragma unroll
  for (int si = 0; si < 2; ++si) {
    const int rs = si == 0 ? p : NW - 1 - p;
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[si][n][e] = 0.0f;
    const int i0 = 16 * rs + g, i1 = i0 + 8;
#pragma unroll 1
    for (int kb = 0; kb <= rs; ++kb) {
      // A fragment: X rows i0, i1; columns l = 16 kb + 2 tq (+1, +8, +9), scaled by col[l].
      unsigned ahi[4], alo[4];
      const int l0 = 16 * kb + 2 * tq;
      const bool diagonal = kb == rs;
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int i = (r & 1) ? i1 : i0;
        const int l = l0 + ((r & 2) ? 8 : 0);
        float2 sv = *reinterpret_cast<const float2*>(S + i * LD + l);
        const float2 cv = *reinterpret_cast<const float2*>(col + l);
        if (diagonal) {  // X_il: the stored value below the diagonal, 1 on it, 0 above
          sv.x = l < i ? sv.x : (l == i ? 1.0f : 0.0f);
          sv.y = l + 1 < i ? sv.y : (l + 1 == i ? 1.0f : 0.0f);
        }
        float r0, r1;
        ahi[r] = pack2<T16>(sv.x * cv.x, sv.y * cv.y, r0, r1);
        alo[r] = pack2<T16>(r0, r1);
      }
#pragma unroll
      for (int n = 0; n < NT; n += 2) {
        // B fragments of n8 tiles n, n+1: tile rows (tokens) 16 kb.., columns c_half + 8 n..
        unsigned b[4];
        const int tok = 16 * kb + (lane % 8) + ((lane / 8) % 2) * 8;
        const int ch = c_half + 8 * n + (lane / 16) * 8;
        ldmatrix_x4_trans(b, tile + tok * kld<D>() + ch);
        mma<T16>(acc[si][n], ahi, b[0], b[1]);
        mma<T16>(acc[si][n + 1], ahi, b[2], b[3]);
        if (split) {
          mma<T16>(acc[si][n], alo, b[0], b[1]);
          mma<T16>(acc[si][n + 1], alo, b[2], b[3]);
        }
      }
    }
  }
}

// fp32 outputs: straight from the accumulators (4 lanes write a full 32-byte sector).
// Returns true if a stored value is not finite.
template <int BT, int D>
__device__ bool store_direct(const float (&acc)[2][Half<D>::tiles][4], float* __restrict__ out,
                             long long row0, int m, long long token_stride, long long head_offset,
                             int warp, int lane) {
  constexpr int NW = BT / 16;
  const int g = lane / 4, tq = lane % 4;
  const int p = warp / 2, c_half = (warp % 2) * Half<D>::cols;
  bool bad = false;
#pragma unroll
  for (int si = 0; si < 2; ++si) {
    const int rs = si == 0 ? p : NW - 1 - p;
#pragma unroll
    for (int n = 0; n < Half<D>::tiles; ++n)
#pragma unroll
      for (int hr = 0; hr < 2; ++hr) {
        const int i = 16 * rs + g + 8 * hr;
        const float a = acc[si][n][2 * hr], b = acc[si][n][2 * hr + 1];
        if (i < m) {
          __stcs(reinterpret_cast<float2*>(out + (row0 + i) * token_stride + head_offset + c_half +
                                           8 * n + 2 * tq),
                 make_float2(a, b));
          bad |= !isfinite(a) || !isfinite(b);
        }
      }
  }
  return bad;
}

// 16-bit outputs: the accumulators, rounded, into a padded tile in shared memory (the
// caller's K or V tile, no longer read), then ...
// Returns true if a value rounds to Inf or is NaN.
template <int BT, int D, class Tout>
__device__ bool stage(const float (&acc)[2][Half<D>::tiles][4], Tout* tile, int warp, int lane) {
  constexpr int NW = BT / 16;
  const int g = lane / 4, tq = lane % 4;
  const int p = warp / 2, c_half = (warp % 2) * Half<D>::cols;
  unsigned worst = 0;  // the largest |value| bit pattern: NaNs and Infs compare above every finite
#pragma unroll
  for (int si = 0; si < 2; ++si) {
    const int rs = si == 0 ? p : NW - 1 - p;
#pragma unroll
    for (int n = 0; n < Half<D>::tiles; ++n)
#pragma unroll
      for (int hr = 0; hr < 2; ++hr) {
        float r0, r1;
        const unsigned packed = pack2<Tout>(acc[si][n][2 * hr], acc[si][n][2 * hr + 1], r0, r1);
        *reinterpret_cast<unsigned*>(tile + (16 * rs + g + 8 * hr) * kld<D>() + c_half + 8 * n +
                                     2 * tq) = packed;
        worst = max(worst, max(packed & 0x7fffu, (packed >> 16) & 0x7fffu));
      }
  }
  // Rows >= m of a partial chunk hold finite values (zero inputs), so the check over all
  // rows equals the check over the stored ones. 16-bit Inf: 0x7c00 (fp16), 0x7f80 (bf16).
  return worst >= (std::is_same<Tout, __half>::value ? 0x7c00u : 0x7f80u);
}

// ... to global memory in 16-byte stores (a warp writes whole rows). Rows < m.
template <int BT, int D, class Tout>
__device__ void store_staged(const Tout* tile, Tout* __restrict__ out, long long row0, int m,
                             long long token_stride, long long head_offset, int t) {
  constexpr int per_row = D / 8;
  constexpr int rows_per_pass = 2 * BT / per_row;
  const int e0 = (t % per_row) * 8;
  const Tout* src = tile + (t / per_row) * kld<D>() + e0;
  Tout* dst = out + (row0 + t / per_row) * token_stride + head_offset + e0;
#pragma unroll
  for (int it = 0; it < BT / rows_per_pass; ++it) {
    const int i = t / per_row + it * rows_per_pass;
    if (i < m) __stcs(reinterpret_cast<uint4*>(dst), *reinterpret_cast<const uint4*>(src));
    src += rows_per_pass * kld<D>();
    dst += rows_per_pass * token_stride;
  }
}

// True if a value of the chunk's inputs (rows < m) is NaN or Inf: read again from global
// memory, only on the rare path where an output was not finite.
template <int D, class T16>
__device__ bool inputs_nonfinite(const ChunkWyArgs& a, long long row0, int m, int H, int h, int t,
                                 int nthreads) {
  const T16* k = static_cast<const T16*>(a.k);
  const T16* v = static_cast<const T16*>(a.v);
  const T16* beta = static_cast<const T16*>(a.beta);
  const long long hk = static_cast<long long>(h) * a.key_heads / H;
  bool bad = false;
  for (int e = t; e < m * D; e += nthreads) {
    const long long i = row0 + e / D;
    const int c = e % D;
    bad |= !isfinite(to_float(k[(i * a.key_heads + hk) * D + c])) ||
           !isfinite(to_float(v[(i * H + h) * D + c]));
  }
  for (int i = t; i < m; i += nthreads) {
    bad |= !isfinite(to_float(beta[(row0 + i) * H + h]));
    if (a.g) bad |= !isfinite(a.g[(row0 + i) * H + h]);
  }
  return bad;
}

template <int BT, int D, class T16, class Tout>
__global__ void __launch_bounds__(2 * BT, BT == 128  ? 1
                                          : BT == 64 ? 4
                                                     : 8)
    chunk_wy_kernel(MatrixAddressing addr, ChunkWyArgs args) {
  using L = Layout<BT, D>;
  constexpr int NW = BT / 16;
  constexpr int LD = merge::ld<BT>();
  extern __shared__ __align__(16) unsigned char smem[];
  float* S = reinterpret_cast<float*>(smem);
  T16* Ks = reinterpret_cast<T16*>(smem + L::k_off);
  T16* Vs = reinterpret_cast<T16*>(smem + L::v_off);
  double* G = reinterpret_cast<double*>(smem + L::g_off);
  float* colW = reinterpret_cast<float*>(smem + L::cw_off);
  float* colU = reinterpret_cast<float*>(smem + L::cu_off);
  int* flags = reinterpret_cast<int*>(smem + L::flag_off);  // [0] bad output, [1] bad input

  const int t = threadIdx.x, warp = t / 32, lane = t % 32;
  const long long q = blockIdx.x;
  const int H = static_cast<int>(addr.heads);
  const int h = static_cast<int>(q % H);
  const ChunkSpan span = chunk_span<BT>(addr, q / H);
  const long long row0 = span.row0;
  const int m = span.size;
  const long long hk = static_cast<long long>(h) * args.key_heads / H;

  // 1. Loads: K (group 0), V (group 1); beta and g through registers.
  load_tile<BT, D>(static_cast<const T16*>(args.k), row0, m,
                   static_cast<long long>(args.key_heads) * D, hk * D, Ks, t);
  cp_async_commit();
  load_tile<BT, D>(static_cast<const T16*>(args.v), row0, m, static_cast<long long>(H) * D,
                   static_cast<long long>(h) * D, Vs, t);
  cp_async_commit();
  if (t < 2) flags[t] = 0;
  float beta_t = 0.0f, g_t = 0.0f;
  if (t < BT && t < m) {
    beta_t = to_float(static_cast<const T16*>(args.beta)[(row0 + t) * H + h]);
    if (args.g) g_t = args.g[(row0 + t) * H + h];
  }
  if (t < BT)
    G[t] =
        args.log2_g ? 0.69314718055994530942 * static_cast<double>(g_t) : static_cast<double>(g_t);
  __syncthreads();
  if (args.g && !args.cumulative_g) {
    // G: the in-chunk inclusive cumulative sum in fp64, by warp 0: each lane sums BT / 32
    // consecutive tokens, an inclusive shuffle scan over the lanes' totals (a fixed order:
    // the result never depends on timing), then each lane adds the previous lanes' total.
    if (warp == 0) {
      constexpr int per = BT / 32;
      double local[per], run = 0.0;
#pragma unroll
      for (int e = 0; e < per; ++e) local[e] = run += G[lane * per + e];
      double incl = run;
#pragma unroll
      for (int off = 1; off < 32; off *= 2) {
        const double up = __shfl_up_sync(0xffffffffu, incl, off);
        if (lane >= off) incl += up;
      }
      const double up1 = __shfl_up_sync(0xffffffffu, incl, 1);
      const double before = lane == 0 ? 0.0 : up1;
#pragma unroll
      for (int e = 0; e < per; ++e) G[lane * per + e] = before + local[e];
    }
    __syncthreads();
  }
  if (t < BT) {
    // gamma_t = exp(G_t) (1 when ungated); rows >= m have beta = 0.
    const float gamma = args.g ? expf(static_cast<float>(G[t])) : 1.0f;
    colW[t] = beta_t * gamma;
    colU[t] = beta_t;
  }
  cp_async_wait<1>();
  __syncthreads();

  // 2. N = strictly_lower(diag(beta) K K^T ⊙ exp(G_i - G_j)) into S, lower 16 x 16 blocks.
  {
    const int g = lane / 4, tq = lane % 4;
    constexpr int blocks = NW * (NW + 1) / 2;
#pragma unroll 1
    for (int blk = warp; blk < blocks; blk += NW) {
      int bi = 0;
      while ((bi + 1) * (bi + 2) / 2 <= blk) ++bi;
      const int bj = blk - bi * (bi + 1) / 2;
      float acc[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
      for (int ks = 0; ks < D / 16; ++ks) {
        unsigned a[4], b[4];
        ldmatrix_x4(a, Ks + (16 * bi + (lane % 8) + ((lane / 8) % 2) * 8) * kld<D>() + 16 * ks +
                           (lane / 16) * 8);
        ldmatrix_x4(b, Ks + (16 * bj + (lane % 8) + (lane / 16) * 8) * kld<D>() + 16 * ks +
                           ((lane / 8) % 2) * 8);
        mma<T16>(acc[0], a, b[0], b[1]);
        mma<T16>(acc[1], a, b[2], b[3]);
      }
      // Rows i = 16 bi + g (+8), columns j = 16 bj + 8 n + 2 tq (+1); scale by beta_i and,
      // gated, exp(G_i - G_j) (the difference in fp64, one rounding to fp32, one expf).
#pragma unroll
      for (int hr = 0; hr < 2; ++hr) {
        const int i = 16 * bi + g + 8 * hr;
        // Rows >= m of a partial chunk: N_ij = 0 (not beta_i * 0 * exp(G_i - G_j), which can be
        // 0 * inf for gates), so X is the identity there and the staged rows stay finite.
        const bool row_in = i < m;
        const float bi_scale = colU[i];
        const double Gi = G[i];
#pragma unroll
        for (int n = 0; n < 2; ++n)
#pragma unroll
          for (int c = 0; c < 2; ++c) {
            const int j = 16 * bj + 8 * n + 2 * tq + c;
            if (i > j) {
              float nij = bi_scale * acc[n][2 * hr + c];
              if (args.g) nij *= expf(static_cast<float>(Gi - G[j]));
              S[i * LD + j] = row_in ? nij : 0.0f;
            }
          }
      }
    }
  }
  __syncthreads();

  // 3. X = (I + N)^-1 in S.
  merge::invert_in_shared<BT>(S, t, t < BT);
  cp_async_wait<0>();
  __syncthreads();

  // 4. W and U (and the inverse).
  const long long h_out = static_cast<long long>(h) * D, stride = static_cast<long long>(H) * D;
  Tout* w = static_cast<Tout*>(args.w);
  Tout* u = static_cast<Tout*>(args.u);
  bool bad = false;
  float acc[2][Half<D>::tiles][4];
  if constexpr (sizeof(Tout) == 4) {
    products<BT, D, T16>(S, colW, Ks, args.split, warp, lane, acc);
    bad |= store_direct<BT, D>(acc, w, row0, m, stride, h_out, warp, lane);
    products<BT, D, T16>(S, colU, Vs, args.split, warp, lane, acc);
    bad |= store_direct<BT, D>(acc, u, row0, m, stride, h_out, warp, lane);
  } else {
    // W staged in K's tile once every warp is done with K, U in V's likewise.
    products<BT, D, T16>(S, colW, Ks, args.split, warp, lane, acc);
    __syncthreads();
    bad |= stage<BT, D>(acc, reinterpret_cast<Tout*>(Ks), warp, lane);
    products<BT, D, T16>(S, colU, Vs, args.split, warp, lane, acc);
    __syncthreads();
    bad |= stage<BT, D>(acc, reinterpret_cast<Tout*>(Vs), warp, lane);
    __syncthreads();
    store_staged<BT, D>(reinterpret_cast<const Tout*>(Ks), w, row0, m, stride, h_out, t);
    store_staged<BT, D>(reinterpret_cast<const Tout*>(Vs), u, row0, m, stride, h_out, t);
  }
  if (args.inverse && t < BT) {
    const MatrixLocation loc{(row0 * H + h) * BT, static_cast<long long>(H) * BT, m};
    bad |= merge::store<BT>(static_cast<Tout*>(args.inverse), loc, S, t);
  }
  if (bad) flags[0] = 1;
  __syncthreads();
  if (flags[0]) {  // rare path: classify
    if (inputs_nonfinite<D, T16>(args, row0, m, H, h, t, 2 * BT)) flags[1] = 1;
    __syncthreads();
  }
  if (t == 0) {
    const int s = flags[1] ? status_nonfinite : flags[0] ? status_overflow : status_ok;
    if (args.statuses) args.statuses[q] = s;
    if (args.flag && s != status_ok) atomicMax(args.flag, s);
  }
}

template <int BT, int D, class T16, class Tout>
void launch_typed(const MatrixAddressing& addr, const ChunkWyArgs& args, cudaStream_t stream) {
  using L = Layout<BT, D>;
  auto kernel = chunk_wy_kernel<BT, D, T16, Tout>;
  static const cudaError_t attr_err = cudaFuncSetAttribute(
      kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(L::bytes));
  check_cuda(attr_err, "cudaFuncSetAttribute(chunk_wy_kernel)");
  if (addr.count > INT_MAX)
    throw std::invalid_argument("gpu::chunk_wy: too many chunks for one launch");
  kernel<<<static_cast<unsigned>(addr.count), L::threads, L::bytes, stream>>>(addr, args);
  check_cuda(cudaGetLastError(), "chunk_wy_kernel launch");
}

template <int BT, int D, class T16>
void launch_out(DType out, const MatrixAddressing& addr, const ChunkWyArgs& args,
                cudaStream_t stream) {
  switch (out) {
    case DType::bf16:
      return launch_typed<BT, D, T16, __nv_bfloat16>(addr, args, stream);
    case DType::fp16:
      return launch_typed<BT, D, T16, __half>(addr, args, stream);
    default:
      return launch_typed<BT, D, T16, float>(addr, args, stream);
  }
}

}  // namespace fused
}  // namespace

template <int BT, int D>
void launch_chunk_wy(DType in, DType out, const MatrixAddressing& addr, const ChunkWyArgs& args,
                     cudaStream_t stream) {
  if (in == DType::fp16)
    fused::launch_out<BT, D, __half>(out, addr, args, stream);
  else
    fused::launch_out<BT, D, __nv_bfloat16>(out, addr, args, stream);
}

}  // namespace triscan::gpu::detail

#define TRISCAN_INSTANTIATE_LAUNCH_CHUNK_WY(BT, D)            \
  template void triscan::gpu::detail::launch_chunk_wy<BT, D>( \
      DType, DType, const MatrixAddressing&, const ChunkWyArgs&, cudaStream_t)
