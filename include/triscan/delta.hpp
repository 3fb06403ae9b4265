// triscan/delta.hpp — the chunkwise delta-rule forward pass (linear attention), CPU:
// o_t = S_t q_t for the recurrence of include/triscan/wy.hpp,
//     S_t = S_{t-1} D_t (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,
// D_t = I (deltanet), exp(g_t) I (gated), diag(exp(g_t)) (kda), computed chunk by chunk
// (docs/wy.md "Chunkwise forward"): per chunk of C tokens with state S at its start,
//     W, U                   the chunk WY factors (chunk_wy)
//     U' = U - W S^T
//     O  = (γ ⊙ Q) S^T + (Q K^T ⊙ Γ ⊙ M) U'      (kda: sum_c q_ic k_jc exp(G_ic - G_jc))
//     S <- S Γ_C + U'^T ((γ_C / γ) ⊙ K)
// M the causal mask including the diagonal, G the in-chunk cumulative log-decay.
#pragma once

#include "triscan/format.hpp"
#include "triscan/matrix.hpp"
#include "triscan/registry.hpp"
#include "triscan/status.hpp"
#include "triscan/wy.hpp"

namespace triscan {

// Seconds per phase summed over worker threads (benchmark shares).
struct DeltaProfile {
  double wy = 0.0;         // forming N, T, W, U
  double inversion = 0.0;  // (I + N)^-1
  double state = 0.0;      // U', the outputs and the chunk-state recurrence
};

struct DeltaForwardOptions {
  MethodSpec method = MethodSpec::parse("trinv/forward_substitution");
  // Operands, accumulation, intermediates (W, U, ...) and outputs o.
  Precision precision = Precision::uniform(format_by_name("fp64"));
  // The format the carried state S is kept in (production kernels: fp32 under bf16
  // inputs); used when it differs from precision.storage. Native fp32/fp64 runs need it
  // equal to the native format.
  Format state_format = format_by_name("fp64");
  bool check_accuracy = true;     // the trinv a-posteriori check
  bool cumulative_g = false;      // as WyOptions::cumulative_g
  bool state_transposed = false;  // initial/final states stored as S^T [dk, dv] (fla layout)
  unsigned threads = 0;           // workers over (sequence, head) pairs; 0 = all cores
  DeltaProfile* profile = nullptr;
};

// Inputs in the [B, T, H, ·] layout (C order):
//   q, k  [B, T, Hk, dk]; v [B, T, H, dv]; beta [B, T, H];
//   g     gated [B, T, H], kda [B, T, H, dk] (per-token log-decays, or pre-summed, see options)
//   initial_state  optional, [N, H, dv, dk] (or [N, H, dk, dv] when state_transposed),
//                  N the number of sequences (B, or cu_seqlens.size() - 1)
template <class T>
struct DeltaInputs {
  const T* q = nullptr;
  const T* k = nullptr;
  const T* v = nullptr;
  const T* beta = nullptr;
  const T* g = nullptr;
  const T* initial_state = nullptr;
  index_t dk = 0, dv = 0;
  index_t key_heads = 0;  // 0: Hk = H
};

// family: deltanet, gated or kda (dplr: std::invalid_argument). layout.chunk must be 16,
// 32, 64 or 128. Writes o [B, T, H, dv] (rows [bos, eos) of each sequence) and, when
// final_state is non-null, the state after each sequence ([N, H, dv, dk] or transposed).
// statuses (optional): [chunk_count(layout), H], as chunk_wy's, plus overflow when the
// state or an output overflows. Bad arguments throw std::invalid_argument naming them.
Status delta_forward(WyFamily family, const ChunkLayout& layout, const DeltaInputs<double>& in,
                     double* o, double* final_state, const DeltaForwardOptions& options = {},
                     Status* statuses = nullptr);
// Native when options.precision is native fp32 and state_format is fp32; otherwise
// simulated on double copies.
Status delta_forward(WyFamily family, const ChunkLayout& layout, const DeltaInputs<float>& in,
                     float* o, float* final_state, const DeltaForwardOptions& options = {},
                     Status* statuses = nullptr);

// The number of sequences N of a layout (B, or cu_seqlens.size() - 1).
index_t sequence_count(const ChunkLayout& layout);

}  // namespace triscan
