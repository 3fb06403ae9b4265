#!/usr/bin/env python3
"""Proof that triscan.solve_tril drops in for flash-linear-attention's solve_tril (issue 9).

Runs flash-linear-attention's own solve_tril tests with `fla.ops.utils.solve_tril`
replaced by `triscan.solve_tril` everywhere FLA imported it, and prints PASS/FAIL per
case. The fla-core wheel ships no tests, so the tests are re-implemented here from
fla-org/flash-linear-attention tests/ops/test_solve_tril.py (commit 7e976c5): the same
parameters (B=2, T in {128, 200, 300, 500}, H=2, chunk size 16/32/64, seq-first layout;
varlen cu_seqlens [0,63,286,300,512], [0,127,246,521,1000], [0,255,492,1042,2000]),
the same inputs (normalised random keys; beta-scaled K K^T from FLA's own
chunk_scaled_dot_kkt_fwd for varlen), the same reference (torch.inverse of I + A per
chunk) and the same check (fla.utils.assert_close with error ratio 1e-4). Adapted to
fla-core 0.6.0's API: solve_tril has no `head_first` (the seq-first path is the test's
head_first=False case) and chunk_scaled_dot_kkt_fwd is called with keywords.

Then, with the same substitution, FLA's DeltaNet test (tests/ops/test_delta.py:
test_chunk and test_chunk_varlen, forward and backward, fp16): chunk_delta_rule, whose
WY step calls solve_tril (fla/ops/delta_rule/wy_fast.py), against
fused_recurrent_delta_rule, at FLA's tolerances (o, ht: 0.006 / 0.005; gradients 0.008).
Then FLA's Gated DeltaNet test (tests/ops/test_gated_delta.py: test_chunk at D = 64 and
128 — the head sizes triscan's fused chunk WY kernel has — over the test's T, gate
normalisers and masks, and test_chunk_varlen), with chunk_gated_delta_rule_fwd_intra
replaced by triscan.chunk_gated_delta_rule_fwd_intra: the forward (o, ht) against the token
recurrence at the test's tolerance 0.005 (the backward cannot run there: see the section).
Finally triscan's own extras: the output dtypes bf16 and fp16 against the rounded
fp32 reference (error ratio <= 2 u of the output format: rounding the exact inverse to
the output format costs at most u = 2^-8 (bf16) / 2^-11 (fp16) relative per entry, and
the fp32 computation adds ~1e-6), and an explicit chunk_indices argument.

Needs a CUDA GPU, torch, triton, einops and the fla-core wheel unpacked on PYTHONPATH,
plus triscan's python/ and a CUDA build of libtriscan_gpu:
    unzip -q .whl/fla_core-0.6.0-py3-none-any.whl -d /tmp/fla
    PYTHONPATH=python:/tmp/fla TRISCAN_LIBRARY_PATH=build:build/gpu python3 bench/fla_dropin.py
Exit status 0 when every case passes, 1 otherwise, 2 when it cannot run. An optional
argument runs only the cases whose name contains it (e.g. `test_solve_tril`).
TRISCAN_DROPIN_REENTRY=1 in the environment passes rounded_reentry=True to the fused kernel
(docs/gpu-chunk-wy.md "Rounded re-entry").
"""
import os
import sys
import traceback

os.environ["FLA_CI_ENV"] = "0"  # FLA's assert_close only warns in CI mode: make it assert
REENTRY = os.environ.get("TRISCAN_DROPIN_REENTRY", "0") == "1"

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print("fla_dropin: cannot run: %s" % e)
    sys.exit(2)
if not torch.cuda.is_available():
    print("fla_dropin: cannot run: no CUDA device")
    sys.exit(2)

import fla.ops.utils  # noqa: E402
from fla.ops.common.chunk_scaled_dot_kkt import chunk_scaled_dot_kkt_fwd  # noqa: E402
from fla.ops.delta_rule import chunk_delta_rule, fused_recurrent_delta_rule  # noqa: E402
from fla.ops.gated_delta_rule import chunk_gated_delta_rule  # noqa: E402
import fla.ops.gated_delta_rule.chunk  # noqa: E402,F401 (holds chunk_gated_delta_rule_fwd_intra)
from fla.ops.utils.index import prepare_chunk_indices  # noqa: E402
from fla.utils import assert_close, device  # noqa: E402

import triscan  # noqa: E402

