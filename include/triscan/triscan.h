/* triscan/triscan.h — triscan's C API: a stable, pure-C interface (C99 and C++) to the
 * library, for C programs and for other runtimes (Python's ctypes, Julia, Rust, ...).
 * Guide and examples: docs/api.md.
 *
 * Conventions (every function):
 *  - Every function returns a triscan_error code; TRISCAN_SUCCESS (0) means the call did
 *    what it says. Nothing throws across this boundary. triscan_error_message(code)
 *    names the code; triscan_last_error() gives the detail of the calling thread's last
 *    failed call (which argument, which value), e.g. "triscan_invert_batch: n must be
 *    >= 1, got 0".
 *  - Numerical trouble in a matrix is not an error: it is a status (triscan_status,
 *    the same values as triscan::Status in include/triscan/status.hpp), written per
 *    matrix into an optional status array, and the worst one over the call into
 *    *worst_status (CPU) or into a device flag (GPU). The call still returns
 *    TRISCAN_SUCCESS. What the output holds for a flagged matrix is documented in
 *    docs/trinv.md ("Statuses") and docs/gpu.md.
 *  - Sizes, strides and counts are int64_t and counted in elements, not bytes.
 *  - Methods are named in the registry syntax `name:key=value,key=value`
 *    (e.g. "trinv/forward_substitution", "trinv/newton_schulz:iters=14"); NULL selects
 *    the default: "trinv/forward_substitution" on the CPU, "trinv/recursive_merge" on
 *    the GPU (its fastest kernel; docs/gpu.md). `triscan methods` lists them.
 *  - Layouts (DESIGN.md "Data layout"):
 *      strided batch [N, n, n]: matrix b's element (i, j) at
 *          b * batch_stride + i * row_stride + j * col_stride;
 *      chunk layout [B, T, H, BT] (linear attention): element (b, t, h, j) at
 *          ((b * T + t) * H + h) * BT + j; the chunk matrix of (sequence, chunk c, head h)
 *          holds rows t = bos + c*BT .. and its column j is token bos + c*BT + j. With
 *          cu_seqlens (then B == 1) chunks restart at every sequence start and the last
 *          chunk of a sequence may be partial. Statuses are [chunk_rows, H] row-major,
 *          chunk rows numbered by sequence (or batch entry), then chunk;
 *          triscan_chunk_rows() says how many.
 *    Input contract: only the strictly lower part (plus the diagonal for non-unit
 *    matrices) is read. Output contract: each matrix is written in full (inverse below
 *    the diagonal, 1 on a unit diagonal, 0 above); in the chunk layout nothing outside
 *    a chunk matrix's rows and columns is written (padding is never touched).
 *  - Thread safety: every function may be called from several threads at once.
 *
 * This header is the whole C interface; link -ltriscan (CPU functions) and
 * -ltriscan_gpu (GPU functions; in a build without CUDA they exist and return
 * TRISCAN_ERROR_NOT_COMPILED).
 */
#ifndef TRISCAN_TRISCAN_H
#define TRISCAN_TRISCAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ------------------------------------------------------------------ */

/* The API version this header describes. The C API follows the library's semantic
 * version: within a major version no function changes its signature or meaning;
 * new functions, error codes, dtypes and statuses may be added. */
#define TRISCAN_VERSION_MAJOR 0
#define TRISCAN_VERSION_MINOR 1
#define TRISCAN_VERSION_PATCH 0

/* The library's version string ("0.1.0"); never NULL. */
const char* triscan_version(void);
/* The library's version numbers (any pointer may be NULL). Compare with the macros
 * above to detect a header/library mismatch. */
void triscan_version_numbers(int* major, int* minor, int* patch);

/* ---- Error codes -------------------------------------------------------------- */

