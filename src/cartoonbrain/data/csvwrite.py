"""CSV files written for people (``predict --out``, ``sweep --out``): atomically, and safe
to open in a spreadsheet.

A text cell that a spreadsheet would evaluate as a formula (it starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return: ``=cmd|' /C calc'!A0``, ``+HYPERLINK(...)``) is
written with a ``'`` before it, as OWASP recommends ("CSV Injection"), so the spreadsheet
shows it as text; numbers, negative ones included, are written as they are. ``raw=True``
writes every cell as it is.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["FORMULA_STARTS", "SafeWriter", "spreadsheet_safe", "write_csv_atomic"]


#: what a spreadsheet evaluates when a cell starts with it (OWASP, "CSV Injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: Any) -> Any:
    """A text cell a spreadsheet would evaluate as a formula (``=cmd|' /C calc'!A0``,
    ``+HYPERLINK(...)``, ``@SUM(...)``, one starting with a tab or CR) prefixed with ``'``,
    as OWASP recommends, so it shows as text; any other cell, numbers written as text
    included (``-1.5``, ``+3``, ``-inf``), as it is."""
    if not isinstance(cell, str) or not cell.startswith(FORMULA_STARTS):
        return cell
    try:
        float(cell)
    except ValueError:
        return "'" + cell
    return cell


def write_csv_atomic(
    path: str | os.PathLike[str],
    header: list[str],
    rows: Iterable[list[Any]],
    *,
    raw: bool = False,
) -> None:
    """Write a CSV file so that an existing file is only ever replaced by a complete one.
    Text cells a spreadsheet would evaluate are neutralised (:func:`spreadsheet_safe`)
    unless ``raw``."""
    from ..io import atomic_write

    def write(f: Any) -> None:
        text = io.TextIOWrapper(f, encoding="utf-8", newline="")
        writer = SafeWriter(text, raw)
        writer.writerow(header)
        writer.writerows(rows)
        text.flush()
        text.detach()

    atomic_write(path, write)


class SafeWriter:
    """``csv.writer(stream)`` whose rows pass through :func:`spreadsheet_safe` unless
    ``raw``."""

    def __init__(self, stream: Any, raw: bool = False) -> None:
        self._writer, self._raw = csv.writer(stream), raw

    def writerow(self, row: Sequence[Any]) -> None:
        self._writer.writerow(row if self._raw else [spreadsheet_safe(c) for c in row])

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)
