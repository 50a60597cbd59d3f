"""Model files: NumPy ``.npz`` arrays plus a JSON config, written atomically, read safely.

A model file is a ``.npz`` archive holding

* ``config.json``: the architecture (layers, loss, dtype), ``format``/``format_version``,
  the metadata (class labels, feature names, scaling), and optionally the optimizer's
  config and the training state of a checkpoint (epoch, history, generator state);
* ``param.0``, ``param.1``, ...: the parameters, in :meth:`Network.parameters` order;
* ``optimizer.*``: the optimizer's state buffers, when saved with it;
* ``callback.<i>.*``: in a checkpoint, the state of ``fit``'s i-th callback (e.g.
  EarlyStopping's best score, patience used and best weights);
* ``checksum``: SHA-256 over everything above, checked on load.

Writing goes to a temporary file in the same folder, which is flushed, fsync'ed, read back
and verified, then moved over the destination with ``os.replace``: the old file is replaced
only by a complete, verified new one, and a failed or interrupted write leaves it untouched.

Reading uses ``allow_pickle=False`` and maps the config through fixed tables of known
layers, activations, losses and optimizers, so loading a file never runs code from it.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from .network import Network
from .optimizers import Optimizer, get_optimizer

if TYPE_CHECKING:
    pass

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "atomic_write", "load", "save"]

FORMAT = "cartoonbrain-model"
FORMAT_VERSION = 1
_CONFIG, _CHECKSUM = "config.json", "checksum"


class ModelFileError(ValueError):
    """A model file that cannot be read: damaged, not a model, or of another version."""


def _digest(arrays: dict[str, NDArray[Any]]) -> NDArray[np.uint8]:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8)


def _encode(config: dict[str, Any]) -> NDArray[np.uint8]:
    return np.frombuffer(json.dumps(config, sort_keys=True).encode("utf-8"), dtype=np.uint8)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporaries of ``path`` left by writers that were killed (SIGKILL, power loss)."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 : -len(".tmp")]
        if pid.isdigit() and not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                tmp.unlink()


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[BinaryIO], None],
    verify: Callable[[Path], object] | None = None,
) -> None:
    """Write a file so that ``path`` only ever holds its old content or the complete new one.

    ``write`` fills a temporary file in the same folder (named ``.NAME.PID.tmp``), which
    is flushed and fsync'ed, checked by ``verify`` (if given), then renamed over ``path``
    with ``os.replace``. On any failure the temporary is removed and ``path`` is untouched;
    temporaries of writers that were killed are removed by the next write.
    """
    path = Path(path)
    folder = path.parent
    _remove_stale_temporaries(path)
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, file_mode(path))
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if verify is not None:
            verify(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _write_atomic(path: Path, arrays: dict[str, NDArray[Any]]) -> None:
    arrays = dict(arrays)
    arrays[_CHECKSUM] = _digest(arrays)
    atomic_write(
        path,
        lambda f: np.savez(f, **arrays),  # type: ignore[arg-type]
        verify=lambda tmp: _read_arrays(tmp, shown=path),  # what reached the disk
    )


def file_mode(path: Path) -> int:
    """The permissions a new file at ``path`` should get: the old file's, else 0o666 & ~umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _read_arrays(path: Path, shown: Path | None = None) -> dict[str, NDArray[Any]]:
    """Every array of the archive, with the checksum verified; ModelFileError otherwise."""
    name = shown or path
    try:
        with open(path, "rb") as f:  # our own handle: closed even when np.load fails
            if f.read(4) != b"PK\x03\x04":
                raise ModelFileError(f"{name}: not a cartoonbrain model file (not an .npz archive)")
            f.seek(0)
            archive = np.load(f, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise ModelFileError(f"{name}: not a cartoonbrain model file (not an .npz archive)")
            with archive:
                arrays = {key: archive[key] for key in archive.files}
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{name}: is a folder, not a model file") from None
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ModelFileError(
                f"{name}: refused: the file holds pickled Python objects, which could run code; "
                "cartoonbrain model files never do"
            ) from None
        raise ModelFileError(f"{name}: not a cartoonbrain model file or damaged ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, zipfile.LargeZipFile) as exc:
        raise ModelFileError(f"{name}: not a cartoonbrain model file or damaged ({exc})") from None
    except Exception as exc:  # zlib.error, struct.error and the like from a damaged archive
        raise ModelFileError(f"{name}: damaged model file ({type(exc).__name__}: {exc})") from None
    if _CONFIG not in arrays or _CHECKSUM not in arrays:
        raise ModelFileError(f"{name}: not a cartoonbrain model file (no {_CONFIG} or checksum)")
    stored = arrays.pop(_CHECKSUM)
    if not np.array_equal(stored, _digest(arrays)):
        raise ModelFileError(f"{name}: damaged model file (checksum mismatch)")
    return arrays


def _read_config(arrays: dict[str, NDArray[Any]], name: Path) -> dict[str, Any]:
    raw = arrays[_CONFIG]
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError(f"{name}: damaged model file (config is not UTF-8 JSON bytes)")
    try:
        config = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{name}: damaged model file (config: {exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{name}: not a cartoonbrain model file")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{name}: model file format version {version!r}; this cartoonbrain reads version "
            f"{FORMAT_VERSION} (save it again with a matching cartoonbrain)"
        )
    return config


def _arrays_for(
    net: Network, optimizer: Optimizer | None, training: dict[str, Any] | None
) -> dict[str, NDArray[Any]]:
    config: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION}
    config["network"] = net.get_config()
    arrays: dict[str, NDArray[Any]] = {f"param.{i}": p for i, p in enumerate(net.parameters())}
    if optimizer is not None:
        config["optimizer"] = optimizer.get_config()
        arrays.update({f"optimizer.{k}": v for k, v in optimizer.state_dict().items()})
    if training is not None:
        config["training"] = training
    arrays[_CONFIG] = _encode(config)
    return arrays


def save(net: Network, path: str | os.PathLike[str], include_optimizer: bool = False) -> None:
    """Write ``net`` to ``path`` atomically (see the module docstring for the format).

    Parameters
    ----------
    include_optimizer : bool
        Also store the state of the optimizer of the last ``fit`` (to continue training).
    """
    optimizer = net.optimizer if include_optimizer else None
    _write_atomic(Path(path), _arrays_for(net, optimizer, None))


def _build(arrays: dict[str, NDArray[Any]], config: dict[str, Any], name: Path) -> Network:
    try:
        net = Network.from_config(config["network"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{name}: the model's architecture cannot be built: {exc}") from None
    params = net.parameters()
    for i, p in enumerate(params):
        stored = arrays.get(f"param.{i}")
        if stored is None or stored.shape != p.shape or stored.dtype != p.dtype:
            raise ModelFileError(
                f"{name}: parameter {i} is "
                + ("missing" if stored is None else f"{stored.dtype} {stored.shape}")
                + f"; the architecture needs {p.dtype} {p.shape}"
            )
        p[...] = stored
    if f"param.{len(params)}" in arrays:
        raise ModelFileError(f"{name}: more parameters than the architecture has")
    return net


def _optimizer_state(arrays: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    return {
        k.removeprefix("optimizer."): v for k, v in arrays.items() if k.startswith("optimizer.")
    }


def load(path: str | os.PathLike[str]) -> Network:
    """Read a model (or checkpoint) file written by :func:`save` or ``fit(checkpoint=...)``.

    The optimizer, when the file has one, comes back as ``net.optimizer``. Raises
    :class:`ModelFileError` (a ValueError) for a damaged file, a file that is not a
    cartoonbrain model, one of another format version, or one with pickled objects.
    """
    path = Path(path)
    arrays = _read_arrays(path)
    config = _read_config(arrays, path)
    net = _build(arrays, config, path)
    if "optimizer" in config:
        try:
            net.optimizer = get_optimizer(config["optimizer"])
            net.optimizer.load_state_dict(_optimizer_state(arrays))
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelFileError(f"{path}: bad optimizer state: {exc}") from None
    training = config.get("training")
    if isinstance(training, dict) and "rng_state" in training:
        _set_rng_state(net, training["rng_state"], path)
    return net


def _set_rng_state(net: Network, state: Any, name: Path) -> None:
    try:
        if state.get("bit_generator") != type(net.rng.bit_generator).__name__:
            raise ValueError(f"generator {state.get('bit_generator')!r}")
        net.rng.bit_generator.state = state
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise ModelFileError(f"{name}: bad generator state in checkpoint: {exc}") from None
