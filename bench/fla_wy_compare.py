#!/usr/bin/env python3
"""bench/fla_wy_compare.py — the Gated DeltaNet WY step on the GPU, in one process:
triscan's fused chunk WY kernel (triscan.chunk_gated_delta_rule_fwd_intra, one launch)
vs flash-linear-attention's production path (chunk_gated_delta_rule_fwd_intra: fused
kkt + solve_tril, then recompute_w_u_fwd) and its unfused three kernels
(chunk_scaled_dot_kkt_fwd + solve_tril + recompute_w_u_fwd), on the same inputs.

Timing: CUDA events, median of --runs calls after warm-up, at B=4, T=16384, H=32,
dk=dv=128, bf16, chunk 64 (the shape of issue 8). The inputs (1.1 GB) exceed the L2, so
every call reads them from HBM. Also timed: triscan's fused kernel for the kda family
(per-channel gates [B, T, H, dk], the same call with a 4-D g), as a ratio to its gated
call; its floor reads the larger g. The floor: reading k, v, beta, g once and writing W, U
once, at the device-to-device copy bandwidth measured in the same run.

Accuracy: W, U and the inverse of every method against an fp64 evaluation (torch
float64 on the GPU, from the same bf16/fp32 inputs: N formed in fp64, I + N inverted by
triangular solve), on a smaller slice (B=1, T=4096, H=8) per input class: per-chunk
relative Frobenius errors (max and median over chunks). Classes: gates -1e-3, -0.1, -5
per token (uniform in [gate, 0]), unit-norm Gaussian keys or correlated keys (near a
random plane), beta ~ U(0, 1), and ungated DeltaNet.

Usage: fla_wy_compare.py [--runs N] [--out FILE.jsonl] [--skip-timing] [--skip-accuracy]
Needs torch, triton, fla-core >= 0.6 and the triscan Python package (python/) with
libtriscan_gpu found through TRISCAN_LIBRARY_PATH.
"""
import argparse
import json
import math
import sys
import time

import torch

import triscan

try:
    from fla.ops.gated_delta_rule.chunk_fwd import chunk_gated_delta_rule_fwd_intra as fla_intra
    from fla.ops.gated_delta_rule.wy_fast import recompute_w_u_fwd
    from fla.ops.common.chunk_scaled_dot_kkt import chunk_scaled_dot_kkt_fwd
    from fla.ops.utils import solve_tril, chunk_local_cumsum
except ImportError as e:  # pragma: no cover
    sys.exit("fla_wy_compare.py: flash-linear-attention (fla-core >= 0.6) is required: %s" % e)

RCP_LN2 = 1.0 / math.log(2.0)


def make_inputs(B, T, H, D, gate, keys, seed, dtype=torch.bfloat16):
    g = torch.Generator(device="cuda").manual_seed(seed)
    if keys == "correlated":  # near a random plane: (I + N) ill-conditioned (docs/generators.md)
        basis = torch.linalg.qr(torch.randn(D, 2, device="cuda", generator=g, dtype=torch.float64))[0]
        c = torch.randn(B, T, H, 2, device="cuda", generator=g, dtype=torch.float64)
        k = c @ basis.T + 1e-2 * torch.randn(B, T, H, D, device="cuda", generator=g, dtype=torch.float64)
    else:
        k = torch.randn(B, T, H, D, device="cuda", generator=g, dtype=torch.float64)
    k = (k / k.norm(dim=-1, keepdim=True)).to(dtype)
    v = torch.randn(B, T, H, D, device="cuda", generator=g, dtype=torch.float32).to(dtype)
    beta = torch.rand(B, T, H, device="cuda", generator=g, dtype=torch.float32).to(dtype)
    if gate is None:
        return k, v, beta, None
    g_tok = gate * torch.rand(B, T, H, device="cuda", generator=g, dtype=torch.float32)
    # FLA >= 0.6: in-chunk cumulative sums in base-2 logarithms (chunk_gated_delta_rule_fwd does this).
    g_cum = chunk_local_cumsum(g_tok, chunk_size=64, scale=RCP_LN2)
    return k, v, beta, g_cum


