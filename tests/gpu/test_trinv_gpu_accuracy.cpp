// GPU batched unit-lower inversion (every GPU method) against triscan's
// CPU fp64 invert_chunks (itself validated against MPFR by tests/trinv), on fresh
// inputs of every generator class, every BT, every input/output dtype, full chunks,
// a partial last chunk, cu_seqlens, and grouped key heads.
//
// Forward-error bound, entrywise (Higham, ASNA 2nd ed., Thm 8.5 applied to each column
// as in Du Croz & Higham 1992, Method 1): the computed column x^_j solves
// (L + dL_j) x^_j = e_j with |dL_j| <= gamma_n |N|, so
//     |X^ - X| = |L^-1 dL X^| <= gamma_n |X| |N| |X^|,      gamma_n = n u / (1 - n u),
// u = 2^-24 (the kernel computes in fp32). The output X_o = fl(X^) in bf16/fp16 adds
// |X_o - X^| <= u_o |X^| + (half the subnormal spacing), and |X^| <= |X_o| / (1 - u_o).
// The fp64 reference's own error is bounded the same way with u = 2^-53; the bound
// below takes |X| ~ |X_ref| and |X^| ~ |X_o| with those factors.
//
// trinv/recursive_merge (Method 2B merges over 16 x 16 blocks) has no such residual-type
// bound; it is held to its first-order forward-error bound (test_trinv_gpu_util.hpp,
// merge_bound_matrix; docs/gpu.md): |X^ - X| <= gamma_{2 BT} M(L)^-1 |L| M(L)^-1, the
// reference's error adding gamma_m(2^-53) times the same matrix, plus the output rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tests/gpu/test_trinv_gpu_util.hpp"
#include "triscan/trinv.hpp"
#include "validation/generators.hpp"

namespace triscan::gpu_test {
namespace {

const DType all_dtypes[] = {DType::fp32, DType::bf16, DType::fp16};
const char* const classes[] = {"deltanet", "deltanet-beta2", "deltanet-correlated", "deltanet-equal",
                               "gated",    "kda",            "ones",                "block-ones"};

struct Case {
  ChunkLayout layout;
  index_t key_heads;
  const char* name;
};

std::vector<Case> cases_for(index_t bt) {
  std::vector<Case> v;
  v.push_back({ChunkLayout{2, 2 * bt, 2, bt, {}}, 0, "full chunks"});
  v.push_back({ChunkLayout{1, 2 * bt + bt / 2 + 1, 4, bt, {}}, 2, "partial last chunk, 2 key heads for 4"});
  ChunkLayout varlen{1, 0, 2, bt, {0, 3, 3 + bt + 5, 3 + 2 * bt + 5, 4 * bt}};
  varlen.length = varlen.cu_seqlens.back();
  v.push_back({varlen, 0, "cu_seqlens"});
  return v;
}

// Checks every entry of every chunk matrix of the GPU output against the fp64
// reference within the bound above; returns the number of failures (first few reported).
int check_against_reference(const MethodSpec& method, const ChunkLayout& layout, const std::vector<double>& A_seen,
                            const std::vector<double>& X_ref, const ChunkRun& run, DType out, const std::string& what,
                            double* worst_normwise) {
  const double u = std::ldexp(1.0, -24), u64 = std::ldexp(1.0, -53);
  const double uo = out == DType::fp32 ? 0.0 : unit_roundoff(out), tiny = out == DType::fp32 ? 0.0 : half_min_subnormal(out);
  int failures = 0;
  const index_t rs = layout.row_stride();
  for (const ChunkRef& c : enumerate_chunks(layout)) {
    const index_t m = c.size;
    auto at = [&](index_t i, index_t j) { return static_cast<std::size_t>(c.offset + i * rs + j); };
    std::vector<double> xo(static_cast<std::size_t>(m * m)), xr(xo.size()), nx(xo.size(), 0.0);
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < m; ++j) {
        xo[static_cast<std::size_t>(i * m + j)] = decode_at(run.out, out, at(i, j));
        xr[static_cast<std::size_t>(i * m + j)] = X_ref[at(i, j)];
      }
    // nx = |N| |X_o|, then bound = |X_ref| nx.
    for (index_t i = 0; i < m; ++i)
      for (index_t k = 0; k < i; ++k) {
        const double a = std::fabs(A_seen[at(i, k)]);
        for (index_t j = 0; j <= k; ++j) nx[static_cast<std::size_t>(i * m + j)] += a * std::fabs(xo[static_cast<std::size_t>(k * m + j)]);
      }
    std::vector<double> merge_b;
    if (is_merge(method)) merge_b = merge_bound_matrix(m, [&](index_t i, index_t j) { return A_seen[at(i, j)]; });
    double num = 0, den = 0;
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j <= i; ++j) {
        const double got = xo[static_cast<std::size_t>(i * m + j)], want = xr[static_cast<std::size_t>(i * m + j)];
        double tol;
        if (is_merge(method)) {
          tol = (gamma_n(2 * static_cast<int>(layout.chunk), u) / (1 - uo) + 3 * gamma_n(static_cast<int>(m), u64)) *
                    merge_b[static_cast<std::size_t>(i * m + j)] * 1.0001 +
                uo / (1 - uo) * std::fabs(got) + tiny;
        } else {
          double prod = 0;
          for (index_t k = j; k <= i; ++k) prod += std::fabs(xr[static_cast<std::size_t>(i * m + k)]) * nx[static_cast<std::size_t>(k * m + j)];
          tol = (gamma_n(static_cast<int>(m), u) / (1 - uo) + 3 * gamma_n(static_cast<int>(m), u64)) * prod * 1.000001 +
                uo / (1 - uo) * std::fabs(got) + tiny;
        }
        num += (got - want) * (got - want);
        den += want * want;
        if (!(std::fabs(got - want) <= tol) && failures++ < 5)
          ADD_FAILURE() << what << ": X(" << i << "," << j << ") = " << got << ", fp64 reference " << want
                        << ", |difference| " << std::fabs(got - want) << " > bound " << tol << " (chunk start "
                        << c.start << ", size " << m << ", head " << c.head << ")";
      }
    *worst_normwise = std::max(*worst_normwise, std::sqrt(num / den));
  }
  return failures;
}

