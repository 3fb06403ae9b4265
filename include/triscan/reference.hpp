// triscan/reference.hpp — the MPFR reference every check compares against
// (DESIGN.md "Numerical contracts"). The only public header that includes MPFR /
// Boost.Multiprecision; available when triscan was built with TRISCAN_WITH_MPFR.
//
// Contract. Every routine takes the *same rounded input* the method under test saw
// (double views; every simulated format's values are doubles) and computes in MPFR
// at `bits` significand bits (default 256, at least 4x the working precision's p):
//   - reference_gemm: each entry is the exact sum of exact products, rounded ONCE to
//     `bits` bits (products of two doubles are exact in 106 bits; mpfr_sum rounds the
//     exact sum correctly).
//   - reference_inverse: substitution X(i,j) = -(sum_{k=j}^{i-1} L(i,k) X(k,j)) / L(i,i)
//     in which every dot product is rounded once and every division once to `bits`
//     bits. Its error is the substitution bound with u = 2^-bits (Higham ASNA 2nd ed.,
//     §8.1 and §14.2: |X - L^-1| <= gamma_n |L^-1||L||X| componentwise, gamma_n =
//     n u/(1 - n u)); with bits = 256 and n <= 10^4 this is below 2^-200 cond(L)
//     relative, far below any working format's u unless cond(L) > 2^140.
//
// Threads. Boost 1.74's mpfr_float keeps its default precision in ONE process-wide
// atomic (decimal digits, not thread-local; newer Boost made it thread-local), and
// Boost's own expression evaluation temporarily rewrites it when operands' precisions
// differ. The routines here therefore never read or write that default: they work on
// mpfr_t values through the MPFR C API with an explicit precision on every variable,
// and their mp_float results carry their own precision. Precision comes from the
// `bits` argument or, when it is 0, from the calling thread's ReferencePrecision scope
// (thread-local). MPFR 4 is built thread-safe (TLS) on Debian, so the routines may be
// called concurrently from several threads. User code doing its own mp_float
// arithmetic in several threads is subject to Boost 1.74's shared default.
#pragma once

#include <boost/multiprecision/mpfr.hpp>

#include "triscan/format.hpp"
#include "triscan/matrix.hpp"
#include "triscan/trinv.hpp"

namespace triscan {

// Reference scalars: variable (runtime) precision. Each value's precision is that of
// the routine that produced it.
using mp_float = boost::multiprecision::mpfr_float;

inline constexpr unsigned default_reference_bits = 256;
// Largest precision accepted (a guard against absurd requests, 2^20 bits = 128 KiB
// per scalar).
inline constexpr unsigned max_reference_bits = 1u << 20;

// The reference precision for a working format: max(256, 4 p) bits.
inline unsigned reference_bits_for(const Format& working) {
  const unsigned four_p = 4u * static_cast<unsigned>(working.precision > 0 ? working.precision : 0);
  return four_p > default_reference_bits ? four_p : default_reference_bits;
}

// The precision the reference routines use when called with bits == 0: that of the
// innermost live ReferencePrecision of the calling thread, else 256.
unsigned current_reference_bits();

// RAII: sets the calling thread's reference precision for a scope, restoring the
// previous one on exit. Thread-local, so concurrent scopes in different threads do
// not interfere. Throws std::invalid_argument when bits is outside
// [MPFR_PREC_MIN, max_reference_bits].
class ReferencePrecision {
 public:
  explicit ReferencePrecision(unsigned bits);
  ~ReferencePrecision();
  ReferencePrecision(const ReferencePrecision&) = delete;
  ReferencePrecision& operator=(const ReferencePrecision&) = delete;
  unsigned bits() const { return bits_; }

 private:
  unsigned bits_;
  unsigned previous_;
};

// C = A B, each entry the exact sum of exact products rounded once to `bits` bits.
// Throws std::invalid_argument for mismatched shapes, unusable views or a non-finite
// entry (naming the operand and the entry).
Matrix<mp_float> reference_gemm(MatrixView<const double> A, MatrixView<const double> B,
                                unsigned bits = 0);
// The same, each entry then rounded to the nearest double.
Matrix<double> reference_gemm_double(MatrixView<const double> A, MatrixView<const double> B,
                                     unsigned bits = 0);

// X = A^-1 for triangular A, read as triscan's input contract says: only the
// triangle named by `triangle`, plus the diagonal when `diagonal` is non_unit (a unit
// matrix's diagonal is taken as 1 and never read). The result is the full n x n
// inverse: its triangle, 1 on the diagonal for unit A, exact 0 in the other triangle.
// Throws std::invalid_argument for a non-square or unusable view or a non-finite
// entry in the part read, and std::domain_error naming the index for a zero diagonal
// entry (singular A).
Matrix<mp_float> reference_inverse(MatrixView<const double> A, Triangle triangle, Diagonal diagonal,
                                   unsigned bits = 0);
// The same, each entry rounded to the nearest double (an entry whose magnitude
// exceeds double's range becomes +-inf, one below it a subnormal or 0).
Matrix<double> reference_inverse_double(MatrixView<const double> A, Triangle triangle,
                                        Diagonal diagonal, unsigned bits = 0);

// R_right = A X - I and R_left = X A - I, A read as in reference_inverse and X read
// in full as stored (a method's output contract makes X full: garbage written in the
// other triangle shows up in the residual). Each entry is the exact value rounded
// once to `bits` bits. Throws std::invalid_argument for mismatched shapes, unusable
// views or a non-finite entry of A (in its read part) or X.
struct ReferenceResiduals {
  Matrix<mp_float> right;  // A X - I
  Matrix<mp_float> left;   // X A - I
};
ReferenceResiduals reference_residuals(MatrixView<const double> A, MatrixView<const double> X,
                                       Triangle triangle, Diagonal diagonal, unsigned bits = 0);

// Entrywise rounding to the nearest double (ties to even), and the remainder
// RN(M - RN(M)): together they represent M to about 2 x 53 bits as an unevaluated
// sum high + low, which metrics.hpp accepts as a reference (`X_ref_low`) so that a
// measured forward error of an fp64 result is not limited by the reference's own
// rounding to double.
Matrix<double> round_to_double(const Matrix<mp_float>& M);
Matrix<double> rounding_remainder(const Matrix<mp_float>& M);

}  // namespace triscan
