// src/householder/kernels.hpp — the building blocks of Householder product accumulation
// (not installed), each written once over an arithmetic model A (numerics/arith.hpp).
//
// Notation: V = [k_1 .. k_r] is m x r (row-major working copy), beta the r weights,
// H_i = I - beta_i k_i k_i^T, Q = H_1 ... H_r. G = V^T V (upper triangle used).
//
// Rounding model (as src/trinv/kernels.hpp): a running sum lives in the accumulation
// format (each step `a.muladd`) and is passed through `a.store` once, when written back.
// Native fp32/fp64 with large blocks call OpenBLAS (syrk / trmm: the same mathematics,
// blocked for cache).
#pragma once

#include <cblas.h>

#include <algorithm>
#include <vector>

#include "numerics/arith.hpp"
#include "triscan/matrix.hpp"

namespace triscan::householder_detail {

inline constexpr index_t blas_min_dim = 32;

template <class T>
using CView = MatrixView<const T>;
template <class T>
using View = MatrixView<T>;
// A read-only view of the model's values; a non-deduced parameter type, so that a
// writable view converts to it at the call.
template <class A>
using CVA = MatrixView<const typename A::value_type>;

// ---- OpenBLAS wrappers (native, row-major, unit column stride) ------------------------
inline void blas_syrk_upper_t(index_t r, index_t m, const double* v, index_t ldv, double* g,
                              index_t ldg) {
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, int(r), int(m), 1.0, v, int(ldv), 0.0, g,
              int(ldg));
}
inline void blas_syrk_upper_t(index_t r, index_t m, const float* v, index_t ldv, float* g,
                              index_t ldg) {
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, int(r), int(m), 1.0f, v, int(ldv), 0.0f, g,
              int(ldg));
}
inline void blas_trmm_upper(CBLAS_SIDE side, const CView<double>& t, const View<double>& b) {
  cblas_dtrmm(CblasRowMajor, side, CblasUpper, CblasNoTrans, CblasNonUnit, int(b.rows), int(b.cols),
              1.0, t.data, int(t.row_stride), b.data, int(b.row_stride));
}
inline void blas_trmm_upper(CBLAS_SIDE side, const CView<float>& t, const View<float>& b) {
  cblas_strmm(CblasRowMajor, side, CblasUpper, CblasNoTrans, CblasNonUnit, int(b.rows), int(b.cols),
              1.0f, t.data, int(t.row_stride), b.data, int(b.row_stride));
}

template <class A, class T>
bool use_blas(const CVA<A>& x, const View<T>& y, index_t size) {
  if constexpr (!A::native) {
    return false;
  } else {
    return x.col_stride == 1 && y.col_stride == 1 && size >= blas_min_dim;
  }
}

// G(i, j) = k_i^T k_j for i <= j (upper triangle; the strictly lower part is left as is).
// Row by row: G(i, i:r) += V(p, i) V(p, i:r), p = 0..m-1 (a rank-1 update per row of V,
// inner loop contiguous), each entry stored once at the end.
template <class A, class T = typename A::value_type>
void gram_upper(A& a, const CVA<A>& V, const View<T>& G) {
  const index_t m = V.rows, r = V.cols;
  if (r == 0) return;
  if (m > 0 && use_blas<A>(V, G, std::max(m, r))) {
    if constexpr (A::native) blas_syrk_upper_t(r, m, V.data, V.row_stride, G.data, G.row_stride);
    return;
  }
  for (index_t i = 0; i < r; ++i)
    for (index_t j = i; j < r; ++j) G(i, j) = T(0);
  for (index_t p = 0; p < m; ++p)
    for (index_t i = 0; i < r; ++i) {
      const T x = V(p, i);
      T* g = &G(i, 0);
      const T* v = &V(p, 0);
      if constexpr (A::native) {
        if (G.col_stride == 1 && V.col_stride == 1) {
          for (index_t j = i; j < r; ++j) g[j] += x * v[j];
          continue;
        }
      }
      for (index_t j = i; j < r; ++j) G(i, j) = a.muladd(x, V(p, j), G(i, j));
    }
  for (index_t i = 0; i < r; ++i)
    for (index_t j = i; j < r; ++j) G(i, j) = a.store(G(i, j));
}