// Every GPU method against the CPU fp64 forward substitution, within the method's bound.
void check_method(const MethodSpec& method) {
  const MethodSpec fs = MethodSpec::parse("trinv/forward_substitution");
  TrinvOptions cpu;  // fp64, the CPU reference
  std::uint64_t seed = 20261128;
  for (const char* cls : classes)
    for (index_t bt : {16, 32, 64, 128})
      for (const Case& k : cases_for(bt)) {
        validation::GeneratorParams p;
        p.name = cls;
        p.n = bt;
        p.seed = ++seed;
        const auto problem = validation::make_chunk_problem(p, k.layout, k.key_heads);
        const std::vector<double>& A = problem.tensors.at("A").data;
        for (DType in : all_dtypes) {
          std::vector<double> seen;
          const auto bytes = encode(A, in, &seen);
          std::vector<double> X_ref(seen.size(), 0.0);
          ASSERT_EQ(invert_chunks(fs, k.layout, seen.data(), X_ref.data(), cpu), Status::ok)
              << cls << " BT=" << bt << " " << k.name << " seed=" << seed;
          double ref_max = 0;
          for (double v : X_ref) ref_max = std::max(ref_max, std::fabs(v));
          for (DType out : all_dtypes) {
            const std::string what = method.name + " " + std::string(cls) + " BT=" + std::to_string(bt) + " " + k.name +
                                     " in=" + std::string(gpu::dtype_name(in)) +
                                     " out=" + std::string(gpu::dtype_name(out)) + " seed=" + std::to_string(seed);
            const ChunkRun run = run_chunks(k.layout, in, bytes, out, method);
            // An inverse with an entry that rounds past fp16's 65504 (|x| >= 65520) must be
            // flagged overflow in fp16; nothing else may be flagged.
            if (out == DType::fp16 && ref_max >= 65520.0 * (1 + 1e-3)) {
              EXPECT_EQ(run.flag, static_cast<int>(Status::overflow)) << what << " (max |X| " << ref_max << ")";
              continue;
            }
            ASSERT_EQ(run.flag, static_cast<int>(Status::ok)) << what << " (max |X| " << ref_max << ")";
            double normwise = 0;
            EXPECT_EQ(check_against_reference(method, k.layout, seen, X_ref, run, out, what, &normwise), 0)
                << what << " (max relative Frobenius error " << normwise << ")";
          }
        }
      }
}

TEST(TrinvGpuAccuracy, ForwardSubstitutionMatchesCpuFp64WithinItsBound) {
  TRISCAN_REQUIRE_GPU();
  check_method(MethodSpec::parse("trinv/forward_substitution"));
}

TEST(TrinvGpuAccuracy, RecursiveMergeMatchesCpuFp64WithinItsBound) {
  TRISCAN_REQUIRE_GPU();
  check_method(MethodSpec::parse("trinv/recursive_merge"));
}

}  // namespace
}  // namespace triscan::gpu_test
