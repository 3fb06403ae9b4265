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
//      (16 x 16 base blocks in fp64, or fp32 for 16-bit outputs; fp32 merges), by the first BT threads.
//   4. W = X diag(beta gamma) K and U = X diag(beta) V on tensor cores. Warp w computes W
//      (w even) or U (w odd), all D columns, for row strip NW - 1 - p, then p (p = w / 2;
//      together NW + 1 blocks of X, the same work for every warp); the A operand is X's
//      16 x 16 block read from S, scaled by its column factors in fp32 and split into
//      hi + lo 16-bit parts (or rounded once), once per block and product; blocks above the
//      diagonal are skipped. 16-bit results are staged in the K (W) and V (U) tiles, the
//      long strips as soon as every warp is past them, and written in 16-byte stores; fp32
//      results go straight out.
// Rows >= m of a partial chunk are zero-filled in shared memory (so N, X are the identity
// there) and never written.
// For the delta-rule forward (ChunkWyArgs::xs_out): after step 3, X diag(beta) is written as
// hi + lo 16-bit tiles (and gated, gamma); step 4 (and the load of V) only if w is given.
// kda (per-channel log-decays; template KDA, docs/gpu-chunk-wy.md "kda"): G per channel
// in an fp32 tile Gc; step 2 by kda_kkt (off-diagonal blocks on tensor cores against the
// row block's first token, diagonal blocks elementwise in fp32); before step 3, Gc is
// overwritten by exp(G) ⊙ K, the B operand of W (split like the A operand).
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstdint>
#include <stdexcept>
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
  bool log2_g;  // g in base-2 logarithms: scaled by ln 2 on load (the blocked solve keeps base 2)
  bool split;
  // The blocked solve only (WyGpuOptions::rounded_reentry): W_j, U_j re-enter the later block
  // rows' products rounded once to the input type instead of as hi + lo.
  bool rounded_reentry;
  int key_heads;  // Hk
  void* w;
  void* u;
  void* inverse;  // nullptr: not written
  int* statuses;
  int* flag;
  bool per_channel_g;  // kda: g is [.., H, D] per-channel log-decays (else [.., H])
  // Optional, gated (per-token g) only: [chunks, H, BT] fp64, each chunk's in-chunk
  // cumulative log-decays G as the kernel forms them, rows >= m of a partial chunk set to
  // G_{m-1}, for the chunk-state kernel of the delta-rule forward (gpu/delta_kernel.cuh).
  double* g_out = nullptr;
  // Optional (the delta-rule forward): X diag(beta) as hi and lo 16-bit tiles (T16),
  // [chunks, H, 2, BT, BT] (hi then lo, row i column j, zero above the diagonal), and, gated,
  // gamma_i = exp(G_i) as fp32 [chunks, H, BT]. With xs_out, w == nullptr skips W and U
  // (and the load of V).
  void* xs_out = nullptr;
  float* gamma_out = nullptr;
};

// gpu::chunk_wy with the optional G output (gpu/delta.cu's call).
void chunk_wy_impl(WyFamily family, const ChunkPlan& plan, const WyGpuInputs& in,
                   const WyGpuOutputs& out, const WyGpuOptions& options, std::int32_t* statuses,
                   std::int32_t* flag, void* stream, double* g_out, void* xs_out = nullptr,
                   float* gamma_out = nullptr);

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

// Offset of element (row, col) of a 16-bit tile with D columns: rows padded as above, or
// (SW, the blocked-solve kernel: 64 rows) unpadded, in panels of 64 columns (64 x 64, 8 KiB,
// one after the other), each row of a panel 128 bytes whose 16-byte chunks are XOR-swizzled
// by row % 8: the 8 rows of an ldmatrix/stmatrix fall in distinct banks without the padding,
// and a panel is the box of a bulk tensor copy with 128-byte swizzle (CU_TENSOR_MAP_SWIZZLE_128B
// at a 1024-byte aligned address), so whole chunks move by TMA on sm_90a. Accesses are whole
// 16-byte chunks or lie inside one (col % 8 + width <= 8).
template <int D, bool SW>
__device__ __forceinline__ int toff(int row, int col) {
  static_assert(!SW || D % 64 == 0, "whole 64-column panels");
  if constexpr (SW)
    return (col >> 6) * (64 * 64) + row * 64 + ((((col >> 3) & 7) ^ (row & 7)) << 3) + (col & 7);
  else
    return row * kld<D>() + col;
}

// fp32 per-channel tiles (kda's cumulative log-decays, then exp(G) ⊙ K) padded by 4
// floats: the B fragments of the W product (rows 2 tq, columns g) hit 32 distinct banks.
template <int D>
__host__ __device__ constexpr int gld() {
  return D + 4;
}

// XS: the X~-only instance of the delta forward (no V tile).
template <int BT, int D, bool KDA = false, bool XS = false>
struct Layout {
  static constexpr int threads = 2 * BT;
  static constexpr int warps = BT / 16;
  static constexpr std::size_t s_bytes = sizeof(float) * BT * merge::ld<BT>();
  static constexpr std::size_t kv_bytes = 2 * BT * kld<D>();  // one 16-bit tile
  // S | K | V | G (double) | colW | colU | flags
  static constexpr std::size_t k_off = s_bytes;
  static constexpr std::size_t v_off = k_off + kv_bytes;
  static constexpr std::size_t g_off = v_off + (XS ? 0 : kv_bytes);
  static constexpr std::size_t cw_off = g_off + sizeof(double) * BT;
  static constexpr std::size_t cu_off = cw_off + sizeof(float) * BT;
  static constexpr std::size_t flag_off = cu_off + sizeof(float) * BT;
  // kda only: | Gc (fp32 BT x gld<D>)
  static constexpr std::size_t gc_off = flag_off + 4 * sizeof(int);
  static constexpr std::size_t bytes = gc_off + (KDA ? sizeof(float) * BT * gld<D>() : 0);
};

using tc::smem_addr;  // the tensor-core helpers: gpu/mma.cuh
using tc::ldmatrix_x4;
using tc::ldmatrix_x4_trans;
using tc::mma;
using tc::pack2;
using tc::unpack2;
using tc::a_from_acc;

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

// Block blk of the lower 16 x 16 blocks (bj <= bi) numbered row by row: (bi, bj).
__device__ inline void lower_block(int blk, int& bi, int& bj) {
  bi = 0;
  while ((bi + 1) * (bi + 2) / 2 <= blk) ++bi;
  bj = blk - bi * (bi + 1) / 2;
}

// Block o of the 16 x 16 blocks strictly below the diagonal numbered row by row: (bi, bj),
// o = bi (bi - 1) / 2 + bj, bj < bi.
__device__ inline void below_block(int o, int& bi, int& bj) {
  bi = 1;
  while ((bi + 1) * bi / 2 <= o) ++bi;
  bj = o - bi * (bi - 1) / 2;
}
// The same for o < NW (NW - 1) / 2 with NW known: NW - 2 compares instead of a loop.
template <int NW>
__device__ inline void below_block(int o, int& bi, int& bj) {
  bi = 1;
#pragma unroll
  for (int k = 2; k < NW; ++k) bi += o >= k * (k - 1) / 2;
  bj = o - bi * (bi - 1) / 2;
}

// acc := the 16 x 16 block (bi, bj) of A B^T on tensor cores (exact 16-bit products, fp32
// accumulation over the D channels in order), A and B padded 16-bit tiles with row stride
// kld<D>(); acc[n] is n8 tile n of the block in the mma accumulator layout.
template <int D, class T16, bool SW = false>
__device__ inline void block_abt(const T16* A, const T16* B, int bi, int bj, int lane,
                                 float (&acc)[2][4]) {
#pragma unroll
  for (int n = 0; n < 2; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) acc[n][e] = 0.0f;
  const int ra = 16 * bi + (lane % 8) + ((lane / 8) % 2) * 8;
  const int rb = 16 * bj + (lane % 8) + (lane / 16) * 8;
  if constexpr (SW) {
    // Both rows are lane % 8 modulo 8, and chunk 2 ks + c (c < 2) is chunk 2 (ks % 4) + c of
    // panel ks / 4, so its swizzled place is ((2 (ks % 4) + c) ^ (lane % 8)) in that panel: four
    // offsets per operand, the rest immediates (toff<D, true>'s layout, without its arithmetic
    // per step).
    const T16* pa[4];
    const T16* pb[4];
#pragma unroll
    for (int s = 0; s < 4; ++s) {
      pa[s] = A + ra * 64 + (((2 * s + lane / 16) ^ (lane % 8)) << 3);
      pb[s] = B + rb * 64 + (((2 * s + (lane / 8) % 2) ^ (lane % 8)) << 3);
    }
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
      unsigned a[4], b[4];
      ldmatrix_x4(a, pa[ks % 4] + 64 * 64 * (ks / 4));
      ldmatrix_x4(b, pb[ks % 4] + 64 * 64 * (ks / 4));
      mma<T16>(acc[0], a, b[0], b[1]);
      mma<T16>(acc[1], a, b[2], b[3]);
    }
  } else {
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
      unsigned a[4], b[4];
      ldmatrix_x4(a, A + toff<D, SW>(ra, 16 * ks + (lane / 16) * 8));
      ldmatrix_x4(b, B + toff<D, SW>(rb, 16 * ks + ((lane / 8) % 2) * 8));
      mma<T16>(acc[0], a, b[0], b[1]);
      mma<T16>(acc[1], a, b[2], b[3]);
    }
  }
}

// The gate factor e^(G_i - G_j) from the fp64 difference of two cumulative log-decays, rounded
// once to fp32: expf of it, or (B2: G in base-2 logarithms, G_2 = G log2 e) exp2f of it. Both
// are within 2 ulp (CUDA's documented bound), and rounding the difference d (d_2 = d log2 e) to
// fp32 moves the result by u |d| relatively in either base, so either is within (|d| + 4) u of
// e^d. exp2f takes 4 instructions (a range test, MUFU.EX2, two predicated products), expf 8.
template <bool B2>
__device__ inline float gate_factor(double Gi, double Gj) {
  const float d = static_cast<float>(Gi - Gj);
  return B2 ? exp2f(d) : expf(d);
}

