#!/usr/bin/env bash
# Session 22 (from session 20's ncu.sh, with the LaunchStats and Occupancy sections added):
# Nsight Compute of one fused chunk WY launch (session 19's prof_wy.py: W and U,
# no inverse) for each build NAME=DIR: duration, instructions, L1/shared data-pipe wavefronts
# by kind, L2 write sectors, issue and warp-state figures; $OUT/NAME_metrics.txt.
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
for z in "$W"/lib/*.xz "$W"/old/*.xz "$W"/var*/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
base=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
export PYTHONPATH=$PWD/python:$PWD/bench:/tmp/site060 PYTHONUNBUFFERED=1
M=gpu__time_duration.sum,smsp__inst_executed.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed
M=$M,l1tex__data_pipe_lsu_wavefronts.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum
M=$M,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum
M=$M,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum
M=$M,l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum,l1tex__t_requests_pipe_lsu_mem_global_op_st.sum
M=$M,l1tex__throughput.avg.pct_of_peak_sustained_active,l1tex__data_pipe_lsu_wavefronts.avg.pct_of_peak_sustained_elapsed
M=$M,lts__t_sectors_op_write.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed
M=$M,smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__warps_eligible.avg.per_cycle_active,smsp__warps_active.avg.per_cycle_active
M=$M,smsp__average_warp_latency_issue_stalled_barrier.ratio,smsp__average_warp_latency_issue_stalled_short_scoreboard.ratio
M=$M,smsp__average_warp_latency_issue_stalled_wait.ratio,smsp__average_warp_latency_issue_stalled_mio_throttle.ratio
M=$M,smsp__average_warp_latency_issue_stalled_lg_throttle.ratio,smsp__average_warp_latency_issue_stalled_long_scoreboard.ratio
M=$M,smsp__average_warp_latency_issue_stalled_math_pipe_throttle.ratio,smsp__average_warp_latency_issue_stalled_not_selected.ratio
M=$M,smsp__average_warp_latency_issue_stalled_selected.ratio,smsp__average_warp_latency_issue_stalled_dispatch_stall.ratio
M=$M,smsp__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,smsp__inst_executed_pipe_lsu.sum
M=$M,sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active,sm__pipe_alu_cycles_active.avg.pct_of_peak_sustained_active
M=$M,sm__mio_inst_issued.avg.pct_of_peak_sustained_active,sm__mio2rf_writeback_active.avg.pct_of_peak_sustained_active
for b in "$@"; do
  n=${b%%=*}; d=${b#*=}
  TRISCAN_LIBRARY_PATH=$d:$W/lib LD_LIBRARY_PATH=$d:$W/lib:$base timeout 200 \
    ncu --profile-from-start off --kernel-name regex:chunk_wy --section LaunchStats \
    --section Occupancy --metrics "$M" \
    python3 bench/results/h200-2026-11-30-s19/prof_wy.py > "$OUT/${n}_metrics.txt" 2>&1
  echo "== $n ncu rc=$?"; grep -E "^\s+[a-z_]+__|Occupancy|Block Limit|Waves|Shared Memory Config|Registers Per|Achieved" "$OUT/${n}_metrics.txt" | awk '{print $0}'
done
