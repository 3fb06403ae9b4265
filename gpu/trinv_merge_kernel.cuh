// gpu/trinv_merge_kernel.cuh — the kernel of the batched unit-lower triangular inversion
// by recursive multiply-only merges over 16 x 16 diagonal blocks (method
// "trinv/recursive_merge", base = 16; docs/gpu.md), in fp32 or, with the GPU-only key
// mma=bf16|fp16|tf32, with the merges' products on tensor cores (merge_level_mma); the
// optional fp32 refinement step and the a-posteriori check (refine=1, check=1) run in
// the same kernel before the store (refine_in_shared, check_in_shared).
//
// L = I + N is split into 16 x 16 diagonal blocks, each inverted by forward
// substitution (Method 1, one thread per column); then, for h = 16, 32, ..., BT/2, the
// pairs of h x h diagonal blocks are merged (Du Croz & Higham's Method 2B):
//     [L11  0 ]^-1   [ X11   0 ]
//     [L21 L22]    = [ X21  X22],   M = N21 X11,   X21 = -X22 M,
// with X11 = L11^-1, X22 = L22^-1 from the previous level. This is the order today's
// linear-attention kernels use (16 x 16 blocks, then 32 and 64 merges); it has no
// residual bound like Method 1's, but the first-order forward-error bound
//     |X^ - X| <= c_n u M(L)^-1 |L| M(L)^-1,   c_n <= 2n,
// (M(L) = I - |N| the comparison matrix; the base blocks contribute gamma_16, each
// merge level the two products' gamma_h) — tests/gpu assert it entry by entry.
//
// (For fp32 outputs the base blocks are computed in fp64 and rounded once to fp32, which
// only tightens their share of the bound; for 16-bit outputs in fp32.)
//
// Everything happens in shared memory, one BT x BT fp32 array S per matrix (rows
// padded to BT + 4 floats): the loader puts N in its strictly lower part; the base
// inversion overwrites the diagonal blocks' strictly lower parts with X's; a merge's
// temporary M lives in the (otherwise unused) strictly upper block S[o..o+h, o+h..o+2h]
// and X21 overwrites N21 once M is formed. The unit diagonal and the zeros above it are
// implicit: no value stored on or above S's diagonal is ever multiplied (those reads are
// replaced by selects), so stale shared memory and a garbage diagonal cannot leak in.
//
// Thread work: BT threads per matrix. In a merge at level h, a thread computes a
// (h/8) x 4 tile of M and then of X21 (rows ti + 8a, columns 4tj..4tj+3), with the
// triangular structure exploited exactly (no multiply by a structural zero).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "gpu/cuda_check.hpp"
#include "gpu/mma.cuh"
#include "gpu/trinv.cuh"
#include "triscan/status.hpp"