// N's entries of the 16 x 16 block (bi, bj) from its K K^T accumulators: nv[hr][n][c] at row
// i = 16 bi + g + 8 hr, column j = 16 bj + 8 n + 2 tq + c is N_ij = beta_i (K K^T)_ij and, gated,
// times exp(G_i - G_j) (gate_factor: G in base B2 ? 2 : e); 0 on and above
// the diagonal and in rows >= m of a partial chunk (not beta_i * 0 * exp(G_i - G_j), which can
// be 0 * inf for gates: X is the identity there and the staged rows stay finite). Every entry
// is formed and the ones that are not N's selected away (no branch per entry).
template <bool B2 = false>
__device__ inline void scale_block(const float (&acc)[2][4], int bi, int bj, int m, int lane,
                                   const float* beta, const double* G, bool gated,
                                   float (&nv)[2][2][2]) {
  const int g = lane / 4, tq = lane % 4;
  double Gj[2][2];
#pragma unroll
  for (int n = 0; n < 2; ++n) {
    const double2 gj = *reinterpret_cast<const double2*>(G + 16 * bj + 8 * n + 2 * tq);
    Gj[n][0] = gj.x, Gj[n][1] = gj.y;
  }
#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    const int i = 16 * bi + g + 8 * hr;
    const float bi_scale = beta[i];
    const double Gi = G[i];
#pragma unroll
    for (int n = 0; n < 2; ++n)
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const int j = 16 * bj + 8 * n + 2 * tq + c;
        float nij = bi_scale * acc[n][2 * hr + c];
        if (gated) nij *= gate_factor<B2>(Gi, Gj[n][c]);
        nv[hr][n][c] = i > j && i < m ? nij : 0.0f;
      }
  }
}

// Two consecutive 16-bit values (4-byte aligned) as fp32.
__device__ inline float2 load2(const __nv_bfloat16* p) {
  return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(p));
}
__device__ inline float2 load2(const __half* p) {
  return __half22float2(*reinterpret_cast<const __half2*>(p));
}

// Loads the chunk's rows of a [.., heads_of_tensor, D] 16-bit tensor into a padded tile
// (rows >= m zero-filled), 16 bytes per cp.async, NT threads; thread t copies column block
// t % per_row of rows t / per_row, t / per_row + rows_per_pass, ... (its source address
// advanced by a fixed stride: no per-copy index arithmetic). FULL: m = BT (no row test).
template <int BT, int D, int NT = 2 * BT, bool SW = false, bool FULL = false, class T16>
__device__ void load_tile(const T16* __restrict__ base, long long row0, int m,
                          long long token_stride, long long head_offset, T16* tile, int t) {
  constexpr int per_row = D * 2 / 16;
  static_assert(NT % per_row == 0 && BT % (NT / per_row) == 0, "whole rows per pass");
  constexpr int rows_per_pass = NT / per_row;
  const int e0 = (t % per_row) * 8;
  const T16* any = base + row0 * token_stride + head_offset;  // a valid address for the zero fill
  const T16* src = any + (t / per_row) * token_stride + e0;
#pragma unroll
  for (int it = 0; it < BT / rows_per_pass; ++it) {
    const int i = t / per_row + it * rows_per_pass;
    if (FULL)
      cp_async_16(tile + toff<D, SW>(i, e0), src, 16);
    else
      cp_async_16(tile + toff<D, SW>(i, e0), i < m ? src : any, i < m ? 16 : 0);
    src += rows_per_pass * token_stride;
  }
}

// Product work of one warp: warp w computes W (w even) or U (w odd) for row strips p = w / 2
// and NW - 1 - p, all D columns, one strip after the other (they need p + 1 and NW - p
// blocks of X, NW + 1 together, so every warp does the same work). Each A operand (a block
// of X scaled by its column factors and split) is thus built once per product, and no two
// warps write the same rows of the same output. acc[n][e]: n8 tile n of the strip.
template <int D>
struct Strip {
  static constexpr int tiles = D / 8;
};

// acc := rows [16 rs, 16 rs + 16) of X diag(col) B: X from S (unit lower, read through
// selects: S holds stale data on and above the diagonal; blocks above the diagonal
// skipped), B the 16-bit tile (K or V) or, with FP32B (kda's W), the fp32 tile `tile32`
// (exp(G) ⊙ K, row stride gld<D>()), split into hi + lo 16-bit parts like the A operand
// (three products: hi hi, lo hi, hi lo) or rounded once.
template <int BT, int D, class T16, bool FP32B = false>
__device__ void strip_product(const float* S, const float* col, const T16* tile, bool split,
                              int rs, int lane, float (&acc)[Strip<D>::tiles][4],
                              const float* tile32 = nullptr) {
  constexpr int NT = Strip<D>::tiles;
  static_assert(NT % 2 == 0, "ldmatrix.x4.trans loads n8 tiles in pairs");
  constexpr int LD = merge::ld<BT>();
  const int g = lane / 4, tq = lane % 4;
#pragma unroll
  for (int n = 0; n < NT; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) acc[n][e] = 0.0f;
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
    if constexpr (FP32B) {
#pragma unroll
      for (int n = 0; n < NT; ++n) {
        // B fragment of n8 tile n: B[k = token 16 kb + 2 tq (+1, +8, +9)][n = channel].
        const float* b32 = tile32 + (16 * kb + 2 * tq) * gld<D>() + 8 * n + g;
        float r0, r1, r2, r3;
        const unsigned bh0 = pack2<T16>(b32[0], b32[gld<D>()], r0, r1);
        const unsigned bh1 = pack2<T16>(b32[8 * gld<D>()], b32[9 * gld<D>()], r2, r3);
        mma<T16>(acc[n], ahi, bh0, bh1);
        if (split) {
          mma<T16>(acc[n], alo, bh0, bh1);
          mma<T16>(acc[n], ahi, pack2<T16>(r0, r1), pack2<T16>(r2, r3));
        }
      }
    } else {
#pragma unroll
      for (int n = 0; n < NT; n += 2) {
        // B fragments of n8 tiles n, n+1: tile rows (tokens) 16 kb.., columns 8 n..
        unsigned b[4];
        const int tok = 16 * kb + (lane % 8) + ((lane / 8) % 2) * 8;
        const int ch = 8 * n + (lane / 16) * 8;
        ldmatrix_x4_trans(b, tile + tok * kld<D>() + ch);
        mma<T16>(acc[n], ahi, b[0], b[1]);
        mma<T16>(acc[n + 1], ahi, b[2], b[3]);
        if (split) {
          mma<T16>(acc[n], alo, b[0], b[1]);
          mma<T16>(acc[n + 1], alo, b[2], b[3]);
        }
      }
    }
  }
}

// fp32 outputs: the strip's rows < m straight from the accumulators (4 lanes write a full
// 32-byte sector). Returns true if a stored value is not finite.
template <int D>
__device__ bool store_strip(const float (&acc)[Strip<D>::tiles][4], float* __restrict__ out,
                            long long row0, int m, long long token_stride, long long head_offset,
                            int rs, int lane) {
  const int g = lane / 4, tq = lane % 4;
  bool bad = false;
#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    const int i = 16 * rs + g + 8 * hr;
    if (i >= m) continue;
    float* row = out + (row0 + i) * token_stride + head_offset + 2 * tq;
#pragma unroll
    for (int n = 0; n < Strip<D>::tiles; ++n) {
      const float a = acc[n][2 * hr], b = acc[n][2 * hr + 1];
      __stcs(reinterpret_cast<float2*>(row + 8 * n), make_float2(a, b));
      bad |= !isfinite(a) || !isfinite(b);
    }
  }
  return bad;
}

// 16-bit outputs: the strip's accumulators, rounded, into its rows of a padded tile in shared
// memory (the K or V tile, rows no longer read), then ... Storing the pairs straight from
// the registers (16 bytes in each of 8 rows per instruction) was measured on the H200
// (docs/gpu-chunk-wy.md, session 20): 72 M L1 wavefronts per launch for the global stores
// against 13 M for all non-shared traffic of this path, and 6% slower.
// Returns true if a value rounds to Inf or is NaN.
template <int D, class Tout>
__device__ bool stage_strip(const float (&acc)[Strip<D>::tiles][4], Tout* tile, int rs, int lane) {
  const int g = lane / 4, tq = lane % 4;
  merge::NonfiniteProbe<Tout> probe;  // one packed FMA per pair
#pragma unroll
  for (int hr = 0; hr < 2; ++hr)
#pragma unroll
    for (int n = 0; n < Strip<D>::tiles; ++n) {
      const unsigned packed = pack2<Tout>(acc[n][2 * hr], acc[n][2 * hr + 1]);
      *reinterpret_cast<unsigned*>(tile + (16 * rs + g + 8 * hr) * kld<D>() + 8 * n + 2 * tq) =
          packed;
      probe.add_word(packed);
    }
  // Rows >= m of a partial chunk hold finite values (zero inputs), so the check over all
  // rows equals the check over the stored ones.
  return probe.found();
}

// ... to global memory in 16-byte stores (a warp writes whole rows), NT threads. Rows < m.
template <int BT, int D, int NT = 2 * BT, bool SW = false, class Tout>
__device__ void store_staged(const Tout* tile, Tout* __restrict__ out, long long row0, int m,
                             long long token_stride, long long head_offset, int t) {
  static_assert(sizeof(Tout) == 2, "16-bit outputs: 8 per 16-byte store");
  constexpr int per_row = D / 8;
  static_assert(NT % per_row == 0 && BT % (NT / per_row) == 0, "whole rows per pass");
  constexpr int rows_per_pass = NT / per_row;
  const int e0 = (t % per_row) * 8;
  Tout* dst = out + (row0 + t / per_row) * token_stride + head_offset + e0;
#pragma unroll
  for (int it = 0; it < BT / rows_per_pass; ++it) {
    const int i = t / per_row + it * rows_per_pass;
    if (i < m)
      __stcs(reinterpret_cast<uint4*>(dst),
             *reinterpret_cast<const uint4*>(tile + toff<D, SW>(i, e0)));
    dst += rows_per_pass * token_stride;
  }
}

// True if a value of the chunk's inputs (rows < m) is NaN or Inf: read again from global
// memory, only on the rare path where an output was not finite.
template <int D, class T16>
__device__ bool inputs_nonfinite(const ChunkWyArgs& a, long long row0, int m, int H, int h, int t,
                                 int nthreads) {
  const int gw = a.per_channel_g ? D : 1;  // g entries per token and head
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
  for (int i = t; i < m; i += nthreads) bad |= !isfinite(to_float(beta[(row0 + i) * H + h]));
  if (a.g)
    for (int e = t; e < m * gw; e += nthreads)
      bad |= !isfinite(a.g[((row0 + e / gw) * H + h) * gw + e % gw]);
  return bad;
}

