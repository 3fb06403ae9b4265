#!/usr/bin/env python3
"""Smoke test of the Python package (python/triscan) on the CPU entry points, with numpy
(inversion, and chunk WY, delta forward and scans in class LinearAttention).

Accuracy checks use inputs whose inverse is known exactly and whose forward
substitution is exact in floating point (every intermediate is a small integer or a
power of two), so the bound of Higham, ASNA 2nd ed., Thm 8.5 has zero rounding error and
the result must equal the closed form bit for bit (see tests/capi/test_capi.c):
  N = ones strictly below the diagonal:  (I + N)^-1 = I - S   (S: subdiagonal shift)
  N = -2 on the subdiagonal:            (I + N)^-1 has entries 2^(i-j), i >= j
"""
import sys
import unittest

try:
    import numpy as np
except ImportError:
    print("tests/python: SKIPPED: numpy is not installed (scripts/setup.sh installs it with matplotlib)")
    sys.exit(77)

import triscan


def ones_inverse(n):
    return np.eye(n) - np.eye(n, k=-1)


def pow2_matrix(n):
    return np.diag(np.full(n - 1, -2.0), k=-1)


def pow2_inverse(n):
    i, j = np.indices((n, n))
    return np.where(i >= j, 2.0 ** (i - j), 0.0)


def chunk_input(T, H, BT, cu_seqlens, dtype=np.float32):
    """[1, T, H, BT]: every chunk matrix is N = ones strictly below its diagonal; the parts
    that are never read (diagonal, upper part, columns past a partial chunk) hold NaN."""
    A = np.full((1, T, H, BT), np.nan, dtype=dtype)
    for bos, eos in zip(cu_seqlens[:-1], cu_seqlens[1:]):
        for t in range(bos, eos):
            A[0, t, :, :(t - bos) % BT] = 1.0
    return A


def chunk_expected(T, H, BT, cu_seqlens):
    X = np.zeros((1, T, H, BT))
    for bos, eos in zip(cu_seqlens[:-1], cu_seqlens[1:]):
        for c0 in range(bos, eos, BT):
            m = min(BT, eos - c0)
            X[0, c0:c0 + m, :, :m] = ones_inverse(m)[:, None, :]
    return X


class Inversion(unittest.TestCase):
    def test_exact_batch_fp64_fp32_and_layouts(self):
        n = 12
        A = np.stack([np.tril(np.ones((n, n)), -1), pow2_matrix(n)])
        want = np.stack([ones_inverse(n), pow2_inverse(n)])
        for dtype in (np.float64, np.float32):
            for name, a in (("row-major", A.astype(dtype)), ("column-major", np.ascontiguousarray(A.astype(dtype).transpose(0, 2, 1)).transpose(0, 2, 1)),
                            ("interleaved (copied)", np.asfortranarray(A.astype(dtype))),
                            ("strided view", np.repeat(A.astype(dtype), 2, axis=0)[::2])):
                X = triscan.invert(a)
                self.assertEqual(X.dtype, dtype, name)
                np.testing.assert_array_equal(X, want.astype(dtype), err_msg="%s %s" % (name, np.dtype(dtype)))

    def test_single_matrix_and_nonunit(self):
        n = 7
        L = 2.0 * (np.eye(n) - np.eye(n, k=-1))  # L^-1 = 1/2 * ones on and below the diagonal
        np.testing.assert_array_equal(triscan.invert(L, unit_diagonal=False), 0.5 * np.tril(np.ones((n, n))))
        np.testing.assert_array_equal(triscan.invert(np.tril(np.ones((n, n)), -1)), ones_inverse(n))

    def test_solve_tril_varlen_matches_closed_form(self):
        T, H, BT = 45, 2, 16
        cu = np.array([0, 5, 45])
        A = chunk_input(T, H, BT, cu)
        X = triscan.solve_tril(A, cu_seqlens=cu, chunk_indices=triscan.prepare_chunk_indices(cu, BT))
        self.assertEqual((X.shape, X.dtype), (A.shape, np.float32))
        np.testing.assert_array_equal(X, chunk_expected(T, H, BT, cu).astype(np.float32))
        # output_dtype=None keeps A's dtype; fixed length without cu_seqlens
        A2 = chunk_input(48, 1, 16, [0, 48], dtype=np.float64)
        X2 = triscan.solve_tril(A2.reshape(1, 48, 1, 16), output_dtype=None)
        self.assertEqual(X2.dtype, np.float64)
        np.testing.assert_array_equal(X2, chunk_expected(48, 1, 16, [0, 48]))
        # cu_seqlens ending before T: rows past it stay 0, as in FLA
        X3 = triscan.solve_tril(chunk_input(40, 1, 16, [0, 30]), cu_seqlens=[0, 30])
        np.testing.assert_array_equal(X3[0, 30:], 0.0)

    def test_invert_chunks_layout(self):
        cu = [0, 20, 36]
        A = chunk_input(36, 3, 16, cu, dtype=np.float64)
        X, st = triscan.invert(A, layout="chunks", cu_seqlens=cu, status="return")
        np.testing.assert_array_equal(X, chunk_expected(36, 3, 16, cu))
        self.assertEqual(st.shape, (triscan.chunk_rows(1, 36, 16, cu), 3))
        self.assertEqual(st.shape, (3, 3))
        self.assertTrue((st == 0).all())