namespace triscan::gpu::detail {
namespace {

namespace merge {

constexpr int base = 16;
constexpr int status_ok = static_cast<int>(Status::ok);
constexpr int status_inaccurate = static_cast<int>(Status::inaccurate);
constexpr int status_overflow = static_cast<int>(Status::overflow);
constexpr int status_nonfinite = static_cast<int>(Status::nonfinite_input);

// Matrices per thread block (BT threads each): 128 threads for BT <= 64.
template <int BT>
__host__ __device__ constexpr int group() { return BT >= 128 ? 1 : 128 / BT; }
// Shared-memory row stride in floats: rows stay 16-byte aligned, and rows 8 apart
// (the rows one thread's tile visits) fall in different banks.
template <int BT>
__host__ __device__ constexpr int ld() { return BT + 4; }
template <int BT>
__host__ __device__ constexpr std::size_t shared_bytes() {
  return static_cast<std::size_t>(group<BT>()) * BT * ld<BT>() * sizeof(float) + 2 * group<BT>() * sizeof(int);
}

__device__ inline void cp_async_16(float* dst, const void* src, int src_bytes) {
  const unsigned saddr = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(saddr), "l"(src), "r"(src_bytes) : "memory");
}
__device__ inline void cp_async_wait_all() { asm volatile("cp.async.wait_all;\n" ::: "memory"); }

// The fp32 load of a whole matrix (m = BT): thread t keeps one 4-column group
// cv = t mod (BT/4) and visits rows i = i0 + 4k, i0 = t div (BT/4) < 4, so that the group
// holding the diagonal of row i is k: groups cv < k are strictly lower (16 bytes copied),
// cv = k holds i0 lower entries (i0 * 4 bytes, the rest zero-filled), cv > k are not
// fetched. Pointers advance by a row step; no index is divided in the loop.
template <int BT>
__device__ void load_lower_full(const float* __restrict__ A, const MatrixLocation& loc, float* S, int t) {
  constexpr int per_row = BT / 4;
  const int cv = t % per_row, i0 = t / per_row;
  const float* src = A + loc.offset + static_cast<long long>(i0) * loc.row_stride + 4 * cv;
  const long long src_step = 4 * loc.row_stride;
  float* dst = S + i0 * ld<BT>() + 4 * cv;
#pragma unroll
  for (int k = 0; k < BT / 4; ++k) {
    if (cv < k || (cv == k && i0 > 0)) cp_async_16(dst, src, cv < k ? 16 : 4 * i0);
    src += src_step;
    dst += 4 * ld<BT>();
  }
}

// Loads N_ic, c < i < m, into S (row i at S + i * ld). fp32: asynchronous 16-byte
// copies, the bytes at and above the diagonal zero-filled; 16-bit types: through
// registers, converted. Sectors entirely on or above the diagonal, and rows >= m,
// are not fetched (their S entries are never used).
template <int BT>
__device__ void load_lower(const float* __restrict__ A, const MatrixLocation& loc, float* S, int t) {
  if (loc.size == BT) return load_lower_full<BT>(A, loc, S, t);
  constexpr int per_row = BT / 4;
#pragma unroll 4
  for (int v = t; v < BT * per_row; v += BT) {
    const int i = v / per_row, c0 = (v % per_row) * 4;
    if (i < loc.size && c0 < i) {
      const int elems = i - c0 < 4 ? i - c0 : 4;
      cp_async_16(S + i * ld<BT>() + c0, A + loc.offset + static_cast<long long>(i) * loc.row_stride + c0, 4 * elems);
    }
  }
}

template <int BT, class T16>
__device__ void load_lower(const T16* __restrict__ A, const MatrixLocation& loc, float* S, int t) {
  constexpr int per_row = BT / 8;
#pragma unroll 2
  for (int v = t; v < BT * per_row; v += BT) {
    const int i = v / per_row, c0 = (v % per_row) * 8;
    if (i < loc.size && c0 < i) {
      const T16* row = A + loc.offset + static_cast<long long>(i) * loc.row_stride;
      T16 raw[8];
      if (c0 + 8 <= loc.size) {
        *reinterpret_cast<uint4*>(raw) = __ldg(reinterpret_cast<const uint4*>(row + c0));
      } else {
#pragma unroll
        for (int e = 0; e < 8; ++e) raw[e] = c0 + e < i ? row[c0 + e] : T16(0.0f);
      }
      float x[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) x[e] = c0 + e < i ? to_float(raw[e]) : 0.0f;
      float* d = S + i * ld<BT>() + c0;
      *reinterpret_cast<float4*>(d) = make_float4(x[0], x[1], x[2], x[3]);
      *reinterpret_cast<float4*>(d + 4) = make_float4(x[4], x[5], x[6], x[7]);
    }
  }
}

template <int BT>
__device__ void load_lower_as(DType in, const void* A, const MatrixLocation& loc, float* S, int t) {
  switch (in) {
    case DType::bf16: return load_lower<BT>(static_cast<const __nv_bfloat16*>(A), loc, S, t);
    case DType::fp16: return load_lower<BT>(static_cast<const __half*>(A), loc, S, t);
    default: return load_lower<BT>(static_cast<const float*>(A), loc, S, t);
  }
}

// True if a strictly lower input entry (rows and columns < m) is NaN or Inf; read again
// from global memory, only on the rare path where the output was not finite.
template <class Tin>
__device__ bool input_nonfinite(const Tin* A, const MatrixLocation& loc, int t, int nthreads) {
  bool bad = false;
  for (int i = 1 + t; i < loc.size; i += nthreads)
    for (int c = 0; c < i; ++c) bad |= !isfinite(to_float(A[loc.offset + static_cast<long long>(i) * loc.row_stride + c]));
  return bad;
}

__device__ inline bool input_nonfinite_as(DType in, const void* A, const MatrixLocation& loc, int t, int n) {
  switch (in) {
    case DType::bf16: return input_nonfinite(static_cast<const __nv_bfloat16*>(A), loc, t, n);
    case DType::fp16: return input_nonfinite(static_cast<const __half*>(A), loc, t, n);
    default: return input_nonfinite(static_cast<const float*>(A), loc, t, n);
  }
}

// Inverts the 16 x 16 diagonal block at offset o (column j of it per thread) by forward
// substitution: x_i = -sum_{j<=k<i} N_ik x_k, x_j = 1, in the format Acc. double (for
// fp32 outputs): the 16 x 16 blocks are a few percent of the flops, and their entries
// then carry one fp32 rounding each instead of gamma_16 |X||N||X|, which lowers the
// measured error of the whole inverse. float (for 16-bit outputs, whose rounding is 2^16
// times larger than that difference): fp32 substitution, inside the same bound (c_16 = 16)
// and without the fp32 <-> fp64 conversions. Reads rows of the block; the caller
// synchronizes before the columns are written back.
template <int BT, class Acc>
__device__ void solve_base_column(const float* S, int o, int j, float (&xf)[base]) {
  Acc x[base];
#pragma unroll
  for (int i = 0; i < base; ++i) {
    Acc acc0 = 0, acc1 = 0;
    const float* row = S + (o + i) * ld<BT>() + o;
#pragma unroll
    for (int k = 0; k < i; k += 4) {
      const float4 v = *reinterpret_cast<const float4*>(row + k);
      acc0 = fma(static_cast<Acc>(v.x), x[k], acc0);
      if (k + 1 < i) acc1 = fma(static_cast<Acc>(v.y), x[k + 1], acc1);
      if (k + 2 < i) acc0 = fma(static_cast<Acc>(v.z), x[k + 2], acc0);
      if (k + 3 < i) acc1 = fma(static_cast<Acc>(v.w), x[k + 3], acc1);
    }
    x[i] = i < j ? Acc(0) : (i == j ? Acc(1) : -(acc0 + acc1));
    xf[i] = static_cast<float>(x[i]);
  }
}

// One merge step at level h for the thread's tile; q = merge index, r = thread in merge.
//   GEMM 1: M = N21 X11 into the upper block; GEMM 2: X21 = -X22 M over N21.
// Threads with worker == false (t >= BT in a larger block) only meet the barriers.
template <int BT, int H>
__device__ void merge_level(float* S, int t, bool worker) {
  constexpr int LD = ld<BT>();
  constexpr int TM = H / 8;     // rows per thread: ti + 8a
  constexpr int TJ = H / 4;     // column tiles of 4
  static_assert(8 * TJ == 2 * H, "2H threads: 8 row offsets x TJ column groups");
  const int q = t / (2 * H), r = t % (2 * H);
  // Eight consecutive lanes (a quarter warp) share one column group and hold rows
  // ti = 0..7: their 16-byte loads of a row operand at one k hit different banks, and a
  // warp's lanes span fewer column groups, so GEMM 1's trip count (k from j0 + 4) varies
  // between warps rather than inside one. Any mapping gives each entry the same
  // operations in the same order. (Measured on the H200, 2026-11-29: BT = 64 fp32 297 ->
  // 261 us; BT = 32 fp32 145 -> 160 us, but keeping the old mapping at h = 16 made BT = 64
  // 272 us.)
  const int ti = r % 8, tj = r / 8;
  const int o = q * 2 * H;
  const int j0 = 4 * tj;
  float* N21 = S + (o + H) * LD + o;       // row i at N21 + i * LD
  float* X11 = S + o * LD + o;
  float* X22 = S + (o + H) * LD + o + H;
  float* Mb = S + o * LD + o + H;          // the upper block: M row i at Mb + i * LD

  // GEMM 1: M_ij = sum_{k >= j} N21_ik X11_kj (X11 unit lower: X11_jj = 1).
  float acc[TM][4];
  if (worker) {
#pragma unroll
    for (int a = 0; a < TM; ++a)
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[a][c] = 0.0f;
    // k in [j0, j0 + 4): X11_kj is 1 (k == j), X11's entry (k > j) or 0 (k < j).
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
      const int k = j0 + kk;
      const float4 b = *reinterpret_cast<const float4*>(X11 + k * LD + j0);
      const float bv[4] = {kk > 0 ? b.x : (kk == 0 ? 1.0f : 0.0f), kk > 1 ? b.y : (kk == 1 ? 1.0f : 0.0f),
                           kk > 2 ? b.z : (kk == 2 ? 1.0f : 0.0f), kk == 3 ? 1.0f : 0.0f};
#pragma unroll
      for (int a = 0; a < TM; ++a) {
        const float av = N21[(ti + 8 * a) * LD + k];
#pragma unroll
        for (int c = 0; c <= kk; ++c) acc[a][c] = fmaf(av, bv[c], acc[a][c]);
      }
    }
#pragma unroll 4
    for (int k = j0 + 4; k < H; ++k) {
      const float4 b = *reinterpret_cast<const float4*>(X11 + k * LD + j0);
#pragma unroll
      for (int a = 0; a < TM; ++a) {
        const float av = N21[(ti + 8 * a) * LD + k];
        acc[a][0] = fmaf(av, b.x, acc[a][0]);
        acc[a][1] = fmaf(av, b.y, acc[a][1]);
        acc[a][2] = fmaf(av, b.z, acc[a][2]);
        acc[a][3] = fmaf(av, b.w, acc[a][3]);
      }
    }
#pragma unroll
    for (int a = 0; a < TM; ++a)
      *reinterpret_cast<float4*>(Mb + (ti + 8 * a) * LD + j0) =
          make_float4(acc[a][0], acc[a][1], acc[a][2], acc[a][3]);
  }
  __syncthreads();

