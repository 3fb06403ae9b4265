#!/usr/bin/env python3
"""prof_wy.py triscan|fla: three warm-up calls of the issue-8 WY step (inputs as
bench/fla_wy_compare.py: B=4 T=16384 H=32 dk=dv=128 bf16, gate -0.1), then one call between
cudaProfilerStart/Stop, for `ncu --profile-from-start off` (Triton's autotuning stays out
of the profile). triscan: the fused kernel without the inverse (as bench/fla_wy_once.py);
fla: chunk_gated_delta_rule_fwd_intra (its kkt + solve kernel, then recompute_w_u).
A session-13 profiling script, not part of the library."""
import sys
import torch
sys.path.insert(0, "bench")
import fla_wy_compare as F

which = sys.argv[1]
k, v, beta, g = F.make_inputs(4, 16384, 32, 128, -0.1, "gaussian", 1)
if which == "triscan":
    import triscan
    call = lambda: triscan.chunk_gated_delta_rule_fwd_intra(k, v, g, beta, status="ignore",
                                                            output_inverse=False)
else:
    call = lambda: F.fla_production(k, v, beta, g)
for _ in range(3):
    call()
torch.cuda.synchronize()
torch.cuda.cudart().cudaProfilerStart()
call()
torch.cuda.synchronize()
torch.cuda.cudart().cudaProfilerStop()