FLA_SOLVE_TRIL = sys.modules["fla.ops.utils.solve_tril"].solve_tril
FLA_FWD_INTRA = sys.modules["fla.ops.gated_delta_rule.chunk"].chunk_gated_delta_rule_fwd_intra
calls = {"triscan": 0, "intra": 0, "intra_fla": 0}


def triscan_solve_tril(A, cu_seqlens=None, chunk_indices=None, output_dtype=torch.float):
    """The substitute: FLA's signature, triscan underneath (statuses raise)."""
    calls["triscan"] += 1
    return triscan.solve_tril(A, cu_seqlens=cu_seqlens, chunk_indices=chunk_indices, output_dtype=output_dtype)


def triscan_fwd_intra(k, v, g=None, beta=None, cu_seqlens=None, chunk_size=64, chunk_indices=None):
    """The substitute for chunk_gated_delta_rule_fwd_intra: triscan's fused kernel where it
    has one (dk = dv in {64, 128}, chunk 32 or 64), FLA's own function otherwise (counted
    apart, so the report says how many cases ran through triscan)."""
    K, V = k.shape[-1], v.shape[-1]
    if K == V and K in (64, 128) and chunk_size in (32, 64) and k.dtype in (torch.float16, torch.bfloat16):
        calls["intra"] += 1
        return triscan.chunk_gated_delta_rule_fwd_intra(k, v, g, beta, cu_seqlens=cu_seqlens, chunk_size=chunk_size,
                                                        chunk_indices=chunk_indices, rounded_reentry=REENTRY)
    calls["intra_fla"] += 1
    return FLA_FWD_INTRA(k=k, v=v, g=g, beta=beta, cu_seqlens=cu_seqlens, chunk_size=chunk_size,
                         chunk_indices=chunk_indices)


def patch():
    """Replaces FLA's solve_tril and chunk_gated_delta_rule_fwd_intra in every fla module
    that holds a reference to them."""
    patched = []
    for name, mod in list(sys.modules.items()):
        if not name.startswith("fla") or mod is None:
            continue
        if getattr(mod, "solve_tril", None) is FLA_SOLVE_TRIL:
            setattr(mod, "solve_tril", triscan_solve_tril)
            patched.append(name)
        if getattr(mod, "chunk_gated_delta_rule_fwd_intra", None) is FLA_FWD_INTRA:
            setattr(mod, "chunk_gated_delta_rule_fwd_intra", triscan_fwd_intra)
            patched.append(name + " (fwd_intra)")
    return patched


def solve_tril(*args, **kwargs):
    """What the tests call: looked up at call time, so the patch applies."""
    return fla.ops.utils.solve_tril(*args, **kwargs)


# ---- FLA tests/ops/test_solve_tril.py (re-implemented; see the module docstring) --------

def test_solve_tril(B, T, H, chunk_size):
    # do not randomly initialise A, otherwise the inverse is not stable (FLA's comment)
    k = F.normalize(torch.randn((B, H, T, 64), dtype=torch.float32, device=device), dim=-1)
    padding_size = (chunk_size - T % chunk_size) % chunk_size
    k_padded = F.pad(k, (0, 0, 0, padding_size, 0, 0, 0, 0))
    k_padded = k_padded.reshape(B, H, -1, chunk_size, 64)
    A = (k_padded @ k_padded.transpose(-1, -2)).tril(-1)
    Ai = solve_tril(A.reshape(B, H, -1, chunk_size)[:, :, :T, :].transpose(1, 2)).transpose(1, 2)
    Ai_ref = torch.inverse(A + torch.eye(A.shape[-1], device=A.device)[None, None, None, ...])
    Ai_ref = Ai_ref.reshape(B, H, -1, chunk_size)[:, :, :T, :]
    assert_close("solve_tril", Ai, Ai_ref, 0.0001)


def varlen_input(H, cu_seqlens, chunk_size):
    T = cu_seqlens[-1]
    cu = torch.tensor(cu_seqlens, dtype=torch.int32, device=device)
    k = F.normalize(torch.randn((1, T, H, 64), dtype=torch.bfloat16, device=device), dim=-1)
    beta = torch.randn((1, T, H), dtype=torch.bfloat16, device=device).sigmoid()
    A = chunk_scaled_dot_kkt_fwd(k=k, beta=beta, cu_seqlens=cu, chunk_size=chunk_size)
    return A, cu


