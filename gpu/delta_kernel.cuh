// gpu/delta_kernel.cuh — the chunk-state kernel of the GPU chunkwise delta-rule forward
// (include/triscan/gpu.hpp "Chunkwise delta-rule forward"; design and bound in
// docs/gpu-delta.md).
//
// D / 64 thread blocks per (sequence, head), 4 warps each; the block with index y owns the
// state rows dv0 = 64 y .. dv0 + 63, warp w rows dv0 + 16 w .. + 15 of the state S (dv x dk,
// fp32 accumulators in registers) for the whole sequence. Two blocks fit on an SM (~230
// registers per thread, 64 KB (BT = 32) to 106 KB (BT = 64) of shared memory), so one
// block's barriers and loads hide behind the other's arithmetic. The next chunk's inputs are
// loaded by cp.async into a second buffer one chunk ahead (at BT = 64, where two sets of
// buffers would leave one block per SM, only K; Q, X̃, V, G, gamma once the chunk is done
// with them, after its second and last barrier); at BT = 32 by the warp that forms no block
// of A. Per chunk of BT tokens:
//   3. A = Q K^T ⊙ exp(G_i - G_j) ⊙ M (lower 16 x 16 blocks spread over the warps; M the
//      causal mask with its diagonal), split into hi + lo 16-bit parts in shared memory;
//   1. Y = V^T - (S K^T) diag(gamma)  (warp: 16 x BT; S is the A operand straight from its
//                            accumulators, as hi + lo; K^T through ldmatrix), then
//      U'^T = Y X̃^T        (X̃ = (I + N)^-1 diag(beta) from the chunk WY kernel as hi + lo
//                            16-bit tiles; Y from registers as hi + lo: hi*hi + lo*hi +
//                            hi*lo). This is U^T - S W^T without W = X̃ diag(gamma) K and
//                            U = X̃ V ever being formed or rounded to 16 bits;
//   2. O^T  = (S Q^T) diag(gamma)
//   4. O^T += U'^T A^T      (U'^T from registers as hi + lo, A^T from shared memory:
//                            hi*hi + lo*hi + hi*lo)
//      o := scale O, written for the chunk's m rows;
//   5. S := gamma_C S + (U'^T diag(gamma_C / gamma)) K   (as hi + lo, K through
//                            ldmatrix.trans).
// Everything is computed transposed (S on the left) so that each product's A operand is
// already in the registers of the warp that needs it: no state ever goes through shared
// or global memory between chunks.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstdint>
#include <stdexcept>

#include "gpu/chunk_wy_kernel.cuh"
#include "gpu/cuda_check.hpp"
#include "gpu/trinv.cuh"
#include "triscan/status.hpp"

