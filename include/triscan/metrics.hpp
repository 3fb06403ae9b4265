// triscan/metrics.hpp — accuracy metrics of a computed inverse X of a triangular A,
// measured against a reference inverse rounded from MPFR (reference.hpp), and the
// norms and relative errors other checks use (DESIGN.md "Numerical contracts";
// docs/metrics.md gives every formula). No MPFR here: everything is computed in
// double, with compensated (twice-the-working-precision) dot products wherever a
// quantity is formed by cancellation (the residuals), so the metrics resolve errors
// of fp64 results. Non-finite entries of X never throw: the affected metrics become
// inf or NaN (NaN propagates through every max and sum) and `nonfinite` counts them.
#pragma once

#include <cstdint>

#include "triscan/matrix.hpp"
#include "triscan/trinv.hpp"

namespace triscan {

// Field names are the JSON keys of DESIGN.md "CLI conventions".
struct InversionMetrics {
  double forward_error = 0.0;        // ||X - X_ref||_F / ||X_ref||_F
  double forward_error_inf = 0.0;    // ||X - X_ref||_inf / ||X_ref||_inf
  double componentwise_error = 0.0;  // max_ij |X - X_ref|_ij / |X_ref|_ij  (0/0 := 0, x/0 := inf)
  double right_residual = 0.0;       // ||A X - I||_inf / (||A||_inf ||X||_inf)
  double left_residual = 0.0;        // ||X A - I||_inf / (||X||_inf ||A||_inf)
  double lapack_ratio = 0.0;         // ||A X - I||_1 / (n ||A||_1 ||X||_1 eps), eps = unit roundoff
  double kappa = 0.0;                // ||A||_inf ||A^-1||_inf   (A^-1 = X_ref)
  double cond = 0.0;                 // || |A^-1| |A| ||_inf      (Skeel)
  double growth = 0.0;               // max(max_intermediate, max |X_ij|) / max |A_ij|
  std::int64_t nonfinite = 0;        // number of NaN / inf entries of X
};

// Metrics of X as an inverse of A.
//  - A is read as triscan's input contract says (only `triangle`, plus the diagonal
//    when non_unit; a unit matrix's diagonal is 1 whatever is stored); every metric
//    uses that full triangular matrix.
//  - X is read in full as stored (the output contract makes it full: 0 in the other
//    triangle), so garbage written there shows up in the residuals and errors.
//  - X_ref is the reference inverse rounded to double (reference_inverse_double);
//    X_ref_low, if not empty, is the remainder (rounding_remainder) so that the
//    reference is X_ref + X_ref_low to ~106 bits and forward errors are not floored
//    at the double rounding of the reference (~2^-53).
//  - unit_roundoff is the working format's u = 2^-p (fp64: 2^-53), the eps of the
//    LAPACK ratio (LAPACK's dlamch('Epsilon') is 2^-53 = u for fp64: it is u, not
//    the machine epsilon 2^-52).
//  - max_intermediate is the largest |intermediate| the method saw (TrinvResult::growth;
//    0 when not tracked, in which case growth uses max |X| alone).
// Throws std::invalid_argument for shapes that differ, unusable views, unit_roundoff
// not in (0, 1), or a non-finite entry of A (in its read part), X_ref or X_ref_low.
// An empty (0 x 0) A gives all-zero metrics.
InversionMetrics compute_inversion_metrics(MatrixView<const double> A, MatrixView<const double> X,
                                           MatrixView<const double> X_ref, Triangle triangle,
                                           Diagonal diagonal, double unit_roundoff,
                                           double max_intermediate = 0.0,
                                           MatrixView<const double> X_ref_low = {});

enum class Norm {
  one,        // max column sum of |M|
  inf,        // max row sum of |M|
  frobenius,  // sqrt(sum |M_ij|^2), scaled so it neither overflows nor underflows
  max,        // max |M_ij| (not submultiplicative)
};

// Norms of general matrices (every entry read). NaN anywhere gives NaN; otherwise an
// inf entry gives inf. An empty matrix has norm 0. Throws std::invalid_argument for
// an unusable view.
double norm(MatrixView<const double> M, Norm which);
inline double norm_inf(MatrixView<const double> M) {
  return norm(M, Norm::inf);
}
inline double norm_one(MatrixView<const double> M) {
  return norm(M, Norm::one);
}
inline double norm_frobenius(MatrixView<const double> M) {
  return norm(M, Norm::frobenius);
}

// Normwise relative error ||X - X_ref|| / ||X_ref|| of general (e.g. WY, scan)
// results, with the reference X_ref (+ X_ref_low if not empty). 0/0 := 0, x/0 := inf.
// Throws std::invalid_argument for differing shapes or unusable views.
double relative_error(MatrixView<const double> X, MatrixView<const double> X_ref, Norm which,
                      MatrixView<const double> X_ref_low = {});
// Componentwise relative error max_ij |X - X_ref|_ij / |X_ref|_ij (0/0 := 0, x/0 := inf).
double componentwise_relative_error(MatrixView<const double> X, MatrixView<const double> X_ref,
                                    MatrixView<const double> X_ref_low = {});

}  // namespace triscan
