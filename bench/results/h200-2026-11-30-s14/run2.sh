#!/usr/bin/env bash
# Session 14's third device call: the GPU tests (plain, memcheck and racecheck of the delta
# and WY subsets) with the working tree's build (lib/) and with the variant that forms two
# K K^T / Q K^T blocks at once (var/), then the in-process A/Bs HEAD vs working tree
# (ab_old_new.log) and working tree vs variant (ab_new_var.log). The fourth call ran it
# with BUILDS="lib var" SKIP_OLD_NEW=1 (the variant: balanced K K^T / Q K^T tiles), the
# fifth with BUILDS=lib SKIP_NEW_VAR=1 ROUNDS=5 (o stored by the WY kernel's store_staged).
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
R=bench/results/h200-2026-11-30-s14
mkdir -p "$OUT"
for z in "$W"/lib/*.xz "$W"/old/*.xz "$W"/var/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
export PYTHONPATH=$PWD/python:/tmp/site060 TRISCAN_LIBRARY_PATH=$W/lib PYTHONUNBUFFERED=1
base=$W/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
{ date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv; } > "$OUT/info.log" 2>&1
cat "$OUT/info.log"
for build in ${BUILDS:-lib var}; do
  export LD_LIBRARY_PATH=$W/$build:$base
  echo "== $build tests $(date -u +%T)"
  timeout 150 "$W/bin/test_gpu" > "$OUT/${build}_tests.log" 2>&1; echo "test_gpu rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure" "$OUT/${build}_tests.log" | head -12
  timeout 100 compute-sanitizer --tool memcheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='DeltaForwardGpu.VariableLength*:DeltaForwardGpu.Statuses*:DeltaForwardGpu.BadArguments*:DeltaForwardGpu.GatedRising*:ChunkWyGpu.VariableLength*:ChunkWyGpu.NonFinite*:ChunkWyGpu.GatedRising*' \
    > "$OUT/${build}_memcheck.log" 2>&1; echo "memcheck rc=$?"; tail -n 2 "$OUT/${build}_memcheck.log"
  timeout 100 compute-sanitizer --tool racecheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='DeltaForwardGpu.Statuses*:ChunkWyGpu.VariableLength*' > "$OUT/${build}_racecheck.log" 2>&1
  echo "racecheck rc=$?"; tail -n 2 "$OUT/${build}_racecheck.log"
done
export LD_LIBRARY_PATH=$base
if [ "${SKIP_OLD_NEW:-0}" = 0 ]; then
  echo "== ab old/new $(date -u +%T)"
  timeout 200 python3 $R/ab.py "$W/old/libtriscan_gpu.so.0" "$W/lib/libtriscan_gpu.so.0" ${ROUNDS:-9} > "$OUT/ab_old_new.log" 2>&1
  echo "ab rc=$?"; grep -E "new/old|FLA /|median" "$OUT/ab_old_new.log"
fi
if [ "${SKIP_NEW_VAR:-0}" = 0 ]; then
  echo "== ab new/var $(date -u +%T)"
  timeout 200 python3 $R/ab.py "$W/lib/libtriscan_gpu.so.0" "$W/var/libtriscan_gpu.so.0" 9 > "$OUT/ab_new_var.log" 2>&1
  echo "ab rc=$?"; grep -E "new/old|output|FLA /|median" "$OUT/ab_new_var.log"
fi
echo "== done $(date -u +%T)"
