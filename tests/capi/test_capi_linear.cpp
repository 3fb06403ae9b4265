// tests/capi/test_capi_linear.cpp — the C API's linear-attention and scan entry points
// give bit for bit what the C++ API (wy.hpp, delta.hpp, scan.hpp) gives on the same
// random input, options and method: the C layer only forwards (fp32 and fp64, with
// cu_seqlens, grouped key heads, initial states and every family / kind). Exact answers
// are checked from C in tests/capi/test_capi_linear.c.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "triscan/delta.hpp"
#include "triscan/scan.hpp"
#include "triscan/trinv.hpp"
#include "triscan/triscan.h"
#include "triscan/wy.hpp"

namespace {

using triscan::ChunkLayout;
using triscan::Status;
using triscan::WyFamily;

template <class V>
std::vector<V> uniform(std::size_t n, double lo, double hi, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<V> x(n);
  for (V& e : x) e = static_cast<V>(d(rng));
  return x;
}

template <class V>
int dtype_of() {
  return std::is_same<V, double>::value ? TRISCAN_FP64 : TRISCAN_FP32;
}

template <class V>
triscan::Precision precision_of() {
  return triscan::Precision::uniform(
      triscan::format_by_name(std::is_same<V, double>::value ? "fp64" : "fp32"));
}

// Bit-identical (NaN patterns included), with the first differing index in the message.
template <class V>
void expect_bits(const std::vector<V>& a, const std::vector<V>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(V)) != 0) {
      ADD_FAILURE() << what << ": element " << i << ": C API " << a[i] << ", C++ " << b[i];
      return;
    }
}

// [B=1, T=45, H=4, ·] packed as two sequences of 29 and 16 tokens, 2 key heads.
struct Shape {
  std::int64_t T = 45, H = 4, Hk = 2, dk = 8, dv = 6, BT = 16;
  std::vector<std::int64_t> cu{0, 29, 45};
  ChunkLayout layout() const {
    ChunkLayout l;
    l.batch = 1;
    l.length = T;
    l.heads = H;
    l.chunk = BT;
    l.cu_seqlens = cu;
    return l;
  }
};

template <class V>
void wy_case(WyFamily f) {
  SCOPED_TRACE(triscan::wy_family_name(f) + (std::is_same<V, double>::value ? " fp64" : " fp32"));
  const Shape s;
  std::mt19937_64 rng(7 + static_cast<int>(f));
  const bool dplr = f == WyFamily::dplr;
  const std::int64_t Hk = dplr ? s.H : s.Hk;
  const double kscale = 1.0 / std::sqrt(static_cast<double>(s.dk));
  auto k = uniform<V>(s.T * Hk * s.dk, -kscale, kscale, rng);
  auto v = uniform<V>(s.T * s.H * s.dv, -1, 1, rng);
  auto beta = uniform<V>(s.T * s.H, 0.05, 1, rng);
  auto g = uniform<V>(s.T * s.H * s.dk, -0.5, 0, rng);
  auto a = uniform<V>(s.T * s.H * s.dk, -kscale, kscale, rng);
  auto b = uniform<V>(s.T * s.H * s.dk, -kscale, kscale, rng);
  const bool gated = f != WyFamily::deltanet;

  const ChunkLayout layout = s.layout();
  const std::int64_t rows = triscan::chunk_count(layout);
  std::vector<V> W(s.T * s.H * s.dk, V(0)), U(s.T * s.H * s.dv, V(0)), A(layout.elements(), V(0)),
      X(layout.elements(), V(0));
  std::vector<int32_t> st(rows * s.H, -1);
  int32_t worst = -1;
  ASSERT_EQ(triscan_chunk_wy("trinv/blocked:nb=4", dtype_of<V>(), static_cast<int>(f), 1, s.T, s.H,
                             dplr ? 0 : s.Hk, s.dk, s.dv, s.BT, s.cu.data(),
                             static_cast<int64_t>(s.cu.size()), k.data(), v.data(), beta.data(),
                             gated ? g.data() : nullptr, a.data(), b.data(), W.data(), U.data(),
                             A.data(), X.data(), 0u, st.data(), &worst),
            TRISCAN_SUCCESS)
      << triscan_last_error();

  triscan::WyOptions opt;
  opt.method = triscan::MethodSpec::parse("trinv/blocked:nb=4");
  opt.precision = precision_of<V>();
  std::vector<V> W2(W.size(), V(0)), U2(U.size(), V(0)), A2(A.size(), V(0)), T2(A.size(), V(0));
  std::vector<Status> st2(st.size());
  const triscan::WyInputs<V> in{k.data(),       v.data(), beta.data(), gated ? g.data() : nullptr,
                                a.data(),       b.data(), s.dk,        s.dv,
                                dplr ? 0 : s.Hk};
  const Status w2 = triscan::chunk_wy(f, layout, in, {W2.data(), U2.data(), A2.data(), T2.data()},
                                      opt, st2.data());
  EXPECT_NE(W, std::vector<V>(W.size(), V(0))) << "W was not written";
  expect_bits(W, W2, "W");
  expect_bits(U, U2, "U");
  expect_bits(A, A2, "A (N)");
  // Ainv is invert_chunks applied to N, with the same method and precision ...
  std::vector<V> X2(A.size(), V(0));
  triscan::TrinvOptions to;
  to.precision = opt.precision;
  std::vector<Status> si(st.size());
  const Status wi = triscan::invert_chunks(opt.method, layout, A2.data(), X2.data(), to, si.data());
  expect_bits(X, X2, "Ainv");
  // ... which is the inverse chunk_wy used: for dplr T = (I + N)^-1 itself.
  if (dplr) expect_bits(X, T2, "Ainv vs chunk_wy's T (dplr)");
  EXPECT_EQ(worst, static_cast<int32_t>(std::max(w2, wi)));
  for (std::size_t i = 0; i < st.size(); ++i)
    EXPECT_EQ(st[i], static_cast<int32_t>(std::max(st2[i], si[i]))) << "chunk row/head " << i;
}

