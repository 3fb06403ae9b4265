// The public driver of include/triscan/trinv.hpp: argument errors, the input and
// output contracts, every status on a crafted input (and what X then holds), views of
// any strides, batches whose results do not depend on the thread count, and the
// [B, T, H, BT] chunk layout (padding and other heads never touched).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/trinv/trinv_test_util.hpp"
#include "validation/generators.hpp"

namespace triscan {
namespace {

const double nan = std::numeric_limits<double>::quiet_NaN();
const MethodSpec fs = MethodSpec::parse("trinv/forward_substitution");

std::string what_of(const std::invalid_argument& e) { return e.what(); }

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return what_of(e);
  }
  return "(no exception)";
}

// ---- Argument errors --------------------------------------------------------------------

TEST(TrinvDriver, RejectsBadArgumentsNamingTheBadThing) {
  Matrix<double> A = Matrix<double>::identity(4), X(4, 4), R(4, 3);
  EXPECT_NE(error_of([&] { invert(fs, R.view(), R.view()); }).find("square"), std::string::npos);
  Matrix<double> X3(3, 3);
  EXPECT_NE(error_of([&] { invert(fs, A.view(), X3.view()); }).find("X is 3x3"), std::string::npos);
  EXPECT_NE(error_of([&] { invert(fs, A.view(), A.view()); }).find("overlaps"), std::string::npos);
  // X overlapping A partially (shifted by one row) is rejected too.
  Matrix<double> big(5, 4);
  MatrixView<double> top = big.view().block(0, 0, 4, 4), bottom = big.view().block(1, 0, 4, 4);
  EXPECT_NE(error_of([&] { invert(fs, top, bottom); }).find("overlaps"), std::string::npos);
  const std::string unknown = error_of([&] { invert(MethodSpec::parse("trinv/nope"), A.view(), X.view()); });
  EXPECT_NE(unknown.find("trinv/nope"), std::string::npos) << unknown;
  for (const auto& m : trinv_methods()) EXPECT_NE(unknown.find(m.name), std::string::npos) << unknown;
  EXPECT_NE(error_of([&] { invert(MethodSpec::parse("trinv/blocked:zz=1"), A.view(), X.view()); }).find("zz"),
            std::string::npos);
  EXPECT_NE(error_of([&] { invert(MethodSpec::parse("trinv/blocked:nb=0"), A.view(), X.view()); }).find("nb=0"),
            std::string::npos);
  EXPECT_NE(error_of([&] { invert(MethodSpec::parse("trinv/forward_substitution:nb=2"), A.view(), X.view()); })
                .find("nb"),
            std::string::npos);
  MatrixView<double> aliasing{X.data(), 4, 4, 1, 1};
  EXPECT_NE(error_of([&] { invert(fs, A.view(), aliasing); }).find("overlap"), std::string::npos);
  EXPECT_NE(error_of([] { trinv_method("trinv/none"); }).find("trinv/forward_substitution"), std::string::npos);
}

TEST(TrinvDriver, RegistryListsTheDirectMethodsWithMetadata) {
  for (const char* name : {"trinv/forward_substitution", "trinv/forward_substitution_row", "trinv/blocked",
                           "trinv/recursive", "trinv/recursive_merge"}) {
    const TrinvMethodInfo& m = trinv_method(name);
    EXPECT_EQ(m.family, "direct") << name;
    EXPECT_FALSE(m.stability.empty()) << name;
    EXPECT_FALSE(m.flops_formula.empty()) << name;
    // Every direct method costs n^3/3 multiply-add pairs to leading order on L (the
    // merge's dense products cost twice that): check the leading term at n = 1024.
    const double ratio = m.flops(1024) / (1024.0 * 1024.0 * 1024.0 / 3.0);
    EXPECT_NEAR(ratio, m.name == "trinv/recursive_merge" ? 2.0 : 1.0, 0.05) << name;
  }
  // n = 3: 4 multiply-adds (x10: 1, x20: 2, x21: 1) = 8 flops = (27 - 3)/3.
  EXPECT_EQ(trinv_method("trinv/forward_substitution").flops(3), 8.0);
}

