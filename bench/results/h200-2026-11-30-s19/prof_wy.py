#!/usr/bin/env python3
"""prof_wy.py: three warm-up calls of triscan.chunk_gated_delta_rule_fwd_intra at the issue-8
shape (bench/fla_wy_compare.py's inputs: B=4 T=16384 H=32 dk=dv=128 bf16, gate -0.1, chunk 64,
no inverse written), then one call between cudaProfilerStart/Stop for
`ncu --profile-from-start off`. A session-19 profiling script, not part of the library."""
import sys
import torch
sys.path.insert(0, "bench")
import fla_wy_compare as F

k, v, beta, g = F.make_inputs(4, 16384, 32, 128, -0.1, "gaussian", 1)
for _ in range(3):
    F.triscan_fused(k, v, beta, g, output_inverse=False)
torch.cuda.synchronize()
torch.cuda.cudart().cudaProfilerStart()
F.triscan_fused(k, v, beta, g, output_inverse=False)
torch.cuda.synchronize()
torch.cuda.cudart().cudaProfilerStop()
