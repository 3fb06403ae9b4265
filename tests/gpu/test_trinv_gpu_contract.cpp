// GPU batched unit-lower inversion, every GPU method (forward_substitution and
// recursive_merge): the input/output contracts of DESIGN.md, statuses, argument errors,
// and a reference-free accuracy check by the residual bound of forward substitution
// (recursive_merge has no residual bound: test_trinv_gpu_accuracy.cpp holds it to its
// forward-error bound, and the strided test here does the same).
//
// Residual bound (Higham, ASNA 2nd ed., Thm 8.5; Du Croz & Higham 1992, Method 1):
// column j of X is computed by substitution on L x = e_j, so (L + dL_j) x_j = e_j with
// |dL_j| <= gamma_n |N| (the unit diagonal enters exactly), hence
//     |L X - I| <= gamma_n |N| |X|   entrywise, u = 2^-24 (fp32 arithmetic).
// With a bf16/fp16 output X_o = fl(X): |L X_o - I| <= gamma_n |N||X| + |L||X_o - X|,
// |X_o - X| <= u_o |X| + (half the subnormal spacing), |X| <= |X_o| / (1 - u_o).
// The residual is evaluated in fp64 (its own error <= gamma_n(2^-53) |L||X_o|).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/gpu/test_trinv_gpu_util.hpp"
#include "triscan/trinv.hpp"

