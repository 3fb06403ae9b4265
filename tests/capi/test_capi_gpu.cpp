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

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
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

// The GPU-only keys of trinv/recursive_merge (mma, check, refine, tau) pass through the C
// API: triscan_gpu_invert_chunks equals gpu::invert_chunks with the same method spec bit for
// bit (outputs, per-matrix statuses and the flag), on random chunk matrices with varlen
// sequences; a bad key is refused before anything runs.
TEST(CapiGpu, MatrixUnitKeysEqualTheCppCallBitForBit) {
  REQUIRE_GPU();
  const std::vector<std::int64_t> cu = {0, 150, 300};
  const std::int64_t T = 300, H = 2, BT = 64;
  std::int64_t rows = 0;
  ASSERT_EQ(triscan_chunk_rows(1, T, BT, cu.data(), 3, &rows), TRISCAN_SUCCESS);
  std::vector<float> a(static_cast<std::size_t>(T * H * BT));
  std::uint64_t state = 12345;
  for (float& v : a) {  // entries in [-1/32, 1/32) (an LCG; the upper parts too: never read)
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<float>((static_cast<double>(state >> 11) * 0x1p-53 - 0.5) / 16.0);
  }
  DeviceBytes dA(a.size() * 4), dX1(a.size() * 4), dX2(a.size() * 4), dS1(static_cast<std::size_t>(rows * H) * 4),
      dS2(static_cast<std::size_t>(rows * H) * 4), dF1(16), dF2(16);
  dA.upload(a.data(), a.size() * 4);
  triscan::ChunkLayout layout{1, T, H, BT, cu};
  const triscan::gpu::ChunkPlan plan(layout);
  for (const char* method : {"trinv/recursive_merge:mma=bf16,check=0", "trinv/recursive_merge:mma=tf32",
                             "trinv/recursive_merge:mma=fp16,refine=1", "trinv/recursive_merge:mma=bf16,tau=1e-9"}) {
    dX1.fill32(poison);
    dX2.fill32(poison);
    ASSERT_EQ(triscan_gpu_invert_chunks(method, 1, T, H, BT, cu.data(), 3, TRISCAN_FP32, dA.data(), TRISCAN_FP32,
                                        dX1.data(), static_cast<std::int32_t*>(dS1.data()),
                                        static_cast<std::int32_t*>(dF1.data()), nullptr),
              TRISCAN_SUCCESS)
        << method << ": " << triscan_last_error();
    triscan::gpu::invert_chunks(triscan::MethodSpec::parse(method), plan, DType::fp32, dA.data(), DType::fp32,
                                dX2.data(), static_cast<std::int32_t*>(dS2.data()),
                                static_cast<std::int32_t*>(dF2.data()));
    std::vector<unsigned char> x1(dX1.size()), x2(dX2.size()), s1(dS1.size()), s2(dS2.size());
    dX1.download(x1.data(), x1.size());
    dX2.download(x2.data(), x2.size());
    dS1.download(s1.data(), s1.size());
    dS2.download(s2.data(), s2.size());
    std::int32_t f1 = -1, f2 = -2;
    dF1.download(&f1, 4);
    dF2.download(&f2, 4);
    EXPECT_TRUE(x1 == x2) << method << ": outputs differ";
    EXPECT_TRUE(s1 == s2) << method << ": statuses differ";
    EXPECT_EQ(f1, f2) << method;
    if (std::string(method).find("tau=1e-9") != std::string::npos)  // a threshold no bf16 result meets
      EXPECT_EQ(f1, TRISCAN_STATUS_INACCURATE) << method;
    else
      EXPECT_EQ(f1, TRISCAN_STATUS_OK) << method;
  }
  EXPECT_EQ(triscan_gpu_invert_chunks("trinv/recursive_merge:mma=fp8", 1, T, H, BT, cu.data(), 3, TRISCAN_FP32,
                                      dA.data(), TRISCAN_FP32, dX1.data(), nullptr, nullptr, nullptr),
            TRISCAN_ERROR_INVALID_METHOD);
  EXPECT_NE(std::string(triscan_last_error()).find("mma"), std::string::npos) << triscan_last_error();
}

