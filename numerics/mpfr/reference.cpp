// The MPFR reference (include/triscan/reference.hpp): GEMM, triangular inverse and
// residuals, each entry computed as "exact value, rounded once" where possible.
//
// All arithmetic goes through the MPFR C API on the mpfr_t inside mp_float values
// whose precision is set explicitly, so Boost's process-wide default precision
// (Boost 1.74) is never read for a result and never written (see the header).
#include "triscan/reference.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace triscan {
namespace {

thread_local unsigned tls_reference_bits = default_reference_bits;

void check_bits(unsigned bits, const char* what) {
  if (bits < static_cast<unsigned>(MPFR_PREC_MIN) || bits > max_reference_bits)
    throw std::invalid_argument(
        std::string(what) + ": reference precision " + std::to_string(bits) + " bits is outside [" +
        std::to_string(MPFR_PREC_MIN) + ", " + std::to_string(max_reference_bits) + "]");
}

mpfr_prec_t resolve_bits(unsigned bits, const char* what) {
  const unsigned b = bits == 0 ? tls_reference_bits : bits;
  check_bits(b, what);
  return static_cast<mpfr_prec_t>(b);
}

mpfr_ptr raw(mp_float& x) {
  return x.backend().data();
}
mpfr_srcptr raw(const mp_float& x) {
  return x.backend().data();
}

// A zero of exactly `prec` bits (the Boost default constructor only reads the shared
// default; set_prec then fixes the precision this value really has).
mp_float make_zero(mpfr_prec_t prec) {
  mp_float x;
  mpfr_set_prec(raw(x), prec);
  mpfr_set_zero(raw(x), +1);
  return x;
}

Matrix<mp_float> make_zero_matrix(index_t rows, index_t cols, mpfr_prec_t prec) {
  Matrix<mp_float> M(rows, cols);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) {
      mpfr_set_prec(raw(M(i, j)), prec);
      mpfr_set_zero(raw(M(i, j)), +1);
    }
  return M;
}

std::string entry_name(const char* matrix, index_t i, index_t j) {
  return std::string(matrix) + "(" + std::to_string(i) + ", " + std::to_string(j) + ")";
}

std::string value_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The entry (i, j) of the triangular matrix the input contract defines: the named
// triangle, the diagonal (1 for unit matrices, whatever is stored), 0 elsewhere.
double contract_entry(MatrixView<const double> A, index_t i, index_t j, Triangle tri,
                      Diagonal diag) {
  if (i == j) return diag == Diagonal::unit ? 1.0 : A(i, i);
  const bool in_triangle = tri == Triangle::lower ? i > j : i < j;
  return in_triangle ? A(i, j) : 0.0;
}

void check_square(MatrixView<const double> A, const char* what) {
  check_view(A, what);
  if (A.rows != A.cols)
    throw std::invalid_argument(std::string(what) + ": A must be square, got " +
                                std::to_string(A.rows) + "x" + std::to_string(A.cols));
}

// Every entry the contract reads must be finite.
void check_triangle_finite(MatrixView<const double> A, Triangle tri, Diagonal diag,
                           const char* what) {
  for (index_t i = 0; i < A.rows; ++i)
    for (index_t j = 0; j < A.cols; ++j) {
      const bool read =
          i == j ? diag == Diagonal::non_unit : (tri == Triangle::lower ? i > j : i < j);
      if (read && !std::isfinite(A(i, j)))
        throw std::invalid_argument(std::string(what) + ": " + entry_name("A", i, j) + " = " +
                                    value_text(A(i, j)) + " is not finite");
    }
}

void check_all_finite(MatrixView<const double> M, const char* name, const char* what) {
  for (index_t i = 0; i < M.rows; ++i)
    for (index_t j = 0; j < M.cols; ++j)
      if (!std::isfinite(M(i, j)))
        throw std::invalid_argument(std::string(what) + ": " + entry_name(name, i, j) + " = " +
                                    value_text(M(i, j)) + " is not finite");
}

// out = RN_prec(sum_k terms[k]) with the sum exact before its single rounding
// (mpfr_sum is correctly rounded for any number of terms).
void rounded_sum(mpfr_ptr out, std::vector<mp_float>& terms, std::size_t count) {
  std::vector<mpfr_ptr> ptrs(count);
  for (std::size_t k = 0; k < count; ++k) ptrs[k] = raw(terms[k]);
  mpfr_sum(out, ptrs.data(), static_cast<unsigned long>(count), MPFR_RNDN);
}

