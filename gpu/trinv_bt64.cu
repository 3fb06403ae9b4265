// gpu/trinv_bt64.cu — the BT = 64 instantiations of the inversion kernels (every input x
// output dtype; see gpu/trinv_kernel.cuh and gpu/trinv_merge_kernel.cuh).
#include "gpu/trinv_kernel.cuh"
#include "gpu/trinv_merge_kernel.cuh"

namespace triscan::gpu {
TRISCAN_INSTANTIATE_LAUNCH_INVERT(64);
TRISCAN_INSTANTIATE_LAUNCH_INVERT_MERGE(64);
}  // namespace triscan::gpu