class Errors(unittest.TestCase):
    def assertNames(self, exc_type, word, fn, *args, **kwargs):
        with self.assertRaises(exc_type) as ctx:
            fn(*args, **kwargs)
        self.assertIn(word, str(ctx.exception))
        return ctx.exception

    def test_bad_arguments_raise_value_errors_naming_them(self):
        A = np.zeros((2, 4, 4))
        e = self.assertNames(ValueError, "A", triscan.invert, np.zeros((3, 4, 5)))
        self.assertIsInstance(e, triscan.TriscanError)
        self.assertNames(triscan.TriscanArgumentError, "trinv/nope", triscan.invert, A, method="trinv/nope")
        self.assertNames(ValueError, "float16", triscan.invert, A.astype(np.float16))
        self.assertNames(ValueError, "status", triscan.invert, A, status="bogus")
        self.assertNames(ValueError, "layout", triscan.invert, A, layout="diagonal")
        A4 = np.zeros((1, 32, 1, 16), np.float32)
        self.assertNames(ValueError, "cu_seqlens", triscan.solve_tril, A4, cu_seqlens=[0, 40])
        self.assertNames(ValueError, "cu_seqlens", triscan.solve_tril, A4, cu_seqlens=[0, 20, 10])
        self.assertNames(ValueError, "chunk_indices", triscan.solve_tril, A4, cu_seqlens=[0, 20, 32],
                         chunk_indices=[[0, 0], [1, 0]])
        self.assertNames(ValueError, "A", triscan.solve_tril, np.zeros((32, 16), np.float32))
        self.assertNames(ValueError, "B", triscan.solve_tril, np.zeros((2, 32, 1, 16), np.float32),
                         cu_seqlens=[0, 32])
        e = self.assertNames(ValueError, "threads", triscan.set_cpu_threads, -1)
        self.assertEqual(e.code, 1)  # TRISCAN_ERROR_INVALID_ARGUMENT from the C API


