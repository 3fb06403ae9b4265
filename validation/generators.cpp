// Seeded test-matrix generators (docs/generators.md). Every random draw goes through
// Rng (xoshiro256**) and the transforms below, built from +, -, *, /, sqrt only, so a
// seed gives the same bits on every IEEE 754 machine. Contraction of a*b+c into an
// fma would change those bits, so it is switched off for this file, and so is GCC's
// vectorizer, whose SLP complex-multiply patterns emit fmaddsub even under
// -ffp-contract=off (seen with GCC 12 -march=native on the rotations below).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off", "no-tree-vectorize", "no-tree-slp-vectorize")
#endif

#include "validation/generators.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace triscan::validation {

// ---- Random numbers -------------------------------------------------------------

Rng::Rng(std::uint64_t seed, std::initializer_list<std::uint64_t> stream) : bits_(0) {
  // Hash (seed, ids...) into one splitmix64 state: each id is absorbed by one splitmix64
  // step, so streams that differ in any id start from unrelated states. RandomBits(h)
  // fills its state with the next four splitmix64 outputs of h.
  std::uint64_t h = seed;
  for (std::uint64_t id : stream) {
    std::uint64_t t = h ^ id;
    h = splitmix64_next(t);
  }
  bits_ = RandomBits(h);
}

Rng Rng::from_state(const std::array<std::uint64_t, 4>& s) { return Rng(RandomBits::from_state(s)); }

double Rng::uniform_open() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform_open(); }

double Rng::normal() {
  // Marsaglia & Bray (1964): for (u, v) uniform in the unit disc, s = u^2 + v^2,
  // u * sqrt(-2 ln s / s) is N(0, 1). The second variate is discarded so that a
  // stream's position depends only on how many normals were drawn.
  for (;;) {
    const double u = 2.0 * uniform() - 1.0;
    const double v = 2.0 * uniform() - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * det_log(s) / s);
  }
}

namespace {
// ln 2 split so that k * ln2_hi is exact for |k| < 2^11 (Cody & Waite 1980).
constexpr double ln2_hi = 0x1.62e42fee00000p-1;
constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
}  // namespace

double det_exp(double x) {
  if (std::isnan(x)) return x;
  if (x > 709.782712893384) return std::numeric_limits<double>::infinity();
  if (x < -745.1332191019412) return 0.0;
  // x = k ln2 + r, |r| <= ln2/2; exp(r) by its Taylor series to r^17/17! (< 2^-60 for
  // |r| <= 0.35), then exp(x) = 2^k exp(r) by an exact (or once-rounded) scaling.
  const double k = std::nearbyint(x / 0.6931471805599453);
  const double r = (x - k * ln2_hi) - k * ln2_lo;
  double p = 1.0;
  for (int i = 17; i >= 1; --i) p = 1.0 + p * r / i;
  return std::ldexp(p, static_cast<int>(k));
}

double det_log(double x) {
  if (std::isnan(x) || x < 0.0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0.0) return -std::numeric_limits<double>::infinity();
  if (std::isinf(x)) return x;
  // x = 2^e m, m in [1/sqrt2, sqrt2); ln m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716:
  // 2 sum_{j<=13} s^(2j+1)/(2j+1), truncation < s^28 < 2^-70.
  int e = 0;
  double m = std::frexp(x, &e);
  if (m < 0.7071067811865476) {
    m *= 2.0;
    e -= 1;
  }
  const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
  double series = 0.0;
  for (int j = 13; j >= 1; --j) series = s2 * (1.0 / (2 * j + 1) + series);
  const double ln_m = 2.0 * s + 2.0 * s * series;
  return e * ln2_hi + (e * ln2_lo + ln_m);
}

index_t Tensor::size() const {
  index_t s = 1;
  for (index_t d : shape) s *= d;
  return s;
}

namespace {

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument("generator: " + msg); }

std::string fmt(double x) {  // 17 significant digits; std::to_string prints 1e-9 as 0.000000
  std::ostringstream s;
  s.precision(17);
  s << x;
  return s.str();
}

// ---- The catalogue ----------------------------------------------------------------

enum class Kind { gaussian, deltanet, correlated, equal, gated, kda, dplr, ones, block_ones, lapack };

struct Entry {
  GeneratorInfo info;
  Kind kind;
  double beta_hi = 1.0;  // default beta ~ U(0, beta_hi)
  int lapack_type = 0;
};

const std::vector<std::string> delta_options = {"dk", "dv", "beta", "beta_max", "scale"};
const std::vector<std::string> gated_options = {"dk", "dv", "beta", "beta_max", "gate", "scale"};

