// The Householder API beyond accuracy: exact agreement of every representation and of
// combine() on inputs where fp64 arithmetic is exact, apply() on both sides and with
// both ops against MPFR, and the documented behaviour for bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "triscan/householder.hpp"
#include "triscan/metrics.hpp"
#include "validation/householder_experiment.hpp"

namespace triscan {
namespace {

const std::vector<std::string> all_names = {"householder/explicit",
                                            "householder/wy",
                                            "householder/compact_wy:construction=sequential",
                                            "householder/compact_wy:construction=recursive",
                                            "householder/ut",
                                            "householder/ut:form=non_unit",
                                            "householder/tree",
                                            "householder/tree:leaf=2"};

// V with entries in {-1, 0, 1} and beta in {0, 1/4, 1/2, 1}: every intermediate of every
// representation is a dyadic rational with a short numerator (|V^T V| <= m, |T| and |Q|
// stay far below 2^53 / 2^-2r), so fp64 arithmetic is exact and all representations
// must agree with the MPFR product bit for bit (the reference's low part must be 0).
struct ExactInput {
  Matrix<double> V;
  std::vector<double> beta;
};
ExactInput exact_input(index_t m, index_t r, bool with_zero_beta) {
  ExactInput in{Matrix<double>(m, r), std::vector<double>(static_cast<std::size_t>(r))};
  RandomBits rng(77);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < r; ++j) in.V(i, j) = double(rng.next() % 3) - 1.0;
  const double choices[] = {0.25, 0.5, 1.0};
  for (index_t j = 0; j < r; ++j) in.beta[static_cast<std::size_t>(j)] = choices[rng.next() % 3];
  if (with_zero_beta) in.beta[2] = 0.0;
  return in;
}

Matrix<double> formed(const HouseholderProduct<double>& p) {
  Matrix<double> Q(p.m, p.m);
  EXPECT_EQ(form_householder_q(p, Q.view()), Status::ok) << p.method;
  return Q;
}

TEST(HouseholderExact, EveryRepresentationEqualsTheMpfrProduct) {
  for (bool zero_beta : {false, true}) {
    const ExactInput in = exact_input(6, 7, zero_beta);
    const Matrix<double> C(6, 1);
    const auto ref = validation::reference_householder(in.V.view(), in.beta, C.view());
    ASSERT_EQ(norm(ref.Q_low.view(), Norm::max), 0.0) << "the exact product is not a double";
    for (const auto& name : all_names) {
      const auto p = accumulate_householder(MethodSpec::parse(name), in.V.view(), in.beta);
      if (zero_beta && name == "householder/ut:form=non_unit") {
        // Documented: S = striu(V^T V) + diag(1/beta) does not exist for beta_i = 0.
        EXPECT_EQ(p.status, Status::singular) << name;
        EXPECT_TRUE(std::isnan(p.T_factor(0, 0))) << name << ": flagged output must be NaN";
        continue;
      }
      ASSERT_EQ(p.status, Status::ok) << name << ": " << p.message;
      const Matrix<double> Q = formed(p);
      EXPECT_EQ(relative_error(Q.view(), ref.Q.view(), Norm::max), 0.0)
          << name << (zero_beta ? ", beta_2 = 0" : "");
    }
  }
}

// The compact-WY constructions give the same T; combine() of two halves gives the T of
// the whole (the scan operator is exact here, so equality is bitwise).
TEST(HouseholderExact, CombineEqualsSequential) {
  const ExactInput in = exact_input(6, 7, true);
  const auto whole =
      accumulate_householder(MethodSpec::parse("householder/compact_wy"), in.V.view(), in.beta);
  ASSERT_EQ(whole.status, Status::ok);
  for (index_t split : {1, 3, 6}) {
    const MatrixView<const double> V = in.V.view();
    const std::vector<double> b1(in.beta.begin(), in.beta.begin() + split),
        b2(in.beta.begin() + split, in.beta.end());
    const auto left = accumulate_householder(MethodSpec::parse("householder/compact_wy"),
                                             V.block(0, 0, 6, split), b1);
    const auto right = accumulate_householder(MethodSpec::parse("householder/ut"),
                                              V.block(0, split, 6, 7 - split), b2);
    const auto merged = combine_householder(left, right);
    ASSERT_EQ(merged.status, Status::ok);
    EXPECT_EQ(merged.r, 7);
    EXPECT_EQ(relative_error(merged.T_factor.view(), whole.T_factor.view(), Norm::max), 0.0)
        << "split " << split;
    EXPECT_EQ(relative_error(merged.V.view(), whole.V.view(), Norm::max), 0.0) << "split " << split;
  }
  for (const char* name : {"householder/compact_wy:construction=recursive", "householder/tree",
                           "householder/tree:leaf=3", "householder/ut"}) {
    const auto p = accumulate_householder(MethodSpec::parse(name), in.V.view(), in.beta);
    EXPECT_EQ(relative_error(p.T_factor.view(), whole.T_factor.view(), Norm::max), 0.0) << name;
  }
}

// Combine in floating point (random reflectors, fp64): the merged product agrees with the
// product accumulated in one go to within twice the accuracy bound of
// test_householder_accuracy.cpp (both are within 2 r (m + 4) u of the exact Q).
TEST(HouseholderCombine, AgreesWithSequentialInFp64) {
  validation::HouseholderCase c;
  c.m = 30;
  c.r = 10;
  c.seed = 9;
  c.representation = MethodSpec::parse("householder/compact_wy");
  const auto in = validation::make_householder_input(c);
  const auto whole = accumulate_householder(c.representation, in.V.view(), in.beta);
  const MatrixView<const double> V = in.V.view();
  const auto a = accumulate_householder(c.representation, V.block(0, 0, 30, 4),
                                        std::vector<double>(in.beta.begin(), in.beta.begin() + 4));
  const auto b = accumulate_householder(c.representation, V.block(0, 4, 30, 6),
                                        std::vector<double>(in.beta.begin() + 4, in.beta.end()));
  const auto merged = combine_householder(a, b);
  const double u = std::numeric_limits<double>::epsilon() / 2;
  EXPECT_LE(relative_error(formed(merged).view(), formed(whole).view(), Norm::frobenius),
            2 * 2.0 * 10 * 34 * u);
}

// apply() on both sides, with and without transpose, against MPFR (fp64, reflectors).
// Bound: Lemma 19.3-type 2 r (m + 4) u plus one GEMM, m sqrt(m) u (as in the accuracy test).
TEST(HouseholderApply, BothSidesBothOps) {
  validation::HouseholderCase c;
  c.m = 24;
  c.r = 9;
  c.seed = 21;
  c.representation = MethodSpec::parse("householder/explicit");
  const auto in = validation::make_householder_input(c);
  const index_t m = c.m, p = 5;
  Matrix<double> C(m, p);
  RandomBits rng(3);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < p; ++j) C(i, j) = 2.0 * rng.uniform() - 1.0;
  const auto ref = validation::reference_householder(in.V.view(), in.beta, C.view());
  const double u = std::numeric_limits<double>::epsilon() / 2;
  const double bound = 2.0 * double(c.r) * double(m + 4) * u + double(m) * std::sqrt(double(m)) * u;
  for (const auto& name : all_names) {
    const auto q = accumulate_householder(MethodSpec::parse(name), in.V.view(), in.beta);
    ASSERT_EQ(q.status, Status::ok) << name;
    for (Op op : {Op::none, Op::transpose}) {
      const Matrix<double>& R = op == Op::none ? ref.QC : ref.QtC;
      const Matrix<double>& R_low = op == Op::none ? ref.QC_low : ref.QtC_low;
      Matrix<double> L = C;
      EXPECT_EQ(apply_householder(q, Side::left, op, L.view()), Status::ok);
      EXPECT_LE(relative_error(L.view(), R.view(), Norm::frobenius, R_low.view()), bound)
          << name << " left";
      // Right: C^T op(Q)^T... i.e. (C^T) op'(Q) with op' the other op equals (op(Q) C)^T.
      Matrix<double> Ct(p, m);
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < p; ++j) Ct(j, i) = C(i, j);
      const Op other = op == Op::none ? Op::transpose : Op::none;
      EXPECT_EQ(apply_householder(q, Side::right, other, Ct.view()), Status::ok);
      EXPECT_LE(relative_error(MatrixView<const double>(Ct.view()).transposed(), R.view(),
                               Norm::frobenius, R_low.view()),
                bound)
          << name << " right";
    }
  }
}