  // GEMM 2: X21_ij = -(sum_{k < i} X22_ik M_kj + M_ij). Row i = ti + 8a uses k < 8a
  // for every ti and k in [8a, 8a + ti) besides: loop over blocks of 8 k's.
  if (worker) {
#pragma unroll
    for (int a = 0; a < TM; ++a)
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[a][c] = 0.0f;
#pragma unroll
    for (int kb = 0; kb < TM; ++kb) {
#pragma unroll
      for (int kk = 0; kk < 8; ++kk) {
        const int k = 8 * kb + kk;
        const float4 b = *reinterpret_cast<const float4*>(Mb + k * LD + j0);
#pragma unroll
        for (int a = kb; a < TM; ++a) {
          if (a == kb && kk >= ti) continue;  // k >= i: X22_ik is 0 (or the unit diagonal, added below)
          const float av = X22[(ti + 8 * a) * LD + k];
          acc[a][0] = fmaf(av, b.x, acc[a][0]);
          acc[a][1] = fmaf(av, b.y, acc[a][1]);
          acc[a][2] = fmaf(av, b.z, acc[a][2]);
          acc[a][3] = fmaf(av, b.w, acc[a][3]);
        }
      }
    }
#pragma unroll
    for (int a = 0; a < TM; ++a) {
      const int i = ti + 8 * a;
      const float4 m = *reinterpret_cast<const float4*>(Mb + i * LD + j0);
      *reinterpret_cast<float4*>(N21 + i * LD + j0) =
          make_float4(-(acc[a][0] + m.x), -(acc[a][1] + m.y), -(acc[a][2] + m.z), -(acc[a][3] + m.w));
    }
  }
  __syncthreads();
}


// ---- Matrix-unit merges (MergeOp bf16 / fp16 / tf32; docs/gpu.md "Matrix-unit merges") ----
//
// The same two products per merge, on tensor cores: warp w of the matrix computes the
// 16 x 8 tiles w, w + BT/32, ... of the level's outputs (mma.sync m16n8k16 for bf16 and
// fp16, m16n8k8 for tf32), operands read from the fp32 array S and rounded to the operand
// format as the fragments are built (entries on and above a diagonal become exact
// zeros by selects, as in the fp32 path). The unit diagonals enter exactly: the
// accumulators start from the fp32 value of the identity term,
//     M   = N21 + N21 X11s,         X11s = X11 - I (strictly lower),
//     X21 = -(M + X22s M),          X22s = X22 - I,
// so only the products with the strictly lower parts see the operand rounding.
// Shapes of one k-step: K = 16 (16-bit operands) or 8 (tf32).
template <int OP>
struct OpTraits;
template <>
struct OpTraits<static_cast<int>(MergeOp::bf16)> {
  using T16 = __nv_bfloat16;
  static constexpr int K = 16;
};
template <>
struct OpTraits<static_cast<int>(MergeOp::fp16)> {
  using T16 = __half;
  static constexpr int K = 16;
};
template <>
struct OpTraits<static_cast<int>(MergeOp::tf32)> {
  using T16 = float;
  static constexpr int K = 8;
};

// One k-step of D += A B for a 16 x 8 tile: A(i, k) = a_at(i, kb + k) for rows i0 = g,
// i1 = g + 8 of the tile, B(k, j) = b_at(kb + k, j) for its column j = g (fragment layouts:
// gpu/mma.cuh). a_at / b_at return fp32 values (zeros where the operand is structurally 0).
template <int OP, class FA, class FB>
__device__ inline void mma_step(float (&d)[4], int kb, int lane, FA a_at, FB b_at) {
  const int g = lane / 4, tq = lane % 4;
  unsigned a[4];
  unsigned b0, b1;
  if constexpr (OP == static_cast<int>(MergeOp::tf32)) {
    a[0] = tc::to_tf32(a_at(g, kb + tq));
    a[1] = tc::to_tf32(a_at(g + 8, kb + tq));
    a[2] = tc::to_tf32(a_at(g, kb + tq + 4));
    a[3] = tc::to_tf32(a_at(g + 8, kb + tq + 4));
    b0 = tc::to_tf32(b_at(kb + tq, g));
    b1 = tc::to_tf32(b_at(kb + tq + 4, g));
    tc::mma_tf32(d, a, b0, b1);
  } else {
    using T16 = typename OpTraits<OP>::T16;
    const int k0 = kb + 2 * tq;
    a[0] = tc::pack2<T16>(a_at(g, k0), a_at(g, k0 + 1));
    a[1] = tc::pack2<T16>(a_at(g + 8, k0), a_at(g + 8, k0 + 1));
    a[2] = tc::pack2<T16>(a_at(g, k0 + 8), a_at(g, k0 + 9));
    a[3] = tc::pack2<T16>(a_at(g + 8, k0 + 8), a_at(g + 8, k0 + 9));
    b0 = tc::pack2<T16>(b_at(k0, g), b_at(k0 + 1, g));
    b1 = tc::pack2<T16>(b_at(k0 + 8, g), b_at(k0 + 9, g));
    tc::mma<T16>(d, a, b0, b1);
  }
}

// One merge level h = H on tensor cores (BT >= 32: whole warps per matrix). Threads with
// worker == false only meet the barriers (the fp32 path's convention).
template <int BT, int H, int OP>
__device__ void merge_level_mma(float* S, int t, bool worker) {
  constexpr int LD = ld<BT>();
  constexpr int K = OpTraits<OP>::K;
  constexpr int W = BT / 32;           // warps per matrix
  constexpr int RS = H / 16, CT = H / 8;  // 16-row strips x 8-column tiles per merge
  constexpr int TILES = (BT / (2 * H)) * RS * CT;
  static_assert(BT % 32 == 0 && H % 16 == 0, "whole warps per matrix, 16-row strips");
  const int warp = t / 32, lane = t % 32;
  const int g = lane / 4, tq = lane % 4;

  // GEMM 1: M = N21 + N21 X11s into the upper block.
  if (worker) {
    for (int tile = warp; tile < TILES; tile += W) {
      const int q = tile / (RS * CT), rs = (tile % (RS * CT)) / CT, ct = tile % CT;
      const int o = q * 2 * H;
      const float* N21 = S + (o + H + 16 * rs) * LD + o;  // row i of the strip at N21 + i * LD
      const float* X11 = S + o * LD + o;
      float* Mb = S + (o + 16 * rs) * LD + o + H;
      const int j0 = 8 * ct;
      float d[4];
      d[0] = N21[g * LD + j0 + 2 * tq];
      d[1] = N21[g * LD + j0 + 2 * tq + 1];
      d[2] = N21[(g + 8) * LD + j0 + 2 * tq];
      d[3] = N21[(g + 8) * LD + j0 + 2 * tq + 1];
      // X11s_kj = 0 for k <= j: k-steps from the one holding k = j0 + 1.
      for (int kb = ((j0 + 1) / K) * K; kb < H; kb += K)
        mma_step<OP>(
            d, kb, lane, [&](int i, int k) { return N21[i * LD + k]; },
            [&](int k, int jj) { return k > j0 + jj ? X11[k * LD + j0 + jj] : 0.0f; });
      *reinterpret_cast<float2*>(Mb + g * LD + j0 + 2 * tq) = make_float2(d[0], d[1]);
      *reinterpret_cast<float2*>(Mb + (g + 8) * LD + j0 + 2 * tq) = make_float2(d[2], d[3]);
    }
  }
  __syncthreads();

  // GEMM 2: X21 = -(M + X22s M) over N21.
  if (worker) {
    for (int tile = warp; tile < TILES; tile += W) {
      const int q = tile / (RS * CT), rs = (tile % (RS * CT)) / CT, ct = tile % CT;
      const int o = q * 2 * H;
      float* N21 = S + (o + H + 16 * rs) * LD + o;
      const float* X22 = S + (o + H + 16 * rs) * LD + o + H;  // rows of the strip, columns k
      const float* Mfull = S + o * LD + o + H;                // M row k at Mfull + k * LD
      const int j0 = 8 * ct, i_base = 16 * rs;
      float d[4];
      d[0] = Mfull[(i_base + g) * LD + j0 + 2 * tq];
      d[1] = Mfull[(i_base + g) * LD + j0 + 2 * tq + 1];
      d[2] = Mfull[(i_base + g + 8) * LD + j0 + 2 * tq];
      d[3] = Mfull[(i_base + g + 8) * LD + j0 + 2 * tq + 1];
      // X22s_ik = 0 for k >= i: k-steps below the strip's last row.
      for (int kb = 0; kb < i_base + 16; kb += K)
        mma_step<OP>(
            d, kb, lane, [&](int i, int k) { return k < i_base + i ? X22[i * LD + k] : 0.0f; },
            [&](int k, int jj) { return Mfull[k * LD + j0 + jj]; });
      *reinterpret_cast<float2*>(N21 + g * LD + j0 + 2 * tq) = make_float2(-d[0], -d[1]);
      *reinterpret_cast<float2*>(N21 + (g + 8) * LD + j0 + 2 * tq) = make_float2(-d[2], -d[3]);
    }
  }
  __syncthreads();
}

// ---- Product form on tensor cores (trinv/product_form:mma=bf16|tf32; docs/gpu.md) -----
//
//     X = (I + N)^-1 = (I - N)(I + N^2)(I + N^4) ... (I + N^(2^(K-1))),   2^K >= BT,
// with Q = N^p (p = 1, 2, 4, ...) and Ys = Y - I, Y the product so far (= sum_{j < 2p}
// (-N)^j): per factor one squaring Q' = Q Q and one update Ys' = Ys + Q' + Ys Q', the
// products on tensor cores (operands rounded to OP as the fragments are built, fp32
// accumulation starting from the fp32 identity terms), the same 16 x 8 tiles per warp as
// merge_level_mma. One array holds Q in its strictly lower part and Ys transposed in its
// strictly upper part (Ys_ij at [j * LD + i]); S and T alternate as source and
// destination. Entries known to be zero (N^p_ij = 0 for i - j < p; Ys strictly lower)
// are selected as exact zeros, so stale scratch values are never read, and tiles that
// are all zero are skipped. On entry S holds N (rows >= m zero); on exit X's strictly
// lower part. Threads with worker == false only meet the barriers. Ends with a barrier.
// The growth test of the CPU method (docs/trinv-iterative.md "The methods' own checks"):
// maxbits[0] gets the largest |stored intermediate| (Q and Ys), maxbits[1] the largest
// |X_ij| (1 for the diagonal), as float bit patterns (|x| orders like its bits; a NaN
// sorts above every number); the caller clears both before the call.
template <int BT, int OP>
__device__ void product_form_mma(float* S, float* T, int t, bool worker, unsigned* maxbits) {
  constexpr int LD = ld<BT>();
  constexpr int K = OpTraits<OP>::K;
  constexpr int W = BT / 32;  // warps per matrix
  constexpr int CT = BT / 8, TILES = (BT / 16) * CT;
  static_assert(BT % 32 == 0, "whole warps per matrix");
  const int warp = t / 32, lane = t % 32;
  const int g = lane / 4, tq = lane % 4;
  unsigned grown = 0;  // this thread's largest |stored intermediate|, as bits
  const auto track = [&grown](float v) { grown = max(grown, __float_as_uint(v) & 0x7fffffffu); };
  if (worker)  // Y = I - N: Ys = -N, transposed into the upper part
    for (int e = t; e < BT * BT; e += BT) {
      const int i = e / BT, j = e % BT;
      if (i > j) S[j * LD + i] = -S[i * LD + j];
    }
  __syncthreads();
  float* src = S;
  float* dst = T;
  for (int p = 1; 2 * p < BT; p *= 2) {
    // Q' = Q Q into dst's lower part: Q'_ij = sum_{j + p <= l <= i - p} Q_il Q_lj.
    if (worker)
      for (int tile = warp; tile < TILES; tile += W) {
        const int r0 = 16 * (tile / CT), c0 = 8 * (tile % CT);
        if (r0 + 15 - c0 < 2 * p) continue;  // every entry has i - j < 2p: zero, never read
        float d[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int kb = ((c0 + p) / K) * K; kb < r0 + 16 - p; kb += K)
          mma_step<OP>(
              d, kb, lane, [&](int i, int l) { return r0 + i - l >= p ? src[(r0 + i) * LD + l] : 0.0f; },
              [&](int l, int jj) { return l - c0 - jj >= p ? src[l * LD + c0 + jj] : 0.0f; });
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int i = r0 + g + 8 * (e / 2), j = c0 + 2 * tq + e % 2;
          if (i > j) {
            dst[i * LD + j] = d[e];
            track(d[e]);
          }
        }
      }
    __syncthreads();
    // Ys' = Ys + Q' + Ys Q' into dst's upper part (transposed): sum_{j + 2p <= l < i}.
    if (worker)
      for (int tile = warp; tile < TILES; tile += W) {
        const int r0 = 16 * (tile / CT), c0 = 8 * (tile % CT);
        if (r0 + 15 <= c0) continue;  // above the diagonal
        float d[4];
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int i = r0 + g + 8 * (e / 2), j = c0 + 2 * tq + e % 2;
          d[e] = i > j ? src[j * LD + i] + (i - j >= 2 * p ? dst[i * LD + j] : 0.0f) : 0.0f;
        }
        for (int kb = ((c0 + 2 * p) / K) * K; kb < r0 + 16; kb += K)
          mma_step<OP>(
              d, kb, lane, [&](int i, int l) { return l < r0 + i ? src[l * LD + r0 + i] : 0.0f; },
              [&](int l, int jj) { return l - c0 - jj >= 2 * p ? dst[l * LD + c0 + jj] : 0.0f; });
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int i = r0 + g + 8 * (e / 2), j = c0 + 2 * tq + e % 2;
          if (i > j) {
            dst[j * LD + i] = d[e];
            track(d[e]);
          }
        }
      }
    __syncthreads();
    float* const tmp = src;
    src = dst;
    dst = tmp;
  }
  unsigned xmax = __float_as_uint(1.0f);  // the unit diagonal
  if (worker) {  // X's strictly lower part into S
    for (int e = t; e < BT * BT; e += BT) {
      const int i = e / BT, j = e % BT;
      if (i > j) {
        const float x = src[j * LD + i];
        S[i * LD + j] = x;
        xmax = max(xmax, __float_as_uint(x) & 0x7fffffffu);
      }
    }
    atomicMax(&maxbits[0], grown);
    atomicMax(&maxbits[1], xmax);
  }
  __syncthreads();
}

