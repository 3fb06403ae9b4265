// Chunk WY (include/triscan/wy.hpp) against the token-by-token recurrence in MPFR
// (validation/chunk_wy_experiment.hpp), for every family and generator the issue names.
//
// The bound (docs/wy.md "Error bound"; record.error_bound). First order, for the default
// method trinv/forward_substitution (Method 1 of Du Croz & Higham 1992; Higham ASNA 2nd
// ed. §14.2: |X̂ - X| <= c_n u |X||L||X|), with L = I + N, X = L^-1, N̄ >= |N| the
// entrywise majorant sum_c |a_ic||b_jc| exp(G_ic - G_jc) and κ̄ = || |X| ||_F ||I + N̄||_F:
//   forming N (dot products of length dk): |dN| <= γ_dk N̄     -> ||X dN W|| <= γ_dk κ̄ ||W||
//   inverting L:                                               -> γ_C κ̄² ||W||
//   T = X diag(beta), γ ⊙ K (one rounding each), W = T (γ ⊙ K) (GEMM, Higham (3.13)):
//     |dW| <= γ_{C+2} |X| |B'| <= γ_{C+2} |X| (I + N̄) |W|      -> γ_{C+2} κ̄ ||W||
// (||M1 M2||_F <= ||M1||_2 ||M2||_F <= ||M1||_F ||M2||_F and |B'| = |L W| <= (I + N̄)|W|), so
//   ||dW||_F / ||W||_F <= 2 (C + dk) u (κ̄² + 2 κ̄)      (γ_n <= 1.01 n u, rounded up to 2),
// the same for U, plus, when the library forms the cumulative log-decays G from per-token
// g, the recursive-summation error |dG_i| <= γ_{C-1} max|G| (Higham (4.4)), a relative
// perturbation of every decay factor, i.e. 2 C u max|G| (κ̄ + 1). c = 2 throughout.
// The form c C u cond(I + A) is what this bound reduces to when κ̄ = O(cond); the
// test uses the form with the quantities it can prove, and reports cond.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "validation/chunk_wy_experiment.hpp"

using namespace triscan;
using namespace triscan::validation;

namespace {

struct Case {
  std::string representation, generator;
  double gate = 0;  // 0: the generator's default / not gated
  index_t chunk = 64;
};

std::string describe(const Case& c, const std::string& fmt, std::uint64_t seed) {
  return "chunk/" + c.representation + " generator=" + c.generator +
         " gate=" + std::to_string(c.gate) + " C=" + std::to_string(c.chunk) + " format=" + fmt +
         " seed=" + std::to_string(seed);
}

ChunkWyRecord run(const Case& c, const Precision& p, std::uint64_t seed, bool cumulative = false) {
  ChunkWyCase wc;
  wc.representation = c.representation;
  wc.generator.name = c.generator;
  wc.generator.seed = seed;
  wc.generator.dk = 32;  // MPFR token recurrence costs C dk (dk + dv): keep the test fast
  wc.generator.dv = 16;
  if (c.gate != 0) wc.generator.gate = c.gate;
  wc.chunk = c.chunk;
  wc.householder_steps = 2;
  wc.precision = p;
  wc.cumulative_g = cumulative;
  return run_chunk_wy_case(wc);
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"deltanet", "deltanet"},
      {"deltanet", "deltanet-beta2"},
      {"deltanet", "deltanet-correlated"},
      {"deltanet", "deltanet-equal"},
      {"gated", "gated", -1e-3},
      {"gated", "gated", -0.1},
      {"gated", "gated", -5},
      {"kda", "kda", -0.1},
      {"kda", "kda", -5},
      {"dplr", "dplr", -0.1},
      {"deltaproduct", "deltanet", 0, 32},
      {"deltaproduct", "gated", -0.1, 32},
      {"deltanet", "deltanet", 0, 16},
      {"gated", "gated", -0.1, 128},
  };
  return all;
}

void check_against_bound(const ChunkWyRecord& r, const std::string& what) {
  SCOPED_TRACE(what + " cond=" + std::to_string(r.cond) + " kappa_majorant=" +
               std::to_string(r.kappa_majorant) + " bound=" + std::to_string(r.error_bound));
  ASSERT_TRUE(r.has_metrics);
  EXPECT_EQ(r.status, Status::ok);
  // The chunk formulas themselves equal the recurrence (to the reference's 2^-256-ish).
  EXPECT_LT(r.formula_error, 1e-60);
  EXPECT_LE(r.w_error, r.error_bound);
  EXPECT_LE(r.u_error, r.error_bound);
  // ||dW^T E|| <= ||dW|| ||E||: the reconstructed products inherit the bound (plus the
  // double rounding of the computed outputs, u_64 relative).
  EXPECT_LE(r.product_error, r.error_bound * r.product_amplification * (1 + 1e-12) + 1e-15);
  EXPECT_LE(r.state_error, r.error_bound * r.state_amplification * (1 + 1e-12) + 1e-15);
}

}  // namespace

TEST(ChunkWyAccuracy, Fp64MatchesTheMpfrRecurrence) {
  const Precision p = Precision::uniform(format_by_name("fp64"));
  for (const Case& c : cases()) check_against_bound(run(c, p, 11), describe(c, "fp64", 11));
}