typedef enum triscan_error {
  TRISCAN_SUCCESS = 0,
  TRISCAN_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, size <= 0, bad stride, bad layout,
                                         overlapping input and output, bad flag bits */
  TRISCAN_ERROR_INVALID_METHOD = 2,   /* unknown method, malformed spec, unknown or
                                         out-of-range parameter, or an option the method
                                         does not support (e.g. a non-unit diagonal) */
  TRISCAN_ERROR_INVALID_DTYPE = 3,    /* not a triscan_dtype, or not supported by this
                                         entry point (e.g. fp64 on the GPU) */
  TRISCAN_ERROR_UNSUPPORTED = 4,      /* valid, but not supported here (e.g. a GPU matrix
                                         size above 128, a misaligned device pointer) */
  TRISCAN_ERROR_NOT_COMPILED = 5,     /* a GPU function in a build without CUDA */
  TRISCAN_ERROR_NO_DEVICE = 6,        /* built with CUDA, but no usable CUDA device */
  TRISCAN_ERROR_DEVICE = 7,           /* a CUDA runtime error (launch, copy, allocation) */
  TRISCAN_ERROR_OUT_OF_MEMORY = 8,    /* host memory exhausted */
  TRISCAN_ERROR_INTERNAL = 9          /* anything else: a bug; please report it */
} triscan_error;

/* A static description of `code` ("invalid argument", ...); never NULL (an unknown
 * code gives "unknown error code"). */
const char* triscan_error_message(int code);
/* The detail of the calling thread's most recent failed call (which function, which
 * argument, which value); "" if no call on this thread has failed. The string stays
 * valid until the next triscan call on the same thread. A successful call does not
 * clear it. */
const char* triscan_last_error(void);

/* ---- Element types -------------------------------------------------------------- */

/* Values 0..2 are the GPU's dtype codes (triscan::gpu::DType). */
typedef enum triscan_dtype {
  TRISCAN_FP32 = 0, /* IEEE binary32 (CPU and GPU) */
  TRISCAN_BF16 = 1, /* bfloat16, stored as uint16 bits (GPU) */
  TRISCAN_FP16 = 2, /* IEEE binary16, stored as uint16 bits (GPU) */
  TRISCAN_FP64 = 3  /* IEEE binary64 (CPU) */
} triscan_dtype;

/* "fp32", "bf16", "fp16", "fp64"; NULL for a value that is not a triscan_dtype. */
const char* triscan_dtype_name(int dtype);

/* ---- Statuses (include/triscan/status.hpp), best to worst ------------------------- */

typedef enum triscan_status {
  TRISCAN_STATUS_OK = 0,
  TRISCAN_STATUS_INACCURATE = 1,      /* finite output that failed the a-posteriori check */
  TRISCAN_STATUS_NOT_CONVERGED = 2,   /* an iteration stopped before its stopping test */
  TRISCAN_STATUS_OVERFLOW = 3,        /* an intermediate or the output overflowed */
  TRISCAN_STATUS_SINGULAR = 4,        /* zero or non-finite diagonal entry */
  TRISCAN_STATUS_NONFINITE_INPUT = 5, /* NaN or Inf in the part of the input that is read */
  TRISCAN_STATUS_UNSUPPORTED = 6      /* size, layout or option the method does not support */
} triscan_status;

/* "ok", "inaccurate", "not_converged", "overflow", "singular", "nonfinite_input",
 * "unsupported"; NULL for a value that is not a triscan_status. */
const char* triscan_status_name(int status);

/* ---- Options ------------------------------------------------------------------------ */

/* Bits of the `flags` argument of the CPU inversion functions (0 = defaults). */
/* The diagonal is read (default: unit diagonal, not read). */
#define TRISCAN_NON_UNIT_DIAGONAL 1u
/* Skip the a-posteriori check ||I - L X v|| on random vectors (then `inaccurate` is
 * never reported). */
#define TRISCAN_NO_ACCURACY_CHECK 2u

/* Worker threads of the CPU batch functions: 0 (the default) = all cores. Results never
 * depend on it. Process-wide. Returns TRISCAN_ERROR_INVALID_ARGUMENT for threads < 0. */
int triscan_set_cpu_threads(int threads);

/* ---- Chunk layout helper ------------------------------------------------------------ */

/* The number of chunk rows of the [B, T, H, BT] layout: B * ceil(T / BT) without
 * cu_seqlens, the sum of ceil(len_s / BT) over sequences with it. The status arrays of
 * the chunk functions have chunk_rows * H entries. cu_seqlens (host memory) has
 * cu_seqlens_len entries [0, l1, l1 + l2, ..., T]; NULL or length 0 means none. */
