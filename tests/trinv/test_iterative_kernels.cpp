// The iterative kernels called directly (no driver): the banded product against the
// model's dense GEMM, exact answers on integer inputs, growth-based error bounds in
// fp64 against MPFR, Newton–Schulz stopping rules, overflow in fp16, parameters.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "tests/trinv/test_iterative_util.hpp"

namespace triscan {
namespace {

using iterative_test::comparison_inverse;
using iterative_test::describe;
using iterative_test::gamma;
using iterative_test::iterative_impl;
using iterative_test::max_entry;
using iterative_test::run_f64;
using iterative_test::run_kernel;
using iterative_test::run_simulated;
using trinv_detail::banded_lower_product;

// ---- The banded product is the dense GEMM minus exact zeros ----------------------

// Random lower-triangular n x n matrix vanishing within `gap` of the diagonal.
Matrix<double> random_banded(index_t n, index_t gap, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Matrix<double> M(n, n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j <= i - gap; ++j) M(i, j) = u(rng);
  return M;
}

template <class A>
void expect_banded_equals_gemm(A& a, const std::string& model) {
  const index_t n = 37;
  for (auto [ag, bg] : {std::pair<index_t, index_t>{0, 0}, {1, 1}, {2, 4}, {0, 3}, {5, 0}}) {
    const Matrix<double> Am = random_banded(n, ag, 11 + ag), B = random_banded(n, bg, 23 + bg);
    Matrix<double> dense(n, n), banded(n, n);
    a.gemm(Am.view(), B.view(), dense.view());
    banded_lower_product(
        a, Am.view(), ag, B.view(), bg, banded.view(), [](index_t, index_t) { return 0.0; },
        [&a](index_t, index_t, double s) { return a.store(s); });
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j <= i; ++j)
        ASSERT_EQ(banded(i, j), dense(i, j))
            << model << ": random banded n=" << n << " seeds " << 11 + ag << ", " << 23 + bg << " gaps ("
            << ag << ", " << bg << ") entry (" << i << ", " << j << ")";
  }
}

TEST(IterativeKernels, BandedProductEqualsDenseGemmBitForBit) {
  arith::Native<double> native;
  expect_banded_equals_gemm(native, "native fp64");
  for (const char* f : {"fp16", "bf16", "e4m3"}) {
    arith::Simulated sim(Precision::uniform(format_by_name(f)));  // exact products
    expect_banded_equals_gemm(sim, std::string(f) + " uniform");
  }
  Precision p = Precision::uniform(format_by_name("bf16"));
  p.accumulate = format_by_name("fp32");
  p.accumulation = Accumulation::round_every_op;
  arith::Simulated sim(p);
  expect_banded_equals_gemm(sim, p.describe());
}

// ---- Exact answers on integer inputs ---------------------------------------------

// ones: N all ones below the diagonal; block-ones: the same inside 16 x 16 diagonal
// blocks. Hand-derived inverse: 1 on the diagonal, -1 on the subdiagonal inside each
// block of ones, 0 elsewhere (L = I + N has (I - S)^-1 form with S the shift).
Matrix<double> ones_input(index_t n, index_t block) {
  Matrix<double> L = Matrix<double>::identity(n);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < i; ++j)
      if (i / block == j / block) L(i, j) = 1.0;
  return L;
}
Matrix<double> ones_inverse(index_t n, index_t block) {
  Matrix<double> X = Matrix<double>::identity(n);
  for (index_t i = 1; i < n; ++i)
    if (i / block == (i - 1) / block) X(i, i - 1) = -1.0;
  return X;
}

// Every intermediate of the product form, Newton–Schulz from I and Neumann (and every
// partial sum of their dot products) is bounded in magnitude by 2 M(L)^-1 (|N|^k,
// partial products of the factors, |L||X_k| <= (I + |N|) M(L)^-1); for integer input all
// of them are integers, hence exact, when 2 max M(L)^-1 <= 2^p.
bool intermediates_exact(const Matrix<double>& L, int precision_bits) {
  return 2.0 * max_entry(comparison_inverse(L)) <= std::ldexp(1.0, precision_bits);
}

const char* const kExactMethods[] = {"trinv/product_form", "trinv/newton_schulz", "trinv/neumann"};

