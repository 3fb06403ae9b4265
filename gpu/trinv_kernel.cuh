// gpu/trinv_kernel.cuh — the kernel of the batched unit-lower triangular inversion by
// forward substitution in fp32 (method "trinv/forward_substitution"; docs/gpu.md).
//
// X = L^-1 with L = I + N is computed column by column: column j solves L x = e_j,
//   x_i = 0 (i < j),  x_j = 1,  x_i = -sum_{k=j}^{i-1} N_ik x_k  (i > j),
// which is Du Croz & Higham's Method 1 (forward substitution on the columns of I).
// Each computed x is the exact solution of (L + dL) x = e_j with |dL| <= gamma_n |N|
// (Higham, ASNA 2nd ed., Thm 8.5; the unit diagonal enters exactly), hence
// |L X - I| <= gamma_n |N||X| and |X - L^-1| <= gamma_n |L^-1||N||X|, u = 2^-24
// (Du Croz & Higham 1992) — the bounds tests/gpu assert entry by entry.
//
// One thread owns one column j and keeps x in registers (fully unrolled loops, so
// every index is a compile-time constant); N's rows are broadcast to all threads of
// the matrix from shared memory with 16-byte loads. The threads of one warp own 32
// consecutive columns starting at J0 (a multiple of 32): for that warp x_k = 0 for
// every k < J0, so rows and terms below J0 are skipped at compile time.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <climits>
#include <stdexcept>

#include "gpu/cuda_check.hpp"
#include "gpu/trinv.cuh"
#include "triscan/status.hpp"

