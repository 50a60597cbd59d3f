"""Peak memory of loading model files with ``cb.load``, against each file's size.

    .venv/bin/python benchmarks/load_memory.py                   # 1, 8 and 32 MB models
    .venv/bin/python benchmarks/load_memory.py --sizes 1 100     # other sizes (MB)
    .venv/bin/python benchmarks/load_memory.py --tracemalloc     # also tracemalloc's peak
    .venv/bin/python benchmarks/load_memory.py --checkpoint      # also resuming, with Adam

Besides real models (Dense stacks of about the size asked, float32), it loads crafted
files that the hardening issue found eating memory, each of which must now be refused
with a peak that stays near zero:

* ``bomb``: a deflated member declaring 3 GB (the issue's 2 MB file inflated to 4.2 GB);
* ``greedy config``: a 2 KB file whose config asks for 50 million units (it allocated
  2 GB before the stored shapes were compared);
* ``lying header``: a member whose .npy header asks for 1 GB and holds 16 bytes.

Each load runs in a fresh interpreter, which reports the growth of its peak resident
memory over its resident memory after importing cartoonbrain (on Linux the peak, VmHWM, is
reset first; elsewhere ``ru_maxrss`` since the start), and with ``--tracemalloc`` also the
peak of tracemalloc (NumPy's buffers included). A real model needs the network's
parameter buffer, into which ``cb.load`` reads each array straight from the file (no
initialiser runs, no second copy), and a gradient buffer, allocated zeroed and untouched
until training, so not resident: about 1.1x the file's size is expected in peak RSS for
large models (a model of a few MB adds the 1 MB read chunk and the reader's own
allocations), and about 2x with tracemalloc, which counts the gradient buffer. Reading
every array first and initialising the network before copying them in was 3.0x (4.0x
traced).

With ``--checkpoint`` it also resumes from the checkpoint ``fit`` writes after one epoch of
Adam on each model (``train.checkpoint.restore_checkpoint``, what ``fit(...,
resume=True)`` does), into a network and an optimizer built before the peak is reset
(the memory their initialisers freed handed back first). The file holds the parameters
and Adam's m and v, each as large: restoring reads the parameters into a new network's
buffer (copied into the run's once the checksum matches) and m and v into arrays the
optimizer keeps, about 1.0x the file's size in peak RSS for 32 MB of parameters (a 96 MB
file: 99.6 MB; 1.1x for 8 MB, 1.7x for 1 MB) and 4.1x the parameters traced. Reading the
whole archive, copying it into a new network and copying the optimizer's state four
times more was 3.4x (323.6 MB; 3.5x for 8 and 1 MB), 11x the parameters traced.
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

import cartoonbrain as cb
from _common import PEAK_PRELUDE
from cartoonbrain import io as cbio

CHILD = (
    r"""
import json, resource, sys, tracemalloc
import cartoonbrain as cb

"""
    + PEAK_PRELUDE
    + r"""
try:
    net = cb.load(path)
    outcome = f"loaded, {net.n_parameters:,} parameters"
except cb.ModelFileError as exc:
    outcome = "ModelFileError: " + str(exc).split(": ", 1)[1][:64]
peak = tracemalloc.get_traced_memory()[1] if traced else None
print(json.dumps({"outcome": outcome, "rss": peak_rss() - base, "traced": peak}))
"""
)

RESUME_CHILD = (
    r"""
import json, resource, sys, tracemalloc
import cartoonbrain as cb
from cartoonbrain.train.checkpoint import restore_checkpoint

width = int(sys.argv[3])  # the run's own network and optimizer exist before the peak is reset
net = cb.Network([cb.Dense(width, width, "relu"), cb.Dense(width, width)], seed=1)
optimizer = cb.Adam()
try:  # glibc: give back what the initialisers freed, so that restoring cannot reuse it
    import ctypes
    ctypes.CDLL("libc.so.6").malloc_trim(0)
except OSError:
    pass
"""
    + PEAK_PRELUDE
    + r"""
