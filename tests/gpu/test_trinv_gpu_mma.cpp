// GPU trinv/recursive_merge with tensor-core merges (mma=bf16|fp16|tf32), the fp32
// refinement step (refine=1) and the a-posteriori check (check=1, Status::inaccurate),
// against triscan's CPU fp64 invert_chunks (validated against MPFR by tests/trinv), on
// fresh inputs of every generator class, every BT and the three chunk layouts of
// test_trinv_gpu_accuracy.cpp.
//
// Bounds (docs/gpu.md "Matrix-unit merges"; Higham ASNA 2nd ed. §8.3 for M(L)):
//   B = M(L)^-1 |L| M(L)^-1 (merge_bound_matrix), M(L) = I - |N|.
//   Merges, operands rounded to u_op (2^-8 bf16, 2^-11 fp16 and tf32), exact products,
//   fp32 accumulation (2u per addition allowed for the tensor cores' truncation):
//       |X^ - X| <= e B + 2 e^2 B|L|B  (+ O(e^3)),
//       e = gamma_16(u) + sum_{h = 16, 32, .., BT/2} 2 [(2 u_op + u_op^2) + gamma_{h+1}(2u)(1 + u_op)^2],
//   the first-order term by the induction of docs/gpu.md with each product's gamma_h
//   replaced by its operand-rounding + accumulation error. fp16 operands below its
//   smallest normal 2^-14 round with an absolute error <= 2^-25 = u_op 2^-14, so
//   |fl(x) - x| <= u_op (|x| + 2^-14) for every x in range: the same induction with |N|
//   replaced by N' = |N| + 2^-14 (every strictly lower entry; M(L)^-1 <= M'^-1 and
//   |X11s| + 2^-14 <= (M'^-1 - I), |M| + 2^-14 <= 2 (M'^-1)_21) gives the bound with B, L
//   replaced by B' = M'^-1 |L'| M'^-1, |L'| = I + N', and u_op by 4 u_op (2 per floored
//   factor). The second-order term
//   bounding the products of two level errors (F22 |L21| F11 <= e^2 B22 |L21| B11 <=
//   e^2 (B|L|B)_21, with the rounding-times-F terms); the e^3 tail is covered by the
//   factor 1 / (1 - e) (e < 0.07 for every variant).
//   Refinement X' = X^ + X^ R^, R^ = fl(I - L X^) in fp32: exactly X' = X - E L E plus
//   roundings (E = X^ - X), so with E from the same inputs' unrefined run (same kernel
//   path, deterministic) and E^ = |X^ - X_ref| + the reference's error:
//       |X' - X| <= E^ |L| E^ + 2.01 gamma_{m+1}(u) (|X^||L||X^| + |X^| + |X^||L| E^).
//   Each output rounding adds u_o |X_o| / (1 - u_o) + half the subnormal spacing.
//   A matrix flagged `inaccurate` is exempt from the bound: its rho (recomputed here in
//   fp64 from the fp32 output) must exceed the threshold, and an unflagged one must not.
//   The check's threshold tau (docs/gpu.md "The inaccurate check"): 4 e, or with
//   refine=1, 4 (2 gamma_{BT+1}(u) + e^2).
//   Product form (trinv/product_form:mma=bf16|tf32, docs/gpu.md "Product form"): each
//   product, including the update's identity terms added in fp32 before the tensor-core
//   accumulation, is within eps |A||B| (+ eps |C| for the added terms), eps = (2 u_op +
//   u_op^2) + gamma_{BT+2}(2u)(1 + u_op)^2; by induction on absolute values (the CPU
//   analysis of docs/trinv-iterative.md) every computed power and partial product is
//   within a factor (1 + eps)^c of its exact majorant, c <= 2^K - 2 = BT - 2, so
//       |X^ - X| <= ((1 + eps)^(BT - 2) - 1) M(L)^-1       (to all orders).
//   That bound grows with M(L)^-1 (2^127 for `ones` at BT = 128) and certifies nothing
//   there, so the check is what stands between such inputs and a silently wrong result:
//   its threshold is the merges' with the same operands (4 e, e the merges' coefficient
//   above), and an unflagged result must pass the check (rho <= tau) besides the bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/gpu/test_trinv_gpu_util.hpp"
#include "triscan/format.hpp"
#include "triscan/trinv.hpp"
#include "validation/generators.hpp"