namespace triscan::gpu::detail {

struct DeltaArgs {
  const void* q;
  const void* k;
  // nullptr: ungated; else the in-chunk cumulative log-decays G of each chunk in fp64,
  // [chunk rows, H, BT], as the fused WY kernel formed them, rows >= m of a partial chunk
  // holding G_{m-1} (ChunkWyArgs::g_out).
  const double* G;
  // X diag(beta) of each chunk as hi + lo 16-bit tiles [chunk rows, H, 2, BT, BT] and, gated,
  // gamma_i = exp(G_i) [chunk rows, H, BT] (ChunkWyArgs::xs_out, gamma_out); v replaces u
  // (nullptr: V = 0, the transition pass).
  const void* xs;
  const float* gamma;
  const void* v;
  bool split;
  bool transposed;  // states as S^T
  int heads;        // H
  int key_heads;    // Hk
  float scale;
  const float* h0;  // optional [N, H, D, D]
  float* hT;        // optional [N, H, D, D]
  void* o;
  bool identity_h0;               // start from S = I (h0 ignored): the segment transitions
  const int* start_status;        // optional [N, H]: the status carried into each sequence
                                  // (replaces the check of h0)
  const std::int64_t* bos;        // [N + 1]: first token row of each sequence, then the total
  const std::int64_t* first_row;  // [N + 1]: chunk row of each sequence's first chunk
  const int* wy_statuses;         // [chunk_rows, H]: chunk_wy's statuses (the segment pass
                                  // from 0 also adds its own to them, as `statuses`)
  int* statuses;                  // optional [chunk_rows, H], zeroed before the launch
  int* flag;
};

template <int BT, int D>
void launch_delta_state(DType in, DType out, long long sequences, const DeltaArgs& args,
                        cudaStream_t stream);

// The segment combine of the associative form (gpu/delta.cu): for each (sequence, head),
// S = h0 (or 0), then for each of its segments j: starts[j] = S, start_status[j] = the status
// carried into it, S = S P_j + B_j; final_state = S. P, B, starts: [segments, H, D, D].
void launch_combine_segments(int sequences, int heads, int D, const std::int64_t* seg_begin,
                             const std::int64_t* seg_first_row, const float* h0, bool transposed,
                             const float* P, const float* B, float* starts, float* final_state,
                             const int* wy_statuses, int* start_status, cudaStream_t stream);

namespace {
namespace delta {

using fused::cp_async_16;
using fused::cp_async_commit;
using fused::cp_async_wait;
using fused::block_abt;
using fused::kld;
using fused::ldmatrix_x4;
using fused::ldmatrix_x4_trans;
using fused::load_tile;
using fused::lower_block;
using fused::mma;
using fused::pack2;
using fused::unpack2;
using tc::a_from_acc;
using fused::smem_addr;

// The state's dv rows are split over D / DV blocks per (sequence, head); DV / 16 warps each.
constexpr int DV = 64;

// 16-bit outputs (with o) go through a tile in shared memory for 16-byte row stores.
template <bool WITH_O, class Tout>
constexpr bool stages_o = WITH_O && sizeof(Tout) == 2;

template <int BT, int D, bool STAGE_O = false>
struct Layout {
  static constexpr int warps = DV / 16;
  static constexpr int threads = 32 * warps;
  static constexpr int ald = BT + 8;  // A's rows (16-bit), padded as kld
  static constexpr std::size_t tile = 2 * BT * kld<D>();
  static constexpr std::size_t utile = 2 * BT * kld<DV>();
  static constexpr std::size_t xtile = 2 * 2 * BT * ald;
  // A chunk's inputs but K ("set"): Q | X diag(beta) hi | lo | V (DV columns) | G (fp64) |
  // gamma (float).
  static constexpr std::size_t set_q = 0, set_x = tile, set_v = set_x + xtile;
  static constexpr std::size_t set_g = set_v + utile, set_gt = set_g + sizeof(double) * BT;
  static constexpr std::size_t set_bytes = set_gt + sizeof(float) * BT;
  // K (two buffers) | sets | A hi | A lo | gamma_i | gamma_C / gamma_i | o (BT x kld<DV>(),
  // 16-bit o only).
  static constexpr std::size_t k_off = 0, set_off = 2 * tile;
  static constexpr std::size_t rest = 2 * 2 * BT * ald + 2 * sizeof(float) * BT +
                                      (STAGE_O ? 2 * BT * kld<DV>() : 0);
  // Two buffers of the sets too (the next chunk's inputs loaded one chunk ahead, with its
  // K) where two blocks still fit on an SM (227 KB of shared memory, 1 KB reserved per
  // block); otherwise one, refilled once the current chunk is done with it.
  static constexpr bool ahead = set_off + 2 * set_bytes + rest + 1024 <= 227 * 1024 / 2;
  static constexpr int sets = ahead ? 2 : 1;
  static constexpr std::size_t a_off = set_off + sets * set_bytes;  // A hi | A lo
  static constexpr std::size_t gam_off = a_off + 2 * 2 * BT * ald;    // gamma_i (float)
  static constexpr std::size_t rho_off = gam_off + sizeof(float) * BT;  // gamma_C / gamma_i
  static constexpr std::size_t o_off = rho_off + sizeof(float) * BT;
  static constexpr std::size_t bytes = a_off + rest;
  static_assert(set_bytes % 16 == 0 && o_off % 16 == 0, "16-byte accesses");
};

// WITH_O = false: the block only carries the state (the segment passes of the associative
// form, args.o == nullptr): steps 2-4 are compiled out. GATED: args.G != nullptr; SPLIT:
// args.split (compile-time branches, so that no gate or mode test splits the chunk's code
// into blocks the compiler cannot schedule across, and the rounded mode computes no lo
// parts and loads no lo tile).
template <int BT, int D, class T16, class Tout, bool WITH_O, bool GATED, bool SPLIT>
__global__ void __launch_bounds__(2 * DV, 2) delta_state_kernel(DeltaArgs args) {
  // 16-bit o: rounded into a shared tile, then written in 16-byte stores of whole rows.
  constexpr bool stage_o = stages_o<WITH_O, Tout>;
  using L = Layout<BT, D, stage_o>;
  constexpr int NT = L::threads, NW = L::warps, NB = BT / 16, ALD = L::ald;
  constexpr int TILES = D / 8;  // n8 tiles of a state row strip (dk columns)
  constexpr int CT = BT / 8;    // n8 tiles of a chunk strip (token columns)
  extern __shared__ __align__(16) unsigned char smem[];
  T16* Ahi = reinterpret_cast<T16*>(smem + L::a_off);
  T16* Alo = Ahi + BT * ALD;
  float* gam = reinterpret_cast<float*>(smem + L::gam_off);
  float* rho = reinterpret_cast<float*>(smem + L::rho_off);

  const int t = threadIdx.x, warp = t / 32, lane = t % 32, g = lane / 4, tq = lane % 4;
  const int H = args.heads;
  const long long n = blockIdx.x / H;
  const int h = static_cast<int>(blockIdx.x % H);
  const int dv0 = static_cast<int>(blockIdx.y) * DV;  // the block's first state row
  const long long hk = static_cast<long long>(h) * args.key_heads / H;
  const long long bos = args.bos[n], eos = args.bos[n + 1];
  const long long chunks = (eos - bos + BT - 1) / BT;
  const long long qk_stride = static_cast<long long>(args.key_heads) * D, qk_off = hk * D;
  const long long v_stride = static_cast<long long>(H) * D, v_off = static_cast<long long>(h) * D;
  constexpr bool gated = GATED;
  const long long first_row = args.first_row[n];  // chunk row of the sequence's first chunk
  // Without v, V = 0 (the transition pass of the associative form).
  constexpr bool with_o = WITH_O;
  const bool with_u = args.v != nullptr;
  const std::size_t state0 = (static_cast<std::size_t>(n) * H + h) * D * D;

  // The set of chunk c's inputs but K (Layout).
  auto set_of = [&](long long c) {
    return smem + L::set_off + (L::ahead ? (c & 1) * L::set_bytes : 0);
  };
  auto kbuf = [&](long long c) {
    return reinterpret_cast<T16*>(smem + L::k_off + (c & 1) * L::tile);
  };
  auto rows_of = [&](long long c) {
    const long long row0 = bos + c * BT;
    return static_cast<int>(eos - row0 < BT ? eos - row0 : BT);
  };
  // The tile loads: where some warp has no block of A (BT = 32: three blocks, four warps),
  // the last warp issues them all, its share of the chunk's work; else every thread.
  constexpr bool one_loader = NB * (NB + 1) / 2 < NW;
  constexpr int LT = one_loader ? 32 : NT;  // loading threads
  const bool loader = !one_loader || warp == NW - 1;
  const int lt = one_loader ? lane : t;
  auto load_k = [&](long long c) {
    load_tile<BT, D, LT>(static_cast<const T16*>(args.k), bos + c * BT, rows_of(c), qk_stride,
                         qk_off, kbuf(c), lt);
  };
  auto load_chunk = [&](long long c) {
    const long long row0 = bos + c * BT;
    const int m = rows_of(c);
    unsigned char* const set = set_of(c);
    T16* Qs = reinterpret_cast<T16*>(set + L::set_q);
    T16* Xhi = reinterpret_cast<T16*>(set + L::set_x);
    T16* Vs = reinterpret_cast<T16*>(set + L::set_v);
    double* G = reinterpret_cast<double*>(set + L::set_g);
    float* gt = reinterpret_cast<float*>(set + L::set_gt);
    if (with_o)
      load_tile<BT, D, LT>(static_cast<const T16*>(args.q), row0, m, qk_stride, qk_off, Qs, lt);
    const long long qr = (first_row + c) * H + h;
    {  // X diag(beta), hi and lo (hi only when rounded): BT rows of BT 16-bit values each,
       // BT / 8 copies per row
      constexpr int per_row = BT / 8, parts = SPLIT ? 2 : 1;
      const T16* src = static_cast<const T16*>(args.xs) + qr * 2 * BT * BT;
      for (int e = lt; e < parts * BT * per_row; e += LT) {
        const int row = e / per_row, col = 8 * (e % per_row);
        cp_async_16(Xhi + row * ALD + col, src + row * BT + col, 16);
      }
    }
    if (with_u)
      load_tile<BT, DV, LT>(static_cast<const T16*>(args.v), row0, m, v_stride, v_off + dv0, Vs,
                            lt);
    if (gated && lt < BT / 2) cp_async_16(G + 2 * lt, args.G + qr * BT + 2 * lt, 16);
    if (gated && lt >= LT - BT / 4) {
      const int e = 4 * (lt - (LT - BT / 4));
      cp_async_16(gt + e, args.gamma + qr * BT + e, 16);
    }
  };

  // The state: warp rows r = 16 warp + g (+8), columns 8 j + 2 tq (+1).
  float S[TILES][4];
  bool bad_input = false;
#pragma unroll
  for (int j = 0; j < TILES; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int r = dv0 + 16 * warp + g + 8 * (e >> 1), col = 8 * j + 2 * tq + (e & 1);
      float x = 0.0f;
      if (args.identity_h0)
        x = r == col ? 1.0f : 0.0f;
      else if (args.h0)
        x = args.h0[state0 + (args.transposed ? col * D + r : r * D + col)];
      bad_input |= !isfinite(x);
      S[j][e] = x;
    }
  int carry = __syncthreads_or(bad_input) ? static_cast<int>(Status::nonfinite_input) : 0;
  if (args.start_status) carry = args.start_status[n * H + h];

  if (chunks > 0 && loader) {
    load_chunk(0);
    load_k(0);
  }
  cp_async_commit();
#pragma unroll 1
  for (long long c = 0; c < chunks; ++c) {
    // The chunk's tiles landed (loaded one chunk ahead; with one set, the set after the
    // previous chunk's second barrier). The chunk's only other barrier is the one after A:
    // past this one, every warp is done with the previous chunk, so the other buffers are
    // free.
    cp_async_wait<0>();
    __syncthreads();
    if (c + 1 < chunks && loader) {
      load_k(c + 1);
      if (L::ahead) load_chunk(c + 1);
    }
    cp_async_commit();
    const long long row0 = bos + c * BT;
    const int m = static_cast<int>(eos - row0 < BT ? eos - row0 : BT);
    const long long qrow = (first_row + c) * H + h;
    const int wy = args.wy_statuses[qrow];  // chunk_wy's status of the chunk (used at the end)
    const T16* Ks = kbuf(c);
    const unsigned char* const set = set_of(c);
    const T16* Qs = reinterpret_cast<const T16*>(set + L::set_q);
    const T16* Xhi = reinterpret_cast<const T16*>(set + L::set_x);
    const T16* Xlo = Xhi + BT * ALD;
    const T16* Vs = reinterpret_cast<const T16*>(set + L::set_v);
    const double* G = reinterpret_cast<const double*>(set + L::set_g);
    const float* gt = reinterpret_cast<const float*>(set + L::set_gt);

    // gamma_i = exp(G_i) and gamma_C / gamma_i = exp(G_{m-1} - G_i) (1 for rows >= m, where
    // G_i = G_{m-1}); read after the barrier that follows A. By the last BT threads: the
    // blocks of A go to the first warps, so the last ones have the least of it (none at
    // BT = 32).
    if (gated && t >= NT - BT) {
      const int i = t - (NT - BT);
      gam[i] = expf(static_cast<float>(G[i]));
      rho[i] = expf(static_cast<float>(G[m - 1] - G[i]));
    }

    // 3. A = Q K^T ⊙ exp(G_i - G_j) on and below the diagonal, into Ahi/Alo.
    if (with_o) {
      constexpr int blocks = NB * (NB + 1) / 2;
#pragma unroll 1
      for (int blk = warp; blk < blocks; blk += NW) {
        int bi, bj;
        lower_block(blk, bi, bj);
        float acc[2][4];
        block_abt<D>(Qs, Ks, bi, bj, lane, acc);
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
          const int i = 16 * bi + g + 8 * hr;
#pragma unroll
          for (int nn = 0; nn < 2; ++nn) {
            const int j = 16 * bj + 8 * nn + 2 * tq;
            float x0 = j <= i ? acc[nn][2 * hr] : 0.0f, x1 = j + 1 <= i ? acc[nn][2 * hr + 1] : 0.0f;
            if (gated) {
              // exp(G_i - G_j); above the diagonal (x = 0 there) the exponent is 0, so the
              // factor is computed without a branch and never 0 * inf.
              x0 *= expf(static_cast<float>(G[i] - G[j <= i ? j : i]));
              x1 *= expf(static_cast<float>(G[i] - G[j + 1 <= i ? j + 1 : i]));
            }
            float r0, r1;
            *reinterpret_cast<unsigned*>(Ahi + i * ALD + j) = pack2<T16>(x0, x1, r0, r1);
            if (SPLIT) *reinterpret_cast<unsigned*>(Alo + i * ALD + j) = pack2<T16>(r0, r1);
          }
        }
      }
    }

    // 1, 2. P = S W^T and O = S Q^T for the warp's 16 state rows and the chunk's BT tokens.
    float P[CT][4], O[CT][4];
#pragma unroll
    for (int j = 0; j < CT; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) P[j][e] = O[j][e] = 0.0f;
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
      unsigned ahi[4], alo[4];
      a_from_acc<T16>(S[2 * ks], S[2 * ks + 1], ahi, alo);
#pragma unroll
      for (int np = 0; np < NB; ++np) {
        const int off = (16 * np + (lane % 8) + (lane / 16) * 8) * kld<D>() + 16 * ks +
                        ((lane / 8) % 2) * 8;
        unsigned bw[4], bq[4];
        ldmatrix_x4(bw, Ks + off);
        mma<T16>(P[2 * np], ahi, bw[0], bw[1]);
        mma<T16>(P[2 * np + 1], ahi, bw[2], bw[3]);
        if (SPLIT) {
          mma<T16>(P[2 * np], alo, bw[0], bw[1]);
          mma<T16>(P[2 * np + 1], alo, bw[2], bw[3]);
        }
        if (with_o) {
          ldmatrix_x4(bq, Qs + off);
          mma<T16>(O[2 * np], ahi, bq[0], bq[1]);
          mma<T16>(O[2 * np + 1], ahi, bq[2], bq[3]);
          if (SPLIT) {
            mma<T16>(O[2 * np], alo, bq[0], bq[1]);
            mma<T16>(O[2 * np + 1], alo, bq[2], bq[3]);
          }
        }
      }
    }
    // Y = V^T - (S K^T) diag(gamma) (P's storage), then U'^T = Y (X diag(beta))^T: k over
    // tokens j (blocks kb), n over tokens i (blocks np >= kb), X's hi and lo tiles as B.
    {
      unsigned yhi[NB][4], ylo[NB][4];
#pragma unroll
      for (int jp = 0; jp < CT; jp += 2) {
        // V^T for tiles jp, jp + 1 in the accumulator layout: ldmatrix.trans of the 8 x 8
        // blocks (tokens 8 j.., channels 16 warp (+8)..), register 2 (j - jp) + (e >> 1)
        // holding entries e, e + 1 (tokens 2 tq, 2 tq + 1 of channel row g (+8)).
        unsigned vt[4] = {0u, 0u, 0u, 0u};
        if (with_u)
          ldmatrix_x4_trans(vt, Vs + (8 * jp + 8 * (lane / 16) + lane % 8) * kld<DV>() +
                                    16 * warp + 8 * ((lane / 8) % 2));
#pragma unroll
        for (int jj = 0; jj < 2; ++jj)
#pragma unroll
          for (int hr = 0; hr < 2; ++hr) {
            const int j = jp + jj, col = 8 * j + 2 * tq;
            // Gated: V - P gamma with one rounding (an FMA), ungated V - P.
            const float2 vv = unpack2<T16>(vt[2 * jj + hr]);
            float& p0 = P[j][2 * hr];
            float& p1 = P[j][2 * hr + 1];
            p0 = gated ? fmaf(-p0, gt[col], vv.x) : vv.x - p0;
            p1 = gated ? fmaf(-p1, gt[col + 1], vv.y) : vv.y - p1;
          }
      }
#pragma unroll
      for (int kb = 0; kb < NB; ++kb) a_from_acc<T16>(P[2 * kb], P[2 * kb + 1], yhi[kb], ylo[kb]);
#pragma unroll
      for (int j = 0; j < CT; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) P[j][e] = 0.0f;
#pragma unroll
      for (int kb = 0; kb < NB; ++kb)
#pragma unroll
        for (int np = kb; np < NB; ++np) {
          const int off =
              (16 * np + (lane % 8) + (lane / 16) * 8) * ALD + 16 * kb + ((lane / 8) % 2) * 8;
          unsigned bh[4];
          ldmatrix_x4(bh, Xhi + off);
          mma<T16>(P[2 * np], yhi[kb], bh[0], bh[1]);
          mma<T16>(P[2 * np + 1], yhi[kb], bh[2], bh[3]);
          if (SPLIT) {
            unsigned bl[4];
            ldmatrix_x4(bl, Xlo + off);
            mma<T16>(P[2 * np], ylo[kb], bh[0], bh[1]);
            mma<T16>(P[2 * np + 1], ylo[kb], bh[2], bh[3]);
            mma<T16>(P[2 * np], yhi[kb], bl[0], bl[1]);
            mma<T16>(P[2 * np + 1], yhi[kb], bl[2], bl[3]);
          }
        }
    }
    __syncthreads();  // A, gamma, rho complete; Q, X, V, G are no longer read in this chunk
    if (!L::ahead) {
      if (c + 1 < chunks && loader) load_chunk(c + 1);
      cp_async_commit();
    }
    // O columns (tokens) scaled by gamma.
    if (gated && with_o)
#pragma unroll
      for (int j = 0; j < CT; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) O[j][e] *= gam[8 * j + 2 * tq + (e & 1)];

