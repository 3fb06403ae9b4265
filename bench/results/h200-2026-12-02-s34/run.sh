#!/usr/bin/env bash
# Session 34's device call, through session 23's script (../h200-2026-11-30-s23/run.sh, whose
# header lists the environment it reads). Libraries built on the CPU machine (nvcc 13.0, sm_90a),
# carried in .gpuwork/ (ignored by git) with fla-core 0.6.0's wheel in .whl/:
#   lib/      the kept kernel (cf587dc's, unchanged at 81285de), bin/test_gpu the tests of 81285de;
#   var_xg/   lib/ with variants/xg_x_first.diff (X by the chain once, then W and U as independent
#             products with (X S)^T), 5 blocks per SM (96 registers, 32 bytes of spills);
#   var_xg4/  the same at 4 blocks per SM (109 registers, no spills).
#   call 2, 3: lib/ as in call 1, bin/test_gpu with the tests of this commit (the poisoned-input
#             helper shared), bin/stream_probe (stream_probe.cu, built as README.md says).
#   call 4:   lib/ as in call 1; var_ss/ lib/ with variants/ss_split_stores.diff (each 64-column
#             half of W and of U but the last stored as soon as it is solved); var_same/ a copy
#             of lib/ (the A/B's noise); bin/test_gpu as in call 2.
#   call 5:   as call 4, the A/B alone with more rounds.
#   call 6:   var_ss/ (the kernel kept, b63019b) through every GPU test of bin/test_gpu.
#   bash run.sh call1 | call2 | call4 | call5 | call6 (call 3: call2 again, with oneshot_delays
#   added to the probe)
set -u
here=$(dirname "$0")
s23=$here/../h200-2026-11-30-s23/run.sh
case "${1:-}" in
  call1)  # the variants' ChunkWy tests, memcheck and racecheck of var_xg, the A/B, FLA compare
    SKIP_NEW_TESTS=1 VAR_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      SAN_LIB=var_xg SAN_FILTER='ChunkWyGpu.WholeChunksOnly' RACE_FILTER='ChunkWyGpu.WholeChunksOnly' \
      CALLS=wy_noinv,wy ROUNDS=5 WYCMP=1 WYCMP_LIB=var_xg bash "$s23" ;;
  call2)  # the two tests that poison inputs; the memory-structure probe
    W=$PWD/.gpuwork OUT=${OUT:-/tmp/out}
    mkdir -p "$OUT"
    for z in "$W"/lib/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
    export LD_LIBRARY_PATH=$W/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
    { date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv; } \
      > "$OUT/info.log" 2>&1
    timeout 120 "$W/bin/test_gpu" --gtest_filter='ChunkWyGpu.BulkCopiesMatchCpAsyncBitForBit:ChunkWyGpu.NonFiniteInputAndOverflowStatuses' \
      > "$OUT/tests.log" 2>&1; echo "test_gpu rc=$?"; grep -E "^\[  (FAILED|PASSED|SKIPPED) " "$OUT/tests.log"
    timeout 300 "$W/bin/stream_probe" "$(date -u '+%Y-%m-%d %H:%M UTC')" > "$OUT/stream.log" 2>&1
    echo "stream_probe rc=$?"; grep -v '^{' "$OUT/stream.log" ;;
  call4)  # the split stores: ChunkWy tests, memcheck and racecheck, A/B with a control
    SKIP_NEW_TESTS=1 VAR_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      SAN_LIB=var_ss SAN_FILTER='ChunkWyGpu.WholeChunksOnly:ChunkWyGpu.BulkCopiesMatchCpAsyncBitForBit' \
      RACE_FILTER='ChunkWyGpu.WholeChunksOnly' CALLS=wy_noinv,wy ROUNDS=7 bash "$s23" ;;
  call5)  # call 4's A/B again, 9 rounds
    SKIP_TESTS=1 SKIP_SAN=1 CALLS=wy_noinv,wy ROUNDS=9 bash "$s23" ;;
  call6)  # the kept kernel (var_ss) through all GPU tests
    SKIP_NEW_TESTS=1 SKIP_SAN=1 SKIP_AB=1 VAR_FILTER='*' VAR_TIMEOUT=240 bash "$s23" ;;
  *) echo "usage: run.sh call1|call2|call4|call5|call6" >&2; exit 2 ;;
esac
