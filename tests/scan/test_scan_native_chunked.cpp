// The native scalar/diagonal `scan/chunked` schedule (src/scan/algorithms.hpp,
// scan_chunked_groups: groups of chunks that form their aggregates, chain the carries
// and run their fix-ups from cache): it must perform, per chunk and channel, the
// operations of the chunk tasks in the same order. Checked bit for bit against
//   - the simulated path in the same format with round to nearest (every operation of
//     the model correctly rounded to fp32 = IEEE arithmetic; the simulated path always
//     runs the chunk tasks), on 1, 2, 3 and 8 threads, with h0, batches, cu_seqlens
//     (a one-token sequence), chunk sizes 1, 7, 64 and longer than the sequence, and
//     channel counts that split the channels across the workers instead of the tokens;
//   - fp64, which has no simulated twin: every channel of a 40-channel run equals the
//     same channel run alone (the channels are independent), and the MPFR bound of
//     docs/scan.md "Error bounds" holds (the chunked depth term is 0);
// plus the exact integer sums and the non-finite statuses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "triscan/scan.hpp"
#include "validation/scan_experiment.hpp"

namespace {

using namespace triscan;
using validation::ScanCase;

ScanOptions options(const std::string& fmt, unsigned threads) {
  ScanOptions o;
  o.precision = Precision::uniform(format_by_name(fmt));
  o.threads = threads;
  return o;
}

// A view of n floats inside a larger buffer (the arrays of expect_chunked_recurrence).
struct Span {
  float* p;
  std::size_t n;
  float* data() const { return p; }
  std::size_t size() const { return n; }
  float* begin() const { return p; }
  float* end() const { return p + n; }
  float& operator[](std::size_t i) const { return p[i]; }
};

// One case's inputs as both float and double arrays (values of fp32).
struct Case {
  ScanKind kind;
  index_t batch, T, d;
  std::vector<double> a, b, h0;
  std::vector<index_t> cu;
  std::vector<float> af, bf, h0f;
};

Case make_case(ScanKind kind, index_t batch, index_t T, index_t d, bool h0, std::uint64_t seed, bool varlen = false) {
  Case c{kind, batch, T, d, {}, {}, {}, {}, {}, {}, {}};
  ScanCase sc;
  sc.kind = kind;
  sc.length = batch * T;
  sc.dim = d;
  sc.with_h0 = false;
  sc.seed = seed;
  sc.decay_min = 0.9;
  const auto data = validation::generate_scan(sc, format_by_name("fp32"));
  const auto in = data.input();
  const index_t n = batch * T;
  c.a.assign(in.a, in.a + (kind == ScanKind::scalar ? n : n * d));
  c.b.assign(in.b, in.b + n * d);
  const index_t seqs = varlen ? 3 : batch;
  if (h0)
    for (index_t i = 0; i < seqs * d; ++i) c.h0.push_back(static_cast<float>(0.25 * static_cast<double>(i % 7) - 0.75));
  if (varlen) c.cu = {0, n / 5, n / 5 + 1, n};  // includes a one-token sequence
  c.af.assign(c.a.begin(), c.a.end());
  c.bf.assign(c.b.begin(), c.b.end());
  c.h0f.assign(c.h0.begin(), c.h0.end());
  return c;
}

template <class V>
ScanInput<V> input_of(const Case& c, const std::vector<V>& a, const std::vector<V>& b, const std::vector<V>& h0) {
  ScanInput<V> in;
  in.kind = c.kind;
  in.dim = c.d;
  if (c.cu.empty()) {
    in.batch = c.batch;
    in.length = c.T;
  } else {
    in.batch = 1;
    in.length = c.batch * c.T;
    in.cu_seqlens = c.cu;
  }
  in.a = a.data();
  in.b = b.data();
  in.h0 = h0.empty() ? nullptr : h0.data();
  return in;
}

// The native fp32 path of `alg` on each thread count against the simulated chunk tasks
// (every operation rounded once to fp32, round to nearest), bit for bit.
void expect_bit_identical_to_simulated(const Case& c, const std::string& alg, const std::string& what,
                                       std::initializer_list<unsigned> thread_counts) {
  const auto din = input_of(c, c.a, c.b, c.h0);
  std::vector<double> ref(static_cast<std::size_t>(din.tokens() * din.state_size()));
  ASSERT_EQ(scan(MethodSpec::parse(alg), din, ref.data(), options("fp32", 2)).status, Status::ok) << what;
  const auto fin = input_of(c, c.af, c.bf, c.h0f);
  for (unsigned th : thread_counts) {
    std::vector<float> h(ref.size(), std::numeric_limits<float>::quiet_NaN());
    ASSERT_EQ(scan(MethodSpec::parse(alg), fin, h.data(), options("fp32", th)).status, Status::ok) << what;
    for (std::size_t i = 0; i < h.size(); ++i)
      ASSERT_EQ(static_cast<double>(h[i]), ref[i]) << what << " threads " << th << " index " << i;
  }
}

}  // namespace

