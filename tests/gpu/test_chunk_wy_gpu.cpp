// The fused chunk WY kernel (gpu::chunk_wy, gpu/chunk_wy_kernel.cuh) against the CPU
// chunk WY in fp64 (triscan::chunk_wy, itself checked against the MPFR token recurrence in
// tests/wy) on the same 16-bit inputs, entry by entry, under a first-order componentwise
// bound derived in docs/gpu.md ("Fused chunk WY: error bound"):
//
//   |N^ - N|_ij <= e_N(i,j) = (gamma_D(u_tc) + 2 u + (|G_i - G_j| + 4) u) beta_i sum_c |k_ic k_jc|
//   e^(G_i-G_j) |X^ - X|    <= E_X = M^-1 E_N M^-1 + (gamma_2BT(u) + 3 gamma_16(u64)) (2 M^-2 -
//   M^-1) |W^ - W|    <= u_out |W| + E_X |S| |K| + e_P M^-1 |S| |K|, e_P = u + (|G|_max + 6) u +
//   e_split + gamma_2BT(u_tc)
// with u = 2^-24 (fp32), u_tc = 2^-23 (tensor-core fp32 accumulation truncates: Fasi,
// Higham, Mikaitis, Pranesh, PeerJ CS 2021), M = I - |N| the comparison matrix
// (|X| <= M^-1), S = diag(beta gamma) for W and diag(beta) for U, e_split = u_in^2 (1 +
// u_in) for the hi + lo operand (u_in for a single rounding) plus the 16-bit format's
// subnormal half-spacing relative to the entry. Rows past a sequence's end must keep the
// poison. Every test skips visibly without a usable GPU.
//
// kda (per-channel G, docs/gpu-chunk-wy.md "kda"): G_ic is the fp64 sum (in the CPU
// reference's order) rounded to fp32, |G^ - G| <= u |G|, so an fp32 difference d^ of two
// of them is within u (|G_a| + |G_b| + |d|) of d, and expf(d^) within 4u (2 ulp) of
// exp(d^). Per channel c, a = |k_ic| e^(G_ic - G_rc), b = |k_jc| e^(G_rc - G_jc):
//   off-diagonal block (r = first row of i's 16-row block, A', B' each one expf and one
//   fp32 product, then split into 16-bit hi + lo (three products, lo lo dropped) or
//   rounded once; n_p = 3 or 1 tensor-core products per channel):
//     e_N += (e_a + e_b + e_prod + gamma_{n_p D}(u_tc) + u) a b + 2 eta (a + b) + 6 eta^2,
//     e_a = 5u + u (|G_ic| + |G_rc| + |G_ic - G_rc|) (e_b alike),
//     e_prod = (3 + 3 u_in) u_in^2 (split) or (2 + u_in) u_in (rounded once),
//   diagonal block (fp32, fmaf over the channels, one expf per term):
//     e_N += (gamma_D(u) + 6u + u (|G_ic| + |G_jc| + |G_ic - G_jc|)) a b + 2^-125 |k_ic k_jc|,
//   all times beta_i; eta = (half the 16-bit subnormal spacing) + 2^-125 (an fp32
//   underflow, flushed or not, of expf and of the product, times |k_ic| <= 1: unit keys).
//   e_prod and the eta terms: with |x - rn16(x)| <= u_in |x| + eta_in, the parts of a split
//   operand satisfy |a - hi - lo| <= u_in^2 |a| + (1 + u_in) eta and |lo| <= (1 + u_in)
//   (u_in |a| + eta) + eta, so hi hi + lo hi + hi lo = (hi + lo)(hi' + lo') - lo lo' is
//   within (3 + 3 u_in) u_in^2 |a b| + 2 eta (|a| + |b|) + 6 eta^2 of a b.
//   W_ic: the B operand exp(G_lc) k_lc is one expf and one product in fp32, then split
//   like the A operand (X_il beta_l, one fp32 product):
//     |W^ - W| <= u_out |W| + eta_out + (1 + u_out) sum_l [(E_X,il + e_PW M^-1_il) |beta_l| b_lc
//                 + 2 eta (M^-1_il |beta_l| + b_lc) + 6 eta^2],  b_lc = |k_lc| e^(G_lc),
//     e_PW = 2u (two products) + 4u (expf) + u |G_lc| + e_prod + gamma_{n_p BT}(u_tc).
//   U as for the other families.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tests/gpu/test_trinv_gpu_util.hpp"
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
  bool split = true, cumulative_g = false, with_inverse = true;
  // WyGpuOptions::rounded_reentry (the blocked solve's W_j re-entering rounded once).
  bool rounded_reentry = false;
  // g passed in base-2 logarithms (g / ln 2 rounded to fp32; the reference gets ln 2 times
  // that fp32 value in fp64, the product the kernel forms, so the fp64 sums still agree).
  bool log2_g = false;
  // > 0: every rising_every-th gate entry negated (a positive log-decay: G rises there and
  // factors e^(G_i - G_j) above 1 occur; accepted input, same bound).
  int rising_every = 0;
  std::uint64_t seed = 1;
};

WyFamily family_of(const Case& c) {
  return c.generator == "gated" ? WyFamily::gated
         : c.generator == "kda" ? WyFamily::kda
                                : WyFamily::deltanet;
}
bool has_gate(const Case& c) {
  return c.generator == "gated" || c.generator == "kda";
}

struct Inputs {
  ChunkLayout layout;
  index_t rows = 0, Hk = 0;
  std::vector<double> k, v, beta, g;         // what the kernel sees (rounded)
  std::vector<unsigned char> kb, vb, betab;  // device bytes
  std::vector<float> gf;
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
  if (has_gate(c)) gp.gate = c.gate;
  const ChunkProblem p = validation::make_chunk_problem(gp, in.layout, c.key_heads);
  in.Hk = p.key_heads;
  in.rows = c.cu_seqlens.empty() ? c.batch * c.length : c.length;
  in.kb = encode(p.tensors.at("k").data, c.in, &in.k);
  in.vb = encode(p.tensors.at("v").data, c.in, &in.v);
  in.betab = encode(p.tensors.at("beta").data, c.in, &in.beta);
  if (has_gate(c)) {  // [rows, H] (gated) or [rows, H, dk] (kda)
    const auto& g = p.tensors.at(c.cumulative_g ? "g" : "g_token").data;
    const double ln2 = 0.69314718055994530942;
    for (std::size_t e = 0; e < g.size(); ++e) {
      const bool flip = c.rising_every > 0 && e % static_cast<std::size_t>(c.rising_every) == 0;
      const double x = flip ? -g[e] : g[e];
      in.gf.push_back(static_cast<float>(c.log2_g ? x / ln2 : x));
    }
    for (float x : in.gf)
      in.g.push_back(c.log2_g ? ln2 * static_cast<double>(x) : static_cast<double>(x));
  }
  return in;
}