// ---- Bad input ------------------------------------------------------------------------

TEST(HouseholderBadInput, InvalidArgumentsThrow) {
  Matrix<double> V(5, 3, 0.5);
  const std::vector<double> beta = {1.0, 0.5, 0.0};
  const MethodSpec wy = MethodSpec::parse("householder/wy");
  EXPECT_THROW(accumulate_householder(MethodSpec::parse("householder/nope"), V.view(), beta),
               std::invalid_argument);
  EXPECT_THROW(accumulate_householder(MethodSpec::parse("householder/wy:x=1"), V.view(), beta),
               std::invalid_argument);
  EXPECT_THROW(accumulate_householder(
                   MethodSpec::parse("householder/compact_wy:construction=magic"), V.view(), beta),
               std::invalid_argument);
  EXPECT_THROW(
      accumulate_householder(MethodSpec::parse("householder/ut:trinv=trinv/nope"), V.view(), beta),
      std::invalid_argument);
  EXPECT_THROW(
      accumulate_householder(
          MethodSpec::parse("householder/ut:trinv=(trinv/newton_schulz:iters=-3)"), V.view(), beta),
      std::invalid_argument);
  EXPECT_THROW(accumulate_householder(MethodSpec::parse("householder/tree:leaf=0"), V.view(), beta),
               std::invalid_argument);
  EXPECT_THROW(accumulate_householder(wy, V.view(), {1.0, 0.5}), std::invalid_argument);  // size
  EXPECT_THROW(accumulate_householder(wy, V.view(), {1.0, 2.5, 0.0}),
               std::invalid_argument);  // > 2
  EXPECT_THROW(accumulate_householder(wy, V.view(), {1.0, -0.1, 0.0}),
               std::invalid_argument);  // < 0
  EXPECT_THROW(accumulate_householder(wy, MatrixView<const double>{nullptr, 5, 3, 3, 1}, beta),
               std::invalid_argument);

  const auto q = accumulate_householder(wy, V.view(), beta);
  Matrix<double> C(4, 2), Q(4, 4);
  EXPECT_THROW(apply_householder(q, Side::left, Op::none, C.view()),
               std::invalid_argument);  // 4 rows, m = 5
  EXPECT_THROW(apply_householder(q, Side::right, Op::none, C.view()),
               std::invalid_argument);  // 2 cols, m = 5
  EXPECT_THROW(form_householder_q(q, Q.view()), std::invalid_argument);
  const auto e = accumulate_householder(MethodSpec::parse("householder/explicit"), V.view(), beta);
  const auto t = accumulate_householder(MethodSpec::parse("householder/tree"), V.view(), beta);
  EXPECT_THROW(combine_householder(e, t), std::invalid_argument);
  EXPECT_THROW(combine_householder(t, q), std::invalid_argument);
  Matrix<double> V6(6, 2, 0.5);
  const auto t6 =
      accumulate_householder(MethodSpec::parse("householder/tree"), V6.view(), {1.0, 1.0});
  EXPECT_THROW(combine_householder(t, t6), std::invalid_argument);  // m differs
}

