#!/usr/bin/env python3
"""ab_wy.py OLD_LIB NEW_LIB [ROUNDS]: triscan's fused chunk WY from two builds of
libtriscan_gpu in one process, alternated round by round (inputs as in
bench/fla_wy_compare.py's timing: B=4 T=16384 H=32 dk=dv=128 bf16, gate -0.1), each
timed with the inverse written (as FLA's fwd_intra) and without; FLA's production path
timed in the same rounds. Prints per-round times, medians, new/old per-round ratios and
the largest difference between the two builds' outputs relative to the largest entry.
A session-13 experiment (session 11's ab_wy.py extended), not part of the library."""
import ctypes, statistics, sys
import torch
sys.path.insert(0, "bench")
import fla_wy_compare as F
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
names = ["old", "new", "old_noinv", "new_noinv", "fla"]
res = {n: [] for n in names}
outs = {}
for r in range(rounds):
    for name, h in zip(["old", "new"], handles):
        _lib._gpu = h
        res[name].append(F.time_call(lambda: F.triscan_fused(k, v, beta, g), 20))
        res[name + "_noinv"].append(
            F.time_call(lambda: F.triscan_fused(k, v, beta, g, output_inverse=False), 20))
        if r == 0:
            outs[name] = [x.float().clone() for x in F.triscan_fused(k, v, beta, g)]
    res["fla"].append(F.time_call(lambda: F.fla_production(k, v, beta, g), 20))
    print("round %d: " % r + "  ".join("%s %.1f" % (n, res[n][-1]) for n in names) + " us",
          flush=True)
for n in names:
    print("%-10s median %.1f us (min %.1f)" % (n, statistics.median(res[n]), min(res[n])))
for a, b in [("new", "old"), ("new_noinv", "old_noinv"), ("fla", "new"), ("fla", "new_noinv")]:
    print("%s/%s per round median %.3f" %
          (a, b, statistics.median([x / y for x, y in zip(res[a], res[b])])))
for what, x, y in zip(["w", "u", "A"], outs["old"], outs["new"]):
    d = (x - y).abs().max().item() / max(x.abs().max().item(), 1e-30)
    print("%s: max |new - old| / max |old| = %.3g" % (what, d))
