// gpu/scan.cuh — the single-pass scan kernel for the scalar and diagonal kinds
// (internal; host side in gpu/scan.cu, instantiated in gpu/scan_scalar.cu and
// gpu/scan_diagonal.cu). Design: docs/scan.md "GPU".
//
// One thread block per (tile, channel group): a tile is `C = W * TPT` consecutive
// tokens of one sequence, a channel group 32 consecutive channels (lane = channel, so
// every load and store of a warp is one contiguous run along D). Data warp w < W holds
// tokens w*TPT .. w*TPT+TPT-1 of the tile in registers; warp W is the look-back warp.
//   1. the data warps load (a, b) for their tokens (identity (1, 0) past the end of the
//      tile) while the look-back warp resolves the tile's carry-in (decoupled look-back,
//      below; h0 in a sequence's first tile);
//   2. each data thread composes its tokens into an aggregate (A, B) (the map
//      h -> A h + B); data warp 0 composes the W warp aggregates in order into the tile
//      aggregate and publishes it — or, in a sequence's first tile, the inclusive state
//      from h0; the look-back warp publishes the inclusive state of the other tiles with
//      a successor once it has both the carry and the aggregate;
//   3. every data thread applies the aggregates of the warps before it to the carry-in
//      and runs the recurrence over its tokens, writing h (and final_state at the end
//      of a sequence).
// Look-back (Merrill & Garland 2016), per channel and in a fixed order: one 16-byte
// descriptor per tile and channel — (A, B, inclusive state,
// tag) written by one relaxed 16-byte store, so a reader sees the tag and its payload
// together and no fence or second round trip is needed (CUB's tile descriptors rely on
// the same single-copy 16-byte accesses). The tag is the call's epoch times 4 plus the
// state (1 = aggregate, 2 = inclusive), so descriptors left by earlier calls read as
// "nothing" without clearing the workspace. A lane reads the descriptors of the
// LOOKBACK preceding tiles of its (sequence, channel) in one round trip, takes the
// nearest inclusive state j whose later tiles all have their aggregates, and applies
// those aggregates to it, oldest first; otherwise it reads the window again. Each
// inclusive state is by induction the same fp32 value whatever route produced it
// (always carry_{k+1} = A_k carry_k + B_k, the same operations on the same operands),
// so results never depend on timing. Blocks take their tile from an atomic ticket, so a
// tile's predecessors are always already running or done.
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
  // Look-back workspace: the ticket (zeroed before each launch) and per (tile, group)
  // 32 descriptors, one per channel (x: A | B << 32, y: inclusive | tag << 32), never
  // cleared between calls: a tag of another epoch means "nothing published".
  int* ticket = nullptr;
  ulonglong2* descriptors = nullptr;
  unsigned epoch = 1;  // 1 .. scan_max_epoch, a new one per call
};

// scan_max_epoch (include/triscan/gpu.hpp): tag = epoch * 4 + state fits 32 bits.
constexpr int scan_lookback = 4;  // descriptors read per round trip

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

// One descriptor: (A, B) the tile aggregate of one channel, `incl` its inclusive state
// (meaningful when the state is 2), tag = epoch * 4 + state. One 16-byte access each way.
__device__ __forceinline__ void store_descriptor(ulonglong2* p, float A, float B, float incl,
                                                 unsigned tag) {
  const unsigned long long x =
      static_cast<unsigned long long>(__float_as_uint(B)) << 32 | __float_as_uint(A);
  const unsigned long long y = static_cast<unsigned long long>(tag) << 32 | __float_as_uint(incl);
  asm volatile("st.relaxed.gpu.global.v2.u64 [%0], {%1, %2};" ::"l"(p), "l"(x), "l"(y) : "memory");
}
__device__ __forceinline__ ulonglong2 load_descriptor(const ulonglong2* p) {
  ulonglong2 v;
  asm volatile("ld.relaxed.gpu.global.v2.u64 {%0, %1}, [%2];"
               : "=l"(v.x), "=l"(v.y)
               : "l"(p)
               : "memory");
  return v;
}

// The state map of one token or span: h -> A h + B. Applying (A, B) to h, and
// composing a later span (A2, B2) after (A1, B1) = (A2 A1, A2 B1 + B2), always with
// these operations, so every path evaluates the same expression shapes.
__device__ __forceinline__ float scan_apply(float A, float B, float h) {
  return __fadd_rn(__fmul_rn(A, h), B);
}