int triscan_chunk_rows(int64_t B, int64_t T, int64_t BT, const int64_t* cu_seqlens,
                       int64_t cu_seqlens_len, int64_t* chunk_rows);

/* ---- CPU: triangular inversion (host pointers) ----------------------------------------
 *
 * X := L^-1 for lower triangular L, computed by `method` in `dtype` (TRISCAN_FP32 or
 * TRISCAN_FP64: the arithmetic is that format's, natively). A and X must not overlap.
 * statuses (optional, `count` entries resp. chunk_rows * H) receives each matrix's
 * triscan_status, *worst_status (optional) the worst over the call. Arguments are
 * checked before any work: on an INVALID_* error nothing is computed, X is untouched
 * and neither statuses nor *worst_status is written. */

/* Strided batch [count, n, n]: L = A's lower triangle (unit diagonal unless
 * TRISCAN_NON_UNIT_DIAGONAL). count >= 0, n >= 1; the strides of A and X are given
 * separately (row-major: row_stride = n, col_stride = 1; column-major: 1 and n) and
 * must not make two elements of a matrix alias; matrices may not overlap or interleave:
 * |batch_stride| >= one matrix's span, (n-1)(|row_stride| + |col_stride|) + 1. With
 * count == 0 the pointers and strides are not looked at. */
int triscan_invert_batch(const char* method, int dtype, int64_t count, int64_t n, const void* A,
                         int64_t a_batch_stride, int64_t a_row_stride, int64_t a_col_stride,
                         void* X, int64_t x_batch_stride, int64_t x_row_stride,
                         int64_t x_col_stride, unsigned flags, int32_t* statuses,
                         int32_t* worst_status);

/* Chunk layout [B, T, H, BT]: A holds the strictly lower N of each chunk matrix (what
 * linear-attention code calls A), X (same layout) receives (I + N)^-1. Unit diagonal
 * only (TRISCAN_NON_UNIT_DIAGONAL is an invalid argument). cu_seqlens (host, optional):
 * cu_seqlens_len entries, first 0, non-decreasing, last == T, and then B == 1. The
 * chunk matrices are per head already, so grouped (fewer) key heads need nothing
 * here. */
int triscan_invert_chunks(const char* method, int dtype, int64_t B, int64_t T, int64_t H,
                          int64_t BT, const int64_t* cu_seqlens, int64_t cu_seqlens_len,
                          const void* A, void* X, unsigned flags, int32_t* statuses,
                          int32_t* worst_status);

/* ---- CPU: linear attention — chunk WY, chunkwise delta-rule forward (host pointers) --
 *
 * The delta-rule family (include/triscan/wy.hpp, docs/wy.md): one recurrence on the
 * state S (dv x dk, o_t = S_t q_t),
 *     S_t = S_{t-1} D_t (I - a_t b_t^T) + vt_t b_t^T,
 *   deltanet  a_t = beta_t k_t, b_t = k_t, vt_t = beta_t v_t, D_t = I
 *   gated     as deltanet, D_t = exp(g_t) I        (Gated DeltaNet; g [B, T, H])
 *   kda       as deltanet, D_t = diag(exp(g_t))    (Kimi Delta Attention; g [B, T, H, dk])
 *   dplr      a_t, b_t given, vt_t = v_t, D_t = diag(exp(g_t))  (g, a, b [B, T, H, dk])
 * Layout [B, T, H, ·], C order, one token's rows contiguous (DESIGN.md "Data layout"):
 * k and q are [B, T, Hk, dk] with Hk = key_heads (0 means H; else it divides H, value
 * head h reading key head h * Hk / H; dplr's a, b are per value head, so key_heads must
 * be 0 there), v [B, T, H, dv], beta [B, T, H]. cu_seqlens as
 * for triscan_invert_chunks (host memory; then B == 1). Chunks of BT tokens restart at
 * every sequence start. The arithmetic is dtype's (TRISCAN_FP32 or TRISCAN_FP64),
 * natively. Outputs are written only on the rows [bos, eos) of each sequence; they must
 * not overlap the inputs. statuses (optional) are [chunk_rows, H] (triscan_chunk_rows),
 * *worst_status (optional) the worst: nonfinite_input (NaN/Inf in a read input; that
 * chunk's outputs are NaN), overflow, and the trinv method's inaccurate /
 * not_converged / singular. method: a trinv method (NULL: "trinv/forward_substitution")
 * inverting each I + N. Threads: triscan_set_cpu_threads; results never depend on it.
 * Arguments are checked before any work (an INVALID_* error writes nothing). */