TEST(CapiLinear, ChunkWyMatchesCpp) {
  for (WyFamily f : {WyFamily::deltanet, WyFamily::gated, WyFamily::kda, WyFamily::dplr}) {
    wy_case<double>(f);
    wy_case<float>(f);
  }
}

template <class V>
void delta_case(WyFamily f, bool transposed) {
  SCOPED_TRACE(triscan::wy_family_name(f) + (std::is_same<V, double>::value ? " fp64" : " fp32") +
               (transposed ? " transposed" : ""));
  const Shape s;
  std::mt19937_64 rng(11 + static_cast<int>(f));
  const double kscale = 1.0 / std::sqrt(static_cast<double>(s.dk));
  auto q = uniform<V>(s.T * s.Hk * s.dk, -kscale, kscale, rng);
  auto k = uniform<V>(s.T * s.Hk * s.dk, -kscale, kscale, rng);
  auto v = uniform<V>(s.T * s.H * s.dv, -1, 1, rng);
  auto beta = uniform<V>(s.T * s.H, 0.05, 1, rng);
  auto g = uniform<V>(s.T * s.H * s.dk, -0.5, 0, rng);
  auto s0 = uniform<V>(2 * s.H * s.dv * s.dk, -1, 1, rng);
  const bool gated = f != WyFamily::deltanet;
  std::vector<V> o(s.T * s.H * s.dv, V(0)), s1(s0.size(), V(0));
  const ChunkLayout layout = s.layout();
  std::vector<int32_t> st(triscan::chunk_count(layout) * s.H, -1);
  int32_t worst = -1;
  ASSERT_EQ(triscan_delta_forward(nullptr, dtype_of<V>(), static_cast<int>(f), 1, s.T, s.H, s.Hk,
                                  s.dk, s.dv, s.BT, s.cu.data(), static_cast<int64_t>(s.cu.size()),
                                  q.data(), k.data(), v.data(), beta.data(),
                                  gated ? g.data() : nullptr, s0.data(), o.data(), s1.data(),
                                  transposed ? TRISCAN_STATE_TRANSPOSED : 0u, st.data(), &worst),
            TRISCAN_SUCCESS)
      << triscan_last_error();
  triscan::DeltaForwardOptions opt;
  opt.precision = precision_of<V>();
  opt.state_format = opt.precision.storage;
  opt.state_transposed = transposed;
  std::vector<V> o2(o.size(), V(0)), s2(s1.size(), V(0));
  std::vector<Status> st2(st.size());
  const triscan::DeltaInputs<V> in{
      q.data(),  k.data(), v.data(), beta.data(), gated ? g.data() : nullptr,
      s0.data(), s.dk,     s.dv,     s.Hk};
  const Status w2 = triscan::delta_forward(f, layout, in, o2.data(), s2.data(), opt, st2.data());
  EXPECT_NE(o, std::vector<V>(o.size(), V(0))) << "o was not written";
  expect_bits(o, o2, "o");
  expect_bits(s1, s2, "final state");
  EXPECT_EQ(worst, static_cast<int32_t>(w2));
  for (std::size_t i = 0; i < st.size(); ++i) EXPECT_EQ(st[i], static_cast<int32_t>(st2[i]));
}

