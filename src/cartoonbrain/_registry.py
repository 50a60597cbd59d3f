"""What every registry shares: a name may be claimed by one entry only.

The registries (``LAYERS``, ``ACTIVATIONS``, ``LOSSES``, ``OPTIMIZERS``) map the names
that configs and model files use to the objects that build them; each ``register_*``
checks its own kind of entry, then :func:`claim` puts it in its table.
"""

from __future__ import annotations

from typing import Any, TypeVar

__all__ = ["claim"]

T = TypeVar("T")


def _described(entry: Any) -> str:
    if isinstance(entry, type):
        return f"{entry.__module__}.{entry.__qualname__}"
    return repr(entry)


def claim(table: dict[str, Any], name: str, entry: T, kind: str) -> T:
    """Register ``entry`` under ``name`` in ``table`` and return it. Registering the same
    entry again does nothing; a name held by another entry raises ValueError (a new entry
    may not replace a built-in silently)."""
    held = table.get(name)
    if held is not None and held is not entry:
        raise ValueError(
            f"a {kind} named {name!r} is already registered ({_described(held)}); give "
            f"{_described(entry)} another name"
        )
    table[name] = entry
    return entry
