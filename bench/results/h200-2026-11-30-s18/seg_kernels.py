#!/usr/bin/env python3
"""seg_kernels.py: per-kernel GPU times (torch.profiler, CUPTI) of one triscan
chunk_gated_delta_rule call at the few-sequence shape of bench/fla_delta_compare.py (B=1,
T=65536, H=8, dk=dv=128, bf16, gate -0.1, chunk 32) for several segment counts, and of one
FLA call. A session-18 measurement script, not part of the library."""
import sys
import torch
from torch.profiler import profile, ProfilerActivity
sys.path.insert(0, "bench")
import fla_delta_compare as FD

q, k, v, b, g = FD.make_inputs(1, 65536, 8, 128, -0.1, "gaussian", 1)


def show(label, fn):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as p:
        fn()
        torch.cuda.synchronize()
    rows = {}
    for e in p.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            name = e.name
            for key in ("delta_state_kernel", "combine_segments", "chunk_wy_kernel"):
                if key in name:
                    if key == "delta_state_kernel":
                        name = key + ("(o)" if "Lb1ELb1E" in name or "Lb1ELb0E" in name else "")
                        # template args: ..., Tout, WITH_O, GATED, SPLIT
                        import re
                        m = re.search(r"ILi\d+ELi\d+E.*?(Lb[01])E(Lb[01])E(Lb[01])E", e.name)
                        if m:
                            name = "delta_state_kernel WITH_O=%s" % m.group(1)[-1]
                    else:
                        name = key
            rows.setdefault(name, []).append(e.device_time_total if hasattr(e, "device_time_total") else e.cuda_time_total)
    total = 0.0
    print("== %s" % label)
    for name, ts in sorted(rows.items(), key=lambda x: -sum(x[1])):
        total += sum(ts)
        print("  %-60s %3d launches %10.1f us" % (name[:60], len(ts), sum(ts)))
    print("  total %.1f us" % total, flush=True)


for segs in (1, 4, 8, 16, 32):
    show("triscan segments=%d" % segs, lambda: FD.run("triscan", q, k, v, b, g, segments=segs))
show("fla", lambda: FD.run("fla", q, k, v, b, g))
