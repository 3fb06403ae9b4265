// src/trinv/rows.hpp — the batched native fast path of Method 1 without the a-posteriori
// check (not installed; docs/trinv.md "Batched fast path"): one matrix per call, the
// rows of X as SIMD vectors, no transposition.
//
// X = L^-1 row by row, as the single-matrix kernel invert_forward_native (kernels.hpp):
//      x_ij = (delta_ij - sum_{k=j}^{i-1} l_ik x_kj) / l_ii,
// each entry a running sum that starts at 0 and adds -l_ik x_kj for k = j, ..., i-1 in
// that order, then the division by l_ii (non-unit). Rows go in groups of R = 4; for a
// group [i0, i0 + R) the columns j < i0 + R are covered by register tiles of R rows x NV
// vectors (NV <= VB) of running sums:
//   1. the terms k < i0: a tile whose first column is c0 starts at k = c0 and lets vector
//      v of the tile join at k = v's first column. Earlier terms of an entry (k < j) read
//      x_kj = 0 above the diagonal of row k and add exact zeros (-l_ik * 0 = +-0 to a
//      running sum that starts at +0 keeps it +0 until its first nonzero term: at worst
//      the sign of a zero result can differ), so each entry sees its own terms, in order;
//   2. the group's own terms k = i0, ..., r-1, in order, from the rows above that are
//      final in registers, then the division, and the diagonal (1 or 1 / l_rr) inserted:
//      row r is final.
// Hence each entry sees the same operations in the same order as invert_forward_native:
// the same error bound (ASNA Thm 8.5 per column) and, with the same FMA contraction (both
// are compiled in direct.cpp), the same bits. Every arithmetic operation is a vector
// operation over columns; the operand l_ik is a broadcast.
//
// Rows of X live in a scratch (row-major, rows padded to whole vectors: the tiles read
// earlier rows from it, in L1) and are written to the output as soon as they are final:
// lower part, the diagonal, zeros above (streaming stores when the driver asks, which
// spreads the output's memory traffic over the computation). A non-finite input is found
// from the output (see run: no second pass over the input unless the output is not
// finite; a flagged matrix is left for the driver to fill), and the next matrix's read part
// is prefetched into L1 while this one is computed, a few lines per tile (PrefetchCursor).
// Inputs with a non-unit column stride (column-major, upper through the transpose) are
// first copied row-major into the scratch; outputs with a non-unit column stride are
// written entry by entry.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "src/trinv/method.hpp"
#include "src/simd.hpp"