TEST(IterativeKernels, ExactOnOnesAndBlockOnesFp64) {
  int checked = 0;
  for (index_t block : {index_t{1000}, index_t{16}}) {
    for (index_t n : {1, 2, 3, 16, 17, 33, 54, 64, 128}) {
      const Matrix<double> L = ones_input(n, block), expected = ones_inverse(n, block);
      const std::string input = block == 16 ? "block-ones" : "ones";
      if (!intermediates_exact(L, 53)) continue;  // ones with n > 54: 2^(n-1) > 2^53
      ++checked;
      for (const char* method : kExactMethods) {
        const auto r = run_f64(method, L);
        ASSERT_EQ(r.outcome.status, Status::ok) << describe(method, input, n, "fp64", 0);
        for (index_t i = 0; i < n; ++i)
          for (index_t j = 0; j <= i; ++j)
            ASSERT_EQ(r.X(i, j), expected(i, j))
                << describe(method, input, n, "fp64", 0) << " entry (" << i << ", " << j << ")";
      }
    }
  }
  // ones: 2 max M(L)^-1 = 2^(n-1) <= 2^53 for the 7 sizes n <= 54; block-ones: 2^15 always.
  EXPECT_EQ(checked, 7 + 9);
}

TEST(IterativeKernels, ExactOnOnesFp32AndFp16) {
  for (index_t n : {2, 3, 16, 17, 25}) {
    const Matrix<double> L = ones_input(n, 1000), expected = ones_inverse(n, 1000);
    ASSERT_TRUE(intermediates_exact(L, 24)) << "ones n=" << n;
    Matrix<float> Lf(n, n);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j < n; ++j) Lf(i, j) = static_cast<float>(L(i, j));
    for (const char* method : kExactMethods) {
      arith::Native<float> a;
      const auto r = run_kernel(method, a, Lf);
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j <= i; ++j)
          ASSERT_EQ(double(r.X(i, j)), expected(i, j))
              << describe(method, "ones", n, "fp32", 0) << " entry (" << i << ", " << j << ")";
    }
  }
  // fp16 (p = 11): 2 max M(L)^-1 = 2^(n-1) <= 2^11 up to n = 12.
  for (index_t n : {2, 3, 12}) {
    const Matrix<double> L = ones_input(n, 1000), expected = ones_inverse(n, 1000);
    ASSERT_TRUE(intermediates_exact(L, 11)) << "ones n=" << n;
    for (const char* method : kExactMethods) {
      const auto r = run_simulated(method, L, Precision::uniform(format_by_name("fp16")));
      EXPECT_EQ(r.outcome.status, Status::ok);
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j <= i; ++j)
          ASSERT_EQ(r.X(i, j), expected(i, j))
              << describe(method, "ones", n, "fp16", 0) << " entry (" << i << ", " << j << ")";
    }
  }
}

// Non-unit L = D (I + N) with D a diagonal of powers of two: the methods invert
// D^-1 L = I + N (exact quotients) and divide column j by L(j,j), all exact.
TEST(IterativeKernels, NonUnitByDiagonalScalingExact) {
  const index_t n = 20;
  Matrix<double> L = ones_input(n, 1000), expected = ones_inverse(n, 1000);
  for (index_t i = 0; i < n; ++i) {
    const double d = std::ldexp(1.0, static_cast<int>(i % 5) - 2);
    for (index_t j = 0; j <= i; ++j) L(i, j) *= d;
    for (index_t r = 0; r < n; ++r) expected(r, i) /= d;
  }
  for (const char* method : kExactMethods) {
    const auto r = run_f64(method, L, Diagonal::non_unit);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j <= i; ++j)
        ASSERT_EQ(r.X(i, j), expected(i, j))
            << describe(method, "diag(2^k) ones", n, "fp64 non-unit", 0) << " entry (" << i << ", "
            << j << ")";
  }
}

// A unit L's diagonal and upper part are never read.
TEST(IterativeKernels, UnitDiagonalAndUpperPartNeverRead) {
  const index_t n = 17;
  const Matrix<double> L = iterative_test::generate("deltanet", n, 3);
  Matrix<double> poisoned = L;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = i; j < n; ++j) poisoned(i, j) = std::nan("");
  for (const char* method : kExactMethods) {
    const auto clean = run_f64(method, L), dirty = run_f64(method, poisoned);
    for (index_t i = 0; i < n; ++i)
      for (index_t j = 0; j <= i; ++j)
        ASSERT_EQ(dirty.X(i, j), clean.X(i, j)) << describe(method, "deltanet", n, "fp64", 3);
  }
}

