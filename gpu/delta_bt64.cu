// gpu/delta_bt64.cu — the BT = 64 instantiations of the delta-rule chunk-state kernel
// (gpu/delta_kernel.cuh), every input x output dtype.
#include "gpu/delta_kernel.cuh"

namespace triscan::gpu {
TRISCAN_INSTANTIATE_LAUNCH_DELTA_STATE(64, 64);
TRISCAN_INSTANTIATE_LAUNCH_DELTA_STATE(64, 128);
}  // namespace triscan::gpu
