"""Recurrent layers: SimpleRNN here, LSTM and GRU beside it, and what they share.

A recurrent layer is the post's layer applied once per time step, with the same weights at
every step and the previous step's output fed back in (docs/recurrent.md derives all of
this). Sequences are batch-first, ``x`` of shape ``(n_samples, time, n_in)``. Each step t
takes ``x_t`` and the hidden state ``h_{t−1}`` (``h_0 = 0``) and forms the affines

    a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh

and its transforms (for SimpleRNN just ``h_t = tanh(a_t)``; LSTM and GRU split ``a_t``
into gates). The weights follow PyTorch's layout and names (``weight_ih_l0`` of shape
(G·n_hidden, n_in), ``weight_hh_l0`` (G·n_hidden, n_hidden), ``bias_ih_l0``,
``bias_hh_l0``, and ``*_reverse`` for the second direction; G gates stacked by rows), so
:func:`from_torch` copies a trained ``torch.nn.RNN``/``LSTM``/``GRU`` over.

Backpropagation through time runs the steps backwards, carrying ``g = ∂L/∂h_t`` from
each step to the one before, through the same transforms and ``W_hh``:

    g_t = ∂L/∂h_t (from the output) + (g carried back from step t + 1)
    ∇W_ih = Σ_t g_aᵀ x_t      ∇W_hh = Σ_t g_aᵀ h_{t−1}      g_{t−1} ← g_a W_hh

where ``g_a = ∂L/∂a_t``. How the work is laid out: the input affines ``W_ih x_t + b_ih``
of every step (and both directions) are one matrix product before the loop, and the
weight gradients ``∇W_ih``, ``∇W_hh`` one product each after it; the loop does only what
must happen step by step. A bidirectional layer runs its second direction over the reversed
sequence in the same loop, the two stacked on a leading axis of length 2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .attention import MultiHeadAttention, attention_from_torch
from .base import Array, Layer, Shape, _positive_int, register_layer

__all__ = ["SimpleRNN", "from_torch", "sigmoid_"]


def sigmoid_(a: Array) -> Array:
    """σ(a) = (1 + tanh(a/2)) / 2, in ``a``'s memory: never overflows, four in-place passes."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