TEST(CapiLinear, DeltaForwardMatchesCpp) {
  for (WyFamily f : {WyFamily::deltanet, WyFamily::gated, WyFamily::kda}) {
    delta_case<double>(f, false);
    delta_case<float>(f, true);
  }
}

template <class V>
void scan_case(triscan::ScanKind kind, const char* algorithm) {
  SCOPED_TRACE(std::string(triscan::scan_kind_name(kind)) + " " + algorithm +
               (std::is_same<V, double>::value ? " fp64" : " fp32"));
  std::mt19937_64 rng(3 + static_cast<int>(kind));
  const std::vector<std::int64_t> cu{0, 40, 41, 100};
  const std::int64_t T = 100, d = 5, dk = 4, dv = 3;
  triscan::ScanInput<V> in;
  in.kind = kind;
  in.length = T;
  in.cu_seqlens = cu;
  in.dim = d;
  in.dk = dk;
  in.dv = dv;
  const bool delta = kind == triscan::ScanKind::delta;
  auto a = uniform<V>(T * d * d, kind == triscan::ScanKind::log_diagonal ? -0.3 : 0.5,
                      kind == triscan::ScanKind::log_diagonal ? 0.0 : 1.0, rng);
  if (kind == triscan::ScanKind::dense)
    for (auto& x : a) x = static_cast<V>(x * 0.4);  // ||A_t|| < 1: a stable recurrence
  auto b = uniform<V>(T * d, -1, 1, rng);
  auto k = uniform<V>(T * dk, -0.5, 0.5, rng);
  auto v = uniform<V>(T * dv, -1, 1, rng);
  auto beta = uniform<V>(T, 0.1, 1, rng);
  auto g = uniform<V>(T, -0.3, 0, rng);
  auto h0 = uniform<V>(3 * (delta ? dv * dk : d), -1, 1, rng);
  in.a = a.data();
  in.b = b.data();
  in.k = k.data();
  in.v = v.data();
  in.beta = beta.data();
  in.g = g.data();
  in.gate = delta ? triscan::DeltaGate::scalar : triscan::DeltaGate::none;
  in.h0 = h0.data();
  std::vector<V> h(T * in.state_size(), V(0)), h2(h.size(), V(0));
  int32_t status = -1;
  int rc;
  if (delta)
    rc = triscan_scan_delta(algorithm, dtype_of<V>(), 1, 1, T, cu.data(), 4, dk, dv, k.data(),
                            v.data(), beta.data(), g.data(), h0.data(), h.data(), &status);
  else
    rc = triscan_scan(algorithm, dtype_of<V>(), static_cast<int>(kind), 1, T, cu.data(), 4, d,
                      a.data(), b.data(), h0.data(), h.data(), &status);
  ASSERT_EQ(rc, TRISCAN_SUCCESS) << triscan_last_error();
  triscan::ScanOptions opt;
  opt.precision = precision_of<V>();
  const triscan::ScanResult r =
      triscan::scan(triscan::MethodSpec::parse(algorithm), in, h2.data(), opt);
  EXPECT_NE(h, std::vector<V>(h.size(), V(0))) << "h was not written";
  expect_bits(h, h2, "h");
  EXPECT_EQ(status, static_cast<int32_t>(r.status));
}

TEST(CapiLinear, ScanMatchesCpp) {
  using triscan::ScanKind;
  ASSERT_EQ(triscan_set_cpu_threads(2), TRISCAN_SUCCESS);  // results never depend on it
  for (const char* alg : {"scan/sequential", "scan/blelloch", "scan/chunked:chunk=8"})
    for (ScanKind kind : {ScanKind::scalar, ScanKind::diagonal, ScanKind::log_diagonal,
                          ScanKind::dense, ScanKind::delta}) {
      scan_case<double>(kind, alg);
      scan_case<float>(kind, alg);
    }
  ASSERT_EQ(triscan_set_cpu_threads(0), TRISCAN_SUCCESS);
}

}  // namespace
