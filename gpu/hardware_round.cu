// The GPU's conversion instructions as an oracle for the simulated formats.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "gpu/cuda_check.hpp"
#include "triscan/gpu.hpp"

namespace triscan::gpu {
namespace {

enum class Conversion : int {
  fp16_rn, fp16_rz, fp16_ru, fp16_rd,
  bf16_rn, bf16_rz, bf16_ru, bf16_rd,
  tf32_rna, e4m3_rn, e4m3_sat_rn, e5m2_rn,
};

__device__ float tf32_rna(float x) {
  unsigned int r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return __uint_as_float(r);
}

__device__ float fp8_to_float(__nv_fp8_storage_t v, __nv_fp8_interpretation_t kind) {
  return __half2float(__half(__nv_cvt_fp8_to_halfraw(v, kind)));
}

__global__ void convert_kernel(const float* in, double* out, long n, Conversion c) {
  for (long i = blockIdx.x * static_cast<long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long>(gridDim.x) * blockDim.x) {
    const float x = in[i];
    float y = 0.0f;
    switch (c) {
      case Conversion::fp16_rn: y = __half2float(__float2half_rn(x)); break;
      case Conversion::fp16_rz: y = __half2float(__float2half_rz(x)); break;
      case Conversion::fp16_ru: y = __half2float(__float2half_ru(x)); break;
      case Conversion::fp16_rd: y = __half2float(__float2half_rd(x)); break;
      case Conversion::bf16_rn: y = __bfloat162float(__float2bfloat16_rn(x)); break;
      case Conversion::bf16_rz: y = __bfloat162float(__float2bfloat16_rz(x)); break;
      case Conversion::bf16_ru: y = __bfloat162float(__float2bfloat16_ru(x)); break;
      case Conversion::bf16_rd: y = __bfloat162float(__float2bfloat16_rd(x)); break;
      case Conversion::tf32_rna: y = tf32_rna(x); break;
      case Conversion::e4m3_rn:
        y = fp8_to_float(__nv_cvt_float_to_fp8(x, __NV_NOSAT, __NV_E4M3), __NV_E4M3);
        break;
      case Conversion::e4m3_sat_rn:
        y = fp8_to_float(__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3), __NV_E4M3);
        break;
      case Conversion::e5m2_rn:
        y = fp8_to_float(__nv_cvt_float_to_fp8(x, __NV_NOSAT, __NV_E5M2), __NV_E5M2);
        break;
    }
    out[i] = static_cast<double>(y);
  }
}

Conversion conversion_for(const std::string& format, Rounding mode) {
  auto bad = [&]() -> Conversion {
    throw std::invalid_argument("hardware_round: no GPU conversion for format '" + format +
                                "' in mode '" + std::string(rounding_name(mode)) + "'");
  };
  const int m = mode == Rounding::nearest_even ? 0
                : mode == Rounding::toward_zero ? 1
                : mode == Rounding::up          ? 2
                : mode == Rounding::down        ? 3
                                                : -1;
  if (format == "fp16" && m >= 0) return static_cast<Conversion>(static_cast<int>(Conversion::fp16_rn) + m);
  if (format == "bf16" && m >= 0) return static_cast<Conversion>(static_cast<int>(Conversion::bf16_rn) + m);
  if (format == "tf32" && mode == Rounding::nearest_away) return Conversion::tf32_rna;
  if (format == "e4m3" && m == 0) return Conversion::e4m3_rn;
  if (format == "e4m3-sat" && m == 0) return Conversion::e4m3_sat_rn;
  if (format == "e5m2" && m == 0) return Conversion::e5m2_rn;
  return bad();
}

}  // namespace

std::vector<double> hardware_round(const std::vector<float>& x, const std::string& format,
                                   Rounding mode) {
  const Conversion c = conversion_for(format, mode);
  const DeviceInfo info = device_info();
  if (!info.usable) throw std::runtime_error("hardware_round: no usable GPU: " + info.reason);
  std::vector<double> out(x.size());
  if (x.empty()) return out;
  DeviceBuffer<float> d_in(x.size());
  DeviceBuffer<double> d_out(x.size());
  check_cuda(cudaMemcpy(d_in.get(), x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice), "copy in");
  const long n = static_cast<long>(x.size());
  convert_kernel<<<1024, 256>>>(d_in.get(), d_out.get(), n, c);
  check_cuda(cudaGetLastError(), "convert_kernel launch");
  check_cuda(cudaMemcpy(out.data(), d_out.get(), out.size() * sizeof(double), cudaMemcpyDeviceToHost), "copy out");
  return out;
}

}  // namespace triscan::gpu