namespace triscan::gpu_test {
namespace {

const DType all_dtypes[] = {DType::fp32, DType::bf16, DType::fp16};

// DeltaNet-like chunk matrices built here (so these tests need no other module):
// A[b, t, h, j] = beta_t <k_t, k_j> for the earlier tokens j of t's chunk, keys unit
// vectors of dimension 16, beta ~ U(0, beta_max). Entries outside the strictly lower
// parts get `fill` (garbage the kernel must ignore).
std::vector<double> deltanet_like(const ChunkLayout& layout, std::uint64_t seed, double beta_max, double fill) {
  TestRng rng(seed);
  const index_t rows = layout.batch * layout.length;
  constexpr int dk = 16;
  std::vector<double> keys(static_cast<std::size_t>(rows * layout.heads * dk)), beta(static_cast<std::size_t>(rows * layout.heads));
  for (std::size_t r = 0; r < beta.size(); ++r) {
    double norm = 0;
    for (int c = 0; c < dk; ++c) {
      const double v = rng.uniform(-1, 1);
      keys[r * dk + c] = v;
      norm += v * v;
    }
    for (int c = 0; c < dk; ++c) keys[r * dk + c] /= std::sqrt(norm);
    beta[r] = rng.uniform(0, beta_max);
  }
  std::vector<double> A(static_cast<std::size_t>(layout.elements()), fill);
  for (const ChunkRef& c : enumerate_chunks(layout)) {
    for (index_t i = 0; i < c.size; ++i)
      for (index_t j = 0; j < i; ++j) {
        const index_t ti = (c.batch * layout.length + c.start + i) * layout.heads + c.head;
        const index_t tj = (c.batch * layout.length + c.start + j) * layout.heads + c.head;
        double dot = 0;
        for (int d = 0; d < dk; ++d) dot += keys[ti * dk + d] * keys[tj * dk + d];
        A[c.offset + i * layout.row_stride() + j] = beta[ti] * dot;
      }
  }
  return A;
}

std::string describe(const ChunkLayout& layout, DType in, DType out, std::uint64_t seed) {
  std::string s = "B=" + std::to_string(layout.batch) + " T=" + std::to_string(layout.length) +
                  " H=" + std::to_string(layout.heads) + " BT=" + std::to_string(layout.chunk);
  if (!layout.cu_seqlens.empty()) {
    s += " cu_seqlens=[";
    for (auto v : layout.cu_seqlens) s += std::to_string(v) + ",";
    s += "]";
  }
  return s + " in=" + std::string(gpu::dtype_name(in)) + " out=" + std::string(gpu::dtype_name(out)) +
         " seed=" + std::to_string(seed);
}

// Every entry of the output buffer: inside each chunk matrix (rows and columns < m) the
// diagonal is exactly 1 and the upper part +0; everything else still holds the poison;
// each matrix satisfies the residual bound above. Returns the number of failures.
int check_output(const ChunkLayout& layout, const std::vector<double>& A_seen, const ChunkRun& run, DType out,
                 const std::string& what, bool residual_bound) {
  const double u = std::ldexp(1.0, -24), u64 = std::ldexp(1.0, -53), uo = out == DType::fp32 ? 0.0 : unit_roundoff(out);
  const double tiny = out == DType::fp32 ? 0.0 : half_min_subnormal(out);
  std::vector<char> inside(static_cast<std::size_t>(layout.elements()), 0);
  int failures = 0;
  for (const ChunkRef& c : enumerate_chunks(layout)) {
    const index_t m = c.size, rs = layout.row_stride();
    auto x = [&](index_t i, index_t j) { return decode_at(run.out, out, static_cast<std::size_t>(c.offset + i * rs + j)); };
    auto n_entry = [&](index_t i, index_t j) { return j < i ? A_seen[static_cast<std::size_t>(c.offset + i * rs + j)] : 0.0; };
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < m; ++j) {
        const auto e = static_cast<std::size_t>(c.offset + i * rs + j);
        inside[e] = 1;
        if (j > i && !is_positive_zero(run.out, out, e) && failures++ < 5)
          ADD_FAILURE() << what << ": X(" << i << "," << j << ") above the diagonal is " << x(i, j)
                        << ", not +0 (chunk start " << c.start << ", head " << c.head << ")";
        if (j == i && x(i, j) != 1.0 && failures++ < 5)
          ADD_FAILURE() << what << ": X(" << i << "," << i << ") = " << x(i, j) << ", not 1";
      }
    // Residual bound, column by column.
    for (index_t j = 0; j < (residual_bound ? m : 0); ++j)
      for (index_t i = j + 1; i < m; ++i) {
        // r = (L X_o - I)(i, j); bound_n = (|N||X_o|)(i, j); bound_l = (|L||X_o|)(i, j);
        // row_l = sum_k |L(i, k)| (for the absolute subnormal term).
        double r = x(i, j), bound_n = 0, bound_l = std::fabs(x(i, j)), row_l = 1;
        for (index_t k = j; k < i; ++k) {
          r += n_entry(i, k) * x(k, j);
          bound_n += std::fabs(n_entry(i, k) * x(k, j));
          row_l += std::fabs(n_entry(i, k));
        }
        bound_l += bound_n;
        const double tol = gamma_n(static_cast<int>(m), u) * bound_n / (1 - uo) + (uo / (1 - uo)) * bound_l +
                           tiny * row_l + gamma_n(static_cast<int>(m) + 1, u64) * bound_l;
        if (!(std::fabs(r) <= tol) && failures++ < 5)
          ADD_FAILURE() << what << ": residual (L X - I)(" << i << "," << j << ") = " << r << " exceeds the bound "
                        << tol << " (chunk start " << c.start << ", size " << m << ", head " << c.head << ")";
      }
  }
  for (std::size_t e = 0; e < inside.size(); ++e)
    if (!inside[e] && !is_poison(run.out, out, e) && failures++ < 5)
      ADD_FAILURE() << what << ": element " << e << " outside every chunk matrix was written";
  return failures;
}

struct LayoutCase {
  ChunkLayout layout;
  const char* name;
};

std::vector<LayoutCase> layouts_for(index_t bt) {
  std::vector<LayoutCase> v;
  ChunkLayout full{2, 3 * bt, 3, bt, {}};
  v.push_back({full, "full chunks"});
  ChunkLayout partial{2, 2 * bt + bt / 2 + 3, 2, bt, {}};
  v.push_back({partial, "partial last chunk"});
  ChunkLayout varlen{1, 0, 2, bt, {0, 5, 5 + 2 * bt + 1, 5 + 2 * bt + 1 + bt, 5 + 3 * bt + 1 + bt - 7}};
  varlen.length = varlen.cu_seqlens.back();
  v.push_back({varlen, "cu_seqlens"});
  return v;
}

TEST(TrinvGpuContract, ResidualBoundAndOutputContractEveryChunkSizeAndDtype) {
  TRISCAN_REQUIRE_GPU();
  for (const MethodSpec& method : gpu_methods()) {
  std::uint64_t seed = 1000;
  for (index_t bt : {16, 32, 64, 128})
    for (const LayoutCase& lc : layouts_for(bt))
      for (DType in : all_dtypes)
        for (DType out : all_dtypes) {
          ++seed;
          const std::string what = method.name + " " + lc.name + " " + describe(lc.layout, in, out, seed);
          // NaN outside the strictly lower parts: the input contract says it is never used.
          const auto A = deltanet_like(lc.layout, seed, 1.0, std::nan(""));
          std::vector<double> seen;
          const auto bytes = encode(A, in, &seen);
          const ChunkRun run = run_chunks(lc.layout, in, bytes, out, method);
          EXPECT_EQ(run.flag, static_cast<int>(Status::ok)) << what;
          for (std::size_t q = 0; q + 1 < run.statuses.size(); ++q)
            ASSERT_EQ(run.statuses[q], static_cast<int>(Status::ok)) << what << " matrix " << q;
          ASSERT_EQ(check_output(lc.layout, seen, run, out, what, !is_merge(method)), 0) << what;
        }
  }
}

// The values outside the strictly lower parts never influence the result: runs with
// 0 and with NaN/Inf/huge garbage there give bitwise identical outputs.
TEST(TrinvGpuContract, GarbageOutsideTheStrictlyLowerPartIsNeverUsed) {
  TRISCAN_REQUIRE_GPU();
  for (const MethodSpec& method : gpu_methods())
  for (index_t bt : {16, 64, 128}) {
    ChunkLayout layout{1, 0, 3, bt, {0, bt + 9, 3 * bt + 9}};
    layout.length = layout.cu_seqlens.back();
    for (double fill : {0.0, std::nan(""), HUGE_VAL, -3e38}) {
      const std::uint64_t seed = 77 + static_cast<std::uint64_t>(bt);
      const auto clean = encode(deltanet_like(layout, seed, 1.0, 0.0), DType::fp32, nullptr);
      const auto dirty = encode(deltanet_like(layout, seed, 1.0, fill), DType::fp32, nullptr);
      const ChunkRun a = run_chunks(layout, DType::fp32, clean, DType::fp32, method);
      const ChunkRun b = run_chunks(layout, DType::fp32, dirty, DType::fp32, method);
      EXPECT_EQ(a.out, b.out) << method.name << " BT=" << bt << " fill=" << fill << " seed=" << seed;
      EXPECT_EQ(b.flag, static_cast<int>(Status::ok)) << method.name << " BT=" << bt << " fill=" << fill;
    }
  }
}

// L = I + (all ones strictly below the diagonal): L^-1 = I - (ones on the subdiagonal),
// since column j of L^-1 is e_j - e_{j+1} (L (e_j - e_{j+1}) = e_j). Exact in every format.
TEST(TrinvGpuContract, AllOnesHasTheExactInverse) {
  TRISCAN_REQUIRE_GPU();
  for (const MethodSpec& method : gpu_methods())
  for (index_t bt : {16, 32, 64, 128})
    for (DType in : all_dtypes)
      for (DType out : all_dtypes) {
        ChunkLayout layout{1, 2 * bt - 5, 2, bt, {}};
        std::vector<double> A(static_cast<std::size_t>(layout.elements()), 1.0);
        const ChunkRun run = run_chunks(layout, in, encode(A, in, nullptr), out, method);
        int bad = 0;
        for (const ChunkRef& c : enumerate_chunks(layout))
          for (index_t i = 0; i < c.size; ++i)
            for (index_t j = 0; j < c.size; ++j) {
              const double want = i == j ? 1.0 : i == j + 1 ? -1.0 : 0.0;
              const double got = decode_at(run.out, out, static_cast<std::size_t>(c.offset + i * layout.row_stride() + j));
              if (got != want && bad++ < 3)
                ADD_FAILURE() << method.name << " ones BT=" << bt << " in=" << gpu::dtype_name(in) << " out=" << gpu::dtype_name(out)
                              << " X(" << i << "," << j << ") = " << got << ", want " << want;
            }
        EXPECT_EQ(run.flag, static_cast<int>(Status::ok));
      }
}

// Statuses: one NaN / Inf in a strictly lower entry flags exactly that matrix
// nonfinite_input; the others stay ok and keep their values.
TEST(TrinvGpuContract, NonFiniteInputIsFlaggedPerMatrix) {
  TRISCAN_REQUIRE_GPU();
  for (const MethodSpec& method : gpu_methods())
  for (index_t bt : {16, 32, 64, 128})
    for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
      ChunkLayout layout{2, 2 * bt + 3, 3, bt, {}};
      auto A = deltanet_like(layout, 5, 1.0, 0.0);
      const auto chunks = enumerate_chunks(layout);
      const ChunkRef& target = chunks[4];  // batch 0, chunk 1, head 1
      const index_t i = target.size - 1, j = target.size / 2;
      A[static_cast<std::size_t>(target.offset + i * layout.row_stride() + j)] = bad;
      const ChunkRun run = run_chunks(layout, DType::fp32, encode(A, DType::fp32, nullptr), DType::bf16, method);
      for (std::size_t q = 0; q < chunks.size(); ++q)
        EXPECT_EQ(run.statuses[q], static_cast<int>(q == 4 ? Status::nonfinite_input : Status::ok))
            << method.name << " BT=" << bt << " bad=" << bad << " matrix " << q;
      EXPECT_EQ(run.flag, static_cast<int>(Status::nonfinite_input)) << method.name << " BT=" << bt;
    }
}