class Statuses(unittest.TestCase):
    def test_nan_input_is_a_status(self):
        A = np.stack([np.tril(np.ones((5, 5)), -1)] * 3)
        A[1, 3, 1] = np.nan
        with self.assertRaises(triscan.TriscanStatusError) as ctx:
            triscan.invert(A)
        self.assertEqual(ctx.exception.worst, "nonfinite_input")
        np.testing.assert_array_equal(ctx.exception.statuses, [0, 5, 0])
        X, st = triscan.invert(A, status="return")
        np.testing.assert_array_equal(st, [0, triscan.STATUS_NAMES.index("nonfinite_input"), 0])
        np.testing.assert_array_equal(X[0], ones_inverse(5))
        X = triscan.invert(A, status="ignore")
        np.testing.assert_array_equal(X[2], ones_inverse(5))

    def test_nan_in_a_chunk(self):
        A = chunk_input(32, 2, 16, [0, 32])
        A[0, 20, 1, 2] = np.nan  # chunk row 1, head 1
        _, st = triscan.solve_tril(A, status="return")
        np.testing.assert_array_equal(st, [[0, 0], [0, 5]])


class LinearAttention(unittest.TestCase):
    """chunk_wy, delta_forward, scan and scan_delta against exact closed forms; every input
    and intermediate is a small integer or power of two, so no operation rounds (see
    tests/capi/test_capi_linear.c for the derivations)."""

    def test_chunk_wy_orthogonal_keys(self):
        # k_t = e_t (dk >= T): N = 0, (I + N)^-1 = I, W_t = beta_t k_t, U_t = beta_t v_t
        T, H, dk, dv, BT = 6, 2, 8, 3, 4
        cu = [0, 5, 6]
        k = np.zeros((1, T, 1, dk))
        k[0, np.arange(T), 0, np.arange(T)] = 1.0
        v = np.arange(T * H * dv, dtype=np.float64).reshape(1, T, H, dv) - 7
        beta = np.tile([0.25, 0.5], (1, T, 1))
        for dtype in (np.float64, np.float32):
            for fam, g in (("deltanet", None), ("gated", np.zeros((1, T, H))), ("kda", np.zeros((1, T, H, dk)))):
                cast = (lambda x: None if x is None else x.astype(dtype))
                w, u, N, X, st = triscan.chunk_wy(cast(k), cast(v), cast(beta), cast(g), family=fam, chunk_size=BT,
                                                  cu_seqlens=cu, return_N=True, return_Ainv=True, status="return")
                self.assertEqual(w.dtype, dtype)
                np.testing.assert_array_equal(w, beta[..., None] * np.broadcast_to(k, (1, T, H, dk)), err_msg=fam)
                np.testing.assert_array_equal(u, beta[..., None] * v, err_msg=fam)
                np.testing.assert_array_equal(N, 0.0)
                want = np.zeros((1, T, H, BT))
                for t in range(T):
                    start = 0 if t < 4 else (4 if t < 5 else 5)
                    want[0, t, :, t - start] = 1.0
                np.testing.assert_array_equal(X, want, err_msg=fam)
                self.assertEqual(st.shape, (3, H))
                self.assertTrue((st == 0).all())

    def test_chunk_wy_zero_beta(self):
        rng = np.random.default_rng(1)
        k = rng.integers(-2, 3, (2, 9, 2, 4)).astype(np.float64)
        v = rng.integers(-2, 3, (2, 9, 4, 3)).astype(np.float64)
        w, u = triscan.chunk_wy(k, v, np.zeros((2, 9, 4)), chunk_size=4)
        np.testing.assert_array_equal(w, 0.0)
        np.testing.assert_array_equal(u, 0.0)

    def test_delta_forward_zero_keys(self):
        # k = 0: S_t = S_0, so o_t = S_0 q_t and the final state is S_0
        T, H, dk, dv = 20, 2, 4, 3
        cu = [0, 17, 20]
        q = (np.arange(T * dk).reshape(1, T, 1, dk) % 5 - 2).astype(np.float64)
        v = (np.arange(T * H * dv).reshape(1, T, H, dv) % 7 - 3).astype(np.float64)
        s0 = (np.arange(2 * H * dv * dk).reshape(2, H, dv, dk) % 9 - 4).astype(np.float64)
        seq = np.array([0 if t < 17 else 1 for t in range(T)])
        want = np.einsum("thrc,tc->thr", s0[seq], q[0, :, 0])[None]
        for dtype in (np.float64, np.float32):
            o, s1 = triscan.delta_forward(q.astype(dtype), np.zeros_like(q, dtype), v.astype(dtype),
                                          np.full((1, T, H), 0.5, dtype), np.zeros((1, T, H), dtype), chunk_size=16,
                                          cu_seqlens=cu, initial_state=s0.astype(dtype), output_final_state=True)
            np.testing.assert_array_equal(o, want.astype(dtype))
            np.testing.assert_array_equal(s1, s0.astype(dtype))
            # FLA's transposed state layout
            o2, s2 = triscan.delta_forward(q.astype(dtype), np.zeros_like(q, dtype), v.astype(dtype),
                                           np.full((1, T, H), 0.5, dtype), chunk_size=16, cu_seqlens=cu,
                                           initial_state=s0.transpose(0, 1, 3, 2).astype(dtype),
                                           output_final_state=True, state_transposed=True)
            np.testing.assert_array_equal(o2, want.astype(dtype))
            np.testing.assert_array_equal(s2, s0.transpose(0, 1, 3, 2).astype(dtype))

    def test_scans_integer_prefix_sums(self):
        rng = np.random.default_rng(2)
        b = rng.integers(-3, 4, (2, 11, 3)).astype(np.float64)
        want = np.cumsum(b, axis=1)  # a_t = 1: prefix sums, exact in integers
        for dtype in (np.float64, np.float32):
            bb = b.astype(dtype)
            for alg in (None, "scan/sequential", "scan/blelloch", "scan/hillis_steele", "scan/chunked:chunk=4"):
                np.testing.assert_array_equal(triscan.scan(np.ones((2, 11), dtype), bb, kind="scalar",
                                                           algorithm=alg), want)
                np.testing.assert_array_equal(triscan.scan(np.ones_like(bb), bb, algorithm=alg), want)
                np.testing.assert_array_equal(triscan.scan(np.zeros_like(bb), bb, kind="log_diagonal",
                                                           algorithm=alg), want)
                eye = np.broadcast_to(np.eye(3, dtype=dtype), (2, 11, 3, 3))
                np.testing.assert_array_equal(triscan.scan(eye, bb, kind="dense", algorithm=alg), want)
        # packed sequences restart the sum; h0 is added to each sequence's states
        cu = [0, 4, 11]
        h0 = np.array([[1.0, 2, 3], [10, 20, 30]])
        h = triscan.scan(np.ones((1, 11, 3)), b[:1], cu_seqlens=cu, h0=h0)
        np.testing.assert_array_equal(h[0, :4], np.cumsum(b[0, :4], axis=0) + h0[0])
        np.testing.assert_array_equal(h[0, 4:], np.cumsum(b[0, 4:], axis=0) + h0[1])

    def test_scan_delta_zero_beta_keeps_h0(self):
        rng = np.random.default_rng(3)
        k = rng.integers(-2, 3, (1, 7, 3)).astype(np.float64)
        v = rng.integers(-2, 3, (1, 7, 2)).astype(np.float64)
        h0 = np.arange(12, dtype=np.float64).reshape(2, 2, 3)
        S = triscan.scan_delta(k, v, np.zeros((1, 7)), np.zeros((1, 7)), h0=h0, cu_seqlens=[0, 3, 7])
        self.assertEqual(S.shape, (1, 7, 2, 3))
        np.testing.assert_array_equal(S[0, :3], np.broadcast_to(h0[0], (3, 2, 3)))
        np.testing.assert_array_equal(S[0, 3:], np.broadcast_to(h0[1], (4, 2, 3)))

    def test_bad_arguments_name_them(self):
        k = np.zeros((1, 8, 1, 4))
        v = np.zeros((1, 8, 2, 3))
        beta = np.zeros((1, 8, 2))
        with self.assertRaises(triscan.TriscanArgumentError) as ctx:
            triscan.chunk_wy(k, v, beta.astype(np.float32))
        self.assertIn("beta", str(ctx.exception))
        with self.assertRaises(triscan.TriscanArgumentError) as ctx:
            triscan.chunk_wy(k, v, beta, family="mamba")
        self.assertIn("family", str(ctx.exception))
        with self.assertRaises(triscan.TriscanArgumentError) as ctx:  # from the C API
            triscan.chunk_wy(k, v, beta, method="trinv/nope")
        self.assertIn("trinv/nope", str(ctx.exception))
        with self.assertRaises(triscan.TriscanArgumentError) as ctx:
            triscan.delta_forward(k, k, v, beta, chunk_size=8)
        self.assertIn("BT", str(ctx.exception))
        with self.assertRaises(triscan.TriscanArgumentError) as ctx:
            triscan.scan(np.ones((1, 5)), np.ones((1, 5, 2)), kind="diagonal")
        self.assertIn("a:", str(ctx.exception))

    def test_nan_is_a_status(self):
        b = np.ones((1, 6, 2))
        b[0, 2, 1] = np.nan
        with self.assertRaises(triscan.TriscanStatusError) as ctx:
            triscan.scan(np.ones_like(b), b)
        self.assertEqual(ctx.exception.worst, "nonfinite_input")
        _, st = triscan.scan(np.ones_like(b), b, status="return")
        self.assertEqual(st.tolist(), [triscan.STATUS_NAMES.index("nonfinite_input")])


