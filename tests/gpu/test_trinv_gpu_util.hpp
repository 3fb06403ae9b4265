// Shared by the GPU inversion tests: host encodings of the storage types, running the
// kernels on poisoned output buffers, and the error bound the results are held to.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gpu/host_codec.hpp"
#include "tests/gpu/gpu_test_util.hpp"
#include "triscan/gpu.hpp"
#include "triscan/matrix.hpp"

namespace triscan::gpu_test {

using gpu::DType;

// Unit roundoff of a storage type: 2^-24 (fp32), 2^-8 (bf16), 2^-11 (fp16).
inline double unit_roundoff(DType t) {
  return t == DType::fp32 ? std::ldexp(1.0, -24) : t == DType::bf16 ? std::ldexp(1.0, -8) : std::ldexp(1.0, -11);
}
// Half the spacing of the subnormals: the absolute error of rounding a tiny value.
inline double half_min_subnormal(DType t) {
  return t == DType::fp32 ? std::ldexp(1.0, -150) : t == DType::bf16 ? std::ldexp(1.0, -134) : std::ldexp(1.0, -25);
}

// The GPU inversion methods every test runs (include/triscan/gpu.hpp).
inline const std::vector<MethodSpec>& gpu_methods() {
  static const std::vector<MethodSpec> m = {MethodSpec::parse("trinv/forward_substitution"),
                                            MethodSpec::parse("trinv/recursive_merge")};
  return m;
}
inline bool is_merge(const MethodSpec& m) { return m.name == "trinv/recursive_merge"; }

// M(L)^-1 = sum_k |N|^k (row-major n x n, lower triangular, every term >= 0) for
// L = I + N; n_at(i, j) gives N_ij for j < i.
template <class F>
std::vector<double> comparison_inverse(index_t n, F n_at) {
  const auto idx = [n](index_t i, index_t j) { return static_cast<std::size_t>(i * n + j); };
  std::vector<double> minv(static_cast<std::size_t>(n * n), 0.0);
  for (index_t j = 0; j < n; ++j) {
    minv[idx(j, j)] = 1.0;
    for (index_t i = j + 1; i < n; ++i) {
      double s = 0.0;
      for (index_t k = j; k < i; ++k) s += std::fabs(n_at(i, k)) * minv[idx(k, j)];
      minv[idx(i, j)] = s;
    }
  }
  return minv;
}

// B = M(L)^-1 |L| M(L)^-1 (row-major n x n) for L = I + N, M(L) = I - |N| the comparison
// matrix; n_at(i, j) gives N_ij for j < i. Since |L| = 2I - M(L), B = 2 M^-2 - M^-1,
// formed from M^-1 (every term >= 0, so fp64 evaluation is accurate to a few ulps).
// First-order forward-error bound of the recursive merges over b x b base blocks
// (gpu/trinv_merge_kernel.cuh): |X^ - X| <= c u B with c = 2n - b <= 2n, because the
// base blocks' substitution gives c_b = b and a merge of two h-blocks adds the two
// products' gamma_h: c_2h = c_h + 2h (the induction is written out in docs/gpu.md).
template <class F>
std::vector<double> merge_bound_matrix(index_t n, F n_at) {
  const auto idx = [n](index_t i, index_t j) { return static_cast<std::size_t>(i * n + j); };
  const std::vector<double> minv = comparison_inverse(n, n_at);
  std::vector<double> b(minv.size(), 0.0);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) {
      double s = 0.0;
      for (index_t k = j; k <= i; ++k) s += minv[idx(i, k)] * minv[idx(k, j)];
      b[idx(i, j)] = 2.0 * s - minv[idx(i, j)];
    }
  return b;
}

using gpu::decode_at;
using gpu::dtype_bytes;
using gpu::encode;