// out = RN_prec(sum_k a[k] b[k] - shift) for doubles a, b: each product is exact in
// 2 x 53 bits, so the only rounding is the final one. Zero products are skipped.
template <class GetA, class GetB>
void exact_dot_rounded(mpfr_ptr out, index_t n, GetA a, GetB b, double shift,
                       std::vector<mp_float>& scratch) {
  std::size_t count = 0;
  for (index_t k = 0; k < n; ++k) {
    const double x = a(k), y = b(k);
    if (x == 0.0 || y == 0.0) continue;
    mpfr_ptr p = raw(scratch[count++]);
    mpfr_set_d(p, x, MPFR_RNDN);     // exact: precision >= 53
    mpfr_mul_d(p, p, y, MPFR_RNDN);  // exact: precision >= 106
  }
  if (shift != 0.0) mpfr_set_d(raw(scratch[count++]), -shift, MPFR_RNDN);
  rounded_sum(out, scratch, count);
}

std::vector<mp_float> make_scratch(std::size_t count, mpfr_prec_t prec) {
  std::vector<mp_float> v;
  v.reserve(count);
  for (std::size_t k = 0; k < count; ++k) v.push_back(make_zero(prec));
  return v;
}

// X = L^-1 for lower triangular L, by columns (Higham ASNA §14.2.1, "Method 1"):
//   X(j, j) = 1 / L(j, j),
//   X(i, j) = -( sum_{k=j}^{i-1} L(i, k) X(k, j) ) / L(i, i),   i > j,
// with L(i, i) = 1 (no division) for unit L. Each product L(i,k) X(k,j) is exact in
// prec + 53 bits; the dot product is rounded once (mpfr_sum) and the division once.
Matrix<mp_float> invert_lower(MatrixView<const double> L, Diagonal diag, mpfr_prec_t prec) {
  const index_t n = L.rows;
  Matrix<mp_float> X = make_zero_matrix(n, n, prec);
  std::vector<mp_float> products = make_scratch(static_cast<std::size_t>(n), prec + 53);
  mp_float sum = make_zero(prec);
  for (index_t j = 0; j < n; ++j) {
    mpfr_set_ui(raw(X(j, j)), 1, MPFR_RNDN);
    if (diag == Diagonal::non_unit) mpfr_div_d(raw(X(j, j)), raw(X(j, j)), L(j, j), MPFR_RNDN);
    for (index_t i = j + 1; i < n; ++i) {
      std::size_t count = 0;
      for (index_t k = j; k < i; ++k) {
        if (L(i, k) == 0.0 || mpfr_zero_p(raw(X(k, j)))) continue;
        mpfr_mul_d(raw(products[count++]), raw(X(k, j)), L(i, k), MPFR_RNDN);  // exact
      }
      rounded_sum(raw(sum), products, count);
      mpfr_neg(raw(sum), raw(sum), MPFR_RNDN);  // exact
      if (diag == Diagonal::unit)
        mpfr_set(raw(X(i, j)), raw(sum), MPFR_RNDN);
      else
        mpfr_div_d(raw(X(i, j)), raw(sum), L(i, i), MPFR_RNDN);
    }
  }
  return X;
}

Matrix<mp_float> transpose(const Matrix<mp_float>& M) {
  Matrix<mp_float> T(M.cols(), M.rows());
  for (index_t i = 0; i < M.rows(); ++i)
    for (index_t j = 0; j < M.cols(); ++j) T(j, i) = M(i, j);
  return T;
}

}  // namespace

unsigned current_reference_bits() {
  return tls_reference_bits;
}

ReferencePrecision::ReferencePrecision(unsigned bits) : bits_(bits), previous_(tls_reference_bits) {
  check_bits(bits, "ReferencePrecision");
  tls_reference_bits = bits;
}

ReferencePrecision::~ReferencePrecision() {
  tls_reference_bits = previous_;
}

Matrix<mp_float> reference_gemm(MatrixView<const double> A, MatrixView<const double> B,
                                unsigned bits) {
  const char* what = "reference_gemm";
  const mpfr_prec_t prec = resolve_bits(bits, what);
  check_view(A, what);
  check_view(B, what);
  if (A.cols != B.rows)
    throw std::invalid_argument(std::string(what) + ": inner dimensions differ: A is " +
                                std::to_string(A.rows) + "x" + std::to_string(A.cols) + ", B is " +
                                std::to_string(B.rows) + "x" + std::to_string(B.cols));
  check_all_finite(A, "A", what);
  check_all_finite(B, "B", what);
  Matrix<mp_float> C = make_zero_matrix(A.rows, B.cols, prec);
  std::vector<mp_float> scratch = make_scratch(static_cast<std::size_t>(A.cols), 2 * 53);
  for (index_t i = 0; i < A.rows; ++i)
    for (index_t j = 0; j < B.cols; ++j)
      exact_dot_rounded(
          raw(C(i, j)), A.cols, [&](index_t k) { return A(i, k); },
          [&](index_t k) { return B(k, j); }, 0.0, scratch);
  return C;
}

