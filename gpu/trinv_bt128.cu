// gpu/trinv_bt128.cu — the BT = 128 instantiations of the inversion kernel
// (every input x output dtype; see gpu/trinv_kernel.cuh).
#include "gpu/trinv_kernel.cuh"

namespace triscan::gpu {
TRISCAN_INSTANTIATE_LAUNCH_INVERT(128);
}  // namespace triscan::gpu