// Entry e of a tensor's device bytes (2 per entry) := x in the inputs' 16-bit format (only the
// bytes change: a poisoned input the kernel sees, not its rounded copy the reference reads).
void set16(const Case& c, std::vector<unsigned char>& bytes, std::size_t e, double x) {
  const auto b = encode({x}, c.in, nullptr);
  bytes[2 * e] = b[0];
  bytes[2 * e + 1] = b[1];
}

struct GpuResult {
  std::vector<unsigned char> w, u, inv;
  std::vector<std::int32_t> statuses;
  std::int32_t flag = -1;
};

GpuResult run_gpu(const Case& c, const Inputs& in) {
  gpu::ChunkPlan plan(in.layout);
  const std::size_t r = static_cast<std::size_t>(in.rows), H = static_cast<std::size_t>(c.heads);
  const std::size_t wbytes = r * H * c.d * dtype_bytes(c.out),
                    ibytes = r * H * c.chunk * dtype_bytes(c.out);
  const auto nstat = static_cast<std::size_t>(plan.chunk_rows()) * H;
  gpu::DeviceBytes dk(in.kb.size()), dv(in.vb.size()), db(in.betab.size()),
      dg(std::max<std::size_t>(16, 4 * in.gf.size())), dw(wbytes), du(wbytes), dx(ibytes),
      ds(4 * nstat + 4), df(4);
  dk.upload(in.kb.data(), in.kb.size());
  dv.upload(in.vb.data(), in.vb.size());
  db.upload(in.betab.data(), in.betab.size());
  if (!in.gf.empty()) dg.upload(in.gf.data(), 4 * in.gf.size());
  for (gpu::DeviceBytes* o : {&dw, &du, &dx}) o->fill32(poison_word(c.out));
  ds.fill32(0xffffffffu);
  df.fill32(0xffffffffu);
  gpu::WyGpuInputs gi;
  gi.dtype = c.in;
  gi.k = dk.data();
  gi.v = dv.data();
  gi.beta = db.data();
  gi.g = in.gf.empty() ? nullptr : static_cast<const float*>(dg.data());
  gi.dk = gi.dv = c.d;
  gi.key_heads = c.key_heads;
  gpu::WyGpuOutputs go;
  go.dtype = c.out;
  go.w = dw.data();
  go.u = du.data();
  go.inverse = c.with_inverse ? dx.data() : nullptr;
  gpu::WyGpuOptions opt;
  opt.split_products = c.split;
  opt.rounded_reentry = c.rounded_reentry;
  opt.cumulative_g = c.cumulative_g;
  opt.log2_g = c.log2_g;
  gpu::chunk_wy(family_of(c), plan, gi, go, opt, static_cast<std::int32_t*>(ds.data()),
                static_cast<std::int32_t*>(df.data()));
  gpu::synchronize();
  GpuResult res;
  res.w.resize(wbytes);
  res.u.resize(wbytes);
  res.inv.resize(ibytes);
  dw.download(res.w.data(), wbytes);
  du.download(res.u.data(), wbytes);
  dx.download(res.inv.data(), ibytes);
  res.statuses.resize(nstat + 1);
  ds.download(res.statuses.data(), 4 * (nstat + 1));
  df.download(&res.flag, 4);
  return res;
}

struct CpuResult {
  std::vector<double> w, u, N;
};

CpuResult run_cpu(const Case& c, const Inputs& in) {
  CpuResult ref;
  const std::size_t r = static_cast<std::size_t>(in.rows), H = static_cast<std::size_t>(c.heads);
  ref.w.assign(r * H * c.d, 0.0);
  ref.u.assign(r * H * c.d, 0.0);
  ref.N.assign(r * H * c.chunk, 0.0);
  WyInputs<double> wi;
  wi.k = in.k.data();
  wi.v = in.v.data();
  wi.beta = in.beta.data();
  wi.g = in.g.empty() ? nullptr : in.g.data();
  wi.dk = wi.dv = c.d;
  wi.key_heads = c.key_heads;
  WyOutputs<double> wo;
  wo.w = ref.w.data();
  wo.u = ref.u.data();
  wo.A = ref.N.data();
  WyOptions opt;
  opt.cumulative_g = c.cumulative_g;
  opt.check_accuracy = false;
  const Status s = chunk_wy(family_of(c), in.layout, wi, wo, opt);
  EXPECT_EQ(s, Status::ok) << "CPU fp64 reference";
  return ref;
}

// In-chunk inclusive cumulative log-decays of chunk rows [row0, row0 + m), head h: m x gw
// (gw = dk for kda, else 1), summed in token order in fp64 like the CPU reference.
std::vector<double> chunk_G(const Case& c, const Inputs& in, index_t row0, index_t m, index_t h) {
  const index_t gw = family_of(c) == WyFamily::kda ? c.d : 1;
  std::vector<double> G(static_cast<std::size_t>(m * gw), 0.0);
  if (in.g.empty()) return G;
  for (index_t ch = 0; ch < gw; ++ch) {
    double run = 0.0;
    for (index_t i = 0; i < m; ++i) {
      const double gi = in.g[static_cast<std::size_t>(((row0 + i) * c.heads + h) * gw + ch)];
      G[static_cast<std::size_t>(i * gw + ch)] = c.cumulative_g ? gi : (run += gi);
    }
  }
  return G;
}

