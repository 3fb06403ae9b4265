// gpu/trinv_bt16.cu — the BT = 16 instantiations of the inversion kernels (every input x
// output dtype; see gpu/trinv_kernel.cuh and gpu/trinv_merge_kernel.cuh).
#include "gpu/trinv_kernel.cuh"
#include "gpu/trinv_merge_kernel.cuh"

namespace triscan::gpu {
TRISCAN_INSTANTIATE_LAUNCH_INVERT(16);
TRISCAN_INSTANTIATE_LAUNCH_INVERT_MERGE(16);
}  // namespace triscan::gpu
