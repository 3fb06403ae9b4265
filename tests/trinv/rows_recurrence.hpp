// tests/trinv/rows_recurrence.hpp — the batched row kernel (src/trinv/rows.hpp) against
// Method 1's recurrence written out here, entry by entry (shared by
// test_trinv_rows_widths.cpp, 16-byte vectors, and test_trinv_rows_native.cpp, the
// library's width). Both files are compiled with -ffp-contract=off, so neither side fuses
// a multiply-add.
//
// Reference: x_ij = (delta_ij - sum_{k=j}^{i-1} l_ik x_kj) / l_ii, each running sum starting
// at 0 and adding -l_ik x_kj for k = j, ..., i - 1 in order, then the division (non-unit) —
// the operations the kernel performs per entry (its extra terms with x_kj = 0 above the
// diagonal add exact zeros). The results must be equal entry by entry (+0 and -0 compare
// equal), and exactly 0 above the diagonal.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "src/trinv/rows.hpp"
#include "triscan/format.hpp"
#include "triscan/matrix.hpp"

namespace triscan {
namespace {

namespace rows = trinv_detail::rows;

template <class T>
std::vector<T> reference(const std::vector<T>& L, index_t n, index_t ld, bool unit) {
  std::vector<T> X(static_cast<std::size_t>(n * n), T(0));
  for (index_t i = 0; i < n; ++i) {
    const T lii = unit ? T(1) : L[static_cast<std::size_t>(i * ld + i)];
    for (index_t j = 0; j < i; ++j) {
      T s = T(0);
      for (index_t k = j; k < i; ++k)
        s = s - L[static_cast<std::size_t>(i * ld + k)] * X[static_cast<std::size_t>(k * n + j)];
      X[static_cast<std::size_t>(i * n + j)] = unit ? s : s / lii;
    }
    X[static_cast<std::size_t>(i * n + i)] = unit ? T(1) : T(1) / lii;
  }
  return X;
}

// Lower n x n with row stride ld, entries in [-1/(2 sqrt n), 1/(2 sqrt n)), a diagonal in
// [1/2, 1) (read only when non-unit), the upper part NaN (never read).
template <class T>
std::vector<T> random_lower(index_t n, index_t ld, std::uint64_t seed) {
  std::vector<T> a(static_cast<std::size_t>(n * ld), T(std::nan("")));
  std::uint64_t s = seed;
  const double scale = 1.0 / std::sqrt(static_cast<double>(n));
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) {
      const double r = double(splitmix64_next(s) >> 11) * 0x1p-53;
      a[static_cast<std::size_t>(i * ld + j)] = i == j ? T(0.5 + 0.5 * r) : T((r - 0.5) * scale);
    }
  return a;
}

// Row-major input (row stride ld_in); output row-major with row stride ld_out, or
// column-major (leading dimension n) when col_major: the kernel's direct path (unit column
// stride, n a multiple of the width) and its copying path.
template <class T>
void check_width(index_t n, index_t ld_in, index_t ld_out, bool col_major, bool unit, bool stream,
                 index_t misalign = 0) {
  const std::string what = std::string(sizeof(T) == 4 ? "fp32" : "fp64") +
                           " n = " + std::to_string(n) + ", ld_in " + std::to_string(ld_in) +
                           ", ld_out " + std::to_string(ld_out) +
                           (col_major ? ", column-major output" : "") +
                           (unit ? ", unit" : ", non-unit") + (stream ? ", streamed" : "") +
                           (misalign ? ", output " + std::to_string(misalign) + " elements off" : "");
  const std::vector<T> a = random_lower<T>(n, ld_in, 1000 + static_cast<std::uint64_t>(n));
  const std::vector<T> ref = reference(a, n, ld_in, unit);
  // The output starts `misalign` elements past a 64-byte boundary: aligned rows (with a
  // row stride of whole vectors) take the kernel's streaming-only stores when streaming is
  // asked, others its per-store check.
  std::vector<T> buf(static_cast<std::size_t>(std::max(n * ld_out, n * n) + 64 + 64), T(-7));
  T* base = buf.data();
  while (reinterpret_cast<std::uintptr_t>(base) % 64 != 0) ++base;
  T* const o = base + misalign;
  const MatrixView<const T> L{a.data(), n, n, ld_in, 1};
  const MatrixView<T> X = col_major ? MatrixView<T>{o, n, n, 1, n} : MatrixView<T>{o, n, n, ld_out, 1};
  index_t bad_in = -1, bad_out = -1;
  trinv_detail::LaneGroup<T> g;
  g.n = n;
  g.unit = unit;
  g.count = 1;
  g.L = &L;
  g.X = &X;
  g.nonfinite_in = &bad_in;
  g.nonfinite_out = &bad_out;
  g.stream_output = stream;
  g.prefetch = &L;  // "the next matrix": the same one, which exercises the prefetch cursor
  g.prefetch_count = 1;
  g.prefetch_out = &X;
  std::vector<T> scratch(static_cast<std::size_t>(rows::scratch_size<T>(n)));
  rows::run(g, scratch.data());
  EXPECT_EQ(bad_in, 0) << what;
  EXPECT_EQ(bad_out, 0) << what;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      const T want = ref[static_cast<std::size_t>(i * n + j)];
      ASSERT_EQ(X(i, j), want) << what << ": X(" << i << ", " << j << ")";
    }
}

template <class T>
void sweep() {
  for (index_t n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 31, 33, 64, 65, 100, 128})
    for (bool unit : {true, false}) {
      check_width<T>(n, n, n, false, unit, false);          // contiguous (direct where n % W == 0)
      check_width<T>(n, n + 3, n + 2, false, unit, false);  // padded rows (direct only if W | n)
      check_width<T>(n, n, n, true, unit, false);           // column-major output: copying path
      check_width<T>(n, n, n, false, unit, true);           // streaming stores
      check_width<T>(n, n, n, false, unit, true, 1);        // streaming asked, misaligned
      check_width<T>(n, n, n + 1, false, unit, true);       // streaming asked, odd row stride
    }
}

}  // namespace
}  // namespace triscan