// Checks one GPU run entry by entry; returns the largest error / bound ratio seen.
double check(const Case& c, const Inputs& in, const GpuResult& gr, const CpuResult& ref) {
  const double u = std::ldexp(1.0, -24), u_tc = std::ldexp(1.0, -23), u64 = std::ldexp(1.0, -53);
  const double uin = unit_roundoff(c.in), uout = unit_roundoff(c.out);
  const double eta_in = half_min_subnormal(c.in), eta_out = half_min_subnormal(c.out);
  const index_t D = c.d, BT = c.chunk, H = c.heads;
  const double e_split = c.split ? uin * uin * (1 + uin) : uin;
  double worst = 0.0;
  int fails = 0;
  for (const ChunkRef& ch : enumerate_chunks(in.layout)) {
    const index_t row0 = ch.offset / (H * BT);  // token row of the chunk's first row
    const index_t m = ch.size, h = ch.head;
    {
      const index_t hk = h * in.Hk / H;
      const bool kda = family_of(c) == WyFamily::kda;
      const std::vector<double> G = chunk_G(c, in, row0, m, h);
      double Gmax = 0.0;  // of the scalar gates (U's bound keeps the gated term; kda: 0)
      if (!kda)
        for (double x : G) Gmax = std::max(Gmax, std::fabs(x));
      auto Gc = [&](index_t i, index_t col) { return G[static_cast<std::size_t>(i * D + col)]; };
      // kda and the blocked solve: operand parts (hi + lo, or one rounding), absolute floor eta.
      const int n_p = c.split ? 3 : 1;
      const double e_prod = c.split ? (3 + 3 * uin) * uin * uin : (2 + uin) * uin;
      const double eta = eta_in + std::ldexp(1.0, -125);
      auto kat = [&](index_t i, index_t col) {
        return in.k[static_cast<std::size_t>(((row0 + i) * in.Hk + hk) * D + col)];
      };
      auto vat = [&](index_t i, index_t col) {
        return in.v[static_cast<std::size_t>(((row0 + i) * H + h) * D + col)];
      };
      auto bat = [&](index_t i) { return in.beta[static_cast<std::size_t>((row0 + i) * H + h)]; };
      auto Nat = [&](index_t i, index_t j) {
        return ref.N[static_cast<std::size_t>(((row0 + i) * H + h) * BT + j)];
      };
      // E_N and M^-1.
      std::vector<double> EN(static_cast<std::size_t>(m * m), 0.0), Minv(EN.size(), 0.0);
      const double gD = gamma_n(static_cast<int>(D), u_tc);
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < i; ++j) {
          double s = 0.0;
          if (kda) {
            const index_t r = 16 * (i / 16);  // the reference row of i's block
            const bool diagonal = i / 16 == j / 16;
            const double g_tc = gamma_n(n_p * static_cast<int>(D), u_tc),
                         g_fp = gamma_n(static_cast<int>(D), u);
            for (index_t col = 0; col < D; ++col) {
              const double Gi = Gc(i, col), Gj = Gc(j, col), Gr = Gc(r, col);
              const double kk = std::fabs(kat(i, col) * kat(j, col));
              if (diagonal) {
                s += (g_fp + 6 * u + u * (std::fabs(Gi) + std::fabs(Gj) + std::fabs(Gi - Gj))) *
                         kk * std::exp(Gi - Gj) +
                     std::ldexp(kk, -125);
              } else {
                const double a = std::fabs(kat(i, col)) * std::exp(Gi - Gr),
                             b = std::fabs(kat(j, col)) * std::exp(Gr - Gj);
                const double ea = 5 * u + u * (std::fabs(Gi) + std::fabs(Gr) + std::fabs(Gi - Gr)),
                             eb = 5 * u + u * (std::fabs(Gr) + std::fabs(Gj) + std::fabs(Gr - Gj));
                s += (ea + eb + e_prod + g_tc + u) * a * b + 2 * eta * (a + b) + 6 * eta * eta;
              }
            }
            // fp32 underflow of the diagonal blocks' fmaf steps: 2^-150 each.
            EN[static_cast<std::size_t>(i * m + j)] =
                std::fabs(bat(i)) * (s + static_cast<double>(D) * std::ldexp(1.0, -149));
            continue;
          }
          for (index_t col = 0; col < D; ++col) s += std::fabs(kat(i, col) * kat(j, col));
          const double d = G[static_cast<std::size_t>(i)] - G[static_cast<std::size_t>(j)];
          EN[static_cast<std::size_t>(i * m + j)] =
              (gD + 2 * u + (std::fabs(d) + 4) * u) * std::fabs(bat(i)) * s * std::exp(d);
        }
      for (index_t j = 0; j < m; ++j) {
        Minv[static_cast<std::size_t>(j * m + j)] = 1.0;
        for (index_t i = j + 1; i < m; ++i) {
          double s = 0.0;
          for (index_t k = j; k < i; ++k)
            s += std::fabs(Nat(i, k)) * Minv[static_cast<std::size_t>(k * m + j)];
          Minv[static_cast<std::size_t>(i * m + j)] = s;
        }
      }
      const std::vector<double> B =
          merge_bound_matrix(m, [&](index_t i, index_t j) { return Nat(i, j); });
      const double c_merge = gamma_n(static_cast<int>(2 * BT), u) + 3 * gamma_n(16, u64);
      // E_X = M^-1 E_N M^-1 + c_merge B (lower triangular).
      std::vector<double> T1(EN.size(), 0.0), EX(EN.size(), 0.0);
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < i; ++j) {
          double s = 0.0;
          for (index_t k = j + 1; k <= i; ++k)
            s +=
                Minv[static_cast<std::size_t>(i * m + k)] * EN[static_cast<std::size_t>(k * m + j)];
          T1[static_cast<std::size_t>(i * m + j)] = s;
        }
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < i; ++j) {
          double s = 0.0;
          for (index_t k = j; k < i; ++k)
            s +=
                T1[static_cast<std::size_t>(i * m + k)] * Minv[static_cast<std::size_t>(k * m + j)];
          EX[static_cast<std::size_t>(i * m + j)] =
              s + c_merge * B[static_cast<std::size_t>(i * m + j)];
        }
      const double e_P = u + (Gmax + 6) * u + e_split + gamma_n(static_cast<int>(2 * BT), u_tc);
      const double g_tcW = gamma_n(n_p * static_cast<int>(BT), u_tc);  // kda's W accumulation
      // The inverse: X from the reference N by fp64 substitution is within a few ulps of
      // fp64 of the exact one (negligible next to fp32), checked against E_X + u_out |X|.
      std::vector<double> X(EN.size(), 0.0);
      for (index_t j = 0; j < m; ++j) {
        X[static_cast<std::size_t>(j * m + j)] = 1.0;
        for (index_t i = j + 1; i < m; ++i) {
          double s = 0.0;
          for (index_t k = j; k < i; ++k) s += Nat(i, k) * X[static_cast<std::size_t>(k * m + j)];
          X[static_cast<std::size_t>(i * m + j)] = -s;
        }
      }
      // The blocked solve (gpu/chunk_wy_kernel.cuh, chunk_wy_bsolve_kernel) serves the launches
      // at BT = 64 with 16-bit outputs, split products, scalar or no gates (the library's
      // blocked_solve_serves); its own bound (docs/gpu-chunk-wy.md "Blocked solve"), first
      // order, with R = S K (S = diag(beta gamma) for W, diag(beta) for U; for the inverse's
      // column j, R = e_j, exact), A the exact 16-bit operand (K, V or e_j) and
      // Y_b = M_bb W_b. The kernel forms W_b = (X_bb S_b) K_b - sum_{j<b} M_bj W_j with
      // M_bj = X_bb N_bj; from M^ W^ = R + rho,
      //   |W^ - W| <= M^-1 (rho + E_N |W|),
      //   rho_b = |M_bb| [gamma_16(u) M_bb^-1 |M_bb| M_bb^-1 |Y_b|
      //                   + M_bb^-1 ((e_R + e_split + g_A) |R_b|
      //                              + (2 e_prod + g_A + g_M) |N_b<| |W_<|)
      //                   + eta terms],
      // N_b< the blocks left of the diagonal, M_bb^-1 (comparison) >= |X_bb|; e_R the roundings
      // of X_bb S_b (S's own and the product), e_split that of its hi + lo parts, g_A =
      // gamma_{3 BT + 1}(u_tc) the tensor-core sum of a block row, g_M = gamma_{16 n_p}(u_tc)
      // that of M_bj; e_prod twice: M_bj's split operands and the split W_j^T, M_bj^T — with
      // rounded re-entry the second is e_W = (1 + 2 u_in) u_in instead: W_j^T rounded once
      // (u_in) times -M_bj^T's hi + lo (u_in^2 (1 + u_in)), (1 + u_in)(1 + u_in^2 (1 + u_in)) - 1
      // <= (1 + 2 u_in) u_in for u_in <= 1/4 (docs/gpu-chunk-wy.md "Rounded re-entry"). Every
      // operand part (hi, lo) carries an absolute eta, every fp32 tensor-core sum 2^-125 per term
      // (a subnormal result flushed), X_bb's fp32 steps 2^-149 each.
      const bool bsolve = BT == 64 && c.out != DType::fp32 && !kda && c.split;
      const double e_W = c.rounded_reentry ? (1 + 2 * uin) * uin : e_prod;
      // rho [which][l][col]: which = 0 (W), 1 (U), 2 (X's column col < m: R the identity's).
      std::vector<double> rho;
      if (bsolve) {
        const double gA = gamma_n(n_p * static_cast<int>(BT) + 1, u_tc);
        const double gM = gamma_n(16 * n_p, u_tc), gsub = gamma_n(16, u);
        const double e_sp = uin * uin * (1 + uin);  // hi + lo of one operand
        const double ftz = std::ldexp(1.0, -125);
        rho.assign(static_cast<std::size_t>(3 * m * D), 0.0);
        auto Ma = [&](index_t i, index_t j) {  // |M|_ij, j <= i
          return i == j ? 1.0 : std::fabs(Nat(i, j));
        };
        // One column: ws the signed reference solution, R = |R|, R0 = |R| without the decay
        // factor (S's underflow), A = |A|, e_R the relative error of X_bb S_b's entries.
        auto column = [&](const std::vector<double>& ws, const std::vector<double>& R,
                          const std::vector<double>& R0, const std::vector<double>& A, double e_R,
                          double* out) {
          std::vector<double> Wa(ws.size()), Ya(ws.size());
          for (std::size_t l = 0; l < ws.size(); ++l) Wa[l] = std::fabs(ws[l]);
          for (index_t b0 = 0; b0 < m; b0 += 16) {
            const index_t b1 = std::min(m, b0 + 16);
            // |Y_b| = |M_bb W_b| (exact reference values, signed sum).
            for (index_t l = b0; l < b1; ++l) {
              double y = ws[l];
              for (index_t k = b0; k < l; ++k) y += Nat(l, k) * ws[k];
              Ya[l] = std::fabs(y);
            }
            auto minv_bb = [&](const std::vector<double>& x, index_t l) {
              double r = 0.0;
              for (index_t k = b0; k <= l; ++k)
                r += Minv[static_cast<std::size_t>(l * m + k)] * x[k];
              return r;
            };
            auto m_bb = [&](const std::vector<double>& x, index_t l) {
              double r = 0.0;
              for (index_t k = b0; k <= l; ++k) r += Ma(l, k) * x[k];
              return r;
            };
            // v3 = M_bb^-1 |M_bb| M_bb^-1 |Y| (the substitution), q the relative terms of the
            // products before X_bb is applied (M_bb^-1 q below).
            std::vector<double> v1(Wa.size()), v2(Wa.size()), v3(Wa.size()), q(Wa.size()),
                z(Wa.size());
            for (index_t l = b0; l < b1; ++l) v1[l] = minv_bb(Ya, l);
            for (index_t l = b0; l < b1; ++l) v2[l] = m_bb(v1, l);
            for (index_t l = b0; l < b1; ++l) v3[l] = minv_bb(v2, l);
            for (index_t l = b0; l < b1; ++l) {
              double off = 0.0;
              for (index_t k = 0; k < b0; ++k) off += std::fabs(Nat(l, k)) * Wa[k];
              q[l] = (e_R + e_sp + gA) * R[l] + (e_prod + e_W + gA + gM) * off +
                     eta * (R0[l] + A[l]);  // S's underflow, times X_bb and A
            }
            for (index_t l = b0; l < b1; ++l) {
              // Absolute terms: X_bb S_b's parts times A; the split W_k and M_lk (M_lk <=
              // sum (M_bb^-1)_lk' |N_k'k|) and M_lk's own operand parts; flushed sums; X_bb's
              // fp32 underflow through Y.
              double etas = 0.0;
              for (index_t k = b0; k <= l; ++k)
                etas += 2 * eta * A[k] + 2 * ftz + std::ldexp(16.0, -149) * Ya[k];
              for (index_t k = 0; k < b0; ++k) {
                double mlk = 0.0, emeta = 0.0;
                for (index_t k2 = b0; k2 <= l; ++k2) {
                  const double x = Minv[static_cast<std::size_t>(l * m + k2)],
                               n = std::fabs(Nat(k2, k));
                  mlk += x * n;
                  emeta += 2 * eta * (x + n) + 6 * eta * eta + n_p * ftz;
                }
                etas += 2 * eta * (Wa[k] + mlk) + 6 * eta * eta + n_p * ftz + emeta * Wa[k];
              }
              z[l] = gsub * v3[l] + minv_bb(q, l) + etas;
            }
            for (index_t l = b0; l < b1; ++l) {
              double en = 0.0;
              for (index_t k = 0; k < l; ++k)
                en += EN[static_cast<std::size_t>(l * m + k)] * Wa[k];
              out[l * D] = m_bb(z, l) + en;
            }
          }
        };
        std::vector<double> ws(static_cast<std::size_t>(m)), R(ws.size()), R0(ws.size()),
            Aa(ws.size());
        for (int which = 0; which < 2; ++which) {
          // gamma_l = expf(G_l) with the fp64 G rounded to fp32, times beta (fp32), then the
          // product with X_bb's entry: (|G| + 6) u + u, as e_P's; U: one product.
          const double e_R = u + (which == 0 && !in.g.empty() ? (Gmax + 6) * u : 0.0);
          for (index_t col = 0; col < D; ++col) {
            for (index_t l = 0; l < m; ++l) {
              const std::size_t e = static_cast<std::size_t>(((row0 + l) * H + h) * D + col);
              ws[l] = which == 0 ? ref.w[e] : ref.u[e];
              Aa[l] = std::fabs(which == 0 ? kat(l, col) : vat(l, col));
              R0[l] = std::fabs(bat(l)) * Aa[l];
              R[l] = R0[l] * (which == 0 && !in.g.empty()
                                  ? std::exp(G[static_cast<std::size_t>(l)])
                                  : 1.0);
            }
            column(ws, R, R0, Aa, e_R, &rho[static_cast<std::size_t>(which * m * D + col)]);
          }
        }
        if (c.with_inverse)
          for (index_t col = 0; col < m; ++col) {  // R = A = e_col, exact; X_bb's parts unscaled
            for (index_t l = 0; l < m; ++l) {
              ws[l] = X[static_cast<std::size_t>(l * m + col)];
              R[l] = Aa[l] = l == col ? 1.0 : 0.0;
              R0[l] = 0.0;
            }
            column(ws, R, R0, Aa, 0.0, &rho[static_cast<std::size_t>(2 * m * D + col)]);
          }
      }
      auto one = [&](const char* what, double got, double want, double bound, index_t i,
                     index_t j) {
        const double err = std::fabs(got - want);
        if (!(err <= bound)) {
          if (++fails <= 5)
            ADD_FAILURE() << what << " chunk row0 " << row0 << " head " << h << " (" << i << ", "
                          << j << "): got " << got << " want " << want << " error " << err
                          << " bound " << bound;
        } else if (bound > 0) {
          worst = std::max(worst, err / bound);
        }
      };
      for (index_t i = 0; i < m; ++i) {
        for (int which = 0; which < 2; ++which) {  // W, U
          for (index_t col = 0; col < D; ++col) {
            double bnd = 0.0;
            if (bsolve) {
              for (index_t l = 0; l <= i; ++l)
                bnd += Minv[static_cast<std::size_t>(i * m + l)] *
                       rho[static_cast<std::size_t>((which * m + l) * D + col)];
            } else if (kda && which == 0) {
              for (index_t l = 0; l <= i; ++l) {
                const double Gl = Gc(l, col);
                const double b = std::fabs(kat(l, col)) * std::exp(Gl);
                const double a = Minv[static_cast<std::size_t>(i * m + l)] * std::fabs(bat(l));
                const double ex = l < i ? EX[static_cast<std::size_t>(i * m + l)] : 0.0;
                const double e_PW = 6 * u + u * std::fabs(Gl) + e_prod + g_tcW;
                bnd +=
                    ex * std::fabs(bat(l)) * b + e_PW * a * b + 2 * eta * (a + b) + 6 * eta * eta;
              }
            }
            for (index_t l = 0; l <= i && !bsolve && !(kda && which == 0); ++l) {
              const double s = std::fabs(bat(l)) * (which == 0 && !G.empty() && !in.g.empty()
                                                        ? std::exp(G[static_cast<std::size_t>(l)])
                                                        : 1.0);
              const double b = std::fabs(which == 0 ? kat(l, col) : vat(l, col));
              const double ex = l < i ? EX[static_cast<std::size_t>(i * m + l)] : 0.0;
              bnd += (ex + e_P * Minv[static_cast<std::size_t>(i * m + l)]) * s * b;
              // Subnormal 16-bit operand parts: an absolute error of eta_in per hi and lo part.
              bnd += 2 * eta_in * b;
            }
            const std::size_t e = static_cast<std::size_t>(((row0 + i) * H + h) * D + col);
            const double want = which == 0 ? ref.w[e] : ref.u[e];
            const double got = decode_at(which == 0 ? gr.w : gr.u, c.out, e);
            one(which == 0 ? "W" : "U", got, want,
                uout * std::fabs(want) + eta_out + (1 + uout) * bnd, i, col);
          }
        }
        if (c.with_inverse)
          for (index_t j = 0; j < m; ++j) {
            const std::size_t e = static_cast<std::size_t>(((row0 + i) * H + h) * BT + j);
            const double want = X[static_cast<std::size_t>(i * m + j)];
            const double got = decode_at(gr.inv, c.out, e);
            double bnd = 0.0;  // above the diagonal: 0 exactly
            if (bsolve) {
              for (index_t l = j; l <= i; ++l)
                bnd += Minv[static_cast<std::size_t>(i * m + l)] *
                       rho[static_cast<std::size_t>((2 * m + l) * D + j)];
            } else if (j < i) {
              bnd = EX[static_cast<std::size_t>(i * m + j)];
            }
            one("X", got, want, uout * std::fabs(want) + eta_out + (1 + uout) * bnd, i, j);
          }
      }
    }
  }
  EXPECT_EQ(fails, 0) << fails << " entries over the bound";
  return worst;
}

