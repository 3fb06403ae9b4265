// GPU scans of the scalar and diagonal kinds (gpu::scan_diagonal, method scan/chunked)
// against triscan's CPU scan/sequential in native fp64 on the same (rounded) inputs.
//
// Bound: docs/scan.md "Error bounds", scalar/diagonal componentwise, evaluated by
// validation's scan_error_bound for scan/chunked (depth D = 0) with u = 2^-24 (the
// fp32 state; the GPU computes every product and sum in fp32 without contraction)
// and u_out the output format's unit roundoff:
//   |h^_t - h_t| <= u'(5 Y_t + 5 Z_t) + (u_out + 2^-53)|h_t|.
// It covers the GPU's evaluation order: the coefficient of b_s in h^_t is a product
// of computed products of decays (a product of k factors carries k - 1 roundings) and
// reaches h^_t through steps or applies h <- A h + B of 2 roundings each (the thread's
// tokens, the warp aggregates, the tiles' look-back, the warps' carries); every step
// or apply spans at least one token, so the count is <= 3 (t - s) + 2 <= cY (t - s) + cZ
// with the chunked algorithm's cY = cZ = 5 (reading b_s and h_0 is exact: the
// reference starts from the same rounded values). Added to it: the fp64 reference's
// own error (the same bound with u = 2^-53, <= 2^-29 of the fp32 one: a factor
// 1 + 2^-20 covers it), u_out times the state's error (the output rounds the computed
// state, not the exact one: a factor 1 + u_out), the output format's subnormal spacing (half of it,
// the absolute error of rounding a tiny state: 2^-25 for fp16) and 2^-126 for fp32 underflow in the
// recurrence (at most 5t operations of absolute error <= 2^-150 each, t <= 2^21). Outputs are
// poisoned (NaN) before every run, so an entry the kernel skips fails the check.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/gpu/test_trinv_gpu_util.hpp"
#include "triscan/gpu.hpp"
#include "triscan/scan.hpp"
#include "validation/scan_experiment.hpp"

namespace triscan::gpu_test {
namespace {

using gpu::ScanLayout;
using gpu::ScanPlan;

const DType all_dtypes[] = {DType::fp32, DType::bf16, DType::fp16};

const Format& format_of(DType t) {
  return format_by_name(t == DType::fp32 ? "fp32" : t == DType::bf16 ? "bf16" : "fp16");
}

struct Problem {
  ScanKind kind = ScanKind::diagonal;
  ScanLayout layout;
  DType in = DType::fp32, out = DType::fp32;
  bool with_h0 = true;
  std::string method = "scan/chunked";
  double a_lo = 0.5, a_hi = 1.0;  // decays ~ U(a_lo, a_hi); b, h0 ~ U(-1, 1)
  std::uint64_t seed = 1;