// ---- Refinement and the a-posteriori check (MergeConfig::refine / check) -------------
//
// P holds a second copy of N (strictly lower part), loaded with S. Thread j of the
// matrix owns column j; m = the matrix's size (rows and columns >= m are not touched).

// One step X <- X + X R, R = I - L X, in fp32 (Newton-Schulz; Higham ASNA 2nd ed. §14.5):
//   R_ij  = -(Xs_ij + N_ij + sum_{j<k<i} N_ik Xs_kj)            (i > j; R is strictly lower),
//   X'_ij = Xs_ij + R_ij + sum_{j<k<i} Xs_ik R_kj.
// Column j of R is kept transposed in P's (unused) upper part, row j; X' overwrites it
// in place from the last row up (X'_ij needs R_kj for k < i only), then moves to S once
// every thread has finished reading Xs. Ends with a barrier.
template <int BT>
__device__ void refine_in_shared(float* S, float* P, int t, int m, bool worker) {
  constexpr int LD = ld<BT>();
  const int j = t;
  if (worker && j < m) {
    float* Rj = P + j * LD;  // R_ij at Rj[i], i > j
    for (int i = j + 1; i < m; ++i) {
      const float* Ni = P + i * LD;
      float acc = S[i * LD + j] + Ni[j];
      for (int k = j + 1; k < i; ++k) acc = fmaf(Ni[k], S[k * LD + j], acc);
      Rj[i] = -acc;
    }
    for (int i = m - 1; i > j; --i) {
      const float* Xi = S + i * LD;
      float acc = Xi[j] + Rj[i];
      for (int k = j + 1; k < i; ++k) acc = fmaf(Xi[k], Rj[k], acc);
      Rj[i] = acc;
    }
  }
  __syncthreads();
  if (worker && j < m)
    for (int i = j + 1; i < m; ++i) S[i * LD + j] = P[j * LD + i];
  __syncthreads();
}

