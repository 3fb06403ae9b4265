// gpu/scan_scalar.cu — the scalar-kind scan kernels for every (input, output) dtype and
// tile size (gpu/scan.cuh), in their own translation unit so the two kinds compile in
// parallel.
#define TRISCAN_SCAN_DEFINE_LAUNCH
#include "gpu/scan.cuh"

template void triscan::gpu::detail::launch_scan<true>(int, triscan::gpu::DType, triscan::gpu::DType,
                                                      const triscan::gpu::detail::ScanParams&,
                                                      long long, cudaStream_t);