// X diag(beta) as hi + lo 16-bit tiles at xs (BT x BT each, row i, column j; 0 above the
// diagonal), 2 BT threads: each entry one fp32 product, then hi = rn16(x), lo = rn16(x - hi).
// Returns true if a hi part is not finite.
template <int BT, class T16>
__device__ bool write_xs(const float* S, const float* colU, T16* __restrict__ xs, int t) {
  constexpr int LD = merge::ld<BT>();
  merge::NonfiniteProbe<T16> probe;
  for (int p = t; p < BT * BT / 2; p += 2 * BT) {
    const int i = p / (BT / 2), j = 2 * (p % (BT / 2));
    const float2 sv = *reinterpret_cast<const float2*>(S + i * LD + j);
    const float x0 = (j < i ? sv.x : (j == i ? 1.0f : 0.0f)) * colU[j];
    const float x1 = (j + 1 < i ? sv.y : (j + 1 == i ? 1.0f : 0.0f)) * colU[j + 1];
    float r0, r1;
    const unsigned hi = pack2<T16>(x0, x1, r0, r1);
    *reinterpret_cast<unsigned*>(xs + i * BT + j) = hi;
    *reinterpret_cast<unsigned*>(xs + BT * BT + i * BT + j) = pack2<T16>(r0, r1);
    probe.add_word(hi);
  }
  return probe.found();
}

// kda: N = strictly_lower(diag(beta) sum_c k_ic k_jc exp(G_ic - G_jc)) into S (G per
// channel, fp32 in Gc). Blocks below the diagonal (bi > bj) on tensor cores with the
// reference token r = 16 bi (the first row of the row block, as flash-linear-attention's
// KDA sub-chunks do): exp(G_ic - G_jc) = exp(G_ic - G_rc) exp(G_rc - G_jc), so
//   A'_ic = k_ic exp(G_ic - G_rc)   (i >= r),   B'_jc = k_jc exp(G_rc - G_jc)   (j < r),
// both exponents <= 0 for non-positive log-decays (no overflow in any 16-bit format; a
// factor may underflow, an absolute error below the 16-bit subnormal spacing), each formed
// in fp32 (expf of the fp32 difference, one product) and split into hi + lo 16-bit parts
// (three products: hi hi, lo hi, hi lo) or rounded once. The 16 x 16 diagonal blocks
// elementwise in fp32, one expf per term: N_ij = beta_i sum_c fmaf(k_ic k_jc,
// expf(G_ic - G_jc)) in channel order. Rows >= m: N = 0.
template <int BT, int D, class T16>
__device__ void kda_kkt(const T16* Ks, const float* Gc, const float* beta, float* S, int m,
                        bool split, int t, int warp, int lane) {
  constexpr int NW = BT / 16;
  constexpr int LD = merge::ld<BT>();
  constexpr int GL = gld<D>();
  const int g = lane / 4, tq = lane % 4;
  // A'/B' pair of channels c, c + 1 of row i, exponent G_i - G_r (sign = +1) or G_r - G_i
  // (sign = -1); 0 for rows >= m.
  auto scaled = [&](int i, int r, int c, bool row_side) {
    const float2 k = load2(Ks + i * kld<D>() + c);
    const float2 gi = *reinterpret_cast<const float2*>(Gc + i * GL + c);
    const float2 gr = *reinterpret_cast<const float2*>(Gc + r * GL + c);
    const float e0 = row_side ? gi.x - gr.x : gr.x - gi.x;
    const float e1 = row_side ? gi.y - gr.y : gr.y - gi.y;
    return i < m ? make_float2(k.x * expf(e0), k.y * expf(e1)) : make_float2(0.0f, 0.0f);
  };
  constexpr int off_blocks = NW * (NW - 1) / 2;
#pragma unroll 1
  for (int blk = warp; blk < off_blocks; blk += NW) {
    int bi, bj;
    below_block(blk, bi, bj);
    const int r = 16 * bi;
    float acc[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll 1
    for (int ks = 0; ks < D / 16; ++ks) {
      // A fragment: rows 16 bi + g (+8), channels 16 ks + 2 tq (+1, +8, +9).
      unsigned ahi[4], alo[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const float2 x =
            scaled(16 * bi + g + ((q & 1) ? 8 : 0), r, 16 * ks + 2 * tq + ((q & 2) ? 8 : 0), true);
        float r0, r1;
        ahi[q] = pack2<T16>(x.x, x.y, r0, r1);
        alo[q] = pack2<T16>(r0, r1);
      }
#pragma unroll
      for (int n = 0; n < 2; ++n) {
        // B fragment of n8 tile n: B[k = channel 16 ks + 2 tq (+1, +8, +9)][n = row 16 bj + 8 n +
        // g].
        unsigned bhi[2], blo[2];
#pragma unroll
        for (int q = 0; q < 2; ++q) {
          const float2 x = scaled(16 * bj + 8 * n + g, r, 16 * ks + 2 * tq + 8 * q, false);
          float r0, r1;
          bhi[q] = pack2<T16>(x.x, x.y, r0, r1);
          blo[q] = pack2<T16>(r0, r1);
        }
        mma<T16>(acc[n], ahi, bhi[0], bhi[1]);
        if (split) {
          mma<T16>(acc[n], alo, bhi[0], bhi[1]);
          mma<T16>(acc[n], ahi, blo[0], blo[1]);
        }
      }
    }
#pragma unroll
    for (int hr = 0; hr < 2; ++hr) {
      const int i = 16 * bi + g + 8 * hr;
#pragma unroll
      for (int n = 0; n < 2; ++n)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          const int j = 16 * bj + 8 * n + 2 * tq + c;
          S[i * LD + j] = i < m ? beta[i] * acc[n][2 * hr + c] : 0.0f;
        }
    }
  }
  // Diagonal blocks: 120 pairs (i > j) per block over all threads.
  constexpr int pairs = 16 * 15 / 2;
#pragma unroll 1
  for (int p = t; p < NW * pairs; p += 2 * BT) {
    const int b = p / pairs, q = p % pairs;
    int il = 1;  // q = il (il - 1) / 2 + jl, jl < il
    while ((il + 1) * il / 2 <= q) ++il;
    const int i = 16 * b + il, j = 16 * b + q - il * (il - 1) / 2;
    float s = 0.0f;
    if (i < m) {
      const T16* ki = Ks + i * kld<D>();
      const T16* kj = Ks + j * kld<D>();
      const float* gi = Gc + i * GL;
      const float* gj = Gc + j * GL;
#pragma unroll 4
      for (int c = 0; c < D; c += 2) {
        const float2 a = load2(ki + c), bb = load2(kj + c);
        const float2 ga = *reinterpret_cast<const float2*>(gi + c);
        const float2 gb = *reinterpret_cast<const float2*>(gj + c);
        s = fmaf(a.x * bb.x, expf(ga.x - gb.x), s);
        s = fmaf(a.y * bb.y, expf(ga.y - gb.y), s);
      }
      s *= beta[i];
    }
    S[i * LD + j] = s;
  }
}

// The prologue and epilogue both kernels share. Thread t < BT reads beta_t and (scalar
// gates) g_t, stores G[t] = g_t in fp64 in natural logarithms (times ln 2 for base-2 gates) or,
// B2 (the blocked solve), in base-2 logarithms (times log2 e for natural ones), and returns
// beta_t (0 for rows >= m).
template <int BT, class T16, bool KDA, bool B2 = false>
__device__ float read_beta_g(const ChunkWyArgs& args, long long row0, int m, int H, int h, int t,
                             double* G) {
  float beta_t = 0.0f, g_t = 0.0f;
  if (t < BT && t < m) {
    beta_t = to_float(static_cast<const T16*>(args.beta)[(row0 + t) * H + h]);
    if (args.g && !KDA) g_t = args.g[(row0 + t) * H + h];
  }
  constexpr double ln2 = 0.69314718055994530942, log2e = 1.44269504088896340736;
  if (t < BT)
    G[t] = args.log2_g == B2 ? static_cast<double>(g_t)
                             : (B2 ? log2e : ln2) * static_cast<double>(g_t);
  return beta_t;
}

