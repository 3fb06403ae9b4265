// The chunkwise delta-rule forward (include/triscan/delta.hpp) against the token-by-token
// recurrence in MPFR (validation/mpfr/delta_forward.cpp), for each family and chunk size,
// fp32 and bf16 with an fp32 state; and its layout contract.
//
// Bound (docs/wy.md "Chunkwise forward: error bound"; DeltaForwardRecord::*_bound), first
// order: each chunk's W, U carry the chunk-WY bound b_c = 2 (C + dk) u (κ̄² + 2κ̄) [+ the
// cumulative-gate term] of tests/wy/test_chunk_wy_accuracy.cpp; the chunk's state update
// U'^T E + S Γ and outputs are GEMMs whose errors are below the same b_c times the norms
// of their factors (factor 4 = the three products plus the output/state rounding); the
// chunk transitions D_t (I - beta k k^T) have 2-norm <= 1 for unit keys and beta <= 2, so
// the state errors of earlier chunks add up without growth. Every norm in the bound is
// taken from the MPFR quantities, never from the code under test.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "triscan/delta.hpp"
#include "validation/chunk_wy_experiment.hpp"
#include "validation/generators.hpp"

using namespace triscan;
using namespace triscan::validation;

namespace {

struct Fam {
  const char* family;
  const char* generator;
  double gate;  // 0: not gated
};

DeltaForwardRecord run(const Fam& fm, index_t C, const Precision& p, const Format& state,
                       std::uint64_t seed) {
  DeltaForwardCase c;
  c.family = fm.family;
  c.generator.name = fm.generator;
  c.generator.seed = seed;
  c.generator.dk = 8;  // the MPFR recurrence costs T dk dv + T C dk: keep the test fast
  c.generator.dv = 8;
  if (fm.gate != 0) c.generator.gate = fm.gate;
  c.length = 160;  // partial last chunk for C = 64, 128
  c.heads = 1;
  c.chunk = C;
  c.precision = p;
  c.state_format = state;
  return run_delta_forward_case(c);
}

const std::vector<Fam>& families() {
  static const std::vector<Fam> f = {
      {"deltanet", "deltanet", 0}, {"deltanet", "deltanet-correlated", 0},
      {"gated", "gated", -1e-3},   {"gated", "gated", -0.1},
      {"gated", "gated", -5},      {"kda", "kda", -0.1}};
  return f;
}

void check(const DeltaForwardRecord& r, const std::string& what) {
  SCOPED_TRACE(what + " output_bound=" + std::to_string(r.output_bound) + " state_bound=" +
               std::to_string(r.state_bound) + " kappa=" + std::to_string(r.max_kappa_majorant));
  ASSERT_TRUE(r.has_metrics);
  EXPECT_EQ(r.status, Status::ok);
  EXPECT_LE(r.output_error, r.output_bound);
  EXPECT_LE(r.state_error, r.state_bound);
  EXPECT_TRUE(std::isfinite(r.output_error));
}

std::string name(const Fam& f, index_t C, const char* fmt) {
  return std::string(f.family) + "/" + f.generator + " gate=" + std::to_string(f.gate) +
         " C=" + std::to_string(C) + " " + fmt;
}

}  // namespace

TEST(DeltaForward, Fp32EveryFamilyAndChunkSizeMatchesTheMpfrRecurrence) {
  const Precision p = Precision::uniform(format_by_name("fp32"));
  for (const Fam& f : families())
    for (index_t C : {16, 32, 64, 128}) {
      const auto r = run(f, C, p, format_by_name("fp32"), 21);
      check(r, name(f, C, "fp32"));
      std::printf("  %-48s output %.2e state %.2e (bounds %.1e %.1e)\n", name(f, C, "fp32").c_str(),
                  r.output_error, r.state_error, r.output_bound, r.state_bound);
    }
}

