"""Callbacks: hooks that ``fit`` calls at the start and end of training, of each epoch
and of each batch (Keras's protocol), and the plain ones that come with cartoonbrain.

``fit`` itself adds two: :class:`History` (what it returns) and :class:`ProgressBar` (the
progress bar and the line per epoch of ``verbose``). Those that watch a quantity
(EarlyStopping, ReduceLROnPlateau, ModelCheckpoint) share :class:`~.monitor.Monitor`.
"""

from __future__ import annotations

import csv
import math
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

if TYPE_CHECKING:
    from ..network.network import Network

Array = NDArray[Any]

__all__ = ["CSVLogger", "Callback", "History", "LambdaCallback", "ProgressBar", "TerminateOnNaN"]


class Callback:
    """Hooks called by :func:`~cartoonbrain.train.fit`. ``logs`` holds the epoch's loss,
    metrics and ``val_*`` (at the end of an epoch) or the batch's ``loss`` (at the end of
    a batch). ``self.network`` (also ``self.model``, as in Keras) is the network trained."""

    network: Network

    @property
    def model(self) -> Network:
        """The network being trained (Keras's name for it)."""
        return self.network

    def on_train_begin(self, logs: dict[str, float]) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, float]) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict[str, float]) -> None: ...
    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None: ...
    def on_train_end(self, logs: dict[str, float]) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps of this callback, so that a resumed ``fit`` goes on where
        it stopped: numbers and arrays by name (none by default)."""
        return {}

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Take back a :meth:`state_dict` from a checkpoint (as NumPy arrays; called by
        ``fit(resume=True)`` after ``on_train_begin``)."""

    #: set to True from a hook to stop after the current batch or epoch
    stop_training = False


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``."""

    def __init__(self, **hooks: Callable[..., None]) -> None:
        for name, hook in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"unknown callback hook {name!r}")
            setattr(self, name, hook)


class History(Callback):
    """What ``fit`` returns: ``history["loss"]``, ``history["val_loss"]``, metrics per epoch
    (``history.history`` is the dict of lists, ``history.epoch`` the epochs, from 0)."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stopped_early = False

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.append(epoch, logs)

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


class ProgressBar(Callback):
    """``verbose=1``: a tqdm bar over each epoch's batches (when tqdm is installed and
    stderr is a terminal) and a line per epoch; ``verbose=2``: the line per epoch only."""

    def __init__(self, verbose: int, epochs: int, n_batches: int) -> None:
        self.verbose, self.epochs, self.n_batches = verbose, epochs, n_batches
        self.bar: Any = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, float]) -> None:
        if self.verbose != 1:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is an optional extra
            return
        self.bar = tqdm(
            total=self.n_batches,
            desc=f"Epoch {epoch + 1}/{self.epochs}",
            unit="batch",
            leave=False,
            file=sys.stderr,
            dynamic_ncols=True,
            disable=None,  # no bar when stderr is not a terminal (a log file, a pipe)
        )

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.verbose:
            text = " - ".join(f"{k} {v:.4f}" for k, v in logs.items())
            print(f"Epoch {epoch + 1}/{self.epochs} - {text}", flush=True)


class TerminateOnNaN(Callback):
    """Stop training, without an error, when a batch's loss is NaN or infinite (Keras's
    ``TerminateOnNaN``); the weights of the last finite step are kept."""

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if not math.isfinite(logs.get("loss", 0.0)):
            self.stop_training = True


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (Keras's ``CSVLogger``).

    Parameters
    ----------
    filename : path
    separator : str, default ","
    append : bool, default False
        Add rows to an existing file (its header is not written again) instead of
        starting a new file.
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ):
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.keys: list[str] | None = None

    def on_train_begin(self, logs: dict[str, float]) -> None:
        exists = self.append and os.path.isfile(self.filename) and os.path.getsize(self.filename)
        self.keys = None
        if exists:
            with open(self.filename, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self.keys = header[1:] if header else None
        elif not self.append or not exists:
            open(self.filename, "w", encoding="utf-8").close()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        with open(self.filename, "a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter=self.separator)
            if self.keys is None:
                self.keys = sorted(logs)
                writer.writerow(["epoch", *self.keys])
            writer.writerow([epoch, *(logs.get(k, "") for k in self.keys)])