def fla_production(k, v, beta, g):
    return fla_intra(k=k, v=v, g=g, beta=beta, chunk_size=64)


def fla_unfused(k, v, beta, g):
    A = chunk_scaled_dot_kkt_fwd(k=k, g=g, beta=beta, chunk_size=64, output_dtype=torch.float32)
    A = solve_tril(A=A, output_dtype=k.dtype)
    w, u = recompute_w_u_fwd(k=k, v=v, beta=beta, A=A, g=g)
    return w, u, A


def triscan_fused(k, v, beta, g, **kw):
    return triscan.chunk_gated_delta_rule_fwd_intra(k, v, g, beta, chunk_size=64, status="ignore", **kw)


METHODS = {
    "fla_fwd_intra": fla_production,
    "fla_unfused": fla_unfused,
    "triscan_fused": triscan_fused,
    "triscan_fused_no_inverse": lambda k, v, b, g: triscan_fused(k, v, b, g, output_inverse=False),
    "triscan_fused_rounded": lambda k, v, b, g: triscan_fused(k, v, b, g, rounded_products=True),
    "triscan_fused_rounded_no_inverse": lambda k, v, b, g: triscan_fused(
        k, v, b, g, rounded_products=True, output_inverse=False),
    # Split products with the solved block rows re-entering rounded once (docs/gpu-chunk-wy.md
    # "Rounded re-entry").
    "triscan_fused_reentry": lambda k, v, b, g: triscan_fused(k, v, b, g, rounded_reentry=True),
    "triscan_fused_reentry_no_inverse": lambda k, v, b, g: triscan_fused(
        k, v, b, g, rounded_reentry=True, output_inverse=False),
}


