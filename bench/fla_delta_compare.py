#!/usr/bin/env python3
"""bench/fla_delta_compare.py — the chunkwise delta-rule forward pass on the GPU, in one
process: triscan (triscan.chunk_gated_delta_rule / chunk_delta_rule: the fused chunk WY
kernel, then the chunk-state kernel; docs/gpu-delta.md) vs flash-linear-attention's
chunk_gated_delta_rule / chunk_delta_rule forward (fla-core 0.6.0), on the same inputs.

Timing: CUDA events, median of --runs calls after warm-up, at B=4, T=16384, H=32,
dk=dv=128, bf16 inputs, fp32 state, final state written (the shape of issue 10), triscan at
its default chunk 32 and at chunk 64 (FLA's), rounded products at chunk 32,
forward only (torch.inference_mode). Per-token gates uniform in [-0.1, 0] (gated), keys and
queries unit-norm. The floor: reading q, k, v, beta, g once and writing o once at the copy
bandwidth measured in the same run.

Accuracy: o and the final state of every method against the token-by-token recurrence
S_t = a_t S_{t-1} (I - b_t k_t k_t^T) + b_t v_t k_t^T, o_t = scale S_t q_t in float64 on the
GPU from the same bf16/fp32 inputs, on B=1, T=--acc-length, H=8: relative Frobenius error
per head (max and median over heads). Classes: ungated, gates -1e-3, -0.1, -5 per token,
unit-norm Gaussian or correlated keys (near a random plane), beta ~ U(0, 1).

Usage: fla_delta_compare.py [--runs N] [--out FILE.jsonl] [--skip-timing] [--skip-accuracy]
Needs torch, triton, fla-core >= 0.6 and the triscan Python package (python/) with
libtriscan_gpu found through TRISCAN_LIBRARY_PATH.
"""
import argparse
import json
import sys
import time

import torch

import triscan
from fla_wy_compare import copy_bandwidth, time_call  # bench/: the same timing in both scripts

try:
    from fla.ops.gated_delta_rule import chunk_gated_delta_rule as fla_gated
    from fla.ops.delta_rule import chunk_delta_rule as fla_delta
except ImportError as e:  # pragma: no cover
    sys.exit("fla_delta_compare.py: flash-linear-attention (fla-core >= 0.6) is required: %s" % e)


def make_inputs(B, T, H, D, gate, keys, seed, dtype=torch.bfloat16):
    gen = torch.Generator(device="cuda").manual_seed(seed)

    def unit(x):
        return (x / x.norm(dim=-1, keepdim=True)).to(dtype)

    if keys == "correlated":  # near a random plane (docs/generators.md)
        basis = torch.linalg.qr(torch.randn(D, 2, device="cuda", generator=gen, dtype=torch.float64))[0]
        c = torch.randn(B, T, H, 2, device="cuda", generator=gen, dtype=torch.float64)
        k = c @ basis.T + 1e-2 * torch.randn(B, T, H, D, device="cuda", generator=gen, dtype=torch.float64)
    else:
        k = torch.randn(B, T, H, D, device="cuda", generator=gen, dtype=torch.float64)
    k = unit(k)
    q = unit(torch.randn(B, T, H, D, device="cuda", generator=gen, dtype=torch.float64))
    v = torch.randn(B, T, H, D, device="cuda", generator=gen, dtype=torch.float32).to(dtype)
    beta = torch.rand(B, T, H, device="cuda", generator=gen, dtype=torch.float32).to(dtype)
    g = None if gate is None else gate * torch.rand(B, T, H, device="cuda", generator=gen, dtype=torch.float32)
    return q, k, v, beta, g


def run(name, q, k, v, beta, g, segments=1):
    with torch.inference_mode():
        if name == "fla":
            if g is None:
                return fla_delta(q, k, v, beta, output_final_state=True)
            return fla_gated(q, k, v, g, beta, output_final_state=True)
        kw = dict(output_final_state=True, status="ignore", rounded_products=name == "triscan_rounded",
                  segments=segments, chunk_size=CHUNK[name])
        if g is None:
            return triscan.chunk_delta_rule(q, k, v, beta, **kw)
        return triscan.chunk_gated_delta_rule(q, k, v, g, beta, **kw)


