// validation/mpfr/householder_experiment.cpp — run_householder_case and its MPFR
// references (validation/householder_experiment.hpp).
//
// The references work on mpfr_t through the MPFR C API with an explicit precision on
// every variable (reference.hpp "Threads": Boost 1.74's mpfr_float default precision is
// process-wide). Every product of two doubles is exact at >= 106 bits; with 256 bits the
// reference's own error (r m rank-1 updates, each rounded at 2^-256) is far below any
// working format's unit roundoff.
#include "validation/householder_experiment.hpp"

#include <mpfr.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "triscan/metrics.hpp"
#include "triscan/reference.hpp"

namespace triscan::validation {
namespace {

// An m x n matrix of mpfr_t at one precision (row-major), freed on destruction.
class MpMatrix {
 public:
  MpMatrix(index_t rows, index_t cols, mpfr_prec_t bits)
      : rows_(rows), cols_(cols), data_(static_cast<std::size_t>(rows * cols)) {
    for (auto& x : data_) mpfr_init2(&x, bits), mpfr_set_zero(&x, 1);
  }
  ~MpMatrix() {
    for (auto& x : data_) mpfr_clear(&x);
  }
  MpMatrix(const MpMatrix&) = delete;
  MpMatrix& operator=(const MpMatrix&) = delete;
  mpfr_ptr operator()(index_t i, index_t j) {
    return &data_[static_cast<std::size_t>(i * cols_ + j)];
  }
  index_t rows() const { return rows_; }
  index_t cols() const { return cols_; }

  // hi = RN(x), lo = RN(x - hi), entrywise.
  void split(Matrix<double>& hi, Matrix<double>& lo) {
    hi = Matrix<double>(rows_, cols_);
    lo = Matrix<double>(rows_, cols_);
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec((*this)(0, 0)));
    for (index_t i = 0; i < rows_; ++i)
      for (index_t j = 0; j < cols_; ++j) {
        hi(i, j) = mpfr_get_d((*this)(i, j), MPFR_RNDN);
        mpfr_sub_d(t, (*this)(i, j), hi(i, j), MPFR_RNDN);
        lo(i, j) = mpfr_get_d(t, MPFR_RNDN);
      }
    mpfr_clear(t);
  }

 private:
  index_t rows_, cols_;
  std::vector<__mpfr_struct> data_;
};

mpfr_prec_t bits_or_default(unsigned bits) {
  return static_cast<mpfr_prec_t>(bits == 0 ? current_reference_bits() : bits);
}

// out = op(Q) C in MPFR, Q m x m (mpfr), C m x p (double).
void multiply(MpMatrix& Q, bool transpose, MatrixView<const double> C, MpMatrix& out) {
  const index_t m = Q.rows();
  mpfr_t c;
  mpfr_init2(c, 53);
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < C.cols; ++j) {
      mpfr_ptr s = out(i, j);
      mpfr_set_zero(s, 1);
      for (index_t k = 0; k < m; ++k) {
        mpfr_ptr q = transpose ? Q(k, i) : Q(i, k);
        // s += q * C(k, j): mpfr_fma rounds once.
        mpfr_set_d(c, C(k, j), MPFR_RNDN);
        mpfr_fma(s, q, c, s, MPFR_RNDN);
      }
    }
  mpfr_clear(c);
}

double gaussian(RandomBits& rng) {
  // Box-Muller; u1 in (0, 1].
  const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double rnd(double x, const Precision& p) {
  return triscan::round(x, p.storage, Rounding::nearest_even);
}

void check_case(const HouseholderCase& c) {
  if (c.m < 1) throw std::invalid_argument("m: must be >= 1, got " + std::to_string(c.m));
  if (c.r < 0) throw std::invalid_argument("r: must be >= 0, got " + std::to_string(c.r));
  if (c.apply_cols < 1) throw std::invalid_argument("apply_cols: must be >= 1");
  if (c.beta && !(*c.beta >= 0.0 && *c.beta <= 2.0))
    throw std::invalid_argument("beta: " + std::to_string(*c.beta) + " is outside [0, 2]");
  if (c.beta && c.reflectors)
    throw std::invalid_argument("beta: given for reflectors (beta = 2/||k||^2)");
  householder_method(c.representation.name);  // throws for an unknown representation
}

template <class In>
void run_in(const HouseholderCase& c, const HouseholderInput& in, const Matrix<double>& C,
            HouseholderRecord& rec, Matrix<double>& Q, Matrix<double>& QC, Matrix<double>& QtC) {
  const index_t m = c.m, r = c.r, p = C.cols();
  Matrix<In> V(m, r), Cw(m, p), Ct(m, p), Qw(m, m);
  std::vector<In> beta(in.beta.begin(), in.beta.end());
  for (index_t i = 0; i < m; ++i) {
    for (index_t j = 0; j < r; ++j) V(i, j) = static_cast<In>(in.V(i, j));
    for (index_t j = 0; j < p; ++j) Cw(i, j) = Ct(i, j) = static_cast<In>(C(i, j));
  }
  HouseholderOptions opt;
  opt.precision = c.precision;
  const HouseholderProduct<In> q = accumulate_householder(c.representation, V.view(), beta, opt);
  rec.status = q.status;
  rec.message = q.message;
  Status s = form_householder_q(q, Qw.view(), opt);
  s = worst(s, apply_householder(q, Side::left, Op::none, Cw.view(), opt));
  s = worst(s, apply_householder(q, Side::left, Op::transpose, Ct.view(), opt));
  if (s != Status::ok && s != Status::inaccurate) rec.status = worst(rec.status, s);
  Q = Matrix<double>(m, m);
  QC = Matrix<double>(m, p);
  QtC = Matrix<double>(m, p);
  for (index_t i = 0; i < m; ++i) {
    for (index_t j = 0; j < m; ++j) Q(i, j) = double(Qw(i, j));
    for (index_t j = 0; j < p; ++j) QC(i, j) = double(Cw(i, j)), QtC(i, j) = double(Ct(i, j));
  }
}

}  // namespace

