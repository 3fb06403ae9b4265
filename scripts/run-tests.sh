#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test.
#   scripts/run-tests.sh             Release build in build/ (CUDA code compiled if nvcc exists;
#                                    GPU tests skip visibly without a usable device)
#   scripts/run-tests.sh --sanitize  CPU tests under AddressSanitizer + UBSan in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == --sanitize ]]; then
  export BUILD_DIR=build-asan
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRISCAN_SANITIZE=ON -DTRISCAN_WITH_CUDA=OFF -DTRISCAN_BUILD_BENCH=OFF"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  export BUILD_DIR=${BUILD_DIR:-build}
fi
scripts/setup.sh
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"