// ---- Input and output contracts -----------------------------------------------------------

// NaN above the diagonal and on a unit diagonal is never read; the output has exactly 1
// on the diagonal and 0 above it, for every registered method.
TEST(TrinvDriver, InputContractIgnoresUpperPartAndUnitDiagonal) {
  const index_t n = 9;
  const auto Li = trinv_test::integer_lower(n, 7, true);
  Matrix<double> clean = trinv_test::to_real<double>(Li), dirty = clean;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = i; j < n; ++j) dirty(i, j) = nan;
  for (const auto& m : trinv_methods()) {
    Matrix<double> X1(n, n, 7.0), X2(n, n, -7.0);
    const auto spec = MethodSpec::parse(m.name);
    const auto r1 = invert(spec, clean.view(), X1.view()), r2 = invert(spec, dirty.view(), X2.view());
    EXPECT_EQ(r1.status, r2.status) << m.name;
    EXPECT_EQ(trinv_test::first_difference<double>(X1.view(), X2.view()), "") << m.name;
    for (index_t i = 0; i < n; ++i) {
      EXPECT_EQ(X2(i, i), 1.0) << m.name << " diagonal " << i;
      for (index_t j = i + 1; j < n; ++j) EXPECT_EQ(X2(i, j), 0.0) << m.name << " (" << i << ", " << j << ")";
    }
  }
}

// The output buffer's previous contents are never read: X filled with NaN beforehand gives
// the bits of X filled with zeros, with 1 on the diagonal and 0 above it, for every method
// at orders where the blocked methods' updates go to OpenBLAS (blocks of 64 and more) and
// the recursion reaches its base blocks (trinv/recursive no longer zeroes X first).
TEST(TrinvDriver, OutputBufferContentsAreNeverRead) {
  for (index_t n : {9, 130, 300}) {
    validation::GeneratorParams gp;
    gp.name = "deltanet";
    gp.n = n;
    gp.seed = 5;
    const Matrix<double> L = validation::generate(gp).L;
    for (const auto& m : trinv_methods()) {
      Matrix<double> X1(n, n, 0.0), X2(n, n, nan);
      const auto spec = MethodSpec::parse(m.name);
      const auto r1 = invert(spec, L.view(), X1.view()), r2 = invert(spec, L.view(), X2.view());
      EXPECT_EQ(r1.status, r2.status) << m.name << " n = " << n;
      EXPECT_EQ(trinv_test::first_difference<double>(X1.view(), X2.view()), "") << m.name << " n = " << n;
      index_t wrong = 0;
      for (index_t i = 0; i < n; ++i) {
        wrong += X2(i, i) != 1.0;
        for (index_t j = i + 1; j < n; ++j) wrong += X2(i, j) != 0.0;
      }
      EXPECT_EQ(wrong, 0) << m.name << " n = " << n << ": diagonal or upper entries not 1 / 0";
    }
  }
}

// Triangle::upper reads only the upper triangle (NaN below is ignored) and writes 0 below.
TEST(TrinvDriver, UpperInputReadsOnlyTheUpperTriangle) {
  Matrix<double> A(3, 3, nan), X(3, 3, 5.0);
  A(0, 0) = 2, A(0, 1) = 1, A(1, 1) = 4, A(0, 2) = 0, A(1, 2) = 0, A(2, 2) = 1;
  TrinvOptions o;
  o.triangle = Triangle::upper;
  o.diagonal = Diagonal::non_unit;
  ASSERT_EQ(invert(fs, A.view(), X.view(), o).status, Status::ok);
  // [2 1; 0 4]^-1 = [1/2 -1/8; 0 1/4]
  EXPECT_EQ(X(0, 0), 0.5);
  EXPECT_EQ(X(0, 1), -0.125);
  EXPECT_EQ(X(1, 1), 0.25);
  EXPECT_EQ(X(2, 2), 1.0);
  EXPECT_EQ(X(1, 0), 0.0);
  EXPECT_EQ(X(2, 0), 0.0);
  EXPECT_EQ(X(2, 1), 0.0);
}

