#!/usr/bin/env bash
# Session 19: Nsight Compute of one fused chunk WY launch (prof_wy.py: W and U, no inverse) for
# each build given as NAME=DIR (DIR holding libtriscan_gpu.so.0): speed of light, memory,
# scheduler and warp-state sections, printed in full to $OUT/NAME_details.txt.
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
for z in "$W"/lib/*.xz "$W"/old/*.xz "$W"/var*/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
base=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
export PYTHONPATH=$PWD/python:$PWD/bench:/tmp/site060 PYTHONUNBUFFERED=1
for b in "$@"; do
  n=${b%%=*}; d=${b#*=}
  TRISCAN_LIBRARY_PATH=$d:$W/lib LD_LIBRARY_PATH=$d:$W/lib:$base timeout 200 \
    ncu --profile-from-start off --kernel-name regex:chunk_wy --section SpeedOfLight \
    --section MemoryWorkloadAnalysis --section SchedulerStats --section WarpStateStats \
    --section Occupancy --section LaunchStats -o "$OUT/$n" -f \
    python3 bench/results/h200-2026-11-30-s19/prof_wy.py > "$OUT/${n}_run.log" 2>&1
  echo "$n ncu rc=$?"; tail -n 1 "$OUT/${n}_run.log"
  ncu --import "$OUT/$n.ncu-rep" --print-details all > "$OUT/${n}_details.txt" 2>&1
  rm -f "$OUT/$n.ncu-rep"
  grep -E "^  [a-z_:]+chunk_wy|  Duration|DRAM Throughput|Memory Throughput|Executed Ipc A|Issue Slots Busy|No Eligible|Active Warps Per|Eligible Warps Per|Achieved Occupancy|Registers Per|Stall|Warp Cycles Per Issued" \
    "$OUT/${n}_details.txt" | head -24
done
