// src/trinv/kernels.hpp — the triangular building blocks of the direct methods
// (not installed): row-oriented TRMM / TRSM updates and the two unblocked
// inversions, each written once over an arithmetic model A (numerics/arith.hpp).
//
// Every kernel walks ROWS: its inner loop is an axpy `y <- y + alpha x` along a row.
// With the driver's row-major working copies (unit column stride) the native inner
// loop is contiguous and vectorizes. The native path performs the operations the
// simulated path rounds one by one, in the same order, except that the compiler may
// fuse a*b+c into one FMA when it targets FMA hardware (TRISCAN_NATIVE_ARCH): one
// rounding instead of two, which only tightens every bound quoted here.
//
// Rounding model: a running sum lives in a register (the accumulation format; each
// step is `a.muladd`), and a value is passed through `a.store` once, when it is
// written back as a finished intermediate or result. The final rounding to the
// output format is left to the driver.
//
// For native fp32/fp64 with unit column strides and large blocks, the TRMM/TRSM
// updates call OpenBLAS (same mathematics, blocked for cache; see use_blas()).
#pragma once

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "src/trinv/method.hpp"

namespace triscan::trinv_detail {

template <class T>
using CView = MatrixView<const T>;
template <class T>
using View = MatrixView<T>;

// y <- y + alpha x over m entries (the one inner loop of every kernel).
template <class A, class T = typename A::value_type>
inline void axpy(A& a, index_t m, T alpha, const T* x, index_t incx, T* y, index_t incy) {
  if constexpr (A::native) {
    if (incx == 1 && incy == 1) {
      for (index_t j = 0; j < m; ++j) y[j] = y[j] + alpha * x[j];
      return;
    }
  }
  for (index_t j = 0; j < m; ++j) y[j * incy] = a.muladd(alpha, x[j * incx], y[j * incy]);
}

// ---- OpenBLAS for large native blocks -------------------------------------------
// A block operation goes to OpenBLAS when the arithmetic is native, both operands
// have unit column stride (row-major, lda = row_stride) and the block is large
// enough for BLAS's packing to pay off. Below that our loops are faster (64 x 64
// batches never call BLAS: their blocks are at most 32 wide). 64 rather than 128:
// trinv/recursive at n = 1024 on the 2-core Zen 3 VM, its 64 x 64 updates in OpenBLAS,
// 0.957 against 0.911 of dtrtri's speed (in-process A/B, session 13); 32: no better.
inline constexpr index_t blas_min_dim = 64;

template <class A, class T>
bool use_blas(const CView<T>& tri, const View<T>& b) {
  if constexpr (!A::native) {
    return false;
  } else {
    return tri.col_stride == 1 && b.col_stride == 1 && std::max(b.rows, b.cols) >= blas_min_dim;
  }
}

inline void blas_trmm(CBLAS_SIDE side, CBLAS_DIAG diag, double alpha, const CView<double>& t,
                      const View<double>& b) {
  cblas_dtrmm(CblasRowMajor, side, CblasLower, CblasNoTrans, diag, static_cast<int>(b.rows),
              static_cast<int>(b.cols), alpha, t.data, static_cast<int>(t.row_stride), b.data,
              static_cast<int>(b.row_stride));
}
inline void blas_trmm(CBLAS_SIDE side, CBLAS_DIAG diag, float alpha, const CView<float>& t,
                      const View<float>& b) {
  cblas_strmm(CblasRowMajor, side, CblasLower, CblasNoTrans, diag, static_cast<int>(b.rows),
              static_cast<int>(b.cols), alpha, t.data, static_cast<int>(t.row_stride), b.data,
              static_cast<int>(b.row_stride));
}
inline void blas_trsm(CBLAS_SIDE side, CBLAS_DIAG diag, double alpha, const CView<double>& t,
                      const View<double>& b) {
  cblas_dtrsm(CblasRowMajor, side, CblasLower, CblasNoTrans, diag, static_cast<int>(b.rows),
              static_cast<int>(b.cols), alpha, t.data, static_cast<int>(t.row_stride), b.data,
              static_cast<int>(b.row_stride));
}
inline void blas_trsm(CBLAS_SIDE side, CBLAS_DIAG diag, float alpha, const CView<float>& t,
                      const View<float>& b) {
  cblas_strsm(CblasRowMajor, side, CblasLower, CblasNoTrans, diag, static_cast<int>(b.rows),
              static_cast<int>(b.cols), alpha, t.data, static_cast<int>(t.row_stride), b.data,
              static_cast<int>(b.row_stride));
}

// ---- Unblocked inversions -----------------------------------------------------------

// Method 1 (Du Croz & Higham 1992): solve L X = I by forward substitution,
//   x_ij = (delta_ij - sum_{k=j}^{i-1} l_ik x_kj) / l_ii.
// All columns are solved at once, row by row. Invariant at row i: rows 0..i-1 of X are
// final. Entry (i, j) adds its terms l_ik x_kj in the order k = j, j+1, ..., i-1 — the
// order of column-oriented (saxpy) forward substitution on L x_j = e_j — so every entry
// sees exactly the operations of solving column by column.
// Bound (ASNA 2nd ed. Thm 8.5 per column): |L X^ - I| <= gamma_n |L||X^|.
// Native fast path of Method 1 (unit column strides): the same recurrence with the same
// order of terms per entry (k ascending), computing four rows at a time with their
// running sums held in eight SIMD registers over a tile of 2W columns (W = 64 bytes of
// T): eight independent multiply-add chains hide the FMA latency. A tile reads whole
// rows X(k, c0 : c0 + 2W) of earlier rows, whose entries above the diagonal are zero,
// so the extra terms l_ik * 0 add exact zeros. The tile sums run over k < i (rows
// before the group); the group's own terms k = i, ..., r-1 are added afterwards, in
// order, as each of its rows becomes final. (Batches of native matrices run the same
// recurrence with the batch index in the SIMD lanes, src/trinv/lanes.hpp, or one matrix
// at a time in wider register tiles, src/trinv/rows.hpp: same bits.)
template <class T>
struct Simd {
  typedef T type __attribute__((vector_size(64)));
  static constexpr index_t width = 64 / sizeof(T);
};

constexpr index_t forward_group = 4;  // rows per register tile

template <class T>
void forward_rows_tile(const CView<T>& L, const View<T>& X, index_t i, index_t c0, index_t rows) {
  using V = typename Simd<T>::type;
  constexpr index_t W = Simd<T>::width, R = forward_group;
  V acc[R][2] = {};
  const T* l[R];
  for (index_t r = 0; r < R; ++r) l[r] = &L(i + std::min(r, rows - 1), 0);  // a short group repeats its last row
  for (index_t k = c0; k < i; ++k) {
    V y0, y1;
    std::memcpy(&y0, &X(k, c0), sizeof(V));
    std::memcpy(&y1, &X(k, c0 + W), sizeof(V));
    for (index_t r = 0; r < R; ++r) {
      const T m = -l[r][k];
      acc[r][0] += m * y0;
      acc[r][1] += m * y1;
    }
  }
  const index_t w = std::min(2 * W, i - c0);
  for (index_t r = 0; r < rows; ++r) {
    T out[2 * W];
    std::memcpy(out, &acc[r][0], sizeof(V));
    std::memcpy(out + W, &acc[r][1], sizeof(V));
    T* x = &X(i + r, c0);
    for (index_t c = 0; c < w; ++c) x[c] = out[c];
  }
}

template <class T>
void invert_forward_native(const CView<T>& L, const View<T>& X, bool unit) {
  constexpr index_t TW = 2 * Simd<T>::width;
  const index_t n = L.rows;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = i + 1; j < n; ++j) X(i, j) = T(0);
  for (index_t i = 0; i < n; i += forward_group) {
    const index_t rows = std::min(forward_group, n - i);
    for (index_t c0 = 0; c0 < i; c0 += TW) {
      if (c0 + TW <= n) {
        forward_rows_tile(L, X, i, c0, rows);
        continue;
      }
      for (index_t r = i; r < i + rows; ++r) {  // last tile sticks out of the row: plain loops
        T* x = &X(r, 0);
        for (index_t c = c0; c < i; ++c) x[c] = T(0);
        for (index_t k = c0; k < i; ++k) {
          const T m = -L(r, k);
          const T* y = &X(k, 0);
          for (index_t c = c0; c <= std::min(k, i - 1); ++c) x[c] = x[c] + m * y[c];
        }
      }
    }
    for (index_t r = i; r < i + rows; ++r) {  // the group's own terms k = i .. r-1, then row r is final
      T* x = &X(r, 0);
      for (index_t c = i; c < r; ++c) x[c] = T(0);
      for (index_t k = i; k < r; ++k) {
        const T m = -L(r, k);
        const T* y = &X(k, 0);
        for (index_t c = 0; c <= k; ++c) x[c] = x[c] + m * y[c];
      }
      if (!unit)
        for (index_t c = 0; c < r; ++c) x[c] = x[c] / L(r, r);
      x[r] = unit ? T(1) : T(1) / L(r, r);
    }
  }
}

