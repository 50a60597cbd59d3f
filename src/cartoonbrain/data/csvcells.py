"""How the CSV reader reads a row's cells (a base of
:class:`~cartoonbrain.data.csvdata.CsvFile`): a cell is a number, a text of a text column,
or missing (empty or a marker of ``na_values``); a cell that is none of these is an error
naming the file, the row (the line it starts on) and the column, raised, or kept with its
row when the reader collects errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .csvcolumns import DataFileError, _shown, _Texts

__all__ = ["CellReader"]


class _NewText(Exception):
    """Raised while finding the text columns: these columns hold text after all."""

    def __init__(self, names: set[str]) -> None:
        super().__init__(", ".join(sorted(names)))
        self.names = names


@dataclass
class _Cells:
    """What the feature cells may hold besides numbers: ``text`` columns (by position in
    the features), ``empty`` cells (per feature), and whether to ``detect`` text columns;
    ``hint`` ends the message for an empty cell that may not be."""

    text: set[int]
    empty: list[bool]
    detect: bool
    hint: str
    collect: bool = False
    blank_rows: bool = False  # a row of empty cells is a row (else skipped as a blank line)


class CellReader:
    """The cell-by-cell reading of a row, and the errors that name a row and column; the
    reader sets ``path``, ``columns``, ``na_values`` and ``_line``."""

    path: Path
    columns: list[str]
    na_values: frozenset[str]
    _line: int

    def missing(self, text: str) -> bool:
        """Whether a cell is missing: empty, or one of :attr:`na_values`."""
        return text.strip() in self.na_values

    def _row(
        self,
        start: int,
        row: list[str],
        at: list[int],
        cells: _Cells,
        texts: dict[int, _Texts],
        errors: dict[int, str],
        i: int,
    ) -> list[float]:
        """One row's feature values cell by cell: NaN for a text or an allowed missing
        cell. A cell that is wrong raises, or (``cells.collect``) is NaN, and the row's first
        such error goes into ``errors[i]``."""

        def wrong(error: DataFileError) -> None:
            if not cells.collect:
                raise error
            errors.setdefault(i, str(error))

        values: list[float] = []
        for k, j in enumerate(at):
            cell = row[j]
            missing = cell.strip() in self.na_values
            if missing and not cells.empty[k]:
                wrong(self._empty(start, j, cells.hint, k in texts, cell))
            if k in texts:
                texts[k].add("" if missing else cell.strip())
                values.append(np.nan)
                continue
            if missing:
                values.append(np.nan)
                continue
            try:
                values.append(float(cell))
            except ValueError:
                if cells.detect:
                    raise _NewText(self._texts_in(row, at, texts)) from None
                wrong(self._not_a_number(start, row, [j]))
                values.append(np.nan)
        return values

    def _texts_in(self, row: list[str], at: list[int], texts: dict[int, _Texts]) -> set[str]:
        """The number columns whose cell in ``row`` is text (not a missing marker)."""
        found = set()
        for k, j in enumerate(at):
            if k not in texts and not self.missing(row[j]):
                try:
                    float(row[j])
                except ValueError:
                    found.add(self.columns[j])
        return found

    def _open_quote(self, start: int) -> str:
        """A hint when a row spans lines: a quote left open swallows the rows after it."""
        if self._line <= start:
            return ""
        return f" (the row runs from line {start} to {self._line}: is a quote left open?)"

    def _ragged(self, start: int, row: list[str]) -> DataFileError:
        return DataFileError(
            f"{self.path}: row {start} has {len(row)} fields; the header has "
            f"{len(self.columns)}{self._open_quote(start)}"
        )

    def _empty(
        self, start: int, j: int, hint: str = "", text: bool = False, cell: str = ""
    ) -> DataFileError:
        where = f"{self.path}: row {start}, column {self.columns[j]!r}"
        what = f"missing cell ({_shown(cell.strip())})" if cell.strip() else "empty cell"
        expected = "a value" if text else "a number"
        return DataFileError(f"{where}: {what}; expected {expected}{hint}")

    def _not_a_number(self, start: int, row: list[str], at: list[int]) -> DataFileError:
        for j in at:
            text = row[j]
            where = f"{self.path}: row {start}, column {self.columns[j]!r}"
            if not text.strip():
                return self._empty(start, j)
            try:
                float(text)
            except ValueError:
                hint = self._open_quote(start)
                return DataFileError(f"{where}: {_shown(text)} is not a number{hint}")
        raise AssertionError("no field failed to parse")  # pragma: no cover