// ---- fp64 accuracy against MPFR within the growth-based bounds --------------------
//
// With M(L) = I - |N| the comparison matrix (so M(L)^-1 = sum_k |N|^k) and every
// product C = A B satisfying |fl(AB) - AB| <= gamma_{n+2} |A||B| (inner dimension n,
// plus the accumulator's initial value and the store; Higham ASNA 2nd ed. §3.5), an
// induction on the absolute values gives, to all orders (docs/trinv-iterative.md):
//   product form: |X - L^-1| <= gamma_{(n+2)(2^m - 2)} M(L)^-1   (squarings double the
//                 exponent: N^(2^k) carries (1 + gamma)^(2^k - 1); m - 1 partial products)
//   Neumann:      |X - L^-1| <= gamma_{(n+1)(n-1)} M(L)^-1        (n - 1 Horner steps)
//   Newton–Schulz from I (first order): each step adds at most 4 gamma_{n+2} M|L|M with
//                 M = M(L)^-1 (|X_k| <= M, |R_k| <= |N|^(2^k)), and a later step maps a
//                 perturbation d to d R + R d, |R| <= M; so
//                 |X - L^-1| <~ 4 m gamma_{n+2} M M |L| M M.
// The comparison matrix is computed in double from nonnegative terms, inflated here
// by (1 + gamma_n)^5 <= 2 for the at most five products.
struct BoundCase {
  std::string method;
  double bound;  // relative Frobenius bound for this input
};

std::vector<BoundCase> growth_bounds(const Matrix<double>& L, double ref_norm) {
  const index_t n = L.rows();
  const double u = std::ldexp(1.0, -53);
  const int m = trinv_detail::ceil_log2(n);
  const Matrix<double> M = comparison_inverse(L);
  const Matrix<double> MM = iterative_test::product(M, M);
  const Matrix<double> ns =
      iterative_test::product(iterative_test::product(MM, iterative_test::abs_unit_lower(L)), MM);
  const double pf = gamma(double(n + 2) * (std::ldexp(1.0, m) - 2.0), u) * 2.0 * norm_frobenius(M.view());
  const double nm = gamma(double(n + 1) * double(n - 1), u) * 2.0 * norm_frobenius(M.view());
  const double nsb = 4.0 * m * gamma(double(n + 2), u) * 2.0 * norm_frobenius(ns.view());
  return {{"trinv/product_form", pf / ref_norm},
          {"trinv/neumann", nm / ref_norm},
          {"trinv/newton_schulz", nsb / ref_norm}};
}

TEST(IterativeKernels, Fp64ForwardErrorWithinGrowthBound) {
  int asserted = 0;
  for (const char* input : {"deltanet", "gated", "kda", "gaussian", "deltanet-beta2"}) {
    for (index_t n : {2, 3, 16, 17, 64}) {
      for (std::uint64_t seed : {1u, 2u}) {
        const Matrix<double> L = iterative_test::generate(input, n, seed);
        const auto ref = iterative_test::reference_of(L);
        for (const auto& c : growth_bounds(L, norm_frobenius(ref.high.view()))) {
          const auto r = run_f64(c.method, L);
          const double err = iterative_test::forward_error(r.X, ref);
          const std::string what = describe(c.method, input, n, "fp64", seed);
          ASSERT_EQ(r.outcome.status, Status::ok) << what;
          if (!(c.bound < 1.0)) continue;  // the bound says nothing: not asserted
          ++asserted;
          EXPECT_LE(err, c.bound) << what;
        }
      }
    }
  }
  EXPECT_GT(asserted, 100) << "too few cases had a growth bound below 1";
}

// ---- Newton–Schulz: scaled start, residual stop, fixed count ----------------------

// In residual mode the returned X has computed ||I - L X||_inf <= tol; the true residual
// exceeds it by at most the residual's own rounding, gamma_{n+1} || |L||X| ||_inf
// (Higham ASNA §3.5), and X - L^-1 = L^-1 (L X - I) gives
//   ||X - L^-1||_inf / ||L^-1||_inf <= tol + gamma_{n+1} || |L||X| ||_inf.
TEST(IterativeKernels, NewtonSchulzScaledConvergesByResidualTest) {
  const double u = std::ldexp(1.0, -53), tol = 1e-12;
  for (index_t n : {16, 64}) {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      const Matrix<double> L = iterative_test::generate("deltanet", n, seed);
      const std::string spec = "trinv/newton_schulz:start=scaled,tol=1e-12,iters=40";
      const std::string what = describe(spec, "deltanet", n, "fp64", seed);
      const auto r = run_f64(spec, L);
      ASSERT_EQ(r.outcome.status, Status::ok) << what << ": " << r.outcome.message;
      // Asymptotic convergence: (1 - 1/(2n))^(2^k) <= tol needs 2^k >= 2n ln(1/tol).
      EXPECT_GE(std::ldexp(1.0, r.outcome.iterations), 2.0 * double(n) * std::log(1.0 / tol)) << what;
      const auto ref = iterative_test::reference_of(L);
      Matrix<double> err(n, n);
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j) err(i, j) = r.X(i, j) - ref.high(i, j);
      const Matrix<double> LX = iterative_test::product(iterative_test::abs_unit_lower(L), [&] {
        Matrix<double> A(n, n);
        for (index_t i = 0; i < n; ++i)
          for (index_t j = 0; j <= i; ++j) A(i, j) = std::fabs(r.X(i, j));
        return A;
      }());
      EXPECT_LE(norm_inf(err.view()) / norm_inf(ref.high.view()),
                tol + gamma(double(n + 1), u) * norm_inf(LX.view()) + 2.0 * u)
          << what;
      // The same count without the residual test gives the same iterate (native
      // stores are exact, so the two modes perform identical operations).
      const auto fixed = run_f64("trinv/newton_schulz:start=scaled,iters=" +
                                     std::to_string(r.outcome.iterations), L);
      EXPECT_EQ(fixed.outcome.status, Status::ok);
      EXPECT_EQ(fixed.outcome.iterations, r.outcome.iterations);
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j <= i; ++j) ASSERT_EQ(fixed.X(i, j), r.X(i, j)) << what;
    }
  }
}

