"""GRU: the gated recurrent unit, with PyTorch's equations and weights (gates r, z, n).

Each step splits the affines into three gates, rows r, z, n of ``W_ih`` and ``W_hh``:

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)          reset gate
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)          update gate
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))    candidate
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}

(PyTorch's form: the reset gate multiplies ``W_hn h + b_hn``, ONNX's
``linear_before_reset=1``). Backwards, with g = ∂L/∂h_t and ``hn = W_hn h_{t−1} + b_hn``:

    g_n = g ⊙ (1 − z) ⊙ (1 − n²)                 (∂L/∂ of n's affines)
    g_z = g ⊙ (h_{t−1} − n) ⊙ z (1 − z)
    g_r = g_n ⊙ hn ⊙ r (1 − r)
    g_a = [g_r, g_z, g_n]     g_hh = [g_r, g_z, g_n ⊙ r]
    g_{t−1} = g ⊙ z + g_hh W_hh
"""

from __future__ import annotations

import numpy as np

from .base import Array, register_layer
from .recurrent import Recurrent, sigmoid_

__all__ = ["GRU"]


@register_layer
class GRU(Recurrent):
    """A GRU layer on ``(n, time, n_in)``, as ``torch.nn.GRU(n_in, n_hidden, batch_first=True)``.

    Parameters
    ----------
    n_in, n_hidden : int
        Features per step of the input; size of the hidden state.
    return_sequences : bool, default False
        Output every step, ``(n, time, D·n_hidden)``, instead of the last, ``(n, D·n_hidden)``.
    bidirectional : bool, default False
        Also run the sequence backwards (D = 2), as :class:`SimpleRNN`.

    The weights are ``weight_ih_l0`` (3·n_hidden, n_in), ``weight_hh_l0`` (3·n_hidden,
    n_hidden), ``bias_ih_l0``, ``bias_hh_l0``, gates stacked in the order r, z, n.
    """

    n_gates = 3
    # caches of the last forward pass beside Recurrent's hs, step-first: (steps, directions, n, ·)
    rz: Array | None  # r_t and z_t side by side
    ns: Array | None  # n_t
    hh: Array | None  # W_hh h_{t−1} + [0, 0, b_hn]

    def _folded_bias(self, b_hh: Array) -> Array:
        """b_hr and b_hz add to the input affines; b_hn stays inside r ⊙ (W_hn h + b_hn)."""
        folded = b_hh.copy()
        folded[:, 2 * self.n_hidden :] = 0
        return folded

    def _steps(self, steps: Array, hs: Array) -> None:
        """r, z, n and h for each step (the module's equations), in the caches rz, ns, hh
        and hs. ``steps[t]`` holds W_ih x_t + b_ih, with b_hr and b_hz added in."""
        time, D, n, _ = steps.shape
        H = self.n_hidden
        W_hh_T = self._stacked(1).transpose(0, 2, 1)  # (D, H, 3H)
        b_hn = self._stacked(3)[:, None, 2 * H :]  # (D, 1, H)
        self.rz = np.empty((time, D, n, 2 * H), dtype=steps.dtype)
        self.ns = np.empty((time, D, n, H), dtype=steps.dtype)
        self.hh = np.empty((time, D, n, 3 * H), dtype=steps.dtype)
        for t in range(time):
            a, h_prev, hh = steps[t], hs[t], self.hh[t]
            np.matmul(h_prev, W_hh_T, out=hh)  # W_hh h_{t−1}
            hh[..., 2 * H :] += b_hn  # hn = W_hn h_{t−1} + b_hn
            r = sigmoid_(a[..., :H] + hh[..., :H])  # r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)
            z = sigmoid_(a[..., H : 2 * H] + hh[..., H : 2 * H])  # z_t, likewise
            n_t = np.tanh(a[..., 2 * H :] + r * hh[..., 2 * H :])  # n_t = tanh(… + r_t ⊙ hn)
            hs[t + 1] = (1 - z) * n_t + z * h_prev  # h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
            self.rz[t, ..., :H], self.rz[t, ..., H:], self.ns[t] = r, z, n_t

    def _steps_backward(self, g_out: Array | None, g_last: Array) -> tuple[Array, Array]:
        """g_a = [g_r, g_z, g_n] and g_hh = [g_r, g_z, g_n ⊙ r] for each step, backwards
        (the module's equations), with g = ∂L/∂h_t."""
        assert self.hs is not None and self.rz is not None
        assert self.ns is not None and self.hh is not None
        H = self.n_hidden
        W_hh = self._stacked(1)  # (D, 3H, H)
        g_a, g_hh = np.empty_like(self.hh), np.empty_like(self.hh)
        g = g_last
        for t in range(len(self.rz) - 1, -1, -1):
            if g_out is not None:
                g = g + g_out[t]
            r, z, n_t = self.rz[t, ..., :H], self.rz[t, ..., H:], self.ns[t]
            h_prev, hn = self.hs[t], self.hh[t, ..., 2 * H :]
            g_n = g * (1 - z) * (1 - n_t * n_t)  # g_n = g ⊙ (1 − z) ⊙ (1 − n²)
            g_z = g * (h_prev - n_t) * z * (1 - z)  # g_z = g ⊙ (h_{t−1} − n) ⊙ z (1 − z)
            g_r = g_n * hn * r * (1 - r)  # g_r = g_n ⊙ hn ⊙ r (1 − r)
            g_a[t, ..., :H], g_a[t, ..., H : 2 * H], g_a[t, ..., 2 * H :] = g_r, g_z, g_n
            g_hh[t, ..., : 2 * H], g_hh[t, ..., 2 * H :] = g_a[t, ..., : 2 * H], g_n * r
            g = g * z + np.matmul(g_hh[t], W_hh)  # g_{t−1} = g ⊙ z + g_hh W_hh
        return g_a, g_hh

    def _forget(self) -> None:
        super()._forget()
        self.rz = self.ns = self.hh = None
