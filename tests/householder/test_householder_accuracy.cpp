// Every registered Householder representation against the product formed in MPFR from
// the same rounded input, in fp64, fp32 (native) and fp16 (simulated, Precision::uniform),
// for orthogonal reflectors and for general beta.
//
// Bound (Higham, ASNA 2nd ed., Lemma 19.3: applying r Householder transformations in
// floating point gives op(Q)(A + dA) with ||da_j||_2 <= r gamma~_m ||a_j||_2; Sec. 19.5:
// the WY and compact-WY forms satisfy bounds of the same form). gamma~_m = c m u with an
// unspecified small c; we state ours by counting the roundings of one rank-1 step
// q <- q - (beta (q . k)) k^T on a row q with beta ||k||^2 <= 2:
//   ||dq|| <= (gamma_m * 2 + 2 gamma_2 + u) ||q||  ~=  (2m + 7) u ||q||,
// so after r steps ||Q^ - Q||_F <= r (2m + 7) u ||Q_0 ... || and we use
//   tol(m, r, u) = 2 r (m + 4) u                      (relative, reflectors: ||Q||_F = sqrt(m)),
//   tol_general = 2 r (m + 4) u sqrt(m) prod_i ||H_i||_2 / ||Q||_F   (general beta: the error
//                 of step i is amplified by at most the later ||H_j||_2 <= max(1, |1 - beta_j
//                 ||k_j||^2|), and the rows it is made on are bounded by the earlier ones; unit k_i
//                 keep beta ||k||^2 <= 2 so the per-step constant is unchanged).
// apply(Q) C adds at most one GEMM-type error, gamma_m |Q||C| (Higham Eq. 3.13) with
// || |Q| ||_2 <= sqrt(m) ||Q||_2: tol_apply = tol + m sqrt(m) u (times prod ||H_i|| for general
// beta). Loss of orthogonality (reflectors): ||Q^T Q - I||_F <= 2 ||dQ||_F + ||dQ||_F^2 with
// ||dQ||_F <= tol sqrt(m).
// u is the precision's working unit roundoff (the largest of its four formats).
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "triscan/householder.hpp"
#include "validation/householder_experiment.hpp"

namespace triscan {
namespace {

using validation::HouseholderCase;
using validation::HouseholderRecord;

double tol(index_t m, index_t r, double u) {
  return 2.0 * double(r) * double(m + 4) * u;
}

std::vector<std::string> representations() {
  return {"householder/explicit",
          "householder/wy",
          "householder/compact_wy:construction=sequential",
          "householder/compact_wy:construction=recursive",
          "householder/ut",
          "householder/ut:form=non_unit",
          "householder/tree",
          "householder/tree:leaf=3"};
}

std::string describe(const HouseholderCase& c) {
  std::ostringstream s;
  s << c.representation.to_string() << ", " << c.precision.describe() << ", m = " << c.m
    << ", r = " << c.r << ", seed = " << c.seed
    << (c.reflectors ? ", reflectors" : ", general beta");
  return s.str();
}

void check(const HouseholderCase& c) {
  const HouseholderRecord rec = validation::run_householder_case(c);
  const std::string what = describe(c);
  ASSERT_EQ(rec.status, Status::ok) << what << ": " << rec.message;
  ASSERT_TRUE(rec.has_metrics) << what;
  const double u = rec.unit_roundoff, sm = std::sqrt(double(c.m));
  double t = tol(c.m, c.r, u), ta = t + double(c.m) * sm * u;
  if (c.reflectors) {
    const double tq = tol(c.m, c.r, u) * sm;
    EXPECT_LE(rec.orthogonality_loss, 2.0 * tq + tq * tq) << what;
  } else {
    EXPECT_TRUE(std::isnan(rec.orthogonality_loss)) << what;
    const double scale = sm * rec.product_norm_bound / rec.reference_norm;
    t *= scale;
    ta *= scale;
  }
  EXPECT_LE(rec.representation_error, t) << what;
  EXPECT_LE(rec.apply_error, ta) << what;
  EXPECT_LE(rec.apply_transpose_error, ta) << what;
  // The errors are measured, not zero by construction: a check that cannot fail is none.
  EXPECT_GT(rec.representation_error, 0.0) << what;
}

struct Shape {
  index_t m, r;
};

void sweep(const Precision& p, const std::vector<Shape>& shapes) {
  std::uint64_t seed = 11;
  for (const auto& name : representations())
    for (const auto& s : shapes)
      for (bool reflectors : {true, false}) {
        HouseholderCase c;
        c.representation = MethodSpec::parse(name);
        c.precision = p;
        c.m = s.m;
        c.r = s.r;
        c.seed = seed++;
        c.reflectors = reflectors;
        check(c);
      }
}

TEST(HouseholderAccuracy, Fp64) {
  sweep(Precision::uniform(format_by_name("fp64")), {{40, 12}, {24, 24}, {12, 20}});
}

TEST(HouseholderAccuracy, Fp32Native) {
  sweep(Precision::uniform(format_by_name("fp32")), {{40, 12}, {12, 20}});
}

TEST(HouseholderAccuracy, Fp16Simulated) {
  sweep(Precision::uniform(format_by_name("fp16")), {{16, 8}});
}

// fp16 operands, exact products, fp32 accumulation (the tensor-core model): u is still
// fp16's (the largest of the four formats), the bound is the same.
TEST(HouseholderAccuracy, Fp16OperandsFp32Accumulate) {
  Precision p = Precision::uniform(format_by_name("fp16"));
  p.accumulate = format_by_name("fp32");
  sweep(p, {{16, 8}});
}

// The UT transform with every registered triangular-inversion method that inverts
// upper triangular matrices (fp64): each must give the same accuracy class here, where
// S = I + diag(beta) striu(V^T V) is well conditioned (unit random keys).
TEST(HouseholderAccuracy, UtWithEveryInversionMethod) {
  std::uint64_t seed = 100;
  for (const auto& m : trinv_methods()) {
    if (!m.supports_upper) continue;
    for (bool reflectors : {true, false}) {
      HouseholderCase c;
      c.representation = MethodSpec::parse("householder/ut:trinv=(" + m.name + ")");
      c.m = 32;
      c.r = 16;
      c.seed = seed++;
      c.reflectors = reflectors;
      check(c);
    }
  }
}

// V = K^T from the deltanet generator's unit keys and its beta in (0, 1).
TEST(HouseholderAccuracy, DeltaNetKeysAndBeta) {
  HouseholderCase c;
  c.representation = MethodSpec::parse("householder/ut");
  c.m = 32;
  c.r = 16;
  c.seed = 5;
  c.reflectors = false;
  validation::GeneratorParams gp;
  gp.name = "deltanet";
  c.generator = gp;
  check(c);
  c.representation = MethodSpec::parse("householder/tree");
  check(c);
}

}  // namespace
}  // namespace triscan
