// make_chunk_problem: the [B, T, H, BT] chunk matrices equal the single-matrix formula
// applied to each chunk's rows (recomputed here by plain loops from the returned
// tensors), chunks and gate sums restart at sequence starts, padding stays zero.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "validation/generators.hpp"

namespace triscan::validation {
namespace {

constexpr double u = 0x1.0p-53;
double gamma(index_t n) { return double(n) * u / (1.0 - double(n) * u); }

GeneratorParams params(const std::string& name, std::uint64_t seed) {
  GeneratorParams p;
  p.name = name;
  p.seed = seed;
  const auto& o = generator_info(name).options;
  if (std::find(o.begin(), o.end(), "dk") != o.end()) {
    p.dk = 16;
    p.dv = 8;
  }
  return p;
}

ChunkLayout layout(index_t B, index_t T, index_t H, index_t BT, std::vector<std::int64_t> cu = {}) {
  ChunkLayout l;
  l.batch = B;
  l.length = T;
  l.heads = H;
  l.chunk = BT;
  l.cu_seqlens = std::move(cu);
  return l;
}

std::string context(const GeneratorParams& p, const ChunkLayout& l, const ChunkRef* c = nullptr) {
  std::ostringstream s;
  s << "generator=" << p.name << " seed=" << p.seed << " B=" << l.batch << " T=" << l.length << " H=" << l.heads
    << " BT=" << l.chunk << " cu_seqlens=" << l.cu_seqlens.size() << " entries format=fp64";
  if (p.scale) s << " scale=" << *p.scale;
  if (c) s << " chunk(b=" << c->batch << ", start=" << c->start << ", size=" << c->size << ", h=" << c->head << ")";
  return s.str();
}

// Element (b, t, h, c) of a [B, T, heads(, w)] tensor.
double at(const Tensor& x, index_t b, index_t t, index_t h, index_t c = 0) {
  const index_t w = x.shape.size() == 4 ? x.shape[3] : 1;
  return x.data[((b * x.shape[1] + t) * x.shape[2] + h) * w + c];
}

// The chunk's N recomputed from the tensors: in-chunk cumulative gates, then the
// formula of docs/generators.md, with the error bound of the dot products it contains
// (gamma_{dk+3} for each side, Higham ASNA (3.5)) plus 64u for exp (test_random).
void check_chunk(const std::string& name, const ChunkProblem& P, const ChunkRef& c, const std::string& ctx) {
  const Tensors& x = P.tensors;
  const Tensor& A = x.at("A");
  const index_t BT = P.layout.chunk, H = P.layout.heads;
  const index_t hk = c.head * P.key_heads / H;
  const bool token = x.count("k") != 0;
  const index_t dk = token ? x.at("k").shape[3] : 0;
  const bool gates = x.count("g_token") != 0;
  const index_t gw = gates ? (x.at("g_token").shape.size() == 4 ? dk : 1) : 0;
  std::vector<double> g(static_cast<std::size_t>(c.size * std::max<index_t>(gw, 1)), 0.0);
  for (index_t i = 0; i < c.size; ++i)
    for (index_t ch = 0; ch < gw; ++ch) {
      g[i * gw + ch] = at(x.at("g_token"), c.batch, c.start + i, c.head, ch) + (i > 0 ? g[(i - 1) * gw + ch] : 0.0);
      ASSERT_EQ(at(x.at("g"), c.batch, c.start + i, c.head, ch), g[i * gw + ch]) << ctx << " g at row " << i;
    }
  for (index_t i = 0; i < BT; ++i) {  // rows beyond the chunk belong to no chunk matrix of this head
    for (index_t j = 0; j < BT; ++j) {
      const double got = i < c.size ? A.data[c.offset + i * P.layout.row_stride() + j] : 0.0;
      if (i >= c.size) continue;
      if (j >= i) {
        ASSERT_EQ(got, 0.0) << ctx << " (" << i << "," << j << ") on/above the diagonal or padding";
        continue;
      }
      double want = 0.0, mag = 0.0;
      const index_t ti = c.start + i, tj = c.start + j;
      if (name == "ones") want = 1.0;
      else if (name == "block-ones") want = i / 16 == j / 16 ? 1.0 : 0.0;
      else if (name == "dplr") {
        for (index_t ch = 0; ch < dk; ++ch) {
          const double t = at(x.at("a"), c.batch, ti, c.head, ch) * at(x.at("b"), c.batch, tj, c.head, ch) *
                           std::exp(g[i * gw + ch] - g[j * gw + ch]);
          want += t;
          mag += std::fabs(t);
        }
      } else {
        const double beta = at(x.at("beta"), c.batch, ti, c.head);
        for (index_t ch = 0; ch < dk; ++ch) {
          double t = beta * at(x.at("k"), c.batch, ti, hk, ch) * at(x.at("k"), c.batch, tj, hk, ch);
          if (gw > 1) t *= std::exp(g[i * gw + ch] - g[j * gw + ch]);
          want += t;
          mag += std::fabs(t);
        }
        if (gw == 1) {
          want *= std::exp(g[i] - g[j]);
          mag *= std::exp(g[i] - g[j]);
        }
      }
      ASSERT_NEAR(got, want, (2 * gamma(dk + 3) + 64 * u) * mag) << ctx << " N(" << i << "," << j << ")";
    }
  }
}

void check_problem(const GeneratorParams& p, const ChunkLayout& l, index_t key_heads = 0) {
  const ChunkProblem P = make_chunk_problem(p, l, key_heads);
  const std::string ctx = context(p, l);
  const Tensor& A = P.tensors.at("A");
  ASSERT_EQ(A.shape, (std::vector<index_t>{l.batch, l.length, l.heads, l.chunk})) << ctx;
  // Every element that is not in a chunk's strictly lower part is exactly zero.
  std::vector<char> inside(A.data.size(), 0);
  for (const ChunkRef& c : enumerate_chunks(l)) {
    check_chunk(p.name, P, c, context(p, l, &c));
    for (index_t i = 0; i < c.size; ++i)
      for (index_t j = 0; j < i; ++j) inside[c.offset + i * l.row_stride() + j] = 1;
  }
  for (std::size_t e = 0; e < A.data.size(); ++e)
    if (!inside[e]) {
      ASSERT_EQ(A.data[e], 0.0) << ctx << " element " << e << " outside every chunk matrix";
    }
}

TEST(ChunkProblem, TensorShapesFollowTheLayout) {
  auto p = params("kda", 1);
  const auto l = layout(2, 50, 4, 16);
  const ChunkProblem P = make_chunk_problem(p, l, 2);
  EXPECT_EQ(P.key_heads, 2);
  EXPECT_EQ(P.tensors.at("k").shape, (std::vector<index_t>{2, 50, 2, 16}));
  EXPECT_EQ(P.tensors.at("q").shape, (std::vector<index_t>{2, 50, 2, 16}));
  EXPECT_EQ(P.tensors.at("v").shape, (std::vector<index_t>{2, 50, 4, 8}));
  EXPECT_EQ(P.tensors.at("beta").shape, (std::vector<index_t>{2, 50, 4}));
  EXPECT_EQ(P.tensors.at("g").shape, (std::vector<index_t>{2, 50, 4, 16}));
  EXPECT_EQ(make_chunk_problem(params("gated", 1), l).tensors.at("g").shape, (std::vector<index_t>{2, 50, 4}));
  EXPECT_EQ(make_chunk_problem(params("ones", 1), l).tensors.size(), 1u);  // "A" only
}

TEST(ChunkProblem, ChunkMatricesFollowTheFormulaWithPartialChunksAndGroupedHeads) {
  for (const char* name : {"deltanet", "deltanet-correlated", "gated", "kda", "dplr", "ones", "block-ones"}) {
    auto p = params(name, 3);
    check_problem(p, layout(2, 45, 2, 16));      // 45 = 2*16 + 13: a partial last chunk
    check_problem(p, layout(1, 40, 4, 32), 2);   // value heads 0,1 -> key head 0; 2,3 -> 1
  }
}

TEST(ChunkProblem, VarlenChunksRestartAtSequenceStarts) {
  const auto l = layout(1, 100, 2, 16, {0, 37, 37, 90, 100});  // includes an empty sequence
  for (const char* name : {"gated", "kda", "deltanet-equal"}) {
    auto p = params(name, 4);
    check_problem(p, l);
  }
  // The cumulative gate at every sequence start is that token's own log-decay.
  const ChunkProblem P = make_chunk_problem(params("gated", 4), l);
  for (index_t t : {0, 37, 53, 90})
    for (index_t h = 0; h < 2; ++h)
      EXPECT_EQ(at(P.tensors.at("g"), 0, t, h), at(P.tensors.at("g_token"), 0, t, h)) << "t=" << t << " h=" << h;
}

TEST(ChunkProblem, OneChunkOfNTokensIsTheSingleMatrixGenerator) {
  // B = H = 1, T = BT = n: bit-identical to generate(); and the first chunk of a longer
  // sequence is the same matrix (streams are read token by token).
  for (const auto& info : generators()) {
    if (!info.chunkable) continue;
    auto p = params(info.name, 6);
    p.n = 24;
    const Generated g = generate(p);
    for (index_t T : {24, 70}) {
      const ChunkProblem P = make_chunk_problem(p, layout(1, T, 1, 24));
      const Tensor& A = P.tensors.at("A");
      for (index_t i = 0; i < 24; ++i)
        for (index_t j = 0; j < i; ++j)
          ASSERT_EQ(A.data[i * 24 + j], g.L(i, j)) << context(p, P.layout) << " (" << i << "," << j << ")";
      for (const auto& [name, t] : g.tensors)
        for (std::size_t e = 0; e < t.data.size(); ++e)
          ASSERT_EQ(P.tensors.at(name).data[e], t.data[e]) << context(p, P.layout) << " tensor " << name;
    }
  }
}

TEST(ChunkProblem, ScaleHitsTheTargetInEveryChunkAndTheTensorsFollow) {
  for (const char* name : {"deltanet", "gated", "dplr", "gaussian", "ones"}) {
    auto p = params(name, 5);
    p.scale = 37.0;
    const auto l = layout(1, 50, 2, 16, {0, 20, 50});
    const ChunkProblem P = make_chunk_problem(p, l);
    for (const ChunkRef& c : enumerate_chunks(l)) {
      double norm = 0.0;
      for (index_t i = 0; i < c.size; ++i) {
        double s = 0.0;
        for (index_t j = 0; j < i; ++j) s += std::fabs(P.tensors.at("A").data[c.offset + i * l.row_stride() + j]);
        norm = std::max(norm, s);
      }
      // |norm - target| <= gamma_{BT+1} target (one rounding per entry, the test's sums).
      if (c.size > 1) {
        EXPECT_NEAR(norm, 37.0, gamma(l.chunk + 1) * 37.0) << context(p, l, &c);
      }
    }
    if (generator_info(name).options.size() > 1) check_problem(p, l);  // token kinds: tensors still generate A
  }
}

TEST(ChunkProblem, RejectsNonUnitGeneratorsAndBadHeadGroups) {
  const auto l = layout(1, 32, 4, 16);
  try {
    make_chunk_problem(params("lapack-3", 1), l);
    ADD_FAILURE() << "lapack-3 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("lapack-3"), std::string::npos) << e.what();
  }
  try {
    make_chunk_problem(params("deltanet", 1), l, 3);
    ADD_FAILURE() << "key_heads = 3 with H = 4 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("key_heads"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_chunk_problem(params("deltanet", 1), layout(1, 32, 0, 16)), std::invalid_argument);
}

}  // namespace
}  // namespace triscan::validation
