"""Network: a stack of layers, a loss, and the post's forward and backward passes.

The post works with one sample as a column, ``a_l = W_l o_{l-1}``. The library works
batch-first, one sample per row (the layout of NumPy, scikit-learn and PyTorch), and keeps
the post's ``W_l`` of shape ``(n_out, n_in)``, so a layer computes

    A_l = O_{l-1} W_lᵀ + b_l,     O_l = f(A_l),     O_0 = X

and the backward pass, starting from G = ∂L/∂O_L (the loss's gradient), runs

    G ← G ⊙ f'(A_l);   ∇W_l = Gᵀ O_{l-1};   ∇b_l = Σ_rows G;   G ← G W_l     for l = L … 1

which is the post's ``g ← g ⊙ f'(a_l); ∇W_l = g o_{l-1}ᵀ; g ← W_lᵀ g`` transposed.

All parameters live in one flat buffer (``Network.flat_parameters``) and all gradients
in another, each layer holding views; :meth:`Network.parameters` returns those live views
in the order ``[W_1, b_1, W_2, b_2, ...]``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .._validation import is_integer, is_number
from ..data.preprocessing import Preprocessor, TargetEncoder
from ..layers import Layer
from ..losses import Loss, get_loss
from ..saving import Saveable, read_model
from ..train import Trainer
from . import architecture
from .prediction import NonFinitePrediction, Predictor
from .summary import summary_table

if TYPE_CHECKING:
    from ..optimizers import Optimizer

Array = NDArray[Any]

__all__ = ["Network", "NonFinitePrediction", "as_dtype", "load", "save"]

_DTYPES = {"float32": np.float32, "float64": np.float64}


def as_dtype(dtype: Any) -> np.dtype:
    """``"float32"`` or ``"float64"`` (or the NumPy types) as a NumPy dtype."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in _DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    return resolved