// G: the in-chunk inclusive cumulative sum in fp64, by one warp: each lane sums BT / 32
// consecutive tokens, an inclusive shuffle scan over the lanes' totals (a fixed order: the
// result never depends on timing), then each lane adds the previous lanes' total.
template <int BT>
__device__ void cumulative_G(double* G, int lane) {
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

// The column factors of W (beta_t gamma_t, gamma_t = exp(G_t), 1 when ungated) and U (beta_t),
// and the optional G and gamma outputs. Rows >= m have beta = 0. B2: G in base 2 (the blocked
// solve, which has no G output).
template <int BT, bool KDA, bool B2 = false>
__device__ void column_factors(const ChunkWyArgs& args, long long q, int m, int t, float beta_t,
                               const double* G, float* colW, float* colU) {
  if (t < BT) {
    if constexpr (!B2)
      if (args.g_out && args.g && !KDA) args.g_out[q * BT + t] = G[t < m ? t : m - 1];
    const float gamma = args.g && !KDA ? gate_factor<B2>(G[t], 0.0) : 1.0f;
    if (args.gamma_out) args.gamma_out[q * BT + t] = gamma;
    colW[t] = beta_t * gamma;
    colU[t] = beta_t;
  }
}

// The chunk's status: overflow if an output was not finite (any_bad: some thread's output),
// unless a read input is NaN/Inf (checked again from global memory only then):
// nonfinite_input. flags[0..1] are shared and were cleared at the start; every thread calls
// this with the same any_bad: flags[0], set by the threads that staged a value that is not
// finite before a barrier every thread has passed since. (__syncthreads_or would save the
// flag, but in the blocked solve ptxas then spills 170 bytes per thread.)
template <int D, class T16>
__device__ void write_status(const ChunkWyArgs& args, long long q, long long row0, int m, int H,
                             int h, int t, int nthreads, bool any_bad, int* flags) {
  if (any_bad) {  // rare path: classify
    if (inputs_nonfinite<D, T16>(args, row0, m, H, h, t, nthreads)) flags[1] = 1;
    __syncthreads();
  }
  if (t == 0) {
    const int s = flags[1] ? status_nonfinite : any_bad ? status_overflow : status_ok;
    if (args.statuses) args.statuses[q] = s;
    if (args.flag && s != status_ok) atomicMax(args.flag, s);
  }
}
template <int D, class T16>
__device__ void finish_status(const ChunkWyArgs& args, long long q, long long row0, int m, int H,
                              int h, int t, int nthreads, bool bad, int* flags) {
  if (bad) flags[0] = 1;
  __syncthreads();
  write_status<D, T16>(args, q, row0, m, H, h, t, nthreads, flags[0] != 0, flags);
}

// ---- W and U by a blocked triangular solve (no full inverse formed first; docs/gpu-chunk-wy.md
// "Blocked solve"): the launches at BT = 64 with 16-bit outputs and split products. The
// inverse, when asked for, comes from the same solve with the identity's columns. ----
//
// W = (I + N)^-1 R, R = S K (S = diag(beta gamma); U: S = diag(beta), V), by block rows b of 16
// tokens, with X_bb = (I + N_bb)^-1 (fp32 substitution) folded into the operands once per chunk:
//     W_b = (X_bb S_b) K_b - sum_{j<b} M_bj W_j,   M_bj = X_bb N_bj,
// transposed so that every operand of the products stays in registers:
//     W_b^T = K_b^T (X_bb S_b)^T - sum_{j<b} W_j^T M_bj^T.
// Warp w owns 16 MT columns of W and of U (MT = D / (16 NW)) and solves them one m16 tile at a
// time, with no barrier: K_b^T is an exact A operand (ldmatrix .trans from the tile), the
// accumulators of W_j^T are the A operands of the later products (the C and A fragments of
// m16n8k16 coincide), split into hi + lo 16-bit parts; the B operands (X_bb S_b)^T and -M_bj^T
// are packed once per chunk in fragment order (hi, lo: one 16-byte load per lane). The
// C fragments of a matrix are the B fragments of its transpose, so -M_bj^T is the accumulator
// of -X_bb N_bj, whose B operand N_bj is in turn the accumulator of K K^T's block (bj, bi)
// (above the diagonal), scaled: no exchange anywhere. (X_bb S_b)^T for W and for U take turns
// in the diagonal blocks' slots (each thread keeps its 8 entries of X_bb in registers). K and V
// sit in unpadded, swizzled tiles (toff<D, true>), so that 5 blocks fit on an SM; W and U are
// staged in place in the warp's own columns (stmatrix .trans) and stored once all warps are done.
// Compiled for sm_90a (TRISCAN_WGMMA), the solve's products are warpgroup mma instead
// (solve_wg: the four warps together, each B operand read from shared memory once for all of
// them, stored in wgmma's layout instead of fragment order); the same terms in the same order,
// the same outputs bit for bit on the H200. The PTX for other architectures keeps solve_tile.
namespace bsolve {

template <int BT, int D>
struct Layout {
  static constexpr int NW = BT / 16;
  static constexpr int nblocks = NW * (NW + 1) / 2;  // 16 x 16 blocks on and below the diagonal
  static constexpr std::size_t tile_bytes = 2 * BT * D;
  static constexpr std::size_t frag_bytes = 2 * 32 * 16;  // one block: 2 n8 tiles x 32 lanes
  static constexpr std::size_t k_off = 0;
  static constexpr std::size_t v_off = tile_bytes;
  // Packed B fragments, block (b, j) at index b (b + 1) / 2 + j: below the diagonal N_bj, then
  // -M_bj^T; the slot of a diagonal block first holds N_bb and then X_bb as 16 x 16 fp32
  // (exactly its 1 KiB), then (X_bb S_b)^T packed over it (after a barrier).
  static constexpr std::size_t f_off = 2 * tile_bytes;
  static constexpr std::size_t g_off = f_off + nblocks * frag_bytes;
  static constexpr std::size_t cw_off = g_off + sizeof(double) * BT;
  static constexpr std::size_t cu_off = cw_off + sizeof(float) * BT;
  static constexpr std::size_t flag_off = cu_off + sizeof(float) * BT;
  // Two mbarriers (sm_90a, whole chunks: K's and V's bulk tensor copies complete on them).
  static constexpr std::size_t mbar_off = flag_off + 4 * sizeof(int);
  static constexpr std::size_t bytes = mbar_off + 2 * sizeof(unsigned long long);
  static_assert(tile_bytes % 1024 == 0 && mbar_off % 8 == 0, "tiles at 1024-byte boundaries");
};

__host__ __device__ constexpr int blk(int b, int j) { return b * (b + 1) / 2 + j; }

// The tensor maps of the bulk tensor copies (sm_90a): K, V (loads), W, U (stores), each a
// [tokens, heads, D] 16-bit tensor seen as 3-d (D, heads, tokens) with boxes of 64 x 1 x 64
// (one panel of toff<D, true>'s tile), 128-byte swizzle. on: the maps are formed (regular
// chunks of a length that BT divides; launch_bsolve); otherwise, and in the PTX for other
// architectures, the kernel copies with cp.async and 16-byte stores.
struct Maps {
  CUtensorMap k, v, w, u;
  int on;
};

// cuTensorMapEncodeTiled from the driver, through the runtime (no link to libcuda), or nullptr.
inline PFN_cuTensorMapEncodeTiled_v12000 encode_tiled() {
  static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault,
                                         &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      (void)cudaGetLastError();
      return static_cast<PFN_cuTensorMapEncodeTiled_v12000>(nullptr);
    }
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
  }();
  return fn;
}

// map := the tensor map of a contiguous [tokens, heads, D] tensor of T (16-bit) at base; false
// if it cannot be formed (no driver entry point, a misaligned base, a size out of range).
template <class T, int D>
bool tile_map(CUtensorMap& map, const void* base, long long tokens, long long heads) {
  static_assert(sizeof(T) == 2 && D % 64 == 0, "16-bit tensors, whole 64-column panels");
  const PFN_cuTensorMapEncodeTiled_v12000 encode = encode_tiled();
  if (!encode || reinterpret_cast<std::uintptr_t>(base) % 16 != 0) return false;
  const cuuint64_t dims[3] = {static_cast<cuuint64_t>(D), static_cast<cuuint64_t>(heads),
                              static_cast<cuuint64_t>(tokens)};
  const cuuint64_t strides[2] = {static_cast<cuuint64_t>(D) * sizeof(T),
                                 static_cast<cuuint64_t>(heads) * D * sizeof(T)};
  const cuuint32_t box[3] = {64, 1, 64};
  const cuuint32_t unit[3] = {1, 1, 1};
  const CUtensorMapDataType type = std::is_same_v<T, __half> ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
                                                             : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
  return encode(&map, type, 3, const_cast<void*>(base), dims, strides, box, unit,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

// stmatrix .x4 .trans: lanes 8q .. 8q + 7 address the rows of 8 x 8 matrix q, register q
// holds lane l's entries (l / 4, 2 (l % 4) + c), c = 0, 1 (low half first), which go to row
// 2 (l % 4) + c, column l / 4. stmatrix needs sm_90: before it (the compute_80 PTX) the same
// stores lane by lane, each row address from the lane that holds it, between two __syncwarp
// (the warp's earlier reads of these bytes, e.g. ldmatrix of K_b, ordered before the stores,
// and the stores before the warp's later accesses, as the collective instruction orders them).
__device__ inline void stmatrix_x4_trans(void* p, const unsigned (&r)[4]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [%0], {%1, %2, %3, %4};\n" ::"r"(
                   smem_addr(p)),
               "r"(r[0]), "r"(r[1]), "r"(r[2]), "r"(r[3])
               : "memory");
#else
  unsigned lane;
  asm("mov.u32 %0, %%laneid;\n" : "=r"(lane));
  const unsigned a = smem_addr(p);
  __syncwarp();
#pragma unroll
  for (int q = 0; q < 4; ++q)
#pragma unroll
    for (int c = 0; c < 2; ++c) {
      const unsigned row = __shfl_sync(0xffffffffu, a, 8 * q + 2 * (lane % 4) + c);
      const unsigned short v = static_cast<unsigned short>(c ? r[q] >> 16 : r[q] & 0xffffu);
      asm volatile("st.shared.b16 [%0], %1;\n" ::"r"(row + 2 * (lane / 4)), "h"(v) : "memory");
    }
  __syncwarp();
#endif
}

// Four fp32 values as one lane's B fragment pair (hi: x, y; lo: z, w), (v0, v1) and (v2, v3)
// the two registers' pairs.
template <class T16>
__device__ inline uint4 split_b(float v0, float v1, float v2, float v3) {
  float r0, r1, r2, r3;
  const unsigned h0 = pack2<T16>(v0, v1, r0, r1);
  const unsigned h1 = pack2<T16>(v2, v3, r2, r3);
  return make_uint4(h0, h1, pack2<T16>(r0, r1), pack2<T16>(r2, r3));
}

// N's entries of block (bi, bj), bi > bj, from the accumulators of K K^T's block (bj, bi), its
// transpose (the same products in the same channel order): nv[hr][n][c] = N_ij at
// i = 16 bi + 8 n + 2 tq + c, j = 16 bj + g + 8 hr, formed as scale_block<true> forms N_ij (G
// in base 2; 0 in rows i >= m). nv[hr][0][.], nv[hr][1][.] are then lane's B fragment registers
// of n8 tile hr of N_bj (rows 2 tq (+1) and 2 tq + 8 (+9), column g).
__device__ inline void scale_block_t(const float (&acc)[2][4], int bi, int bj, int m, int lane,
                                     const float* beta, const double* G, bool gated,
                                     float (&nv)[2][2][2]) {
  const int g = lane / 4, tq = lane % 4;
#pragma unroll
  for (int hr = 0; hr < 2; ++hr) {
    const int j = 16 * bj + g + 8 * hr;
    const double Gj = G[j];
#pragma unroll
    for (int n = 0; n < 2; ++n) {
      const int i0 = 16 * bi + 8 * n + 2 * tq;
      const float2 bt = *reinterpret_cast<const float2*>(beta + i0);
      const double2 gi = *reinterpret_cast<const double2*>(G + i0);
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        float nij = (c ? bt.y : bt.x) * acc[n][2 * hr + c];
        if (gated) nij *= gate_factor<true>(c ? gi.y : gi.x, Gj);
        nv[hr][n][c] = i0 + c < m ? nij : 0.0f;
      }
    }
  }
}

// Registers 0 and 3 of I_16's A fragment (rows g, g + 8 hold 1 at columns g, g + 8; registers
// 1 and 2 are 0).
template <class T16>
__device__ inline unsigned identity_a(int lane) {
  const int g = lane / 4, tq = lane % 4;
  return pack2<T16>(g == 2 * tq ? 1.0f : 0.0f, g == 2 * tq + 1 ? 1.0f : 0.0f);
}

// A final W_j^T (its two n8 tiles' accumulators, or zeros) rounded to Tout, each word probed,
// and staged (stmatrix .trans) at row `row`, column cl of the TW-wide swizzled tile.
template <int TW, class Tout, class T16>
__device__ inline void stage_block(T16* tile, const float (&acc)[2][4], bool zero, int row, int cl,
                                   merge::NonfiniteProbe<Tout>& probe) {
  unsigned st[4];
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    st[q] = zero ? 0u : pack2<Tout>(acc[q / 2][2 * (q % 2)], acc[q / 2][2 * (q % 2) + 1]);
    probe.add_word(st[q]);
  }
  stmatrix_x4_trans(tile + toff<TW, true>(row, cl), st);
}