// The fixed probe vectors of the CPU check (src/trinv/driver.cpp, check_sign): v_j = +-1
// from splitmix64 of (seed, j).
__device__ inline double probe_sign(unsigned long long seed, int j) {
  unsigned long long z = seed + 0x9E3779B97F4A7C15ull * static_cast<unsigned long long>(j);
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (z & 1ull) ? 1.0 : -1.0;
}
constexpr unsigned long long probe_seed0 = 0x7472696E76636B31ull, probe_seed1 = 0x7472696E76636B32ull;

// The CPU's a-posteriori check (src/trinv/driver.cpp accuracy_check), in fp64 on the fp32
// X in S and the fp32 N in P: rho = min(rho_right, rho_left),
//   rho_right = max_v max_i |(L X v - v)_i| / (|L||X||v|)_i,
//   rho_left  = max_v max_j |(v^T X L - v^T)_j| / (|v|^T|X||L|)_j,
// on the two fixed +-1 vectors. Returns (through *bits, a shared int cleared before
// the call) bit 0 if some row exceeds tau, bit 1 if some column does: rho > tau iff
// both bits are set (a NaN ratio counts as exceeding); with normwise (the product form's
// own test, docs/trinv-iterative.md) bit 2 if ||(I - L X) v||_inf >= 1 for one of the
// vectors. C: 6 BT doubles of scratch.
template <int BT>
__device__ void check_in_shared(const float* S, const float* P, double* C, int t, int m, double tau, int* bits,
                                bool worker, bool normwise = false) {
  constexpr int LD = ld<BT>();
  double* t0 = C;
  double* t1 = C + BT;
  double* xa = C + 2 * BT;
  double* s0 = C + 3 * BT;
  double* s1 = C + 4 * BT;
  double* ca = C + 5 * BT;
  const bool on = worker && t < m;
  if (on) {
    const int i = t;  // row i of X v and |X| 1
    double a0 = probe_sign(probe_seed0, i), a1 = probe_sign(probe_seed1, i), a = 1.0;
    for (int j = 0; j < i; ++j) {
      const double x = S[i * LD + j];
      a0 = fma(x, probe_sign(probe_seed0, j), a0);
      a1 = fma(x, probe_sign(probe_seed1, j), a1);
      a += fabs(x);
    }
    t0[i] = a0, t1[i] = a1, xa[i] = a;
    const int c = t;  // column c of v^T X and 1^T |X|
    double b0 = probe_sign(probe_seed0, c), b1 = probe_sign(probe_seed1, c), b = 1.0;
    for (int r = c + 1; r < m; ++r) {
      const double x = S[r * LD + c];
      b0 = fma(probe_sign(probe_seed0, r), x, b0);
      b1 = fma(probe_sign(probe_seed1, r), x, b1);
      b += fabs(x);
    }
    s0[c] = b0, s1[c] = b1, ca[c] = b;
  }
  __syncthreads();
  if (on) {
    const auto ratio = [](double num, double den) { return num == 0.0 ? 0.0 : num / den; };
    const int i = t;
    double r0 = t0[i] - probe_sign(probe_seed0, i), r1 = t1[i] - probe_sign(probe_seed1, i), d = xa[i];
    for (int k = 0; k < i; ++k) {
      const double l = P[i * LD + k];
      r0 = fma(l, t0[k], r0);
      r1 = fma(l, t1[k], r1);
      d = fma(fabs(l), xa[k], d);
    }
    const double rho_r = fmax(ratio(fabs(r0), d), ratio(fabs(r1), d));
    // The product form's normwise test: ||(I - L X) v||_inf >= 1 for a probe v (bit 2).
    if (normwise && !(fabs(r0) < 1.0 && fabs(r1) < 1.0)) atomicOr(bits, 4);
    const int k = t;
    double w0 = s0[k] - probe_sign(probe_seed0, k), w1 = s1[k] - probe_sign(probe_seed1, k), dl = ca[k];
    for (int r = k + 1; r < m; ++r) {
      const double l = P[r * LD + k];
      w0 = fma(s0[r], l, w0);
      w1 = fma(s1[r], l, w1);
      dl = fma(ca[r], fabs(l), dl);
    }
    const double rho_l = fmax(ratio(fabs(w0), dl), ratio(fabs(w1), dl));
    // fmax drops a NaN operand: test each ratio's own comparison as well.
    const bool bad_r = !(rho_r <= tau) || isnan(r0) || isnan(r1) || isnan(d);
    const bool bad_l = !(rho_l <= tau) || isnan(w0) || isnan(w1) || isnan(dl);
    if (bad_r) atomicOr(bits, 1);
    if (bad_l) atomicOr(bits, 2);
  }
  __syncthreads();
}

