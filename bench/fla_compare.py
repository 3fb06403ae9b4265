#!/usr/bin/env python3
"""triscan vs flash-linear-attention's solve_tril vs cuBLAS, in one process, on the same inputs.

Inputs are the generators' chunk matrices written by `gpu_bench_trinv --write-npy DIR`
(A = strictly lower N, fp32, [2, 4096, 16, 64], one file per class, plus a varlen
batch).  triscan is called through the C API's `triscan_gpu_invert_chunks` of
libtriscan_gpu (include/triscan/triscan.h, gpu/capi.cpp) with torch tensors' data_ptr(); FLA through
`fla.ops.utils.solve_tril`; cuBLAS through torch.linalg.solve_triangular on the same
matrices as [N, BT, BT].

Errors: relative Frobenius error of each matrix's inverse against an fp64 inverse of the
same (fp32) input (torch.linalg.solve_triangular in float64), max over matrices.
Timing: triton.testing.do_bench (median; it flushes the L2 between runs) on the shape
B=4, T=16384, H=32 (the deltanet input tiled), BT = 64, 32 and 16 (BT = 32 and 16 use
the diagonal blocks of the BT = 64 chunk matrices, which are exactly those chunk sizes'
matrices for these generators: A_ij depends only on tokens i and j).

Usage: fla_compare.py --lib build/gpu/libtriscan_gpu.so --inputs DIR [--out FILE.jsonl]
"""
import argparse
import ctypes
import json
import sys

import numpy as np
import torch
import triton

CLASSES = ["deltanet", "deltanet-beta2", "deltanet-correlated", "deltanet-equal", "gated"]
DTYPE_CODE = {torch.float32: 0, torch.bfloat16: 1, torch.float16: 2}
METHODS = ["trinv/recursive_merge", "trinv/forward_substitution"]  # triscan's GPU methods
STATUS = ["ok", "inaccurate", "not_converged", "overflow", "singular", "nonfinite_input", "unsupported"]


