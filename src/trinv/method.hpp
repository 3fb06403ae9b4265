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

// The batched native fast paths: `count` <= width matrices of the same order n inverted
// by one call (src/trinv/lanes.hpp: the batch index in the SIMD lanes, width = the lane
// count; src/trinv/rows.hpp: one matrix, width 1, its rows as SIMD vectors). The driver has done
// the argument checks and the upper -> lower transposition; the kernel reads only the
// part of each L the input contract allows (strictly lower, plus the diagonal when
// non-unit), writes each X in full under the output contract (lower triangle, exact 1
// on a unit diagonal, 0 above), and flags per matrix (nonzero) whether an entry it read
// was not finite (nonfinite_in; that matrix's X is then left for the driver to fill)
// and whether one it wrote in the lower triangle is not (nonfinite_out). Every matrix sees exactly the operations of the
// method's single-matrix native kernel, in the same order.
template <class T>
struct LaneGroup {
  index_t n = 0;
  bool unit = true;
  index_t count = 0;
  const MatrixView<const T>* L = nullptr;  // count views (any strides)
  const MatrixView<T>* X = nullptr;        // count views (any strides)
  index_t* nonfinite_in = nullptr;         // count flags, written
  index_t* nonfinite_out = nullptr;        // count flags, written
  // Write X with non-temporal (streaming) stores where the hardware and alignment allow:
  // set by the driver for batches whose output is far larger than the caches, where it
  // saves reading each output line before overwriting it. The values are the same.
  bool stream_output = false;
  // The next group's inputs (a hint, may be empty): the kernel prefetches their read
  // part into the cache while it computes, so the next gather does not wait on memory.
  const MatrixView<const T>* prefetch = nullptr;
  index_t prefetch_count = 0;
  // The next group's outputs (prefetch_count views, or null): a kernel that streams its
  // stores may touch their pages ahead of the stores (see rows.hpp, touch_pages).
  const MatrixView<T>* prefetch_out = nullptr;
  // The a-posteriori check (src/trinv/check.hpp): when non-null, the kernel writes each
  // matrix's relative residual rho here (count entries), with the scalar accuracy_check's
  // operations in the same order, from the tile (L and X still in cache). Only kernels
  // with `checks` set take it.
  double* rho = nullptr;
};

template <class T>
struct LaneKernel {
  index_t width = 0;  // matrices per call (0: the method has no batched fast path)
  index_t max_n = 0;  // largest order it takes
  index_t (*scratch_size)(index_t n) = nullptr;  // entries of T the call needs in `scratch`
  void (*run)(const LaneGroup<T>& group, T* scratch) = nullptr;
  bool checks = false;  // computes the a-posteriori check's rho (LaneGroup::rho) itself
};

struct MethodImpl {
  TrinvMethodInfo info;
  void (*validate)(const MethodSpec& spec);  // throws std::invalid_argument on bad parameters
  Kernel<arith::Native<double>> run_f64;
  Kernel<arith::Native<float>> run_f32;
  Kernel<arith::Simulated> run_sim;
  // Batched native fast paths, if the method has them: `lanes` with the a-posteriori check
  // (when it is on), `rows` without (when it is off; else `lanes` serves both).
  LaneKernel<double> lanes_f64{};
  LaneKernel<float> lanes_f32{};
  LaneKernel<double> rows_f64{};
  LaneKernel<float> rows_f32{};
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
