// The GPU chunkwise delta-rule forward (gpu::delta_forward: the fused chunk WY kernel, then
// the chunk-state kernel of gpu/delta_kernel.cuh) against the CPU fp64 forward
// (triscan::delta_forward, itself checked against the MPFR token recurrence in tests/wy) on
// the same 16-bit inputs, output entry by output entry and for the final state, under the
// first-order componentwise bound of docs/gpu-delta.md ("Error bound"). The bound takes the
// GPU's X~^ = (I + N)^-1 diag(beta) (the hi + lo tiles the chunk-state kernel multiplies
// by, from DeltaGpuOutputs::inverse_beta) as a given perturbation of the exact X~ (|X~^ - X~|
// measured against an fp64 substitution, plus that substitution's own bound
// gamma_2BT(u64) M^-1 M^-1 diag|beta|, M = I - |N|; the inversion itself is held to its own
// bound in test_chunk_wy_gpu.cpp) and adds the chunk-state kernel's arithmetic, per chunk
// (row j token, column r value channel):
//   E_Y  = gamma ⊙ (|K| E^T + c1' |K||S|^T) + u (|V| + gamma ⊙ |K||S|^T),
//          Y = V - gamma ⊙ K S^T, c1' = c1 + (Gm + 6) u,
//   E_U' = |X~| E_Y + |dX~| |Y| + c2 |X~||Y| + 3 eta_in |X~| 1,  c2 = 2 e_s + gamma_{3BT}(u_tc)
//   E_O  = s (gamma (|Q| E^T) + Abar E_U' + cO (gamma |Q||S|^T + Abar |U'|)) + u_out |O| + eta_out
//   E    := gamma_C E + (rho ⊙ E_U')^T |K| + cS (gamma_C |S| + (rho ⊙ |U'|)^T |K|)
// with Abar_ij = exp(G_i - G_j) sum_c |q_ic k_jc| (j <= i), rho_i = exp(G_C - G_i),
// e_s = u_in^2 (1 + u_in) (hi + lo operand; u_in unsplit), u = 2^-24, u_tc = 2^-23 (tensor-core
// accumulation truncates: Fasi, Higham, Mikaitis, Pranesh, PeerJ CS 2021), Gm = max |G| in the
// chunk and
//   c1 = e_s + gamma_{2dk}(u_tc),
//   cO = 2 e_s + gamma_{3dk + 3BT + 2}(u_tc) + (2 Gm + 12) u,
//   cS = e_s + gamma_{2BT + 1}(u_tc) + (2 Gm + 12) u.
// S, U', O are the exact quantities (from W, U by an fp64 recurrence here, cross-checked
// against the CPU forward). Every test skips visibly without a usable GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tests/gpu/test_trinv_gpu_util.hpp"
#include "triscan/delta.hpp"
#include "triscan/gpu.hpp"
#include "triscan/wy.hpp"
#include "validation/generators.hpp"

using namespace triscan;
using namespace triscan::gpu_test;
using triscan::validation::ChunkProblem;
using triscan::validation::GeneratorParams;