namespace triscan::gpu_test {
namespace {

enum class Op { fp32, bf16, fp16, tf32 };
const char* op_name(Op op) {
  return op == Op::bf16 ? "bf16" : op == Op::fp16 ? "fp16" : op == Op::tf32 ? "tf32" : "off";
}
double op_roundoff(Op op) {
  return op == Op::bf16 ? std::ldexp(1.0, -8) : op == Op::fp32 ? 0.0 : std::ldexp(1.0, -11);
}
MethodSpec variant(Op op, bool refine, int check = -1) {
  std::string s = "trinv/recursive_merge:mma=" + std::string(op_name(op));
  if (refine) s += ",refine=1";
  if (check >= 0) s += ",check=" + std::to_string(check);
  return MethodSpec::parse(s);
}

const double u32 = std::ldexp(1.0, -24);

// e of the header comment.
double coefficient(int bt, Op op, double floor_factor = 1.0) {
  const double uop = floor_factor * op_roundoff(op);
  double e = gamma_n(16, u32);
  for (int h = 16; h < bt; h *= 2)
    e += 2.0 * (op == Op::fp32 ? gamma_n(h, u32)
                               : (2.0 * uop + uop * uop) + gamma_n(h + 1, 2.0 * u32) * (1.0 + uop) * (1.0 + uop));
  return e;
}
// The product form's coefficient (header).
double pf_coefficient(int bt, Op op) {
  const double uop = op_roundoff(op);
  const double eps = (2.0 * uop + uop * uop) + gamma_n(bt + 2, 2.0 * u32) * (1.0 + uop) * (1.0 + uop);
  return std::pow(1.0 + eps, bt - 2) - 1.0;
}
double threshold(int bt, Op op, bool refine) {
  const double e = coefficient(bt, op);
  return refine ? 4.0 * (2.0 * gamma_n(bt + 1, u32) + e * e) : 4.0 * e;
}

// The CPU check's rho (src/trinv/driver.cpp accuracy_check) on the two fixed +-1 probe
// vectors, in fp64; n_at(i, k) = N_ik (k < i), x(i, j) = X_ij (j <= i, X_ii = 1).
// normwise (if given): max over the two vectors of ||(L X v - v)||_inf (the product
// form's own normwise test).
template <class FN, class FX>
double rho_of(index_t n, FN n_at, FX x, double* normwise = nullptr) {
  const std::uint64_t seeds[2] = {0x7472696E76636B31ull, 0x7472696E76636B32ull};
  const auto sign = [](std::uint64_t seed, index_t j) {
    std::uint64_t state = seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(j);
    return (splitmix64_next(state) & 1u) ? 1.0 : -1.0;
  };
  const auto ratio = [](double num, double den) { return num == 0.0 ? 0.0 : num / den; };
  const auto N = static_cast<std::size_t>(n);
  double rho_r = 0, rho_l = 0;
  if (normwise) *normwise = 0;
  for (std::uint64_t seed : seeds) {
    std::vector<double> v(N), t(N), xa(N), s(N, 0.0), ca(N, 0.0);
    for (index_t j = 0; j < n; ++j) v[static_cast<std::size_t>(j)] = sign(seed, j);
    for (index_t i = 0; i < n; ++i) {
      double a = 0, b = 0;
      for (index_t j = 0; j <= i; ++j) {
        a += x(i, j) * v[static_cast<std::size_t>(j)];
        b += std::fabs(x(i, j));
        s[static_cast<std::size_t>(j)] += v[static_cast<std::size_t>(i)] * x(i, j);
        ca[static_cast<std::size_t>(j)] += std::fabs(x(i, j));
      }
      t[static_cast<std::size_t>(i)] = a, xa[static_cast<std::size_t>(i)] = b;
    }
    for (index_t i = 0; i < n; ++i) {
      double r = t[static_cast<std::size_t>(i)] - v[static_cast<std::size_t>(i)], d = xa[static_cast<std::size_t>(i)];
      for (index_t k = 0; k < i; ++k) {
        r += n_at(i, k) * t[static_cast<std::size_t>(k)];
        d += std::fabs(n_at(i, k)) * xa[static_cast<std::size_t>(k)];
      }
      rho_r = std::max(rho_r, ratio(std::fabs(r), d));
      if (normwise) *normwise = std::max(*normwise, std::fabs(r));
    }
    for (index_t k = 0; k < n; ++k) {
      double w = s[static_cast<std::size_t>(k)] - v[static_cast<std::size_t>(k)], d = ca[static_cast<std::size_t>(k)];
      for (index_t i = k + 1; i < n; ++i) {
        w += s[static_cast<std::size_t>(i)] * n_at(i, k);
        d += ca[static_cast<std::size_t>(i)] * std::fabs(n_at(i, k));
      }
      rho_l = std::max(rho_l, ratio(std::fabs(w), d));
    }
  }
  return std::min(rho_r, rho_l);
}

// C = P Q for lower triangular m x m row-major P, Q (all entries >= 0 in our uses).
std::vector<double> lower_product(index_t m, const std::vector<double>& P, const std::vector<double>& Q) {
  std::vector<double> C(P.size(), 0.0);
  for (index_t i = 0; i < m; ++i)
    for (index_t k = 0; k <= i; ++k) {
      const double p = P[static_cast<std::size_t>(i * m + k)];
      if (p == 0.0) continue;
      for (index_t j = 0; j <= k; ++j) C[static_cast<std::size_t>(i * m + j)] += p * Q[static_cast<std::size_t>(k * m + j)];
    }
  return C;
}

const char* const classes[] = {"deltanet", "deltanet-beta2", "deltanet-correlated", "deltanet-equal",
                               "gated",    "kda",            "ones",                "block-ones"};

struct Case {
  ChunkLayout layout;
  index_t key_heads;
  const char* name;
};
std::vector<Case> cases_for(index_t bt) {
  std::vector<Case> v;
  v.push_back({ChunkLayout{2, 2 * bt, 2, bt, {}}, 0, "full chunks"});
  v.push_back({ChunkLayout{1, 2 * bt + bt / 2 + 1, 4, bt, {}}, 2, "partial last chunk, 2 key heads for 4"});
  ChunkLayout varlen{1, 0, 2, bt, {0, 3, 3 + bt + 5, 3 + 2 * bt + 5, 4 * bt}};
  varlen.length = varlen.cu_seqlens.back();
  v.push_back({varlen, 0, "cu_seqlens"});
  return v;
}

// Per chunk matrix: |N| (with the unit diagonal: |L|), B and B|L|B, the reference.
struct ChunkData {
  ChunkRef ref;
  std::vector<double> n, absL, b, blb, xref;  // n: N (signed, strictly lower)
  std::vector<double> minv;                    // M(L)^-1 (the product form's bound)
  std::vector<double> bf, blbf;                // B' and B'|L'|B' (fp16 operands' floor 2^-14)
  double ref_max = 0, nx_max = 0;  // max |X_ref|, max (|N||X_ref|)
};

std::vector<ChunkData> chunk_data(const ChunkLayout& layout, const std::vector<double>& seen,
                                  const std::vector<double>& X_ref) {
  std::vector<ChunkData> out;
  const index_t rs = layout.row_stride();
  for (const ChunkRef& c : enumerate_chunks(layout)) {
    ChunkData d;
    d.ref = c;
    const index_t m = c.size;
    const auto at = [&](index_t i, index_t j) { return static_cast<std::size_t>(c.offset + i * rs + j); };
    d.absL.assign(static_cast<std::size_t>(m * m), 0.0);
    d.xref.assign(d.absL.size(), 0.0);
    d.n.assign(d.absL.size(), 0.0);
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j <= i; ++j) {
        if (j < i) d.n[static_cast<std::size_t>(i * m + j)] = seen[at(i, j)];
        d.absL[static_cast<std::size_t>(i * m + j)] = i == j ? 1.0 : std::fabs(seen[at(i, j)]);
        d.xref[static_cast<std::size_t>(i * m + j)] = X_ref[at(i, j)];
        d.ref_max = std::max(d.ref_max, std::fabs(X_ref[at(i, j)]));
      }
    d.b = merge_bound_matrix(m, [&](index_t i, index_t j) { return seen[at(i, j)]; });
    d.minv = comparison_inverse(m, [&](index_t i, index_t j) { return seen[at(i, j)]; });
    d.blb = lower_product(m, lower_product(m, d.b, d.absL), d.b);
    const double fl16 = std::ldexp(1.0, -14);
    std::vector<double> absLf = d.absL;
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j < i; ++j) absLf[static_cast<std::size_t>(i * m + j)] += fl16;
    d.bf = merge_bound_matrix(m, [&](index_t i, index_t j) { return absLf[static_cast<std::size_t>(i * m + j)]; });
    d.blbf = lower_product(m, lower_product(m, d.bf, absLf), d.bf);
    std::vector<double> ax(d.xref.size());
    for (std::size_t e = 0; e < ax.size(); ++e) ax[e] = std::fabs(d.xref[e]);
    for (double v : lower_product(m, d.absL, ax)) d.nx_max = std::max(d.nx_max, v);
    out.push_back(std::move(d));
  }
  return out;
}