// The bits of one output element, for packing 16-byte stores in registers.
__device__ inline unsigned bits_of(float v) { return __float_as_uint(v); }
__device__ inline unsigned bits_of(__nv_bfloat16 v) { return __bfloat16_as_ushort(v); }
__device__ inline unsigned bits_of(__half v) { return __half_as_ushort(v); }

// 16 bytes of output from vec fp32 values (vec = 4 or 8).
template <class Tout, int vec>
__device__ inline uint4 pack16(const float (&y)[vec]) {
  if constexpr (vec == 4) {
    return make_uint4(__float_as_uint(y[0]), __float_as_uint(y[1]), __float_as_uint(y[2]), __float_as_uint(y[3]));
  } else {
    unsigned w[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) w[e] = bits_of(from_float<Tout>(y[2 * e])) | (bits_of(from_float<Tout>(y[2 * e + 1])) << 16);
    return make_uint4(w[0], w[1], w[2], w[3]);
  }
}

// Accumulates a NaN iff a value of a packed 16-byte output is not finite: x * 0 + acc
// is +-0 + acc for finite x and NaN for an infinity or a NaN (one FMA per 32-bit word:
// fp32, or a pair of 16-bit values in the output format itself).
template <class Tout>
struct NonfiniteProbe {
  float acc = 0.0f;
  __device__ void add_word(unsigned w) { acc = fmaf(__uint_as_float(w), 0.0f, acc); }
  __device__ void add(const uint4& p) {
    add_word(p.x);
    add_word(p.y);
    add_word(p.z);
    add_word(p.w);
  }
  __device__ bool found() const { return acc != acc; }
};
template <class T16, class T2>
struct NonfiniteProbe16 {
  T2 acc = T2(T16(0.0f), T16(0.0f));
  __device__ void add_word(unsigned w) {  // a pair of 16-bit values
    T2 v;
    memcpy(&v, &w, sizeof(v));
    acc = __hfma2(v, T2(T16(0.0f), T16(0.0f)), acc);
  }
  __device__ void add(const uint4& p) {
    add_word(p.x);
    add_word(p.y);
    add_word(p.z);
    add_word(p.w);
  }
  __device__ bool found() const { return !isfinite(to_float(acc.x)) || !isfinite(to_float(acc.y)); }
};
template <>
struct NonfiniteProbe<__nv_bfloat16> : NonfiniteProbe16<__nv_bfloat16, __nv_bfloat162> {};
template <>
struct NonfiniteProbe<__half> : NonfiniteProbe16<__half, __half2> {};

// The fast path of store for a whole matrix (m = BT): thread t keeps one column group
// cv = t mod (BT/vec) of vec entries and visits rows i = i0 + vec k, i0 = t div (BT/vec) <
// vec, so row i's diagonal lies in group k: groups cv < k are copied from S, cv > k are
// zeros, and the one group per row that holds the diagonal (cv = k) is written by thread
// i afterwards (1 on the diagonal, zeros right of it). Same bytes as the general loop.
template <int BT, class Tout>
__device__ bool store_full(Tout* __restrict__ X, const MatrixLocation& loc, const float* S, int t) {
  constexpr int vec = 16 / sizeof(Tout);
  constexpr int per_row = BT / vec;
  const int cv = t % per_row, i0 = t / per_row;
  Tout* dst = X + loc.offset + static_cast<long long>(i0) * loc.row_stride + vec * cv;
  const long long dst_step = static_cast<long long>(vec) * loc.row_stride;
  const float* src = S + i0 * ld<BT>() + vec * cv;
  NonfiniteProbe<Tout> probe;
#pragma unroll
  for (int k = 0; k < BT / vec; ++k) {
    if (cv < k) {
      float y[vec];
#pragma unroll
      for (int e = 0; e < vec; e += 4) {
        const float4 s4 = *reinterpret_cast<const float4*>(src + e);
        y[e] = s4.x, y[e + 1] = s4.y, y[e + 2] = s4.z, y[e + 3] = s4.w;
      }
      const uint4 p = pack16<Tout, vec>(y);
      probe.add(p);
      __stcs(reinterpret_cast<uint4*>(dst), p);
    } else if (cv > k) {
      __stcs(reinterpret_cast<uint4*>(dst), make_uint4(0u, 0u, 0u, 0u));
    }
    dst += dst_step;
    src += vec * ld<BT>();
  }
  {  // row i = t: the group holding the diagonal
    const int i = t, c0 = i - i % vec, d = i % vec;
    const float* srow = S + i * ld<BT>() + c0;
    float y[vec];
#pragma unroll
    for (int e = 0; e < vec; e += 4) {
      const float4 s4 = *reinterpret_cast<const float4*>(srow + e);
      y[e] = s4.x, y[e + 1] = s4.y, y[e + 2] = s4.z, y[e + 3] = s4.w;
    }
#pragma unroll
    for (int e = 0; e < vec; ++e) y[e] = e < d ? y[e] : (e == d ? 1.0f : 0.0f);
    const uint4 p = pack16<Tout, vec>(y);
    probe.add(p);
    __stcs(reinterpret_cast<uint4*>(X + loc.offset + static_cast<long long>(i) * loc.row_stride + c0), p);
  }
  return probe.found();
}

// Writes rows i < m, columns j < m of X (the strictly lower part from S, 1 on the
// diagonal, 0 above); returns true if a written value is not finite.
template <int BT, class Tout>
__device__ bool store(Tout* __restrict__ X, const MatrixLocation& loc, const float* S, int t) {
  if (loc.size == BT) return store_full<BT>(X, loc, S, t);
  constexpr int vec = 16 / sizeof(Tout);
  constexpr int per_row = BT / vec;
  constexpr int per_word = vec / 4;  // elements per 32-bit word
  bool bad = false;
#pragma unroll 4
  for (int v = t; v < BT * per_row; v += BT) {
    const int i = v / per_row, c0 = (v % per_row) * vec;
    if (i >= loc.size || c0 >= loc.size) continue;
    const float* srow = S + i * ld<BT>() + c0;
    unsigned words[4] = {0u, 0u, 0u, 0u};
    Tout y[vec];
#pragma unroll
    for (int e = 0; e < vec; e += 4) {
      const float4 s = *reinterpret_cast<const float4*>(srow + e);
      const float sv[4] = {s.x, s.y, s.z, s.w};
#pragma unroll
      for (int f = 0; f < 4; ++f) {
        const int c = c0 + e + f;
        y[e + f] = from_float<Tout>(c < i ? sv[f] : (c == i ? 1.0f : 0.0f));
        bad |= !isfinite(to_float(y[e + f]));
        words[(e + f) / per_word] |= bits_of(y[e + f]) << (32 / per_word * ((e + f) % per_word));
      }
    }
    Tout* dst = X + loc.offset + static_cast<long long>(i) * loc.row_stride + c0;
    if (c0 + vec <= loc.size) {
      __stcs(reinterpret_cast<uint4*>(dst), make_uint4(words[0], words[1], words[2], words[3]));
    } else {
#pragma unroll
      for (int e = 0; e < vec; ++e)
        if (c0 + e < loc.size) dst[e] = y[e];
    }
  }
  return bad;
}

