// src/trinv/method.hpp — the internal interface every triangular-inversion method
// implements (not installed). The public driver (src/trinv/driver.cpp) does all that
// is common to every method: argument checks, the input contract (which entries are
// read), non-finite input and singular-diagonal statuses, upper-triangular inputs
// (inverted through the transposed view), rounding the result to the output format,
// filling the other triangle with zeros, the overflow status and the a-posteriori
// `inaccurate` check. A method only computes the inverse of a LOWER triangular
// matrix, unit or non-unit, under an arithmetic model (numerics/arith.hpp).
#pragma once

#include <string>
#include <vector>

#include "numerics/arith.hpp"
#include "triscan/trinv.hpp"

namespace triscan::trinv_detail {

struct Context {
  Diagonal diagonal = Diagonal::unit;  // unit: L's diagonal is taken as 1 and never read
  const Precision* precision = nullptr;
};

// What a method reports besides X (the driver turns it into TrinvResult).
struct MethodOutcome {
  Status status = Status::ok;  // a method sets not_converged / overflow / unsupported itself
  int iterations = 0;
  std::string message;
};

// A method's kernels. Each writes the lower triangle (diagonal included) of X = L^-1,
// X being n x n with L's shape; entries of X above the diagonal may be used as scratch
// (the driver overwrites them with 0). L and X never alias.
template <class A>
using Kernel = MethodOutcome (*)(const MethodSpec& spec, A& arith, MatrixView<const typename A::value_type> L,
                                 MatrixView<typename A::value_type> X, const Context& ctx);

struct MethodImpl {
  TrinvMethodInfo info;
  void (*validate)(const MethodSpec& spec);  // throws std::invalid_argument on bad parameters
  Kernel<arith::Native<double>> run_f64;
  Kernel<arith::Native<float>> run_f32;
  Kernel<arith::Simulated> run_sim;
};

// Registered by src/trinv/direct.cpp and src/trinv/iterative.cpp respectively.
std::vector<MethodImpl> direct_methods();
std::vector<MethodImpl> iterative_methods();

// The registry, in listing order; lookup throws std::invalid_argument listing names.
const std::vector<MethodImpl>& registry();
const MethodImpl& find_method(const std::string& name);

// Runs another registered method (used by trinv/refine for its base method).
template <class A>
MethodOutcome run_method(const MethodSpec& spec, A& arith, MatrixView<const typename A::value_type> L,
                         MatrixView<typename A::value_type> X, const Context& ctx);

}  // namespace triscan::trinv_detail