def varlen_reference(A, cu, chunk_size):
    Ai_ref = torch.zeros_like(A)
    for i in range(len(cu) - 1):
        for j in range(cu[i], cu[i + 1], chunk_size):
            m = min(chunk_size, cu[i + 1] - j)
            Ai_ref[:, j:j + m, :, :m] = torch.inverse(
                A[:, j:j + m, :, :m].transpose(1, 2) + torch.eye(m, device=A.device, dtype=A.dtype)[None, None, ...]
            ).transpose(1, 2)
    return Ai_ref


def test_solve_tril_varlen(H, cu_seqlens, chunk_size):
    A, cu = varlen_input(H, cu_seqlens, chunk_size)
    Ai = solve_tril(A, cu_seqlens=cu)
    assert_close("solve_tril_varlen", Ai, varlen_reference(A, cu.tolist(), chunk_size), 0.0001)


# ---- FLA tests/ops/test_delta.py (DeltaNet; solve_tril inside chunk_delta_rule) ----------

def delta_rule_case(T, D, cu_seqlens=None):
    torch.manual_seed(42)
    dtype = torch.float16
    if cu_seqlens is None:
        B, H, scale, N = 2, 3, D ** -0.5, 2
    else:
        B, H, scale, N = 1, 2, 1.0, len(cu_seqlens) - 1
        T = cu_seqlens[-1]
    q = torch.randn(B, T, H, D, dtype=dtype)
    k = F.normalize(torch.randn(B, T, H, D, dtype=torch.float32), p=2, dim=-1).to(dtype)
    v = torch.randn(B, T, H, D, dtype=dtype)
    beta = torch.rand(B, T, H, dtype=dtype).sigmoid()
    h0 = torch.randn(N, H, D, D, dtype=torch.float32 if cu_seqlens is None else dtype)
    q, k, v, beta, h0 = map(lambda x: x.to(device).requires_grad_(True), (q, k, v, beta, h0))
    do = torch.rand_like(v) if cu_seqlens is None else torch.randn_like(v)
    dht = torch.rand_like(h0)
    cu = None if cu_seqlens is None else torch.tensor(cu_seqlens, dtype=torch.int32, device=device)
    extra = {} if cu is None else {"cu_seqlens": cu}

    def run(fn):
        o, ht = fn(q.clone(), k.clone(), v.clone(), beta.clone(), scale=scale, output_final_state=True,
                   initial_state=h0.clone(), **extra)
        ((o * do).sum() + (ht * dht).sum()).backward(retain_graph=True)
        grads = (q.grad, k.grad, v.grad, beta.grad, h0.grad)
        q.grad = k.grad = v.grad = beta.grad = h0.grad = None
        return (o, ht) + grads

    tri = run(chunk_delta_rule)
    ref = run(fused_recurrent_delta_rule)
    tol_o = 0.006 if cu_seqlens is None else 0.005
    for name, r, t, tol in zip(("  o", " ht", " dq", " dk", " dv", " db", "dh0"), ref, tri,
                               (tol_o, tol_o, 0.008, 0.008, 0.008, 0.008, 0.008)):
        assert_close(name, r, t, tol)


# ---- FLA tests/ops/test_gated_delta.py, with triscan's fused chunk WY as the WY step -------
# Re-implemented from the test's description (fla-org/flash-linear-attention, see the module
# docstring): chunk_gated_delta_rule, whose forward calls chunk_gated_delta_rule_fwd_intra
# (now triscan's), against the token recurrence in fp32 and against FLA's own output on
# the same inputs, fp16 inputs, at the test's forward tolerance (o, ht: 0.005). Forward only: fla-core 0.6.0 refuses the gated
# backward (chunk_bwd_dqkwg) on Hopper with Triton >= 3.4 and < 3.7.1 ("produces incorrect
# results", FLA issue #640), which is the Triton (3.6) on the project's H200 — with or
# without triscan.

