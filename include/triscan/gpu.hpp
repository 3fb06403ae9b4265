// triscan/gpu.hpp — the GPU side of triscan. Always present: in a build without
// CUDA every function reports "not compiled" (compiled() == false), so the
// interface never changes shape. Takes plain device pointers and a stream handle
// (a cudaStream_t passed as void*).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <string>
#include <vector>

#include "triscan/format.hpp"
#include "triscan/matrix.hpp"
#include "triscan/registry.hpp"
#include "triscan/scan.hpp"
#include "triscan/status.hpp"
#include "triscan/wy.hpp"

namespace triscan::gpu {

// True when gpu/ was built with CUDA.
bool compiled();

struct DeviceInfo {
  bool usable = false;    // a device answered and can run triscan's kernels
  int count = 0;          // devices visible
  std::string name;       // device 0
  int major = 0, minor = 0;
  double memory_gib = 0.0;
  std::string reason;     // why not usable: "not compiled", the CUDA runtime's error text, ...
};

// Queries device 0. Any CUDA runtime error (no device, no driver, "insufficient
// driver") yields usable == false with the error text in `reason`; never throws.
DeviceInfo device_info();

// Rounds each fp32 value x[i] to `format` with the GPU's own conversion instructions
// and returns the results as doubles: the hardware oracle that the simulated formats
// (triscan::round) are tested against. Supported: fp16 and bf16 in rn, rz, ru, rd
// (__float2half_r*, __float2bfloat16_r*); tf32 in rna (cvt.rna.tf32.f32); e4m3 and
// e5m2 in rn (__nv_cvt_float_to_fp8, non-saturating), e4m3-sat in rn (saturating).
// Throws std::invalid_argument for another (format, mode) and std::runtime_error when
// no usable device is present or gpu/ was not compiled.
std::vector<double> hardware_round(const std::vector<float>& x, const std::string& format,
                                   Rounding mode);

// ---- Batched unit-lower triangular inversion (docs/gpu.md) ------------------------
//
// X = (I + N)^-1 for many small strictly lower N (n <= 128), on the current device,
// asynchronously on `stream` (a cudaStream_t; nullptr = the default stream). A, X,
// statuses and flag are device pointers. A and X must not overlap.
//
// Input contract: only the strictly lower part of each N (rows and columns < m) is
// read for its value; the diagonal and upper part may hold anything (they may be
// fetched in the same 16-byte vector as lower entries, never used). Output contract:
// rows i < m, columns j < m of X are written in full: the inverse below the diagonal,
// exact 1 on it, +0 above it; nothing else is written.
//
// Statuses (triscan::Status as int32): per matrix in `statuses` (optional) and the
// worst over the call in `*flag` (optional; set by the call, no need to clear it).
//   nonfinite_input  a NaN or Inf in the strictly lower part;
//   overflow         finite input whose inverse overflowed fp32, or has an entry
//                    beyond the output format's largest finite value (fp16: 65504;
//                    such entries are written as +-inf).
//   inaccurate       (trinv/recursive_merge with the check on: by default with the
//                    GPU-only key mma=bf16|fp16|tf32, or check=1) finite output whose
//                    a-posteriori residual rho (the CPU check's, on two fixed +-1 probe
//                    vectors) exceeds the threshold tau (docs/gpu.md "The inaccurate check");
//                    trinv/product_form (always): also when its own tests fire — the
//                    growth of its intermediates or a normwise residual >= 1.
// trinv/recursive_merge's GPU-only keys (mma, refine, check, tau): trinv_gpu_methods()
// and docs/gpu.md "Matrix-unit merges"; trinv/product_form (tensor cores, mma=bf16|tf32,
// BT >= 32): docs/gpu.md "Product form".
// A flagged matrix's X is still written in full with what the substitution computed.
// Invalid arguments (unknown method, unsupported size, misaligned pointers) throw
// std::invalid_argument before anything is launched; CUDA errors throw
// std::runtime_error, and a failed call leaves no error behind for the next call (unless the
// error is sticky, a kernel fault: then every later call fails).

// An owning device allocation (cudaMalloc on the current device) for callers built
// without CUDA headers (tests, drivers). Copies are synchronous; errors throw
// std::runtime_error.
class DeviceBytes {
 public:
  explicit DeviceBytes(std::size_t bytes);
  ~DeviceBytes();
  DeviceBytes(const DeviceBytes&) = delete;
  DeviceBytes& operator=(const DeviceBytes&) = delete;
  void* data() const { return ptr_; }
  std::size_t size() const { return size_; }
  void upload(const void* host, std::size_t bytes);          // host -> device, from offset 0
  void download(void* host, std::size_t bytes) const;        // device -> host, from offset 0
  void fill32(std::uint32_t pattern);                        // every 4-byte word := pattern

