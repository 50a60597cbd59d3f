"""The command line's own error: one line on stderr, exit status 2."""

from __future__ import annotations

__all__ = ["CommandError"]


class CommandError(Exception):
    """A user-facing error: printed as one line on stderr, exit status 2."""
