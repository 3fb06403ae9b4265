// bench/gpu_timing.hpp — CUDA-event timing shared by the GPU benchmarks (internal).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "gpu/cuda_check.hpp"

namespace triscan::bench {

struct Timing {
  double median_us = 0, min_us = 0;
};

// Calls launch(i) for i = 0 .. warmup - 1, synchronizes, then times `runs` calls
// launch(i), i = 0 .. runs - 1, each between its own pair of CUDA events on the default
// stream: the median and the minimum in microseconds. The index lets a caller rotate
// over buffer sets (so that inputs come from HBM, not the L2).
template <class Launch>
Timing time_launches(int warmup, int runs, Launch&& launch) {
  using triscan::gpu::check_cuda;
  for (int w = 0; w < warmup; ++w) launch(w);
  check_cuda(cudaDeviceSynchronize(), "warm-up");
  std::vector<cudaEvent_t> ev(2 * static_cast<std::size_t>(runs));
  for (auto& e : ev) check_cuda(cudaEventCreate(&e), "cudaEventCreate");
  for (int r = 0; r < runs; ++r) {
    check_cuda(cudaEventRecord(ev[2 * r]), "cudaEventRecord");
    launch(r);
    check_cuda(cudaEventRecord(ev[2 * r + 1]), "cudaEventRecord");
  }
  check_cuda(cudaDeviceSynchronize(), "timed runs");
  std::vector<double> us(static_cast<std::size_t>(runs));
  for (int r = 0; r < runs; ++r) {
    float ms = 0;
    check_cuda(cudaEventElapsedTime(&ms, ev[2 * r], ev[2 * r + 1]), "cudaEventElapsedTime");
    us[static_cast<std::size_t>(r)] = 1000.0 * ms;
  }
  for (auto& e : ev) cudaEventDestroy(e);
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us.front()};
}

}  // namespace triscan::bench