 private:
  void* ptr_ = nullptr;
  std::size_t size_ = 0;
};

// Waits for the device; throws std::runtime_error if a kernel failed.
void synchronize();

enum class DType : int { fp32 = 0, bf16 = 1, fp16 = 2 };
std::string_view dtype_name(DType t);
DType dtype_by_name(std::string_view name);  // "fp32", "bf16", "fp16"; throws std::invalid_argument

// GPU methods, under the CPU registry's names. Each entry: "name: what it computes".
std::vector<std::string> trinv_gpu_methods();

// The device-side description of a ChunkLayout (the chunk table for cu_seqlens),
// built once and reused across calls (uploading it is a synchronous copy).
class ChunkPlan {
 public:
  explicit ChunkPlan(const ChunkLayout& layout);  // validates; throws std::invalid_argument
  ~ChunkPlan();
  ChunkPlan(const ChunkPlan&) = delete;
  ChunkPlan& operator=(const ChunkPlan&) = delete;
  const ChunkLayout& layout() const { return layout_; }
  index_t chunk_rows() const { return chunk_rows_; }  // statuses has chunk_rows() x heads entries
  const std::int64_t* device_table() const { return table_; }  // nullptr without cu_seqlens

 private:
  ChunkLayout layout_;
  index_t chunk_rows_ = 0;
  std::int64_t* table_ = nullptr;  // per chunk row: (batch * T + start) << 8 | size
};

// The [B, T, H, BT] layout, BT in {16, 32, 64, 128}. statuses: [chunk_rows, H]
// row-major, chunk rows numbered as enumerate_chunks() visits them (batch, then chunk).
void invert_chunks(const MethodSpec& method, const ChunkPlan& plan, DType in_type, const void* A,
                   DType out_type, void* X, std::int32_t* statuses = nullptr,
                   std::int32_t* flag = nullptr, void* stream = nullptr);

// Strided batch: matrix b (b < count) has element (i, j) at b * batch_stride + i *
// row_stride + j, 1 <= n <= 128. A and X share the strides. Row starts must be
// 16-byte aligned (row_stride * element size and batch_stride * element size
// multiples of 16, pointers 16-byte aligned). statuses: `count` entries.
void invert_batch(const MethodSpec& method, index_t count, index_t n, index_t batch_stride,
                  index_t row_stride, DType in_type, const void* A, DType out_type, void* X,
                  std::int32_t* statuses = nullptr, std::int32_t* flag = nullptr,
                  void* stream = nullptr);

// ---- Fused chunk WY (gpu/chunk_wy.cu; docs/gpu-chunk-wy.md) ---------------
//
// One kernel per (chunk, head) that reads k, v, beta (and the gates), forms the chunk
// matrix N (never written to global memory), inverts I + N in shared memory and writes
//     W = (I + N)^-1 diag(beta) (gamma ⊙ K),   U = (I + N)^-1 diag(beta) V
// (and, optionally, the inverse X = (I + N)^-1 itself, as flash-linear-attention's
// chunk_gated_delta_rule_fwd_intra returns it), with exactly the formulas of
// include/triscan/wy.hpp for the families deltanet (gamma = 1), gated (a scalar
// log-decay per token and head; N_ij = beta_i <k_i, k_j> exp(G_i - G_j), gamma_i =
// exp(G_i), G the in-chunk inclusive cumulative sum) and kda (per-channel log-decays;
// N_ij = beta_i sum_c k_ic k_jc exp(G_ic - G_jc), W = X diag(beta) (exp(G) ⊙ K)). dplr
// has no GPU kernel.
//
// Arithmetic: K K^T and the two products with the inverse on tensor cores (mma.sync
// m16n8k16, exact 16-bit products, fp32 accumulation); N, the inverse (trinv/
// recursive_merge, base 16, in fp32; its base blocks in fp64 for fp32 outputs, in fp32
// for 16-bit outputs) and the column scalings in
// fp32; with WyGpuOptions::split_products (default) the scaled inverse enters the
// W and U products as a sum of two 16-bit numbers (hi + lo, |x - hi - lo| <= 2^-16 |x|
// for bf16), otherwise rounded once to the input type (flash-linear-attention's choice).
// kda: the off-diagonal 16 x 16 blocks of N on tensor cores with the decays split at the
// row block's first token r (k_i exp(G_i - G_r) times k_j exp(G_r - G_j), both factors
// <= 1 for non-positive gates, formed in fp32 and split or rounded like the inverse),
// the diagonal blocks elementwise in fp32 with one expf per term; exp(G) ⊙ K formed in
// fp32 and split or rounded for the W product. At chunk 64 with 16-bit outputs, split products
// and scalar or no gates, W and U (and the inverse, if asked for) come from a blocked
// triangular solve instead (same N, its 16 x 16 diagonal blocks inverted by substitution and
// folded into the operands, every product of split or exact 16-bit operands, no full inverse
// formed first; at FLA's shape on the H200 630-700 us for W and U, 0.93-0.95 of that with
// rounded_reentry, the inverting kernel 900-1080 us, sessions 32-35; docs/benchmarks.md).
// Error bounds: docs/gpu-chunk-wy.md.
struct WyGpuInputs {
  DType dtype = DType::bf16;    // k, v and beta: bf16 or fp16
  const void* k = nullptr;      // [B, T, Hk, dk]
  const void* v = nullptr;      // [B, T, H, dv]
  const void* beta = nullptr;   // [B, T, H]
  const float* g = nullptr;     // fp32 natural-log decays: gated [B, T, H], kda [B, T, H, dk]
                                // (ignored for deltanet)
  index_t dk = 128, dv = 128;   // dk == dv in {64, 128}
  index_t key_heads = 0;        // Hk (0 = H); value head h reads key head h * Hk / H
};
struct WyGpuOutputs {
  DType dtype = DType::bf16;    // w, u and inverse: bf16, fp16 or fp32
  void* w = nullptr;            // [B, T, H, dk]
  void* u = nullptr;            // [B, T, H, dv]
  void* inverse = nullptr;      // optional: [B, T, H, BT], (I + N)^-1 (1 on the diagonal, 0 above)
};
struct WyGpuOptions {
  // The inversion: trinv/recursive_merge (base = 16) is the only method accepted. Its 16 x 16
  // base blocks are always used as such; the merges are, except at chunk 64 with 16-bit outputs
  // and split products, where the blocked solve (above) replaces them by block substitution.
  MethodSpec method = MethodSpec::parse("trinv/recursive_merge");
  bool cumulative_g = false;    // as WyOptions::cumulative_g (g already holds in-chunk sums)
  bool log2_g = false;          // g in base-2 logarithms (decay 2^g), as flash-linear-attention
                                // >= 0.6 passes its cumulative gates; scaled by ln 2 in fp64
  bool split_products = true;   // see above
  // The blocked solve only (chunk 64, 16-bit outputs, split products, scalar or no gates; no
  // effect on other launches): each solved block row of W and U (and of the inverse) re-enters
  // the later block rows' products rounded once to the input type instead of as hi + lo, two
  // products per term instead of three: 0.93-0.95 of the time at flash-linear-attention's shape on
  // the H200; a larger error bound, u_in |N||W| per term (docs/gpu-chunk-wy.md "Rounded re-entry").
  bool rounded_reentry = false;
};
// The [B, T, H, ·] layout of `plan` (BT in {32, 64, 128}), asynchronously on `stream`.
// Pointers are device pointers, 16-byte aligned; outputs must not overlap inputs.
// Only rows [bos, eos) of each sequence are written. Statuses per chunk and head
// ([chunk_rows, H], as invert_chunks) and the worst in *flag:
//   nonfinite_input  a NaN or Inf in a read k, v, beta or g of the chunk (g = -inf too);
//   overflow         finite inputs, but N, the inverse, W or U left the fp32 range or an
//                    output entry beyond the output type's largest finite value.
// A flagged chunk's outputs hold what was computed. Bad arguments throw
// std::invalid_argument naming them before anything is launched.
void chunk_wy(WyFamily family, const ChunkPlan& plan, const WyGpuInputs& in, const WyGpuOutputs& out,
              const WyGpuOptions& options = {}, std::int32_t* statuses = nullptr, std::int32_t* flag = nullptr,
              void* stream = nullptr);

// ---- Chunkwise delta-rule forward (gpu/delta.cu; docs/gpu-delta.md) ------------
//
// o_t = S_t q_t for the delta-rule recurrence of include/triscan/delta.hpp,
//     S_t = S_{t-1} D_t (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,  D_t = I (deltanet) or
//     exp(g_t) I (gated),
// computed chunk by chunk on the GPU in two kernels: the fused chunk WY kernel above,
// which here writes X~ = (I + N)^-1 diag(beta) per chunk (as hi + lo 16-bit parts) to a
// stream-ordered workspace (or to inverse_beta) instead of W and U, then dv / 64 thread
// blocks per (sequence, head) that carry 64 rows each of the state S (dv x dk, fp32, in
// registers) across the sequence's chunks and for each chunk form
//     U' = X~ (V - diag(gamma) K S^T)  (= U - W S^T, with W = X~ diag(gamma) K, U = X~ V),
//     O = scale ((gamma ⊙ Q) S^T + (Q K^T ⊙ Gamma ⊙ M) U'),
//     S <- gamma_C S + (diag(gamma_C / gamma) U')^T K
// (M the causal mask with its diagonal, Gamma_ij = exp(G_i - G_j), G the in-chunk
// cumulative log-decay) on tensor cores: fp32 operands (S, Y, X~, U', the masked Q K^T)
// enter the mma as hi + lo 16-bit pairs when split_products is set (default), the 16-bit
// inputs exactly; fp32 accumulation. Error bound: docs/gpu-delta.md.
struct DeltaGpuInputs {
  DType dtype = DType::bf16;        // q, k, v, beta: bf16 or fp16
  const void* q = nullptr;          // [B, T, Hk, dk]
  const void* k = nullptr;          // [B, T, Hk, dk]
  const void* v = nullptr;          // [B, T, H, dv]
  const void* beta = nullptr;       // [B, T, H]
  const float* g = nullptr;         // gated: [B, T, H] fp32 log-decays (as WyGpuInputs)
  const float* initial_state = nullptr;  // optional fp32 [N, H, dv, dk] ([N, H, dk, dv] transposed)
  index_t dk = 128, dv = 128;       // dk == dv in {64, 128}
  index_t key_heads = 0;            // Hk (0 = H)
};
struct DeltaGpuOutputs {
  DType dtype = DType::bf16;        // o: bf16, fp16 or fp32
  void* o = nullptr;                // [B, T, H, dv]
  float* final_state = nullptr;     // optional fp32 [N, H, dv, dk] ([N, H, dk, dv] transposed)
  void* w = nullptr;                // optional [B, T, H, dk] in the input dtype: W and U as
  void* u = nullptr;                // gpu::chunk_wy writes them (give both or neither); the
                                    // forward itself does not use them
  // Optional [chunk_rows, H, 2, BT, BT] in the input dtype: per chunk and head the hi tile,
  // then the lo tile, of X~ = (I + N)^-1 diag(beta) (row i, column j; zero above the
  // diagonal; rows past a partial chunk's end zero): exactly the operand the chunk-state
  // kernel multiplies by (hi alone without split_products). Null: a workspace.
  void* inverse_beta = nullptr;
};
struct DeltaGpuOptions {
  bool cumulative_g = false;        // as WyGpuOptions
  bool log2_g = false;              // as WyGpuOptions
  bool split_products = true;       // hi + lo operands for fp32 values in both kernels
  bool state_transposed = false;    // states stored as S^T (flash-linear-attention's [N, H, dk, dv])
  float scale = 1.0f;               // o scaled by `scale` (flash-linear-attention: dk^-1/2)
  // The associative form across chunks: each sequence's chunks are split into up to
  // `segments` runs of whole chunks, processed in parallel (docs/gpu-delta.md "Segments"):
  // per segment its state from 0 and its transition (both without o), a combine
  // S_start(j + 1) = S_start(j) P_j + B_j, then every segment with o from its start state.
  // About 2x the state arithmetic for `segments` x the blocks: for few (sequence, head)
  // pairs. 1 = the plain sequential chunk loop.
  int segments = 1;
};
// The [B, T, H, .] layout of `plan` (BT in {32, 64}; cu_seqlens and partial last chunks
// allowed), asynchronously on `stream`. Pointers are device pointers, 16-byte aligned;
// outputs must not overlap inputs. Statuses per chunk and head ([chunk_rows, H]) and the
// worst in *flag, as chunk_wy's (its statuses for k, beta, g and X~), plus:
//   nonfinite_input  an output or the state is not finite and one of the chunk's q (for
//                    an output) or v rows is;
//   overflow         an output or the state left the fp32 range (or o the output type's);
//   a chunk after a flagged chunk of the same sequence and head carries that status (its
//   state came from the flagged chunk); a non-finite initial state flags the sequence's
//   chunks nonfinite_input.
// Bad arguments throw std::invalid_argument naming them before anything is launched.
void delta_forward(WyFamily family, const ChunkPlan& plan, const DeltaGpuInputs& in,
                   const DeltaGpuOutputs& out, const DeltaGpuOptions& options = {},
                   std::int32_t* statuses = nullptr, std::int32_t* flag = nullptr,
                   void* stream = nullptr);

// ---- Linear-recurrence scans: scalar and diagonal kinds (docs/scan.md "GPU") -----
//
// h_t = a_t (.) h_{t-1} + b_t over every sequence of a [B, T, D] (or cu_seqlens-packed
// [N, D]) batch, the kinds and layout of triscan/scan.hpp: ScanKind::scalar has a [N]
// (one decay per token for its D channels), ScanKind::diagonal has a [N, D]; b and h
// are [N, D]; h0 and final_state (both optional, fp32) are [sequences, D]. The
// recurrence restarts at each sequence start from h0 (0 when h0 is null). Inputs a, b
// in fp32/bf16/fp16 (one dtype for both), states carried in fp32, h written as
// fp32/bf16/fp16. Asynchronous on `stream`; every pointer is a device pointer.
//
// Statuses (triscan::Status as int32), per sequence in `statuses` ([sequences],
// optional) and the worst over the call in `*flag` (optional; both set by the call):
//   nonfinite_input  a NaN or Inf in a, b (the tokens and channels read) or h0; the
//                    non-finite values propagate through the recurrence as fp32
//                    arithmetic makes them (h is still written in full);
//   overflow         finite inputs whose fp32 state overflowed, or a state beyond the
//                    output format's largest finite value (written as +-inf).
// Invalid arguments (unknown method or parameter, kind other than scalar/diagonal,
// null or misaligned pointers, bad layout) throw std::invalid_argument before
// anything is launched; CUDA errors throw std::runtime_error.

struct ScanLayout {
  index_t batch = 1;   // B (1 when cu_seqlens is set)
  index_t length = 0;  // T per sequence, or the packed total N with cu_seqlens
  index_t dim = 1;     // D channels
  std::vector<std::int64_t> cu_seqlens;  // empty, or [0, l1, l1+l2, ..., length]