// triscan_gpu_chunk_wy is gpu::chunk_wy: the same bits on the same inputs (gated, cu_seqlens,
// grouped heads, log2 gates), and its own argument errors before any launch.
TEST(CapiGpu, ChunkWyEqualsTheCppCallBitForBit) {
  REQUIRE_GPU();
  const std::int64_t T = 150, H = 4, Hk = 2, D = 64, BT = 32;
  const std::vector<std::int64_t> cu = {0, 40, 150};
  std::vector<double> k(T * Hk * D), v(T * H * D), beta(T * H);
  std::vector<float> g(T * H);
  for (std::size_t e = 0; e < k.size(); ++e) k[e] = 0.1 * std::sin(0.7 * static_cast<double>(e));
  for (std::size_t e = 0; e < v.size(); ++e) v[e] = std::cos(0.3 * static_cast<double>(e));
  for (std::size_t e = 0; e < beta.size(); ++e) beta[e] = 0.5 + 0.4 * std::sin(static_cast<double>(e));
  for (std::size_t e = 0; e < g.size(); ++e) g[e] = -0.2f * static_cast<float>(e % 7) / 7.0f;
  const auto kb = triscan::gpu::encode(k, DType::bf16, nullptr), vb = triscan::gpu::encode(v, DType::bf16, nullptr),
             bb = triscan::gpu::encode(beta, DType::bf16, nullptr);
  DeviceBytes dk(kb.size()), dv(vb.size()), db(bb.size()), dg(4 * g.size());
  dk.upload(kb.data(), kb.size());
  dv.upload(vb.data(), vb.size());
  db.upload(bb.data(), bb.size());
  dg.upload(g.data(), 4 * g.size());
  const std::size_t wbytes = static_cast<std::size_t>(T * H * D) * 2, ibytes = static_cast<std::size_t>(T * H * BT) * 2;
  DeviceBytes w1(wbytes), u1(wbytes), x1(ibytes), w2(wbytes), u2(wbytes), x2(ibytes), st(4 * 64), fl(4);
  for (DeviceBytes* o : {&w1, &u1, &x1, &w2, &u2, &x2}) o->fill32(0x7fc17fc1u);
  ASSERT_EQ(triscan_gpu_chunk_wy(TRISCAN_WY_GATED, 1, T, H, Hk, D, D, BT, cu.data(), 3, TRISCAN_BF16, dk.data(),
                                 dv.data(), db.data(), static_cast<const float*>(dg.data()), TRISCAN_BF16, w1.data(),
                                 u1.data(), x1.data(), TRISCAN_G_LOG2, static_cast<std::int32_t*>(st.data()),
                                 static_cast<std::int32_t*>(fl.data()), nullptr),
            TRISCAN_SUCCESS)
      << triscan_last_error();
  triscan::ChunkLayout L;
  L.batch = 1;
  L.length = T;
  L.heads = H;
  L.chunk = BT;
  L.cu_seqlens = cu;
  const triscan::gpu::ChunkPlan plan(L);
  triscan::gpu::WyGpuInputs gi;
  gi.k = dk.data();
  gi.v = dv.data();
  gi.beta = db.data();
  gi.g = static_cast<const float*>(dg.data());
  gi.dk = gi.dv = D;
  gi.key_heads = Hk;
  triscan::gpu::WyGpuOutputs go;
  go.w = w2.data();
  go.u = u2.data();
  go.inverse = x2.data();
  triscan::gpu::WyGpuOptions opt;
  opt.log2_g = true;
  triscan::gpu::chunk_wy(triscan::WyFamily::gated, plan, gi, go, opt);
  triscan::gpu::synchronize();
  std::int32_t flag = -1;
  fl.download(&flag, 4);
  EXPECT_EQ(flag, 0);
  for (auto [a, b] : {std::pair<DeviceBytes*, DeviceBytes*>{&w1, &w2}, {&u1, &u2}, {&x1, &x2}}) {
    std::vector<unsigned char> ha(a->size()), hb(b->size());
    a->download(ha.data(), ha.size());
    b->download(hb.data(), hb.size());
    EXPECT_EQ(ha, hb);
    std::size_t poisoned = 0;
    for (std::size_t e = 0; e + 1 < ha.size(); e += 2) poisoned += ha[e] == 0xc1 && ha[e + 1] == 0x7f;
    EXPECT_LT(poisoned, ha.size() / 4) << "outputs mostly unwritten";
  }

  // kda: per-channel g [T, H, D], cumulative flag; the same bits as the C++ call.
  std::vector<float> gk(static_cast<std::size_t>(T * H * D));
  for (std::size_t e = 0; e < gk.size(); ++e) gk[e] = -0.3f * static_cast<float>(e % 11) / 11.0f;
  DeviceBytes dgk(4 * gk.size());
  dgk.upload(gk.data(), 4 * gk.size());
  for (DeviceBytes* o : {&w1, &u1, &x1, &w2, &u2, &x2}) o->fill32(0x7fc17fc1u);
  ASSERT_EQ(triscan_gpu_chunk_wy(TRISCAN_WY_KDA, 1, T, H, Hk, D, D, BT, cu.data(), 3, TRISCAN_BF16, dk.data(),
                                 dv.data(), db.data(), static_cast<const float*>(dgk.data()), TRISCAN_BF16,
                                 w1.data(), u1.data(), x1.data(), 0u, static_cast<std::int32_t*>(st.data()),
                                 static_cast<std::int32_t*>(fl.data()), nullptr),
            TRISCAN_SUCCESS)
      << triscan_last_error();
  gi.g = static_cast<const float*>(dgk.data());
  triscan::gpu::chunk_wy(triscan::WyFamily::kda, plan, gi, go);
  triscan::gpu::synchronize();
  fl.download(&flag, 4);
  EXPECT_EQ(flag, 0);
  for (auto [a, b] : {std::pair<DeviceBytes*, DeviceBytes*>{&w1, &w2}, {&u1, &u2}, {&x1, &x2}}) {
    std::vector<unsigned char> ha(a->size()), hb(b->size());
    a->download(ha.data(), ha.size());
    b->download(hb.data(), hb.size());
    EXPECT_EQ(ha, hb) << "kda";
  }

  // Chunk 64 with TRISCAN_ROUNDED_REENTRY (the blocked solve, W and U only): the C++ call with
  // WyGpuOptions::rounded_reentry, bit for bit.
  L.chunk = 64;
  const triscan::gpu::ChunkPlan plan64(L);
  for (DeviceBytes* o : {&w1, &u1, &w2, &u2}) o->fill32(0x7fc17fc1u);
  ASSERT_EQ(triscan_gpu_chunk_wy(TRISCAN_WY_GATED, 1, T, H, Hk, D, D, 64, cu.data(), 3, TRISCAN_BF16, dk.data(),
                                 dv.data(), db.data(), static_cast<const float*>(dg.data()), TRISCAN_BF16, w1.data(),
                                 u1.data(), nullptr, TRISCAN_G_LOG2 | TRISCAN_ROUNDED_REENTRY, nullptr,
                                 static_cast<std::int32_t*>(fl.data()), nullptr),
            TRISCAN_SUCCESS)
      << triscan_last_error();
  gi.g = static_cast<const float*>(dg.data());
  go.inverse = nullptr;
  opt.rounded_reentry = true;
  triscan::gpu::chunk_wy(triscan::WyFamily::gated, plan64, gi, go, opt);
  triscan::gpu::synchronize();
  fl.download(&flag, 4);
  EXPECT_EQ(flag, 0);
  for (auto [a, b] : {std::pair<DeviceBytes*, DeviceBytes*>{&w1, &w2}, {&u1, &u2}}) {
    std::vector<unsigned char> ha(a->size()), hb(b->size());
    a->download(ha.data(), ha.size());
    b->download(hb.data(), hb.size());
    EXPECT_EQ(ha, hb) << "rounded re-entry";
  }

  auto* p = static_cast<unsigned char*>(dk.data());
  EXPECT_EQ(triscan_gpu_chunk_wy(TRISCAN_WY_DPLR, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_BF16, p, p, p,
                                 nullptr, TRISCAN_BF16, p, p, nullptr, 0, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_UNSUPPORTED);
  EXPECT_NE(std::string(triscan_last_error()).find("dplr"), std::string::npos) << triscan_last_error();
  EXPECT_EQ(triscan_gpu_chunk_wy(TRISCAN_WY_KDA, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_BF16, p, p, p,
                                 nullptr, TRISCAN_BF16, w1.data(), u1.data(), nullptr, 0, nullptr, nullptr,
                                 nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(triscan_last_error()).find("g is NULL (family kda)"), std::string::npos)
      << triscan_last_error();
  EXPECT_EQ(triscan_gpu_chunk_wy(TRISCAN_WY_DELTANET, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_BF16, p, p, p,
                                 nullptr, TRISCAN_BF16, w1.data(), u1.data(), nullptr, 128u, nullptr, nullptr,
                                 nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(triscan_last_error()).find("TRISCAN_ROUNDED_REENTRY apply"), std::string::npos)
      << triscan_last_error();
  EXPECT_EQ(triscan_gpu_chunk_wy(TRISCAN_WY_DELTANET, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_FP32, p, p, p,
                                 nullptr, TRISCAN_BF16, p, p, nullptr, 0, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_INVALID_DTYPE);
  EXPECT_EQ(triscan_gpu_chunk_wy(TRISCAN_WY_DELTANET, 1, T, H, Hk, 96, 96, BT, nullptr, 0, TRISCAN_BF16, p, p, p,
                                 nullptr, TRISCAN_BF16, p, p, nullptr, 0, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_UNSUPPORTED);
  EXPECT_EQ(triscan_gpu_chunk_wy(TRISCAN_WY_GATED, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_BF16, p, p, p,
                                 nullptr, TRISCAN_BF16, w1.data(), u1.data(), nullptr, 0, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(triscan_last_error()).find("g is NULL"), std::string::npos) << triscan_last_error();
  EXPECT_EQ(triscan_gpu_chunk_wy(TRISCAN_WY_DELTANET, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_BF16, p, p, p,
                                 nullptr, TRISCAN_BF16, w1.data(), u1.data(), nullptr, 1024u, nullptr, nullptr,
                                 nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  triscan::gpu::synchronize();
}

// triscan_gpu_delta_forward is gpu::delta_forward: the same bits on the same inputs (gated,
// cu_seqlens, grouped heads, transposed initial/final states, a scale), and its own argument
// errors before any launch.
TEST(CapiGpu, DeltaForwardEqualsTheCppCallBitForBit) {
  REQUIRE_GPU();
  const std::int64_t T = 150, H = 4, Hk = 2, D = 64, BT = 32;
  const std::vector<std::int64_t> cu = {0, 40, 150};
  std::vector<double> q(T * Hk * D), k(T * Hk * D), v(T * H * D), beta(T * H);
  std::vector<float> g(T * H), h0(2 * H * D * D);
  for (std::size_t e = 0; e < k.size(); ++e) {
    k[e] = 0.1 * std::sin(0.7 * static_cast<double>(e));
    q[e] = 0.1 * std::cos(0.9 * static_cast<double>(e));
  }
  for (std::size_t e = 0; e < v.size(); ++e) v[e] = std::cos(0.3 * static_cast<double>(e));
  for (std::size_t e = 0; e < beta.size(); ++e) beta[e] = 0.5 + 0.4 * std::sin(static_cast<double>(e));
  for (std::size_t e = 0; e < g.size(); ++e) g[e] = -0.2f * static_cast<float>(e % 7) / 7.0f;
  for (std::size_t e = 0; e < h0.size(); ++e) h0[e] = 0.01f * static_cast<float>(e % 11) - 0.05f;
  const auto qb = triscan::gpu::encode(q, DType::bf16, nullptr), kb = triscan::gpu::encode(k, DType::bf16, nullptr),
             vb = triscan::gpu::encode(v, DType::bf16, nullptr), bb = triscan::gpu::encode(beta, DType::bf16, nullptr);
  DeviceBytes dq(qb.size()), dk(kb.size()), dv(vb.size()), db(bb.size()), dg(4 * g.size()), dh(4 * h0.size());
  dq.upload(qb.data(), qb.size());
  dk.upload(kb.data(), kb.size());
  dv.upload(vb.data(), vb.size());
  db.upload(bb.data(), bb.size());
  dg.upload(g.data(), 4 * g.size());
  dh.upload(h0.data(), 4 * h0.size());
  const std::size_t obytes = static_cast<std::size_t>(T * H * D) * 4;
  DeviceBytes o1(obytes), o2(obytes), s1(4 * h0.size()), s2(4 * h0.size()), st(4 * 64), fl(4);
  for (DeviceBytes* o : {&o1, &o2, &s1, &s2}) o->fill32(0x7fc0deadu);
  const float scale = 0.125f;
  ASSERT_EQ(triscan_gpu_delta_forward(TRISCAN_WY_GATED, 1, T, H, Hk, D, D, BT, cu.data(), 3, TRISCAN_BF16, dq.data(),
                                      dk.data(), dv.data(), db.data(), static_cast<const float*>(dg.data()),
                                      static_cast<const float*>(dh.data()), scale, 1, TRISCAN_FP32, o1.data(),
                                      static_cast<float*>(s1.data()), TRISCAN_STATE_TRANSPOSED,
                                      static_cast<std::int32_t*>(st.data()), static_cast<std::int32_t*>(fl.data()),
                                      nullptr),
            TRISCAN_SUCCESS)
      << triscan_last_error();
  triscan::ChunkLayout L;
  L.batch = 1;
  L.length = T;
  L.heads = H;
  L.chunk = BT;
  L.cu_seqlens = cu;
  const triscan::gpu::ChunkPlan plan(L);
  triscan::gpu::DeltaGpuInputs gi;
  gi.q = dq.data();
  gi.k = dk.data();
  gi.v = dv.data();
  gi.beta = db.data();
  gi.g = static_cast<const float*>(dg.data());
  gi.initial_state = static_cast<const float*>(dh.data());
  gi.dk = gi.dv = D;
  gi.key_heads = Hk;
  triscan::gpu::DeltaGpuOutputs go;
  go.dtype = DType::fp32;
  go.o = o2.data();
  go.final_state = static_cast<float*>(s2.data());
  triscan::gpu::DeltaGpuOptions opt;
  opt.state_transposed = true;
  opt.scale = scale;
  triscan::gpu::delta_forward(triscan::WyFamily::gated, plan, gi, go, opt);
  triscan::gpu::synchronize();
  std::int32_t flag = -1;
  fl.download(&flag, 4);
  EXPECT_EQ(flag, 0);
  for (auto [a, b] : {std::pair<DeviceBytes*, DeviceBytes*>{&o1, &o2}, {&s1, &s2}}) {
    std::vector<std::uint32_t> ha(a->size() / 4), hb(b->size() / 4);
    a->download(ha.data(), a->size());
    b->download(hb.data(), b->size());
    EXPECT_EQ(ha, hb);
    EXPECT_EQ(std::count(ha.begin(), ha.end(), 0x7fc0deadu), 0) << "outputs left unwritten";
  }

  auto* p = static_cast<unsigned char*>(dk.data());
  EXPECT_EQ(triscan_gpu_delta_forward(TRISCAN_WY_KDA, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_BF16, p, p, p, p,
                                      nullptr, nullptr, 1.0f, 1, TRISCAN_BF16, o1.data(), nullptr, 0, nullptr, nullptr,
                                      nullptr),
            TRISCAN_ERROR_UNSUPPORTED);
  EXPECT_NE(std::string(triscan_last_error()).find("kda"), std::string::npos) << triscan_last_error();
  EXPECT_EQ(triscan_gpu_delta_forward(TRISCAN_WY_DELTANET, 1, T, H, Hk, D, D, 128, nullptr, 0, TRISCAN_BF16, p, p, p,
                                      p, nullptr, nullptr, 1.0f, 1, TRISCAN_BF16, o1.data(), nullptr, 0, nullptr,
                                      nullptr, nullptr),
            TRISCAN_ERROR_UNSUPPORTED);
  EXPECT_EQ(triscan_gpu_delta_forward(TRISCAN_WY_GATED, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_BF16, p, p, p, p,
                                      nullptr, nullptr, 1.0f, 1, TRISCAN_BF16, o1.data(), nullptr, 0, nullptr, nullptr,
                                      nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(triscan_last_error()).find("g is NULL"), std::string::npos) << triscan_last_error();
  EXPECT_EQ(triscan_gpu_delta_forward(TRISCAN_WY_DELTANET, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_BF16, p, p, p,
                                      p, nullptr, nullptr, std::nanf(""), 1, TRISCAN_BF16, o1.data(), nullptr, 0,
                                      nullptr, nullptr, nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(triscan_gpu_delta_forward(TRISCAN_WY_DELTANET, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_BF16, p, p, p,
                                      p, nullptr, nullptr, 1.0f, 1, TRISCAN_BF16, o1.data(), nullptr, 1024u, nullptr,
                                      nullptr, nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(triscan_gpu_delta_forward(TRISCAN_WY_DELTANET, 1, T, H, Hk, D, D, BT, nullptr, 0, TRISCAN_BF16, p, p, p,
                                      p, nullptr, nullptr, 1.0f, 0, TRISCAN_BF16, o1.data(), nullptr, 0, nullptr,
                                      nullptr, nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(triscan_last_error()).find("segments = 0"), std::string::npos) << triscan_last_error();
  triscan::gpu::synchronize();
}

// triscan_gpu_scan is gpu::scan_diagonal: the same bits (diagonal, cu_seqlens, h0, bf16
// inputs); a = 1 gives running sums, exact for small integers; argument errors by code.
TEST(CapiGpu, ScanEqualsTheCppCallAndRunningSumsAreExact) {
  REQUIRE_GPU();
  const std::int64_t T = 700, D = 37;
  const std::vector<std::int64_t> cu = {0, 1, 300, 700};
  std::vector<double> a(T * D), b(T * D);
  for (std::size_t e = 0; e < a.size(); ++e) {
    a[e] = 0.9 + 0.1 * std::sin(0.37 * static_cast<double>(e));
    b[e] = std::cos(0.11 * static_cast<double>(e));
  }
  std::vector<float> h0(3 * D);
  for (std::size_t e = 0; e < h0.size(); ++e) h0[e] = static_cast<float>(e % 5) - 2.0f;
  const auto ab = triscan::gpu::encode(a, DType::bf16, nullptr), bb = triscan::gpu::encode(b, DType::bf16, nullptr);
  DeviceBytes da(ab.size()), db(bb.size()), dh0(4 * h0.size()), h1(4 * a.size()), h2(4 * a.size()),
      f1(4 * h0.size()), f2(4 * h0.size());
  da.upload(ab.data(), ab.size());
  db.upload(bb.data(), bb.size());
  dh0.upload(h0.data(), 4 * h0.size());
  ASSERT_EQ(triscan_gpu_scan("scan/chunked:chunk=64", TRISCAN_SCAN_DIAGONAL, 1, T, cu.data(), 4, D, TRISCAN_BF16,
                             da.data(), db.data(), static_cast<const float*>(dh0.data()), TRISCAN_FP32, h1.data(),
                             static_cast<float*>(f1.data()), nullptr, nullptr, nullptr),
            TRISCAN_SUCCESS)
      << triscan_last_error();
  triscan::gpu::ScanLayout L;
  L.batch = 1;
  L.length = T;
  L.dim = D;
  L.cu_seqlens = cu;
  const triscan::gpu::ScanPlan plan(triscan::MethodSpec::parse("scan/chunked:chunk=64"), L);
  triscan::gpu::scan_diagonal(plan, triscan::ScanKind::diagonal, DType::bf16, da.data(), db.data(),
                              static_cast<const float*>(dh0.data()), DType::fp32, h2.data(),
                              static_cast<float*>(f2.data()));
  triscan::gpu::synchronize();
  for (auto [x, y] : {std::pair<DeviceBytes*, DeviceBytes*>{&h1, &h2}, {&f1, &f2}}) {
    std::vector<unsigned char> hx(x->size()), hy(y->size());
    x->download(hx.data(), hx.size());
    y->download(hy.data(), hy.size());
    EXPECT_EQ(hx, hy);
  }

  // a = 1, integer b, scalar kind, B = 2 sequences of T / 2: running sums, exact in fp32.
  std::vector<float> ones(T, 1.0f), ints(T * D);
  for (std::size_t e = 0; e < ints.size(); ++e) ints[e] = static_cast<float>(static_cast<int>(e % 11) - 5);
  DeviceBytes d1(4 * ones.size()), di(4 * ints.size()), dh(4 * ints.size());
  d1.upload(ones.data(), 4 * ones.size());
  di.upload(ints.data(), 4 * ints.size());
  ASSERT_EQ(triscan_gpu_scan(nullptr, TRISCAN_SCAN_SCALAR, 2, T / 2, nullptr, 0, D, TRISCAN_FP32, d1.data(),
                             di.data(), nullptr, TRISCAN_FP32, dh.data(), nullptr, nullptr, nullptr, nullptr),
            TRISCAN_SUCCESS)
      << triscan_last_error();
  std::vector<float> got(ints.size());
  dh.download(got.data(), 4 * got.size());
  for (std::int64_t s = 0; s < 2; ++s)
    for (std::int64_t c = 0; c < D; ++c) {
      double run = 0;
      for (std::int64_t t = 0; t < T / 2; ++t) {
        const std::size_t e = static_cast<std::size_t>((s * (T / 2) + t) * D + c);
        run += ints[e];
        ASSERT_EQ(got[e], run) << "sequence " << s << " token " << t << " channel " << c;
      }
    }

  auto* p = static_cast<unsigned char*>(da.data());
  EXPECT_EQ(triscan_gpu_scan(nullptr, TRISCAN_SCAN_DENSE, 1, T, nullptr, 0, D, TRISCAN_FP32, p, p, nullptr,
                             TRISCAN_FP32, h1.data(), nullptr, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_UNSUPPORTED);
  EXPECT_EQ(triscan_gpu_scan("scan/blelloch", TRISCAN_SCAN_DIAGONAL, 1, T, nullptr, 0, D, TRISCAN_FP32, p, p,
                             nullptr, TRISCAN_FP32, h1.data(), nullptr, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_INVALID_METHOD);
  EXPECT_NE(std::string(triscan_last_error()).find("scan/blelloch"), std::string::npos) << triscan_last_error();
  EXPECT_EQ(triscan_gpu_scan("scan/chunked:chunk=100", TRISCAN_SCAN_DIAGONAL, 1, T, nullptr, 0, D, TRISCAN_FP32,
                             p, p, nullptr, TRISCAN_FP32, h1.data(), nullptr, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_INVALID_METHOD);
  EXPECT_EQ(triscan_gpu_scan(nullptr, TRISCAN_SCAN_DIAGONAL, 1, T, nullptr, 0, D, TRISCAN_FP32, nullptr, p,
                             nullptr, TRISCAN_FP32, h1.data(), nullptr, nullptr, nullptr, nullptr),
            TRISCAN_ERROR_INVALID_ARGUMENT);
  triscan::gpu::synchronize();
}

}  // namespace