/* Families of the delta rule (triscan::WyFamily). */
typedef enum triscan_wy_family {
  TRISCAN_WY_DELTANET = 0,
  TRISCAN_WY_GATED = 1,
  TRISCAN_WY_KDA = 2,
  TRISCAN_WY_DPLR = 3
} triscan_wy_family;

/* "deltanet", "gated", "kda", "dplr"; NULL for a value that is not a family. */
const char* triscan_wy_family_name(int family);

/* More bits of `flags` (the linear-attention functions accept these and
 * TRISCAN_NO_ACCURACY_CHECK; TRISCAN_NON_UNIT_DIAGONAL is an invalid argument there). */
/* g already holds the in-chunk inclusive cumulative sums of the log-decays (restarting
 * at every chunk and sequence start), as flash-linear-attention's chunk_local_cumsum
 * gives; default: g holds per-token log-decays and the library sums them. */
#define TRISCAN_CUMULATIVE_G 4u
/* triscan_delta_forward: initial and final states stored as S^T, [N, H, dk, dv] (the
 * flash-linear-attention layout); default S, [N, H, dv, dk]. */
#define TRISCAN_STATE_TRANSPOSED 8u

/* Chunk WY factors, per chunk of BT tokens (G the in-chunk cumulative log-decay, γ =
 * exp(G), per channel for kda/dplr; B the rows b_i):
 *     N_ij = sum_c a_ic b_jc exp(G_ic - G_jc), i > j   (strictly lower, "A" in FLA)
 *     T = (I + N)^-1 diag(beta)   (dplr: (I + N)^-1)
 *     W = T (γ ⊙ K)  (dplr: T (γ ⊙ a)),   U = T V    (ungated: γ = 1)
 * Inputs read: k, v, beta (deltanet); + g [B, T, H] (gated); + g [B, T, H, dk] (kda);
 * v, g, a, b [B, T, H, dk] (dplr: k and beta are not read and may be NULL); pointers
 * not read may be NULL. Outputs: W [B, T, H, dk] and U [B, T, H, dv] (required);
 * A (optional) receives N and Ainv (optional) (I + N)^-1, both in the chunk layout
 * [B, T, H, BT] (full chunk matrices: 0 above, and on the diagonal for N; 1 on the
 * diagonal of Ainv); Ainv is exactly triscan_invert_chunks(method) applied to N, and
 * its statuses are merged into statuses (the worse of the two per chunk). */
int triscan_chunk_wy(const char* method, int dtype, int family, int64_t B, int64_t T, int64_t H,
                     int64_t key_heads, int64_t dk, int64_t dv, int64_t BT,
                     const int64_t* cu_seqlens, int64_t cu_seqlens_len, const void* k,
                     const void* v, const void* beta, const void* g, const void* a, const void* b,
                     void* W, void* U, void* A, void* Ainv, unsigned flags, int32_t* statuses,
                     int32_t* worst_status);

/* The chunkwise delta-rule forward pass (include/triscan/delta.hpp): o_t = S_t q_t for
 * family deltanet, gated or kda (dplr: invalid argument), BT in {16, 32, 64, 128}.
 * q, k [B, T, Hk, dk]; v [B, T, H, dv]; beta [B, T, H]; g as for triscan_chunk_wy
 * (NULL for deltanet). initial_state (optional, NULL = 0): [N, H, dv, dk] (or
 * [N, H, dk, dv] with TRISCAN_STATE_TRANSPOSED), N the number of sequences (B, or
 * cu_seqlens_len - 1). Writes o [B, T, H, dv] (required) and, when final_state is not
 * NULL, the state after each sequence (same layout as initial_state). The state is
 * carried in dtype. statuses as for triscan_chunk_wy, plus overflow when the state or
 * an output overflows. */
