// gpu/trinv.cuh — device-side pieces of the batched unit-lower inversion (internal).
//
// Where each matrix lives: the [B, T, H, BT] chunk layout (regular or cu_seqlens) and
// the strided [N, n, n] layout both reduce to (offset of element (0, 0), row stride,
// size m); element (i, j) is at offset + i * row_stride + j.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cuda_runtime.h>

#include <cstdint>

#include "triscan/gpu.hpp"

namespace triscan::gpu::detail {

enum class Addressing : int { chunks = 0, chunks_varlen = 1, strided = 2 };

struct MatrixAddressing {
  Addressing kind = Addressing::chunks;
  long long count = 0;          // matrices in the call
  long long length = 0;         // chunks: T
  long long heads = 1;          // chunks: H
  long long chunks_per_seq = 0; // chunks (regular): ceil(T / BT)
  const std::int64_t* table = nullptr;  // chunks_varlen: (row0 << 8) | m per chunk row
  long long batch_stride = 0;   // strided
  long long row_stride = 0;     // strided (chunks: H * BT)
  int n = 0;                    // strided: the matrix size
};

struct MatrixLocation {
  long long offset;      // element (0, 0)
  long long row_stride;  // elements between rows
  int size;              // m: rows and columns that belong to the matrix
};

// The tokens of chunk row r (r numbered as enumerate_chunks() visits them: batch entry,
// then chunk): the first token's row counted over all B * T rows, and m <= BT tokens.
struct ChunkSpan {
  long long row0;
  int size;
};
template <int BT>
__device__ inline ChunkSpan chunk_span(const MatrixAddressing& a, long long r) {
  if (a.kind == Addressing::chunks_varlen) {
    const std::int64_t e = a.table[r];
    return {e >> 8, static_cast<int>(e & 0xff)};
  }
  const long long b = r / a.chunks_per_seq, start = (r % a.chunks_per_seq) * BT;
  return {b * a.length + start, static_cast<int>(a.length - start < BT ? a.length - start : BT)};
}

// Matrix q of the call: chunk row r = q / H, head q % H (chunk layouts), or q (strided).
template <int BT>
__device__ inline MatrixLocation locate(const MatrixAddressing& a, long long q) {
  if (a.kind == Addressing::strided) return {q * a.batch_stride, a.row_stride, a.n};
  const long long h = q % a.heads;
  const ChunkSpan c = chunk_span<BT>(a, q / a.heads);
  return {(c.row0 * a.heads + h) * BT, a.heads * BT, c.size};
}

// Element conversions between storage types and the fp32 working format.
__device__ inline float to_float(float v) { return v; }
__device__ inline float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ inline float to_float(__half v) { return __half2float(v); }

template <class T>
__device__ inline T from_float(float v);
template <>
__device__ inline float from_float<float>(float v) { return v; }
template <>
__device__ inline __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <>
__device__ inline __half from_float<__half>(float v) { return __float2half_rn(v); }

// The addressing of the [B, T, H, BT] chunks of `plan` (count = chunk rows x H).
MatrixAddressing chunk_addressing(const ChunkPlan& plan);

// Launches the BT kernel for (in, out) dtypes on `stream` (gpu/trinv_bt*.cu).
template <int BT>
void launch_invert(DType in, DType out, const void* A, void* X, const MatrixAddressing& addr, int* statuses,
                   int* flag, cudaStream_t stream);
// The merges' operand format: fp32 (CUDA-core FMAs, the default) or, on tensor cores
// (mma.sync), operands rounded to bf16 / fp16 / tf32 with fp32 accumulation.
enum class MergeOp : int { fp32 = 0, bf16 = 1, fp16 = 2, tf32 = 3 };
// Options of trinv/recursive_merge on the GPU (gpu/trinv.cu parses them from the MethodSpec).
struct MergeConfig {
  MergeOp op = MergeOp::fp32;
  bool refine = false;  // one fp32 step X <- X + X (I - L X) after the merges
  bool check = false;   // the a-posteriori check: Status::inaccurate when rho > tau
  double tau = 0.0;     // the check's threshold (docs/gpu.md "The inaccurate check")
  bool product_form = false;  // trinv/product_form (op bf16 or tf32, BT >= 32) instead of the merges
};
// The same by recursive merges over 16 x 16 diagonal blocks (gpu/trinv_merge_kernel.cuh).
template <int BT>
void launch_invert_merge(DType in, DType out, const void* A, void* X, const MatrixAddressing& addr,
                         const MergeConfig& cfg, int* statuses, int* flag, cudaStream_t stream);

}  // namespace triscan::gpu::detail
