#!/usr/bin/env bash
# Session 29's device calls. Libraries built on the CPU machine (nvcc 13.0), carried in
# .gpuwork/ (ignored by git): lib/ the working tree's sm_90a build (with libtriscan, libmpfr,
# libgmp), old/ the library of session 28's last commit (80629d2), var*/ variants of
# gpu/chunk_wy_bt64.cu (the patches in variants/) linked with the same other objects, bin/ the
# GPU test program.
#   bash run.sh ab      the A/B of old, new and the variants only (W and U; README: calls 1-4,
#                       6, 7, 9, 10 with their variants)
#   bash run.sh ncu B=DIR ...  Nsight Compute of each build (ncu_cmp.sh; call 8)
#   bash run.sh final   the kept library: all GPU tests, memcheck and racecheck of the ChunkWy
#                       tests but the 65,600-sequence one, the A/B (W and U; with A) and
#                       bench/fla_wy_compare.py
set -u
here=$(dirname "$0")
mode=${1:-final}
shift || true
case "$mode" in
  ab)
    SKIP_TESTS=1 SKIP_SAN=1 CALLS=${CALLS:-wy_noinv} ROUNDS=${ROUNDS:-5} \
      bash "$here/../h200-2026-11-30-s23/run.sh" ;;
  ncu)
    bash "$here/ncu_cmp.sh" "$@" ;;
  final)
    SAN_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      RACE_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      CALLS=wy_noinv,wy ROUNDS=5 WYCMP=1 bash "$here/../h200-2026-11-30-s23/run.sh" ;;
esac