std::vector<Entry> make_catalogue() {
  std::vector<Entry> c;
  auto add = [&](std::string name, std::string desc, std::vector<std::string> opts, Kind kind,
                 double beta_hi = 1.0) {
    c.push_back({{std::move(name), std::move(desc), std::move(opts), Diagonal::unit, true}, kind, beta_hi, 0});
  };
  add("gaussian", "unit lower, strictly-lower entries N(0,1)/sqrt(n)", {"scale"}, Kind::gaussian);
  add("deltanet", "N = strictly_lower(diag(beta) K K^T), unit-norm Gaussian keys, beta ~ U(0,1)",
      delta_options, Kind::deltanet);
  add("deltanet-beta2", "deltanet with beta ~ U(0,2) (negative-eigenvalue variant)", delta_options,
      Kind::deltanet, 2.0);
  add("deltanet-correlated", "deltanet, keys in a random 2-D subspace plus 1% noise, normalized",
      delta_options, Kind::correlated);
  add("deltanet-equal", "deltanet, all keys equal up to 1e-3 noise, normalized", delta_options, Kind::equal);
  add("gated", "Gated DeltaNet: N_ij = beta_i <k_i,k_j> exp(g_i - g_j), g in-chunk cumsum of log-decays",
      gated_options, Kind::gated);
  add("kda", "Kimi Delta Attention: N_ij = beta_i sum_c k_ic k_jc exp(g_ic - g_jc), per-channel decays",
      gated_options, Kind::kda);
  add("dplr", "RWKV-7-like DPLR: N_ij = sum_c a_ic b_jc exp(g_ic - g_jc), a = k, b = k * alpha",
      gated_options, Kind::dplr);
  add("ones", "strictly-lower part all ones (inverse: 1 on the diagonal, -1 below it)", {"scale"}, Kind::ones);
  add("block-ones", "ones in the strictly lower part of each 16x16 diagonal block", {"scale"},
      Kind::block_ones);
  static const char* lapack_desc[10] = {
      "diagonal, singular values geometric in [1/2, 1] (kappa_2 = 2)",
      "dense non-unit lower, kappa_2 = 2",
      "dense non-unit lower, kappa_2 = sqrt(0.1/eps) ~ 2.1e7",
      "dense non-unit lower, kappa_2 = 0.1/eps ~ 4.5e14",
      "dense non-unit lower, kappa_2 = 2, norm_2 = 0.25*sfmin/eps ~ 2.5e-293 (near underflow)",
      "dense non-unit lower, kappa_2 = 2, norm_2 = 4*eps/sfmin ~ 4.0e292 (near overflow)",
      "identity (unit)",
      "dense unit lower, kappa_2 ~ 2 (dlattr's rotation construction; within a factor 16)",
      "dense unit lower, kappa_2 ~ sqrt(0.1/eps) ~ 2.1e7 (within a factor 16)",
      "dense unit lower, kappa_2 ~ 0.1/eps ~ 4.5e14 (within a factor 16)"};
  for (int t = 1; t <= 10; ++t) {
    Entry e{{"lapack-" + std::to_string(t), std::string("LAPACK dlattr-style type ") + std::to_string(t) +
                                                 ": " + lapack_desc[t - 1],
             {"scale"}, t <= 6 ? Diagonal::non_unit : Diagonal::unit, false},
            Kind::lapack, 1.0, t};
    c.push_back(std::move(e));
  }
  return c;
}

const std::vector<Entry>& catalogue() {
  static const std::vector<Entry> c = make_catalogue();
  return c;
}

const Entry& entry(std::string_view name) {
  for (const auto& e : catalogue())
    if (e.info.name == name) return e;
  std::string all;
  for (const auto& e : catalogue()) all += (all.empty() ? "" : ", ") + e.info.name;
  bad("unknown generator '" + std::string(name) + "' (allowed: " + all + ")");
}

bool has_option(const Entry& e, const char* key) {
  return std::find(e.info.options.begin(), e.info.options.end(), key) != e.info.options.end();
}

}  // namespace