// Column-major and padded (row stride > n) views give bitwise the same result as the
// row-major contiguous one.
TEST(TrinvDriver, StridedAndColumnMajorViewsGiveTheSameResult) {
  const index_t n = 23;
  const auto Li = trinv_test::integer_lower(n, 3, false);
  for (const auto& m : trinv_methods()) {
    const auto spec = MethodSpec::parse(m.name);
    TrinvOptions o;
    o.diagonal = Diagonal::non_unit;
    Matrix<double> A = trinv_test::to_real<double>(Li), X(n, n);
    const Status s = invert(spec, A.view(), X.view(), o).status;
    std::vector<double> acm(n * n), xcm(n * n), apad(n * (n + 5)), xpad(n * (n + 5), 99.0);
    auto Acm = MatrixView<double>::col_major(acm.data(), n, n), Xcm = MatrixView<double>::col_major(xcm.data(), n, n);
    MatrixView<double> Apad{apad.data(), n, n, n + 5, 1}, Xpad{xpad.data(), n, n, n + 5, 1};
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j) Acm(i, j) = Apad(i, j) = A(i, j);
    EXPECT_EQ(invert(spec, Acm, Xcm, o).status, s) << m.name;
    EXPECT_EQ(invert(spec, Apad, Xpad, o).status, s) << m.name;
    EXPECT_EQ(trinv_test::first_difference<double>(X.view(), Xcm), "") << m.name << " column-major";
    EXPECT_EQ(trinv_test::first_difference<double>(X.view(), Xpad), "") << m.name << " padded rows";
    for (index_t i = 0; i < n; ++i)
      for (index_t j = n; j < n + 5; ++j) EXPECT_EQ(xpad[i * (n + 5) + j], 99.0) << m.name << " padding touched";
  }
}

// ---- Statuses -------------------------------------------------------------------------------

void expect_all_nan(const Matrix<double>& X, const std::string& what) {
  for (index_t i = 0; i < X.rows(); ++i)
    for (index_t j = 0; j < X.cols(); ++j) EXPECT_TRUE(std::isnan(X(i, j))) << what << " (" << i << ", " << j << ")";
}

TEST(TrinvDriver, NonfiniteInputIsReportedAndXIsNaN) {
  for (const auto& m : trinv_methods()) {
    Matrix<double> A = Matrix<double>::identity(5), X(5, 5);
    A(3, 1) = std::numeric_limits<double>::infinity();
    const auto r = invert(MethodSpec::parse(m.name), A.view(), X.view());
    EXPECT_EQ(r.status, Status::nonfinite_input) << m.name;
    EXPECT_NE(r.message.find("(3, 1)"), std::string::npos) << r.message;
    expect_all_nan(X, m.name);
  }
  // On a non-unit diagonal a NaN is input (read), not a singular pivot.
  Matrix<double> A = Matrix<double>::identity(3), X(3, 3);
  A(2, 2) = nan;
  TrinvOptions o;
  o.diagonal = Diagonal::non_unit;
  EXPECT_EQ(invert(fs, A.view(), X.view(), o).status, Status::nonfinite_input);
}

TEST(TrinvDriver, ZeroDiagonalIsSingularAndXIsNaN) {
  for (const auto& m : trinv_methods()) {
    if (!m.supports_non_unit) continue;
    Matrix<double> A = Matrix<double>::identity(6), X(6, 6);
    A(4, 4) = 0.0;
    A(5, 2) = 3.0;
    TrinvOptions o;
    o.diagonal = Diagonal::non_unit;
    const auto r = invert(MethodSpec::parse(m.name), A.view(), X.view(), o);
    EXPECT_EQ(r.status, Status::singular) << m.name;
    EXPECT_NE(r.message.find("(4, 4)"), std::string::npos) << r.message;
    expect_all_nan(X, m.name);
  }
}

