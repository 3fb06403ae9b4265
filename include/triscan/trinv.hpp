// triscan/trinv.hpp — triangular inversion: every direct and iterative method,
// registered by name, under any Precision, for single matrices, strided batches and
// the linear-attention chunk layout (DESIGN.md; docs/trinv.md for the methods).
//
// Main path: L = I + N unit lower triangular (N strictly lower). Input contract:
// only the strictly lower part (plus the diagonal for non-unit matrices; the upper
// part for Triangle::upper) is read. Output contract: X is written in full — the
// inverse in its triangle, exact 1 on the diagonal for unit matrices, 0 in the other
// triangle. A flagged status says what X holds (docs/trinv.md "Statuses").
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

enum class Triangle { lower, upper };
enum class Diagonal { unit, non_unit };

struct TrinvOptions {
  Precision precision = Precision::uniform(format_by_name("fp64"));
  Triangle triangle = Triangle::lower;
  Diagonal diagonal = Diagonal::unit;
  // The cheap a-posteriori check ||I - L X v|| on a few random vectors v (DESIGN.md
  // "Numerical contracts"); finite output that fails it is reported `inaccurate`.
  bool check_accuracy = true;
  unsigned threads = 0;  // batches: worker threads, 0 = all cores; results never depend on it
};

struct TrinvResult {
  Status status = Status::ok;
  int iterations = 0;           // iterative methods: steps taken
  double growth = 0.0;          // largest |intermediate| seen (simulated arithmetic)
  double check_residual = 0.0;  // the a-posteriori check's relative residual (0 when off)
  std::string message;          // why a flagged status was set
};

struct TrinvMethodInfo {
  std::string name;             // "trinv/forward_substitution"
  std::string family;           // "direct", "iterative" or "refinement"
  std::string flops_formula;    // e.g. "n^3/3"
  std::function<double(index_t n)> flops;
  bool product_rich = false;    // built from matrix-matrix products
  std::string stability;        // stability class from the literature, with its source
  std::vector<std::string> params;  // accepted keys, each "key=default: meaning"
  bool supports_upper = true;
  bool supports_non_unit = true;
};

const std::vector<TrinvMethodInfo>& trinv_methods();
// Throws std::invalid_argument naming `name` and listing the registered methods.
const TrinvMethodInfo& trinv_method(std::string_view name);

// Single matrix, n x n views of any strides. Invalid arguments (non-square, aliasing
// strides, unknown method or parameter) throw std::invalid_argument; numerical
// trouble is a status, never an exception. The float overload runs natively in
// fp32 when the precision is native fp32, and simulated otherwise.
TrinvResult invert(const MethodSpec& method, MatrixView<const double> A, MatrixView<double> X,
                   const TrinvOptions& options = {});
TrinvResult invert(const MethodSpec& method, MatrixView<const float> A, MatrixView<float> X,
                   const TrinvOptions& options = {});

// Strided batch: statuses[b] (if non-null, `count` entries) per matrix; returns the
// worst status. Runs on options.threads threads; results are identical for any count.
Status invert_batch(const MethodSpec& method, BatchView<const double> A, BatchView<double> X,
                    const TrinvOptions& options = {}, Status* statuses = nullptr);
Status invert_batch(const MethodSpec& method, BatchView<const float> A, BatchView<float> X,
                    const TrinvOptions& options = {}, Status* statuses = nullptr);

// The [B, T, H, BT] layout: A holds the strictly lower chunk matrices N (what
// linear-attention code calls A); X receives (I + N)^-1 in the same layout. Only rows
// [bos, eos) of each sequence and the columns below them are read or written; padding
// is never touched. statuses (if non-null) is [chunk_count(layout), H] row-major.
Status invert_chunks(const MethodSpec& method, const ChunkLayout& layout, const double* A,
                     double* X, const TrinvOptions& options = {}, Status* statuses = nullptr);
Status invert_chunks(const MethodSpec& method, const ChunkLayout& layout, const float* A,
                     float* X, const TrinvOptions& options = {}, Status* statuses = nullptr);

}  // namespace triscan
