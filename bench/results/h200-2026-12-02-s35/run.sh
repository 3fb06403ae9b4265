#!/usr/bin/env bash
# Session 35's device calls, through session 23's script (../h200-2026-11-30-s23/run.sh, whose
# header lists the environment it reads). Libraries built on the CPU machine (nvcc 13.0, sm_90a),
# carried in .gpuwork/ (ignored by git) with fla-core 0.6.0's wheel in .whl/:
#   lib/       the kept kernel (b63019b; HEAD 4892549), bin/test_gpu the tests of HEAD;
#   var_a/     lib/ with variants/a_last_regular.diff (the last 64-column panel of W and of U
#              stored by the threads' own 16-byte stores: no bulk copy whose reads the block's
#              exit waits for);
#   var_b/     lib/ with variants/b_p1.diff (W_j rounded once where it re-enters the later blocks'
#              products: two wgmma per term instead of three; session 30's p1);
#   var_c/     lib/ with variants/c_last_regular_p1.diff (a and b together);
#   (var_same/, a copy of lib/, was left out: with it the carried files passed 64 MiB.)
#   call 2:    lib/ and bin/ of the commit that adds WyGpuOptions::rounded_reentry (variant b as
#              an option, RR template parameter; the default path unchanged), bin/test_capi too;
#              no var*/.
#   call 3:    as call 2, with var_same/ (a copy of lib/); the A/B alone (call 2's failed: the
#              script wants two builds), 11 rounds, rounded re-entry against the default per round.
#   call 4:    as call 3 (lib/ of f9a72b6, whose kernel the later commits do not change):
#              bench/fla_dropin.py test_gated_delta (FLA's Gated DeltaNet cases) with
#              TRISCAN_DROPIN_REENTRY=1 (rounded re-entry), then without.
#   bash run.sh call1 | call2 | call3 | call4
set -u
here=$(dirname "$0")
s23=$here/../h200-2026-11-30-s23/run.sh
case "${1:-}" in
  call1)  # var_a's ChunkWy tests, memcheck and racecheck; the A/B; FLA compare with var_c
    SKIP_NEW_TESTS=1 VAR_FILTER='ChunkWyGpu.*-ChunkWyGpu.MoreChunkRowsThanAGridDimension' \
      SAN_LIB=var_a SAN_FILTER='ChunkWyGpu.WholeChunksOnly:ChunkWyGpu.BulkCopiesMatchCpAsyncBitForBit' \
      RACE_FILTER='ChunkWyGpu.WholeChunksOnly' CALLS=wy_noinv,wy ROUNDS=9 WYCMP=1 WYCMP_LIB=var_c \
      bash "$s23" ;;
  call2)  # every GPU test and the C API's GPU tests of the option's commit; sanitizers on its
          # test; Python smoke; A/B of the default against rounded re-entry; FLA compare
    W=$PWD/.gpuwork OUT=${OUT:-/tmp/out}
    mkdir -p "$OUT"
    for z in "$W"/lib/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
    LD_LIBRARY_PATH=$W/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-} timeout 120 "$W/bin/test_capi" \
      --gtest_filter='CapiGpu.*' > "$OUT/capi.log" 2>&1
    echo "test_capi rc=$?"; grep -E "^\[  (FAILED|PASSED|SKIPPED) |tests ran|Failure" "$OUT/capi.log"
    SAN_FILTER='ChunkWyGpu.RoundedReentry' RACE_FILTER='ChunkWyGpu.RoundedReentry' PYSMOKE=1 \
      CALLS=wy_noinv,rrwy_noinv,wy,rrwy ROUNDS=9 WYCMP=1 bash "$s23" ;;
  call3)  # the default against rounded re-entry, same build, same rounds
    W=$PWD/.gpuwork OUT=${OUT:-/tmp/out}
    mkdir -p "$OUT"
    for z in "$W"/lib/*.xz "$W"/var*/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 \
      .whl/fla_core-0.6.0*.whl
    export PYTHONPATH=$PWD/python:$PWD/bench:/tmp/site060 TRISCAN_LIBRARY_PATH=$W/lib PYTHONUNBUFFERED=1
    export LD_LIBRARY_PATH=$W/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
    { date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv; } > "$OUT/info.log" 2>&1
    cat "$OUT/info.log"
    timeout 400 python3 bench/ab_gpu_builds.py new=$W/lib/libtriscan_gpu.so.0 \
      same=$W/var_same/libtriscan_gpu.so.0 --rounds 11 --calls wy_noinv,rrwy_noinv,wy,rrwy \
      --pairs rrwy_noinv/wy_noinv,rrwy/wy --out "$OUT/ab.jsonl" > "$OUT/ab.log" 2>&1
    echo "ab rc=$?"; cat "$OUT/ab.log" ;;
  call4)  # FLA's Gated DeltaNet test cases through the drop-in, with and without re-entry
    W=$PWD/.gpuwork OUT=${OUT:-/tmp/out}
    mkdir -p "$OUT"
    for z in "$W"/lib/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
    rm -rf /tmp/fla && python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
      --target /tmp/fla .whl/fla_core-0.6.0*.whl
    export PYTHONPATH=$PWD/python:/tmp/fla TRISCAN_LIBRARY_PATH=$W/lib PYTHONUNBUFFERED=1
    export LD_LIBRARY_PATH=$W/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
    date -u > "$OUT/info.log"
    for rr in 1 0; do
      TRISCAN_DROPIN_REENTRY=$rr timeout 240 python3 bench/fla_dropin.py test_gated_delta \
        > "$OUT/dropin_gated_rr$rr.log" 2>&1
      echo "dropin rr=$rr rc=$?"; grep -E "^fla_dropin: [0-9]|^FAIL" "$OUT/dropin_gated_rr$rr.log" | head
    done ;;
  *) echo "usage: run.sh call1|call2|call3|call4" >&2; exit 2 ;;
esac
