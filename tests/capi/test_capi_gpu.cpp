// tests/capi/test_capi_gpu.cpp — the C API's GPU entry points on a device (skipped
// visibly without one): layouts, dtypes, statuses and the output contract, through
// triscan_gpu_invert_chunks / triscan_gpu_invert_batch exactly as a C caller uses them.
//
// Inputs have exactly known inverses that fp32 forward substitution computes without
// rounding (every intermediate is an integer or a power of two, |x| <= 2^15), so the
// bound of Higham, ASNA 2nd ed., Thm 8.5 has zero error and the outputs — also in bf16
// and fp16, where 0, +-1 and 2^k (k <= 15) are exact — must match bit for bit:
//   N = ones strictly below the diagonal: (I + N)^-1 = I - S;
//   N = -2 on the subdiagonal:            (I + N)^-1 has entries 2^(i-j), i >= j.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gpu/host_codec.hpp"
#include "triscan/gpu.hpp"
#include "triscan/triscan.h"

namespace {

using triscan::gpu::DeviceBytes;
using triscan::gpu::DType;

constexpr std::uint32_t poison = 0x7fa5a5a5u;  // a NaN pattern in fp32, and in each 16-bit half

#define REQUIRE_GPU()                                                          \
  do {                                                                         \
    if (triscan_gpu_available() != TRISCAN_SUCCESS)                            \
      GTEST_SKIP() << "no usable GPU for the C API: " << triscan_last_error(); \
  } while (0)

const DType dtypes[] = {DType::fp32, DType::bf16, DType::fp16};

std::string label(DType in, DType out) {
  return std::string(triscan::gpu::dtype_name(in)) + "->" +
         std::string(triscan::gpu::dtype_name(out));
}

// Decodes the 16-bit half or 32-bit word at element e, or reports whether it still holds poison.
bool is_poison(const std::vector<unsigned char>& bytes, DType t, std::size_t e) {
  if (t == DType::fp32) {
    std::uint32_t u;
    std::memcpy(&u, &bytes[4 * e], 4);
    return u == poison;
  }
  std::uint16_t h;
  std::memcpy(&h, &bytes[2 * e], 2);
  return h == static_cast<std::uint16_t>(poison & 0xffffu) ||
         h == static_cast<std::uint16_t>(poison >> 16);
}

TEST(CapiGpu, ChunkLayoutVarlenEveryDtypeExact) {
  REQUIRE_GPU();
  const std::vector<std::int64_t> cu = {0, 30, 100};
  for (const std::int64_t BT : {16, 32, 64, 128}) {
    const std::int64_t T = 100, H = 2;
    std::int64_t rows = 0;
    ASSERT_EQ(triscan_chunk_rows(1, T, BT, cu.data(), 3, &rows), TRISCAN_SUCCESS);
    // A: ones strictly below each chunk's diagonal, NaN where nothing may be read.
    std::vector<double> a(static_cast<std::size_t>(T * H * BT), NAN);
    for (std::size_t s = 0; s + 1 < cu.size(); ++s)
      for (std::int64_t t = cu[s]; t < cu[s + 1]; ++t)
        for (std::int64_t h = 0; h < H; ++h)
          for (std::int64_t j = 0; j < (t - cu[s]) % BT; ++j)
            a[static_cast<std::size_t>((t * H + h) * BT + j)] = 1.0;
    for (DType in : dtypes)
      for (DType out : dtypes) {
        const auto host_a = triscan::gpu::encode(a, in, nullptr);
        DeviceBytes dA(host_a.size()), dX(a.size() * triscan::gpu::dtype_bytes(out)),
            dS(static_cast<std::size_t>(rows * H) * 4), dF(16);
        dA.upload(host_a.data(), host_a.size());
        dX.fill32(poison);
        dF.fill32(0xffffffffu);
        ASSERT_EQ(triscan_gpu_invert_chunks(nullptr, 1, T, H, BT, cu.data(), 3,
                                            static_cast<int>(in), dA.data(), static_cast<int>(out),
                                            dX.data(), static_cast<std::int32_t*>(dS.data()),
                                            static_cast<std::int32_t*>(dF.data()), nullptr),
                  TRISCAN_SUCCESS)
            << triscan_last_error();
        std::vector<unsigned char> x(dX.size());
        dX.download(x.data(), x.size());
        std::vector<std::int32_t> st(static_cast<std::size_t>(rows * H));
        dS.download(st.data(), st.size() * 4);
        std::int32_t flag = -1;
        dF.download(&flag, 4);
        EXPECT_EQ(flag, TRISCAN_STATUS_OK) << label(in, out) << " BT " << BT;
        for (std::int32_t s : st) EXPECT_EQ(s, TRISCAN_STATUS_OK) << label(in, out) << " BT " << BT;
        for (std::size_t s = 0; s + 1 < cu.size(); ++s)
          for (std::int64_t t = cu[s]; t < cu[s + 1]; ++t) {
            const std::int64_t c0 = cu[s] + (t - cu[s]) / BT * BT, m = std::min(BT, cu[s + 1] - c0),
                               i = t - c0;
            for (std::int64_t h = 0; h < H; ++h)
              for (std::int64_t j = 0; j < BT; ++j) {
                const auto e = static_cast<std::size_t>((t * H + h) * BT + j);
                if (j >= m) {
                  EXPECT_TRUE(is_poison(x, out, e))
                      << label(in, out) << " BT " << BT << " padding written at t " << t << " h "
                      << h << " j " << j;
                  continue;
                }
                const double want = i == j ? 1.0 : (i == j + 1 ? -1.0 : 0.0);
                EXPECT_EQ(triscan::gpu::decode_at(x, out, e), want)
                    << label(in, out) << " BT " << BT << " t " << t << " h " << h << " j " << j;
              }
          }
      }
  }
}

TEST(CapiGpu, StridedBatchPowersOfTwoAndNanStatus) {
  REQUIRE_GPU();
  const std::int64_t count = 3, n = 16, rs = 24,
                     bs = n * rs;  // 96-byte rows in fp32, 48 in 16-bit types
  std::vector<double> a(static_cast<std::size_t>(count * bs), 0.0);
  for (std::int64_t b = 0; b < count; ++b)
    for (std::int64_t i = 1; i < n; ++i)
      a[static_cast<std::size_t>(b * bs + i * rs + i - 1)] = -2.0;
  a[static_cast<std::size_t>(1 * bs + 5 * rs + 2)] = NAN;  // matrix 1, strictly lower (5, 2)
  for (DType in : dtypes)
    for (DType out : dtypes) {
      const auto host_a = triscan::gpu::encode(a, in, nullptr);
      DeviceBytes dA(host_a.size()), dX(a.size() * triscan::gpu::dtype_bytes(out)), dS(16), dF(16);
      dA.upload(host_a.data(), host_a.size());
      dX.fill32(poison);
      ASSERT_EQ(triscan_gpu_invert_batch("trinv/forward_substitution", count, n, bs, rs,
                                         static_cast<int>(in), dA.data(), static_cast<int>(out),
                                         dX.data(), static_cast<std::int32_t*>(dS.data()),
                                         static_cast<std::int32_t*>(dF.data()), nullptr),
                TRISCAN_SUCCESS)
          << triscan_last_error();
      std::vector<unsigned char> x(dX.size());
      dX.download(x.data(), x.size());
      std::int32_t st[4] = {-1, -1, -1, -1}, flag = -1;
      dS.download(st, 16);
      dF.download(&flag, 4);
      EXPECT_EQ(st[0], TRISCAN_STATUS_OK) << label(in, out);
      EXPECT_EQ(st[1], TRISCAN_STATUS_NONFINITE_INPUT) << label(in, out);
      EXPECT_EQ(st[2], TRISCAN_STATUS_OK) << label(in, out);
      EXPECT_EQ(flag, TRISCAN_STATUS_NONFINITE_INPUT) << label(in, out);
      for (std::int64_t b : {0, 2})
        for (std::int64_t i = 0; i < n; ++i)
          for (std::int64_t j = 0; j < rs; ++j) {
            const auto e = static_cast<std::size_t>(b * bs + i * rs + j);
            if (j >= n) {
              EXPECT_TRUE(is_poison(x, out, e)) << label(in, out) << " row padding written";
              continue;
            }
            EXPECT_EQ(triscan::gpu::decode_at(x, out, e),
                      i >= j ? std::ldexp(1.0, static_cast<int>(i - j)) : 0.0)
                << label(in, out) << " matrix " << b << " (" << i << ", " << j << ")";
          }
    }
}

TEST(CapiGpu, ArgumentErrorsBeforeLaunch) {
  REQUIRE_GPU();
  DeviceBytes d(4096);
  auto* p = static_cast<unsigned char*>(d.data());
  EXPECT_EQ(triscan_gpu_invert_batch(nullptr, 1, 16, 256, 16, TRISCAN_FP32, p + 4, TRISCAN_FP32,
                                     p + 2048, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_UNSUPPORTED);
  EXPECT_NE(std::string(triscan_last_error()).find("aligned"), std::string::npos)
      << triscan_last_error();
  EXPECT_EQ(triscan_gpu_invert_batch(nullptr, 1, 16, 256, 10, TRISCAN_FP32, p, TRISCAN_FP32,
                                     p + 2048, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(triscan_last_error()).find("row_stride"), std::string::npos)
      << triscan_last_error();
  const std::int64_t bad_cu[] = {0, 10, 20};
  EXPECT_EQ(triscan_gpu_invert_chunks(nullptr, 1, 16, 1, 16, bad_cu, 3, TRISCAN_FP32, p,
                                      TRISCAN_FP32, p + 2048, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(triscan_last_error()).find("cu_seqlens"), std::string::npos)
      << triscan_last_error();
  triscan::gpu::synchronize();
}

}  // namespace
