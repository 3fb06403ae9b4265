// src/trinv/lanes.hpp — the batched native fast path of Method 1 (not installed;
// docs/trinv.md "Batched fast path"): `width` matrices of the same order n are inverted
// at once with the batch index in the SIMD lanes, so that every arithmetic operation
// is a full-width vector operation whatever n is.
//
// 1. Gather: the strictly lower parts of the group's L, negated (exact), go into an
//    interleaved tile, entry (i, k) of every matrix in one vector (W x W blocks
//    transposed in registers); for a non-unit diagonal, l_ii goes into a separate
//    vector. Lanes beyond the group's count hold the identity. A matrix with a
//    non-finite entry in its read part is flagged.
// 2. The recurrence of invert_forward_native (kernels.hpp), lane-wise:
//      x_ij = (delta_ij - sum_{k=j}^{i-1} l_ik x_kj) / l_ii,
//    each entry's terms -l_ik * x_kj added to a running sum that starts at 0, in the
//    order k = j, j+1, ..., i-1, then divided by l_ii (non-unit). Rows are processed in
//    groups of B; for a group [i0, i0 + B), register tiles of B x B running sums cover
//    the columns j < i0 and add the terms k < i0 (every term of a tile is a multiply-add
//    of two vectors); the rows of X are stored padded with exact zeros up to a multiple
//    of B columns, so a tile that starts at a column j0 <= k reads x_kj = 0 for j > k
//    and adds exact zeros (-l_ik * 0 = 0, and a running sum that starts at +0 and only
//    ever adds terms in round-to-nearest stays +0 until its first nonzero term; at worst
//    the sign of a zero result can differ). Then the group's own terms k = i0 .. r-1 are
//    added to row r in order, as each row of the group becomes final, exactly as in the
//    single-matrix kernel (for the columns j < i0 inside the tile's registers, for the
//    diagonal block by short loops), then the division. Hence each entry sees the same operations in the same order
//    as invert_forward_native: the same error bound (ASNA Thm 8.5 per column) and, with
//    the same FMA contraction (both are compiled in direct.cpp), the same bits.
// 3. Scatter: each matrix's X is written to its output view under the output contract
//    (1 on a unit diagonal, 0 above), a matrix with a non-finite result flagged.
//
// Vectors as in src/simd.hpp (64 bytes with AVX-512, 32 with AVX, else 16). The
// rows are padded to n_pad = ceil(n / B) B with identity rows, which are computed and
// never written out.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <limits>
#include <memory>

#include "src/trinv/check.hpp"
#include "src/trinv/method.hpp"
#include "src/simd.hpp"

