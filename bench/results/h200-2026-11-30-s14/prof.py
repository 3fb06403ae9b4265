#!/usr/bin/env python3
"""prof.py: three warm-up calls of triscan.chunk_gated_delta_rule at the issue-10 shape
(inputs as bench/fla_delta_compare.py: B=4 T=16384 H=32 dk=dv=128 bf16, gate -0.1), then
one call between cudaProfilerStart/Stop for `ncu --profile-from-start off`: its two
kernels, the fused chunk WY (W, U; no inverse) and the chunk-state kernel.
A session-14 profiling script, not part of the library."""
import sys
import torch
sys.path.insert(0, "bench")
import fla_delta_compare as FD

q, k, v, beta, g = FD.make_inputs(4, 16384, 32, 128, -0.1, "gaussian", 1)
for _ in range(3):
    FD.run("triscan", q, k, v, beta, g)
torch.cuda.synchronize()
torch.cuda.cudart().cudaProfilerStart()
FD.run("triscan", q, k, v, beta, g)
torch.cuda.synchronize()
torch.cuda.cudart().cudaProfilerStop()