const std::vector<GeneratorInfo>& generators() {
  static const std::vector<GeneratorInfo> infos = [] {
    std::vector<GeneratorInfo> v;
    for (const auto& e : catalogue()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

const GeneratorInfo& generator_info(std::string_view name) { return entry(name).info; }

void validate(const GeneratorParams& p) {
  const Entry& e = entry(p.name);
  auto reject_unused = [&](bool set, const char* key) {
    if (set && !has_option(e, key)) {
      std::string opts;
      for (const auto& o : e.info.options) opts += (opts.empty() ? "" : ", ") + o;
      bad("'" + p.name + "' does not take option '" + key + "' (it takes: " + opts + ")");
    }
  };
  reject_unused(p.dk.has_value(), "dk");
  reject_unused(p.dv.has_value(), "dv");
  reject_unused(p.beta.has_value(), "beta");
  reject_unused(p.beta_max.has_value(), "beta_max");
  reject_unused(p.gate.has_value(), "gate");
  if (p.n < 1 || p.n > 16384) bad("n = " + std::to_string(p.n) + " out of range (allowed: 1 .. 16384)");
  const index_t min_dk = e.kind == Kind::correlated ? 2 : 1;
  if (p.dk && (*p.dk < min_dk || *p.dk > 65536))
    bad("dk = " + std::to_string(*p.dk) + " out of range (allowed: " + std::to_string(min_dk) + " .. 65536)");
  if (p.dv && (*p.dv < 1 || *p.dv > 65536))
    bad("dv = " + std::to_string(*p.dv) + " out of range (allowed: 1 .. 65536)");
  if (p.beta && p.beta_max) bad("options 'beta' and 'beta_max' exclude each other");
  if (p.beta && !(*p.beta >= 0.0 && *p.beta <= 2.0))
    bad("beta = " + fmt(*p.beta) + " out of range (allowed: 0 <= beta <= 2)");
  if (p.beta_max && !(*p.beta_max > 0.0 && *p.beta_max <= 2.0))
    bad("beta_max = " + fmt(*p.beta_max) + " out of range (allowed: 0 < beta_max <= 2)");
  if (p.gate && !(*p.gate >= -100.0 && *p.gate <= 0.0))
    bad("gate = " + fmt(*p.gate) + " out of range (allowed: -100 <= gate <= 0, a natural-log decay)");
  if (p.scale && !(*p.scale > 0.0 && *p.scale <= 1e300))
    bad("scale = " + fmt(*p.scale) + " out of range (allowed: 0 < scale <= 1e300)");
}

namespace {

// ---- Vectors -------------------------------------------------------------------------

// Error-free transformations (Knuth's TwoSum; Dekker's TwoProduct with Veltkamp's
// splitting, no fma needed) for the compensated sum of squares Dot2 (Ogita, Rump &
// Oishi 2005): the computed sum has relative error <= u + gamma_n^2, so a normalized
// vector has | ||k||_2 - 1 | of a few u instead of dk u.
void two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  const double bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}
void split(double a, double& hi, double& lo) {
  const double c = 134217729.0 * a;  // 2^27 + 1
  hi = c - (c - a);
  lo = a - hi;
}
void two_product(double a, double b, double& p, double& e) {
  p = a * b;
  double ah, al, bh, bl;
  split(a, ah, al);
  split(b, bh, bl);
  e = al * bl - (((p - ah * bh) - al * bh) - ah * bl);
}
double sum_of_squares(const double* x, index_t d) {
  double s = 0.0, c = 0.0;
  for (index_t i = 0; i < d; ++i) {
    double p, ep, q;
    two_product(x[i], x[i], p, ep);
    two_sum(s, p, s, q);
    c += q + ep;
  }
  return s + c;
}

void normalize(double* x, index_t d) {
  const double nrm = std::sqrt(sum_of_squares(x, d));
  for (index_t i = 0; i < d; ++i) x[i] /= nrm;
}

void draw_normal(Rng& rng, double* x, index_t d) {
  for (index_t i = 0; i < d; ++i) x[i] = rng.normal();
}

void draw_unit(Rng& rng, double* x, index_t d) {
  // A Gaussian vector over its norm is uniform on the sphere (Muller 1959); a zero draw
  // has probability 0 but is redrawn rather than divided by.
  do draw_normal(rng, x, d);
  while (sum_of_squares(x, d) == 0.0);
  normalize(x, d);
}

double dot(const double* x, const double* y, index_t d) {
  double s = 0.0;
  for (index_t i = 0; i < d; ++i) s += x[i] * y[i];
  return s;
}

// ---- Per-token inputs ------------------------------------------------------------------

// Stream tags: one independent xoshiro256** stream per (tag, batch entry, head).
enum Tag : std::uint64_t { tag_keys = 1, tag_queries, tag_values, tag_betas, tag_gates, tag_alphas,
                           tag_gaussian, tag_lapack };

// Row `t` of head `h` of batch entry `b` in a [B, T, heads, width] (or [B, T, heads])
// tensor.
double* row(Tensor& x, index_t b, index_t t, index_t h) {
  const index_t T = x.shape[1], heads = x.shape[2], width = x.shape.size() == 4 ? x.shape[3] : 1;
  return x.data.data() + ((b * T + t) * heads + h) * width;
}
const double* row(const Tensor& x, index_t b, index_t t, index_t h) {
  return row(const_cast<Tensor&>(x), b, t, h);
}

Tensor zeros(std::vector<index_t> shape) {
  Tensor x{std::move(shape), {}};
  x.data.assign(static_cast<std::size_t>(x.size()), 0.0);
  return x;
}

bool is_token_kind(Kind k) {
  return k == Kind::deltanet || k == Kind::correlated || k == Kind::equal || k == Kind::gated ||
         k == Kind::kda || k == Kind::dplr;
}
bool per_channel_gates(Kind k) { return k == Kind::kda || k == Kind::dplr; }

// The T keys of one (batch entry, key head) stream, each unit norm (docs/generators.md).
void draw_keys(Kind kind, Rng& rng, Tensor& k, index_t b, index_t hk) {
  const index_t T = k.shape[1], dk = k.shape[3];
  std::vector<double> u1(dk), u2(dk), noise(dk);
  if (kind == Kind::correlated) {  // orthonormal basis (u1, u2) of a random plane
    draw_unit(rng, u1.data(), dk);
    do {
      draw_normal(rng, u2.data(), dk);
      const double p = dot(u1.data(), u2.data(), dk);
      for (index_t c = 0; c < dk; ++c) u2[c] -= p * u1[c];
    } while (sum_of_squares(u2.data(), dk) == 0.0);
    normalize(u2.data(), dk);
  }
  if (kind == Kind::equal) draw_unit(rng, u1.data(), dk);  // the common direction
  for (index_t t = 0; t < T; ++t) {
    double* kt = row(k, b, t, hk);
    if (kind == Kind::correlated) {
      // k = normalize(normalize(c1 u1 + c2 u2) + 0.01 w), (c1, c2) ~ N(0, I_2), w uniform on the sphere
      double c1, c2;
      do {
        c1 = rng.normal();
        c2 = rng.normal();
      } while (c1 == 0.0 && c2 == 0.0);
      for (index_t c = 0; c < dk; ++c) kt[c] = c1 * u1[c] + c2 * u2[c];
      normalize(kt, dk);
      draw_unit(rng, noise.data(), dk);
      for (index_t c = 0; c < dk; ++c) kt[c] += 0.01 * noise[c];
      normalize(kt, dk);
    } else if (kind == Kind::equal) {
      // k = normalize(u + 1e-3 w), w uniform on the sphere
      draw_unit(rng, noise.data(), dk);
      for (index_t c = 0; c < dk; ++c) kt[c] = u1[c] + 1e-3 * noise[c];
      normalize(kt, dk);
    } else {
      draw_unit(rng, kt, dk);
    }
  }
}

struct TokenSettings {
  Kind kind;
  double beta_lo, beta_hi;  // beta ~ U(beta_lo, beta_hi) on the open interval; equal: fixed
  double gate;
  index_t dk, dv;
};

TokenSettings token_settings(const Entry& e, const GeneratorParams& p) {
  TokenSettings s{e.kind, 0.0, e.beta_hi, p.gate.value_or(default_gate), p.dk.value_or(default_head_dim),
                  p.dv.value_or(default_head_dim)};
  if (p.beta) s.beta_lo = s.beta_hi = *p.beta;
  if (p.beta_max) s.beta_hi = *p.beta_max;
  return s;
}

double draw_beta(Rng& rng, const TokenSettings& s) {
  return s.beta_lo == s.beta_hi ? s.beta_lo : rng.uniform(s.beta_lo, s.beta_hi);
}

// The zero tensors of a [B, T] problem with H value heads and Hk key heads.
Tensors allocate_token_tensors(const TokenSettings& s, index_t B, index_t T, index_t H, index_t Hk) {
  Tensors x;
  x["k"] = zeros({B, T, Hk, s.dk});
  x["q"] = zeros({B, T, Hk, s.dk});
  x["v"] = zeros({B, T, H, s.dv});
  if (s.kind != Kind::dplr) x["beta"] = zeros({B, T, H});
  if (s.kind == Kind::gated) x["g_token"] = x["g"] = zeros({B, T, H});
  if (per_channel_gates(s.kind)) x["g_token"] = x["g"] = zeros({B, T, H, s.dk});
  if (s.kind == Kind::dplr) x["a"] = x["b"] = zeros({B, T, H, s.dk});
  return x;
}

// Keys and queries of key head hk of batch entry b, token by token.
void draw_key_head(const TokenSettings& s, std::uint64_t seed, Tensors& x, index_t b, index_t hk) {
  Rng keys(seed, {tag_keys, std::uint64_t(b), std::uint64_t(hk)});
  draw_keys(s.kind, keys, x["k"], b, hk);
  Rng queries(seed, {tag_queries, std::uint64_t(b), std::uint64_t(hk)});
  Tensor& q = x["q"];
  for (index_t t = 0; t < q.shape[1]; ++t) draw_unit(queries, row(q, b, t, hk), s.dk);
}

// Values, beta, log-decays and the DPLR vectors of value head h (key head hk), token by
// token, each from its own stream.
void draw_value_head(const TokenSettings& s, std::uint64_t seed, Tensors& x, index_t b, index_t h, index_t hk) {
  Rng values(seed, {tag_values, std::uint64_t(b), std::uint64_t(h)});
  Rng betas(seed, {tag_betas, std::uint64_t(b), std::uint64_t(h)});
  Rng gates(seed, {tag_gates, std::uint64_t(b), std::uint64_t(h)});
  Rng alphas(seed, {tag_alphas, std::uint64_t(b), std::uint64_t(h)});
  const index_t T = x["v"].shape[1];
  const index_t gw = per_channel_gates(s.kind) ? s.dk : 1;
  for (index_t t = 0; t < T; ++t) {
    draw_normal(values, row(x["v"], b, t, h), s.dv);
    if (x.count("beta")) *row(x["beta"], b, t, h) = draw_beta(betas, s);
    if (x.count("g_token")) {  // per-token log-decays drawn around the gate: gate * U(0.5, 1.5)
      double* g = row(x["g_token"], b, t, h);
      for (index_t c = 0; c < gw; ++c) g[c] = s.gate * gates.uniform(0.5, 1.5);
    }
    if (s.kind == Kind::dplr) {
      // a = k, b = k * alpha, alpha_c ~ U(beta range) per channel (RWKV-7's in-context
      // learning rate; docs/generators.md derives the sign convention).
      const double* k = row(x["k"], b, t, hk);
      double* a = row(x["a"], b, t, h);
      double* bt = row(x["b"], b, t, h);
      for (index_t c = 0; c < s.dk; ++c) {
        a[c] = k[c];
        bt[c] = k[c] * draw_beta(alphas, s);
      }
    }
  }
}

// All per-token tensors. Each stream is read token by token, so the first n tokens do
// not depend on T.
Tensors draw_tokens(const TokenSettings& s, std::uint64_t seed, index_t B, index_t T, index_t H, index_t Hk) {
  Tensors x = allocate_token_tensors(s, B, T, H, Hk);
  for (index_t b = 0; b < B; ++b) {
    for (index_t hk = 0; hk < Hk; ++hk) draw_key_head(s, seed, x, b, hk);
    for (index_t h = 0; h < H; ++h) draw_value_head(s, seed, x, b, h, h * Hk / H);
  }
  return x;
}

// ---- Chunk matrices ------------------------------------------------------------------

// g = in-chunk inclusive cumulative sum of g_token over the chunk's rows [start, start+m).
void cumulative_gates(Tensors& x, const ChunkRef& c) {
  Tensor& gt = x["g_token"];
  Tensor& g = x["g"];
  const index_t w = gt.shape.size() == 4 ? gt.shape[3] : 1;
  for (index_t i = 0; i < c.size; ++i) {
    const double* in = row(gt, c.batch, c.start + i, c.head);
    double* out = row(g, c.batch, c.start + i, c.head);
    const double* prev = i > 0 ? row(g, c.batch, c.start + i - 1, c.head) : nullptr;
    for (index_t ch = 0; ch < w; ++ch) out[ch] = prev ? prev[ch] + in[ch] : in[ch];
  }
}

// N_ij (i > j) for tokens ti = start + i, tj = start + j of one chunk; the formulas of
// docs/generators.md. exp(g_i - g_j) <= 1 since g is non-increasing within a chunk.
double token_entry(Kind kind, const Tensors& x, index_t b, index_t h, index_t hk, index_t ti, index_t tj) {
  const Tensor& k = x.at("k");
  const index_t dk = k.shape[3];
  switch (kind) {
    case Kind::deltanet:
    case Kind::correlated:
    case Kind::equal:
      return *row(x.at("beta"), b, ti, h) * dot(row(k, b, ti, hk), row(k, b, tj, hk), dk);
    case Kind::gated: {
      const double gi = *row(x.at("g"), b, ti, h), gj = *row(x.at("g"), b, tj, h);
      return *row(x.at("beta"), b, ti, h) * dot(row(k, b, ti, hk), row(k, b, tj, hk), dk) * det_exp(gi - gj);
    }
    case Kind::kda:
    case Kind::dplr: {
      const bool kda = kind == Kind::kda;
      const double* u = kda ? row(k, b, ti, hk) : row(x.at("a"), b, ti, h);
      const double* w = kda ? row(k, b, tj, hk) : row(x.at("b"), b, tj, h);
      const double* gi = row(x.at("g"), b, ti, h);
      const double* gj = row(x.at("g"), b, tj, h);
      double s = 0.0;
      for (index_t c = 0; c < dk; ++c) s += u[c] * w[c] * det_exp(gi[c] - gj[c]);
      return kda ? *row(x.at("beta"), b, ti, h) * s : s;
    }
    default:
      return 0.0;
  }
}

// The strictly lower m x m chunk matrix N at `out` (row stride ld); entries on and above
// the diagonal are left as they are (0 in a fresh buffer).
void fill_chunk(Kind kind, Tensors& x, const ChunkRef& c, index_t hk, std::uint64_t seed, double* out,
                index_t ld) {
  if (kind == Kind::gated || per_channel_gates(kind)) cumulative_gates(x, c);
  Rng gauss(seed, {tag_gaussian, std::uint64_t(c.batch), std::uint64_t(c.head), std::uint64_t(c.chunk_index)});
  const double inv_sqrt_m = 1.0 / std::sqrt(static_cast<double>(c.size));
  for (index_t i = 1; i < c.size; ++i)
    for (index_t j = 0; j < i; ++j) {
      double& n = out[i * ld + j];
      if (kind == Kind::gaussian) n = gauss.normal() * inv_sqrt_m;
      else if (kind == Kind::ones) n = 1.0;
      else if (kind == Kind::block_ones) n = i / 16 == j / 16 ? 1.0 : 0.0;
      else n = token_entry(kind, x, c.batch, c.head, hk, c.start + i, c.start + j);
    }
}

double inf_norm_strictly_lower(const double* a, index_t m, index_t ld) {
  double norm = 0.0;
  for (index_t i = 0; i < m; ++i) {
    double s = 0.0;
    for (index_t j = 0; j < i; ++j) s += std::fabs(a[i * ld + j]);
    norm = std::max(norm, s);
  }
  return norm;
}

// `scale`: N <- (target / ||N||_inf) N. The factor is carried into the tensors so they
// still generate N: beta_i of the chunk's rows (every token-kind formula has beta_i as a
// row factor), or the rows b_j of the chunk for dplr. A zero N is left as it is.
void apply_scale(Kind kind, Tensors& x, const ChunkRef& c, double target, double* out, index_t ld) {
  const double norm = inf_norm_strictly_lower(out, c.size, ld);
  if (norm == 0.0) return;
  const double f = target / norm;
  for (index_t i = 1; i < c.size; ++i)
    for (index_t j = 0; j < i; ++j) out[i * ld + j] *= f;
  if (!is_token_kind(kind)) return;
  for (index_t i = 0; i < c.size; ++i) {
    if (kind == Kind::dplr) {
      double* bj = row(x["b"], c.batch, c.start + i, c.head);
      for (index_t ch = 0; ch < x["b"].shape[3]; ++ch) bj[ch] *= f;
    } else {
      *row(x["beta"], c.batch, c.start + i, c.head) *= f;
    }
  }
}

ChunkProblem build_chunk_problem(const Entry& e, const GeneratorParams& p, const ChunkLayout& layout,
                                 index_t key_heads) {
  const index_t B = layout.batch, T = layout.length, H = layout.heads, BT = layout.chunk;
  ChunkProblem prob{layout, key_heads, {}};
  if (is_token_kind(e.kind)) prob.tensors = draw_tokens(token_settings(e, p), p.seed, B, T, H, key_heads);
  Tensor A = zeros({B, T, H, BT});
  for (const ChunkRef& c : enumerate_chunks(layout)) {
    double* out = A.data.data() + c.offset;
    fill_chunk(e.kind, prob.tensors, c, c.head * key_heads / H, p.seed, out, layout.row_stride());
    if (p.scale) apply_scale(e.kind, prob.tensors, c, *p.scale, out, layout.row_stride());
  }
  prob.tensors["A"] = std::move(A);
  return prob;
}

// ---- LAPACK-style types -------------------------------------------------------------

constexpr double lapack_eps = 0x1.0p-52;      // dlamch('P') = eps * base
constexpr double lapack_sfmin = 0x1.0p-1022;  // dlamch('S')

// Upper factor R of M = QR by Householder reflections (Golub & Van Loan, Alg. 5.2.1);
// M is overwritten by R (zeros below the diagonal).
void householder_r(Matrix<double>& M) {
  const index_t n = M.rows();
  std::vector<double> v(n);
  for (index_t k = 0; k < n; ++k) {
    double norm2 = 0.0;
    for (index_t i = k; i < n; ++i) norm2 += M(i, k) * M(i, k);
    if (norm2 == 0.0) continue;
    const double alpha = M(k, k) > 0 ? -std::sqrt(norm2) : std::sqrt(norm2);
    for (index_t i = k; i < n; ++i) v[i] = M(i, k);
    v[k] -= alpha;
    const double vtv = norm2 - 2.0 * alpha * M(k, k) + alpha * alpha;  // ||x - alpha e1||^2
    for (index_t j = k; j < n; ++j) {
      double s = 0.0;
      for (index_t i = k; i < n; ++i) s += v[i] * M(i, j);
      const double f = 2.0 * s / vtv;
      for (index_t i = k; i < n; ++i) M(i, j) -= f * v[i];
    }
    M(k, k) = alpha;
    for (index_t i = k + 1; i < n; ++i) M(i, k) = 0.0;
  }
}

// sigma_i = cond^(-i/(n-1)), i = 0..n-1: dlatms MODE 3 (geometric from 1 to 1/cond).
std::vector<double> geometric_singular_values(index_t n, double cond) {
  std::vector<double> s(n, 1.0);
  for (index_t i = 1; i < n; ++i)
    s[i] = det_exp(-(static_cast<double>(i) / static_cast<double>(n - 1)) * det_log(cond));
  return s;
}

// Dense non-unit lower L with singular values exactly sigma (up to rounding):
// M = diag(sigma) W with W = H_1...H_n a product of random reflectors (orthogonal), and
// M = QR gives L = R^T = (Q^T M)^T, which has the singular values of M.
Matrix<double> lower_with_singular_values(const std::vector<double>& sigma, Rng& rng) {
  const index_t n = static_cast<index_t>(sigma.size());
  Matrix<double> W = Matrix<double>::identity(n);
  std::vector<double> v(n), Wv(n);
  for (index_t r = 0; r < n; ++r) {  // W <- W (I - 2 v v^T)
    draw_unit(rng, v.data(), n);
    for (index_t i = 0; i < n; ++i) Wv[i] = dot(&W(i, 0), v.data(), n);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j) W(i, j) -= 2.0 * Wv[i] * v[j];
  }
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) W(i, j) *= sigma[i];
  householder_r(W);
  Matrix<double> L(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) L(i, j) = W(j, i);
  return L;
}

// Givens rotation (c, s) with [c s; -s c]^T-style sign convention of BLAS drotg:
// r = sign(roe) hypot(a, b), roe the larger of a, b in magnitude; c = a/r, s = b/r.
void rotg(double a, double b, double& c, double& s) {
  const double roe = std::fabs(a) > std::fabs(b) ? a : b;
  const double scale = std::fabs(a) + std::fabs(b);
  const double r = std::copysign(scale * std::sqrt((a / scale) * (a / scale) + (b / scale) * (b / scale)), roe);
  c = a / r;
  s = b / r;
}

// Dense unit lower triangular with kappa_2 = cond: LAPACK dlattr's construction for
// types 8-10 (lower case), written from its description. The core matrix
//   I + y (sum_{j=2}^{n-1} e_j e_1^T + e_n e_j^T) + z e_n e_1^T,  y = sqrt(2/(n-2)) x, z = x^2,
// restricted to span(e_1, w, e_n), w = sum_{j=2}^{n-1} e_j / sqrt(n-2), is the symmetric
// square Sym^2 of [1 0; x 1]; if that 2x2 matrix has singular values t, 1/t
// (t - 1/t = x), the core has t^2, 1, ..., 1, 1/t^2. We take t = cond^(1/4), so
// kappa_2 = cond. (dlattr's code takes x = sqrt(cond) - 1/sqrt(cond), i.e. t = sqrt(cond)
// and kappa_2 = cond^2, while its comment intends cond; we follow the comment.) A
// two-diagonal well-conditioned factor F (which changes kappa_2 by at most kappa_2(F);
// measured 1/8 .. 2 over n <= 128) and Givens rotations applied on both sides (which
// keep the singular values and the unit diagonal) then fill in the zeros. 1-based below.
Matrix<double> unit_lower_with_condition(index_t n, double cond, Rng& rng) {
  Matrix<double> L = Matrix<double>::identity(n);
  if (n == 1) return L;
  auto A = [&](index_t i, index_t j) -> double& { return L(i - 1, j - 1); };
  const double t = det_exp(0.25 * det_log(cond));
  const double x = t - 1.0 / t;
  // n = 2: [1 0; z 1] has sigma_1 - 1/sigma_1 = z; z = sqrt(cond) - 1/sqrt(cond) gives kappa = cond.
  const double z = n == 2 ? t * t - 1.0 / (t * t) : x * x;
  const double y = n > 2 ? std::sqrt(2.0 / static_cast<double>(n - 2)) * x : 0.0;
  std::vector<double> plus(n + 2, 0.0), star(n + 2, 0.0);
  const double sfac = 0.5, ln_sfac = det_log(sfac);
  double star1 = 0.25, plus1 = sfac;
  for (index_t j = 1; j <= n; j += 2) {
    const double plus2 = star1 / plus1;
    plus[j] = plus1;
    star[j] = star1;
    if (j + 1 <= n) {
      plus[j + 1] = plus2;
      star[j + 1] = 0.0;
      plus1 = star1 / plus2;
      const double rexp = rng.uniform(-1.0, 1.0);
      star1 = rexp < 0 ? -det_exp((1.0 - rexp) * ln_sfac) : det_exp((1.0 + rexp) * ln_sfac);
    }
  }
  for (index_t j = 1; j <= n - 3; ++j) A(j + 2, j + 1) = plus[j];
  for (index_t j = 1; j <= n - 4; ++j) A(j + 3, j + 1) = star[j];
  for (index_t j = 2; j <= n - 1; ++j) A(j, 1) = A(n, j) = y;
  A(n, 1) = z;
  for (index_t J = 1; J <= n - 1; ++J) {
    double c, s;
    rotg(A(J + 1, J), 2.0, c, s);
    for (index_t i = J + 2; i <= n; ++i) {  // columns (J+1, J) times [c -s; s c] from the right
      const double u = A(i, J + 1), w = A(i, J);
      A(i, J + 1) = c * u - s * w;
      A(i, J) = c * w + s * u;
    }
    for (index_t k = 1; k <= J - 1; ++k) {  // rows (J, J+1) times [-c s; -s -c] from the left
      const double u = A(J, k), w = A(J + 1, k);
      A(J, k) = -c * u + s * w;
      A(J + 1, k) = -c * w - s * u;
    }
    A(J + 1, J) = -A(J + 1, J);
  }
  return L;
}

Matrix<double> lapack_matrix(int type, index_t n, Rng& rng) {
  const double bad1 = std::sqrt(0.1 / lapack_eps), bad2 = 0.1 / lapack_eps;
  const double cond = (type == 3 || type == 9) ? bad1 : (type == 4 || type == 10) ? bad2 : 2.0;
  const double small = 0.25 * lapack_sfmin / lapack_eps;  // dlatb4's SMALL
  const double anorm = type == 5 ? small : type == 6 ? 1.0 / small : 1.0;
  if (type == 7) return Matrix<double>::identity(n);
  if (type >= 8) return unit_lower_with_condition(n, cond, rng);
  const std::vector<double> sigma = geometric_singular_values(n, cond);
  Matrix<double> L(n, n);
  if (type == 1) {
    for (index_t i = 0; i < n; ++i) L(i, i) = rng.uniform() < 0.5 ? -sigma[i] : sigma[i];
  } else {
    L = lower_with_singular_values(sigma, rng);
  }
  // ||L||_2 = anorm. Scaled after the construction, whose sums of squares would
  // underflow (type 5) or overflow (type 6) at the target magnitude.
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i; ++j) L(i, j) *= anorm;
  return L;
}