Matrix<double> reference_gemm_double(MatrixView<const double> A, MatrixView<const double> B,
                                     unsigned bits) {
  return round_to_double(reference_gemm(A, B, bits));
}

Matrix<mp_float> reference_inverse(MatrixView<const double> A, Triangle triangle, Diagonal diagonal,
                                   unsigned bits) {
  const char* what = "reference_inverse";
  const mpfr_prec_t prec = resolve_bits(bits, what);
  check_square(A, what);
  check_triangle_finite(A, triangle, diagonal, what);
  if (diagonal == Diagonal::non_unit)
    for (index_t i = 0; i < A.rows; ++i)
      if (A(i, i) == 0.0)
        throw std::domain_error(std::string(what) + ": " + entry_name("A", i, i) +
                                " = 0: the triangular matrix is singular");
  // An upper triangular U is inverted as U^-1 = ((U^T)^-1)^T, U^T being lower.
  if (triangle == Triangle::upper) return transpose(invert_lower(A.transposed(), diagonal, prec));
  return invert_lower(A, diagonal, prec);
}

Matrix<double> reference_inverse_double(MatrixView<const double> A, Triangle triangle,
                                        Diagonal diagonal, unsigned bits) {
  return round_to_double(reference_inverse(A, triangle, diagonal, bits));
}

ReferenceResiduals reference_residuals(MatrixView<const double> A, MatrixView<const double> X,
                                       Triangle triangle, Diagonal diagonal, unsigned bits) {
  const char* what = "reference_residuals";
  const mpfr_prec_t prec = resolve_bits(bits, what);
  check_square(A, what);
  check_view(X, what);
  if (X.rows != A.rows || X.cols != A.cols)
    throw std::invalid_argument(std::string(what) + ": X is " + std::to_string(X.rows) + "x" +
                                std::to_string(X.cols) + ", A is " + std::to_string(A.rows) + "x" +
                                std::to_string(A.cols));
  check_triangle_finite(A, triangle, diagonal, what);
  check_all_finite(X, "X", what);
  const index_t n = A.rows;
  auto a = [&](index_t i, index_t j) { return contract_entry(A, i, j, triangle, diagonal); };
  ReferenceResiduals r{make_zero_matrix(n, n, prec), make_zero_matrix(n, n, prec)};
  std::vector<mp_float> scratch = make_scratch(static_cast<std::size_t>(n) + 1, 2 * 53);
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      const double delta = i == j ? 1.0 : 0.0;
      // (A X - I)(i, j) = sum_k A(i, k) X(k, j) - delta_ij
      exact_dot_rounded(
          raw(r.right(i, j)), n, [&](index_t k) { return a(i, k); },
          [&](index_t k) { return X(k, j); }, delta, scratch);
      // (X A - I)(i, j) = sum_k X(i, k) A(k, j) - delta_ij
      exact_dot_rounded(
          raw(r.left(i, j)), n, [&](index_t k) { return X(i, k); },
          [&](index_t k) { return a(k, j); }, delta, scratch);
    }
  return r;
}

Matrix<double> round_to_double(const Matrix<mp_float>& M) {
  Matrix<double> D(M.rows(), M.cols());
  for (index_t i = 0; i < M.rows(); ++i)
    for (index_t j = 0; j < M.cols(); ++j) D(i, j) = mpfr_get_d(raw(M(i, j)), MPFR_RNDN);
  return D;
}

Matrix<double> rounding_remainder(const Matrix<mp_float>& M) {
  Matrix<double> D(M.rows(), M.cols());
  for (index_t i = 0; i < M.rows(); ++i)
    for (index_t j = 0; j < M.cols(); ++j) {
      const mpfr_srcptr m = raw(M(i, j));
      const double high = mpfr_get_d(m, MPFR_RNDN);
      if (!std::isfinite(high)) continue;  // no finite remainder of an out-of-range value
      mp_float rest = make_zero(mpfr_get_prec(m) + 64);
      mpfr_sub_d(raw(rest), m, high, MPFR_RNDN);
      D(i, j) = mpfr_get_d(raw(rest), MPFR_RNDN);
    }
  return D;
}

}  // namespace triscan
