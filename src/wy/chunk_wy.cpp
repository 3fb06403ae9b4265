// src/wy/chunk_wy.cpp — the delta-rule chunk WY (include/triscan/wy.hpp, docs/wy.md).
//
// Per chunk of m tokens (rows i, j = 0..m-1, G the in-chunk inclusive cumulative
// log-decay, per channel for kda/dplr):
//   N_ij = sum_c a_ic b_jc exp(G_ic - G_jc), i > j    (delta families: a = beta k, b = k)
//   X    = (I + N)^-1                                  (a registered trinv method)
//   T    = X diag(beta)                                (dplr: T = X)
//   W    = T (γ ⊙ K),  γ = exp(G)                      (dplr: T (γ ⊙ a))
//   U    = T V
// The recurrence these come from, and the check of each formula against it, is in
// docs/wy.md; validation/mpfr/chunk_wy.cpp checks them against the MPFR token recurrence.
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "numerics/arith.hpp"
#include "src/wy/wy_kernels.hpp"
#include "triscan/trinv.hpp"
#include "triscan/wy.hpp"

namespace triscan {

std::string wy_family_name(WyFamily f) {
  switch (f) {
    case WyFamily::deltanet:
      return "deltanet";
    case WyFamily::gated:
      return "gated";
    case WyFamily::kda:
      return "kda";
    case WyFamily::dplr:
      return "dplr";
  }
  return "unknown";
}

WyFamily wy_family_by_name(const std::string& name) {
  for (WyFamily f : {WyFamily::deltanet, WyFamily::gated, WyFamily::kda, WyFamily::dplr})
    if (wy_family_name(f) == name) return f;
  throw std::invalid_argument("wy family '" + name + "' is unknown (deltanet, gated, kda, dplr)");
}

namespace {

using namespace wy_detail;

// Writes a chunk's W, U (and N, T when asked) rows; NaN for a nonfinite_input chunk.
template <class V>
void write_chunk(const ChunkLayout& layout, const ChunkRef& c, const Geometry& geo, Status st,
                 const Workspace<V>& ws, const WyOutputs<V>& out) {
  const index_t m = c.size, dk = geo.dk, dv = geo.dv, h = c.head;
  const V nan = std::numeric_limits<V>::quiet_NaN();
  const bool bad = st == Status::nonfinite_input;
  for (index_t i = 0; i < m; ++i) {
    V* w = out.w + geo.row(c.batch, c.start + i, geo.H, h, dk);
    V* u = out.u + geo.row(c.batch, c.start + i, geo.H, h, dv);
    for (index_t j = 0; j < dk; ++j) w[j] = bad ? nan : ws.W[i * dk + j];
    for (index_t j = 0; j < dv; ++j) u[j] = bad ? nan : ws.U[i * dv + j];
  }
  auto put = [&](V* base, const std::vector<V>& M) {
    if (base == nullptr) return;
    const MatrixView<V> dst = chunk_view(base, layout, c);
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < m; ++j) dst(i, j) = bad ? nan : M[i * m + j];
  };
  put(out.A, ws.N);
  put(out.T_factor, ws.Tm);
}

template <class V>
Status chunk_wy_impl(WyFamily f, const ChunkLayout& layout, const WyInputs<V>& in,
                     const WyOutputs<V>& out, const WyOptions& opt, Status* statuses) {
  const Geometry geo = check_arguments(f, layout, in, out);
  trinv_method(opt.method.name);  // unknown method: std::invalid_argument listing them
  const std::vector<ChunkRef> chunks = enumerate_chunks(layout);
  const index_t count = static_cast<index_t>(chunks.size());
  if (count == 0) return Status::ok;
  constexpr bool is_float = std::is_same<V, float>::value;
  const bool native = opt.precision.is_native(format_by_name(is_float ? "fp32" : "fp64"));

  const unsigned W = worker_count(opt.threads, count);
  std::vector<Workspace<V>> wss(W);
  std::vector<PhaseTimes> times(W);
  const Status s = run_items(count, opt.threads, [&](index_t i, unsigned w) {
    const ChunkRef& c = chunks[static_cast<std::size_t>(i)];
    Workspace<V>& ws = wss[w];
    PhaseTimes* t = opt.profile ? &times[w] : nullptr;
    Status st;
    if constexpr (is_float) {
      arith::Native<float> ar;
      st = wy_chunk(ar, f, c, geo, in, opt, ws, t);
    } else if (native) {
      arith::Native<double> ar;
      st = wy_chunk(ar, f, c, geo, in, opt, ws, t);
    } else {
      arith::Simulated ar(opt.precision, static_cast<std::uint64_t>(i));  // one stream per chunk
      st = wy_chunk(ar, f, c, geo, in, opt, ws, t);
    }
    write_chunk(layout, c, geo, st, ws, out);
    if (statuses) statuses[i] = st;
    return st;
  });
  if (opt.profile)
    for (const PhaseTimes& t : times) {
      opt.profile->kkt += t.kkt;
      opt.profile->inversion += t.inversion;
      opt.profile->wu += t.wu;
    }
  return s;
}

std::vector<double> widen(const float* p, index_t n) {
  return p ? std::vector<double>(p, p + n) : std::vector<double>();
}

}  // namespace