namespace {

struct Case {
  std::string generator = "deltanet";
  double gate = -0.1;  // gated only
  index_t batch = 2, length = 200, heads = 4, key_heads = 2, chunk = 64, d = 128;
  std::vector<std::int64_t> cu_seqlens;
  DType in = DType::bf16, out = DType::bf16;
  bool split = true, cumulative_g = false, log2_g = false, initial_state = true, transposed = false;
  float scale = 1.0f;
  int segments = 1;
  // > 0: every rising_every-th gate entry negated (a positive log-decay: G rises there and
  // factors e^(G_i - G_j) above 1 occur; accepted input, same bound).
  int rising_every = 0;
  std::uint64_t seed = 3;
};

WyFamily family_of(const Case& c) {
  return c.generator == "gated" ? WyFamily::gated : WyFamily::deltanet;
}

struct Inputs {
  ChunkLayout layout;
  index_t rows = 0, Hk = 0, N = 0;
  std::vector<double> q, k, v, beta, g, h0;      // what the kernels see (rounded)
  std::vector<unsigned char> qb, kb, vb, betab;  // device bytes
  std::vector<float> gf, h0f;
};

Inputs make_inputs(const Case& c) {
  Inputs in;
  in.layout.batch = c.batch;
  in.layout.length = c.length;
  in.layout.heads = c.heads;
  in.layout.chunk = c.chunk;
  in.layout.cu_seqlens = c.cu_seqlens;
  GeneratorParams gp;
  gp.name = c.generator;
  gp.seed = c.seed;
  gp.dk = c.d;
  gp.dv = c.d;
  if (c.generator == "gated") gp.gate = c.gate;
  const ChunkProblem p = validation::make_chunk_problem(gp, in.layout, c.key_heads);
  in.Hk = p.key_heads;
  in.rows = c.cu_seqlens.empty() ? c.batch * c.length : c.length;
  in.N = sequence_count(in.layout);
  in.qb = encode(p.tensors.at("q").data, c.in, &in.q);
  in.kb = encode(p.tensors.at("k").data, c.in, &in.k);
  in.vb = encode(p.tensors.at("v").data, c.in, &in.v);
  in.betab = encode(p.tensors.at("beta").data, c.in, &in.beta);
  if (c.generator == "gated") {
    const auto& g = p.tensors.at(c.cumulative_g ? "g" : "g_token").data;
    for (std::size_t e = 0; e < g.size(); ++e) {
      const bool flip = c.rising_every > 0 && e % static_cast<std::size_t>(c.rising_every) == 0;
      const double x = flip ? -g[e] : g[e];
      // log2_g: the kernel reads base-2 logs and scales by ln 2 in fp64; the CPU reference
      // gets that same fp64 product.
      const float f = static_cast<float>(c.log2_g ? x / std::log(2.0) : x);
      in.gf.push_back(f);
      in.g.push_back(c.log2_g ? 0.69314718055994530942 * static_cast<double>(f) : f);
    }
  }
  if (c.initial_state) {
    TestRng rng(c.seed + 77);
    const std::size_t n = static_cast<std::size_t>(in.N * c.heads * c.d * c.d);
    for (std::size_t e = 0; e < n; ++e) {
      const float x = static_cast<float>(rng.uniform(-0.5, 0.5));
      in.h0f.push_back(x);
      in.h0.push_back(x);
    }
  }
  return in;
}

struct GpuResult {
  std::vector<unsigned char> o, w, u, xs;
  std::vector<float> hT;
  std::vector<std::int32_t> statuses;
  std::int32_t flag = -1;
};

GpuResult run_gpu(const Case& c, const Inputs& in) {
  gpu::ChunkPlan plan(in.layout);
  const std::size_t r = static_cast<std::size_t>(in.rows), H = static_cast<std::size_t>(c.heads);
  const std::size_t obytes = r * H * c.d * dtype_bytes(c.out), wbytes = r * H * c.d * 2,
                    sbytes = static_cast<std::size_t>(in.N) * H * c.d * c.d * 4;
  const auto nstat = static_cast<std::size_t>(plan.chunk_rows()) * H;
  gpu::DeviceBytes dq(in.qb.size()), dk(in.kb.size()), dv(in.vb.size()), db(in.betab.size()),
      dg(std::max<std::size_t>(16, 4 * in.gf.size())), dh0(std::max<std::size_t>(16, sbytes)),
      dhT(std::max<std::size_t>(16, sbytes)), dout(obytes), dw(wbytes), du(wbytes),
      ds(4 * nstat + 4), df(4), dxs(nstat * 2 * c.chunk * c.chunk * 2);
  dq.upload(in.qb.data(), in.qb.size());
  dk.upload(in.kb.data(), in.kb.size());
  dv.upload(in.vb.data(), in.vb.size());
  db.upload(in.betab.data(), in.betab.size());
  if (!in.gf.empty()) dg.upload(in.gf.data(), 4 * in.gf.size());
  if (!in.h0f.empty()) dh0.upload(in.h0f.data(), sbytes);
  dout.fill32(poison_word(c.out));
  dw.fill32(poison_word(c.in));
  du.fill32(poison_word(c.in));
  dxs.fill32(poison_word(c.in));
  dhT.fill32(poison_word(DType::fp32));
  ds.fill32(0xffffffffu);
  df.fill32(0xffffffffu);
  gpu::DeltaGpuInputs gi;
  gi.dtype = c.in;
  gi.q = dq.data();
  gi.k = dk.data();
  gi.v = dv.data();
  gi.beta = db.data();
  gi.g = in.gf.empty() ? nullptr : static_cast<const float*>(dg.data());
  gi.initial_state = in.h0f.empty() ? nullptr : static_cast<const float*>(dh0.data());
  gi.dk = gi.dv = c.d;
  gi.key_heads = c.key_heads;
  gpu::DeltaGpuOutputs go;
  go.dtype = c.out;
  go.o = dout.data();
  go.final_state = static_cast<float*>(dhT.data());
  go.w = dw.data();
  go.u = du.data();
  go.inverse_beta = dxs.data();
  gpu::DeltaGpuOptions opt;
  opt.split_products = c.split;
  opt.cumulative_g = c.cumulative_g;
  opt.log2_g = c.log2_g;
  opt.state_transposed = c.transposed;
  opt.scale = c.scale;
  opt.segments = c.segments;
  gpu::delta_forward(family_of(c), plan, gi, go, opt, static_cast<std::int32_t*>(ds.data()),
                     static_cast<std::int32_t*>(df.data()));
  gpu::synchronize();
  GpuResult res;
  res.o.resize(obytes);
  dout.download(res.o.data(), obytes);
  res.w.resize(wbytes);
  res.u.resize(wbytes);
  dw.download(res.w.data(), wbytes);
  du.download(res.u.data(), wbytes);
  res.xs.resize(dxs.size());
  dxs.download(res.xs.data(), dxs.size());
  res.hT.resize(sbytes / 4);
  dhT.download(res.hT.data(), sbytes);
  res.statuses.resize(nstat + 1);
  ds.download(res.statuses.data(), 4 * (nstat + 1));
  df.download(&res.flag, 4);
  return res;
}

struct CpuResult {
  std::vector<double> o, hT, w, u;
};

CpuResult run_cpu(const Case& c, const Inputs& in) {
  CpuResult ref;
  const std::size_t r = static_cast<std::size_t>(in.rows), H = static_cast<std::size_t>(c.heads);
  ref.o.assign(r * H * c.d, 0.0);
  ref.hT.assign(static_cast<std::size_t>(in.N) * H * c.d * c.d, 0.0);
  DeltaInputs<double> di;
  di.q = in.q.data();
  di.k = in.k.data();
  di.v = in.v.data();
  di.beta = in.beta.data();
  di.g = in.g.empty() ? nullptr : in.g.data();
  di.initial_state = in.h0.empty() ? nullptr : in.h0.data();
  di.dk = di.dv = c.d;
  di.key_heads = c.key_heads;
  DeltaForwardOptions opt;
  opt.cumulative_g = c.cumulative_g;
  opt.state_transposed = c.transposed;
  opt.check_accuracy = false;
  EXPECT_EQ(delta_forward(family_of(c), in.layout, di, ref.o.data(), ref.hT.data(), opt),
            Status::ok)
      << "CPU fp64 reference";
  ref.w.assign(r * H * c.d, 0.0);
  ref.u.assign(r * H * c.d, 0.0);
  WyInputs<double> wi;
  wi.k = in.k.data();
  wi.v = in.v.data();
  wi.beta = in.beta.data();
  wi.g = di.g;
  wi.dk = wi.dv = c.d;
  wi.key_heads = c.key_heads;
  WyOutputs<double> wo;
  wo.w = ref.w.data();
  wo.u = ref.u.data();
  WyOptions wopt;
  wopt.cumulative_g = c.cumulative_g;
  wopt.check_accuracy = false;
  EXPECT_EQ(chunk_wy(family_of(c), in.layout, wi, wo, wopt), Status::ok) << "CPU fp64 chunk WY";
  return ref;
}

// Bounds every o entry and final-state entry (see the file comment); returns the largest
// error / bound ratio seen. The exact quantities come from an fp64 recurrence over the CPU's
// fp64 W, U; it is cross-checked against the CPU forward's o and final state within twice
// the same first-order bound evaluated for fp64 arithmetic (E64: u = u_tc = 2^-53, no split,
// no input perturbation): both fp64 evaluations lie within it of the exact values.
double check(const Case& c, const Inputs& in, const GpuResult& gr, const CpuResult& ref) {
  const double u = std::ldexp(1.0, -24), u_tc = std::ldexp(1.0, -23), u64 = std::ldexp(1.0, -53);
  const double uin = unit_roundoff(c.in), uout = unit_roundoff(c.out),
               eta_out = half_min_subnormal(c.out), eta_in = half_min_subnormal(c.in);
  const double e_s = c.split ? uin * uin * (1 + uin) : uin;
  const index_t D = c.d, BT = c.chunk, H = c.heads, Hk = in.Hk;
  const double sc = std::fabs(static_cast<double>(c.scale));
  const std::size_t DD = static_cast<std::size_t>(D * D);
  double worst = 0.0;
  int fails = 0;
  // Chunk row of each sequence's first chunk (the layout's chunk numbering).
  std::vector<index_t> first_row(static_cast<std::size_t>(in.N) + 1, 0);
  for (index_t n = 0; n < in.N; ++n) {
    const index_t len = c.cu_seqlens.empty() ? c.length
                                             : c.cu_seqlens[static_cast<std::size_t>(n) + 1] -
                                                   c.cu_seqlens[static_cast<std::size_t>(n)];
    first_row[static_cast<std::size_t>(n) + 1] =
        first_row[static_cast<std::size_t>(n)] + (len + BT - 1) / BT;
  }
  auto one = [&](const char* what, double got, double want, double bound, long long a, long long b,
                 long long e) {
    const double err = std::fabs(got - want);
    if (!(err <= bound)) {
      if (++fails <= 5)
        ADD_FAILURE() << what << " (" << a << ", " << b << ", " << e << "): got " << got << " want "
                      << want << " error " << err << " bound " << bound;
    } else if (bound > 0 && std::string(what) == "o") {
      worst = std::max(worst, err / bound);
    }
  };
  for (index_t n = 0; n < in.N; ++n) {
    const index_t bos =
        c.cu_seqlens.empty() ? n * c.length : c.cu_seqlens[static_cast<std::size_t>(n)];
    const index_t eos =
        c.cu_seqlens.empty() ? bos + c.length : c.cu_seqlens[static_cast<std::size_t>(n) + 1];
    for (index_t h = 0; h < H; ++h) {
      const index_t hk = h * Hk / H;
      auto qat = [&](index_t t, index_t e) {
        return in.q[static_cast<std::size_t>((t * Hk + hk) * D + e)];
      };
      auto kat = [&](index_t t, index_t e) {
        return in.k[static_cast<std::size_t>((t * Hk + hk) * D + e)];
      };
      auto idx = [&](index_t t, index_t e) {
        return static_cast<std::size_t>((t * H + h) * D + e);
      };
      // One chunk of the recurrence from (S, E, E64): with_o checks the chunk's outputs (the
      // pass that writes o); with_u = false is the transition pass of the associative form
      // (U = 0 exactly, so dU = 0). E64 is the fp64 cross-check bound (unused in the
      // segment passes).
      auto step = [&](index_t row0, bool with_o, bool with_u, std::vector<double>& S,
                      std::vector<double>& E, std::vector<double>& E64) {
        const index_t m = std::min(BT, eos - row0);
        std::vector<double> G(static_cast<std::size_t>(m), 0.0);
        double run = 0.0, Gm = 0.0;
        for (index_t i = 0; i < m && !in.g.empty(); ++i) {
          const double gi = in.g[static_cast<std::size_t>((row0 + i) * H + h)];
          G[static_cast<std::size_t>(i)] = c.cumulative_g ? gi : (run += gi);
          Gm = std::max(Gm, std::fabs(G[static_cast<std::size_t>(i)]));
        }
        const double Gl = G[static_cast<std::size_t>(m - 1)];
        const double c1 = e_s + gamma_n(static_cast<int>(2 * D), u_tc);
        const double cO =
            2 * e_s + gamma_n(static_cast<int>(3 * D + 3 * BT + 2), u_tc) + (2 * Gm + 12) * u;
        const double cS = e_s + gamma_n(static_cast<int>(2 * BT + 1), u_tc) + (2 * Gm + 12) * u;
        const double c1_64 = gamma_n(static_cast<int>(2 * D), u64);
        const double cO_64 =
            gamma_n(static_cast<int>(3 * D + 3 * BT + 2), u64) + (2 * Gm + 12) * u64;
        const double cS_64 = gamma_n(static_cast<int>(2 * BT + 1), u64) + (2 * Gm + 12) * u64;
        // U' = U - W S^T (m x D, row i token, column r value channel) from the CPU fp64 W, U,
        // and the bound E64 of this fp64 evaluation.
        std::vector<double> Up(static_cast<std::size_t>(m * D)), EU(Up.size()), EU64(Up.size()),
            aUp(Up.size());
        for (index_t i = 0; i < m; ++i)
          for (index_t r = 0; r < D; ++r) {
            const std::size_t e = idx(row0 + i, r);
            double ws = 0.0, aws = 0.0, wE64 = 0.0;
            for (index_t col = 0; col < D; ++col) {
              const std::size_t we = idx(row0 + i, col), se = static_cast<std::size_t>(r * D + col);
              const double Wv = ref.w[we], Sv = S[se];
              ws += Wv * Sv;
              aws += std::fabs(Wv * Sv);
              wE64 += std::fabs(Wv) * E64[se];
            }
            const double U = with_u ? ref.u[e] : 0.0;
            const std::size_t k = static_cast<std::size_t>(i * D + r);
            Up[k] = U - ws;
            aUp[k] = std::fabs(Up[k]);
            EU64[k] = wE64 + c1_64 * aws + u64 * (std::fabs(U) + aws);
          }
        // The GPU's U' = X~ Y, Y = V - gamma ⊙ K S^T, X~ = (I + N)^-1 diag(beta) (file comment).
        // X~ exact by fp64 substitution, within gsub (M^-1 M^-1)_ij |beta_j| of exact.
        const std::size_t mm = static_cast<std::size_t>(m * m);
        std::vector<double> Nm(mm, 0.0), X(mm, 0.0), Mi(mm, 0.0), M2(mm, 0.0);
        for (index_t i = 0; i < m; ++i)
          for (index_t j = 0; j < i; ++j) {
            double kk = 0.0;
            for (index_t e = 0; e < D; ++e) kk += kat(row0 + i, e) * kat(row0 + j, e);
            Nm[static_cast<std::size_t>(i * m + j)] =
                in.beta[static_cast<std::size_t>((row0 + i) * H + h)] * kk *
                std::exp(G[static_cast<std::size_t>(i)] - G[static_cast<std::size_t>(j)]);
          }
        for (index_t j = 0; j < m; ++j) {
          X[static_cast<std::size_t>(j * m + j)] = Mi[static_cast<std::size_t>(j * m + j)] = 1.0;
          for (index_t i = j + 1; i < m; ++i) {
            double sx = 0.0, sm = 0.0;
            for (index_t k = j; k < i; ++k) {
              const double nik = Nm[static_cast<std::size_t>(i * m + k)];
              sx += nik * X[static_cast<std::size_t>(k * m + j)];
              sm += std::fabs(nik) * Mi[static_cast<std::size_t>(k * m + j)];
            }
            X[static_cast<std::size_t>(i * m + j)] = -sx;
            Mi[static_cast<std::size_t>(i * m + j)] = sm;
          }
        }
        for (index_t i = 0; i < m; ++i)
          for (index_t j = 0; j <= i; ++j) {
            double sm = 0.0;
            for (index_t k = j; k <= i; ++k)
              sm += Mi[static_cast<std::size_t>(i * m + k)] *
                    Mi[static_cast<std::size_t>(k * m + j)];
            M2[static_cast<std::size_t>(i * m + j)] = sm;
          }
        const double gsub = gamma_n(static_cast<int>(2 * BT), u64);
        const double c1y = c1 + (Gm + 6) * u;
        const double c2 = 2 * e_s + gamma_n(static_cast<int>(3 * BT), u_tc);
        const std::size_t xbase =
            static_cast<std::size_t>((first_row[static_cast<std::size_t>(n)] + (row0 - bos) / BT) *
                                         H +
                                     h) *
            2 * static_cast<std::size_t>(BT * BT);
        std::vector<double> aX(mm, 0.0), dX(mm, 0.0);  // |X~| + |dX~|, |dX~|
        for (index_t i = 0; i < m; ++i)
          for (index_t j = 0; j <= i; ++j) {
            const std::size_t q = static_cast<std::size_t>(i * m + j);
            const double bj = in.beta[static_cast<std::size_t>((row0 + j) * H + h)];
            const std::size_t t = xbase + static_cast<std::size_t>(i * BT + j);
            const double hi = decode_at(gr.xs, c.in, t),
                         lo = decode_at(gr.xs, c.in, t + static_cast<std::size_t>(BT * BT));
            const double got = c.split ? hi + lo : hi;
            dX[q] = std::fabs(got - X[q] * bj) + gsub * M2[q] * std::fabs(bj);
            aX[q] = std::fabs(X[q] * bj) + dX[q];
          }
        std::vector<double> aY(Up.size()), EY(Up.size());
        for (index_t j = 0; j < m; ++j) {
          const double gam = std::exp(G[static_cast<std::size_t>(j)]);
          for (index_t r = 0; r < D; ++r) {
            double p = 0.0, ap = 0.0, ke = 0.0;
            for (index_t col = 0; col < D; ++col) {
              const std::size_t se = static_cast<std::size_t>(r * D + col);
              const double kv = kat(row0 + j, col);
              p += S[se] * kv;
              ap += std::fabs(S[se] * kv);
              ke += std::fabs(kv) * E[se];
            }
            const double V = with_u ? in.v[idx(row0 + j, r)] : 0.0;
            const std::size_t k = static_cast<std::size_t>(j * D + r);
            aY[k] = std::fabs(V - gam * p);
            EY[k] = gam * (ke + c1y * ap) + u * (std::fabs(V) + gam * ap);
          }
        }
        for (index_t i = 0; i < m; ++i)
          for (index_t r = 0; r < D; ++r) {
            double eu = 0.0;
            for (index_t j = 0; j <= i; ++j) {
              const std::size_t q = static_cast<std::size_t>(i * m + j),
                                k = static_cast<std::size_t>(j * D + r);
              eu += aX[q] * (EY[k] + c2 * aY[k] + 3 * eta_in) + dX[q] * aY[k];
            }
            EU[static_cast<std::size_t>(i * D + r)] = eu;
          }
        // O rows.
        for (index_t i = 0; i < m && with_o; ++i) {
          const double gam = std::exp(G[static_cast<std::size_t>(i)]);
          std::vector<double> Abar(static_cast<std::size_t>(i + 1)), A(Abar.size());
          for (index_t j = 0; j <= i; ++j) {
            double s = 0.0, as = 0.0;
            for (index_t e = 0; e < D; ++e) {
              s += qat(row0 + i, e) * kat(row0 + j, e);
              as += std::fabs(qat(row0 + i, e) * kat(row0 + j, e));
            }
            const double f =
                std::exp(G[static_cast<std::size_t>(i)] - G[static_cast<std::size_t>(j)]);
            A[static_cast<std::size_t>(j)] = s * f;
            Abar[static_cast<std::size_t>(j)] = as * f;
          }
          for (index_t r = 0; r < D; ++r) {
            double qs = 0.0, aqs = 0.0, qE = 0.0, qE64 = 0.0;
            for (index_t col = 0; col < D; ++col) {
              const std::size_t se = static_cast<std::size_t>(r * D + col);
              const double qv = qat(row0 + i, col);
              qs += qv * S[se];
              aqs += std::fabs(qv * S[se]);
              qE += std::fabs(qv) * E[se];
              qE64 += std::fabs(qv) * E64[se];
            }
            double au = 0.0, aau = 0.0, aE = 0.0, aE64 = 0.0;
            for (index_t j = 0; j <= i; ++j) {
              const std::size_t k = static_cast<std::size_t>(j * D + r);
              au += A[static_cast<std::size_t>(j)] * Up[k];
              aau += Abar[static_cast<std::size_t>(j)] * aUp[k];
              aE += Abar[static_cast<std::size_t>(j)] * EU[k];
              aE64 += Abar[static_cast<std::size_t>(j)] * EU64[k];
            }
            const std::size_t e = idx(row0 + i, r);
            const double want = static_cast<double>(c.scale) * ref.o[e];
            const double mag = sc * (gam * aqs + aau);
            const double here = static_cast<double>(c.scale) * (gam * qs + au);
            one("o (test recurrence vs CPU forward)", here, want,
                2 * (sc * (gam * qE64 + aE64) + cO_64 * mag) + 1e-300, row0 + i, h, r);
            // The GPU is within this of the exact o, the CPU forward within the E64 part.
            const double bound = sc * (gam * (qE + qE64) + aE + aE64) + (cO + cO_64) * mag +
                                 uout * std::fabs(want) + eta_out;
            one("o", decode_at(gr.o, c.out, e), want, (1 + uout) * bound, row0 + i, h, r);
          }
        }
        // State update.
        const double gl = std::exp(Gl);
        std::vector<double> S2(DD), E2(DD), E64_2(DD);
        for (index_t r = 0; r < D; ++r)
          for (index_t col = 0; col < D; ++col) {
            const std::size_t se = static_cast<std::size_t>(r * D + col);
            double s = gl * S[se], mag = gl * std::fabs(S[se]), eb = gl * E[se],
                   eb64 = gl * E64[se];
            for (index_t i = 0; i < m; ++i) {
              const double rho = std::exp(Gl - G[static_cast<std::size_t>(i)]);
              const double kv = kat(row0 + i, col);
              const std::size_t k = static_cast<std::size_t>(i * D + r);
              s += rho * Up[k] * kv;
              mag += rho * aUp[k] * std::fabs(kv);
              eb += rho * EU[k] * std::fabs(kv);
              eb64 += rho * EU64[k] * std::fabs(kv);
            }
            S2[se] = s;
            E2[se] = eb + cS * mag;
            E64_2[se] = eb64 + cS_64 * mag;
          }
        S.swap(S2);
        E.swap(E2);
        E64.swap(E64_2);
      };
      // S[r * D + col], r the value channel, col the key channel; E, E64 its error bounds.
      std::vector<double> S(DD, 0.0), E(DD, 0.0), E64(DD, 0.0);
      const std::size_t s0 = static_cast<std::size_t>(n * H + h) * DD;
      auto sidx = [&](index_t r, index_t col) {
        return c.transposed ? static_cast<std::size_t>(col * D + r)
                            : static_cast<std::size_t>(r * D + col);
      };
      if (!in.h0.empty())
        for (index_t r = 0; r < D; ++r)
          for (index_t col = 0; col < D; ++col)
            S[static_cast<std::size_t>(r * D + col)] = in.h0[s0 + sidx(r, col)];
      if (c.segments <= 1) {
        for (index_t row0 = bos; row0 < eos; row0 += BT) step(row0, true, true, S, E, E64);
      } else {
        // The associative form (docs/gpu-delta.md "Segments"): per segment of `per` chunks the
        // kernel computes B (the state from 0) and P (the state from I with U = 0), then
        // S_start' = S_start P + B (fp32 fma chains of D + 1 terms), then the segment's chunks
        // from S_start. First order:
        //   E_start' = E_start |P| + |S_start| E_P + E_B + gamma_{D+1}(u) (|S_start||P| + |B|).
        const index_t nc = (eos - bos + BT - 1) / BT;
        const index_t per = nc == 0 ? 1 : (nc + c.segments - 1) / c.segments;
        const double g_comb = gamma_n(static_cast<int>(D + 1), u);
        for (index_t c0 = 0; c0 < nc; c0 += per) {
          const index_t c1 = std::min(nc, c0 + per);
          std::vector<double> Bv(DD, 0.0), EB(DD, 0.0), Pv(DD, 0.0), EP(DD, 0.0), unused(DD, 0.0);
          for (index_t r = 0; r < D; ++r) Pv[static_cast<std::size_t>(r * D + r)] = 1.0;
          for (index_t cc = c0; cc < c1; ++cc) {
            step(bos + cc * BT, false, true, Bv, EB, unused);
            step(bos + cc * BT, false, false, Pv, EP, unused);
          }
          const std::vector<double> S_start = S, E_start = E;
          for (index_t cc = c0; cc < c1; ++cc) step(bos + cc * BT, true, true, S, E, E64);
          for (index_t r = 0; r < D; ++r)
            for (index_t col = 0; col < D; ++col) {
              double e = EB[static_cast<std::size_t>(r * D + col)],
                     mag = std::fabs(Bv[static_cast<std::size_t>(r * D + col)]);
              for (index_t k = 0; k < D; ++k) {
                const double sv = std::fabs(S_start[static_cast<std::size_t>(r * D + k)]);
                const double pv = std::fabs(Pv[static_cast<std::size_t>(k * D + col)]);
                e += E_start[static_cast<std::size_t>(r * D + k)] * pv +
                     sv * EP[static_cast<std::size_t>(k * D + col)];
                mag += sv * pv;
              }
              E[static_cast<std::size_t>(r * D + col)] = e + g_comb * mag;
            }
        }
      }
      for (index_t r = 0; r < D; ++r)
        for (index_t col = 0; col < D; ++col) {
          const std::size_t e = s0 + sidx(r, col), se = static_cast<std::size_t>(r * D + col);
          const double want = ref.hT[e];
          one("state (test recurrence vs CPU forward)", S[se], want, 2 * E64[se] + 1e-300, n, h,
              r * D + col);
          one("final state", gr.hT[e], want, E[se] + E64[se] + 1e-300, n, h, r * D + col);
        }
    }
  }
  EXPECT_EQ(fails, 0) << fails << " entries over the bound";
  return worst;
}

void expect_all_written(const Case& c, const Inputs& in, const GpuResult& gr) {
  const std::size_t n = static_cast<std::size_t>(in.rows * c.heads * c.d);
  std::size_t poisoned = 0;
  std::size_t poisoned_wu = 0, poisoned_xs = 0;
  for (std::size_t e = 0; e < n; ++e) {
    poisoned += is_poison(gr.o, c.out, e);
    poisoned_wu += is_poison(gr.w, c.in, e) + is_poison(gr.u, c.in, e);
  }
  for (std::size_t e = 0; e < gr.xs.size() / 2; ++e) poisoned_xs += is_poison(gr.xs, c.in, e);
  EXPECT_EQ(poisoned, 0u) << "o entries left unwritten";
  EXPECT_EQ(poisoned_wu, 0u) << "w, u entries left unwritten";
  EXPECT_EQ(poisoned_xs, 0u) << "inverse_beta entries left unwritten";
}

void run_case(const Case& c) {
  TRISCAN_REQUIRE_GPU();
  const Inputs in = make_inputs(c);
  const GpuResult gr = run_gpu(c, in);
  const CpuResult ref = run_cpu(c, in);
  expect_all_written(c, in, gr);
  for (std::size_t s = 0; s + 1 < gr.statuses.size(); ++s)
    ASSERT_EQ(gr.statuses[s], 0) << "status of chunk row " << s / c.heads << " head "
                                 << s % c.heads;
  EXPECT_EQ(gr.statuses.back(), -1) << "statuses written past the end";
  EXPECT_EQ(gr.flag, 0);
  const double worst = check(c, in, gr, ref);
  std::printf(
      "    %s gate %g BT %lld d %lld in %s out %s split %d segments %d: max error/bound %.3g\n",
      c.generator.c_str(), c.gate, static_cast<long long>(c.chunk), static_cast<long long>(c.d),
      std::string(gpu::dtype_name(c.in)).c_str(), std::string(gpu::dtype_name(c.out)).c_str(),
      static_cast<int>(c.split), c.segments, worst);
}

}  // namespace

