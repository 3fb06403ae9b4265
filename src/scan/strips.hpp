// src/scan/strips.hpp — the row loops of the native scalar/diagonal scan/chunked
// schedule (scan_chunked_groups in src/scan/algorithms.hpp; not installed).
//
// One call runs the rows [n0, n1) of one chunk over all d channels, strip by strip: a
// strip is VB vectors of consecutive channels (VB = 8 with 32 vector registers, else 4)
// whose running state and aggregate stay in registers across the rows, and each row's
// states go from the registers straight to the output (streaming stores for large
// outputs). Per channel the operations and their order are those of the row-by-row
// helpers they replace (st = b + a st; aggregate of the rows n0.. : (a_n0, b_n0), then
// aggb = b + a aggb, agga = a agga), so every value is the same bits; what changed is
// the traversal: strip by strip instead of row by row through a state buffer and
// 16-byte stores, which took the scan from 54% to about 80% of memcpy's bandwidth on
// the project's 2-core machine (docs/benchmarks.md, "CPU scan").
//
// Built only into src/scan/driver.cpp (with -march=native and -ffp-contract=off, so
// b + a * s is a rounded product then a rounded sum, as in the simulated path).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "src/simd.hpp"
#include "triscan/matrix.hpp"

namespace triscan::scan_detail::strips {
namespace {  // internal linkage, as src/simd.hpp

inline constexpr int VB = simd::vector_registers >= 32 ? 8 : 4;

// What a call computes for rows [n0, n1) of a chunk:
//   STATE:     st (d entries, in/out) <- the running state; row n's state to out + n d;
//   AGGREGATE: (ga, gb) <- the aggregate of the rows (ga: 1 entry for the scalar kind,
//              else d; gb: d).
template <class V, int NV, bool SCALAR, bool STATE, bool AGGREGATE>
[[gnu::always_inline]] inline void strip(const V* a, const V* b, index_t d, index_t j, index_t n0,
                                         index_t n1, V* st, V* ga, V* gb, V* out, bool stream) {
  using T = typename simd::Vec<V>::type;
  constexpr index_t W = simd::Vec<V>::width;
  T s[NV] = {}, xa[NV] = {}, xb[NV] = {};
  if constexpr (STATE) {
#pragma GCC unroll 16
    for (int k = 0; k < NV; ++k) s[k] = simd::load<V>(st + j + k * W);
  }
  for (index_t n = n0; n < n1; ++n) {
    const V* an = SCALAR ? a + n : a + n * d + j;
    const V* bn = b + n * d + j;
    V* on = out + n * d + j;
#pragma GCC unroll 16
    for (int k = 0; k < NV; ++k) {
      const T bv = simd::load<V>(bn + k * W);
      T av;
      if constexpr (SCALAR)
        av = simd::splat<V>(*an);
      else
        av = simd::load<V>(an + k * W);
      if constexpr (AGGREGATE) {  // row n0 starts the aggregate
        xb[k] = n == n0 ? bv : bv + av * xb[k];
        if constexpr (!SCALAR) xa[k] = n == n0 ? av : av * xa[k];
      }
      if constexpr (STATE) {
        s[k] = bv + av * s[k];
        simd::store<V>(on + k * W, s[k], stream);
      }
    }
  }
#pragma GCC unroll 16
  for (int k = 0; k < NV; ++k) {
    if constexpr (STATE) std::memcpy(st + j + k * W, &s[k], sizeof(T));
    if constexpr (AGGREGATE) {
      std::memcpy(gb + j + k * W, &xb[k], sizeof(T));
      if constexpr (!SCALAR) std::memcpy(ga + j + k * W, &xa[k], sizeof(T));
    }
  }
}

// strip<NV = nv> for a run-time nv in [0, MAX].
template <class V, int MAX, bool SCALAR, bool STATE, bool AGGREGATE>
[[gnu::always_inline]] inline void strip_of(int nv, const V* a, const V* b, index_t d, index_t j,
                                            index_t n0, index_t n1, V* st, V* ga, V* gb, V* out,
                                            bool stream) {
  if constexpr (MAX > 0) {
    if (nv == MAX)
      strip<V, MAX, SCALAR, STATE, AGGREGATE>(a, b, d, j, n0, n1, st, ga, gb, out, stream);
    else
      strip_of<V, MAX - 1, SCALAR, STATE, AGGREGATE>(nv, a, b, d, j, n0, n1, st, ga, gb, out,
                                                     stream);
  }
}

// The same for the lanes [lo, hi) of the one vector of channels j .. j + W - 1 (the
// channels before the first aligned vector, or after the last whole one): every lane is
// computed, only [lo, hi) are stored and written back, with ordinary stores.
template <class V, bool SCALAR, bool STATE, bool AGGREGATE>
[[gnu::always_inline]] inline void part(const V* a, const V* b, index_t d, index_t j, int lo,
                                        int hi, index_t n0, index_t n1, V* st, V* ga, V* gb,
                                        V* out) {
  using T = typename simd::Vec<V>::type;
  T s{}, xa{}, xb{};
  if constexpr (STATE) s = simd::load<V>(st + j);
  for (index_t n = n0; n < n1; ++n) {
    const T bv = simd::load<V>(b + n * d + j);
    const T av = SCALAR ? simd::splat<V>(a[n]) : simd::load<V>(a + n * d + j);
    if constexpr (AGGREGATE) {
      xb = n == n0 ? bv : bv + av * xb;
      if constexpr (!SCALAR) xa = n == n0 ? av : av * xa;
    }
    if constexpr (STATE) {
      s = bv + av * s;
      simd::store_lanes<V>(out + n * d + j, s, lo, hi);
    }
  }
  if constexpr (STATE) simd::store_lanes<V>(st + j, s, lo, hi);
  if constexpr (AGGREGATE) {
    simd::store_lanes<V>(gb + j, xb, lo, hi);
    if constexpr (!SCALAR) simd::store_lanes<V>(ga + j, xa, lo, hi);
  }
}

#if defined(__AVX512F__)
// Lanes q of the result: q < r: lane W - r + q of `tail`; q >= r: lane q - r of `lead`.
template <class V>
[[gnu::always_inline]] inline typename simd::Vec<V>::type join(
    const typename simd::Vec<V>::type& tail, const typename simd::Vec<V>::type& lead,
    const typename simd::Vec<V>::index& idx) {
  typename simd::Vec<V>::type r;
  if constexpr (std::is_same_v<V, float>) {
    const __m512 x = _mm512_permutex2var_ps(reinterpret_cast<const __m512&>(tail),
                                            reinterpret_cast<const __m512i&>(idx),
                                            reinterpret_cast<const __m512&>(lead));
    std::memcpy(&r, &x, sizeof(r));
  } else {
    const __m512d x = _mm512_permutex2var_pd(reinterpret_cast<const __m512d&>(tail),
                                             reinterpret_cast<const __m512i&>(idx),
                                             reinterpret_cast<const __m512d&>(lead));
    std::memcpy(&r, &x, sizeof(r));
  }
  return r;
}

// The first L channels (0 < L < W) and the last W - L of rows [n0, n1) when the rows are
// streamed (d a multiple of W; each row of out starts L lanes before a vector boundary),
// in one row loop: the tail of row n - 1 and the lead of row n fill one aligned vector
// of out, streamed whole for n0 < n < n1; the lead of row n0 and the tail of row n1 - 1
// share their vectors with the neighbouring chunks (perhaps another thread's) and are
// stored lane by lane with ordinary stores. (Storing every lead and tail lane by lane
// instead cost ~25% of the whole scan: each of those lines is then read from memory
// before it is written.)
template <class V, bool SCALAR, bool AGGREGATE>
void edges(const V* a, const V* b, index_t d, int L, index_t n0, index_t n1, V* st, V* ga, V* gb,
           V* out) {
  using T = typename simd::Vec<V>::type;
  using I = typename simd::Vec<V>::index;
  using E = typename simd::Vec<V>::index_type;
  constexpr int W = static_cast<int>(simd::Vec<V>::width);
  const int R = W - L;
  I idx;
  for (int q = 0; q < W; ++q) idx[q] = static_cast<E>(q < R ? W - R + q : W + q - R);
  const index_t jt = d - W;  // the tail vector's first channel
  T s0 = simd::load<V>(st), s1 = simd::load<V>(st + jt), xa0{}, xb0{}, xa1{}, xb1{};
  // The two vectors of a row touch three lines of a and of b, one row (d entries) apart:
  // no hardware prefetcher follows that, so fetch them `ahead` rows early.
  // (Written out in the loop: GCC drops a helper that only prefetches.)
  constexpr index_t ahead = 8;
  for (index_t n = n0; n < std::min(n1, n0 + ahead); ++n) {
    __builtin_prefetch(b + n * d);
    __builtin_prefetch(b + n * d + W - 1);
    __builtin_prefetch(b + n * d + jt);
    if constexpr (!SCALAR) {
      __builtin_prefetch(a + n * d);
      __builtin_prefetch(a + n * d + W - 1);
      __builtin_prefetch(a + n * d + jt);
    }
  }
  for (index_t n = n0; n < n1; ++n) {
    if (n + ahead < n1) {
      const index_t r = (n + ahead) * d;
      __builtin_prefetch(b + r);
      __builtin_prefetch(b + r + W - 1);
      __builtin_prefetch(b + r + jt);
      if constexpr (!SCALAR) {
        __builtin_prefetch(a + r);
        __builtin_prefetch(a + r + W - 1);
        __builtin_prefetch(a + r + jt);
      }
    }
    const T b0 = simd::load<V>(b + n * d), b1 = simd::load<V>(b + n * d + jt);
    const T a0 = SCALAR ? simd::splat<V>(a[n]) : simd::load<V>(a + n * d);
    const T a1 = SCALAR ? simd::splat<V>(a[n]) : simd::load<V>(a + n * d + jt);
    if constexpr (AGGREGATE) {
      xb0 = n == n0 ? b0 : b0 + a0 * xb0;
      xb1 = n == n0 ? b1 : b1 + a1 * xb1;
      if constexpr (!SCALAR) {
        xa0 = n == n0 ? a0 : a0 * xa0;
        xa1 = n == n0 ? a1 : a1 * xa1;
      }
    }
    s0 = b0 + a0 * s0;
    if (n == n0)
      simd::store_lanes<V>(out + n * d, s0, 0, L);
    else
      simd::store<V>(out + n * d - R, join<V>(s1, s0, idx), true);  // aligned: streamed
    s1 = b1 + a1 * s1;
  }
  simd::store_lanes<V>(out + (n1 - 1) * d + jt, s1, L, W);
  simd::store_lanes<V>(st, s0, 0, L);
  simd::store_lanes<V>(st + jt, s1, L, W);
  if constexpr (AGGREGATE) {
    simd::store_lanes<V>(gb, xb0, 0, L);
    simd::store_lanes<V>(gb + jt, xb1, L, W);
    if constexpr (!SCALAR) {
      simd::store_lanes<V>(ga, xa0, 0, L);
      simd::store_lanes<V>(ga + jt, xa1, L, W);
    }
  }
}
#endif

// The same for one channel j (only when d is less than one vector).
template <class V, bool SCALAR, bool STATE, bool AGGREGATE>
inline void channel(const V* a, const V* b, index_t d, index_t j, index_t n0, index_t n1, V* st,
                    V* ga, V* gb, V* out) {
  V s = STATE ? st[j] : V(0), xa = V(0), xb = V(0);
  for (index_t n = n0; n < n1; ++n) {
    const V bv = b[n * d + j], av = SCALAR ? a[n] : a[n * d + j];
    if constexpr (AGGREGATE) {
      xb = n == n0 ? bv : bv + av * xb;
      xa = n == n0 ? av : av * xa;
    }
    if constexpr (STATE) {
      s = bv + av * s;
      out[n * d + j] = s;
    }
  }
  if constexpr (STATE) st[j] = s;
  if constexpr (AGGREGATE) {
    gb[j] = xb;
    if constexpr (!SCALAR) ga[j] = xa;
  }
}

// How the d channels of a row split into vectors for an output `out` (the same for every
// row and call of one scan). With `stream`, the strips store whole aligned vectors with
// streaming stores, which needs every row of out to start at the same offset within a
// vector (d * sizeof(V) a multiple of the vector size; otherwise nothing streams): the
// `lead` channels before the first aligned vector and the `tail` after the last whole
// one are then the edges, handled by `edges` (joined into one streamed vector, AVX-512)
// or `part` (lane by lane, ordinary stores), so a streamed cache line is always written
// whole by one strip (a strip writing part of a line that another strip completes 64
// rows later makes the memory controller merge partial lines: measured 2x slower than
// ordinary stores). Without streaming: lead = 0. Vectors: [lead + v W, lead + (v + 1) W),
// v < nvec.
struct Layout {
  index_t lead = 0, nvec = 0, tail = 0;
  bool stream = false;
};
template <class V>
Layout layout_of(index_t d, const V* out, bool stream) {
  constexpr index_t W = simd::Vec<V>::width;
  Layout l;
  if (d < W) {  // no whole vector: every channel is an edge
    l.tail = d;
    return l;
  }
  constexpr std::size_t vb = simd::vector_bytes;
  const auto addr = reinterpret_cast<std::uintptr_t>(out);
  if (stream && (static_cast<std::size_t>(d) * sizeof(V)) % vb == 0 && addr % sizeof(V) == 0) {
    l.stream = true;
    l.lead = static_cast<index_t>((vb - addr % vb) % vb / sizeof(V));
  }
  l.nvec = (d - l.lead) / W;
  l.tail = d - l.lead - l.nvec * W;
  return l;
}

// Calls f(j0, j1) for the channel ranges of vectors [v0, v1) and, with `with_edges`, of
// the lead and tail channels.
template <class F>
void for_channels(const Layout& l, index_t W, index_t d, index_t v0, index_t v1, bool with_edges,
                  F&& f) {
  if (with_edges && l.lead > 0) f(index_t{0}, l.lead);
  if (v1 > v0) f(l.lead + v0 * W, l.lead + v1 * W);
  if (with_edges && l.tail > 0) f(d - l.tail, d);
}

// Rows [n0, n1) (n0 < n1) of one chunk, the channels of vectors [v0, v1) of the layout
// and, with `with_edges`, the lead and tail channels; see strip. Streaming stores need a
// store fence before the states are published (the caller's, once per task). Not
// inlined: inside the caller's large task body the strips lose their registers.
template <class V, bool SCALAR, bool STATE, bool AGGREGATE>
[[gnu::noinline]] void rows(const Layout& l, const V* a, const V* b, index_t d, index_t n0,
                            index_t n1, index_t v0, index_t v1, bool with_edges, V* st, V* ga,
                            V* gb, V* out) {
  constexpr index_t W = simd::Vec<V>::width;
  const bool stream = STATE && l.stream;
  if (with_edges) {
    if (d < W) {
      for (index_t j = 0; j < d; ++j)
        channel<V, SCALAR, STATE, AGGREGATE>(a, b, d, j, n0, n1, st, ga, gb, out);
    } else if (stream && l.lead > 0) {  // then lead + tail = W
#if defined(__AVX512F__)
      edges<V, SCALAR, AGGREGATE>(a, b, d, static_cast<int>(l.lead), n0, n1, st, ga, gb, out);
#else
      part<V, SCALAR, STATE, AGGREGATE>(a, b, d, 0, 0, static_cast<int>(l.lead), n0, n1, st, ga, gb,
                                        out);
      part<V, SCALAR, STATE, AGGREGATE>(a, b, d, d - W, static_cast<int>(W - l.tail),
                                        static_cast<int>(W), n0, n1, st, ga, gb, out);
#endif
    } else {  // lanes [0, lead) of the vector at 0, lanes [W - tail, W) of the one at d - W
      if (l.lead > 0)
        part<V, SCALAR, STATE, AGGREGATE>(a, b, d, 0, 0, static_cast<int>(l.lead), n0, n1, st, ga,
                                          gb, out);
      if (l.tail > 0)
        part<V, SCALAR, STATE, AGGREGATE>(a, b, d, d - W, static_cast<int>(W - l.tail),
                                          static_cast<int>(W), n0, n1, st, ga, gb, out);
    }
  }
  index_t v = v0;
  for (; v + VB <= v1; v += VB)
    strip<V, VB, SCALAR, STATE, AGGREGATE>(a, b, d, l.lead + v * W, n0, n1, st, ga, gb, out,
                                           stream);
  // The remaining vectors as one narrower strip (a strip of one vector per row leaves too
  // few loads in flight).
  strip_of<V, VB - 1, SCALAR, STATE, AGGREGATE>(static_cast<int>(v1 - v), a, b, d, l.lead + v * W,
                                                n0, n1, st, ga, gb, out, stream);
  if constexpr (SCALAR && AGGREGATE) {  // the one transition value: a_n0, then a_n agga
    V x = a[n0];
    for (index_t n = n0 + 1; n < n1; ++n) x = a[n] * x;
    ga[0] = x;
  }
}

}  // namespace
}  // namespace triscan::scan_detail::strips