int triscan_delta_forward(const char* method, int dtype, int family, int64_t B, int64_t T,
                          int64_t H, int64_t key_heads, int64_t dk, int64_t dv, int64_t BT,
                          const int64_t* cu_seqlens, int64_t cu_seqlens_len, const void* q,
                          const void* k, const void* v, const void* beta, const void* g,
                          const void* initial_state, void* o, void* final_state, unsigned flags,
                          int32_t* statuses, int32_t* worst_status);

/* ---- CPU: scans of linear recurrences (host pointers; include/triscan/scan.hpp) ------
 *
 *   h_t = A_t h_{t-1} + b_t, t = 1..T, h_0 = h0 (NULL: 0), for every sequence,
 * by a registered scan algorithm (`algorithm`, registry syntax; NULL: "scan/chunked"
 * (chunks of 256); "scan/sequential", "scan/hillis_steele", "scan/blelloch",
 * "scan/chunked:chunk=C"; docs/scan.md). Layout: time-major, packed over sequences:
 * token n = 0 .. tokens-1, tokens = B * T, or T with cu_seqlens (then B == 1; the
 * recurrence restarts at each sequence start; host memory). Per kind, with d = dim:
 *   TRISCAN_SCAN_SCALAR        a [tokens]        (one a_t for the d channels)
 *   TRISCAN_SCAN_DIAGONAL      a [tokens, d]
 *   TRISCAN_SCAN_LOG_DIAGONAL  a [tokens, d]     (holds log a_t; a_t = exp(a) > 0)
 *   TRISCAN_SCAN_DENSE         a [tokens, d, d]  (row-major A_t)
 * b and h are [tokens, d], h0 [sequences, d]. The arithmetic and the carried state are
 * dtype's (fp32 or fp64), natively. A single status for the call in *status
 * (optional): nonfinite_input (NaN/Inf in an input; h is NaN), overflow (a finite input
 * produced a non-finite value; h holds what was computed). h must not overlap the
 * inputs. With no tokens the data pointers are not looked at. Results never depend on
 * triscan_set_cpu_threads. */
typedef enum triscan_scan_kind {
  TRISCAN_SCAN_SCALAR = 0,
  TRISCAN_SCAN_DIAGONAL = 1,
  TRISCAN_SCAN_LOG_DIAGONAL = 2,
  TRISCAN_SCAN_DENSE = 3,
  TRISCAN_SCAN_DELTA = 4 /* only through triscan_scan_delta */
} triscan_scan_kind;

int triscan_scan(const char* algorithm, int dtype, int kind, int64_t B, int64_t T,
                 const int64_t* cu_seqlens, int64_t cu_seqlens_len, int64_t dim, const void* a,
                 const void* b, const void* h0, void* h, int32_t* status);

/* The delta-rule state scan: S_t = S_{t-1} D_t (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,
 * every state S_t (dv x dk, row-major) into S [tokens, dv, dk]. gate: 0 = none
 * (DeltaNet, g not read), 1 = scalar (g [tokens], D_t = exp(g_t) I), 2 = channel
 * (g [tokens, dk], D_t = diag(exp(g_t))). k [tokens, dk], v [tokens, dv],
 * beta [tokens], h0 [sequences, dv, dk] (optional). Otherwise as triscan_scan. */
int triscan_scan_delta(const char* algorithm, int dtype, int gate, int64_t B, int64_t T,
                       const int64_t* cu_seqlens, int64_t cu_seqlens_len, int64_t dk, int64_t dv,
                       const void* k, const void* v, const void* beta, const void* g,
                       const void* h0, void* S, int32_t* status);

/* ---- GPU: triangular inversion (device pointers; link -ltriscan_gpu) -------------------
 *
 * X := (I + N)^-1 for strictly lower N (unit diagonal), on the current CUDA device,
 * asynchronously on `stream` (a cudaStream_t passed as void*; NULL = the default
 * stream). A, X, statuses and flag are device pointers; input and output dtypes are
 * TRISCAN_FP32, TRISCAN_BF16 or TRISCAN_FP16, chosen independently (the arithmetic is
 * fp32). Methods: triscan_gpu_methods(), with the keys gpu::invert takes (NULL = the
 * default): trinv/recursive_merge's base=16 and GPU-only mma=bf16|fp16|tf32, refine=0|1,
 * check=0|1, tau=T, e.g. "trinv/recursive_merge:mma=bf16,check=0" (docs/gpu.md
 * "Matrix-unit merges"); a bad key or value: TRISCAN_ERROR_INVALID_METHOD.
 * Contracts and statuses: docs/gpu.md.
 * statuses (optional) receives per-matrix statuses as int32, *flag (optional) the worst
 * over the call (set by the call: no need to clear it). Errors are detected before
 * anything is launched; a kernel's own failure shows at the next synchronisation. */

