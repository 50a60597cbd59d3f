"""Callbacks: hooks that ``fit`` calls at the start and end of training, of each epoch
and of each batch, and that ``evaluate`` and ``predict`` call around their batches
(Keras's protocol and hook names), and the plain ones that come with cartoonbrain.

``fit`` itself adds two: :class:`History` (what it returns) and :class:`ProgressBar` (the
progress bar and the line per epoch of ``verbose``). Those that watch a quantity
(EarlyStopping, ReduceLROnPlateau, ModelCheckpoint) share :class:`~.monitor.Monitor`.
A callback that a config may name is registered beside its class
(``@register_callback``, into :data:`CALLBACKS`) and rebuilt by :func:`get_callback`.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .._registry import claim
from .._validation import known_options

if TYPE_CHECKING:
    from ..network.network import Network

Array = NDArray[Any]

__all__ = [
    "CALLBACKS",
    "Callback",
    "History",
    "LambdaCallback",
    "ProgressBar",
    "TerminateOnNaN",
    "attach",
    "call_hooks",
    "get_callback",
    "register_callback",
]

#: Keras's hooks, by the phase they belong to
HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class Callback:
    """Hooks called by :func:`~cartoonbrain.train.fit` (``on_train_*``, ``on_epoch_*``,
    ``on_train_batch_*``), by ``evaluate`` (``on_test_*``) and by ``predict``
    (``on_predict_*``), with Keras's names and arguments. ``logs`` holds the epoch's loss,
    metrics and ``val_*`` (at the end of an epoch) or the batch's ``loss`` (at the end of
    a training batch). ``on_batch_begin``/``on_batch_end`` are Keras's older names of the
    training batch's hooks: the ``on_train_batch_*`` hooks call them. ``self.network``
    (also ``self.model``, as in Keras) is the network trained.
    """

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

    def on_train_batch_begin(self, batch: int, logs: dict[str, float]) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs: dict[str, float]) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict[str, float]) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict[str, float]) -> None: ...
    def on_test_end(self, logs: dict[str, float]) -> None: ...
    def on_predict_begin(self, logs: dict[str, float]) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict[str, float]) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict[str, float]) -> None: ...
    def on_predict_end(self, logs: dict[str, float]) -> None: ...

    def get_config(self) -> dict[str, Any]:
        """The callback as JSON data, ``{"name": ..., <constructor arguments>}``, that
        :func:`get_callback` rebuilds (for a registered callback whose arguments are kept
        as attributes of the same names)."""
        arguments = inspect.signature(type(self)).parameters
        return {"name": type(self).__name__, **{key: getattr(self, key) for key in arguments}}

    @classmethod
    def example(cls, folder: str) -> Callback:
        """A small instance writing any file into ``folder``, for the contract suite
        (tests/test_contract.py); every registered callback has one."""
        raise NotImplementedError(f"{cls.__name__} has no example() for the contract suite")

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps of this callback, so that a resumed ``fit`` goes on where
        it stopped: numbers and arrays by name (none by default)."""
        return {}

    def load_state_dict(self, state: dict[str, Array]) -> None:
        """Take back a :meth:`state_dict` from a checkpoint (as NumPy arrays; called by
        ``fit(resume=True)`` after ``on_train_begin``)."""

    #: set to True from a hook to stop after the current batch or epoch
    stop_training = False


#: the callbacks a config may name, by class name (Keras's names)
CALLBACKS: dict[str, type[Callback]] = {}

Callback_ = TypeVar("Callback_", bound=type[Callback])


def register_callback(cls: Callback_) -> Callback_:
    """Class decorator: make the callback ``cls`` buildable by its class name from a
    config (:func:`get_callback`). Callbacks given as objects to ``fit`` need no
    registration. Raises ValueError when ``cls`` is not a Callback, or when another class
    holds its name."""
    if not (isinstance(cls, type) and issubclass(cls, Callback)):
        raise ValueError(f"register_callback takes a subclass of Callback; got {cls!r}")
    return claim(CALLBACKS, cls.__name__, cls, "callback")


def get_callback(spec: str | dict[str, Any] | Callback, **overrides: Any) -> Callback:
    """A callback from its name (``"EarlyStopping"`` plus keyword arguments), a config
    dict from :meth:`Callback.get_config`, or a :class:`Callback` passed through."""
    if isinstance(spec, Callback) and not overrides:
        return spec
    config = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = config.pop("name", None)
    if not (isinstance(name, str) and name in CALLBACKS):
        raise ValueError(f"unknown callback {name!r}; expected one of {', '.join(CALLBACKS)}")
    cls = CALLBACKS[name]
    return cls(**known_options(cls, {**config, **overrides}, f"callback {name!r}"))


def attach(net: Network, callbacks: Iterable[Callback]) -> list[Callback]:
    """The callbacks as a list, each checked and given the network (``callback.model``)."""
    callbacks = list(callbacks)
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ValueError(f"callbacks must be Callback objects; got {callback!r}")
        callback.network = net
    return callbacks


def call_hooks(callbacks: Iterable[Callback], hook: str, *arguments: Any) -> None:
    """``callback.<hook>(*arguments)`` for each callback, in order (the loops' one way of
    calling a hook by name)."""
    for callback in callbacks:
        getattr(callback, hook)(*arguments)


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda e, logs: ...)``,
    for any of Keras's hook names (:data:`HOOKS`). A name that is no hook is refused (Keras
    keeps it as an attribute that nothing calls: a misspelt hook would never run)."""

    def __init__(self, **hooks: Callable[..., None]) -> None:
        for name, hook in hooks.items():
            if name not in HOOKS:
                raise ValueError(
                    f"unknown callback hook {name!r}; expected one of {', '.join(HOOKS)}"
                )
            if not callable(hook):
                raise ValueError(f"LambdaCallback's {name} must be a function; got {hook!r}")
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


@register_callback
class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite (Keras's ``TerminateOnNaN``);
    the weights of the last finite step are kept, and the epoch is recorded with its
    non-finite loss (History, CSVLogger and the other callbacks see it).

    Parameters
    ----------
    raise_error : bool, default False
        Raise RuntimeError at that batch instead of stopping quietly, as Keras does:
        ``on_train_end`` is not called and the weights are those the non-finite loss was
        computed at (the step of that batch is not applied).
    """

    def __init__(self, raise_error: bool = False) -> None:
        if not isinstance(raise_error, (bool, np.bool_)):
            raise ValueError(f"raise_error must be True or False; got {raise_error!r}")
        self.raise_error = bool(raise_error)
        self.epoch = 0

    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.stop_training, self.epoch = False, 0

    @classmethod
    def example(cls, folder: str) -> TerminateOnNaN:
        return cls(raise_error=True)

    def on_epoch_begin(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        loss = logs.get("loss", 0.0)
        if math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch} of epoch {self.epoch + 1} "
                f"(loss {loss}); TerminateOnNaN(raise_error=True) stopped training"
            )
        self.stop_training = True
