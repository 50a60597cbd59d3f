"""One page's training: a real ``cb.Network`` trained by ``fit`` in a worker thread.

The worker runs ``net.fit`` on the page's data for up to :data:`MAX_EPOCHS` epochs with
two callbacks: a :class:`~cartoonbrain.diagnostics.TrainingMonitor` (the same records the
report diagnoses) and :class:`_Driver`, which holds the loop still while the page is
paused, lets one epoch through for Step, and publishes a frame (:mod:`.frames`) at most
:data:`FPS` times a second (and for at most half the worker's time), at the end of a
batch. The findings of :func:`cartoonbrain.diagnostics.diagnose` are refreshed every
:data:`DIAGNOSE_EVERY` seconds (less often once they cost more than a tenth of the time),
at the end of an epoch and when the page pauses, and go out with the frames. Page
threads only set flags and read the latest frame (:meth:`Session.wait_frame`); the
network itself is touched by the worker alone, and an export is built from the weights
of the last frame sent, so the exported model predicts exactly what the page showed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from ..diagnostics import TrainingMonitor, diagnose
from ..layers import Dense, Dropout
from ..network import Network
from ..train import Callback, TrainingDiverged
from . import datasets, frames
from .features import transform
from .settings import Settings

__all__ = ["DIAGNOSE_EVERY", "FPS", "MAX_EPOCHS", "Session", "build_network", "warm_up"]

#: frames a second at most; findings refreshed this often (seconds); the epochs of one run
FPS, DIAGNOSE_EVERY, MAX_EPOCHS = 30, 1.0, 100_000


def build_network(settings: Settings) -> Network:
    """The page's network: Dense(n_in, h, f) (+ Dropout) per hidden layer, then
    Dense(h, 1) giving the logit of class 1, trained with binary cross-entropy."""
    layers: list[Any] = []
    n_in = len(settings.features)
    for units in settings.hidden:
        layers.append(Dense(n_in, units, activation=settings.activation))
        if settings.dropout:
            layers.append(Dropout(settings.dropout))
        n_in = units
    layers.append(Dense(n_in, 1))
    metadata = {"playground": {**settings.as_dict(), "inputs": "features"}}
    return Network(
        layers,
        loss="binary_cross_entropy",
        seed=settings.seed,
        dtype="float64",
        l2=settings.l2,
        metadata=metadata,
    )


def warm_up() -> None:
    """Train the default network for one epoch on a few points, so that the accelerator's
    kernels are compiled before a page asks (numba's first binary cross-entropy took 3.4 s
    of a loaded 2-core machine; later steps take microseconds)."""
    settings = Settings()
    x, t = datasets.make(settings.dataset, 20, 0.0, 0)
    net = build_network(settings)
    net.fit(transform(x, settings.features), t, epochs=1, batch_size=10, optimizer="sgd")


class _Stopped(Exception):
    """Raised inside ``fit`` by the driver to end the run at once (reset, page gone, exit)."""


class _Driver(Callback):
    """Pause, step and publish frames from inside ``fit`` (see the module)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.last_diagnosis = self.diagnosis_cost = 0.0

    def on_train_begin(self, logs: dict[str, float]) -> None:
        self.session._publish(self.network, epoch=0, force=True)

    def on_batch_begin(self, batch: int, logs: dict[str, float]) -> None:
        s = self.session
        if not s._playing and s._steps > 0:  # pausing: the findings and weights of now
            s._diagnose()
            s._publish(self.network, epoch=s._epoch, force=True)
        s._wait_for_play()

    def on_batch_end(self, batch: int, logs: dict[str, float]) -> None:
        self.session._steps += 1
        self.session._publish(self.network, epoch=self.session._epoch)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        s = self.session
        s._epoch = epoch + 1
        now = time.perf_counter()
        # the records grow with the run (77 ms to diagnose 3,200 epochs): at most a tenth
        # of the worker's time goes to the diagnostics
        if now - self.last_diagnosis >= max(DIAGNOSE_EVERY, 10 * self.diagnosis_cost):
            s._diagnose()
            self.last_diagnosis = time.perf_counter()
            self.diagnosis_cost = self.last_diagnosis - now
        if s._end_of_step():
            s._publish(self.network, epoch=s._epoch, force=True)


