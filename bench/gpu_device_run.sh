#!/usr/bin/env bash
# bench/gpu_device_run.sh — one device call: checks, GPU tests (plain, memcheck,
# racecheck), the CUDA-event bench and the FLA comparison. Expects binaries, shared
# libraries, scripts and wheels copied under .gpuwork/ (see docs/benchmarks.md), writes
# logs under $OUT. Usage: bench/gpu_device_run.sh [tests|bench|fla|all]...
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$W/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
for d in $(python3 -c 'import nvidia, os; p = nvidia.__path__[0]; print(" ".join(os.path.join(p, s, "lib") for s in os.listdir(p)))' 2>/dev/null); do
  LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$d
done
what=${*:-all}

info() {
  { date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv
    nvcc --version | tail -1; which compute-sanitizer
    for b in $W/bin/*; do echo "== ldd $b"; ldd "$b" | grep -E "not found|triscan|cuda|cublas|gtest|openblas"; done
  } 2>&1 | tee "$OUT/info.log"
}

tests() {
  "$W/bin/test_gpu" --gtest_brief=0 2>&1 | tail -60 | tee "$OUT/tests.log"
  compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='TrinvGpuContract.*:-*StridedBatchEverySize' 2>&1 | tail -25 | tee "$OUT/memcheck.log"
  compute-sanitizer --tool racecheck --error-exitcode 9 "$W/bin/test_gpu" \
    --gtest_filter='TrinvGpuContract.NonFinite*:TrinvGpuContract.AllOnes*:TrinvGpuContract.Garbage*' 2>&1 | tail -15 | tee "$OUT/racecheck.log"
}

bench() { "$W/bin/gpu_bench_trinv" --runs 50 2>&1 | tee "$OUT/bench.log"; }

fla() {
  rm -rf /tmp/npy && mkdir -p /tmp/npy && "$W/bin/gpu_bench_trinv" --write-npy /tmp/npy > /dev/null || return
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site052 "$W"/fla052/*.whl
  PYTHONPATH=/tmp/site060 PYTHONUNBUFFERED=1 python3 "$W/fla_compare.py" --lib "$W/lib/libtriscan_gpu.so.0" \
    --inputs /tmp/npy --out "$OUT/fla060.jsonl" 2>&1 | tail -40
  PYTHONPATH=/tmp/site052 PYTHONUNBUFFERED=1 python3 "$W/fla_compare.py" --lib "$W/lib/libtriscan_gpu.so.0" \
    --inputs /tmp/npy --out "$OUT/fla052.jsonl" 2>&1 | tail -40
}

info
for w in $what; do
  case $w in
    tests) tests ;; bench) bench ;; fla) fla ;;
    all) tests; bench; fla ;;
  esac
done
