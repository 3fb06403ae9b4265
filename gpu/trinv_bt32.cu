// gpu/trinv_bt32.cu — the BT = 32 instantiations of the inversion kernel
// (every input x output dtype; see gpu/trinv_kernel.cuh).
#include "gpu/trinv_kernel.cuh"

namespace triscan::gpu {
TRISCAN_INSTANTIATE_LAUNCH_INVERT(32);
}  // namespace triscan::gpu
