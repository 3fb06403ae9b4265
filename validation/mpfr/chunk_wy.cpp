// validation/mpfr/chunk_wy.cpp — run_chunk_wy_case (validation/chunk_wy_experiment.hpp):
// one chunk's WY factors against the token-by-token recurrence in MPFR.
//
// The recurrence (include/triscan/wy.hpp, docs/wy.md), from the same rounded inputs:
//   P_t = P_{t-1} D_t (I - a_t b_t^T),          P_0 = I
//   S_t = S_{t-1} D_t (I - a_t b_t^T) + vt_t b_t^T,  S_0 = 0
// with D_t = diag(exp(G_t - G_{t-1})) (scalar for gated, I for deltanet), a_t = beta_t k_t,
// b_t = k_t, vt_t = beta_t v_t for the delta families and a, b, v for dplr.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "triscan/metrics.hpp"
#include "triscan/reference.hpp"
#include "triscan/wy.hpp"
#include "validation/chunk_wy_experiment.hpp"

namespace triscan::validation {
namespace {

using MpMat = std::vector<std::vector<mp_float>>;

MpMat mp_zeros(index_t r, index_t c) {
  return MpMat(r, std::vector<mp_float>(c, mp_float(0)));
}

// Boost 1.74 keeps mp_float's default precision process-wide: set it for the case and
// restore it afterwards (the experiment is single-threaded; see the header).
class DefaultMpPrecision {
 public:
  explicit DefaultMpPrecision(unsigned bits) : saved_(mp_float::default_precision()) {
    mp_float::default_precision(bits * 30103u / 100000u + 2u);  // decimal digits for >= bits bits
  }
  ~DefaultMpPrecision() { mp_float::default_precision(saved_); }
  DefaultMpPrecision(const DefaultMpPrecision&) = delete;
  DefaultMpPrecision& operator=(const DefaultMpPrecision&) = delete;

 private:
  unsigned saved_;
};

// ||X - R||_F / ||R||_F in MPFR, 0/0 := 0, x/0 := inf.
double relative_frobenius(const MpMat& X, const MpMat& R) {
  mp_float num = 0, den = 0;
  for (std::size_t i = 0; i < R.size(); ++i)
    for (std::size_t j = 0; j < R[i].size(); ++j) {
      const mp_float d = X[i][j] - R[i][j];
      num += d * d;
      den += R[i][j] * R[i][j];
    }
  if (den == 0) return num == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return static_cast<double>(sqrt(num / den));
}

bool all_finite(const std::vector<double>& x) {
  return std::all_of(x.begin(), x.end(), [](double v) { return std::isfinite(v); });
}

const Tensor& tensor(const ChunkProblem& p, const char* name) {
  auto it = p.tensors.find(name);
  if (it == p.tensors.end())
    throw std::invalid_argument(std::string("--generator: '") + name +
                                "' tensor missing from the generator");
  return it->second;
}

}  // namespace

double wy_error_bound(const Matrix<double>& absX, const Matrix<double>& absN,
                      const Matrix<double>& Nbar, const Matrix<double>& absB,
                      const Matrix<double>& absW, double u, double e_N, double e_B) {
  const index_t m = absX.rows(), w = absB.cols();
  const double mu = static_cast<double>(m) * u;
  Matrix<double> Y(m, w), Z(m, w);
  for (index_t i = 0; i < m; ++i)  // Y = |X| |B|
    for (index_t l = 0; l <= i; ++l)
      for (index_t j = 0; j < w; ++j) Y(i, j) += absX(i, l) * absB(l, j);
  for (index_t i = 0; i < m; ++i)  // Z = (e_N Nbar + m u (I + |N|)) Y
    for (index_t l = 0; l <= i; ++l) {
      const double f = l == i ? mu : e_N * Nbar(i, l) + mu * absN(i, l);
      for (index_t j = 0; j < w; ++j) Z(i, j) += f * Y(l, j);
    }
  double s = 0;
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < w; ++j) {
      double e = (mu + e_B) * Y(i, j) + u * absW(i, j);
      for (index_t l = 0; l <= i; ++l) e += absX(i, l) * Z(l, j);
      s += e * e;
    }
  return 2.0 * std::sqrt(s);
}