namespace triscan::gpu::detail {
// Internal linkage for everything but launch_invert: a program that instantiates the
// same templates itself (bench/gpu_bench_trinv.cu times tuning variants) must get its
// own copies, not interpose its host stubs on the library's across the .so boundary.
namespace {

constexpr int status_ok = static_cast<int>(Status::ok);
constexpr int status_overflow = static_cast<int>(Status::overflow);
constexpr int status_nonfinite = static_cast<int>(Status::nonfinite_input);

// Matrices per thread block: 128 threads for BT <= 64 (BT threads per matrix).
template <int BT>
__host__ __device__ constexpr int matrices_per_block() { return BT >= 128 ? 1 : 128 / BT; }

// Columns one warp owns together: the granularity of the compile-time skip.
template <int BT>
__host__ __device__ constexpr int column_block() { return BT < 32 ? BT : 32; }

template <int BT>
__host__ __device__ constexpr std::size_t shared_bytes() {
  return static_cast<std::size_t>(matrices_per_block<BT>()) * BT * BT * sizeof(float) +
         2 * matrices_per_block<BT>() * sizeof(int);
}

// Loads the strictly lower part of one m x m matrix into Ns (BT x BT fp32, row-major):
// N_ic for c < i < m; every other entry of Ns is set to 0. Only entries of rows < m
// and columns < m are fetched from memory (16-byte vectors while a vector stays inside
// the columns < m, single elements otherwise). Returns true if a strictly lower
// entry is NaN or Inf.
template <int BT, class Tin>
__device__ bool load_strictly_lower(const Tin* __restrict__ A, const MatrixLocation& loc,
                                    float* __restrict__ Ns, int t) {
  constexpr int vec = 16 / sizeof(Tin);
  constexpr int vecs_per_row = BT / vec;
  bool nonfinite = false;
#pragma unroll 4
  for (int v = t; v < BT * vecs_per_row; v += BT) {
    const int i = v / vecs_per_row, c0 = (v % vecs_per_row) * vec;
    float vals[vec];
#pragma unroll
    for (int e = 0; e < vec; ++e) vals[e] = 0.0f;
    if (i < loc.size && c0 < i) {
      const Tin* row = A + loc.offset + static_cast<long long>(i) * loc.row_stride;
      Tin raw[vec];
      if (c0 + vec <= loc.size) {
        *reinterpret_cast<uint4*>(raw) = __ldg(reinterpret_cast<const uint4*>(row + c0));
      } else {
#pragma unroll
        for (int e = 0; e < vec; ++e) raw[e] = c0 + e < i ? row[c0 + e] : Tin(0.0f);
      }
#pragma unroll
      for (int e = 0; e < vec; ++e) {
        const float x = c0 + e < i ? to_float(raw[e]) : 0.0f;  // diagonal and above: never used
        nonfinite |= !isfinite(x);
        vals[e] = x;
      }
    }
#pragma unroll
    for (int e = 0; e < vec; e += 4)
      *reinterpret_cast<float4*>(Ns + i * BT + c0 + e) = make_float4(vals[e], vals[e + 1], vals[e + 2], vals[e + 3]);
  }
  return nonfinite;
}

// Column j (J0 <= j < J0 + column_block) of (I + N)^-1 into x[J0..BT-1]; x[i] for
// i < J0 is not touched (it is 0). The sum for row i is split over ACC accumulators
// (term k goes to accumulator (k - J0) mod ACC) and the partial sums are added
// pairwise: the dependency chain shrinks from i to about i/ACC FMAs, and the rounding
// error constant with it (each accumulator adds ~i/ACC terms, then log2(ACC) levels);
// the bound gamma_n |N||x| of the header holds for any such order.
template <int BT, int J0, int ACC>
__device__ void solve_column(const float* __restrict__ Ns, int j, float (&x)[BT]) {
  static_assert(ACC == 1 || ACC == 2 || ACC == 4 || ACC == 8, "ACC in {1, 2, 4, 8}");
#pragma unroll
  for (int i = J0; i < BT; ++i) {
    float acc[ACC];
#pragma unroll
    for (int a = 0; a < ACC; ++a) acc[a] = 0.0f;
    const float* row = Ns + i * BT;
#pragma unroll
    for (int k = J0; k < i; k += 4) {
      const float4 v = *reinterpret_cast<const float4*>(row + k);
      acc[(k - J0) % ACC] = fmaf(v.x, x[k], acc[(k - J0) % ACC]);
      if (k + 1 < i) acc[(k + 1 - J0) % ACC] = fmaf(v.y, x[k + 1], acc[(k + 1 - J0) % ACC]);
      if (k + 2 < i) acc[(k + 2 - J0) % ACC] = fmaf(v.z, x[k + 2], acc[(k + 2 - J0) % ACC]);
      if (k + 3 < i) acc[(k + 3 - J0) % ACC] = fmaf(v.w, x[k + 3], acc[(k + 3 - J0) % ACC]);
    }
#pragma unroll
    for (int w = ACC / 2; w >= 1; w /= 2)
#pragma unroll
      for (int a = 0; a < w; ++a) acc[a] += acc[a + w];
    x[i] = i < j ? 0.0f : (i == j ? 1.0f : -acc[0]);
  }
}

// Writes rows i < m, column j < m of X; returns true if an entry is not finite in
// the output format (fp32 overflow during the substitution, or beyond fp16's range).
template <int BT, int J0, class Tout>
__device__ bool store_column(Tout* __restrict__ X, const MatrixLocation& loc, int j, const float (&x)[BT]) {
  bool overflow = false;
  if (j >= loc.size) return false;
  Tout* col = X + loc.offset + j;
#pragma unroll
  for (int i = 0; i < BT; ++i) {
    if (i < loc.size) {
      const Tout y = from_float<Tout>(i < J0 ? 0.0f : x[i]);
      overflow |= !isfinite(to_float(y));
      col[static_cast<long long>(i) * loc.row_stride] = y;
    }
  }
  return overflow;
}

// Writes X's column j in the output type chosen at run time (a warp-uniform branch;
// the substitution itself is compiled once per J0, not once per dtype pair).
template <int BT, int J0>
__device__ bool store_column_as(DType out, void* X, const MatrixLocation& loc, int j, const float (&x)[BT]) {
  switch (out) {
    case DType::bf16: return store_column<BT, J0>(static_cast<__nv_bfloat16*>(X), loc, j, x);
    case DType::fp16: return store_column<BT, J0>(static_cast<__half*>(X), loc, j, x);
    default: return store_column<BT, J0>(static_cast<float*>(X), loc, j, x);
  }
}

template <int BT, int J0, int ACC>
__device__ bool solve_and_store(const float* Ns, DType out, void* X, const MatrixLocation& loc, int j) {
  float x[BT];
  solve_column<BT, J0, ACC>(Ns, j, x);
  return store_column_as<BT, J0>(out, X, loc, j, x);
}

// Dispatches a thread to its warp's compile-time column start J0 = 32 * (j / 32).
template <int BT, int ACC>
__device__ bool solve_and_store_any(const float* Ns, DType out, void* X, const MatrixLocation& loc, int j) {
  constexpr int cb = column_block<BT>();
  const int w = j / cb;
  if constexpr (BT / cb == 1) {
    return solve_and_store<BT, 0, ACC>(Ns, out, X, loc, j);
  } else if constexpr (BT / cb == 2) {
    return w == 0 ? solve_and_store<BT, 0, ACC>(Ns, out, X, loc, j) : solve_and_store<BT, cb, ACC>(Ns, out, X, loc, j);
  } else {
    static_assert(BT / cb == 4, "BT in {16, 32, 64, 128}");
    switch (w) {
      case 0: return solve_and_store<BT, 0, ACC>(Ns, out, X, loc, j);
      case 1: return solve_and_store<BT, cb, ACC>(Ns, out, X, loc, j);
      case 2: return solve_and_store<BT, 2 * cb, ACC>(Ns, out, X, loc, j);
      default: return solve_and_store<BT, 3 * cb, ACC>(Ns, out, X, loc, j);
    }
  }
}

template <int BT>
__device__ bool load_strictly_lower_as(DType in, const void* A, const MatrixLocation& loc, float* Ns, int t) {
  switch (in) {
    case DType::bf16: return load_strictly_lower<BT>(static_cast<const __nv_bfloat16*>(A), loc, Ns, t);
    case DType::fp16: return load_strictly_lower<BT>(static_cast<const __half*>(A), loc, Ns, t);
    default: return load_strictly_lower<BT>(static_cast<const float*>(A), loc, Ns, t);
  }
}

// One group of BT threads per matrix, matrices_per_block<BT>() matrices per block:
// load N (strictly lower, fp32) into shared memory, solve one column per thread,
// store, then record the matrix's status.
template <int BT, int ACC, int MIN_BLOCKS>
__global__ void __launch_bounds__(BT* matrices_per_block<BT>(), MIN_BLOCKS)
    invert_unit_lower_kernel(const void* __restrict__ A, DType in, void* __restrict__ X, DType out,
                             MatrixAddressing addr, int* __restrict__ statuses, int* __restrict__ flag) {
  constexpr int G = matrices_per_block<BT>();
  extern __shared__ __align__(16) unsigned char smem_raw[];
  float* Ns_all = reinterpret_cast<float*>(smem_raw);
  int* bad_input = reinterpret_cast<int*>(Ns_all + G * BT * BT);
  int* bad_output = bad_input + G;

  const int g = threadIdx.x / BT, t = threadIdx.x % BT;
  const long long q = static_cast<long long>(blockIdx.x) * G + g;
  const bool active = q < addr.count;
  float* Ns = Ns_all + g * BT * BT;
  if (t == 0) bad_input[g] = bad_output[g] = 0;
  __syncthreads();

  MatrixLocation loc{0, 0, 0};
  if (active) {
    loc = locate<BT>(addr, q);
    if (load_strictly_lower_as<BT>(in, A, loc, Ns, t)) atomicOr(&bad_input[g], 1);
  }
  __syncthreads();
  if (active && solve_and_store_any<BT, ACC>(Ns, out, X, loc, t)) atomicOr(&bad_output[g], 1);
  __syncthreads();
  if (active && t == 0) {
    const int s = bad_input[g] ? status_nonfinite : bad_output[g] ? status_overflow : status_ok;
    if (statuses) statuses[q] = s;
    if (flag && s != status_ok) atomicMax(flag, s);
  }
}

// Tuning parameters per chunk size, from the variants timed on the H200
// (docs/benchmarks.md, "Tuning"): accumulators per row sum, and the minimum resident
// blocks per SM given to ptxas (1: no register cap beyond the block size).
template <int BT>
constexpr int default_accumulators() { return BT == 16 ? 2 : BT == 32 ? 8 : 4; }
template <int BT>
constexpr int default_min_blocks() { return BT == 64 ? 5 : 1; }

template <int BT, int ACC, int MIN_BLOCKS>
void launch_kernel(DType in, DType out, const void* A, void* X, const MatrixAddressing& addr, int* statuses,
                   int* flag, cudaStream_t stream) {
  constexpr int G = matrices_per_block<BT>();
  constexpr std::size_t smem = shared_bytes<BT>();
  auto kernel = invert_unit_lower_kernel<BT, ACC, MIN_BLOCKS>;
  static const cudaError_t attr_err =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  check_cuda(attr_err, "cudaFuncSetAttribute(invert_unit_lower_kernel)");
  const long long blocks = (addr.count + G - 1) / G;
  if (blocks > INT_MAX) throw std::invalid_argument("gpu::invert: too many matrices for one launch");
  kernel<<<static_cast<unsigned>(blocks), BT * G, smem, stream>>>(A, in, X, out, addr, statuses, flag);
  check_cuda(cudaGetLastError(), "invert_unit_lower_kernel launch");
}

}  // namespace

template <int BT>
void launch_invert(DType in, DType out, const void* A, void* X, const MatrixAddressing& addr, int* statuses,
                   int* flag, cudaStream_t stream) {
  launch_kernel<BT, default_accumulators<BT>(), default_min_blocks<BT>()>(in, out, A, X, addr, statuses, flag,
                                                                          stream);
}

}  // namespace triscan::gpu::detail
// Instantiates launch_invert<BT> in one translation unit per BT (gpu/trinv_bt*.cu),
// so the fully unrolled kernels compile in parallel.
#define TRISCAN_INSTANTIATE_LAUNCH_INVERT(BT)                                                        \
  template void triscan::gpu::detail::launch_invert<BT>(DType, DType, const void*, void*,            \
                                                        const MatrixAddressing&, int*, int*, cudaStream_t)