  std::string describe() const {
    std::ostringstream s;
    s << scan_kind_name(kind) << " " << method << " in=" << gpu::dtype_name(in)
      << " out=" << gpu::dtype_name(out) << " B=" << layout.batch << " T=" << layout.length
      << " D=" << layout.dim << " cu_seqlens=" << layout.cu_seqlens.size()
      << " entries h0=" << with_h0 << " seed=" << seed;
    return s.str();
  }
};

struct Inputs {
  std::vector<unsigned char> a_bytes, b_bytes;
  std::vector<double> a, b;  // the values the kernel sees (rounded to the input dtype)
  std::vector<float> h0;
};

Inputs make_inputs(const Problem& p) {
  TestRng rng(p.seed);
  const index_t N = p.layout.tokens(), D = p.layout.dim;
  std::vector<double> a(static_cast<std::size_t>(p.kind == ScanKind::scalar ? N : N * D));
  std::vector<double> b(static_cast<std::size_t>(N * D));
  for (auto& x : a) x = rng.uniform(p.a_lo, p.a_hi);
  for (auto& x : b) x = rng.uniform(-1, 1);
  Inputs in;
  in.a_bytes = encode(a, p.in, &in.a);
  in.b_bytes = encode(b, p.in, &in.b);
  if (p.with_h0) {
    in.h0.resize(static_cast<std::size_t>(p.layout.sequences() * D));
    for (auto& x : in.h0) x = static_cast<float>(rng.uniform(-1, 1));
  }
  return in;
}

struct GpuRun {
  std::vector<unsigned char> h;
  std::vector<float> final_state;
  std::vector<std::int32_t> statuses;
  std::int32_t flag = -1;
};

GpuRun run_gpu(const Problem& p, const ScanPlan& plan, const Inputs& in) {
  const auto N = static_cast<std::size_t>(p.layout.tokens()),
             D = static_cast<std::size_t>(p.layout.dim);
  const auto S = static_cast<std::size_t>(p.layout.sequences());
  gpu::DeviceBytes da(in.a_bytes.size()), db(in.b_bytes.size()), dh0(in.h0.size() * 4),
      dh(N * D * dtype_bytes(p.out)), dfin(S * D * 4), dstat(S * 4), dflag(4);
  if (!in.a_bytes.empty()) da.upload(in.a_bytes.data(), in.a_bytes.size());
  if (!in.b_bytes.empty()) db.upload(in.b_bytes.data(), in.b_bytes.size());
  if (!in.h0.empty()) dh0.upload(in.h0.data(), in.h0.size() * 4);
  if (dh.size()) dh.fill32(poison_word(p.out));
  if (dfin.size()) dfin.fill32(poison_word(DType::fp32));
  if (dstat.size()) dstat.fill32(0xffffffffu);
  dflag.fill32(0xffffffffu);
  gpu::scan_diagonal(plan, p.kind, p.in, da.data(), db.data(),
                     in.h0.empty() ? nullptr : static_cast<const float*>(dh0.data()), p.out,
                     dh.data(), static_cast<float*>(dfin.data()),
                     static_cast<std::int32_t*>(dstat.data()),
                     static_cast<std::int32_t*>(dflag.data()));
  gpu::synchronize();
  GpuRun r;
  r.h.resize(dh.size());
  if (dh.size()) dh.download(r.h.data(), r.h.size());
  r.final_state.resize(S * D);
  if (dfin.size()) dfin.download(r.final_state.data(), dfin.size());
  r.statuses.resize(S);
  if (dstat.size()) dstat.download(r.statuses.data(), dstat.size());
  dflag.download(&r.flag, 4);
  return r;
}

ScanInput<double> cpu_input(const Problem& p, const Inputs& in, std::vector<double>& h0_store) {
  ScanInput<double> c;
  c.kind = p.kind;
  c.batch = p.layout.batch;
  c.length = p.layout.length;
  c.dim = p.layout.dim;
  for (auto v : p.layout.cu_seqlens) c.cu_seqlens.push_back(static_cast<index_t>(v));
  c.a = in.a.data();
  c.b = in.b.data();
  h0_store.assign(in.h0.begin(), in.h0.end());
  c.h0 = p.with_h0 ? h0_store.data() : nullptr;
  return c;
}

// The fp64 reference (scan/sequential, native fp64) and the bound for an output format.
struct Reference {
  std::vector<double> h, bound_out, bound_state;  // bound_state: fp32 "output" (final_state)
};

Reference reference(const Problem& p, const ScanInput<double>& c) {
  Reference r;
  r.h.assign(static_cast<std::size_t>(c.tokens() * c.dim), 0.0);
  ScanOptions fp64;
  fp64.precision = Precision::uniform(format_by_name("fp64"));
  const ScanResult res = scan(MethodSpec::parse("scan/sequential"), c, r.h.data(), fp64);
  EXPECT_EQ(res.status, Status::ok) << res.message;
  ScanOptions gpu_model;
  gpu_model.precision = Precision::uniform(format_by_name("fp32"));
  gpu_model.state_format = format_by_name("fp32");
  gpu_model.precision.output = format_of(p.out);
  r.bound_out = validation::scan_error_bound(c, "scan/chunked", gpu_model, r.h);
  gpu_model.precision.output = format_by_name("fp32");
  r.bound_state = validation::scan_error_bound(c, "scan/chunked", gpu_model, r.h);
  const double extra_out = half_min_subnormal(p.out) + std::ldexp(1.0, -126);
  const double extra_state = std::ldexp(1.0, -126);
  // Rounding the computed state (not the exact one) to the output: u_out |h^| <=
  // u_out |h| + u_out |h^ - h|, hence the factor 1 + u_out on the state's part.
  const double u_out = unit_roundoff(p.out);
  for (auto& x : r.bound_out) x = x * (1 + u_out + std::ldexp(1.0, -20)) + extra_out;
  for (auto& x : r.bound_state) x = x * (1 + std::ldexp(1.0, -20)) + extra_state;
  return r;
}

// First token of each sequence and its length.
std::vector<std::pair<index_t, index_t>> sequences(const ScanLayout& l) {
  std::vector<std::pair<index_t, index_t>> s;
  for (index_t q = 0; q < l.sequences(); ++q) {
    if (l.cu_seqlens.empty())
      s.push_back({q * l.length, l.length});
    else
      s.push_back({l.cu_seqlens[static_cast<std::size_t>(q)],
                   l.cu_seqlens[static_cast<std::size_t>(q) + 1] -
                       l.cu_seqlens[static_cast<std::size_t>(q)]});
  }
  return s;
}

// Runs `p` on the GPU and holds every state and final state to the bound; returns the
// largest error / bound ratio seen.
double check_problem(const Problem& p) {
  SCOPED_TRACE(p.describe());
  const Inputs in = make_inputs(p);
  ScanPlan plan(MethodSpec::parse(p.method), p.layout);
  const GpuRun g = run_gpu(p, plan, in);
  std::vector<double> h0_store;
  const ScanInput<double> c = cpu_input(p, in, h0_store);
  const Reference ref = p.layout.tokens() > 0 ? reference(p, c) : Reference{};
  const index_t D = p.layout.dim;

  EXPECT_EQ(g.flag, 0) << "flag";
  for (std::size_t s = 0; s < g.statuses.size(); ++s)
    EXPECT_EQ(g.statuses[s], 0) << "status of sequence " << s;

  double worst = 0;
  std::size_t worst_at = 0, failures = 0;
  for (std::size_t e = 0; e < ref.h.size(); ++e) {
    const double got = decode_at(g.h, p.out, e);
    const double err = std::fabs(got - ref.h[e]);
    const double ratio =
        std::isfinite(got) ? err / ref.bound_out[e] : std::numeric_limits<double>::infinity();
    if (!(ratio <= 1.0)) {
      if (failures++ < 5)
        ADD_FAILURE() << "h at token " << e / static_cast<std::size_t>(D) << " channel "
                      << e % static_cast<std::size_t>(D) << ": got " << got
                      << (is_poison(g.h, p.out, e) ? " (poison: never written)" : "") << ", fp64 "
                      << ref.h[e] << ", error " << err << " > bound " << ref.bound_out[e];
    }
    if (ratio > worst || std::isnan(ratio)) {
      worst = std::isnan(ratio) ? std::numeric_limits<double>::infinity() : ratio;
      worst_at = e;
    }
  }
  EXPECT_EQ(failures, 0u) << failures << " states outside the bound";
  // Final states (fp32): the last state of each sequence, h0 (or 0) for an empty one.
  const auto seqs = sequences(p.layout);
  for (std::size_t s = 0; s < seqs.size(); ++s)
    for (index_t d = 0; d < D; ++d) {
      const double got =
          g.final_state[s * static_cast<std::size_t>(D) + static_cast<std::size_t>(d)];
      if (seqs[s].second == 0) {
        const double want =
            p.with_h0 ? in.h0[s * static_cast<std::size_t>(D) + static_cast<std::size_t>(d)] : 0.0;
        EXPECT_EQ(got, want) << "final state of empty sequence " << s << " channel " << d;
        continue;
      }
      const auto e = static_cast<std::size_t>((seqs[s].first + seqs[s].second - 1) * D + d);
      EXPECT_LE(std::fabs(got - ref.h[e]), ref.bound_state[e])
          << "final state of sequence " << s << " channel " << d << ": got " << got << ", fp64 "
          << ref.h[e];
    }
  if (!ref.h.empty())
    std::printf("[ scan gpu ] %s: max error/bound %.3g at token %zu channel %zu (bound %.3g)\n",
                p.describe().c_str(), worst, worst_at / static_cast<std::size_t>(D),
                worst_at % static_cast<std::size_t>(D), ref.bound_out[worst_at]);
  return worst;
}

TEST(ScanGpu, MethodsAreRegisteredCpuAlgorithms) {
  TRISCAN_REQUIRE_GPU();
  const auto methods = gpu::scan_gpu_methods();
  ASSERT_FALSE(methods.empty());
  for (const auto& m : methods) EXPECT_NO_THROW(scan_algorithm(m.substr(0, m.find(':')))) << m;
  EXPECT_EQ(methods.front().substr(0, methods.front().find(':')), "scan/chunked");
}

// Every kind x input dtype x output dtype, [B, T, D] with partial last tiles (T = 1000
// is not a multiple of 256) and a partial channel group (D = 40 = 32 + 8), with h0.
TEST(ScanGpu, EveryKindAndDtypeMatchesFp64Reference) {
  TRISCAN_REQUIRE_GPU();
  std::uint64_t seed = 100;
  for (ScanKind kind : {ScanKind::scalar, ScanKind::diagonal})
    for (DType in : all_dtypes)
      for (DType out : all_dtypes) {
        Problem p;
        p.kind = kind;
        p.layout = {3, 1000, 40, {}};
        p.in = in;
        p.out = out;
        p.a_lo = kind == ScanKind::scalar ? 0.9 : 0.5;
        p.seed = ++seed;
        check_problem(p);
      }
}

// Every tile size, varlen batches with empty, one-token, exactly-one-tile and
// partial sequences, with and without h0, both kinds.
TEST(ScanGpu, ChunkSizesVarlenAndPartialTiles) {
  TRISCAN_REQUIRE_GPU();
  std::uint64_t seed = 200;
  for (const char* method :
       {"scan/chunked:chunk=64", "scan/chunked:chunk=128", "scan/chunked", "scan/chunked:chunk=512"})
    for (ScanKind kind : {ScanKind::scalar, ScanKind::diagonal})
      for (bool h0 : {true, false}) {
        Problem p;
        p.kind = kind;
        p.method = method;
        p.layout = {1, 2025, 33, {0, 1, 1, 65, 129, 385, 641, 1000, 2025}};
        p.with_h0 = h0;
        p.seed = ++seed;
        check_problem(p);
      }
  // Batches without tokens: only final_state := h0.
  Problem empty;
  empty.layout = {2, 0, 5, {}};
  empty.seed = ++seed;
  check_problem(empty);
  empty.layout = {1, 0, 5, {0, 0, 0}};
  check_problem(empty);
}

// T = 10^6 tokens in one sequence, few channels: 3907 tiles chained by the look-back.
TEST(ScanGpu, LongSequences) {
  TRISCAN_REQUIRE_GPU();
  Problem p;
  p.kind = ScanKind::diagonal;
  p.layout = {1, 1000000, 4, {}};
  p.a_lo = 0.999;  // memory ~1000 tokens: the states stay O(30)
  p.seed = 300;
  check_problem(p);
  p.kind = ScanKind::scalar;
  p.in = DType::bf16;
  p.layout = {2, 500000, 3, {}};
  p.a_lo = 0.99;
  p.seed = 301;
  check_problem(p);
  p.kind = ScanKind::diagonal;
  p.in = DType::fp32;
  p.method = "scan/chunked:chunk=64";
  p.layout = {1, 1000000, 2, {0, 1, 999998, 1000000}};
  p.a_lo = 0.9;
  p.seed = 302;
  check_problem(p);
}

// The look-back combines in a fixed order: repeated runs on many concurrent tiles and
// channel groups (2 x 256 tiles x 5 groups) give bit-identical states, within the bound.
TEST(ScanGpu, BitIdenticalAcrossRuns) {
  TRISCAN_REQUIRE_GPU();
  Problem p;
  p.layout = {2, 65536, 160, {}};
  p.a_lo = 0.99;
  p.seed = 400;
  check_problem(p);
  const Inputs in = make_inputs(p);
  ScanPlan plan(MethodSpec::parse(p.method), p.layout);
  const GpuRun first = run_gpu(p, plan, in);
  for (int rep = 0; rep < 3; ++rep) {
    const GpuRun again = run_gpu(p, plan, in);
    ASSERT_EQ(again.h.size(), first.h.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < first.h.size(); ++i) differ += first.h[i] != again.h[i];
    EXPECT_EQ(differ, 0u) << "run " << rep + 1 << ": bytes differing from the first run";
    EXPECT_EQ(std::vector<float>(again.final_state), first.final_state);
  }
}

// A plan's look-back descriptors are not cleared between calls (each call has its own
// epoch): a plan reused on other inputs gives the bits of a fresh plan, also across the
// epoch wrap (the call after scan_max_epoch clears the descriptors and restarts at 1).
TEST(ScanGpu, ReusedPlanForgetsEarlierCalls) {
  TRISCAN_REQUIRE_GPU();
  Problem p;
  p.layout = {1, 16384, 96, {0, 3000, 16384}};
  p.a_lo = 0.95;
  p.seed = 410;
  const Inputs first_inputs = make_inputs(p);
  p.seed = 411;
  const Inputs other_inputs = make_inputs(p);
  ScanPlan fresh(MethodSpec::parse(p.method), p.layout);
  const GpuRun expected = run_gpu(p, fresh, other_inputs);

  ScanPlan reused(MethodSpec::parse(p.method), p.layout);
  for (unsigned start : {0u, gpu::detail::scan_max_epoch - 2}) {
    SCOPED_TRACE("epoch before the calls: " + std::to_string(start));
    gpu::detail::set_scan_epoch_for_testing(reused, start);
    for (int call = 0; call < 4; ++call) {  // crosses the wrap when started near it
      (void)run_gpu(p, reused, first_inputs);
      const GpuRun got = run_gpu(p, reused, other_inputs);
      EXPECT_TRUE(got.h == expected.h) << "call pair " << call << ": h differs from a fresh plan";
      EXPECT_EQ(got.final_state, expected.final_state) << "call pair " << call;
      EXPECT_EQ(got.flag, expected.flag);
    }
  }
  EXPECT_THROW(gpu::detail::set_scan_epoch_for_testing(reused, gpu::detail::scan_max_epoch + 1),
               std::invalid_argument);
}

// A NaN or Inf input flags its sequence nonfinite_input (and the call's flag); the
// other sequences are unaffected and still within the bound; the non-finite value
// propagates along its channel as the recurrence makes it.
TEST(ScanGpu, NonfiniteInputFlagsItsSequence) {
  TRISCAN_REQUIRE_GPU();
  for (DType in_type : all_dtypes)
    for (ScanKind kind : {ScanKind::scalar, ScanKind::diagonal}) {
      Problem p;
      p.kind = kind;
      p.in = in_type;
      p.layout = {1, 1200, 40, {0, 300, 700, 1200}};
      p.seed = 500;
      SCOPED_TRACE(p.describe());
      Inputs in = make_inputs(p);
      const index_t D = p.layout.dim;
      const std::size_t sz = dtype_bytes(p.in);
      auto poke = [&](std::vector<unsigned char>& bytes, std::size_t e, double v) {
        std::vector<double> seen;
        const auto enc = encode({v}, p.in, &seen);
        std::copy(enc.begin(), enc.end(), bytes.begin() + static_cast<std::ptrdiff_t>(e * sz));
      };
      // Sequence 1: NaN decay at token 300 + 10 (channel 7 for diagonal); sequence 2:
      // +Inf input at token 700 + 400, channel 35.
      const std::size_t nan_token = 310, inf_token = 1100;
      poke(in.a_bytes,
           kind == ScanKind::scalar ? nan_token : nan_token * static_cast<std::size_t>(D) + 7,
           std::numeric_limits<double>::quiet_NaN());
      poke(in.b_bytes, inf_token * static_cast<std::size_t>(D) + 35,
           std::numeric_limits<double>::infinity());
      ScanPlan plan(MethodSpec::parse(p.method), p.layout);
      const GpuRun g = run_gpu(p, plan, in);
      EXPECT_EQ(g.flag, static_cast<int>(Status::nonfinite_input));
      ASSERT_EQ(g.statuses.size(), 3u);
      EXPECT_EQ(g.statuses[0], static_cast<int>(Status::ok));
      EXPECT_EQ(g.statuses[1], static_cast<int>(Status::nonfinite_input));
      EXPECT_EQ(g.statuses[2], static_cast<int>(Status::nonfinite_input));
      // Propagation: NaN from the NaN decay on in its channel(s) to the sequence end.
      for (std::size_t t = nan_token; t < 700; ++t) {
        EXPECT_TRUE(std::isnan(decode_at(g.h, p.out, t * static_cast<std::size_t>(D) + 7)))
            << "token " << t;
        if (::testing::Test::HasFailure()) break;
      }
      // The Inf input: its own state is +-Inf; later states are Inf or NaN.
      for (std::size_t t = inf_token; t < 1200; ++t) {
        EXPECT_FALSE(std::isfinite(decode_at(g.h, p.out, t * static_cast<std::size_t>(D) + 35)))
            << "token " << t;
        if (::testing::Test::HasFailure()) break;
      }
      // Sequence 0 is untouched: within the bound.
      std::vector<double> h0_store;
      ScanInput<double> c = cpu_input(p, in, h0_store);
      c.batch = 1;
      c.length = 300;
      c.cu_seqlens.clear();
      const Reference ref = reference(p, c);
      for (std::size_t e = 0; e < ref.h.size(); ++e) {
        const double got = decode_at(g.h, p.out, e);
        ASSERT_LE(std::fabs(got - ref.h[e]), ref.bound_out[e]) << "sequence 0, element " << e;
      }
    }
  // A non-finite h0 flags its sequence, also an empty one.
  Problem p;
  p.layout = {1, 100, 3, {0, 0, 100}};
  p.seed = 501;
  Inputs in = make_inputs(p);
  in.h0[1] = std::numeric_limits<float>::infinity();  // sequence 0 (empty), channel 1
  ScanPlan plan(MethodSpec::parse(p.method), p.layout);
  const GpuRun g = run_gpu(p, plan, in);
  EXPECT_EQ(g.flag, static_cast<int>(Status::nonfinite_input));
  EXPECT_EQ(g.statuses[0], static_cast<int>(Status::nonfinite_input));
  EXPECT_EQ(g.statuses[1], static_cast<int>(Status::ok));
  in.h0[1] = 0.5f;
  in.h0[3 + 2] = std::numeric_limits<float>::quiet_NaN();  // sequence 1, channel 2
  const GpuRun g2 = run_gpu(p, plan, in);
  EXPECT_EQ(g2.statuses[0], static_cast<int>(Status::ok));
  EXPECT_EQ(g2.statuses[1], static_cast<int>(Status::nonfinite_input));
  EXPECT_TRUE(std::isnan(g2.final_state[3 + 2]));
}

// Finite inputs whose fp32 state overflows, and states beyond the output format's
// range (fp16: 65504), are flagged overflow; the overflowed entries are +-inf.
TEST(ScanGpu, OverflowIsFlagged) {
  TRISCAN_REQUIRE_GPU();
  const index_t T = 300, D = 3;
  for (DType out : all_dtypes) {
    SCOPED_TRACE(std::string("out=") + std::string(gpu::dtype_name(out)));
    ScanLayout layout{2, T, D, {}};
    ScanPlan plan(MethodSpec::parse("scan/chunked"), layout);
    // Sequence 0: a = 1, b = 1000 (states up to 3e5: over fp16's range only).
    // Sequence 1: a = 2, b = 1 (2^300: over fp32's range).
    std::vector<double> a(static_cast<std::size_t>(2 * T * D)), b(a.size());
    for (index_t t = 0; t < T; ++t)
      for (index_t d = 0; d < D; ++d) {
        a[static_cast<std::size_t>(t * D + d)] = 1.0;
        b[static_cast<std::size_t>(t * D + d)] = 1000.0;
        a[static_cast<std::size_t>((T + t) * D + d)] = 2.0;
        b[static_cast<std::size_t>((T + t) * D + d)] = 1.0;
      }
    Problem p;
    p.layout = layout;
    p.in = DType::fp32;
    p.out = out;
    p.with_h0 = false;
    Inputs in;
    in.a_bytes = encode(a, DType::fp32, &in.a);
    in.b_bytes = encode(b, DType::fp32, &in.b);
    const GpuRun g = run_gpu(p, plan, in);
    EXPECT_EQ(g.flag, static_cast<int>(Status::overflow));
    EXPECT_EQ(g.statuses[0], static_cast<int>(out == DType::fp16 ? Status::overflow : Status::ok));
    EXPECT_EQ(g.statuses[1], static_cast<int>(Status::overflow));
    const double last0 = decode_at(g.h, out, static_cast<std::size_t>((T - 1) * D));
    if (out == DType::fp16)
      EXPECT_EQ(last0, std::numeric_limits<double>::infinity());
    else
      EXPECT_NEAR(last0, 300000.0, 300000.0 * unit_roundoff(out));
    // After an fp32 overflow the states are +inf or NaN (a tile's decay product 2^256
    // overflows to inf, and inf x 0 in the carry of the sequence's first tile is NaN).
    EXPECT_FALSE(std::isfinite(decode_at(g.h, out, static_cast<std::size_t>((2 * T - 1) * D))));
    EXPECT_FALSE(std::isfinite(g.final_state[static_cast<std::size_t>(D)]));
    EXPECT_EQ(g.final_state[0], 300000.0f);  // the fp32 state itself is exact here
  }
}

// Layout checks need no device (they run in the build without CUDA too).
TEST(ScanGpuLayout, ValidateNamesTheField) {
  auto message = [](const ScanLayout& l) {
    try {
      l.validate();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_NE(message({1, 10, 0, {}}).find("'dim'"), std::string::npos);
  EXPECT_NE(message({1, -1, 4, {}}).find("'length'"), std::string::npos);
  EXPECT_NE(message({0, 10, 4, {}}).find("'batch'"), std::string::npos);
  EXPECT_NE(message({2, 10, 4, {0, 10}}).find("'batch'"), std::string::npos);
  EXPECT_NE(message({1, 10, 4, {0, 9}}).find("'cu_seqlens'"), std::string::npos);
  EXPECT_NE(message({1, 10, 4, {0, 6, 5, 10}}).find("'cu_seqlens'"), std::string::npos);
  EXPECT_EQ(message({1, 10, 4, {0, 0, 10}}), "no exception");
  EXPECT_EQ(message({3, 0, 1, {}}), "no exception");
}

TEST(ScanGpu, BadArgumentsThrow) {
  TRISCAN_REQUIRE_GPU();
  const ScanLayout layout{1, 100, 8, {}};
  EXPECT_THROW(ScanPlan(MethodSpec::parse("scan/blelloch"), layout), std::invalid_argument);
  EXPECT_THROW(ScanPlan(MethodSpec::parse("scan/chunked:chunk=100"), layout),
               std::invalid_argument);
  EXPECT_THROW(ScanPlan(MethodSpec::parse("scan/chunked:tile=64"), layout), std::invalid_argument);
  EXPECT_THROW(ScanPlan(MethodSpec::parse("scan/chunked"), ScanLayout{1, 100, 0, {}}),
               std::invalid_argument);
  EXPECT_THROW(ScanPlan(MethodSpec::parse("scan/chunked"), ScanLayout{1, 100, 8, {0, 50}}),
               std::invalid_argument);

  ScanPlan plan(MethodSpec::parse("scan/chunked"), layout);
  gpu::DeviceBytes a(100 * 8 * 4), b(100 * 8 * 4), h(100 * 8 * 4 + 4);
  auto call = [&](ScanKind kind, DType in, const void* pa, const void* pb, DType out, void* ph) {
    gpu::scan_diagonal(plan, kind, in, pa, pb, nullptr, out, ph);
  };
  EXPECT_THROW(call(ScanKind::dense, DType::fp32, a.data(), b.data(), DType::fp32, h.data()),
               std::invalid_argument);
  EXPECT_THROW(call(ScanKind::log_diagonal, DType::fp32, a.data(), b.data(), DType::fp32, h.data()),
               std::invalid_argument);
  EXPECT_THROW(
      call(ScanKind::diagonal, static_cast<DType>(7), a.data(), b.data(), DType::fp32, h.data()),
      std::invalid_argument);
  EXPECT_THROW(
      call(ScanKind::diagonal, DType::fp32, a.data(), b.data(), static_cast<DType>(-1), h.data()),
      std::invalid_argument);
  EXPECT_THROW(call(ScanKind::diagonal, DType::fp32, nullptr, b.data(), DType::fp32, h.data()),
               std::invalid_argument);
  EXPECT_THROW(call(ScanKind::diagonal, DType::fp32, a.data(), nullptr, DType::fp32, h.data()),
               std::invalid_argument);
  EXPECT_THROW(call(ScanKind::diagonal, DType::fp32, a.data(), b.data(), DType::fp32, nullptr),
               std::invalid_argument);
  auto* hb = static_cast<unsigned char*>(h.data());
  EXPECT_THROW(call(ScanKind::diagonal, DType::fp32, a.data(), b.data(), DType::fp32, hb + 2),
               std::invalid_argument);
  EXPECT_THROW(call(ScanKind::diagonal, DType::bf16, static_cast<unsigned char*>(a.data()) + 1,
                    b.data(), DType::fp32, h.data()),
               std::invalid_argument);
  // A valid call after the rejected ones still works (nothing was launched by them).
  EXPECT_NO_THROW(call(ScanKind::diagonal, DType::bf16, a.data(), b.data(), DType::fp16, hb + 2));
  EXPECT_NO_THROW(gpu::synchronize());
}

}  // namespace
}  // namespace triscan::gpu_test
