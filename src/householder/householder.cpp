// src/householder/householder.cpp — the public Householder-product API
// (include/triscan/householder.hpp): the registry, the driver that does what every
// representation shares (argument checks, statuses, rounding of input and output), the
// applications op(Q) C / C op(Q) and the compact-WY combine (the scan operator).
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "src/householder/kernels.hpp"
#include "triscan/householder.hpp"
#include "triscan/trinv.hpp"

namespace triscan {
namespace {

using householder_detail::CVA;
using householder_detail::CView;
using householder_detail::View;

enum class Kind { explicit_q, wy, compact_sequential, compact_recursive, ut, tree };

struct Impl {
  HouseholderMethodInfo info;
  void (*validate)(const MethodSpec&);
};

const char* const kDefaultTrinv = "trinv/forward_substitution";

// ---- Parameters ---------------------------------------------------------------------------

void validate_no_params(const MethodSpec& spec) {
  spec.check_keys({});
}

std::string construction_of(const MethodSpec& spec) {
  return spec.get_string("construction", "sequential", {"sequential", "recursive"});
}
void validate_compact(const MethodSpec& spec) {
  spec.check_keys({"construction"});
  construction_of(spec);
}

struct UtParams {
  MethodSpec trinv;
  bool non_unit = false;
};
UtParams ut_params(const MethodSpec& spec) {
  spec.check_keys({"trinv", "form"});
  UtParams p;
  p.trinv = MethodSpec::parse(spec.get_string("trinv", kDefaultTrinv, {}));
  p.non_unit = spec.get_string("form", "unit", {"unit", "non_unit"}) == "non_unit";
  return p;
}
void validate_ut(const MethodSpec& spec) {
  const UtParams p = ut_params(spec);
  if (p.trinv.name.rfind("trinv/", 0) != 0)
    throw std::invalid_argument(spec.name + ": parameter 'trinv=" + p.trinv.to_string() +
                                "' is not a triangular-inversion method");
  try {
    const TrinvMethodInfo& info = trinv_method(p.trinv.name);
    if (!info.supports_upper || (p.non_unit && !info.supports_non_unit))
      throw std::invalid_argument("does not invert " + std::string(p.non_unit ? "non-unit " : "") +
                                  "upper triangular matrices");
    // A 1 x 1 dry run checks the method's own parameters (it throws on bad ones).
    double one = 1.0, x = 0.0;
    TrinvOptions o;
    o.triangle = Triangle::upper;
    o.check_accuracy = false;
    invert(p.trinv, MatrixView<const double>{&one, 1, 1, 1, 1}, MatrixView<double>{&x, 1, 1, 1, 1},
           o);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(spec.name + ": parameter 'trinv=" + p.trinv.to_string() +
                                "': " + e.what());
  }
}

index_t leaf_of(const MethodSpec& spec) {
  return spec.get_int("leaf", 1, 1, 1 << 20);
}
void validate_tree(const MethodSpec& spec) {
  spec.check_keys({"leaf"});
  leaf_of(spec);
}

// ---- The registry -------------------------------------------------------------------------

std::vector<Impl> build_registry() {
  const std::string bvl = "Bischof & Van Loan, SIAM J. Sci. Stat. Comput. 8 (1987)";
  const std::string higham = "Higham, ASNA 2nd ed., Lemma 19.3 and Sec. 19.5";
  std::vector<Impl> all;
  all.push_back({{"householder/explicit",
                  "Q formed by sequential rank-1 updates Q <- Q - (beta_i Q k_i) k_i^T",
                  "4 m^2 r",
                  [](index_t m, index_t r) { return 4.0 * double(m) * double(m) * double(r); },
                  HouseholderForm::explicit_q,
                  "normwise backward stable for reflectors: ||Q^ - Q||_F <= r gamma~_m ||Q||_F (" +
                      higham + ")",
                  {}},
                 validate_no_params});
  all.push_back(
      {{"householder/wy",
        "Q = I + W Y^T, Y = V, W built column by column (" + bvl + ")",
        "2 m r^2 (V^T V: m r^2, W: m r^2)",
        [](index_t m, index_t r) { return 2.0 * double(m) * double(r) * double(r); },
        HouseholderForm::wy,
        "stable for reflectors, error bounds of the Lemma 19.3 form (" + bvl + "; " + higham + ")",
        {}},
       validate_no_params});
  all.push_back(
      {{"householder/compact_wy",
        "Q = I - V T V^T, T upper triangular (Schreiber & Van Loan 1989); T built in LAPACK xLARFT "
        "order ('F','C'), or recursively (Elmroth & Gustavson 2000)",
        "m r^2 + r^3/3",
        [](index_t m, index_t r) {
          return double(m) * double(r) * double(r) + double(r) * double(r) * double(r) / 3.0;
        },
        HouseholderForm::compact_wy,
        "stable for reflectors, as the WY form (Schreiber & Van Loan, SIAM J. Sci. Stat. Comput. "
        "10 (1989); " +
            higham + ")",
        {"construction=sequential: sequential (xLARFT) or recursive (Elmroth & Gustavson, IBM J. "
         "Res. Dev. 44, "
         "2000)"}},
       validate_compact});
  all.push_back({{"householder/ut",
                  "UT transform Q = I - V S^-1 V^T, S = striu(V^T V) + diag(1/beta) (Joffrain et "
                  "al. 2006, Puglisi "
                  "1992), S^-1 by a registered triangular-inversion method",
                  "m r^2 + (inversion of an r x r triangle, r^3/3 by substitution)",
                  [](index_t m, index_t r) {
                    return double(m) * double(r) * double(r) +
                           double(r) * double(r) * double(r) / 3.0;
                  },
                  HouseholderForm::compact_wy,
                  "as compact WY when S^-1 is computed by a stable inversion (forward "
                  "substitution: Du Croz & Higham "
                  "1992); inherits the inversion method's stability class (Joffrain et al., ACM "
                  "TOMS 32, 2006)",
                  {"trinv=trinv/forward_substitution: the triangular-inversion method for S",
                   "form=unit: unit (invert I + diag(beta) striu(V^T V), then scale columns by "
                   "beta; beta = 0 is fine) or "
                   "non_unit (invert S itself; beta = 0 -> singular)"}},
                 validate_ut});
  all.push_back({{"householder/tree",
                  "compact WY built as a balanced binary tree of pairwise merges "
                  "T12 = -T1 (V1^T V2) T2 (the associative scan operator)",
                  "m r^2 + r^3/3",
                  [](index_t m, index_t r) {
                    return double(m) * double(r) * double(r) +
                           double(r) * double(r) * double(r) / 3.0;
                  },
                  HouseholderForm::compact_wy,
                  "as compact WY (each merge is a T12 update of the recursive construction; "
                  "Elmroth & Gustavson "
                  "2000)",
                  {"leaf=1: transformations per leaf, built in xLARFT order"}},
                 validate_tree});
  return all;
}

const std::vector<Impl>& registry() {
  static const std::vector<Impl> methods = build_registry();
  return methods;
}

const Impl& find_impl(const std::string& name) {
  for (const auto& m : registry())
    if (m.info.name == name) return m;
  std::string names;
  for (const auto& m : registry()) names += (names.empty() ? "" : ", ") + m.info.name;
  throw std::invalid_argument("unknown Householder representation '" + name +
                              "' (registered: " + names + ")");
}

Kind kind_of(const MethodSpec& spec) {
  if (spec.name == "householder/explicit") return Kind::explicit_q;
  if (spec.name == "householder/wy") return Kind::wy;
  if (spec.name == "householder/ut") return Kind::ut;
  if (spec.name == "householder/tree") return Kind::tree;
  return construction_of(spec) == "recursive" ? Kind::compact_recursive : Kind::compact_sequential;
}

// ---- Helpers ----------------------------------------------------------------------------

template <class In>
bool is_native_for(const Precision& p) {
  static const Format& f = format_by_name(std::is_same_v<In, double> ? "fp64" : "fp32");
  return p.is_native(f);
}

template <class T>
void fill_nan(Matrix<T>& M) {
  for (index_t i = 0; i < M.rows(); ++i)
    for (index_t j = 0; j < M.cols(); ++j) M(i, j) = std::numeric_limits<T>::quiet_NaN();
}
template <class T>
void fill_nan(const View<T>& M) {
  for (index_t i = 0; i < M.rows; ++i)
    for (index_t j = 0; j < M.cols; ++j) M(i, j) = std::numeric_limits<T>::quiet_NaN();
}

template <class T>
bool all_finite(const Matrix<T>& M) {
  for (index_t i = 0; i < M.rows(); ++i)
    for (index_t j = 0; j < M.cols(); ++j)
      if (!std::isfinite(M(i, j))) return false;
  return true;
}

template <class T>
void flag(HouseholderProduct<T>& q, Status s, std::string message) {
  q.status = s;
  q.message = std::move(message);
  fill_nan(q.Q);
  fill_nan(q.W);
  fill_nan(q.V);
  fill_nan(q.T_factor);
}

// Shapes of the matrices a form holds.
template <class T>
void shape(HouseholderProduct<T>& q) {
  const index_t m = q.m, r = q.r;
  q.Q = q.form == HouseholderForm::explicit_q ? Matrix<T>(m, m) : Matrix<T>();
  q.W = q.form == HouseholderForm::wy ? Matrix<T>(m, r) : Matrix<T>();
  q.V = q.form == HouseholderForm::explicit_q ? Matrix<T>() : Matrix<T>(m, r);
  q.T_factor = q.form == HouseholderForm::compact_wy ? Matrix<T>(r, r) : Matrix<T>();
}

// Rounds every entry to the output format (the native path has nothing to do) and
// converts to the caller's type.
template <class A, class T, class In>
void deliver(A& a, Matrix<T>&& src, Matrix<In>& dst) {
  if constexpr (A::native && std::is_same_v<T, In>) {
    dst = std::move(src);  // native: the output format is the working one, nothing to round
    return;
  }
  dst = Matrix<In>(src.rows(), src.cols());
  for (index_t i = 0; i < src.rows(); ++i)
    for (index_t j = 0; j < src.cols(); ++j) dst(i, j) = static_cast<In>(a.output(src(i, j)));
}

// The UT transform, generalized to any beta (docs/householder.md "UT"): T = S^-1 with
// S = striu(V^T V) + diag(1/beta). form=unit inverts S_u = diag(beta) S = I + diag(beta)
// striu(G) (unit upper) and scales: S^-1 = S_u^-1 diag(beta), so beta_i = 0 needs no 1/0.
template <class A, class T = typename A::value_type>
TrinvResult build_t_ut(A& a, const MethodSpec& spec, const Precision& p, const CVA<A>& G,
                       const std::vector<T>& beta, Matrix<T>& Tm) {
  const UtParams up = ut_params(spec);
  const index_t r = G.rows;
  Matrix<T> S(r, r);
  for (index_t i = 0; i < r; ++i) {
    if (up.non_unit) {
      if (beta[i] == T(0)) {
        TrinvResult res;
        res.status = Status::singular;
        res.message = "householder/ut:form=non_unit: beta[" + std::to_string(i) +
                      "] = 0 makes S singular (1/beta)";
        return res;
      }
      S(i, i) = a.store(a.div(T(1), beta[i]));
    } else {
      S(i, i) = T(1);
    }
    for (index_t j = i + 1; j < r; ++j)
      S(i, j) = up.non_unit ? G(i, j) : a.store(a.mul(beta[i], G(i, j)));
  }
  TrinvOptions o;
  o.precision = p;
  o.triangle = Triangle::upper;
  o.diagonal = up.non_unit ? Diagonal::non_unit : Diagonal::unit;
  Matrix<T> X(r, r);
  TrinvResult res;
  if constexpr (A::native) {
    res = invert(up.trinv, MatrixView<const T>(S.view()), X.view(), o);
  } else {
    res = invert(up.trinv, MatrixView<const double>(S.view()), X.view(), o);
  }
  for (index_t i = 0; i < r; ++i)
    for (index_t j = 0; j < r; ++j)
      Tm(i, j) = up.non_unit || j < i ? X(i, j) : a.store(a.mul(X(i, j), beta[j]));
  return res;
}

// Runs the representation under arithmetic model A on the stored inputs.
template <class A, class T = typename A::value_type>
Status accumulate_with(A& a, const MethodSpec& spec, const Precision& p, const Matrix<T>& V,
                       const std::vector<T>& beta, Matrix<T>& Q, Matrix<T>& W, Matrix<T>& Tm,
                       std::string& message) {
  const Kind kind = kind_of(spec);
  const index_t r = V.cols();
  if (kind == Kind::explicit_q) {
    householder_detail::accumulate_explicit(a, V.view(), beta, Q.view());
    return Status::ok;
  }
  Matrix<T> G(r, r);
  householder_detail::gram_upper(a, V.view(), G.view());
  for (index_t i = 0; i < r; ++i)
    for (index_t j = i; j < r; ++j)
      if (!std::isfinite(G(i, j))) {
        message = "V^T V overflowed the working format";
        return Status::overflow;
      }
  switch (kind) {
    case Kind::wy:
      householder_detail::accumulate_wy(a, V.view(), beta, G.view(), W.view());
      break;
    case Kind::compact_sequential:
      householder_detail::build_t_sequential(a, G.view(), beta, Tm.view());
      break;
    case Kind::compact_recursive:
      for (index_t i = 0; i < r; ++i)
        for (index_t j = 0; j < r; ++j) Tm(i, j) = T(0);
      if (r > 0) householder_detail::build_t_recursive(a, G.view(), beta, Tm.view(), 0, r);
      break;
    case Kind::tree:
      householder_detail::build_t_tree(a, G.view(), beta, Tm.view(), leaf_of(spec));
      break;
    case Kind::ut: {
      const TrinvResult res = build_t_ut(a, spec, p, G.view(), beta, Tm);
      if (res.status != Status::ok) message = "triangular inversion: " + res.message;
      return res.status;
    }
    case Kind::explicit_q:
      break;
  }
  return Status::ok;
}

template <class In>
HouseholderProduct<In> accumulate_impl(const MethodSpec& spec, MatrixView<const In> V,
                                       const std::vector<In>& beta, const HouseholderOptions& opt) {
  const Impl& impl = find_impl(spec.name);
  impl.validate(spec);
  check_view(V, "V");
  if (static_cast<index_t>(beta.size()) != V.cols)
    throw std::invalid_argument("beta: " + std::to_string(beta.size()) + " entries for " +
                                std::to_string(V.cols) + " columns of V");
  for (std::size_t i = 0; i < beta.size(); ++i)
    if (std::isfinite(beta[i]) && !(beta[i] >= In(0) && beta[i] <= In(2)))
      throw std::invalid_argument("beta[" + std::to_string(i) +
                                  "] = " + std::to_string(double(beta[i])) + " is outside [0, 2]");

  HouseholderProduct<In> q;
  q.method = spec.to_string();
  q.form = impl.info.form;
  q.m = V.rows;
  q.r = V.cols;

  for (std::size_t i = 0; i < beta.size(); ++i)
    if (!std::isfinite(beta[i])) {
      shape(q);
      flag(q, Status::nonfinite_input, "beta[" + std::to_string(i) + "] is not finite");
      return q;
    }
  for (index_t i = 0; i < V.rows; ++i)
    for (index_t j = 0; j < V.cols; ++j)
      if (!std::isfinite(V(i, j))) {
        shape(q);
        flag(q, Status::nonfinite_input,
             "V(" + std::to_string(i) + ", " + std::to_string(j) + ") is not finite");
        return q;
      }

  auto run = [&](auto& a) {
    using A = std::remove_reference_t<decltype(a)>;
    using T = typename A::value_type;
    const bool ex = q.form == HouseholderForm::explicit_q;
    Matrix<T> Vs(q.m, q.r), Q(ex ? q.m : 0, ex ? q.m : 0),
        W(q.form == HouseholderForm::wy ? q.m : 0, q.r),
        Tm(q.form == HouseholderForm::compact_wy ? q.r : 0, q.r);
    std::vector<T> bs(beta.size());
    for (index_t i = 0; i < q.m; ++i)
      for (index_t j = 0; j < q.r; ++j) Vs(i, j) = a.store(static_cast<T>(V(i, j)));
    for (std::size_t i = 0; i < beta.size(); ++i) bs[i] = a.store(static_cast<T>(beta[i]));
    std::string message;
    const Status s = accumulate_with(a, spec, opt.precision, Vs, bs, Q, W, Tm, message);
    deliver(a, std::move(Q), q.Q);
    deliver(a, std::move(W), q.W);
    deliver(a, std::move(Tm), q.T_factor);
    if (!ex) deliver(a, std::move(Vs), q.V);
    if (s != Status::ok && s != Status::inaccurate) {
      flag(q, s, message);
    } else if (a.overflowed() || !all_finite(q.Q) || !all_finite(q.W) || !all_finite(q.T_factor) ||
               !all_finite(q.V)) {
      flag(q, Status::overflow, "an intermediate or the result overflowed the working format");
    } else {
      q.status = s;
      q.message = message;
    }
  };
  if (is_native_for<In>(opt.precision)) {
    arith::Native<In> a;
    run(a);
  } else {
    arith::Simulated a(opt.precision);
    run(a);
  }
  return q;
}

// ---- Application --------------------------------------------------------------------------

// C <- C + sign * (X Z) entrywise, the product formed by a.gemm and the sum rounded once.
template <class A, class T = typename A::value_type>
void add_product(A& a, const CVA<A>& X, const CVA<A>& Z, const View<T>& C, bool subtract) {
  Matrix<T> P(C.rows, C.cols);
  a.gemm(X, Z, P.view());
  for (index_t i = 0; i < C.rows; ++i)
    for (index_t j = 0; j < C.cols; ++j)
      C(i, j) = a.store(subtract ? a.sub(C(i, j), P(i, j)) : a.add(C(i, j), P(i, j)));
}

// C <- op(Q) C, C m x p, from the representation (values of type T under model A).
//   explicit:   op(Q) C by one GEMM
//   wy:         Q C = C + W (V^T C),            Q^T C = C + V (W^T C)
//   compact wy: Q C = C - V (T (V^T C)),        Q^T C = C - V (T^T (V^T C))
// C op(Q) (Side::right) is (op(Q)^T C^T)^T: the left application with the other op to the
// transposed view.
template <class A, class T = typename A::value_type>
void apply_left(A& a, HouseholderForm form, const CView<T>& Q, const CView<T>& W, const CView<T>& V,
                const CView<T>& Tm, bool transpose, const View<T>& C) {
  const index_t r = V.cols, p = C.cols;
  if (form == HouseholderForm::explicit_q) {
    Matrix<T> P(C.rows, C.cols);
    a.gemm(transpose ? Q.transposed() : Q, CView<T>(C), P.view());
    for (index_t i = 0; i < C.rows; ++i)
      for (index_t j = 0; j < p; ++j) C(i, j) = P(i, j);
    return;
  }
  Matrix<T> Z(r, p);
  if (form == HouseholderForm::wy) {
    a.gemm(transpose ? W.transposed() : V.transposed(), CView<T>(C), Z.view());
    add_product(a, transpose ? V : W, Z.view(), C, false);
    return;
  }
  a.gemm(V.transposed(), CView<T>(C), Z.view());
  Matrix<T> Z2(r, p);
  a.gemm(transpose ? Tm.transposed() : Tm, Z.view(), Z2.view());
  add_product(a, V, Z2.view(), C, true);
}

template <class In>
void check_product(const HouseholderProduct<In>& q) {
  const bool ok_shapes = q.m >= 0 && q.r >= 0 &&
                         (q.form == HouseholderForm::explicit_q
                              ? q.Q.rows() == q.m && q.Q.cols() == q.m
                              : q.V.rows() == q.m && q.V.cols() == q.r &&
                                    (q.form == HouseholderForm::wy
                                         ? q.W.rows() == q.m && q.W.cols() == q.r
                                         : q.T_factor.rows() == q.r && q.T_factor.cols() == q.r));
  if (!ok_shapes)
    throw std::invalid_argument("q: the representation's matrices do not match its form and m, r");
}

template <class In>
Status apply_impl(const HouseholderProduct<In>& q, Side side, Op op, MatrixView<In> C,
                  const HouseholderOptions& opt) {
  check_product(q);
  check_view(C, "C");
  const MatrixView<In> Cl = side == Side::left ? C : C.transposed();
  const bool transpose = (op == Op::transpose) != (side == Side::right);
  if (Cl.rows != q.m)
    throw std::invalid_argument("C: " + std::to_string(C.rows) + "x" + std::to_string(C.cols) +
                                " does not fit Q of order " + std::to_string(q.m) +
                                (side == Side::left ? " on the left" : " on the right"));
  if (q.status != Status::ok && q.status != Status::inaccurate) {
    fill_nan(Cl);
    return q.status;
  }
  for (index_t i = 0; i < Cl.rows; ++i)
    for (index_t j = 0; j < Cl.cols; ++j)
      if (!std::isfinite(Cl(i, j))) {
        fill_nan(Cl);
        return Status::nonfinite_input;
      }
  bool overflow = false;
  auto run = [&](auto& a) {
    using A = std::remove_reference_t<decltype(a)>;
    using T = typename A::value_type;
    auto load = [&](const Matrix<In>& M) {
      Matrix<T> out(M.rows(), M.cols());
      for (index_t i = 0; i < M.rows(); ++i)
        for (index_t j = 0; j < M.cols(); ++j) out(i, j) = a.store(static_cast<T>(M(i, j)));
      return out;
    };
    Matrix<T> Cw(Cl.rows, Cl.cols);
    for (index_t i = 0; i < Cl.rows; ++i)
      for (index_t j = 0; j < Cl.cols; ++j) Cw(i, j) = a.store(static_cast<T>(Cl(i, j)));
    if constexpr (A::native && std::is_same_v<T, In>) {  // the caller's matrices, no copies
      apply_left(a, q.form, q.Q.view(), q.W.view(), q.V.view(), q.T_factor.view(), transpose,
                 Cw.view());
    } else {
      const Matrix<T> Q = load(q.Q), W = load(q.W), V = load(q.V), Tm = load(q.T_factor);
      apply_left(a, q.form, Q.view(), W.view(), V.view(), Tm.view(), transpose, Cw.view());
    }
    for (index_t i = 0; i < Cl.rows; ++i)
      for (index_t j = 0; j < Cl.cols; ++j) {
        Cl(i, j) = static_cast<In>(a.output(Cw(i, j)));
        overflow = overflow || !std::isfinite(Cl(i, j));
      }
    overflow = overflow || a.overflowed();
  };
  if (is_native_for<In>(opt.precision)) {
    arith::Native<In> a;
    run(a);
  } else {
    arith::Simulated a(opt.precision);
    run(a);
  }
  if (overflow) {
    fill_nan(Cl);
    return Status::overflow;
  }
  return q.status;
}

template <class In>
Status form_q_impl(const HouseholderProduct<In>& q, MatrixView<In> Q,
                   const HouseholderOptions& opt) {
  check_product(q);
  check_view(Q, "Q");
  if (Q.rows != q.m || Q.cols != q.m)
    throw std::invalid_argument("Q: " + std::to_string(Q.rows) + "x" + std::to_string(Q.cols) +
                                " is not of order m = " + std::to_string(q.m));
  if (q.form == HouseholderForm::explicit_q) {
    for (index_t i = 0; i < q.m; ++i)
      for (index_t j = 0; j < q.m; ++j) Q(i, j) = q.Q(i, j);
    return q.status;
  }
  for (index_t i = 0; i < q.m; ++i)
    for (index_t j = 0; j < q.m; ++j) Q(i, j) = In(i == j ? 1 : 0);
  return apply_impl(q, Side::left, Op::none, Q, opt);
}

// ---- Combine ------------------------------------------------------------------------------

template <class In>
HouseholderProduct<In> combine_impl(const HouseholderProduct<In>& x,
                                    const HouseholderProduct<In>& y,
                                    const HouseholderOptions& opt) {
  if (x.form != HouseholderForm::compact_wy)
    throw std::invalid_argument("a: combine needs compact-WY form");
  if (y.form != HouseholderForm::compact_wy)
    throw std::invalid_argument("b: combine needs compact-WY form");
  check_product(x);
  check_product(y);
  if (x.m != y.m)
    throw std::invalid_argument("b: m = " + std::to_string(y.m) +
                                " differs from a's m = " + std::to_string(x.m));
  HouseholderProduct<In> q;
  q.form = HouseholderForm::compact_wy;
  q.m = x.m;
  q.r = x.r + y.r;
  shape(q);
  const index_t r1 = x.r, r2 = y.r;
  for (index_t i = 0; i < q.m; ++i) {
    for (index_t j = 0; j < r1; ++j) q.V(i, j) = x.V(i, j);
    for (index_t j = 0; j < r2; ++j) q.V(i, r1 + j) = y.V(i, j);
  }
  const Status in = worst(x.status, y.status);
  if (in != Status::ok && in != Status::inaccurate) {
    flag(q, in, "an operand of combine is flagged: " + x.message + y.message);
    return q;
  }
  bool overflow = false;
  auto run = [&](auto& a) {
    using A = std::remove_reference_t<decltype(a)>;
    using T = typename A::value_type;
    Matrix<T> V(q.m, q.r), Tm(q.r, q.r);
    for (index_t i = 0; i < q.m; ++i)
      for (index_t j = 0; j < q.r; ++j) V(i, j) = a.store(static_cast<T>(q.V(i, j)));
    for (index_t i = 0; i < r1; ++i)
      for (index_t j = 0; j < r1; ++j) Tm(i, j) = a.store(static_cast<T>(x.T_factor(i, j)));
    for (index_t i = 0; i < r2; ++i)
      for (index_t j = 0; j < r2; ++j)
        Tm(r1 + i, r1 + j) = a.store(static_cast<T>(y.T_factor(i, j)));
    // T12 = V1^T V2, then -T1 T12 T2.
    const View<T> T12 = Tm.view().block(0, r1, r1, r2);
    a.gemm(CView<T>(V.view().block(0, 0, q.m, r1)).transposed(),
           CView<T>(V.view().block(0, r1, q.m, r2)), T12);
    householder_detail::merge_t_block(a, CView<T>(Tm.view().block(0, 0, r1, r1)),
                                      CView<T>(Tm.view().block(r1, r1, r2, r2)), T12);
    deliver(a, std::move(Tm), q.T_factor);
    overflow = a.overflowed() || !all_finite(q.T_factor);
  };
  if (is_native_for<In>(opt.precision)) {
    arith::Native<In> a;
    run(a);
  } else {
    arith::Simulated a(opt.precision);
    run(a);
  }
  if (overflow)
    flag(q, Status::overflow, "combine: T12 overflowed the working format");
  else
    q.status = in;
  return q;
}

}  // namespace

const std::vector<HouseholderMethodInfo>& householder_methods() {
  static const std::vector<HouseholderMethodInfo> infos = [] {
    std::vector<HouseholderMethodInfo> out;
    for (const auto& m : registry()) out.push_back(m.info);
    return out;
  }();
  return infos;
}

const HouseholderMethodInfo& householder_method(std::string_view name) {
  const std::size_t i = static_cast<std::size_t>(&find_impl(std::string(name)) - registry().data());
  return householder_methods()[i];
}

HouseholderProduct<double> accumulate_householder(const MethodSpec& method,
                                                  MatrixView<const double> V,
                                                  const std::vector<double>& beta,
                                                  const HouseholderOptions& options) {
  return accumulate_impl<double>(method, V, beta, options);
}
HouseholderProduct<float> accumulate_householder(const MethodSpec& method,
                                                 MatrixView<const float> V,
                                                 const std::vector<float>& beta,
                                                 const HouseholderOptions& options) {
  return accumulate_impl<float>(method, V, beta, options);
}

Status apply_householder(const HouseholderProduct<double>& q, Side side, Op op,
                         MatrixView<double> C, const HouseholderOptions& options) {
  return apply_impl(q, side, op, C, options);
}
Status apply_householder(const HouseholderProduct<float>& q, Side side, Op op, MatrixView<float> C,
                         const HouseholderOptions& options) {
  return apply_impl(q, side, op, C, options);
}

Status form_householder_q(const HouseholderProduct<double>& q, MatrixView<double> Q,
                          const HouseholderOptions& options) {
  return form_q_impl(q, Q, options);
}
Status form_householder_q(const HouseholderProduct<float>& q, MatrixView<float> Q,
                          const HouseholderOptions& options) {
  return form_q_impl(q, Q, options);
}

HouseholderProduct<double> combine_householder(const HouseholderProduct<double>& a,
                                               const HouseholderProduct<double>& b,
                                               const HouseholderOptions& options) {
  return combine_impl(a, b, options);
}
HouseholderProduct<float> combine_householder(const HouseholderProduct<float>& a,
                                              const HouseholderProduct<float>& b,
                                              const HouseholderOptions& options) {
  return combine_impl(a, b, options);
}

}  // namespace triscan
