// validation/scan_experiment.cpp — scan inputs, the a-priori error bounds and the
// error measures (the MPFR reference is in validation/mpfr/scan.cpp).
#include "validation/scan_experiment.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "validation/generators.hpp"

namespace triscan::validation {

ScanInput<double> ScanData::input() const {
  ScanInput<double> in;
  in.kind = c.kind;
  in.batch = c.cu_seqlens.empty() ? c.batch : 1;
  in.length = c.length;
  in.cu_seqlens = c.cu_seqlens;
  in.dim = c.dim;
  in.dk = c.dk ? c.dk : c.dim;
  in.dv = c.dv ? c.dv : c.dim;
  in.gate = c.gate;
  auto ptr = [](const std::vector<double>& x) { return x.empty() ? nullptr : x.data(); };
  in.a = ptr(a);
  in.b = ptr(b);
  in.k = ptr(k);
  in.v = ptr(v);
  in.beta = ptr(beta);
  in.g = ptr(g);
  in.h0 = ptr(h0);
  return in;
}

ScanData generate_scan(const ScanCase& c, const Format& fmt) {
  if (c.length < 0 || c.dim < 1) throw std::invalid_argument("generate_scan: length >= 0 and dim >= 1 required");
  ScanData d;
  d.c = c;
  const ScanInput<double> shape = d.input();
  const index_t n = shape.tokens();
  Rng rng(c.seed, {0x5CA9, static_cast<std::uint64_t>(c.kind)});
  auto rn = [&](double x) { return round(x, fmt, Rounding::nearest_even); };
  const index_t dim = c.dim;
  switch (c.kind) {
    case ScanKind::scalar:
    case ScanKind::diagonal:
    case ScanKind::log_diagonal: {
      const index_t na = c.kind == ScanKind::scalar ? n : n * dim;
      d.a.resize(static_cast<std::size_t>(na));
      const double log_min = det_log(c.decay_min);
      for (auto& x : d.a)
        x = c.kind == ScanKind::log_diagonal ? rn(rng.uniform(log_min, 0.0)) : rn(rng.uniform(c.decay_min, 1.0));
      d.b.resize(static_cast<std::size_t>(n * dim));
      for (auto& x : d.b) x = rn(rng.normal());
      break;
    }
    case ScanKind::dense: {
      d.a.resize(static_cast<std::size_t>(n * dim * dim));
      for (index_t t = 0; t < n; ++t) {
        double* A = d.a.data() + t * dim * dim;
        double f = 0;
        for (index_t i = 0; i < dim * dim; ++i) {
          A[i] = rng.normal();
          f += A[i] * A[i];
        }
        // scaled to Frobenius norm 1 - 2^-10 so the rounded matrix keeps ||A||_F <= 1
        const double s = (1.0 - std::ldexp(1.0, -10)) / std::sqrt(f);
        for (index_t i = 0; i < dim * dim; ++i) A[i] = rn(A[i] * s);
      }
      d.b.resize(static_cast<std::size_t>(n * dim));
      for (auto& x : d.b) x = rn(rng.normal());
      break;
    }
    case ScanKind::delta: {
      const index_t dk = shape.dk, dv = shape.dv;
      d.k.resize(static_cast<std::size_t>(n * dk));
      for (index_t t = 0; t < n; ++t) {
        double* kt = d.k.data() + t * dk;
        double f = 0;
        for (index_t i = 0; i < dk; ++i) {
          kt[i] = rng.normal();
          f += kt[i] * kt[i];
        }
        for (index_t i = 0; i < dk; ++i) kt[i] = rn(kt[i] / std::sqrt(f));
      }
      d.v.resize(static_cast<std::size_t>(n * dv));
      for (auto& x : d.v) x = rn(rng.normal());
      d.beta.resize(static_cast<std::size_t>(n));
      for (auto& x : d.beta) x = rn(rng.uniform(0.0, 1.0));
      if (c.gate == DeltaGate::scalar) d.g.resize(static_cast<std::size_t>(n));
      if (c.gate == DeltaGate::channel) d.g.resize(static_cast<std::size_t>(n * dk));
      for (auto& x : d.g) x = rn(rng.uniform(c.gate_value, 0.0));
      break;
    }
  }
  if (c.with_h0) {
    d.h0.resize(static_cast<std::size_t>(shape.sequences() * shape.state_size()));
    for (auto& x : d.h0) x = rn(rng.normal());
  }
  return d;
}

index_t scan_bound_depth(const std::string& algorithm, index_t length) {
  index_t lg = 0;
  while ((index_t(1) << lg) < length) ++lg;
  const std::string name = algorithm.substr(0, algorithm.find(':'));
  if (name == "scan/hillis_steele") return lg;
  if (name == "scan/blelloch") return 2 * lg;
  return 0;
}

namespace {

// gamma-style factor u / (1 - n u), infinite when n u >= 1.
double gamma_factor(double n, double u) { return n * u < 1 ? u / (1 - n * u) : INFINITY; }

struct Seq {
  index_t begin, length;
};
std::vector<Seq> seqs_of(const ScanInput<double>& in) {
  std::vector<Seq> out;
  for (index_t s = 0; s < in.sequences(); ++s) {
    if (in.cu_seqlens.empty())
      out.push_back({s * in.length, in.length});
    else
      out.push_back({in.cu_seqlens[static_cast<std::size_t>(s)],
                     in.cu_seqlens[static_cast<std::size_t>(s) + 1] - in.cu_seqlens[static_cast<std::size_t>(s)]});
  }
  return out;
}

}  // namespace

// Scalar / diagonal / log-diagonal, componentwise, per channel (first order in u,
// Higham ASNA 2nd ed. §3.1 Lemma 3.1 and §3.3 for the rounding-error counting; §4.2 for
// the depth of a summation tree). h_t = sum_{s<=t} (prod_{r=s+1..t} a_r) b_s (b_0 := h0):
// in any of the algorithms the coefficient of b_s is the exact product perturbed by at
// most cY (t - s) + cD D + cZ roundings of unit roundoff u (the state format's):
//   - each factor a_r of the product costs <= 2 (a multiplication and its store),
//   - each step of a sequential path (sequential, chunked) <= 3 (multiply-add: product
//     and sum, then the store), so cY = 5,
//   - each level of a combine tree <= 3 (D = depth), plus <= 5 for loading b_s and
//     applying h0 (cZ).
// Log space: +1 rounding per exp (cY = 6, cD = 4, cZ = 6), and the sum of the
// log-decays of a span of t-s tokens has absolute error <= 2 (t-s) u L_{s,t} (one add
// and one store per node, L = sum |la|), a relative error of the same size in exp(.)
// (factor 2.1 covers e^eps - 1 <= 1.05 eps for eps <= 0.1). Hence
//   |h^_t - h_t| <= u' (cY Y_t + (cD D + cZ) Z_t) + 2.1 u W2_t + (u_out + 2^-53) |h_t|,
//   Z_t = sum_s |prod a| |b_s|,  Y_t = sum_s (t - s)|prod a| |b_s|,
//   W2_t = sum_s (t - s) L_{s,t} |prod a| |b_s|,  u' = u / (1 - (cY t + cD D + cZ) u),
// the last term for the output rounding and the reference's rounding to double.
// Z, Y, W2 by the recurrences Z_t = |a_t| Z_{t-1} + |b_t|, Y_t = |a_t| (Y_{t-1} + Z_{t-1}),
// W_t = |a_t| (W_{t-1} + l_t Z_{t-1}), W2_t = |a_t| (W2_{t-1} + l_t Y_{t-1} + W_{t-1} +
// l_t Z_{t-1}) with l_t = |la_t|, computed in double (relative error < 1e-10 here,
// covered by the factor 1 + 1e-9).
//
// Dense / delta, normwise (||A_t||_2 <= 1, resp. ||P_t||_2 <= 1 for beta in [0, 2],
// ||k|| = 1, decays <= 1): every state is the root of a tree of <= t + 1 combines or
// steps (one per token, one for h0). A combine (P1 P2, B1 P2 + B2) in dimension d errs by
// <= gamma_{d+2} (d + 2 sqrt(d) + 3) V (inner products: Higham ASNA Lemma 3.5 / eq. 3.11,
// with ||P||_F <= sqrt(d) and every partial offset <= V), forming P_t and B_t by
// <= gamma_5 (sqrt(d) + 2) V, a sequential step by <= gamma_{d+5} 4 V; later factors
// have 2-norm <= 1, so errors add:
//   ||h^_t - h_t||_2 <= (t + 1) gamma_{d+6} (d + 2 sqrt(d) + 4) V_t + (u_out + 2^-53) ||h_t||_2,
//   V_t = ||h0||_F + sum_{s<=t} ||B_s||_F  (B_s = b_s, resp. beta_s v_s k_s^T).
std::vector<double> scan_error_bound(const ScanInput<double>& in, const std::string& algorithm,
                                     const ScanOptions& options, const std::vector<double>& h_ref) {
  const Format state = options.state_format.value_or(options.precision.storage);
  const double u = state.unit_roundoff();
  const double u_out = options.precision.output.unit_roundoff() + std::ldexp(1.0, -53);
  const index_t ss = in.state_size();
  const auto seqs = seqs_of(in);
  index_t max_len = 0;
  for (const auto& q : seqs) max_len = std::max(max_len, q.length);
  const index_t D = scan_bound_depth(algorithm, max_len);
  std::vector<double> bound;
  const double slack = 1 + 1e-9;

  if (in.kind == ScanKind::dense || in.kind == ScanKind::delta) {
    bound.assign(static_cast<std::size_t>(in.tokens()), 0.0);
    const double d = static_cast<double>(in.kind == ScanKind::delta ? in.dk : in.dim);
    for (std::size_t s = 0; s < seqs.size(); ++s) {
      const auto& q = seqs[s];
      double V = 0;
      if (in.h0) {
        double f = 0;
        for (index_t j = 0; j < ss; ++j) f += in.h0[static_cast<index_t>(s) * ss + j] * in.h0[static_cast<index_t>(s) * ss + j];
        V += std::sqrt(f);
      }
      for (index_t i = 0; i < q.length; ++i) {
        const index_t n = q.begin + i;
        double f = 0;
        if (in.kind == ScanKind::dense) {
          for (index_t j = 0; j < in.dim; ++j) f += in.b[n * in.dim + j] * in.b[n * in.dim + j];
          V += std::sqrt(f);
        } else {
          double fv = 0, fk = 0;
          for (index_t j = 0; j < in.dv; ++j) fv += in.v[n * in.dv + j] * in.v[n * in.dv + j];
          for (index_t j = 0; j < in.dk; ++j) fk += in.k[n * in.dk + j] * in.k[n * in.dk + j];
          V += std::fabs(in.beta[n]) * std::sqrt(fv) * std::sqrt(fk);
        }
        double hn = 0;
        for (index_t j = 0; j < ss; ++j) hn += h_ref[static_cast<std::size_t>(n * ss + j)] * h_ref[static_cast<std::size_t>(n * ss + j)];
        const double t = static_cast<double>(i + 1);
        const double g = (d + 6) * gamma_factor(d + 6, u);
        bound[static_cast<std::size_t>(n)] = slack * ((t + 1) * g * (d + 2 * std::sqrt(d) + 4) * V) + u_out * std::sqrt(hn);
      }
    }
    return bound;
  }

  const bool log_space = in.kind == ScanKind::log_diagonal;
  const double cY = log_space ? 6 : 5, cD = log_space ? 4 : 3, cZ = log_space ? 6 : 5;
  bound.assign(static_cast<std::size_t>(in.tokens() * ss), 0.0);
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    const auto& q = seqs[s];
    for (index_t j = 0; j < ss; ++j) {
      double Z = in.h0 ? std::fabs(in.h0[static_cast<index_t>(s) * ss + j]) : 0.0, Y = 0, W = 0, W2 = 0;
      for (index_t i = 0; i < q.length; ++i) {
        const index_t n = q.begin + i;
        const double av = in.kind == ScanKind::scalar ? in.a[n] : in.a[n * ss + j];
        const double aa = log_space ? std::exp(av) : std::fabs(av);
        const double l = log_space ? std::fabs(av) : 0.0;
        W2 = aa * (W2 + l * Y + W + l * Z);
        W = aa * (W + l * Z);
        Y = aa * (Y + Z);
        Z = aa * Z + std::fabs(in.b[n * ss + j]);
        const double t = static_cast<double>(i + 1);
        const double up = gamma_factor(cY * t + cD * static_cast<double>(D) + cZ, u);
        const double h = std::fabs(h_ref[static_cast<std::size_t>(n * ss + j)]);
        bound[static_cast<std::size_t>(n * ss + j)] =
            slack * (up * (cY * Y + (cD * static_cast<double>(D) + cZ) * Z) + 2.1 * u * W2) + u_out * h;
      }
    }
  }
  return bound;
}

