#!/usr/bin/env bash
# Session 16's device calls: the GPU tests (plain; memcheck and racecheck of the delta
# subset) with the working tree's build (.gpuwork/lib), the in-process A/B of HEAD's
# libtriscan_gpu (.gpuwork/old) against it, and, if .gpuwork/var holds a variant build, its
# delta tests and its A/B against the working tree's build (session 14's ab.py).
# Env: SKIP_TESTS=1, SKIP_SAN=1, SKIP_OLD=1, ROUNDS (default 7), ACC_VAR=1 (the variant's
# delta forward errors against the fp64 recurrence next to FLA's: bench/fla_delta_compare.py
# --skip-timing).
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
for z in "$W"/lib/*.xz "$W"/old/*.xz "$W"/var/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
export PYTHONPATH=$PWD/python:/tmp/site060 TRISCAN_LIBRARY_PATH=$W/lib PYTHONUNBUFFERED=1
base=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export LD_LIBRARY_PATH=$W/lib:$base
AB=bench/results/h200-2026-11-30-s14/ab.py
{ date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv; } > "$OUT/info.log" 2>&1
cat "$OUT/info.log"
if [ "${SKIP_TESTS:-0}" = 0 ]; then
  echo "== tests $(date -u +%T)"
  timeout 150 "$W/bin/test_gpu" > "$OUT/tests.log" 2>&1; echo "test_gpu rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure" "$OUT/tests.log" | head -30
fi
if [ "${SKIP_SAN:-0}" = 0 ]; then
  timeout 120 compute-sanitizer --tool memcheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='DeltaForwardGpu.VariableLength*:DeltaForwardGpu.Statuses*:DeltaForwardGpu.BadArguments*:DeltaForwardGpu.GatedRising*:DeltaForwardGpu.Segment*' \
    > "$OUT/memcheck.log" 2>&1; echo "memcheck rc=$?"; tail -n 2 "$OUT/memcheck.log"
  timeout 100 compute-sanitizer --tool racecheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='DeltaForwardGpu.Statuses*:DeltaForwardGpu.VariableLength*' > "$OUT/racecheck.log" 2>&1
  echo "racecheck rc=$?"; tail -n 2 "$OUT/racecheck.log"
fi
if [ "${SKIP_OLD:-0}" = 0 ]; then
  echo "== ab old/new $(date -u +%T)"
  timeout 200 python3 $AB "$W/old/libtriscan_gpu.so.0" "$W/lib/libtriscan_gpu.so.0" ${ROUNDS:-7} \
    > "$OUT/ab_old_new.log" 2>&1
  echo "ab rc=$?"; grep -E "new/old|output|FLA /|median" "$OUT/ab_old_new.log"
fi
if [ -e "$W/var/libtriscan_gpu.so.0" ]; then
  echo "== var: delta tests $(date -u +%T)"
  LD_LIBRARY_PATH=$W/var:$W/lib:$base timeout 120 "$W/bin/test_gpu" --gtest_filter='DeltaForwardGpu.*' \
    > "$OUT/var_tests.log" 2>&1; echo "var test_gpu rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure" "$OUT/var_tests.log" | head -20
  echo "== ab new/var $(date -u +%T)"
  timeout 200 python3 $AB "$W/lib/libtriscan_gpu.so.0" "$W/var/libtriscan_gpu.so.0" ${ROUNDS:-7} \
    > "$OUT/ab_new_var.log" 2>&1
  echo "ab rc=$?"; grep -E "new/old|output|FLA /|median" "$OUT/ab_new_var.log"
fi
if [ "${ACC_VAR:-0}" = 1 ]; then
  echo "== var accuracy $(date -u +%T)"
  TRISCAN_LIBRARY_PATH=$W/var:$W/lib LD_LIBRARY_PATH=$W/var:$W/lib:$base timeout 150 \
    python3 bench/fla_delta_compare.py --skip-timing --out "$OUT/var_acc.jsonl" > "$OUT/var_acc.log" 2>&1
  echo "acc rc=$?"; grep -v '^{' "$OUT/var_acc.log" | tail -24
fi
echo "== done $(date -u +%T)"