    // 4. O += U'^T A^T: k over tokens j (blocks kb), n over tokens i (blocks np >= kb).
    if (with_o) {
#pragma unroll
      for (int kb = 0; kb < NB; ++kb) {
        unsigned ahi[4], alo[4];
        a_from_acc<T16>(P[2 * kb], P[2 * kb + 1], ahi, alo);
#pragma unroll
        for (int np = 0; np < NB; ++np) {
          if (np < kb) continue;
          const int off =
              (16 * np + (lane % 8) + (lane / 16) * 8) * ALD + 16 * kb + ((lane / 8) % 2) * 8;
          unsigned bh[4];
          ldmatrix_x4(bh, Ahi + off);
          mma<T16>(O[2 * np], ahi, bh[0], bh[1]);
          mma<T16>(O[2 * np + 1], ahi, bh[2], bh[3]);
          if (SPLIT) {
            unsigned bl[4];
            ldmatrix_x4(bl, Alo + off);
            mma<T16>(O[2 * np], alo, bh[0], bh[1]);
            mma<T16>(O[2 * np + 1], alo, bh[2], bh[3]);
            mma<T16>(O[2 * np], ahi, bl[0], bl[1]);
            mma<T16>(O[2 * np + 1], ahi, bl[2], bl[3]);
          }
        }
      }
    }
    // o rows [row0, row0 + m): column r of the warp's O^T strip is channel r.
    bool bad = false;
    Tout* o = static_cast<Tout*>(args.o);
    if constexpr (stage_o) {
      // Rounded in pairs of tokens (i, i + 1) into the tile (row i, column r), then the
      // warp's own 16 columns of rows < m written in two 16-byte stores per row (a whole
      // 32-byte sector): no other warp's data is read, so no block barrier is needed. A
      // pair's probe sees rows >= m as 0. The tile is next written in the next chunk,
      // after its barriers.
      auto* Os = reinterpret_cast<unsigned short*>(smem + L::o_off);  // the 16-bit patterns
      merge::NonfiniteProbe<Tout> probe;
#pragma unroll
      for (int j = 0; j < CT; ++j)
#pragma unroll
        for (int hr = 0; hr < 2; ++hr) {
          const int r = 16 * warp + g + 8 * hr, i = 8 * j + 2 * tq;
          const unsigned y = pack2<Tout>(i < m ? args.scale * O[j][2 * hr] : 0.0f,
                                         i + 1 < m ? args.scale * O[j][2 * hr + 1] : 0.0f);
          Os[i * kld<DV>() + r] = static_cast<unsigned short>(y & 0xffffu);
          Os[(i + 1) * kld<DV>() + r] = static_cast<unsigned short>(y >> 16);
          probe.add_word(y);
        }
      bad = probe.found();
      __syncwarp();
#pragma unroll
      for (int it = 0; it < BT / 16; ++it) {
        const int i = 16 * it + lane / 2, c0 = 16 * warp + 8 * (lane % 2);
        if (i < m)
          __stcs(reinterpret_cast<uint4*>(o + ((row0 + i) * H + h) * D + dv0 + c0),
                 *reinterpret_cast<const uint4*>(Os + i * kld<DV>() + c0));
      }
    } else if (with_o) {
#pragma unroll
      for (int j = 0; j < CT; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int r = 16 * warp + g + 8 * (e >> 1), i = 8 * j + 2 * tq + (e & 1);
          if (i < m) {
            const Tout y = from_float<Tout>(args.scale * O[j][e]);
            o[((row0 + i) * H + h) * D + dv0 + r] = y;
            bad |= !isfinite(to_float(y));
          }
        }
    }