#if TRISCAN_WGMMA
// solve_tile by warpgroup mma (sm_90a): the block's four warps solve one 64-column half of W
// (tile K) or U (tile V) together, warp w columns c0 + 16 w .. c0 + 16 w + 15, the same terms
// in the same order as solve_tile, each product a wgmma m64n16k16 whose B operand (16 x 16)
// is read from shared memory once for all four warps instead of once per warp and m16 tile.
// F's slots hold the B operands in tc::wg_off's layout: block (b, j)'s hi part at byte
// 1024 blk(b, j), its lo part 512 bytes on ((X_bb S_b)^T on the diagonal, -M_bj^T below it).
// Each block row waits for its products (wgmma.wait_group) before its split feeds the next.
// INV: column block w of the inverse (c0 = 0, BT-wide staging): the diagonal term's A operand
// is the identity's block at b = w and 0 elsewhere (all warps issue the same products), the
// blocks j < w of the column staged as zeros (X_jw = 0).
// RR (rounded re-entry): W_j^T re-enters the later blocks' products rounded once to T16 (its hi
// part alone): two products per term, W_j^T's hi times -M_bj^T's hi and lo, instead of three.
template <int BT, int D, class T16, class Tout, bool INV = false, bool RR = false>
__device__ bool solve_wg(T16* tile, const unsigned char* F, int c0, int warp, int lane) {
  constexpr int NW = BT / 16;
  constexpr int TW = INV ? BT : D;  // the staging tile's width
  const int row_in_block = (lane % 8) + (lane / 16) * 8;
  const int cl = c0 + 16 * warp + ((lane / 8) % 2) * 8;
  merge::NonfiniteProbe<Tout> probe;
  float w[NW][2][4] = {};
  unsigned r[NW][4];
#pragma unroll
  for (int b = 0; b < NW; ++b) {
    if constexpr (INV) {  // I_16 at b = warp, else 0
      const unsigned d = b == warp ? identity_a<T16>(lane) : 0u;
      r[b][0] = d, r[b][1] = 0u, r[b][2] = 0u, r[b][3] = d;
    } else {
      ldmatrix_x4_trans(r[b], tile + toff<D, true>(16 * b + row_in_block, cl));
    }
  }
  // w_b := K_b^T (X_bb S_b)^T (INV: I or 0 times X_bb^T); block 0's products a group of their
  // own, so that step 0 waits for them alone.
  const unsigned dF = tc::wg_desc_lo(F);
  tc::wg_fence();
#pragma unroll
  for (int b = 0; b < NW; ++b) {
    const int slot = blk(b, b) * 1024;
    tc::wgmma<T16>(w[b], r[b], tc::wg_desc(dF, slot));
    tc::wgmma<T16>(w[b], r[b], tc::wg_desc(dF, slot + 512));
    if (b == 0) tc::wg_commit();
  }
  tc::wg_commit();
#pragma unroll
  for (int j = 0; j < NW; ++j) {
    // W_j^T is final once every group but the most recent is done (groups complete in order):
    // step j - 1 committed its products into block j (one group) before those into the blocks
    // after it (the most recent group, left in flight), and the products of earlier steps
    // before both. The last step waits for all.
    if (j + 1 < NW)
      tc::wg_wait<1>();
    else
      tc::wg_wait<0>();
    // W_j^T (split; RR: rounded once) added to the later blocks, w_b += W_j^T (-M_bj^T): block
    // j + 1's products one group, the other blocks' the next; then W_j^T staged.
    if (j + 1 < NW) {
      unsigned ah[4], al[4];
      a_from_acc<T16>(w[j][0], w[j][1], ah, al);
      tc::wg_fence();
#pragma unroll
      for (int b = j + 1; b < NW; ++b) {
        const int slot = blk(b, j) * 1024;
        tc::wgmma<T16>(w[b], ah, tc::wg_desc(dF, slot));
        if constexpr (!RR) tc::wgmma<T16>(w[b], al, tc::wg_desc(dF, slot));
        tc::wgmma<T16>(w[b], ah, tc::wg_desc(dF, slot + 512));
        if (b == j + 1 || b + 1 == NW) tc::wg_commit();
      }
    }
    stage_block<TW>(tile, w[j], INV && j < warp, 16 * j + row_in_block, cl, probe);
  }
  return probe.found();
}

// A value pair (entries (n, k), (n, k + 1) of a 16 x 16 B operand's K-major storage) split
// into hi and lo 16-bit parts, into a slot of F as solve_wg reads it.
template <class T16>
__device__ inline void store_b_pair(unsigned char* slot, int n, int k, float v0, float v1) {
  float r0, r1;
  const int o = tc::wg_off(n, k);
  *reinterpret_cast<unsigned*>(slot + o) = pack2<T16>(v0, v1, r0, r1);
  *reinterpret_cast<unsigned*>(slot + 512 + o) = pack2<T16>(r0, r1);
}
#endif

// One m16 tile (columns [c0, c0 + 16)) of W (tile K) or U (tile V): the solve over the block
// rows with the B fragments in F (the diagonal slots holding (X_bb S_b)^T for this output), each
// W_b^T rounded to Tout and staged in place in the tile (rows of block b, read as K_b before).
// Products: K_b^T (exact) times the hi and lo parts of (X_bb S_b)^T (two mma); the split W_j^T
// times the split -M_bj^T, hi hi + lo hi + hi lo (three mma). Every block's sum is started with
// its K_b^T term and each W_j^T, once final, is added to all later blocks at once (the same
// terms in the same order as block by block; the chain of dependent products from one block to
// the next is one term's three, not the whole row's).
// INV: column block cb = c0 / 16 of the inverse X = (I + N)^-1: K_b^T is the identity's block
// at b = cb and 0 elsewhere (X_bc = 0 for b < cb, the sums from j = cb), the diagonal slots
// holding X_bb^T; staged in a BT-wide tile.
// RR (rounded re-entry): W_j^T's lo part left out of the later products (two mma per pair).
// Returns true if a staged value is not finite.
template <int BT, int D, class T16, class Tout, bool INV = false, bool RR = false>
__device__ bool solve_tile(T16* tile, const uint4* F, int c0, int lane) {
  constexpr int NW = BT / 16;
  constexpr int TW = INV ? BT : D;  // the staging tile's width
  const int cb = c0 / 16;
  // ldmatrix/stmatrix .trans rows: lanes 8q..8q+7 address 8x8 matrix q = (token half, column
  // half) = (q / 2, q % 2), which is register q of the A fragment of K_b^T and accumulator half
  // e = 2 (q % 2) of n8 tile q / 2 of W_b^T.
  const int row_in_block = (lane % 8) + (lane / 16) * 8;
  const int cl = c0 + ((lane / 8) % 2) * 8;
  merge::NonfiniteProbe<Tout> probe;
  float w[NW][2][4] = {};
#pragma unroll
  for (int b = 0; b < NW; ++b) {
    // w_b := K_b^T (X_bb S_b)^T (INV: the identity's block at b = cb, X_cc^T).
    if (!INV || b == cb) {
      unsigned r[4];
      if constexpr (INV) {  // I_16
        const unsigned d = identity_a<T16>(lane);
        r[0] = d, r[1] = 0u, r[2] = 0u, r[3] = d;
      } else {
        ldmatrix_x4_trans(r, tile + toff<D, true>(16 * b + row_in_block, cl));
      }
#pragma unroll
      for (int n = 0; n < 2; ++n) {
        const uint4 f = F[(blk(b, b) * 2 + n) * 32 + lane];  // hi (x, y), lo (z, w)
        mma<T16>(w[b][n], r, f.x, f.y);
        mma<T16>(w[b][n], r, f.z, f.w);
      }
    }
  }
#pragma unroll
  for (int j = 0; j < NW; ++j) {
    if (INV && j < cb) {  // X_jc = 0
      const unsigned zero[4] = {0u, 0u, 0u, 0u};
      stmatrix_x4_trans(tile + toff<TW, true>(16 * j + row_in_block, cl), zero);
      continue;
    }
    // W_j^T is final: staged, and (split) added to the later blocks, w_b += W_j^T (-M_bj^T).
    if (j + 1 < NW) {
      unsigned ah[4], al[4];
      a_from_acc<T16>(w[j][0], w[j][1], ah, al);
#pragma unroll
      for (int b = j + 1; b < NW; ++b)
#pragma unroll
        for (int n = 0; n < 2; ++n) {
          const uint4 f = F[(blk(b, j) * 2 + n) * 32 + lane];
          mma<T16>(w[b][n], ah, f.x, f.y);
          if constexpr (!RR) mma<T16>(w[b][n], al, f.x, f.y);
          mma<T16>(w[b][n], ah, f.z, f.w);
        }
    }
    stage_block<TW>(tile, w[j], false, 16 * j + row_in_block, cl, probe);
  }
  return probe.found();
}

// The staged inverse (BT-wide swizzled tile) to X [.., H, BT] rows and columns < m (a partial
// chunk's columns >= m are left as they are, as merge::store leaves them), 16-byte stores.
template <int BT, class Tout>
__device__ void store_inverse(const Tout* tile, Tout* __restrict__ X, long long row0, int m, int H,
                              int h, int t) {
  static_assert(sizeof(Tout) == 2, "16-bit outputs: 8 per 16-byte store");
  constexpr int per_row = BT / 8;
#pragma unroll 4
  for (int v = t; v < BT * per_row; v += 2 * BT) {
    const int i = v / per_row, c0 = (v % per_row) * 8;
    if (i >= m || c0 >= m) continue;
    const Tout* src = tile + toff<BT, true>(i, c0);
    Tout* dst = X + ((row0 + i) * H + h) * BT + c0;
    if (c0 + 8 <= m)
      __stcs(reinterpret_cast<uint4*>(dst), *reinterpret_cast<const uint4*>(src));
    else
      for (int e = 0; e < m - c0; ++e) dst[e] = src[e];
  }
}

}  // namespace bsolve

