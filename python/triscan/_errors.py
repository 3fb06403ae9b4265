"""triscan's Python exceptions and the C API's codes (include/triscan/triscan.h)."""

SUCCESS = 0
INVALID_ARGUMENT = 1
INVALID_METHOD = 2
INVALID_DTYPE = 3
UNSUPPORTED = 4
NOT_COMPILED = 5
NO_DEVICE = 6
DEVICE = 7
OUT_OF_MEMORY = 8
INTERNAL = 9

#: triscan_status values, best to worst (include/triscan/status.hpp).
STATUS_NAMES = ("ok", "inaccurate", "not_converged", "overflow", "singular", "nonfinite_input", "unsupported")


class TriscanError(Exception):
    """Any failure reported by triscan. ``code`` is the C API's triscan_error (0 for
    checks made in Python), ``detail`` the message."""

    def __init__(self, detail, code=0):
        super().__init__(detail)
        self.code = code
        self.detail = detail


class TriscanArgumentError(TriscanError, ValueError):
    """A bad argument (shape, stride, dtype, method, option); the message names it."""


class TriscanStatusError(TriscanError):
    """Raised with ``status="raise"`` when a matrix is flagged (NaN input, overflow, ...).
    ``statuses`` holds the per-matrix statuses (numpy int32), ``worst`` the worst name."""

    def __init__(self, detail, statuses, worst):
        super().__init__(detail)
        self.statuses = statuses
        self.worst = worst


def error_for(code, detail):
    """The exception for a C API error code."""
    if code in (INVALID_ARGUMENT, INVALID_METHOD, INVALID_DTYPE, UNSUPPORTED):
        return TriscanArgumentError(detail, code)
    return TriscanError(detail, code)