    // 5. S := gamma_C S + (U'^T diag(gamma_C / gamma)) K.
    if (gated) {
      const float gl = gam[m - 1];
#pragma unroll
      for (int j = 0; j < TILES; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) S[j][e] *= gl;
#pragma unroll
      for (int j = 0; j < CT; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e) P[j][e] *= rho[8 * j + 2 * tq + (e & 1)];
    }
#pragma unroll
    for (int kb = 0; kb < NB; ++kb) {
      unsigned ahi[4], alo[4];
      a_from_acc<T16>(P[2 * kb], P[2 * kb + 1], ahi, alo);
      const int tok = 16 * kb + (lane % 8) + ((lane / 8) % 2) * 8;
#pragma unroll
      for (int nn = 0; nn < TILES; nn += 2) {
        unsigned b[4];
        ldmatrix_x4_trans(b, Ks + tok * kld<D>() + 8 * nn + (lane / 16) * 8);
        mma<T16>(S[nn], ahi, b[0], b[1]);
        mma<T16>(S[nn + 1], ahi, b[2], b[3]);
        if (SPLIT) {
          mma<T16>(S[nn], alo, b[0], b[1]);
          mma<T16>(S[nn + 1], alo, b[2], b[3]);
        }
      }
    }
    // A non-finite state entry: x * 0 + z is NaN for an infinity or a NaN, +-0 + z
    // otherwise (one FMA per entry, four independent chains).
    float z[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
    for (int j = 0; j < TILES; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) z[e] = fmaf(S[j][e], 0.0f, z[e]);
    const float zs = (z[0] + z[1]) + (z[2] + z[3]);
    const bool bad_state = zs != zs;

    // Status of the chunk, per warp (its o columns and state rows): its own (a non-finite
    // output: nonfinite_input if one of the chunk's q or v rows is, else overflow; a
    // non-finite state: nonfinite_input if one of its v rows is, else overflow), chunk_wy's
    // (k, beta, g), and the one carried in by the state. A status reaches later chunks only
    // through the state (chunk_wy's, or the state's own), not through an output (q is not
    // in S). The chunk's status is the largest of its warps' (atomicMax over the warps of
    // the D / DV blocks; the array was zeroed): that of a block-wide evaluation, without a
    // barrier.
    const unsigned all = 0xffffffffu;
    const bool bad_o = __any_sync(all, bad), bad_s = __any_sync(all, bad_state);
    int st_o = 0, st_s = 0;
    if (bad_o || bad_s) {  // rare path, warp-uniform: classify
      constexpr int nonfinite = static_cast<int>(Status::nonfinite_input);
      constexpr int overflow = static_cast<int>(Status::overflow);
      bool nonfinite_q = false, nonfinite_v = false;
      const T16* q = static_cast<const T16*>(args.q);
      const T16* v = static_cast<const T16*>(args.v);
      for (int e = lane; e < m * D; e += 32) {
        if (with_o)
          nonfinite_q |= !isfinite(to_float(q[(row0 + e / D) * qk_stride + qk_off + e % D]));
        if (with_u)
          nonfinite_v |= !isfinite(to_float(v[(row0 + e / D) * v_stride + v_off + e % D]));
      }
      nonfinite_v = __any_sync(all, nonfinite_v);
      if (bad_o) st_o = __any_sync(all, nonfinite_q) || nonfinite_v ? nonfinite : overflow;
      if (bad_s) st_s = nonfinite_v ? nonfinite : overflow;
    }
    const int st = max(max(carry, wy), max(st_o, st_s));
    carry = max(max(carry, wy), st_s);
    if (lane == 0 && st != 0) {
      if (args.statuses) atomicMax(args.statuses + qrow, st);
      if (args.flag) atomicMax(args.flag, st);
    }
  }
  cp_async_wait<0>();