// Every token row of [B, T] (or of the packed cu_seqlens sequences, which cover all rows)
// belongs to exactly one chunk: after a run no poison may be left in W or U.
void expect_all_written(const Case& c, const Inputs& in, const GpuResult& gr) {
  const std::size_t n = static_cast<std::size_t>(in.rows * c.heads * c.d);
  std::size_t poisoned = 0;
  for (std::size_t e = 0; e < n; ++e)
    poisoned += is_poison(gr.w, c.out, e) + is_poison(gr.u, c.out, e);
  EXPECT_EQ(poisoned, 0u) << "output entries left unwritten";
}

void run_one(const Case& c) {
  const Inputs in = make_inputs(c);
  const GpuResult gr = run_gpu(c, in);
  const CpuResult ref = run_cpu(c, in);
  expect_all_written(c, in, gr);
  for (std::size_t s = 0; s + 1 < gr.statuses.size(); ++s)
    ASSERT_EQ(gr.statuses[s], 0) << "status of chunk " << s;
  EXPECT_EQ(gr.statuses.back(), -1) << "statuses written past the end";
  EXPECT_EQ(gr.flag, 0);
  const double worst = check(c, in, gr, ref);
  std::printf("    %s gate %g BT %lld d %lld in %s out %s split %d reentry %d inverse %d: max "
              "error/bound %.3g\n",
              c.generator.c_str(), c.gate, static_cast<long long>(c.chunk),
              static_cast<long long>(c.d), std::string(gpu::dtype_name(c.in)).c_str(),
              std::string(gpu::dtype_name(c.out)).c_str(), static_cast<int>(c.split),
              static_cast<int>(c.rounded_reentry), static_cast<int>(c.with_inverse), worst);
}