// Overflow: N_10 = 1e5 gives X_10 = -1e5, beyond fp16's 65504 but fine in fp32 and
// bf16; a lower part of -2^20 everywhere makes X grow like 2^(20 k) and overflow fp32.
TEST(TrinvGpuContract, OverflowOfTheOutputFormatIsFlagged) {
  TRISCAN_REQUIRE_GPU();
  for (const MethodSpec& method : gpu_methods())
  for (index_t bt : {16, 64, 128}) {
    SCOPED_TRACE(method.name);
    ChunkLayout layout{1, 2 * bt, 1, bt, {}};
    std::vector<double> A(static_cast<std::size_t>(layout.elements()), 0.0);
    A[static_cast<std::size_t>(layout.row_stride() + 0)] = 1e5;  // chunk 0: row 1, column 0
    const auto bytes = encode(A, DType::fp32, nullptr);
    const ChunkRun h = run_chunks(layout, DType::fp32, bytes, DType::fp16, method);
    EXPECT_EQ(h.statuses[0], static_cast<int>(Status::overflow)) << "BT=" << bt;
    EXPECT_EQ(h.statuses[1], static_cast<int>(Status::ok)) << "BT=" << bt;
    EXPECT_EQ(h.flag, static_cast<int>(Status::overflow)) << "BT=" << bt;
    EXPECT_TRUE(std::isinf(decode_at(h.out, DType::fp16, static_cast<std::size_t>(layout.row_stride()))));
    for (DType out : {DType::fp32, DType::bf16}) {
      const ChunkRun f = run_chunks(layout, DType::fp32, bytes, out, method);
      EXPECT_EQ(f.flag, static_cast<int>(Status::ok)) << "BT=" << bt << " out=" << gpu::dtype_name(out);
      const double want = out == DType::fp32 ? -1e5 : gpu::decode_bf16(gpu::encode_bf16(-1e5f));  // bf16: -99840
      EXPECT_EQ(decode_at(f.out, out, static_cast<std::size_t>(layout.row_stride())), want) << "BT=" << bt;
    }
    std::vector<double> G(static_cast<std::size_t>(layout.elements()), -std::ldexp(1.0, 20));
    const ChunkRun g = run_chunks(layout, DType::fp32, encode(G, DType::fp32, nullptr), DType::fp32, method);
    EXPECT_EQ(g.statuses[0], static_cast<int>(Status::overflow)) << "BT=" << bt;
    EXPECT_EQ(g.flag, static_cast<int>(Status::overflow)) << "BT=" << bt;
  }
}