template <class A, class T = typename A::value_type>
void invert_forward(A& a, const CView<T>& L, const View<T>& X, bool unit) {
  if constexpr (A::native) {
    if (L.col_stride == 1 && X.col_stride == 1) return invert_forward_native(L, X, unit);
  }
  const index_t n = L.rows, cs = X.col_stride;
  for (index_t i = 0; i < n; ++i) {
    T* xi = &X(i, 0);
    for (index_t j = 0; j < i; ++j) xi[j * cs] = T(0);
    for (index_t k = 0; k < i; ++k) axpy(a, k + 1, T(-L(i, k)), &X(k, 0), cs, xi, cs);
    for (index_t j = 0; j < i; ++j) xi[j * cs] = a.store(unit ? xi[j * cs] : a.div(xi[j * cs], L(i, i)));
    xi[i * cs] = unit ? T(1) : a.store(a.div(T(1), L(i, i)));
  }
}

// Method 2 (Du Croz & Higham 1992; LAPACK xTRTI2, lower): for j = n-1 down to 0,
//   x_jj = 1 / l_jj,   X(j+1:n, j) = -x_jj * X(j+1:n, j+1:n) L(j+1:n, j).
// Row i of this recurrence, x_ij = -x_jj sum_{k=j+1}^{i} x_ik l_kj, involves only row i
// of X, so rows are independent; within row i the entries become final in the order
// j = i, i-1, ..., 0 (the row solves x_i^T L = e_i^T). The sum is formed in axpy form,
// acc(0:k) += x_ik L(k, 0:k) for k = i, i-1, ..., 1: entry j adds its terms in the order
// k = i, i-1, ..., j+1, which is the order of xTRMV('L','N') inside xTRTI2. As there, the
// TRMV result is written back (store) before the scaling by -x_jj.
// Invariant before step k: x_ik, ..., x_ii are final and acc_j = sum_{k' > k} x_ik' l_k'j.
// Left-residual analogue of Method 1: |X^ L - I| <= c_n u |X^||L|.
template <class A, class T = typename A::value_type>
void invert_rowwise(A& a, const CView<T>& L, const View<T>& X, bool unit) {
  const index_t n = L.rows, cs = X.col_stride;
  for (index_t i = 0; i < n; ++i) {
    T* xi = &X(i, 0);
    for (index_t j = 0; j < i; ++j) xi[j * cs] = T(0);
    xi[i * cs] = unit ? T(1) : a.store(a.div(T(1), L(i, i)));
    for (index_t k = i; k >= 1; --k) {
      axpy(a, k, xi[k * cs], &L(k, 0), L.col_stride, xi, cs);
      const index_t j = k - 1;  // acc_j is now complete
      const T trmv = a.store(xi[j * cs]);
      xi[j * cs] = unit ? T(-trmv) : a.store(a.mul(T(-X(j, j)), trmv));
    }
  }
}

