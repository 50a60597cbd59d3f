"""How every kernel is compiled: numba's ``njit`` with the same options everywhere.

* Cached: the machine code is kept on disk in the folder :mod:`.cache` checked (owned by
  this user, writable by no one else), so a short run does not recompile. The cache
  fails soft: a cache file that cannot be read (damaged, truncated, from elsewhere) or
  written (a full disk, a folder gone read-only) is a miss, the kernel is compiled in
  memory for this call (and saved over the damaged entry, where it can be), and
  :func:`cartoonbrain._kernels.give_up` puts the rest of the process on NumPy with one
  warning.
* No ``fastmath``: IEEE arithmetic, no reassociation and no fused multiply-add, so a
  kernel that makes NumPy's operations in NumPy's order gives NumPy's bits.
* ``error_model="numpy"``: a division by zero gives inf or NaN, as in NumPy, not an
  exception; ``boundscheck=False``; ``nogil=True`` (the GIL is released while it runs).

This module imports numba: only :mod:`cartoonbrain._kernels` imports it, on first use,
after :func:`.cache.folder` accepted the folder (:data:`FOLDER`).
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import Any

import numba
from numba.core import caching

from . import cache

__all__ = ["FOLDER", "jit", "jit_sums"]

#: the folder the compiled kernels are cached in (checked when this module is imported)
FOLDER = cache.folder()

_OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy", "boundscheck": False}


def jit(function: Any) -> Any:
    """Compile ``function`` lazily, for each combination of argument types it meets."""
    return _cached(numba.njit(**_OPTIONS)(function))


def jit_sums(function: Any) -> Any:
    """:func:`jit` that may also regroup sums and fuse multiply-adds (LLVM's ``reassoc``
    and ``contract``), so that a dot product is vectorised: for kernels whose results
    are allowed to differ from NumPy's by rounding (as BLAS's do from one kernel to
    another). Never ``nnan`` or ``ninf``: a NaN or inf still propagates."""
    return _cached(numba.njit(fastmath={"reassoc", "contract"}, **_OPTIONS)(function))


def _cached(dispatcher: Any) -> Any:
    """The dispatcher with :class:`_Cache` as its cache (what ``cache=True`` would do with
    numba's own, which looks in other folders too and lets a damaged file raise)."""
    dispatcher._cache = _Cache(dispatcher.py_func)
    return dispatcher


class _Locator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """One subfolder of :data:`FOLDER` per source folder (as numba names them), made 0700."""

    def __init__(self, py_func: Any, py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(FOLDER, self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self) -> str:
        return self._cache_path

    def ensure_cache_path(self) -> None:
        os.makedirs(self._cache_path, mode=0o700, exist_ok=True)


class _Impl(caching.CompileResultCacheImpl):
    """numba's CompileResultCacheImpl, always with :class:`_Locator` (numba's picks the
    first of several folders that it can write to, or NUMBA_CACHE_LOCATOR_CLASSES')."""

    def __init__(self, py_func: Any) -> None:
        source = inspect.getfile(py_func)
        self._lineno = py_func.__code__.co_firstlineno
        self._locator = _Locator(py_func, source)
        module = os.path.splitext(os.path.basename(source))[0]
        abiflags = getattr(sys, "abiflags", "")
        self._filename_base = self.get_filename_base(f"{module}.{py_func.__qualname__}", abiflags)


class _Cache(caching.FunctionCache):
    """numba's per-function cache, where any error reading or writing is a miss."""

    _impl_class = _Impl

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        try:
            return super().load_overload(sig, target_context)
        except Exception as exc:  # a damaged file: compile instead, then NumPy
            _give_up("read", self, exc)
            try:  # an empty index, so that this compile's save heals the cache
                self.flush()
            except Exception:  # (then the next process compiles again, and warns)
                pass
            return None

    def save_overload(self, sig: Any, data: Any) -> None:
        try:
            super().save_overload(sig, data)
        except Exception as exc:  # a full disk, a folder gone read-only
            _give_up("write", self, exc)


def _give_up(doing: str, cache_: _Cache, exc: BaseException) -> None:
    from . import give_up  # (the package, loaded before any kernel module)

    name = cache_._py_func.__name__
    give_up(
        f"could not {doing} the compiled kernel {name!r} in {cache_.cache_path} "
        f"({type(exc).__name__}: {exc})"
    )
