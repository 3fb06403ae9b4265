// Chunk WY over the [B, T, H, ·] layout: variable-length sequences, partial chunks and
// grouped key heads give, chunk by chunk, exactly (bit for bit: the same code on the
// same numbers) what a single-chunk call on that chunk's rows gives; the thread count
// never changes a bit; the chunk matrix equals the generator's; bad input is rejected.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "triscan/wy.hpp"
#include "validation/generators.hpp"

using namespace triscan;
using namespace triscan::validation;

namespace {

struct Problem {
  ChunkProblem p;
  WyFamily family;
  index_t dk, dv, Hk;
};

Problem make(const std::string& gen, WyFamily family, ChunkLayout layout, index_t key_heads) {
  GeneratorParams gp;
  gp.name = gen;
  gp.seed = 5;
  gp.dk = 12;
  gp.dv = 7;
  Problem pr{make_chunk_problem(gp, layout, key_heads), family, 12, 7,
             key_heads == 0 ? layout.heads : key_heads};
  return pr;
}

const double* ptr(const Problem& pr, const char* name) {
  auto it = pr.p.tensors.find(name);
  return it == pr.p.tensors.end() ? nullptr : it->second.data.data();
}

WyInputs<double> inputs(const Problem& pr) {
  return {ptr(pr, "k"), ptr(pr, "v"), ptr(pr, "beta"), ptr(pr, "g_token"),
          ptr(pr, "a"), ptr(pr, "b"), pr.dk,           pr.dv,
          pr.Hk};
}

// Copies `width` values per row of rows [start, start + m) of head `head` of a
// [B, T, heads, width] tensor.
std::vector<double> slice(const double* x, index_t b, index_t T, index_t heads, index_t head,
                          index_t width, index_t start, index_t m) {
  std::vector<double> out;
  if (x == nullptr) return out;
  for (index_t i = 0; i < m; ++i) {
    const double* row = x + ((b * T + start + i) * heads + head) * width;
    out.insert(out.end(), row, row + width);
  }
  return out;
}

void check_against_single_chunks(const Problem& pr, const Precision& prec) {
  const ChunkLayout& L = pr.p.layout;
  const index_t rows = L.batch * L.length, H = L.heads;
  const bool per_channel = pr.family == WyFamily::kda || pr.family == WyFamily::dplr;
  const index_t gw = per_channel ? pr.dk : 1;
  WyOptions opt;
  opt.precision = prec;
  opt.threads = 3;
  std::vector<double> w(rows * H * pr.dk, -7.0), u(rows * H * pr.dv, -7.0), A(L.elements(), 0.0);
  std::vector<Status> st(static_cast<std::size_t>(chunk_count(L) * H));
  ASSERT_EQ(chunk_wy(pr.family, L, inputs(pr), {w.data(), u.data(), A.data()}, opt, st.data()),
            Status::ok);
  // One thread: the same bits.
  opt.threads = 1;
  std::vector<double> w1(w.size()), u1(u.size());
  chunk_wy(pr.family, L, inputs(pr), {w1.data(), u1.data()}, opt);
  EXPECT_EQ(w, w1);
  EXPECT_EQ(u, u1);
  // In fp64 the chunk matrices agree with the generator's N (its own dot products of
  // length dk = 12 and exponentials: |dN| <= (dk + 4) u sum|a||b| <= 16 u (1 + |N|), unit
  // keys, beta, alpha <= 1), which checks both implement the same formula.
  if (prec.is_native(format_by_name("fp64"))) {
    const auto& Agen = pr.p.tensors.at("A").data;
    for (std::size_t i = 0; i < A.size(); ++i)
      ASSERT_NEAR(A[i], Agen[i], 16 * 1.11e-16 * (1 + std::fabs(Agen[i]))) << i;
  }

  const std::vector<ChunkRef> chunks = enumerate_chunks(L);
  for (std::size_t ci = 0; ci < chunks.size(); ++ci) {
    const ChunkRef& c = chunks[ci];
    SCOPED_TRACE("chunk " + std::to_string(ci) + " batch " + std::to_string(c.batch) + " start " +
                 std::to_string(c.start) + " size " + std::to_string(c.size) + " head " +
                 std::to_string(c.head));
    EXPECT_EQ(st[ci], Status::ok);
    const index_t m = c.size, h = c.head, kh = h * pr.Hk / H;
    const auto k = slice(ptr(pr, "k"), c.batch, L.length, pr.Hk, kh, pr.dk, c.start, m);
    const auto v = slice(ptr(pr, "v"), c.batch, L.length, H, h, pr.dv, c.start, m);
    const auto beta = slice(ptr(pr, "beta"), c.batch, L.length, H, h, 1, c.start, m);
    const auto g = slice(ptr(pr, "g_token"), c.batch, L.length, H, h, gw, c.start, m);
    const auto a = slice(ptr(pr, "a"), c.batch, L.length, H, h, pr.dk, c.start, m);
    const auto b = slice(ptr(pr, "b"), c.batch, L.length, H, h, pr.dk, c.start, m);
    auto d = [](const std::vector<double>& x) { return x.empty() ? nullptr : x.data(); };
    ChunkLayout one;
    one.length = m;
    one.chunk = m;
    std::vector<double> ws(m * pr.dk), us(m * pr.dv);
    WyOptions o1;
    o1.precision = prec;
    ASSERT_EQ(chunk_wy(pr.family, one, {d(k), d(v), d(beta), d(g), d(a), d(b), pr.dk, pr.dv, 0},
                       {ws.data(), us.data()}, o1),
              Status::ok);
    EXPECT_EQ(slice(w.data(), c.batch, L.length, H, h, pr.dk, c.start, m), ws);
    EXPECT_EQ(slice(u.data(), c.batch, L.length, H, h, pr.dv, c.start, m), us);
  }
  // Every row was written (no -7 left): the chunks tile the sequences.
  for (double x : w) ASSERT_NE(x, -7.0);
}

}  // namespace