  void validate() const;  // throws std::invalid_argument naming the field
  index_t tokens() const { return cu_seqlens.empty() ? batch * length : length; }
  index_t sequences() const {
    return cu_seqlens.empty() ? batch : static_cast<index_t>(cu_seqlens.size()) - 1;
  }
};

// GPU scan methods, under the CPU registry's names. Each entry: "name: what it computes".
std::vector<std::string> scan_gpu_methods();

// A method bound to a layout: the tile table (tiles of `chunk` tokens per sequence,
// uploaded once, synchronously) and the look-back workspace of the single-pass scan.
// One call at a time per plan (calls on one stream are fine; concurrent calls on
// different streams need a plan each).
class ScanPlan {
 public:
  // method: scan/chunked[:chunk=C], C in {64, 128, 256, 512} (default 256). Validates.
  ScanPlan(const MethodSpec& method, const ScanLayout& layout);
  ~ScanPlan();
  ScanPlan(const ScanPlan&) = delete;
  ScanPlan& operator=(const ScanPlan&) = delete;
  const ScanLayout& layout() const { return layout_; }
  index_t chunk() const { return chunk_; }          // tokens per tile
  index_t tile_rows() const { return tile_rows_; }  // tiles over all sequences

  struct Device;  // device-side tables (gpu/scan.cu)
  const Device* device() const { return device_.get(); }

