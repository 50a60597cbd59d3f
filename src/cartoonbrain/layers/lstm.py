"""LSTM: long short-term memory, with PyTorch's equations and weights (gates i, f, g, o).

Each step splits the affines ``a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh`` into four
gates, rows i, f, g, o of the weights, and keeps a cell state c beside h:

    i = σ(a_i)    f = σ(a_f)    g = tanh(a_g)    o = σ(a_o)
    c_t = f ⊙ c_{t−1} + i ⊙ g          h_t = o ⊙ tanh(c_t)          (h_0 = c_0 = 0)

Backwards, two errors travel from step to step, g_h = ∂L/∂h_t and g_c = ∂L/∂c_t:

    g_c ← g_c + g_h ⊙ o ⊙ (1 − tanh²(c_t))
    g_o = g_h ⊙ tanh(c_t) ⊙ o (1 − o)      g_i = g_c ⊙ g ⊙ i (1 − i)
    g_f = g_c ⊙ c_{t−1} ⊙ f (1 − f)        g_g = g_c ⊙ i ⊙ (1 − g²)
    g_a = [g_i, g_f, g_g, g_o]     g_h ← g_a W_hh      g_c ← g_c ⊙ f
"""

from __future__ import annotations

import numpy as np

from .base import Array, register_layer
from .recurrent import Recurrent, sigmoid_

__all__ = ["LSTM"]


@register_layer
class LSTM(Recurrent):
    """An LSTM layer on ``(n, time, n_in)``, as ``torch.nn.LSTM(n_in, n_hidden, batch_first=True)``.

    Parameters
    ----------
    n_in, n_hidden : int
        Features per step of the input; size of the hidden and cell states.
    return_sequences : bool, default False
        Output every step's h, ``(n, time, D·n_hidden)``, instead of the last, ``(n, D·n_hidden)``.
    bidirectional : bool, default False
        Also run the sequence backwards (D = 2), as :class:`SimpleRNN`.

    The weights are ``weight_ih_l0`` (4·n_hidden, n_in), ``weight_hh_l0`` (4·n_hidden,
    n_hidden), ``bias_ih_l0``, ``bias_hh_l0``, gates stacked in the order i, f, g, o.
    """

    n_gates = 4
    # caches of the last forward pass beside Recurrent's hs, step-first: (steps, directions, n, ·)
    cs: Array | None  # c_t, with c_0 = 0 first
    gates: Array | None  # i, f, g, o after their transforms
    tanh_cs: Array | None  # tanh(c_t)

    def _steps(self, steps: Array, hs: Array) -> None:
        """i, f, g, o, c and h for each step, in the caches gates, cs, tanh_cs and hs."""
        time, D, n, _ = steps.shape
        H = self.n_hidden
        W_hh_T = self._stacked(1).transpose(0, 2, 1)  # (D, H, 4H)
        self.cs = cs = np.zeros((time + 1, D, n, H), dtype=steps.dtype)
        self.gates = gates_all = np.empty_like(steps)
        self.tanh_cs = tanh_cs = np.empty((time, D, n, H), dtype=steps.dtype)
        ig = np.empty((D, n, H), dtype=steps.dtype)
        for s in range(time):
            gates = gates_all[s]
            np.matmul(hs[s], W_hh_T, out=gates)
            gates += steps[s]  # a_t
            sigmoid_(gates[..., : 2 * H])  # i, f
            np.tanh(gates[..., 2 * H : 3 * H], out=gates[..., 2 * H : 3 * H])  # g
            sigmoid_(gates[..., 3 * H :])  # o
            c = cs[s + 1]
            np.multiply(gates[..., H : 2 * H], cs[s], out=c)
            np.multiply(gates[..., :H], gates[..., 2 * H : 3 * H], out=ig)
            c += ig  # c = f c_{t−1} + i g
            np.tanh(c, out=tanh_cs[s])
            np.multiply(gates[..., 3 * H :], tanh_cs[s], out=hs[s + 1])  # h = o tanh(c)

    def _steps_backward(self, g_out: Array | None, g_last: Array) -> tuple[Array, Array]:
        """g_a = [g_i, g_f, g_g, g_o] for each step, carrying g_h and g_c backwards."""
        assert self.hs is not None and self.cs is not None
        assert self.gates is not None and self.tanh_cs is not None
        cs, gates_all, tanh_cs = self.cs, self.gates, self.tanh_cs
        time, H = gates_all.shape[0], self.n_hidden
        W_hh = self._stacked(1)  # (D, 4H, H)
        g_a = np.empty_like(gates_all)
        g_h = g_last
        g_c = np.zeros_like(g_last)
        t1 = np.empty_like(g_last)
        t2 = np.empty_like(gates_all[0, ..., : 2 * H])
        for s in range(time - 1, -1, -1):
            if g_out is not None:
                g_h += g_out[s]
            gates, tc, ga = gates_all[s], tanh_cs[s], g_a[s]
            i, f, g, o = (gates[..., k * H : (k + 1) * H] for k in range(4))
            g_i, g_f, g_g, g_o = (ga[..., k * H : (k + 1) * H] for k in range(4))
            np.multiply(tc, tc, out=t1)
            np.subtract(1, t1, out=t1)
            t1 *= o
            t1 *= g_h
            g_c += t1  # g_c + g_h o (1 − tanh² c)
            np.multiply(g_h, tc, out=g_o)
            np.subtract(1, o, out=t1)
            t1 *= o
            g_o *= t1  # g_h tanh(c) o (1 − o)
            np.multiply(g_c, g, out=g_i)
            np.multiply(g_c, cs[s], out=g_f)
            np.subtract(1, gates[..., : 2 * H], out=t2)
            t2 *= gates[..., : 2 * H]
            ga[..., : 2 * H] *= t2  # times σ' = σ (1 − σ) for i and f
            np.multiply(g, g, out=t1)
            np.subtract(1, t1, out=t1)
            np.multiply(g_c, i, out=g_g)
            g_g *= t1  # g_c i (1 − g²)
            g_c *= f
            g_h = np.matmul(ga, W_hh)
        return g_a, g_a

    def _forget(self) -> None:
        super()._forget()
        self.cs = self.gates = self.tanh_cs = None