// Each case with the inverse requested, then without it (W and U only: the launch that
// flash-linear-attention's recompute path and the delta forward's callers make).
void run_case(const Case& c) {
  TRISCAN_REQUIRE_GPU();
  run_one(c);
  if (c.with_inverse) {
    Case d = c;
    d.with_inverse = false;
    run_one(d);
  }
}

}  // namespace

TEST(ChunkWyGpu, DeltanetEveryChunkSize) {
  for (index_t bt : {32, 64, 128}) {
    Case c;
    c.chunk = bt;
    run_case(c);
  }
}

TEST(ChunkWyGpu, HeadDim64) {
  for (index_t bt : {32, 64}) {
    Case c;
    c.chunk = bt;
    c.d = 64;
    run_case(c);
  }
}

TEST(ChunkWyGpu, GeneratorFamilies) {
  for (const char* gen : {"deltanet-beta2", "deltanet-correlated", "deltanet-equal"}) {
    Case c;
    c.generator = gen;
    c.batch = 1;
    c.length = 130;
    run_case(c);
  }
}

TEST(ChunkWyGpu, GatedEveryGate) {
  for (double gate : {-1e-3, -0.1, -5.0}) {
    Case c;
    c.generator = "gated";
    c.gate = gate;
    run_case(c);
    c.cumulative_g = true;
    c.chunk = 32;
    run_case(c);
  }
}

