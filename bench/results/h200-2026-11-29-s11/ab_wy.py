#!/usr/bin/env python3
"""ab_wy.py OLD_LIB NEW_LIB [ROUNDS]: triscan's fused chunk WY from two builds of
libtriscan_gpu in one process, alternated round by round (same inputs as
bench/fla_wy_compare.py's timing: B=4 T=16384 H=32 dk=dv=128 bf16, gate -0.1, W, U and
the inverse written), with FLA's production path timed in the same rounds; outputs of
the two builds compared bit for bit. A session-11 experiment, not part of the repo."""
import ctypes, statistics, sys
import torch
sys.path.insert(0, "bench")
import fla_wy_compare as F
import triscan
from triscan import _lib

libs = sys.argv[1:3]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
_lib.cpu()  # libtriscan (RTLD_GLOBAL), which both builds of libtriscan_gpu need
handles = []
for p in libs:
    h = ctypes.CDLL(p)
    _lib._declare(h, _lib._GPU_SIGNATURES)
    handles.append(h)
B, T, H, D = 4, 16384, 32, 128
k, v, beta, g = F.make_inputs(B, T, H, D, -0.1, "gaussian", 1)
res = {n: [] for n in ["old", "new", "fla"]}
outs = {}
for r in range(rounds):
    for name, h in zip(["old", "new"], handles):
        _lib._gpu = h
        res[name].append(F.time_call(lambda: F.triscan_fused(k, v, beta, g), 20))
        if r == 0:
            outs[name] = [x.clone() for x in F.triscan_fused(k, v, beta, g)]
    res["fla"].append(F.time_call(lambda: F.fla_production(k, v, beta, g), 20))
    print("round %d: old %.1f  new %.1f  fla %.1f us" % (r, res["old"][-1], res["new"][-1], res["fla"][-1]), flush=True)
for n, xs in res.items():
    print("%s: median %.1f us (min %.1f)" % (n, statistics.median(xs), min(xs)))
print("new/old per round median %.3f" % statistics.median([a / b for a, b in zip(res["new"], res["old"])]))
same = all(torch.equal(a, b) for a, b in zip(outs["old"], outs["new"]))
print("outputs (w, u, A) of old and new:", "bit-identical" if same else "DIFFER")
