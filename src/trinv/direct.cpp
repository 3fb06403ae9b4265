// src/trinv/direct.cpp — the direct triangular-inversion methods (docs/trinv.md).
//
// Each method inverts a LOWER triangular L (unit or non-unit, Context::diagonal) into
// the lower triangle of X. Notation for a 2 x 2 block partition:
//   L = [L11 0; L21 L22],  X = L^-1 = [X11 0; X21 X22],
//   X11 = L11^-1,  X22 = L22^-1,  X21 = -X22 L21 X11 = -L22^-1 L21 X11.
// The methods differ in the order of the operations and in whether X21 is obtained by
// multiplying by computed inverses or by solving with L — which is what decides their
// stability class (Du Croz & Higham, IMA J. Numer. Anal. 12, 1992; Higham, ASNA 2nd ed.
// §14.2).
#include <string>
#include <vector>

#include "src/trinv/kernels.hpp"
#include "src/trinv/lanes.hpp"
#include "src/trinv/rows.hpp"

namespace triscan::trinv_detail {
namespace {

constexpr long max_block = 1L << 20;

bool is_unit(const Context& ctx) { return ctx.diagonal == Diagonal::unit; }

// Every direct method writes all of the lower triangle; the strictly upper part of X is
// zeroed first where a block method reads whole diagonal blocks of X as operands (the
// driver writes the caller's zeros above the diagonal in any case).
template <class T>
void zero(const View<T>& X) {
  for (index_t i = 0; i < X.rows; ++i)
    for (index_t j = 0; j < X.cols; ++j) X(i, j) = T(0);
}

// ---- trinv/forward_substitution (Method 1) -----------------------------------------
template <class A, class T = typename A::value_type>
MethodOutcome forward_substitution(const MethodSpec&, A& a, CView<T> L, View<T> X, const Context& ctx) {
  invert_forward(a, L, X, is_unit(ctx));
  return {};
}

// ---- trinv/forward_substitution_row (Method 2, LAPACK xTRTI2 order) -------------------
template <class A, class T = typename A::value_type>
MethodOutcome forward_substitution_row(const MethodSpec&, A& a, CView<T> L, View<T> X, const Context& ctx) {
  invert_rowwise(a, L, X, is_unit(ctx));
  return {};
}

// ---- trinv/blocked (Method 2C, LAPACK xTRTRI order) -----------------------------------
// For block columns j = nn, nn - nb, ..., 0 (nn the start of the last block):
//   X21 <- X22 L21        (TRMM with the already inverted trailing block X22)
//   X21 <- -X21 L11^-1    (TRSM with the diagonal block L11, not yet inverted)
//   X11 <- L11^-1         (Method 2, xTRTI2)
// Invariant: at the start of step j, X(j:n, j:n)'s trailing part X(j+jb:n, j+jb:n) holds
// the inverse of L(j+jb:n, j+jb:n).
template <class A, class T = typename A::value_type>
MethodOutcome blocked(const MethodSpec& spec, A& a, CView<T> L, View<T> X, const Context& ctx) {
  const index_t n = L.rows, nb = spec.get_int("nb", 32, 1, max_block);
  const bool unit = is_unit(ctx);
  zero(X);
  for (index_t j = n == 0 ? -1 : ((n - 1) / nb) * nb; j >= 0; j -= nb) {
    const index_t jb = std::min(nb, n - j), m = n - j - jb;
    const auto L11 = L.block(j, j, jb, jb);
    if (m > 0) {
      const auto X21 = X.block(j + jb, j, m, jb);
      copy_block(L.block(j + jb, j, m, jb), X21, T(1));
      trmm_left_lower(a, CView<T>(X.block(j + jb, j + jb, m, m)), X21);
      trsm_right_lower_neg(a, L11, unit, X21);
    }
    invert_rowwise(a, L11, X.block(j, j, jb, jb), unit);
  }
  return {};
}

// ---- trinv/recursive (solve-based divide and conquer, ReLAPACK's xtrtri) -------------
// ReLAPACK's split: n1 = ((n + 8) / 16) * 8 for n >= 16 (a multiple of 8), else n / 2.
index_t relapack_split(index_t n) { return n >= 16 ? ((n + 8) / 16) * 8 : n / 2; }

// X11 <- L11^-1 (recursively); X21 <- L21 X11 (TRMM); X21 <- -L22^-1 X21 (TRSM with
// L22, not with a computed inverse); X22 <- L22^-1 (recursively). Blocks of order
// <= base are inverted by Method 2 (xTRTI2), as ReLAPACK does below its crossover.
template <class A, class T = typename A::value_type>
void invert_recursive(A& a, const CView<T>& L, const View<T>& X, bool unit, index_t base) {
  const index_t n = L.rows;
  if (n <= base || n < 2) {
    invert_rowwise(a, L, X, unit);
    return;
  }
  const index_t n1 = relapack_split(n), n2 = n - n1;
  invert_recursive(a, L.block(0, 0, n1, n1), X.block(0, 0, n1, n1), unit, base);
  const auto X21 = X.block(n1, 0, n2, n1);
  copy_block(L.block(n1, 0, n2, n1), X21, T(1));
  trmm_right_lower(a, CView<T>(X.block(0, 0, n1, n1)), X21);
  trsm_left_lower_neg(a, L.block(n1, n1, n2, n2), unit, X21);
  invert_recursive(a, L.block(n1, n1, n2, n2), X.block(n1, n1, n2, n2), unit, base);
}

template <class A, class T = typename A::value_type>
MethodOutcome recursive(const MethodSpec& spec, A& a, CView<T> L, View<T> X, const Context& ctx) {
  // No zeroing: every operand read here is a lower triangle (X11 in the TRMM, L22 in the
  // TRSM, L in the base blocks), and the driver writes the zeros above the diagonal. At
  // n = 1024 the single-threaded pass over all of X cost 8% of the method's time next
  // to OpenBLAS's two threads (docs/benchmarks.md, session 13).
  invert_recursive(a, L, X, is_unit(ctx), spec.get_int("base", 16, 1, max_block));
  return {};
}

// ---- trinv/recursive_merge (Method 2B: multiply-only merges) -------------------------
// n1 = base * 2^k, the largest such multiple below n, so that every diagonal base block
// starts at a multiple of `base` (as in GPU/NPU kernels that invert 16 x 16 blocks and
// merge them into 32 x 32, 64 x 64, ...).
index_t merge_split(index_t n, index_t base) {
  const index_t blocks = (n + base - 1) / base;
  index_t p = 1;
  while (2 * p < blocks) p *= 2;
  return p * base;
}

// X11 <- L11^-1, X22 <- L22^-1 (recursively; base blocks by Method 1), then
//   W   <- (-L21) X11     (product)
//   X21 <- X22 W          (product)  =  -X22 L21 X11.
// Simulated arithmetic runs both products as dense GEMMs through a.gemm, so the
// accumulation model (e.g. fp16 operands with fp32 accumulation) applies as on tensor
// cores; W is written back (storage format). Native arithmetic uses triangular
// products (the zero half of X11, X22 contributes nothing).
template <class A, class T = typename A::value_type>
void invert_merge(A& a, const CView<T>& L, const View<T>& X, bool unit, index_t base, std::vector<T>& work) {
  const index_t n = L.rows;
  if (n <= base) {
    invert_forward(a, L, X, unit);
    return;
  }
  const index_t n1 = merge_split(n, base), n2 = n - n1;
  invert_merge(a, L.block(0, 0, n1, n1), X.block(0, 0, n1, n1), unit, base, work);
  invert_merge(a, L.block(n1, n1, n2, n2), X.block(n1, n1, n2, n2), unit, base, work);
  const auto X21 = X.block(n1, 0, n2, n1);
  const CView<T> X11 = X.block(0, 0, n1, n1), X22 = X.block(n1, n1, n2, n2);
  View<T> W = View<T>::row_major(work.data(), n2, n1);  // work holds >= n2 * n1 entries
  copy_block(L.block(n1, 0, n2, n1), W, T(-1));
  if constexpr (A::native) {
    trmm_right_lower(a, X11, W);
    copy_block(CView<T>(W), X21, T(1));
    trmm_left_lower(a, X22, X21);
  } else {
    copy_block(CView<T>(W), X21, T(1));  // X21 holds -L21 as the first GEMM's operand
    a.gemm(CView<T>(X21), X11, W);        // W = (-L21) X11, stored
    a.gemm(X22, CView<T>(W), X21);        // X21 = X22 W, stored
  }
}

template <class A, class T = typename A::value_type>
MethodOutcome recursive_merge(const MethodSpec& spec, A& a, CView<T> L, View<T> X, const Context& ctx) {
  zero(X);
  const index_t n = L.rows;
  std::vector<T> work(static_cast<std::size_t>((n / 2 + 1) * n));
  invert_merge(a, L, X, is_unit(ctx), spec.get_int("base", 16, 1, max_block), work);
  return {};
}

// ---- Flop counts ----------------------------------------------------------------------
// Unit lower inverse by substitution: column j solves an (n-j) system with (m-1)m/2
// multiply-adds (m = n - j): sum_m m(m-1) = (n^3 - n)/3 flops (non-unit adds n(n+1)/2
// divisions, not counted: the count is for the main path, unit L).
double substitution_flops(index_t n) {
  const double x = static_cast<double>(n);
  return (x * x * x - x) / 3.0;
}

// recursive_merge as executed on product units: dense merges (2 n2 n1^2 + 2 n2^2 n1
// flops each) over base blocks inverted by substitution.
double merge_flops(index_t n, index_t base) {
  if (n <= base) return substitution_flops(n);
  const index_t n1 = merge_split(n, base), n2 = n - n1;
  const double a = static_cast<double>(n1), b = static_cast<double>(n2);
  return merge_flops(n1, base) + merge_flops(n2, base) + 2.0 * b * a * a + 2.0 * b * b * a;
}

// ---- Registration -----------------------------------------------------------------------
void no_params(const MethodSpec& spec) { spec.check_keys({}); }
void validate_nb(const MethodSpec& spec) {
  spec.check_keys({"nb"});
  spec.get_int("nb", 32, 1, max_block);
}
void validate_base(const MethodSpec& spec) {
  spec.check_keys({"base"});
  spec.get_int("base", 16, 1, max_block);
}

#define TRISCAN_KERNELS(fn)                                    \
  &fn<arith::Native<double>>, &fn<arith::Native<float>>, &fn<arith::Simulated>

MethodImpl make(TrinvMethodInfo info, void (*validate)(const MethodSpec&), Kernel<arith::Native<double>> f64,
                Kernel<arith::Native<float>> f32, Kernel<arith::Simulated> sim) {
  info.family = "direct";
  MethodImpl m;
  m.info = std::move(info);
  m.validate = validate;
  m.run_f64 = f64;
  m.run_f32 = f32;
  m.run_sim = sim;
  return m;
}

TrinvMethodInfo info(std::string name, std::string flops_formula, std::function<double(index_t)> flops,
                     bool product_rich, std::string stability, std::vector<std::string> params) {
  TrinvMethodInfo i;
  i.name = std::move(name);
  i.flops_formula = std::move(flops_formula);
  i.flops = std::move(flops);
  i.product_rich = product_rich;
  i.stability = std::move(stability);
  i.params = std::move(params);
  return i;
}

}  // namespace

std::vector<MethodImpl> direct_methods() {
  std::vector<MethodImpl> m;
  m.push_back(make(info("trinv/forward_substitution", "(n^3 - n)/3", substitution_flops, false,
                        "right-residual stable: |L X^ - I| <= c_n u |L||X^|, |X^ - L^-1| <= c_n u |L^-1||L||X^| "
                        "(Method 1, Du Croz & Higham 1992; Higham ASNA 2nd ed. §14.2.1, Thm 8.5)",
                        {}),
                   no_params, TRISCAN_KERNELS(forward_substitution)));
  // Batches of native fp32 / fp64 matrices, the same recurrence: the batch in the SIMD lanes
  // (with the a-posteriori check), or one matrix at a time with its rows as vectors
  // (without).
  m.back().lanes_f64 = lanes::forward_kernel<double>();
  m.back().lanes_f32 = lanes::forward_kernel<float>();
  m.back().rows_f64 = rows::forward_kernel<double>();
  m.back().rows_f32 = rows::forward_kernel<float>();
  m.push_back(make(info("trinv/forward_substitution_row", "(n^3 - n)/3", substitution_flops, false,
                        "left-residual stable: |X^ L - I| <= c_n u |X^||L|, |X^ - L^-1| <= c_n u |X^||L||L^-1| "
                        "(Method 2 = LAPACK xTRTI2, Du Croz & Higham 1992; Higham ASNA 2nd ed. §14.2.1)",
                        {}),
                   no_params, TRISCAN_KERNELS(forward_substitution_row)));
  m.push_back(make(info("trinv/blocked", "(n^3 - n)/3", substitution_flops, true,
                        "left-residual stable: |X^ L - I| <= c_n u |X^||L| (Method 2C = LAPACK xTRTRI, "
                        "Du Croz & Higham 1992; Higham ASNA 2nd ed. §14.2.2)",
                        {"nb=32: block size (columns per block step)"}),
                   validate_nb, TRISCAN_KERNELS(blocked)));
  m.push_back(make(info("trinv/recursive", "(n^3 - n)/3", substitution_flops, true,
                        "X21 by a solve with L22 (as Method 1B): residual bounds of the substitution "
                        "type, no multiplication by a computed inverse (ReLAPACK xtrtri; Du Croz & "
                        "Higham 1992; Higham ASNA 2nd ed. §14.2.2)",
                        {"base=16: order at and below which blocks are inverted by Method 2"}),
                   validate_base, TRISCAN_KERNELS(recursive)));
  m.push_back(make(info("trinv/recursive_merge", "2n^3/3 + O(n^2 base) (dense merges)",
                        [](index_t n) { return merge_flops(n, 16); }, true,
                        "no residual bound: X21 = -X22 L21 X11 multiplies by computed inverses "
                        "(Method 2B, Du Croz & Higham 1992; Higham ASNA 2nd ed. §14.2.2); first-order "
                        "forward bound |X^ - X| <= (n+2) u M(L)^-1 |L| M(L)^-1, M(L) the comparison "
                        "matrix (ASNA §8.3): grows with M(L)^-1 (docs/trinv.md)",
                        {"base=16: order of the diagonal blocks inverted by forward substitution"}),
                   validate_base, TRISCAN_KERNELS(recursive_merge)));
  return m;
}

}  // namespace triscan::trinv_detail