class Gpu(unittest.TestCase):
    def torch_on_gpu(self):
        """torch, or the test skipped (visibly) when torch or a usable GPU is missing."""
        try:
            import torch
        except ImportError:
            self.skipTest("torch is not installed")
        if not (torch.cuda.is_available() and triscan.gpu_available()):
            self.skipTest("no usable GPU")
        return torch

    def test_gpu_answers_cleanly(self):
        # No device in CI: the query answers False instead of failing.
        available = triscan.gpu_available()
        print("gpu available: %s, methods: %s" % (available, triscan.gpu_methods()))
        self.assertIn(available, (True, False))

    def test_gpu_scan_integer_prefix_sums(self):
        # On a GPU with torch: a = 1 makes h the running sum of b; integers below 2^24 are
        # exact in fp32, so the answer is known exactly (np.cumsum in int64).
        torch = self.torch_on_gpu()
        rng = np.random.default_rng(3)
        b = rng.integers(-50, 50, size=(2, 1000, 40))
        want = np.cumsum(b, axis=1)
        bt = torch.tensor(b, dtype=torch.float32, device="cuda")
        for kind, a in (("diagonal", torch.ones_like(bt)), ("scalar", torch.ones(2, 1000, device="cuda"))):
            h = triscan.scan(a, bt, kind=kind)
            self.assertEqual(h.dtype, torch.float32)
            np.testing.assert_array_equal(h.cpu().numpy(), want.astype(np.float32))
        cu = [0, 300, 1000]
        h = triscan.scan(torch.ones(1, 1000, 40, device="cuda"), bt[:1], cu_seqlens=cu)
        np.testing.assert_array_equal(h.cpu().numpy()[0, 300:], np.cumsum(b[0, 300:], axis=0).astype(np.float32))
        with self.assertRaises(triscan.TriscanArgumentError):
            triscan.scan(torch.ones_like(bt), bt, kind="dense")

    def test_gpu_chunk_wy_writes_every_output_entry(self):
        # On a GPU with torch: orthogonal keys (k_t = e_(t mod 64), head size 64, chunk 64) make
        # N = 0, so A = I and, ungated, W = diag(beta) K, U = diag(beta) V, each entry one
        # product of two bf16 numbers rounded once (the hi + lo split of an exact bf16 beta has
        # lo = 0): known exactly. The outputs are allocated uninitialised when the kernel writes
        # every entry (full chunks, cu_seqlens covering T) and zeroed otherwise; the memory
        # they get is filled with NaN first, so an entry the kernel left out shows.
        torch = self.torch_on_gpu()
        D, BT, H = 64, 64, 2
        bf = torch.bfloat16
        for T, cu in ((128, None), (100, None), (128, [0, 64, 128]), (128, [0, 50, 90])):
            B = 2 if cu is None else 1
            k = torch.zeros(B, T, H, D, dtype=bf, device="cuda")
            t = torch.arange(T, device="cuda")
            k[:, t, :, t % D] = 1.0
            v = torch.randn(B, T, H, D, device="cuda").to(bf)
            beta = torch.rand(B, T, H, device="cuda").to(bf)
            rows = torch.ones(B, T, dtype=torch.bool, device="cuda")
            if cu is not None:
                rows[:, cu[-1]:] = False  # past cu_seqlens[-1]: left 0
            bounds = [0, T] if cu is None else cu
            want_a = torch.zeros(B, T, H, BT, dtype=bf, device="cuda")
            for a, b in zip(bounds[:-1], bounds[1:]):
                for i in range(a, b):
                    want_a[:, i, :, (i - a) % BT] = 1.0
            scale = (beta.float() * rows[..., None])[..., None]
            # rounded_reentry: the solved rows re-enter products with N's blocks, all 0 here.
            for rr in (False, True):
                # Three NaN-filled blocks of the outputs' sizes, freed together: the caching
                # allocator hands them to w, u and A.
                junk = [torch.full(shape, float("nan"), dtype=bf, device="cuda")
                        for shape in ((B, T, H, D), (B, T, H, D), (B, T, H, BT))]
                del junk
                w, u, A = triscan.chunk_gated_delta_rule_fwd_intra(k, v, None, beta, cu_seqlens=cu, chunk_size=BT,
                                                                   rounded_reentry=rr)
                what = "T %d cu %s rounded_reentry %s" % (T, cu, rr)
                torch.testing.assert_close(w, (scale * k.float()).to(bf), rtol=0, atol=0, msg=what)
                torch.testing.assert_close(u, (scale * v.float()).to(bf), rtol=0, atol=0, msg=what)
                torch.testing.assert_close(A, want_a, rtol=0, atol=0, msg=what)

    def test_gpu_solve_tril_writes_every_output_entry(self):
        # On a GPU with torch, for every GPU method: A with 1/2 on each chunk's subdiagonal
        # (0 at chunk positions 64 and 0) and 0 elsewhere has the inverse X_ij = (-1/2)^(i-j)
        # for j <= i in the same 64-row half of the chunk, else 0: powers of two down to 2^-63
        # that every method's operations (substitution, fp32 or 16-bit merges, products of
        # factors) give exactly. X is allocated uninitialised when all chunks are full and
        # zeroed otherwise; the memory it gets is filled with NaN first, so an entry the kernel
        # left out shows.
        torch = self.torch_on_gpu()
        H = 2
        # Each GPU kernel and store path: the product form runs only on tensor cores (mma=).
        methods = [m for m in triscan.gpu_methods() if m != "trinv/product_form"]
        methods += ["trinv/recursive_merge:mma=bf16", "trinv/product_form:mma=bf16",
                    "trinv/product_form:mma=tf32"]
        for BT in (16, 32, 64, 128):
            for T, cu in ((2 * BT, None), (2 * BT - 5, None), (2 * BT, [0, BT, 2 * BT]),
                          (2 * BT, [0, BT - 10, 2 * BT - 20])):
                B = 2 if cu is None else 1
                bounds = [0, T] if cu is None else cu
                A = np.zeros((B, T, H, BT), dtype=np.float32)
                want = np.zeros((B, T, H, BT))
                for a, b in zip(bounds[:-1], bounds[1:]):
                    for i in range(a, b):
                        p = (i - a) % BT
                        if p % 64:
                            A[:, i, :, p - 1] = 0.5
                        for c in range(p - p % 64, p + 1):
                            want[:, i, :, c] = (-0.5) ** (p - c)
                A, want = torch.from_numpy(A).cuda(), torch.from_numpy(want).cuda()
                for method in methods:
                    if BT == 16 and "product_form" in method:
                        continue  # needs BT >= 32: gpu::invert rejects BT = 16 with a message
                    for out in (torch.float32, torch.bfloat16):
                        junk = torch.full((B, T, H, BT), float("nan"), dtype=out, device="cuda")
                        del junk  # the caching allocator hands this block to X
                        X = triscan.solve_tril(A, cu_seqlens=cu, output_dtype=out, method=method)
                        what = "%s BT %d T %d cu %s %s" % (method, BT, T, cu, out)
                        torch.testing.assert_close(X, want.to(out), rtol=0, atol=0, msg=what)

    def test_gpu_delta_forward_matches_cpu(self):
        # Plumbing (argument order, FLA's layouts, scale, per-token gates, transposed states):
        # the GPU forward against the CPU fp64 forward on the same bf16 inputs. The kernels are
        # held to their derived bound in tests/gpu/test_delta_gpu.cpp; here the GPU keeps W, U
        # in bf16 between its kernels (relative errors of a few 2^-8, docs/gpu-delta.md), so a
        # relative Frobenius error below 2^-5 passes while a wrong layout, scale or gate
        # convention gives O(1).
        torch = self.torch_on_gpu()
        B, T, H, D = 1, 150, 2, 64
        gen = torch.Generator().manual_seed(5)
        q = torch.nn.functional.normalize(torch.randn(B, T, H, D, generator=gen), dim=-1).bfloat16()
        k = torch.nn.functional.normalize(torch.randn(B, T, H, D, generator=gen), dim=-1).bfloat16()
        v = torch.randn(B, T, H, D, generator=gen).bfloat16()
        beta = torch.rand(B, T, H, generator=gen).bfloat16()
        g = -0.1 * torch.rand(B, T, H, generator=gen)
        h0 = 0.1 * torch.randn(B, H, D, D, generator=gen)  # [N, H, K, V]
        scale = D ** -0.5
        d = lambda x: x.double().numpy()
        o_ref, s_ref = triscan.delta_forward(d(q), d(k), d(v), d(beta), d(g), family="gated", initial_state=d(h0),
                                             output_final_state=True, state_transposed=True)
        ref_ungated = triscan.delta_forward(d(q), d(k), d(v), d(beta), initial_state=d(h0),
                                            output_final_state=True, state_transposed=True)
        cuda = lambda x: x.cuda()
        for gated in (True, False):
            for chunk in (32, 64):  # 32: the default
                with self.subTest(gated=gated, chunk=chunk):
                    if gated:
                        o, s = triscan.chunk_gated_delta_rule(cuda(q), cuda(k), cuda(v), cuda(g), cuda(beta),
                                                              initial_state=cuda(h0), output_final_state=True,
                                                              chunk_size=chunk, output_dtype=torch.float32)
                        want_o, want_s = o_ref, s_ref
                    else:
                        o, s = triscan.chunk_delta_rule(cuda(q), cuda(k), cuda(v), cuda(beta),
                                                        initial_state=cuda(h0), output_final_state=True,
                                                        chunk_size=chunk, output_dtype=torch.float32)
                        want_o, want_s = ref_ungated
                    rel = lambda a, b: np.linalg.norm(a - b) / np.linalg.norm(b)
                    self.assertLess(rel(o.cpu().double().numpy(), scale * want_o), 2.0 ** -5)
                    self.assertLess(rel(s.cpu().double().numpy(), want_s), 2.0 ** -5)
        with self.assertRaises(triscan.TriscanError):
            triscan.chunk_delta_rule(cuda(q), cuda(k), cuda(v), cuda(beta), chunk_size=16)


if __name__ == "__main__":
    print("triscan library %s from the package at %s" % (triscan.library_version(), triscan.__file__))
    unittest.main()
