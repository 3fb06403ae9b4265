// Shared by the GPU tests: skip (visibly) unless a usable device is present.
#pragma once

#include <gtest/gtest.h>

#include "triscan/gpu.hpp"

// Any CUDA runtime error at the device query ("no device", "insufficient driver",
// ...) counts as "no device": the test is skipped with the runtime's reason.
#define TRISCAN_REQUIRE_GPU()                                                        \
  do {                                                                               \
    const auto info_ = ::triscan::gpu::device_info();                                \
    if (!info_.usable) GTEST_SKIP() << "no usable GPU: " << info_.reason;            \
  } while (0)