TEST(ScanNativeChunked, Fp32IsBitIdenticalToTheSimulatedChunkTasksOnAnyThreadCount) {
  struct Shape {
    ScanKind kind;
    index_t batch, T, d;
    bool h0, varlen;
  };
  for (const Shape s : {Shape{ScanKind::diagonal, 1, 1000, 64, true, false}, Shape{ScanKind::diagonal, 2, 333, 37, false, false},
                        Shape{ScanKind::scalar, 1, 700, 48, true, false}, Shape{ScanKind::diagonal, 1, 500, 40, true, true},
                        Shape{ScanKind::diagonal, 1, 300, 3, true, false},
                        // wide enough to split the channels across the workers (scan_chunked_channels)
                        Shape{ScanKind::diagonal, 2, 200, 300, true, false}, Shape{ScanKind::scalar, 1, 300, 136, false, false},
                        Shape{ScanKind::diagonal, 1, 400, 256, true, true}})
    for (const std::string alg : {"scan/chunked:chunk=1", "scan/chunked:chunk=7", "scan/chunked:chunk=64",
                                  "scan/chunked:chunk=5000"}) {
      const Case c = make_case(s.kind, s.batch, s.T, s.d, s.h0, 11, s.varlen);
      const std::string what = alg + " kind " + std::string(scan_kind_name(s.kind)) + " B=" + std::to_string(s.batch) +
                               " T=" + std::to_string(s.T) + " d=" + std::to_string(s.d) + (s.varlen ? " varlen" : "");
      expect_bit_identical_to_simulated(c, alg, what, {1u, 2u, 3u, 8u});
      if (HasFatalFailure()) return;
    }
}

// With the channels split across the workers, a middle chunk's aggregate is formed in a
// pass of its own after the states when the task's a and b of the chunk fit in 512 KiB,
// and in the states' row loop otherwise (long chunks): both routes give the simulated
// chunk tasks' bits. Chunks of 600 (diagonal) and 1100 (scalar) tokens at d = 256 on two
// workers are 600 KiB and 550 KiB per task: the in-loop route.
TEST(ScanNativeChunked, Fp32ChannelSplitWithLongChunksIsBitIdentical) {
  struct Shape {
    ScanKind kind;
    index_t T, d, chunk;
  };
  for (const Shape s : {Shape{ScanKind::diagonal, 1900, 256, 600}, Shape{ScanKind::scalar, 3400, 256, 1100}}) {
    const std::string alg = "scan/chunked:chunk=" + std::to_string(s.chunk);
    const Case c = make_case(s.kind, 1, s.T, s.d, true, 12, false);
    expect_bit_identical_to_simulated(c, alg, alg + " kind " + std::string(scan_kind_name(s.kind)), {1u, 2u});
    if (HasFatalFailure()) return;
  }
}

// fp64 has no simulated twin (fp64 runs natively): every channel of a wide run must
// equal that channel run alone (other group sizes, other schedule); and the MPFR bound holds.
TEST(ScanNativeChunked, Fp64ChannelsAreIndependentAndWithinTheBound) {
  const index_t T = 2000, d = 40;
  ScanCase sc;
  sc.kind = ScanKind::diagonal;
  sc.length = T;
  sc.dim = d;
  sc.with_h0 = true;
  sc.seed = 5;
  sc.decay_min = 0.99;
  const auto data = validation::generate_scan(sc, format_by_name("fp64"));
  const auto in = data.input();
  const std::string alg = "scan/chunked:chunk=64";
  std::vector<double> h(static_cast<std::size_t>(T * d));
  ASSERT_EQ(scan(MethodSpec::parse(alg), in, h.data(), options("fp64", 2)).status, Status::ok);
  // channel j alone (d = 1: other group sizes and another schedule)
  for (index_t j = 0; j < d; ++j) {
    std::vector<double> a1(static_cast<std::size_t>(T)), b1(a1.size()), h1(a1.size());
    for (index_t t = 0; t < T; ++t) {
      a1[static_cast<std::size_t>(t)] = in.a[t * d + j];
      b1[static_cast<std::size_t>(t)] = in.b[t * d + j];
    }
    ScanInput<double> one;
    one.kind = ScanKind::diagonal;
    one.length = T;
    one.dim = 1;
    one.a = a1.data();
    one.b = b1.data();
    one.h0 = in.h0 + j;
    ASSERT_EQ(scan(MethodSpec::parse(alg), one, h1.data(), options("fp64", 4)).status, Status::ok);
    for (index_t t = 0; t < T; ++t)
      ASSERT_EQ(h[static_cast<std::size_t>(t * d + j)], h1[static_cast<std::size_t>(t)]) << "channel " << j << " t " << t;
  }
  const auto ref = validation::reference_scan(in);
  const auto bound = validation::scan_error_bound(in, alg, options("fp64", 2), ref);
  const auto e = validation::measure_scan(in, h, ref, bound);
  EXPECT_LE(e.bound_ratio, 1.0) << "forward error " << e.forward_error;
  EXPECT_GT(e.forward_error, 0.0);  // rounding happened: the comparison is not vacuous
}

