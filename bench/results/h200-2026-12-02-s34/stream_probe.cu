// Session 34's probe of the blocked solve's memory structure (issue 8), compiled by hand (the
// command is in README.md), not part of the build. It moves k -> w and v -> u at issue 8's shape
// (B T = 65536 tokens, H = 32, D = 128, bf16) through shared memory exactly as the blocked solve
// does (bulk tensor copies of 64 x 64 panels with 128-byte swizzle, gpu/chunk_wy_kernel.cuh's
// tile maps) with no arithmetic, optionally sleeping `delay` ns per chunk between the arrival of a
// chunk and its stores (compute that occupies no issue slots), in two structures:
//   oneshot      one block per chunk and head (the kept kernel's grid, 44,064 bytes of shared
//                memory a block: 5 per SM), load K and V, wait, store, wait for the reads, exit;
//   persistent   S blocks per SM, each looping over chunks with two stages of K and V: the next
//                chunk's loads are issued before this chunk is waited for, a stage is reloaded
//                once the stores that read it are done reading.
// and a device-to-device cudaMemcpyAsync of k -> w and v -> u as the copy reference. Prints a
// table and one JSON line per row; checks that w == k and u == v after each structure.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gpu/chunk_wy_kernel.cuh"

using triscan::gpu::detail::tc::bulk_commit;
using triscan::gpu::detail::tc::mbar_expect_tx;
using triscan::gpu::detail::tc::mbar_init;
using triscan::gpu::detail::tc::mbar_init_fence;
using triscan::gpu::detail::tc::mbar_wait;
using triscan::gpu::detail::tc::tma_load_3d;
using triscan::gpu::detail::tc::tma_store_3d;
namespace bs = triscan::gpu::detail::fused::bsolve;

