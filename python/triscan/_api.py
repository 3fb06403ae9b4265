"""triscan's functions over the C API: numpy arrays (and torch CPU tensors) go to the CPU
entry points, torch CUDA tensors to the GPU ones on the tensor's current stream."""
import ctypes
import sys

from . import _lib
from ._errors import (STATUS_NAMES, TriscanArgumentError, TriscanError, TriscanStatusError, error_for)

try:  # numpy is needed for host arrays and host-side bookkeeping
    import numpy as np
except ImportError:  # pragma: no cover - reported when a function needs it
    np = None

FP32, BF16, FP16, FP64 = 0, 1, 2, 3
_STATUS_MODES = ("raise", "return", "ignore")
NON_UNIT_DIAGONAL, NO_ACCURACY_CHECK = 1, 2


def _need_numpy():
    if np is None:
        raise TriscanError("triscan needs numpy (pip install numpy)")


def _torch():
    """torch if it is already imported (a caller passing tensors has imported it)."""
    return sys.modules.get("torch")


def _is_tensor(x):
    t = _torch()
    return t is not None and isinstance(x, t.Tensor)


def _check(rc):
    if rc != 0:
        raise error_for(rc, _lib.last_error())


def _ptr(a):
    """Address of a numpy array's first element (None when empty)."""
    return a.ctypes.data if a.size else None


# ---- dtypes ------------------------------------------------------------------------

_NAMES = {"float32": "float32", "float": "float32", "fp32": "float32", "float64": "float64", "double": "float64",
          "fp64": "float64", "bfloat16": "bfloat16", "bf16": "bfloat16", "float16": "float16", "half": "float16",
          "fp16": "float16"}
_CODE = {"float32": FP32, "bfloat16": BF16, "float16": FP16, "float64": FP64}


def _dtype_name(dt, what):
    """The canonical name of a numpy dtype, torch dtype or string; TriscanArgumentError otherwise."""
    t = _torch()
    if t is not None and isinstance(dt, t.dtype):
        key = str(dt).replace("torch.", "")
    elif isinstance(dt, str):
        key = dt
    else:
        _need_numpy()
        try:
            key = np.dtype(dt).name
        except TypeError:
            raise TriscanArgumentError("%s: %r is not a dtype" % (what, dt)) from None
    if key not in _NAMES:
        raise TriscanArgumentError("%s: dtype %s is not supported (float32, float64, bfloat16, float16)" % (what, key))
    return _NAMES[key]


def _torch_dtype(name):
    return getattr(_torch(), name)


# ---- statuses ----------------------------------------------------------------------

def _check_status_mode(status):
    if status not in _STATUS_MODES:
        raise TriscanArgumentError("status: %r is not one of 'raise', 'return', 'ignore'" % (status,))


def _raise_flagged(statuses, worst, what):
    statuses = np.asarray(statuses)
    flagged = int(np.count_nonzero(statuses))
    counts = {STATUS_NAMES[s]: int(np.count_nonzero(statuses == s)) for s in range(1, len(STATUS_NAMES))
              if np.any(statuses == s)}
    raise TriscanStatusError("%s: %d of %d matrices flagged (%s); worst: %s. Pass status='return' to get the "
                             "per-matrix statuses, or status='ignore'." % (what, flagged, statuses.size, counts,
                                                                          STATUS_NAMES[worst]),
                             statuses, STATUS_NAMES[worst])


# ---- chunk layout helpers ------------------------------------------------------------

def _host_cu_seqlens(cu_seqlens):
    """cu_seqlens as a contiguous int64 numpy array (copied from the device if needed)."""
    if cu_seqlens is None:
        return None
    _need_numpy()
    if _is_tensor(cu_seqlens):
        cu_seqlens = cu_seqlens.detach().to("cpu").numpy()
    cu = np.asarray(cu_seqlens)
    if cu.ndim != 1 or not (np.issubdtype(cu.dtype, np.integer) or cu.size == 0):
        raise TriscanArgumentError("cu_seqlens: expected a 1-D integer array, got shape %s dtype %s"
                                   % (cu.shape, cu.dtype))
    return np.ascontiguousarray(cu, dtype=np.int64)


def chunk_rows(B, T, BT, cu_seqlens=None):
    """The number of chunk rows of the [B, T, H, BT] layout (status arrays are [rows, H])."""
    cu = _host_cu_seqlens(cu_seqlens)
    out = ctypes.c_int64(-1)
    _check(_lib.cpu().triscan_chunk_rows(B, T, BT, _ptr(cu) if cu is not None else None,
                                         0 if cu is None else cu.size, ctypes.byref(out)))
    return out.value


def prepare_chunk_indices(cu_seqlens, BT):
    """flash-linear-attention's chunk_indices for cu_seqlens: [NT, 2] rows (sequence, chunk)."""
    cu = _host_cu_seqlens(cu_seqlens)
    lens = np.diff(cu)
    counts = (lens + BT - 1) // BT
    seq = np.repeat(np.arange(lens.size, dtype=np.int64), counts)
    chunk = np.concatenate([np.arange(c, dtype=np.int64) for c in counts]) if counts.size else seq
    return np.stack([seq, chunk], axis=1)


def _check_chunk_indices(chunk_indices, cu, BT):
    if chunk_indices is None or cu is None:
        return  # FLA reads chunk_indices only with cu_seqlens
    got = chunk_indices.detach().to("cpu").numpy() if _is_tensor(chunk_indices) else np.asarray(chunk_indices)
    want = prepare_chunk_indices(cu, BT)
    if got.shape != want.shape or not np.array_equal(got.astype(np.int64), want):
        raise TriscanArgumentError("chunk_indices: inconsistent with cu_seqlens and BT = %d (expected shape %s, "
                                   "[sequence, chunk] rows as prepare_chunk_indices(cu_seqlens, BT) gives; got shape "
                                   "%s)" % (BT, want.shape, tuple(got.shape)))


def _effective_length(cu, T):
    """Tokens covered: T, or cu_seqlens[-1] (<= T; rows beyond it are left zero as in FLA)."""
    if cu is None:
        return T
    if cu.size and cu[-1] > T:
        raise TriscanArgumentError("cu_seqlens: last entry %d exceeds A's T = %d" % (cu[-1], T))
    return int(cu[-1]) if cu.size else T


# ---- CPU ----------------------------------------------------------------------------