/* 1 when the GPU functions were compiled in (libtriscan_gpu built with CUDA), else 0. */
int triscan_gpu_compiled(void);
/* TRISCAN_SUCCESS when a usable device is present; else TRISCAN_ERROR_NOT_COMPILED or
 * TRISCAN_ERROR_NO_DEVICE, with the reason in triscan_last_error(). */
int triscan_gpu_available(void);
/* The GPU methods' names, one per line ("trinv/forward_substitution\n..."); "" without
 * CUDA. Never NULL; static storage. */
const char* triscan_gpu_methods(void);

/* Chunk layout [B, T, H, BT], BT in {16, 32, 64, 128}. cu_seqlens is in HOST memory
 * (as for the CPU function); with it the chunk table is built and uploaded on every
 * call (a synchronous copy). statuses: [chunk_rows, H] int32. */
int triscan_gpu_invert_chunks(const char* method, int64_t B, int64_t T, int64_t H, int64_t BT,
                              const int64_t* cu_seqlens, int64_t cu_seqlens_len, int in_dtype,
                              const void* A, int out_dtype, void* X, int32_t* statuses,
                              int32_t* flag, void* stream);

/* Strided batch [count, n, n] with col_stride 1, 1 <= n <= 128; A and X share the
 * strides; row starts 16-byte aligned (pointers, row_stride and batch_stride times the
 * element size multiples of 16). statuses: count int32. */
int triscan_gpu_invert_batch(const char* method, int64_t count, int64_t n, int64_t batch_stride,
                             int64_t row_stride, int in_dtype, const void* A, int out_dtype,
                             void* X, int32_t* statuses, int32_t* flag, void* stream);

/* ---- GPU: scans of linear recurrences (device pointers; link -ltriscan_gpu) ------------
 *
 * h_t = a_t (.) h_{t-1} + b_t for kind TRISCAN_SCAN_SCALAR (a [tokens]) or
 * TRISCAN_SCAN_DIAGONAL (a [tokens, dim]), the layout of triscan_scan (cu_seqlens in
 * HOST memory), by the single-pass kernel `algorithm` ("scan/chunked[:chunk=C]", C in
 * {64, 128, 256, 512}; NULL: chunk 256; docs/scan.md "GPU"). in_dtype (a and b) and
 * out_dtype (h) TRISCAN_FP32, TRISCAN_BF16 or TRISCAN_FP16; the state is fp32; h0 and
 * final_state (both optional, fp32, [sequences, dim]). statuses ([sequences] int32,
 * optional) and *flag (optional): nonfinite_input, overflow (docs/scan.md). Asynchronous
 * on `stream`; the tile table is built and uploaded on every call (synchronous). */
int triscan_gpu_scan(const char* algorithm, int kind, int64_t B, int64_t T,
                     const int64_t* cu_seqlens, int64_t cu_seqlens_len, int64_t dim,
                     int in_dtype, const void* a, const void* b, const float* h0, int out_dtype,
                     void* h, float* final_state, int32_t* statuses, int32_t* flag, void* stream);

