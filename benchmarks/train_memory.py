"""Peak memory of ``cartoonbrain train --cache`` against the number of rows of the CSV.

    python benchmarks/train_memory.py [--rows 20000,200000,2000000] [--features 32]
                                      [--folder /tmp] [--keep] [--no-cache]

Writes CSV files of growing length (``--features`` numbers and a yes/no label a row) into
``--folder``, then runs ``cartoonbrain train --data FILE --target label --cache`` (one
epoch) twice on each, in a process of its own: the first run converts the file, the second
reads the cache. For each run it prints two peaks:

* ``RSS``, the process's peak resident memory (``ru_maxrss``). It counts the pages of the
  cache's ``.npy`` files that ``fit`` has read through its memmap: page cache, which the
  kernel takes back when memory is short, and grows with the file while the file fits in
  memory.
* ``anon``, the peak of the process's own memory (resident minus file-backed, sampled
  from ``/proc/self/statm`` every millisecond): what cannot be given back. It should grow
  only by the few numbers per row that ``fit`` keeps (targets, the epoch's order and
  outputs), never by the rows' features.

``--no-cache`` measures training without ``--cache`` instead (the whole file in memory).
Not a test (``tests/test_cli_cache.py`` checks a small case): it writes and reads
gigabytes for the largest sizes. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

#: run ``cartoonbrain`` in this process and print: anon peak (KiB), ru_maxrss (KiB), seconds
MEASURE = """
import os, resource, sys, threading, time
from cartoonbrain.cli import main
page, peak, done = os.sysconf("SC_PAGE_SIZE") // 1024, [0], threading.Event()
def sample():
    with open("/proc/self/statm") as f:
        while not done.is_set():
            f.seek(0)
            resident, shared = map(int, f.read().split()[1:3])
            peak[0] = max(peak[0], (resident - shared) * page)
            time.sleep(0.001)
thread = threading.Thread(target=sample, daemon=True)
thread.start()
began = time.perf_counter()
status = main(sys.argv[1:])
seconds = time.perf_counter() - began
done.set()
thread.join()
print("MEASURED", status, peak[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, seconds)
"""


def write_csv(
    path: Path, rows: int, features: int, seed: int = 0, texts: int = 0, categories: int = 256
) -> None:
    """``rows`` rows of ``features`` normal numbers (5 decimals), ``texts`` text columns of
    ``categories`` values (k0, k1, ...: every one in each block of rows, so that the test
    rows hold none the training rows lack) and a label yes/no."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        names = [*(f"x{j}" for j in range(features)), *(f"t{j}" for j in range(texts))]
        f.write(",".join([*names, "label"]) + "\n")
        for start in range(0, rows, 50_000):
            X = rng.normal(size=(min(50_000, rows - start), features))
            labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
            text = np.char.mod("%.5f", X).astype(object)
            if texts:
                codes = np.tile(np.arange(len(X))[:, None] % categories, (1, texts))
                words = np.char.add("k", rng.permuted(codes, axis=0).astype(str)).astype(object)
                text = np.column_stack([text, words])
            f.writelines(",".join(row) + f",{label}\n" for row, label in zip(text, labels))


#: a small process that runs its arguments: started from it, the measured process does not
#: inherit this one's peak (Linux starts a child's ru_maxrss at its parent's when it execs)
SPAWN = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def measure(argv: list[str]) -> tuple[int, int, float]:
    """(anon peak KiB, ru_maxrss KiB, seconds) of ``cartoonbrain *argv`` in a new process."""
    command = [sys.executable, "-c", SPAWN, sys.executable, "-c", MEASURE, *argv]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    line = [x for x in out.stdout.splitlines() if x.startswith("MEASURED")]
    if out.returncode != 0 or not line or line[0].split()[1] != "0":
        raise SystemExit(out.stderr or out.stdout)
    _, _, anon, rss, seconds = line[0].split()
    return int(anon), int(rss), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="20000,200000,2000000", help="rows of each CSV")
    parser.add_argument("--features", type=int, default=32, help="numbers per row (32)")
    parser.add_argument("--folder", default="/tmp", help="where the files go (default /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--no-cache", action="store_true", help="train without --cache")
    parser.add_argument("--text-columns", type=int, default=0, help="text columns (default 0)")
    parser.add_argument("--categories", type=int, default=256, help="values per text column")
    args = parser.parse_args()
    folder = Path(args.folder) / f"cartoonbrain-train-memory-{os.getpid()}"
    folder.mkdir(parents=True)
    train = ["--target", "label", "--epochs", "1", "--batch-size", "256", "--hidden", "16"]
    train += ["--quiet", "--out", str(folder / "model.npz"), "--force"]
    train += [] if args.no_cache else ["--cache"]
    print(f"{'rows':>10} {'CSV MB':>7}  {'run':<7} {'anon MB':>8} {'RSS MB':>7} {'seconds':>8}")
    try:
        for rows in (int(r) for r in args.rows.split(",")):
            data = folder / f"rows-{rows}.csv"
            write_csv(
                data, rows, args.features, texts=args.text_columns, categories=args.categories
            )
            size = data.stat().st_size / 1e6
            runs = ("train",) if args.no_cache else ("convert", "reuse")
            for run in runs:
                anon, rss, seconds = measure(["train", "--data", str(data), *train])
                print(
                    f"{rows:>10,} {size:>7.0f}  {run:<7} {anon / 1024:>8.1f} {rss / 1024:>7.1f} "
                    f"{seconds:>8.1f}",
                    flush=True,
                )
            if not args.keep:
                data.unlink()
                shutil.rmtree(folder / f"rows-{rows}.csv.cache", ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