// The run's fp32 output of chunk d as an m x m row-major matrix.
std::vector<double> chunk_output(const ChunkLayout& layout, const ChunkData& d, const ChunkRun& run, DType out) {
  const index_t m = d.ref.size, rs = layout.row_stride();
  std::vector<double> x(static_cast<std::size_t>(m * m));
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < m; ++j)
      x[static_cast<std::size_t>(i * m + j)] = decode_at(run.out, out, static_cast<std::size_t>(d.ref.offset + i * rs + j));
  return x;
}

struct Tally {
  int runs = 0, matrices = 0, flagged = 0, overflow = 0;
  int own_flags = 0;          // product form: flagged by its own tests with rho <= tau
  double worst_normwise = 0;  // over unflagged matrices
};

// Checks one run of `method` (operands op, refine) on every chunk: statuses, the check's
// consistency with rho (fp32 output only: rho needs the unrounded X), and the bound of
// the header for unflagged matrices. `base` (refine only): the same input's unrefined
// fp32-output run, whose error enters the refinement bound. pf_e > 0: the run is the
// product form with that coefficient (bound pf_e M(L)^-1 instead of the merges').
void check_run(Op op, bool refine, double tau, const ChunkLayout& layout, const std::vector<ChunkData>& data,
               const ChunkRun& run, DType out, const ChunkRun* base, const std::string& what, Tally* tally,
               double pf_e = 0.0) {
  const int bt = static_cast<int>(layout.chunk);
  const bool floored = op == Op::fp16;  // the subnormal floor of fp16 operands (header)
  const double e = coefficient(bt, op, floored ? 4.0 : 1.0);
  const double uo = out == DType::fp32 ? 0.0 : unit_roundoff(out), tiny = out == DType::fp32 ? 0.0 : half_min_subnormal(out);
  const double u64 = std::ldexp(1.0, -53);
  ++tally->runs;
  ASSERT_EQ(run.statuses.back(), -1) << what << ": a status written past the last matrix";
  int failures = 0;
  for (std::size_t s = 0; s < data.size(); ++s) {
    const ChunkData& d = data[s];
    const index_t m = d.ref.size;
    const int status = run.statuses[s];
    const std::string where = what + " (chunk start " + std::to_string(d.ref.start) + ", size " + std::to_string(m) +
                              ", head " + std::to_string(d.ref.head) + ")";
    ++tally->matrices;
    // fp16 operands or output overflow where the inverse or an intermediate N21 X11
    // (<= |N||X| entrywise) is near fp16's largest finite value; nothing else may.
    const bool fp16_range = (op == Op::fp16 && std::max(d.ref_max, d.nx_max) >= 0.9 * 65504.0) ||
                            (out == DType::fp16 && d.ref_max >= 0.9 * 65504.0);
    if (status == static_cast<int>(Status::overflow)) {
      EXPECT_TRUE(fp16_range) << where << ": overflow with max |X| " << d.ref_max;
      ++tally->overflow;
      continue;
    }
    ASSERT_TRUE(status == static_cast<int>(Status::ok) || status == static_cast<int>(Status::inaccurate))
        << where << ": status " << status;
    const std::vector<double> xo = chunk_output(layout, d, run, out);
    if (out == DType::fp32) {
      // The kernel's check ran on exactly these fp32 values: rho decides the status
      // (a band of 1e-9 relative around tau is left to the two fp64 evaluation orders).
      // The product form also flags on its own tests: the normwise residual (>= 1,
      // recomputed here) and the growth of its intermediates (not recomputable here).
      double normwise = 0;
      const double rho = rho_of(
          m, [&](index_t i, index_t k) { return d.n[static_cast<std::size_t>(i * m + k)]; },
          [&](index_t i, index_t j) { return xo[static_cast<std::size_t>(i * m + j)]; }, &normwise);
      if (rho > tau * (1 + 1e-9)) {
        EXPECT_EQ(status, static_cast<int>(Status::inaccurate)) << where << ": rho " << rho << " > tau " << tau;
      }
      if (pf_e > 0 && normwise > 1 + 1e-9) {
        EXPECT_EQ(status, static_cast<int>(Status::inaccurate)) << where << ": normwise residual " << normwise;
      }
      if (rho < tau * (1 - 1e-9) && status == static_cast<int>(Status::inaccurate)) {
        if (pf_e > 0)
          ++tally->own_flags;
        else
          ADD_FAILURE() << where << ": flagged with rho " << rho << " <= tau " << tau;
      }
    }
    if (status == static_cast<int>(Status::inaccurate)) {
      ++tally->flagged;
      continue;
    }
    // The bound.
    std::vector<double> ehat, axb;  // refine: E^ and |X^| of the unrefined run
    std::vector<double> xl, xlx, xle, ele;
    if (refine) {
      // The unrefined run's error enters the bound; it must have been finite (an
      // overflowed unrefined result stays non-finite through the refinement).
      ASSERT_TRUE(base->statuses[s] == static_cast<int>(Status::ok) ||
                  base->statuses[s] == static_cast<int>(Status::inaccurate))
          << where << ": refined result unflagged, unrefined status " << base->statuses[s];
      const std::vector<double> xb = chunk_output(layout, d, *base, DType::fp32);
      ehat.resize(xb.size());
      axb.resize(xb.size());
      for (std::size_t k = 0; k < xb.size(); ++k) {
        ehat[k] = std::fabs(xb[k] - d.xref[k]) + 3 * gamma_n(static_cast<int>(m), u64) * d.b[k];
        axb[k] = std::fabs(xb[k]);
      }
      xl = lower_product(m, axb, d.absL);
      xlx = lower_product(m, xl, axb);
      xle = lower_product(m, xl, ehat);
      ele = lower_product(m, lower_product(m, ehat, d.absL), ehat);
    }
    double num = 0, den = 0;
    for (index_t i = 0; i < m; ++i)
      for (index_t j = 0; j <= i; ++j) {
        const std::size_t k = static_cast<std::size_t>(i * m + j);
        const double got = xo[k], want = d.xref[k];
        const double ref_err = 3 * gamma_n(static_cast<int>(m), u64) * d.b[k];
        double tol;
        if (refine)
          tol = ele[k] + 2.01 * gamma_n(static_cast<int>(m) + 1, u32) * (xlx[k] + axb[k] + xle[k]);
        else if (pf_e > 0)
          tol = pf_e * d.minv[k];
        else
          tol = floored ? (e * d.bf[k] + 2 * e * e * d.blbf[k]) / (1 - e) : (e * d.b[k] + 2 * e * e * d.blb[k]) / (1 - e);
        tol = (tol / (1 - uo) + ref_err) * 1.0001 + uo / (1 - uo) * std::fabs(got) + tiny;
        num += (got - want) * (got - want);
        den += want * want;
        if (!(std::fabs(got - want) <= tol) && failures++ < 5)
          ADD_FAILURE() << where << ": X(" << i << "," << j << ") = " << got << ", fp64 reference " << want
                        << ", |difference| " << std::fabs(got - want) << " > bound " << tol;
      }
    tally->worst_normwise = std::max(tally->worst_normwise, std::sqrt(num / den));
  }
}