// The poison written over every output buffer before a run: a NaN in each storage
// type (fp32 0x7fc0dead; 0x7fc1 is a NaN in both bf16 and fp16).
inline std::uint32_t poison_word(DType t) { return t == DType::fp32 ? 0x7fc0deadu : 0x7fc17fc1u; }
inline bool is_poison(const std::vector<unsigned char>& bytes, DType t, std::size_t e) {
  if (t == DType::fp32) {
    std::uint32_t u;
    std::memcpy(&u, &bytes[4 * e], 4);
    return u == 0x7fc0deadu;
  }
  std::uint16_t h;
  std::memcpy(&h, &bytes[2 * e], 2);
  return h == 0x7fc1;
}
// +0 exactly (the contract writes +0, not -0, above the diagonal).
inline bool is_positive_zero(const std::vector<unsigned char>& bytes, DType t, std::size_t e) {
  for (std::size_t b = 0; b < dtype_bytes(t); ++b)
    if (bytes[dtype_bytes(t) * e + b] != 0) return false;
  return true;
}

// Output of one GPU run on the chunk layout: raw output bytes, statuses, flag.
struct ChunkRun {
  std::vector<unsigned char> out;
  std::vector<std::int32_t> statuses;
  std::int32_t flag = -1;
};

inline ChunkRun run_chunks(const ChunkLayout& layout, DType in, const std::vector<unsigned char>& in_bytes,
                           DType out, const MethodSpec& method = MethodSpec::parse("trinv/forward_substitution")) {
  gpu::ChunkPlan plan(layout);
  const auto elements = static_cast<std::size_t>(layout.elements());
  const auto nstat = static_cast<std::size_t>(plan.chunk_rows() * layout.heads);
  gpu::DeviceBytes dA(in_bytes.size()), dX(elements * dtype_bytes(out)), dS(4 * nstat + 4), dF(4);
  dA.upload(in_bytes.data(), in_bytes.size());
  dX.fill32(poison_word(out));
  dS.fill32(0xffffffffu);
  dF.fill32(0xffffffffu);
  gpu::invert_chunks(method, plan, in, dA.data(), out, dX.data(), static_cast<std::int32_t*>(dS.data()),
                     static_cast<std::int32_t*>(dF.data()));
  gpu::synchronize();
  ChunkRun r;
  r.out.resize(elements * dtype_bytes(out));
  dX.download(r.out.data(), r.out.size());
  r.statuses.resize(nstat + 1);
  dS.download(r.statuses.data(), 4 * (nstat + 1));
  dF.download(&r.flag, 4);
  return r;
}

// The same through the strided layout: gpu::invert_batch on `count` matrices of size n
// with row stride `bt` and batch stride n * bt (16-byte aligned for bt in {16, .., 128})
// — exactly the memory of ChunkLayout{count, n, 1, bt} (one partial chunk per batch
// entry), so the chunk-layout references and checks apply unchanged.
inline ChunkRun run_batch(index_t count, index_t n, index_t bt, DType in, const std::vector<unsigned char>& in_bytes,
                          DType out, const MethodSpec& method) {
  const auto elements = static_cast<std::size_t>(count * n * bt);
  gpu::DeviceBytes dA(in_bytes.size()), dX(elements * dtype_bytes(out)), dS(4 * static_cast<std::size_t>(count) + 4),
      dF(4);
  dA.upload(in_bytes.data(), in_bytes.size());
  dX.fill32(poison_word(out));
  dS.fill32(0xffffffffu);
  dF.fill32(0xffffffffu);
  gpu::invert_batch(method, count, n, n * bt, bt, in, dA.data(), out, dX.data(),
                    static_cast<std::int32_t*>(dS.data()), static_cast<std::int32_t*>(dF.data()));
  gpu::synchronize();
  ChunkRun r;
  r.out.resize(elements * dtype_bytes(out));
  dX.download(r.out.data(), r.out.size());
  r.statuses.resize(static_cast<std::size_t>(count) + 1);
  dS.download(r.statuses.data(), r.statuses.size() * 4);
  dF.download(&r.flag, 4);
  return r;
}

// Deterministic random numbers for tests (the engine is specified by the standard;
// the transform to [lo, hi) is ours, so values do not depend on the library).
class TestRng {
 public:
  explicit TestRng(std::uint64_t seed) : engine_(seed) {}
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(engine_() >> 11) * std::ldexp(1.0, -53);
  }
  std::uint64_t below(std::uint64_t n) { return engine_() % n; }

 private:
  std::mt19937_64 engine_;
};

// gamma_n = n u / (1 - n u) (Higham, ASNA 2nd ed., Lemma 3.1).
inline double gamma_n(int n, double u) { return n * u / (1.0 - n * u); }

}  // namespace triscan::gpu_test