// Positive log-decays among the negative ones: G not monotone within a chunk.
TEST(ChunkWyGpu, GatedRisingLogDecays) {
  for (double gate : {-0.1, -5.0}) {
    Case c;
    c.generator = "gated";
    c.gate = gate;
    c.rising_every = 7;
    run_case(c);
  }
}

TEST(ChunkWyGpu, DtypesAndUnsplitProducts) {
  Case c;
  c.out = DType::fp32;
  run_case(c);
  c.in = DType::fp16;
  c.out = DType::fp16;
  run_case(c);
  c.in = DType::bf16;
  c.out = DType::bf16;
  c.split = false;
  c.with_inverse = false;
  run_case(c);
}

TEST(ChunkWyGpu, VariableLengthSequences) {
  Case c;
  c.generator = "gated";
  c.batch = 1;
  c.length = 300;
  c.cu_seqlens = {0, 70, 75, 139, 300};
  run_case(c);
  c.generator = "deltanet";
  c.chunk = 128;
  run_case(c);
}

// Regular layouts whose length the chunk divides (every chunk whole): compiled for sm_90a, the
// blocked solve then moves K and V in and W and U out by bulk tensor copies (the other cases'
// lengths leave a partial chunk, and they take the cp.async path). Both head dims and 16-bit
// formats, a mixed pair, key heads grouped (2 of 4) and not, gated and not; the same bound.
TEST(ChunkWyGpu, WholeChunksOnly) {
  for (index_t d : {64, 128})
    for (DType t : {DType::bf16, DType::fp16}) {
      Case c;
      c.length = 256;
      c.d = d;
      c.in = c.out = t;
      c.generator = "gated";
      run_case(c);
      c.generator = "deltanet";
      c.key_heads = c.heads;
      run_case(c);
    }
  Case c;
  c.length = 128;
  c.in = DType::bf16;
  c.out = DType::fp16;
  c.generator = "gated";
  c.gate = -5.0;
  run_case(c);
}

// Rounded re-entry (WyGpuOptions::rounded_reentry): the blocked solve with each solved block row
// re-entering the later rows' products rounded once, against the fp64 reference under the
// bound with e_W for that term (check above): both head dims and 16-bit formats, whole chunks
// (bulk copies on sm_90a) and a partial one (cp.async), every gate, correlated keys, a mixed
// pair; then the option's reach: at chunk 64 it changes the outputs (the same inputs without
// it give other bits), and where the blocked solve does not serve the launch (chunk 32, fp32
// outputs, rounded products) it changes nothing, bit for bit.
TEST(ChunkWyGpu, RoundedReentry) {
  TRISCAN_REQUIRE_GPU();
  for (index_t d : {64, 128})
    for (DType t : {DType::bf16, DType::fp16}) {
      Case c;
      c.rounded_reentry = true;
      c.d = d;
      c.in = c.out = t;
      c.length = 256;
      c.generator = "gated";
      run_case(c);
      c.length = 200;
      c.generator = "deltanet-correlated";
      run_case(c);
    }
  for (double gate : {-1e-3, -5.0}) {
    Case c;
    c.rounded_reentry = true;
    c.generator = "gated";
    c.gate = gate;
    c.out = gate < -1 ? DType::fp16 : DType::bf16;
    run_case(c);
  }
  auto same = [](const GpuResult& x, const GpuResult& y) {
    return x.w == y.w && x.u == y.u && x.inv == y.inv && x.statuses == y.statuses;
  };
  Case c;
  c.generator = "gated";
  c.length = 256;
  {
    const Inputs in = make_inputs(c);
    Case r = c;
    r.rounded_reentry = true;
    EXPECT_FALSE(same(run_gpu(c, in), run_gpu(r, in)))
        << "chunk 64: rounded_reentry did not reach the blocked solve";
  }
  for (int k = 0; k < 3; ++k) {
    Case e = c;
    if (k == 0) e.chunk = 32;
    if (k == 1) e.out = DType::fp32;
    if (k == 2) e.split = false;
    const Inputs in = make_inputs(e);
    Case r = e;
    r.rounded_reentry = true;
    EXPECT_TRUE(same(run_gpu(e, in), run_gpu(r, in)))
        << "rounded_reentry changed a launch the blocked solve does not serve (case " << k << ")";
  }
}