TEST(ChunkWyLayout, VarlenPartialChunksGroupedHeadsMatchSingleChunkCalls) {
  ChunkLayout L;
  L.length = 150;
  L.heads = 4;
  L.chunk = 32;
  L.cu_seqlens = {0, 37, 100, 101, 150};  // partial chunks, a one-token sequence
  const Precision fp64 = Precision::uniform(format_by_name("fp64"));
  check_against_single_chunks(make("deltanet", WyFamily::deltanet, L, 2), fp64);
  check_against_single_chunks(make("gated", WyFamily::gated, L, 2), fp64);
  check_against_single_chunks(make("kda", WyFamily::kda, L, 1), fp64);
  check_against_single_chunks(make("dplr", WyFamily::dplr, L, 0), fp64);
  // Simulated bf16 (round to nearest: no random stream) follows the same rule.
  check_against_single_chunks(make("gated", WyFamily::gated, L, 2),
                              Precision::uniform(format_by_name("bf16")));
}

TEST(ChunkWyLayout, BatchWithPartialLastChunk) {
  ChunkLayout L;
  L.batch = 2;
  L.length = 70;
  L.heads = 2;
  L.chunk = 16;
  check_against_single_chunks(make("kda", WyFamily::kda, L, 0),
                              Precision::uniform(format_by_name("fp64")));
}

TEST(ChunkWyLayout, Fp32NativeMatchesDoubleToFp32Accuracy) {
  ChunkLayout L;
  L.length = 64;
  L.heads = 2;
  L.chunk = 32;
  const Problem pr = make("gated", WyFamily::gated, L, 0);
  const index_t rows = 64 * 2;
  std::vector<double> w(rows * 12), u(rows * 7);
  chunk_wy(WyFamily::gated, L, inputs(pr), {w.data(), u.data()});
  auto f = [](const char* name, const Problem& p) {
    const auto& x = p.p.tensors.at(name).data;
    return std::vector<float>(x.begin(), x.end());
  };
  const auto k = f("k", pr), v = f("v", pr), beta = f("beta", pr), g = f("g_token", pr);
  std::vector<float> wf(w.size()), uf(u.size());
  WyOptions o;
  o.precision = Precision::uniform(format_by_name("fp32"));
  ASSERT_EQ(chunk_wy(WyFamily::gated, L,
                     {k.data(), v.data(), beta.data(), g.data(), nullptr, nullptr, 12, 7, 0},
                     {wf.data(), uf.data()}, o),
            Status::ok);
  // Loose sanity bound (the MPFR tests carry the derived one): fp32 u = 6e-8, C = 32.
  double err = 0, ref = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    err = std::max(err, std::fabs(wf[i] - w[i]));
    ref = std::max(ref, std::fabs(w[i]));
  }
  EXPECT_LT(err / ref, 1e-5);
  // The float overload under a simulated precision runs on double copies.
  o.precision = Precision::uniform(format_by_name("bf16"));
  std::vector<float> wb(w.size()), ub(u.size());
  EXPECT_EQ(chunk_wy(WyFamily::gated, L,
                     {k.data(), v.data(), beta.data(), g.data(), nullptr, nullptr, 12, 7, 0},
                     {wb.data(), ub.data()}, o),
            Status::ok);
  for (float x : wb)
    EXPECT_EQ(static_cast<double>(x), round(x, format_by_name("bf16"), Rounding::nearest_even));
}

