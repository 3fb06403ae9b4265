// The batched native fast paths of trinv/forward_substitution, used by invert_batch and
// invert_chunks for native fp32 and fp64: with the a-posteriori check on, the lane kernel
// (src/trinv/lanes.hpp: the batch index in the SIMD lanes; tests `TrinvBatchLanes`), with
// it off, the row kernel (src/trinv/rows.hpp: one matrix, rows as vectors; tests
// `TrinvBatchRows`). Each performs, per matrix, the operations of the single-matrix native
// kernel in the same order, and all are compiled in the same translation unit with the
// same FMA contraction, so, for each:
//  (E) its output equals, bit for bit (up to the sign of zero: compared with ==), what
//      invert() returns for each matrix alone, and its per-matrix statuses equal invert()'s
//      — for orders around the lane width and the register block, batch sizes that are not
//      multiples of the lane width, any thread count, strided / column-major / upper
//      views, the [B, T, H, BT] layout with cu_seqlens and partial chunks, and matrices
//      with NaN / Inf entries or a zero diagonal mixed into a lane group;
//  (B1) it meets Method 1's bound against MPFR, asserted exactly as in
//      test_trinv_accuracy.cpp (Du Croz & Higham 1992; Higham ASNA 2nd ed. §14.2.1,
//      Thm 8.5 per column): with u the format's unit roundoff, X = L^-1 (MPFR) and X^ the
//      batch's result,
//        ||X^ - X||_inf / ||X||_inf <= 4 (n+1) u || |X||L||X^| || / ||X||_inf,
//      asserted where the right-hand side is below 1.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/trinv/trinv_test_util.hpp"
#include "triscan/metrics.hpp"
#include "triscan/reference.hpp"
#include "validation/generators.hpp"