TEST(DeltaForwardGpu, DeltanetChunkSizesAndHeadDims) {
  for (index_t bt : {32, 64})
    for (index_t d : {64, 128}) {
      Case c;
      c.chunk = bt;
      c.d = d;
      run_case(c);
    }
}

TEST(DeltaForwardGpu, GatedEveryGate) {
  for (double gate : {-1e-3, -0.1, -5.0}) {
    Case c;
    c.generator = "gated";
    c.gate = gate;
    run_case(c);
  }
  Case c;
  c.generator = "gated";
  c.cumulative_g = true;
  c.chunk = 32;
  run_case(c);
  c.cumulative_g = false;
  c.log2_g = true;
  run_case(c);
}

// Positive log-decays among the negative ones: G not monotone within a chunk.
TEST(DeltaForwardGpu, GatedRisingLogDecays) {
  Case c;
  c.generator = "gated";
  c.rising_every = 7;
  run_case(c);
}

TEST(DeltaForwardGpu, GeneratorFamilies) {
  for (const char* gen : {"deltanet-beta2", "deltanet-correlated"}) {
    Case c;
    c.generator = gen;
    c.batch = 1;
    run_case(c);
  }
}

TEST(DeltaForwardGpu, DtypesScaleTransposedStatesAndUnsplitProducts) {
  Case c;
  c.out = DType::fp32;
  c.scale = 0.125f;
  c.transposed = true;
  run_case(c);
  c.in = DType::fp16;
  c.out = DType::fp16;
  c.transposed = false;
  c.initial_state = false;
  run_case(c);
  c.in = DType::bf16;
  c.out = DType::bf16;
  c.split = false;
  c.generator = "gated";
  run_case(c);
}