 private:
  ScanLayout layout_;
  index_t chunk_ = 256, tile_rows_ = 0;
  std::unique_ptr<Device> device_;
};

void scan_diagonal(const ScanPlan& plan, ScanKind kind, DType in_type, const void* a, const void* b,
                   const float* h0, DType out_type, void* h, float* final_state = nullptr,
                   std::int32_t* statuses = nullptr, std::int32_t* flag = nullptr, void* stream = nullptr);

namespace detail {
// Testing hook, not for users: sets the look-back epoch of a plan's last call. Each call
// uses the next epoch; after scan_max_epoch the call clears the plan's look-back
// descriptors and starts again at 1 (tests/gpu/test_scan_gpu.cpp crosses that wrap).
inline constexpr unsigned scan_max_epoch = (1u << 30) - 1;
void set_scan_epoch_for_testing(const ScanPlan& plan, unsigned epoch);
}  // namespace detail

// ---- Vendor baselines (gpu/baselines.cu), for benchmarks -------------------------

// X := (I + N)^-1 for `count` row-major fp32 n x n matrices (contiguous, stride n*n)
// by cuBLAS cublasStrsmBatched solving L X = I (X is first set to I on `stream`).
// Reads only the strictly lower part (unit diagonal).
void cublas_trsm_batched_inverse(index_t count, index_t n, const float* A, float* X,
                                 void* stream = nullptr);
// One large n x n column-major fp32 matrix inverted in place by cusolverDnXtrtri
// (lower, unit diagonal). Returns cuSOLVER's info (0 = success).
int cusolver_trtri_inplace(index_t n, float* A, index_t lda, void* stream = nullptr);

}  // namespace triscan::gpu