// The strided [N, n, n] layout for every n in 1..128 (padded rows), checked against
// the output contract (rows/columns >= n untouched) and the method's bound: the
// residual bound for forward substitution; for recursive_merge the forward-error
// bound gamma_{2 bt} M(L)^-1 |L| M(L)^-1 (bt = the kernel size n runs in) against the
// CPU fp64 inverse (whose own error adds gamma_n(2^-53) times the same matrix).
TEST(TrinvGpuContract, StridedBatchEverySize) {
  TRISCAN_REQUIRE_GPU();
  const MethodSpec fs = MethodSpec::parse("trinv/forward_substitution");
  for (const MethodSpec& method : gpu_methods())
  for (int n = 1; n <= 128; n += (n < 20 ? 1 : 7)) {
    const index_t rs = ((n + 3) / 4) * 4 + 4, count = 5, bs = rs * (n + 1);
    const int bt = n <= 16 ? 16 : n <= 32 ? 32 : n <= 64 ? 64 : 128;
    TestRng rng(static_cast<std::uint64_t>(n));
    std::vector<double> A(static_cast<std::size_t>(count * bs), std::nan(""));
    for (index_t b = 0; b < count; ++b)
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < i; ++j) A[static_cast<std::size_t>(b * bs + i * rs + j)] = rng.uniform(-1, 1) / n;
    std::vector<double> seen;
    const auto bytes = encode(A, DType::fp32, &seen);
    gpu::DeviceBytes dA(bytes.size()), dX(bytes.size()), dS(4 * count), dF(4);
    dA.upload(bytes.data(), bytes.size());
    dX.fill32(poison_word(DType::fp32));
    gpu::invert_batch(method, count, n, bs, rs, DType::fp32, dA.data(), DType::fp32, dX.data(),
                      static_cast<std::int32_t*>(dS.data()), static_cast<std::int32_t*>(dF.data()));
    gpu::synchronize();
    std::vector<unsigned char> out(bytes.size());
    dX.download(out.data(), out.size());
    std::int32_t flag = -1;
    dF.download(&flag, 4);
    EXPECT_EQ(flag, 0) << method.name << " n=" << n;
    const double u = std::ldexp(1.0, -24), u64 = std::ldexp(1.0, -53);
    int bad = 0;
    for (index_t b = 0; b < count; ++b) {
      auto n_at = [&](index_t i, index_t j) { return seen[static_cast<std::size_t>(b * bs + i * rs + j)]; };
      std::vector<double> merge_b, x_ref;
      if (is_merge(method)) {
        merge_b = merge_bound_matrix(n, n_at);
        std::vector<double> l(static_cast<std::size_t>(n * n), 0.0);
        x_ref.assign(l.size(), 0.0);
        for (index_t i = 0; i < n; ++i)
          for (index_t j = 0; j < i; ++j) l[static_cast<std::size_t>(i * n + j)] = n_at(i, j);
        ASSERT_EQ(invert(fs, MatrixView<const double>::row_major(l.data(), n, n),
                         MatrixView<double>::row_major(x_ref.data(), n, n))
                      .status,
                  Status::ok);
      }
      for (index_t i = 0; i < bs; ++i) {
        const auto e = static_cast<std::size_t>(b * bs + i);
        const index_t r = i / rs, c = i % rs;
        if (r >= n || c >= n) {
          if (!is_poison(out, DType::fp32, e) && bad++ < 3)
            ADD_FAILURE() << method.name << " n=" << n << " wrote outside: " << r << "," << c;
          continue;
        }
        auto x = [&](index_t ii, index_t jj) { return decode_at(out, DType::fp32, static_cast<std::size_t>(b * bs + ii * rs + jj)); };
        if (c > r && !is_positive_zero(out, DType::fp32, e) && bad++ < 3) ADD_FAILURE() << method.name << " n=" << n << " upper not +0";
        if (c == r && x(r, r) != 1.0 && bad++ < 3) ADD_FAILURE() << method.name << " n=" << n << " diagonal not 1";
        if (c < r && is_merge(method)) {
          const auto k = static_cast<std::size_t>(r * n + c);
          const double tol = (gamma_n(2 * bt, u) + 3 * gamma_n(n, u64)) * merge_b[k] * 1.0001;
          if (!(std::fabs(x(r, c) - x_ref[k]) <= tol) && bad++ < 3)
            ADD_FAILURE() << method.name << " n=" << n << " X(" << r << "," << c << ") = " << x(r, c) << ", fp64 "
                          << x_ref[k] << ", beyond the bound " << tol;
        } else if (c < r) {  // residual row r, column c
          double res = x(r, c), bound = 0;
          for (index_t k = c; k < r; ++k) {
            const double nrk = n_at(r, k);
            res += nrk * x(k, c);
            bound += std::fabs(nrk * x(k, c));
          }
          if (!(std::fabs(res) <= (gamma_n(n, u) + gamma_n(n + 1, u64)) * (bound + std::fabs(x(r, c)))) && bad++ < 3)
            ADD_FAILURE() << method.name << " n=" << n << " residual " << res << " at " << r << "," << c;
        }
      }
    }
  }
}