// The blocked solve's two ways of moving tiles (chunk 64, 16-bit W and U): on sm_90a, when every
// chunk is whole, K and V come in and W and U go out by bulk tensor copies; with a partial chunk
// anywhere, every block copies by cp.async and 16-byte stores. 2048 chunks (B = 1, T = 16384,
// H = 8, more than an H200 holds at once: 132 SMs x 5 blocks): every chunk's W, U, inverse and
// status must be bit for bit those of the same inputs with one token more (a partial chunk at
// the end, so that no tensor maps are formed: the path that VariableLengthSequences and the
// partial-chunk cases check against the fp64 reference under the derived bound). Where the
// bulk path is not taken (other GPUs, or a failed encode), both runs take cp.async and agree
// trivially: this proves the copies right, not that they are used. Then statuses: a NaN in v
// and an overflowing beta in chunks late in the grid, each flagged on its own chunk only.
TEST(ChunkWyGpu, BulkCopiesMatchCpAsyncBitForBit) {
  TRISCAN_REQUIRE_GPU();
  Case c;
  c.generator = "gated";
  c.batch = 1;
  c.length = 16384;  // 256 chunks of 64
  c.heads = 8;
  c.key_heads = 4;
  const std::size_t H = 8, T = 16384, nchunks = 2048;
  auto first_diff = [](const std::vector<unsigned char>& x, const std::vector<unsigned char>& y,
                       std::size_t bytes) {
    for (std::size_t e = 0; e < bytes; ++e)
      if (x[e] != y[e]) return static_cast<long long>(e);
    return -1LL;
  };
  auto append_last = [](std::vector<unsigned char>& b, std::size_t bytes) {
    const std::vector<unsigned char> last(b.end() - static_cast<std::ptrdiff_t>(bytes), b.end());
    b.insert(b.end(), last.begin(), last.end());
  };
  for (index_t d : {64, 128}) {
    c.d = d;
    const std::size_t D = static_cast<std::size_t>(d);
    const Inputs in = make_inputs(c);
    Inputs in1 = in;  // one token more: a copy of the last
    Case c1 = c;
    c1.length = c.length + 1;
    in1.layout.length = c1.length;
    in1.rows = in.rows + 1;
    append_last(in1.kb, 2 * D * static_cast<std::size_t>(c.key_heads));
    append_last(in1.vb, 2 * D * H);
    append_last(in1.betab, 2 * H);
    in1.gf.insert(in1.gf.end(), in.gf.end() - static_cast<std::ptrdiff_t>(H), in.gf.end());
    const GpuResult one = run_gpu(c1, in1);
    for (bool inverse : {true, false}) {
      c.with_inverse = inverse;
      const GpuResult pg = run_gpu(c, in);
      expect_all_written(c, in, pg);
      const std::size_t wbytes = T * H * D * 2, ibytes = T * H * 64 * 2;
      EXPECT_EQ(first_diff(pg.w, one.w, wbytes), -1) << "W, d " << d << " inverse " << inverse;
      EXPECT_EQ(first_diff(pg.u, one.u, wbytes), -1) << "U, d " << d << " inverse " << inverse;
      if (inverse) {
        EXPECT_EQ(first_diff(pg.inv, one.inv, ibytes), -1) << "inverse, d " << d;
      }
      ASSERT_EQ(pg.statuses.size(), nchunks + 1);
      for (std::size_t s = 0; s < nchunks; ++s) ASSERT_EQ(pg.statuses[s], 0) << "chunk " << s;
      EXPECT_EQ(pg.statuses[nchunks], -1) << "statuses written past the end";
      EXPECT_EQ(pg.flag, 0);
    }
    c.with_inverse = true;
  }
  c.with_inverse = false;
  c.generator = "deltanet";  // keys of norm 1: beta = 3e38 puts N beyond fp32 (as below)
  Inputs in = make_inputs(c);
  // Chunk q = r H + h: chunk row r, head h.
  const std::size_t nan_chunk = 1500, big_chunk = 2043;
  const std::size_t nan_row = nan_chunk / H, big_row = big_chunk / H;  // rows 187, 255
  set16(c, in.vb, ((nan_row * 64 + 7) * H + nan_chunk % H) * static_cast<std::size_t>(c.d) + 5,
        std::nan(""));
  for (std::size_t i = 0; i < 64; ++i)
    set16(c, in.betab, (big_row * 64 + i) * H + big_chunk % H, 3e38);
  const GpuResult gr = run_gpu(c, in);
  const std::int32_t nonfinite = static_cast<std::int32_t>(Status::nonfinite_input),
                     overflow = static_cast<std::int32_t>(Status::overflow);
  ASSERT_EQ(gr.statuses.size(), nchunks + 1);
  for (std::size_t s = 0; s < nchunks; ++s)
    EXPECT_EQ(gr.statuses[s], s == nan_chunk ? nonfinite : s == big_chunk ? overflow : 0)
        << "chunk row " << s / H << " head " << s % H;
  EXPECT_EQ(gr.statuses[nchunks], -1);
  EXPECT_EQ(gr.flag, std::max(nonfinite, overflow));
}

// More chunk rows than a grid's y extent holds (65535): the blocked solve (chunk 64, 16-bit
// outputs) launches a (heads, chunk rows) grid up to 65535 rows and a one-dimensional grid
// beyond, where each block finds its head and chunk row by division. 65,600 sequences, most of
// one token, every 4096th of 130 (three chunks, a partial one among them), two heads sharing a
// key head: every chunk's W, U and inverse against the fp64 reference under the same bound.
TEST(ChunkWyGpu, MoreChunkRowsThanAGridDimension) {
  Case c;
  c.generator = "gated";
  c.batch = 1;
  c.heads = 2;
  c.key_heads = 1;
  c.d = 64;
  c.cu_seqlens = {0};
  for (int s = 0; s < 65600; ++s)
    c.cu_seqlens.push_back(c.cu_seqlens.back() + (s % 4096 ? 1 : 130));
  c.length = c.cu_seqlens.back();
  run_case(c);
}

TEST(ChunkWyGpu, NonFiniteInputAndOverflowStatuses) {
  TRISCAN_REQUIRE_GPU();
  Case c;
  c.batch = 1;
  c.length = 256;  // 4 chunks of 64
  c.heads = 2;
  c.key_heads = 2;
  Inputs in = make_inputs(c);
  // Chunk 1, head 0: a NaN in v; chunk 2, head 1: beta = Inf; chunk 3, head 0: beta = 3e38
  // with keys of norm 1 (finite input, N beyond fp32 after the products).
  set16(c, in.vb, static_cast<std::size_t>(((64 + 5) * 2 + 0) * c.d + 3), std::nan(""));
  set16(c, in.betab, static_cast<std::size_t>((128 + 9) * 2 + 1),
        std::numeric_limits<double>::infinity());
  for (index_t i = 192; i < 256; ++i)
    set16(c, in.betab, static_cast<std::size_t>(i * 2 + 0), 3e38);
  const GpuResult gr = run_gpu(c, in);
  const std::int32_t ok = 0, nonfinite = static_cast<std::int32_t>(Status::nonfinite_input),
                     overflow = static_cast<std::int32_t>(Status::overflow);
  const std::vector<std::int32_t> want = {ok, ok, nonfinite, ok, ok, nonfinite, overflow, ok};
  for (std::size_t s = 0; s < want.size(); ++s)
    EXPECT_EQ(gr.statuses[s], want[s]) << "chunk " << s / 2 << " head " << s % 2;
  EXPECT_EQ(gr.flag, std::max(nonfinite, overflow));
}