// L = [1; a 1; 0 a 1] has x31 = a^2: with a = 1e200 it overflows fp64 natively, with
// a = 300 fp16 (max 65504). X holds the computed values, inf included.
TEST(TrinvDriver, OverflowIsReportedAndXHoldsTheComputedValues) {
  for (const auto& m : trinv_methods()) {
    if (m.family != "direct") continue;
    Matrix<double> A = Matrix<double>::identity(3), X(3, 3);
    A(1, 0) = A(2, 1) = 1e200;
    const auto r = invert(MethodSpec::parse(m.name), A.view(), X.view());
    EXPECT_EQ(r.status, Status::overflow) << m.name;
    EXPECT_EQ(X(1, 0), -1e200) << m.name;
    EXPECT_EQ(X(2, 0), std::numeric_limits<double>::infinity()) << m.name;

    A(1, 0) = A(2, 1) = 300.0;
    const auto r16 = invert(MethodSpec::parse(m.name), A.view(), X.view(),
                            trinv_test::options_for(format_by_name("fp16")));
    EXPECT_EQ(r16.status, Status::overflow) << m.name;
    EXPECT_EQ(X(1, 0), -300.0) << m.name;
    EXPECT_TRUE(std::isinf(X(2, 0))) << m.name << ": " << X(2, 0);
  }
}

// Finite but inaccurate output: with fp32 operands, accumulation and storage but fp16
// output, diag(1e6) is inverted to 1e-6 I, which fp16 can only hold as a subnormal,
// 17 * 2^-24 (1e-6 / 2^-24 = 16.78), a relative error of 1.3% that no method can avoid. The check's residual |l_ii x_ii - 1| / (|l_ii||x_ii|) = 0.013 then
// exceeds 4 (n+1) u = 4 * 4 * 2^-11 = 0.0078 and the result is flagged `inaccurate`, with
// the computed (finite) values in X. Every method, since the cause is the format.
TEST(TrinvDriver, InaccurateIsReportedWhenTheOutputFormatCannotHoldTheInverse) {
  const index_t n = 3;
  for (const auto& m : trinv_methods()) {
    if (!m.supports_non_unit) continue;
    Matrix<double> A(n, n), X(n, n), Y(n, n);
    for (index_t i = 0; i < n; ++i) A(i, i) = 1e6;
    auto o = trinv_test::options_for(format_by_name("fp32"), Triangle::lower, Diagonal::non_unit);
    o.precision.output = format_by_name("fp16");
    const auto r = invert(MethodSpec::parse(m.name), A.view(), X.view(), o);
    EXPECT_EQ(r.status, Status::inaccurate) << m.name << ", check residual " << r.check_residual;
    EXPECT_NEAR(r.check_residual, 17.0 * 0x1p-24 / 1e-6 - 1.0, 1e-3) << m.name;
    for (index_t i = 0; i < n; ++i) EXPECT_EQ(X(i, i), 17.0 * 0x1p-24) << m.name << " holds the computed values";
    // With the check off the same values come back unflagged, check_residual 0.
    o.check_accuracy = false;
    const auto r0 = invert(MethodSpec::parse(m.name), A.view(), Y.view(), o);
    EXPECT_EQ(r0.status, Status::ok) << m.name;
    EXPECT_EQ(r0.check_residual, 0.0) << m.name;
    EXPECT_EQ(trinv_test::first_difference<double>(X.view(), Y.view()), "") << m.name;
    // A representable inverse in the same format is not flagged: diag(1024) -> 2^-10 I.
    for (index_t i = 0; i < n; ++i) A(i, i) = 1024.0;
    o.check_accuracy = true;
    EXPECT_EQ(invert(MethodSpec::parse(m.name), A.view(), X.view(), o).status, Status::ok) << m.name;
  }
}

