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
    X = torch.zeros(A.shape, dtype=out_dtype, device=A.device)
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
