// triscan/gpu.hpp — the GPU side of triscan. Always present: in a build without
// CUDA every function reports "not compiled" (compiled() == false), so the
// interface never changes shape. Takes plain device pointers and a stream handle
// (a cudaStream_t passed as void*).
#pragma once

#include <string>

namespace triscan::gpu {

// True when gpu/ was built with CUDA.
bool compiled();

struct DeviceInfo {
  bool usable = false;    // a device answered and can run triscan's kernels
  int count = 0;          // devices visible
  std::string name;       // device 0
  int major = 0, minor = 0;
  double memory_gib = 0.0;
  std::string reason;     // why not usable: "not compiled", the CUDA runtime's error text, ...
};

// Queries device 0. Any CUDA runtime error (no device, no driver, "insufficient
// driver") yields usable == false with the error text in `reason`; never throws.
DeviceInfo device_info();

}  // namespace triscan::gpu