// RR: the solved blocks re-enter the later products rounded once (solve_wg; "rounded re-entry",
// WyGpuOptions::rounded_reentry).
template <int BT, int D, class T16, class Tout, bool RR>
__global__ void __launch_bounds__(2 * BT, 5)
    chunk_wy_bsolve_kernel(MatrixAddressing addr, ChunkWyArgs args,
                           const __grid_constant__ bsolve::Maps maps) {
  static_assert(BT == 64 && sizeof(Tout) == 2, "the blocked solve serves BT = 64, 16-bit W, U");
  using L = bsolve::Layout<BT, D>;
  constexpr int NW = BT / 16;
  constexpr int MT = D / (16 * NW);  // m16 tiles of W and of U per warp
  static_assert(MT >= 1 && D == 16 * NW * MT, "whole m16 tiles per warp");
  // Its own name: chunk_wy_kernel declares the dynamic shared memory 16-byte aligned.
  extern __shared__ __align__(1024) unsigned char smem_bs[];
  unsigned char* const smem = smem_bs;
  T16* Ks = reinterpret_cast<T16*>(smem + L::k_off);
  T16* Vs = reinterpret_cast<T16*>(smem + L::v_off);
  uint4* F = reinterpret_cast<uint4*>(smem + L::f_off);
  double* G = reinterpret_cast<double*>(smem + L::g_off);
  float* colW = reinterpret_cast<float*>(smem + L::cw_off);
  float* colU = reinterpret_cast<float*>(smem + L::cu_off);
  int* flags = reinterpret_cast<int*>(smem + L::flag_off);
  // Diagonal block b's fp32 scratch (16 x 16): its slot in F.
  auto diag = [&](int b) { return reinterpret_cast<float*>(F + bsolve::blk(b, b) * 2 * 32); };

  // threadIdx.x < 2 BT: the remainder (an AND) only tells the compiler that t is not negative,
  // so that t's divisions and remainders below are shifts and masks, without sign fix-ups.
  const int t = static_cast<int>(threadIdx.x % (2 * BT)), warp = t / 32, lane = t % 32;
  const int g = lane / 4, tq = lane % 4;
  // Head h and chunk row r: from the grid (launch_bsolve's (H, rows) grid), or q = r H + h in a
  // one-dimensional grid of more than 65535 rows. 32 bits (q < 2^31; heads and key heads are
  // ints); no integer division in the common case (launch_bsolve, below).
  const unsigned Hu = static_cast<unsigned>(addr.heads);
  const int H = static_cast<int>(Hu);
  unsigned hu = blockIdx.x, ru = blockIdx.y;
  if (gridDim.x != Hu) hu = blockIdx.x % Hu, ru = blockIdx.x / Hu;
  const long long q = static_cast<long long>(ru) * Hu + hu;
  const int h = static_cast<int>(hu);
  // Regular chunks of a length that BT divides: chunk row r starts at token r BT, m = BT.
  const ChunkSpan span = addr.kind == Addressing::chunks && addr.length % BT == 0
                             ? ChunkSpan{static_cast<long long>(ru) * BT, BT}
                             : chunk_span<BT>(addr, ru);
  const long long row0 = span.row0;
  const int m = span.size;
  const long long hk =
      args.key_heads == H ? hu : static_cast<unsigned>(h * args.key_heads) / Hu;
  const long long h_out = static_cast<long long>(h) * D, stride = static_cast<long long>(H) * D;

  // 1. Loads (K, then V in a second group), beta, g, G (base 2), the column factors. On sm_90a
  // a whole chunk's K and V come by bulk tensor copies (thread 0 issues them, each completing
  // on its mbarrier) when the maps are formed; W and U leave the same way (step 5).
  const long long kstride = static_cast<long long>(args.key_heads) * D;
  const T16* kp = static_cast<const T16*>(args.k);
  const T16* vp = static_cast<const T16*>(args.v);
  constexpr unsigned tile_tx = static_cast<unsigned>(L::tile_bytes);
  unsigned long long* mbar = reinterpret_cast<unsigned long long*>(smem + L::mbar_off);
#if TRISCAN_WGMMA
  // The tiles' swizzle is the copies' only at a 1024-byte aligned address (asked for above).
  const bool bulk = maps.on && m == BT && (smem_addr(smem) & 1023u) == 0;
#else
  constexpr bool bulk = false;
#endif
  if (bulk) {
    if (t == 0) {
      tc::mbar_init(mbar, 1);
      tc::mbar_init(mbar + 1, 1);
      tc::mbar_init_fence();
      tc::mbar_expect_tx(mbar, tile_tx);
#pragma unroll
      for (int p = 0; p < D / 64; ++p)
        tc::tma_load_3d(Ks + 64 * 64 * p, &maps.k, 64 * p, static_cast<int>(hk),
                        static_cast<int>(row0), mbar);
      tc::mbar_expect_tx(mbar + 1, tile_tx);
#pragma unroll
      for (int p = 0; p < D / 64; ++p)
        tc::tma_load_3d(Vs + 64 * 64 * p, &maps.v, 64 * p, h, static_cast<int>(row0), mbar + 1);
    }
  } else if (m == BT) {  // a whole chunk: no row tests
    load_tile<BT, D, 2 * BT, true, true>(kp, row0, m, kstride, hk * D, Ks, t);
    cp_async_commit();
    load_tile<BT, D, 2 * BT, true, true>(vp, row0, m, stride, h_out, Vs, t);
  } else {
    load_tile<BT, D, 2 * BT, true>(kp, row0, m, kstride, hk * D, Ks, t);
    cp_async_commit();
    load_tile<BT, D, 2 * BT, true>(vp, row0, m, stride, h_out, Vs, t);
  }
  cp_async_commit();
  if (t < 2) flags[t] = 0;
  const float beta_t = read_beta_g<BT, T16, false, true>(args, row0, m, H, h, t, G);
  // column_factors reads only G[t], which thread t wrote: a barrier only around the scan.
  if (args.g && !args.cumulative_g) {
    __syncthreads();
    if (warp == 0) cumulative_G<BT>(G, lane);
    __syncthreads();
  }
  column_factors<BT, false, true>(args, q, m, t, beta_t, G, colW, colU);
  cp_async_wait<1>();
  __syncthreads();
  if (bulk) tc::mbar_wait(mbar, 0);  // K (the barriers were initialised before the barrier)

  // 2-3. N's lower 16 x 16 blocks on tensor cores, with chunk_wy_kernel's products and
  // scaling, and X_bb = (I + N_bb)^-1. The first NW / 2 warps take two diagonal blocks each:
  // N_bb into the block's fp32 scratch, then (lane: block 2 warp + lane / 16, column lane % 16)
  // X_bb by forward substitution in fp32 (merge::solve_base_column's order and roundings: the
  // inversion kernel's base blocks) over it, with only the warp's own data in flight. The other
  // warps meanwhile take the blocks below the diagonal, from K K^T's block above it (the
  // transpose), as B fragments of N_bj (hi, lo). Rows >= m: N = 0.
  static_assert(NW == 4, "two diagonal blocks per warp of the first half");
  if (warp < NW / 2) {
#pragma unroll 1
    for (int b = 2 * warp; b < 2 * warp + 2; ++b) {
      float acc[2][4];
      float nv[2][2][2];
      block_abt<D, T16, true>(Ks, Ks, b, b, lane, acc);
      scale_block<true>(acc, b, b, m, lane, colU, G, args.g != nullptr, nv);
#pragma unroll
      for (int hr = 0; hr < 2; ++hr)
#pragma unroll
        for (int n = 0; n < 2; ++n)
          *reinterpret_cast<float2*>(diag(b) + (g + 8 * hr) * 16 + 8 * n + 2 * tq) =
              make_float2(nv[hr][n][0], nv[hr][n][1]);
    }
    __syncwarp();
    const int b = 2 * warp + lane / 16, j = lane % 16;
    float x[16];
    const float* Nb = diag(b);
#pragma unroll
    for (int i = 0; i < 16; ++i) {
      float acc0 = 0.0f, acc1 = 0.0f;
      const float* row = Nb + i * 16;
#pragma unroll
      for (int k = 0; k < i; k += 4) {
        const float4 v = *reinterpret_cast<const float4*>(row + k);
        acc0 = fmaf(v.x, x[k], acc0);
        if (k + 1 < i) acc1 = fmaf(v.y, x[k + 1], acc1);
        if (k + 2 < i) acc0 = fmaf(v.z, x[k + 2], acc0);
        if (k + 3 < i) acc1 = fmaf(v.w, x[k + 3], acc1);
      }
      x[i] = i < j ? 0.0f : (i == j ? 1.0f : -(acc0 + acc1));
    }
    __syncwarp();
#pragma unroll
    for (int i = 0; i < 16; ++i) diag(b)[i * 16 + j] = x[i];
  } else {
    constexpr int noff = NW * (NW - 1) / 2;
#pragma unroll 1
    for (int o = warp - NW / 2; o < noff; o += NW / 2) {
      int bi, bj;
      below_block<NW>(o, bi, bj);
      const int bk = bsolve::blk(bi, bj);
      float acc[2][4];
      float nv[2][2][2];
      block_abt<D, T16, true>(Ks, Ks, bj, bi, lane, acc);
      bsolve::scale_block_t(acc, bi, bj, m, lane, colU, G, args.g != nullptr, nv);
#pragma unroll
      for (int hr = 0; hr < 2; ++hr)
        F[(bk * 2 + hr) * 32 + lane] = bsolve::split_b<T16>(nv[hr][0][0], nv[hr][0][1],
                                                            nv[hr][1][0], nv[hr][1][1]);
    }
  }
  __syncthreads();

  // 4. Per chunk: -M_bj = -X_bb N_bj below the diagonal (warp-strided over the blocks; the A
  // operand -X_bb split, B N_bj's fragments, three mma; packed over N_bj's slot by the lanes
  // that read it), and each thread's 8 entries of X_bb for the diagonal slots: (X_bb S_b)^T's
  // B fragments, entry p = t + 2 BT e (block p / 64, n8 tile (p / 32) % 2, lane p % 32) holding
  // X_bb rows 8 n + lane / 4, columns 2 (lane % 4) + {0, 1, 8, 9} (times S's column factors).
  float xb[2][4];
#pragma unroll
  for (int e = 0; e < 2; ++e) {
    const int p = t + 2 * BT * e, bb = p / 64, n = (p / 32) % 2, ln = p % 32;
    const float* row = diag(bb) + (8 * n + ln / 4) * 16 + 2 * (ln % 4);
    xb[e][0] = row[0], xb[e][1] = row[1], xb[e][2] = row[8], xb[e][3] = row[9];
  }
  {
    constexpr int noff = NW * (NW - 1) / 2;
#pragma unroll 1
    for (int o = warp; o < noff; o += NW) {
      int bi, bj;
      below_block<NW>(o, bi, bj);
      const int bk = bsolve::blk(bi, bj);
      // A fragment of -X_bb (rows g, g + 8; columns 2 tq (+1), + 8), split.
      const float* Xb = diag(bi);
      unsigned ahi[4], alo[4];
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const float2 xv = *reinterpret_cast<const float2*>(Xb + (g + 8 * (r & 1)) * 16 +
                                                           2 * tq + 8 * (r >> 1));
        float r0, r1;
        ahi[r] = pack2<T16>(-xv.x, -xv.y, r0, r1);
        alo[r] = pack2<T16>(r0, r1);
      }
      float c[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
      for (int n = 0; n < 2; ++n) {
        const uint4 f = F[(bk * 2 + n) * 32 + lane];
        mma<T16>(c[n], ahi, f.x, f.y);
        mma<T16>(c[n], alo, f.x, f.y);
        mma<T16>(c[n], ahi, f.z, f.w);
      }
#if TRISCAN_WGMMA
      // -M_bj^T as solve_wg's B operand: entry (n, k) = -M_bj[n][k], from the C fragments
      // (rows g + 8 hr, columns 8 n + 2 tq (+1)), over N_bj's slot once every lane has read it.
      __syncwarp();
      unsigned char* slot = reinterpret_cast<unsigned char*>(F) + bk * 1024;
#pragma unroll
      for (int n = 0; n < 2; ++n)
#pragma unroll
        for (int hr = 0; hr < 2; ++hr)
          bsolve::store_b_pair<T16>(slot, g + 8 * hr, 8 * n + 2 * tq, c[n][2 * hr],
                                    c[n][2 * hr + 1]);
#else
      // C fragments of -M_bj = B fragments of -M_bj^T: n8 tile hr from row half hr.
#pragma unroll
      for (int hr = 0; hr < 2; ++hr)
        F[(bk * 2 + hr) * 32 + lane] = bsolve::split_b<T16>(c[0][2 * hr], c[0][2 * hr + 1],
                                                            c[1][2 * hr], c[1][2 * hr + 1]);
#endif
    }
  }
  // The diagonal slots: (X_bb S_b)^T with S's factors col (colW, colU), or X_bb^T (nullptr).
  auto pack_diag = [&](const float* col) {
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const int p = t + 2 * BT * e, bb = p / 64, n = (p / 32) % 2, ln = p % 32;
      float s[4] = {1.0f, 1.0f, 1.0f, 1.0f};
      if (col) {  // the factors of tokens 16 bb + 2 (ln % 4) + {0, 1, 8, 9}
        const float* c = col + 16 * bb + 2 * (ln % 4);
        const float2 s0 = *reinterpret_cast<const float2*>(c);
        const float2 s1 = *reinterpret_cast<const float2*>(c + 8);
        s[0] = s0.x, s[1] = s0.y, s[2] = s1.x, s[3] = s1.y;
      }
#if TRISCAN_WGMMA
      // solve_wg's B operand: entry (n, k) = (X_bb S_b)[n][k], row 8 n + ln / 4, columns
      // 2 (ln % 4) (+1) and + 8.
      unsigned char* slot = reinterpret_cast<unsigned char*>(F) + bsolve::blk(bb, bb) * 1024;
#pragma unroll
      for (int h2 = 0; h2 < 2; ++h2)
        bsolve::store_b_pair<T16>(slot, 8 * n + ln / 4, 2 * (ln % 4) + 8 * h2,
                                  xb[e][2 * h2] * s[2 * h2], xb[e][2 * h2 + 1] * s[2 * h2 + 1]);
#else
      F[(bsolve::blk(bb, bb) * 2 + n) * 32 + ln] = bsolve::split_b<T16>(
          xb[e][0] * s[0], xb[e][1] * s[1], xb[e][2] * s[2], xb[e][3] * s[3]);
#endif
    }
  };
  // The solve for the warp's columns of W (tile K) or U (tile V), after the barrier that
  // follows the packing (made visible to wgmma's reads first). Bulk: each 64-column half but the
  // last goes out (thread 0's bulk tensor store of its panel) once solved, while the next is.
  auto solve = [&](T16* tile, const CUtensorMap* map) {
    bool found = false;
#if TRISCAN_WGMMA
#pragma unroll 1
    for (int p = 0; p < MT; ++p) {
      found |= bsolve::solve_wg<BT, D, T16, Tout, false, RR>(
          tile, reinterpret_cast<const unsigned char*>(F), 64 * p, warp, lane);
      if (bulk && p + 1 < MT) {
        tc::fence_proxy_async();
        __syncthreads();
        if (t == 0) {
          tc::tma_store_3d(map, tile + 64 * 64 * p, 64 * p, h, static_cast<int>(row0));
          tc::bulk_commit();
        }
      }
    }
#else
    (void)map;
#pragma unroll 1
    for (int p = 0; p < MT; ++p)
      found |= bsolve::solve_tile<BT, D, T16, Tout, false, RR>(tile, F, 16 * (MT * warp + p), lane);
#endif
    return found;
  };
  __syncthreads();  // every read of the scratch done
  pack_diag(colW);
  tc::fence_proxy_async();
  __syncthreads();

  // 5. W for the warp's columns; after a barrier every warp's staged rows of W out, then U the
  // same way (W's stores, issued before the U solve, overlap it). Bulk: thread 0 stores the
  // staged tile by bulk tensor copies, once every thread's stmatrix is visible to them.
  auto store_out = [&](const T16* tile, void* out, const CUtensorMap* map) {
    if (!bulk) {
      store_staged<BT, D, 2 * BT, true>(reinterpret_cast<const Tout*>(tile),
                                        static_cast<Tout*>(out), row0, m, stride, h_out, t);
      return;
    }
    if (t == 0) {  // the last panel (the others went out as they were solved)
      constexpr int p = D / 64 - 1;
      tc::tma_store_3d(map, tile + 64 * 64 * p, 64 * p, h, static_cast<int>(row0));
      tc::bulk_commit();
    }
  };
  const bool bad_w = solve(Ks, &maps.w);
  if (bulk) tc::fence_proxy_async();
  __syncthreads();
  store_out(Ks, args.w, &maps.w);
  pack_diag(colU);
  tc::fence_proxy_async();
  cp_async_wait<0>();
  __syncthreads();
  if (bulk) tc::mbar_wait(mbar + 1, 0);  // V
  if (solve(Vs, &maps.u) || bad_w) flags[0] = 1;  // read after the next barrier (write_status)
  if (bulk) tc::fence_proxy_async();
  __syncthreads();
  store_out(Vs, args.u, &maps.u);
  // 6. The inverse (optional): column block w of X by warp w, by the same solve with the
  // identity's columns, staged in K's tile once the stores above have read it.
  if (args.inverse) {  // NW = BT / 16 warps: one column block each
    pack_diag(nullptr);
    tc::fence_proxy_async();
    if (bulk && t == 0) tc::bulk_wait_read();  // W's copies have read K's tile
    __syncthreads();
#if TRISCAN_WGMMA
    const bool bad_x = bsolve::solve_wg<BT, D, T16, Tout, true, RR>(
        Ks, reinterpret_cast<const unsigned char*>(F), 0, warp, lane);
#else
    const bool bad_x = bsolve::solve_tile<BT, D, T16, Tout, true, RR>(Ks, F, 16 * warp, lane);
#endif
    if (bad_x) flags[0] = 1;
    __syncthreads();
    bsolve::store_inverse<BT>(reinterpret_cast<const Tout*>(Ks), static_cast<Tout*>(args.inverse),
                              row0, m, H, h, t);
  }
  // Every flag was set before a barrier all threads have passed: no other barrier.
  write_status<D, T16>(args, q, row0, m, H, h, t, 2 * BT, flags[0] != 0, flags);
  if (bulk && t == 0) tc::bulk_wait_read();  // the copies' reads before shared memory goes
}