struct Input {
  std::vector<double> seen, X_ref;
  std::vector<unsigned char> bytes;
  std::vector<ChunkData> data;
};
Input make_input(const std::vector<double>& A, const ChunkLayout& layout, DType in) {
  Input r;
  r.bytes = encode(A, in, &r.seen);
  r.X_ref.assign(r.seen.size(), 0.0);
  TrinvOptions cpu;  // fp64, the CPU reference
  EXPECT_EQ(invert_chunks(MethodSpec::parse("trinv/forward_substitution"), layout, r.seen.data(), r.X_ref.data(), cpu),
            Status::ok);
  r.data = chunk_data(layout, r.seen, r.X_ref);
  return r;
}

MethodSpec product_form(Op op, bool refine, const std::string& extra = "") {
  return MethodSpec::parse("trinv/product_form:mma=" + std::string(op_name(op)) + (refine ? ",refine=1" : "") + extra);
}

// One sweep over every generator class, the given BTs and the three chunk layouts of
// cases_for: for each input dtype in `ins` and operand format in `ops`, the method
// (variant or product_form) unrefined and refined, fp32 output for every input and 16-bit
// outputs (`outs`) from fp32 input (refine: fp32 in and out), each run checked by
// check_run (pf: the product form's bound); the well-conditioned classes must not be
// flagged. tally[op][refine].
void sweep(bool pf, std::vector<index_t> bts, std::vector<DType> ins, std::vector<Op> ops, std::vector<DType> outs,
           std::uint64_t seed, Tally (&tally)[4][2]) {
  const auto method = [pf](Op op, bool refine) { return pf ? product_form(op, refine) : variant(op, refine); };
  for (const char* cls : classes) {
    const std::string c(cls);
    const bool well_conditioned = c == "deltanet" || c == "gated" || c == "kda";
    for (index_t bt : bts)
      for (const Case& k : cases_for(bt)) {
        validation::GeneratorParams p;
        p.name = cls;
        p.n = bt;
        p.seed = ++seed;
        const auto problem = validation::make_chunk_problem(p, k.layout, k.key_heads);
        const std::vector<double>& A = problem.tensors.at("A").data;
        for (DType in : ins) {
          const Input input = make_input(A, k.layout, in);
          for (Op op : ops) {
            const int oi = static_cast<int>(op);
            const double pf_e = pf ? pf_coefficient(static_cast<int>(bt), op) : 0.0;
            const ChunkRun base = run_chunks(k.layout, in, input.bytes, DType::fp32, method(op, false));
            for (bool refine : {false, true}) {
              const double tau = threshold(static_cast<int>(bt), op, refine);
              for (DType out : outs) {
                if (in != DType::fp32 && out != DType::fp32) continue;
                if (refine && (out != DType::fp32 || in != DType::fp32)) continue;
                const std::string what = method(op, refine).to_string() + " " + c + " BT=" + std::to_string(bt) +
                                         " " + k.name + " in=" + std::string(gpu::dtype_name(in)) +
                                         " out=" + std::string(gpu::dtype_name(out)) + " seed=" + std::to_string(seed);
                const ChunkRun run = (!refine && out == DType::fp32)
                                         ? base
                                         : run_chunks(k.layout, in, input.bytes, out, method(op, refine));
                const int flagged_before = tally[oi][refine].flagged;
                check_run(op, refine, tau, k.layout, input.data, run, out, refine ? &base : nullptr, what,
                          &tally[oi][refine], pf_e);
                if (well_conditioned) {
                  EXPECT_EQ(tally[oi][refine].flagged, flagged_before) << what << ": a well-conditioned input flagged";
                }
                if (::testing::Test::HasFatalFailure()) return;
              }
            }
          }
        }
      }
  }
}

