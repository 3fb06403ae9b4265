// triscan/wy.hpp — the delta-rule chunk WY representation (linear attention), per
// chunk of C tokens, batched over the [B, T, H, ·] layout (DESIGN.md "Data layout";
// docs/wy.md has every formula as checked against the token recurrence).
//
// Every family is one recurrence on the state S (dv x dk, o_t = S_t q_t):
//     S_t = S_{t-1} D_t (I - a_t b_t^T) + vt_t b_t^T,
// D_t = diag(exp(g_t)) the per-token decay (I when ungated), with
//   deltanet  a_t = beta_t k_t, b_t = k_t, vt_t = beta_t v_t, D_t = I
//   gated     as deltanet, D_t = exp(g_t) I   (Gated DeltaNet, scalar log-decay per token)
//   kda       as deltanet, D_t = diag(exp(g_t)) (Kimi Delta Attention, per channel)
//   dplr      a_t, b_t given (a != b), vt_t = v_t, D_t = diag(exp(g_t))  (RWKV-7-like:
//             the transition diag(w) + â b̂^T with â = -D a, b̂ = b; the learning rate lives
//             in b, and the value enters as v_t b_t^T)
// Within a chunk (tokens 1..C, G_i = sum_{s<=i} g_s the in-chunk inclusive cumulative
// log-decay, γ_i = exp(G_i), per channel for kda/dplr):
//     N_ij = sum_c a_ic b_jc exp(G_ic - G_jc)  for i > j        (the chunk matrix "A")
//     T = (I + N)^-1 diag(beta)      (dplr: T = (I + N)^-1)
//     W = T (γ ⊙ K)  (dplr: T (γ ⊙ a)),  U = T V
// and the chunk's transition and injected state are
//     D_1 (I - a_1 b_1^T) ... D_C (I - a_C b_C^T) = Γ_C - W^T ((γ_C / γ) ⊙ B)
//     sum_i vt_i b_i^T (prod_{j>i} D_j (I - a_j b_j^T))  = U^T ((γ_C / γ) ⊙ B)
// (B the rows b_i; ungated: I - W^T K and U^T K). Note W carries the decay γ.
//
// DeltaProduct (n_h Householder steps per token) is the delta rule over the interleaved
// sequence of length T n_h: chunk_wy_deltaproduct checks that layout and calls chunk_wy.
//
// Numerics: N is formed by dot products under the Precision (exp(G_i - G_j) is one
// exponential, never exp(G_i) exp(-G_j), which overflows for gates near -5), I + N is
// inverted by any registered trinv method (trinv.hpp) under the same Precision, and
// T, W, U are products under the arithmetic model. Exponentials are evaluated in double
// and rounded once to the storage format (simulated precisions) or in the native type.
#pragma once

#include <string>

#include "triscan/format.hpp"
#include "triscan/matrix.hpp"
#include "triscan/registry.hpp"
#include "triscan/status.hpp"

namespace triscan {

enum class WyFamily { deltanet, gated, kda, dplr };

// "deltanet", "gated", "kda", "dplr"; wy_family_by_name throws std::invalid_argument
// naming the token.
std::string wy_family_name(WyFamily f);
WyFamily wy_family_by_name(const std::string& name);

// Wall-clock seconds spent in each phase, summed over all worker threads (for the
// benchmark's time shares). Filled only when WyOptions::profile is set.
struct WyProfile {
  double kkt = 0.0;        // forming N (and the decays)
  double inversion = 0.0;  // (I + N)^-1
  double wu = 0.0;         // T, W and U
};

struct WyOptions {
  MethodSpec method = MethodSpec::parse("trinv/forward_substitution");
  Precision precision = Precision::uniform(format_by_name("fp64"));
  bool check_accuracy = true;  // the trinv a-posteriori check (inaccurate status)
  // false (default): g holds per-token log-decays and the library forms the in-chunk
  // inclusive cumulative sums; true: g already holds those sums (restarting at every
  // chunk and sequence start), as flash-linear-attention's chunk_local_cumsum gives.
  bool cumulative_g = false;
  unsigned threads = 0;  // worker threads over chunks, 0 = all cores; results never depend on it
  WyProfile* profile = nullptr;
};

// Inputs in the [B, T, H, ·] layout, C order, all rows of one token contiguous:
//   k     [B, T, Hk, dk]  keys (not read for dplr); value head h uses key head h Hk / H
//   v     [B, T, H, dv]   values
//   beta  [B, T, H]       (not read for dplr)
//   g     gated [B, T, H]; kda, dplr [B, T, H, dk]; deltanet: not read
//   a, b  [B, T, H, dk]   dplr only
// key_heads = 0 means Hk = H; otherwise it must divide H.
template <class T>
struct WyInputs {
  const T* k = nullptr;
  const T* v = nullptr;
  const T* beta = nullptr;
  const T* g = nullptr;
  const T* a = nullptr;
  const T* b = nullptr;
  index_t dk = 0, dv = 0;
  index_t key_heads = 0;
};

// Outputs: w [B, T, H, dk] and u [B, T, H, dv] (required); optionally the chunk matrices
// N and T in the [B, T, H, BT] layout (strictly lower N with 0 on and above the diagonal;
// T lower triangular with 0 above). Only the rows [bos, eos) of each sequence are written.
template <class T>
struct WyOutputs {
  T* w = nullptr;
  T* u = nullptr;
  T* A = nullptr;
  T* T_factor = nullptr;
};

// Statuses, per chunk and head (statuses, if non-null, is [chunk_count(layout), H]
// row-major), the worst returned:
//   nonfinite_input  a NaN/Inf in a read input (outputs of that chunk are NaN)
//   overflow         N, (I + N)^-1, W or U overflowed the working formats
//   inaccurate, not_converged, singular  as reported by the trinv method
// Bad arguments (null pointers, dk/dv < 1, key_heads not dividing H, an invalid layout,
// an unknown method, outputs overlapping inputs) throw std::invalid_argument naming them.
// The float overload runs natively when the precision is native fp32, otherwise in
// simulated arithmetic (on double copies); the double overload natively for native fp64.
Status chunk_wy(WyFamily family, const ChunkLayout& layout, const WyInputs<double>& in,
                const WyOutputs<double>& out, const WyOptions& options = {},
                Status* statuses = nullptr);
Status chunk_wy(WyFamily family, const ChunkLayout& layout, const WyInputs<float>& in,
                const WyOutputs<float>& out, const WyOptions& options = {},
                Status* statuses = nullptr);

// DeltaProduct: `layout` is over the interleaved sequence (token t, step j at position
// t n_h + j, so layout.length and every cu_seqlens entry are multiples of n_h) and
// layout.chunk = C n_h. family is deltanet or gated; for gated, g of step j > 0 should
// be 0 (the token's decay applies once, at its first step). Throws std::invalid_argument
// when the layout does not fit n_h.
Status chunk_wy_deltaproduct(index_t householder_steps, WyFamily family, const ChunkLayout& layout,
                             const WyInputs<double>& in, const WyOutputs<double>& out,
                             const WyOptions& options = {}, Status* statuses = nullptr);
Status chunk_wy_deltaproduct(index_t householder_steps, WyFamily family, const ChunkLayout& layout,
                             const WyInputs<float>& in, const WyOutputs<float>& out,
                             const WyOptions& options = {}, Status* statuses = nullptr);

}  // namespace triscan
