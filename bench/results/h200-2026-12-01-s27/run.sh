#!/usr/bin/env bash
# Session 27's device call: the code that GPUs other than sm_90a run — the compute_80 PTX —
# JIT-compiled by the H200's driver. .gpuwork/lib80 holds a library built with
# -DTRISCAN_CUDA_ARCHITECTURES=80-virtual (PTX only, so the driver must JIT it; the blocked
# solve's warp-level mma.sync form and the stmatrix fallback) with libtriscan, libmpfr and
# libgmp; .gpuwork/bin/test_gpu80 the GPU tests of that build. Then, if .gpuwork/lib holds the
# sm_90a build of the same source, bench/ab_gpu_builds.py compares the two in one process
# (outputs bit for bit, and the time of the portable form on the H200).
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
base=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
for z in "$W"/*/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
export CUDA_CACHE_PATH=/tmp/jit CUDA_CACHE_MAXSIZE=4294967296 PYTHONUNBUFFERED=1
{ date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv; } > "$OUT/info.log" 2>&1
cat "$OUT/info.log"
export LD_LIBRARY_PATH=$W/lib80:$base
echo "== tests, compute_80 PTX JIT-compiled $(date -u +%T)"
s=$(date +%s)
timeout 140 "$W/bin/test_gpu80" --gtest_filter='ChunkWyGpu.*:DeltaForwardGpu.*' > "$OUT/tests80.log" 2>&1
echo "test_gpu80 rc=$? $(( $(date +%s) - s )) s"
grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure|exception" "$OUT/tests80.log" | head -20
grep -o "max error/bound [0-9.e+-]*" "$OUT/tests80.log" | sort -k3 -g | tail -1
echo "== racecheck, memcheck (ChunkWyGpu.GeneratorFamilies: chunk 64, the blocked solve) $(date -u +%T)"
for tool in racecheck memcheck; do
  timeout 45 compute-sanitizer --tool $tool --error-exitcode 9 "$W/bin/test_gpu80" \
    --gtest_filter=ChunkWyGpu.GeneratorFamilies > "$OUT/${tool}80.log" 2>&1
  echo "$tool rc=$?"; tail -n 2 "$OUT/${tool}80.log"
done
if [ -e "$W/lib/libtriscan_gpu.so.0" ]; then
  echo "== ab sm_90a vs compute_80 PTX $(date -u +%T)"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
  PYTHONPATH=$PWD/python:$PWD/bench:/tmp/site060 TRISCAN_LIBRARY_PATH=$W/lib80 timeout 75 \
    python3 bench/ab_gpu_builds.py sm90a=$W/lib/libtriscan_gpu.so.0 ptx80=$W/lib80/libtriscan_gpu.so.0 \
    --rounds ${ROUNDS:-2} --calls wy,wy_noinv --calls-per-round 10 --out "$OUT/ab.jsonl" > "$OUT/ab.log" 2>&1
  echo "ab rc=$?"; grep -vE "^round" "$OUT/ab.log"
fi
echo "== done $(date -u +%T)"
