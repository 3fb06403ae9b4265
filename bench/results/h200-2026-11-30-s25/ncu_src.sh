#!/usr/bin/env bash
# Session 25: Nsight Compute source counters (stall samples per SASS instruction) of one fused
# chunk WY launch (session 19's prof_wy.py: W and U, no inverse) for each build NAME=DIR;
# $OUT/NAME_sass.csv.xz (ncu --page source --print-source sass) and $OUT/NAME_warp.txt.
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
for z in "$W"/lib/*.xz "$W"/var*/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
base=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
export PYTHONPATH=$PWD/python:$PWD/bench:/tmp/site060 PYTHONUNBUFFERED=1
for b in "$@"; do
  n=${b%%=*}; d=${b#*=}
  TRISCAN_LIBRARY_PATH=$d:$W/lib LD_LIBRARY_PATH=$d:$W/lib:$base timeout 300 \
    ncu --profile-from-start off --kernel-name regex:chunk_wy --section WarpStateStats \
    --section SourceCounters --section SchedulerStats -f -o /tmp/${n}_src \
    python3 bench/results/h200-2026-11-30-s19/prof_wy.py > "$OUT/${n}_warp.txt" 2>&1
  echo "== $n ncu rc=$?"
  ncu -i /tmp/${n}_src.ncu-rep --page details >> "$OUT/${n}_warp.txt" 2>&1
  ncu -i /tmp/${n}_src.ncu-rep --page source --csv --print-source sass > /tmp/${n}_sass.csv 2> "$OUT/${n}_src_err.txt"
  echo "== $n source rc=$? $(wc -c < /tmp/${n}_sass.csv) bytes"; head -c 600 /tmp/${n}_sass.csv; echo
  xz -T4 -6 -c /tmp/${n}_sass.csv > "$OUT/${n}_sass.csv.xz"
done
