"""How every kernel is compiled: numba's ``njit`` with the same options everywhere.

* ``cache=True``: the machine code is kept on disk (beside the source, or in numba's
  user-wide cache where that folder is read-only), so a short run does not recompile.
* No ``fastmath``: IEEE arithmetic, no reassociation and no fused multiply-add, so a
  kernel that makes NumPy's operations in NumPy's order gives NumPy's bits.
* ``error_model="numpy"``: a division by zero gives inf or NaN, as in NumPy, not an
  exception; ``boundscheck=False``; ``nogil=True`` (the GIL is released while it runs).

This module imports numba: only :mod:`cartoonbrain._kernels` imports it, on first use.
"""

from __future__ import annotations

from typing import Any

import numba

__all__ = ["jit", "jit_sums"]


def jit(function: Any) -> Any:
    """Compile ``function`` lazily, for each combination of argument types it meets."""
    return numba.njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)(function)


def jit_sums(function: Any) -> Any:
    """:func:`jit` that may also regroup sums and fuse multiply-adds (LLVM's ``reassoc``
    and ``contract``), so that a dot product is vectorised: for kernels whose results
    are allowed to differ from NumPy's by rounding (as BLAS's do from one kernel to
    another). Never ``nnan`` or ``ninf``: a NaN or inf still propagates."""
    return numba.njit(
        cache=True,
        nogil=True,
        error_model="numpy",
        boundscheck=False,
        fastmath={"reassoc", "contract"},
    )(function)