// Looks back once over the LOOKBACK tiles before `row` for this lane's channel: true (and
// the carry-in) when the nearest inclusive state has every later tile's aggregate.
__device__ __forceinline__ bool look_back_once(const ScanParams& p, int row, int first_row, int g,
                                               int lane, unsigned tag_aggregate,
                                               unsigned tag_inclusive, float& carry) {
  float wA[scan_lookback], wB[scan_lookback], wI[scan_lookback];
  unsigned state[scan_lookback];
#pragma unroll
  for (int i = 0; i < scan_lookback; ++i) {
    const int idx = row - 1 - i;
    state[i] = 0;
    wA[i] = wB[i] = wI[i] = 0.0f;
    if (idx >= first_row) {
      const ulonglong2 e = load_descriptor(p.descriptors + 32ll * (idx * p.groups + g) + lane);
      const unsigned tag = static_cast<unsigned>(e.y >> 32);
      state[i] = tag == tag_inclusive ? 2u : tag == tag_aggregate ? 1u : 0u;
      wA[i] = __uint_as_float(static_cast<unsigned>(e.x));
      wB[i] = __uint_as_float(static_cast<unsigned>(e.x >> 32));
      wI[i] = __uint_as_float(static_cast<unsigned>(e.y));
    }
  }
  int found = -1;
  bool blocked = false;
#pragma unroll
  for (int i = 0; i < scan_lookback; ++i) {
    if (found < 0 && !blocked) {
      if (state[i] == 2u)
        found = i;
      else if (state[i] == 0u)
        blocked = true;
    }
  }
  if (found < 0) return false;
  float c = 0.0f;
#pragma unroll
  for (int i = 0; i < scan_lookback; ++i)
    if (i == found) c = wI[i];
#pragma unroll
  for (int i = scan_lookback - 1; i >= 0; --i)  // oldest first
    if (i < found) c = scan_apply(wA[i], wB[i], c);
  carry = c;
  return true;
}

// Resident blocks per SM asked of ptxas (a register cap): room for the 2 TPT registers
// of loaded data per thread plus 24 more.
template <int W, int TPT>
constexpr int scan_min_blocks() {
  const int b = 65536 / ((W + 1) * 32 * (2 * TPT + 24));
  return b < 1 ? 1 : b;
}