ScanErrors measure_scan(const ScanInput<double>& in, const std::vector<double>& h, const std::vector<double>& ref,
                        const std::vector<double>& bound) {
  ScanErrors e;
  const index_t ss = in.state_size();
  const index_t n = in.tokens();
  const bool per_token = bound.size() == static_cast<std::size_t>(n);
  double num = 0, den = 0;
  for (index_t t = 0; t < n; ++t) {
    double et = 0, rt = 0;
    for (index_t j = 0; j < ss; ++j) {
      const std::size_t i = static_cast<std::size_t>(t * ss + j);
      const double diff = h[i] - ref[i];
      et += diff * diff;
      rt += ref[i] * ref[i];
      if (!per_token) {
        const double r = diff == 0 ? 0.0 : std::fabs(diff) / bound[i];
        if (!(r <= e.bound_ratio)) {  // NaN propagates
          e.bound_ratio = std::isnan(diff) ? NAN : r;
          e.worst_token = t;
        }
      }
    }
    num += et;
    den += rt;
    const double rel = et == 0 ? 0.0 : std::sqrt(et) / std::sqrt(rt);
    if (!(rel <= e.max_rel_error)) e.max_rel_error = std::isnan(et) ? NAN : rel;
    if (per_token) {
      const double r = et == 0 ? 0.0 : std::sqrt(et) / bound[static_cast<std::size_t>(t)];
      if (!(r <= e.bound_ratio)) {
        e.bound_ratio = std::isnan(et) ? NAN : r;
        e.worst_token = t;
      }
    }
    if (std::isnan(e.bound_ratio)) break;
  }
  e.forward_error = num == 0 ? 0.0 : std::sqrt(num) / std::sqrt(den);
  return e;
}

}  // namespace triscan::validation