TEST(DeltaForwardGpu, VariableLengthSequences) {
  Case c;
  c.generator = "gated";
  c.batch = 1;
  c.length = 300;
  c.cu_seqlens = {0, 70, 75, 139, 300};
  run_case(c);
  c.generator = "deltanet";
  c.chunk = 32;
  run_case(c);
}

TEST(DeltaForwardGpu, SegmentsAssociativeForm) {
  Case c;
  c.length = 330;  // 6 chunks of 64 (the last partial): 3 segments of 2 chunks
  c.segments = 3;
  run_case(c);
  c.generator = "gated";
  c.gate = -5.0;
  c.segments = 4;  // 4 segments requested, 3 of 2 chunks made
  run_case(c);
  c.gate = -0.1;
  c.batch = 1;
  c.length = 400;
  c.cu_seqlens = {0, 70, 75, 139, 400};  // 3, 1, 2 and 9 chunks of 32: 2, 1, 2 and 2 segments
  c.chunk = 32;
  c.segments = 2;
  run_case(c);
  // Head size 64 (the combine's other instance), a transposed initial and final state, and
  // the rounded products' instances of the segment passes.
  c.d = 64;
  c.segments = 3;
  c.transposed = true;
  run_case(c);
  c.split = false;
  run_case(c);
}