// XS: X~ (and gamma, G) only, W and U compiled out (the delta forward's call without w):
// fewer registers and no V tile, so more blocks fit on an SM.
template <int BT, int D, class T16, class Tout, bool KDA, bool XS = false>
__global__ void __launch_bounds__(2 * BT, BT == 128 ? 1
                                          : BT == 64 ? (XS ? 6 : 4)
                                                     : (XS ? 12 : 8))
    chunk_wy_kernel(MatrixAddressing addr, ChunkWyArgs args) {
  using L = Layout<BT, D, KDA, XS>;
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
  float* Gc = reinterpret_cast<float*>(smem + L::gc_off);   // kda only: BT x gld<D>()

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
  constexpr bool with_wu = !XS;  // launch_out: every instance but XS has w and u
  if constexpr (with_wu)
    load_tile<BT, D>(static_cast<const T16*>(args.v), row0, m, static_cast<long long>(H) * D,
                     static_cast<long long>(h) * D, Vs, t);
  cp_async_commit();
  if (t < 2) flags[t] = 0;
  const float beta_t = read_beta_g<BT, T16, KDA>(args, row0, m, H, h, t, G);
  __syncthreads();
  if constexpr (KDA) {
    // Per-channel G (kda): thread t sums channels t, t + 2 BT, ... over the chunk's tokens in fp64, in
    // token order (bit for bit the CPU reference's sum), and stores each G_ic rounded once
    // to fp32. Rows >= m read nothing (g = 0). A NaN/Inf in a read g is recorded here.
    // 2 BT threads: at BT = 32 and D = 128 each thread sums two channels.
    for (int ch = t; ch < D; ch += 2 * BT) {
      const float* gp = args.g + (row0 * H + h) * D + ch;
      const long long step = static_cast<long long>(H) * D;
      double run = 0.0;
      bool bad_g = false;
#pragma unroll 4
      for (int i = 0; i < BT; ++i) {
        double x = 0.0;
        if (i < m) {
          const float gi = gp[i * step];
          bad_g |= !isfinite(gi);
          // __dmul_rn, __dadd_rn: never contracted into an fma (the CPU's roundings).
          x = args.log2_g ? __dmul_rn(0.69314718055994530942, static_cast<double>(gi))
                          : static_cast<double>(gi);
        }
        run = args.cumulative_g ? x : __dadd_rn(run, x);
        Gc[i * gld<D>() + ch] = static_cast<float>(run);
      }
      if (bad_g) flags[1] = 1;
    }
  } else if (args.g && !args.cumulative_g) {
    if (warp == 0) cumulative_G<BT>(G, lane);
    __syncthreads();
  }
  column_factors<BT, KDA>(args, q, m, t, beta_t, G, colW, colU);
  cp_async_wait<1>();
  __syncthreads();

  // 2. N = strictly_lower(diag(beta) K K^T ⊙ exp(G_i - G_j)) into S, lower 16 x 16 blocks.
  if constexpr (KDA) {
    kda_kkt<BT, D, T16>(Ks, Gc, colU, S, m, args.split, t, warp, lane);
  } else {
    const int g = lane / 4, tq = lane % 4;
    constexpr int blocks = NW * (NW + 1) / 2;
#pragma unroll 1
    for (int blk = warp; blk < blocks; blk += NW) {
      int bi, bj;
      lower_block(blk, bi, bj);
      float acc[2][4];
      block_abt<D>(Ks, Ks, bi, bj, lane, acc);
      float nv[2][2][2];
      scale_block(acc, bi, bj, m, lane, colU, G, args.g != nullptr, nv);
#pragma unroll
      for (int hr = 0; hr < 2; ++hr)
#pragma unroll
        for (int n = 0; n < 2; ++n)
#pragma unroll
          for (int c = 0; c < 2; ++c) {
            const int i = 16 * bi + g + 8 * hr, j = 16 * bj + 8 * n + 2 * tq + c;
            if (i > j) S[i * LD + j] = nv[hr][n][c];
          }
    }
  }
  __syncthreads();
  if constexpr (KDA) {
    // Gc := exp(G) ⊙ K in fp32 (each entry rounded once: expf, then the product), the
    // W product's B operand; rows >= m are 0.
    for (int e = t; e < BT * D / 2; e += 2 * BT) {
      const int l = e / (D / 2), c = 2 * (e % (D / 2));
      float2* gp = reinterpret_cast<float2*>(Gc + l * gld<D>() + c);
      const float2 gv = *gp, kv = load2(Ks + l * kld<D>() + c);
      *gp = l < m ? make_float2(kv.x * expf(gv.x), kv.y * expf(gv.y)) : make_float2(0.0f, 0.0f);
    }
  }

  // 3. X = (I + N)^-1 in S (base blocks in fp64 for fp32 outputs, else in fp32:
  // merge::solve_base_column).
  merge::invert_in_shared<BT, 0, sizeof(Tout) == 4>(S, t, t < BT);
  cp_async_wait<0>();
  __syncthreads();

  // 4. W and U (and the inverse).
  const long long h_out = static_cast<long long>(h) * D, stride = static_cast<long long>(H) * D;
  Tout* w = static_cast<Tout*>(args.w);
  Tout* u = static_cast<Tout*>(args.u);
  bool bad = false;
  if constexpr (with_wu) {
    // Warp w: W (w even) or U (w odd) for row strips NW - 1 - p, then p (p = w / 2).
    const bool is_u = warp % 2 == 1;
    const int p = warp / 2;
    float acc[Strip<D>::tiles][4];
    auto product = [&](int rs) {
      if (is_u)
        strip_product<BT, D, T16>(S, colU, Vs, args.split, rs, lane, acc);
      else
        strip_product<BT, D, T16, KDA>(S, KDA ? colU : colW, Ks, args.split, rs, lane, acc, Gc);
    };
    if constexpr (sizeof(Tout) == 4) {
      product(NW - 1 - p);
      bad |= store_strip<D>(acc, is_u ? u : w, row0, m, stride, h_out, NW - 1 - p, lane);
      product(p);
      bad |= store_strip<D>(acc, is_u ? u : w, row0, m, stride, h_out, p, lane);
    } else {
      // W is staged in K's tile, U in V's. A short strip p < NW / 2 reads K (V) rows
      // < 16 (p + 1) <= BT / 2 only, so once every long strip is done (the barrier), each
      // warp stages its long strip (rows >= BT / 2) while the short strips are still to come.
      Tout* tile = reinterpret_cast<Tout*>(is_u ? Vs : Ks);
      product(NW - 1 - p);
      __syncthreads();
      bad |= stage_strip<D>(acc, tile, NW - 1 - p, lane);
      product(p);
      __syncthreads();
      bad |= stage_strip<D>(acc, tile, p, lane);
      __syncthreads();
      store_staged<BT, D>(reinterpret_cast<const Tout*>(Ks), w, row0, m, stride, h_out, t);
      store_staged<BT, D>(reinterpret_cast<const Tout*>(Vs), u, row0, m, stride, h_out, t);
    }
  }
  // After W and U when both are formed (the delta forward's call with w), so as not to
  // lengthen their live ranges.
  if constexpr (!KDA && sizeof(Tout) == 2)  // launch_out: X~ only with these
    if (args.xs_out)
      bad |= write_xs<BT, T16>(S, colU, static_cast<T16*>(args.xs_out) + q * 2 * BT * BT, t);
  if (args.inverse && t < BT) {
    const MatrixLocation loc{(row0 * H + h) * BT, static_cast<long long>(H) * BT, m};
    bad |= merge::store<BT>(static_cast<Tout*>(args.inverse), loc, S, t);
  }
  finish_status<D, T16>(args, q, row0, m, H, h, t, 2 * BT, bad, flags);
}