  if (args.hT)
#pragma unroll
    for (int j = 0; j < TILES; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int r = dv0 + 16 * warp + g + 8 * (e >> 1), col = 8 * j + 2 * tq + (e & 1);
        args.hT[state0 + (args.transposed ? col * D + r : r * D + col)] = S[j][e];
      }
}

template <int BT, int D, class T16, class Tout, bool WITH_O, bool GATED, bool SPLIT>
void launch_kernel(long long sequences, const DeltaArgs& args, cudaStream_t stream) {
  using L = Layout<BT, D, stages_o<WITH_O, Tout>>;
  auto kernel = delta_state_kernel<BT, D, T16, Tout, WITH_O, GATED, SPLIT>;
  static const cudaError_t attr_err = cudaFuncSetAttribute(
      kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(L::bytes));
  check_cuda(attr_err, "cudaFuncSetAttribute(delta_state_kernel)");
  const long long blocks = sequences * args.heads;
  if (blocks > INT_MAX)
    throw std::invalid_argument("gpu::delta_forward: too many (sequence, head) pairs for one launch");
  kernel<<<dim3(static_cast<unsigned>(blocks), D / DV), L::threads, L::bytes, stream>>>(args);
  check_cuda(cudaGetLastError(), "delta_state_kernel launch");
}

template <int BT, int D, class T16, class Tout, bool WITH_O>
void launch_typed(long long sequences, const DeltaArgs& args, cudaStream_t stream) {
  if (args.G && args.split)
    launch_kernel<BT, D, T16, Tout, WITH_O, true, true>(sequences, args, stream);
  else if (args.G)
    launch_kernel<BT, D, T16, Tout, WITH_O, true, false>(sequences, args, stream);
  else if (args.split)
    launch_kernel<BT, D, T16, Tout, WITH_O, false, true>(sequences, args, stream);
  else
    launch_kernel<BT, D, T16, Tout, WITH_O, false, false>(sequences, args, stream);
}

template <int BT, int D, class T16>
void launch_out(DType out, long long sequences, const DeltaArgs& args, cudaStream_t stream) {
  if (args.o == nullptr) return launch_typed<BT, D, T16, float, false>(sequences, args, stream);
  switch (out) {
    case DType::bf16:
      return launch_typed<BT, D, T16, __nv_bfloat16, true>(sequences, args, stream);
    case DType::fp16:
      return launch_typed<BT, D, T16, __half, true>(sequences, args, stream);
    default:
      return launch_typed<BT, D, T16, float, true>(sequences, args, stream);
  }
}

}  // namespace delta
}  // namespace

template <int BT, int D>
void launch_delta_state(DType in, DType out, long long sequences, const DeltaArgs& args,
                        cudaStream_t stream) {
  if (in == DType::fp16)
    delta::launch_out<BT, D, __half>(out, sequences, args, stream);
  else
    delta::launch_out<BT, D, __nv_bfloat16>(out, sequences, args, stream);
}

}  // namespace triscan::gpu::detail

#define TRISCAN_INSTANTIATE_LAUNCH_DELTA_STATE(BT, D)            \
  template void triscan::gpu::detail::launch_delta_state<BT, D>( \
      DType, DType, long long, const DeltaArgs&, cudaStream_t)
// For the host file that calls the launchers: the instantiations live in gpu/delta_bt*.cu.
#define TRISCAN_EXTERN_LAUNCH_DELTA_STATE(BT, D)                        \
  extern template void triscan::gpu::detail::launch_delta_state<BT, D>( \
      DType, DType, long long, const DeltaArgs&, cudaStream_t)
