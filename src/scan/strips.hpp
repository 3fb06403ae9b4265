// src/scan/strips.hpp — the row loops of the native scalar/diagonal scan/chunked
// schedule (scan_chunked_channels / scan_chunked_groups in src/scan/algorithms.hpp; not
// installed).
//
// One call runs the rows [n0, n1) of one chunk over a range of the channels (all of
// them, or one worker's share), strip by strip: a
// strip is VB vectors of consecutive channels (VB = 8 with 32 vector registers, else 4)
// whose running state and aggregate stay in registers across the rows, and each row's
// states go from the registers straight to the output (streaming stores for large
// outputs). Per channel the operations and their order are those of the row-by-row
// helpers they replace (st = b + a st; aggregate of the rows n0.. : (a_n0, b_n0), then
// aggb = b + a aggb, agga = a agga), so every value is the same bits; what changed is
// the traversal: strip by strip instead of row by row through a state buffer and
// 16-byte stores, which (with the channels split across the workers) took the scan from
// 54% to about 75% of memcpy's bandwidth on the project's 2-core machine
// (docs/benchmarks.md, "CPU scan").
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

#endif

// What a call computes for rows [n0, n1) of a chunk:
//   STATE:     st (d entries, in/out) <- the running state; row n's state to out + n d;
//   AGGREGATE: (ga, gb) <- the aggregate of the rows (ga: 1 entry for the scalar kind,
//              else d; gb: d).
//
// strip: the NV vectors of channels from j. With EDGES (AVX-512, streamed rows with
// L = lead > 0 channels before their first aligned vector): also the lead and tail
// channels in the same row loop — the vector of channels 0 .. W - 1 and the one of
// d - W .. d - 1; the tail of row n - 1 and the lead of row n fill one aligned vector of
// out, streamed whole for n0 < n < n1, while the lead of row n0 and the tail of row
// n1 - 1 share their vectors with the neighbouring chunks (perhaps another thread's) and
// are stored lane by lane with ordinary stores. (In a row loop of their own, whose
// row-strided loads no prefetcher follows, the edges kept the misaligned scan at ~62% of
// memcpy against ~68% here; storing every lead and tail lane by lane with ordinary
// stores costs more: each of those lines is then read from memory before it is
// written.)
template <class V, int NV, bool SCALAR, bool STATE, bool AGGREGATE, bool EDGES = false>
[[gnu::always_inline]] inline void strip(const V* a, const V* b, index_t d, index_t j, index_t n0,
                                         index_t n1, V* st, V* ga, V* gb, V* out, bool stream,
                                         int L = 0) {
  using T = typename simd::Vec<V>::type;
  constexpr index_t W = simd::Vec<V>::width;
  constexpr int E = EDGES ? 2 : 0;  // edge vectors: 0 = lead (channel 0), 1 = tail (d - W)
  constexpr int M = NV + E > 0 ? NV + E : 1;
  T s[M] = {}, xa[M] = {}, xb[M] = {};
  const index_t jt = d - W;
  auto col = [&](int k) { return k < NV ? j + k * W : (k == NV ? index_t{0} : jt); };
#if defined(__AVX512F__)
  typename simd::Vec<V>::index idx{};
  if constexpr (EDGES) {
    using Ix = typename simd::Vec<V>::index_type;
    const int R = static_cast<int>(W) - L;
    for (int q = 0; q < static_cast<int>(W); ++q)
      idx[q] = static_cast<Ix>(q < R ? static_cast<int>(W) - R + q : static_cast<int>(W) + q - R);
  }
#endif
  if constexpr (STATE) {
#pragma GCC unroll 16
    for (int k = 0; k < NV + E; ++k) s[k] = simd::load<V>(st + col(k));
  }
  for (index_t n = n0; n < n1; ++n) {
    const V* an = SCALAR ? a + n : a + n * d;
    const V* bn = b + n * d;
    V* on = out + n * d;
#pragma GCC unroll 16
    for (int k = 0; k < NV + E; ++k) {
      const T bv = simd::load<V>(bn + col(k));
      T av;
      if constexpr (SCALAR)
        av = simd::splat<V>(*an);
      else
        av = simd::load<V>(an + col(k));
      if constexpr (AGGREGATE) {  // row n0 starts the aggregate
        xb[k] = n == n0 ? bv : bv + av * xb[k];
        if constexpr (!SCALAR) xa[k] = n == n0 ? av : av * xa[k];
      }
      if constexpr (STATE) {
        if (k < NV) {
          s[k] = bv + av * s[k];
          simd::store<V>(on + col(k), s[k], stream);
        } else if (k == NV) {  // the lead of row n (with the tail of row n - 1, still in s[NV + 1])
          s[k] = bv + av * s[k];
#if defined(__AVX512F__)
          if (n == n0)
            simd::store_lanes<V>(on, s[k], 0, L);
          else
            simd::store<V>(on - (W - L), join<V>(s[NV + 1], s[k], idx), true);  // aligned: streamed
#endif
        } else {
          s[k] = bv + av * s[k];
        }
      }
    }
  }
  if constexpr (EDGES && STATE)
    simd::store_lanes<V>(out + (n1 - 1) * d + jt, s[NV + 1], L, static_cast<int>(W));
#pragma GCC unroll 16
  for (int k = 0; k < NV + E; ++k) {
    const int lo = k < NV ? 0 : (k == NV ? 0 : L),
              hi = k < NV ? static_cast<int>(W) : (k == NV ? L : static_cast<int>(W));
    if constexpr (STATE) simd::store_lanes<V>(st + col(k), s[k], lo, hi);
    if constexpr (AGGREGATE) {
      simd::store_lanes<V>(gb + col(k), xb[k], lo, hi);
      if constexpr (!SCALAR) simd::store_lanes<V>(ga + col(k), xa[k], lo, hi);
    }
  }
}