template <int BT, int D, class T16, class Tout, bool KDA, bool XS = false>
void launch_typed(const MatrixAddressing& addr, const ChunkWyArgs& args, cudaStream_t stream) {
  using L = Layout<BT, D, KDA, XS>;
  static_assert(L::bytes <= 227 * 1024, "shared memory per block");
  auto kernel = chunk_wy_kernel<BT, D, T16, Tout, KDA, XS>;
  static const cudaError_t attr_err = cudaFuncSetAttribute(
      kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(L::bytes));
  check_cuda(attr_err, "cudaFuncSetAttribute(chunk_wy_kernel)");
  if (addr.count > INT_MAX)
    throw std::invalid_argument("gpu::chunk_wy: too many chunks for one launch");
  kernel<<<static_cast<unsigned>(addr.count), L::threads, L::bytes, stream>>>(addr, args);
  check_cuda(cudaGetLastError(), "chunk_wy_kernel launch");
}

template <int BT, int D, class T16, class Tout, bool RR>
void launch_bsolve(const MatrixAddressing& addr, const ChunkWyArgs& args, cudaStream_t stream) {
  using L = bsolve::Layout<BT, D>;
  static_assert(L::bytes <= 227 * 1024, "shared memory per block");
  auto kernel = chunk_wy_bsolve_kernel<BT, D, T16, Tout, RR>;
  static const cudaError_t attr_err = cudaFuncSetAttribute(
      kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(L::bytes));
  check_cuda(attr_err, "cudaFuncSetAttribute(chunk_wy_bsolve_kernel)");
  if (addr.count > INT_MAX)
    throw std::invalid_argument("gpu::chunk_wy: too many chunks for one launch");
  // Grid (H, chunk rows), so that the kernel reads its head and chunk row without dividing
  // (the grid's y extent is at most 65535: beyond, one dimension, q = row H + head). Blocks
  // start in the same order either way (x fastest).
  const long long rows = addr.count / addr.heads;
  const dim3 grid = rows <= 65535
                        ? dim3(static_cast<unsigned>(addr.heads), static_cast<unsigned>(rows))
                        : dim3(static_cast<unsigned>(addr.count));
  // Bulk tensor copies for regular chunks (every chunk whole; token coordinates are ints).
  bsolve::Maps maps{};
  const long long tokens = rows * BT;
  maps.on = addr.kind == Addressing::chunks && addr.length % BT == 0 && tokens <= INT_MAX &&
            bsolve::tile_map<T16, D>(maps.k, args.k, tokens, args.key_heads) &&
            bsolve::tile_map<T16, D>(maps.v, args.v, tokens, addr.heads) &&
            bsolve::tile_map<Tout, D>(maps.w, args.w, tokens, addr.heads) &&
            bsolve::tile_map<Tout, D>(maps.u, args.u, tokens, addr.heads);
  kernel<<<grid, 2 * BT, L::bytes, stream>>>(addr, args, maps);
  check_cuda(cudaGetLastError(), "chunk_wy_bsolve_kernel launch");
}

// Which kernel a launch takes: the blocked solve for W and U (and the inverse, if asked for; no
// X~, no G output) at BT = 64 with 16-bit outputs, split products and scalar or no gates;
// chunk_wy_kernel otherwise. tests/gpu/test_chunk_wy_gpu.cpp asserts each kernel's own bound by
// the same rule. Rounded products stay with chunk_wy_kernel: in the solve, N rounded once puts
// u_in |N| |W| into each block's right-hand side, which for correlated keys left U's error at 2x
// flash-linear-attention's (session 23, bench/results/h200-2026-11-30-s23/).
__host__ __device__ constexpr bool blocked_solve_serves(int bt, bool per_channel_g, bool xs_out,
                                                        bool g_out, bool out32, bool split) {
  return bt == 64 && !per_channel_g && !xs_out && !g_out && !out32 && split;
}

template <int BT, int D, class T16>
void launch_out(DType out, const MatrixAddressing& addr, const ChunkWyArgs& args,
                cudaStream_t stream) {
  if constexpr (BT == 64)
    if (blocked_solve_serves(BT, args.per_channel_g, args.xs_out, args.g_out, out == DType::fp32,
                             args.split) &&
        args.w && args.u) {
      if (args.rounded_reentry)
        return out == DType::bf16
                   ? launch_bsolve<BT, D, T16, __nv_bfloat16, true>(addr, args, stream)
                   : launch_bsolve<BT, D, T16, __half, true>(addr, args, stream);
      return out == DType::bf16
                 ? launch_bsolve<BT, D, T16, __nv_bfloat16, false>(addr, args, stream)
                 : launch_bsolve<BT, D, T16, __half, false>(addr, args, stream);
    }
  // X~ (the delta forward's call): 16-bit outputs (so fp32 base blocks), no kda, BT <= 64;
  // without W, U and the inverse, the X~-only instance, else the full one writes X~ after W
  // and U.
  if (args.xs_out) {
    if (args.per_channel_g || out == DType::fp32 || BT > 64 || (!args.w && args.inverse))
      throw std::logic_error("chunk_wy_kernel: X~ needs 16-bit outputs, no kda, BT <= 64");
    if constexpr (BT <= 64)
      if (!args.w) return launch_typed<BT, D, T16, T16, false, true>(addr, args, stream);
  }
  if (args.per_channel_g) switch (out) {
      case DType::bf16:
        return launch_typed<BT, D, T16, __nv_bfloat16, true>(addr, args, stream);
      case DType::fp16:
        return launch_typed<BT, D, T16, __half, true>(addr, args, stream);
      default:
        return launch_typed<BT, D, T16, float, true>(addr, args, stream);
    }
  switch (out) {
    case DType::bf16:
      return launch_typed<BT, D, T16, __nv_bfloat16, false>(addr, args, stream);
    case DType::fp16:
      return launch_typed<BT, D, T16, __half, false>(addr, args, stream);
    default:
      return launch_typed<BT, D, T16, float, false>(addr, args, stream);
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
// For gpu/chunk_wy.cu, which calls the launchers: the instantiations live in
// gpu/chunk_wy_bt*.cu (without these declarations the host file compiled every kernel again).
#define TRISCAN_EXTERN_LAUNCH_CHUNK_WY(BT, D)                        \
  extern template void triscan::gpu::detail::launch_chunk_wy<BT, D>( \
      DType, DType, const MatrixAddressing&, const ChunkWyArgs&, cudaStream_t)