// Every matrix-unit variant (mma = bf16, fp16, tf32; refine = 0, 1; the default check on)
// on every generator class, BT, layout; inputs fp32/bf16/fp16 with fp32 output, and fp32
// input with bf16/fp16 output (refine: fp32 input and output). The well-conditioned classes must not be flagged.
TEST(TrinvGpuMma, VariantsMatchCpuFp64WithinTheirBoundOrAreFlagged) {
  TRISCAN_REQUIRE_GPU();
  Tally tally[4][2];
  sweep(false, {16, 32, 64, 128}, {DType::fp32, DType::bf16, DType::fp16}, {Op::bf16, Op::fp16, Op::tf32},
        {DType::fp32, DType::bf16, DType::fp16}, 20261129, tally);
  if (::testing::Test::HasFatalFailure()) return;
  for (Op op : {Op::bf16, Op::fp16, Op::tf32})
    for (bool refine : {false, true}) {
      const Tally& t = tally[static_cast<int>(op)][refine];
      std::printf("[ info ] mma=%s refine=%d: %d runs, %d matrices, %d flagged inaccurate, %d overflow, "
                  "max relative Frobenius error (unflagged) %.3g\n",
                  op_name(op), refine ? 1 : 0, t.runs, t.matrices, t.flagged, t.overflow, t.worst_normwise);
      EXPECT_GT(t.matrices, t.flagged + t.overflow) << op_name(op) << ": everything flagged";
    }
}