METHODS = ("fla", "triscan", "triscan_chunk64", "triscan_rounded")
CHUNK = {"fla": 64, "triscan": 32, "triscan_chunk64": 64, "triscan_rounded": 32}  # 32: triscan's default


def recurrence(q, k, v, beta, g, scale):
    """fp64 token recurrence; o [B, T, H, D], final state [B, H, K, V] (FLA's layout)."""
    B, T, H, D = k.shape
    qd, kd, vd, bd = q.double(), k.double(), v.double(), beta.double()
    gd = g.double() if g is not None else None
    S = torch.zeros(B, H, D, D, dtype=torch.float64, device=k.device)  # S[v, k]
    o = torch.empty(B, T, H, D, dtype=torch.float64, device=k.device)
    for t in range(T):
        kt, vt, bt = kd[:, t], vd[:, t], bd[:, t]
        if gd is not None:
            S = S * torch.exp(gd[:, t])[..., None, None]
        Sk = torch.einsum("bhvk,bhk->bhv", S, kt)
        S = S + bt[..., None, None] * torch.einsum("bhv,bhk->bhvk", vt - Sk, kt)
        o[:, t] = scale * torch.einsum("bhvk,bhk->bhv", S, qd[:, t])
    return o, S.transpose(-1, -2)


def head_errors(got, want, dims):
    num = (got.double() - want).pow(2).sum(dim=dims).sqrt()
    den = want.pow(2).sum(dim=dims).sqrt().clamp(min=1e-300)
    rel = (num / den).flatten()
    return float(rel.max()), float(rel.median())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--acc-length", type=int, default=2048)
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
        bw = copy_bandwidth()
        print("# chunkwise delta-rule forward, B=%d T=%d H=%d dk=dv=%d bf16 in/out, fp32 state, %s, %s"
              % (B, T, H, D, dev, date))
        for gate in (-0.1, None):
            q, k, v, beta, g = make_inputs(B, T, H, D, gate, "gaussian", 1)
            floor_bytes = 4 * q.numel() * 2 + beta.numel() * 2 + (g.numel() * 4 if g is not None else 0)
            floor_us = floor_bytes / bw * 1e6
            print("# %s: copy bandwidth %.0f GB/s; floor (q, k, v, beta, g read + o written once) %.0f us"
                  % ("gated" if gate is not None else "ungated", bw / 1e9, floor_us))
            rows = []
            for name in METHODS:
                us = time_call(lambda: run(name, q, k, v, beta, g), args.runs)
                rows.append((name, us))
                record(kind="timing", method=name, gated=gate is not None, B=B, T=T, H=H, dk=D, dv=D,
                       chunk=CHUNK[name], dtype="bf16", gate=gate, median_us=us, floor_us=floor_us,
                       copy_GBps=bw / 1e9)
            # For scale: triscan's chunk WY kernel as chunk_gated_delta_rule_fwd_intra runs it
            # (W and U written; the forward runs it without them, writing (I + N)^-1 diag(beta)).
            bt = CHUNK["triscan"]
            g_chunk = g.view(B, T // bt, bt, H).cumsum(2).view(B, T, H) if g is not None else None
            wy = time_call(lambda: triscan.chunk_gated_delta_rule_fwd_intra(
                k, v, g_chunk, beta, chunk_size=bt, log2_gates=False, output_inverse=False, status="ignore"),
                args.runs)
            base = rows[0][1]
            print("%-18s %10s %10s %10s" % ("method", "median us", "vs fla", "vs floor"))
            for name, us in rows:
                print("%-18s %10.1f %9.2fx %9.2fx" % (name, us, base / us, us / floor_us))
            print("  (for scale: triscan's chunk WY kernel with W and U, chunk %d: %.1f us; the forward's"
                  " own call of it skips W and U)" % (bt, wy))
            record(kind="timing", method="triscan_fwd_intra_wu", gated=gate is not None, B=B, T=T, H=H, dk=D, dv=D,
                   chunk=bt, dtype="bf16", gate=gate, median_us=wy, floor_us=floor_us, copy_GBps=bw / 1e9)
            del q, k, v, beta, g, g_chunk
            torch.cuda.empty_cache()

    if not args.skip_timing:
        # Few (sequence, head) pairs: the associative form across chunks (segments) spreads a
        # sequence over several blocks.
        B, T, H, D = 1, 65536, 8, 128
        q, k, v, beta, g = make_inputs(B, T, H, D, -0.1, "gaussian", 2)
        print("# few sequences: B=%d T=%d H=%d dk=dv=%d bf16, gated, triscan chunk %d"
              % (B, T, H, D, CHUNK["triscan"]))
        base = time_call(lambda: run("fla", q, k, v, beta, g), args.runs)
        record(kind="timing_segments", method="fla", B=B, T=T, H=H, dk=D, dv=D, chunk=CHUNK["fla"], gate=-0.1,
               segments=0, median_us=base)
        print("%-24s %10s %10s" % ("method", "median us", "vs fla"))
        print("%-24s %10.1f %9.2fx" % ("fla", base, 1.0))
        for segs in (1, 4, 8, 16, 32):
            us = time_call(lambda: run("triscan", q, k, v, beta, g, segments=segs), args.runs)
            record(kind="timing_segments", method="triscan", B=B, T=T, H=H, dk=D, dv=D, chunk=CHUNK["triscan"],
                   gate=-0.1, segments=segs, median_us=us)
            print("%-24s %10.1f %9.2fx" % ("triscan segments=%d" % segs, us, base / us))
        # Accuracy of the segmented form on the accuracy slice (gate -0.1).
        qa, ka, va, ba, ga = make_inputs(1, args.acc_length, 8, D, -0.1, "gaussian", 7)
        o_ref, s_ref = recurrence(qa, ka, va, ba, ga, D ** -0.5)
        for segs in (1, 8):
            o, s = run("triscan", qa, ka, va, ba, ga, segments=segs)
            eo, es = head_errors(o, o_ref, (0, 1, 3)), head_errors(s, s_ref, (0, 2, 3))
            record(kind="accuracy_segments", method="triscan", segments=segs, T=args.acc_length, o_max=eo[0],
                   state_max=es[0])
            print("  accuracy (T=%d, gate -0.1): segments=%d  o %.2e  state %.2e" % (args.acc_length, segs, eo[0], es[0]))
        del q, k, v, beta, g
        torch.cuda.empty_cache()

    if not args.skip_accuracy:
        B, T, H, D = 1, args.acc_length, 8, 128
        scale = D ** -0.5
        print("# accuracy vs the fp64 token recurrence, B=%d T=%d H=%d, relative Frobenius error per head"
              " (max / median)" % (B, T, H))
        print("%-8s %-10s %-16s %19s %19s" % ("gate", "keys", "method", "o", "final state"))
        for gate in (None, -1e-3, -0.1, -5.0):
            for keys in ("gaussian", "correlated"):
                q, k, v, beta, g = make_inputs(B, T, H, D, gate, keys, 7)
                o_ref, s_ref = recurrence(q, k, v, beta, g, scale)
                for name in METHODS:
                    o, s = run(name, q, k, v, beta, g)
                    eo = head_errors(o, o_ref, (0, 1, 3))
                    es = head_errors(s, s_ref, (0, 2, 3))
                    finite = bool(torch.isfinite(o).all() and torch.isfinite(s).all())
                    record(kind="accuracy", method=name, gate=gate, keys=keys, B=B, T=T, H=H, o_max=eo[0],
                           o_median=eo[1], state_max=es[0], state_median=es[1], finite=finite)
                    print("%-8s %-10s %-16s %9.2e/%8.2e %9.2e/%8.2e%s"
                          % ("none" if gate is None else gate, keys, name, eo[0], eo[1], es[0], es[1],
                             "" if finite else "  NONFINITE"))
    if out:
        out.close()


if __name__ == "__main__":
    main()
