// src/wy/wy_kernels.hpp — internal: the per-chunk WY kernel shared by chunk_wy
// (src/wy/chunk_wy.cpp) and the chunkwise delta-rule forward (src/wy/delta_forward.cpp).
//
// Per chunk of m tokens (rows i, j = 0..m-1, G the in-chunk inclusive cumulative
// log-decay, per channel for kda/dplr):
//   N_ij = sum_c a_ic b_jc exp(G_ic - G_jc), i > j    (delta families: a = beta k, b = k)
//   X    = (I + N)^-1                                  (a registered trinv method)
//   T    = X diag(beta)                                (dplr: T = X)
//   W    = T (γ ⊙ K),  γ = exp(G)                      (dplr: T (γ ⊙ a))
//   U    = T V
#pragma once

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "numerics/arith.hpp"
#include "src/parallel.hpp"
#include "triscan/trinv.hpp"
#include "triscan/wy.hpp"

namespace triscan::wy_detail {

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline bool per_channel(WyFamily f) {
  return f == WyFamily::kda || f == WyFamily::dplr;
}
inline bool gated(WyFamily f) {
  return f != WyFamily::deltanet;
}

// The geometry of the [B, T, H, ·] tensors.
struct Geometry {
  index_t T = 0, H = 0, Hk = 0, dk = 0, dv = 0;
  // Offset of row (batch, t, head) of a [B, T, heads, width] tensor.
  index_t row(index_t b, index_t t, index_t heads, index_t head, index_t width) const {
    return ((b * T + t) * heads + head) * width;
  }
};

template <class V>
struct Workspace {
  std::vector<V> a, bm, v, beta, G, N, X, Tm, KG, W, U;
};

template <class V>
bool finite_range(const V* p, index_t n) {
  for (index_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

// exp(x) rounded once to the storage format (simulated) / in the native type.
template <class Ar>
typename Ar::value_type decay(Ar& ar, typename Ar::value_type x) {
  using V = typename Ar::value_type;
  return ar.store(static_cast<V>(std::exp(x)));
}

// C (m x n) = A (m x k) op(B), row-major contiguous, op(B) = B (k x n) or B^T (B n x k).
// Native fp32/fp64: OpenBLAS (single-threaded inside the chunk workers); simulated:
// the arithmetic model's GEMM (each operation rounded as the Precision says).
template <class Ar>
void product(Ar& ar, index_t m, index_t n, index_t k, const typename Ar::value_type* A,
             const typename Ar::value_type* B, bool transB, typename Ar::value_type* C) {
  using V = typename Ar::value_type;
  if (m == 0 || n == 0) return;
  if constexpr (Ar::native) {
    if (k == 0) {
      std::fill(C, C + m * n, V(0));
      return;
    }
    const auto tb = transB ? CblasTrans : CblasNoTrans;
    const int ldb = static_cast<int>(transB ? k : n);
    if constexpr (std::is_same<V, float>::value)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, int(m), int(n), int(k), 1.0f, A, int(k), B, ldb,
                  0.0f, C, int(n));
    else
      cblas_dgemm(CblasRowMajor, CblasNoTrans, tb, int(m), int(n), int(k), 1.0, A, int(k), B, ldb,
                  0.0, C, int(n));
  } else {
    const MatrixView<const V> Bv = transB ? MatrixView<const V>::row_major(B, n, k).transposed()
                                          : MatrixView<const V>::row_major(B, k, n);
    ar.gemm(MatrixView<const V>::row_major(A, m, k), Bv, MatrixView<V>::row_major(C, m, n));
  }
}

struct PhaseTimes {
  double kkt = 0, inversion = 0, wu = 0;
};

// One chunk (c) of one head: gathers its inputs, forms N, inverts I + N, forms T, W, U.
// Returns the chunk's status.
// On return ws holds, row-major: a (k, or dplr's a), bm (k or b), v, beta, G (cumulative
// log-decays, m x gw), N, Tm (T), W and U. A nonfinite_input status returns before N.
template <class Ar>
Status wy_chunk(Ar& ar, WyFamily f, const ChunkRef& c, const Geometry& geo,
                const WyInputs<typename Ar::value_type>& in, const WyOptions& opt,
                Workspace<typename Ar::value_type>& ws, PhaseTimes* times) {
  using V = typename Ar::value_type;
  const index_t m = c.size, dk = geo.dk, dv = geo.dv, h = c.head;
  const index_t kh = h * geo.Hk / geo.H;
  const index_t gw = per_channel(f) ? dk : 1;  // width of g and G per token
  auto t0 = Clock::now();

  // ---- gather (a: the left vectors, beta k or dplr's a; bm: the right vectors) -------
  ws.a.assign(static_cast<std::size_t>(m * dk), V(0));
  ws.bm.assign(static_cast<std::size_t>(m * dk), V(0));
  ws.v.assign(static_cast<std::size_t>(m * dv), V(0));
  ws.beta.assign(static_cast<std::size_t>(m), V(1));
  ws.G.assign(static_cast<std::size_t>(m * gw), V(0));
  bool finite = true;
  for (index_t i = 0; i < m; ++i) {
    const index_t t = c.start + i;
    if (f == WyFamily::dplr) {
      const V* ai = in.a + geo.row(c.batch, t, geo.H, h, dk);
      const V* bi = in.b + geo.row(c.batch, t, geo.H, h, dk);
      std::copy(ai, ai + dk, ws.a.begin() + i * dk);
      std::copy(bi, bi + dk, ws.bm.begin() + i * dk);
    } else {
      const V* ki = in.k + geo.row(c.batch, t, geo.Hk, kh, dk);
      std::copy(ki, ki + dk, ws.a.begin() + i * dk);  // k_i (beta_i enters as a row factor)
      std::copy(ki, ki + dk, ws.bm.begin() + i * dk);
      ws.beta[i] = in.beta[geo.row(c.batch, t, geo.H, h, 1)];
    }
    const V* vi = in.v + geo.row(c.batch, t, geo.H, h, dv);
    std::copy(vi, vi + dv, ws.v.begin() + i * dv);
    if (gated(f)) {
      const V* gi = in.g + geo.row(c.batch, t, geo.H, h, gw);
      std::copy(gi, gi + gw, ws.G.begin() + i * gw);
    }
  }
  finite = finite_range(ws.a.data(), m * dk) && finite_range(ws.bm.data(), m * dk) &&
           finite_range(ws.v.data(), m * dv) && finite_range(ws.beta.data(), m) &&
           finite_range(ws.G.data(), m * gw);

  if (!finite) return Status::nonfinite_input;

  // ---- G: in-chunk inclusive cumulative sums of the per-token log-decays ------------
  if (gated(f) && !opt.cumulative_g)
    for (index_t i = 1; i < m; ++i)
      for (index_t ch = 0; ch < gw; ++ch)
        ws.G[i * gw + ch] = ar.add(ws.G[(i - 1) * gw + ch], ws.G[i * gw + ch]);

  // ---- N_ij = beta_i sum_c k_ic k_jc exp(G_ic - G_jc), i > j  (dplr: a, b, no beta) ---
  ws.N.assign(static_cast<std::size_t>(m * m), V(0));
  if (!per_channel(f)) {
    // Gram matrix K K^T (one GEMM; only its strictly lower part is used), then the row
    // factor beta_i and the decay exp(G_i - G_j).
    ws.X.resize(static_cast<std::size_t>(m * m));
    product(ar, m, m, dk, ws.a.data(), ws.bm.data(), /*transB=*/true, ws.X.data());
    for (index_t i = 1; i < m; ++i)
      for (index_t j = 0; j < i; ++j) {
        V s = ws.X[i * m + j];
        if (f == WyFamily::gated) s = ar.mul(s, decay(ar, ar.sub(ws.G[i], ws.G[j])));
        ws.N[i * m + j] = ar.store(ar.mul(ws.beta[i], s));
      }
  }
  for (index_t i = 1; i < m && per_channel(f); ++i) {
    const V* ai = ws.a.data() + i * dk;
    for (index_t j = 0; j < i; ++j) {
      const V* bj = ws.bm.data() + j * dk;
      // one exponential per channel of the decay *difference*: never exp(G_i) exp(-G_j)
      V s = V(0);
      for (index_t ch = 0; ch < dk; ++ch) {
        const V d = decay(ar, ar.sub(ws.G[i * dk + ch], ws.G[j * dk + ch]));
        s = ar.muladd(ai[ch], ar.mul(bj[ch], d), s);
      }
      if (f != WyFamily::dplr) s = ar.mul(ws.beta[i], s);
      ws.N[i * m + j] = ar.store(s);
    }
  }
  if (times) times->kkt += seconds_since(t0);

  // ---- X = (I + N)^-1 ------------------------------------------------------------------
  t0 = Clock::now();
  ws.X.assign(static_cast<std::size_t>(m * m), V(0));
  TrinvOptions to;
  to.precision = opt.precision;
  to.check_accuracy = opt.check_accuracy;
  to.threads = 1;
  const TrinvResult r = invert(opt.method, MatrixView<const V>::row_major(ws.N.data(), m, m),
                               MatrixView<V>::row_major(ws.X.data(), m, m), to);
  Status status = r.status;
  if (times) times->inversion += seconds_since(t0);

  // ---- T = X diag(beta), W = T (γ ⊙ K), U = T V -----------------------------------
  t0 = Clock::now();
  ws.Tm.assign(static_cast<std::size_t>(m * m), V(0));
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j <= i; ++j)
      ws.Tm[i * m + j] =
          f == WyFamily::dplr ? ws.X[i * m + j] : ar.store(ar.mul(ws.X[i * m + j], ws.beta[j]));
  // γ ⊙ K: row i scaled by exp(G_i) (gated) or channel-wise by exp(G_ic) (kda, dplr: γ ⊙ a)
  const std::vector<V>& left = ws.a;  // k (delta families) or a (dplr)
  const V* KG = left.data();
  if (gated(f)) {
    ws.KG.resize(static_cast<std::size_t>(m * dk));
    for (index_t i = 0; i < m; ++i) {
      const V gi = per_channel(f) ? V(0) : decay(ar, ws.G[i]);
      for (index_t ch = 0; ch < dk; ++ch) {
        const V d = per_channel(f) ? decay(ar, ws.G[i * dk + ch]) : gi;
        ws.KG[i * dk + ch] = ar.store(ar.mul(d, left[i * dk + ch]));
      }
    }
    KG = ws.KG.data();
  }
  ws.W.assign(static_cast<std::size_t>(m * dk), V(0));
  ws.U.assign(static_cast<std::size_t>(m * dv), V(0));
  product(ar, m, dk, m, ws.Tm.data(), KG, false, ws.W.data());
  product(ar, m, dv, m, ws.Tm.data(), ws.v.data(), false, ws.U.data());
  for (auto& x : ws.W) x = ar.output(x);
  for (auto& x : ws.U) x = ar.output(x);
  if (times) times->wu += seconds_since(t0);

  // Inputs were finite: any non-finite value now is an overflow of the working formats.
  const bool outputs_finite = finite_range(ws.W.data(), m * dk) &&
                              finite_range(ws.U.data(), m * dv) &&
                              finite_range(ws.N.data(), m * m) && finite_range(ws.Tm.data(), m * m);
  if (ar.overflowed() || !outputs_finite) status = worst(status, Status::overflow);
  return status;
}

template <class V>
void check_pointer(const V* p, const char* name) {
  if (p == nullptr) throw std::invalid_argument(std::string("chunk_wy: ") + name + " is null");
}

// forward: the caller is delta_forward, whose only output o is passed as out.u (out.w unused).
template <class V>
Geometry check_arguments(WyFamily f, const ChunkLayout& layout, const WyInputs<V>& in,
                         const WyOutputs<V>& out, bool forward = false) {
  layout.validate();
  Geometry geo;
  geo.T = layout.length;
  geo.H = layout.heads;
  geo.Hk = in.key_heads == 0 ? layout.heads : in.key_heads;
  geo.dk = in.dk;
  geo.dv = in.dv;
  if (in.dk < 1)
    throw std::invalid_argument("chunk_wy: dk must be >= 1, got " + std::to_string(in.dk));
  if (in.dv < 1)
    throw std::invalid_argument("chunk_wy: dv must be >= 1, got " + std::to_string(in.dv));
  if (in.key_heads < 0 || geo.Hk > geo.H || geo.H % geo.Hk != 0)
    throw std::invalid_argument("chunk_wy: key_heads (" + std::to_string(in.key_heads) +
                                ") must be 0 or divide heads (" + std::to_string(geo.H) + ")");
  if (f == WyFamily::dplr && in.key_heads != 0 && in.key_heads != layout.heads)
    throw std::invalid_argument(
        "chunk_wy: key_heads does not apply to dplr (a, b are per value head)");
  if (layout.batch * layout.length * layout.heads == 0) return geo;
  if (f == WyFamily::dplr) {
    check_pointer(in.a, "a");
    check_pointer(in.b, "b");
  } else {
    check_pointer(in.k, "k");
    check_pointer(in.beta, "beta");
  }
  if (gated(f)) check_pointer(in.g, "g");
  check_pointer(in.v, "v");
  if (!forward) check_pointer(out.w, "w");
  check_pointer(out.u, forward ? "o" : "u");
  // Outputs must not overlap inputs (they are written while other chunks still read).
  const index_t rows = layout.batch * layout.length;
  auto span = [](const void* p, index_t n) {
    const auto* c = static_cast<const char*>(p);
    return std::make_pair(c, c + n * static_cast<index_t>(sizeof(V)));
  };
  auto overlap = [](std::pair<const char*, const char*> x, std::pair<const char*, const char*> y) {
    return x.first < y.second && y.first < x.second;
  };
  const std::pair<const char*, const char*> outs[] = {
      span(forward ? out.u : out.w, forward ? rows * geo.H * geo.dv : rows * geo.H * geo.dk),
      span(out.u, rows * geo.H * geo.dv)};
  const index_t gw = per_channel(f) ? geo.dk : 1;
  const std::pair<const V*, index_t> ins[] = {
      {in.k, rows * geo.Hk * geo.dk}, {in.v, rows * geo.H * geo.dv}, {in.beta, rows * geo.H},
      {in.g, rows * geo.H * gw},      {in.a, rows * geo.H * geo.dk}, {in.b, rows * geo.H * geo.dk}};
  for (const auto& o : outs)
    for (const auto& [p, n] : ins)
      if (p != nullptr && overlap(o, span(p, n)))
        throw std::invalid_argument(forward ? "delta_forward: o overlaps an input"
                                            : "chunk_wy: an output (w or u) overlaps an input");
  if (!forward && overlap(outs[0], outs[1])) throw std::invalid_argument("chunk_wy: w overlaps u");
  return geo;
}

// Runs item(i, w) for i in [0, count) on the shared worker pool (src/parallel.hpp:
// contiguous chunks taken in turn; each item depends only on its index, so results do not
// depend on the worker count or on which worker ran it). Returns the worst status;
// rethrows a worker's exception.
template <class Item>
Status run_items(index_t count, unsigned threads, const Item& item) {
  return detail::parallel_ranges(count, threads, [&](index_t lo, index_t hi, unsigned w) {
    Status s = Status::ok;
    for (index_t i = lo; i < hi; ++i) s = worst(s, item(i, w));
    return s;
  });
}

using detail::worker_count;

}  // namespace triscan::wy_detail