epoch, _, _ = restore_checkpoint(net, optimizer, path)
outcome = f"resumed after epoch {epoch}, {optimizer.iterations} Adam steps"
peak = tracemalloc.get_traced_memory()[1] if traced else None
print(json.dumps({"outcome": outcome, "rss": peak_rss() - base, "traced": peak}))
"""
)


def _width(megabytes: float) -> int:
    """The width of a two-layer Dense stack with about ``megabytes`` MB of float32 weights."""
    return max(8, int((megabytes * 1e6 / 4 / 2) ** 0.5))


def model(path: Path, megabytes: float) -> None:
    """A Dense stack with about ``megabytes`` MB of float32 parameters."""
    width = _width(megabytes)
    net = cb.Network([cb.Dense(width, width, "relu"), cb.Dense(width, width)], seed=0)
    net.save(path)


def checkpoint(path: Path, megabytes: float) -> None:
    """The checkpoint ``fit`` writes after one epoch of Adam on such a stack: parameters,
    Adam's m and v (as large as them) and the run's state."""
    width = _width(megabytes)
    net = cb.Network([cb.Dense(width, width, "relu"), cb.Dense(width, width)], seed=0)
    X = np.random.default_rng(0).normal(size=(8, width)).astype(np.float32)
    net.fit(X, X, epochs=1, batch_size=8, optimizer="adam", checkpoint=path)


def _raw(path: Path, members: dict[str, np.ndarray]) -> None:
    members = dict(members)
    members["checksum"] = cbio.digest(members)
    np.savez(path, **members)


def _small_members() -> dict[str, np.ndarray]:
    net = cb.Network([cb.Dense(3, 4), cb.Dense(4, 2)], seed=0)
    config, arrays = net.state()
    config = {"format": cbio.FORMAT, "format_version": cbio.FORMAT_VERSION, **config}
    text = json.dumps(config).encode()
    return {**arrays, "config.json": np.frombuffer(text, np.uint8)}


def greedy_config(path: Path) -> None:
    members = _small_members()
    config = json.loads(members["config.json"].tobytes())
    config["network"]["layers"][0]["n_out"] = 50_000_000
    config["network"]["layers"][1]["n_in"] = 50_000_000
    members["config.json"] = np.frombuffer(json.dumps(config).encode(), np.uint8)
    _raw(path, members)


def _npy(header: str, data: bytes) -> bytes:
    text = header.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def bomb(path: Path) -> None:
    """A deflated member that declares 3 GB (its local header and directory entry say so)."""
    members = {f"{k}.npy": _npy_bytes(v) for k, v in _small_members().items()}
    members["checksum.npy"] = _npy_bytes(np.zeros(32, np.uint8))
    big = _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (750000000,), }", b"\0" * 4096)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in {**members, "param.0.npy": big}.items():
            z.writestr(name, data)
    raw = bytearray(path.read_bytes())
    name = b"param.0.npy"
    local = raw.find(b"PK\x03\x04")  # the member's local header, found by its name
    while raw[local + 30 : local + 30 + len(name)] != name:
        local = raw.find(b"PK\x03\x04", local + 4)
    raw[local + 22 : local + 26] = struct.pack("<I", 3_000_000_128)
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + len(name)] != name:
        central = raw.find(b"PK\x01\x02", central + 4)
    raw[central + 24 : central + 28] = struct.pack("<I", 3_000_000_128)
    path.write_bytes(bytes(raw))


def lying_header(path: Path) -> None:
    members = {f"{k}.npy": _npy_bytes(v) for k, v in _small_members().items()}
    members["checksum.npy"] = _npy_bytes(np.zeros(32, np.uint8))
    members["param.0.npy"] = _npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (250000000,), }", b"\0" * 16
    )
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def measure(path: Path, traced: bool, width: int | None = None) -> dict[str, object]:
    child, extra = (CHILD, []) if width is None else (RESUME_CHILD, [str(width)])
    result = subprocess.run(
        [sys.executable, "-c", child, str(path), "1" if traced else "0", *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 8, 32], help="MB")
    parser.add_argument("--tracemalloc", action="store_true", help="also tracemalloc's peak")
    parser.add_argument(
        "--checkpoint", action="store_true", help="also resume from checkpoints (Adam)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files: list[tuple[str, Path, int | None]] = []
        for megabytes in args.sizes:
            path = Path(folder) / f"model_{megabytes:g}MB.npz"
            model(path, megabytes)
            files.append((f"model {megabytes:g} MB", path, None))
            if args.checkpoint:
                path = Path(folder) / f"checkpoint_{megabytes:g}MB.npz"
                checkpoint(path, megabytes)
                files.append((f"resume {megabytes:g} MB", path, _width(megabytes)))
        for name, make in [
            ("bomb", bomb),
            ("greedy config", greedy_config),
            ("lying header", lying_header),
        ]:
            path = Path(folder) / f"{name.replace(' ', '_')}.npz"
            make(path)
            files.append((name, path, None))
        print(
            f"{'file':<16}{'size':>12}{'peak RSS':>12}{'ratio':>8}"
            + (f"{'traced':>12}" if args.tracemalloc else "")
            + "  outcome"
        )
        for name, path, width in files:
            size = path.stat().st_size
            result = measure(path, args.tracemalloc, width)
            rss = int(result["rss"])  # type: ignore[call-overload]
            line = f"{name:<16}{size / 1e6:>10.3f}MB{rss / 1e6:>10.1f}MB{rss / size:>7.1f}x"
            if args.tracemalloc:
                line += f"{int(result['traced']) / 1e6:>10.1f}MB"  # type: ignore[call-overload]
            print(f"{line}  {result['outcome']}")


if __name__ == "__main__":
    main()