// Integer prefix sums (a = 1): exact in any order, so the schedule must return
// them bit for bit, with h0 and several sequences.
TEST(ScanNativeChunked, IntegerPrefixSumsAreExact) {
  const index_t B = 2, T = 777, d = 33;
  std::vector<float> a(static_cast<std::size_t>(B * T * d), 1.0f), b(a.size()), h0(static_cast<std::size_t>(B * d)), h(a.size());
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(static_cast<int>(i * 7919 % 201) - 100);
  for (std::size_t i = 0; i < h0.size(); ++i) h0[i] = static_cast<float>(i % 13) - 6.0f;
  ScanInput<float> in;
  in.kind = ScanKind::diagonal;
  in.batch = B;
  in.length = T;
  in.dim = d;
  in.a = a.data();
  in.b = b.data();
  in.h0 = h0.data();
  ASSERT_EQ(scan(MethodSpec::parse("scan/chunked:chunk=50"), in, h.data(), options("fp32", 2)).status, Status::ok);
  for (index_t s = 0; s < B; ++s)
    for (index_t j = 0; j < d; ++j) {
      double acc = h0[static_cast<std::size_t>(s * d + j)];
      for (index_t t = 0; t < T; ++t) {
        const std::size_t i = static_cast<std::size_t>((s * T + t) * d + j);
        acc += b[i];
        ASSERT_EQ(static_cast<double>(h[i]), acc) << "seq " << s << " t " << t << " j " << j;
      }
    }
}

// A NaN input gives nonfinite_input, a state that overflows fp32 gives overflow, on the
// native schedule as on the others.
TEST(ScanNativeChunked, NonFiniteInputAndOverflowAreReported) {
  const index_t T = 500, d = 64;
  std::vector<float> a(static_cast<std::size_t>(T * d), 0.5f), b(a.size(), 1.0f), h(a.size());
  ScanInput<float> in;
  in.kind = ScanKind::diagonal;
  in.length = T;
  in.dim = d;
  in.a = a.data();
  in.b = b.data();
  const MethodSpec alg = MethodSpec::parse("scan/chunked:chunk=64");
  ASSERT_EQ(scan(alg, in, h.data(), options("fp32", 2)).status, Status::ok);
  b[static_cast<std::size_t>(300 * d + 17)] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(scan(alg, in, h.data(), options("fp32", 2)).status, Status::nonfinite_input);
  b[static_cast<std::size_t>(300 * d + 17)] = 1.0f;
  // a = 2 in one channel from token 100 on: 2^400 overflows fp32 long before the end
  for (index_t t = 100; t < T; ++t) a[static_cast<std::size_t>(t * d + 5)] = 2.0f;
  EXPECT_EQ(scan(alg, in, h.data(), options("fp32", 2)).status, Status::overflow);
}