TEST(DeltaForwardGpu, StatusesCarryAlongTheSequence) {
  TRISCAN_REQUIRE_GPU();
  for (int segments : {1, 2}) {
    Case c;
    c.segments = segments;
    c.batch = 2;
    c.length = 192;  // 3 chunks of 64 per sequence
    c.heads = 2;
    c.key_heads = 2;
    Inputs in = make_inputs(c);
    auto set16 = [&](std::vector<unsigned char>& bytes, std::size_t e, double x) {
      const auto b = encode({x}, c.in, nullptr);
      bytes[2 * e] = b[0];
      bytes[2 * e + 1] = b[1];
    };
    // Sequence 0, head 0: a NaN in q in chunk 1 (the WY kernel does not read q; the state
    // stays finite, so chunk 2 is ok);
    // sequence 0, head 1: a NaN in k in chunk 2 (the WY kernel flags it);
    // sequence 1, head 1: an Inf in the initial state (every chunk flagged);
    // sequence 1, head 0: a NaN in v in chunk 1 (read first by the chunk-state kernel, which
    // classifies it; the state carries it to chunk 2).
    set16(in.qb, static_cast<std::size_t>(((64 + 3) * 2 + 0) * c.d + 7), std::nan(""));
    set16(in.vb, static_cast<std::size_t>(((192 + 64 + 5) * 2 + 0) * c.d + 9), std::nan(""));
    set16(in.kb, static_cast<std::size_t>(((128 + 1) * 2 + 1) * c.d + 2), std::nan(""));
    in.h0f[static_cast<std::size_t>((1 * 2 + 1) * c.d * c.d + 5)] =
        std::numeric_limits<float>::infinity();
    const GpuResult gr = run_gpu(c, in);
    const std::int32_t ok = 0, nonfinite = static_cast<std::int32_t>(Status::nonfinite_input);
    // statuses [chunk row (seq 0: 0..2, seq 1: 3..5), head]
    const std::vector<std::int32_t> want = {ok,        ok,        nonfinite, ok,
                                            ok,        nonfinite, ok,        nonfinite,
                                            nonfinite, nonfinite, nonfinite, nonfinite};
    for (std::size_t s = 0; s < want.size(); ++s)
      EXPECT_EQ(gr.statuses[s], want[s])
          << "chunk row " << s / 2 << " head " << s % 2 << " segments " << segments;
    EXPECT_EQ(gr.flag, nonfinite);
  }
}