Status chunk_wy(WyFamily family, const ChunkLayout& layout, const WyInputs<double>& in,
                const WyOutputs<double>& out, const WyOptions& options, Status* statuses) {
  return chunk_wy_impl(family, layout, in, out, options, statuses);
}

Status chunk_wy(WyFamily family, const ChunkLayout& layout, const WyInputs<float>& in,
                const WyOutputs<float>& out, const WyOptions& options, Status* statuses) {
  if (options.precision.is_native(format_by_name("fp32")))
    return chunk_wy_impl(family, layout, in, out, options, statuses);
  // Simulated precision: run on double copies (every simulated value is a double) and
  // round the results back to float (exact when the output format is at most fp32).
  const Geometry geo = check_arguments(family, layout, in, out);
  const index_t rows = layout.batch * layout.length;
  const index_t gw = per_channel(family) ? geo.dk : 1;
  const auto k = widen(in.k, rows * geo.Hk * geo.dk), v = widen(in.v, rows * geo.H * geo.dv),
             beta = widen(in.beta, rows * geo.H), g = widen(in.g, rows * geo.H * gw),
             a = widen(in.a, rows * geo.H * geo.dk), b = widen(in.b, rows * geo.H * geo.dk);
  auto data = [](const std::vector<double>& x) { return x.empty() ? nullptr : x.data(); };
  WyInputs<double> ind{data(k), data(v), data(beta), data(g),     data(a),
                       data(b), in.dk,   in.dv,      in.key_heads};
  auto w = widen(out.w, rows * geo.H * geo.dk), u = widen(out.u, rows * geo.H * geo.dv);
  const index_t nA = layout.elements();
  auto A = widen(out.A, nA), Tf = widen(out.T_factor, nA);
  WyOutputs<double> outd{w.data(), u.data(), out.A ? A.data() : nullptr,
                         out.T_factor ? Tf.data() : nullptr};
  const Status s = chunk_wy_impl(family, layout, ind, outd, options, statuses);
  std::copy(w.begin(), w.end(), out.w);
  std::copy(u.begin(), u.end(), out.u);
  if (out.A) std::copy(A.begin(), A.end(), out.A);
  if (out.T_factor) std::copy(Tf.begin(), Tf.end(), out.T_factor);
  return s;
}

namespace {
void check_deltaproduct(index_t nh, WyFamily family, const ChunkLayout& layout) {
  if (nh < 1) throw std::invalid_argument("chunk_wy_deltaproduct: householder_steps must be >= 1");
  if (family != WyFamily::deltanet && family != WyFamily::gated)
    throw std::invalid_argument("chunk_wy_deltaproduct: family must be deltanet or gated, got " +
                                wy_family_name(family));
  if (layout.chunk % nh != 0)
    throw std::invalid_argument("chunk_wy_deltaproduct: layout.chunk (" +
                                std::to_string(layout.chunk) + ") must be C * householder_steps");
  if (layout.length % nh != 0)
    throw std::invalid_argument("chunk_wy_deltaproduct: layout.length (" +
                                std::to_string(layout.length) +
                                ") must be T * householder_steps (the interleaved sequence)");
  for (auto x : layout.cu_seqlens)
    if (x % nh != 0)
      throw std::invalid_argument("chunk_wy_deltaproduct: cu_seqlens entry " + std::to_string(x) +
                                  " is not a multiple of householder_steps");
}
}  // namespace

Status chunk_wy_deltaproduct(index_t nh, WyFamily family, const ChunkLayout& layout,
                             const WyInputs<double>& in, const WyOutputs<double>& out,
                             const WyOptions& options, Status* statuses) {
  check_deltaproduct(nh, family, layout);
  return chunk_wy(family, layout, in, out, options, statuses);
}
Status chunk_wy_deltaproduct(index_t nh, WyFamily family, const ChunkLayout& layout,
                             const WyInputs<float>& in, const WyOutputs<float>& out,
                             const WyOptions& options, Status* statuses) {
  check_deltaproduct(nh, family, layout);
  return chunk_wy(family, layout, in, out, options, statuses);
}

}  // namespace triscan