TEST(ChunkWyGpu, BadArgumentsThrowBeforeLaunch) {
  TRISCAN_REQUIRE_GPU();
  ChunkLayout L;
  L.batch = 1;
  L.length = 64;
  L.heads = 1;
  L.chunk = 64;
  gpu::ChunkPlan plan(L);
  gpu::DeviceBytes buf(1 << 20);
  auto* base = static_cast<unsigned char*>(buf.data());
  gpu::WyGpuInputs gi;
  gi.k = base;
  gi.v = base + 65536;
  gi.beta = base + 2 * 65536;
  gi.g = reinterpret_cast<const float*>(base + 3 * 65536);
  gpu::WyGpuOutputs go;
  go.w = base + 4 * 65536;
  go.u = base + 6 * 65536;
  auto expect_throw = [&](const gpu::WyGpuInputs& i, const gpu::WyGpuOutputs& o, WyFamily f,
                          const char* what, const gpu::WyGpuOptions& opt = {}) {
    try {
      gpu::chunk_wy(f, plan, i, o, opt);
      ADD_FAILURE() << "no exception for " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_throw(gi, go, WyFamily::dplr, "dplr");
  {
    gpu::WyGpuInputs kb = gi;
    kb.g = nullptr;
    expect_throw(kb, go, WyFamily::kda, "null g");
    // kda's g is [B, T, H, dk] fp32 (64 x 128 x 4 = 32 KiB here): 1 KiB below w overlaps it,
    // where gated's [B, T, H] (256 bytes) would not.
    kb = gi;
    kb.g = reinterpret_cast<const float*>(base + 4 * 65536 - 1024);
    expect_throw(kb, go, WyFamily::kda, "output w overlaps input g");
    kb.g = reinterpret_cast<const float*>(base + 3 * 65536 + 4);
    expect_throw(kb, go, WyFamily::kda, "g is not 16-byte aligned");
    kb = gi;
    kb.dk = kb.dv = 96;
    expect_throw(kb, go, WyFamily::kda, "dk = 96");
  }
  gpu::WyGpuInputs bad = gi;
  bad.dtype = DType::fp32;
  expect_throw(bad, go, WyFamily::deltanet, "fp32");
  bad = gi;
  bad.dk = bad.dv = 96;
  expect_throw(bad, go, WyFamily::deltanet, "dk = 96");
  bad = gi;
  bad.v = nullptr;
  expect_throw(bad, go, WyFamily::deltanet, "null v");
  bad = gi;
  bad.k = base + 2;
  expect_throw(bad, go, WyFamily::deltanet, "k is not 16-byte aligned");
  bad = gi;
  bad.g = nullptr;
  expect_throw(bad, go, WyFamily::gated, "null g");
  bad = gi;
  bad.key_heads = 3;
  expect_throw(bad, go, WyFamily::deltanet, "key_heads");
  gpu::WyGpuOutputs bo = go;
  bo.u = base + 65536;  // = v
  expect_throw(gi, bo, WyFamily::deltanet, "overlaps input v");
  bo = go;
  bo.u = base + 4 * 65536 + 16;
  expect_throw(gi, bo, WyFamily::deltanet, "outputs u and w overlap");
  gpu::WyGpuOptions opt;
  opt.method = MethodSpec::parse("trinv/forward_substitution");
  expect_throw(gi, go, WyFamily::deltanet, "not fused", opt);
  L.chunk = 16;
  gpu::ChunkPlan plan16(L);
  try {
    gpu::chunk_wy(WyFamily::deltanet, plan16, gi, go);
    ADD_FAILURE() << "no exception for BT = 16";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("chunk size 16"), std::string::npos) << e.what();
  }
}

// ---- kda: per-channel log-decays (bound in the header comment) ---------------------------

TEST(ChunkWyGpu, KdaEveryGate) {
  for (double gate : {-1e-3, -0.1, -5.0}) {
    Case c;
    c.generator = "kda";
    c.gate = gate;
    run_case(c);
    c.cumulative_g = true;
    c.chunk = 32;
    run_case(c);
  }
}

TEST(ChunkWyGpu, KdaBase2Gates) {
  Case c;
  c.generator = "kda";
  c.log2_g = true;
  run_case(c);
  c.cumulative_g = true;  // as flash-linear-attention passes them
  c.gate = -5.0;
  run_case(c);
}

TEST(ChunkWyGpu, KdaEveryChunkSizeAndHeadDim) {
  for (index_t bt : {32, 64, 128})
    for (index_t d : {64, 128}) {
      if (bt == 128 && d == 64) continue;  // BT = 128 needs dk = dv = 128
      Case c;
      c.generator = "kda";
      c.chunk = bt;
      c.d = d;
      c.batch = 1;
      c.length = 2 * bt + 11;  // a partial last chunk
      run_case(c);
    }
}

TEST(ChunkWyGpu, KdaDtypesAndUnsplitProducts) {
  Case c;
  c.generator = "kda";
  c.gate = -0.5;
  c.out = DType::fp32;
  run_case(c);
  c.in = DType::fp16;
  c.out = DType::fp16;
  run_case(c);
  c.gate = -5.0;  // operands far below fp16's normal range
  run_case(c);
  c.in = DType::bf16;
  c.out = DType::bf16;
  c.gate = -0.1;
  c.split = false;
  c.with_inverse = false;
  run_case(c);
}

TEST(ChunkWyGpu, KdaVariableLengthSequences) {
  Case c;
  c.generator = "kda";
  c.batch = 1;
  c.length = 300;
  c.cu_seqlens = {0, 70, 75, 139, 300};
  run_case(c);
  c.chunk = 128;
  c.cumulative_g = true;
  run_case(c);
}

TEST(ChunkWyGpu, KdaNonFiniteGateAndOverflowStatuses) {
  TRISCAN_REQUIRE_GPU();
  Case c;
  c.generator = "kda";
  c.batch = 1;
  c.length = 256;  // 4 chunks of 64
  c.heads = 2;
  c.key_heads = 2;
  Inputs in = make_inputs(c);
  const index_t H = c.heads, D = c.d;
  auto gat = [&](index_t row, index_t h, index_t ch) -> float& {
    return in.gf[static_cast<std::size_t>((row * H + h) * D + ch)];
  };
  // Chunk 1, head 0: NaN in channel 7 of token 69; chunk 2, head 1: -inf in the last channel
  // of the chunk's last token (no later token reads it); chunk 3, head 0: finite log-decays
  // +100 per token in channel 0 (exp(G) beyond fp32: the outputs overflow).
  gat(64 + 5, 0, 7) = std::nanf("");
  gat(191, 1, D - 1) = -std::numeric_limits<float>::infinity();
  for (index_t i = 192; i < 256; ++i) gat(i, 0, 0) = 100.0f;
  const GpuResult gr = run_gpu(c, in);
  const std::int32_t ok = 0, nonfinite = static_cast<std::int32_t>(Status::nonfinite_input),
                     overflow = static_cast<std::int32_t>(Status::overflow);
  const std::vector<std::int32_t> want = {ok, ok, nonfinite, ok, ok, nonfinite, overflow, ok};
  for (std::size_t s = 0; s < want.size(); ++s)
    EXPECT_EQ(gr.statuses[s], want[s]) << "chunk " << s / 2 << " head " << s % 2;
  EXPECT_EQ(gr.flag, std::max(nonfinite, overflow));
}