TEST(IterativeKernels, NewtonSchulzReportsNotConvergedWithinSmallCap) {
  for (index_t n : {16, 64}) {
    const Matrix<double> L = iterative_test::generate("deltanet", n, 1);
    // ||R_k|| >= (1 - 1/(2n))^(2^k) (the diagonal of R_k), > 1e-12 for 2^k < 2n ln(1e12).
    const auto r = run_f64("trinv/newton_schulz:start=scaled,tol=1e-12,iters=5", L);
    EXPECT_EQ(r.outcome.status, Status::not_converged) << describe("ns scaled iters=5", "deltanet", n, "fp64", 1);
    EXPECT_EQ(r.outcome.iterations, 5);
    EXPECT_NE(r.outcome.message.find("tol"), std::string::npos) << r.outcome.message;
    // Fixed-count mode never reports not_converged: the driver's check judges it.
    const auto fixed = run_f64("trinv/newton_schulz:start=scaled,iters=5", L);
    EXPECT_EQ(fixed.outcome.status, Status::ok);
    EXPECT_EQ(fixed.outcome.iterations, 5);
  }
}

// From X0 = I the residual is R_k = N^(2^k) in exact arithmetic (zero once 2^k >= n):
// the residual test stops at the first k with ||N^(2^k)||_inf <= tol. The computed R_k
// differs from N^(2^k) by rounding errors of order gamma_{n+1} || |L||X_k| || (far below
// tol = 1e-6 here), so the stop is asserted only where the exact norms are not within a
// factor 2 of tol.
TEST(IterativeKernels, NewtonSchulzIdentityStopsWhenNPowerIsBelowTol) {
  const double tol = 1e-6;
  int asserted = 0;
  for (const char* input : {"deltanet", "deltanet-beta2", "gaussian"}) {
    for (index_t n : {16, 17, 64}) {
      const Matrix<double> L = iterative_test::generate(input, n, 4);
      const std::string what = describe("newton_schulz tol=1e-6", input, n, "fp64", 4);
      const auto r = run_f64("trinv/newton_schulz:tol=1e-6,iters=20", L);
      ASSERT_EQ(r.outcome.status, Status::ok) << what;
      EXPECT_LE(r.outcome.iterations, trinv_detail::ceil_log2(n)) << what;
      // ||N^(2^k)||_inf for k = 0, 1, ... by repeated squaring in double.
      Matrix<double> P(n, n);
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < i; ++j) P(i, j) = L(i, j);
      int expected = -1;
      bool clear = true;
      for (int k = 0; expected < 0; ++k) {
        const double norm = norm_inf(P.view());
        clear = clear && (norm > 2.0 * tol || norm < 0.5 * tol);
        if (norm <= tol) expected = k;
        P = iterative_test::product(P, P);
      }
      if (!clear) continue;
      ++asserted;
      EXPECT_EQ(r.outcome.iterations, expected) << what;
    }
  }
  EXPECT_GE(asserted, 6);
}

// ---- Overflow in narrow formats ---------------------------------------------------

