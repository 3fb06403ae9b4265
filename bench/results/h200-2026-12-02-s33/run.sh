#!/usr/bin/env bash
# Session 33's device calls, all through session 23's script (../h200-2026-11-30-s23/run.sh, whose
# header lists the environment it reads). Libraries built on the CPU machine (nvcc 13.0, sm_90a),
# carried in .gpuwork/ (ignored by git) with fla-core 0.6.0's wheel in .whl/:
#   call 1 and 2: lib/ the working tree's build with variants/persistent_grid.diff applied,
#                 old/ the same build with gpu/chunk_wy_bt64.cu from cf587dc (the kept kernel),
#                 varb/ and varc/ lib/ with variants/b_*.diff and c_*.diff on top;
#   call 3:       lib/ cf587dc's kernel (the build the commit ships), var_old4/ it with
#                 variants/old4_four_blocks_per_sm.diff, var_pc/ the persistent grid at 4 blocks
#                 per SM (varc/ of calls 1 and 2), bin/test_gpu with the tests of 9714f52;
#   call 4:       lib/ and var_old4/ as in call 3, var_p5/ and var_p4/ cf587dc with
#                 variants/p5_*.diff and p4_*.diff (the solve's two column halves interleaved).
#   bash run.sh call1 | call2 | call3 | call4
set -u
here=$(dirname "$0")
s23=$here/../h200-2026-11-30-s23/run.sh
case "${1:-}" in
  call1)  # all GPU tests, the variants' ChunkWy tests, memcheck and racecheck, A/B, FLA compare
    SAN_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      RACE_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      VAR_FILTER='ChunkWyGpu.*' CALLS=wy_noinv,wy ROUNDS=5 WYCMP=1 bash "$s23" ;;
  call2)  # call 1 ran out of its 600 s in racecheck: the A/B and the FLA comparison alone
    SKIP_TESTS=1 SKIP_SAN=1 WYCMP=1 CALLS=wy_noinv,wy ROUNDS=5 bash "$s23" ;;
  call3)  # the kept kernel's tests, sanitizers on the new test, the A/B with the 4-block control
    VAR_FILTER='ChunkWyGpu.WholeChunksOnly:ChunkWyGpu.BulkCopiesMatchCpAsyncBitForBit' \
      SAN_FILTER='ChunkWyGpu.BulkCopiesMatchCpAsyncBitForBit:ChunkWyGpu.WholeChunksOnly' \
      RACE_FILTER='ChunkWyGpu.WholeChunksOnly' CALLS=wy_noinv,wy ROUNDS=5 bash "$s23" ;;
  call4)  # the interleaved halves: their ChunkWy tests and the A/B
    SKIP_NEW_TESTS=1 SKIP_SAN=1 VAR_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      CALLS=wy_noinv,wy ROUNDS=5 bash "$s23" ;;
  *) echo "usage: run.sh call1|call2|call3|call4" >&2; exit 2 ;;
esac
