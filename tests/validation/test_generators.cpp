// Single-matrix generators: determinism, and each generator's defining property checked
// by an independent recomputation from the tensors it returns.
#include <gtest/gtest.h>

#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "validation/generators.hpp"

namespace triscan::validation {
namespace {

constexpr double u = 0x1.0p-53;  // fp64 unit roundoff
double gamma(index_t n) { return double(n) * u / (1.0 - double(n) * u); }  // Higham ASNA (3.8)

std::string context(const GeneratorParams& p) {
  std::ostringstream s;
  s << "generator=" << p.name << " n=" << p.n << " seed=" << p.seed << " format=fp64";
  if (p.dk) s << " dk=" << *p.dk;
  if (p.gate) s << " gate=" << *p.gate;
  if (p.beta) s << " beta=" << *p.beta;
  if (p.beta_max) s << " beta_max=" << *p.beta_max;
  if (p.scale) s << " scale=" << *p.scale;
  return s.str();
}

GeneratorParams params(const std::string& name, index_t n, std::uint64_t seed) {
  GeneratorParams p;
  p.name = name;
  p.n = n;
  p.seed = seed;
  const auto& opts = generator_info(name).options;
  if (std::find(opts.begin(), opts.end(), "dk") != opts.end()) p.dk = 16;  // small keys: fast tests
  if (std::find(opts.begin(), opts.end(), "dv") != opts.end()) p.dv = 8;
  return p;
}

double N(const Generated& g, index_t i, index_t j) { return g.L(i, j); }
const Tensor& T(const Generated& g, const char* name) { return g.tensors.at(name); }
const double* krow(const Generated& g, index_t i) { return &T(g, "k").data[i * T(g, "k").shape[1]]; }

double inf_norm_strictly_lower(const Generated& g) {
  double m = 0.0;
  for (index_t i = 0; i < g.L.rows(); ++i) {
    double s = 0.0;
    for (index_t j = 0; j < i; ++j) s += std::fabs(g.L(i, j));
    m = std::max(m, s);
  }
  return m;
}

void expect_unit_lower(const Generated& g, const std::string& ctx) {
  for (index_t i = 0; i < g.L.rows(); ++i) {
    ASSERT_EQ(g.L(i, i), 1.0) << ctx << " diagonal " << i;
    for (index_t j = i + 1; j < g.L.cols(); ++j) ASSERT_EQ(g.L(i, j), 0.0) << ctx << " upper (" << i << "," << j << ")";
  }
}

bool bitwise_equal(const Generated& a, const Generated& b) {
  if (a.L.rows() != b.L.rows() || a.tensors.size() != b.tensors.size()) return false;
  if (!std::equal(a.L.data(), a.L.data() + a.L.rows() * a.L.cols(), b.L.data())) return false;
  for (const auto& [name, t] : a.tensors) {
    auto it = b.tensors.find(name);
    if (it == b.tensors.end() || it->second.shape != t.shape || it->second.data != t.data) return false;
  }
  return true;
}

TEST(Generators, RegistryListsExactlyTheCliNames) {
  std::set<std::string> expected = {"gaussian", "deltanet", "deltanet-beta2", "deltanet-correlated",
                                    "deltanet-equal", "gated", "kda", "dplr", "ones", "block-ones"};
  for (int t = 1; t <= 10; ++t) expected.insert("lapack-" + std::to_string(t));
  std::set<std::string> got;
  for (const auto& g : generators()) {
    got.insert(g.name);
    EXPECT_FALSE(g.description.empty()) << g.name;
    EXPECT_NE(std::find(g.options.begin(), g.options.end(), "scale"), g.options.end()) << g.name << " lacks scale";
  }
  EXPECT_EQ(got, expected);
}

TEST(Generators, SameSeedSameBitsDifferentSeedDifferentMatrix) {
  for (const auto& info : generators()) {
    const auto p = params(info.name, 24, 11);
    const Generated a = generate(p), b = generate(p);
    EXPECT_TRUE(std::all_of(a.L.data(), a.L.data() + p.n * p.n, [](double x) { return std::isfinite(x); }))
        << context(p) << " has a non-finite entry";
    EXPECT_TRUE(bitwise_equal(a, b)) << context(p);
    auto q = p;
    q.seed = 12;
    const Generated c = generate(q);
    const bool seedless = info.name == "ones" || info.name == "block-ones" || info.name == "lapack-7";
    EXPECT_EQ(bitwise_equal(a, c), seedless) << context(q) << (seedless ? " should ignore the seed" : " equals seed 11");
  }
}

// deltanet family: unit keys, beta range, N = strictly_lower(diag(beta) K K^T).
void check_delta_rule(const GeneratorParams& p, double beta_lo, double beta_hi) {
  const std::string ctx = context(p);
  const Generated g = generate(p);
  expect_unit_lower(g, ctx);
  const index_t n = p.n, dk = *p.dk;
  ASSERT_EQ(T(g, "k").shape, (std::vector<index_t>{n, dk})) << ctx;
  ASSERT_EQ(T(g, "v").shape, (std::vector<index_t>{n, *p.dv})) << ctx;
  ASSERT_EQ(T(g, "beta").shape, (std::vector<index_t>{n})) << ctx;
  for (index_t i = 0; i < n; ++i) {
    // ||k||: normalized with a compensated (Dot2) norm, so | ||k|| - 1 | <= u (norm)
    // + u/2 (sqrt) + u (one rounding per entry) < 3u; measured in long double (error
    // <= dk 2^-64). Bound 4u.
    long double s = 0;
    for (index_t c = 0; c < dk; ++c) s += (long double)krow(g, i)[c] * krow(g, i)[c];
    EXPECT_LE(std::fabs(double(std::sqrt(s)) - 1.0), 4 * u) << ctx << " key " << i;
    const double beta = T(g, "beta").data[i];
    if (beta_lo == beta_hi) EXPECT_EQ(beta, beta_lo) << ctx;
    else EXPECT_TRUE(beta > beta_lo && beta < beta_hi) << ctx << " beta_" << i << " = " << beta;
    for (index_t j = 0; j < i; ++j) {
      double dot = 0.0;
      for (index_t c = 0; c < dk; ++c) dot += krow(g, i)[c] * krow(g, j)[c];
      // Both sides are fl(beta * <k_i,k_j>): |error| <= gamma_{dk+1} beta sum|k_ic k_jc|
      // <= gamma_{dk+1} beta (Higham ASNA (3.5), Cauchy-Schwarz with unit keys).
      EXPECT_NEAR(N(g, i, j), beta * dot, 2 * gamma(dk + 1) * beta) << ctx << " N(" << i << "," << j << ")";
    }
  }
}

TEST(Generators, DeltaNetKeysBetaAndMatrix) {
  for (std::uint64_t seed : {1u, 2u}) {
    check_delta_rule(params("deltanet", 48, seed), 0.0, 1.0);
    check_delta_rule(params("deltanet-beta2", 48, seed), 0.0, 2.0);
    check_delta_rule(params("deltanet-correlated", 48, seed), 0.0, 1.0);
    check_delta_rule(params("deltanet-equal", 48, seed), 0.0, 1.0);
  }
  auto p = params("deltanet", 40, 5);
  p.beta = 0.8;
  check_delta_rule(p, 0.8, 0.8);
  p.beta.reset();
  p.beta_max = 0.25;
  check_delta_rule(p, 0.0, 0.25);
  p.dk.reset();  // default dk = 128
  p.dk = 128;
  check_delta_rule(p, 0.0, 0.25);
}

// Eigenvalues of the Gram matrix K K^T (ascending), by LAPACK dsyev.
std::vector<double> gram_eigenvalues(const Generated& g) {
  const index_t n = g.L.rows(), dk = T(g, "k").shape[1];
  std::vector<double> G(n * n), w(n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (index_t c = 0; c < dk; ++c) s += krow(g, i)[c] * krow(g, j)[c];
      G[i * n + j] = s;
    }
  EXPECT_EQ(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', int(n), G.data(), int(n), w.data()), 0);
  return w;
}

TEST(Generators, CorrelatedKeysLieNearAPlane) {
  // k = normalize(s + 0.01 w) with s, w unit and s in a fixed plane P: the component of
  // k outside P is at most 0.01/(1 - 0.01). By Eckart-Young, the eigenvalues of K K^T
  // beyond the two largest sum to at most sum_i ||P_perp k_i||^2 <= n (0.01/0.99)^2.
  // The plane is really 2-D: lambda_2 >= 0.1 n (lambda_2 ~ n/2 for Gaussian coefficients).
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    auto p = params("deltanet-correlated", 64, seed);
    p.dk = 32;
    const auto w = gram_eigenvalues(generate(p));
    double tail = 0.0;
    for (index_t i = 0; i + 2 < p.n; ++i) tail += std::max(w[i], 0.0);
    EXPECT_LE(tail, double(p.n) * std::pow(0.01 / 0.99, 2) * (1 + 1e-10)) << context(p);
    EXPECT_GE(w[p.n - 2], 0.1 * double(p.n)) << context(p);
  }
}

TEST(Generators, EqualKeysAreNearlyButNotExactlyEqual) {
  // k_i = normalize(u + 1e-3 w_i): the angle to u is <= asin(1e-3), so the angle between
  // two keys is <= 2 asin(1e-3) and <k_i, k_j> >= cos(2 asin 1e-3) = 1 - 2e-6.
  auto p = params("deltanet-equal", 48, 4);
  const Generated g = generate(p);
  double min_dot = 1.0;
  for (index_t i = 0; i < p.n; ++i)
    for (index_t j = 0; j < i; ++j) {
      double s = 0.0;
      for (index_t c = 0; c < *p.dk; ++c) s += krow(g, i)[c] * krow(g, j)[c];
      min_dot = std::min(min_dot, s);
    }
  EXPECT_GE(min_dot, 1.0 - 2e-6 - 64 * u) << context(p);
  EXPECT_LT(min_dot, 1.0 - 1e-9) << context(p) << " keys are exactly equal";
}

// g recomputed as the inclusive cumulative sum of g_token (same order: identical bits).
std::vector<double> cumsum(const Tensor& gt) {
  const index_t n = gt.shape[0], w = gt.shape.size() == 2 ? gt.shape[1] : 1;
  std::vector<double> g(gt.data.size());
  for (index_t i = 0; i < n; ++i)
    for (index_t c = 0; c < w; ++c) g[i * w + c] = gt.data[i * w + c] + (i > 0 ? g[(i - 1) * w + c] : 0.0);
  return g;
}

void check_log_decays(const Generated& g, double gate, const std::string& ctx) {
  for (double x : T(g, "g_token").data)
    EXPECT_TRUE(x >= 1.5 * gate && x <= 0.5 * gate) << ctx << " log-decay " << x << " outside gate*[0.5, 1.5]";
  EXPECT_EQ(T(g, "g").data, cumsum(T(g, "g_token"))) << ctx;
}

TEST(Generators, GatedMatchesPerTokenLoop) {
  for (double gate : {-1e-3, -0.1, -5.0}) {
    auto p = params("gated", 48, 7);
    p.gate = gate;
    const std::string ctx = context(p);
    const Generated g = generate(p);
    expect_unit_lower(g, ctx);
    check_log_decays(g, gate, ctx);
    const auto& G = T(g, "g").data;
    for (index_t i = 0; i < p.n; ++i)
      for (index_t j = 0; j < i; ++j) {
        const double beta = T(g, "beta").data[i];
        double dot = 0.0;
        for (index_t c = 0; c < *p.dk; ++c) dot += krow(g, i)[c] * krow(g, j)[c];
        const double decay = std::exp(G[i] - G[j]);
        // gamma_{dk+2} for the dot product and two products; det_exp vs libm <= 64u
        // (test_random); |<k_i,k_j>| <= 1.
        EXPECT_NEAR(N(g, i, j), beta * dot * decay, (2 * gamma(*p.dk + 2) + 64 * u) * beta * decay)
            << ctx << " N(" << i << "," << j << ")";
      }
  }
}

TEST(Generators, KdaMatchesPerChannelLoop) {
  for (double gate : {-1e-3, -0.1, -5.0}) {
    auto p = params("kda", 40, 8);
    p.gate = gate;
    const std::string ctx = context(p);
    const Generated g = generate(p);
    expect_unit_lower(g, ctx);
    ASSERT_EQ(T(g, "g").shape, (std::vector<index_t>{p.n, *p.dk})) << ctx;
    check_log_decays(g, gate, ctx);
    const auto& G = T(g, "g").data;
    const index_t dk = *p.dk;
    for (index_t i = 0; i < p.n; ++i)
      for (index_t j = 0; j < i; ++j) {
        double s = 0.0, mag = 0.0;
        for (index_t c = 0; c < dk; ++c) {
          const double t = krow(g, i)[c] * krow(g, j)[c] * std::exp(G[i * dk + c] - G[j * dk + c]);
          s += t;
          mag += std::fabs(t);
        }
        const double beta = T(g, "beta").data[i];
        EXPECT_NEAR(N(g, i, j), beta * s, (2 * gamma(dk + 3) + 64 * u) * beta * mag) << ctx << " N(" << i << "," << j << ")";
      }
  }
}

TEST(Generators, DplrIsNotAGramMatrixAndMatchesItsFormula) {
  auto p = params("dplr", 40, 9);
  p.gate = -0.5;
  const std::string ctx = context(p);
  const Generated g = generate(p);
  expect_unit_lower(g, ctx);
  check_log_decays(g, -0.5, ctx);
  const index_t dk = *p.dk;
  const auto &a = T(g, "a").data, &b = T(g, "b").data, &G = T(g, "g").data;
  EXPECT_NE(a, b) << ctx;
  for (index_t i = 0; i < p.n; ++i)
    for (index_t c = 0; c < dk; ++c) {
      EXPECT_EQ(a[i * dk + c], krow(g, i)[c]) << ctx;  // a = k
      const double alpha = b[i * dk + c] / a[i * dk + c];  // b = k * alpha, alpha in (0, 1)
      EXPECT_TRUE(alpha > 0.0 && alpha < 1.0 + 2 * u) << ctx << " alpha " << alpha;
    }
  for (index_t i = 0; i < p.n; ++i)
    for (index_t j = 0; j < i; ++j) {
      double s = 0.0, mag = 0.0;
      for (index_t c = 0; c < dk; ++c) {
        const double t = a[i * dk + c] * b[j * dk + c] * std::exp(G[i * dk + c] - G[j * dk + c]);
        s += t;
        mag += std::fabs(t);
      }
      EXPECT_NEAR(N(g, i, j), s, (2 * gamma(dk + 2) + 64 * u) * mag) << ctx << " N(" << i << "," << j << ")";
    }
}

TEST(Generators, OnesAndBlockOnesAreExact) {
  for (index_t n : {1, 5, 16, 40}) {
    const Generated o = generate(params("ones", n, 0));
    const Generated b = generate(params("block-ones", n, 0));
    expect_unit_lower(o, "ones");
    expect_unit_lower(b, "block-ones");
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < i; ++j) {
        EXPECT_EQ(o.L(i, j), 1.0) << "ones n=" << n;
        EXPECT_EQ(b.L(i, j), i / 16 == j / 16 ? 1.0 : 0.0) << "block-ones n=" << n << " (" << i << "," << j << ")";
      }
    EXPECT_TRUE(o.tensors.empty() && b.tensors.empty());
  }
}

TEST(Generators, GaussianEntriesHaveVarianceOneOverN) {
  // sqrt(n) N_ij ~ N(0, 1) over m = n(n-1)/2 entries: 6-sigma bands for mean and variance.
  auto p = params("gaussian", 200, 3);
  const Generated g = generate(p);
  expect_unit_lower(g, context(p));
  double s1 = 0, s2 = 0;
  const double m = double(p.n * (p.n - 1)) / 2.0;
  for (index_t i = 0; i < p.n; ++i)
    for (index_t j = 0; j < i; ++j) {
      const double x = g.L(i, j) * std::sqrt(double(p.n));
      s1 += x;
      s2 += x * x;
    }
  EXPECT_NEAR(s1 / m, 0.0, 6 / std::sqrt(m)) << context(p);
  EXPECT_NEAR(s2 / m, 1.0, 6 * std::sqrt(2 / m)) << context(p);
}

TEST(Generators, ScaleHitsTheTargetInfinityNorm) {
  // ||fl(f N)||_inf: each product rounds once (relative u) and the test's row sums add
  // gamma_{n-1}: |norm - target| <= gamma_n target.
  // A zero N (the diagonal types lapack-1 and lapack-7) has no scale and stays zero.
  for (const auto& info : generators()) {
    for (double target : {37.0, 1e-3}) {
      auto p = params(info.name, 33, 2);
      const bool zero_n = info.name == "lapack-1" || info.name == "lapack-7";
      EXPECT_EQ(inf_norm_strictly_lower(generate(p)) == 0.0, zero_n) << context(p);
      p.scale = target;
      const Generated g = generate(p);
      EXPECT_NEAR(inf_norm_strictly_lower(g), zero_n ? 0.0 : target, gamma(p.n + 1) * target) << context(p);
    }
  }
  // The scaled beta still generates N: N_ij = beta_i <k_i, k_j> with the stored beta.
  auto p = params("deltanet", 33, 2);
  p.scale = 37.0;
  const Generated g = generate(p);
  for (index_t i = 1; i < p.n; ++i) {
    double dot = 0.0;
    for (index_t c = 0; c < *p.dk; ++c) dot += krow(g, i)[c] * krow(g, 0)[c];
    const double beta = T(g, "beta").data[i];
    EXPECT_NEAR(g.L(i, 0), beta * dot, (2 * gamma(*p.dk + 2)) * beta) << context(p) << " row " << i;
  }
}

void expect_rejected(const GeneratorParams& p, const std::string& key) {
  try {
    generate(p);
    ADD_FAILURE() << context(p) << ": expected std::invalid_argument naming '" << key << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << "message '" << e.what() << "' lacks " << key;
  }
}

TEST(Generators, BadNamesAndOptionsAreRejectedNamingTheKey) {
  GeneratorParams p = params("deltanet", 8, 0);
  p.name = "deltanett";
  expect_rejected(p, "deltanett");
  expect_rejected(p, "deltanet-beta2");  // the message lists the allowed names
  EXPECT_THROW(generator_info("nope"), std::invalid_argument);
  p = params("ones", 8, 0);
  p.beta = 0.5;
  expect_rejected(p, "beta");
  p = params("deltanet", 8, 0);
  p.gate = -1.0;
  expect_rejected(p, "gate");
  p = params("deltanet", 0, 0);
  expect_rejected(p, "n = 0");
  p = params("deltanet", 8, 0);
  p.dk = 0;
  expect_rejected(p, "dk");
  p = params("deltanet-correlated", 8, 0);
  p.dk = 1;
  expect_rejected(p, "dk");
  p = params("deltanet", 8, 0);
  p.dv = -3;
  expect_rejected(p, "dv");
  p = params("deltanet", 8, 0);
  p.beta = 2.5;
  expect_rejected(p, "beta");
  p.beta = 0.5;
  p.beta_max = 1.0;
  expect_rejected(p, "beta_max");
  p = params("deltanet", 8, 0);
  p.beta_max = 0.0;
  expect_rejected(p, "beta_max");
  p = params("gated", 8, 0);
  p.gate = 0.5;
  expect_rejected(p, "gate");
  p.gate = std::nan("");
  expect_rejected(p, "gate");
  p = params("gaussian", 8, 0);
  p.scale = -1.0;
  expect_rejected(p, "scale");
  p = params("lapack-2", 3000, 0);
  expect_rejected(p, "n = 3000");
}

}  // namespace
}  // namespace triscan::validation