// fp32 deltanet inputs (order layout.chunk, this seed) in a strided batch's memory, given
// as the layout {count, n, 1, BT}.
Input strided_deltanet(const ChunkLayout& layout, std::uint64_t seed) {
  validation::GeneratorParams p;
  p.name = "deltanet";
  p.n = layout.chunk;
  p.seed = seed;
  const auto problem = validation::make_chunk_problem(p, layout, 0);
  return make_input(problem.tensors.at("A").data, layout, DType::fp32);
}

// The strided layout [N, n, n] (gpu::invert_batch; the kernel's BT is the bucket of n):
// every n in a sample of 1..128, each matrix-unit variant and the fp32 merges with
// check=1 (and refine=1), fp32 in and out, deltanet inputs; the bound and the check as
// above (for mma=off e is the fp32 merges' coefficient, the bound of docs/gpu.md).
TEST(TrinvGpuMma, StridedLayoutWithinTheBound) {
  TRISCAN_REQUIRE_GPU();
  std::uint64_t seed = 4242;
  for (index_t n : {1, 2, 15, 16, 17, 31, 33, 48, 64, 65, 97, 127, 128}) {
    const index_t bt = n <= 16 ? 16 : n <= 32 ? 32 : n <= 64 ? 64 : 128;
    const index_t count = 5;
    const ChunkLayout layout{count, n, 1, bt, {}};  // the memory of the strided batch
    const Input input = strided_deltanet(layout, ++seed);
    for (Op op : {Op::fp32, Op::bf16, Op::fp16, Op::tf32}) {
      const int check = op == Op::fp32 ? 1 : -1;  // the fp32 merges: check opted in
      const ChunkRun base =
          run_batch(count, n, bt, DType::fp32, input.bytes, DType::fp32, variant(op, false, check));
      for (bool refine : {false, true}) {
        const std::string what = variant(op, refine, check).to_string() + " strided n=" + std::to_string(n);
        const ChunkRun run =
            refine ? run_batch(count, n, bt, DType::fp32, input.bytes, DType::fp32, variant(op, true, check)) : base;
        EXPECT_EQ(run.flag, static_cast<int>(Status::ok)) << what;
        Tally t;
        check_run(op, refine, threshold(static_cast<int>(bt), op, refine), layout, input.data, run, DType::fp32,
                  refine ? &base : nullptr, what, &t);
        EXPECT_EQ(t.flagged, 0) << what;
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

// The check flags what exceeds its threshold, end to end: deltanet-equal with beta up
// to 2 at BT = 64 (error growth; the bf16 merges' relative Frobenius error is ~1e-2
// there, rho ~ 1e-4 in a host emulation) checked against the fp32 path's own threshold
// (tau = 4 e_fp32 = 2.7e-5 at BT = 64, passed as the tau key): every bf16 result is
// flagged inaccurate, the fp32 path's results with the same tau are not, nor are the
// bf16 results under the default tau (4 e_bf16 = 0.125). The rule "flagged iff rho > tau"
// is asserted matrix by matrix with rho recomputed here.
// The check tests' input: deltanet-equal with beta up to 2 (seed 77) in `layout`, whose
// chunk size is the generator's n.
std::vector<double> equal_keys_beta2(const ChunkLayout& layout) {
  validation::GeneratorParams p;
  p.name = "deltanet-equal";
  p.n = layout.chunk;
  p.seed = 77;
  p.beta_max = 2.0;
  return validation::make_chunk_problem(p, layout, 0).tensors.at("A").data;
}
// The key ",tau=<tau>" with tau printed to round-trip exactly.
std::string tau_key(double tau) {
  char text[64];
  std::snprintf(text, sizeof text, ",tau=%.17g", tau);
  return text;
}

TEST(TrinvGpuMma, CheckFlagsResultsAboveItsThreshold) {
  TRISCAN_REQUIRE_GPU();
  const index_t bt = 64;
  const ChunkLayout layout{2, 4 * bt, 2, bt, {}};
  const Input input = make_input(equal_keys_beta2(layout), layout, DType::fp32);
  const double tau32 = threshold(static_cast<int>(bt), Op::fp32, false);
  struct Run {
    const char* method;
    Op op;
    double tau;
    bool all_flagged;
  };
  const std::string strict = ",check=1" + tau_key(tau32);
  const Run runs[] = {{"trinv/recursive_merge:mma=bf16", Op::bf16, threshold(64, Op::bf16, false), false},
                      {nullptr, Op::bf16, tau32, true},
                      {nullptr, Op::fp32, tau32, false}};
  for (const Run& r : runs) {
    const MethodSpec m = r.method ? MethodSpec::parse(r.method)
                                  : MethodSpec::parse("trinv/recursive_merge:mma=" + std::string(op_name(r.op)) + strict);
    const ChunkRun run = run_chunks(layout, DType::fp32, input.bytes, DType::fp32, m);
    Tally t;
    check_run(r.op, false, r.tau, layout, input.data, run, DType::fp32, nullptr, m.to_string(), &t);
    if (r.all_flagged) {
      EXPECT_EQ(t.flagged, t.matrices) << m.to_string();
      EXPECT_EQ(run.flag, static_cast<int>(Status::inaccurate)) << m.to_string();
    } else {
      EXPECT_EQ(t.flagged, 0) << m.to_string();
      EXPECT_EQ(run.flag, static_cast<int>(Status::ok)) << m.to_string();
    }
  }
}

// The check off (check=0) never flags; a NaN input is nonfinite_input (which takes
// precedence over the check) in the matrix that holds it only.
TEST(TrinvGpuMma, StatusesAndCheckSwitch) {
  TRISCAN_REQUIRE_GPU();
  const index_t bt = 64;
  const ChunkLayout layout{1, 2 * bt, 1, bt, {}};
  std::vector<double> A = equal_keys_beta2(layout);
  const double tau32 = threshold(static_cast<int>(bt), Op::fp32, false);
  const Input input = make_input(A, layout, DType::fp32);
  const ChunkRun off =
      run_chunks(layout, DType::fp32, input.bytes, DType::fp32, MethodSpec::parse("trinv/recursive_merge:mma=bf16,check=0"));
  EXPECT_EQ(off.flag, static_cast<int>(Status::ok));
  EXPECT_EQ(off.statuses[0], static_cast<int>(Status::ok));
  EXPECT_EQ(off.statuses[1], static_cast<int>(Status::ok));
  A[static_cast<std::size_t>(layout.row_stride() * 5 + 2)] = std::nan("");  // chunk 0, N(5, 2)
  std::vector<double> seen;
  const auto bytes = encode(A, DType::fp32, &seen);
  const ChunkRun bad = run_chunks(layout, DType::fp32, bytes, DType::fp32,
                                  MethodSpec::parse("trinv/recursive_merge:mma=bf16" + tau_key(tau32)));
  EXPECT_EQ(bad.statuses[0], static_cast<int>(Status::nonfinite_input));
  EXPECT_EQ(bad.statuses[1], static_cast<int>(Status::inaccurate));  // as in CheckFlagsResultsAboveItsThreshold
  EXPECT_EQ(bad.flag, static_cast<int>(Status::nonfinite_input));
}

// trinv/product_form on tensor cores (mma = bf16, tf32; refine = 0, 1; the default check
// on) on every generator class, BT = 32, 64, 128 and the three chunk layouts; fp32 and
// bf16 inputs with fp32 output, fp32 input with bf16 output (refine: fp32 in and out).
// Each unflagged matrix within the product form's bound (header) or, refined, the
// refinement's; flagged if rho > tau or by its own tests (normwise residual >= 1,
// recomputed here; growth); the well-conditioned classes not flagged.
TEST(TrinvGpuMma, ProductFormMatchesCpuFp64WithinItsBoundOrIsFlagged) {
  TRISCAN_REQUIRE_GPU();
  Tally tally[4][2];
  sweep(true, {32, 64, 128}, {DType::fp32, DType::bf16}, {Op::bf16, Op::tf32}, {DType::fp32, DType::bf16}, 20261130,
        tally);
  if (::testing::Test::HasFatalFailure()) return;
  for (Op op : {Op::bf16, Op::tf32})
    for (bool refine : {false, true}) {
      const Tally& t = tally[static_cast<int>(op)][refine];
      std::printf("[ info ] product_form mma=%s refine=%d: %d runs, %d matrices, %d flagged inaccurate (%d of them "
                  "with rho <= tau, by its own tests), %d overflow, max relative Frobenius error (unflagged) %.3g\n",
                  op_name(op), refine ? 1 : 0, t.runs, t.matrices, t.flagged, t.own_flags, t.overflow,
                  t.worst_normwise);
      EXPECT_EQ(t.overflow, 0) << op_name(op) << ": bf16 and tf32 operands have fp32's range";
      // The own tests' purpose (docs/trinv-iterative.md): no result without a correct digit
      // comes back ok.
      EXPECT_LT(t.worst_normwise, 1.0) << op_name(op) << " refine=" << refine;
      EXPECT_GT(t.matrices, t.flagged) << op_name(op) << ": everything flagged";
    }
}

// The product form on the strided layout (gpu::invert_batch) for n in 17..128, and the
// check end to end: deltanet-equal with beta up to 2 at BT = 64 checked against the fp32
// merges' threshold (tau key) is flagged `inaccurate` matrix by matrix (rho > tau,
// recomputed here), as the bf16 merges are in CheckFlagsResultsAboveItsThreshold.
TEST(TrinvGpuMma, ProductFormStridedLayoutAndCheck) {
  TRISCAN_REQUIRE_GPU();
  std::uint64_t seed = 5151;
  for (index_t n : {17, 31, 33, 64, 65, 127, 128}) {
    const index_t bt = n <= 32 ? 32 : n <= 64 ? 64 : 128;
    const index_t count = 5;
    const ChunkLayout layout{count, n, 1, bt, {}};
    const Input input = strided_deltanet(layout, ++seed);
    for (Op op : {Op::bf16, Op::tf32}) {
      const ChunkRun run = run_batch(count, n, bt, DType::fp32, input.bytes, DType::fp32, product_form(op, false));
      const std::string what = product_form(op, false).to_string() + " strided n=" + std::to_string(n);
      EXPECT_EQ(run.flag, static_cast<int>(Status::ok)) << what;
      Tally t;
      check_run(op, false, threshold(static_cast<int>(bt), op, false), layout, input.data, run, DType::fp32,
                nullptr, what, &t, pf_coefficient(static_cast<int>(bt), op));
      EXPECT_EQ(t.flagged, 0) << what;
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  const index_t bt = 64;
  const ChunkLayout layout{2, 4 * bt, 2, bt, {}};
  const Input input = make_input(equal_keys_beta2(layout), layout, DType::fp32);
  const double tau32 = threshold(static_cast<int>(bt), Op::fp32, false);
  const MethodSpec m = product_form(Op::bf16, false, tau_key(tau32));
  const ChunkRun run = run_chunks(layout, DType::fp32, input.bytes, DType::fp32, m);
  Tally t;
  check_run(Op::bf16, false, tau32, layout, input.data, run, DType::fp32, nullptr, m.to_string(), &t,
            pf_coefficient(static_cast<int>(bt), Op::bf16));
  EXPECT_EQ(t.flagged, t.matrices) << m.to_string();
  EXPECT_EQ(run.flag, static_cast<int>(Status::inaccurate)) << m.to_string();
}

// The GPU-only keys are validated before anything is launched.
TEST(TrinvGpuMma, BadKeysThrow) {
  TRISCAN_REQUIRE_GPU();
  const ChunkLayout layout{1, 64, 1, 64, {}};
  gpu::ChunkPlan plan(layout);
  gpu::DeviceBytes dA(64 * 64 * 4), dX(64 * 64 * 4);
  for (const char* spec : {"trinv/recursive_merge:mma=int8", "trinv/recursive_merge:refine=2",
                           "trinv/recursive_merge:check=2", "trinv/recursive_merge:mma=bf16,tau=-1",
                           "trinv/recursive_merge:mma=bf16,tau=0", "trinv/recursive_merge:tau=0.1",
                           "trinv/recursive_merge:mma=bf16,check=0,tau=0.1", "trinv/recursive_merge:mma=bf16,x=1",
                           "trinv/forward_substitution:mma=bf16", "trinv/product_form", "trinv/product_form:mma=fp16",
                           "trinv/product_form:mma=off", "trinv/product_form:mma=bf16,base=16",
                           "trinv/product_form:mma=bf16,check=0,tau=0.1", "trinv/product_form:mma=tf32,refine=2"})
    EXPECT_THROW(gpu::invert_chunks(MethodSpec::parse(spec), plan, DType::fp32, dA.data(), DType::fp32, dX.data()),
                 std::invalid_argument)
        << spec;
  // The product form's tiles need a warp per matrix: BT = 16 (n <= 16 strided) throws.
  const ChunkLayout small{1, 16, 1, 16, {}};
  gpu::ChunkPlan plan16(small);
  EXPECT_THROW(gpu::invert_chunks(MethodSpec::parse("trinv/product_form:mma=bf16"), plan16, DType::fp32, dA.data(),
                                  DType::fp32, dX.data()),
               std::invalid_argument);
  EXPECT_THROW(gpu::invert_batch(MethodSpec::parse("trinv/product_form:mma=tf32"), 1, 16, 256, 16, DType::fp32,
                                 dA.data(), DType::fp32, dX.data()),
               std::invalid_argument);
}

}  // namespace
}  // namespace triscan::gpu_test
