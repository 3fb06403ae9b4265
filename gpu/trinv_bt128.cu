// gpu/trinv_bt128.cu — the BT = 128 instantiations of the inversion kernels (every input x
// output dtype; see gpu/trinv_kernel.cuh and gpu/trinv_merge_kernel.cuh).
#include "gpu/trinv_kernel.cuh"
#include "gpu/trinv_merge_kernel.cuh"

namespace triscan::gpu {
TRISCAN_INSTANTIATE_LAUNCH_INVERT(128);
TRISCAN_INSTANTIATE_LAUNCH_INVERT_MERGE(128);
}  // namespace triscan::gpu