TEST(ChunkWyLayout, NonFiniteInputFlagsOnlyItsChunk) {
  ChunkLayout L;
  L.length = 64;
  L.heads = 2;
  L.chunk = 16;
  Problem pr = make("deltanet", WyFamily::deltanet, L, 0);
  pr.p.tensors.at("v").data[(20 * 2 + 1) * 7 + 3] =
      std::numeric_limits<double>::quiet_NaN();  // t=20, head 1
  std::vector<double> w(64 * 2 * 12), u(64 * 2 * 7);
  std::vector<Status> st(4 * 2);
  EXPECT_EQ(chunk_wy(WyFamily::deltanet, L, inputs(pr), {w.data(), u.data()}, {}, st.data()),
            Status::nonfinite_input);
  for (std::size_t i = 0; i < st.size(); ++i)
    EXPECT_EQ(st[i], i == 3 ? Status::nonfinite_input : Status::ok) << i;  // chunk 1, head 1
  EXPECT_TRUE(std::isnan(u[(20 * 2 + 1) * 7]));
  EXPECT_TRUE(std::isfinite(u[(20 * 2 + 0) * 7]));
}

TEST(ChunkWyLayout, BadArgumentsThrowNamingThem) {
  ChunkLayout L;
  L.length = 32;
  L.heads = 4;
  L.chunk = 16;
  const Problem pr = make("gated", WyFamily::gated, L, 2);
  std::vector<double> w(32 * 4 * 12), u(32 * 4 * 7);
  auto expect_throw = [&](WyFamily f, WyInputs<double> in, WyOutputs<double> out,
                          const std::string& word, WyOptions o = {}) {
    try {
      chunk_wy(f, L, in, out, o);
      ADD_FAILURE() << "no exception, expected one naming " << word;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  WyInputs<double> in = inputs(pr);
  WyOutputs<double> out{w.data(), u.data()};
  auto bad = in;
  bad.k = nullptr;
  expect_throw(WyFamily::gated, bad, out, "k");
  bad = in;
  bad.g = nullptr;
  expect_throw(WyFamily::gated, bad, out, "g");
  bad = in;
  bad.key_heads = 3;
  expect_throw(WyFamily::gated, bad, out, "key_heads");
  bad = in;
  bad.dk = 0;
  expect_throw(WyFamily::gated, bad, out, "dk");
  expect_throw(WyFamily::dplr, in, out, "a");
  expect_throw(WyFamily::gated, in, {w.data(), nullptr}, "u");
  // w aliasing v
  expect_throw(WyFamily::gated, in, {const_cast<double*>(in.v), u.data()}, "overlaps");
  WyOptions o;
  o.method = MethodSpec::parse("trinv/no_such_method");
  expect_throw(WyFamily::gated, in, out, "trinv/no_such_method", o);
  ChunkLayout badL = L;
  badL.cu_seqlens = {0, 10, 31};  // does not end at length
  EXPECT_THROW(chunk_wy(WyFamily::gated, badL, in, out), std::invalid_argument);
  // DeltaProduct: the chunk must hold C n_h steps.
  EXPECT_THROW(chunk_wy_deltaproduct(3, WyFamily::gated, L, in, out), std::invalid_argument);
  EXPECT_THROW(chunk_wy_deltaproduct(2, WyFamily::kda, L, in, out), std::invalid_argument);
  EXPECT_THROW(wy_family_by_name("gatd"), std::invalid_argument);
}