// B <- U B (left) or B <- B U (right), U upper triangular with its diagonal stored.
// Left, row i top-down (rows k > i still hold the old B): B(i,:) = sum_{k>=i} u_ik B(k,:).
// Right, row i: B(i, j) = sum_{k<=j} B(i,k) u_kj, terms k ascending.
template <class A, class T = typename A::value_type>
void trmm_upper(A& a, bool left, const CVA<A>& U, const View<T>& B) {
  if (B.empty()) return;
  if (use_blas<A>(U, B, std::max(B.rows, B.cols))) {
    if constexpr (A::native) blas_trmm_upper(left ? CblasLeft : CblasRight, U, B);
    return;
  }
  std::vector<T> acc(static_cast<std::size_t>(B.cols));
  for (index_t i = 0; i < B.rows; ++i) {
    std::fill(acc.begin(), acc.end(), T(0));
    if (left) {
      for (index_t k = i; k < B.rows; ++k)
        for (index_t j = 0; j < B.cols; ++j) acc[j] = a.muladd(U(i, k), B(k, j), acc[j]);
    } else {
      for (index_t k = 0; k < B.cols; ++k)
        for (index_t j = k; j < B.cols; ++j) acc[j] = a.muladd(B(i, k), U(k, j), acc[j]);
    }
    for (index_t j = 0; j < B.cols; ++j) B(i, j) = a.store(acc[j]);
  }
}

// ---- The four accumulations ------------------------------------------------------------

// householder/explicit: Q_0 = I, Q_i = Q_{i-1} H_i = Q_{i-1} - (beta_i Q_{i-1} k_i) k_i^T.
// Row q of Q: w = beta_i (q . k_i) (one dot, stored, scaled, stored), q <- q - w k_i^T.
// Invariant after step i: Q = H_1 ... H_i. 4 m^2 r flops.
template <class A, class T = typename A::value_type>
void accumulate_explicit(A& a, const CVA<A>& V, const std::vector<T>& beta, const View<T>& Q) {
  const index_t m = V.rows, r = V.cols;
  for (index_t p = 0; p < m; ++p)
    for (index_t j = 0; j < m; ++j) Q(p, j) = T(p == j ? 1 : 0);
  std::vector<T> k(static_cast<std::size_t>(m));
  for (index_t i = 0; i < r; ++i) {
    for (index_t p = 0; p < m; ++p) k[p] = V(p, i);
    for (index_t p = 0; p < m; ++p) {
      T* q = &Q(p, 0);
      const index_t cs = Q.col_stride;
      const T w = a.store(a.mul(beta[i], a.store(a.dot(m, q, cs, k.data(), 1, T(0)))));
      if constexpr (A::native) {
        if (cs == 1) {
          for (index_t j = 0; j < m; ++j) q[j] -= w * k[j];
          continue;
        }
      }
      for (index_t j = 0; j < m; ++j) q[j * cs] = a.store(a.muladd(T(-w), k[j], q[j * cs]));
    }
  }
}

// householder/wy (Bischof & Van Loan 1987): Q_i = I + W_i Y_i^T with Y = V and
//   W_1 = -beta_1 k_1,   W_i = [W_{i-1}, z_i],  z_i = -beta_i (k_i + W_{i-1} (Y_{i-1}^T k_i)),
// since (I + W Y^T)(I - beta k k^T) = I + W Y^T - beta (k + W Y^T k) k^T.
// Y_{i-1}^T k_i = G(0:i, i) (the Gram matrix's column). m r^2 flops (plus m r^2 for the Gram matrix).
template <class A, class T = typename A::value_type>
void accumulate_wy(A& a, const CVA<A>& V, const std::vector<T>& beta, const CVA<A>& G,
                   const View<T>& W) {
  const index_t m = V.rows, r = V.cols;
  std::vector<T> t(static_cast<std::size_t>(r));
  for (index_t i = 0; i < r; ++i) {
    for (index_t l = 0; l < i; ++l) t[l] = G(l, i);
    for (index_t p = 0; p < m; ++p) {
      const T z = a.store(a.dot(i, &W(p, 0), W.col_stride, t.data(), 1, V(p, i)));
      W(p, i) = a.store(a.mul(T(-beta[i]), z));
    }
  }
}

