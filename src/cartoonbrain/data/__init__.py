"""Data: the built-in datasets, what a model does to raw rows, and users' CSV files.

    datasets.py       the built-in datasets, all offline: ``load(name)``
    preprocessing.py  Preprocessor (standardise, one-hot, impute) and TargetEncoder,
                      learned from training rows and saved in the model
    checks.py         X, y and sample weights checked once at the door of fit/predict
    csvdata.py        the streaming reader of users' CSV files (errors name file, row
                      and column), with csvcolumns.py (a column's kind and values) and
                      readable.py (regular files only)
    stream.py         CSVs read in chunks and converted once to memmappable .npy files
    streamstats.py    a Preprocessor learned from rows that arrive a block at a time
    bucketsort.py     rows that arrive in any order read back in order, sequentially

Nothing here knows a network's layers or its training loop.
"""

from __future__ import annotations

from . import datasets
from .preprocessing import Preprocessor, TargetEncoder

__all__ = ["Preprocessor", "TargetEncoder", "datasets"]
