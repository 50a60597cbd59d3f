"""Time to read a CSV file with a wide header, against its number of columns.

    python benchmarks/csv_header.py [--columns 10000,40000,100000] [--rows 2]

Writes a file of ``--columns`` number columns (named c0, c1, ...) and ``--rows`` rows, then
times cartoonbrain's reader on it (open the file: the header and its checks; then read
every column but the last as features, the last as the target) and pandas.read_csv on
the same file, in this process, and prints the seconds and the ratio. A reader linear in
its columns keeps seconds per 1,000 columns flat as the columns grow (one quadratic in
them took 15 s for 40,000 columns and 160 s for 100,000).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cartoonbrain.data.csvdata import CsvFile


def write(path: Path, columns: int, rows: int) -> None:
    with open(path, "w") as f:
        f.write(",".join(f"c{j}" for j in range(columns)) + "\n")
        for i in range(rows):
            f.write(",".join(str((i + j) % 7) for j in range(columns)) + "\n")


def ours(path: Path, columns: int) -> float:
    start = time.perf_counter()
    with CsvFile(path) as f:
        names = f.columns
        f.read(names[:-1], names[-1])
    return time.perf_counter() - start


def pandas(path: Path) -> float | None:
    try:
        import pandas as pd
    except ImportError:
        return None
    start = time.perf_counter()
    pd.read_csv(path)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", default="10000,40000,100000")
    parser.add_argument("--rows", type=int, default=2)
    args = parser.parse_args()
    print(f"{'columns':>8} {'ours s':>8} {'s/1k cols':>9} {'pandas s':>9} {'ours/pandas':>11}")
    with tempfile.TemporaryDirectory() as folder:
        for columns in (int(c) for c in args.columns.split(",")):
            path = Path(folder) / f"wide-{columns}.csv"
            write(path, columns, args.rows)
            mine, peer = ours(path, columns), pandas(path)
            ratio = f"{mine / peer:>11.1f}" if peer else f"{'-':>11}"
            shown = f"{peer:>9.3f}" if peer else f"{'-':>9}"
            print(f"{columns:>8,} {mine:>8.3f} {1000 * mine / columns:>9.4f} {shown} {ratio}")


if __name__ == "__main__":
    main()