HouseholderReference reference_householder(MatrixView<const double> V,
                                           const std::vector<double>& beta,
                                           MatrixView<const double> C, unsigned bits) {
  check_view(V, "V");
  check_view(C, "C");
  if (static_cast<index_t>(beta.size()) != V.cols)
    throw std::invalid_argument("beta: size differs from V's columns");
  if (C.rows != V.rows) throw std::invalid_argument("C: rows differ from V's rows");
  const mpfr_prec_t prec = bits_or_default(bits);
  const index_t m = V.rows, r = V.cols;
  MpMatrix Q(m, m, prec);
  for (index_t i = 0; i < m; ++i) mpfr_set_ui(Q(i, i), 1, MPFR_RNDN);
  mpfr_t w, k, b;
  mpfr_inits2(prec, w, k, b, static_cast<mpfr_ptr>(nullptr));
  for (index_t i = 0; i < r; ++i) {
    if (!std::isfinite(beta[static_cast<std::size_t>(i)]))
      throw std::invalid_argument("beta: not finite");
    mpfr_set_d(b, beta[static_cast<std::size_t>(i)], MPFR_RNDN);
    for (index_t row = 0; row < m; ++row) {
      // w = beta_i (q_row . k_i), then q_row <- q_row - w k_i^T.
      mpfr_set_zero(w, 1);
      for (index_t j = 0; j < m; ++j) {
        if (!std::isfinite(V(j, i))) throw std::invalid_argument("V: not finite");
        mpfr_set_d(k, V(j, i), MPFR_RNDN);
        mpfr_fma(w, Q(row, j), k, w, MPFR_RNDN);
      }
      mpfr_mul(w, w, b, MPFR_RNDN);
      mpfr_neg(w, w, MPFR_RNDN);
      for (index_t j = 0; j < m; ++j) {
        mpfr_set_d(k, V(j, i), MPFR_RNDN);
        mpfr_fma(Q(row, j), w, k, Q(row, j), MPFR_RNDN);
      }
    }
  }
  mpfr_clears(w, k, b, static_cast<mpfr_ptr>(nullptr));
  HouseholderReference ref;
  Q.split(ref.Q, ref.Q_low);
  MpMatrix QC(m, C.cols, prec), QtC(m, C.cols, prec);
  multiply(Q, false, C, QC);
  multiply(Q, true, C, QtC);
  QC.split(ref.QC, ref.QC_low);
  QtC.split(ref.QtC, ref.QtC_low);
  return ref;
}

double reference_orthogonality_loss(MatrixView<const double> Q, unsigned bits) {
  check_view(Q, "Q");
  const mpfr_prec_t prec = bits_or_default(bits);
  const index_t m = Q.rows, n = Q.cols;
  mpfr_t s, a, b, total;
  mpfr_inits2(prec, s, a, b, total, static_cast<mpfr_ptr>(nullptr));
  mpfr_set_zero(total, 1);
  bool finite = true;
  for (index_t i = 0; i < n && finite; ++i)
    for (index_t j = 0; j < n && finite; ++j) {
      mpfr_set_si(s, i == j ? -1 : 0, MPFR_RNDN);
      for (index_t k = 0; k < m; ++k) {
        if (!std::isfinite(Q(k, i)) || !std::isfinite(Q(k, j))) finite = false;
        mpfr_set_d(a, Q(k, i), MPFR_RNDN);
        mpfr_set_d(b, Q(k, j), MPFR_RNDN);
        mpfr_fma(s, a, b, s, MPFR_RNDN);
      }
      mpfr_fma(total, s, s, total, MPFR_RNDN);
    }
  mpfr_sqrt(total, total, MPFR_RNDN);
  const double out =
      finite ? mpfr_get_d(total, MPFR_RNDN) : std::numeric_limits<double>::quiet_NaN();
  mpfr_clears(s, a, b, total, static_cast<mpfr_ptr>(nullptr));
  return out;
}