def time_call(fn, runs):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) * 1e3)
    times.sort()
    return times[len(times) // 2]


def copy_bandwidth():
    x = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    us = time_call(lambda: y.copy_(x), 20)
    return 2 * x.numel() / (us * 1e-6)  # bytes read + written per second


def reference(k, v, beta, g, BT=64):
    """fp64 W, U, X per chunk: [B, NT, H, BT, ·]."""
    B, T, H, D = k.shape
    NT = T // BT

    def chunks(x):  # [B, T, H, ...] -> [B, NT, H, BT, ...]
        x = x.reshape(B, NT, BT, H, *x.shape[3:])
        return x.permute(0, 1, 3, 2, *range(4, x.dim())) if x.dim() > 4 else x.permute(0, 1, 3, 2)

    kc, vc, bc = chunks(k.double()), chunks(v.double()), chunks(beta.double())
    N = bc[..., :, None] * (kc @ kc.transpose(-1, -2))
    if g is not None:
        G = chunks(g.double()) * math.log(2.0)
        N = N * torch.exp((G[..., :, None] - G[..., None, :]).clamp(max=700.0))
        gamma = torch.exp(G)
    else:
        gamma = torch.ones_like(bc)
    N = torch.tril(N, -1)
    I = torch.eye(BT, dtype=torch.float64, device=k.device).expand_as(N)
    X = torch.linalg.solve_triangular(I + N, I, upper=False, unitriangular=True)
    W = X @ ((bc * gamma)[..., None] * kc)
    U = X @ (bc[..., None] * vc)
    return W, U, X, chunks


def chunk_errors(got, want):
    num = (got.double() - want).flatten(-2).norm(dim=-1)
    den = want.flatten(-2).norm(dim=-1).clamp(min=1e-300)
    rel = (num / den).flatten()
    return float(rel.max()), float(rel.median())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--skip-accuracy", action="store_true")
    args = ap.parse_args()
    out = open(args.out, "w") if args.out else None
    dev = torch.cuda.get_device_name()
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    def record(**kw):
        kw.update(device=dev, date=date)
        line = json.dumps(kw)
        print(line)
        if out:
            out.write(line + "\n")
            out.flush()

    if not args.skip_timing:
        B, T, H, D = 4, 16384, 32, 128
        k, v, beta, g = make_inputs(B, T, H, D, -0.1, "gaussian", 1)
        bw = copy_bandwidth()
        floor_bytes = (k.numel() + v.numel()) * 2 + beta.numel() * 2 + g.numel() * 4 + 2 * k.numel() * 2
        floor_us = floor_bytes / bw * 1e6
        print("# gated delta rule WY step, B=%d T=%d H=%d dk=dv=%d bf16, chunk 64, %s, %s" % (B, T, H, D, dev, date))
        print("# copy bandwidth %.0f GB/s (read + write); floor (k, v, beta, g read + W, U written once) %.0f us"
              % (bw / 1e9, floor_us))
        base = None
        rows = []
        for name, fn in METHODS.items():
            us = time_call(lambda: fn(k, v, beta, g), args.runs)
            base = us if name == "fla_fwd_intra" else base
            rows.append((name, us))
            record(kind="timing", method=name, B=B, T=T, H=H, dk=D, dv=D, chunk=64, dtype="bf16", gate=-0.1,
                   median_us=us, floor_us=floor_us, copy_GBps=bw / 1e9)
        print("%-26s %10s %14s %10s" % ("method", "median us", "vs fla_intra", "vs floor"))
        for name, us in rows:
            print("%-26s %10.1f %13.2fx %9.2fx" % (name, us, base / us, us / floor_us))
        # kda (per-channel gates [B, T, H, dk], in-chunk cumulative, base 2): triscan's fused
        # kernel only (no FLA counterpart timed here), against the gated call above.
        gk = torch.rand(B, T, H, D, device="cuda", dtype=torch.float32) * -0.1
        gk = (gk.view(B, T // 64, 64, H, D).cumsum(2) * RCP_LN2).view(B, T, H, D).contiguous()
        us = time_call(lambda: triscan_fused(k, v, beta, gk), args.runs)
        gated_us = dict(rows)["triscan_fused"]
        kda_floor = floor_us + (gk.numel() - g.numel()) * 4 / bw * 1e6
        record(kind="timing", method="triscan_fused_kda", B=B, T=T, H=H, dk=D, dv=D, chunk=64, dtype="bf16",
               gate=-0.1, median_us=us, floor_us=kda_floor, copy_GBps=bw / 1e9)
        print("%-26s %10.1f %13.2fx %9.2fx  (kda; x gated triscan_fused: %.2f)"
              % ("triscan_fused_kda", us, base / us, us / kda_floor, us / gated_us))
        del k, v, beta, g, gk
        torch.cuda.empty_cache()

    if not args.skip_accuracy:
        B, T, H, D = 1, 4096, 8, 128
        print("# accuracy vs fp64, B=%d T=%d H=%d, per-chunk relative Frobenius errors (max / median)" % (B, T, H))
        print("%-11s %-10s %-32s %19s %19s %19s" % ("gate", "keys", "method", "W", "U", "inverse"))
        for gate in (None, -1e-3, -0.1, -5.0):
            for keys in ("gaussian", "correlated"):
                k, v, beta, g = make_inputs(B, T, H, D, gate, keys, 7)
                W, U, X, chunks = reference(k, v, beta, g)
                for name in ("fla_fwd_intra", "fla_unfused", "triscan_fused",
                             "triscan_fused_reentry", "triscan_fused_rounded", "triscan_fused_no_inverse",
                             "triscan_fused_reentry_no_inverse", "triscan_fused_rounded_no_inverse"):
                    w, u, A = METHODS[name](k, v, beta, g)
                    ew, eu = chunk_errors(chunks(w), W), chunk_errors(chunks(u), U)
                    ex = chunk_errors(chunks(A), X) if A is not None else (float("nan"),) * 2
                    finite = bool(torch.isfinite(w).all() and torch.isfinite(u).all())
                    record(kind="accuracy", method=name, gate=gate, keys=keys, B=B, T=T, H=H,
                           w_max=ew[0], w_median=ew[1], u_max=eu[0], u_median=eu[1], inv_max=ex[0],
                           inv_median=ex[1], finite=finite)
                    print("%-11s %-10s %-32s %9.2e/%8.2e %9.2e/%8.2e %9.2e/%8.2e%s"
                          % ("none" if gate is None else gate, keys, name, ew[0], ew[1], eu[0], eu[1], ex[0], ex[1],
                             "" if finite else "  NONFINITE"))
    if out:
        out.close()


if __name__ == "__main__":
    main()
