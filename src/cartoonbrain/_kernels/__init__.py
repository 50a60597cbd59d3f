"""The optional accelerator: fused, compiled kernels for the hot elementwise work.

NumPy applies one operation per call, so an update such as Adam's is a dozen passes over
every array, each paying a call's overhead. With numba installed (``pip install
"cartoonbrain[fast]"``), the functions that do that work — the optimizers' updates, an
activation's derivative, a Dense layer's bias and activation, softmax with cross-entropy,
the post's experiment — hand it to one compiled loop over the arrays instead. Without
numba, or with ``CARTOONBRAIN_ACCELERATOR=numpy``, they run their NumPy code, which stays
the readable reference: every kernel is tested against it (tests/test_kernels.py).

* The kernels of the optimizers, of the derivatives and of bias with (leaky) ReLU make
  the same operations in the same order as the NumPy code (IEEE arithmetic: no
  ``fastmath``, no fused multiply-add), so they give the same bits.
* The others differ from NumPy only by rounding (a sum taken in another order, ``exp``
  from the C library instead of NumPy's own): within 1e-6 relative in float32 and 1e-12
  in float64.

This module imports only NumPy. numba is imported, and the kernels compiled, on the first
:func:`get` that needs them; compiled code is cached on disk (numba's ``cache=True``), so
compiling is paid once per machine, not once per run. Each process still pays once for
importing numba and loading the cached code (about 0.55 s on the 2-core machine of
benchmarks/README.md: 0.25 s the import, 0.3 s the first call), on the first kernel it
uses, or up front with :func:`warm_up`. A numba that is missing or fails to import is
never an error: everything then runs on NumPy.

    >>> from cartoonbrain import _kernels
    >>> _kernels.active() in ("numba", "numpy")
    True
    >>> previous = _kernels.use("numpy")   # tests switch paths this way
    >>> _kernels.get("adam") is None
    True
    >>> _ = _kernels.use(previous)
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import time
from typing import Any

import numpy as np

__all__ = ["ACCELERATORS", "KERNELS", "active", "available", "fits", "get", "use", "warm_up"]

#: the accelerators :func:`use` and ``CARTOONBRAIN_ACCELERATOR`` know
ACCELERATORS = ("numba", "numpy")

#: kernel name -> the submodule that defines it (each submodule imports numba)
KERNELS: dict[str, str] = {
    "adam": "optimizers",
    "sgd": "optimizers",
    "rmsprop": "optimizers",
    "activation_backward": "activations",
    "bias_activation": "activations",
    "bias_activation_in_place": "activations",
    "softmax_rows": "losses",
    "softmax_cross_entropy": "losses",
    "binary_cross_entropy": "losses",
    "blog_epoch": "blog",
    "dense_chain": "inference",
    "normal_cdf": "special",
}

_compiled: dict[str, Any] = {}  # name -> numba dispatcher, filled on first use
_broken: list[str] = []  # why numba could not be used, if it could not


def available() -> bool:
    """Whether numba can be imported here (looked up without importing it)."""
    try:
        return not _broken and importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # e.g. sys.modules["numba"] = None: refused
        return False


def _from_environment() -> str:
    """``CARTOONBRAIN_ACCELERATOR`` (read once, at import): ``numpy`` forces NumPy; unset or
    ``numba`` uses numba where it is installed. Any other value means NumPy."""
    wanted = os.environ.get("CARTOONBRAIN_ACCELERATOR", "numba").strip().lower()
    return "numba" if wanted == "numba" and available() else "numpy"


_active = _from_environment()


def active() -> str:
    """The accelerator in use: ``"numba"`` or ``"numpy"``."""
    return _active


def use(accelerator: str) -> str:
    """Switch every kernel to ``"numba"`` or back to ``"numpy"``; return the previous one.

    Raises ValueError for an unknown name, or for ``"numba"`` when numba cannot be imported
    here (``pip install "cartoonbrain[fast]"``).
    """
    global _active
    if accelerator not in ACCELERATORS:
        raise ValueError(f"unknown accelerator {accelerator!r}; expected one of {ACCELERATORS}")
    if accelerator == "numba" and not available():
        reason = _broken[0] if _broken else "numba is not installed"
        raise ValueError(f"{reason}; pip install 'cartoonbrain[fast]' to use the accelerator")
    previous, _active = _active, accelerator
    return previous


def get(name: str) -> Any:
    """The compiled kernel ``name`` (one of :data:`KERNELS`), or None on the NumPy path.

    The first call imports numba and the kernel's module; should that fail, the reason is
    kept, the accelerator falls back to NumPy for good, and None is returned.
    """
    if _active != "numba":
        return None
    kernel = _compiled.get(name)
    if kernel is None:
        kernel = _load(name)
    return kernel


def loaded(name: str) -> bool:
    """Whether the kernel ``name`` is loaded already in this process (so using it now
    costs nothing more than the call)."""
    return _active == "numba" and name in _compiled


def warm_up(dtypes: tuple[str, ...] = ("float32", "float64")) -> float:
    """Import numba and load (or compile) every kernel for ``dtypes`` now, so that nothing
    later pays for it (a benchmark's timed run, a server's first request). Does nothing on
    the NumPy path. Returns the seconds it took."""
    start = time.perf_counter()
    for name in KERNELS:
        if get(name) is None:
            break
    else:
        for module in sorted(set(KERNELS.values())):
            for dtype in dtypes:
                importlib.import_module(f"{__name__}.{module}").warm_up(np.dtype(dtype))
    return time.perf_counter() - start


def _load(name: str) -> Any:
    global _active
    try:
        module = importlib.import_module(f"{__name__}.{KERNELS[name]}")
    except ImportError as exc:  # a broken numba is never an error: NumPy does the work
        _broken.append(f"numba could not be imported ({exc})")
        _active = "numpy"
        return None
    kernel = getattr(module, name)
    _compiled[name] = kernel
    return kernel


def fits(*arrays: np.ndarray) -> bool:
    """Whether the kernels take these arrays: plain C-contiguous ndarrays of one dtype,
    float32 or float64. (Anything else — a strided view, a subclass, float16, mixed
    dtypes — goes the NumPy way.)
    """
    dtype = arrays[0].dtype  # (asked per layer and step: cheap checks, a plain loop)
    if (dtype.num != _FLOAT32 and dtype.num != _FLOAT64) or not dtype.isnative:
        return False
    for a in arrays:
        if type(a) is not np.ndarray or not a.flags.c_contiguous:
            return False
        if a.dtype is not dtype and (a.dtype.num != dtype.num or not a.dtype.isnative):
            return False
    return True


#: NumPy's type numbers of float32 and float64 (dtype objects are not all the same object:
#: numba makes its own for the arrays it returns)
_FLOAT32, _FLOAT64 = np.dtype(np.float32).num, np.dtype(np.float64).num
