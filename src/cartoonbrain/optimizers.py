"""Optimizers: turn the gradients ∇W from backpropagation into parameter updates.

The post's plain update is gradient descent, ``W ← W − lr ∇W``. Each optimizer below
writes its own rule in its docstring, with ``w`` a parameter, ``g`` its gradient, ``lr``
the learning rate and ``λ`` the weight decay; the formulations follow PyTorch's
``torch.optim`` so that results can be compared with it.

The network hands :meth:`Optimizer.step` its parameters and gradients as aligned lists of
arrays (usually a single flat buffer each). Every update is done in place, vectorised, in
the parameters' own float type: state buffers are allocated once, on the first step, and
scalars are Python floats, so float32 parameters never meet a float64 temporary. With the
accelerator (``pip install "cartoonbrain[fast]"``, :mod:`cartoonbrain._kernels`), each
update is one compiled pass over the arrays instead of a dozen NumPy calls; it makes the
same operations in the same order, so it gives the same bits.

A learning rate is a float or a :class:`~cartoonbrain.schedules.Schedule`, a function of
the step count ``t`` (counted from 0), from :mod:`cartoonbrain.schedules` (re-exported
here): :class:`StepDecay`, :class:`ExponentialDecay`, :class:`CosineDecay`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from . import _kernels
from ._registry import claim
from ._validation import fraction as _fraction
from ._validation import known_options as _options
from ._validation import non_negative as _non_negative
from ._validation import positive as _positive
from .schedules import (
    SCHEDULES,
    Constant,
    CosineDecay,
    ExponentialDecay,
    Schedule,
    StepDecay,
    get_schedule,
)

Array = NDArray[np.floating]

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "Adam",
    "AdamW",
    "Constant",
    "CosineDecay",
    "ExponentialDecay",
    "Optimizer",
    "RMSprop",
    "Schedule",
    "StepDecay",
    "clip_by_global_norm",
    "get_optimizer",
    "get_schedule",
    "register_optimizer",
]


# ---------------------------------------------------------------- gradient clipping
def clip_by_global_norm(grads: list[Array], max_norm: float) -> float:
    """Scale all gradients together so that their global norm is at most ``max_norm``.

        n = √(Σ_arrays Σ g²)      if n > max_norm:  g ← g · max_norm / n   (every array)

    As PyTorch's ``clip_grad_norm_`` (without its ``1e-6`` in the denominator). The sum of
    squares is accumulated in float64; the arrays are scaled in place and keep their
    dtype. A non-finite norm is returned as it is and the gradients are left unchanged.

    Parameters
    ----------
    grads : list of ndarray
        The gradients, modified in place.
    max_norm : float
        The largest global norm allowed, > 0.

    Returns
    -------
    float
        The global norm ``n`` before clipping.
    """
    max_norm = _positive("max_norm", max_norm)
    total = 0.0
    for g in grads:
        flat = g.reshape(-1)
        if flat.dtype == np.float64:
            total += float(np.dot(flat, flat))
        else:  # accumulate in float64 through einsum's buffered cast, no full-size copy
            total += float(np.einsum("i,i->", flat, flat, dtype=np.float64))
    norm = math.sqrt(total)
    if math.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm
        for g in grads:
            g *= scale
    return norm


# ---------------------------------------------------------------- optimizers
class Optimizer:
    """The common part of every optimizer: checks, clipping, the step count, the state.

    A subclass names its state buffers in :attr:`buffer_names` (one buffer per parameter
    array, e.g. Adam's ``m`` and ``v``) and writes the update rule in ``_update``.

    Attributes
    ----------
    learning_rate : float or Schedule
    iterations : int
        The number of :meth:`step` calls so far.
    """

    name = "optimizer"
    buffer_names: tuple[str, ...] = ()
    coupled_weight_decay = True  # d = g + λw; AdamW decays w itself instead

    def __init__(
        self,
        learning_rate: float | Schedule,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        if not isinstance(learning_rate, Schedule):
            learning_rate = _positive("learning_rate", learning_rate)
        self.learning_rate: float | Schedule = learning_rate
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.clip_norm = None if clip_norm is None else _positive("clip_norm", clip_norm)
        self.iterations = 0
        self._state: dict[str, list[Array]] = {}  # buffer name -> one array per parameter
        self._work: list[Array] = []  # scratch space, not part of the state
        self._decayed: list[Array] = []  # g + λw, for coupled weight decay

    def current_learning_rate(self) -> float:
        """The rate the next :meth:`step` will use: the schedule at :attr:`iterations`."""
        if isinstance(self.learning_rate, Schedule):
            return float(self.learning_rate(self.iterations))
        return self.learning_rate

    def step(
        self, params: list[Array], grads: list[Array], keep: list[Array] | None = None
    ) -> None:
        """Update every ``params[i]`` in place from ``grads[i]``.

        When ``clip_norm`` is set, the gradients are first clipped by their global norm
        (see :func:`clip_by_global_norm`): ``grads`` is then scaled in place. Otherwise
        ``grads`` is left untouched.

        Parameters
        ----------
        params : list of ndarray
            Floating-point arrays, updated in place.
        grads : list of ndarray
            Their gradients: same length, shapes and dtypes.
        keep : list of ndarray, optional
            Arrays like ``params`` that receive each parameter as it was before the update
            (``fit`` keeps the last good weights so): with the accelerator, in the
            update's own pass over the arrays.
        """
        self._check(params, grads)
        if keep is not None:
            self._check(params, keep)
        if self.clip_norm is not None:
            clip_by_global_norm(grads, self.clip_norm)
        if len(self._work) != len(params):
            self._allocate(params)
        learning_rate = self.current_learning_rate()
        for i, (w, g) in enumerate(zip(params, grads, strict=True)):
            if keep is None:
                self._update(i, w, g, learning_rate)
            elif not self._update_keeping(i, w, g, learning_rate, keep[i]):
                np.copyto(keep[i], w)
                self._update(i, w, g, learning_rate)
        self.iterations += 1

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        raise NotImplementedError

    def _update_keeping(
        self, i: int, w: Array, g: Array, learning_rate: float, keep: Array
    ) -> bool:
        """:meth:`_update` that also copies ``w`` as it was into ``keep``, in one pass,
        where an optimizer can (its compiled kernel); False when it cannot (``step`` then
        copies first)."""
        return False

    def _check(self, params: list[Array], grads: list[Array]) -> None:
        if len(params) != len(grads):
            raise ValueError(f"got {len(params)} parameter arrays but {len(grads)} gradients")
        for i, (w, g) in enumerate(zip(params, grads, strict=True)):
            if not (isinstance(w, np.ndarray) and w.dtype.kind == "f"):
                kind = getattr(w, "dtype", type(w).__name__)
                raise ValueError(f"params[{i}] must be a floating-point ndarray; got {kind}")
            if not isinstance(g, np.ndarray) or g.shape != w.shape or g.dtype != w.dtype:
                raise ValueError(
                    f"grads[{i}] must match params[{i}] (shape {w.shape}, dtype {w.dtype}); "
                    f"got shape {getattr(g, 'shape', None)}, dtype {getattr(g, 'dtype', None)}"
                )
        for name, buffers in self._state.items():
            if len(buffers) != len(params):
                raise ValueError(
                    f"the optimizer holds state for {len(buffers)} parameter arrays "
                    f"but step() got {len(params)}"
                )
            for i, (w, buffer) in enumerate(zip(params, buffers, strict=True)):
                if buffer.shape != w.shape or buffer.dtype != w.dtype:
                    raise ValueError(
                        f"state {name}.{i} has shape {buffer.shape}, dtype {buffer.dtype} "
                        f"but params[{i}] has shape {w.shape}, dtype {w.dtype}"
                    )

    def _allocate(self, params: list[Array]) -> None:
        """Zero state buffers (unless loaded) and scratch space, each in its parameter's dtype."""
        if not self._state:
            self._state = {name: [np.zeros_like(w) for w in params] for name in self.buffer_names}
        self._work = [np.empty_like(w) for w in params]
        coupled = self.weight_decay > 0 and self.coupled_weight_decay
        self._decayed = [np.empty_like(w) for w in params] if coupled else []

    def _gradient(self, i: int, w: Array, g: Array) -> Array:
        """g + λ w (coupled, L2 weight decay), or g itself when λ = 0."""
        if not self._decayed:
            return g
        d = np.multiply(w, self.weight_decay, out=self._decayed[i])
        d += g
        return d

    def get_config(self) -> dict[str, Any]:
        """The optimizer as a JSON-able dict: ``{"name": ..., <constructor arguments>}``,
        with a schedule given as its own config dict."""
        config: dict[str, Any] = {"name": self.name}
        for key in inspect.signature(type(self)).parameters:
            value = getattr(self, key)
            config[key] = value.get_config() if isinstance(value, Schedule) else value
        return config

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of everything a resumed run needs: ``"iterations"`` (0-d int64) and each
        state buffer as ``"<buffer>.<index>"``, e.g. ``"m.0"``, ``"v.0"``."""
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        for name, buffers in self._state.items():
            for i, buffer in enumerate(buffers):
                state[f"{name}.{i}"] = buffer.copy()
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore a :meth:`state_dict` (copying its arrays), checking names and shapes."""
        state = dict(state)
        iterations = np.asarray(state.pop("iterations", None))
        if iterations.shape != () or iterations.dtype.kind not in "iu" or iterations < 0:
            raise ValueError(f"state['iterations'] must be a 0-d integer >= 0; got {iterations!r}")
        n_params = len(state) // len(self.buffer_names) if self.buffer_names else 0
        expected = {f"{name}.{i}" for name in self.buffer_names for i in range(n_params)}
        if set(state) != expected:
            raise ValueError(
                f"{self.name} state must hold 'iterations' and "
                f"{', '.join(f'{name}.<i>' for name in self.buffer_names) or 'nothing else'} "
                f"for every parameter index i; got {sorted(state)}"
            )
        if n_params == 0 and self.buffer_names and iterations > 0:
            raise ValueError(f"state has iterations={int(iterations)} but no buffers")
        loaded = {
            name: [np.array(state[f"{name}.{i}"], copy=True) for i in range(n_params)]
            for name in self.buffer_names
        }
        for name, buffers in loaded.items():
            for i, buffer in enumerate(buffers):
                first = loaded[self.buffer_names[0]][i]
                if buffer.dtype.kind != "f" or buffer.shape != first.shape:
                    raise ValueError(
                        f"state {name}.{i} must be a float array of shape {first.shape} "
                        f"(as {self.buffer_names[0]}.{i}); got {buffer.dtype} {buffer.shape}"
                    )
        self._state = loaded if n_params else {}
        self._work, self._decayed = [], []
        self.iterations = int(iterations)

    def __repr__(self) -> str:
        config = self.get_config()
        del config["name"]
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in config.items())})"