// strip<NV = nv> for a run-time nv in [0, MAX] (nv = 0: nothing, or the edges alone).
template <class V, int MAX, bool SCALAR, bool STATE, bool AGGREGATE, bool EDGES = false>
[[gnu::always_inline]] inline void strip_of(int nv, const V* a, const V* b, index_t d, index_t j,
                                            index_t n0, index_t n1, V* st, V* ga, V* gb, V* out,
                                            bool stream, int L = 0) {
  if (nv == MAX) {
    if constexpr (MAX > 0 || EDGES)
      strip<V, MAX, SCALAR, STATE, AGGREGATE, EDGES>(a, b, d, j, n0, n1, st, ga, gb, out, stream,
                                                     L);
  } else if constexpr (MAX > 0) {
    strip_of<V, MAX - 1, SCALAR, STATE, AGGREGATE, EDGES>(nv, a, b, d, j, n0, n1, st, ga, gb, out,
                                                          stream, L);
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
// one are then the edges, handled inside the last strip (joined into one streamed vector,
// AVX-512) or by `part` (lane by lane, ordinary stores), so a streamed cache line is
// always written whole by one strip (streaming parts of lines that another strip
// completes 64 rows later measured 2x slower than whole streamed lines, 1.3x slower than
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
#if defined(__AVX512F__)
  const bool join_edges = with_edges && stream && l.lead > 0;  // then lead + tail = W
#else
  constexpr bool join_edges = false;
#endif
  if (with_edges && !join_edges) {
    if (d < W) {
      for (index_t j = 0; j < d; ++j)
        channel<V, SCALAR, STATE, AGGREGATE>(a, b, d, j, n0, n1, st, ga, gb, out);
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
  // few loads in flight), with the joined edges in its row loop.
  if (join_edges) {
#if defined(__AVX512F__)
    strip_of<V, VB - 1, SCALAR, STATE, AGGREGATE, true>(static_cast<int>(v1 - v), a, b, d,
                                                        l.lead + v * W, n0, n1, st, ga, gb, out,
                                                        stream, static_cast<int>(l.lead));
#endif
  } else {
    strip_of<V, VB - 1, SCALAR, STATE, AGGREGATE>(static_cast<int>(v1 - v), a, b, d, l.lead + v * W,
                                                  n0, n1, st, ga, gb, out, stream);
  }
  if constexpr (SCALAR && AGGREGATE) {  // the one transition value: a_n0, then a_n agga
    V x = a[n0];
    for (index_t n = n0 + 1; n < n1; ++n) x = a[n] * x;
    ga[0] = x;
  }
}

}  // namespace
}  // namespace triscan::scan_detail::strips