def gated_recurrence(q, k, v, beta, g, scale, h0):
    """S_t = exp(g_t) S_{t-1} + k_t (beta_t (v_t - S^T k_t))^T, o_t = S_t^T (scale q_t), fp32
    ([B, T, H, D] inputs, state [B, H, K, V] as FLA keeps it)."""
    q, k, v, beta, g = (x.float() for x in (q, k, v, beta, g))
    S = h0.float()
    out = []
    for t in range(q.shape[1]):
        S = S * g[:, t].exp()[..., None, None]
        kt, vt = k[:, t], v[:, t]
        delta = beta[:, t][..., None] * (vt - torch.einsum("bhk,bhkv->bhv", kt, S))
        S = S + kt[..., :, None] * delta[..., None, :]
        out.append(torch.einsum("bhk,bhkv->bhv", scale * q[:, t], S))
    return torch.stack(out, 1), S


def gated_delta_case(B, T, H, D, normalizer, scale, mask_p, cu_seqlens=None):
    """FLA's test_chunk (cu_seqlens None) or test_chunk_varlen inputs; forward compared."""
    torch.manual_seed(42)
    dtype = torch.float16
    varlen = cu_seqlens is not None
    if varlen:
        B, T, N = 1, cu_seqlens[-1], len(cu_seqlens) - 1
    q = torch.randn(B, T, H, D, dtype=dtype)
    k = F.normalize(torch.randn(B, T, H, D, dtype=torch.float32), p=2, dim=-1).to(dtype)
    v = torch.randn(B, T, H, D, dtype=dtype)
    if varlen:
        g = F.logsigmoid(torch.rand(B, T, H, dtype=dtype))
        beta = torch.rand(B, T, H, dtype=dtype).sigmoid()
        h0 = torch.randn(N, H, D, D, dtype=dtype)
    else:
        beta = torch.rand(B, T, H, dtype=dtype).sigmoid().fill_(1)
        g = F.logsigmoid(torch.rand(B, T, H, dtype=torch.float32)) / normalizer
        h0 = torch.zeros(B, H, D, D, dtype=torch.float32)
    g = g * (torch.rand_like(g) > mask_p)
    q, k, v, beta, g, h0 = map(lambda x: x.to(device), (q, k, v, beta, g, h0))
    cu = torch.tensor(cu_seqlens, dtype=torch.long, device=device) if varlen else None
    def forward():
        return chunk_gated_delta_rule(q, k, v, g, beta, scale=scale, output_final_state=True,
                                      initial_state=h0.clone(), **({"cu_seqlens": cu} if varlen else {}))

    with torch.no_grad():
        tri, tri_ht = forward()
        # FLA's own output on the same inputs (its fwd_intra put back for this one call).
        chunk_mod = sys.modules["fla.ops.gated_delta_rule.chunk"]
        chunk_mod.chunk_gated_delta_rule_fwd_intra = FLA_FWD_INTRA
        try:
            fla_o, fla_ht = forward()
        finally:
            chunk_mod.chunk_gated_delta_rule_fwd_intra = triscan_fwd_intra
        if varlen:
            parts = [gated_recurrence(*(x[:, a:b] for x in (q, k, v, beta, g)), scale, h0[i:i + 1])
                     for i, (a, b) in enumerate(zip(cu_seqlens[:-1], cu_seqlens[1:]))]
            ref, ref_ht = torch.cat([p[0] for p in parts], 1), torch.cat([p[1] for p in parts], 0)
        else:
            ref, ref_ht = gated_recurrence(q, k, v, beta, g, scale, h0)
    assert_close("o", ref, tri, 0.005)
    assert_close("ht", ref_ht, tri_ht, 0.005)
    assert_close("o vs FLA", fla_o, tri, 0.005)
    assert_close("ht vs FLA", fla_ht, tri_ht, 0.005)


# ---- triscan's extras --------------------------------------------------------------------

def test_output_dtypes(H, cu_seqlens, chunk_size, dtype):
    A, cu = varlen_input(H, cu_seqlens, chunk_size)
    ref = varlen_reference(A, cu.tolist(), chunk_size).to(dtype)
    Ai = solve_tril(A, cu_seqlens=cu, output_dtype=dtype)
    assert Ai.dtype == dtype and Ai.shape == A.shape, (Ai.dtype, Ai.shape)
    u = 2.0 ** -8 if dtype == torch.bfloat16 else 2.0 ** -11
    assert_close("solve_tril_%s" % str(dtype).replace("torch.", ""), ref.float(), Ai.float(), 2 * u)