#define CK(x)                                                                    \
  do {                                                                           \
    cudaError_t e_ = (x);                                                        \
    if (e_ != cudaSuccess) {                                                     \
      std::fprintf(stderr, "%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e_)); \
      std::exit(1);                                                              \
    }                                                                            \
  } while (0)

constexpr int kD = 128, kBT = 64;
constexpr unsigned kTile = 2u * kBT * kD;  // 16 KiB

struct Maps {
  CUtensorMap k, v, w, u;
};

__device__ inline void wait_read_1() {
  asm volatile("cp.async.bulk.wait_group.read 1;\n" ::: "memory");
}
__device__ inline void wait_read_0() {
  asm volatile("cp.async.bulk.wait_group.read 0;\n" ::: "memory");
}
__device__ inline void sleep_ns(unsigned ns) {
  for (unsigned s = 0; s < ns; s += 1000) __nanosleep(ns - s < 1000 ? ns - s : 1000);
}

__device__ inline void load_chunk(unsigned char* st, const Maps& m, int h, int row0,
                                  unsigned long long* bar) {
  mbar_expect_tx(bar, 2 * kTile);
  for (int p = 0; p < kD / 64; ++p) {
    tma_load_3d(st + 8192 * p, &m.k, 64 * p, h, row0, bar);
    tma_load_3d(st + kTile + 8192 * p, &m.v, 64 * p, h, row0, bar);
  }
}
__device__ inline void store_chunk(const unsigned char* st, const Maps& m, int h, int row0) {
  for (int p = 0; p < kD / 64; ++p) {
    tma_store_3d(&m.w, st + 8192 * p, 64 * p, h, row0);
    tma_store_3d(&m.u, st + kTile + 8192 * p, 64 * p, h, row0);
  }
  bulk_commit();
}

// grid (H, rows), 128 threads; thread 0 does the copies, the block waits as the kernel does.
__global__ void __launch_bounds__(128, 5) oneshot(const __grid_constant__ Maps m, unsigned delay) {
  extern __shared__ __align__(1024) unsigned char sm[];
  auto* bar = reinterpret_cast<unsigned long long*>(sm + 2 * kTile);
  const int h = blockIdx.x, row0 = blockIdx.y * kBT;
  if (threadIdx.x == 0) {
    mbar_init(bar, 1);
    mbar_init_fence();
    load_chunk(sm, m, h, row0, bar);
  }
  __syncthreads();
  mbar_wait(bar, 0);
  if (delay && threadIdx.x % 32 == 0) sleep_ns(delay);
  __syncthreads();
  if (threadIdx.x == 0) {
    store_chunk(sm, m, h, row0);
    wait_read_0();
  }
}

// grid: S blocks per SM; chunk c = blockIdx.x + i gridDim.x (head c % H, row c / H).
__global__ void __launch_bounds__(128, 1) persistent(const __grid_constant__ Maps m, int H,
                                                     int nchunks, unsigned delay) {
  extern __shared__ __align__(1024) unsigned char sm[];
  auto* bar = reinterpret_cast<unsigned long long*>(sm + 4 * kTile);
  const int first = blockIdx.x, step = gridDim.x;
  if (threadIdx.x == 0) {
    mbar_init(bar, 1);
    mbar_init(bar + 1, 1);
    mbar_init_fence();
    if (first < nchunks) load_chunk(sm, m, first % H, first / H * kBT, bar);
  }
  __syncthreads();
  int i = 0;
  for (int c = first; c < nchunks; c += step, ++i) {
    const int s = i % 2, next = c + step;
    if (threadIdx.x == 0 && next < nchunks) {
      // the other stage was last stored from at i - 1: its reads done before it is reloaded
      // (the most recent group, i - 1's, is the one that read it)
      if (i > 0) wait_read_0();
      load_chunk(sm + (1 - s) * 2 * kTile, m, next % H, next / H * kBT, bar + (1 - s));
    }
    mbar_wait(bar + s, (i / 2) % 2);
    if (delay && threadIdx.x % 32 == 0) sleep_ns(delay);
    __syncthreads();
    if (threadIdx.x == 0) store_chunk(sm + s * 2 * kTile, m, c % H, c / H * kBT);
  }
  if (threadIdx.x == 0) wait_read_0();
}

int main(int argc, char** argv) {
  const unsigned delays[] = {0u, 2000u, 4000u, 8000u};
  const unsigned oneshot_delays[] = {0u, 2000u, 4000u, 6000u, 8000u, 10000u, 12000u};
  const int B = 4, T = 16384, H = 32, rows = B * T / kBT, nchunks = rows * H, reps = 20;
  const std::size_t n = static_cast<std::size_t>(B) * T * H * kD, bytes = 2 * n;
  const char* date = argc > 1 ? argv[1] : "";
  cudaDeviceProp prop{};
  CK(cudaGetDeviceProperties(&prop, 0));
  void *k, *v, *w, *u;
  CK(cudaMalloc(&k, bytes));
  CK(cudaMalloc(&v, bytes));
  CK(cudaMalloc(&w, bytes));
  CK(cudaMalloc(&u, bytes));
  std::vector<unsigned short> hk(n), hv(n);
  for (std::size_t e = 0; e < n; ++e) {
    hk[e] = static_cast<unsigned short>(e * 2654435761u >> 7);
    hv[e] = static_cast<unsigned short>(e * 40503u + 17u);
  }
  CK(cudaMemcpy(k, hk.data(), bytes, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(v, hv.data(), bytes, cudaMemcpyHostToDevice));
  Maps m{};
  if (!bs::tile_map<__nv_bfloat16, kD>(m.k, k, static_cast<long long>(B) * T, H) ||
      !bs::tile_map<__nv_bfloat16, kD>(m.v, v, static_cast<long long>(B) * T, H) ||
      !bs::tile_map<__nv_bfloat16, kD>(m.w, w, static_cast<long long>(B) * T, H) ||
      !bs::tile_map<__nv_bfloat16, kD>(m.u, u, static_cast<long long>(B) * T, H)) {
    std::fprintf(stderr, "tensor maps could not be formed\n");
    return 1;
  }
  const int one_smem = 44064, pers_smem = 4 * kTile + 64;
  CK(cudaFuncSetAttribute(oneshot, cudaFuncAttributeMaxDynamicSharedMemorySize, one_smem));
  CK(cudaFuncSetAttribute(persistent, cudaFuncAttributeMaxDynamicSharedMemorySize, pers_smem));
  cudaEvent_t e0, e1;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  auto timed = [&](auto&& launch) {
    launch();
    CK(cudaDeviceSynchronize());
    std::vector<float> t(reps);
    for (int r = 0; r < reps; ++r) {
      CK(cudaEventRecord(e0));
      launch();
      CK(cudaEventRecord(e1));
      CK(cudaEventSynchronize(e1));
      CK(cudaEventElapsedTime(&t[r], e0, e1));
    }
    std::sort(t.begin(), t.end());
    return 1000.0 * t[reps / 2];
  };
  auto check = [&](const char* what) {
    std::vector<unsigned short> a(n), b(n);
    CK(cudaMemcpy(a.data(), w, bytes, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(b.data(), u, bytes, cudaMemcpyDeviceToHost));
    const bool ok = std::memcmp(a.data(), hk.data(), bytes) == 0 &&
                    std::memcmp(b.data(), hv.data(), bytes) == 0;
    if (!ok) std::printf("# %s: w, u differ from k, v\n", what);
    CK(cudaMemset(w, 0, bytes));
    CK(cudaMemset(u, 0, bytes));
    return ok;
  };
  const double moved = 4.0 * bytes;  // k, v read; w, u written
  std::printf("# %s, %d SMs; B=%d T=%d H=%d D=%d bf16, chunk %d; %s\n", prop.name,
              prop.multiProcessorCount, B, T, H, kD, kBT, date);
  std::printf("%-22s %9s %10s %8s %s\n", "structure", "delay_ns", "median_us", "GB/s", "ok");
  auto row = [&](const char* s, int per_sm, unsigned d, double us, bool ok) {
    std::printf("%-14s %2d/SM   %9u %10.1f %8.0f %s\n", s, per_sm, d, us, moved / us * 1e-3,
                ok ? "yes" : "NO");
    std::printf("{\"structure\": \"%s\", \"blocks_per_sm\": %d, \"delay_ns\": %u, \"median_us\": "
                "%.2f, \"GBps\": %.1f, \"ok\": %s, \"device\": \"%s\", \"date\": \"%s\"}\n",
                s, per_sm, d, us, moved / us * 1e-3, ok ? "true" : "false", prop.name, date);
  };
  {
    const double us = timed([&] {
      CK(cudaMemcpyAsync(w, k, bytes, cudaMemcpyDeviceToDevice));
      CK(cudaMemcpyAsync(u, v, bytes, cudaMemcpyDeviceToDevice));
    });
    row("memcpy", 0, 0, us, check("memcpy"));
  }
  for (unsigned d : oneshot_delays) {
    const double us = timed([&] { oneshot<<<dim3(H, rows), 128, one_smem>>>(m, d); });
    row("oneshot", 5, d, us, check("oneshot"));
  }
  for (int per_sm : {2, 3}) {
    for (unsigned d : delays) {
      const int grid = per_sm * prop.multiProcessorCount;
      const double us =
          timed([&] { persistent<<<grid, 128, pers_smem>>>(m, H, nchunks, d); });
      row("persistent", per_sm, d, us, check("persistent"));
    }
  }
  CK(cudaGetLastError());
  return 0;
}
