"""predict for a few rows of a multi-layer perceptron in one compiled call (the accelerator).

For one sample, a small network's products take a few microseconds each, and NumPy's
calls around them — bias, activation, softmax, and the checks of input and output — as
long again. With the accelerator (``pip install "cartoonbrain[fast]"``),
:func:`predict_few` hands a network whose layers are all ``O = f(O_prev Wᵀ + b)`` (Dense
with identity, ReLU or leaky ReLU; Dropout, the identity at inference, is skipped) and
whose loss outputs softmax, σ or the outputs themselves to the kernel
:func:`cartoonbrain._kernels.inference.dense_chain`, which runs every layer, the output
function and the finiteness checks at once, reading W and b from the network's flat
parameter buffer (so there is nothing to go stale when the weights change). For
anything else, more than :data:`FEW_ROWS` rows, or an input or output that is not all
finite (the regular path then says why), it returns None and ``Network.predict`` does
the work. The results agree with the regular path to rounding (the products sum in
another order), like those of two batch sizes.
"""

from __future__ import annotations

import math
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .. import _kernels
from .._kernels.codes import CODES, FORWARD
from ..activations import ACTIVATIONS, LEAKY_SLOPE
from ..layers import Dense, Dropout, Layer

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

__all__ = ["FEW_ROWS", "layout", "predict_few"]

Array = NDArray[np.floating]

#: the most rows predict_few takes: beyond it, BLAS's matrix products (which read each
#: weight once for all rows) are faster than the kernel's loops (benchmarks/README.md)
FEW_ROWS = 8

#: the loss's output function (``Loss.output_activation``) -> dense_chain's code
_OUTPUTS = {None: 0, "softmax": 1, "sigmoid": 2}
#: the activations dense_chain applies
_APPLIED = FORWARD | {"identity"}
#: each network's layout, with the parameter buffer and loss it was made for
_LAYOUTS: weakref.WeakKeyDictionary[Any, tuple[Any, Any, Any]] = weakref.WeakKeyDictionary()


def dense_activation(layer: Layer) -> str | None:
    """The name of ``f`` when ``layer`` is exactly a Dense (not a subclass, which may infer
    otherwise) whose activation is the built-in of that name; else None."""
    if type(layer) is not Dense:
        return None
    name = layer.activation.name
    return name if ACTIVATIONS.get(name) is layer.activation else None


def layout(net: Network) -> tuple[NDArray[np.int64], int] | None:
    """The kernel's description of ``net``: one row per layer (offset of W in
    ``net.flat_parameters``, n_out, n_in, offset of b or −1, activation code) and the
    output's code; None when some layer or the loss's output is not one it runs."""
    output = _OUTPUTS.get(net.loss.output_activation, -1)
    rows, offset = [], 0
    for layer in net.layers:
        shapes = layer.parameter_shapes()
        if type(layer) is Dropout:  # the identity at inference
            continue
        name = dense_activation(layer)
        if name not in _APPLIED or output < 0:
            return None
        (n_out, n_in), bias = shapes[0], len(shapes) > 1
        rows.append((offset, n_out, n_in, offset + n_out * n_in if bias else -1, CODES[name]))
        offset += sum(math.prod(s) for s in shapes)
    return (np.array(rows, dtype=np.int64), output) if rows else None


def predict_few(net: Network, X: object) -> Array | None:
    """``net``'s predictions for X (before the target's decoding) in one kernel call, or
    None when the kernel does not apply (the module's docstring says when)."""
    if type(X) is not np.ndarray or X.ndim != 2 or not 0 < len(X) <= FEW_ROWS:
        return None  # (rows of features only: a sequence goes the regular way)
    if _kernels.active() != "numba":
        return None
    plan = _LAYOUTS.get(net)
    if plan is None or plan[0] is not net.flat_parameters or plan[1] is not net.loss:
        plan = _LAYOUTS[net] = (net.flat_parameters, net.loss, layout(net))
    if plan[2] is None:
        return None
    kernel = _kernels.get("dense_chain", len(X))  # (may import numba: _kernels says when)
    if kernel is None:
        return None
    X = net.check_inputs(X, check_finite=False)  # the kernel checks the numbers
    if not X.flags.writeable:  # (a read-only array would be another compiled version)
        return None
    out, finite = kernel(X, net.flat_parameters, plan[2][0], LEAKY_SLOPE, plan[2][1])
    return out if finite else None