const std::vector<std::string>& chunk_wy_representations() {
  static const std::vector<std::string> names = {"deltanet", "gated", "kda", "deltaproduct",
                                                 "dplr"};
  return names;
}

WyFamily chunk_wy_family(const std::string& rep, const std::string& gen) {
  const bool delta_gen = gen.rfind("deltanet", 0) == 0;
  WyFamily family;
  if (rep == "deltanet" && delta_gen)
    family = WyFamily::deltanet;
  else if (rep == "gated" && gen == "gated")
    family = WyFamily::gated;
  else if (rep == "kda" && gen == "kda")
    family = WyFamily::kda;
  else if (rep == "dplr" && gen == "dplr")
    family = WyFamily::dplr;
  else if (rep == "deltaproduct" && delta_gen)
    family = WyFamily::deltanet;
  else if (rep == "deltaproduct" && gen == "gated")
    family = WyFamily::gated;
  else if (std::find(chunk_wy_representations().begin(), chunk_wy_representations().end(), rep) ==
           chunk_wy_representations().end())
    throw std::invalid_argument(
        "--representation: 'chunk/" + rep +
        "' is unknown (chunk/deltanet, chunk/gated, chunk/kda, chunk/deltaproduct, chunk/dplr)");
  else
    throw std::invalid_argument(
        "--generator: '" + gen + "' does not fit chunk/" + rep +
        " (deltanet, deltaproduct: deltanet*; gated: gated; kda: kda; dplr: dplr)");
  return family;
}