TEST(DeltaForward, Bf16WithFp32StateIsReported) {
  // bf16 operands, intermediates and outputs; fp32 sums (tensor-core model) and state.
  // The first-order bound exceeds 1 here (C u_bf16 = 0.25 at C = 64), so it cannot judge
  // the result: the errors are reported (and must be finite, with status ok); where the
  // bound is below 1 it is checked.
  Precision p = Precision::uniform(format_by_name("bf16"));
  p.accumulate = format_by_name("fp32");
  for (const Fam& f : families())
    for (index_t C : {16, 64}) {
      const auto r = run(f, C, p, format_by_name("fp32"), 22);
      SCOPED_TRACE(name(f, C, "bf16/fp32-state"));
      ASSERT_TRUE(r.has_metrics);
      EXPECT_EQ(r.status, Status::ok);
      EXPECT_TRUE(std::isfinite(r.output_error));
      EXPECT_TRUE(std::isfinite(r.state_error));
      if (r.output_bound < 1) {
        EXPECT_LE(r.output_error, r.output_bound);
      }
      if (r.state_bound < 1) {
        EXPECT_LE(r.state_error, r.state_bound);
      }
      std::printf("  %-48s output %.2e state %.2e (bounds %.1e %.1e)\n",
                  name(f, C, "bf16/fp32 state").c_str(), r.output_error, r.state_error,
                  r.output_bound, r.state_bound);
    }
}

TEST(DeltaForward, Fp64IsAtFp64Level) {
  const Precision p = Precision::uniform(format_by_name("fp64"));
  for (const Fam& f : families()) {
    const auto r = run(f, 64, p, format_by_name("fp64"), 23);
    check(r, name(f, 64, "fp64"));
  }
}

namespace {
std::vector<double> slice_rows(const std::vector<double>& x, index_t H, index_t head, index_t w,
                               index_t t0, index_t t1) {
  std::vector<double> out;
  for (index_t t = t0; t < t1; ++t)
    out.insert(out.end(), x.begin() + (t * H + head) * w, x.begin() + (t * H + head + 1) * w);
  return out;
}
}  // namespace

TEST(DeltaForward, VarlenGroupedHeadsAndInitialStateMatchPerSequenceCalls) {
  ChunkLayout L;
  L.length = 150;
  L.heads = 2;
  L.chunk = 32;
  L.cu_seqlens = {0, 37, 37, 120, 150};  // an empty sequence, partial chunks
  GeneratorParams gp;
  gp.name = "gated";
  gp.seed = 3;
  gp.dk = 8;
  gp.dv = 6;
  const ChunkProblem p = make_chunk_problem(gp, L, /*key_heads=*/1);
  const auto& T = p.tensors;
  const index_t dk = 8, dv = 6, H = 2, N = 4;
  std::vector<double> S0(N * H * dv * dk);
  for (std::size_t i = 0; i < S0.size(); ++i) S0[i] = std::sin(0.37 * static_cast<double>(i));
  std::vector<double> o(150 * H * dv), S(S0.size());
  const DeltaInputs<double> in{T.at("q").data.data(),
                               T.at("k").data.data(),
                               T.at("v").data.data(),
                               T.at("beta").data.data(),
                               T.at("g_token").data.data(),
                               S0.data(),
                               dk,
                               dv,
                               1};
  DeltaForwardOptions opt;
  opt.threads = 3;
  ASSERT_EQ(delta_forward(WyFamily::gated, L, in, o.data(), S.data(), opt), Status::ok);
  // The empty sequence's final state is its initial state.
  for (index_t e = 0; e < H * dv * dk; ++e)
    EXPECT_EQ(S[1 * H * dv * dk + e], S0[1 * H * dv * dk + e]);
  // Each sequence and head alone (one head, Hk = 1) gives the same bits.
  for (index_t s = 0; s < N; ++s)
    for (index_t h = 0; h < H; ++h) {
      const index_t b0 = L.cu_seqlens[s], b1 = L.cu_seqlens[s + 1];
      if (b1 == b0) continue;
      ChunkLayout one;
      one.length = b1 - b0;
      one.chunk = 32;
      const auto q = slice_rows(T.at("q").data, 1, 0, dk, b0, b1),
                 k = slice_rows(T.at("k").data, 1, 0, dk, b0, b1);
      const auto v = slice_rows(T.at("v").data, H, h, dv, b0, b1),
                 beta = slice_rows(T.at("beta").data, H, h, 1, b0, b1),
                 g = slice_rows(T.at("g_token").data, H, h, 1, b0, b1);
      std::vector<double> s0(S0.begin() + (s * H + h) * dv * dk,
                             S0.begin() + (s * H + h + 1) * dv * dk);
      std::vector<double> o1((b1 - b0) * dv), S1(dv * dk);
      ASSERT_EQ(
          delta_forward(WyFamily::gated, one,
                        {q.data(), k.data(), v.data(), beta.data(), g.data(), s0.data(), dk, dv, 0},
                        o1.data(), S1.data()),
          Status::ok);
      EXPECT_EQ(slice_rows(o, H, h, dv, b0, b1), o1) << "sequence " << s << " head " << h;
      EXPECT_EQ(std::vector<double>(S.begin() + (s * H + h) * dv * dk,
                                    S.begin() + (s * H + h + 1) * dv * dk),
                S1);
    }
  // state_transposed: the same states stored as S^T.
  std::vector<double> S0t(S0.size()), St(S0.size()), ot(o.size());
  for (index_t sh = 0; sh < N * H; ++sh)
    for (index_t r = 0; r < dv; ++r)
      for (index_t c = 0; c < dk; ++c)
        S0t[sh * dv * dk + c * dv + r] = S0[sh * dv * dk + r * dk + c];
  DeltaInputs<double> int_ = in;
  int_.initial_state = S0t.data();
  opt.state_transposed = true;
  ASSERT_EQ(delta_forward(WyFamily::gated, L, int_, ot.data(), St.data(), opt), Status::ok);
  EXPECT_EQ(ot, o);
  for (index_t sh = 0; sh < N * H; ++sh)
    for (index_t r = 0; r < dv; ++r)
      for (index_t c = 0; c < dk; ++c)
        EXPECT_EQ(St[sh * dv * dk + c * dv + r], S[sh * dv * dk + r * dk + c]);
}

