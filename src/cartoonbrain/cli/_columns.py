"""Which columns of a training CSV become features, and the summary of their kinds.

A column is left out, with a note, when it looks like a row ID: named like one (``id``,
``Sample ID``, ``rownames``, ``Unnamed: 0``, ...), text that is unique per row, or
integers that count the rows (unique and increasing); or when it is text with too many
distinct values to one-hot encode. ``--id COL`` leaves a column out and carries it
through to ``predict``'s output; the IDs found here are carried through the same way.

The summary (:func:`column_summary`) says, before training, what each kept column is
(a number, or text with its categories) and how many cells are missing: the lines
``train`` prints and its report keeps.
"""

from __future__ import annotations

import re

import numpy as np

from ..data.csvdata import Table

__all__ = ["MAX_CATEGORIES", "column_summary", "few", "id_like"]

#: a text column with more distinct values than this is not one-hot encoded
MAX_CATEGORIES = 256
#: a column found unique per row is an ID only in a table of at least this many rows
_ID_ROWS = 20
#: the words of a column name that make it an ID
_ID_WORDS = {"id", "ids", "idx", "index", "uuid", "rownames", "rowname"}


def few(names: list[str], n: int = 6) -> str:
    """Up to ``n`` names for a message, then how many there are in all."""
    shown = ", ".join(map(str, names[:n]))
    return shown + (f", ... ({len(names)} in all)" if len(names) > n else "")


def _id_name(name: str) -> bool:
    """``id``, ``Sample ID``, ``patient_id``, ``userId``, ``Unnamed: 0``, ``rownames``."""
    if re.fullmatch(r"unnamed: ?\d+", name.strip(), flags=re.IGNORECASE):
        return True
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)  # userId -> user Id
    words = [w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w]
    return bool(words) and words[-1] in _ID_WORDS


def id_like(table: Table, name: str) -> str:
    """Why column ``name`` of ``table`` looks like a row ID, or "" when it does not."""
    if _id_name(name):
        return "named like an ID"
    n = len(table.X)
    if n < _ID_ROWS:
        return ""
    if name in table.text:
        column = table.text[name]
        if len(column.texts) == n and "" not in column.texts:
            return "text, unique per row"
        return ""
    x = table.X[:, table.features.index(name)]
    if np.isnan(x).any() or not np.all(x == np.round(x)):
        return ""
    if np.all(np.diff(x) > 0):
        return "integers counting the rows (unique, increasing)"
    return ""


def column_summary(table: Table, left_out: dict[str, str]) -> list[str]:
    """The columns' kinds in a few lines: numbers, text (categories), missing cells,
    the columns left out and why."""
    numbers, texts, gaps = [], [], []
    for j, name in enumerate(table.features):
        if name in table.text:
            column = table.text[name]
            present = [t for t in column.texts if t]
            texts.append(f"{name} ({len(present)})")
            missing = int(
                np.isin(column.codes, [k for k, t in enumerate(column.texts) if not t]).sum()
            )
        else:
            numbers.append(name)
            missing = int(np.isnan(table.X[:, j]).sum())
        if missing:
            gaps.append(f"{name} {missing}")
    lines = [f"columns: {len(table.features)} features from {len(table.X)} rows"]
    if numbers:
        lines.append(f"  numbers ({len(numbers)}): {few(numbers, 8)}")
    if texts:
        lines.append(
            f"  text, one-hot encoded ({len(texts)}, with their categories): {few(texts, 8)}"
        )
    if gaps:
        lines.append(f"  missing cells: {few(gaps, 8)}")
    for name, why in left_out.items():
        lines.append(f"  left out: {name!r} ({why})")
    return lines