TEST(DeltaForwardGpu, OutputOverflowIsReported) {
  TRISCAN_REQUIRE_GPU();
  Case c;
  c.batch = 1;
  c.length = 128;
  c.heads = 1;
  c.key_heads = 1;
  c.in = DType::fp16;
  c.out = DType::fp16;
  c.initial_state = true;
  Inputs in = make_inputs(c);
  // A finite initial state of 1e5 per entry: q S^T is beyond fp16's 65504 in every row.
  for (float& x : in.h0f) x = 1e5f;
  const GpuResult gr = run_gpu(c, in);
  const std::int32_t overflow = static_cast<std::int32_t>(Status::overflow);
  EXPECT_EQ(gr.statuses[0], overflow);
  EXPECT_EQ(gr.statuses[1], overflow);
  EXPECT_EQ(gr.flag, overflow);
}

TEST(DeltaForwardGpu, BadArgumentsThrowBeforeLaunch) {
  TRISCAN_REQUIRE_GPU();
  ChunkLayout L;
  L.batch = 1;
  L.length = 64;
  L.heads = 1;
  L.chunk = 64;
  gpu::ChunkPlan plan(L);
  gpu::DeviceBytes buf(1 << 21);
  auto* base = static_cast<unsigned char*>(buf.data());
  constexpr std::size_t step = 65536;
  gpu::DeltaGpuInputs gi;
  gi.q = base;
  gi.k = base + step;
  gi.v = base + 2 * step;
  gi.beta = base + 3 * step;
  gi.g = reinterpret_cast<const float*>(base + 4 * step);
  gpu::DeltaGpuOutputs go;
  go.o = base + 5 * step;
  go.final_state = reinterpret_cast<float*>(base + 6 * step);
  auto expect_throw = [&](const gpu::DeltaGpuInputs& i, const gpu::DeltaGpuOutputs& o, WyFamily f,
                          const char* what, const gpu::DeltaGpuOptions& opt = {},
                          const gpu::ChunkPlan* p = nullptr) {
    try {
      gpu::delta_forward(f, p ? *p : plan, i, o, opt);
      ADD_FAILURE() << "no exception for " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_throw(gi, go, WyFamily::kda, "kda");
  gpu::DeltaGpuInputs bad = gi;
  bad.dtype = DType::fp32;
  expect_throw(bad, go, WyFamily::deltanet, "fp32");
  bad = gi;
  bad.dv = 64;
  expect_throw(bad, go, WyFamily::deltanet, "dv = 64");
  bad = gi;
  bad.q = nullptr;
  expect_throw(bad, go, WyFamily::deltanet, "null q");
  bad = gi;
  bad.q = base + 4;
  expect_throw(bad, go, WyFamily::deltanet, "q is not 16-byte aligned");
  bad = gi;
  bad.g = nullptr;
  expect_throw(bad, go, WyFamily::gated, "null g");
  bad = gi;
  bad.key_heads = 2;
  expect_throw(bad, go, WyFamily::deltanet, "key_heads");
  gpu::DeltaGpuOutputs bo = go;
  bo.o = base + step;  // = k
  expect_throw(gi, bo, WyFamily::deltanet, "overlaps input k");
  bo = go;
  bo.w = base + 7 * step;
  expect_throw(gi, bo, WyFamily::deltanet, "both w and u");
  bo = go;
  bo.final_state = reinterpret_cast<float*>(base + 5 * step + 16);
  expect_throw(gi, bo, WyFamily::deltanet, "overlap");
  bo = go;
  bo.inverse_beta = base + 7 * step + 8;
  expect_throw(gi, bo, WyFamily::deltanet, "inverse_beta is not 16-byte aligned");
  bo = go;
  bo.inverse_beta = base + 2 * step;  // = v
  expect_throw(gi, bo, WyFamily::deltanet, "inverse_beta overlaps input v");
  gpu::DeltaGpuOptions opt;
  opt.scale = std::numeric_limits<float>::quiet_NaN();
  expect_throw(gi, go, WyFamily::deltanet, "scale", opt);
  opt = {};
  opt.segments = 0;
  expect_throw(gi, go, WyFamily::deltanet, "segments = 0", opt);
  L.chunk = 128;
  gpu::ChunkPlan plan128(L);
  expect_throw(gi, go, WyFamily::deltanet, "chunk size 128", {}, &plan128);
}
