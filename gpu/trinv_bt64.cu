// gpu/trinv_bt64.cu — the BT = 64 instantiations of the inversion kernel
// (every input x output dtype; see gpu/trinv_kernel.cuh).
#include "gpu/trinv_kernel.cuh"

namespace triscan::gpu {
TRISCAN_INSTANTIATE_LAUNCH_INVERT(64);
}  // namespace triscan::gpu
