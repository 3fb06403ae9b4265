// gpu/host_codec.hpp — host-side encoding and decoding of the GPU interface's element
// types (fp32, bf16, fp16), for tests and benchmarks that prepare inputs and read back
// outputs (internal, plain C++, no CUDA).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "triscan/gpu.hpp"

namespace triscan::gpu {

inline std::size_t dtype_bytes(DType t) { return t == DType::fp32 ? 4 : 2; }

inline std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// bf16 = the top half of an fp32; round to nearest even (NaN kept quiet).
inline std::uint16_t encode_bf16(float f) {
  const std::uint32_t u = float_bits(f);
  if (std::isnan(f)) return static_cast<std::uint16_t>((u >> 16) | 0x40);
  return static_cast<std::uint16_t>((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}
inline double decode_bf16(std::uint16_t h) { return bits_float(static_cast<std::uint32_t>(h) << 16); }

// IEEE binary16: exact decoding, and encoding of a double by round to nearest even.
inline double decode_fp16(std::uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double v;
  if (exponent == 0x1f) v = mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else if (exponent == 0) v = std::ldexp(mantissa, -24);
  else v = std::ldexp(1024 + mantissa, exponent - 25);
  return sign ? -v : v;
}
inline std::uint16_t encode_fp16(double x) {
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (std::isnan(x)) return 0x7e00;
  const double a = std::fabs(x);
  if (a >= 65520.0) return sign | 0x7c00;  // 65520 = 65504 + half an ulp: rounds to inf
  int e;
  std::frexp(a, &e);                       // a = f * 2^e, f in [0.5, 1)
  const int q = std::max(e - 11, -24);     // quantum 2^q: 11 significant bits, or subnormal spacing
  const double scaled = std::nearbyint(std::ldexp(a, -q));  // ties to even (default rounding mode)
  const double r = std::ldexp(scaled, q);
  if (r == 0.0) return sign;
  if (r < std::ldexp(1.0, -14)) return sign | static_cast<std::uint16_t>(scaled);  // subnormal
  int re;
  const double rf = std::frexp(r, &re);
  const auto mant = static_cast<std::uint16_t>(std::ldexp(rf, 11) - 1024);
  return sign | static_cast<std::uint16_t>((re + 14) << 10) | mant;
}

// Host values -> the bytes of `t` (rounded to nearest), and the values those bytes
// hold (what the kernel sees), so references start from the same rounded input.
inline std::vector<unsigned char> encode(const std::vector<double>& x, DType t, std::vector<double>* seen) {
  std::vector<unsigned char> bytes(x.size() * dtype_bytes(t));
  if (seen) seen->resize(x.size());
  for (std::size_t e = 0; e < x.size(); ++e) {
    double v;
    if (t == DType::fp32) {
      const float f = static_cast<float>(x[e]);
      std::memcpy(&bytes[4 * e], &f, 4);
      v = f;
    } else {
      const std::uint16_t h = t == DType::bf16 ? encode_bf16(static_cast<float>(x[e])) : encode_fp16(x[e]);
      std::memcpy(&bytes[2 * e], &h, 2);
      v = t == DType::bf16 ? decode_bf16(h) : decode_fp16(h);
    }
    if (seen) (*seen)[e] = v;
  }
  return bytes;
}

inline double decode_at(const std::vector<unsigned char>& bytes, DType t, std::size_t e) {
  if (t == DType::fp32) {
    float f;
    std::memcpy(&f, &bytes[4 * e], 4);
    return f;
  }
  std::uint16_t h;
  std::memcpy(&h, &bytes[2 * e], 2);
  return t == DType::bf16 ? decode_bf16(h) : decode_fp16(h);
}

}  // namespace triscan::gpu