Generated generate_lapack(const Entry& e, const GeneratorParams& p) {
  if (p.n > 2048) bad("n = " + std::to_string(p.n) + " out of range for " + e.info.name + " (allowed: 1 .. 2048; O(n^3) construction)");
  Rng rng(p.seed, {tag_lapack, std::uint64_t(e.lapack_type)});
  Generated g{lapack_matrix(e.lapack_type, p.n, rng), e.info.diagonal, {}};
  if (p.scale) {
    const double norm = inf_norm_strictly_lower(g.L.data(), p.n, p.n);
    if (norm > 0.0)
      for (index_t i = 1; i < p.n; ++i)
        for (index_t j = 0; j < i; ++j) g.L(i, j) *= *p.scale / norm;
  }
  return g;
}

// [1, n, 1, w] -> [n, w] and [1, n, 1] -> [n]: the single-matrix tensors.
Tensor squeeze(Tensor x) {
  std::vector<index_t> shape{x.shape[1]};
  if (x.shape.size() == 4) shape.push_back(x.shape[3]);
  x.shape = shape;
  return x;
}

}  // namespace

Generated generate(const GeneratorParams& params) {
  validate(params);
  const Entry& e = entry(params.name);
  if (e.kind == Kind::lapack) return generate_lapack(e, params);
  // One chunk of n tokens: the single matrix is the chunk problem with B = H = 1, T = BT = n.
  ChunkLayout layout;
  layout.length = params.n;
  layout.chunk = params.n;
  ChunkProblem prob = build_chunk_problem(e, params, layout, 1);
  Generated g{Matrix<double>(params.n, params.n), Diagonal::unit, {}};
  const Tensor& A = prob.tensors.at("A");
  for (index_t i = 0; i < params.n; ++i) {
    for (index_t j = 0; j < i; ++j) g.L(i, j) = A.data[i * params.n + j];
    g.L(i, i) = 1.0;
  }
  for (auto& [name, t] : prob.tensors)
    if (name != "A") g.tensors[name] = squeeze(std::move(t));
  return g;
}