class Recurrent(Layer):
    """What SimpleRNN, LSTM and GRU share: the weights, the directions, the input affines
    before the loop, the outputs after it and the weight gradients from the loop's g_a.

    Subclasses set ``n_gates`` (G) and write the two loops, :meth:`_steps` and
    :meth:`_steps_backward`, over arrays laid out step-first, ``(steps, directions, n, ·)``;
    a subclass with caches of its own clears them in :meth:`_forget`.
    """

    n_gates = 1
    # caches of the last forward pass
    x_steps: Array | None  # the input, time-major (time·n, n_in)
    hs: Array | None  # h_t, step-first (steps + 1, directions, n, H), with h_0 = 0 first

    def is_weight(self, name: str) -> bool:
        """The input and hidden weights (PyTorch's ``weight_*``) take the L2 penalty."""
        return name.startswith("weight_")

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        return_sequences: bool = False,
        bidirectional: bool = False,
    ) -> None:
        self.n_in = _positive_int("n_in", n_in)
        self.n_hidden = _positive_int("n_hidden", n_hidden)
        for name, flag in (
            ("return_sequences", return_sequences),
            ("bidirectional", bidirectional),
        ):
            if not isinstance(flag, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False; got {flag!r}")
        self.return_sequences = bool(return_sequences)
        self.bidirectional = bool(bidirectional)
        self.n_directions = 2 if self.bidirectional else 1
        suffixes = ("", "_reverse")[: self.n_directions]
        self.parameter_names = tuple(
            f"{kind}_l0{suffix}"
            for suffix in suffixes
            for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )
        self.params: list[Array] = []
        self.grads: list[Array] = []
        self._forget()

    @classmethod
    def example(cls) -> tuple[Recurrent, Shape]:
        """A small bidirectional layer that outputs every step: 5 steps of 3 features."""
        return cls(3, 4, return_sequences=True, bidirectional=True), (5, 3)

    # ------------------------------------------------------------------ parameters
    def parameter_shapes(self) -> list[Shape]:
        rows = self.n_gates * self.n_hidden
        one: list[Shape] = [(rows, self.n_in), (rows, self.n_hidden), (rows,), (rows,)]
        return one * self.n_directions

    def bind(self, params: list[Array], grads: list[Array]) -> None:
        self.params, self.grads = list(params), list(grads)

    def named_parameters(self) -> dict[str, Array]:
        """PyTorch's names → the live parameter arrays (writes go through)."""
        return dict(zip(self.parameter_names, self.params))

    def _stacked(self, k: int) -> Array:
        """Parameter k (0: W_ih, 1: W_hh, 2: b_ih, 3: b_hh) of every direction, stacked."""
        return np.stack(self.params[k::4])

    def initialize(self, rng: np.random.Generator) -> None:
        """Every weight and bias ~ U(−1/√n_hidden, 1/√n_hidden), as PyTorch."""
        limit = 1 / np.sqrt(self.n_hidden)
        for p in self.params:
            p[...] = rng.uniform(-limit, limit, p.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        width = self.n_directions * self.n_hidden
        if input_shape is None:
            return None if self.return_sequences else (width,)
        if len(input_shape) != 2 or input_shape[1] != self.n_in:
            raise ValueError(
                f"{self!r} takes sequences of shape (time, {self.n_in}); got {input_shape}"
            )
        return (input_shape[0], width) if self.return_sequences else (width,)

    # ------------------------------------------------------------------ forward
    def _input_affines(self, x: Array) -> Array:
        """W_ih x_t + b_ih (+ the part of b_hh that adds to it) for every step, laid out
        (steps, directions, n, G·n_hidden): the second direction's steps run backwards."""
        if x.ndim != 3 or x.shape[2] != self.n_in or x.shape[1] == 0:
            raise ValueError(
                f"{self!r} takes batches of shape (n_samples, time, {self.n_in}); got {x.shape}"
            )
        n, time, _ = x.shape
        self.x_steps = x.transpose(1, 0, 2).reshape(time * n, self.n_in)  # a copy
        W_ih = self._stacked(0).reshape(-1, self.n_in)
        bias = self._stacked(2) + self._folded_bias(self._stacked(3))
        affines = (self.x_steps @ W_ih.T + bias.reshape(-1)).reshape(time, n, self.n_directions, -1)
        steps = np.empty((time, self.n_directions, n, affines.shape[-1]), dtype=x.dtype)
        steps[:, 0] = affines[:, :, 0]
        if self.bidirectional:
            steps[:, 1] = affines[::-1, :, 1]
        return steps

    def _folded_bias(self, b_hh: Array) -> Array:
        """The part of b_hh added before the loop (all of it, except in the GRU)."""
        return b_hh

    def _outputs(self, hs: Array) -> Array:
        """The layer's output from the hidden states ``hs`` (steps + 1, directions, n, H)."""
        last = hs.shape[0] - 1
        n, width = hs.shape[2], self.n_directions * self.n_hidden
        if not self.return_sequences:  # the last step of each direction, side by side
            return hs[last].transpose(1, 0, 2).reshape(n, width)
        out = np.empty((n, last, self.n_directions, self.n_hidden), dtype=hs.dtype)
        out[:, :, 0] = hs[1:, 0].transpose(1, 0, 2)
        if self.bidirectional:  # time t is step (T − 1 − t) of the reverse direction
            out[:, :, 1] = hs[last:0:-1, 1].transpose(1, 0, 2)
        return out.reshape(n, last, width)

    def forward(self, o_prev: Array, training: bool = False) -> Array:
        """The affines of every step, then the steps (caching what backward needs)."""
        steps = self._input_affines(o_prev)
        time, D, n, _ = steps.shape
        self.hs = np.zeros((time + 1, D, n, self.n_hidden), dtype=steps.dtype)  # h_0 = 0
        self._steps(steps, self.hs)
        return self._outputs(self.hs)

    def infer(self, o_prev: Array) -> Array:
        out = self.forward(o_prev)
        self._forget()
        return out

    def _forget(self) -> None:
        """Drop the caches of the last forward pass."""
        self.x_steps = self.hs = None

    # ------------------------------------------------------------------ backward
    def _output_gradients(self, g: Array, time: int) -> tuple[Array | None, Array]:
        """G as (steps, directions, n, H) in step order (None when only the last step was
        output) and the gradient of the last step's hidden state (directions, n, H)."""
        n = g.shape[0]
        H = self.n_hidden
        if not self.return_sequences:
            return None, g.reshape(n, self.n_directions, H).transpose(1, 0, 2).copy()
        g4 = g.reshape(n, time, self.n_directions, H)
        steps = np.empty((time, self.n_directions, n, H), dtype=g.dtype)
        steps[:, 0] = g4[:, :, 0].transpose(1, 0, 2)
        if self.bidirectional:
            steps[:, 1] = g4[:, ::-1, 1].transpose(1, 0, 2)
        return steps, np.zeros((self.n_directions, n, H), dtype=g.dtype)

    def backward(self, g: Array, need_input_gradient: bool = True) -> Array | None:
        """Backpropagation through time; then ∇W_ih, ∇b_ih, ∇W_hh, ∇b_hh and G_prev.

            ∇W_ih = Σ_t g_aᵀ x_t      ∇W_hh = Σ_t g_hhᵀ h_{t−1}      G_prev[t] = Σ_dir g_a W_ih

        with g_hh = ∂L/∂(W_hh h_{t−1} + b_hh), which is g_a except in the GRU's n gate.
        """
        assert self.x_steps is not None and self.hs is not None
        hs = self.hs
        time, n = hs.shape[0] - 1, hs.shape[2]
        g_out, g_last = self._output_gradients(g, time)
        g_a, g_hh = self._steps_backward(g_out, g_last)
        D, rows = self.n_directions, g_a.shape[-1]
        # back to time order, (time·n, directions·G·H), to meet x_steps row for row
        g_time = np.empty((time, n, D, rows), dtype=g_a.dtype)
        g_time[:, :, 0] = g_a[:, 0]
        if self.bidirectional:
            g_time[:, :, 1] = g_a[::-1, 1]
        g_time = g_time.reshape(time * n, D * rows)
        dW_ih = (g_time.T @ self.x_steps).reshape(D, rows, self.n_in)
        db_ih = g_time.sum(axis=0).reshape(D, rows)
        # Σ over steps and samples of g_hhᵀ h_{t−1}, one product per direction
        g_hh_d = g_hh.transpose(1, 3, 0, 2).reshape(D, rows, time * n)
        h_prev = hs[:time].transpose(1, 0, 2, 3).reshape(D, time * n, self.n_hidden)
        dW_hh = g_hh_d @ h_prev
        db_hh = g_hh_d.sum(axis=2)
        for d in range(D):
            for k, value in enumerate((dW_ih[d], dW_hh[d], db_ih[d], db_hh[d])):
                self.grads[4 * d + k][...] = value
        if not need_input_gradient:
            return None
        g_prev = g_time @ self._stacked(0).reshape(-1, self.n_in)
        return g_prev.reshape(time, n, self.n_in).transpose(1, 0, 2)

    # ------------------------------------------------------------------ for subclasses
    def _steps(self, steps: Array, hs: Array) -> None:
        """Run the steps over the input affines, writing h_t into ``hs[t]`` (``hs[0]`` = 0)."""
        raise NotImplementedError

    def _steps_backward(self, g_out: Array | None, g_last: Array) -> tuple[Array, Array]:
        """The loop backwards: g_a = ∂L/∂a_t and g_hh for every step, step-first."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "n_in": self.n_in,
            "n_hidden": self.n_hidden,
            "return_sequences": self.return_sequences,
            "bidirectional": self.bidirectional,
        }


_NONLINEARITIES = ("tanh", "relu")


@register_layer
class SimpleRNN(Recurrent):
    """The Elman network, as PyTorch's ``nn.RNN``:

        h_t = f(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh),     f = tanh (or relu)

    and backwards, with g_t = ∂L/∂h_t (from the output plus what step t + 1 carried back):

        g_a = g_t ⊙ f'(a_t)          g_{t−1} ← g_a W_hh

    Parameters
    ----------
    n_in, n_hidden : int
        Features per step of the input; size of the hidden state.
    return_sequences : bool, default False
        Output every step, ``(n, time, D·n_hidden)``, instead of the last, ``(n, D·n_hidden)``.
    bidirectional : bool, default False
        Also run the sequence backwards (D = 2): at each step the forward direction's state
        comes first, then the reverse direction's; the "last step" of the reverse direction
        is time 0, as PyTorch's ``h_n``.
    nonlinearity : "tanh" (default) or "relu"
    """

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        return_sequences: bool = False,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
    ) -> None:
        super().__init__(n_in, n_hidden, return_sequences, bidirectional)
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def _steps(self, steps: Array, hs: Array) -> None:
        """h_t = f(a_t), a_t = (W_ih x_t + b) + h_{t−1} W_hhᵀ; step by step."""
        W_hh_T = self._stacked(1).transpose(0, 2, 1)  # (D, H, H)
        for s in range(steps.shape[0]):
            h = hs[s + 1]
            np.matmul(hs[s], W_hh_T, out=h)
            h += steps[s]
            if self.nonlinearity == "tanh":
                np.tanh(h, out=h)
            else:
                np.maximum(h, 0, out=h)

    def _steps_backward(self, g_out: Array | None, g_last: Array) -> tuple[Array, Array]:
        """g_a = g_t ⊙ f'(a_t), with tanh' = 1 − h_t² and relu' = [h_t > 0];  g ← g_a W_hh."""
        assert self.hs is not None
        hs = self.hs
        time = hs.shape[0] - 1
        W_hh = self._stacked(1)
        g_a = np.empty_like(hs[1:])
        g = g_last
        for s in range(time - 1, -1, -1):
            if g_out is not None:
                g += g_out[s]
            h, ga = hs[s + 1], g_a[s]
            if self.nonlinearity == "tanh":
                np.multiply(h, h, out=ga)
                np.subtract(1, ga, out=ga)
                ga *= g
            else:
                np.multiply(g, h > 0, out=ga)
            g = ga @ W_hh
        return g_a, g_a

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "nonlinearity": self.nonlinearity}


def from_torch(layer: Recurrent | MultiHeadAttention, module: Any) -> None:
    """Copy the weights of a one-layer ``torch.nn.RNN``, ``LSTM`` or ``GRU`` into ``layer``.

    The names and shapes are the same on both sides (``weight_ih_l0``, ``weight_hh_l0``,
    ``bias_ih_l0``, ``bias_hh_l0``, and ``*_reverse``), so this is one copy per array::

        gru = torch.nn.GRU(40, 6, batch_first=True, bidirectional=True)
        layer = cb.GRU(40, 6, return_sequences=True, bidirectional=True)
        net = cb.Network([layer, ...], input_shape=(time, 40))
        from_torch(layer, gru)

    The module's ``batch_first`` does not matter (only the weights are copied). Raises
    ValueError when the module is not of the same kind and sizes: more than one layer,
    no biases, an LSTM with ``proj_size``, another nonlinearity or direction count.
    A :class:`MultiHeadAttention` takes a ``torch.nn.MultiheadAttention``
    (:func:`~cartoonbrain.layers.attention.attention_from_torch`).
    """
    if isinstance(layer, MultiHeadAttention):
        return attention_from_torch(layer, module)
    kind = type(layer).__name__
    wanted = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}.get(kind)
    got = type(module).__name__
    settings = {
        "input_size": layer.n_in,
        "hidden_size": layer.n_hidden,
        "num_layers": 1,
        "bias": True,
        "bidirectional": layer.bidirectional,
        "proj_size": 0,
        "nonlinearity": getattr(layer, "nonlinearity", getattr(module, "nonlinearity", None)),
    }
    different = {
        k: getattr(module, k, v) for k, v in settings.items() if getattr(module, k, v) != v
    }
    if got != wanted or different:
        raise ValueError(
            f"cannot copy a torch {got} with {different or 'its settings'} into {layer!r}; "
            f"expected a torch.nn.{wanted} with {settings}"
        )
    state = module.state_dict()
    for name, target in layer.named_parameters().items():
        target[...] = state[name].detach().cpu().numpy()
