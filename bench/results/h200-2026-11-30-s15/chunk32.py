#!/usr/bin/env python3
"""chunk32.py [ROUNDS]: the GPU delta-rule forward at chunk_size 32 vs 64 in one process,
alternated round by round (median of 20 calls per round), FLA 0.6.0's production path in
the same rounds; B=4 T=16384 H=32 dk=dv=128 bf16, gates U(-0.1, 0) (inputs as
bench/fla_delta_compare.py). Then the error of o and the final state against the fp64
recurrence at both chunk sizes (fla_delta_compare's accuracy classes at B=1, T=2048, H=8).
A session-15 experiment script, not part of the library."""
import statistics, sys
import torch
sys.path.insert(0, "bench")
import fla_delta_compare as FD
from fla_wy_compare import time_call
import triscan

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
B, T, H, D = 4, 16384, 32, 128
q, k, v, b, g = FD.make_inputs(B, T, H, D, -0.1, "gaussian", 1)


def tri(bt, gated):
    def f():
        with torch.inference_mode():
            kw = dict(output_final_state=True, status="ignore", chunk_size=bt)
            if gated:
                return triscan.chunk_gated_delta_rule(q, k, v, g, b, **kw)
            return triscan.chunk_delta_rule(q, k, v, b, **kw)
    return f


calls = {"gdn64": tri(64, True), "gdn32": tri(32, True), "dn64": tri(64, False), "dn32": tri(32, False),
         "fla_gdn": lambda: FD.run("fla", q, k, v, b, g), "fla_dn": lambda: FD.run("fla", q, k, v, b, None)}
res = {}
for r in range(rounds):
    items = list(calls.items())
    if r % 2:
        items.reverse()
    for n, f in items:
        res.setdefault(n, []).append(time_call(f, 20))
    print("round %d: " % r + "  ".join("%s %.1f" % (n, x[-1]) for n, x in res.items()) + " us", flush=True)
for n, x in res.items():
    print("%-8s median %.1f us (min %.1f)" % (n, statistics.median(x), min(x)))
for c in ("gdn", "dn"):
    print("%s: chunk 32 / chunk 64 per round median %.3f; FLA / chunk 32 %.3f" % (
        c, statistics.median([a / b_ for a, b_ in zip(res[c + "32"], res[c + "64"])]),
        statistics.median([a / b_ for a, b_ in zip(res["fla_" + c], res[c + "32"])])))
del q, k, v, b, g
torch.cuda.empty_cache()
Ba, Ta, Ha = 1, 2048, 8
for gate in (None, -1e-3, -0.1, -5.0):
    for keys in ("gaussian", "correlated"):
        qa, ka, va, ba, ga = FD.make_inputs(Ba, Ta, Ha, D, gate, keys, 7)
        want_o, want_s = FD.recurrence(qa, ka, va, ba, ga, D ** -0.5)
        line = []
        for bt in (64, 32):
            with torch.inference_mode():
                kw = dict(output_final_state=True, status="ignore", chunk_size=bt)
                if ga is None:
                    o, s = triscan.chunk_delta_rule(qa, ka, va, ba, **kw)
                else:
                    o, s = triscan.chunk_gated_delta_rule(qa, ka, va, ga, ba, **kw)
            eo = FD.head_errors(o, want_o, (0, 1, 3))
            es = FD.head_errors(s, want_s, (0, 2, 3))
            line.append("BT %d o %.2e/%.2e state %.2e/%.2e" % (bt, eo[0], eo[1], es[0], es[1]))
        print("%-7s %-10s " % (gate, keys) + "   ".join(line), flush=True)