ChunkWyRecord run_chunk_wy_case(const ChunkWyCase& c) {
  const std::string& rep = c.representation;
  const WyFamily family = chunk_wy_family(rep, c.generator.name);
  if (c.chunk < 1 || c.chunk > 1024)
    throw std::invalid_argument("--n: chunk size " + std::to_string(c.chunk) +
                                " outside 1 .. 1024");
  if (c.householder_steps < 1 || c.householder_steps > 64)
    throw std::invalid_argument("--householder-steps: " + std::to_string(c.householder_steps) +
                                " outside 1 .. 64");
  const bool product = rep == "deltaproduct";
  const index_t nh = product ? c.householder_steps : 1;
  const index_t n = c.chunk * nh;  // rows of the chunk matrix (interleaved steps)

  ChunkLayout layout;
  layout.batch = 1;
  layout.length = n;
  layout.heads = 1;
  layout.chunk = n;
  GeneratorParams gp = c.generator;
  gp.n = n;
  const ChunkProblem prob = make_chunk_problem(gp, layout);
  const index_t dk = tensor(prob, family == WyFamily::dplr ? "a" : "k").shape.back();
  const index_t dv = tensor(prob, "v").shape.back();
  const bool gated = family != WyFamily::deltanet;
  const bool per_channel = family == WyFamily::kda || family == WyFamily::dplr;
  const index_t gw = per_channel ? dk : 1;

  // ---- the inputs as the method sees them: rounded to the storage format ----------
  const Format& st = c.precision.storage;
  auto rounded = [&](const std::vector<double>& x) {
    std::vector<double> r(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) r[i] = round(x[i], st, Rounding::nearest_even);
    return r;
  };
  std::vector<double> k, a, b, beta, g_in;
  const std::vector<double> v = rounded(tensor(prob, "v").data);
  if (family == WyFamily::dplr) {
    a = rounded(tensor(prob, "a").data);
    b = rounded(tensor(prob, "b").data);
  } else {
    k = rounded(tensor(prob, "k").data);
    beta = rounded(tensor(prob, "beta").data);
  }
  if (gated) {
    std::vector<double> g_token = tensor(prob, "g_token").data;
    // DeltaProduct: a token's decay applies once, at its first Householder step.
    if (product)
      for (index_t t = 0; t < n; ++t)
        if (t % nh != 0) g_token[static_cast<std::size_t>(t)] = 0.0;
    if (c.cumulative_g) {
      std::vector<double> G(g_token.size());
      for (index_t t = 0; t < n; ++t)
        for (index_t ch = 0; ch < gw; ++ch)
          G[t * gw + ch] = g_token[t * gw + ch] + (t > 0 ? G[(t - 1) * gw + ch] : 0.0);
      g_in = rounded(G);
    } else {
      g_in = rounded(g_token);
    }
  }

  ChunkWyRecord rec;
  rec.representation = "chunk/" + rep;
  rec.precision = c.precision.describe();
  rec.generator = c.generator;
  rec.chunk = c.chunk;
  rec.steps = n;
  rec.unit_roundoff = c.precision.working_unit_roundoff();

  // ---- the method ------------------------------------------------------------------
  WyOptions opt;
  opt.method = c.method;
  opt.precision = c.precision;
  opt.check_accuracy = c.check_accuracy;
  opt.cumulative_g = c.cumulative_g;
  opt.threads = 1;
  std::vector<double> W(static_cast<std::size_t>(n * dk)), U(static_cast<std::size_t>(n * dv));
  auto data = [](const std::vector<double>& x) { return x.empty() ? nullptr : x.data(); };
  if (c.precision.is_native(format_by_name("fp32"))) {
    auto to_f = [](const std::vector<double>& x) { return std::vector<float>(x.begin(), x.end()); };
    const auto kf = to_f(k), vf = to_f(v), bf = to_f(beta), gf = to_f(g_in), af = to_f(a),
               bbf = to_f(b);
    auto fdata = [](const std::vector<float>& x) { return x.empty() ? nullptr : x.data(); };
    std::vector<float> Wf(W.size()), Uf(U.size());
    const WyInputs<float> in{fdata(kf),  fdata(vf), fdata(bf), fdata(gf), fdata(af),
                             fdata(bbf), dk,        dv,        0};
    rec.status = product
                     ? chunk_wy_deltaproduct(nh, family, layout, in, {Wf.data(), Uf.data()}, opt)
                     : chunk_wy(family, layout, in, {Wf.data(), Uf.data()}, opt);
    std::copy(Wf.begin(), Wf.end(), W.begin());
    std::copy(Uf.begin(), Uf.end(), U.begin());
  } else {
    const WyInputs<double> in{data(k), data(v), data(beta), data(g_in), data(a),
                              data(b), dk,      dv,         0};
    rec.status = product ? chunk_wy_deltaproduct(nh, family, layout, in, {W.data(), U.data()}, opt)
                         : chunk_wy(family, layout, in, {W.data(), U.data()}, opt);
  }

  const double nan = std::numeric_limits<double>::quiet_NaN();
  rec.w_error = rec.u_error = rec.product_error = rec.state_error = rec.representation_error = nan;
  rec.formula_error = rec.cond = rec.kappa_majorant = rec.error_bound = nan;
  if (!all_finite(v) || !all_finite(k) || !all_finite(a) || !all_finite(b) || !all_finite(beta) ||
      !all_finite(g_in))
    return rec;

  // ---- the reference, in MPFR -------------------------------------------------------
  const DefaultMpPrecision mp_guard(reference_bits_for(c.precision.operand));
  // Rows of the recurrence: left vectors A_, right vectors B_, injected values Vt.
  MpMat A_ = mp_zeros(n, dk), B_ = mp_zeros(n, dk), Vt = mp_zeros(n, dv), G = mp_zeros(n, gw);
  for (index_t t = 0; t < n; ++t) {
    const mp_float bt = family == WyFamily::dplr ? mp_float(1) : mp_float(beta[t]);
    for (index_t ch = 0; ch < dk; ++ch) {
      if (family == WyFamily::dplr) {
        A_[t][ch] = a[t * dk + ch];
        B_[t][ch] = b[t * dk + ch];
      } else {
        A_[t][ch] = bt * mp_float(k[t * dk + ch]);
        B_[t][ch] = k[t * dk + ch];
      }
    }
    for (index_t j = 0; j < dv; ++j) Vt[t][j] = bt * mp_float(v[t * dv + j]);
    for (index_t ch = 0; ch < gw && gated; ++ch)
      G[t][ch] =
          c.cumulative_g || t == 0 ? mp_float(g_in[t * gw + ch]) : G[t - 1][ch] + g_in[t * gw + ch];
  }
  // decay factor of channel ch between rows i and j (-1: before the chunk, G = 0):
  // exp(G_i - G_j) = exp(G_i) exp(-G_j), exact to the reference precision (MPFR's
  // exponent range holds exp(+-10^4) easily), 1 when ungated.
  MpMat eG = mp_zeros(n, gw), eGinv = mp_zeros(n, gw);
  for (index_t t = 0; t < n && gated; ++t)
    for (index_t ch = 0; ch < gw; ++ch) {
      eG[t][ch] = exp(G[t][ch]);
      eGinv[t][ch] = exp(-G[t][ch]);
    }
  const mp_float one = 1;
  auto dec = [&](index_t i, index_t j, index_t ch) -> mp_float {
    if (!gated) return one;
    const index_t cc = per_channel ? ch : 0;
    if (i < 0) return j < 0 ? one : eGinv[j][cc];
    return j < 0 ? eG[i][cc] : mp_float(eG[i][cc] * eGinv[j][cc]);
  };
  // N_ij = sum_c a_ic b_jc exp(G_ic - G_jc), i > j
  MpMat N = mp_zeros(n, n);
  for (index_t i = 1; i < n; ++i)
    for (index_t j = 0; j < i; ++j) {
      mp_float s = 0;
      if (per_channel) {
        for (index_t ch = 0; ch < dk; ++ch) s += A_[i][ch] * B_[j][ch] * dec(i, j, ch);
      } else {
        for (index_t ch = 0; ch < dk; ++ch) s += A_[i][ch] * B_[j][ch];
        s *= dec(i, j, 0);
      }
      N[i][j] = s;
    }
  // W_ref, U_ref: the row recurrences w_r = γ_r ⊙ a_r - sum_{i<r} N_ri w_i, u_r = vt_r - ...
  MpMat Wr = mp_zeros(n, dk), Ur = mp_zeros(n, dv);
  for (index_t r = 0; r < n; ++r) {
    for (index_t ch = 0; ch < dk; ++ch) Wr[r][ch] = A_[r][ch] * dec(r, -1, ch);
    for (index_t j = 0; j < dv; ++j) Ur[r][j] = Vt[r][j];
    for (index_t i = 0; i < r; ++i) {
      if (N[r][i] == 0) continue;
      for (index_t ch = 0; ch < dk; ++ch) Wr[r][ch] -= N[r][i] * Wr[i][ch];
      for (index_t j = 0; j < dv; ++j) Ur[r][j] -= N[r][i] * Ur[i][j];
    }
  }
  // The token recurrence: P (dk x dk) and S (dv x dk).
  MpMat P = mp_zeros(dk, dk), S = mp_zeros(dv, dk);
  for (index_t ch = 0; ch < dk; ++ch) P[ch][ch] = 1;
  std::vector<mp_float> alpha(static_cast<std::size_t>(dk)), pa(static_cast<std::size_t>(dk)),
      sa(static_cast<std::size_t>(dv));
  for (index_t t = 0; t < n; ++t) {
    for (index_t ch = 0; ch < dk; ++ch) alpha[ch] = dec(t, t - 1, ch);
    // M D_t: scale column ch by alpha_ch; then M <- M - (M a_t) b_t^T
    for (index_t r = 0; r < dk; ++r) {
      pa[r] = 0;
      for (index_t ch = 0; ch < dk; ++ch) {
        if (gated) P[r][ch] *= alpha[ch];
        pa[r] += P[r][ch] * A_[t][ch];
      }
    }
    for (index_t r = 0; r < dk; ++r)
      for (index_t ch = 0; ch < dk; ++ch) P[r][ch] -= pa[r] * B_[t][ch];
    for (index_t r = 0; r < dv; ++r) {
      sa[r] = 0;
      for (index_t ch = 0; ch < dk; ++ch) {
        if (gated) S[r][ch] *= alpha[ch];
        sa[r] += S[r][ch] * A_[t][ch];
      }
    }
    for (index_t r = 0; r < dv; ++r)
      for (index_t ch = 0; ch < dk; ++ch) S[r][ch] += (Vt[t][r] - sa[r]) * B_[t][ch];
  }
  // Reconstructions: P(W) = Γ_C - W^T E, S(U) = U^T E, E_ic = exp(G_Cc - G_ic) b_ic.
  MpMat E = mp_zeros(n, dk);
  for (index_t i = 0; i < n; ++i)
    for (index_t ch = 0; ch < dk; ++ch) E[i][ch] = dec(n - 1, i, ch) * B_[i][ch];
  auto reconstruct_P = [&](const MpMat& Wm) {
    MpMat R = mp_zeros(dk, dk);
    for (index_t r = 0; r < dk; ++r) {
      R[r][r] = dec(n - 1, -1, r);
      for (index_t i = 0; i < n; ++i)
        for (index_t ch = 0; ch < dk; ++ch) R[r][ch] -= Wm[i][r] * E[i][ch];
    }
    return R;
  };
  auto reconstruct_S = [&](const MpMat& Um) {
    MpMat R = mp_zeros(dv, dk);
    for (index_t r = 0; r < dv; ++r)
      for (index_t i = 0; i < n; ++i)
        for (index_t ch = 0; ch < dk; ++ch) R[r][ch] += Um[i][r] * E[i][ch];
    return R;
  };
  {
    // ||W_ref||_F ||E||_F / ||P||_F and ||U_ref||_F ||E||_F / ||S||_F: since
    // P(W + dW) - P(W) = -dW^T E, product_error <= w_error * product_amplification.
    auto fro = [](const MpMat& M) -> mp_float {
      mp_float s = 0;
      for (const auto& row : M)
        for (const auto& x : row) s += x * x;
      return mp_float(sqrt(s));
    };
    const mp_float e = fro(E), p = fro(P), s = fro(S);
    rec.product_amplification = p == 0 ? 0.0 : static_cast<double>(fro(Wr) * e / p);
    rec.state_amplification = s == 0 ? 0.0 : static_cast<double>(fro(Ur) * e / s);
  }
  rec.formula_error =
      std::max(relative_frobenius(reconstruct_P(Wr), P), relative_frobenius(reconstruct_S(Ur), S));

  // ---- conditioning and the bound --------------------------------------------------
  Matrix<double> L = Matrix<double>::identity(n), Lbar = Matrix<double>::identity(n);
  for (index_t i = 1; i < n; ++i)
    for (index_t j = 0; j < i; ++j) {
      L(i, j) = static_cast<double>(N[i][j]);
      mp_float s = 0;
      if (per_channel) {
        for (index_t ch = 0; ch < dk; ++ch) s += abs(A_[i][ch] * B_[j][ch]) * dec(i, j, ch);
      } else {
        for (index_t ch = 0; ch < dk; ++ch) s += abs(A_[i][ch] * B_[j][ch]);
        s *= dec(i, j, 0);
      }
      Lbar(i, j) = static_cast<double>(s);
    }
  const Matrix<double> X = reference_inverse_double(L.view(), Triangle::lower, Diagonal::unit);
  double cond = 0, xf = 0;
  for (index_t i = 0; i < n; ++i) {
    double row = 0;
    for (index_t j = 0; j <= i; ++j) {
      double s = 0;
      for (index_t l = j; l <= i; ++l) s += std::fabs(X(i, l)) * std::fabs(L(l, j));
      row += s;
      xf += X(i, j) * X(i, j);
    }
    cond = std::max(cond, row);
  }
  rec.cond = cond;
  rec.kappa_majorant = std::sqrt(xf) * norm_frobenius(Lbar.view());
  double maxG = 0;
  for (index_t t = 0; t < n && gated; ++t)
    for (index_t ch = 0; ch < gw; ++ch)
      maxG = std::max(maxG, std::fabs(static_cast<double>(G[t][ch])));
  rec.max_abs_G = maxG;
  {
    const double u = rec.unit_roundoff;
    const double gate_term = gated && !c.cumulative_g ? static_cast<double>(n) * u * maxG : 0.0;
    Matrix<double> absX(n, n), absN(n, n), absWr(n, dk), absUr(n, dv), absBw(n, dk), absBu(n, dv);
    for (index_t i = 0; i < n; ++i) {
      for (index_t j = 0; j <= i; ++j) {
        absX(i, j) = std::fabs(X(i, j));
        if (j < i) absN(i, j) = std::fabs(L(i, j));
      }
      for (index_t ch = 0; ch < dk; ++ch) {
        absWr(i, ch) = std::fabs(static_cast<double>(Wr[i][ch]));
        absBw(i, ch) = std::fabs(static_cast<double>(A_[i][ch] * dec(i, -1, ch)));
      }
      for (index_t j = 0; j < dv; ++j) {
        absUr(i, j) = std::fabs(static_cast<double>(Ur[i][j]));
        absBu(i, j) = std::fabs(static_cast<double>(Vt[i][j]));
      }
    }
    Matrix<double> Nbar0 = Lbar;
    for (index_t i = 0; i < n; ++i) Nbar0(i, i) = 0;
    const double e_N = static_cast<double>(dk + 3) * u + 2 * gate_term, e_B = 2 * u + gate_term;
    const double bw = wy_error_bound(absX, absN, Nbar0, absBw, absWr, u, e_N, e_B);
    const double bu = wy_error_bound(absX, absN, Nbar0, absBu, absUr, u, e_N, e_B);
    const double nw = norm_frobenius(absWr.view()), nu = norm_frobenius(absUr.view());
    rec.error_bound = std::max(nw > 0 ? bw / nw : 0.0, nu > 0 ? bu / nu : 0.0);
  }

  // ---- the computed W, U against the reference ---------------------------------------
  rec.has_metrics = true;
  if (!all_finite(W) || !all_finite(U)) {
    rec.w_error = rec.u_error = rec.product_error = rec.state_error = rec.representation_error =
        std::numeric_limits<double>::infinity();
    return rec;
  }
  MpMat Wc = mp_zeros(n, dk), Uc = mp_zeros(n, dv);
  for (index_t i = 0; i < n; ++i) {
    for (index_t ch = 0; ch < dk; ++ch) Wc[i][ch] = W[i * dk + ch];
    for (index_t j = 0; j < dv; ++j) Uc[i][j] = U[i * dv + j];
  }
  rec.w_error = relative_frobenius(Wc, Wr);
  rec.u_error = relative_frobenius(Uc, Ur);
  rec.product_error = relative_frobenius(reconstruct_P(Wc), P);
  rec.state_error = relative_frobenius(reconstruct_S(Uc), S);
  rec.representation_error = std::max(rec.product_error, rec.state_error);
  return rec;
}

}  // namespace triscan::validation
