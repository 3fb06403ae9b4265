// triscan/gpu.hpp — the GPU side of triscan. Always present: in a build without
// CUDA every function reports "not compiled" (compiled() == false), so the
// interface never changes shape. Takes plain device pointers and a stream handle
// (a cudaStream_t passed as void*).
#pragma once

#include <string>
#include <vector>

#include "triscan/format.hpp"

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

// Rounds each fp32 value x[i] to `format` with the GPU's own conversion instructions
// and returns the results as doubles: the hardware oracle that the simulated formats
// (triscan::round) are tested against. Supported: fp16 and bf16 in rn, rz, ru, rd
// (__float2half_r*, __float2bfloat16_r*); tf32 in rna (cvt.rna.tf32.f32); e4m3 and
// e5m2 in rn (__nv_cvt_float_to_fp8, non-saturating), e4m3-sat in rn (saturating).
// Throws std::invalid_argument for another (format, mode) and std::runtime_error when
// no usable device is present or gpu/ was not compiled.
std::vector<double> hardware_round(const std::vector<float>& x, const std::string& format,
                                   Rounding mode);

}  // namespace triscan::gpu