#: The optimizers that ``fit``, configs, checkpoints and model files can name, by
#: :attr:`Optimizer.name`: filled by :func:`register_optimizer` where each is declared.
OPTIMIZERS: dict[str, type[Optimizer]] = {}

Optimizer_ = TypeVar("Optimizer_", bound=type[Optimizer])


def register_optimizer(cls: Optimizer_) -> Optimizer_:
    """Class decorator: make the optimizer ``cls`` usable by its :attr:`~Optimizer.name`,
    in ``fit(optimizer=...)``, :func:`get_optimizer`, checkpoints and model files.

    The name is lower case (``get_optimizer`` looks names up lower-cased). Raises
    ValueError when ``cls`` is not an Optimizer with a name of its own, or when another
    class already holds that name (a new optimizer may not replace a built-in silently).
    """
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        raise ValueError(f"register_optimizer takes a subclass of Optimizer; got {cls!r}")
    name = cls.name
    if not isinstance(name, str) or not name or name == Optimizer.name or name != name.lower():
        raise ValueError(
            f"{cls.__qualname__} needs a lower-case name of its own (name = '...'); got {name!r}"
        )
    return claim(OPTIMIZERS, name, cls, "optimizer")


#: An update makes a dozen passes over its arrays; past this many elements it goes block by
#: block, so that the passes run in cache instead of memory: for job B's 1.86 M parameters
#: an Adam step inside fit takes 3.2-3.3 ms instead of 3.9-4.0 ms (measured; the scratch
#: space is one block, reused). Each element sees the same operations: the same bits.
_BLOCK = 1 << 18


