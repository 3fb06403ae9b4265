#!/usr/bin/env bash
# Session 32's device calls (written in session 31, whose run's logs did not land). Libraries
# built on the CPU machine (nvcc 13.0), carried in .gpuwork/ (ignored by git): lib/ the sm_90a
# build of 8bdbd4d (with libtriscan, libmpfr, libgmp), old/ that build with gpu/chunk_wy_bt64.cu
# compiled from session 30's last commit (2be7165, no bulk tensor copies), var*/ variants of
# gpu/chunk_wy_bt64.cu (the patches in variants/) linked with the same other objects, bin/ the
# GPU test program.
#   bash run.sh final   all GPU tests of lib/, the variants' ChunkWy tests, memcheck and
#                       racecheck of the ChunkWy tests but the 65,600-sequence one, the A/B
#                       (W and U; with A) and bench/fla_wy_compare.py with lib/
#   bash run.sh ab      the A/B only
set -u
here=$(dirname "$0")
mode=${1:-final}
case "$mode" in
  ab)
    SKIP_TESTS=1 SKIP_SAN=1 CALLS=${CALLS:-wy_noinv,wy} ROUNDS=${ROUNDS:-5} \
      bash "$here/../h200-2026-11-30-s23/run.sh" ;;
  final)
    SAN_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      RACE_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      VAR_FILTER='ChunkWyGpu.*' CALLS=wy_noinv,wy ROUNDS=5 WYCMP=1 \
      bash "$here/../h200-2026-11-30-s23/run.sh" ;;
esac