class Network(Predictor, Trainer, Saveable):
    """A feed-forward network: layers, a loss, a dtype and a seeded random generator.

    This class holds the network itself: its parameters in one buffer and the post's
    forward and backward passes (:meth:`forward`, :meth:`backward`, :meth:`backprop`).
    It inherits the rest from three bases, each in one module:
    :class:`~cartoonbrain.network.prediction.Predictor` (``predict``, ``predict_classes``,
    ``evaluate``, the input checks), :class:`~cartoonbrain.train.Trainer` (``fit`` and
    ``train_step``) and :class:`~cartoonbrain.saving.Saveable` (``get_config``,
    ``state``, ``from_state``, ``save``, pickling).

    Parameters
    ----------
    layers : sequence of Layer
        E.g. ``[Dense(784, 256, activation="relu"), Dense(256, 10)]``. Each layer's input
        size must equal the previous layer's output size (checked here).
    loss : str or Loss, default "mse"
        ``"mse"``, ``"squared_error"``, ``"cross_entropy"`` or ``"binary_cross_entropy"``.
        The cross-entropy losses take the last layer's affines (logits): give the last
        Dense ``activation="identity"``; ``predict`` returns probabilities.
    seed : int or None
        Seeds the one generator behind the initial weights, shuffling and dropout.
        The same seed gives bit-identical weights after ``fit``.
    dtype : "float32" (default) or "float64"
        Every parameter, gradient and activation array has this dtype.
    l2 : float, default 0
        L2 penalty on the weights (not the biases): the loss gains (λ/2) Σ_l ‖W_l‖² and
        each ∇W_l gains λ W_l, with λ = l2 (see :meth:`penalty`).
    l2_per_sample : bool, default False
        λ = l2 / (the batch's total sample weight) instead: scikit-learn's ``alpha``.
    metadata : dict, optional
        Plain JSON-able data saved with the model (class labels, feature names, scaling).
    input_shape : tuple of int, optional
        The shape of one sample, e.g. ``(1, 40)`` for a Conv1D with one channel. Needed
        only when the first layer cannot tell (convolutions); a first Dense gives (n_in,).
    initialize : bool, default True
        False skips the initialisers (parameters zero, generator untouched): for parameters
        about to be read in (``from_state``, ``cb.load``).
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        loss: str | Loss = "mse",
        *,
        seed: int | None = None,
        dtype: Any = "float32",
        l2: float = 0.0,
        l2_per_sample: bool = False,
        metadata: dict[str, Any] | None = None,
        input_shape: Sequence[int] | None = None,
        preprocessor: Preprocessor | None = None,
        target_encoder: TargetEncoder | None = None,
        initialize: bool = True,
    ) -> None:
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("a Network needs at least one layer")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"layer {i} is {layer!r}, not a cartoonbrain layer")
        self.loss = get_loss(loss)
        self.dtype = as_dtype(dtype)
        if not is_number(l2) or not 0 <= l2 < math.inf:
            raise ValueError(f"l2 must be a non-negative number; got {l2!r}")
        self.l2 = float(l2)
        self.l2_per_sample = bool(l2_per_sample)
        self.seed = int(seed) if is_integer(seed) else seed  # np.int64(3) as 3: JSON takes it
        self.rng = np.random.default_rng(seed)
        self.metadata: dict[str, Any] = dict(metadata or {})
        #: the optimizer of the last ``fit``: the next ``fit`` goes on with it (and its state)
        #: unless given another, as Keras's ``model.optimizer``; ``save`` can store it
        self.optimizer: Optimizer | None = None
        shapes = architecture.check_chain(self.layers, input_shape)
        self.input_shape, self.input_size, self.output_shape = shapes
        architecture.check_loss_pairing(self.layers[-1], self.loss)
        architecture.check_codecs(self, preprocessor, target_encoder)
        self.preprocessor, self.target_encoder = preprocessor, target_encoder
        self._allocate()
        for layer in self.layers:
            layer.attach(self.rng)
            if initialize:
                layer.initialize(self.rng)
        for p in self._params:
            if p.dtype != self.dtype:  # pragma: no cover - views share the buffer's dtype
                raise AssertionError("parameter dtype drifted")

    # ------------------------------------------------------------------ building
    def _allocate(self) -> None:
        shapes = [s for layer in self.layers for s in layer.parameter_shapes()]
        sizes = [math.prod(s) for s in shapes]
        self.flat_parameters = np.zeros(sum(sizes), dtype=self.dtype)
        self.flat_gradients = np.zeros(sum(sizes), dtype=self.dtype)
        self._params: list[Array] = []
        self._grads: list[Array] = []
        offset = 0
        for layer in self.layers:
            params, grads = [], []
            for shape in layer.parameter_shapes():
                size = math.prod(shape)
                params.append(self.flat_parameters[offset : offset + size].reshape(shape))
                grads.append(self.flat_gradients[offset : offset + size].reshape(shape))
                offset += size
            layer.bind(params, grads)
            self._params += params
            self._grads += grads
        # the weights of every layer (what Layer.is_weight says: not biases) get the L2
        weight = [layer.is_weight(n) for layer in self.layers for n in layer.parameter_names]
        self._weights = [p for p, w in zip(self._params, weight) if w]
        self._weight_grads = [g for g, w in zip(self._grads, weight) if w]

    # ------------------------------------------------------------------ inspection
    def parameters(self) -> list[Array]:
        """The live parameter arrays ``[W_1, b_1, W_2, b_2, ...]`` (views: writes go through)."""
        return list(self._params)

    def parameter_names(self) -> list[str]:
        """Names aligned with :meth:`parameters`, e.g. ``["layer0.W", "layer0.b", ...]``."""
        return [
            f"layer{i}.{n}" for i, layer in enumerate(self.layers) for n in layer.parameter_names
        ]

    def gradients(self) -> list[Array]:
        """The live gradient arrays of the last backward pass, aligned with parameters()."""
        return list(self._grads)

    @property
    def independent_outputs(self) -> bool:
        """True when each output is its own yes/no probability (binary_cross_entropy)."""
        return self.loss.output_activation == "sigmoid"

    @property
    def n_parameters(self) -> int:
        return int(self.flat_parameters.size)

    def summary(self, print_fn: Any = print) -> str:
        """Print a table of the layers, their output shapes and parameter counts, with the
        totals (as Keras's ``model.summary()``), and return it. ``print_fn=None``: only
        return it."""
        text = summary_table(self)
        if print_fn is not None:
            print_fn(text)
        return text

    def __repr__(self) -> str:
        return f"Network({self.layers!r}, loss={self.loss.name!r}, dtype={self.dtype.name!r})"

    # ------------------------------------------------------------------ the maths
    def forward(self, X: Array, training: bool = False) -> Array:
        """O_L: the last layer's transforms (the logits, for the cross-entropy losses).

        Each layer caches its ``affines`` and ``transforms`` for :meth:`backward`.
        ``X`` must already be an array of the network's dtype (see :meth:`check_inputs`).
        """
        o = X
        for layer in self.layers:
            o = layer.forward(o, training)
        return o

    def backward(self, g: Array, batch_weight: float | None = None) -> None:
        """Carry g = ∂L/∂O_L back through every layer, filling :meth:`gradients`; then add
        the L2 penalty's gradient, ∇W_l += λ W_l (λ = :meth:`l2_factor`)."""
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            g = self.layers[i].backward(g, need_input_gradient=i > 0)  # type: ignore[assignment]
        if self.l2:
            factor = self.dtype.type(self.l2_factor(batch_weight))
            for W, dW in zip(self._weights, self._weight_grads):
                dW += factor * W

    def l2_factor(self, batch_weight: float | None = None) -> float:
        """λ, the penalty's factor: ``l2``, or ``l2 / batch_weight`` with ``l2_per_sample``
        (scikit-learn's ``alpha``: the penalty divided by the batch's total sample weight)."""
        if self.l2_per_sample:
            if batch_weight is None:
                raise ValueError("l2_per_sample needs the batch's total sample weight")
            return self.l2 / batch_weight
        return self.l2

    def penalty(self, batch_weight: float | None = None) -> float:
        """The L2 penalty the loss gains: (λ/2) Σ_l ‖W_l‖², biases not penalised."""
        if not self.l2:
            return 0.0
        squares = sum([float(np.vdot(W, W)) for W in self._weights])
        return 0.5 * self.l2_factor(batch_weight) * squares

    def backprop(
        self, X: Array, t: Array, sample_weight: Array | None = None, training: bool = True
    ) -> tuple[float, Array]:
        """One forward and backward pass on prepared arrays: the interface of the training
        loop (and of :mod:`cartoonbrain.diagnostics.gradcheck`) to the network.

            O_L = forward(X);  L = loss(O_L, T; w) + penalty;  backward(∂L/∂O_L)

        ``X`` and ``t`` must come from :meth:`check_inputs` and :meth:`check_targets`;
        the gradients land in :attr:`flat_gradients`.

        Returns
        -------
        value : float, the loss with the penalty
        outputs : ndarray of shape (n_samples, *output_shape), O_L (logits for the
            cross-entropy losses): the network's own buffer, overwritten by the next pass
        """
        y = self.forward(X, training)
        if sample_weight is None:  # a loss written before sample weights takes (y, t) only
            value, g = self.loss.value_and_gradient(y, t)
        else:
            value, g = self.loss.value_and_gradient(y, t, sample_weight)
        batch_weight = len(X) if sample_weight is None else float(np.sum(sample_weight))
        self.backward(g, batch_weight)
        return value + self.penalty(batch_weight), y

    def loss_and_gradients(
        self, X: Any, y: Any, training: bool = False, sample_weight: Any = None
    ) -> tuple[float, list[Array]]:
        """The loss on (X, y) and its gradient for every parameter.

        Returns
        -------
        value : float
            The (weighted) mean loss over the batch, plus the L2 penalty, if any.
        grads : list of ndarray
            Copies, aligned with :meth:`parameters` (``grads[0]`` is ∂L/∂W_1, shape (n_out, n_in)).
        """
        X = self.inputs(X)
        t = self.targets(y, X.shape[0])
        w = self.check_sample_weight(sample_weight, X.shape[0])
        value, _ = self.backprop(X, t, w, training)
        return value, [g.copy() for g in self._grads]


def save(net: Network, path: str | os.PathLike[str], include_optimizer: bool = False) -> None:
    """``net.save(path, include_optimizer)``: see :meth:`Network.save`."""
    net.save(path, include_optimizer=include_optimizer)


def load(path: str | os.PathLike[str]) -> Network:
    """Read a model (or checkpoint) file written by :meth:`Network.save` or ``fit(checkpoint=...)``.

    The optimizer, when the file has one, comes back as ``net.optimizer``. Raises
    :class:`~cartoonbrain.io.ModelFileError` (a ValueError), with one line naming the file,
    for anything wrong with it: damaged, not a cartoonbrain model, of another format
    version, holding pickled objects, or asking for more than its arrays hold.
    """
    return read_model(path, Network)
