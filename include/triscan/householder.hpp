// triscan/householder.hpp — products of generalized Householder transformations
//   Q = H_1 H_2 ... H_r,   H_i = I - beta_i k_i k_i^T,   beta_i in [0, 2],
// accumulated in every classical representation, registered by name (docs/householder.md):
//   householder/explicit      Q formed by sequential rank-1 updates
//   householder/wy            Q = I + W Y^T            (Bischof & Van Loan 1987)
//   householder/compact_wy    Q = I - V T V^T, T upper (Schreiber & Van Loan 1989; LAPACK
//                             xLARFT forward/columnwise), construction=sequential|recursive
//                             (Elmroth & Gustavson 2000)
//   householder/ut            Q = I - V S^-1 V^T       (UT transform, Joffrain et al. 2006),
//                             S = striu(V^T V) + diag(1/beta), inverted by any registered
//                             triangular-inversion method (trinv=<spec>)
//   householder/tree          pairwise (associative) combination of compact-WY blocks
// beta_i = 2/||k_i||^2 gives an orthogonal reflector; any other beta a non-orthogonal
// transformation (DeltaNet / DeltaProduct). beta_i = 0 (H_i = I) is accepted by every
// representation (the `ut:form=non_unit` variant reports it as `singular`).
//
// Contracts.
//  - Invalid arguments throw std::invalid_argument naming the argument: unknown method or
//    parameter, a beta outside [0, 2] (finite), a beta count other than V's column count,
//    shapes that do not fit, aliasing views, a representation that the operation does not
//    accept (combine needs compact-WY form).
//  - Numerical trouble is a status (status.hpp): NaN/Inf in V or beta -> nonfinite_input;
//    a non-finite intermediate or result from finite input -> overflow; a failed
//    triangular inversion passes its status on (ut). With a flagged status other than
//    `inaccurate` the representation's matrices are filled with NaN (never silent garbage)
//    and apply()/form_q() refuse to use it (they return the status and fill C / Q with NaN).
//  - The inputs are rounded to the precision's storage format before use, and the
//    representation's matrices are rounded to the output format. The double overloads run
//    natively in fp64 when the precision is native fp64 (the float ones in fp32), and
//    simulated (numerics/arith.hpp) otherwise.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "triscan/format.hpp"
#include "triscan/matrix.hpp"
#include "triscan/registry.hpp"
#include "triscan/status.hpp"

namespace triscan {

// What a representation holds.
enum class HouseholderForm {
  explicit_q,  // Q (m x m)
  wy,          // W, Y (m x r): Q = I + W Y^T
  compact_wy,  // V (m x r), T (r x r upper triangular): Q = I - V T V^T
};

struct HouseholderOptions {
  Precision precision = Precision::uniform(format_by_name("fp64"));
};

// One accumulated product. Only the members of `form` are filled; Y == V (kept in V).
template <class T>
struct HouseholderProduct {
  std::string method;  // canonical spec that produced it ("" for combine())
  HouseholderForm form = HouseholderForm::compact_wy;
  index_t m = 0, r = 0;
  Matrix<T> Q;         // explicit_q
  Matrix<T> W;         // wy: Q = I + W V^T
  Matrix<T> V;         // wy (as Y) and compact_wy: the vectors k_1 .. k_r as columns
  Matrix<T> T_factor;  // compact_wy: the r x r upper triangular T (0 below the diagonal);
                       // for householder/ut it is S^-1
  Status status = Status::ok;
  std::string message;  // why a flagged status was set
};

struct HouseholderMethodInfo {
  std::string name;  // "householder/compact_wy"
  std::string description;
  std::string flops_formula;  // for the accumulation, in m (rows) and r (transformations)
  std::function<double(index_t m, index_t r)> flops;
  HouseholderForm form = HouseholderForm::compact_wy;
  std::string stability;            // stability class with its source
  std::vector<std::string> params;  // accepted keys, each "key=default: meaning"
};

const std::vector<HouseholderMethodInfo>& householder_methods();
// Throws std::invalid_argument naming `name` and listing the registered methods.
const HouseholderMethodInfo& householder_method(std::string_view name);

// Accumulates Q = H_1 ... H_r for the columns k_i of V (m x r, any strides) and beta
// (r entries, beta.size() must equal V.cols).
HouseholderProduct<double> accumulate_householder(const MethodSpec& method,
                                                  MatrixView<const double> V,
                                                  const std::vector<double>& beta,
                                                  const HouseholderOptions& options = {});
HouseholderProduct<float> accumulate_householder(const MethodSpec& method,
                                                 MatrixView<const float> V,
                                                 const std::vector<float>& beta,
                                                 const HouseholderOptions& options = {});

enum class Side { left, right };    // op(Q) C  or  C op(Q)
enum class Op { none, transpose };  // op(Q) = Q or Q^T

// C <- op(Q) C (Side::left, C is m x p) or C <- C op(Q) (Side::right, C is p x m), from
// the representation without forming Q. Returns the product's status when it is flagged
// (C filled with NaN), overflow when the update overflowed, else ok.
Status apply_householder(const HouseholderProduct<double>& q, Side side, Op op,
                         MatrixView<double> C, const HouseholderOptions& options = {});
Status apply_householder(const HouseholderProduct<float>& q, Side side, Op op, MatrixView<float> C,
                         const HouseholderOptions& options = {});

// Q (m x m) formed explicitly from any representation.
Status form_householder_q(const HouseholderProduct<double>& q, MatrixView<double> Q,
                          const HouseholderOptions& options = {});
Status form_householder_q(const HouseholderProduct<float>& q, MatrixView<float> Q,
                          const HouseholderOptions& options = {});

// The scan operator over Householder products: for compact-WY a = (V1, T1), b = (V2, T2)
// with the same m,
//   (I - V1 T1 V1^T)(I - V2 T2 V2^T) = I - [V1 V2] [[T1, -T1 V1^T V2 T2], [0, T2]] [V1 V2]^T.
// Throws std::invalid_argument when either operand is not in compact-WY form or m differs.
// A flagged operand's status is passed on (matrices NaN).
HouseholderProduct<double> combine_householder(const HouseholderProduct<double>& a,
                                               const HouseholderProduct<double>& b,
                                               const HouseholderOptions& options = {});
HouseholderProduct<float> combine_householder(const HouseholderProduct<float>& a,
                                              const HouseholderProduct<float>& b,
                                              const HouseholderOptions& options = {});

}  // namespace triscan