template <int BT>
__device__ bool store_as(DType out, void* X, const MatrixLocation& loc, const float* S, int t) {
  switch (out) {
    case DType::bf16: return store<BT>(static_cast<__nv_bfloat16*>(X), loc, S, t);
    case DType::fp16: return store<BT>(static_cast<__half*>(X), loc, S, t);
    default: return store<BT>(static_cast<float*>(X), loc, S, t);
  }
}

template <int BT, int H, int OP = 0>
__device__ void merge_levels(float* S, int t, bool worker) {
  if constexpr (H < BT) {
    if constexpr (OP == static_cast<int>(MergeOp::fp32))
      merge_level<BT, H>(S, t, worker);
    else
      merge_level_mma<BT, H, OP>(S, t, worker);
    merge_levels<BT, 2 * H, OP>(S, t, worker);
  }
}

// The inversion of one matrix held in S: 16 x 16 diagonal blocks by substitution (one
// column per thread), then the merge levels. BT threads t < BT do the work; in a larger
// block the others pass worker = false and only meet the barriers (every thread of the
// block must call it). Ends with a barrier. OP: the merges' operand format (MergeOp);
// F64_BASE: the base blocks' substitution in fp64 (else fp32; solve_base_column).
template <int BT, int OP = 0, bool F64_BASE = true>
__device__ void invert_in_shared(float* S, int t, bool worker = true) {
  float x[base];
  const int o = (t / base) * base, j = t % base;
  if (worker) solve_base_column<BT, std::conditional_t<F64_BASE, double, float>>(S, o, j, x);
  __syncthreads();
  if (worker) {
#pragma unroll
      for (int i = 1; i < base; ++i)
        if (i > j) S[(o + i) * ld<BT>() + o + j] = x[i];
  }
  __syncthreads();
  merge_levels<BT, base, OP>(S, t, worker);
}

// Shared memory of the merge kernel, per block: S (G BT x ld fp32 arrays), then with
// refine or check a second such array P (a copy of N), then with the product form a
// third, T (its scratch), then with check 6 BT doubles per matrix (the probe sums), then
// 5 G ints (flags, and the product form's two maxima). Every part starts 16-byte aligned.
struct SharedLayout {
  std::size_t p_off, t_off, c_off, flag_off, bytes;
};
template <int BT>
__host__ __device__ constexpr SharedLayout shared_layout(bool aux, bool check, bool product_form = false) {
  const std::size_t s = static_cast<std::size_t>(group<BT>()) * BT * ld<BT>() * sizeof(float);
  const std::size_t p_off = s, t_off = s + (aux ? s : 0), c_off = t_off + (product_form ? s : 0);
  const std::size_t flag_off = c_off + (check ? static_cast<std::size_t>(group<BT>()) * 6 * BT * sizeof(double) : 0);
  return {p_off, t_off, c_off, flag_off, flag_off + 5 * group<BT>() * sizeof(int)};
}

// One block per group of G matrices, BT threads per matrix: load N into shared memory,
// invert (merges with operands OP: MergeOp), optionally refine and check, store, record
// the statuses. Threads of an idle slot (past the last matrix) run on a copy of matrix
// count - 1 and store nothing, so every thread reaches every barrier.
// EXTRA: whether the refinement and the check are compiled in (cfg.refine / cfg.check
// choose at run time); without them the kernel is the plain merge kernel, with its
// register allocation. F64_BASE: the base blocks in fp64 (fp32 outputs) or fp32.
template <int BT, int MIN_BLOCKS, int OP, bool EXTRA, bool F64_BASE>
__global__ void __launch_bounds__(BT* group<BT>(), MIN_BLOCKS)
    invert_merge_kernel(const void* __restrict__ A, DType in, void* __restrict__ X, DType out,
                        MatrixAddressing addr, MergeConfig cfg, int* __restrict__ statuses, int* __restrict__ flag) {
  constexpr int G = group<BT>();
  extern __shared__ __align__(16) unsigned char smem_raw[];
  // The product form always runs its own tests (growth; the normwise residual, which
  // needs the copy P of N and the probe scratch C), with or without check=1.
  const bool product_form = EXTRA && OP != static_cast<int>(MergeOp::fp32) && BT >= 32 && cfg.product_form;
  const bool aux = EXTRA && (cfg.refine || cfg.check || product_form);
  const SharedLayout lay = shared_layout<BT>(aux, EXTRA && (cfg.check || product_form), product_form);
  float* S_all = reinterpret_cast<float*>(smem_raw);
  int* bad_output = reinterpret_cast<int*>(smem_raw + lay.flag_off);
  int* bad_input = bad_output + G;
  int* check_bits = bad_input + G;  // bits 0, 1: rho > tau; 2: normwise; 3: growth

  const int g = threadIdx.x / BT, t = threadIdx.x % BT;
  unsigned* maxbits = reinterpret_cast<unsigned*>(check_bits + G) + 2 * g;  // product form
  const long long q0 = static_cast<long long>(blockIdx.x) * G + g;
  const bool active = q0 < addr.count;
  const long long q = active ? q0 : addr.count - 1;
  float* S = S_all + g * BT * ld<BT>();
  float* P = reinterpret_cast<float*>(smem_raw + lay.p_off) + g * BT * ld<BT>();
  float* T = reinterpret_cast<float*>(smem_raw + lay.t_off) + g * BT * ld<BT>();
  double* C = reinterpret_cast<double*>(smem_raw + lay.c_off) + g * 6 * BT;
  if (t == 0) {
    bad_output[g] = bad_input[g] = check_bits[g] = 0;
    maxbits[0] = maxbits[1] = 0;
  }

  const MatrixLocation loc = locate<BT>(addr, q);
  load_lower_as<BT>(in, A, loc, S, t);
  if (aux) load_lower_as<BT>(in, A, loc, P, t);
  // Rows >= m of a partial matrix: N = 0 there, so that no stale shared-memory value (a
  // NaN from an earlier block) enters the tensor-core products, where a zero operand
  // entry times a NaN is still NaN (the fp32 merges never read those entries).
  for (int e = t; e < (BT - loc.size) * BT; e += BT) {
    const int i = loc.size + e / BT, c = e % BT;
    S[i * ld<BT>() + c] = 0.0f;
    if (aux) P[i * ld<BT>() + c] = 0.0f;
  }
  cp_async_wait_all();
  __syncthreads();
  if constexpr (EXTRA && OP != static_cast<int>(MergeOp::fp32) && BT >= 32) {
    if (product_form)
      product_form_mma<BT, OP>(S, T, t, true, maxbits);
    else
      invert_in_shared<BT, OP, F64_BASE>(S, t);
  } else {
    (void)T;
    invert_in_shared<BT, OP, F64_BASE>(S, t);
  }
  if constexpr (EXTRA) {
    if (cfg.refine) refine_in_shared<BT>(S, P, t, loc.size, true);
    if (cfg.check || product_form)  // without check=1 the rho test cannot fire (tau = inf)
      check_in_shared<BT>(S, P, C, t, loc.size, cfg.check ? cfg.tau : INFINITY, &check_bits[g], true,
                          product_form);
    // The product form's growth test: u * max |intermediate| > max |X| (u the operands'
    // unit roundoff): every intermediate of size G carries an error up to u G, so X may
    // have no correct digit. Evaluated on the unrefined X's intermediates and the final X.
    if (product_form && t == 0) {
      const float u = OP == static_cast<int>(MergeOp::bf16) ? 0x1p-8f : 0x1p-11f;
      if (!(u * __uint_as_float(maxbits[0]) <= __uint_as_float(maxbits[1]))) atomicOr(&check_bits[g], 8);
    }
    __syncthreads();
  }

  if (active && store_as<BT>(out, X, loc, S, t)) atomicOr(&bad_output[g], 1);
  __syncthreads();
  if (active && bad_output[g] && input_nonfinite_as(in, A, loc, t, BT)) atomicOr(&bad_input[g], 1);
  __syncthreads();
  if (active && t == 0) {
    const int s = bad_input[g]    ? status_nonfinite
                  : bad_output[g] ? status_overflow
                  : ((check_bits[g] & 3) == 3 || (check_bits[g] & 12) != 0) ? status_inaccurate
                                       : status_ok;
    if (statuses) statuses[q] = s;
    if (flag && s != status_ok) atomicMax(flag, s);
  }
}

