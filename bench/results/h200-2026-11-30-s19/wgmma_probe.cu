// Session 19 (not part of the library): build against a tree with wgmma_one_shot.patch applied,
// e.g. nvcc -O2 --generate-code=arch=compute_90a,code=[sm_90a] --expt-relaxed-constexpr
// -std=c++17 -I. -Iinclude -Ibuild/include wgmma_probe.cu.
// Probe of the wgmma layouts used by gpu/chunk_wy_wgmma.cuh: K K^T (K-major both) and
// A K (A from registers, K MN-major), for two LBO/SBO choices of the MN-major descriptor.
#include "gpu/chunk_wy_wgmma.cuh"
#include <cstdio>
#include <vector>
#include <cmath>
using namespace triscan::gpu::detail;
using T16 = __nv_bfloat16;
constexpr int D = 128;
__global__ void probe(const T16* k, const float* a, float* nkk, float* w, int variant) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  __shared__ __align__(1024) unsigned char tile[64 * 2 * D];
  int t = threadIdx.x, warp = t / 32, lane = t % 32, g = lane / 4, tq = lane % 4;
  for (int e = t; e < 64 * D / 8; e += 128) {
    int r = e / (D / 8), c = e % (D / 8);
    *reinterpret_cast<uint4*>(tile + wg::swz(r, c)) = *reinterpret_cast<const uint4*>(k + r * D + 8 * c);
  }
  wg::fence_proxy_async();
  __syncthreads();
  float acc[32];
  unsigned kb = tc::smem_addr(tile);
  wg::fence();
  for (int s = 0; s < D / 16; ++s) {
    auto d = wg::descriptor(kb + 8192 * (s / 4) + 32 * (s % 4), 16, 1024);
    wg::wgmma_ss<T16>(acc, d, d, s > 0);
  }
  wg::commit(); wg::wait_all(); wg::fence_operands(acc);
  for (int j8 = 0; j8 < 8; ++j8) for (int hr = 0; hr < 2; ++hr) for (int c = 0; c < 2; ++c)
    nkk[(16 * warp + g + 8 * hr) * 64 + 8 * j8 + 2 * tq + c] = acc[4 * j8 + 2 * hr + c];
  float accw[D / 2];
  unsigned hi[4][4];
  for (int s = 0; s < 4; ++s) for (int r = 0; r < 4; ++r) {
    int i = 16 * warp + g + ((r & 1) ? 8 : 0), l = 16 * s + 2 * tq + ((r & 2) ? 8 : 0);
    float r0, r1;
    hi[s][r] = tc::pack2<T16>(a[i * 64 + l], a[i * 64 + l + 1], r0, r1);
  }
  wg::fence();
  for (int s = 0; s < 4; ++s) {
    auto db = variant == 0 ? wg::descriptor(kb + 2048 * s, 8192, 1024) : wg::descriptor(kb + 2048 * s, 1024, 8192);
    wg::wgmma_rs<D, T16>(accw, hi[s], db, s > 0);
  }
  wg::commit(); wg::wait_all(); wg::fence_operands(accw);
  for (int j8 = 0; j8 < D / 8; ++j8) for (int hr = 0; hr < 2; ++hr) for (int c = 0; c < 2; ++c)
    w[(16 * warp + g + 8 * hr) * D + 8 * j8 + 2 * tq + c] = accw[4 * j8 + 2 * hr + c];
#endif
}
int main() {
  std::vector<T16> k(64 * D); std::vector<float> kf(64 * D), a(64 * 64);
  unsigned s = 1;
  auto rnd = [&] { s = s * 1664525u + 1013904223u; return ((s >> 8) & 0xFFFF) / 65536.0f - 0.5f; };
  for (int i = 0; i < 64 * D; ++i) { k[i] = __float2bfloat16(rnd()); kf[i] = __bfloat162float(k[i]); }
  for (int i = 0; i < 64 * 64; ++i) a[i] = __bfloat162float(__float2bfloat16(rnd()));
  T16* dk; float *da, *dn, *dw;
  cudaMalloc(&dk, k.size() * 2); cudaMalloc(&da, a.size() * 4); cudaMalloc(&dn, 64 * 64 * 4); cudaMalloc(&dw, 64 * D * 4);
  cudaMemcpy(dk, k.data(), k.size() * 2, cudaMemcpyHostToDevice);
  cudaMemcpy(da, a.data(), a.size() * 4, cudaMemcpyHostToDevice);
  for (int variant = 0; variant < 2; ++variant) {
    cudaMemset(dn, 0, 64 * 64 * 4); cudaMemset(dw, 0, 64 * D * 4);
    probe<<<1, 128>>>(dk, da, dn, dw, variant);
    cudaError_t e = cudaDeviceSynchronize();
    std::vector<float> n(64 * 64), w(64 * D);
    cudaMemcpy(n.data(), dn, n.size() * 4, cudaMemcpyDeviceToHost);
    cudaMemcpy(w.data(), dw, w.size() * 4, cudaMemcpyDeviceToHost);
    double en = 0, ew = 0;
    for (int i = 0; i < 64; ++i) for (int j = 0; j < 64; ++j) {
      double x = 0; for (int c = 0; c < D; ++c) x += (double)kf[i * D + c] * kf[j * D + c];
      en = std::fmax(en, std::fabs(x - n[i * 64 + j]));
    }
    for (int i = 0; i < 64; ++i) for (int c = 0; c < D; ++c) {
      double x = 0; for (int l = 0; l < 64; ++l) x += (double)a[i * 64 + l] * kf[l * D + c];
      ew = std::fmax(ew, std::fabs(x - w[i * D + c]));
    }
    std::printf("variant %d (%s): err %s, max |KK^T error| %.3g, max |AK error| %.3g\n", variant,
                variant == 0 ? "LBO 8192 SBO 1024" : "LBO 1024 SBO 8192", cudaGetErrorString(e), en, ew);
  }
}
