// gpu/chunk_wy_bt64.cu — the BT = 64 instantiations of the fused chunk WY kernel
// (gpu/chunk_wy_kernel.cuh), every input x output dtype.
#include "gpu/chunk_wy_kernel.cuh"

namespace triscan::gpu {
TRISCAN_INSTANTIATE_LAUNCH_CHUNK_WY(64, 64);
TRISCAN_INSTANTIATE_LAUNCH_CHUNK_WY(64, 128);
}  // namespace triscan::gpu
