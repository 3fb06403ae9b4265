// gpu/scan.cuh — the single-pass scan kernel for the scalar and diagonal kinds
// (internal; host side in gpu/scan.cu, instantiated in gpu/scan_scalar.cu and
// gpu/scan_diagonal.cu). Design: docs/scan.md "GPU".
//
// One thread block per (tile, channel group): a tile is `C = W * TPT` consecutive
// tokens of one sequence, a channel group 32 consecutive channels (lane = channel, so
// every load and store of a warp is one contiguous run along D). Warp w holds tokens
// w*TPT .. w*TPT+TPT-1 of the tile in registers. Steps:
//   1. load (a, b) for the thread's tokens (identity (1, 0) past the end of the tile);
//   2. each thread composes its tokens into an aggregate (A, B) (the map h -> A h + B);
//   3. warp 0 composes the W warp aggregates in order into the tile aggregate,
//      publishes it (flag 1), looks back for the carry-in (decoupled look-back, below),
//      publishes the tile's inclusive state (flag 2) — the first tile of a sequence
//      starts from h0 and publishes its inclusive state at once;
//   4. every thread applies the aggregates of the warps before it to the carry-in and
//      runs the recurrence over its tokens, writing h (and final_state at the end of a
//      sequence).
// Look-back (Merrill & Garland 2016) in a fixed order: warp 0 reads the flags of the
// preceding tiles of the same (sequence, channel group), 32 at a time, back to the
// nearest one with an inclusive state; every lane then applies the aggregates after it, oldest
// first, to that state. Each inclusive state is by induction the same fp32 value whatever route
// produced it (always carry_{k+1} = A_k carry_k + B_k, the same operations on the same operands),
// so results never depend on timing. Blocks take their tile from an atomic ticket, so a tile's
// predecessors are always already running or done.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "triscan/gpu.hpp"

