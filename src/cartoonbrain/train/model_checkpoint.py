"""ModelCheckpoint: the network saved during training (Keras's ``ModelCheckpoint``).

Its file name is a template (``"model-{epoch:02d}-{val_loss:.3f}.npz"``) checked when the
callback is made, not after an epoch: each field names ``epoch``, ``batch``, ``loss`` or a
registered metric (with or without ``val_``), takes no attribute or index, and a format
whose width and precision are at most :data:`MAX_FORMAT_WIDTH`; the template, filled with
sample numbers, must format. A file name of 255 bytes is the most any file system takes,
so a wider field can only be a mistake (``"{epoch:>999999999}"`` would build a 1 GB
string).
"""

from __future__ import annotations

import math
import os
import re
import string
from typing import Any

import numpy as np

from ..metrics import greater_is_better
from .callbacks import register_callback
from .monitor import Monitor, _flag, _number, _numbers, _verbose

__all__ = ["MAX_FORMAT_WIDTH", "ModelCheckpoint", "check_filepath"]

#: the widest field and the longest precision a file name template may ask for
MAX_FORMAT_WIDTH = 64

#: the standard format specification: [[fill]align][sign][z][#][0][width][,_][.precision][type]
_SPEC = re.compile(
    r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>[0-9]*)[,_]?"
    r"(?:\.(?P<precision>[0-9]+))?[bcdeEfFgGnosxX%]?",
    re.S,
)


def _quoted(template: str) -> str:
    """The template as a message shows it: whole up to 120 characters, else its start."""
    if len(template) <= 120:
        return repr(template)
    return f"{template[:60]!r}… ({len(template)} characters)"


def _check_field(template: str, field: str, spec: str, conversion: str | None) -> None:
    shown = f"ModelCheckpoint filepath {_quoted(template)}"
    if not field.isidentifier():
        raise ValueError(
            f"{shown} has the field {{{field}}}; expected a plain name such as "
            "{epoch} or {val_loss} (no attribute, index or position)"
        )
    if field not in ("epoch", "batch"):
        try:
            greater_is_better(field)
        except ValueError:
            raise ValueError(
                f"{shown} names {field!r}, which is not 'epoch', 'batch', 'loss' or a "
                "registered metric (with or without 'val_')"
            ) from None
    if conversion is not None:
        raise ValueError(f"{shown} converts {{{field}!{conversion}}}; expected no conversion")
    match = _SPEC.fullmatch(spec)
    if match is None:
        raise ValueError(f"{shown} formats {{{field}}} with {_quoted(spec)}, not a number's format")
    for part in ("width", "precision"):
        digits = match.group(part)
        if digits and (len(digits) > 3 or int(digits) > MAX_FORMAT_WIDTH):
            shown_digits = digits if len(digits) <= 12 else f"{digits[:12]}… ({len(digits)} digits)"
            raise ValueError(
                f"{shown} asks for a {part} of {shown_digits} in {{{field}}}; expected at "
                f"most {MAX_FORMAT_WIDTH}"
            )


