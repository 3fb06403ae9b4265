"""triscan from Python: triangular inversion on numpy arrays (CPU) and torch CUDA tensors
(GPU), and chunk WY, the chunkwise delta-rule forward and scans on the CPU, over the C API
(include/triscan/triscan.h) with ctypes — no build step.

    import triscan
    X = triscan.invert(A)                       # [..., n, n] lower triangular
    Ai = triscan.solve_tril(A, cu_seqlens)      # fla.ops.utils.solve_tril drop-in
    w, u, Ai = triscan.chunk_gated_delta_rule_fwd_intra(k, v, g, beta)  # fused chunk WY (GPU)
    o, s = triscan.chunk_gated_delta_rule(q, k, v, g, beta)  # delta-rule forward (GPU)
    w, u = triscan.chunk_wy(k, v, beta, g)      # chunk WY factors (CPU)
    o = triscan.delta_forward(q, k, v, beta, g) # chunkwise delta-rule forward (CPU)
    h = triscan.scan(a, b, kind="diagonal")     # h_t = a_t h_{t-1} + b_t (CPU)

The shared libraries are found through $TRISCAN_LIBRARY_PATH, next to the package, or
in a source checkout's build/ folder (docs/api.md). torch is optional and never
imported here: pass tensors and it is used.
"""
from ._api import (chunk_delta_rule, chunk_gated_delta_rule, chunk_gated_delta_rule_fwd_intra, chunk_rows, chunk_wy, delta_forward, gpu_available, gpu_methods, invert, library_version,
                   prepare_chunk_indices, scan, scan_delta, set_cpu_threads, solve_tril)
from ._errors import STATUS_NAMES, TriscanArgumentError, TriscanError, TriscanStatusError

__version__ = "0.1.0"

__all__ = ["invert", "solve_tril", "chunk_wy", "chunk_gated_delta_rule_fwd_intra", "chunk_gated_delta_rule",
           "chunk_delta_rule", "delta_forward", "scan", "scan_delta", "chunk_rows",
           "prepare_chunk_indices", "set_cpu_threads", "gpu_available",
           "gpu_methods", "library_version", "TriscanError", "TriscanArgumentError", "TriscanStatusError",
           "STATUS_NAMES", "__version__"]