namespace triscan::gpu::detail {

// One tile of one sequence. meta: size (tokens, <= C) | first << 16 | last << 17.
struct ScanTile {
  long long start;  // token index (row of [N, D]) of the tile's first token
  int sequence;
  int meta;
  int first_row;  // the tile row of the sequence's first tile
  int unused;
};

struct ScanParams {
  const void* a = nullptr;
  const void* b = nullptr;
  const float* h0 = nullptr;
  void* h = nullptr;
  float* final_state = nullptr;
  int* statuses = nullptr;
  int* flag = nullptr;
  const ScanTile* tiles = nullptr;
  long long dim = 1;  // D
  int groups = 1;     // ceil(D / 32)
  // Look-back workspace, zeroed before each launch: ticket, then per (tile, group)
  // a flag (0 = nothing, 1 = aggregate, 2 = inclusive), 32 aggregates and 32 states.
  int* ticket = nullptr;
  int* lookback_flags = nullptr;
  float2* aggregates = nullptr;
  float* inclusive = nullptr;
};

constexpr int scan_status_ok = 0, scan_status_overflow = 3,
              scan_status_nonfinite = 5;  // triscan::Status

__device__ __forceinline__ float scan_load(const float* p) {
  return *p;
}
__device__ __forceinline__ float scan_load(const __nv_bfloat16* p) {
  return __bfloat162float(*p);
}
__device__ __forceinline__ float scan_load(const __half* p) {
  return __half2float(*p);
}

// Stores v in the output type and returns the stored value as fp32 (to check it).
__device__ __forceinline__ float scan_store(float* p, float v) {
  *p = v;
  return v;
}
__device__ __forceinline__ float scan_store(__nv_bfloat16* p, float v) {
  const __nv_bfloat16 r = __float2bfloat16_rn(v);
  *p = r;
  return __bfloat162float(r);
}
__device__ __forceinline__ float scan_store(__half* p, float v) {
  const __half r = __float2half_rn(v);
  *p = r;
  return __half2float(r);
}

__device__ __forceinline__ int load_acquire(const int* p) {
  int v;
  asm volatile("ld.acquire.gpu.global.s32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
  return v;
}
__device__ __forceinline__ void store_release(int* p, int v) {
  asm volatile("st.release.gpu.global.s32 [%0], %1;" ::"l"(p), "r"(v) : "memory");
}

// The state map of one token or span: h -> A h + B. Applying (A, B) to h, and
// composing a later span (A2, B2) after (A1, B1) = (A2 A1, A2 B1 + B2), always with
// these operations, so every path evaluates the same expression shapes.
__device__ __forceinline__ float scan_apply(float A, float B, float h) {
  return __fadd_rn(__fmul_rn(A, h), B);
}

template <class TIn, class TOut, bool SCALAR, int W, int TPT>
__global__ void __launch_bounds__(W * 32, 32 / W) scan_kernel(ScanParams p) {
  __shared__ int s_ticket, s_status;
  __shared__ float s_A[W][32], s_B[W][32];
  __shared__ float s_carry[32];

  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  if (threadIdx.x == 0) {
    s_ticket = atomicAdd(p.ticket, 1);
    s_status = scan_status_ok;
  }
  __syncthreads();
  const int v = s_ticket;  // tiles x groups <= INT_MAX (checked by the plan)
  const int row = v / p.groups;
  const int g = v % p.groups;
  const ScanTile tile = p.tiles[row];
  const int size = tile.meta & 0xffff;
  const bool first = (tile.meta >> 16) & 1, last = (tile.meta >> 17) & 1;
  const long long d = static_cast<long long>(g) * 32 + lane;
  const bool active = d < p.dim;
  const int off = w * TPT;                     // the thread's first token within the tile
  const int n = min(max(size - off, 0), TPT);  // its tokens that belong to the tile
  const long long tok0 = tile.start + off;

  const TIn* a = static_cast<const TIn*>(p.a);
  const TIn* b = static_cast<const TIn*>(p.b);
  // Token i of the thread is element (tok0 + i) * D + d (a: tok0 + i for the scalar kind).
  const long long base = tok0 * p.dim + d;
  const TIn* pa = SCALAR ? a + tok0 : a + base;
  const TIn* pb = b + base;
  const long long a_step = SCALAR ? 1 : p.dim;
  float av[TPT], bv[TPT];
#pragma unroll
  for (int i = 0; i < TPT; ++i) {
    av[i] = 1.0f;
    bv[i] = 0.0f;
    if (active && i < n) {
      av[i] = scan_load(pa);
      bv[i] = scan_load(pb);
    }
    pa += a_step;
    pb += p.dim;
  }
  bool bad_input = false;
#pragma unroll
  for (int i = 0; i < TPT; ++i) bad_input |= !(isfinite(av[i]) && isfinite(bv[i]));

  // 2. The thread's aggregate.
  float A = 1.0f, B = 0.0f;
#pragma unroll
  for (int i = 0; i < TPT; ++i) {
    B = scan_apply(av[i], bv[i], B);
    A = __fmul_rn(av[i], A);
  }
  s_A[w][lane] = A;
  s_B[w][lane] = B;
  __syncthreads();

  // 3. Tile aggregate, look-back, carry-in (warp 0).
  if (w == 0) {
    const int slot = v;  // row * groups + g
    float carry = 0.0f;
    if (first) {
      if (p.h0 && active) {
        carry = p.h0[static_cast<long long>(tile.sequence) * p.dim + d];
        bad_input |= !isfinite(carry);
      }
    }
    float TA = 1.0f, TB = 0.0f;
    for (int j = 0; j < W; ++j) {
      TB = scan_apply(s_A[j][lane], s_B[j][lane], TB);
      TA = __fmul_rn(s_A[j][lane], TA);
    }
    if (!first) {
      // Publish the aggregate, then look back.
      p.aggregates[32ll * slot + lane] = make_float2(TA, TB);
      __threadfence();
      __syncwarp();
      if (lane == 0) store_release(p.lookback_flags + slot, 1);
      // Look back 32 tiles at a time: lane i reads the flag of tile hi - i (never below
      // the sequence's first tile, which publishes its inclusive state directly).
      int hi = row - 1, j;
      for (;;) {
        const int idx = hi - lane;
        const bool in_seq = idx >= tile.first_row;
        const int f = in_seq ? load_acquire(p.lookback_flags + idx * p.groups + g) : 0;
        const unsigned incl = __ballot_sync(0xffffffffu, in_seq && f == 2);
        const unsigned none = __ballot_sync(0xffffffffu, in_seq && f == 0);
        if (incl) {
          const int i = __ffs(incl) - 1;         // the nearest tile with an inclusive state
          if ((none & ((1u << i) - 1u)) == 0) {  // every tile after it has its aggregate
            j = hi - i;
            break;
          }
        } else if (none == 0) {  // 32 aggregates (the first tile is further back)
          hi -= 32;
          continue;
        }
        __nanosleep(32);  // a tile in between has published nothing yet: read again
      }
      __syncwarp();  // orders every lane's acquire before every lane's reads below
      __threadfence();
      carry = __ldcg(p.inclusive + 32ll * (j * p.groups + g) + lane);
#pragma unroll 4
      for (int k = j + 1; k < row; ++k) {
        const float2 e = __ldcg(p.aggregates + 32ll * (k * p.groups + g) + lane);
        carry = scan_apply(e.x, e.y, carry);
      }
    }
    if (!last) {
      p.inclusive[32ll * slot + lane] = scan_apply(TA, TB, carry);
      __threadfence();
      __syncwarp();
      if (lane == 0) store_release(p.lookback_flags + slot, 2);
    }
    s_carry[lane] = carry;
  }
  __syncthreads();

  // 4. Fix-up: the carry-in of this thread's tokens, then the recurrence.
  float hs = s_carry[lane];
  for (int j = 0; j < w; ++j) hs = scan_apply(s_A[j][lane], s_B[j][lane], hs);
  TOut* ph = static_cast<TOut*>(p.h) + base;
  bool bad_output = false;
#pragma unroll
  for (int i = 0; i < TPT; ++i) {
    hs = scan_apply(av[i], bv[i], hs);
    if (active && i < n) bad_output |= !isfinite(scan_store(ph, hs));
    ph += p.dim;
  }
  if (last && active && n > 0 && off + n == size) {
    if (p.final_state) p.final_state[static_cast<long long>(tile.sequence) * p.dim + d] = hs;
    bad_output |= !isfinite(hs);
  }
  const int status = bad_input    ? scan_status_nonfinite
                     : bad_output ? scan_status_overflow
                                  : scan_status_ok;
  if (status != scan_status_ok) atomicMax(&s_status, status);
  __syncthreads();
  if (threadIdx.x == 0 && s_status != scan_status_ok) {
    if (p.statuses) atomicMax(p.statuses + tile.sequence, s_status);
    if (p.flag) atomicMax(p.flag, s_status);
  }
}

}  // namespace triscan::gpu::detail

namespace triscan::gpu::detail {

// Launches the kernel for `chunk` in {64, 128, 256, 512} (W = chunk / 16 warps of 16 tokens
// per thread) and the (in, out) dtypes: `blocks` = tiles x channel groups.
template <bool SCALAR>
void launch_scan(int chunk, DType in, DType out, const ScanParams& p, long long blocks,
                 cudaStream_t stream);

#ifdef TRISCAN_SCAN_DEFINE_LAUNCH
namespace scan_launch {
template <class TIn, class TOut, bool SCALAR>
void by_chunk(int chunk, const ScanParams& p, long long blocks, cudaStream_t stream) {
  constexpr int TPT = 16;
  const dim3 grid(static_cast<unsigned>(blocks));
  switch (chunk) {
    case 64:
      scan_kernel<TIn, TOut, SCALAR, 4, TPT><<<grid, 4 * 32, 0, stream>>>(p);
      break;
    case 128:
      scan_kernel<TIn, TOut, SCALAR, 8, TPT><<<grid, 8 * 32, 0, stream>>>(p);
      break;
    case 512:
      scan_kernel<TIn, TOut, SCALAR, 32, TPT><<<grid, 32 * 32, 0, stream>>>(p);
      break;
    default:
      scan_kernel<TIn, TOut, SCALAR, 16, TPT><<<grid, 16 * 32, 0, stream>>>(p);
      break;
  }
}
template <class TIn, bool SCALAR>
void by_out(int chunk, DType out, const ScanParams& p, long long blocks, cudaStream_t stream) {
  switch (out) {
    case DType::bf16:
      return by_chunk<TIn, __nv_bfloat16, SCALAR>(chunk, p, blocks, stream);
    case DType::fp16:
      return by_chunk<TIn, __half, SCALAR>(chunk, p, blocks, stream);
    default:
      return by_chunk<TIn, float, SCALAR>(chunk, p, blocks, stream);
  }
}
}  // namespace scan_launch

template <bool SCALAR>
void launch_scan(int chunk, DType in, DType out, const ScanParams& p, long long blocks,
                 cudaStream_t stream) {
  switch (in) {
    case DType::bf16:
      return scan_launch::by_out<__nv_bfloat16, SCALAR>(chunk, out, p, blocks, stream);
    case DType::fp16:
      return scan_launch::by_out<__half, SCALAR>(chunk, out, p, blocks, stream);
    default:
      return scan_launch::by_out<float, SCALAR>(chunk, out, p, blocks, stream);
  }
}
#endif

}  // namespace triscan::gpu::detail