// ---- Batches --------------------------------------------------------------------------------

// A batch's results and statuses are bitwise identical for 1, 2 and 3 threads, in native
// fp64 and in simulated fp16 with stochastic rounding (each matrix's random stream is its
// index), and match single-matrix calls for the native path.
TEST(TrinvDriver, BatchResultsDoNotDependOnTheThreadCount) {
  const index_t n = 12, count = 37;
  std::vector<double> A(count * n * n), X1(count * n * n), X2(count * n * n), X3(count * n * n);
  for (index_t b = 0; b < count; ++b) {
    const auto Li = trinv_test::integer_lower(n, 1000 + b, true);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j) A[(b * n + i) * n + j] = 0.37 * double(Li(i, j));
  }
  A[(5 * n + 7) * n + 2] = nan;  // matrix 5: nonfinite_input
  auto in = BatchView<const double>::contiguous(A.data(), count, n, n);
  for (const char* spec : {"trinv/recursive_merge", "trinv/blocked:nb=5"}) {
    for (bool simulated : {false, true}) {
      TrinvOptions o;
      if (simulated) o.precision = Precision::uniform(format_by_name("fp16"), Rounding::stochastic);
      std::vector<Status> s1(count), s2(count), s3(count);
      const auto m = MethodSpec::parse(spec);
      o.threads = 1;
      const Status w1 = invert_batch(m, in, BatchView<double>::contiguous(X1.data(), count, n, n), o, s1.data());
      o.threads = 2;
      invert_batch(m, in, BatchView<double>::contiguous(X2.data(), count, n, n), o, s2.data());
      o.threads = 3;
      invert_batch(m, in, BatchView<double>::contiguous(X3.data(), count, n, n), o, s3.data());
      EXPECT_EQ(w1, Status::nonfinite_input) << spec;
      EXPECT_EQ(s1[5], Status::nonfinite_input) << spec;
      EXPECT_EQ(s1[4], Status::ok) << spec;
      EXPECT_EQ(s1, s2) << spec;
      EXPECT_EQ(s1, s3) << spec;
      auto all = [&](std::vector<double>& v) { return MatrixView<const double>::row_major(v.data(), count * n, n); };
      EXPECT_EQ(trinv_test::first_difference<double>(all(X1), all(X2)), "") << spec << (simulated ? " fp16 sr" : "");
      EXPECT_EQ(trinv_test::first_difference<double>(all(X1), all(X3)), "") << spec << (simulated ? " fp16 sr" : "");
      if (simulated) continue;
      for (index_t b : {0, 17, 36}) {
        Matrix<double> Y(n, n);
        invert(m, MatrixView<const double>::row_major(A.data() + b * n * n, n, n), Y.view(), o);
        EXPECT_EQ(trinv_test::first_difference<double>(
                      Y.view(), MatrixView<const double>::row_major(X1.data() + b * n * n, n, n)),
                  "")
            << spec << " matrix " << b;
      }
    }
  }
}

