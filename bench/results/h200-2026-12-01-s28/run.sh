#!/usr/bin/env bash
# Session 28's device calls. Libraries built on the CPU machine (nvcc 13.0), carried in
# .gpuwork/ (ignored by git): lib/ the working tree's sm_90a build (with libtriscan, libmpfr,
# libgmp), old/ the library of session 27's last commit (766c8a0), var*/ variants of
# gpu/chunk_wy_bt64.cu linked with the same other objects, lib80/ a PTX-only (compute_80) build
# of the working tree and bin/ the GPU test programs of both builds.
#   bash run.sh main    tests (all GPU tests; the variants' ChunkWy tests), memcheck and racecheck
#                       of the ChunkWy tests, the Python smoke tests, bench/ab_gpu_builds.py
#                       (session 23's script)
#   bash run.sh ptx     the compute_80 PTX JIT-compiled by the driver: ChunkWy and delta tests,
#                       racecheck and memcheck, and its A/B against the sm_90a build (session 27's
#                       script); then Nsight Compute source counters of the working tree's kernel
#                       (session 25's ncu_src.sh)
#   bash run.sh compare bench/fla_wy_compare.py (speed against flash-linear-attention, accuracy)
#   bash run.sh final   the kept library: all GPU tests, memcheck and racecheck of the ChunkWy
#                       tests but the 65,600-sequence one, the A/B (W, U; with A; rounded products;
#                       the delta forward) and bench/fla_wy_compare.py
#   bash run.sh ptx80   the ptx mode without Nsight Compute
set -u
here=$(dirname "$0")
case "${1:-main}" in
  main)
    PYSMOKE=1 CALLS=${CALLS:-wy,wy_noinv} ROUNDS=${ROUNDS:-7} VAR_FILTER='ChunkWyGpu.*' \
      VAR_TIMEOUT=100 bash "$here/../h200-2026-11-30-s23/run.sh" ;;
  final)  # the kept library: tests, sanitizers (without the 65,600-sequence case), A/B, compare
    SAN_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      RACE_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      CALLS=wy,wy_noinv,rwy,gdn ROUNDS=5 WYCMP=1 bash "$here/../h200-2026-11-30-s23/run.sh" ;;
  ptx80)  # the compute_80 PTX only (no Nsight Compute)
    bash "$here/../h200-2026-12-01-s27/run.sh" ;;
  ptx)
    bash "$here/../h200-2026-12-01-s27/run.sh"
    bash "$here/../h200-2026-11-30-s25/ncu_src.sh" new=$PWD/.gpuwork/lib ;;
  compare)
    SKIP_TESTS=1 SKIP_SAN=1 SKIP_AB=1 WYCMP=1 bash "$here/../h200-2026-11-30-s23/run.sh" ;;
esac
