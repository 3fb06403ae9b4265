#!/usr/bin/env python3
"""prof.py [gated|ungated]: three warm-up calls of triscan.chunk_gated_delta_rule (or
chunk_delta_rule) at the issue-10 shape (inputs as bench/fla_delta_compare.py: B=4 T=16384
H=32 dk=dv=128 bf16, gate -0.1, chunk 32), then one call between cudaProfilerStart/Stop for
`ncu --profile-from-start off`: its two kernels, the chunk WY kernel (X~ only) and the
chunk-state kernel. A session-16 profiling script (session 14's prof.py with the gate as an
argument), not part of the library."""
import sys
import torch
sys.path.insert(0, "bench")
import fla_delta_compare as FD

gated = len(sys.argv) < 2 or sys.argv[1] == "gated"
q, k, v, beta, g = FD.make_inputs(4, 16384, 32, 128, -0.1 if gated else None, "gaussian", 1)
for _ in range(3):
    FD.run("triscan", q, k, v, beta, g)
torch.cuda.synchronize()
torch.cuda.cudart().cudaProfilerStart()
FD.run("triscan", q, k, v, beta, g)
torch.cuda.synchronize()
torch.cuda.cudart().cudaProfilerStop()
