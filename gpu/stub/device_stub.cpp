// Built when no CUDA compiler was found: every GPU entry point reports "not compiled".
#include "triscan/gpu.hpp"

namespace triscan::gpu {

bool compiled() { return false; }

DeviceInfo device_info() {
  DeviceInfo info;
  info.reason = "not compiled (triscan was built without CUDA)";
  return info;
}

}  // namespace triscan::gpu

#include <stdexcept>

namespace triscan::gpu {

std::vector<double> hardware_round(const std::vector<float>&, const std::string&, Rounding) {
  throw std::runtime_error("hardware_round: not compiled (triscan was built without CUDA)");
}

}  // namespace triscan::gpu
