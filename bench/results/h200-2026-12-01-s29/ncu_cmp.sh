#!/usr/bin/env bash
# Session 29: Nsight Compute of one fused chunk WY launch (session 19's prof_wy.py) for each
# build NAME=DIR: warp states, source counters, memory tables (shared-memory bank conflicts),
# scheduler; $OUT/NAME_details.txt and $OUT/NAME_sass.csv.xz.
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
for z in "$W"/lib/*.xz "$W"/var*/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
base=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
export PYTHONPATH=$PWD/python:$PWD/bench:/tmp/site060 PYTHONUNBUFFERED=1
for b in "$@"; do
  n=${b%%=*}; d=${b#*=}
  TRISCAN_LIBRARY_PATH=$d:$W/lib LD_LIBRARY_PATH=$d:$W/lib:$base timeout 200 \
    ncu --profile-from-start off --kernel-name regex:chunk_wy --section WarpStateStats \
    --section SourceCounters --section SchedulerStats --section MemoryWorkloadAnalysis_Tables \
    --section SpeedOfLight --section Occupancy --section LaunchStats -f -o /tmp/${n}_src \
    python3 bench/results/h200-2026-11-30-s19/prof_wy.py > "$OUT/${n}_details.txt" 2>&1
  echo "== $n ncu rc=$?"
  ncu -i /tmp/${n}_src.ncu-rep --page details >> "$OUT/${n}_details.txt" 2>&1
  ncu -i /tmp/${n}_src.ncu-rep --page source --csv --print-source sass > /tmp/${n}_sass.csv 2>/dev/null
  xz -T4 -6 -c /tmp/${n}_sass.csv > "$OUT/${n}_sass.csv.xz"
  grep -E "Duration|Bank|Registers|Achieved Occupancy|Theoretical Occupancy|Block Limit|Local|Issued Ipc|Memory Throughput|DRAM Throughput" "$OUT/${n}_details.txt" | head -30
done
