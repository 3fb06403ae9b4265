"""Finds and loads libtriscan (CPU) and libtriscan_gpu (GPU) with ctypes, and declares
the C API's signatures (include/triscan/triscan.h).

Search order, for each library:
  1. $TRISCAN_LIBRARY_PATH: a directory, a list of directories (os.pathsep-separated),
     or the path of the library file itself;
  2. next to the package: python/triscan/, then the folder holding the package;
  3. the build folder of a source checkout: <repo>/build (and <repo>/build/gpu);
  4. the system's library path (ctypes.util.find_library).
"""
import ctypes
import ctypes.util
import os
import sys

from ._errors import TriscanError, NOT_COMPILED

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(os.path.dirname(_HERE))  # python/triscan -> repo root

i64, i32p, vp, cp = ctypes.c_int64, ctypes.POINTER(ctypes.c_int32), ctypes.c_void_p, ctypes.c_char_p
c_int, c_uint, c_float = ctypes.c_int, ctypes.c_uint, ctypes.c_float

_CPU_SIGNATURES = {
    "triscan_version": (cp, []),
    "triscan_version_numbers": (None, [ctypes.POINTER(c_int)] * 3),
    "triscan_error_message": (cp, [c_int]),
    "triscan_last_error": (cp, []),
    "triscan_status_name": (cp, [c_int]),
    "triscan_set_cpu_threads": (c_int, [c_int]),
    "triscan_chunk_rows": (c_int, [i64, i64, i64, vp, i64, ctypes.POINTER(i64)]),
    "triscan_invert_batch": (c_int, [cp, c_int, i64, i64, vp, i64, i64, i64, vp, i64, i64, i64, c_uint, vp, vp]),
    "triscan_invert_chunks": (c_int, [cp, c_int, i64, i64, i64, i64, vp, i64, vp, vp, c_uint, vp, vp]),
    "triscan_chunk_wy": (c_int, [cp, c_int, c_int, i64, i64, i64, i64, i64, i64, i64, vp, i64, vp, vp, vp, vp, vp, vp,
                                 vp, vp, vp, vp, c_uint, vp, vp]),
    "triscan_delta_forward": (c_int, [cp, c_int, c_int, i64, i64, i64, i64, i64, i64, i64, vp, i64, vp, vp, vp, vp,
                                      vp, vp, vp, vp, c_uint, vp, vp]),
    "triscan_scan": (c_int, [cp, c_int, c_int, i64, i64, vp, i64, i64, vp, vp, vp, vp, vp]),
    "triscan_scan_delta": (c_int, [cp, c_int, c_int, i64, i64, vp, i64, i64, i64, vp, vp, vp, vp, vp, vp, vp]),
}
_GPU_SIGNATURES = {
    "triscan_gpu_compiled": (c_int, []),
    "triscan_gpu_available": (c_int, []),
    "triscan_gpu_methods": (cp, []),
    "triscan_gpu_invert_chunks": (c_int, [cp, i64, i64, i64, i64, vp, i64, c_int, vp, c_int, vp, vp, vp, vp]),
    "triscan_gpu_invert_batch": (c_int, [cp, i64, i64, i64, i64, c_int, vp, c_int, vp, vp, vp, vp]),
    "triscan_gpu_scan": (c_int, [cp, c_int, i64, i64, vp, i64, i64, c_int, vp, vp, vp, c_int, vp, vp, vp, vp, vp]),
    "triscan_gpu_chunk_wy": (c_int, [c_int, i64, i64, i64, i64, i64, i64, i64, vp, i64, c_int, vp, vp, vp, vp, c_int,
                                     vp, vp, vp, c_uint, vp, vp, vp]),
    "triscan_gpu_delta_forward": (c_int, [c_int, i64, i64, i64, i64, i64, i64, i64, vp, i64, c_int, vp, vp, vp, vp,
                                          vp, vp, c_float, c_int, c_int, vp, vp, c_uint, vp, vp, vp]),
}


def _file_names(stem):
    if sys.platform == "darwin":
        return ["lib%s.dylib" % stem]
    if sys.platform == "win32":
        return ["%s.dll" % stem, "lib%s.dll" % stem]
    return ["lib%s.so" % stem, "lib%s.so.0" % stem]  # the SONAME too: runtime-only installs lack the .so link


def _candidates(stem, subdirs):
    env = os.environ.get("TRISCAN_LIBRARY_PATH", "")
    dirs = []
    for entry in filter(None, env.split(os.pathsep)):
        if os.path.isfile(entry):
            if os.path.basename(entry).startswith(("lib" + stem + ".", stem + ".")):
                yield entry
            entry = os.path.dirname(entry)
        dirs.append(entry)
    dirs += [_HERE, os.path.dirname(_HERE), os.path.join(_REPO, "build")]
    for d in dirs:
        for sub in subdirs:
            for name in _file_names(stem):
                yield os.path.join(d, sub, name)


def _find(stem, subdirs):
    tried = []
    for path in _candidates(stem, subdirs):
        tried.append(path)
        if os.path.isfile(path):
            return path, tried
    found = ctypes.util.find_library(stem)
    if found:
        return found, tried
    return None, tried


def _declare(lib, signatures):
    for name, (restype, argtypes) in signatures.items():
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = argtypes


_cpu = None
_gpu = None
_gpu_error = None


def cpu():
    """libtriscan, loaded once (RTLD_GLOBAL, so that libtriscan_gpu finds it)."""
    global _cpu
    if _cpu is None:
        path, tried = _find("triscan", [""])
        if path is None:
            raise TriscanError("libtriscan not found; set TRISCAN_LIBRARY_PATH to the folder holding it "
                               "(e.g. the build folder). Tried: " + ", ".join(tried))
        lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        _declare(lib, _CPU_SIGNATURES)
        _cpu = lib
    return _cpu


def gpu():
    """libtriscan_gpu, loaded once; raises TriscanError (code NOT_COMPILED) if absent."""
    global _gpu, _gpu_error
    if _gpu is None and _gpu_error is None:
        cpu()
        path, tried = _find("triscan_gpu", ["", "gpu"])
        if path is None:
            _gpu_error = "libtriscan_gpu not found (tried: " + ", ".join(tried) + ")"
        else:
            try:
                lib = ctypes.CDLL(path)
                _declare(lib, _GPU_SIGNATURES)
                _gpu = lib
            except OSError as e:
                _gpu_error = "libtriscan_gpu could not be loaded from %s: %s" % (path, e)
    if _gpu is None:
        raise TriscanError(_gpu_error, NOT_COMPILED)
    return _gpu


def last_error():
    return cpu().triscan_last_error().decode()
