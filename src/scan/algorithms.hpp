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
// ---- scan/chunked, native scalar/diagonal: the same operations per channel as the
// chunk tasks below, scheduled by channel blocks. The channels are independent, so a
// task owns (sequence, block of channels) and walks its chunks in order: per token it
// advances the chunk's aggregate (a_[c] <- a_n a_[c], b_[c] <- b_n + a_n b_[c]) and the
// fix-up state (h <- b_n + a_n h, from the carry h_[c-1]) together, and at the chunk's
// end forms the carry h_[c] = b_[c] + a_[c] h_[c-1] (the first chunk's carry is its
// last state, as below). Every channel sees exactly the operations, in the same order,
// that scan_chunked's tasks perform, so the results are bit-identical to it (and to
// the simulated fp32/fp64 path in round-to-nearest) for any split and thread count;
// but a and b are read once and h written once (the memcpy minimum), with no waiting
// between tasks. Native arithmetic only; log_diagonal keeps the chunk tasks.
// One token of a channel block: the fix-up step h = b_n + a_n hp, and with `agg` also the
// aggregate's absorb b_[c] <- b_n + a_n b_[c], a_[c] <- a_n a_[c] (diagonal; the scalar
// kind's a_[c] is one value, updated by the caller). Separate restrict-qualified
// arguments (rows of a, b, the previous and the new state are distinct) let the
// compiler vectorize along the channels.
template <class V>
inline void channel_row(const V* __restrict an, const V* __restrict bn, const V* __restrict hp, V* __restrict h,
                        index_t w) {
  for (index_t j = 0; j < w; ++j) h[j] = bn[j] + an[j] * hp[j];
}
template <class V>
inline void channel_row_agg(const V* __restrict an, const V* __restrict bn, const V* __restrict hp, V* __restrict h,
                            V* __restrict agga, V* __restrict aggb, index_t w) {
  for (index_t j = 0; j < w; ++j) {
    aggb[j] = bn[j] + an[j] * aggb[j];
    agga[j] = an[j] * agga[j];
    h[j] = bn[j] + an[j] * hp[j];
  }
}
template <class V>
inline void scalar_row(V an, const V* __restrict bn, const V* __restrict hp, V* __restrict h, index_t w) {
  for (index_t j = 0; j < w; ++j) h[j] = bn[j] + an * hp[j];
}
template <class V>
inline void scalar_row_agg(V an, const V* __restrict bn, const V* __restrict hp, V* __restrict h,
                           V* __restrict aggb, index_t w) {
  for (index_t j = 0; j < w; ++j) {
    aggb[j] = bn[j] + an * aggb[j];
    h[j] = bn[j] + an * hp[j];
  }
}

// The width of a channel block: enough blocks for `threads` workers per sequence, at
// least 16 channels (a 64-byte line of fp32) and a multiple of 16. Only the schedule
// depends on it, never the values.
inline index_t channel_block_width(index_t d, index_t sequences, unsigned threads) {
  const index_t per_seq = std::max<index_t>(1, (static_cast<index_t>(threads) + sequences - 1) / sequences);
  index_t w = (d + per_seq - 1) / per_seq;
  w = (w + 15) / 16 * 16;
  return std::max<index_t>(16, w);
}

