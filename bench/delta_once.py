#!/usr/bin/env python3
"""bench/delta_once.py — two calls of triscan.chunk_gated_delta_rule at B=4, T=16384, H=32,
dk=dv=128, bf16 (the issue 10 shape), for a profiler (bench/gpu_device_run.sh deltancu).
Needs torch and the triscan Python package with libtriscan_gpu (TRISCAN_LIBRARY_PATH)."""
import torch

import triscan

B, T, H, D = 4, 16384, 32, 128
gen = torch.Generator(device="cuda").manual_seed(1)
q, k = (torch.nn.functional.normalize(torch.randn(B, T, H, D, device="cuda", generator=gen), dim=-1)
        .to(torch.bfloat16) for _ in range(2))
v = torch.randn(B, T, H, D, device="cuda", generator=gen).to(torch.bfloat16)
beta = torch.rand(B, T, H, device="cuda", generator=gen).to(torch.bfloat16)
g = -0.1 * torch.rand(B, T, H, device="cuda", generator=gen)
for _ in range(2):
    o, s = triscan.chunk_gated_delta_rule(q, k, v, g, beta, output_final_state=True, status="ignore")
torch.cuda.synchronize()
print("ok", tuple(o.shape), float(o.float().abs().mean()))
