// Method-spec parsing and the [B, T, H, BT] chunk layout: exact, hand-derived answers.
#include <gtest/gtest.h>

#include "triscan/matrix.hpp"
#include "triscan/registry.hpp"
#include "triscan/status.hpp"

namespace triscan {
namespace {

TEST(MethodSpec, ParsesNameAndParameters) {
  const auto s = MethodSpec::parse("trinv/newton_schulz:start=scaled,iters=14");
  EXPECT_EQ(s.name, "trinv/newton_schulz");
  EXPECT_EQ(s.get_string("start", "identity", {"identity", "scaled"}), "scaled");
  EXPECT_EQ(s.get_int("iters", 0, 1, 100), 14);
  EXPECT_EQ(s.to_string(), "trinv/newton_schulz:iters=14,start=scaled");
}

TEST(MethodSpec, NestedSpecInParentheses) {
  const auto s = MethodSpec::parse("trinv/refine:base=(trinv/newton_schulz:start=scaled,iters=14),steps=2");
  EXPECT_EQ(s.params.at("base"), "trinv/newton_schulz:start=scaled,iters=14");
  EXPECT_EQ(s.get_int("steps", 1, 0, 10), 2);
  EXPECT_EQ(MethodSpec::parse(s.params.at("base")).get_int("iters", 0, 1, 100), 14);
}

TEST(MethodSpec, RejectsMalformedSpecsNamingTheToken) {
  EXPECT_THROW(MethodSpec::parse(""), std::invalid_argument);
  EXPECT_THROW(MethodSpec::parse("trinv/blocked:nb"), std::invalid_argument);
  EXPECT_THROW(MethodSpec::parse("trinv/blocked:nb=1,nb=2"), std::invalid_argument);
  EXPECT_THROW(MethodSpec::parse("trinv/blocked:nb=1,"), std::invalid_argument);
  const auto s = MethodSpec::parse("trinv/blocked:nb=abc,zz=1");
  try {
    s.get_int("nb", 32, 1, 4096);
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("nb=abc"), std::string::npos) << e.what();
  }
  EXPECT_THROW(s.check_keys({"nb"}), std::invalid_argument);
  EXPECT_THROW(MethodSpec::parse("m:k=5").get_int("k", 0, 6, 9), std::invalid_argument);
}

TEST(Status, WorstIsTheLaterInTheOrder) {
  EXPECT_EQ(worst(Status::ok, Status::overflow), Status::overflow);
  EXPECT_EQ(worst(Status::unsupported, Status::inaccurate), Status::unsupported);
  EXPECT_EQ(status_name(Status::nonfinite_input), "nonfinite_input");
}

TEST(ChunkLayout, FixedLengthChunksAndOffsets) {
  ChunkLayout L{2, 100, 3, 32, {}};
  const auto chunks = enumerate_chunks(L);
  // ceil(100/32) = 4 chunks per batch entry, 3 heads, 2 entries.
  ASSERT_EQ(chunks.size(), 2u * 4u * 3u);
  EXPECT_EQ(chunk_count(L), 8);
  const auto& last = chunks.back();
  EXPECT_EQ(last.batch, 1);
  EXPECT_EQ(last.start, 96);
  EXPECT_EQ(last.size, 4);  // partial last chunk
  EXPECT_EQ(last.head, 2);
  EXPECT_EQ(last.offset, ((1 * 100 + 96) * 3 + 2) * 32);
}

TEST(ChunkLayout, VarlenChunksRestartAtSequenceStarts) {
  ChunkLayout L{1, 50, 1, 16, {0, 20, 20, 50}};  // an empty sequence in the middle
  const auto chunks = enumerate_chunks(L);
  std::vector<std::pair<index_t, index_t>> got;
  for (const auto& c : chunks) got.emplace_back(c.start, c.size);
  const std::vector<std::pair<index_t, index_t>> want = {{0, 16}, {16, 4}, {20, 16}, {36, 14}};
  EXPECT_EQ(got, want);
}

TEST(ChunkLayout, RejectsBadLayoutsNamingTheField) {
  auto expect_message = [](ChunkLayout L, const std::string& needle) {
    try {
      L.validate();
      ADD_FAILURE() << "expected invalid_argument containing '" << needle << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_message({2, 10, 1, 16, {0, 10}}, "requires batch B == 1");
  expect_message({1, 10, 1, 16, {1, 10}}, "cu_seqlens[0]");
  expect_message({1, 10, 1, 16, {0, 8, 4, 10}}, "non-decreasing");
  expect_message({1, 10, 1, 16, {0, 9}}, "must end at T");
  expect_message({1, 10, 0, 16, {}}, "heads");
  expect_message({1, 10, 1, 0, {}}, "chunk size");
}

TEST(MatrixView, StridesAndAliasingChecks) {
  std::vector<double> buf(12);
  for (int i = 0; i < 12; ++i) buf[i] = i;
  auto rm = MatrixView<double>::row_major(buf.data(), 3, 4);
  auto cm = MatrixView<double>::col_major(buf.data(), 3, 4);
  EXPECT_EQ(rm(1, 2), 6.0);
  EXPECT_EQ(cm(1, 2), 7.0);
  EXPECT_EQ(rm.transposed()(2, 1), 6.0);
  EXPECT_NO_THROW(check_view(rm, "rm"));
  MatrixView<double> bad{buf.data(), 3, 4, 2, 1};  // rows overlap
  EXPECT_THROW(check_view(bad, "bad"), std::invalid_argument);
  MatrixView<double> null{nullptr, 2, 2, 2, 1};
  EXPECT_THROW(check_view(null, "null"), std::invalid_argument);
  BatchView<double> overlap{buf.data(), 2, 3, 2, 2, 2, 1};
  EXPECT_THROW(check_batch(overlap, "overlap"), std::invalid_argument);
}

}  // namespace
}  // namespace triscan
