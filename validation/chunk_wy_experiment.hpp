// validation/chunk_wy_experiment.hpp — one chunk-WY experiment, end to end, as the CLI
// (`triscan wy --representation chunk/...`) and the tests run it: generate one chunk's
// tokens, round them to the storage format, compute N, T, W, U with chunk_wy under a
// Precision and a trinv method, and measure them against the token-by-token recurrence
// in MPFR computed from the *same rounded inputs* (DESIGN.md "Numerical contracts";
// docs/wy.md "Validation" defines every metric).
#pragma once

#include <string>

#include "triscan/format.hpp"
#include "triscan/registry.hpp"
#include "triscan/status.hpp"
#include "triscan/wy.hpp"
#include "validation/generators.hpp"

namespace triscan::validation {

struct ChunkWyCase {
  // deltanet | gated | kda | dplr | deltaproduct (the part after "chunk/").
  std::string representation = "deltanet";
  // Token generator: deltanet* for deltanet and deltaproduct, gated for gated (and gated
  // deltaproduct), kda for kda, dplr for dplr. generator.n is not used (see chunk).
  GeneratorParams generator;
  index_t chunk = 64;             // C, tokens per chunk
  index_t householder_steps = 2;  // n_h (deltaproduct: the chunk holds C n_h steps)
  MethodSpec method = MethodSpec::parse("trinv/forward_substitution");
  Precision precision = Precision::uniform(format_by_name("fp64"));
  bool cumulative_g = false;  // hand chunk_wy the pre-summed G instead of per-token g
  bool check_accuracy = true;
};

// Every error is a relative Frobenius norm, 0/0 := 0 (docs/wy.md):
//   w_error, u_error        ||W - W_ref|| / ||W_ref||, W_ref the MPFR solution of the row
//                           recurrence w_r = γ_r ⊙ a_r - sum_{i<r} N_ri w_i (same for U)
//   product_error           ||P(W) - P|| / ||P||, P = prod_t D_t (I - a_t b_t^T) by the MPFR
//                           token recurrence, P(W) = Γ_C - W^T ((γ_C/γ) ⊙ B) from the computed W
//   state_error             ||S(U) - S|| / ||S||, S the state the recurrence reaches from 0,
//                           S(U) = U^T ((γ_C/γ) ⊙ B)
//   representation_error    max(product_error, state_error)
//   formula_error           the same two with W_ref, U_ref: the chunk formulas themselves
//                           against the recurrence (~2^-bits when the formulas are right)
//   cond                    Skeel cond(I + N) = || |(I+N)^-1| |I+N| ||_inf
//   kappa_majorant          || |(I+N)^-1| ||_F || I + N̄ ||_F, N̄ the entrywise majorant
//                           sum_c |a_ic||b_jc| exp(G_ic - G_jc) of N (reported only)
//   error_bound             the first-order bound on w_error and u_error (wy_error_bound,
//                           relative: max of the W and U bounds over ||W||, ||U||)
struct ChunkWyRecord {
  std::string representation;
  std::string precision;
  GeneratorParams generator;
  index_t chunk = 0, steps = 0;  // steps: rows of the chunk matrix (C, or C n_h)
  Status status = Status::ok;
  double w_error = 0, u_error = 0, product_error = 0, state_error = 0, representation_error = 0;
  double formula_error = 0, cond = 0, kappa_majorant = 0, error_bound = 0, max_abs_G = 0;
  double unit_roundoff = 0;
  // ||W_ref|| ||E|| / ||P|| and ||U_ref|| ||E|| / ||S|| (E_ic = exp(G_Cc - G_ic) b_ic): since
  // P(W + dW) - P(W) = -dW^T E, product_error <= w_error * product_amplification, and
  // state_error <= u_error * state_amplification.
  double product_amplification = 0, state_amplification = 0;
  bool has_metrics = false;  // false when an input is non-finite
};

// Throws std::invalid_argument naming the representation, generator or option that
// does not fit. Needs MPFR (validation/mpfr/chunk_wy.cpp); not thread-safe (it sets
// Boost's process-wide default mp_float precision for its duration).
ChunkWyRecord run_chunk_wy_case(const ChunkWyCase& c);

// The family a representation (deltanet, gated, ...) runs with the named generator;
// throws std::invalid_argument naming --representation or --generator when they do not
// fit (deltanet, deltaproduct: deltanet*; gated: gated; kda: kda; dplr: dplr; gated
// deltaproduct: gated).
WyFamily chunk_wy_family(const std::string& representation, const std::string& generator);

// The first-order componentwise bound on ||dW||_F for W = (I + N)^-1 B formed as chunk_wy
// forms it (docs/wy.md "Error bound"): with X = (I + N)^-1 (|X| given), Nbar >= |N| the
// majorant of N's dot products, B the right-hand side (beta γ ⊙ K or beta V) and u the
// working unit roundoff,
//   |dW| <= |X| (e_N Nbar + m u (I + |N|)) |X| |B| + (m u + e_B) |X| |B| + u |W|
// (forming N: e_N = (dk + 3) u plus the cumulative-gate term; inverting: Higham ASNA §14.2,
// |dX| <= c_m u |X||L||X|; T = X diag(beta) and γ ⊙ K: e_B = 2u plus the gate term; the
// GEMM T B': Higham (3.13)); returns 2 ||that||_F (c = 2 covers gamma_n <= 1.01 n u and
// second-order terms). All arguments are m x m or m x w row-major absolute values.
double wy_error_bound(const Matrix<double>& absX, const Matrix<double>& absN,
                      const Matrix<double>& Nbar, const Matrix<double>& absB,
                      const Matrix<double>& absW, double u, double e_N, double e_B);

// The chunk/ representations run_chunk_wy_case accepts.
const std::vector<std::string>& chunk_wy_representations();

}  // namespace triscan::validation

// ---- The chunkwise delta-rule forward (include/triscan/delta.hpp) -------------------

namespace triscan::validation {

struct DeltaForwardCase {
  std::string family = "deltanet";  // deltanet (deltanet* generators), gated, kda
  GeneratorParams generator;        // name, seed, dk, dv, beta, gate (n unused)
  index_t length = 256;             // T (one sequence, B = 1)
  index_t heads = 1;                // H
  index_t chunk = 64;               // C: 16, 32, 64 or 128
  MethodSpec method = MethodSpec::parse("trinv/forward_substitution");
  Precision precision = Precision::uniform(format_by_name("fp64"));
  Format state_format = format_by_name("fp64");
  bool initial_state = true;  // a random initial state (N(0,1)/sqrt(dk) entries, own stream)
};

// output_error = ||O - O_ref||_F / ||O_ref||_F, state_error = ||S_T - S_ref||_F / ||S_ref||_F
// over all heads, against the token recurrence S_t = S_{t-1} D_t (I - beta_t k_t k_t^T) +
// beta_t v_t k_t^T, o_t = S_t q_t in MPFR from the same rounded inputs and initial state.
// output_bound, state_bound: the first-order bounds of docs/wy.md "Chunkwise forward:
// error bound" (per-chunk WY bound, transitions contractive in the 2-norm for beta <= 2
// with unit keys, so chunk errors add up), computed from MPFR quantities.
struct DeltaForwardRecord {
  Status status = Status::ok;
  double output_error = 0, state_error = 0, output_bound = 0, state_bound = 0;
  double max_kappa_majorant = 0;
  bool has_metrics = false;
};

// Needs MPFR (validation/mpfr/delta_forward.cpp); not thread-safe (Boost's default precision).
DeltaForwardRecord run_delta_forward_case(const DeltaForwardCase& c);

}  // namespace triscan::validation