HouseholderInput make_householder_input(const HouseholderCase& c) {
  check_case(c);
  const Precision& p = c.precision;
  const index_t m = c.m, r = c.r;
  HouseholderInput in;
  in.V = Matrix<double>(m, r);
  in.beta.assign(static_cast<std::size_t>(r), 0.0);
  std::vector<double> gen_beta;
  if (c.generator) {
    GeneratorParams gp = *c.generator;
    gp.n = r;
    if (gp.dk && *gp.dk != m)
      throw std::invalid_argument("dk: " + std::to_string(*gp.dk) +
                                  " differs from m = " + std::to_string(m));
    gp.dk = m;
    gp.seed = c.seed;
    const Generated g = generate(gp);
    if (!g.tensors.count("k"))
      throw std::invalid_argument("generator: '" + gp.name +
                                  "' has no keys (tensor k) to use as V");
    const Tensor& K = g.tensors.at("k");  // [r, m]
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < r; ++j)
        in.V(i, j) = rnd(K.data[static_cast<std::size_t>(j * m + i)], p);
    if (g.tensors.count("beta")) gen_beta = g.tensors.at("beta").data;
  } else {
    RandomBits rng(c.seed * 0x9E3779B97F4A7C15ull + 0x686F7573ull);
    for (index_t j = 0; j < r; ++j) {
      std::vector<double> k(static_cast<std::size_t>(m));
      double nrm2 = 0.0;
      for (auto& x : k) x = gaussian(rng), nrm2 += x * x;
      const double nrm = std::sqrt(nrm2);
      for (index_t i = 0; i < m; ++i) in.V(i, j) = rnd(k[static_cast<std::size_t>(i)] / nrm, p);
    }
  }
  RandomBits brng(c.seed + 0x62657461ull);
  for (index_t j = 0; j < r; ++j) {
    double b;
    if (c.reflectors) {
      double nrm2 = 0.0;
      for (index_t i = 0; i < m; ++i) nrm2 += in.V(i, j) * in.V(i, j);
      b = nrm2 > 0.0 ? 2.0 / nrm2 : 0.0;
      b = std::min(b, 2.0);  // a vector rounded to zero length stays at beta <= 2
    } else if (c.beta) {
      b = *c.beta;
    } else if (!gen_beta.empty()) {
      b = gen_beta[static_cast<std::size_t>(j)];
    } else {
      b = 2.0 * brng.uniform();
    }
    b = rnd(b, p);
    if (b > 2.0) b = 2.0;  // rounding up past 2 (narrow formats) would be rejected
    in.beta[static_cast<std::size_t>(j)] = b;
  }
  return in;
}

HouseholderRecord run_householder_case(const HouseholderCase& c) {
  const HouseholderInput in = make_householder_input(c);
  HouseholderRecord rec;
  rec.representation = c.representation.to_string();
  rec.precision = c.precision.describe();
  rec.m = c.m;
  rec.r = c.r;
  rec.seed = c.seed;
  rec.reflectors = c.reflectors;
  rec.unit_roundoff = c.precision.working_unit_roundoff();
  for (index_t j = 0; j < c.r; ++j) {
    double nrm2 = 0.0;
    for (index_t i = 0; i < c.m; ++i) nrm2 += in.V(i, j) * in.V(i, j);
    rec.product_norm_bound *=
        std::max(1.0, std::fabs(1.0 - in.beta[static_cast<std::size_t>(j)] * nrm2));
  }
  Matrix<double> C(c.m, c.apply_cols);
  RandomBits crng(c.seed + 0x43ull);
  for (index_t i = 0; i < c.m; ++i)
    for (index_t j = 0; j < c.apply_cols; ++j) C(i, j) = rnd(gaussian(crng), c.precision);

  Matrix<double> Q, QC, QtC;
  if (c.precision.is_native(format_by_name("fp32")))
    run_in<float>(c, in, C, rec, Q, QC, QtC);
  else
    run_in<double>(c, in, C, rec, Q, QC, QtC);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  rec.has_metrics = rec.status == Status::ok || rec.status == Status::inaccurate;
  if (!rec.has_metrics) {
    rec.representation_error = rec.orthogonality_loss = rec.apply_error =
        rec.apply_transpose_error = nan;
    return rec;
  }
  ReferencePrecision scope(reference_bits_for(c.precision.storage));
  const HouseholderReference ref = reference_householder(in.V.view(), in.beta, C.view());
  rec.reference_norm = norm_frobenius(ref.Q.view());
  rec.representation_error =
      relative_error(Q.view(), ref.Q.view(), Norm::frobenius, ref.Q_low.view());
  rec.apply_error = relative_error(QC.view(), ref.QC.view(), Norm::frobenius, ref.QC_low.view());
  rec.apply_transpose_error =
      relative_error(QtC.view(), ref.QtC.view(), Norm::frobenius, ref.QtC_low.view());
  rec.orthogonality_loss = c.reflectors ? reference_orthogonality_loss(Q.view()) : nan;
  return rec;
}

}  // namespace triscan::validation