namespace triscan::trinv_detail::lanes {
// Internal linkage: the vector width follows each translation unit's target flags
// (direct.cpp is built with -march=native), so two TUs' instantiations must never be
// merged or interposed (tests/trinv/test_trinv_lane_check.cpp includes this header too).
namespace {

using simd::Vec;
using simd::vector_bytes;
#if defined(__AVX512F__)
inline constexpr index_t block = 4;  // B: 16 running sums + 4 + 1 operands of 32 vector registers
#else
inline constexpr index_t block = 3;  // 9 + 3 + 1 of 16 registers
#endif
inline constexpr index_t max_n = 256;

// ---- W x W transposition in registers (W = lanes) -------------------------------------
// log2(W) butterfly stages; stage h swaps the off-diagonal h x h sub-blocks of every
// 2h x 2h diagonal block: for rows r, r + h ((r & h) == 0),
//   v[r][j]     = (j & h) ? v[r + h][j - h] : v[r][j],
//   v[r + h][j] = (j & h) ? v[r + h][j]     : v[r][j + h].
// GCC's __builtin_shuffle takes the two-source index vectors (index W + j = b[j]); other
// compilers swap elements one by one. Data movement only: values are not changed.
template <class T>
struct ShuffleMasks {
  static constexpr index_t W = Vec<T>::width;
  typename Vec<T>::index_type lo[8][W], hi[8][W];
  constexpr ShuffleMasks() : lo(), hi() {
    index_t s = 0;
    for (index_t h = 1; h < W; h *= 2, ++s)
      for (index_t j = 0; j < W; ++j) {
        lo[s][j] = static_cast<typename Vec<T>::index_type>((j & h) ? W + j - h : j);
        hi[s][j] = static_cast<typename Vec<T>::index_type>((j & h) ? W + j : j + h);
      }
  }
};

template <class T>
inline void transpose(typename Vec<T>::type* v) {
  using V = typename Vec<T>::type;
  constexpr index_t W = Vec<T>::width;
#if defined(__GNUC__) && !defined(__clang__)
  using IV = typename Vec<T>::index;
  static constexpr ShuffleMasks<T> masks{};
  index_t s = 0;
#pragma GCC unroll 8
  for (index_t h = 1; h < W; h *= 2, ++s) {
    IV lo, hi;
    std::memcpy(&lo, masks.lo[s], sizeof(IV));
    std::memcpy(&hi, masks.hi[s], sizeof(IV));
#pragma GCC unroll 16
    for (index_t r = 0; r < W; ++r)
      if (!(r & h)) {
        const V a = v[r], b = v[r + h];
        v[r] = __builtin_shuffle(a, b, lo);
        v[r + h] = __builtin_shuffle(a, b, hi);
      }
  }
#else
  for (index_t r = 0; r < W; ++r)
    for (index_t c = r + 1; c < W; ++c) {
      const T t = v[r][c];
      v[r][c] = v[c][r];
      v[c][r] = t;
    }
  (void)sizeof(V);
#endif
}

inline index_t padded_order(index_t n) { return (n + block - 1) / block * block; }
// Row r of X holds the columns 0 .. P(r) - 1, P(r) = the multiple of B above r.
inline index_t x_row_length(index_t r) { return (r / block + 1) * block; }
// Offset (in vectors) of row r of X: sum_{r' < r} P(r').
inline index_t x_row_offset(index_t r) {
  const index_t q = r / block, s = r % block;  // full blocks of rows, then s rows of length (q+1)B
  return block * block * q * (q + 1) / 2 + s * (q + 1) * block;
}
// Offset of row r of the strictly lower part of L (r entries).
inline index_t l_row_offset(index_t r) { return r * (r - 1) / 2; }

// Layout of the scratch, in vectors: -L (strictly lower, packed), diag(L), X (padded rows).
struct Layout {
  index_t np, l_size, d_size, x_size;
  explicit Layout(index_t n)
      : np(padded_order(n)), l_size(l_row_offset(np)), d_size(np), x_size(x_row_offset(np)) {}
  index_t vectors() const { return l_size + d_size + x_size; }
};

// The check's work arrays (check_lanes): 9 vectors of doubles per row.
inline index_t check_vectors(index_t n) { return 9 * n; }

template <class T>
index_t scratch_size(index_t n) {
  // in T entries, plus one vector of slack for the alignment (a vector of doubles has the
  // same size as a vector of T)
  return (Layout(n).vectors() + check_vectors(n) + 1) * Vec<T>::width;
}

// ---- The a-posteriori check, lane-wise --------------------------------------------------
// rho of every matrix of the group (src/trinv/check.hpp accuracy_check), from the tile:
// L(i, k) = -Lm(i, k) (an exact negation), l_ii = D[i] (non-unit) or 1, X(i, j) the rows
// of X. Each lane sees the scalar check's operations in the same order, in double: the
// lanes of a T vector are taken Vec<double>::width at a time (fp32: two halves).
template <class T>
void check_lanes(index_t n, bool unit, const typename Vec<T>::type* Lm, const typename Vec<T>::type* D,
                 const typename Vec<T>::type* X, typename Vec<double>::type* work, double* rho,
                 index_t count) {
  using V = typename Vec<T>::type;
  using VD = typename Vec<double>::type;
  using VI = typename Vec<double>::index;
  constexpr index_t WD = Vec<double>::width;
  double v0[max_n], v1[max_n];
  for (index_t j = 0; j < n; ++j) {
    v0[j] = check_sign(check_seeds[0], j);
    v1[j] = check_sign(check_seeds[1], j);
  }
  VD *const t0 = work, *const t1 = t0 + n, *const xa = t1 + n, *const s0 = xa + n, *const s1 = s0 + n,
            *const ca = s1 + n, *const w0 = ca + n, *const w1 = w0 + n, *const dl = w1 + n;
  auto absd = [](VD x) {  // |x| by clearing the sign bit, as std::fabs
    VI b;
    std::memcpy(&b, &x, sizeof(VD));
    b &= std::numeric_limits<std::int64_t>::max();
    std::memcpy(&x, &b, sizeof(VD));
    return x;
  };
  auto vmax = [](VD a, VD b) { return a < b ? b : a; };  // std::max(a, b), lane-wise
  auto ratio = [](VD num, VD den) { return num == VD{} ? VD{} : num / den; };
  for (index_t h = 0; h * WD < count; ++h) {
    auto dbl = [h](const V& v) {  // lanes h WD .. h WD + WD - 1 as doubles
      VD r;
      for (index_t l = 0; l < WD; ++l) r[l] = static_cast<double>(v[h * WD + l]);
      return r;
    };
    auto diag = [&](index_t i) { return unit ? VD{} + 1.0 : dbl(D[i]); };
    // Right: t = X v, xa = |X| 1; r = L t - v against (|L| xa).
    for (index_t i = 0; i < n; ++i) {
      const V* x = X + x_row_offset(i);
      VD a0 = VD{}, a1 = VD{}, a = VD{};
      for (index_t j = 0; j <= i; ++j) {
        const VD xv = dbl(x[j]);
        a0 = a0 + xv * v0[j];
        a1 = a1 + xv * v1[j];
        a = a + absd(xv);
      }
      t0[i] = a0, t1[i] = a1, xa[i] = a;
    }
    VD rho_r = VD{};
    for (index_t i = 0; i < n; ++i) {
      const V* l = Lm + l_row_offset(i);
      const VD di = diag(i);
      VD r0 = di * t0[i] - v0[i], r1 = di * t1[i] - v1[i], d = absd(di) * xa[i];
      for (index_t k = 0; k < i; ++k) {
        const VD lv = -dbl(l[k]);
        r0 = r0 + lv * t0[k];
        r1 = r1 + lv * t1[k];
        d = d + absd(lv) * xa[k];
      }
      rho_r = vmax(rho_r, vmax(ratio(absd(r0), d), ratio(absd(r1), d)));
    }
    // Left: s^T = v^T X, ca = 1^T |X|; w^T = s^T L - v^T against (ca^T |L|).
    for (index_t j = 0; j < n; ++j) s0[j] = s1[j] = ca[j] = w0[j] = w1[j] = dl[j] = VD{};
    for (index_t i = 0; i < n; ++i) {
      const V* x = X + x_row_offset(i);
      for (index_t j = 0; j <= i; ++j) {
        const VD xv = dbl(x[j]);
        s0[j] = s0[j] + v0[i] * xv;
        s1[j] = s1[j] + v1[i] * xv;
        ca[j] = ca[j] + absd(xv);
      }
    }
    for (index_t i = 0; i < n; ++i) {
      const V* l = Lm + l_row_offset(i);
      for (index_t k = 0; k < i; ++k) {
        const VD lv = -dbl(l[k]);
        w0[k] = w0[k] + s0[i] * lv;
        w1[k] = w1[k] + s1[i] * lv;
        dl[k] = dl[k] + ca[i] * absd(lv);
      }
      const VD di = diag(i);
      w0[i] = w0[i] + s0[i] * di;
      w1[i] = w1[i] + s1[i] * di;
      dl[i] = dl[i] + ca[i] * absd(di);
    }
    VD rho_l = VD{};
    for (index_t k = 0; k < n; ++k)
      rho_l = vmax(rho_l, vmax(ratio(absd(w0[k] - v0[k]), dl[k]), ratio(absd(w1[k] - v1[k]), dl[k])));
    const VD res = rho_l < rho_r ? rho_l : rho_r;  // std::min(rho_r, rho_l)
    for (index_t l = 0; l < WD && h * WD + l < count; ++l) rho[h * WD + l] = res[l];
  }
}

// Prefetches the read part of the next group's matrices (unit column stride only), a
// slice of rows per call: `cursor` counts rows over the matrices, `rows` is the quota.
template <class T>
inline void prefetch_rows(const LaneGroup<T>& g, index_t& cursor, index_t rows) {
  constexpr index_t line = static_cast<index_t>(64 / sizeof(T));
  for (index_t end = cursor + rows; cursor < end; ++cursor) {
    const index_t b = cursor / g.n, i = cursor % g.n;
    if (b >= g.prefetch_count) return;
    const MatrixView<const T>& A = g.prefetch[b];
    if (A.col_stride != 1 || A.rows != g.n) continue;
    const T* a = &A(i, 0);
    const index_t m = g.unit ? i : i + 1;
    for (index_t k = 0; k < m; k += line) __builtin_prefetch(a + k, 0, 2);  // into L2: the tile owns L1
    if (m > 0) __builtin_prefetch(a + m - 1, 0, 2);
  }
}

template <class T>
void run(const LaneGroup<T>& g, T* scratch) {
  using V = typename Vec<T>::type;
  constexpr index_t W = Vec<T>::width, B = block;
  const index_t n = g.n;
  const Layout lay(n);
  const index_t np = lay.np;
  void* raw = scratch;
  std::size_t space = static_cast<std::size_t>(scratch_size<T>(n)) * sizeof(T);
  V* const base = static_cast<V*>(std::align(alignof(V), sizeof(V) * (lay.vectors() + check_vectors(n)), raw, space));
  V* const Lm = base;             // Lm[l_row_offset(i) + k] = -l_ik, k < i
  V* const D = Lm + lay.l_size;   // D[i] = l_ii (non-unit)
  V* const X = D + lay.d_size;    // X[x_row_offset(i) + j]
  auto* const work = reinterpret_cast<typename Vec<double>::type*>(X + lay.x_size);  // check_lanes

  // 1. Gather (lanes >= count and padding rows: identity).
  for (index_t i = g.count == W ? n : 0; i < np; ++i) {  // a full group overwrites rows < n below
    V* lrow = Lm + l_row_offset(i);
    for (index_t k = 0; k < i; ++k) lrow[k] = V{};
  }
  if (!g.unit || g.count < W)
    for (index_t i = 0; i < np; ++i) D[i] = V{} + T(1);
  // Row i of the W matrices, W columns at a time: W row segments are loaded (vector b =
  // matrix b), transposed (vector c = column k0 + c of every matrix) and stored. The last
  // segment of a row with i >= W is the full one ending at column i - 1 (overlapping the
  // previous one; only its new columns are stored), so only the strictly lower part is
  // read. A non-finite entry makes its lane of `poison` NaN (x * 0 is 0 for finite x).
  // With unit column strides a full segment is one unaligned vector load per matrix
  // (lanes beyond the group's count read a row of zeros).
  static const T zeros[max_n] = {};
  bool unit_stride = true;
  for (index_t b = 0; b < g.count; ++b) unit_stride = unit_stride && g.L[b].col_stride == 1;
  V poison = V{};
  for (index_t i = 0; i < n; ++i) {
    V* lrow = Lm + l_row_offset(i);
    const T* rowp[W];
    for (index_t b = 0; b < W; ++b) rowp[b] = b < g.count ? &g.L[b](i, 0) : zeros;
    for (index_t k0 = 0; k0 < i; k0 += W) {
      const index_t ks = (k0 + W > i && i >= W) ? i - W : k0;  // the segment read: ks .. ks + m - 1
      const index_t m = std::min(W, i - ks);
      V t[W];
      if (unit_stride && m == W) {
#pragma GCC unroll 16
        for (index_t b = 0; b < W; ++b) std::memcpy(&t[b], rowp[b] + ks, sizeof(V));
      } else {
        for (index_t b = 0; b < W; ++b) {
        if (b >= g.count) {
          t[b] = V{};
          continue;
        }
        const MatrixView<const T>& A = g.L[b];
        const T* a = &A(i, ks);
        if (m == W && A.col_stride == 1) {
          std::memcpy(&t[b], a, sizeof(V));
        } else {
          t[b] = V{};
          for (index_t k = 0; k < m; ++k) t[b][k] = a[k * A.col_stride];
        }
        }
      }
      transpose<T>(t);
#pragma GCC unroll 16
      for (index_t c = k0 - ks; c < m; ++c) {
        poison = poison + t[c] * T(0);
        lrow[ks + c] = -t[c];
      }
    }
    if (!g.unit) {
      for (index_t b = 0; b < g.count; ++b) D[i][b] = g.L[b](i, i);
      poison = poison + D[i] * T(0);
    }
  }
  for (index_t b = 0; b < g.count; ++b) g.nonfinite_in[b] = std::isnan(poison[b]) ? 1 : 0;

  // 2. The recurrence, B rows at a time (prefetching the next group's input meanwhile).
  index_t pf_cursor = 0;
  const index_t pf_rows = (g.prefetch_count * n + np / B - 1) / (np / B);
  for (index_t i0 = 0; i0 < np; i0 += B) {
    prefetch_rows(g, pf_cursor, pf_rows);
    const V* lr[B];
    for (index_t r = 0; r < B; ++r) lr[r] = Lm + l_row_offset(i0 + r);
    for (index_t j0 = 0; j0 < i0; j0 += B) {  // tiles: columns j0 .. j0 + B - 1 (< i0) of the B rows
      V acc[B][B] = {};
      for (index_t k = j0; k < i0; ++k) {  // terms k < i0
        const V* y = X + x_row_offset(k) + j0;
        V yv[B];
        for (index_t c = 0; c < B; ++c) yv[c] = y[c];
        for (index_t r = 0; r < B; ++r) {
          const V m = lr[r][k];
          for (index_t c = 0; c < B; ++c) acc[r][c] = acc[r][c] + m * yv[c];
        }
      }
      // The group's own terms k = i0, ..., i0 + r - 1, in order, from the rows above that
      // are final in registers; then the division (non-unit): row i0 + r is final.
      for (index_t r = 0; r < B; ++r) {
        for (index_t q = 0; q < r; ++q) {
          const V m = lr[r][i0 + q];
          for (index_t c = 0; c < B; ++c) acc[r][c] = acc[r][c] + m * acc[q][c];
        }
        if (!g.unit) {
          const V d = D[i0 + r];
          for (index_t c = 0; c < B; ++c) acc[r][c] = acc[r][c] / d;
        }
      }
      for (index_t r = 0; r < B; ++r) {
        V* x = X + x_row_offset(i0 + r) + j0;
        for (index_t c = 0; c < B; ++c) x[c] = acc[r][c];
      }
    }
    for (index_t r = i0; r < i0 + B; ++r) {  // the diagonal block: columns i0 .. r, terms k = c .. r-1
      V* x = X + x_row_offset(r);
      for (index_t c = i0; c < i0 + B; ++c) x[c] = V{};
      for (index_t k = i0; k < r; ++k) {
        const V m = lr[r - i0][k];
        const V* y = X + x_row_offset(k);
        for (index_t c = i0; c <= k; ++c) x[c] = x[c] + m * y[c];
      }
      if (g.unit) {
        x[r] = V{} + T(1);
      } else {
        const V d = D[r];
        for (index_t c = i0; c < r; ++c) x[c] = x[c] / d;
        x[r] = T(1) / d;
      }
    }
  }

  // The a-posteriori check, while L and X are in the tile (the driver asked for it).
  if (g.rho) check_lanes<T>(n, g.unit, Lm, D, X, work, g.rho, g.count);

  // 3. Scatter, the gather's transposition backwards: row i of X (its stored columns
  // < P(i) hold the lower part, the diagonal and exact zeros; beyond them zeros), W
  // columns at a time, becomes W output row segments. poison as above.
  poison = V{};
  bool streamed = false;
  bool unit_stride_out = true;
  for (index_t b = 0; b < g.count; ++b) unit_stride_out = unit_stride_out && g.X[b].col_stride == 1;
  for (index_t i = 0; i < n; ++i) {
    const V* x = X + x_row_offset(i);
    const index_t stored = x_row_length(i);
    T* orow[W];  // row i of each output; null: not written (no matrix, or non-finite input)
    for (index_t b = 0; b < W; ++b) orow[b] = b < g.count && g.nonfinite_in[b] == 0 ? &g.X[b](i, 0) : nullptr;
    for (index_t c1 = 0; c1 < n; c1 += W) {
      const index_t c0 = (c1 + W > n && n >= W) ? n - W : c1;  // the last one may overlap: same values
      const index_t m = std::min(W, n - c0);
      V t[W];
      if (c0 > i) {  // above the diagonal: zeros, nothing to transpose
        for (index_t c = 0; c < W; ++c) t[c] = V{};
      } else {
        for (index_t c = 0; c < W; ++c) t[c] = c0 + c < stored ? x[c0 + c] : V{};
        for (index_t c = 0; c < W && c0 + c <= i; ++c) poison = poison + t[c] * T(0);
        transpose<T>(t);
      }
      if (unit_stride_out && m == W) {
#pragma GCC unroll 16
        for (index_t b = 0; b < W; ++b)
          if (orow[b]) streamed |= simd::store<T>(orow[b] + c0, t[b], g.stream_output);
        continue;
      }
      for (index_t b = 0; b < g.count; ++b) {
        if (g.nonfinite_in[b] > 0) continue;  // the driver reports nonfinite_input and fills X
        const MatrixView<T>& Xo = g.X[b];
        T* o = &Xo(i, c0);
        if (m == W && Xo.col_stride == 1) {
          streamed |= simd::store<T>(o, t[b], g.stream_output);
        } else {
          for (index_t c = 0; c < m; ++c) o[c * Xo.col_stride] = t[b][c];
        }
      }
    }
  }
  for (index_t b = 0; b < g.count; ++b) g.nonfinite_out[b] = std::isnan(poison[b]) ? 1 : 0;
  if (streamed) simd::store_fence();
}

template <class T>
LaneKernel<T> forward_kernel() {
  LaneKernel<T> k;
  k.width = Vec<T>::width;
  k.max_n = max_n;
  k.scratch_size = &scratch_size<T>;
  k.run = &run<T>;
  k.checks = true;
  return k;
}

}  // namespace
}  // namespace triscan::trinv_detail::lanes