__device__ __forceinline__ void named_barrier_sync(int id, int threads) {
  asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

// W data warps (tokens w*TPT .. w*TPT + TPT - 1 of the tile each) and one look-back warp
// (warp W), which resolves the tile's carry-in while the data warps' loads are in flight.
// Data warp 0 publishes the tile's descriptor as soon as the tile aggregate is known:
// its inclusive state at once in a sequence's first tile, else the aggregate (so later
// tiles can look past this one), which the look-back warp reads back from the
// descriptor, in the same round trip as its window, to publish the inclusive state once
// it has the carry. Inside the block the hand-offs are barriers met by all their threads
// at one program point (named barrier 1 = the data warps) — a shared-memory hand-off
// between the two warps through a flag or a two-site named barrier is what
// compute-sanitizer racecheck / synccheck reject (measured 1-4% faster, not kept).
template <class TIn, class TOut, bool SCALAR, int W, int TPT>
__global__ void __launch_bounds__((W + 1) * 32, (scan_min_blocks<W, TPT>()))
    scan_kernel(ScanParams p) {
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
  const unsigned tag_aggregate = p.epoch << 2 | 1u, tag_inclusive = p.epoch << 2 | 2u;
  ulonglong2* own = p.descriptors + 32ll * v + lane;  // v = row * groups + g
  const float h0 =
      first && p.h0 && active ? p.h0[static_cast<long long>(tile.sequence) * p.dim + d] : 0.0f;
  bool bad_input = false;

  const int off = w * TPT;                     // the thread's first token within the tile
  const int n = min(max(size - off, 0), TPT);  // its tokens that belong to the tile
  const long long tok0 = tile.start + off;
  // Token i of the thread is element (tok0 + i) * D + d (a: tok0 + i for the scalar kind).
  const long long base = tok0 * p.dim + d;
  float av[TPT], bv[TPT];

  if (w == W) {
    // The look-back warp: the carry-in (h0 in a sequence's first tile), and for a tile
    // with a successor its own aggregate back from the descriptor, polled together.
    float carry = h0, TA = 1.0f, TB = 0.0f;
    bad_input = !isfinite(h0);
    if (!first) {
      bool lane_carry = false, lane_aggregate = last;
      for (;;) {
        if (!lane_aggregate) {
          const ulonglong2 e = load_descriptor(own);
          if (static_cast<unsigned>(e.y >> 32) == tag_aggregate) {
            TA = __uint_as_float(static_cast<unsigned>(e.x));
            TB = __uint_as_float(static_cast<unsigned>(e.x >> 32));
            lane_aggregate = true;
          }
        }
        if (!lane_carry)
          lane_carry =
              look_back_once(p, row, tile.first_row, g, lane, tag_aggregate, tag_inclusive, carry);
        if (__all_sync(0xffffffffu, lane_carry && lane_aggregate)) break;
        __nanosleep(64);  // not all published yet: read again
      }
      if (!last) store_descriptor(own, TA, TB, scan_apply(TA, TB, carry), tag_inclusive);
    }
    s_carry[lane] = carry;
  } else {
    // Data warps. 1. Load (a, b) of the thread's tokens.
    const TIn* a = static_cast<const TIn*>(p.a);
    const TIn* b = static_cast<const TIn*>(p.b);
    const TIn* pa = SCALAR ? a + tok0 : a + base;
    const TIn* pb = b + base;
    const long long a_step = SCALAR ? 1 : p.dim;
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
#pragma unroll
    for (int i = 0; i < TPT; ++i) bad_input |= !(isfinite(av[i]) && isfinite(bv[i]));

    // 2. The thread's aggregate; data warp 0 composes the tile aggregate and publishes.
    float A = 1.0f, B = 0.0f;
#pragma unroll
    for (int i = 0; i < TPT; ++i) {
      B = scan_apply(av[i], bv[i], B);
      A = __fmul_rn(av[i], A);
    }
    s_A[w][lane] = A;
    s_B[w][lane] = B;
    named_barrier_sync(1, W * 32);
    if (w == 0 && !last) {
      float TA = 1.0f, TB = 0.0f;
      for (int j = 0; j < W; ++j) {
        TB = scan_apply(s_A[j][lane], s_B[j][lane], TB);
        TA = __fmul_rn(s_A[j][lane], TA);
      }
      if (first)
        store_descriptor(own, TA, TB, scan_apply(TA, TB, h0), tag_inclusive);
      else
        store_descriptor(own, TA, TB, 0.0f, tag_aggregate);
    }
  }
  __syncthreads();  // the carry is in s_carry, the warp aggregates in s_A, s_B

  // 3. Fix-up (data warps): the carry-in of this thread's tokens, then the recurrence.
  bool bad_output = false;
  if (w < W) {
    float hs = s_carry[lane];
    for (int j = 0; j < w; ++j) hs = scan_apply(s_A[j][lane], s_B[j][lane], hs);
    TOut* ph = static_cast<TOut*>(p.h) + base;
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

// Launches the kernel for `chunk` in {64, 128, 256, 512} (W = chunk / 16 data warps of 16
// tokens per thread; 16 of 32 at 512, as a block holds at most 32 warps) and the (in, out)
// dtypes: `blocks` = tiles x channel groups.
template <bool SCALAR>
void launch_scan(int chunk, DType in, DType out, const ScanParams& p, long long blocks,
                 cudaStream_t stream);

#ifdef TRISCAN_SCAN_DEFINE_LAUNCH
namespace scan_launch {
template <class TIn, class TOut, bool SCALAR>
void by_chunk(int chunk, const ScanParams& p, long long blocks, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(blocks));
  // (W data warps, TPT tokens per thread) per tile size; plus the look-back warp.
  switch (chunk) {
    case 64:
      scan_kernel<TIn, TOut, SCALAR, 4, 16><<<grid, 5 * 32, 0, stream>>>(p);
      break;
    case 256:
      scan_kernel<TIn, TOut, SCALAR, 16, 16><<<grid, 17 * 32, 0, stream>>>(p);
      break;
    case 512:
      scan_kernel<TIn, TOut, SCALAR, 16, 32><<<grid, 17 * 32, 0, stream>>>(p);
      break;
    default:  // 128
      scan_kernel<TIn, TOut, SCALAR, 8, 16><<<grid, 9 * 32, 0, stream>>>(p);
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
