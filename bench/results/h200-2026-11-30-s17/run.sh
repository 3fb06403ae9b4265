#!/usr/bin/env bash
# Session 17's device calls: the GPU tests of the working tree's build (.gpuwork/bin,
# .gpuwork/lib; memcheck and racecheck of the delta subset), then bench/ab_gpu_builds.py
# over the builds present: old (.gpuwork/old: HEAD at the session's start, 9856f9e), new
# (.gpuwork/lib) and the variants present (.gpuwork/var*), with each variant's delta tests.
# Env: SKIP_TESTS=1, SKIP_SAN=1, SKIP_AB=1, SKIP_OLD=1 (the A/B without old), ROUNDS (default 7), CALLS (default gdn,dn), FULL=1
# (the whole bench/fla_delta_compare.py after the A/B), PROF=1 (Nsight Compute with source
# counters of one gated forward with the -lineinfo build in .gpuwork/prof: session 16's
# prof.py), ACC_VAR=1 (the variant's delta forward errors against the fp64 recurrence next to
# FLA's: bench/fla_delta_compare.py --skip-timing), SAN_FILTER / RACE_FILTER (gtest filters of the
# memcheck and racecheck runs; default: the delta subsets), WYCMP=1 (the whole
# bench/fla_wy_compare.py, timing and accuracy, after the A/B). Used again in session 19.
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
for z in "$W"/lib/*.xz "$W"/old/*.xz "$W"/var*/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
export PYTHONPATH=$PWD/python:$PWD/bench:/tmp/site060 TRISCAN_LIBRARY_PATH=$W/lib PYTHONUNBUFFERED=1
base=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export LD_LIBRARY_PATH=$W/lib:$base
{ date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv; } > "$OUT/info.log" 2>&1
cat "$OUT/info.log"
if [ "${SKIP_TESTS:-0}" = 0 ]; then
  echo "== tests $(date -u +%T)"
  timeout 150 "$W/bin/test_gpu" > "$OUT/tests.log" 2>&1; echo "test_gpu rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure" "$OUT/tests.log" | head -30
fi
if [ "${SKIP_SAN:-0}" = 0 ]; then
  timeout 120 compute-sanitizer --tool memcheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter="${SAN_FILTER:-DeltaForwardGpu.VariableLength*:DeltaForwardGpu.Statuses*:DeltaForwardGpu.BadArguments*:DeltaForwardGpu.GatedRising*:DeltaForwardGpu.Segment*}" \
    > "$OUT/memcheck.log" 2>&1; echo "memcheck rc=$?"; tail -n 2 "$OUT/memcheck.log"
  timeout 100 compute-sanitizer --tool racecheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter="${RACE_FILTER:-DeltaForwardGpu.Statuses*:DeltaForwardGpu.VariableLength*:DeltaForwardGpu.Segment*}" \
    > "$OUT/racecheck.log" 2>&1
  echo "racecheck rc=$?"; tail -n 2 "$OUT/racecheck.log"
fi
builds="old=$W/old/libtriscan_gpu.so.0 new=$W/lib/libtriscan_gpu.so.0"
[ "${SKIP_OLD:-0}" = 1 ] && builds="new=$W/lib/libtriscan_gpu.so.0"
for d in "$W"/var*; do
  [ -e "$d/libtriscan_gpu.so.0" ] || continue
  v=$(basename "$d"); builds="$builds $v=$d/libtriscan_gpu.so.0"
  echo "== $v: delta tests $(date -u +%T)"
  LD_LIBRARY_PATH=$d:$W/lib:$base timeout 120 "$W/bin/test_gpu" --gtest_filter='DeltaForwardGpu.*' \
    > "$OUT/${v}_tests.log" 2>&1; echo "$v test_gpu rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure" "$OUT/${v}_tests.log" | head -20
done
if [ "${PROF:-0}" = 1 ]; then
  echo "== ncu $(date -u +%T)"
  TRISCAN_LIBRARY_PATH=$W/prof:$W/lib LD_LIBRARY_PATH=$W/prof:$W/lib:$base timeout 240 \
    ncu --profile-from-start off --set full --import-source yes -o "$OUT/prof" -f \
    python3 bench/results/h200-2026-11-30-s16/prof.py gated > "$OUT/ncu_run.log" 2>&1
  echo "ncu rc=$?"; tail -n 3 "$OUT/ncu_run.log"
  ncu --import "$OUT/prof.ncu-rep" --print-details all > "$OUT/ncu_details.txt" 2>&1
  ncu --import "$OUT/prof.ncu-rep" --page source --csv --print-source sass > "$OUT/ncu_source.csv" 2>&1
  xz -9 "$OUT/ncu_source.csv"; rm -f "$OUT/prof.ncu-rep"
  grep -E "Duration|Executed Ipc|Warp Cycles Per Issued|Registers Per|Achieved Occupancy|Issue Slots Busy" \
    "$OUT/ncu_details.txt" | head -20
fi
if [ "${SKIP_AB:-0}" = 0 ]; then
  echo "== ab $(date -u +%T)"
  timeout 300 python3 bench/ab_gpu_builds.py $builds --rounds ${ROUNDS:-7} --calls ${CALLS:-gdn,dn} \
    --out "$OUT/ab.jsonl" > "$OUT/ab.log" 2>&1
  echo "ab rc=$?"; grep -vE "^round" "$OUT/ab.log"
fi
if [ "${FULL:-0}" = 1 ]; then
  echo "== fla_delta_compare $(date -u +%T)"
  timeout 240 python3 bench/fla_delta_compare.py --out "$OUT/fla_delta.jsonl" > "$OUT/fla_delta.log" 2>&1
  echo "fla_delta rc=$?"; grep -v '^{' "$OUT/fla_delta.log" | tail -40
fi
if [ "${WYCMP:-0}" = 1 ]; then
  echo "== fla_wy_compare $(date -u +%T)"
  timeout 240 python3 bench/fla_wy_compare.py --out "$OUT/fla_wy.jsonl" > "$OUT/fla_wy.log" 2>&1
  echo "fla_wy rc=$?"; grep -v '^{' "$OUT/fla_wy.log" | tail -60
fi
if [ "${ACC_VAR:-0}" = 1 ] && [ -e "$W/var/libtriscan_gpu.so.0" ]; then  # the variant in .gpuwork/var
  echo "== var accuracy $(date -u +%T)"
  TRISCAN_LIBRARY_PATH=$W/var:$W/lib LD_LIBRARY_PATH=$W/var:$W/lib:$base timeout 150 \
    python3 bench/fla_delta_compare.py --skip-timing --out "$OUT/var_acc.jsonl" > "$OUT/var_acc.log" 2>&1
  echo "acc rc=$?"; grep -v '^{' "$OUT/var_acc.log" | tail -24
fi
echo "== done $(date -u +%T)"