def check_filepath(filepath: Any) -> str:
    """The file name template, checked (fields, widths, folder); ValueError in one line."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise ValueError(f"ModelCheckpoint filepath must be a path; got {filepath!r}")
    template = os.fspath(filepath)
    if not isinstance(template, str) or not template.strip() or "\x00" in template:
        shown = _quoted(template) if isinstance(template, str) else repr(template)
        raise ValueError(f"ModelCheckpoint filepath must be a non-empty path; got {shown}")
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"ModelCheckpoint filepath {_quoted(template)} is not a template: {exc}"
        ) from None
    for _, field, spec, conversion in fields:
        if field is not None:
            _check_field(template, field, spec or "", conversion)
    try:
        sample = template.format_map(_Sample())
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"ModelCheckpoint filepath {_quoted(template)} cannot be formatted with an epoch and "
            f"batch of 1 and logged numbers of 0.5: {exc}"
        ) from None
    if os.path.isdir(sample) or sample.endswith(os.sep):
        raise ValueError(
            f"ModelCheckpoint filepath {_quoted(template)} is a folder; expected a file"
        )
    folder = os.path.dirname(sample)
    while folder and not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if folder and not os.path.isdir(folder):
        raise ValueError(
            f"ModelCheckpoint filepath {_quoted(template)} goes through {folder!r}, which is a file"
        )
    return template


class _Sample(dict[str, Any]):
    """Sample values for every field: the epoch and batch 1, every logged number 0.5."""

    def __missing__(self, key: str) -> Any:
        return 1 if key in ("epoch", "batch") else 0.5


@register_callback
class ModelCheckpoint(Monitor):
    """Save the network during training (Keras's ``ModelCheckpoint``), atomically, into a
    folder created when missing.

    Parameters
    ----------
    filepath : path; may hold ``{epoch}``, ``{batch}`` and log names, e.g.
        ``"model-{epoch:02d}.npz"`` or ``"best-{val_loss:.3f}.npz"`` (epochs and batches
        counted from 1, as Keras), checked now (see the module's docstring)
    monitor, mode, min_delta : as :class:`~.monitor.Monitor`
    save_best_only : bool, default False
        Save only when ``monitor`` improves (the file then always holds the best model).
    include_optimizer : bool, default False
        Store the optimizer's state too (see :func:`cartoonbrain.save`).
    verbose : 0 or 1, default 0
    save_weights_only : bool, default False
        Keras's name for leaving the optimizer out: the file is still a model file that
        ``cb.load`` reads (cartoonbrain has no weights-only format); it cannot be combined
        with ``include_optimizer``.
    save_freq : "epoch" (default) or int
        Save at the end of each epoch, or every ``save_freq`` training batches (counted
        across epochs, as Keras; the monitored quantity is then the batch's ``loss``).
    initial_value_threshold : float, optional
        With ``save_best_only``, the value to beat before anything is saved.
    """

    def __init__(
        self,
        filepath: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str | None = "auto",
        min_delta: float = 0.0,
        include_optimizer: bool = False,
        verbose: int = 0,
        save_weights_only: bool = False,
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.filepath = check_filepath(filepath)
        if not (isinstance(save_freq, str) and save_freq == "epoch"):
            if isinstance(save_freq, (bool, np.bool_)) or not (
                isinstance(save_freq, (int, np.integer)) and save_freq >= 1
            ):
                raise ValueError(
                    f"save_freq must be 'epoch' or a positive integer; got {save_freq!r}"
                )
            save_freq = int(save_freq)
        if save_weights_only and include_optimizer:
            raise ValueError(
                "ModelCheckpoint: save_weights_only leaves the optimizer out; "
                "include_optimizer=True asks for it: give one of them"
            )
        self.verbose = _verbose(verbose)
        self.save_best_only = _flag("save_best_only", save_best_only)
        self.include_optimizer = _flag("include_optimizer", include_optimizer)
        self.save_weights_only = _flag("save_weights_only", save_weights_only)
        self.save_freq: str | int = save_freq
        self.initial_value_threshold = _number("initial_value_threshold", initial_value_threshold)
        self.epoch = self.batches_since_saving = 0

    @classmethod
    def example(cls, folder: str) -> ModelCheckpoint:
        path = os.path.join(folder, "models", "m-{epoch:02d}-{loss:.3f}.npz")
        return cls(path, monitor="loss", save_best_only=True, save_freq="epoch")

    def on_train_begin(self, logs: dict[str, float]) -> None:
        threshold = self.initial_value_threshold
        self.best = math.inf if threshold is None else self.oriented(threshold)
        self.epoch = self.batches_since_saving = 0

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "batches_since_saving": self.batches_since_saving}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.batches_since_saving = _numbers(
            self, state, best=float, batches_since_saving=int
        )

    def on_epoch_begin(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        if not isinstance(self.save_freq, int):  # "epoch"
            return
        self.batches_since_saving += 1
        if self.batches_since_saving >= self.save_freq:
            self.batches_since_saving = 0
            self.save(self.epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.save_freq == "epoch":
            self.save(epoch, None, logs)

    def save(self, epoch: int, batch: int | None, logs: dict[str, float]) -> None:
        """Save now, unless ``save_best_only`` and the monitored quantity did not improve."""
        if self.save_best_only:
            score = self.current(logs)
            if not self.is_improvement(score):
                if self.verbose:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve", flush=True)
                return
            self.best = score
        numbers = {"batch": (batch or 0) + 1, **logs, "epoch": epoch + 1}
        try:
            path = self.filepath.format(**numbers)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"ModelCheckpoint filepath {_quoted(self.filepath)} names {exc}, which is not "
                f"'epoch' or a logged quantity ({', '.join(logs)})"
            ) from None
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        self.network.save(path, include_optimizer=self.include_optimizer)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saving model to {path}", flush=True)
