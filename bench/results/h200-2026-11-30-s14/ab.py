#!/usr/bin/env python3
"""ab.py OLD_LIB NEW_LIB [ROUNDS]: two builds of libtriscan_gpu in one process, alternated
round by round (median of 20 calls each per round): the fused chunk WY (with and without
the inverse; inputs as bench/fla_wy_compare.py: B=4 T=16384 H=32 dk=dv=128 bf16, gate
-0.1) and the chunkwise Gated DeltaNet / DeltaNet forward (inputs as
bench/fla_delta_compare.py, same shape), FLA 0.6.0's production paths timed in the same
rounds. Prints per-round times, medians, new/old per-round ratios and the largest
difference between the two builds' outputs relative to the largest entry.
A session-14 experiment script (session 13's ab_wy.py extended to the delta forward), not
part of the library."""
import ctypes, statistics, sys
import torch
sys.path.insert(0, "bench")
import fla_wy_compare as F
import fla_delta_compare as FD
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
q2, k2, v2, b2, g2 = FD.make_inputs(B, T, H, D, -0.1, "gaussian", 1)
calls = {
    "wy": lambda: F.triscan_fused(k, v, beta, g),
    "wy_noinv": lambda: F.triscan_fused(k, v, beta, g, output_inverse=False),
    "gdn": lambda: FD.run("triscan", q2, k2, v2, b2, g2),
    "dn": lambda: FD.run("triscan", q2, k2, v2, b2, None),
}
fla = {
    "fla_wy": lambda: F.fla_production(k, v, beta, g),
    "fla_gdn": lambda: FD.run("fla", q2, k2, v2, b2, g2),
    "fla_dn": lambda: FD.run("fla", q2, k2, v2, b2, None),
}
res, outs = {}, {}
for r in range(rounds):
    order = [("old", handles[0]), ("new", handles[1])]
    if r % 2:
        order.reverse()
    for name, h in order:
        _lib._gpu = h
        for c, f in calls.items():
            res.setdefault(name + "_" + c, []).append(F.time_call(f, 20))
            if r == 0:
                with torch.inference_mode():
                    o = f()
                outs[name + "_" + c] = [x.float().clone() for x in (o if isinstance(o, tuple) else [o])
                                        if torch.is_tensor(x)]
    for c, f in fla.items():
        res.setdefault(c, []).append(F.time_call(f, 20))
    print("round %d: " % r + "  ".join("%s %.1f" % (n, x[-1]) for n, x in res.items()) + " us",
          flush=True)
for n, x in res.items():
    print("%-14s median %.1f us (min %.1f)" % (n, statistics.median(x), min(x)))
for c in calls:
    ratio = statistics.median([a / b for a, b in zip(res["new_" + c], res["old_" + c])])
    print("%s new/old per round median %.3f" % (c, ratio))
for c, f in [("wy", "fla_wy"), ("gdn", "fla_gdn"), ("dn", "fla_dn")]:
    print("%s: FLA / new %.3f (median of per-round ratios)" %
          (c, statistics.median([a / b for a, b in zip(res[f], res["new_" + c])])))
for c in calls:
    for i, (x, y) in enumerate(zip(outs["old_" + c], outs["new_" + c])):
        d = (x - y).abs().max().item() / max(x.abs().max().item(), 1e-30)
        print("%s output %d: max |new - old| / max |old| = %.3g" % (c, i, d))