def _blocks(*arrays: Array) -> Iterator[tuple[Array, ...]]:
    """Aligned flat blocks of at most ``_BLOCK`` elements of same-shaped arrays (or the
    arrays themselves when they are small or not all C-contiguous)."""
    n = arrays[0].size
    if n <= _BLOCK or not all(a.flags.c_contiguous for a in arrays):
        yield arrays
        return
    flats = [a.reshape(-1) for a in arrays]
    for start in range(0, n, _BLOCK):
        yield tuple(f[start : start + _BLOCK] for f in flats)


def _rounded(scalars: tuple[float, ...], w: Array) -> list[np.floating]:
    """The scalars in ``w``'s float type, for a compiled update: NumPy rounds a Python
    float to the array's type when they meet (``w * 0.9``), so the kernels must too."""
    return [w.dtype.type(x) for x in scalars]


def _subtract_scaled(w: Array, x: Array, scale: float, work: Array) -> None:
    """w ← w − scale · x, through ``work`` (which may be ``x`` itself)."""
    np.multiply(x, scale, out=work)
    np.subtract(w, work, out=w)


@register_optimizer
class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (PyTorch's formulation).

        d ← g + λ w                      (weight_decay λ: coupled L2)
        v ← μ v + d                      (momentum μ > 0; v starts at 0, so v₁ = d)
        w ← w − lr d                     (μ = 0)
        w ← w − lr v                     (μ > 0)
        w ← w − lr (d + μ v)             (nesterov)

    State: ``velocity.<i>`` when momentum > 0.
    """

    name = "sgd"

    def __init__(
        self,
        learning_rate: float | Schedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clip_norm)
        self.momentum = _fraction("momentum", momentum)
        if nesterov and self.momentum == 0:
            raise ValueError(f"nesterov=True needs momentum > 0; got momentum={momentum!r}")
        self.nesterov = bool(nesterov)
        self.buffer_names = ("velocity",) if self.momentum > 0 else ()

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        if self._fused(i, w, g, learning_rate):
            return
        work = self._work[i]
        d = self._gradient(i, w, g)
        if not self.momentum:
            _subtract_scaled(w, d, learning_rate, work)
            return
        v = self._state["velocity"][i]
        v *= self.momentum
        v += d
        if not self.nesterov:
            _subtract_scaled(w, v, learning_rate, work)
            return
        _subtract_scaled(w, d, learning_rate, work)
        _subtract_scaled(w, v, learning_rate * self.momentum, work)

    def _update_keeping(
        self, i: int, w: Array, g: Array, learning_rate: float, keep: Array
    ) -> bool:
        return self._fused(i, w, g, learning_rate, keep)

    def _fused(
        self, i: int, w: Array, g: Array, learning_rate: float, keep: Array | None = None
    ) -> bool:
        """The same update as one compiled pass (the accelerator's), if it can take it."""
        kernel = _kernels.get("sgd")
        velocity = self._state["velocity"][i] if self.momentum else w
        into = w if keep is None else keep
        if kernel is None or not _kernels.fits(w, g, velocity, into):
            return False
        scalars = (learning_rate, self.weight_decay, self.momentum, learning_rate * self.momentum)
        flags = (bool(self._decayed), self.nesterov, keep is not None)
        kernel(w, g, velocity, into, *_rounded(scalars, w), *flags)
        return True


@register_optimizer
class RMSprop(Optimizer):
    """Divide each gradient by a running root mean square of its recent values.

        d ← g + λ w                      (weight_decay λ: coupled L2)
        s ← ρ s + (1 − ρ) d²
        w ← w − lr d / (√s + ε)          (momentum μ = 0)
        b ← μ b + d / (√s + ε);  w ← w − lr b     (μ > 0)

    State: ``square_average.<i>``, and ``momentum_buffer.<i>`` when momentum > 0.
    """

    name = "rmsprop"

    def __init__(
        self,
        learning_rate: float | Schedule = 0.001,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clip_norm)
        self.rho = _fraction("rho", rho)
        self.epsilon = _positive("epsilon", epsilon)
        self.momentum = _fraction("momentum", momentum)
        names = ("square_average", "momentum_buffer")
        self.buffer_names = names if self.momentum > 0 else names[:1]

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        if self._fused(i, w, g, learning_rate):
            return
        work = self._work[i]
        d = self._gradient(i, w, g)
        s = self._state["square_average"][i]
        np.multiply(d, d, out=work)
        work *= 1.0 - self.rho
        s *= self.rho
        s += work  # s ← ρ s + (1 − ρ) d²
        np.sqrt(s, out=work)
        work += self.epsilon
        np.divide(d, work, out=work)  # d / (√s + ε)
        if not self.momentum:
            _subtract_scaled(w, work, learning_rate, work)
            return
        b = self._state["momentum_buffer"][i]
        b *= self.momentum
        b += work
        _subtract_scaled(w, b, learning_rate, work)

    def _update_keeping(
        self, i: int, w: Array, g: Array, learning_rate: float, keep: Array
    ) -> bool:
        return self._fused(i, w, g, learning_rate, keep)

    def _fused(
        self, i: int, w: Array, g: Array, learning_rate: float, keep: Array | None = None
    ) -> bool:
        """The same update as one compiled pass (the accelerator's), if it can take it."""
        kernel = _kernels.get("rmsprop")
        s = self._state["square_average"][i]
        b = self._state["momentum_buffer"][i] if self.momentum else s
        into = w if keep is None else keep
        if kernel is None or not _kernels.fits(w, g, s, b, into):
            return False
        rho, decay = self.rho, self.weight_decay
        scalars = (learning_rate, decay, rho, 1.0 - rho, self.epsilon, self.momentum)
        kernel(w, g, s, b, into, *_rounded(scalars, w), bool(self._decayed), keep is not None)
        return True


@register_optimizer
class Adam(Optimizer):
    """Adaptive moment estimation (PyTorch's Adam; weight decay is coupled L2).

        t ← t + 1;   d ← g + λ w
        m ← β₁ m + (1 − β₁) d           v ← β₂ v + (1 − β₂) d²
        m̂ = m / (1 − β₁ᵗ)               v̂ = v / (1 − β₂ᵗ)
        w ← w − lr m̂ / (√v̂ + ε)

    computed as ``w ← w − (lr √(1 − β₂ᵗ) / (1 − β₁ᵗ)) · m / (√v + ε √(1 − β₂ᵗ))``, the
    same value with fewer passes over the arrays. ``t`` is :attr:`iterations` + 1.

    State: ``m.<i>`` and ``v.<i>``.
    """

    name = "adam"
    buffer_names = ("m", "v")

    def __init__(
        self,
        learning_rate: float | Schedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, weight_decay, clip_norm)
        self.beta_1 = _fraction("beta_1", beta_1)
        self.beta_2 = _fraction("beta_2", beta_2)
        self.epsilon = _positive("epsilon", epsilon)

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        if not self._fused(i, w, g, learning_rate, None):
            self._adam(i, w, self._gradient(i, w, g), learning_rate)

    def _update_keeping(
        self, i: int, w: Array, g: Array, learning_rate: float, keep: Array
    ) -> bool:
        return self._fused(i, w, g, learning_rate, self._shrink(learning_rate), keep)

    def _shrink(self, learning_rate: float) -> float | None:
        """1 − lr λ for decoupled weight decay (AdamW), else None."""
        return None

    def _scales(self, learning_rate: float) -> tuple[float, float]:
        """ε √c₂ and lr √c₂ / c₁, with cᵢ = 1 − βᵢᵗ: lr m̂ / (√v̂ + ε) = step · m / (√v + ε √c₂)."""
        t = self.iterations + 1
        root_c2 = math.sqrt(1.0 - self.beta_2**t)
        return self.epsilon * root_c2, learning_rate * root_c2 / (1.0 - self.beta_1**t)

    def _adam(self, i: int, w: Array, d: Array, learning_rate: float) -> None:
        b1, b2 = self.beta_1, self.beta_2
        eps, step = self._scales(learning_rate)
        blocks = list(_blocks(w, d, self._state["m"][i], self._state["v"][i]))
        # one block's worth of scratch space, the same for every block: it stays in cache
        scratch = self._work[i] if len(blocks) == 1 else self._work[i].reshape(-1)
        for w_block, d_block, m, v in blocks:
            work = scratch if len(blocks) == 1 else scratch[: m.size]
            np.multiply(d_block, 1.0 - b1, out=work)
            m *= b1
            m += work  # m ← β₁ m + (1 − β₁) d
            np.multiply(d_block, d_block, out=work)
            work *= 1.0 - b2
            v *= b2
            v += work  # v ← β₂ v + (1 − β₂) d²
            np.sqrt(v, out=work)
            work += eps
            np.divide(m, work, out=work)
            _subtract_scaled(w_block, work, step, work)

    def _fused(
        self,
        i: int,
        w: Array,
        g: Array,
        learning_rate: float,
        shrink: float | None,
        keep: Array | None = None,
    ) -> bool:
        """The update as one compiled pass (the accelerator's), if it can take the arrays:
        d = g (+ λ w), then, for AdamW (``shrink`` = 1 − lr λ), w ← shrink · w, then Adam."""
        kernel = _kernels.get("adam")
        m, v = self._state["m"][i], self._state["v"][i]
        into = w if keep is None else keep
        if kernel is None or not _kernels.fits(w, g, m, v, into):
            return False
        eps, step = self._scales(learning_rate)
        b1, b2, stretch = self.beta_1, self.beta_2, 1.0 if shrink is None else shrink
        scalars = (self.weight_decay, stretch, b1, 1.0 - b1, b2, 1.0 - b2, eps, step)
        flags = (bool(self._decayed), shrink is not None, keep is not None)
        kernel(w, g, m, v, into, *_rounded(scalars, w), *flags)
        return True


@register_optimizer
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter; PyTorch's AdamW).

        w ← w (1 − lr λ)
        then the Adam step with d = g (no λ w term): see :class:`Adam`.

    State: ``m.<i>`` and ``v.<i>``.
    """

    name = "adamw"
    coupled_weight_decay = False

    def __init__(
        self,
        learning_rate: float | Schedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
        clip_norm: float | None = None,
    ) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, clip_norm)

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        shrink = self._shrink(learning_rate)
        if self._fused(i, w, g, learning_rate, shrink):
            return
        if shrink is not None:
            w *= shrink
        self._adam(i, w, g, learning_rate)

    def _shrink(self, learning_rate: float) -> float | None:
        return 1.0 - learning_rate * self.weight_decay if self.weight_decay else None


def get_optimizer(spec: str | Optimizer | dict[str, Any], **overrides: Any) -> Optimizer:
    """Build an optimizer from a name (``"adam"``) and keyword arguments, or from a config
    dict from :meth:`Optimizer.get_config` (its ``learning_rate`` may be a schedule config);
    ``overrides`` replace entries of the config. An :class:`Optimizer` is passed through
    (overrides are refused for it, since rebuilding would drop its state)."""
    if isinstance(spec, Optimizer):
        if overrides:
            raise ValueError(
                f"cannot apply {sorted(overrides)} to an existing optimizer; pass a name or "
                f"a config dict instead"
            )
        return spec
    config = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = config.pop("name", None)
    if not (isinstance(name, str) and name.lower() in OPTIMIZERS):
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    cls = OPTIMIZERS[name.lower()]
    options = _options(cls, {**config, **overrides}, f"optimizer {name!r}")
    if isinstance(options.get("learning_rate"), (dict, str)):
        options["learning_rate"] = get_schedule(options["learning_rate"])
    return cls(**options)
