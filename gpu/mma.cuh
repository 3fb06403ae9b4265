// gpu/mma.cuh — warp-level tensor-core helpers shared by the kernels (internal):
// ldmatrix loads, mma.sync m16n8k16 with bf16/fp16 operands and m16n8k8 with tf32
// operands (fp32 accumulators), and the packing of fp32 values into 16-bit operand
// pairs (round to nearest) with their exact fp32 remainders; for sm_90a, warpgroup
// mma (wgmma m64n16k16 with B from shared memory) and bulk tensor copies (at the end).
//
// Fragment layouts (PTX ISA, "Matrix fragments for mma.m16n8k16" / "mma.m16n8k8"), with
// lane = 4 g + tq (g = lane / 4, tq = lane % 4):
//   m16n8k16 A (16 x 16, row): a[0] = (g, 2tq..2tq+1), a[1] = (g+8, 2tq..), a[2] = (g, 2tq+8..),
//                              a[3] = (g+8, 2tq+8..), the lower column in the low half;
//            B (16 x 8, col):  b0 = (rows 2tq, 2tq+1; column g), b1 = (rows 2tq+8, 2tq+9; column g);
//   m16n8k8 tf32 A (16 x 8):   a[0] = (g, tq), a[1] = (g+8, tq), a[2] = (g, tq+4), a[3] = (g+8, tq+4);
//            B (8 x 8):        b0 = (row tq, column g), b1 = (row tq+4, column g);
//   C/D (16 x 8, both shapes): d[0..1] = (g, 2tq..2tq+1), d[2..3] = (g+8, 2tq..2tq+1).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <type_traits>

namespace triscan::gpu::detail::tc {

__device__ inline unsigned smem_addr(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

__device__ inline void ldmatrix_x4(unsigned (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}
__device__ inline void ldmatrix_x4_trans(unsigned (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// D += A B, m16n8k16, 16-bit operands (bf16 or fp16), fp32 accumulators.
template <class T16>
__device__ inline void mma(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1);
template <>
__device__ inline void mma<__nv_bfloat16>(float (&d)[4], const unsigned (&a)[4], unsigned b0,
                                          unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ inline void mma<__half>(float (&d)[4], const unsigned (&a)[4], unsigned b0,
                                   unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, "
      "%9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// D += A B, m16n8k8, tf32 operands (fp32 registers holding tf32 values), fp32 accumulators.
__device__ inline void mma_tf32(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// fp32 -> tf32 (10 fraction bits), round to nearest, ties away from zero (cvt.rna):
// |x - tf32(x)| <= 2^-11 |x|.
__device__ inline unsigned to_tf32(float x) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
}

// Two fp32 values as a pair of 16-bit numbers in one register (x0 in the low half;
// one packed conversion), and the pair of their remainders x - rounded(x), exact in fp32.
template <class T16>
__device__ inline unsigned pack2(float x0, float x1, float& r0, float& r1);
template <>
__device__ inline unsigned pack2<__nv_bfloat16>(float x0, float x1, float& r0, float& r1) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(x0, x1);
  const unsigned u = *reinterpret_cast<const unsigned*>(&h);
  // A bf16 value is the upper half of the fp32 with the same bits: one shift or mask each.
  r0 = x0 - __uint_as_float(u << 16);
  r1 = x1 - __uint_as_float(u & 0xffff0000u);
  return u;
}
template <>
__device__ inline unsigned pack2<__half>(float x0, float x1, float& r0, float& r1) {
  const __half2 h = __floats2half2_rn(x0, x1);
  const float2 back = __half22float2(h);
  r0 = x0 - back.x;
  r1 = x1 - back.y;
  return *reinterpret_cast<const unsigned*>(&h);
}
// The two 16-bit numbers of a register (the low half first) as fp32, exactly.
template <class T16>
__device__ inline float2 unpack2(unsigned u);
template <>
__device__ inline float2 unpack2<__nv_bfloat16>(unsigned u) {
  return make_float2(__uint_as_float(u << 16), __uint_as_float(u & 0xffff0000u));
}
template <>
__device__ inline float2 unpack2<__half>(unsigned u) {
  return __half22float2(*reinterpret_cast<const __half2*>(&u));
}
template <class T16>
__device__ inline unsigned pack2(float x0, float x1) {
  float r0, r1;
  return pack2<T16>(x0, x1, r0, r1);
}

// The A operand (m16 x k16) of a product from fp32 accumulator tiles n0 and n0 + 1 (rows g,
// g + 8; columns 2 tq.. of each tile), as hi and lo 16-bit parts.
template <class T16>
__device__ inline void a_from_acc(const float (&t0)[4], const float (&t1)[4], unsigned (&hi)[4],
                                  unsigned (&lo)[4]) {
  float r0, r1;
  hi[0] = pack2<T16>(t0[0], t0[1], r0, r1);
  lo[0] = pack2<T16>(r0, r1);
  hi[1] = pack2<T16>(t0[2], t0[3], r0, r1);
  lo[1] = pack2<T16>(r0, r1);
  hi[2] = pack2<T16>(t1[0], t1[1], r0, r1);
  lo[2] = pack2<T16>(r0, r1);
  hi[3] = pack2<T16>(t1[2], t1[3], r0, r1);
  lo[3] = pack2<T16>(r0, r1);
}

// ---- Warpgroup mma (sm_90a: TRISCAN_WGMMA is 1 in the device code compiled for it, else
// 0 and none of the below exists). The warpgroup (four consecutive warps, the block's in the
// blocked solve) computes D (64 x 16) += A (64 x 16) B (16 x 16) by wgmma.mma_async m64n16k16
// with fp32 accumulators: A from registers (warp w's rows 16 w .. 16 w + 15 in the A fragment
// of mma.m16n8k16), D in registers as two m16n8 C fragments per warp (d[0]: columns 0-7,
// d[1]: 8-15), B read from shared memory (asynchronously: writes to it go through
// fence_proxy_async and a barrier first) in the K-major layout without swizzle: entry (n, k)
// (B[k][n]) at byte wg_off(n, k) of its 512 (8 x 8 core matrices of 16-byte rows; the next
// along K 128 bytes on, the next along N 256). ----
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define TRISCAN_WGMMA 1
#else
#define TRISCAN_WGMMA 0
#endif

__device__ inline void fence_proxy_async() {
#if TRISCAN_WGMMA
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

#if TRISCAN_WGMMA
__host__ __device__ constexpr int wg_off(int n, int k) {
  return (n / 8) * 256 + (k / 8) * 128 + (n % 8) * 16 + (k % 8) * 2;
}
// The shared-memory descriptor of a B operand `off` bytes (a multiple of 16) past p (16-byte
// aligned): start address, leading (K) byte offset 128, stride (N) byte offset 256, each in
// 16-byte units; no swizzle. Its low word for p, wg_desc_lo(p), is formed once, and each
// operand's descriptor is one add to it (the 14-bit address field never carries: shared
// addresses stay below 2^18 bytes). Formed from the pointer at every product instead, each
// descriptor took five or six uniform-datapath instructions (the blocked solve's 26 per
// column half: ~40% of its instructions; docs/gpu-chunk-wy.md, session 26).
__device__ inline unsigned wg_desc_lo(const void* p) {
  return ((smem_addr(p) >> 4) & 0x3fffu) | ((128u >> 4) << 16);
}
__device__ inline unsigned long long wg_desc(unsigned lo, int off) {
  return (static_cast<unsigned long long>(256u >> 4) << 32) |
         (lo + static_cast<unsigned>(off >> 4));
}
__device__ inline void wg_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ inline void wg_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
// Until at most N of the most recently committed groups are pending (every earlier one done);
// N = 0: every committed group done.
template <int N = 0>
__device__ inline void wg_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}

template <class T16>
__device__ inline void wgmma(float (&d)[2][4], const unsigned (&a)[4], unsigned long long b) {
  // scale-d 1 (accumulate), A and B not negated, B K-major.
  if constexpr (std::is_same_v<T16, __half>)
    asm volatile(
        "wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7}, "
        "{%8, %9, %10, %11}, %12, 1, 1, 1, 0;\n"
        : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]), "+f"(d[1][0]),
          "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b)
        : "memory");
  else
    asm volatile(
        "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7}, "
        "{%8, %9, %10, %11}, %12, 1, 1, 1, 0;\n"
        : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]), "+f"(d[1][0]),
          "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b)
        : "memory");
}
#endif

// ---- Bulk tensor copies (TMA, sm_90a) between global memory and shared memory, described by
// a CUtensorMap (a __grid_constant__ kernel parameter: `map` is its generic address). Loads
// complete on an mbarrier (its transaction count); stores form bulk groups of the issuing
// thread. Shared memory written by threads is made visible to a store by fence_proxy_async in
// each writing thread and a barrier before the store is issued. Elsewhere (other
// architectures, the host pass) they are empty: callers take them only where TRISCAN_WGMMA.
__device__ inline void mbar_init(void* bar, unsigned count) {
#if TRISCAN_WGMMA
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_addr(bar)), "r"(count)
               : "memory");
#endif
}
// The initialised barriers visible to the async proxy (the copies that complete on them).
__device__ inline void mbar_init_fence() {
#if TRISCAN_WGMMA
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}
// One arrival that also expects `bytes` more bytes of transactions in the current phase.
__device__ inline void mbar_expect_tx(void* bar, unsigned bytes) {
#if TRISCAN_WGMMA
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_addr(bar)),
               "r"(bytes)
               : "memory");