class Triscan:
    """ctypes binding of triscan_gpu_invert_chunks (include/triscan/triscan.h)."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        # triscan_last_error lives in libtriscan, a dependency: dlsym on this handle finds it.
        self.lib.triscan_last_error.restype = ctypes.c_char_p
        f = self.lib.triscan_gpu_invert_chunks
        i64, vp = ctypes.c_int64, ctypes.c_void_p
        f.argtypes = [ctypes.c_char_p, i64, i64, i64, i64, vp, i64, ctypes.c_int, vp, ctypes.c_int, vp, vp, vp, vp]
        f.restype = ctypes.c_int
        self.fn = f
        self.flag = torch.zeros(1, dtype=torch.int32, device="cuda")

    def invert(self, A, out_dtype=torch.float32, cu_seqlens=None, check=True, method=METHODS[0]):
        B, T, H, BT = A.shape
        X = torch.empty(A.shape, dtype=out_dtype, device=A.device)
        cu = None
        n_cu = 0
        if cu_seqlens is not None:
            cu_host = np.ascontiguousarray(np.asarray(cu_seqlens, dtype=np.int64))
            cu, n_cu = cu_host.ctypes.data_as(ctypes.c_void_p), len(cu_host)
        rc = self.fn(method.encode(), B, T, H, BT, cu, n_cu, DTYPE_CODE[A.dtype], A.data_ptr(),
                     DTYPE_CODE[out_dtype], X.data_ptr(), None, self.flag.data_ptr(),
                     torch.cuda.current_stream().cuda_stream)
        if rc != 0:
            raise RuntimeError("triscan_gpu_invert_chunks: " + self.lib.triscan_last_error().decode())
        if check:
            s = int(self.flag.item())
            if s != 0:
                print(f"  triscan status flag: {STATUS[s]}", file=sys.stderr)
        return X


def chunk_matrices(A, cu_seqlens=None):
    """[B, T, H, BT] -> list of per-chunk [H, m, m] blocks (fixed length: one [N, BT, BT] tensor)."""
    B, T, H, BT = A.shape
    if cu_seqlens is None:
        assert T % BT == 0
        return A.reshape(B, T // BT, BT, H, BT).permute(0, 1, 3, 2, 4).reshape(-1, BT, BT)
    mats = []
    for s in range(len(cu_seqlens) - 1):
        for start in range(cu_seqlens[s], cu_seqlens[s + 1], BT):
            m = min(BT, cu_seqlens[s + 1] - start)
            mats.append(A[0, start:start + m, :, :m].permute(1, 0, 2))  # [H, m, m]
    return mats


def max_rel_fro(X, ref, cu_seqlens=None):
    """Max over matrices of ||X - ref||_F / ||ref||_F, X in the [B, T, H, BT] layout."""
    if cu_seqlens is None:
        x = chunk_matrices(X).double()
        d = torch.linalg.matrix_norm(x - ref) / torch.linalg.matrix_norm(ref)
        return float(torch.nan_to_num(d, nan=float("inf")).max())
    worst = 0.0
    for x, r in zip(chunk_matrices(X, cu_seqlens), ref):
        d = torch.linalg.matrix_norm(x.double() - r) / torch.linalg.matrix_norm(r)
        worst = max(worst, float(torch.nan_to_num(d, nan=float("inf")).max()))
    return worst


def reference(A, cu_seqlens=None):
    """fp64 inverse of I + N for each chunk matrix (of the fp32 input as given)."""
    def inv(n):
        m = n.shape[-1]
        L = torch.tril(n.double(), -1) + torch.eye(m, dtype=torch.float64, device=n.device)
        eye = torch.eye(m, dtype=torch.float64, device=n.device).expand_as(L)
        return torch.linalg.solve_triangular(L, eye, upper=False, unitriangular=True)
    if cu_seqlens is None:
        return inv(chunk_matrices(A))
    return [inv(n) for n in chunk_matrices(A, cu_seqlens)]


def cublas_inverse(N):
    """cuBLAS TRSM through torch on [N, BT, BT] fp32: solve L X = I."""
    m = N.shape[-1]
    L = torch.tril(N, -1) + torch.eye(m, dtype=N.dtype, device=N.device)
    return torch.linalg.solve_triangular(L, torch.eye(m, dtype=N.dtype, device=N.device).expand_as(L).contiguous(),
                                         upper=False, unitriangular=True)


def diagonal_blocks(A64, bt):
    """The BT = bt chunk matrices of the same tokens: diagonal blocks of the BT = 64 ones."""
    B, T, H, _ = A64.shape
    col0 = ((torch.arange(T, device=A64.device) % 64) // bt) * bt  # first column of t's block
    idx = (col0[:, None] + torch.arange(bt, device=A64.device)[None, :])  # [T, bt]
    return torch.gather(A64, 3, idx[None, :, None, :].expand(B, T, H, bt)).contiguous()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--out", default=None)
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--skip-accuracy", action="store_true")
    args = ap.parse_args()

    import fla
    from fla.ops.utils.solve_tril import solve_tril
    ts = Triscan(args.lib)
    dev = torch.cuda.get_device_name()
    meta = {"device": dev, "torch": torch.__version__, "triton": triton.__version__,
            "fla": getattr(fla, "__version__", "?")}
    print("#", json.dumps(meta))
    rows = []

    def record(**kw):
        kw.update(meta)
        rows.append(kw)
        print(json.dumps(kw), flush=True)

    # ---- accuracy, every class, BT = 64, 32, 16, fixed length and varlen --------------
    for cls in ([] if args.skip_accuracy else CLASSES):
        A64 = torch.from_numpy(np.load(f"{args.inputs}/{cls}.npy")).cuda().contiguous()
        for bt in (64, 32, 16):
            A = A64 if bt == 64 else diagonal_blocks(A64, bt)
            ref = reference(A)
            for out in (torch.float32, torch.bfloat16):
                on = str(out).replace("torch.", "")
                for m in METHODS:
                    record(kind="error", cls=cls, bt=bt, out=on, method="triscan/" + m.split("/")[1],
                           max_rel_fro=max_rel_fro(ts.invert(A, out, method=m), ref))
                record(kind="error", cls=cls, bt=bt, out=on, method="fla/solve_tril",
                       max_rel_fro=max_rel_fro(solve_tril(A, output_dtype=out), ref))
            record(kind="error", cls=cls, bt=bt, out="float32", method="cublas/trsm (torch)",
                   max_rel_fro=float((torch.linalg.matrix_norm(cublas_inverse(chunk_matrices(A)).double() - ref)
                                      / torch.linalg.matrix_norm(ref)).max()))
        Av = torch.from_numpy(np.load(f"{args.inputs}/{cls}_varlen.npy")).cuda().contiguous()
        cu = [int(v) for v in open(f"{args.inputs}/{cls}_cu_seqlens.txt").read().split()]
        refv = reference(Av, cu)
        cu_t = torch.tensor(cu, dtype=torch.long, device="cuda")
        for m in METHODS:
            record(kind="error", cls=cls, bt=64, out="float32", method="triscan/" + m.split("/")[1], varlen=True,
                   max_rel_fro=max_rel_fro(ts.invert(Av, torch.float32, cu, method=m), refv, cu))
        record(kind="error", cls=cls, bt=64, out="float32", method="fla/solve_tril", varlen=True,
               max_rel_fro=max_rel_fro(solve_tril(Av, cu_seqlens=cu_t, output_dtype=torch.float32), refv, cu))

    # ---- timing: B=4, T=16384, H=32 ------------------------------------------------------
    if not args.skip_timing:
        A64 = torch.from_numpy(np.load(f"{args.inputs}/deltanet.npy")).cuda()
        A64 = A64.repeat(2, 4, 2, 1).contiguous()  # [4, 16384, 32, 64]
        for bt in (64, 32, 16):
            A = A64 if bt == 64 else diagonal_blocks(A64, bt)
            bytes_in = A.numel() * 4
            for out in (torch.float32, torch.bfloat16):
                on = str(out).replace("torch.", "")
                bytes_total = bytes_in + A.numel() * (4 if out == torch.float32 else 2)
                cands = [("triscan/" + m.split("/")[1], lambda m=m: ts.invert(A, out, check=False, method=m))
                         for m in METHODS]
                for name, fn in cands + [("fla/solve_tril", lambda: solve_tril(A, output_dtype=out))]:
                    t = triton.testing.do_bench(fn, warmup=100, rep=500, return_mode="median")
                    record(kind="time", cls="deltanet", bt=bt, out=on, method=name, shape=list(A.shape),
                           median_us=1000 * t, gb_per_s=bytes_total / (t * 1e6))
            N = chunk_matrices(A).contiguous()
            L = torch.tril(N, -1) + torch.eye(bt, device=N.device)
            eye = torch.eye(bt, device=N.device).expand_as(L).contiguous()
            t = triton.testing.do_bench(lambda: torch.linalg.solve_triangular(L, eye, upper=False, unitriangular=True),
                                        warmup=100, rep=500, return_mode="median")
            del L, eye
            record(kind="time", cls="deltanet", bt=bt, out="float32", method="cublas/trsm (torch)",
                   shape=list(N.shape), median_us=1000 * t, gb_per_s=2 * bytes_in / (t * 1e6))
    if args.out:
        with open(args.out, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
