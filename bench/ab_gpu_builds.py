#!/usr/bin/env python3
"""bench/ab_gpu_builds.py — several builds of libtriscan_gpu timed against each other in one
process, alternated round by round, with flash-linear-attention's production paths timed in
the same rounds: the A/B measurement behind the performance notes in docs/benchmarks.md
(speed drifts between device calls by several percent; only ratios taken in the same
rounds are compared).

Calls (inputs as bench/fla_delta_compare.py and bench/fla_wy_compare.py: B=4, T=16384,
H=32, dk=dv=128, bf16, per-token gates U(-0.1, 0), forward only):
  gdn, dn      triscan.chunk_gated_delta_rule / chunk_delta_rule (chunk 32, final state)
  gdn64        the same at chunk 64
  rgdn, rdn    gdn and dn with rounded products (rounded_products=True)
  segN         gdn with segments=N at B=1, T=65536, H=8 (few sequences), e.g. seg8
  wy, wy_noinv the fused chunk WY kernel (chunk 64) with and without the inverse
  rwy, rwy_noinv  the same with rounded products
  rrwy, rrwy_noinv  the same with rounded re-entry (split products, rounded_reentry=True)
  tril, tril_bf16  triscan.solve_tril on FLA's kkt output ([4, 16384, 32, 64] fp32; fp32 / bf16
               out) against FLA's solve_tril
Each round runs every build (in a rotated order) and then FLA; each entry is the median of
--calls-per-round calls. Prints per-round times, per-build medians, each build's per-round
ratio to the first build (median over rounds), FLA / build, and the largest difference of
each build's outputs from the first build's relative to the largest entry (0 = same bits).

Usage: ab_gpu_builds.py NAME=LIBPATH [NAME=LIBPATH ...] [--rounds 7] [--calls gdn,dn]
       [--calls-per-round 20] [--pairs rrwy_noinv/wy_noinv] [--out FILE.jsonl]
Needs torch, triton, fla-core >= 0.6 and the triscan Python package (python/); the builds'
libtriscan_gpu.so files are loaded side by side (libtriscan from TRISCAN_LIBRARY_PATH).
"""
import argparse
import ctypes
import json
import statistics
import sys

import torch