ChunkProblem make_chunk_problem(const GeneratorParams& params, const ChunkLayout& layout, index_t key_heads) {
  validate(params);
  layout.validate();
  const Entry& e = entry(params.name);
  if (!e.info.chunkable)
    bad("'" + params.name + "' makes non-unit matrices; make_chunk_problem takes unit-lower generators only");
  if (key_heads == 0) key_heads = layout.heads;
  if (key_heads < 1 || layout.heads % key_heads != 0)
    bad("key_heads = " + std::to_string(key_heads) + " must be >= 1 and divide heads H = " +
        std::to_string(layout.heads));
  return build_chunk_problem(e, params, layout, key_heads);
}

namespace {

std::vector<std::int64_t> npy_shape(const std::vector<index_t>& shape) {
  return std::vector<std::int64_t>(shape.begin(), shape.end());
}

std::string save_one(const std::string& dir, const std::string& name, const std::vector<index_t>& shape,
                     const std::vector<double>& data, NpyType as) {
  const std::string path = (std::filesystem::path(dir) / (name + ".npy")).string();
  write_npy(path, npy_shape(shape), data, as);
  return path;
}

std::vector<std::string> save_tensors(const std::string& dir, const Tensors& tensors, NpyType as) {
  if (as != NpyType::f8 && as != NpyType::f4)
    throw std::invalid_argument(std::string("save_npy: tensors are floating point; type ") + npy_descr(as) +
                                " not allowed (allowed: <f8, <f4)");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("save_npy: cannot create directory '" + dir + "': " + ec.message());
  std::vector<std::string> paths;
  for (const auto& [name, t] : tensors) paths.push_back(save_one(dir, name, t.shape, t.data, as));
  return paths;
}

}  // namespace

std::vector<std::string> save_npy(const std::string& dir, const Generated& g, NpyType as) {
  std::vector<std::string> paths = save_tensors(dir, g.tensors, as);
  const std::vector<double> L(g.L.data(), g.L.data() + g.L.rows() * g.L.cols());
  paths.push_back(save_one(dir, "L", {g.L.rows(), g.L.cols()}, L, as));
  return paths;
}

std::vector<std::string> save_npy(const std::string& dir, const ChunkProblem& p, NpyType as) {
  std::vector<std::string> paths = save_tensors(dir, p.tensors, as);
  if (!p.layout.cu_seqlens.empty()) {
    const std::string path = (std::filesystem::path(dir) / "cu_seqlens.npy").string();
    write_npy(path, NpyArray{{static_cast<std::int64_t>(p.layout.cu_seqlens.size())}, p.layout.cu_seqlens});
    paths.push_back(path);
  }
  return paths;
}

}  // namespace triscan::validation
