// validation/mpfr/delta_forward.cpp — run_delta_forward_case
// (validation/chunk_wy_experiment.hpp): the chunkwise forward against the token
// recurrence in MPFR, with the first-order bound of docs/wy.md computed from MPFR
// quantities.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "triscan/delta.hpp"
#include "triscan/metrics.hpp"
#include "triscan/reference.hpp"
#include "validation/chunk_wy_experiment.hpp"

namespace triscan::validation {
namespace {

using Mp = std::vector<mp_float>;

class DefaultMpBits {
 public:
  explicit DefaultMpBits(unsigned bits) : saved_(mp_float::default_precision()) {
    mp_float::default_precision(bits * 30103u / 100000u + 2u);
  }
  ~DefaultMpBits() { mp_float::default_precision(saved_); }
  DefaultMpBits(const DefaultMpBits&) = delete;
  DefaultMpBits& operator=(const DefaultMpBits&) = delete;

 private:
  unsigned saved_;
};

double fro(const Mp& x) {
  mp_float s = 0;
  for (const auto& v : x) s += v * v;
  return static_cast<double>(sqrt(s));
}

}  // namespace

DeltaForwardRecord run_delta_forward_case(const DeltaForwardCase& c) {
  const bool delta_gen = c.generator.name.rfind("deltanet", 0) == 0;
  WyFamily f;
  if (c.family == "deltanet" && delta_gen)
    f = WyFamily::deltanet;
  else if (c.family == "gated" && c.generator.name == "gated")
    f = WyFamily::gated;
  else if (c.family == "kda" && c.generator.name == "kda")
    f = WyFamily::kda;
  else
    throw std::invalid_argument("--generator: '" + c.generator.name + "' does not fit family '" +
                                c.family + "' (deltanet: deltanet*; gated: gated; kda: kda)");
  ChunkLayout layout;
  layout.length = c.length;
  layout.heads = c.heads;
  layout.chunk = c.chunk;
  GeneratorParams gp = c.generator;
  gp.n = std::min<index_t>(c.chunk, 16384);
  const ChunkProblem prob = make_chunk_problem(gp, layout);
  const index_t T = c.length, H = c.heads;
  const index_t dk = prob.tensors.at("k").shape.back(), dv = prob.tensors.at("v").shape.back();
  const bool gated = f != WyFamily::deltanet, pc = f == WyFamily::kda;
  const index_t gw = pc ? dk : 1;
  const Format& st = c.precision.storage;
  auto rounded = [&](const char* name) {
    std::vector<double> x = prob.tensors.at(name).data;
    for (double& v : x) v = round(v, st, Rounding::nearest_even);
    return x;
  };
  const std::vector<double> q = rounded("q"), k = rounded("k"), v = rounded("v"),
                            beta = rounded("beta"),
                            g = gated ? rounded("g_token") : std::vector<double>();
  std::vector<double> S0(static_cast<std::size_t>(H * dv * dk), 0.0);
  if (c.initial_state) {
    Rng rng(c.generator.seed, {0x5354415445ull});  // "STATE"
    for (double& x : S0)
      x = round(rng.normal() / std::sqrt(static_cast<double>(dk)), c.state_format,
                Rounding::nearest_even);
  }

  // ---- the method ------------------------------------------------------------------
  DeltaForwardOptions opt;
  opt.method = c.method;
  opt.precision = c.precision;
  opt.state_format = c.state_format;
  opt.threads = 1;
  std::vector<double> O(static_cast<std::size_t>(T * H * dv)), S(S0.size());
  DeltaForwardRecord rec;
  const Format& fp32 = format_by_name("fp32");
  auto d = [](const std::vector<double>& x) { return x.empty() ? nullptr : x.data(); };
  if (c.precision.is_native(fp32) && c.state_format == fp32) {
    auto tf = [](const std::vector<double>& x) { return std::vector<float>(x.begin(), x.end()); };
    const auto qf = tf(q), kf = tf(k), vf = tf(v), bf = tf(beta), gf = tf(g), sf = tf(S0);
    std::vector<float> Of(O.size()), Sf(S.size());
    auto df = [](const std::vector<float>& x) { return x.empty() ? nullptr : x.data(); };
    rec.status = delta_forward(
        f, layout, DeltaInputs<float>{df(qf), df(kf), df(vf), df(bf), df(gf), df(sf), dk, dv, 0},
        Of.data(), Sf.data(), opt);
    std::copy(Of.begin(), Of.end(), O.begin());
    std::copy(Sf.begin(), Sf.end(), S.begin());
  } else {
    rec.status = delta_forward(
        f, layout, DeltaInputs<double>{d(q), d(k), d(v), d(beta), d(g), d(S0), dk, dv, 0}, O.data(),
        S.data(), opt);
  }

  // ---- the reference and the bound -------------------------------------------------
  const DefaultMpBits guard(reference_bits_for(c.precision.operand));
  const double u = c.precision.working_unit_roundoff(), us = c.state_format.unit_roundoff();
  mp_float err_o = 0, ref_o = 0, err_s = 0, ref_s = 0;
  double bound_o2 = 0, bound_s_num = 0, bound_s_den2 = 0;
  for (index_t h = 0; h < H; ++h) {
    auto at = [&](index_t t, index_t w) { return (t * H + h) * w; };
    Mp Sm(static_cast<std::size_t>(dv * dk));
    for (index_t e = 0; e < dv * dk; ++e) Sm[e] = S0[h * dv * dk + e];
    double delta_state = 0;  // accumulated absolute state-error bound
    for (index_t t0 = 0; t0 < T; t0 += c.chunk) {
      const index_t m = std::min(c.chunk, T - t0);
      // in-chunk cumulative log-decays G (exact), decays exp(G_i - G_j)
      Mp G(static_cast<std::size_t>(m * gw), mp_float(0));
      for (index_t i = 0; i < m && gated; ++i)
        for (index_t ch = 0; ch < gw; ++ch)
          G[i * gw + ch] = (i ? G[(i - 1) * gw + ch] : mp_float(0)) + g[at(t0 + i, gw) + ch];
      // exp(G_i - G_j) = exp(G_i) exp(-G_j): exact to the reference precision (MPFR's
      // exponent range holds both factors), one exponential per row and channel
      Mp eG(G.size(), mp_float(1)), eGinv(G.size(), mp_float(1));
      for (std::size_t e = 0; e < G.size() && gated; ++e) {
        eG[e] = exp(G[e]);
        eGinv[e] = exp(-G[e]);
      }
      const mp_float one = 1;
      auto dec = [&](index_t i, index_t j, index_t ch) -> mp_float {  // j = -1: G = 0
        if (!gated) return one;
        const index_t cc = pc ? ch : 0;
        return j < 0 ? eG[i * gw + cc] : mp_float(eG[i * gw + cc] * eGinv[j * gw + cc]);
      };
      Mp N(static_cast<std::size_t>(m * m), mp_float(0)),
          Mq(static_cast<std::size_t>(m * m), mp_float(0));
      Matrix<double> L = Matrix<double>::identity(m), Lbar = Matrix<double>::identity(m);
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j <= i; ++j) {
          mp_float s = 0, sq = 0, sa = 0;
          for (index_t ch = 0; ch < dk; ++ch) {
            const mp_float dd = pc ? dec(i, j, ch) : mp_float(1);
            const mp_float kk = mp_float(k[at(t0 + i, dk) + ch]) * k[at(t0 + j, dk) + ch] * dd;
            s += kk;
            sa += abs(kk);
            sq += mp_float(q[at(t0 + i, dk) + ch]) * k[at(t0 + j, dk) + ch] * dd;
          }
          const mp_float ds = pc ? mp_float(1) : dec(i, j, 0);
          Mq[i * m + j] = sq * ds;
          if (j < i) {
            const double b = beta[at(t0 + i, 1)];
            N[i * m + j] = b * s * ds;
            L(i, j) = static_cast<double>(N[i * m + j]);
            Lbar(i, j) = static_cast<double>(std::fabs(b) * sa * ds);
          }
        }
      // W, U rows: w_r = beta_r γ_r ⊙ k_r - sum N_ri w_i, u_r = beta_r v_r - sum N_ri u_i
      Mp W(static_cast<std::size_t>(m * dk)), U(static_cast<std::size_t>(m * dv)), E(W.size()),
          Qg(W.size());
      for (index_t r = 0; r < m; ++r) {
        const double b = beta[at(t0 + r, 1)];
        for (index_t ch = 0; ch < dk; ++ch) {
          W[r * dk + ch] = b * mp_float(k[at(t0 + r, dk) + ch]) * dec(r, -1, ch);
          E[r * dk + ch] = dec(m - 1, r, ch) * k[at(t0 + r, dk) + ch];
          Qg[r * dk + ch] = dec(r, -1, ch) * q[at(t0 + r, dk) + ch];
        }
        for (index_t j = 0; j < dv; ++j) U[r * dv + j] = b * mp_float(v[at(t0 + r, dv) + j]);
        for (index_t i = 0; i < r; ++i) {
          for (index_t ch = 0; ch < dk; ++ch) W[r * dk + ch] -= N[r * m + i] * W[i * dk + ch];
          for (index_t j = 0; j < dv; ++j) U[r * dv + j] -= N[r * m + i] * U[i * dv + j];
        }
      }
      // The chunk's WY bound (wy_error_bound: absolute Frobenius bounds on dW, dU) and the
      // norms of the chunk's factors, all from MPFR quantities.
      const Matrix<double> X = reference_inverse_double(L.view(), Triangle::lower, Diagonal::unit);
      double xf = 0, maxG = 0;
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j <= i; ++j) xf += X(i, j) * X(i, j);
      for (const auto& x : G) maxG = std::max(maxG, std::fabs(static_cast<double>(x)));
      rec.max_kappa_majorant =
          std::max(rec.max_kappa_majorant, std::sqrt(xf) * norm_frobenius(Lbar.view()));
      const double gate_term = gated ? static_cast<double>(m) * u * maxG : 0.0;
      Matrix<double> absX(m, m), absN(m, m), Nbar(m, m), absBw(m, dk), absBu(m, dv), absW(m, dk),
          absU(m, dv);
      for (index_t i = 0; i < m; ++i) {
        const double b = std::fabs(beta[at(t0 + i, 1)]);
        for (index_t j = 0; j <= i; ++j) {
          absX(i, j) = std::fabs(X(i, j));
          if (j < i) {
            absN(i, j) = std::fabs(L(i, j));
            Nbar(i, j) = Lbar(i, j);
          }
        }
        for (index_t ch = 0; ch < dk; ++ch) {
          absBw(i, ch) =
              b * std::fabs(static_cast<double>(dec(i, -1, ch) * k[at(t0 + i, dk) + ch]));
          absW(i, ch) = std::fabs(static_cast<double>(W[i * dk + ch]));
        }
        for (index_t j = 0; j < dv; ++j) {
          absBu(i, j) = b * std::fabs(v[at(t0 + i, dv) + j]);
          absU(i, j) = std::fabs(static_cast<double>(U[i * dv + j]));
        }
      }
      const double e_N = static_cast<double>(dk + 3) * u + 2 * gate_term, e_B = 2 * u + gate_term;
      const double dW = wy_error_bound(absX, absN, Nbar, absBw, absW, u, e_N, e_B);
      const double dU = wy_error_bound(absX, absN, Nbar, absBu, absU, u, e_N, e_B);
      // U' = U - W S^T (exact)
      Mp Up(static_cast<std::size_t>(m * dv));
      for (index_t i = 0; i < m; ++i)
        for (index_t r = 0; r < dv; ++r) {
          mp_float s = U[i * dv + r];
          for (index_t ch = 0; ch < dk; ++ch) s -= W[i * dk + ch] * Sm[r * dk + ch];
          Up[i * dv + r] = s;
        }
      const double nS = fro(Sm), nW = fro(W), nE = fro(E), nQ = fro(Qg), nM = fro(Mq),
                   nUp = fro(Up);
      const double nQraw = std::sqrt(static_cast<double>(m));  // unit queries
      const double dk2 = static_cast<double>(dk + 2) * u;
      // new error in U' (from dU, dW S and the product W S^T): ||.||_F <= this
      const double dUp = dU + dW * nS + dk2 * nW * nS + u * nUp;
      // outputs: the state error so far, carried exactly (contractive prefix products,
      // unit q), plus this chunk's new errors (c = 2: first order)
      const double dO =
          delta_state * nQraw + 2 * (dUp * nM + (dk2 + e_B) * nQ * nS +
                                     ((static_cast<double>(m) + 2) * u + e_N) * nM * nUp);
      bound_o2 += dO * dO;
      // the token recurrence through the chunk
      for (index_t i = 0; i < m; ++i) {
        const index_t t = t0 + i;
        const double b = beta[at(t, 1)];
        Mp alpha(static_cast<std::size_t>(gw), mp_float(1));  // the token's decay exp(g_t)
        for (index_t ch = 0; ch < gw && gated; ++ch) alpha[ch] = exp(mp_float(g[at(t, gw) + ch]));
        for (index_t r = 0; r < dv; ++r) {
          mp_float sa = 0;
          for (index_t ch = 0; ch < dk; ++ch) {
            if (gated) Sm[r * dk + ch] *= alpha[pc ? ch : 0];
            sa += Sm[r * dk + ch] * k[at(t, dk) + ch];
          }
          const mp_float coef = b * (mp_float(v[at(t, dv) + r]) - sa);
          mp_float o = 0;
          for (index_t ch = 0; ch < dk; ++ch) {
            Sm[r * dk + ch] += coef * k[at(t, dk) + ch];
            o += Sm[r * dk + ch] * q[at(t, dk) + ch];
          }
          const mp_float e = O[at(t, dv) + r] - o;
          err_o += e * e;
          ref_o += o * o;
        }
      }
      // state: S' = S Γ_C + U'^T E; the earlier error is carried by the (contractive) chunk
      // transition, the new one is the error of U'^T E and of S Γ_C, plus the state rounding
      delta_state += 2 * (dUp * nE + ((static_cast<double>(m) + 1) * u + e_B) * nUp * nE +
                          (u + gate_term) * nS) +
                     us * fro(Sm);
    }
    for (index_t e = 0; e < dv * dk; ++e) {
      const mp_float d2 = S[h * dv * dk + e] - Sm[e];
      err_s += d2 * d2;
      ref_s += Sm[e] * Sm[e];
    }
    bound_s_num += delta_state * delta_state;
    bound_s_den2 += fro(Sm) * fro(Sm);
  }
  rec.output_error = ref_o == 0 ? 0.0 : static_cast<double>(sqrt(err_o / ref_o));
  rec.state_error = ref_s == 0 ? 0.0 : static_cast<double>(sqrt(err_s / ref_s));
  // + the final rounding of o to the output format (relative u_out per entry)
  rec.output_bound =
      std::sqrt(bound_o2) / static_cast<double>(sqrt(ref_o)) + c.precision.output.unit_roundoff();
  rec.state_bound = std::sqrt(bound_s_num / bound_s_den2);
  rec.has_metrics = true;
  return rec;
}

}  // namespace triscan::validation
