"""Peak memory of ``cartoonbrain predict`` against the number of rows of the CSV it reads.

    python benchmarks/predict_memory.py [--sizes-mb 20,200,2000] [--folder /tmp] [--keep]
                                        [--text-columns 5 --categories 256]

Writes CSV files of growing size (8 numeric features and an integer class, about 70 bytes
a row; with ``--text-columns K``, also K text columns of ``--categories`` values each,
which the model one-hot encodes: its input is then 8 + K x categories wide) into
``--folder``, trains a small model once with ``cartoonbrain train`` on the
first 5,000 rows, then runs ``cartoonbrain predict --out`` on each file in a process of
its own and prints the peak resident memory of that process (``ru_maxrss`` of a child
that runs nothing else) against the rows. Streaming in chunks, the peak should not grow
with the rows. The files are deleted afterwards unless ``--keep``.

Not a test: it writes and reads gigabytes and takes minutes. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FEATURES = 8
ROWS_PER_WRITE = 200_000
#: run a command in a child process and print the child's peak resident memory in KiB
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def write_csv(
    path: Path,
    megabytes: float,
    seed: int = 0,
    block: int = ROWS_PER_WRITE,
    texts: int = 0,
    categories: int = 256,
) -> int:
    """A CSV of about ``megabytes`` MB (whole blocks of ``block`` rows): features x0..x7,
    ``texts`` text columns t0.. (values k0..k<categories-1>, every one in each block) and
    a class c (0, 1 or 2)."""
    rng = np.random.default_rng(seed)
    header = ",".join([*(f"x{j}" for j in range(FEATURES)), *(f"t{j}" for j in range(texts)), "c"])
    rows = 0
    with open(path, "w") as f:
        f.write(header + "\n")
        while rows == 0 or f.tell() < megabytes * 1e6:
            X = rng.normal(size=(block, FEATURES))
            c = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
            codes = np.tile(np.arange(block)[:, None] % categories, (1, texts))
            T = np.char.add("k", rng.permuted(codes, axis=0).astype(str)).astype(object)
            cells = np.column_stack([X, T, c]) if texts else np.column_stack([X, c])
            fmt = ["%.6g"] * FEATURES + ["%s"] * texts + ["%d"]
            np.savetxt(f, cells, fmt=fmt, delimiter=",")
            rows += block
    return rows


def cartoonbrain(*argv: str) -> list[str]:
    return [sys.executable, "-m", "cartoonbrain.cli", *argv]


def peak_kib(command: list[str]) -> int:
    """The peak resident memory (KiB) of ``command``, run in a fresh process."""
    out = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return int(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", default="20,200,2000", help="CSV sizes in MB")
    parser.add_argument("--folder", default="/tmp", help="where the CSVs go (default /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--text-columns", type=int, default=0, help="text columns (default 0)")
    parser.add_argument("--categories", type=int, default=256, help="values per text column")
    args = parser.parse_args()
    texts = {"texts": args.text_columns, "categories": args.categories}
    folder = Path(args.folder) / f"cartoonbrain-predict-memory-{os.getpid()}"
    folder.mkdir(parents=True)
    try:
        train, model = folder / "train.csv", folder / "model.npz"
        write_csv(train, 0, seed=1, block=5000, **texts)  # one block of 5,000 rows
        options = ["--target", "c", "--epochs", "3", "--quiet"]
        command = cartoonbrain("train", "--data", str(train), *options, "--out", str(model))
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        print(f"{'rows':>12} {'CSV MB':>8} {'peak RSS MB':>12} {'seconds':>8} {'rows/s':>9}")
        for megabytes in (float(s) for s in args.sizes_mb.split(",")):
            data = folder / f"rows-{megabytes:g}MB.csv"
            rows = write_csv(data, megabytes, block=min(ROWS_PER_WRITE, 20_000), **texts)
            out = folder / "predictions.csv"
            start = time.perf_counter()
            cmd = cartoonbrain("predict", "--model", str(model), "--data", str(data))
            kib = peak_kib([*cmd, "--out", str(out), "--force"])
            seconds = time.perf_counter() - start
            size = data.stat().st_size / 1e6
            rate = rows / seconds
            print(f"{rows:>12,} {size:>8.0f} {kib / 1024:>12.0f} {seconds:>8.1f} {rate:>9,.0f}")
            if not args.keep:
                data.unlink()
                out.unlink()
    finally:
        if not args.keep:
            for path in folder.glob("*"):
                path.unlink()
            folder.rmdir()


if __name__ == "__main__":
    main()