TEST(HouseholderBadInput, NonFiniteInputIsAStatusAndNaN) {
  for (const auto& name : all_names) {
    Matrix<double> V(5, 3, 0.25);
    V(3, 1) = std::numeric_limits<double>::quiet_NaN();
    const auto q = accumulate_householder(MethodSpec::parse(name), V.view(), {1.0, 1.0, 1.0});
    EXPECT_EQ(q.status, Status::nonfinite_input) << name;
    Matrix<double> C(5, 2, 1.0);
    EXPECT_EQ(apply_householder(q, Side::left, Op::none, C.view()), Status::nonfinite_input)
        << name;
    EXPECT_TRUE(std::isnan(C(0, 0))) << name << ": C of a flagged product must be NaN";

    Matrix<float> Vf(5, 3, 0.25f);
    const auto qf = accumulate_householder(MethodSpec::parse(name), Vf.view(),
                                           {1.0f, std::numeric_limits<float>::infinity(), 1.0f});
    EXPECT_EQ(qf.status, Status::nonfinite_input) << name << " (float, beta = inf)";
  }
  Matrix<double> V(5, 3, 0.25);
  const auto q =
      accumulate_householder(MethodSpec::parse("householder/wy"), V.view(), {1.0, 1.0, 1.0});
  Matrix<double> C(5, 2, 1.0);
  C(1, 1) = std::numeric_limits<double>::infinity();
  EXPECT_EQ(apply_householder(q, Side::left, Op::none, C.view()), Status::nonfinite_input);
}