// The chunked algorithm written out per channel (chunk 0 from h0; every later chunk from
// the carry h_[c-1]; the carry of a middle chunk b_[c] + a_[c] h_[c-1] with its
// aggregate formed token by token in float), against the native fp32 path.
// Inputs and output start in_off and out_off floats past 64-byte boundaries.
void expect_chunked_recurrence(bool scalar, index_t T, index_t d, index_t C, unsigned threads,
                               std::size_t out_off = 0, std::size_t in_off = 0) {
  std::vector<float> a_store(static_cast<std::size_t>(scalar ? T : T * d) + 32), b_store(static_cast<std::size_t>(T * d) + 32),
      h_store(static_cast<std::size_t>(T * d) + 32), h0(static_cast<std::size_t>(d));
  auto at_offset = [](std::vector<float>& v, std::size_t off, std::size_t n) {
    const auto addr = reinterpret_cast<std::uintptr_t>(v.data());
    const std::size_t skip = (64 - addr % 64) % 64 / sizeof(float) + off;
    return Span{v.data() + skip, n};
  };
  const Span a = at_offset(a_store, in_off, static_cast<std::size_t>(scalar ? T : T * d));
  const Span b = at_offset(b_store, in_off, static_cast<std::size_t>(T * d));
  const Span h = at_offset(h_store, out_off, static_cast<std::size_t>(T * d));
  std::uint64_t x = 12345;
  auto next = [&x] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(x >> 11) * 0x1p-53;
  };
  for (auto& v : a) v = static_cast<float>(0.95 + 0.05 * next());
  for (auto& v : b) v = static_cast<float>(next() - 0.5);
  for (auto& v : h0) v = static_cast<float>(next());
  ScanInput<float> in;
  in.kind = scalar ? ScanKind::scalar : ScanKind::diagonal;
  in.length = T;
  in.dim = d;
  in.a = a.data();
  in.b = b.data();
  in.h0 = h0.data();
  const std::string what = std::string(scalar ? "scalar" : "diagonal") + " T=" + std::to_string(T) +
                           " d=" + std::to_string(d) + " C=" + std::to_string(C) + " threads " + std::to_string(threads) +
                           " offsets out " + std::to_string(out_off) + " in " + std::to_string(in_off);
  ASSERT_EQ(scan(MethodSpec::parse("scan/chunked:chunk=" + std::to_string(C)), in, h.data(), options("fp32", threads)).status,
            Status::ok) << what;
  auto at = [&](index_t t, index_t j) { return a[static_cast<std::size_t>(scalar ? t : t * d + j)]; };
  for (index_t j = 0; j < d; ++j) {
    float carry = h0[static_cast<std::size_t>(j)];
    for (index_t c0 = 0; c0 < T; c0 += C) {
      const index_t c1 = std::min(T, c0 + C);
      float s = carry;
      for (index_t t = c0; t < c1; ++t) {
        const std::size_t i = static_cast<std::size_t>(t * d + j);
        s = b[i] + at(t, j) * s;
        ASSERT_EQ(h[i], s) << what << ": t " << t << " j " << j;
      }
      if (c0 == 0) {
        carry = s;  // the first chunk's carry: its last state
      } else if (c1 < T) {
        float ta = at(c0, j), tb = b[static_cast<std::size_t>(c0 * d + j)];
        for (index_t t = c0 + 1; t < c1; ++t) {
          tb = b[static_cast<std::size_t>(t * d + j)] + at(t, j) * tb;
          ta = at(t, j) * ta;
        }
        carry = tb + ta * carry;
      }
    }
  }
}

// An output of 16 MiB or more is written with non-temporal stores (T * d = 4 Mi states
// of fp32): the values must not change, whatever the arrays' alignment. With rows a
// whole number of vectors long (d = 64, 256) the strips stream from the first aligned
// vector of each row, the tail of one row and the lead of the next are joined into one
// streamed vector inside a chunk and stored lane by lane at chunk edges
// (src/scan/strips.hpp); with d = 72 the rows start at varying offsets and nothing streams.
TEST(ScanNativeChunked, LargeOutputsWrittenWithStreamingStoresKeepTheValues) {
  expect_chunked_recurrence(false, 65536, 64, 100, 2);
  for (std::size_t out_off : {1u, 5u, 12u, 15u}) {
    expect_chunked_recurrence(false, 65536, 64, 100, 2, out_off, 0);
    expect_chunked_recurrence(true, 16384, 256, 64, 2, out_off, out_off);
  }
  expect_chunked_recurrence(false, 16384, 256, 7, 3, 3, 9);
  expect_chunked_recurrence(false, 65536, 72, 64, 2, 4, 4);
  // rows of one and two vectors: the lead and tail vectors overlap or touch
  expect_chunked_recurrence(false, 262144, 16, 64, 2, 7, 7);
  expect_chunked_recurrence(true, 131072, 32, 50, 2, 13, 13);
}

// Many groups of chunks on 8 workers: groups start before the group they follow has
// published its carry (aggregates first, then the fix-ups), others after (one fused
// pass); either way the values are the chunked algorithm's.
TEST(ScanNativeChunked, ManyGroupsOnManyWorkersKeepTheValues) {
  expect_chunked_recurrence(false, 50000, 16, 3, 8);
  expect_chunked_recurrence(true, 50000, 16, 3, 8);
  expect_chunked_recurrence(false, 50000, 16, 3, 1);
}
