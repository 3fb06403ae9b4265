#!/usr/bin/env bash
# Session 23's device calls (session 21's script; SKIP_NEW_TESTS=1 leaves out the working
# tree's full GPU tests, VAR_TIMEOUT is the variants' test time limit): the GPU tests of the
# working tree's build (.gpuwork/bin,
# .gpuwork/lib), the fused-WY and delta subsets of each variant (.gpuwork/var*), memcheck and
# racecheck of the fused-WY subset, then bench/ab_gpu_builds.py over old (.gpuwork/old: the
# kernel as at the session's start; left out when absent), new (.gpuwork/lib) and the variants.
# Env: SKIP_TESTS=1, SKIP_SAN=1, SKIP_AB=1, ROUNDS (default 5), CALLS (default wy,wy_noinv,rwy,gdn),
# WYCMP=1 (bench/fla_wy_compare.py after the A/B, with the new build or, WYCMP_LIB=var..., that
# variant's GPU library; WYCMP_ARGS e.g. --skip-timing),
# VAR_FILTER (gtest filter of the variants' tests), SAN_LIB (the folder of the library the
# sanitizers run: default .gpuwork/lib), PYSMOKE=1 (tests/python/test_smoke.py with .gpuwork/lib).
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
  if [ "${SKIP_NEW_TESTS:-0}" = 0 ]; then
    timeout 150 "$W/bin/test_gpu" > "$OUT/tests.log" 2>&1; echo "test_gpu rc=$?"
    grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure" "$OUT/tests.log" | head -30
  fi
  for d in "$W"/var*; do
    [ -e "$d/libtriscan_gpu.so.0" ] || continue
    v=$(basename "$d")
    LD_LIBRARY_PATH=$d:$W/lib:$base timeout ${VAR_TIMEOUT:-120} "$W/bin/test_gpu" \
      --gtest_filter="${VAR_FILTER:-ChunkWyGpu.*:DeltaForwardGpu.*}" > "$OUT/${v}_tests.log" 2>&1
    echo "$v test_gpu rc=$?"; grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure" "$OUT/${v}_tests.log" | head -20
  done
fi
if [ "${SKIP_SAN:-0}" = 0 ]; then
  echo "== sanitizers $(date -u +%T) ${SAN_LIB:-lib}"
  export LD_LIBRARY_PATH=$W/${SAN_LIB:-lib}:$W/lib:$base
  timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter="${SAN_FILTER:-ChunkWyGpu.*}" > "$OUT/memcheck.log" 2>&1
  echo "memcheck rc=$?"; tail -n 2 "$OUT/memcheck.log"
  timeout 150 compute-sanitizer --tool racecheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter="${RACE_FILTER:-ChunkWyGpu.*}" > "$OUT/racecheck.log" 2>&1
  echo "racecheck rc=$?"; tail -n 2 "$OUT/racecheck.log"
  export LD_LIBRARY_PATH=$W/lib:$base
fi
if [ "${PYSMOKE:-0}" = 1 ]; then
  echo "== python smoke $(date -u +%T)"
  timeout 150 python3 tests/python/test_smoke.py -v > "$OUT/pysmoke.log" 2>&1; echo "python smoke rc=$?"
  grep -E "gpu|GPU|Ran |OK|FAIL|Error|skipped" "$OUT/pysmoke.log" | tail -12
fi
if [ "${SKIP_AB:-0}" = 0 ]; then
  builds="new=$W/lib/libtriscan_gpu.so.0"
  [ -e "$W/old/libtriscan_gpu.so.0" ] && builds="old=$W/old/libtriscan_gpu.so.0 $builds"
  for d in "$W"/var*; do
    [ -e "$d/libtriscan_gpu.so.0" ] && builds="$builds $(basename "$d")=$d/libtriscan_gpu.so.0"
  done
  echo "== ab $(date -u +%T)"
  timeout 300 python3 bench/ab_gpu_builds.py $builds --rounds ${ROUNDS:-5} \
    --calls ${CALLS:-wy,wy_noinv,rwy,gdn} --out "$OUT/ab.jsonl" > "$OUT/ab.log" 2>&1
  echo "ab rc=$?"; grep -vE "^round" "$OUT/ab.log"
fi
if [ "${WYCMP:-0}" = 1 ]; then
  echo "== fla_wy_compare $(date -u +%T)"
  TRISCAN_LIBRARY_PATH=${WYCMP_LIB:+$W/$WYCMP_LIB:}$W/lib timeout 240 python3 bench/fla_wy_compare.py \
    ${WYCMP_ARGS:-} --out "$OUT/fla_wy.jsonl" > "$OUT/fla_wy.log" 2>&1
  echo "fla_wy rc=$?"; grep -v '^{' "$OUT/fla_wy.log" | tail -60
fi
echo "== done $(date -u +%T)"