import fla_delta_compare as FD
import fla_wy_compare as F
import triscan
from triscan import _lib


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("builds", nargs="+", help="NAME=PATH of a libtriscan_gpu.so; the first is the reference")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", default="gdn,dn")
    ap.add_argument("--calls-per-round", type=int, default=20)
    ap.add_argument("--pairs", default="",
                    help="NUM/DEN call pairs, e.g. rrwy_noinv/wy_noinv: per build, the per-round median of "
                         "NUM's time over DEN's (two calls of one build timed in the same rounds)")
    ap.add_argument("--out")
    a = ap.parse_args()
    builds = []
    for b in a.builds:
        name, sep, path = b.partition("=")
        if not sep or not name or not path:
            sys.exit("ab_gpu_builds.py: a build is NAME=PATH, got %r" % b)
        builds.append((name, path))
    wanted = a.calls.split(",")
    pairs = [p.split("/") for p in a.pairs.split(",") if p]
    # One build is enough when only its calls are compared with each other (--pairs).
    if len(builds) < (1 if pairs else 2) or len({n for n, _ in builds}) != len(builds):
        sys.exit("ab_gpu_builds.py: two or more builds with distinct names are needed (one with --pairs)")
    for p in pairs:
        if len(p) != 2 or not set(p) <= set(wanted):
            sys.exit("ab_gpu_builds.py: --pairs wants NUM/DEN of calls given in --calls, got %r" % "/".join(p))

    _lib.cpu()  # libtriscan (RTLD_GLOBAL), which every build of libtriscan_gpu needs
    handles = []
    for _, path in builds:
        h = ctypes.CDLL(path)
        _lib._declare(h, _lib._GPU_SIGNATURES)
        handles.append(h)

    B, T, H, D = 4, 16384, 32, 128
    q, k, v, beta, g = FD.make_inputs(B, T, H, D, -0.1, "gaussian", 1)
    triscan_calls = {
        "gdn": (lambda: FD.run("triscan", q, k, v, beta, g), "fla_gdn"),
        "dn": (lambda: FD.run("triscan", q, k, v, beta, None), "fla_dn"),
        "gdn64": (lambda: FD.run("triscan_chunk64", q, k, v, beta, g), "fla_gdn"),
        "rgdn": (lambda: FD.run("triscan_rounded", q, k, v, beta, g), "fla_gdn"),
        "rdn": (lambda: FD.run("triscan_rounded", q, k, v, beta, None), "fla_dn"),
    }
    fla_calls = {
        "fla_gdn": lambda: FD.run("fla", q, k, v, beta, g),
        "fla_dn": lambda: FD.run("fla", q, k, v, beta, None),
    }
    segs = [c for c in wanted if c.startswith("seg") and c[3:].isdigit()]
    if segs:  # few sequences (fla_delta_compare.py's second shape)
        qs, ks, vs, bs, gs = FD.make_inputs(1, 65536, 8, D, -0.1, "gaussian", 1)
        for c in segs:
            triscan_calls[c] = ((lambda n: lambda: FD.run("triscan", qs, ks, vs, bs, gs, segments=n))(int(c[3:])),
                                "fla_few")
        fla_calls["fla_few"] = lambda: FD.run("fla", qs, ks, vs, bs, gs)
    if {"wy", "wy_noinv", "rwy", "rwy_noinv", "rrwy", "rrwy_noinv"} & set(wanted):
        kw, vw, bw, gw = F.make_inputs(B, T, H, D, -0.1, "gaussian", 1)
        triscan_calls["wy"] = (lambda: F.triscan_fused(kw, vw, bw, gw), "fla_wy")
        triscan_calls["wy_noinv"] = (lambda: F.triscan_fused(kw, vw, bw, gw, output_inverse=False), "fla_wy")
        triscan_calls["rwy"] = (lambda: F.triscan_fused(kw, vw, bw, gw, rounded_products=True), "fla_wy")
        triscan_calls["rwy_noinv"] = (lambda: F.triscan_fused(kw, vw, bw, gw, output_inverse=False,
                                                              rounded_products=True), "fla_wy")
        triscan_calls["rrwy"] = (lambda: F.triscan_fused(kw, vw, bw, gw, rounded_reentry=True), "fla_wy")
        triscan_calls["rrwy_noinv"] = (lambda: F.triscan_fused(kw, vw, bw, gw, output_inverse=False,
                                                               rounded_reentry=True), "fla_wy")
        fla_calls["fla_wy"] = lambda: F.fla_production(kw, vw, bw, gw)
    if {"tril", "tril_bf16"} & set(wanted):  # the inversion alone, FLA's solve_tril shape and input
        kt, _, bt, gt = F.make_inputs(B, T, H, D, -0.1, "gaussian", 1)
        At = F.chunk_scaled_dot_kkt_fwd(k=kt, g=gt, beta=bt, chunk_size=64, output_dtype=torch.float32)
        triscan_calls["tril"] = (lambda: triscan.solve_tril(At, output_dtype=torch.float32), "fla_tril")
        triscan_calls["tril_bf16"] = (lambda: triscan.solve_tril(At, output_dtype=torch.bfloat16), "fla_tril_bf16")
        fla_calls["fla_tril"] = lambda: F.solve_tril(A=At, output_dtype=torch.float32)
        fla_calls["fla_tril_bf16"] = lambda: F.solve_tril(A=At, output_dtype=torch.bfloat16)
    unknown = [c for c in wanted if c not in triscan_calls]
    if unknown:
        sys.exit("ab_gpu_builds.py: unknown calls %s (known: %s)" % (unknown, ", ".join(triscan_calls)))
    calls = {c: triscan_calls[c] for c in wanted}
    flas = {f: fla_calls[f] for f in sorted({fla for _, fla in calls.values()})}

    res, outs = {}, {}
    print("# %s; builds: %s" % (torch.cuda.get_device_name(), ", ".join("%s=%s" % b for b in builds)))
    for r in range(a.rounds):
        order = list(range(len(builds)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            _lib._gpu = handles[i]
            for c, (f, _) in calls.items():
                res.setdefault((builds[i][0], c), []).append(F.time_call(f, a.calls_per_round))
                if r == 0:
                    with torch.inference_mode():
                        o = f()
                    outs[(builds[i][0], c)] = [x.float().clone() for x in (o if isinstance(o, tuple) else [o])
                                               if torch.is_tensor(x)]
        for c, f in flas.items():
            res.setdefault(("fla", c), []).append(F.time_call(f, a.calls_per_round))
        print("round %d: " % r + "  ".join("%s:%s %.1f" % (n, c, x[-1]) for (n, c), x in res.items()) + " us",
              flush=True)
    rows = []
    for (n, c), x in res.items():
        print("%-10s %-9s median %8.1f us (min %.1f)" % (n, c, statistics.median(x), min(x)))
        rows.append(dict(kind="median", build=n, call=c, median_us=statistics.median(x), min_us=min(x)))
    ref = builds[0][0]
    for n, _ in builds[1:]:
        for c, (_, fla) in calls.items():
            ratio = statistics.median([y / x for x, y in zip(res[(ref, c)], res[(n, c)])])
            print("%s: %s / %s per-round median %.3f" % (c, n, ref, ratio))
            rows.append(dict(kind="ratio", call=c, build=n, reference=ref, ratio=ratio))
    for n, _ in builds:
        for num, den in pairs:
            ratio = statistics.median([x / y for x, y in zip(res[(n, num)], res[(n, den)])])
            print("%s: %s / %s per-round median %.3f" % (n, num, den, ratio))
            rows.append(dict(kind="call_ratio", build=n, call=num, over=den, ratio=ratio))
    for n, _ in builds:
        for c, (_, fla) in calls.items():
            ratio = statistics.median([x / y for x, y in zip(res[("fla", fla)], res[(n, c)])])
            print("%s: FLA / %s %.3f" % (c, n, ratio))
            rows.append(dict(kind="fla_ratio", call=c, build=n, fla_over_build=ratio))
    for n, _ in builds[1:]:
        for c in calls:
            for i, (x, y) in enumerate(zip(outs[(ref, c)], outs[(n, c)])):
                d = (x - y).abs().max().item() / max(x.abs().max().item(), 1e-30)
                print("%s output %d: max |%s - %s| / max |%s| = %.3g" % (c, i, n, ref, ref, d))
                rows.append(dict(kind="output_difference", call=c, build=n, output=i, relative=d))
    if a.out:
        with open(a.out, "w") as fh:
            for row in rows:
                fh.write(json.dumps(dict(row, device=torch.cuda.get_device_name(), rounds=a.rounds)) + "\n")


if __name__ == "__main__":
    main()