TEST(TrinvGpuContract, InvalidArgumentsAreRejectedBeforeLaunch) {
  TRISCAN_REQUIRE_GPU();
  const MethodSpec fs = MethodSpec::parse("trinv/forward_substitution");
  EXPECT_THROW(gpu::ChunkPlan(ChunkLayout{1, 64, 1, 48, {}}), std::invalid_argument);
  EXPECT_THROW(gpu::ChunkPlan(ChunkLayout{2, 64, 1, 64, {0, 64}}), std::invalid_argument);
  gpu::ChunkPlan plan(ChunkLayout{1, 64, 1, 64, {}});
  gpu::DeviceBytes dA(64 * 64 * 4 + 16), dX(64 * 64 * 4);
  EXPECT_THROW(gpu::invert_chunks(MethodSpec::parse("trinv/no_such_method"), plan, DType::fp32, dA.data(), DType::fp32,
                                  dX.data()),
               std::invalid_argument);
  EXPECT_THROW(gpu::invert_chunks(MethodSpec::parse("trinv/forward_substitution:steps=1"), plan, DType::fp32, dA.data(),
                                  DType::fp32, dX.data()),
               std::invalid_argument);
  EXPECT_THROW(gpu::invert_chunks(fs, plan, DType::fp32, static_cast<char*>(dA.data()) + 4, DType::fp32, dX.data()),
               std::invalid_argument);
  EXPECT_THROW(gpu::invert_chunks(fs, plan, DType::fp32, nullptr, DType::fp32, dX.data()), std::invalid_argument);
  EXPECT_THROW(gpu::invert_chunks(fs, plan, static_cast<DType>(7), dA.data(), DType::fp32, dX.data()),
               std::invalid_argument);
  EXPECT_THROW(gpu::invert_batch(fs, 1, 129, 129 * 132, 132, DType::fp32, dA.data(), DType::fp32, dX.data()),
               std::invalid_argument);
  EXPECT_THROW(gpu::invert_batch(fs, 2, 8, 8 * 8, 6, DType::fp32, dA.data(), DType::fp32, dX.data()),
               std::invalid_argument);  // row_stride < n
  EXPECT_THROW(gpu::invert_batch(fs, 2, 6, 36, 6, DType::fp32, dA.data(), DType::fp32, dX.data()),
               std::invalid_argument);  // 24-byte rows are not 16-byte aligned
  EXPECT_THROW(gpu::invert_chunks(MethodSpec::parse("trinv/recursive_merge:base=32"), plan, DType::fp32, dA.data(),
                                  DType::fp32, dX.data()),
               std::invalid_argument);  // the GPU kernel has base = 16 only
  EXPECT_THROW(gpu::dtype_by_name("fp8"), std::invalid_argument);
}

}  // namespace
}  // namespace triscan::gpu_test
