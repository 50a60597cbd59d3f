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
    g_{t−1} ← g ⊙ z + g_hh W_hh
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
        """r, z, n and h for each step, in the caches rz, ns, hh and hs."""
        time, D, n, _ = steps.shape
        H = self.n_hidden
        W_hh_T = self._stacked(1).transpose(0, 2, 1)  # (D, H, 3H)
        b_hn = self._stacked(3)[:, None, 2 * H :]  # (D, 1, H)
        self.rz = rz_all = np.empty((time, D, n, 2 * H), dtype=steps.dtype)
        self.ns = ns = np.empty((time, D, n, H), dtype=steps.dtype)
        self.hh = hh_all = np.empty((time, D, n, 3 * H), dtype=steps.dtype)
        for s in range(time):
            h_prev, hh, rz, n_t, h = hs[s], hh_all[s], rz_all[s], ns[s], hs[s + 1]
            np.matmul(h_prev, W_hh_T, out=hh)  # W_hh h_{t−1}
            hn = hh[..., 2 * H :]
            hn += b_hn
            np.add(steps[s, ..., : 2 * H], hh[..., : 2 * H], out=rz)
            sigmoid_(rz)  # r, z
            np.multiply(rz[..., :H], hn, out=n_t)
            n_t += steps[s, ..., 2 * H :]
            np.tanh(n_t, out=n_t)  # n
            np.subtract(h_prev, n_t, out=h)
            h *= rz[..., H:]
            h += n_t  # h = n + z (h_{t−1} − n)

    def _steps_backward(self, g_out: Array | None, g_last: Array) -> tuple[Array, Array]:
        """g_a = [g_r, g_z, g_n] and g_hh = [g_r, g_z, g_n ⊙ r] for each step, backwards."""
        assert self.hs is not None and self.rz is not None
        assert self.ns is not None and self.hh is not None
        hs, rz_all, ns, hh_all = self.hs, self.rz, self.ns, self.hh
        time, H = rz_all.shape[0], self.n_hidden
        W_hh = self._stacked(1)  # (D, 3H, H)
        g_a = np.empty_like(hh_all)
        g_hh = np.empty_like(hh_all)
        g = g_last
        t1 = np.empty_like(g)
        t2 = np.empty_like(rz_all[0])
        for s in range(time - 1, -1, -1):
            if g_out is not None:
                g += g_out[s]
            rz, n_t, h_prev, ga, gh = rz_all[s], ns[s], hs[s], g_a[s], g_hh[s]
            r, z, hn = rz[..., :H], rz[..., H:], hh_all[s, ..., 2 * H :]
            g_r, g_z, g_n = ga[..., :H], ga[..., H : 2 * H], ga[..., 2 * H :]
            np.multiply(n_t, n_t, out=g_n)
            np.subtract(1, g_n, out=g_n)  # 1 − n²
            np.subtract(1, z, out=t1)
            t1 *= g
            g_n *= t1  # g_n = g (1 − z)(1 − n²)
            np.subtract(h_prev, n_t, out=g_z)
            g_z *= g  # g (h_{t−1} − n), times σ' below
            np.multiply(g_n, hn, out=g_r)  # g_n hn, times σ' below
            np.subtract(1, rz, out=t2)
            t2 *= rz
            ga[..., : 2 * H] *= t2  # σ'(a) = σ (1 − σ) for r and z
            gh[..., : 2 * H] = ga[..., : 2 * H]
            np.multiply(g_n, r, out=gh[..., 2 * H :])
            g *= z
            g += np.matmul(gh, W_hh)  # g_{t−1} = g z + g_hh W_hh
        return g_a, g_hh

    def _forget(self) -> None:
        super()._forget()
        self.rz = self.ns = self.hh = None