namespace triscan::trinv_detail::rows {
// Internal linkage, as src/simd.hpp.
namespace {

using simd::Vec;
inline constexpr index_t R = 4;  // rows per register tile
// Column vectors per tile: R x VB running sums + VB row operands + 1 broadcast (16 of 16
// registers with AVX2).
inline constexpr int VB = simd::vector_registers >= 32 ? 4 : 3;
inline constexpr index_t max_n = 256;

template <class T>
index_t padded_row(index_t n) {
  constexpr index_t W = Vec<T>::width;
  return (n + W - 1) / W * W;
}

template <class T>
index_t scratch_size(index_t n) {
  // X rows (n x padded_row), a row-major copy of L for strided inputs (n x n), and one
  // vector of slack for the alignment.
  return n * padded_row<T>(n) + n * n + Vec<T>::width;
}

// Rows [i0, i1) of X, final in the scratch (row i: columns 0 .. stored - 1), to the
// caller's output: the lower part, the diagonal, exact zeros above it (a division may have
// left -0 there) and beyond. Returns the lanes (nonzero) where a written entry of the last
// row (n - 1; see run) is not finite; sets `streamed` when a store streamed.
template <class T>
typename Vec<T>::index write_rows(const T* X, index_t ldx, index_t i0, index_t i1, index_t stored,
                                  const MatrixView<T>& out, bool stream, bool& streamed) {
  using V = typename Vec<T>::type;
  using I = typename Vec<T>::index_type;
  constexpr index_t W = Vec<T>::width;
  const index_t n = out.cols;
  typename Vec<T>::index bad{};
  for (index_t i = i0; i < i1; ++i) {
    T* o = &out(i, 0);
    for (index_t c = 0; c < n; c += W) {
      V v{};
      if (c < stored) {
        std::memcpy(&v, X + i * ldx + c, sizeof(V));
        if (c + W > i) v = (simd::iota<T>() <= static_cast<I>(i - c)) ? v : V{};
      }
      if (i == n - 1) bad |= simd::nonfinite<T>(v);
      if (out.col_stride == 1 && c + W <= n) {
        streamed |= simd::store<T>(o + c, v, stream);
      } else {
        for (index_t q = 0; q < std::min(W, n - c); ++q) o[(c + q) * out.col_stride] = v[q];
      }
    }
  }
  return bad;
}

// One term k of the vectors 0 .. A of a tile.
template <class T, int NV, int ROWS, int A>
[[gnu::always_inline]] inline void tile_term(typename Vec<T>::type (&acc)[ROWS][NV],
                                             const T* const* l, const T* X, index_t ldx,
                                             index_t v0, index_t k) {
  using V = typename Vec<T>::type;
  constexpr index_t W = Vec<T>::width;
  const T* y = X + k * ldx + v0 * W;
  V yv[A + 1];
#pragma GCC unroll 8
  for (int b = 0; b <= A; ++b) {
    V t;
    std::memcpy(&t, y + b * W, sizeof(V));
    // With 16 vector registers GCC would rather take y as the multiply-adds' memory
    // operand, one load per row of the tile; forced into a register it is loaded once
    // (AVX2 on Zen 3: 5.3 -> 4.1 us per fp64 matrix in cache, docs/benchmarks.md). On
    // the array element itself the barrier makes GCC keep yv in memory.
#if defined(__x86_64__) || defined(__i386__)
    if constexpr (simd::vector_registers < 32) asm("" : "+x"(t));
#endif
    yv[b] = t;
  }
#pragma GCC unroll 4
  for (int r = 0; r < ROWS; ++r) {
    const V m = simd::splat<T>(l[r][k]);
#pragma GCC unroll 8
    for (int b = 0; b <= A; ++b)
      acc[r][b] = acc[r][b] - m * yv[b];  // + (-l_rk) x_k: the same rounding
  }
}

// The terms k < i0 of a tile: vectors 0 .. A of the tile take part for k in
// [(v0 + A) W, end of segment A); the last segment runs to i0.
template <class T, int NV, int ROWS, int A = 0>
[[gnu::always_inline]] inline void tile_terms(typename Vec<T>::type (&acc)[ROWS][NV],
                                              const T* const* l, const T* X, index_t ldx,
                                              index_t v0, index_t i0) {
  constexpr index_t W = Vec<T>::width;
  const index_t kb = (v0 + A) * W;
  const index_t ke = (A == NV - 1) ? i0 : std::min((v0 + A + 1) * W, i0);
  for (index_t k = kb; k < ke; ++k) tile_term<T, NV, ROWS, A>(acc, l, X, ldx, v0, k);
  if constexpr (A + 1 < NV) tile_terms<T, NV, ROWS, A + 1>(acc, l, X, ldx, v0, i0);
}

// A cursor over the lines of the next matrix's read part (unit column stride; rows in
// order, each line once), prefetched into L1 (locality 3) a few lines at a time: every
// tile issues `lines_per_tile` of them, and the run the rest at its end. Spread over the
// computation, the misses no longer come in bursts of up to a group's 32 lines at its
// start (fp64, n = 64: 288 lines over 51 tiles): 32768 fp64 64 x 64 matrices on two
// threads of the 2-core Zen 3 VM, 10% less time than a group's rows at the group's start
// (in-process A/B, session 12; docs/benchmarks.md). Into L1 rather than L2: 4-7% less
// (session 11). Always inlined: GCC 12 takes a call whose only effect is prefetching for
// one without effects and deletes it (seen at -O1 and above).
inline constexpr int lines_per_tile = 6;

template <class T>
struct PrefetchCursor {
  const T* base = nullptr;  // null: nothing (left) to prefetch
  index_t ld = 0, rows = 0, row = 0;
  std::uintptr_t p = 0, end = 0;  // the next line to prefetch in row `row`; its read part's end
  bool unit = true;
  void start_row() {
    for (; row < rows; ++row) {
      const index_t m = unit ? row : row + 1;
      if (m == 0) continue;  // row 0 of a unit matrix: nothing read
      const T* a = base + row * ld;
      p = reinterpret_cast<std::uintptr_t>(a) / 64 * 64;
      end = reinterpret_cast<std::uintptr_t>(a + m);
      return;
    }
    base = nullptr;
  }
  [[gnu::always_inline]] void advance(int lines) {
    if (!base) return;
    std::uintptr_t q = p, e = end;  // in registers
    for (; lines > 0; --lines) {
      __builtin_prefetch(reinterpret_cast<const void*>(q), 0, 3);
      q += 64;
      if (q >= e) {
        ++row;
        start_row();
        if (!base) return;
        q = p;
        e = end;
      }
    }
    p = q;
  }
};

// Where the tiles put final rows: the scratch, and with `direct` (unit column stride and
// n a multiple of W) the output too, straight from the registers; else write_rows copies
// them from the scratch after each group.
template <class T>
struct Dest {
  T* X;
  index_t ldx;
  T* out;  // row i at out + i * ld (direct only)
  index_t ld;
  bool stream;
  bool streamed = false;
  bool last = false;             // the current group holds row n - 1, the row checked (see run)
  typename Vec<T>::index bad{};  // nonzero lanes iff an entry of row n - 1 is not finite
  PrefetchCursor<T> pf{};
};

// What a tile writes besides the scratch: nothing (write_rows copies the group's rows to
// the output after its tiles), its entries through streaming stores only (streaming asked
// and every output vector aligned: run checks once per matrix), or through simd::store,
// which checks per store. Known at compile time, the streaming stores are straight-line
// code: 32768 fp64 64 x 64 matrices on two threads of the 2-core Zen 3 VM took 8-11% less
// time than with the per-store check (in-process A/B, session 13). Ordinary stores the
// same way (no streaming asked) were 2-3% slower in cache than the checked ones, so they
// stay checked.
enum Out : int { to_scratch, streaming, checked };

// Where R divides W (AVX and AVX-512; not fp64 with 16-byte vectors), the diagonal
// entries of a group's rows i0 .. i0 + R - 1 all lie in one vector, i0 / W = nvec - 1:
// the last vector of the group's last tile, the only one that needs the diagonal's
// insertion and the mask above it. Else they may span two vectors (and two tiles).
template <class T>
inline constexpr bool diagonal_in_last_vector = Vec<T>::width % R == 0;

// Rows i0 .. i0 + ROWS - 1, column vectors v0 .. v0 + NV - 1 (all columns < i0 + ROWS
// when this is the group's last tile). Out of line, with tile_terms inlined: the running
// sums then live in registers (inlined into a large caller, the compiler may keep them in
// memory instead).
// OUT: what the tile writes besides the scratch (Out above).
template <class T, int NV, int ROWS, int OUT, bool DIAG>
[[gnu::noinline]] void tile(const T* const* l, Dest<T>& dest, index_t i0, index_t v0, bool unit) {
  using V = typename Vec<T>::type;
  using I = typename Vec<T>::index_type;
  constexpr index_t W = Vec<T>::width;
  T* const X = dest.X;  // locals: the stores below may not be assumed not to alias dest
  const index_t ldx = dest.ldx, ld = dest.ld;
  T* const out = dest.out;
  const bool stream = dest.stream, last = dest.last;
  constexpr bool DIRECT = OUT != to_scratch;
  dest.pf.advance(lines_per_tile);
  V acc[ROWS][NV] = {};
  tile_terms<T, NV, ROWS>(acc, l, X, ldx, v0, i0);
#pragma GCC unroll 4
  for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 4
    for (int q = 0; q < r; ++q) {
      const V m = simd::splat<T>(l[r][i0 + q]);
#pragma GCC unroll 8
      for (int b = 0; b < NV; ++b) acc[r][b] = acc[r][b] - m * acc[q][b];
    }
    const T lrr = unit ? T(1) : l[r][i0 + r];
    if (!unit) {
      const V d = simd::splat<T>(lrr);
#pragma GCC unroll 8
      for (int b = 0; b < NV; ++b) acc[r][b] = acc[r][b] / d;
    }
    if constexpr (DIAG) {
      const V xd = simd::splat<T>(unit ? T(1) : T(1) / lrr);
      if constexpr (diagonal_in_last_vector<T>) {
        const index_t dc = i0 + r - (v0 + NV - 1) * W;  // the diagonal's lane there
        acc[r][NV - 1] = (simd::iota<T>() == static_cast<I>(dc)) ? xd : acc[r][NV - 1];
      } else {
#pragma GCC unroll 8
        for (int b = 0; b < NV; ++b)
          acc[r][b] = (simd::iota<T>() == static_cast<I>(i0 + r - (v0 + b) * W)) ? xd : acc[r][b];
      }
    }
  }
  typename Vec<T>::index bad{};
  bool streamed = false;
#pragma GCC unroll 4
  for (int r = 0; r < ROWS; ++r) {
    const index_t i = i0 + r;
    T* x = X + i * ldx + v0 * W;
#pragma GCC unroll 8
    for (int b = 0; b < NV; ++b) {
      std::memcpy(x + b * W, &acc[r][b], sizeof(V));
      if constexpr (DIRECT) {
        const index_t c = (v0 + b) * W;
        // Above the diagonal the output holds exact zeros (a division may have left -0).
        const bool masked = diagonal_in_last_vector<T> ? b == NV - 1 : c + W > i;
        const V v = DIAG && masked
                        ? ((simd::iota<T>() <= static_cast<I>(i - c)) ? acc[r][b] : V{})
                        : acc[r][b];
        if (r == ROWS - 1 && last) bad |= simd::nonfinite<T>(v);
        if constexpr (OUT == streaming)
          simd::store_stream<T>(out + i * ld + c, v);
        else
          streamed |= simd::store<T>(out + i * ld + c, v, stream);
      }
    }
  }
  if constexpr (DIRECT) {
    dest.bad |= bad;
    dest.streamed |= streamed || OUT == streaming;
  }
}

// Tiles without the diagonal (all columns left of i0) skip its insertion and the masks.
template <class T, int NV, int ROWS, int OUT>
inline void tile_at(const T* const* l, Dest<T>& dest, index_t i0, index_t v0, bool unit) {
  if ((v0 + NV) * Vec<T>::width > i0)
    tile<T, NV, ROWS, OUT, true>(l, dest, i0, v0, unit);
  else
    tile<T, NV, ROWS, OUT, false>(l, dest, i0, v0, unit);
}

template <class T, int ROWS, int OUT>
inline void tiles(const T* const* l, Dest<T>& dest, index_t i0, index_t nvec, bool unit) {
  for (index_t v0 = 0; v0 < nvec; v0 += VB) {
    switch (std::min<index_t>(VB, nvec - v0)) {
      case 1:
        tile_at<T, 1, ROWS, OUT>(l, dest, i0, v0, unit);
        break;
      case 2:
        tile_at<T, 2, ROWS, OUT>(l, dest, i0, v0, unit);
        break;
      case 3:
        if constexpr (VB >= 3) tile_at<T, 3, ROWS, OUT>(l, dest, i0, v0, unit);
        break;
      default:
        if constexpr (VB >= 4) tile_at<T, VB, ROWS, OUT>(l, dest, i0, v0, unit);
        break;
    }
  }
}

// The tiles of a group of `rows` (1 .. R) rows.
template <class T, int OUT>
inline void group_tiles(index_t rows, const T* const* l, Dest<T>& dest, index_t i0, index_t nvec, bool unit) {
  if (rows == R)
    tiles<T, R, OUT>(l, dest, i0, nvec, unit);
  else if (rows == 3)
    tiles<T, 3, OUT>(l, dest, i0, nvec, unit);
  else if (rows == 2)
    tiles<T, 2, OUT>(l, dest, i0, nvec, unit);
  else
    tiles<T, 1, OUT>(l, dest, i0, nvec, unit);
}

// Lanes (nonzero) where an entry of rows [i0, i1) of the read part is not finite (strictly
// lower; with the diagonal if non-unit); rows of unit column stride, leading dimension ld.
template <class T>
typename Vec<T>::index nonfinite_rows(const T* L, index_t ld, index_t i0, index_t i1, bool unit) {
  using V = typename Vec<T>::type;
  constexpr index_t W = Vec<T>::width;
  typename Vec<T>::index bad{};
  for (index_t i = i0; i < i1; ++i) {
    const index_t m = unit ? i : i + 1;
    const T* a = L + i * ld;
    index_t k = 0;
    for (; k + W <= m; k += W) {
      V t;
      std::memcpy(&t, a + k, sizeof(V));
      bad |= simd::nonfinite<T>(t);
    }
    if (k < m && m >= W) {  // the last full vector ending at column m - 1 (overlapping)
      V t;
      std::memcpy(&t, a + m - W, sizeof(V));
      bad |= simd::nonfinite<T>(t);
    } else {
      for (; k < m; ++k)
        if (!std::isfinite(a[k])) bad[0] = -1;
    }
  }
  return bad;
}

template <class T>
bool any_lane(const typename Vec<T>::index& v) {
  bool any = false;
  for (index_t q = 0; q < Vec<T>::width; ++q) any |= v[q] != 0;
  return any;
}

// Touches the output rows [r0, r1) of X (unit column stride), one read prefetch per 4 KiB
// page that begins among them, so that their address translations are cached before the
// streaming stores reach them: a store that misses the TLB waits for the page walk, which
// under virtualization (nested paging) costs hundreds of cycles. The run below touches
// the next matrix's output rows one matrix ahead, a group of rows at a time (32768 fp64
// 64 x 64 matrices on two threads of the 2-core Zen 3 VM: 9% less time; touching half a
// matrix ahead gained 1-4%; docs/benchmarks.md, session 11). A prefetch never faults;
// the addresses lie within the rows' span.
template <class T>
[[gnu::always_inline]] inline void touch_pages(const MatrixView<T>& X, index_t r0, index_t r1) {
  constexpr std::uintptr_t page = 4096;
  r1 = std::min(r1, X.rows);
  if (X.col_stride != 1 || r0 >= r1) return;
  const auto lo = reinterpret_cast<std::uintptr_t>(X.data + r0 * X.row_stride);
  const auto hi = reinterpret_cast<std::uintptr_t>(X.data + (r1 - 1) * X.row_stride + X.cols);
  for (std::uintptr_t a = (lo + page - 1) / page * page; a < hi; a += page)
    __builtin_prefetch(reinterpret_cast<const void*>(a), 0, 1);
}

// Whether the tiles of an output with unit column stride and n a multiple of the width
// take streaming stores only (Out::streaming): streaming asked and possible, and every
// row's start aligned to the vector size.
template <class T>
bool streams_every_vector(const MatrixView<T>& out, bool stream) {
  return stream && simd::can_stream &&
         reinterpret_cast<std::uintptr_t>(out.data) % simd::vector_bytes == 0 &&
         static_cast<std::size_t>(out.row_stride) * sizeof(T) % simd::vector_bytes == 0;
}

// The LaneKernel entry (width 1): g.count == 1; g.rho must be null (the driver takes the
// lane kernel, src/trinv/lanes.hpp, when the check is on).
template <class T>
void run(const LaneGroup<T>& g, T* scratch) {
  const index_t n = g.n;
  const MatrixView<const T>& A = g.L[0];
  constexpr index_t W = Vec<T>::width;
  void* raw = scratch;
  std::size_t space = static_cast<std::size_t>(scratch_size<T>(n)) * sizeof(T);
  const index_t ldx = padded_row<T>(n);
  T* const X = static_cast<T*>(std::align(
      simd::vector_bytes, sizeof(T) * static_cast<std::size_t>(n * ldx + n * n), raw, space));
  // Rows of L with unit column stride: the input itself, else a row-major copy.
  const T* lbase = A.data;
  index_t ldl = A.row_stride;
  if (A.col_stride != 1) {
    T* Lc = X + n * ldx;
    for (index_t i = 0; i < n; ++i)
      for (index_t k = 0; k < (g.unit ? i : i + 1); ++k) Lc[i * n + k] = A(i, k);
    lbase = Lc;
    ldl = n;
  }
  const MatrixView<T>& out = g.X[0];
  const bool direct = out.col_stride == 1 && n % W == 0;
  const bool all_streamed = direct && streams_every_vector(out, g.stream_output);
  Dest<T> dest{X, ldx, out.data, out.row_stride, g.stream_output};
  const MatrixView<const T>* next = g.prefetch_count > 0 ? &g.prefetch[0] : nullptr;
  const MatrixView<T>* next_out = next && g.prefetch_out ? &g.prefetch_out[0] : nullptr;
  if (next && next->col_stride == 1) {
    dest.pf.base = next->data;
    dest.pf.ld = next->row_stride;
    dest.pf.rows = next->rows;
    dest.pf.unit = g.unit;
    dest.pf.start_row();
  }
  for (index_t i0 = 0; i0 < n; i0 += R) {
    if (g.stream_output && next_out) touch_pages(*next_out, i0, i0 + R);
    const index_t rows = std::min(R, n - i0);
    const T* l[R];
    for (index_t r = 0; r < rows; ++r) l[r] = lbase + (i0 + r) * ldl;
    const index_t nvec = (i0 + rows - 1) / W + 1;  // vectors holding columns 0 .. i0 + rows - 1
    dest.last = i0 + rows == n;
    if (direct) {
      if (all_streamed)
        group_tiles<T, streaming>(rows, l, dest, i0, nvec, g.unit);
      else
        group_tiles<T, checked>(rows, l, dest, i0, nvec, g.unit);
      // The zeros right of the tiles (through locals: the stores may alias `out`).
      T* const o = out.data;
      const index_t ld = out.row_stride;
      bool streamed = false;
      if (all_streamed) {
        for (index_t i = i0; i < i0 + rows; ++i)
          for (index_t c = nvec * W; c < n; c += W)
            simd::store_stream<T>(o + i * ld + c, typename Vec<T>::type{});
      } else {
        for (index_t i = i0; i < i0 + rows; ++i)
          for (index_t c = nvec * W; c < n; c += W)
            streamed |= simd::store<T>(o + i * ld + c, typename Vec<T>::type{}, dest.stream);
      }
      dest.streamed |= streamed;
    } else {
      group_tiles<T, to_scratch>(rows, l, dest, i0, nvec, g.unit);
      // The group's rows are final: to the output now, while the next groups compute.
      dest.bad |= write_rows(X, ldx, i0, i0 + rows, nvec * W, out, dest.stream, dest.streamed);
    }
  }
  dest.pf.advance(static_cast<int>(n * n));  // what the tiles left (more than all lines)
  // Only the last row of X is checked: if an entry x_ab (b <= a < n - 1) is not finite,
  // neither is x_{n-1,b}. Its running sum takes the term -l_{n-1,a} x_ab, which is an
  // infinity or a NaN whatever l_{n-1,a} (0 * inf is a NaN); a running sum that is not
  // finite stays so (adding a finite value or an infinity gives an infinity or a NaN), and
  // so does its division by l_{n-1,n-1} (inf / inf and inf / 0 included).
  // Non-finite input, found without reading the input twice: a non-finite entry of the
  // strictly lower part makes its entry of X non-finite (x_ik gets the term l_ik x_kk with
  // x_kk = 1 / l_kk finite and nonzero, and no later operation of the recurrence makes a
  // NaN or an infinity finite), and so does a NaN on the diagonal (x_ii = 1 / l_ii); an
  // infinite l_ii may give a finite row (x_ii = 0), so the diagonal is checked. Only
  // when the output is not finite is the input scanned, to tell a non-finite input
  // (the driver reports nonfinite_input and fills X) from an overflow or a zero diagonal
  // (the driver reports singular or overflow). The computation itself never traps.
  bool bad_in = false;
  if (!g.unit)
    for (index_t i = 0; i < n; ++i) bad_in |= !std::isfinite(lbase[i * ldl + i]);
  const bool bad_out = any_lane<T>(dest.bad);
  if (bad_out && !bad_in) bad_in = any_lane<T>(nonfinite_rows(lbase, ldl, 0, n, g.unit));
  g.nonfinite_in[0] = bad_in ? 1 : 0;
  g.nonfinite_out[0] = bad_out ? 1 : 0;
  if (dest.streamed) simd::store_fence();
}

template <class T>
LaneKernel<T> forward_kernel() {
  LaneKernel<T> k;
  k.width = 1;
  k.max_n = max_n;
  k.scratch_size = &scratch_size<T>;
  k.run = &run<T>;
  return k;
}

}  // namespace
}  // namespace triscan::trinv_detail::rows
