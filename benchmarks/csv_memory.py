"""Peak memory of reading a CSV file with cartoonbrain's reader, against the file's size.

    .venv/bin/python benchmarks/csv_memory.py                 # 20 MB and 200 MB
    .venv/bin/python benchmarks/csv_memory.py --sizes 20      # 20 MB only
    .venv/bin/python benchmarks/csv_memory.py --tracemalloc   # also Python's traced peak

Each file holds typical data: 8 normal numbers with 6 decimals and a text label per row
(about 90 bytes a row). Each read runs in a fresh interpreter, which reports the growth of
its peak resident memory over its resident memory after importing cartoonbrain (on Linux
the peak, VmHWM, is reset first; elsewhere ``ru_maxrss`` since the start);
with ``--tracemalloc`` also the peak of tracemalloc (NumPy's buffers included), which
slows the read several times. The target of the hardening issue is at most about 3x the
file's size (the reader before it peaked at about 18x).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import PEAK_PRELUDE

ROWS_PER_CHUNK = 100_000


CHILD = (
    r"""
import json, resource, sys, time, tracemalloc
from cartoonbrain.data.csvdata import read_table

"""
    + PEAK_PRELUDE
    + r"""
start = time.perf_counter()
table = read_table(path, target="label")
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1] if traced else None
rss = peak_rss() - base
print(json.dumps({"rows": len(table.X), "seconds": seconds, "rss": rss, "traced": peak}))
"""
)


def write_csv(path: Path, megabytes: float, seed: int = 0) -> int:
    """A CSV of about ``megabytes`` MB; returns its size in bytes."""
    rng = np.random.default_rng(seed)
    target = megabytes * 1e6
    with open(path, "w") as f:
        f.write("x0,x1,x2,x3,x4,x5,x6,x7,label\n")
        while f.tell() < target:
            X = rng.normal(size=(ROWS_PER_CHUNK, 8))
            labels = rng.choice(np.array(["cat", "dog", "bird"]), size=len(X))
            body = np.char.mod("%.6f", X)
            lines = [",".join(row) + f",{label}\n" for row, label in zip(body.tolist(), labels)]
            f.writelines(lines)
    return path.stat().st_size


def measure(path: Path, traced: bool) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), "1" if traced else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,200", help="file sizes in MB (default 20,200)")
    parser.add_argument("--tracemalloc", action="store_true", help="also tracemalloc's peak")
    args = parser.parse_args()
    print(f"{'file':>9} {'rows':>10} {'read s':>7} {'peak RSS':>10} {'x size':>7}", end="")
    print(f" {'traced':>10} {'x size':>7}" if args.tracemalloc else "")
    with tempfile.TemporaryDirectory() as folder:
        for megabytes in (float(s) for s in args.sizes.split(",")):
            path = Path(folder) / f"data_{megabytes:g}MB.csv"
            start = time.perf_counter()
            size = write_csv(path, megabytes)
            written = time.perf_counter() - start
            r = measure(path, args.tracemalloc)
            line = (
                f"{size / 1e6:>7.1f}MB {r['rows']:>10,} {r['seconds']:>7.1f} "
                f"{r['rss'] / 1e6:>8.1f}MB {r['rss'] / size:>6.2f}x"
            )
            if args.tracemalloc:
                line += f" {r['traced'] / 1e6:>8.1f}MB {r['traced'] / size:>6.2f}x"
            print(line + f"   (written in {written:.0f} s)", flush=True)
            os.remove(path)


if __name__ == "__main__":
    main()