// Resident blocks per SM given to ptxas (a register cap): what the shared memory allows.
template <int BT>
constexpr int min_blocks() { return BT == 128 ? 3 : BT == 64 ? 6 : 8; }
// The same with the refinement / check compiled in (twice the shared memory, plus the
// probe sums): 1, 3, 5, 8 blocks of BT = 128, 64, 32, 16 fit in an SM's 228 KB.
template <int BT>
constexpr int extra_min_blocks() { return BT == 128 ? 1 : BT == 64 ? 3 : BT == 32 ? 5 : 8; }

}  // namespace merge

template <int BT, int MIN_BLOCKS, int OP, bool EXTRA, bool F64_BASE = true>
void launch_merge_kernel_as(DType in, DType out, const void* A, void* X, const MatrixAddressing& addr,
                         const MergeConfig& cfg, int* statuses, int* flag, cudaStream_t stream) {
  constexpr int G = merge::group<BT>();
  const std::size_t smem = merge::shared_layout<BT>(cfg.refine || cfg.check || cfg.product_form,
                                                    cfg.check || cfg.product_form, cfg.product_form).bytes;
  constexpr std::size_t smem_max = merge::shared_layout<BT>(EXTRA, EXTRA, EXTRA && OP != 0).bytes;
  static_assert(smem_max <= 227 * 1024, "shared memory per block");
  auto kernel = merge::invert_merge_kernel<BT, MIN_BLOCKS, OP, EXTRA, F64_BASE>;
  static const cudaError_t attr_err =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem_max));
  check_cuda(attr_err, "cudaFuncSetAttribute(invert_merge_kernel)");
  const long long blocks = (addr.count + G - 1) / G;
  if (blocks > INT_MAX) throw std::invalid_argument("gpu::invert: too many matrices for one launch");
  kernel<<<static_cast<unsigned>(blocks), BT * G, smem, stream>>>(A, in, X, out, addr, cfg, statuses, flag);
  check_cuda(cudaGetLastError(), "invert_merge_kernel launch");
}

template <int BT, int MIN_BLOCKS, int OP>
void launch_merge_kernel(DType in, DType out, const void* A, void* X, const MatrixAddressing& addr,
                         const MergeConfig& cfg, int* statuses, int* flag, cudaStream_t stream) {
  if (cfg.refine || cfg.check || cfg.product_form)
    launch_merge_kernel_as<BT, merge::extra_min_blocks<BT>(), OP, true>(in, out, A, X, addr, cfg, statuses, flag,
                                                                        stream);
  else {
    // 16-bit outputs: base blocks in fp32 (solve_base_column; the refinement, the check and
    // the matrix-unit merges keep the fp64 base blocks).
    if constexpr (OP == static_cast<int>(MergeOp::fp32))
      if (out != DType::fp32)
        return launch_merge_kernel_as<BT, MIN_BLOCKS, OP, false, false>(in, out, A, X, addr, cfg, statuses,
                                                                         flag, stream);
    launch_merge_kernel_as<BT, MIN_BLOCKS, OP, false>(in, out, A, X, addr, cfg, statuses, flag, stream);
  }
}

}  // namespace

template <int BT>
void launch_invert_merge(DType in, DType out, const void* A, void* X, const MatrixAddressing& addr,
                         const MergeConfig& cfg, int* statuses, int* flag, cudaStream_t stream) {
  constexpr int MB = merge::min_blocks<BT>();
  // At BT = 16 the base block is the whole matrix: no merges, one kernel for every op.
  const MergeOp op = BT == 16 ? MergeOp::fp32 : cfg.op;
  switch (op) {
    case MergeOp::fp32: return launch_merge_kernel<BT, MB, 0>(in, out, A, X, addr, cfg, statuses, flag, stream);
    case MergeOp::bf16:
      if constexpr (BT > 16) return launch_merge_kernel<BT, MB, 1>(in, out, A, X, addr, cfg, statuses, flag, stream);
      break;
    case MergeOp::fp16:
      if constexpr (BT > 16) return launch_merge_kernel<BT, MB, 2>(in, out, A, X, addr, cfg, statuses, flag, stream);
      break;
    case MergeOp::tf32:
      if constexpr (BT > 16) return launch_merge_kernel<BT, MB, 3>(in, out, A, X, addr, cfg, statuses, flag, stream);
      break;
  }
  throw std::invalid_argument("gpu::invert: unknown merge operand format");
}

}  // namespace triscan::gpu::detail

#define TRISCAN_INSTANTIATE_LAUNCH_INVERT_MERGE(BT)                                                  \
  template void triscan::gpu::detail::launch_invert_merge<BT>(DType, DType, const void*, void*,      \
                                                              const MatrixAddressing&,               \
                                                              const MergeConfig&, int*, int*,        \
                                                              cudaStream_t)