TEST(TrinvDriver, BatchRejectsMismatchedOrOverlappingBatches) {
  std::vector<double> a(2 * 9), x(2 * 9);
  auto A = BatchView<const double>::contiguous(a.data(), 2, 3, 3);
  EXPECT_NE(error_of([&] { invert_batch(fs, A, BatchView<double>::contiguous(x.data(), 1, 3, 3)); }).find("X is 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { invert_batch(fs, A, BatchView<double>::contiguous(a.data() + 9, 2, 3, 3)); })
                .find("overlaps"),
            std::string::npos);
}

// ---- Chunk layout -----------------------------------------------------------------------------

// Fills A's chunk matrices with integer strictly-lower parts (and garbage NaN on and above
// the diagonal and in the padding, which must never be read), poisons X, inverts, and
// checks: each chunk matrix equals the exact inverse of I + N, and every element outside
// the chunk matrices' lower-triangular-plus-upper m x m blocks keeps the poison.
void check_chunks(const ChunkLayout& layout) {
  const double poison = -12345.0;
  std::vector<double> A(layout.elements(), nan), X(layout.elements(), poison);
  std::vector<char> written(layout.elements(), 0);
  const auto chunks = enumerate_chunks(layout);
  std::vector<Matrix<std::int64_t>> inverses;
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const auto& ref = chunks[c];
    const auto Li = trinv_test::integer_lower(ref.size, 500 + c, true);
    auto Av = chunk_view(A.data(), layout, ref);
    for (index_t i = 0; i < ref.size; ++i)
      for (index_t j = 0; j < i; ++j) Av(i, j) = double(Li(i, j));
    inverses.push_back(trinv_test::exact_inverse(Li));
  }
  std::vector<Status> statuses(static_cast<std::size_t>(chunk_count(layout) * layout.heads), Status::unsupported);
  TrinvOptions o;
  o.threads = 2;
  ASSERT_EQ(invert_chunks(fs, layout, A.data(), X.data(), o, statuses.data()), Status::ok);
  for (Status s : statuses) EXPECT_EQ(s, Status::ok);
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const auto& ref = chunks[c];
    auto Xv = chunk_view(X.data(), layout, ref);
    for (index_t i = 0; i < ref.size; ++i)
      for (index_t j = 0; j < ref.size; ++j) {
        EXPECT_EQ(Xv(i, j), double(inverses[c](i, j))) << "chunk " << c << " (" << i << ", " << j << ")";
        written[static_cast<std::size_t>(&Xv(i, j) - X.data())] = 1;
      }
  }
  for (std::size_t e = 0; e < X.size(); ++e) {
    if (written[e]) continue;
    ASSERT_EQ(X[e], poison) << "element " << e << " outside every chunk matrix was written";
  }
}

TEST(TrinvDriver, ChunkLayoutFixedLengthWithPartialLastChunk) {
  check_chunks(ChunkLayout{2, 100, 3, 32, {}});  // last chunk of each sequence has 4 rows
}

TEST(TrinvDriver, ChunkLayoutVarlenRestartsAtSequenceStarts) {
  check_chunks(ChunkLayout{1, 50, 2, 16, {0, 20, 20, 50}});
}

TEST(TrinvDriver, ChunkStatusesAreIndexedByChunkRowAndHead) {
  const ChunkLayout layout{1, 40, 2, 16, {0, 10, 40}};  // chunks: [0,10), [10,26), [26,40)
  std::vector<double> A(layout.elements(), 0.0), X(layout.elements());
  const auto chunks = enumerate_chunks(layout);
  // Put an inf in the strictly lower part of chunk row 1 (tokens 10..25), head 1.
  A[((0 * layout.length + 12) * layout.heads + 1) * layout.chunk + 1] = std::numeric_limits<double>::infinity();
  std::vector<Status> statuses(static_cast<std::size_t>(chunk_count(layout) * layout.heads));
  EXPECT_EQ(invert_chunks(fs, layout, A.data(), X.data(), {}, statuses.data()), Status::nonfinite_input);
  for (std::size_t i = 0; i < statuses.size(); ++i)
    EXPECT_EQ(statuses[i], i == 1 * 2 + 1 ? Status::nonfinite_input : Status::ok) << "status entry " << i;
  TrinvOptions upper;
  upper.triangle = Triangle::upper;
  EXPECT_NE(error_of([&] { invert_chunks(fs, layout, A.data(), X.data(), upper); }).find("lower"), std::string::npos);
  EXPECT_NE(error_of([&] { invert_chunks(fs, layout, A.data(), A.data()); }).find("overlaps"), std::string::npos);
}

}  // namespace
}  // namespace triscan