namespace triscan {
namespace {

const MethodSpec kMethod = MethodSpec::parse("trinv/forward_substitution");
const std::vector<index_t> kSizes = {1, 2, 3, 15, 16, 17, 63, 64, 65, 128};

template <class T>
const char* fmt() {
  return std::is_same_v<T, float> ? "fp32" : "fp64";
}

// check: the a-posteriori check on (the lane kernel runs) or off (the row kernel runs).
template <class T>
TrinvOptions native_options(bool check, unsigned threads, Triangle t = Triangle::lower,
                            Diagonal d = Diagonal::unit) {
  TrinvOptions o = trinv_test::options_for(format_by_name(fmt<T>()), t, d);
  o.threads = threads;
  o.check_accuracy = check;
  return o;
}

std::string kernel_name(bool check) { return check ? "lanes" : "rows"; }

// Deterministic entries in [-1/4, 1/4) (splitmix64): inverses of unit lower matrices with
// such entries stay below 1.25^n, finite in fp32 for n <= 128.
struct Rng {
  std::uint64_t state;
  double next() { return double(splitmix64_next(state) >> 11) * 0x1p-53 * 0.5 - 0.25; }
};

// `count` n x n matrices at data + b * batch_stride, entries (i, j) at i * rs + j * cs.
// The whole buffer is filled with values (the part a view must not read included); for
// a non-unit diagonal, |l_ii| in [1/2, 1).
template <class T>
std::vector<T> random_buffer(std::size_t size, std::uint64_t seed) {
  Rng r{seed};
  std::vector<T> v(size);
  for (auto& x : v) x = static_cast<T>(r.next());
  return v;
}

template <class T>
void set_diagonal(BatchView<T> A, std::uint64_t seed) {
  Rng r{seed};
  for (index_t b = 0; b < A.count; ++b)
    for (index_t i = 0; i < A.rows; ++i) {
      const double x = r.next();
      A[b](i, i) = static_cast<T>(x < 0 ? x - 0.5 : x + 0.5);
    }
}

// (E) for a batch: invert_batch on `threads` threads against invert() matrix by matrix.
template <class T>
void expect_batch_equals_single(BatchView<const T> A, BatchView<T> X, const TrinvOptions& o, const std::string& what) {
  std::vector<Status> st(static_cast<std::size_t>(A.count), Status::unsupported);
  const Status worst_status = invert_batch(kMethod, A, X, o, st.data());
  Status want_worst = Status::ok;
  for (index_t b = 0; b < A.count; ++b) {
    Matrix<T> Y(A.rows, A.cols);
    const TrinvResult r = invert(kMethod, A[b], Y.view(), o);
    want_worst = worst(want_worst, r.status);
    EXPECT_EQ(st[static_cast<std::size_t>(b)], r.status) << what << ", matrix " << b << ": " << r.message;
    EXPECT_EQ(trinv_test::first_difference<T>(MatrixView<const T>(X[b]), MatrixView<const T>(Y.view())), "")
        << what << ", matrix " << b;
  }
  EXPECT_EQ(worst_status, want_worst) << what;
}

template <class T>
void contiguous_sweep(bool check) {
  for (index_t n : kSizes)
    for (index_t count : {1, 7, 37})
      for (Diagonal d : {Diagonal::unit, Diagonal::non_unit})
        for (unsigned threads : {1u, 3u}) {
          auto buf = random_buffer<T>(static_cast<std::size_t>(count * n * n), 17 + n + count);
          std::vector<T> out(buf.size(), T(-7));
          const auto A = BatchView<T>::contiguous(buf.data(), count, n, n);
          if (d == Diagonal::non_unit) set_diagonal(A, 99 + n);
          const std::string what = kernel_name(check) + " " + fmt<T>() + " n = " + std::to_string(n) + ", count " +
                                   std::to_string(count) + (d == Diagonal::unit ? ", unit" : ", non-unit") +
                                   ", threads " + std::to_string(threads);
          expect_batch_equals_single<T>(A, BatchView<T>::contiguous(out.data(), count, n, n),
                                        native_options<T>(check, threads, Triangle::lower, d), what);
        }
}

TEST(TrinvBatchLanes, EqualsSingleMatrixPathFp32) { contiguous_sweep<float>(true); }
TEST(TrinvBatchLanes, EqualsSingleMatrixPathFp64) { contiguous_sweep<double>(true); }
TEST(TrinvBatchRows, EqualsSingleMatrixPathFp32) { contiguous_sweep<float>(false); }
TEST(TrinvBatchRows, EqualsSingleMatrixPathFp64) { contiguous_sweep<double>(false); }

// Padded rows and batch stride, column-major storage, and upper-triangular input read
// through the transpose: every stride combination the gather and scatter handle.
template <class T>
void strided_sweep(bool check) {
  for (index_t n : {3, 17, 64, 65})
    for (int kind = 0; kind < 3; ++kind)
      for (Triangle t : {Triangle::lower, Triangle::upper})
        for (Diagonal d : {Diagonal::unit, Diagonal::non_unit}) {
        const index_t count = 21, ld = n + 3, stride = ld * n + 5;
        auto in = random_buffer<T>(static_cast<std::size_t>(count * stride), 5 + n);
        std::vector<T> out(in.size(), T(-7));
        BatchView<T> A{in.data(), count, stride, n, n, ld, 1}, X{out.data(), count, stride, n, n, ld, 1};
        if (kind == 1) {  // column-major
          A.row_stride = X.row_stride = 1;
          A.col_stride = X.col_stride = ld;
        } else if (kind == 2) {  // output column-major, input row-major
          X.row_stride = 1;
          X.col_stride = ld;
        }
        if (d == Diagonal::non_unit) set_diagonal(A, 11 + n);
        const std::string what = kernel_name(check) + " " + fmt<T>() + " n = " + std::to_string(n) + ", layout " +
                                 std::to_string(kind) + (t == Triangle::upper ? ", upper" : ", lower") +
                                 (d == Diagonal::unit ? ", unit" : ", non-unit");
        expect_batch_equals_single<T>(A, X, native_options<T>(check, 2, t, d), what);
        // Entries of the output buffer outside every view keep their value.
        std::vector<char> inside(out.size(), 0);
        for (index_t b = 0; b < count; ++b)
          for (index_t i = 0; i < n; ++i)
            for (index_t j = 0; j < n; ++j) inside[static_cast<std::size_t>(&X[b](i, j) - out.data())] = 1;
        for (std::size_t e = 0; e < out.size(); ++e)
          if (!inside[e]) {
            ASSERT_EQ(out[e], T(-7)) << what << ": entry " << e << " outside the views was written";
          }
      }
}

// Orders above the fast kernels' limit (256) take the single-matrix path inside a batch.
template <class T>
void beyond_lane_limit(bool check) {
  const index_t n = 257, count = 3;
  auto buf = random_buffer<T>(static_cast<std::size_t>(count * n * n), 257);
  std::vector<T> out(buf.size());
  expect_batch_equals_single<T>(BatchView<T>::contiguous(buf.data(), count, n, n),
                                BatchView<T>::contiguous(out.data(), count, n, n), native_options<T>(check, 2),
                                kernel_name(check) + " " + fmt<T>() + " n = 257");
}

TEST(TrinvBatchLanes, OrdersBeyondTheLaneLimit) {
  for (bool check : {true, false}) {
    beyond_lane_limit<float>(check);
    beyond_lane_limit<double>(check);
  }
}

TEST(TrinvBatchLanes, StridedColumnMajorAndUpperFp32) { strided_sweep<float>(true); }
TEST(TrinvBatchLanes, StridedColumnMajorAndUpperFp64) { strided_sweep<double>(true); }
TEST(TrinvBatchRows, StridedColumnMajorAndUpperFp32) { strided_sweep<float>(false); }
TEST(TrinvBatchRows, StridedColumnMajorAndUpperFp64) { strided_sweep<double>(false); }

// NaN / Inf input and a zero diagonal in some matrices of a lane group: those get their
// own statuses (nonfinite_input, singular) and NaN output, the others are untouched by
// them (equal to the single-matrix results, status ok). Also finite inputs whose inverse
// overflows, and a zero diagonal, in the first rows: the row kernel checks only the last
// row of X for non-finite entries (src/trinv/rows.hpp, run), which must still see them.
template <class T>
void bad_input_sweep(bool check) {
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  for (index_t n : {2, 16, 17, 64})
    for (Diagonal d : {Diagonal::unit, Diagonal::non_unit}) {
      const index_t count = 41;
      auto buf = random_buffer<T>(static_cast<std::size_t>(count * n * n), 3 + n);
      std::vector<T> out(buf.size(), T(0));
      const auto A = BatchView<T>::contiguous(buf.data(), count, n, n);
      if (d == Diagonal::non_unit) set_diagonal(A, 4);
      A[3](n - 1, 0) = nan;
      A[5](n - 1, n - 2) = -inf;
      A[20](1, 0) = inf;
      A[22](0, n - 1) = nan;  // strictly upper: never read, matrix 22 is fine
      // x_20 = -l_20 + l_21 l_10 = 16 max: the first row of X that overflows is row 2
      const T big = 4 * std::sqrt(std::numeric_limits<T>::max());
      if (n >= 3) A[13](1, 0) = A[13](2, 1) = big;
      if (d == Diagonal::non_unit) {
        A[7](n - 1, n - 1) = T(0);
        A[9](0, 0) = nan;
        A[11](n / 2, n / 2) = inf;  // x_ii = 0: this row of X can come out finite
        A[15](1, 1) = T(0);         // x_11 = inf in the second row
      } else {
        A[7](n - 1, n - 1) = nan;  // a unit diagonal is never read
        A[11](n / 2, n / 2) = inf;
      }
      const std::string what = kernel_name(check) + " " + fmt<T>() + " n = " + std::to_string(n) +
                               (d == Diagonal::unit ? ", unit" : ", non-unit");
      const TrinvOptions o = native_options<T>(check, 2, Triangle::lower, d);
      expect_batch_equals_single<T>(A, BatchView<T>::contiguous(out.data(), count, n, n), o, what);
      std::vector<Status> st(static_cast<std::size_t>(count));
      invert_batch(kMethod, A, BatchView<T>::contiguous(out.data(), count, n, n), o, st.data());
      for (index_t b = 0; b < count; ++b) {
        Status want = Status::ok;
        if (b == 3 || b == 5 || b == 20 || ((b == 9 || b == 11) && d == Diagonal::non_unit))
          want = Status::nonfinite_input;
        if ((b == 7 || b == 15) && d == Diagonal::non_unit) want = Status::singular;
        if (b == 13 && n >= 3) want = Status::overflow;
        EXPECT_EQ(st[static_cast<std::size_t>(b)], want) << what << ", matrix " << b;
        if (want == Status::overflow) {  // the computed values (docs/trinv.md): x_20 = inf
          EXPECT_TRUE(std::isinf(out[static_cast<std::size_t>(b * n * n + 2 * n)])) << what;
        } else if (want != Status::ok) {
          EXPECT_TRUE(std::isnan(out[static_cast<std::size_t>(b * n * n)])) << what;
        }
      }
    }
}

TEST(TrinvBatchLanes, NonFiniteAndSingularPerMatrixFp32) { bad_input_sweep<float>(true); }
TEST(TrinvBatchLanes, NonFiniteAndSingularPerMatrixFp64) { bad_input_sweep<double>(true); }
TEST(TrinvBatchRows, NonFiniteAndSingularPerMatrixFp32) { bad_input_sweep<float>(false); }
TEST(TrinvBatchRows, NonFiniteAndSingularPerMatrixFp64) { bad_input_sweep<double>(false); }

// The [B, T, H, BT] layout with cu_seqlens: sequences of lengths that leave partial last
// chunks (and chunks of a few rows), so one lane group meets matrices of different
// orders; results and statuses equal invert() on each chunk view, and the padding
// (entries outside every chunk matrix) is neither read (it holds NaN) nor written.
template <class T>
void chunk_sweep(bool check) {
  for (index_t bt : {16, 64}) {
    ChunkLayout layout;
    layout.batch = 1;
    layout.heads = 3;
    layout.chunk = bt;
    layout.cu_seqlens = {0, 3 * bt + 5, 3 * bt + 6, 5 * bt + 6, 6 * bt + 6 + bt / 2};
    layout.length = layout.cu_seqlens.back();
    const auto chunks = enumerate_chunks(layout);
    std::vector<T> A(static_cast<std::size_t>(layout.elements()), std::numeric_limits<T>::quiet_NaN());
    std::vector<T> X(A.size(), T(-7));
    Rng r{static_cast<std::uint64_t>(bt)};
    for (const auto& c : chunks) {
      const auto v = chunk_view(A.data(), layout, c);
      for (index_t i = 0; i < c.size; ++i)
        for (index_t j = 0; j < i; ++j) v(i, j) = static_cast<T>(r.next());
    }
    const TrinvOptions o = native_options<T>(check, 2);
    std::vector<Status> st(chunks.size(), Status::unsupported);
    EXPECT_EQ(invert_chunks(kMethod, layout, A.data(), X.data(), o, st.data()), Status::ok);
    std::vector<char> inside(X.size(), 0);
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      const auto& c = chunks[i];
      const std::string what = kernel_name(check) + " " + fmt<T>() + " BT " + std::to_string(bt) + ", chunk " +
                               std::to_string(i) +
                               " (size " + std::to_string(c.size) + ")";
      Matrix<T> Y(c.size, c.size);
      const TrinvResult want = invert(kMethod, MatrixView<const T>(chunk_view(A.data(), layout, c)), Y.view(), o);
      EXPECT_EQ(st[i], want.status) << what;
      const auto xv = chunk_view(X.data(), layout, c);
      EXPECT_EQ(trinv_test::first_difference<T>(MatrixView<const T>(xv), MatrixView<const T>(Y.view())), "") << what;
      for (index_t a = 0; a < c.size; ++a)
        for (index_t b = 0; b < c.size; ++b) inside[static_cast<std::size_t>(&xv(a, b) - X.data())] = 1;
    }
    for (std::size_t e = 0; e < X.size(); ++e)
      if (!inside[e]) {
        ASSERT_EQ(X[e], T(-7)) << "BT " << bt << ": padding entry " << e << " was written";
      }
  }
}

TEST(TrinvBatchLanes, ChunkLayoutWithCuSeqlensFp32) { chunk_sweep<float>(true); }
TEST(TrinvBatchLanes, ChunkLayoutWithCuSeqlensFp64) { chunk_sweep<double>(true); }
TEST(TrinvBatchRows, ChunkLayoutWithCuSeqlensFp32) { chunk_sweep<float>(false); }
TEST(TrinvBatchRows, ChunkLayoutWithCuSeqlensFp64) { chunk_sweep<double>(false); }

// (B1) against MPFR on generator inputs: the unit `deltanet` matrices and the non-unit
// `lapack-3` ones, a batch of 19 distinct matrices per order, the first and the last
// checked (the others equal the single-matrix path, which test_trinv_accuracy.cpp holds
// to the same bound).
template <class T>
void mpfr_sweep(bool check) {
  const double u = std::numeric_limits<T>::epsilon() / 2;
  const unsigned bits = reference_bits_for(format_by_name(fmt<T>()));
  for (const char* gen : {"deltanet", "lapack-3"})
    for (index_t n : kSizes) {
      const index_t count = 19;
      std::vector<T> in(static_cast<std::size_t>(count * n * n)), out(in.size());
      Diagonal diag = Diagonal::unit;
      for (index_t b = 0; b < count; ++b) {
        validation::GeneratorParams gp;
        gp.name = gen;
        gp.n = n;
        gp.seed = 500 + static_cast<std::uint64_t>(b);
        const auto g = validation::generate(gp);
        diag = g.diagonal;
        for (index_t i = 0; i < n; ++i)
          for (index_t j = 0; j < n; ++j) in[static_cast<std::size_t>((b * n + i) * n + j)] = static_cast<T>(g.L(i, j));
      }
      const auto A = BatchView<const T>::contiguous(in.data(), count, n, n);
      std::vector<Status> st(static_cast<std::size_t>(count));
      invert_batch(kMethod, A, BatchView<T>::contiguous(out.data(), count, n, n),
                   native_options<T>(check, 2, Triangle::lower, diag), st.data());
      for (index_t b : {index_t(0), count - 1}) {
        const std::string what = kernel_name(check) + " " + fmt<T>() + " " + gen + " n = " + std::to_string(n) +
                                 ", matrix " +
                                 std::to_string(b);
        ASSERT_TRUE(st[static_cast<std::size_t>(b)] == Status::ok || st[static_cast<std::size_t>(b)] == Status::inaccurate)
            << what << ": " << status_name(st[static_cast<std::size_t>(b)]);
        Matrix<double> L(n, n), Xd(n, n);
        for (index_t i = 0; i < n; ++i)
          for (index_t j = 0; j <= i; ++j) {
            L(i, j) = (i == j && diag == Diagonal::unit) ? 1.0 : double(A[b](i, j));
            Xd(i, j) = double(out[static_cast<std::size_t>((b * n + i) * n + j)]);
          }
        const Matrix<mp_float> ref = reference_inverse(L.view(), Triangle::lower, diag, bits);
        const Matrix<double> Xr = round_to_double(ref), Xr_low = rounding_remainder(ref);
        const InversionMetrics met =
            compute_inversion_metrics(L.view(), Xd.view(), Xr.view(), Triangle::lower, diag, u, 0.0, Xr_low.view());
        const double xnorm = norm_inf(Xr.view());
        const double bound =
            4.0 * double(n + 1) * u * norm_inf(trinv_test::abs_product(trinv_test::abs_product(Xr, L), Xd).view()) /
            xnorm;
        if (!(bound < 1.0)) continue;
        EXPECT_LE(met.forward_error_inf, bound) << what;
      }
    }
}

TEST(TrinvBatchLanes, MethodOneBoundAgainstMpfrFp32) { mpfr_sweep<float>(true); }
TEST(TrinvBatchLanes, MethodOneBoundAgainstMpfrFp64) { mpfr_sweep<double>(true); }
TEST(TrinvBatchRows, MethodOneBoundAgainstMpfrFp32) { mpfr_sweep<float>(false); }
TEST(TrinvBatchRows, MethodOneBoundAgainstMpfrFp64) { mpfr_sweep<double>(false); }

}  // namespace
}  // namespace triscan
