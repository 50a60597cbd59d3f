"""The common part of every optimizer (:class:`Optimizer`), its registry (``OPTIMIZERS``,
:func:`register_optimizer`, :func:`get_optimizer`) and the helpers the updates share.

The network hands :meth:`Optimizer.step` its parameters and gradients as aligned lists of
arrays (usually a single flat buffer each). Every update is done in place, vectorised, in
the parameters' own float type: state buffers are allocated once, on the first step, and
scalars are Python floats, so float32 parameters never meet a float64 temporary. With the
accelerator (``pip install "cartoonbrain[fast]"``, :mod:`cartoonbrain._kernels`), each
update is one compiled pass over the arrays instead of a dozen NumPy calls; it makes the
same operations in the same order, so it gives the same bits.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .._registry import claim
from .._validation import known_options as _options
from .._validation import non_negative as _non_negative
from .._validation import positive as _positive
from .clipping import clip_by_global_norm
from .schedules import Schedule, get_schedule

Array = NDArray[np.floating]

__all__ = ["OPTIMIZERS", "Optimizer", "get_optimizer", "register_optimizer"]


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
    clip_value: float | None = None  # (class default: for an optimizer pickled before it)

    def __init__(
        self,
        learning_rate: float | Schedule,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        clip_value: float | None = None,
    ) -> None:
        if not isinstance(learning_rate, Schedule):
            learning_rate = _positive("learning_rate", learning_rate)
        self.learning_rate: float | Schedule = learning_rate
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.clip_norm = None if clip_norm is None else _positive("clip_norm", clip_norm)
        self.clip_value = None if clip_value is None else _positive("clip_value", clip_value)
        if clip_norm is not None and clip_value is not None:  # as Keras: one or the other
            raise ValueError("give clip_norm or clip_value, not both")
        self.iterations = 0
        self._state: dict[str, list[Array]] = {}  # buffer name -> one array per parameter
        self._work: list[Array] = []  # scratch space, not part of the state
        self._decayed: list[Array] = []  # g + λw, for coupled weight decay

    def current_learning_rate(self) -> float:
        """The rate the next :meth:`step` will use: the schedule at :attr:`iterations`."""
        if isinstance(self.learning_rate, Schedule):
            return float(self.learning_rate(self.iterations))
        return self.learning_rate

    def step(self, params: list[Array], grads: list[Array]) -> None:
        """Update every ``params[i]`` in place from ``grads[i]``.

        When ``clip_norm`` is set, the gradients are first clipped by their global norm
        (see :func:`clip_by_global_norm`): ``grads`` is then scaled in place. With
        ``clip_value`` c, each entry is clipped to [−c, c] in place instead (Keras's
        ``clipvalue``, PyTorch's ``clip_grad_value_``). Otherwise ``grads`` is left untouched.

        Parameters
        ----------
        params : list of ndarray
            Floating-point arrays, updated in place.
        grads : list of ndarray
            Their gradients: same length, shapes and dtypes.
        """
        self._check(params, grads)
        if self.clip_norm is not None:
            clip_by_global_norm(grads, self.clip_norm)
        if self.clip_value is not None:
            for g in grads:
                np.clip(g, -self.clip_value, self.clip_value, out=g)
        if len(self._work) != len(params):
            self._allocate(params)
        learning_rate = self.current_learning_rate()
        for i, (w, g) in enumerate(zip(params, grads, strict=True)):
            self._update(i, w, g, learning_rate)
        self.iterations += 1

    def _update(self, i: int, w: Array, g: Array, learning_rate: float) -> None:
        raise NotImplementedError

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

    def load_state_dict(self, state: dict[str, np.ndarray], *, copy: bool = True) -> None:
        """Restore a :meth:`state_dict` (copying its arrays), checking names and shapes;
        ``copy=False`` keeps the arrays themselves as the buffers, to be updated in place
        (a checkpoint's, read from the file into arrays of their own)."""
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
        own = np.array if copy else np.asarray  # np.array copies
        loaded = {
            name: [own(state[f"{name}.{i}"]) for i in range(n_params)] for name in self.buffer_names
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
