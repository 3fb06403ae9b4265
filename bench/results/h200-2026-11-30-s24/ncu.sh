#!/usr/bin/env bash
# Session 24: Nsight Compute of one fused chunk WY launch (session 19's prof_wy.py: W and U, no
# inverse) for each build NAME=DIR, with the sections that say where the time goes (launch,
# occupancy, scheduler, warp states, instruction mix, memory workload) and session 22's
# metrics; $OUT/NAME_ncu.txt.
set -u
W=$PWD/.gpuwork
OUT=${OUT:-/tmp/out}
for z in "$W"/lib/*.xz "$W"/old/*.xz "$W"/var*/*.xz; do [ -e "$z" ] && xz -d -f "$z"; done
base=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site060 .whl/fla_core-0.6.0*.whl
export PYTHONPATH=$PWD/python:$PWD/bench:/tmp/site060 PYTHONUNBUFFERED=1
M=gpu__time_duration.sum,smsp__inst_executed.sum,dram__bytes_read.sum,dram__bytes_write.sum
M=$M,dram__throughput.avg.pct_of_peak_sustained_elapsed,smsp__issue_active.avg.pct_of_peak_sustained_active
M=$M,smsp__warps_eligible.avg.per_cycle_active,smsp__warps_active.avg.per_cycle_active
M=$M,smsp__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active
M=$M,smsp__inst_executed_pipe_tensor_op_hmma.sum,smsp__inst_executed_pipe_lsu.sum
M=$M,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum
M=$M,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum
M=$M,l1tex__data_pipe_lsu_wavefronts.avg.pct_of_peak_sustained_elapsed
M=$M,sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active,sm__pipe_alu_cycles_active.avg.pct_of_peak_sustained_active
M=$M,sm__inst_executed_pipe_fp64.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_xu.avg.pct_of_peak_sustained_active
M=$M,smsp__average_warp_latency_issue_stalled_barrier.ratio
M=$M,smsp__average_warp_latency_issue_stalled_long_scoreboard.ratio
M=$M,smsp__average_warp_latency_issue_stalled_short_scoreboard.ratio
M=$M,smsp__average_warp_latency_issue_stalled_mio_throttle.ratio
M=$M,smsp__average_warp_latency_issue_stalled_lg_throttle.ratio
M=$M,smsp__average_warp_latency_issue_stalled_wait.ratio
M=$M,smsp__average_warp_latency_issue_stalled_math_pipe_throttle.ratio
M=$M,smsp__average_warp_latency_issue_stalled_not_selected.ratio
M=$M,smsp__average_warp_latency_issue_stalled_selected.ratio
M=$M,smsp__average_warp_latency_issue_stalled_dispatch_stall.ratio
M=$M,smsp__average_warp_latency_issue_stalled_no_instruction.ratio
M=$M,smsp__average_warp_latency_issue_stalled_drain.ratio
M=$M,smsp__average_warp_latency_issue_stalled_membar.ratio
M=$M,smsp__average_warp_latency_issue_stalled_branch_resolving.ratio
M=$M,smsp__average_warp_latency_issue_stalled_sleeping.ratio
M=$M,smsp__average_warp_latency_issue_stalled_misc.ratio
M=$M,smsp__average_warp_latency_issue_stalled_tex_throttle.ratio
M=$M,smsp__average_warp_latency_issue_stalled_imc_miss.ratio
for b in "$@"; do
  n=${b%%=*}; d=${b#*=}
  TRISCAN_LIBRARY_PATH=$d:$W/lib LD_LIBRARY_PATH=$d:$W/lib:$base timeout 240 \
    ncu --profile-from-start off --kernel-name regex:chunk_wy --section LaunchStats \
    --section Occupancy --section SchedulerStats --section WarpStateStats --section InstructionStats \
    --section MemoryWorkloadAnalysis --section SpeedOfLight --metrics "$M" \
    python3 bench/results/h200-2026-11-30-s19/prof_wy.py > "$OUT/${n}_ncu.txt" 2>&1
  echo "== $n ncu rc=$?"; grep -E "^\s+[a-z_]+__|Stall|Warp Cycles|Issued|Eligible|Occupancy|Registers|Duration|Throughput" "$OUT/${n}_ncu.txt" | head -90
done
