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
  index_t chunk = 64;              // C, tokens per chunk
  index_t householder_steps = 2;   // n_h (deltaproduct: the chunk holds C n_h steps)
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
//                           sum_c |a_ic||b_jc| exp(G_ic - G_jc) of N (what the bound uses)
//   error_bound             the first-order bound on w_error and u_error (docs/wy.md):
//                           2 (C + dk) u (κ̄² + 2 κ̄) + [per-token g] 2 C u max|G| (κ̄ + 1)
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

// The chunk/ representations run_chunk_wy_case accepts.
const std::vector<std::string>& chunk_wy_representations();

}  // namespace triscan::validation