class Session:
    """The training behind one page: start paused, then play, pause, step, stop.

    Parameters
    ----------
    settings : what to train (checked already, :func:`.settings.parse`)
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: the page's number for this training (set by the server), sent with each frame
        self.run = 0
        x, t = datasets.make(settings.dataset, settings.n_points, settings.noise, settings.seed)
        self.data = datasets.split(x, t, settings.train_share)
        self.grid = frames.grid_points()
        self._changed = threading.Condition()
        self._playing = self._stopping = False
        self._step_to: int | None = None  # Step: pause again when this epoch is reached
        self._epoch = self._steps = 0
        self._frame: dict[str, Any] | None = None
        self._sequence = 0
        self._last_sent = self._frame_cost = 0.0
        self._snapshot: np.ndarray | None = None
        self._findings: list[dict[str, Any]] = []
        self._error: str | None = None
        # about one sample of the layers an epoch: the records a long run keeps stay small
        batches = -(-len(self.data[0]) // settings.batch_size)
        self._monitor = TrainingMonitor(every=max(10, batches), targets=self.data[1])
        self.network = build_network(settings)
        self._thread = threading.Thread(target=self._train, name="playground-training", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the page's side
    def play(self) -> None:
        with self._changed:
            self._playing, self._step_to = True, None
            self._changed.notify_all()

    def pause(self) -> None:
        with self._changed:
            self._playing = False
            self._changed.notify_all()

    def step(self) -> None:
        """Train one epoch, then pause."""
        with self._changed:
            self._playing, self._step_to = True, self._epoch + 1
            self._changed.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        """End the training and wait for its thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join(timeout)

    @property
    def epoch(self) -> int:
        """The epochs trained so far."""
        return self._epoch

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def wait_frame(self, after: int, timeout: float) -> tuple[int, dict[str, Any] | None]:
        """The newest frame once its number passes ``after`` (or ``timeout`` seconds)."""
        with self._changed:
            self._changed.wait_for(lambda: self._sequence > after or self._stopping, timeout)
            return self._sequence, self._frame

    def exported_network(self) -> Network:
        """A copy of the network with the weights of the last frame sent."""
        with self._changed:
            snapshot = self._snapshot
        net = Network.from_config(self.network.get_config(), initialize=False)
        if snapshot is not None:
            np.copyto(net.flat_parameters, snapshot)
        return net

    # ------------------------------------------------------------------ the worker's side
    def _train(self) -> None:
        x_train, t_train, x_test, t_test = self.data
        s = self.settings
        features = list(s.features)
        X, X_test = transform(x_train, features), transform(x_test, features)
        try:
            self.network.fit(
                X,
                t_train,
                epochs=MAX_EPOCHS,
                batch_size=s.batch_size,
                optimizer=s.optimizer,
                learning_rate=s.learning_rate,
                validation_data=(X_test, t_test) if len(X_test) else None,
                metrics=[],
                callbacks=[self._monitor, _Driver(self)],
            )
        except _Stopped:
            return
        except TrainingDiverged as exc:
            self._error = str(exc).splitlines()[0]
            self._diagnose(exc)
        with self._changed:
            self._playing = False
        self._publish(self.network, epoch=self._epoch, force=True)

    def _wait_for_play(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._playing or self._stopping)
            if self._stopping:
                raise _Stopped

    def _end_of_step(self) -> bool:
        """At the end of an epoch: True when a Step has just finished (now paused)."""
        with self._changed:
            if self._step_to is not None and self._epoch >= self._step_to:
                self._playing, self._step_to = False, None
                return True
        return False

    def _diagnose(self, error: BaseException | None = None) -> None:
        findings = diagnose(self._monitor, error=error)
        self._findings = [
            {"kind": f.kind, "layer": f.layer, "message": f.message, "suggestion": f.suggestion}
            for f in findings
        ]

    def _publish(self, net: Network, epoch: int, force: bool = False) -> None:
        now = time.perf_counter()
        # at most FPS frames a second, and never more than half the worker's time
        if not force and now - self._last_sent < max(1.0 / FPS, 2 * self._frame_cost):
            return
        self._last_sent = now
        dense = [layer for layer in net.layers if isinstance(layer, Dense)]
        with np.errstate(over="ignore", invalid="ignore"):
            content = frames.frame(dense, self.settings.features, self.data, self.grid)
        content.update(
            epoch=epoch,
            steps=self._steps,
            playing=self._playing,
            findings=self._findings,
            error=self._error,
        )
        snapshot = net.flat_parameters.copy()
        self._frame_cost = time.perf_counter() - now
        with self._changed:
            self._frame, self._snapshot = content, snapshot
            self._sequence += 1
            self._changed.notify_all()

    def describe(self) -> dict[str, Any]:
        """The settings and the data's points, for the page to draw once."""
        x_train, t_train, x_test, t_test = self.data
        return {
            "settings": self.settings.as_dict(),
            "train": np.round(np.column_stack([x_train, t_train]), 3).tolist(),
            "test": np.round(np.column_stack([x_test, t_test]), 3).tolist(),
            "grid": frames.GRID,
            "unit_stride": frames.UNIT_STRIDE,
        }