/* ---- GPU: fused chunk WY (device pointers; link -ltriscan_gpu) -----------------------
 *
 * W, U (and optionally Ainv = (I + N)^-1) of triscan_chunk_wy in ONE kernel per chunk and
 * head (docs/gpu-chunk-wy.md): N is formed on tensor cores and never written.
 * family TRISCAN_WY_DELTANET, TRISCAN_WY_GATED or TRISCAN_WY_KDA (dplr:
 * TRISCAN_ERROR_UNSUPPORTED); BT in {32, 64, 128}; dk = dv in {64, 128} (BT = 128: 128).
 * in_dtype TRISCAN_BF16 or TRISCAN_FP16 for k [B, T, Hk, dk], v [B, T, H, dv] and beta
 * [B, T, H]; g fp32 natural-log decays, [B, T, H] (gated) or [B, T, H, dk] (kda, per
 * channel); per token, or in-chunk sums with TRISCAN_CUMULATIVE_G in flags; out_dtype any GPU dtype for W, U and Ainv ([B, T, H, BT], may be NULL).
 * flags: TRISCAN_CUMULATIVE_G; TRISCAN_G_LOG2 (g in base-2 logarithms, decay 2^g, as
 * flash-linear-attention >= 0.6 passes its cumulative gates); TRISCAN_ROUNDED_PRODUCTS
 * (the inverse enters the W/U products rounded once to in_dtype, as
 * flash-linear-attention does; default: as a hi + lo pair, ~16 more bits);
 * TRISCAN_ROUNDED_REENTRY (the blocked solve that serves BT = 64, 16-bit outputs, split
 * products, deltanet or gated: each solved block row re-enters the later rows' products rounded
 * once to in_dtype; 0.93-0.95 of the time, a larger bound, docs/gpu-chunk-wy.md "Rounded
 * re-entry"; no effect on other launches). cu_seqlens in HOST memory (as triscan_gpu_invert_chunks).
 * statuses [chunk_rows, H] and flag as for triscan_gpu_invert_chunks: nonfinite_input,
 * overflow. Every pointer 16-byte aligned; outputs must not overlap inputs. */
#define TRISCAN_ROUNDED_PRODUCTS 16u
#define TRISCAN_G_LOG2 32u
#define TRISCAN_ROUNDED_REENTRY 64u
int triscan_gpu_chunk_wy(int family, int64_t B, int64_t T, int64_t H, int64_t key_heads,
                         int64_t dk, int64_t dv, int64_t BT, const int64_t* cu_seqlens,
                         int64_t cu_seqlens_len, int in_dtype, const void* k, const void* v,
                         const void* beta, const float* g, int out_dtype, void* W, void* U,
                         void* Ainv, unsigned flags, int32_t* statuses, int32_t* flag,
                         void* stream);

/* ---- GPU: chunkwise delta-rule forward (device pointers; link -ltriscan_gpu) ------------
 *
 * o_t = S_t q_t (include/triscan/gpu.hpp "Chunkwise delta-rule forward", docs/gpu-delta.md):
 * the fused chunk WY kernel, then one block per (sequence, head) carrying the fp32 state
 * across the chunks. family TRISCAN_WY_DELTANET or TRISCAN_WY_GATED (others:
 * TRISCAN_ERROR_UNSUPPORTED); BT in {32, 64}; dk = dv in {64, 128}. in_dtype TRISCAN_BF16
 * or TRISCAN_FP16 for q, k [B, T, Hk, dk], v [B, T, H, dv], beta [B, T, H]; g [B, T, H]
 * fp32 log-decays (gated; per token unless TRISCAN_CUMULATIVE_G; natural logs unless
 * TRISCAN_G_LOG2); initial_state, final_state (optional) fp32 [N, H, dv, dk] ([N, H, dk,
 * dv] with TRISCAN_STATE_TRANSPOSED); o [B, T, H, dv] in out_dtype, scaled by `scale`.
 * TRISCAN_ROUNDED_PRODUCTS: fp32 operands rounded once to in_dtype (default: hi + lo).
 * segments >= 1: the associative form across chunks (each sequence split into up to
 * `segments` runs of chunks processed in parallel; 1 = the sequential chunk loop).
 * W, U live in a stream-ordered workspace (cudaMallocAsync). statuses [chunk_rows, H] and
 * flag: nonfinite_input, overflow (a status reaches later chunks through the state).
 * cu_seqlens in HOST memory. Every device pointer 16-byte aligned; outputs must not overlap
 * inputs. */
int triscan_gpu_delta_forward(int family, int64_t B, int64_t T, int64_t H, int64_t key_heads,
                              int64_t dk, int64_t dv, int64_t BT, const int64_t* cu_seqlens,
                              int64_t cu_seqlens_len, int in_dtype, const void* q, const void* k,
                              const void* v, const void* beta, const float* g,
                              const float* initial_state, float scale, int segments, int out_dtype,
                              void* o, float* final_state, unsigned flags, int32_t* statuses,
                              int32_t* flag, void* stream);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TRISCAN_TRISCAN_H */
