// gpu/trinv_method.hpp — the GPU inversion's method check, shared by gpu::invert_* and the
// C API (gpu/capi.cpp), so that both accept exactly the same method specs (not installed).
#pragma once

#include "triscan/registry.hpp"

namespace triscan::gpu::detail {

// Throws std::invalid_argument naming the problem when `method` (name and keys) has no
// GPU kernel: trinv/forward_substitution (no keys) or trinv/recursive_merge (base=16 and
// the GPU-only keys mma, refine, check, tau; docs/gpu.md "Matrix-unit merges").
void check_trinv_method(const MethodSpec& method);

}  // namespace triscan::gpu::detail
