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

This module imports only NumPy. numba is imported, and the kernels compiled, only where
that pays: each process pays once for importing numba and loading the cached code
(:data:`LOAD_COST`; about 80 MB of memory too), so a caller says how much work a kernel
would do (``get(name, size)``) and, until numba is loaded, the time the kernels would
have saved (:data:`SAVES`, measured) is added up instead; numba is loaded once that sum
reaches LOAD_COST (the ski-rental rule: a process never spends more than twice what the
better choice, in hindsight, would have cost it). Short jobs — a small fit, predicting or
evaluating a CSV — never import numba. :func:`warm_up` loads everything up front.

Compiled code is cached on disk in a folder of this user's that no one else can write to
(:mod:`.cache`), so compiling is paid once per machine, not once per run. Nothing about
the accelerator is ever an error: a numba that is missing runs everything on NumPy, and
one that fails to import, a cache folder refused, a cache file that cannot be read or
written (damaged, a full disk) put the process on NumPy with one
:class:`AcceleratorWarning` naming the cause (:func:`give_up`).

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
import warnings
from typing import Any

import numpy as np

from .cache import CacheRefused, folder

__all__ = [
    "ACCELERATORS",
    "KERNELS",
    "LOAD_COST",
    "SAVES",
    "AcceleratorWarning",
    "active",
    "available",
    "fits",
    "get",
    "give_up",
    "use",
    "warm_up",
]

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

#: seconds a process pays to import numba and load its first kernels from the cache
#: (0.67 s measured on the 2-core machine of benchmarks/README.md, at a load of 1.7)
LOAD_COST = 0.6

#: kernel name -> (seconds, seconds per element of ``size``) that its NumPy code takes
#: beyond the kernel's, per call: what the kernel saves, fitted from two sizes (float32,
#: ``python benchmarks/kernel_savings.py``, at a load of 1.7; blog_epoch's and
#: dense_chain's from benchmarks/README.md's blog and job C figures)
SAVES: dict[str, tuple[float, float]] = {
    "adam": (15e-6, 1.4e-9),
    "sgd": (0.0, 0.0),  # (within the noise: NumPy's two passes are as fast)
    "rmsprop": (2e-6, 1.0e-9),
    "activation_backward": (0.0, 0.23e-9),
    "bias_activation": (0.4e-6, 0.36e-9),
    "bias_activation_in_place": (0.4e-6, 0.36e-9),
    "softmax_rows": (7e-6, 0.11e-9),
    "softmax_cross_entropy": (23e-6, 0.36e-9),
    "binary_cross_entropy": (15e-6, 2.2e-9),
    "blog_epoch": (0.0, 40e-6),  # per sample step (blog.fused.COMPILED_FROM decides)
    "dense_chain": (20e-6, 0.0),  # per call
}


class AcceleratorWarning(RuntimeWarning):
    """The accelerator could not be used and NumPy does the work (the message says why)."""


_compiled: dict[str, Any] = {}  # name -> numba dispatcher, filled on first use
_broken: list[str] = []  # why numba could not be used, if it could not
_forgone = 0.0  # seconds the kernels would have saved so far, while numba is not loaded


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


def get(name: str, size: int | None = None) -> Any:
    """The compiled kernel ``name`` (one of :data:`KERNELS`), or None: NumPy does the work.

    ``size``: the elements the caller would hand the kernel (each kernel's own measure,
    as :data:`SAVES` counts it). While numba is not loaded, a call with a size only adds
    what the kernel would save to the process's sum, and loads numba once that reaches
    :data:`LOAD_COST`; without a size, the kernel is loaded now. Loading imports numba and
    the kernel's module; should that fail, :func:`give_up` says why and None is returned.
    """
    global _forgone
    if _active != "numba":
        return None
    kernel = _compiled.get(name)
    if kernel is not None:
        return kernel
    if size is not None and not _compiled:
        per_call, per_element = SAVES[name]
        _forgone += per_call + per_element * size
        if _forgone < LOAD_COST:
            return None
    return _load(name)


def give_up(reason: str) -> None:
    """Put the rest of the process on NumPy because of ``reason`` (one line), warning once
    (kernels running already finish their call)."""
    global _active
    _active = "numpy"
    if not _broken:
        warnings.warn(
            f"the accelerator is off, NumPy does the work: {reason}", AcceleratorWarning, 3
        )
    _broken.append(reason)


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
    try:
        folder()  # (checked before numba is imported: its cache files are pickles)
    except CacheRefused as exc:
        give_up(str(exc))
        return None
    try:
        module = importlib.import_module(f"{__name__}.{KERNELS[name]}")
    except Exception as exc:  # a broken numba is never an error: NumPy does the work
        give_up(f"numba could not be imported ({type(exc).__name__}: {exc})")
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
