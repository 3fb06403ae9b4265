#!/usr/bin/env bash
# bench/gpu_device_run.sh — one device call: checks, GPU tests (plain, memcheck,
# racecheck), the CUDA-event bench and the FLA comparison. Expects binaries, shared
# libraries, scripts and wheels copied under .gpuwork/ (see docs/benchmarks.md), writes
# logs under $OUT. Usage: bench/gpu_device_run.sh STEP... with STEP one of tests,
# quicktests, bench, fla, fla060, fla052, capi, dropin (DROPIN_FILTER=..., DROPIN_TIMEOUT=s,
# default 400), counters, wy, wybench (WY_ARGS=...), wyncu, scan, scanbench (SCAN_ARGS=...), delta,
# deltabench (DELTA_ARGS=...), deltancu, mma, newcheck, pysmoke, all.
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
for z in "$W"/lib/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done  # carried compressed (the 64 MiB tree limit)
export LD_LIBRARY_PATH=$W/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
for d in $(python3 -c 'import nvidia, os; p = nvidia.__path__[0]; print(" ".join(os.path.join(p, s, "lib") for s in os.listdir(p)))' 2>/dev/null); do
  LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$d
done
what=${*:-all}

info() {
  { date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv
    nvcc --version | tail -1; which compute-sanitizer
    for b in $W/bin/*; do echo "== ldd $b"; ldd "$b" | grep -E "not found|triscan|cuda|cublas|gtest|openblas"; done
  } > "$OUT/info.log" 2>&1; cat "$OUT/info.log"
}

tests() {
  timeout 240 "$W/bin/test_gpu" > "$OUT/tests.log" 2>&1; echo "test_gpu rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure|bound|exceeds" "$OUT/tests.log" | head -30
  timeout 200 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='TrinvGpuContract.*:-*ResidualBound*' > "$OUT/memcheck.log" 2>&1; echo "memcheck rc=$?"
  tail -4 "$OUT/memcheck.log"
  timeout 120 compute-sanitizer --tool racecheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='TrinvGpuContract.NonFinite*:TrinvGpuContract.AllOnes*:TrinvGpuContract.Garbage*' \
    > "$OUT/racecheck.log" 2>&1; echo "racecheck rc=$?"
  tail -4 "$OUT/racecheck.log"
}

bench() { timeout 300 "$W/bin/gpu_bench_trinv" --runs 50 ${BENCH_ARGS:-} > "$OUT/bench.log" 2>&1; echo "bench rc=$?"; cat "$OUT/bench.log" | grep -v '^{'; }

fla() {  # fla [060|052]...
  rm -rf /tmp/npy && mkdir -p /tmp/npy && timeout 120 "$W/bin/gpu_bench_trinv" --write-npy /tmp/npy > /dev/null || return
  for v in "$@"; do
    if [ "$v" = 060 ]; then whl=.whl/fla_core-0.6.0*.whl; else whl="$W/fla052/*.whl"; fi
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site$v $whl
    extra=""; [ "$v" = 052 ] && extra=--skip-accuracy  # 0.5.2: timing only (device time)
    PYTHONPATH=/tmp/site$v PYTHONUNBUFFERED=1 timeout 300 python3 "$W/fla_compare.py" --lib "$W/lib/libtriscan_gpu.so.0" \
      $extra --inputs /tmp/npy --out "$OUT/fla$v.jsonl" > "/tmp/fla$v.log" 2>&1; echo "fla $v rc=$?"
    grep -v '^{' "/tmp/fla$v.log" | tail -15
  done
}

# The C API's GPU entry points (GoogleTest and the C99 program).
capi() {
  timeout 120 "$W/bin/test_capi" > "$OUT/capi.log" 2>&1; echo "test_capi rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |Failure" "$OUT/capi.log" | head -10
  timeout 60 "$W/bin/test_capi_c" > "$OUT/capi_c.log" 2>&1; echo "test_capi_c rc=$?"; tail -3 "$OUT/capi_c.log"
}

# The Python package's smoke tests, with the GPU cases (torch on the device).
pysmoke() {
  PYTHONPATH=$PWD/python TRISCAN_LIBRARY_PATH=$W/lib timeout 120 python3 tests/python/test_smoke.py -v \
    > "$OUT/pysmoke.log" 2>&1; echo "python smoke rc=$?"; grep -E "gpu|GPU|Ran |OK|FAIL|skipped" "$OUT/pysmoke.log" | tail -8
}

# FLA's own solve_tril (and DeltaNet) tests with triscan.solve_tril substituted.
dropin() {
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
  PYTHONPATH=$PWD/python:/tmp/site060 TRISCAN_LIBRARY_PATH=$W/lib PYTHONUNBUFFERED=1 timeout ${DROPIN_TIMEOUT:-400} \
    python3 bench/fla_dropin.py ${DROPIN_FILTER:-} > "$OUT/dropin.log" 2>&1; echo "fla_dropin rc=$?"
  grep -vE "^\s*$" "$OUT/dropin.log" | tail -25
}

# The fused chunk WY kernel: its tests (plain, memcheck, racecheck), then the comparison
# with flash-linear-attention 0.6.0 (bench/fla_wy_compare.py).
wy() {
  timeout 300 "$W/bin/test_gpu" --gtest_filter='ChunkWyGpu.*' > "$OUT/wy_tests.log" 2>&1; echo "wy tests rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |error/bound|Failure|got " "$OUT/wy_tests.log" | head -40
  timeout 200 compute-sanitizer --tool memcheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='ChunkWyGpu.VariableLength*:ChunkWyGpu.NonFinite*:ChunkWyGpu.BadArguments*' > "$OUT/wy_memcheck.log" 2>&1
  echo "wy memcheck rc=$?"; tail -3 "$OUT/wy_memcheck.log"
  timeout 200 compute-sanitizer --tool racecheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='ChunkWyGpu.VariableLength*' > "$OUT/wy_racecheck.log" 2>&1
  echo "wy racecheck rc=$?"; tail -3 "$OUT/wy_racecheck.log"
}
wybench() {
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
  PYTHONPATH=$PWD/python:/tmp/site060 TRISCAN_LIBRARY_PATH=$W/lib PYTHONUNBUFFERED=1 timeout 400 \
    python3 bench/fla_wy_compare.py ${WY_ARGS:-} --out "$OUT/fla_wy.jsonl" > "$OUT/fla_wy.log" 2>&1; echo "fla_wy rc=$?"
  grep -v '^{' "$OUT/fla_wy.log" | tail -45
}

# The GPU scans (tests, memcheck, racecheck) and their bench against copy and CUB.
scan() {
  timeout 300 "$W/bin/test_gpu" --gtest_filter='ScanGpu*' > "$OUT/scan_tests.log" 2>&1; echo "scan tests rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |error/bound|Failure|bound" "$OUT/scan_tests.log" | head -40
  timeout 200 compute-sanitizer --tool memcheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='ScanGpu*:-*LongSequences*' > "$OUT/scan_memcheck.log" 2>&1; echo "scan memcheck rc=$?"; tail -3 "$OUT/scan_memcheck.log"
  timeout 200 compute-sanitizer --tool racecheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='ScanGpu*:-*LongSequences*' > "$OUT/scan_racecheck.log" 2>&1; echo "scan racecheck rc=$?"; tail -3 "$OUT/scan_racecheck.log"
}
scanbench() { timeout 300 "$W/bin/gpu_bench_scan" ${SCAN_ARGS:---runs 10} > "$OUT/scan_bench.log" 2>&1; echo "scan bench rc=$?"; grep -v '^{' "$OUT/scan_bench.log" | tail -30; }

# The GPU chunkwise delta-rule forward: tests (plain, memcheck, racecheck), then the
# comparison with flash-linear-attention 0.6.0 (bench/fla_delta_compare.py).
delta() {
  timeout 300 "$W/bin/test_gpu" --gtest_filter='DeltaForwardGpu.*' > "$OUT/delta_tests.log" 2>&1; echo "delta tests rc=$?"
  grep -E "^\[  (FAILED|PASSED|SKIPPED) |error/bound|Failure|got " "$OUT/delta_tests.log" | head -40
  timeout 300 compute-sanitizer --tool memcheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='DeltaForwardGpu.VariableLength*:DeltaForwardGpu.Statuses*:DeltaForwardGpu.BadArguments*' > "$OUT/delta_memcheck.log" 2>&1
  echo "delta memcheck rc=$?"; tail -3 "$OUT/delta_memcheck.log"
  timeout 300 compute-sanitizer --tool racecheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='DeltaForwardGpu.Statuses*' > "$OUT/delta_racecheck.log" 2>&1
  echo "delta racecheck rc=$?"; tail -3 "$OUT/delta_racecheck.log"
}
deltabench() {
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
  PYTHONPATH=$PWD/python:/tmp/site060 TRISCAN_LIBRARY_PATH=$W/lib PYTHONUNBUFFERED=1 timeout 420 \
    python3 bench/fla_delta_compare.py ${DELTA_ARGS:-} --out "$OUT/fla_delta.jsonl" > "$OUT/fla_delta.log" 2>&1; echo "fla_delta rc=$?"
  grep -v '^{' "$OUT/fla_delta.log" | tail -45
}

# The GPU inversion's matrix-unit variants (tensor-core merges, check, refine) and
# the new tests of this session's kernels under memcheck.
mma() {
  timeout 200 "$W/bin/gpu_bench_trinv" --runs 30 --mma-only > "$OUT/mma_bench.log" 2>&1; echo "mma bench rc=$?"
  grep -v '^{' "$OUT/mma_bench.log" | tail -40
}
newcheck() {
  timeout 400 compute-sanitizer --tool memcheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='TrinvGpuMma.*:ChunkWyGpu.Kda*:DeltaForwardGpu.Segments*' > "$OUT/new_memcheck.log" 2>&1
  echo "new memcheck rc=$?"; grep -E "PASSED|FAILED|SUMMARY" "$OUT/new_memcheck.log" | tail -4
}

# Nsight Compute sections of one chunk-state kernel launch (the 2nd of bench/delta_once.py).
deltancu() {
  PYTHONPATH=$PWD/python TRISCAN_LIBRARY_PATH=$W/lib timeout 400 ncu --kernel-name regex:delta_state \
    --launch-skip 1 --launch-count 1 --section SpeedOfLight --section Occupancy --section LaunchStats \
    --section SchedulerStats --section WarpStateStats --section ComputeWorkloadAnalysis \
    --section MemoryWorkloadAnalysis ${NCU_ARGS:-} python3 bench/delta_once.py > "$OUT/delta_ncu.log" 2>&1
  echo "ncu rc=$?"; grep -vE "^==PROF==|^\s*$|----" "$OUT/delta_ncu.log" | tail -100
}

# Nsight Compute sections of one fused chunk WY launch (the 2nd of bench/fla_wy_once.py).
wyncu() {
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
  PYTHONPATH=$PWD/python:/tmp/site060 TRISCAN_LIBRARY_PATH=$W/lib timeout 300 ncu --kernel-name regex:chunk_wy \
    --launch-skip 1 --launch-count 1 --section SpeedOfLight --section Occupancy --section WarpStateStats \
    --section SchedulerStats --section MemoryWorkloadAnalysis ${NCU_ARGS:-} python3 bench/fla_wy_once.py > "$OUT/wy_ncu.log" 2>&1
  echo "ncu rc=$?"; grep -vE "^==PROF==|^\s*$|----" "$OUT/wy_ncu.log" | tail -90
}

# Hardware counters of one BT = 64 fp32 launch (the 11th kernel of the bench run):
# shared-memory load instructions vs wavefronts, pipe and DRAM utilization.
counters() {
  timeout 150 ncu --clock-control none --kernel-name regex:invert_ --launch-skip 10 --launch-count 1 \
    --metrics gpu__time_duration.sum,smsp__inst_executed_op_shared_ld.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_elapsed,smsp__inst_executed.sum,sm__warps_active.avg.pct_of_peak_sustained_active,dram__bytes_read.sum,dram__bytes_write.sum \
    "$W/bin/gpu_bench_trinv" --runs 5 --first-case-only > "$OUT/ncu.log" 2>&1; echo "ncu rc=$?"
  grep -E "invert_|gpu__time|shared|dram__|fma|inst_executed.sum|warps_active" "$OUT/ncu.log" | head -14
}

info
for w in $what; do
  case $w in
    counters) counters ;; capi) capi ;; wy) wy ;; wybench) wybench ;; pysmoke) pysmoke ;; scan) scan ;; scanbench) scanbench ;; wyncu) wyncu ;; delta) delta ;; deltancu) deltancu ;; mma) mma ;; newcheck) newcheck ;; deltabench) deltabench ;; dropin) dropin ;; tests) tests ;; quicktests) timeout 240 "$W/bin/test_gpu" > "$OUT/tests.log" 2>&1; echo "test_gpu rc=$?"; grep -E "^\[  (FAILED|PASSED|SKIPPED) |ms\)$" "$OUT/tests.log" | tail -12 ;; bench) bench ;; fla060) fla 060 ;; fla052) fla 052 ;; fla) fla 060 052 ;;
    all) tests; bench; fla 060 052 ;;
  esac
done
