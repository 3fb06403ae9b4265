// src/scan/algorithms.hpp — the four scan algorithms, each written once over an element
// operator (ops.hpp) and an arithmetic model (not installed).
//
// Determinism. Every algorithm splits its work into tasks whose boundaries depend only
// on the problem (sequence, tree level, fixed block of 256 indices, chunk), never on
// the thread count; each task gets its own arithmetic object whose stochastic-rounding
// stream is a function of the task id. Threads only decide who runs a task, so results
// are bit-identical for any `threads`.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "src/scan/ops.hpp"
#include "src/scan/strips.hpp"

namespace triscan::scan_detail {

// One sequence: tokens [begin, begin + length), its initial state (null: zero).
template <class V>
struct Sequence {
  index_t begin = 0, length = 0;
  const V* h0 = nullptr;
};

// What the tasks report: overflow, growth, non-finite output.
struct Tracker {
  std::mutex m;
  bool overflow = false;
  bool nonfinite = false;
  double growth = 0.0;
  template <class A>
  void add(const A& a, bool nonfinite_out) {
    std::lock_guard<std::mutex> lock(m);
    overflow = overflow || a.overflowed();
    growth = std::max(growth, a.growth());
    nonfinite = nonfinite || nonfinite_out;
  }
};

// Runs fn(task) for task = 0..count-1 on up to `threads` threads (inline when 1).
template <class F>
void parallel_for(index_t count, unsigned threads, F&& fn) {
  const unsigned workers = static_cast<unsigned>(std::min<index_t>(threads, count));
  if (workers <= 1) {
    for (index_t i = 0; i < count; ++i) fn(i);
    return;
  }
  std::atomic<index_t> next{0};
  auto work = [&] {
    for (index_t i = next++; i < count; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

// Makes the arithmetic object of task `stream` (Native ignores it).
template <class A>
struct ArithFactory {
  const Precision* precision = nullptr;
  A make(std::uint64_t stream) const {
    if constexpr (A::native) {
      (void)stream;
      return A{};
    } else {
      return A(*precision, stream);
    }
  }
};

inline std::uint64_t task_stream(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  std::uint64_t s = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
  return s ^ (c + 0x94D049BB133111EBull) * 0x2545F4914F6CDD1Dull;
}

// Writes the state h (state format) to the caller's output (output format), and
// reports whether any value written is non-finite (x - x != 0 for inf and NaN).
template <class A>
bool write_output(A& a, const typename A::value_type* h, typename A::value_type* out, index_t n) {
  using V = typename A::value_type;
  bool bad = false;
  for (index_t j = 0; j < n; ++j) {
    const V y = a.output(h[j]);
    out[j] = y;
    bad |= (y - y) != V(0);
  }
  return bad;
}

// Runs the recurrence over tokens [begin, end) from the state h (updated to the state
// of token end-1), writing every state to out. Native arithmetic writes the states in
// place (no output rounding) and checks only the last one for non-finite values: a
// non-finite state stays non-finite through every later step of the recurrence
// (0 * inf and inf - inf are NaN, a * inf is inf or NaN), so the last state of a run
// is non-finite whenever an earlier one is. Returns whether a non-finite state was seen.
template <class A, class Op>
bool run_steps(const Op& op, A& a, index_t begin, index_t end, typename A::value_type* h,
               typename A::value_type* out) {
  using V = typename A::value_type;
  if (end <= begin) return false;
  if constexpr (A::native) {
    const V* hp = h;
    for (index_t n = begin; n < end; ++n) {
      op.step(a, n, hp, out + n * op.osz);
      hp = out + n * op.osz;
    }
    std::copy(hp, hp + op.osz, h);
    bool bad = false;
    for (index_t j = 0; j < op.osz; ++j) bad |= !std::isfinite(h[j]);
    return bad;
  } else {
    bool bad = false;
    for (index_t n = begin; n < end; ++n) {
      op.step(a, n, h, h);
      bad |= write_output(a, h, out + n * op.osz, op.osz);
    }
    return bad;
  }
}

// ---- scan/sequential: h_t = e_t(h_{t-1}), t = 1..T. Work T steps, depth T. Parallel
// over sequences only.
template <class A, class Op>
void scan_sequential(const Op& op, const std::vector<Sequence<typename A::value_type>>& seqs,
                     typename A::value_type* out, const ArithFactory<A>& af, unsigned threads,
                     Tracker& tr) {
  using V = typename A::value_type;
  parallel_for(static_cast<index_t>(seqs.size()), threads, [&](index_t s) {
    A a = af.make(task_stream(1, static_cast<std::uint64_t>(s), 0));
    const auto& q = seqs[static_cast<std::size_t>(s)];
    std::vector<V> h(static_cast<std::size_t>(op.osz), V(0));
    if (q.h0)
      for (index_t j = 0; j < op.osz; ++j) h[static_cast<std::size_t>(j)] = a.store(q.h0[j]);
    const bool bad = run_steps(op, a, q.begin, q.begin + q.length, h.data(), out);
    tr.add(a, bad);
  });
}

// Element buffer of one sequence: element i of the sequence, with h0 folded into e_0
// (e_0's offset becomes e_0 applied to h0), so that the prefix offsets are the states.
template <class A, class Op>
void load_elements(const Op& op, const Sequence<typename A::value_type>& q, typename A::value_type* E,
                   const ArithFactory<A>& af, unsigned threads, Tracker& tr, std::uint64_t seq_id) {
  using V = typename A::value_type;
  const index_t esz = op.tsz + op.osz;
  constexpr index_t block = 256;
  const index_t blocks = (q.length + block - 1) / block;
  parallel_for(blocks, threads, [&](index_t blk) {
    A a = af.make(task_stream(2, seq_id, static_cast<std::uint64_t>(blk)));
    for (index_t i = blk * block; i < std::min(q.length, (blk + 1) * block); ++i) {
      V* e = E + i * esz;
      op.load(a, q.begin + i, e);
      if (i == 0 && q.h0) {
        std::vector<V> h0(static_cast<std::size_t>(op.osz));
        for (index_t j = 0; j < op.osz; ++j) h0[static_cast<std::size_t>(j)] = a.store(q.h0[j]);
        op.apply(a, e, h0.data(), e + op.tsz);
      }
    }
    tr.add(a, false);
  });
}

// The prefix offsets of E (the states) to the output, in parallel blocks.
template <class A, class Op>
void write_prefix_offsets(const Op& op, const Sequence<typename A::value_type>& q,
                          const typename A::value_type* E, typename A::value_type* out,
                          const ArithFactory<A>& af, unsigned threads, Tracker& tr, std::uint64_t seq_id) {
  const index_t esz = op.tsz + op.osz;
  constexpr index_t block = 256;
  const index_t blocks = (q.length + block - 1) / block;
  parallel_for(blocks, threads, [&](index_t blk) {
    A a = af.make(task_stream(3, seq_id, static_cast<std::uint64_t>(blk)));
    bool bad = false;
    for (index_t i = blk * block; i < std::min(q.length, (blk + 1) * block); ++i)
      bad |= write_output(a, E + i * esz + op.tsz, out + (q.begin + i) * op.osz, op.osz);
    tr.add(a, bad);
  });
}

// ---- scan/hillis_steele (Hillis & Steele 1986): for s = 1, 2, 4, ... < T:
// x'_i = x_i o x_{i-s} for i >= s, x'_i = x_i otherwise (double-buffered).
// Work T ceil(log2 T) combines, depth ceil(log2 T).
template <class A, class Op>
void scan_hillis_steele(const Op& op, const std::vector<Sequence<typename A::value_type>>& seqs,
                        typename A::value_type* out, const ArithFactory<A>& af, unsigned threads,
                        Tracker& tr) {
  using V = typename A::value_type;
  const index_t esz = op.tsz + op.osz;
  constexpr index_t block = 256;
  for (std::size_t sq = 0; sq < seqs.size(); ++sq) {
    const auto& q = seqs[sq];
    if (q.length == 0) continue;
    std::vector<V> x(static_cast<std::size_t>(q.length * esz)), y(x.size());
    load_elements(op, q, x.data(), af, threads, tr, sq);
    std::uint64_t level = 0;
    for (index_t s = 1; s < q.length; s *= 2, ++level) {
      const index_t blocks = (q.length + block - 1) / block;
      parallel_for(blocks, threads, [&](index_t blk) {
        A a = af.make(task_stream(4 + level, sq, static_cast<std::uint64_t>(blk)));
        for (index_t i = blk * block; i < std::min(q.length, (blk + 1) * block); ++i) {
          if (i >= s)
            op.combine(a, x.data() + (i - s) * esz, x.data() + i * esz, y.data() + i * esz);
          else
            std::copy(x.begin() + i * esz, x.begin() + (i + 1) * esz, y.begin() + i * esz);
        }
        tr.add(a, false);
      });
      x.swap(y);
    }
    write_prefix_offsets(op, q, x.data(), out, af, threads, tr, sq);
  }
}

// ---- scan/blelloch: the work-efficient two-sweep scan (Blelloch 1990), in its
// inclusive form (Brent & Kung 1982), which needs no identity element.
// Up-sweep (reduce), s = 1, 2, 4, ...: x_i = x_i o x_{i-s} for i = 2s-1, 4s-1, ...
// Down-sweep, s = top/2, ..., 1:        x_i = x_i o x_{i-s} for i = 3s-1, 5s-1, ...
// Invariant after the down-sweep at stride s: every i with (i+1) a multiple of s holds
// its inclusive prefix. Work < 2T combines, depth < 2 ceil(log2 T).
template <class A, class Op>
void scan_blelloch(const Op& op, const std::vector<Sequence<typename A::value_type>>& seqs,
                   typename A::value_type* out, const ArithFactory<A>& af, unsigned threads, Tracker& tr) {
  using V = typename A::value_type;
  const index_t esz = op.tsz + op.osz;
  constexpr index_t block = 64;  // combines per task (fixed)
  for (std::size_t sq = 0; sq < seqs.size(); ++sq) {
    const auto& q = seqs[sq];
    if (q.length == 0) continue;
    std::vector<V> x(static_cast<std::size_t>(q.length * esz));
    load_elements(op, q, x.data(), af, threads, tr, sq);
    std::uint64_t level = 0;
    auto sweep = [&](index_t s, index_t first) {
      // combines at i = first, first + 2s, ... < T
      if (first >= q.length) return;
      const index_t count = (q.length - 1 - first) / (2 * s) + 1;
      const index_t blocks = (count + block - 1) / block;
      parallel_for(blocks, threads, [&](index_t blk) {
        A a = af.make(task_stream(100 + level, sq, static_cast<std::uint64_t>(blk)));
        for (index_t c = blk * block; c < std::min(count, (blk + 1) * block); ++c) {
          const index_t i = first + c * 2 * s;
          op.combine(a, x.data() + (i - s) * esz, x.data() + i * esz, x.data() + i * esz);
        }
        tr.add(a, false);
      });
      ++level;
    };
    index_t top = 1;
    for (; top < q.length; top *= 2) sweep(top, 2 * top - 1);
    for (index_t s = top / 2; s >= 1; s /= 2) sweep(s, 3 * s - 1);
    write_prefix_offsets(op, q, x.data(), out, af, threads, tr, sq);
  }
}

// ---- scan/chunked: chunks of C tokens. Per chunk: (1) the chunk's aggregate element
// e_[c] = e_last o ... o e_first (a local scan that keeps only its end), (2) the chained
// scan of carries h_[c] = e_[c](h_[c-1]) (h_[-1] = h0), (3) the fix-up: the chunk's
// states recomputed from h_[c-1] by the recurrence. The first chunk of a sequence needs
// no aggregate (its carry is its last state) and the last none either (no successor).
// Tasks are chunks in order; a chunk waits for its predecessor's carry only for step
// (2) (a chained look-back, Merrill & Garland 2016, without the decoupled partial sums
// so the combine order is fixed), so steps (1) and (3) of different chunks overlap and
// a chunk's data is still in cache for (3). Work <= 2T steps + T/C applies, depth
// 2C + T/C.
// ---- scan/chunked, native scalar/diagonal: the operations of the chunk tasks below,
// per chunk and channel in the same order, scheduled for memory bandwidth, with the
// row loops of src/scan/strips.hpp (state and aggregate in registers, states streamed
// as whole lines when the output is large). When a row holds at least 4 whole vectors
// per worker, the channels are split across the workers (scan_chunked_channels: each
// task runs every chunk of one sequence for its channels, from its carry). Otherwise
// tasks are groups of G consecutive chunks of one sequence (about 512 KiB of a and b; G
// depends only on the shapes). When the carry a group starts from is known at its start
// (the sequence's first group, or the group before has published), the task makes one
// fused pass: each chunk's fix-up from its carry with its aggregate alongside, then the
// next carry h_[c] = b_[c] + a_[c] h_[c-1] (the first chunk's carry is its last state),
// and publishes the last. Otherwise it (1) forms the aggregates of its chunks, reading
// their a and b once from memory; (2) waits for the carry of the group before it (a
// chained look-back over groups, as below over chunks), chains the carries through its
// chunks and publishes its last one; (3) runs the fix-ups from the chunk carries,
// re-reading a and b from the core's cache. Either way a and b cross the memory bus once
// and h once (the memcpy minimum). Every chunk and channel sees exactly the operations
// of scan_chunked's tasks, so the results are bit-identical to them (and to the
// simulated fp32/fp64 path in round-to-nearest) for any thread count. log_diagonal keeps
// the chunk tasks.

inline void stream_fence() {
  simd::store_fence();  // non-temporal stores are weakly ordered: complete them before publishing
}

// Outputs at least this large are written with non-temporal stores (src/scan/strips.hpp).
inline constexpr std::size_t stream_output_bytes = std::size_t{16} << 20;
// The a and b bytes of one group task (a share of a core's L2, so that the fix-up
// re-reads them from there).
inline constexpr std::size_t group_input_bytes = std::size_t{512} << 10;

// The same values with the channels split across the workers instead of the tokens
// (diagonal and scalar kinds: the channels are independent): `parts` ranges of whole
// vectors of the output layout (part 0 also takes the lead and tail channels), each
// task one (sequence, part) running every chunk of its sequence in order, from its carry
// — the carry is always known, so a and b are read from memory once and every state is
// written once, without the aggregates-then-fix-up schedule of groups that start before
// their predecessor published (on the 2-core machine that schedule, mostly read-only then
// write-only memory traffic, held the scan at ~57% of memcpy; this one reaches 70-80%,
// docs/benchmarks.md "CPU scan"). A chunk's aggregate (for the next carry) is formed
// right after its states, from the a and b still in cache. Per chunk and channel the
// operations are scan_chunked's, so the results are the same bits.
template <class V>
void scan_chunked_channels(const DiagonalOp<arith::Native<V>>& op, const std::vector<Sequence<V>>& seqs, V* out,
                           unsigned threads, Tracker& tr, index_t chunk, const strips::Layout& layout,
                           index_t parts) {
  const index_t d = op.d, tsz = op.tsz;
  const bool scalar = op.kind == ScanKind::scalar;
  constexpr index_t W = simd::Vec<V>::width;
  const index_t tasks = static_cast<index_t>(seqs.size()) * parts;
  parallel_for(tasks, threads, [&](index_t task) {
    const Sequence<V>& q = seqs[static_cast<std::size_t>(task / parts)];
    const index_t p = task % parts;
    // Part 0 also takes the edges (lead and tail channels: two more vectors in its last
    // strip's row loop), counted as `extra` vectors of work.
    const index_t extra = layout.lead > 0 || layout.tail > 0 ? 2 : 0, units = layout.nvec + extra;
    const index_t v0 = std::max<index_t>(0, units * p / parts - extra),
                  v1 = std::max<index_t>(0, units * (p + 1) / parts - extra);
    const bool edges = p == 0;
    // full-width buffers; the task touches only its channels
    std::vector<V> buf(static_cast<std::size_t>(tsz + 3 * d));
    V* agga = buf.data();
    V* aggb = agga + tsz;
    V* st = aggb + d;
    V* carry = st + d;
    auto each = [&](auto&& f) { strips::for_channels(layout, W, d, v0, v1, edges, f); };
    const index_t part_channels = (v1 - v0) * W + (edges ? layout.lead + layout.tail : 0);
    each([&](index_t j0, index_t j1) {
      for (index_t j = j0; j < j1; ++j) carry[j] = q.h0 ? q.h0[j] : V(0);
    });
    bool bad = false;
    const index_t nc = (q.length + chunk - 1) / chunk;
    for (index_t c = 0; c < nc; ++c) {
      const index_t n0 = q.begin + c * chunk, n1 = q.begin + std::min(q.length, (c + 1) * chunk);
      const bool middle = c != 0 && c != nc - 1;
      each([&](index_t j0, index_t j1) { std::copy(carry + j0, carry + j1, st + j0); });
      // A middle chunk's aggregate: in the states' row loop, or, when the task's a and b
      // of the chunk fit in a share of the core's L2 (64 KiB at C = 64, d = 256 fp32 on two
      // workers), in a pass of its own right after the states, re-reading them from cache.
      // In the states' loop the aggregate slowed that memory-bound loop by ~19% on the
      // 2-core machine; the pass over cached data costs ~7% (docs/benchmarks.md "CPU
      // scan"). Same operations either way.
      const bool apart = middle && static_cast<std::size_t>((n1 - n0) * part_channels) * (scalar ? 1 : 2) * sizeof(V) <=
                                       group_input_bytes;
      if (scalar) {
        if (middle && !apart)
          strips::rows<V, true, true, true>(layout, op.a, op.b, d, n0, n1, v0, v1, edges, st, agga, aggb, out);
        else
          strips::rows<V, true, true, false>(layout, op.a, op.b, d, n0, n1, v0, v1, edges, st, agga, aggb, out);
        if (apart)
          strips::rows<V, true, false, true>(layout, op.a, op.b, d, n0, n1, v0, v1, edges, st, agga, aggb, out);
      } else {
        if (middle && !apart)
          strips::rows<V, false, true, true>(layout, op.a, op.b, d, n0, n1, v0, v1, edges, st, agga, aggb, out);
        else
          strips::rows<V, false, true, false>(layout, op.a, op.b, d, n0, n1, v0, v1, edges, st, agga, aggb, out);
        if (apart)
          strips::rows<V, false, false, true>(layout, op.a, op.b, d, n0, n1, v0, v1, edges, st, agga, aggb, out);
      }
      each([&](index_t j0, index_t j1) {
        for (index_t j = j0; j < j1; ++j) bad |= !std::isfinite(st[j]);  // the chunk's last state
        if (c == 0) {
          std::copy(st + j0, st + j1, carry + j0);  // the first chunk's carry: its last state
        } else if (middle) {
          for (index_t j = j0; j < j1; ++j) carry[j] = aggb[j] + (scalar ? agga[0] : agga[j]) * carry[j];
        }
      });
    }
    if (layout.stream) stream_fence();
    tr.add(arith::Native<V>{}, bad);
  });
}

// Channel parts for scan_chunked_channels: one per worker, each at least 4 whole vectors
// (64 fp32 channels with AVX-512) so its strips stay wide; 1 = split the tokens instead.
template <class V>
index_t channel_parts(const strips::Layout& layout, unsigned threads) {
  if (threads < 2) return 1;
  return std::min<index_t>(static_cast<index_t>(threads), layout.nvec / 4);
}

template <class V>
void scan_chunked_groups(const DiagonalOp<arith::Native<V>>& op, const std::vector<Sequence<V>>& seqs, V* out,
                         unsigned threads, Tracker& tr, index_t chunk) {
  const index_t d = op.d, tsz = op.tsz;
  const bool scalar = op.kind == ScanKind::scalar;
  const std::size_t chunk_bytes = static_cast<std::size_t>(chunk * (tsz + d)) * sizeof(V);
  const index_t G = std::max<index_t>(1, static_cast<index_t>(group_input_bytes / std::max<std::size_t>(chunk_bytes, 1)));
  struct Group {
    std::size_t seq;
    index_t c0, c1, chunks;  // chunks [c0, c1) of the sequence's `chunks`
  };
  std::vector<Group> groups;
  index_t tokens = 0;
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    const index_t nc = (seqs[s].length + chunk - 1) / chunk;
    for (index_t c0 = 0; c0 < nc; c0 += G) groups.push_back({s, c0, std::min(nc, c0 + G), nc});
    tokens += seqs[s].length;
  }
  const bool stream = static_cast<std::size_t>(tokens * d) * sizeof(V) >= stream_output_bytes;
  const strips::Layout layout = strips::layout_of(d, out, stream);
  if (const index_t parts = channel_parts<V>(layout, threads); parts > 1) {
    scan_chunked_channels(op, seqs, out, threads, tr, chunk, layout, parts);
    return;
  }
  const index_t ng = static_cast<index_t>(groups.size());
  std::vector<V> published(static_cast<std::size_t>(ng * d));  // each group's last carry
  std::unique_ptr<std::atomic<int>[]> ready(new std::atomic<int>[static_cast<std::size_t>(ng)]);
  for (index_t i = 0; i < ng; ++i) ready[i].store(0, std::memory_order_relaxed);

  parallel_for(ng, threads, [&](index_t gi) {
    const Group& g = groups[static_cast<std::size_t>(gi)];
    const Sequence<V>& q = seqs[g.seq];
    const index_t m = g.c1 - g.c0;
    // per chunk: its aggregate (agga: tsz, aggb: d) and the carry its fix-up starts from
    std::vector<V> buf(static_cast<std::size_t>(m * (tsz + 2 * d) + d));
    V* aggs = buf.data();                // m x (tsz + d)
    V* from = aggs + m * (tsz + d);      // m x d: h_[c-1] of each chunk
    V* st = from + m * d;                // the running state
    auto begin_of = [&](index_t c) { return q.begin + c * chunk; };
    auto end_of = [&](index_t c) { return q.begin + std::min(q.length, (c + 1) * chunk); };
    bool bad = false;
    // Rows of chunk c through src/scan/strips.hpp: STATE steps st and writes the states,
    // AGGREGATE forms the chunk's aggregate in (ga, gb).
    auto run_rows = [&](auto state, auto aggregate, index_t c, V* ga, V* gb) {
      constexpr bool kState = decltype(state)::value, kAggregate = decltype(aggregate)::value;
      if (scalar)
        strips::rows<V, true, kState, kAggregate>(layout, op.a, op.b, d, begin_of(c), end_of(c), 0, layout.nvec,
                                                  true, st, ga, gb, out);
      else
        strips::rows<V, false, kState, kAggregate>(layout, op.a, op.b, d, begin_of(c), end_of(c), 0, layout.nvec,
                                                   true, st, ga, gb, out);
    };
    using yes = std::true_type;
    using no = std::false_type;
    // fix-up of chunk c from h_prev, writing its states; leaves the last state in st
    auto fixup = [&](index_t c, const V* h_prev) {
      std::copy(h_prev, h_prev + d, st);
      run_rows(yes{}, no{}, c, nullptr, nullptr);
      for (index_t j = 0; j < d; ++j) bad |= !std::isfinite(st[j]);  // as run_steps: the chunk's last state
    };
    // The carry this group starts from is known already (the sequence's first group, or
    // the group before has published): one fused pass, each chunk's fix-up from its carry
    // and its aggregate side by side, then its carry for the next chunk.
    if (g.c0 == 0 || ready[gi - 1].load(std::memory_order_acquire) != 0) {
      std::vector<V> carry(static_cast<std::size_t>(d), V(0));
      if (g.c0 == 0) {
        if (q.h0) std::copy(q.h0, q.h0 + d, carry.begin());
      } else {
        std::copy(published.begin() + (gi - 1) * d, published.begin() + gi * d, carry.begin());
      }
      V* agga = aggs;  // one chunk at a time
      V* aggb = agga + tsz;
      for (index_t c = g.c0; c < g.c1; ++c) {
        const bool middle = c != 0 && c != g.chunks - 1;
        std::copy(carry.begin(), carry.end(), st);
        if (middle)
          run_rows(yes{}, yes{}, c, agga, aggb);
        else
          run_rows(yes{}, no{}, c, nullptr, nullptr);
        for (index_t j = 0; j < d; ++j) bad |= !std::isfinite(st[j]);  // the chunk's last state
        if (c == 0) {
          std::copy(st, st + d, carry.begin());  // the first chunk's carry: its last state
        } else if (middle) {
          if (scalar)
            for (index_t j = 0; j < d; ++j) carry[j] = aggb[j] + agga[0] * carry[j];
          else
            for (index_t j = 0; j < d; ++j) carry[j] = aggb[j] + agga[j] * carry[j];
        }
      }
      if (g.c1 < g.chunks) {
        std::copy(carry.begin(), carry.end(), published.begin() + gi * d);
        ready[gi].store(1, std::memory_order_release);
      }
      if (stream) stream_fence();
      tr.add(arith::Native<V>{}, bad);
      return;
    }
    // Otherwise: (1) aggregates (chunks that are neither first nor last of the
    // sequence), while the group before is still running
    for (index_t c = g.c0; c < g.c1; ++c) {
      if (c == 0 || c == g.chunks - 1) continue;
      V* agga = aggs + (c - g.c0) * (tsz + d);
      run_rows(no{}, yes{}, c, agga, agga + tsz);
    }
    std::vector<V> carry(static_cast<std::size_t>(d));
    // (2) wait for the previous group's carry: spin briefly, then back off
    for (int spins = 0; ready[gi - 1].load(std::memory_order_acquire) == 0; ++spins) {
      if (spins < 256)
        std::this_thread::yield();
      else
        std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    std::copy(published.begin() + (gi - 1) * d, published.begin() + gi * d, carry.begin());
    for (index_t c = g.c0; c < g.c1; ++c) {
      std::copy(carry.begin(), carry.end(), from + (c - g.c0) * d);  // chunk c starts from h_[c-1]
      if (c == g.chunks - 1) break;                                  // the last chunk has no carry
      const V* agga = aggs + (c - g.c0) * (tsz + d);
      const V* aggb = agga + tsz;
      if (scalar)
        for (index_t j = 0; j < d; ++j) carry[j] = aggb[j] + agga[0] * carry[j];
      else
        for (index_t j = 0; j < d; ++j) carry[j] = aggb[j] + agga[j] * carry[j];
    }
    if (g.c1 < g.chunks) {  // publish for the next group of the sequence
      std::copy(carry.begin(), carry.end(), published.begin() + gi * d);
      ready[gi].store(1, std::memory_order_release);
    }
    // (3) the fix-ups
    for (index_t c = g.c0; c < g.c1; ++c) fixup(c, from + (c - g.c0) * d);
    if (stream) stream_fence();
    tr.add(arith::Native<V>{}, bad);
  });
}

template <class A, class Op>
void scan_chunked(const Op& op, const std::vector<Sequence<typename A::value_type>>& seqs,
                  typename A::value_type* out, const ArithFactory<A>& af, unsigned threads, Tracker& tr,
                  index_t chunk) {
  using V = typename A::value_type;
  if constexpr (A::native && std::is_same_v<Op, DiagonalOp<A>>) {
    if (op.kind != ScanKind::log_diagonal) {  // the same values, one pass over memory
      scan_chunked_groups(op, seqs, out, threads, tr, chunk);
      return;
    }
  }
  struct Chunk {
    std::size_t seq;
    index_t begin, end;
    bool first, last;
  };
  std::vector<Chunk> chunks;
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    const auto& q = seqs[s];
    for (index_t b = 0; b < q.length; b += chunk)
      chunks.push_back({s, q.begin + b, q.begin + std::min(q.length, b + chunk), b == 0,
                        b + chunk >= q.length});
  }
  const index_t nc = static_cast<index_t>(chunks.size());
  const index_t esz = op.tsz + op.osz;
  std::vector<V> carries(static_cast<std::size_t>(nc * op.osz));
  std::unique_ptr<std::atomic<int>[]> ready(new std::atomic<int>[static_cast<std::size_t>(nc)]);
  for (index_t i = 0; i < nc; ++i) ready[i].store(0, std::memory_order_relaxed);

  parallel_for(nc, threads, [&](index_t ci) {
    const Chunk& c = chunks[static_cast<std::size_t>(ci)];
    A a = af.make(task_stream(7, static_cast<std::uint64_t>(ci), 0));
    std::vector<V> h(static_cast<std::size_t>(op.osz), V(0));
    const V* carry_in = nullptr;  // null: zero state
    if (c.first) {
      if (seqs[c.seq].h0)
        for (index_t j = 0; j < op.osz; ++j) h[static_cast<std::size_t>(j)] = a.store(seqs[c.seq].h0[j]);
    } else {
      std::vector<V> agg;
      if (!c.last) {  // (1) the aggregate
        agg.resize(static_cast<std::size_t>(esz));
        op.load(a, c.begin, agg.data());
        for (index_t n = c.begin + 1; n < c.end; ++n) op.absorb(a, agg.data(), n);
      }
      // Wait for the predecessor's carry: spin briefly, then back off so that an
      // oversubscribed machine does not burn a core on the wait.
      for (int spins = 0; ready[ci - 1].load(std::memory_order_acquire) == 0; ++spins) {
        if (spins < 256)
          std::this_thread::yield();
        else
          std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
      carry_in = carries.data() + (ci - 1) * op.osz;
      if (!c.last) {  // (2) publish this chunk's carry
        op.apply(a, agg.data(), carry_in, carries.data() + ci * op.osz);
        ready[ci].store(1, std::memory_order_release);
      }
      std::copy(carry_in, carry_in + op.osz, h.begin());
    }
    const bool bad = run_steps(op, a, c.begin, c.end, h.data(), out);  // (3) the fix-up
    if (c.first && !c.last) {
      std::copy(h.begin(), h.end(), carries.begin() + ci * op.osz);
      ready[ci].store(1, std::memory_order_release);
    }
    tr.add(a, bad);
  });
}

}  // namespace triscan::scan_detail