// ---- Triangular block updates (T lower triangular, B a general block) -------------

// B <- T B, T m x m lower triangular with its diagonal stored (a computed inverse).
// Row i (bottom-up, so rows k < i still hold the old B): B(i,:) = sum_{k<=i} t_ik B(k,:),
// terms added in the order k = 0..i, then stored.
template <class A, class T = typename A::value_type>
void trmm_left_lower(A& a, const CView<T>& Tm, const View<T>& B) {
  if (B.empty()) return;
  if (use_blas<A>(Tm, B)) {
    if constexpr (A::native) blas_trmm(CblasLeft, CblasNonUnit, T(1), Tm, B);
    return;
  }
  std::vector<T> acc(static_cast<std::size_t>(B.cols));
  for (index_t i = B.rows - 1; i >= 0; --i) {
    std::fill(acc.begin(), acc.end(), T(0));
    for (index_t k = 0; k <= i; ++k) axpy(a, B.cols, Tm(i, k), &B(k, 0), B.col_stride, acc.data(), 1);
    for (index_t j = 0; j < B.cols; ++j) B(i, j) = a.store(acc[j]);
  }
}

// B <- B T, T c x c lower triangular with its diagonal stored.
// Row i: B(i, 0:c) = sum_k B(i,k) T(k, 0:k+1), terms in the order k = 0..c-1, then stored.
template <class A, class T = typename A::value_type>
void trmm_right_lower(A& a, const CView<T>& Tm, const View<T>& B) {
  if (B.empty()) return;
  if (use_blas<A>(Tm, B)) {
    if constexpr (A::native) blas_trmm(CblasRight, CblasNonUnit, T(1), Tm, B);
    return;
  }
  std::vector<T> acc(static_cast<std::size_t>(B.cols));
  for (index_t i = 0; i < B.rows; ++i) {
    std::fill(acc.begin(), acc.end(), T(0));
    for (index_t k = 0; k < B.cols; ++k) axpy(a, k + 1, B(i, k), &Tm(k, 0), Tm.col_stride, acc.data(), 1);
    for (index_t j = 0; j < B.cols; ++j) B(i, j) = a.store(acc[j]);
  }
}