TEST(DeltaForward, BadInputIsRejectedOrFlagged) {
  ChunkLayout L;
  L.length = 64;
  L.chunk = 48;
  std::vector<double> q(64 * 4, 0.5), k(64 * 4, 0.5), v(64 * 3, 1.0), beta(64, 0.5), o(64 * 3);
  const DeltaInputs<double> in{q.data(), k.data(), v.data(), beta.data(), nullptr, nullptr,
                               4,        3,        0};
  EXPECT_THROW(delta_forward(WyFamily::deltanet, L, in, o.data(), nullptr),
               std::invalid_argument);  // C = 48
  L.chunk = 16;
  EXPECT_THROW(delta_forward(WyFamily::dplr, L, in, o.data(), nullptr), std::invalid_argument);
  EXPECT_THROW(delta_forward(WyFamily::gated, L, in, o.data(), nullptr),
               std::invalid_argument);  // g null
  DeltaInputs<double> noq = in;
  noq.q = nullptr;
  EXPECT_THROW(delta_forward(WyFamily::deltanet, L, noq, o.data(), nullptr), std::invalid_argument);
  EXPECT_THROW(delta_forward(WyFamily::deltanet, L, in, nullptr, nullptr), std::invalid_argument);
  // A NaN query in chunk 1: that chunk and the later ones are flagged, the earlier one is not.
  q[20 * 4] = std::nan("");
  std::vector<Status> st(4);
  EXPECT_EQ(delta_forward(WyFamily::deltanet, L, in, o.data(), nullptr, {}, st.data()),
            Status::nonfinite_input);
  EXPECT_EQ(st[0], Status::ok);
  EXPECT_EQ(st[1], Status::nonfinite_input);
  EXPECT_EQ(st[3], Status::nonfinite_input);
  EXPECT_TRUE(std::isfinite(o[0]));
  EXPECT_TRUE(std::isnan(o[20 * 3]));
}