// fp16 (max 65504): keys of length ~400 give V^T V ~ 1.6e5, which overflows; every
// representation either reports overflow (NaN output) or returns finite numbers.
TEST(HouseholderBadInput, NarrowFormatOverflowIsAStatus) {
  HouseholderOptions o;
  o.precision = Precision::uniform(format_by_name("fp16"));
  Matrix<double> V(16, 4, 100.0);
  const std::vector<double> beta = {1e-5, 1e-5, 1e-5, 1e-5};
  for (const auto& name : all_names) {
    const auto q = accumulate_householder(MethodSpec::parse(name), V.view(), beta, o);
    if (name == "householder/explicit") {
      // beta k k^T has entries 0.1: nothing overflows in the explicit product.
      EXPECT_EQ(q.status, Status::ok) << name;
      continue;
    }
    EXPECT_EQ(q.status, Status::overflow) << name << ": " << q.message;
    EXPECT_FALSE(q.message.empty()) << name;
    Matrix<double> Q(16, 16);
    EXPECT_EQ(form_householder_q(q, Q.view(), o), Status::overflow) << name;
    EXPECT_TRUE(std::isnan(Q(0, 0))) << name;
  }
}

// The float API under a simulated precision runs the same simulated arithmetic in double
// and delivers output-format (fp16) values, which floats hold exactly: it must agree with
// the double API bit for bit.
TEST(HouseholderPrecision, FloatApiSimulatedEqualsDoubleApi) {
  HouseholderOptions o;
  o.precision = Precision::uniform(format_by_name("fp16"));
  validation::HouseholderCase c;
  c.representation = MethodSpec::parse("householder/wy");
  c.precision = o.precision;
  c.m = 12;
  c.r = 5;
  c.seed = 4;
  const auto in = validation::make_householder_input(c);
  Matrix<float> Vf(c.m, c.r);
  for (index_t i = 0; i < c.m; ++i)
    for (index_t j = 0; j < c.r; ++j) Vf(i, j) = static_cast<float>(in.V(i, j));
  const std::vector<float> bf(in.beta.begin(), in.beta.end());
  for (const auto& name : all_names) {
    const auto qd = accumulate_householder(MethodSpec::parse(name), in.V.view(), in.beta, o);
    const auto qf = accumulate_householder(MethodSpec::parse(name), Vf.view(), bf, o);
    ASSERT_EQ(qd.status, Status::ok) << name;
    ASSERT_EQ(qf.status, Status::ok) << name;
    Matrix<double> Qd(c.m, c.m);
    Matrix<float> Qf(c.m, c.m);
    EXPECT_EQ(form_householder_q(qd, Qd.view(), o), Status::ok);
    EXPECT_EQ(form_householder_q(qf, Qf.view(), o), Status::ok);
    for (index_t i = 0; i < c.m; ++i)
      for (index_t j = 0; j < c.m; ++j)
        ASSERT_EQ(double(Qf(i, j)), Qd(i, j)) << name << " (" << i << ", " << j << ")";
  }
}

TEST(HouseholderRegistry, ListsEveryRepresentation) {
  const auto& methods = householder_methods();
  ASSERT_EQ(methods.size(), 5u);
  for (const auto& m : methods) {
    EXPECT_FALSE(m.stability.empty()) << m.name;
    EXPECT_GT(m.flops(128, 32), 0.0) << m.name;
    EXPECT_EQ(&householder_method(m.name), &m);
  }
  EXPECT_THROW(householder_method("householder/nope"), std::invalid_argument);
}

TEST(HouseholderEdge, EmptyProductIsIdentity) {
  Matrix<double> V(4, 0);
  for (const auto& name : all_names) {
    const auto q = accumulate_householder(MethodSpec::parse(name), V.view(), {});
    ASSERT_EQ(q.status, Status::ok) << name;
    const Matrix<double> Q = formed(q);
    EXPECT_EQ(relative_error(Q.view(), Matrix<double>::identity(4).view(), Norm::max), 0.0) << name;
  }
}

}  // namespace
}  // namespace triscan