// B <- -L^-1 B (solve L Y = -B), L m x m lower (unit: diagonal not read).
// Forward substitution on all columns at once: Y(i,:) = (-B(i,:) - sum_{k<i} l_ik Y(k,:)) / l_ii,
// terms in the order k = 0..i-1; rows above i are final (invariant).
template <class A, class T = typename A::value_type>
void trsm_left_lower_neg(A& a, const CView<T>& L, bool unit, const View<T>& B) {
  if (B.empty()) return;
  if (use_blas<A>(L, B)) {
    if constexpr (A::native) blas_trsm(CblasLeft, unit ? CblasUnit : CblasNonUnit, T(-1), L, B);
    return;
  }
  const index_t cs = B.col_stride;
  for (index_t i = 0; i < B.rows; ++i) {
    T* yi = &B(i, 0);
    for (index_t j = 0; j < B.cols; ++j) yi[j * cs] = T(-yi[j * cs]);
    for (index_t k = 0; k < i; ++k) axpy(a, B.cols, T(-L(i, k)), &B(k, 0), cs, yi, cs);
    for (index_t j = 0; j < B.cols; ++j) yi[j * cs] = a.store(unit ? yi[j * cs] : a.div(yi[j * cs], L(i, i)));
  }
}

// B <- -B L^-1 (solve Y L = -B), L c x c lower (unit: diagonal not read).
// Row r is a backward substitution y^T L = -b^T: for c = n-1 down to 0,
//   y_c = (-b_c - sum_{k>c} y_k l_kc) / l_cc,
// formed in axpy form acc(0:c) -= y_c L(c, 0:c) (terms in the order k = n-1, ..., c+1).
template <class A, class T = typename A::value_type>
void trsm_right_lower_neg(A& a, const CView<T>& L, bool unit, const View<T>& B) {
  if (B.empty()) return;
  if (use_blas<A>(L, B)) {
    if constexpr (A::native) blas_trsm(CblasRight, unit ? CblasUnit : CblasNonUnit, T(-1), L, B);
    return;
  }
  const index_t cs = B.col_stride;
  for (index_t r = 0; r < B.rows; ++r) {
    T* y = &B(r, 0);
    for (index_t j = 0; j < B.cols; ++j) y[j * cs] = T(-y[j * cs]);
    for (index_t c = B.cols - 1; c >= 0; --c) {
      y[c * cs] = a.store(unit ? y[c * cs] : a.div(y[c * cs], L(c, c)));
      axpy(a, c, T(-y[c * cs]), &L(c, 0), L.col_stride, y, cs);
    }
  }
}

// dst <- sign * src (exact: a copy or a negation).
template <class T>
void copy_block(const CView<T>& src, const View<T>& dst, T sign) {
  for (index_t i = 0; i < src.rows; ++i)
    for (index_t j = 0; j < src.cols; ++j) dst(i, j) = sign * src(i, j);
}

}  // namespace triscan::trinv_detail