// householder/compact_wy, construction=sequential (LAPACK xLARFT, direct='F',
// storev='C'): T(i, i) = beta_i and
//   T(0:i, i) = T(0:i, 0:i) (-beta_i V(:, 0:i)^T k_i) = -beta_i T(0:i, 0:i) G(0:i, i),
// scaled first and then multiplied by the upper triangular T(0:i, 0:i) (xTRMV), as
// xLARFT does; beta_i = 0 gives a zero column (xLARFT's tau = 0 case). Invariant: the
// leading i x i block is the T of H_1 ... H_i. r^3/3 flops after the Gram matrix.
template <class A, class T = typename A::value_type>
void build_t_sequential(A& a, const CVA<A>& G, const std::vector<T>& beta, const View<T>& Tm) {
  const index_t r = G.rows;
  for (index_t i = 0; i < r; ++i)
    for (index_t j = 0; j < r; ++j) Tm(i, j) = T(0);
  std::vector<T> t(static_cast<std::size_t>(r));
  for (index_t i = 0; i < r; ++i) {
    Tm(i, i) = beta[i];
    if (beta[i] == T(0)) continue;
    for (index_t l = 0; l < i; ++l) t[l] = a.store(a.mul(T(-beta[i]), G(l, i)));
    for (index_t j = 0; j < i; ++j)  // row j of the TRMV: sum_{l=j}^{i-1} T(j, l) t_l
      Tm(j, i) = a.store(a.dot(i - j, &Tm(j, j), Tm.col_stride, &t[j], 1, T(0)));
  }
}

// T12 <- -T11 G12 T22 (Schreiber & Van Loan 1989; the merge of two compact-WY blocks),
// with G12 = V1^T V2 given in place in T12.
template <class A, class T = typename A::value_type>
void merge_t_block(A& a, const CVA<A>& T11, const CVA<A>& T22, const View<T>& T12) {
  trmm_upper(a, true, T11, T12);
  trmm_upper(a, false, T22, T12);
  for (index_t i = 0; i < T12.rows; ++i)
    for (index_t j = 0; j < T12.cols; ++j) T12(i, j) = T(-T12(i, j));
}

// householder/compact_wy, construction=recursive (Elmroth & Gustavson 2000): split the
// columns [c0, c0+n) in halves n1 = n/2, build T11 and T22 recursively, then
// T12 = -T11 (V1^T V2) T22. Same r^3/3 flops as the sequential form, in TRMMs.
template <class A, class T = typename A::value_type>
void build_t_recursive(A& a, const CVA<A>& G, const std::vector<T>& beta, const View<T>& Tm,
                       index_t c0, index_t n) {
  if (n == 1) {
    Tm(c0, c0) = beta[c0];
    return;
  }
  const index_t n1 = n / 2, n2 = n - n1;
  build_t_recursive(a, G, beta, Tm, c0, n1);
  build_t_recursive(a, G, beta, Tm, c0 + n1, n2);
  for (index_t i = 0; i < n2; ++i)  // below the diagonal: zero
    for (index_t j = 0; j < n1; ++j) Tm(c0 + n1 + i, c0 + j) = T(0);
  const View<T> T12 = Tm.block(c0, c0 + n1, n1, n2);
  for (index_t i = 0; i < n1; ++i)
    for (index_t j = 0; j < n2; ++j) T12(i, j) = G(c0 + i, c0 + n1 + j);
  merge_t_block(a, CView<T>(Tm.block(c0, c0, n1, n1)), CView<T>(Tm.block(c0 + n1, c0 + n1, n2, n2)),
                T12);
}

// householder/tree: leaves of `leaf` consecutive transformations built sequentially
// (xLARFT order), then adjacent blocks merged pairwise, level by level:
// [b0, b1) with [b1, b2) -> T12 = -T11 G12 T22. The associative scan operator applied as
// a balanced binary tree (the parallel form; every merge of one level is independent).
template <class A, class T = typename A::value_type>
void build_t_tree(A& a, const CVA<A>& G, const std::vector<T>& beta, const View<T>& Tm,
                  index_t leaf) {
  const index_t r = G.rows;
  for (index_t i = 0; i < r; ++i)
    for (index_t j = 0; j < r; ++j) Tm(i, j) = T(0);
  for (index_t b = 0; b < r; b += leaf) {
    const index_t n = std::min(leaf, r - b);
    std::vector<T> bb(beta.begin() + b, beta.begin() + b + n);
    build_t_sequential(a, CView<T>(G.block(b, b, n, n)), bb, Tm.block(b, b, n, n));
  }
  for (index_t width = leaf; width < r; width *= 2)
    for (index_t b0 = 0; b0 + width < r; b0 += 2 * width) {
      const index_t n1 = width, n2 = std::min(width, r - b0 - width);
      const View<T> T12 = Tm.block(b0, b0 + n1, n1, n2);
      for (index_t i = 0; i < n1; ++i)
        for (index_t j = 0; j < n2; ++j) T12(i, j) = G(b0 + i, b0 + n1 + j);
      merge_t_block(a, CView<T>(Tm.block(b0, b0, n1, n1)),
                    CView<T>(Tm.block(b0 + n1, b0 + n1, n2, n2)), T12);
    }
}

}  // namespace triscan::householder_detail