TEST(ChunkWyAccuracy, Fp32MatchesTheMpfrRecurrence) {
  const Precision p = Precision::uniform(format_by_name("fp32"));
  for (const Case& c : cases()) {
    const ChunkWyRecord r = run(c, p, 12);
    check_against_bound(r, describe(c, "fp32", 12));
    std::printf("  %-42s w_error %.2e u_error %.2e product %.2e state %.2e cond %.1f bound %.1e\n",
                describe(c, "fp32", 12).c_str(), r.w_error, r.u_error, r.product_error,
                r.state_error, r.cond, r.error_bound);
  }
}

TEST(ChunkWyAccuracy, PreSummedGatesUseTheSameFormulas) {
  const Precision p = Precision::uniform(format_by_name("fp32"));
  for (const Case& c :
       {Case{"gated", "gated", -0.1}, Case{"gated", "gated", -5}, Case{"kda", "kda", -0.1}}) {
    const ChunkWyRecord r = run(c, p, 13, /*cumulative=*/true);
    check_against_bound(r, describe(c, "fp32 cumulative_g", 13));
  }
}

// Without the decay factor γ in W (W = T K instead of T (γ ⊙ K)) the product would be
// O(1) wrong: the formula check above would fail. Here: the gated W really differs
// from the ungated one by the decays (W_gated row 0 = β_0 γ_0 k_0).
TEST(ChunkWyAccuracy, GatedFirstRowCarriesTheDecay) {
  ChunkLayout layout;
  layout.length = 2;
  layout.chunk = 2;
  const std::vector<double> k = {1, 0, 0.6, 0.8}, v = {1, 2}, beta = {0.5, 0.25}, g = {-0.3, -0.2};
  std::vector<double> w(4), u(2);
  WyInputs<double> in{k.data(), v.data(), beta.data(), g.data(), nullptr, nullptr, 2, 1, 0};
  ASSERT_EQ(chunk_wy(WyFamily::gated, layout, in, {w.data(), u.data()}), Status::ok);
  // Hand-derived: γ = (e^-0.3, e^-0.5); N_10 = β_1 <k_1,k_0> e^{G_1-G_0} = 0.25*0.6*e^-0.2.
  const double g0 = std::exp(-0.3), g1 = std::exp(-0.5), n10 = 0.25 * 0.6 * std::exp(-0.2);
  EXPECT_NEAR(w[0], 0.5 * g0, 1e-15);
  EXPECT_NEAR(w[1], 0.0, 1e-15);
  EXPECT_NEAR(w[2], 0.25 * g1 * 0.6 - n10 * 0.5 * g0, 1e-15);
  EXPECT_NEAR(w[3], 0.25 * g1 * 0.8, 1e-15);
  EXPECT_NEAR(u[0], 0.5, 1e-15);
  EXPECT_NEAR(u[1], 0.25 * 2 - n10 * 0.5, 1e-15);
}

TEST(ChunkWyAccuracy, NarrowFormatsAreReportedAndOverflowIsAStatus) {
  for (const char* f : {"bf16", "fp16"}) {
    const Precision p = Precision::uniform(format_by_name(f));
    for (const Case& c :
         {Case{"deltanet", "deltanet"}, Case{"gated", "gated", -5}, Case{"kda", "kda", -0.1}}) {
      const ChunkWyRecord r = run(c, p, 14);
      SCOPED_TRACE(describe(c, f, 14));
      ASSERT_TRUE(r.has_metrics);
      EXPECT_TRUE(std::isfinite(r.w_error));
      EXPECT_TRUE(std::isfinite(r.u_error));
      EXPECT_EQ(r.formula_error < 1e-60, true);
      // Reported, not hidden: a finite error well below 1 on these benign inputs.
      EXPECT_LT(r.w_error, 1.0);
      std::printf("  %-42s w_error %.2e u_error %.2e repr %.2e status %s\n",
                  describe(c, f, 14).c_str(), r.w_error, r.u_error, r.representation_error,
                  std::string(status_name(r.status)).c_str());
    }
  }
  // An intermediate that does not fit fp16 (max 65504): equal keys with beta_i = 4
  // (||N||_inf scaled to 60 over C = 16) make (I + N)^-1 grow like 3^i, 3^15 = 1.4e7.
  ChunkWyCase wc;
  wc.representation = "deltanet";
  wc.generator.name = "deltanet-equal";
  wc.generator.dk = 16;
  wc.generator.dv = 8;
  wc.generator.beta = 1.0;
  wc.generator.scale = 60;
  wc.chunk = 16;
  wc.precision = Precision::uniform(format_by_name("fp16"));
  EXPECT_EQ(run_chunk_wy_case(wc).status, Status::overflow);
  // The same in fp32 fits, and the status is ok.
  wc.precision = Precision::uniform(format_by_name("fp32"));
  EXPECT_EQ(run_chunk_wy_case(wc).status, Status::ok);
  // An input that does not fit the storage format (beta ~ 1e6/60 > 65504 somewhere)
  // becomes inf when rounded: nonfinite_input, never garbage.
  wc.generator.name = "deltanet";
  wc.generator.beta.reset();
  wc.generator.scale = 1e7;
  wc.precision = Precision::uniform(format_by_name("fp16"));
  const ChunkWyRecord r = run_chunk_wy_case(wc);
  EXPECT_EQ(r.status, Status::nonfinite_input);
  EXPECT_FALSE(r.has_metrics);
}
