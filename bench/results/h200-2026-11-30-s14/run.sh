#!/usr/bin/env bash
# Session 14's device call: GPU tests of the working tree's build (plain; memcheck and
# racecheck of the delta and WY subsets), the in-process A/B against HEAD's build (ab.py),
# then Nsight Compute of the new build with per-instruction source counters (prof.py).
# Expects .gpuwork/{bin/test_gpu, lib/libtriscan_gpu.so.0(.xz), old/libtriscan_gpu.so.0(.xz)}.
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
R=bench/results/h200-2026-11-30-s14
mkdir -p "$OUT"
for z in "$W"/lib/*.xz "$W"/old/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
export LD_LIBRARY_PATH=$W/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
export PYTHONPATH=$PWD/python:/tmp/site060 TRISCAN_LIBRARY_PATH=$W/lib PYTHONUNBUFFERED=1
{ date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv; nvcc --version | tail -1; } > "$OUT/info.log" 2>&1
cat "$OUT/info.log"
step() { echo "== $1 $(date -u +%T)"; }
if [ "${SKIP_TESTS:-0}" = 0 ]; then
  step tests
  timeout 200 "$W/bin/test_gpu" > "$OUT/tests.log" 2>&1; echo "test_gpu rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure" "$OUT/tests.log" | head -20
  grep -E "error/bound" "$OUT/tests.log" | head -40 > "$OUT/tests_bounds.txt"
fi
if [ "${SKIP_SAN:-0}" = 0 ]; then
  step memcheck
  timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='DeltaForwardGpu.VariableLength*:DeltaForwardGpu.Statuses*:DeltaForwardGpu.BadArguments*:ChunkWyGpu.VariableLength*:ChunkWyGpu.NonFinite*' \
    > "$OUT/memcheck.log" 2>&1; echo "memcheck rc=$?"; tail -n 2 "$OUT/memcheck.log"
  step racecheck
  timeout 150 compute-sanitizer --tool racecheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='DeltaForwardGpu.Statuses*:ChunkWyGpu.VariableLength*' > "$OUT/racecheck.log" 2>&1
  echo "racecheck rc=$?"; tail -n 2 "$OUT/racecheck.log"
fi
step ab
timeout 240 python3 $R/ab.py "$W/old/libtriscan_gpu.so.0" "$W/lib/libtriscan_gpu.so.0" ${ROUNDS:-9} > "$OUT/ab.log" 2>&1
echo "ab rc=$?"; grep -v "^round" "$OUT/ab.log" | tail -n 30
if [ "${SKIP_NCU:-0}" = 0 ]; then
  step ncu
  timeout 200 ncu --profile-from-start off --set full --import-source yes -o "$OUT/prof" -f \
    python3 $R/prof.py > "$OUT/ncu_run.log" 2>&1; echo "ncu rc=$?"; tail -n 3 "$OUT/ncu_run.log"
  ncu --import "$OUT/prof.ncu-rep" --print-details all > "$OUT/ncu_details.txt" 2>&1
  ncu --import "$OUT/prof.ncu-rep" --page source --csv --print-source sass > "$OUT/ncu_source.csv" 2>&1
  echo "source rows $(wc -l < "$OUT/ncu_source.csv")"; head -c 600 "$OUT/ncu_source.csv"; echo
  xz -9 "$OUT/ncu_source.csv"; xz -9 "$OUT/prof.ncu-rep"
  grep -E "Duration|Executed Ipc|Warp Cycles Per Issued|Registers|Achieved Occupancy|Bank" "$OUT/ncu_details.txt" | head -30
fi
step done
