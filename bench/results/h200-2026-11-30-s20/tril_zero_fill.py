#!/usr/bin/env python3
"""tril_zero_fill.py: what triscan.solve_tril's X allocation costs at FLA's shape (session 20).
In one process, 5 rounds, median of 20 calls each: triscan.solve_tril on FLA's kkt output
([4, 16384, 32, 64] fp32, bench/fla_wy_compare.py's inputs) with fp32 and bf16 output (X now
torch.empty: every chunk full), torch.zeros of X's size (what the wrapper paid before), and
FLA's solve_tril. A session-20 measurement script, not part of the library."""
import statistics
import sys

import torch

sys.path.insert(0, "bench")
import fla_wy_compare as F
import triscan

k, _, beta, g = F.make_inputs(4, 16384, 32, 128, -0.1, "gaussian", 1)
A = F.chunk_scaled_dot_kkt_fwd(k=k, g=g, beta=beta, chunk_size=64, output_dtype=torch.float32)
calls = {}
for out in (torch.float32, torch.bfloat16):
    n = str(out).replace("torch.", "")
    calls["triscan " + n] = lambda out=out: triscan.solve_tril(A, output_dtype=out)
    calls["zeros " + n] = lambda out=out: torch.zeros(A.shape, dtype=out, device=A.device)
    calls["fla " + n] = lambda out=out: F.solve_tril(A=A, output_dtype=out)
res = {c: [] for c in calls}
for r in range(5):
    for c, f in calls.items():
        res[c].append(F.time_call(f, 20))
print("# %s, A %s fp32, median over 5 rounds of the median of 20 calls" % (torch.cuda.get_device_name(), list(A.shape)))
for c, x in res.items():
    print("%-16s %8.1f us (rounds %s)" % (c, statistics.median(x), " ".join("%.1f" % y for y in x)))
