// validation/householder_experiment.hpp — one Householder-product experiment, end to end
// (the `triscan wy --representation householder/...` driver calls it): draw the vectors
// k_i and weights beta_i, round them to the storage format, accumulate Q = H_1 ... H_r in
// a registered representation under a Precision, and measure it against the product
// formed in MPFR from the *same rounded input* (DESIGN.md "Numerical contracts";
// docs/householder.md "Validation"). Needs MPFR (validation/mpfr/householder_experiment.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "triscan/format.hpp"
#include "triscan/householder.hpp"
#include "triscan/matrix.hpp"
#include "triscan/registry.hpp"
#include "validation/generators.hpp"

namespace triscan::validation {

struct HouseholderCase {
  MethodSpec representation;  // a householder/... spec
  Precision precision = Precision::uniform(format_by_name("fp64"));
  index_t m = 64;  // rows of V (the order of Q)
  index_t r = 16;  // number of transformations
  std::uint64_t seed = 0;
  // true: beta_i = 2/||k_i||^2 (orthogonal reflectors, from the rounded k_i; then beta is
  // rounded too, so H_i is a reflector to within a unit roundoff). false: general beta.
  bool reflectors = true;
  // General beta (reflectors == false): this constant, else beta_i ~ U(0, 2) from the seed
  // (or the generator's own beta when `generator` is set).
  std::optional<double> beta;
  // Without a generator, k_i are Gaussian vectors normalized to unit length (keys). With
  // one (a chunkable generator with keys: deltanet*, gated, kda, ...), V = K^T from its
  // "k" tensor with n = r tokens and dk = m (its n, dk and seed are replaced by r, m and
  // `seed`; a dk other than m is an error), and beta from its "beta" tensor.
  std::optional<GeneratorParams> generator;
  index_t apply_cols = 8;  // columns p of the m x p test matrix C for the apply errors
};

struct HouseholderRecord {
  std::string representation;  // canonical spec
  std::string precision;       // Precision::describe()
  index_t m = 0, r = 0;
  std::uint64_t seed = 0;
  bool reflectors = true;
  Status status = Status::ok;
  std::string message;
  double representation_error =
      0.0;  // ||Q_repr - Q_mpfr||_F / ||Q_mpfr||_F (Q_repr formed by form_householder_q)
  double orthogonality_loss = 0.0;     // ||Q_repr^T Q_repr - I||_F (NaN unless reflectors)
  double apply_error = 0.0;            // ||apply(Q) C - Q_mpfr C||_F / ||Q_mpfr C||_F
  double apply_transpose_error = 0.0;  // the same for Q^T C
  double product_norm_bound = 1.0;     // prod_i ||H_i||_2 = prod_i max(1, |1 - beta_i ||k_i||^2|)
  double unit_roundoff = 0.0;          // the precision's working unit roundoff
  double reference_norm = 0.0;         // ||Q_mpfr||_F (sqrt(m) for reflectors)
  bool has_metrics = false;            // false when the status is flagged (metrics NaN)
};

// Throws std::invalid_argument naming the field for bad case fields (m < 1, r < 0,
// apply_cols < 1, beta outside [0, 2] or given with reflectors), an unknown
// representation or a bad generator option.
HouseholderRecord run_householder_case(const HouseholderCase& c);

// The inputs of a case, rounded to the precision's storage format (what the
// representation and the reference both see).
struct HouseholderInput {
  Matrix<double> V;  // m x r
  std::vector<double> beta;
};
HouseholderInput make_householder_input(const HouseholderCase& c);

// MPFR references at `bits` bits (0: 256), each entry delivered as hi + lo (two doubles,
// ~106 bits; lo = RN(x - hi)):
//  - the product Q = H_1 ... H_r formed by sequential rank-1 updates in MPFR;
//  - Q C and Q^T C for an m x p matrix C.
struct HouseholderReference {
  Matrix<double> Q, Q_low;
  Matrix<double> QC, QC_low, QtC, QtC_low;
};
HouseholderReference reference_householder(MatrixView<const double> V,
                                           const std::vector<double>& beta,
                                           MatrixView<const double> C, unsigned bits = 0);
// ||Q^T Q - I||_F with Q^T Q formed in MPFR (exact products, sums at `bits` bits).
double reference_orthogonality_loss(MatrixView<const double> Q, unsigned bits = 0);

}  // namespace triscan::validation