// Correlated / equal keys make |N^(2^k)| grow exponentially (BACKGROUND.md: equal keys,
// beta = 1, n = 64: max |N^8| ~ 4.9e8), far beyond fp16's 65504. Measured with these
// generators: equal keys overflow for every seed at n >= 64, keys in a 2-D subspace at
// n = 128 (at n = 64 some seeds stay finite: max M(L)^-1 ~ 1e5 there; those are
// the driver's to flag, test_iterative_driver.cpp).
TEST(IterativeKernels, Fp16ProductFormOverflowsOnCorrelatedKeys) {
  const std::pair<const char*, index_t> cases[] = {
      {"deltanet-equal", 64}, {"deltanet-equal", 128}, {"deltanet-correlated", 128}};
  for (const auto& [input, n] : cases) {
    for (std::uint64_t seed : {1u, 2u}) {
      const Matrix<double> L = iterative_test::generate(input, n, seed);
      const auto r = run_simulated("trinv/product_form", L, Precision::uniform(format_by_name("fp16")));
      const std::string what = describe("trinv/product_form", input, n, "fp16", seed);
      EXPECT_EQ(r.outcome.status, Status::overflow) << what << " growth " << r.growth;
      EXPECT_TRUE(r.overflowed) << what;
      EXPECT_NE(r.outcome.message.find("overflowed"), std::string::npos) << r.outcome.message;
    }
  }
}

// ---- Parameters and metadata -------------------------------------------------------

void expect_rejected(const std::string& spec_text, const std::string& token) {
  const MethodSpec spec = MethodSpec::parse(spec_text);
  try {
    iterative_impl(spec.name).validate(spec);
    ADD_FAILURE() << spec_text << ": accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(token), std::string::npos) << spec_text << ": " << e.what();
  }
}

TEST(IterativeKernels, ValidateRejectsBadParametersNamingThem) {
  expect_rejected("trinv/product_form:iters=3", "iters");
  expect_rejected("trinv/neumann:steps=3", "steps");
  expect_rejected("trinv/newton_schulz:start=zero", "start=zero");
  expect_rejected("trinv/newton_schulz:iters=-1", "iters=-1");
  expect_rejected("trinv/newton_schulz:iters=many", "iters=many");
  expect_rejected("trinv/newton_schulz:tol=0", "tol=0");
  expect_rejected("trinv/newton_schulz:tol=2", "tol=2");
  expect_rejected("trinv/newton_schulz:alpha=0.5", "alpha");
  expect_rejected("trinv/refine:steps=-2", "steps=-2");
  expect_rejected("trinv/refine:residual=fp99", "residual=fp99");
  expect_rejected("trinv/refine:base=trinv/nonexistent", "trinv/nonexistent");
  expect_rejected("trinv/refine:base=(trinv/newton_schulz:iters=x)", "iters=x");
  expect_rejected("trinv/refine:base=(trinv/refine:residual=zz)", "residual=zz");
  expect_rejected("trinv/refine:bse=trinv/neumann", "bse");
  for (const char* ok : {"trinv/newton_schulz:start=scaled,iters=14,tol=1e-9",
                         "trinv/refine:base=(trinv/newton_schulz:start=scaled,iters=14),steps=2,residual=fp32",
                         "trinv/refine:base=(trinv/refine:base=trinv/product_form),residual=bf16"}) {
    const MethodSpec spec = MethodSpec::parse(ok);
    EXPECT_NO_THROW(iterative_impl(spec.name).validate(spec)) << ok;
  }
}

// Flop counts, hand-derived at n = 4 (m = 2): N^2 has 3 entries needing 1, 2, 1
// multiply-adds, and Y N^2 the same 4, so 8 multiply-adds = 16 flops. Neumann at n = 3:
// two products N Y with entries (1,0), (2,0), (2,1) needing 1, 2, 1: 2 * 4 * 2 = 16.
// Newton–Schulz at n = 4: two full lower products of 4*5*6/6 = 20 each per step, two
// steps: 160 flops.
TEST(IterativeKernels, FlopCountsMatchHandCounts) {
  EXPECT_EQ(iterative_impl("trinv/product_form").info.flops(4), 16.0);
  EXPECT_EQ(iterative_impl("trinv/product_form").info.flops(2), 0.0);
  EXPECT_EQ(iterative_impl("trinv/neumann").info.flops(3), 16.0);
  EXPECT_EQ(iterative_impl("trinv/newton_schulz").info.flops(4), 160.0);
  for (const char* name : {"trinv/product_form", "trinv/newton_schulz", "trinv/neumann", "trinv/refine"}) {
    const auto& info = iterative_impl(name).info;
    EXPECT_TRUE(info.product_rich) << name;
    EXPECT_FALSE(info.stability.empty()) << name;
    EXPECT_EQ(info.family, std::string(name) == "trinv/refine" ? "refinement" : "iterative");
  }
}

}  // namespace
}  // namespace triscan