// Channels [j0, j1) of sequence q through all its chunks; returns whether the last state
// of any chunk's fix-up is non-finite (as run_steps reports).
template <class V>
bool chunked_channel_block(const DiagonalOp<arith::Native<V>>& op, const Sequence<V>& q, index_t j0, index_t j1,
                           V* out, index_t chunk) {
  const index_t d = op.d, w = j1 - j0;
  const bool scalar = op.kind == ScanKind::scalar;
  std::vector<V> buf(static_cast<std::size_t>(3 * w), V(0));
  V* carry = buf.data();    // h_[c-1]: the state the chunk's fix-up starts from (h0 or 0 first)
  V* aggb = carry + w;      // the chunk aggregate's offset b_[c]
  V* agga = aggb + w;       // and its transition a_[c] (diagonal; scalar: agga[0])
  if (q.h0)
    for (index_t j = 0; j < w; ++j) carry[j] = q.h0[j0 + j];
  bool bad = false;
  auto a_row = [&](index_t n) { return op.a + n * d + j0; };
  auto b_row = [&](index_t n) { return op.b + n * d + j0; };
  for (index_t b = 0; b < q.length; b += chunk) {
    const index_t n0 = q.begin + b, n1 = q.begin + std::min(q.length, b + chunk);
    const bool first = b == 0, last = b + chunk >= q.length;
    const V* hp = carry;
    if (first || last) {  // the fix-up only
      for (index_t n = n0; n < n1; ++n) {
        V* h = out + n * d + j0;
        if (scalar)
          scalar_row(op.a[n], b_row(n), hp, h, w);
        else
          channel_row(a_row(n), b_row(n), hp, h, w);
        hp = h;
      }
      if (first && !last) std::copy(hp, hp + w, carry);  // the first chunk's carry: its last state
    } else {
      // token n0: the aggregate is e_n0 itself; then aggregate and fix-up side by side
      if (scalar) {
        agga[0] = op.a[n0];
        std::copy(b_row(n0), b_row(n0) + w, aggb);
      } else {
        std::copy(a_row(n0), a_row(n0) + w, agga);
        std::copy(b_row(n0), b_row(n0) + w, aggb);
      }
      for (index_t n = n0; n < n1; ++n) {
        V* h = out + n * d + j0;
        if (n == n0) {
          if (scalar)
            scalar_row(op.a[n], b_row(n), hp, h, w);
          else
            channel_row(a_row(n), b_row(n), hp, h, w);
        } else if (scalar) {
          agga[0] = op.a[n] * agga[0];
          scalar_row_agg(op.a[n], b_row(n), hp, h, aggb, w);
        } else {
          channel_row_agg(a_row(n), b_row(n), hp, h, agga, aggb, w);
        }
        hp = h;
      }
      // the carry h_[c] = b_[c] + a_[c] h_[c-1] (element j reads only carry[j])
      if (scalar)
        for (index_t j = 0; j < w; ++j) carry[j] = aggb[j] + agga[0] * carry[j];
      else
        for (index_t j = 0; j < w; ++j) carry[j] = aggb[j] + agga[j] * carry[j];
    }
    for (index_t j = 0; j < w; ++j) bad |= !std::isfinite(hp[j]);  // the chunk's last state
  }
  return bad;
}

template <class V>
void scan_chunked_channels(const DiagonalOp<arith::Native<V>>& op, const std::vector<Sequence<V>>& seqs, V* out,
                           unsigned threads, Tracker& tr, index_t chunk) {
  const index_t bw = channel_block_width(op.d, static_cast<index_t>(seqs.size()), threads);
  struct Task {
    std::size_t seq;
    index_t j0, j1;  // channels [j0, j1)
  };
  std::vector<Task> tasks;
  for (std::size_t s = 0; s < seqs.size(); ++s)
    if (seqs[s].length > 0)
      for (index_t j0 = 0; j0 < op.d; j0 += bw) tasks.push_back({s, j0, std::min(op.d, j0 + bw)});
  parallel_for(static_cast<index_t>(tasks.size()), threads, [&](index_t t) {
    const auto& task = tasks[static_cast<std::size_t>(t)];
    const bool bad = chunked_channel_block(op, seqs[task.seq], task.j0, task.j1, out, chunk);
    tr.add(arith::Native<V>{}, bad);
  });
}

template <class A, class Op>
void scan_chunked(const Op& op, const std::vector<Sequence<typename A::value_type>>& seqs,
                  typename A::value_type* out, const ArithFactory<A>& af, unsigned threads, Tracker& tr,
                  index_t chunk) {
  using V = typename A::value_type;
  if constexpr (A::native && std::is_same_v<Op, DiagonalOp<A>>) {
    // Channel blocks when they give every worker a task (or one worker runs anyway):
    // the same values, one pass over memory (scan_chunked_channels).
    const index_t bw = channel_block_width(op.d, static_cast<index_t>(seqs.size()), threads);
    const index_t tasks = static_cast<index_t>(seqs.size()) * ((op.d + bw - 1) / bw);
    if (op.kind != ScanKind::log_diagonal && (threads <= 1 || tasks >= static_cast<index_t>(threads))) {
      scan_chunked_channels(op, seqs, out, threads, tr, chunk);
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
