"""Gradient checks for one layer on its own, in float64: backward against central differences.

The loss is a fixed random linear function of the layer's output, L = Σ G ⊙ O, so that
``backward(G)`` must give ∂L/∂x and fill ∂L/∂θ for every parameter θ, and each can be
compared with (L(w + h) − L(w − h)) / 2h, entry by entry.
"""

from __future__ import annotations

import numpy as np

from cartoonbrain.diagnostics.gradcheck import central_difference


def bind(layer, rng, scale=0.5):
    """Give a layer float64 parameters drawn from N(0, scale²) and NaN gradients."""
    params = [rng.standard_normal(shape) * scale for shape in layer.parameter_shapes()]
    grads = [np.full(shape, np.nan) for shape in layer.parameter_shapes()]
    layer.bind(params, grads)
    layer.attach(rng)
    return params, grads


def central_differences(loss, array, epsilon=1e-6):
    """(L(w + h) − L(w − h)) / 2h for every entry w of ``array`` (changed in place, restored):
    the library's one helper, :func:`cartoonbrain.diagnostics.gradcheck.central_difference`."""
    return central_difference(lambda _: loss(), array, epsilon)


def assert_layer_gradients(layer, x, params, grads, training=False, seed=0, input_gradient=True):
    """backward(G) against central differences of L = Σ G ⊙ forward(x), for x and θ."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal(layer.forward(x, training).shape)

    def loss():
        return float(np.vdot(G, layer.forward(x, training)))

    layer.forward(x, training)
    g_x = layer.backward(G, need_input_gradient=True)
    analytic = [g.copy() for g in grads]
    for p, a in zip(params, analytic):
        np.testing.assert_allclose(a, central_differences(loss, p), rtol=1e-6, atol=1e-8)
    if input_gradient:
        np.testing.assert_allclose(g_x, central_differences(loss, x), rtol=1e-6, atol=1e-8)
    return g_x