def _cpu_array(A, what):
    """A host array (numpy, or a torch CPU tensor viewed as numpy) of float32/float64."""
    _need_numpy()
    if _is_tensor(A):
        if str(A.dtype) not in ("torch.float32", "torch.float64"):
            raise TriscanArgumentError("%s: dtype %s is not supported on the CPU (float32, float64)"
                                       % (what, str(A.dtype).replace("torch.", "")))
        A = A.detach().numpy()
    a = np.asarray(A)
    if a.dtype not in (np.float32, np.float64):
        raise TriscanArgumentError("%s: dtype %s is not supported on the CPU (float32, float64)" % (what, a.dtype))
    return a


def _cpu_invert_batch(a, method, flags, status):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise TriscanArgumentError("A: expected [..., n, n] square matrices, got shape %s" % (a.shape,))
    n = a.shape[-1]
    a3 = a.reshape((-1, n, n))  # a view when the batch dims allow it, else a copy
    if any(s % a3.itemsize for s in a3.strides):
        a3 = np.ascontiguousarray(a3)
    # The C API takes any (row, column) strides but not interleaved matrices: copy those.
    span = (n - 1) * (abs(a3.strides[1]) + abs(a3.strides[2])) + a3.itemsize
    if a3.shape[0] > 1 and abs(a3.strides[0]) < span:
        a3 = np.ascontiguousarray(a3)
    count = a3.shape[0]
    x = np.empty((count, n, n), dtype=a3.dtype)
    st = np.empty(count, dtype=np.int32)
    worst = ctypes.c_int32(0)
    ab, ar, ac = (s // a3.itemsize for s in a3.strides)
    _check(_lib.cpu().triscan_invert_batch(method, _CODE[a3.dtype.name], count, n, _ptr(a3), ab, ar, ac, _ptr(x),
                                           n * n, n, 1, flags, _ptr(st), ctypes.byref(worst)))
    return x.reshape(a.shape), st.reshape(a.shape[:-2]), worst.value


def _cpu_invert_chunks(a, cu, method, flags):
    if a.ndim != 4:
        raise TriscanArgumentError("A: expected the chunk layout [B, T, H, BT], got shape %s" % (a.shape,))
    a = np.ascontiguousarray(a)
    B, T, H, BT = a.shape
    Teff = _effective_length(cu, T)
    rows = chunk_rows(B, Teff, BT, cu)
    x = np.zeros_like(a)  # rows outside every chunk matrix stay 0, as in FLA
    st = np.empty((rows, H), dtype=np.int32)
    worst = ctypes.c_int32(0)
    _check(_lib.cpu().triscan_invert_chunks(method, _CODE[a.dtype.name], B, Teff, H, BT,
                                            _ptr(cu) if cu is not None else None, 0 if cu is None else cu.size,
                                            _ptr(a), _ptr(x), flags, _ptr(st), ctypes.byref(worst)))
    return x, st, worst.value


# ---- GPU (torch CUDA tensors) ----------------------------------------------------------

def _gpu_output(torch, shape, dtype, device, cu, T, BT, chunk_columns):
    """An output of the fused chunk WY kernel or of the chunked inversion, uninitialised where
    the kernel writes every entry, else zeros (tests/python/test_smoke.py checks both cases
    against exact answers for every GPU method).

    The kernel writes every row of every sequence (rows [bos, eos)); an output with one column
    per chunk position ([.., BT]: the inverse) gets only columns < m in a chunk of m < BT rows.
    Rows past cu_seqlens[-1] and those columns stay 0, as in FLA; when nothing is left
    unwritten, torch.empty saves a pass over the output (for W and U of the issue-8 shape,
    1.1 GB of memset, about a quarter of the call)."""
    if cu is None:
        covered = not chunk_columns or T % BT == 0
    else:
        covered = shape[0] == 1 and cu.size > 0 and int(cu[-1]) == T and cu[0] == 0 and (
            not chunk_columns or all(int(b - a) % BT == 0 for a, b in zip(cu[:-1], cu[1:])))
    return (torch.empty if covered else torch.zeros)(shape, dtype=dtype, device=device)


def _gpu_code(t, what):
    name = _dtype_name(t, what)
    if name == "float64":
        raise TriscanArgumentError("%s: float64 is not supported on the GPU (float32, bfloat16, float16)" % what)
    return _CODE[name]


def _aligned(t):
    return t.data_ptr() % 16 == 0


def _gpu_invert_chunks(A, cu, out_dtype, method, status):
    torch = _torch()
    if A.dim() != 4:
        raise TriscanArgumentError("A: expected the chunk layout [B, T, H, BT], got shape %s" % (tuple(A.shape),))
    lib = _lib.gpu()
    in_code, out_code = _gpu_code(A.dtype, "A"), _gpu_code(out_dtype, "output_dtype")
    A = A.contiguous()
    if not _aligned(A):
        A = A.clone()
    B, T, H, BT = A.shape
    Teff = _effective_length(cu, T)
    rows = chunk_rows(B, Teff, BT, cu)
    # Every GPU kernel writes all BT x BT entries of a full chunk (the forward substitution
    # column by column, zeros above the diagonal included; the merge kernel's store_full):
    # uninitialised where every chunk is full, as for the fused WY's inverse.
    X = _gpu_output(torch, A.shape, out_dtype, A.device, cu, T, BT, True)
    st = torch.empty((rows, H), dtype=torch.int32, device=A.device) if status != "ignore" else None
    flag = torch.empty(1, dtype=torch.int32, device=A.device) if status == "raise" else None
    with torch.cuda.device(A.device):
        stream = torch.cuda.current_stream(A.device).cuda_stream
        _check(lib.triscan_gpu_invert_chunks(method, B, Teff, H, BT, _ptr(cu) if cu is not None else None,
                                             0 if cu is None else cu.size, in_code, A.data_ptr(), out_code,
                                             X.data_ptr(), st.data_ptr() if st is not None else None,
                                             flag.data_ptr() if flag is not None else None, stream))
    return X, st, flag, (rows, H)


def _gpu_invert_batch(A, out_dtype, method, status):
    torch = _torch()
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise TriscanArgumentError("A: expected [..., n, n] square matrices, got shape %s" % (tuple(A.shape),))
    lib = _lib.gpu()
    in_code, out_code = _gpu_code(A.dtype, "A"), _gpu_code(out_dtype, "output_dtype")
    n = A.shape[-1]
    a3 = A.reshape(-1, n, n)
    count = a3.shape[0]
    # The kernels need 16-byte aligned rows: pad the row stride when n * itemsize is not a multiple of 16.
    per16 = 16 // a3.element_size()
    rs = -(-n // per16) * per16
    if rs != n or not a3.is_contiguous() or not _aligned(a3):
        padded = torch.zeros((count, n, rs), dtype=A.dtype, device=A.device)
        padded[:, :, :n] = a3
        a3 = padded
    X = torch.empty((count, n, rs), dtype=out_dtype, device=A.device)
    st = torch.empty(count, dtype=torch.int32, device=A.device) if status != "ignore" else None
    flag = torch.empty(1, dtype=torch.int32, device=A.device) if status == "raise" else None
    with torch.cuda.device(A.device):
        stream = torch.cuda.current_stream(A.device).cuda_stream
        _check(lib.triscan_gpu_invert_batch(method, count, n, n * rs, rs, in_code, a3.data_ptr(), out_code,
                                            X.data_ptr(), st.data_ptr() if st is not None else None,
                                            flag.data_ptr() if flag is not None else None, stream))
    X = X[:, :, :n].reshape(A.shape) if rs != n else X.reshape(A.shape)
    return X, st.reshape(A.shape[:-2]) if st is not None else None, flag, tuple(A.shape[:-2])


def _gpu_finish(X, st, flag, status, what, shape):
    if status == "raise":
        worst = int(flag.item())  # synchronises the stream
        if worst != 0:
            _raise_flagged(st.to("cpu").numpy(), worst, what)
        return X
    if status == "return":
        return X, st
    return X


# ---- public functions ---------------------------------------------------------------

def _method_bytes(method):
    if method is None:
        return None
    if not isinstance(method, str):
        raise TriscanArgumentError("method: expected a string in the registry syntax, got %r" % (method,))
    return method.encode()


def _cpu_out(x, st, worst, out_name, status, what, as_torch):
    if out_name is not None and x.dtype.name != out_name:
        if out_name not in ("float32", "float64"):
            if not as_torch:
                raise TriscanArgumentError("output_dtype: %s has no numpy type; on the CPU use float32 or float64"
                                           % out_name)
        else:
            x = x.astype(out_name)
    if as_torch:
        torch = _torch()
        x = torch.from_numpy(x)
        if out_name is not None and out_name not in ("float32", "float64"):
            x = x.to(_torch_dtype(out_name))
    if status == "raise" and worst != 0:
        _raise_flagged(st, worst, what)
    return (x, st) if status == "return" else x


def invert(A, *, layout="batch", cu_seqlens=None, method=None, unit_diagonal=True, check_accuracy=True,
           output_dtype=None, status="raise"):
    """Inverse of lower triangular matrices, with triscan's conventions (DESIGN.md).

    layout="batch": A is [..., n, n]; each matrix's lower triangle is L (unit diagonal
        unless unit_diagonal=False; only the part below (and on) the diagonal is read);
        returns L^-1 with A's shape.
    layout="chunks": A is [B, T, H, BT] holding the strictly lower N of each chunk
        matrix; returns (I + N)^-1 in the same layout (entries outside every chunk
        matrix are 0). cu_seqlens (host or device, [N + 1]) for packed sequences, B == 1.

    numpy arrays and torch CPU tensors (float32, float64) run on the CPU in their own
    precision; torch CUDA tensors (float32, bfloat16, float16) on the GPU on the current
    stream. method: registry syntax; None selects the default ("trinv/forward_substitution"
    on the CPU, "trinv/recursive_merge" on the GPU).
    output_dtype: None (= A's dtype) or a dtype. status: "raise" (TriscanStatusError on
    a flagged matrix; on the GPU it synchronises), "return" (returns (X, statuses):
    int32 statuses, numpy on the CPU, a device tensor on the GPU) or "ignore".
    """
    _check_status_mode(status)
    if layout not in ("batch", "chunks"):
        raise TriscanArgumentError("layout: %r is not 'batch' or 'chunks'" % (layout,))
    if layout == "batch" and cu_seqlens is not None:
        raise TriscanArgumentError("cu_seqlens: only for layout='chunks'")
    m = _method_bytes(method)
    flags = (0 if unit_diagonal else NON_UNIT_DIAGONAL) | (0 if check_accuracy else NO_ACCURACY_CHECK)
    cu = _host_cu_seqlens(cu_seqlens)
    what = "triscan.invert"
    if _is_tensor(A) and A.is_cuda:
        out = A.dtype if output_dtype is None else output_dtype
        if not isinstance(out, _torch().dtype):
            out = _torch_dtype(_dtype_name(out, "output_dtype"))
        if layout == "batch":
            if not unit_diagonal:
                raise TriscanArgumentError("unit_diagonal: False is not supported on the GPU (unit lower only)")
            X, st, flag, shape = _gpu_invert_batch(A, out, m, status)
        else:
            X, st, flag, shape = _gpu_invert_chunks(A, cu, out, m, status)
        return _gpu_finish(X, st, flag, status, what, shape)
    as_torch = _is_tensor(A)
    a = _cpu_array(A, "A")
    out_name = None if output_dtype is None else _dtype_name(output_dtype, "output_dtype")
    if layout == "batch":
        x, st, worst = _cpu_invert_batch(a, m, flags, status)
    else:
        if not unit_diagonal:
            raise TriscanArgumentError("unit_diagonal: the chunk layout holds the strictly lower N of I + N")
        x, st, worst = _cpu_invert_chunks(a, cu, m, flags)
    return _cpu_out(x, st, worst, out_name, status, what, as_torch)


def solve_tril(A, cu_seqlens=None, chunk_indices=None, output_dtype="float32", method=None, status="raise"):
    """Drop-in for flash-linear-attention's ``fla.ops.utils.solve_tril``: returns (I + A)^-1
    for A [B, T, H, BT] strictly lower per chunk (only the strictly lower part is read),
    with A's shape and ``output_dtype`` (default torch.float / float32; None = A's
    dtype). cu_seqlens: [N + 1] cumulative lengths (B == 1); chunk_indices: FLA's
    [NT, 2] (sequence, chunk) table, derived from cu_seqlens when None and checked
    against it when given. Entries outside every chunk matrix are 0, as in FLA.

    A torch CUDA tensor runs on the GPU (BT in 16, 32, 64, 128) on the current stream;
    a numpy array or torch CPU tensor on the CPU. triscan's own keywords: method
    (registry syntax) and status ("raise" | "return" | "ignore", see triscan.invert).
    """
    _check_status_mode(status)
    if A is None or not hasattr(A, "shape") or len(A.shape) != 4:
        raise TriscanArgumentError("A: expected [B, T, H, BT], got %s" % (getattr(A, "shape", type(A)),))
    cu = _host_cu_seqlens(cu_seqlens)
    _check_chunk_indices(chunk_indices, cu, int(A.shape[-1]))
    m = _method_bytes(method)
    if _is_tensor(A) and A.is_cuda:
        torch = _torch()
        if output_dtype is None:
            out = A.dtype
        elif isinstance(output_dtype, torch.dtype):
            out = output_dtype
        else:
            out = _torch_dtype(_dtype_name(output_dtype, "output_dtype"))
        X, st, flag, shape = _gpu_invert_chunks(A, cu, out, m, status)
        return _gpu_finish(X, st, flag, status, "triscan.solve_tril", shape)
    as_torch = _is_tensor(A)
    a = _cpu_array(A, "A")
    out_name = a.dtype.name if output_dtype is None else _dtype_name(output_dtype, "output_dtype")
    x, st, worst = _cpu_invert_chunks(a, cu, m, 0)
    return _cpu_out(x, st, worst, out_name, status, "triscan.solve_tril", as_torch)


CUMULATIVE_G, ROUNDED_PRODUCTS, G_LOG2, ROUNDED_REENTRY = 4, 16, 32, 64
_WY_DELTANET, _WY_GATED, _WY_KDA = 0, 1, 2


def chunk_gated_delta_rule_fwd_intra(k, v, g=None, beta=None, cu_seqlens=None, chunk_size=64, chunk_indices=None,
                                     *, log2_gates=True, rounded_products=False, rounded_reentry=False,
                                     output_inverse=True, status="raise"):
    """Drop-in for flash-linear-attention's
    ``fla.ops.gated_delta_rule.chunk_fwd.chunk_gated_delta_rule_fwd_intra`` (>= 0.6) on the
    GPU: returns (w, u, A) for k [B, T, H, K], v [B, T, HV, V], beta [B, T, HV] (k's
    dtype, bfloat16 or float16) and g [B, T, HV] float32 in-chunk cumulative log-decays
    (None: ungated DeltaNet; [B, T, HV, K]: per-channel decays, the kda family, W =
    A diag(beta) (exp(g) * k)), with w [B, T, HV, K], u [B, T, HV, V] and A = (I + N)^-1
    [B, T, HV, BT] in k's dtype, from triscan's fused kernel (one launch; docs/gpu-chunk-wy.md).

    As in FLA >= 0.6, g is in base-2 logarithms (its chunk_local_cumsum scales by 1/ln 2
    and the kernels use exp2); log2_gates=False takes natural logarithms. triscan's own
    keywords: rounded_products (round the inverse once to k's dtype in the W/U products,
    as FLA does; default: a hi + lo pair), rounded_reentry (chunk 64 with split products:
    each solved block row of w, u and A re-enters the later rows' products rounded once to
    k's dtype, 0.93-0.95 of the time at a larger error bound, docs/gpu-chunk-wy.md "Rounded
    re-entry"; no effect elsewhere), output_inverse (False: A is None, one write less) and
    status ("raise" | "return" | "ignore", see triscan.invert; "return" appends the
    [chunk_rows, HV] status tensor).
    """
    _check_status_mode(status)
    torch = _torch()
    for name, x in (("k", k), ("v", v), ("beta", beta)):
        if not (_is_tensor(x) and x.is_cuda):
            raise TriscanArgumentError("%s: expected a torch CUDA tensor, got %s" % (name, type(x).__name__))
    if k.dim() != 4 or v.dim() != 4 or beta.dim() != 3:
        raise TriscanArgumentError("expected k [B, T, H, K], v [B, T, HV, V], beta [B, T, HV]; got %s, %s, %s"
                                   % (tuple(k.shape), tuple(v.shape), tuple(beta.shape)))
    B, T, H, K = k.shape
    HV, V = v.shape[2], v.shape[3]
    if tuple(v.shape[:2]) != (B, T) or tuple(beta.shape) != (B, T, HV):
        raise TriscanArgumentError("shapes disagree: k %s, v %s, beta %s" % (tuple(k.shape), tuple(v.shape),
                                                                              tuple(beta.shape)))
    if v.dtype != k.dtype or beta.dtype != k.dtype:
        raise TriscanArgumentError("k, v and beta must share a dtype (got %s, %s, %s)" % (k.dtype, v.dtype, beta.dtype))
    family = _WY_DELTANET
    if g is not None:
        if (not (_is_tensor(g) and g.is_cuda) or tuple(g.shape) not in ((B, T, HV), (B, T, HV, K))
                or g.dtype != torch.float32):
            raise TriscanArgumentError("g: expected a float32 CUDA tensor [B, T, HV] = %s (gated) or [B, T, HV, K] = "
                                       "%s (kda)" % ((B, T, HV), (B, T, HV, K)))
        family = _WY_KDA if g.dim() == 4 else _WY_GATED
    cu = _host_cu_seqlens(cu_seqlens)
    BT = int(chunk_size)
    _check_chunk_indices(chunk_indices, cu, BT)
    in_code = _gpu_code(k.dtype, "k")
    lib = _lib.gpu()
    k, v, beta = k.contiguous(), v.contiguous(), beta.contiguous()
    g = g.contiguous() if g is not None else None
    Teff = _effective_length(cu, T)
    rows = chunk_rows(B, Teff, BT, cu)
    w = _gpu_output(torch, (B, T, HV, K), k.dtype, k.device, cu, T, BT, chunk_columns=False)
    u = _gpu_output(torch, (B, T, HV, V), k.dtype, k.device, cu, T, BT, chunk_columns=False)
    A = _gpu_output(torch, (B, T, HV, BT), k.dtype, k.device, cu, T, BT, chunk_columns=True) \
        if output_inverse else None
    st = torch.empty((rows, HV), dtype=torch.int32, device=k.device) if status != "ignore" else None
    flag = torch.empty(1, dtype=torch.int32, device=k.device) if status == "raise" else None
    flags = (CUMULATIVE_G | (G_LOG2 if log2_gates else 0) | (ROUNDED_PRODUCTS if rounded_products else 0)
             | (ROUNDED_REENTRY if rounded_reentry else 0))
    with torch.cuda.device(k.device):
        stream = torch.cuda.current_stream(k.device).cuda_stream
        _check(lib.triscan_gpu_chunk_wy(family, B, Teff, HV, H, K, V, BT,
                                        _ptr(cu) if cu is not None else None, 0 if cu is None else cu.size, in_code,
                                        k.data_ptr(), v.data_ptr(), beta.data_ptr(),
                                        g.data_ptr() if g is not None else None, in_code, w.data_ptr(),
                                        u.data_ptr(), A.data_ptr() if A is not None else None, flags,
                                        st.data_ptr() if st is not None else None,
                                        flag.data_ptr() if flag is not None else None, stream))
    if status == "raise":
        worst = int(flag.item())
        if worst != 0:
            _raise_flagged(st.to("cpu").numpy(), worst, "triscan.chunk_gated_delta_rule_fwd_intra")
    if status == "return":
        return w, u, A, st
    return w, u, A


def _gpu_delta_forward(q, k, v, beta, g, scale, initial_state, output_final_state, cu_seqlens, chunk_size,
                       log2_gates, cumulative_g, rounded_products, output_dtype, segments, status, what):
    _check_status_mode(status)
    torch = _torch()
    for name, x in (("q", q), ("k", k), ("v", v), ("beta", beta)):
        if not (_is_tensor(x) and x.is_cuda):
            raise TriscanArgumentError("%s: expected a torch CUDA tensor, got %s" % (name, type(x).__name__))
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4 or beta.dim() != 3:
        raise TriscanArgumentError("expected q, k [B, T, H, K], v [B, T, HV, V], beta [B, T, HV]; got %s, %s, %s, %s"
                                   % (tuple(q.shape), tuple(k.shape), tuple(v.shape), tuple(beta.shape)))
    B, T, H, K = k.shape
    HV, V = v.shape[2], v.shape[3]
    if tuple(q.shape) != tuple(k.shape) or tuple(v.shape[:2]) != (B, T) or tuple(beta.shape) != (B, T, HV):
        raise TriscanArgumentError("shapes disagree: q %s, k %s, v %s, beta %s"
                                   % (tuple(q.shape), tuple(k.shape), tuple(v.shape), tuple(beta.shape)))
    if q.dtype != k.dtype or v.dtype != k.dtype or beta.dtype != k.dtype:
        raise TriscanArgumentError("q, k, v and beta must share a dtype (got %s, %s, %s, %s)"
                                   % (q.dtype, k.dtype, v.dtype, beta.dtype))
    if g is not None:
        if not (_is_tensor(g) and g.is_cuda) or tuple(g.shape) != (B, T, HV):
            raise TriscanArgumentError("g: expected a CUDA tensor [B, T, HV] = %s" % ((B, T, HV),))
        g = g.float().contiguous()
    cu = _host_cu_seqlens(cu_seqlens)
    BT = int(chunk_size)
    in_code = _gpu_code(k.dtype, "k")
    out_dtype = k.dtype if output_dtype is None else output_dtype
    out_code = _gpu_code(out_dtype, "output_dtype")
    Teff = _effective_length(cu, T)
    nseq = B if cu is None else max(cu.size - 1, 0)
    s0 = None
    if initial_state is not None:
        if not (_is_tensor(initial_state) and initial_state.is_cuda) or tuple(initial_state.shape) != (nseq, HV, K, V):
            raise TriscanArgumentError("initial_state: expected a CUDA tensor [N, HV, K, V] = %s" % ((nseq, HV, K, V),))
        s0 = initial_state.float().contiguous()
    scale = K ** -0.5 if scale is None else float(scale)
    q, k, v, beta = q.contiguous(), k.contiguous(), v.contiguous(), beta.contiguous()
    rows = chunk_rows(B, Teff, BT, cu)
    o = torch.empty((B, T, HV, V), dtype=out_dtype, device=k.device)
    s1 = torch.empty((nseq, HV, K, V), dtype=torch.float32, device=k.device) if output_final_state else None
    st = torch.empty((rows, HV), dtype=torch.int32, device=k.device) if status != "ignore" else None
    flag = torch.empty(1, dtype=torch.int32, device=k.device) if status == "raise" else None
    flags = (STATE_TRANSPOSED | (G_LOG2 if log2_gates else 0) | (CUMULATIVE_G if cumulative_g else 0)
             | (ROUNDED_PRODUCTS if rounded_products else 0))
    with torch.cuda.device(k.device):
        stream = torch.cuda.current_stream(k.device).cuda_stream
        _check(_lib.gpu().triscan_gpu_delta_forward(
            _WY_GATED if g is not None else _WY_DELTANET, B, Teff, HV, H, K, V, BT,
            _ptr(cu) if cu is not None else None, 0 if cu is None else cu.size, in_code, q.data_ptr(), k.data_ptr(),
            v.data_ptr(), beta.data_ptr(), g.data_ptr() if g is not None else None,
            s0.data_ptr() if s0 is not None else None, scale, int(segments), out_code, o.data_ptr(),
            s1.data_ptr() if s1 is not None else None, flags, st.data_ptr() if st is not None else None,
            flag.data_ptr() if flag is not None else None, stream))
    if status == "raise":
        worst = int(flag.item())
        if worst != 0:
            _raise_flagged(st.to("cpu").numpy(), worst, what)
    out = (o, s1)
    return out + (st,) if status == "return" else out


def chunk_gated_delta_rule(q, k, v, g, beta, scale=None, initial_state=None, output_final_state=False,
                           cu_seqlens=None, chunk_size=32, *, log2_gates=False, cumulative_g=False,
                           rounded_products=False, output_dtype=None, segments=1, status="raise"):
    """Forward-only stand-in for flash-linear-attention's ``fla.ops.gated_delta_rule.chunk_gated_delta_rule``
    on the GPU (no autograd): returns (o, final_state) for q, k [B, T, H, K], v [B, T, HV, V],
    g [B, T, HV] per-token natural-log decays (FLA's input convention), beta [B, T, HV], all
    CUDA tensors in one 16-bit dtype; scale defaults to K^-1/2; initial_state and final_state
    are float32 [N, HV, K, V] (FLA's layout); final_state is None unless output_final_state.
    Kernels: include/triscan/gpu.hpp "Chunkwise delta-rule forward", docs/gpu-delta.md; chunk
    size 32 (default: o and the final state are those of any chunk size up to rounding, and
    on the H200 it is faster than 64 at equal or lower error, docs/benchmarks.md) or 64,
    K = V in {64, 128}.
    triscan's own keywords: log2_gates / cumulative_g (g's convention), rounded_products
    (FLA's single rounding of fp32 operands: faster, errors just below FLA's; default
    hi + lo, the accurate mode; docs/api.md says by how much on the H200), output_dtype (default q's
    dtype; torch.float32 allowed), segments (> 1: the associative form across chunks, for
    few (sequence, head) pairs; docs/gpu-delta.md), status as for triscan.invert ("return"
    appends the [chunk_rows, HV] status tensor, one row per chunk of chunk_size tokens).
    """
    if g is None:
        raise TriscanArgumentError("g: chunk_gated_delta_rule needs gates (use chunk_delta_rule without)")
    return _gpu_delta_forward(q, k, v, beta, g, scale, initial_state, output_final_state, cu_seqlens, chunk_size,
                              log2_gates, cumulative_g, rounded_products, output_dtype, segments, status,
                              "triscan.chunk_gated_delta_rule")


def chunk_delta_rule(q, k, v, beta, scale=None, initial_state=None, output_final_state=False, cu_seqlens=None,
                     chunk_size=32, *, rounded_products=False, output_dtype=None, segments=1, status="raise"):
    """Forward-only stand-in for flash-linear-attention's ``fla.ops.delta_rule.chunk_delta_rule`` on the
    GPU (ungated DeltaNet; no autograd): returns (o, final_state), arguments as
    triscan.chunk_gated_delta_rule without g."""
    return _gpu_delta_forward(q, k, v, beta, None, scale, initial_state, output_final_state, cu_seqlens, chunk_size,
                              False, False, rounded_products, output_dtype, segments, status,
                              "triscan.chunk_delta_rule")


def set_cpu_threads(threads):
    """Worker threads of the CPU functions (0 = all cores); results never depend on it."""
    _check(_lib.cpu().triscan_set_cpu_threads(int(threads)))


def gpu_available():
    """True when libtriscan_gpu is built with CUDA and a usable device is present."""
    try:
        return _lib.gpu().triscan_gpu_available() == 0
    except TriscanError:
        return False


def gpu_methods():
    """Names of the methods with a GPU kernel ([] without CUDA)."""
    try:
        return _lib.gpu().triscan_gpu_methods().decode().split()
    except TriscanError:
        return []


def library_version():
    """The loaded libtriscan's version string."""
    return _lib.cpu().triscan_version().decode()


# ---- linear attention and scans (CPU; numpy arrays or torch CPU tensors) ---------------

_FAMILIES = {"deltanet": 0, "gated": 1, "kda": 2, "dplr": 3}
_SCAN_KINDS = {"scalar": 0, "diagonal": 1, "log_diagonal": 2, "dense": 3}
_GATES = {None: 0, "none": 0, "scalar": 1, "channel": 2}
CUMULATIVE_G, STATE_TRANSPOSED = 4, 8


def _host_input(x, name, ref=None, ndim=None, shape=None):
    """x as a C-contiguous float32/float64 numpy array, of ref's dtype, ndim dims and the given
    shape (None entries are free); TriscanArgumentError naming `name` otherwise."""
    if x is None:
        raise TriscanArgumentError("%s: required here, got None" % name)
    if _is_tensor(x) and x.is_cuda:
        raise TriscanArgumentError("%s: CUDA tensors are not supported by this function (CPU only: numpy arrays or "
                                   "torch CPU tensors)" % name)
    a = _cpu_array(x, name)
    if ref is not None and a.dtype != ref.dtype:
        raise TriscanArgumentError("%s: dtype %s differs from the other inputs' dtype %s (all float32 or all "
                                   "float64)" % (name, a.dtype, ref.dtype))
    if ndim is not None and a.ndim != ndim:
        raise TriscanArgumentError("%s: expected %d dimensions, got shape %s" % (name, ndim, a.shape))
    if shape is not None:
        for i, (got, want) in enumerate(zip(a.shape, shape)):
            if want is not None and got != want:
                raise TriscanArgumentError("%s: expected shape %s, got %s (dimension %d)"
                                           % (name, tuple("*" if s is None else s for s in shape), a.shape, i))
    return np.ascontiguousarray(a)


def _opt_ptr(a):
    return None if a is None else _ptr(a)


def _cu_args(cu):
    return (None, 0) if cu is None else (_ptr(cu), cu.size)


def _infer_family(family, g, a):
    if family is None:
        if a is not None:
            return "dplr"
        if g is None:
            return "deltanet"
        return "gated" if np.ndim(g) == 3 else "kda"
    if family not in _FAMILIES:
        raise TriscanArgumentError("family: %r is not one of %s" % (family, ", ".join(_FAMILIES)))
    return family


def _finish(outputs, st, worst, status, what, as_torch):
    if as_torch:
        torch = _torch()
        outputs = [torch.from_numpy(o) for o in outputs]
    if status == "raise" and worst != 0:
        _raise_flagged(st, worst, what)
    outputs = list(outputs)
    if status == "return":
        outputs.append(st)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def chunk_wy(k, v, beta=None, g=None, a=None, b=None, *, family=None, chunk_size=64, cu_seqlens=None,
             cumulative_g=False, return_N=False, return_Ainv=False, method=None, check_accuracy=True, status="raise"):
    """The delta rule's chunk WY factors (include/triscan/wy.hpp, docs/wy.md), on the CPU.

    k [B, T, Hk, dk] (Hk divides H; None for dplr), v [B, T, H, dv], beta [B, T, H];
    g: gated [B, T, H], kda / dplr [B, T, H, dk] natural-log decays per token (or, with
    cumulative_g=True, the in-chunk cumulative sums, as FLA's chunk_local_cumsum gives);
    a, b [B, T, H, dk] (dplr). family: "deltanet", "gated", "kda" or "dplr"; None infers it
    (a given: dplr; no g: deltanet; g 3-D: gated; else kda). chunk_size: BT.
    cu_seqlens: [N + 1] for packed sequences (B == 1). float32 or float64, all alike.

    Returns (w, u) with w [B, T, H, dk] = T (γ ⊙ K), u [B, T, H, dv] = T V, T = (I + N)^-1
    diag(beta); then N [B, T, H, BT] (return_N: the strictly lower chunk matrices, FLA's A
    before solve_tril) and (I + N)^-1 [B, T, H, BT] (return_Ainv: what FLA's
    chunk_gated_delta_rule_fwd_intra returns as A); then the [chunk_rows, H] statuses
    (status="return"). Rows outside every sequence are 0. status: as triscan.invert.
    """
    _check_status_mode(status)
    fam = _infer_family(family, g, a)
    as_torch = _is_tensor(v)
    vv = _host_input(v, "v", ndim=4)
    B, T, H, dv = vv.shape
    dplr = fam == "dplr"
    if dplr:
        aa = _host_input(a, "a", vv, 4, (B, T, H, None))
        dk = aa.shape[3]
        bb = _host_input(b, "b", vv, 4, (B, T, H, dk))
        kk = bt = None
        Hk = 0
    else:
        kk = _host_input(k, "k", vv, 4, (B, T, None, None))
        Hk, dk = kk.shape[2], kk.shape[3]
        bt = _host_input(beta, "beta", vv, 3, (B, T, H))
        aa = bb = None
        for name, x in (("a", a), ("b", b)):
            if x is not None:
                raise TriscanArgumentError("%s: only for family 'dplr' (family is %r)" % (name, fam))
    gg = None
    if fam == "gated":
        gg = _host_input(g, "g", vv, 3, (B, T, H))
    elif fam in ("kda", "dplr"):
        gg = _host_input(g, "g", vv, 4, (B, T, H, dk))
    elif g is not None:
        raise TriscanArgumentError("g: family 'deltanet' has no gate")
    cu = _host_cu_seqlens(cu_seqlens)
    BT = int(chunk_size)
    Teff = _effective_length(cu, T)
    rows = chunk_rows(B, Teff, BT, cu)
    w = np.zeros((B, T, H, dk), dtype=vv.dtype)
    u = np.zeros((B, T, H, dv), dtype=vv.dtype)
    N = np.zeros((B, T, H, BT), dtype=vv.dtype) if return_N else None
    X = np.zeros((B, T, H, BT), dtype=vv.dtype) if return_Ainv else None
    st = np.empty((rows, H), dtype=np.int32)
    worst = ctypes.c_int32(0)
    flags = (0 if check_accuracy else NO_ACCURACY_CHECK) | (CUMULATIVE_G if cumulative_g else 0)
    _check(_lib.cpu().triscan_chunk_wy(_method_bytes(method), _CODE[vv.dtype.name], _FAMILIES[fam], B, Teff, H, Hk,
                                       dk, dv, BT, *_cu_args(cu), _opt_ptr(kk), _ptr(vv), _opt_ptr(bt), _opt_ptr(gg),
                                       _opt_ptr(aa), _opt_ptr(bb), _ptr(w), _ptr(u), _opt_ptr(N), _opt_ptr(X), flags,
                                       _ptr(st), ctypes.byref(worst)))
    outs = [w, u] + ([N] if return_N else []) + ([X] if return_Ainv else [])
    return _finish(outs, st, worst.value, status, "triscan.chunk_wy", as_torch)


def delta_forward(q, k, v, beta, g=None, *, family=None, chunk_size=64, cu_seqlens=None, initial_state=None,
                  output_final_state=False, state_transposed=False, cumulative_g=False, method=None,
                  check_accuracy=True, status="raise"):
    """The chunkwise delta-rule forward pass o_t = S_t q_t (include/triscan/delta.hpp), CPU.

    q, k [B, T, Hk, dk] (Hk divides H), v [B, T, H, dv], beta [B, T, H]; g: gated
    [B, T, H], kda [B, T, H, dk] (per-token log-decays, or cumulative with cumulative_g).
    family: "deltanet", "gated", "kda"; None infers it from g. chunk_size in 16, 32, 64,
    128. initial_state: [N, H, dv, dk] (N sequences; [N, H, dk, dv] with
    state_transposed=True, FLA's layout). Returns o [B, T, H, dv], then the final states
    (output_final_state), then the [chunk_rows, H] statuses (status="return").
    """
    _check_status_mode(status)
    fam = _infer_family(family, g, None)
    if fam == "dplr":
        raise TriscanArgumentError("family: 'dplr' has no chunkwise forward here (deltanet, gated, kda)")
    as_torch = _is_tensor(v)
    vv = _host_input(v, "v", ndim=4)
    B, T, H, dv = vv.shape
    kk = _host_input(k, "k", vv, 4, (B, T, None, None))
    Hk, dk = kk.shape[2], kk.shape[3]
    qq = _host_input(q, "q", vv, 4, (B, T, Hk, dk))
    bt = _host_input(beta, "beta", vv, 3, (B, T, H))
    gg = None
    if fam == "gated":
        gg = _host_input(g, "g", vv, 3, (B, T, H))
    elif fam == "kda":
        gg = _host_input(g, "g", vv, 4, (B, T, H, dk))
    elif g is not None:
        raise TriscanArgumentError("g: family 'deltanet' has no gate")
    cu = _host_cu_seqlens(cu_seqlens)
    BT = int(chunk_size)
    Teff = _effective_length(cu, T)
    nseq = B if cu is None else max(cu.size - 1, 0)
    sshape = (nseq, H, dk, dv) if state_transposed else (nseq, H, dv, dk)
    s0 = None if initial_state is None else _host_input(initial_state, "initial_state", vv, 4, sshape)
    rows = chunk_rows(B, Teff, BT, cu)
    o = np.zeros((B, T, H, dv), dtype=vv.dtype)
    s1 = np.zeros(sshape, dtype=vv.dtype) if output_final_state else None
    st = np.empty((rows, H), dtype=np.int32)
    worst = ctypes.c_int32(0)
    flags = ((0 if check_accuracy else NO_ACCURACY_CHECK) | (CUMULATIVE_G if cumulative_g else 0)
             | (STATE_TRANSPOSED if state_transposed else 0))
    _check(_lib.cpu().triscan_delta_forward(_method_bytes(method), _CODE[vv.dtype.name], _FAMILIES[fam], B, Teff, H,
                                            Hk, dk, dv, BT, *_cu_args(cu), _ptr(qq), _ptr(kk), _ptr(vv), _ptr(bt),
                                            _opt_ptr(gg), _opt_ptr(s0), _ptr(o), _opt_ptr(s1), flags, _ptr(st),
                                            ctypes.byref(worst)))
    outs = [o] + ([s1] if output_final_state else [])
    return _finish(outs, st, worst.value, status, "triscan.delta_forward", as_torch)


def _scan_finish(h, code, status, what, as_torch):
    st = np.array([code], dtype=np.int32)
    return _finish([h], st, code, status, what, as_torch)


def _scan_common(cu_seqlens, B, T):
    cu = _host_cu_seqlens(cu_seqlens)
    if cu is not None and B != 1:
        raise TriscanArgumentError("cu_seqlens: needs B == 1 (packed sequences), got B = %d" % B)
    nseq = B if cu is None else max(cu.size - 1, 0)
    return cu, nseq


def _gpu_scan(a, b, kind, h0, cu_seqlens, algorithm, status, output_dtype):
    torch = _torch()
    if kind not in ("scalar", "diagonal"):
        raise TriscanArgumentError("kind: %r has no GPU kernel (scalar, diagonal)" % (kind,))
    if b.dim() != 3:
        raise TriscanArgumentError("b: expected [B, T, d], got shape %s" % (tuple(b.shape),))
    B, T, d = b.shape
    ashape = (B, T) if kind == "scalar" else (B, T, d)
    if not (_is_tensor(a) and a.is_cuda) or tuple(a.shape) != ashape or a.dtype != b.dtype:
        raise TriscanArgumentError("a: expected a CUDA tensor of shape %s and b's dtype %s" % (ashape, b.dtype))
    cu = _host_cu_seqlens(cu_seqlens)
    nseq = B if cu is None else cu.size - 1
    in_code = _gpu_code(b.dtype, "b")
    out = b.dtype if output_dtype is None else output_dtype
    out_code = _gpu_code(out, "output_dtype")
    a, b = a.contiguous(), b.contiguous()
    if h0 is not None:
        if not (_is_tensor(h0) and h0.is_cuda) or tuple(h0.shape) != (nseq, d):
            raise TriscanArgumentError("h0: expected a CUDA tensor [%d, %d]" % (nseq, d))
        h0 = h0.to(torch.float32).contiguous()
    h = torch.empty((B, T, d), dtype=out, device=b.device)
    st = torch.empty(max(nseq, 1), dtype=torch.int32, device=b.device) if status != "ignore" else None
    flag = torch.empty(1, dtype=torch.int32, device=b.device) if status == "raise" else None
    with torch.cuda.device(b.device):
        stream = torch.cuda.current_stream(b.device).cuda_stream
        _check(_lib.gpu().triscan_gpu_scan(_method_bytes(algorithm), _SCAN_KINDS[kind], B, T,
                                           _ptr(cu) if cu is not None else None, 0 if cu is None else cu.size, d,
                                           in_code, a.data_ptr(), b.data_ptr(),
                                           h0.data_ptr() if h0 is not None else None, out_code, h.data_ptr(), None,
                                           st.data_ptr() if st is not None else None,
                                           flag.data_ptr() if flag is not None else None, stream))
    return _gpu_finish(h, st, flag, status, "triscan.scan", (nseq,))


def scan(a, b, *, kind="diagonal", h0=None, cu_seqlens=None, algorithm=None, status="raise", output_dtype=None):
    """The linear recurrence h_t = A_t h_{t-1} + b_t for every t (include/triscan/scan.hpp).

    b [B, T, d]; a: kind "scalar" [B, T], "diagonal" [B, T, d], "log_diagonal" [B, T, d]
    (log a_t), "dense" [B, T, d, d]. h0 [N, d] (N = B, or len(cu_seqlens) - 1; None = 0).
    cu_seqlens: packed sequences (B == 1; the recurrence restarts at each start).
    algorithm: registry syntax (None: "scan/chunked"). Returns h [B, T, d] (then the
    status: a 1-element int32 array on the CPU, the [N] per-sequence statuses on the
    GPU, with status="return").

    numpy arrays and torch CPU tensors run on the CPU in their precision (float32 or
    float64). torch CUDA tensors run on the GPU (docs/scan.md "GPU": kinds scalar and
    diagonal, a and b float32/bfloat16/float16, fp32 state, h in output_dtype, default
    b's dtype) on the current stream.
    """
    _check_status_mode(status)
    if kind not in _SCAN_KINDS:
        raise TriscanArgumentError("kind: %r is not one of %s (the delta kind: triscan.scan_delta)"
                                   % (kind, ", ".join(_SCAN_KINDS)))
    if _is_tensor(b) and b.is_cuda:
        return _gpu_scan(a, b, kind, h0, cu_seqlens, algorithm, status, output_dtype)
    if output_dtype is not None:
        raise TriscanArgumentError("output_dtype: only for CUDA tensors (the CPU scan writes the inputs' dtype)")
    as_torch = _is_tensor(b)
    bb = _host_input(b, "b", ndim=3)
    B, T, d = bb.shape
    ashape = {"scalar": (B, T), "diagonal": (B, T, d), "log_diagonal": (B, T, d), "dense": (B, T, d, d)}[kind]
    aa = _host_input(a, "a", bb, len(ashape), ashape)
    cu, nseq = _scan_common(cu_seqlens, B, T)
    hh0 = None if h0 is None else _host_input(h0, "h0", bb, 2, (nseq, d))
    h = np.zeros((B, T, d), dtype=bb.dtype)
    code = ctypes.c_int32(0)
    _check(_lib.cpu().triscan_scan(_method_bytes(algorithm), _CODE[bb.dtype.name], _SCAN_KINDS[kind], B, T,
                                   *_cu_args(cu), d, _ptr(aa), _ptr(bb), _opt_ptr(hh0), _ptr(h), ctypes.byref(code)))
    return _scan_finish(h, code.value, status, "triscan.scan", as_torch)


def scan_delta(k, v, beta, g=None, *, gate=None, h0=None, cu_seqlens=None, algorithm=None, status="raise"):
    """Every state of the delta rule S_t = S_{t-1} D_t (I - beta_t k_t k_t^T) + beta_t v_t k_t^T
    by a parallel scan (include/triscan/scan.hpp), CPU. k [B, T, dk], v [B, T, dv],
    beta [B, T]; g: gate "scalar" [B, T] (D_t = exp(g_t) I) or "channel" [B, T, dk]
    (diag(exp(g_t))); gate None infers it from g. h0 [N, dv, dk]. Returns S [B, T, dv, dk].
    """
    _check_status_mode(status)
    if gate is None and g is not None:
        gate = "scalar" if np.ndim(g) == 2 else "channel"
    if gate not in _GATES:
        raise TriscanArgumentError("gate: %r is not None, 'scalar' or 'channel'" % (gate,))
    as_torch = _is_tensor(v)
    vv = _host_input(v, "v", ndim=3)
    B, T, dv = vv.shape
    kk = _host_input(k, "k", vv, 3, (B, T, None))
    dk = kk.shape[2]
    bt = _host_input(beta, "beta", vv, 2, (B, T))
    gg = None
    if _GATES[gate] == 1:
        gg = _host_input(g, "g", vv, 2, (B, T))
    elif _GATES[gate] == 2:
        gg = _host_input(g, "g", vv, 3, (B, T, dk))
    elif g is not None:
        raise TriscanArgumentError("g: given, but gate is 'none'")
    cu, nseq = _scan_common(cu_seqlens, B, T)
    hh0 = None if h0 is None else _host_input(h0, "h0", vv, 3, (nseq, dv, dk))
    S = np.zeros((B, T, dv, dk), dtype=vv.dtype)
    code = ctypes.c_int32(0)
    _check(_lib.cpu().triscan_scan_delta(_method_bytes(algorithm), _CODE[vv.dtype.name], _GATES[gate], B, T,
                                         *_cu_args(cu), dk, dv, _ptr(kk), _ptr(vv), _ptr(bt), _opt_ptr(gg),
                                         _opt_ptr(hh0), _ptr(S), ctypes.byref(code)))
    return _scan_finish(S, code.value, status, "triscan.scan_delta", as_torch)