#endif
}
// Until the phase of parity `parity` has completed.
__device__ inline void mbar_wait(void* bar, unsigned parity) {
#if TRISCAN_WGMMA
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "WAIT:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra WAIT;\n"
      "}\n" ::"r"(smem_addr(bar)),
      "r"(parity)
      : "memory");
#endif
}
// The box at coordinates (c0, c1, c2) (innermost first) of a 3-d map into dst, completing on bar.
__device__ inline void tma_load_3d(void* dst, const void* map, int c0, int c1, int c2, void* bar) {
#if TRISCAN_WGMMA
  asm volatile(
      "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], "
      "[%1, {%2, %3, %4}], [%5];\n" ::"r"(smem_addr(dst)),
      "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(smem_addr(bar))
      : "memory");
#endif
}
// src to the box at (c0, c1, c2) of a 3-d map, in the thread's current bulk group.
__device__ inline void tma_store_3d(const void* map, const void* src, int c0, int c1, int c2) {
#if TRISCAN_WGMMA
  asm volatile(
      "cp.async.bulk.tensor.3d.global.shared::cta.tile.bulk_group [%0, {%2, %3, %4}], [%1];\n" ::
          "l"(map),
      "r"(smem_addr(src)), "r"(c0), "r"(c1), "r"(c2)
      : "memory");
#endif
}
__device__ inline void bulk_commit() {
#if TRISCAN_WGMMA
  asm volatile("cp.async.bulk.commit_group;\n" ::: "memory");
#endif
}
// Until every bulk group of the thread has finished reading its shared memory.
__device__ inline void bulk_wait_read() {
#if TRISCAN_WGMMA
  asm volatile("cp.async.bulk.wait_group.read 0;\n" ::: "memory");
#endif
}

}  // namespace triscan::gpu::detail::tc