def test_explicit_chunk_indices(H, cu_seqlens, chunk_size):
    A, cu = varlen_input(H, cu_seqlens, chunk_size)
    ci = prepare_chunk_indices(cu, chunk_size)
    Ai = solve_tril(A, cu_seqlens=cu, chunk_indices=ci)
    assert torch.equal(Ai, solve_tril(A, cu_seqlens=cu)), "chunk_indices changed the result"
    assert_close("solve_tril_ci", varlen_reference(A, cu.tolist(), chunk_size), Ai, 0.0001)


def cases():
    for B in [2]:
        for T in [128, 200, 300, 500]:
            for H in [2]:
                for bt in [16, 32, 64]:
                    yield "test_solve_tril[B=%d,T=%d,H=%d,chunk=%d]" % (B, T, H, bt), test_solve_tril, (B, T, H, bt)
    varlens = [[0, 63, 286, 300, 512], [0, 127, 246, 521, 1000], [0, 255, 492, 1042, 2000]]
    for cu in varlens:
        for bt in [64, 32, 16]:
            yield "test_solve_tril_varlen[H=2,cu=%s,chunk=%d]" % (cu, bt), test_solve_tril_varlen, (2, cu, bt)
    for T, D in [(56, 60), (211, 110), (400, 200)]:
        yield "test_delta.test_chunk[T=%d,D=%d]" % (T, D), delta_rule_case, (T, D)
    yield "test_delta.test_chunk_varlen[cu=[0,15,100,300,1203,2000]]", delta_rule_case, (None, 64,
                                                                                        [0, 15, 100, 300, 1203, 2000])
    for D in [64, 128]:
        for T in [1, 15, 63, 300]:
            for normalizer in [1, 0.1, 10]:
                for mask_p in [0, 0.5]:
                    yield ("test_gated_delta.test_chunk[B=2,T=%d,H=2,D=%d,gate=%g,scale=1,mask=%g]"
                           % (T, D, normalizer, mask_p), gated_delta_case, (2, T, 2, D, normalizer, 1, mask_p))
        yield ("test_gated_delta.test_chunk[B=2,T=300,H=2,D=%d,gate=1,scale=0.1,mask=0.5]" % D, gated_delta_case,
               (2, 300, 2, D, 1, 0.1, 0.5))
    yield ("test_gated_delta.test_chunk_varlen[H=2,D=128,cu=[0,122,229,400,1000]]", gated_delta_case,
           (1, 0, 2, 128, 1, 1, 0.5, [0, 122, 229, 400, 1000]))
    for dt in (torch.bfloat16, torch.float16):
        for bt in [16, 32, 64]:
            yield ("triscan.output_dtype[%s,chunk=%d]" % (dt, bt), test_output_dtypes,
                   (2, [0, 127, 246, 521, 1000], bt, dt))
    for bt in [16, 32, 64]:
        yield "triscan.chunk_indices[chunk=%d]" % bt, test_explicit_chunk_indices, (2, [0, 63, 286, 300, 512], bt)


def main():
    print("fla_dropin: torch %s, device %s, triscan library %s, GPU methods %s, rounded_reentry %s"
          % (torch.__version__, torch.cuda.get_device_name(), triscan.library_version(), triscan.gpu_methods(),
             REENTRY))
    if not triscan.gpu_available():
        print("fla_dropin: cannot run: libtriscan_gpu has no usable device (built without CUDA?)")
        return 2
    patched = patch()
    print("fla_dropin: fla's solve_tril replaced by triscan's in: %s" % ", ".join(sorted(patched)))
    torch.manual_seed(0)
    only = sys.argv[1] if len(sys.argv) > 1 else ""  # optional: run the cases whose name contains it
    failed = []
    selected = [c for c in cases() if only in c[0]]
    for name, fn, args in selected:
        before = calls["triscan"] + calls["intra"]
        try:
            fn(*args)
            if calls["triscan"] + calls["intra"] == before:
                raise AssertionError("neither triscan.solve_tril nor triscan.chunk_gated_delta_rule_fwd_intra was "
                                     "called (the patch did not reach this path)")
            print("PASS %s" % name)
        except Exception as e:  # noqa: BLE001 - every failure is reported, then counted
            failed.append(name)
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
            traceback.print_exc(limit=3)
    total = len(selected)
    print("fla_dropin: %d passed, %d failed (triscan.solve_tril called %d times, "
          "triscan.chunk_gated_delta_rule_fwd_intra %d times, FLA's fwd_intra %d times)"
          % (total - len(failed), len(failed), calls["triscan"], calls["intra"], calls["intra_fla"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
