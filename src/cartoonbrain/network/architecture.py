"""The checks a network makes when it is built: that each layer fits the next, that the
loss and the last layer agree, and that the preprocessing fits the first layer.

Each fact is asked of the layers themselves (``expected_input_shape``, ``keeps_shape``,
``flattens``, ``output_activation``; :class:`~cartoonbrain.layers.Layer`), so a new layer
type takes part by declaring its facts, never by being named here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..data.preprocessing import Preprocessor, TargetEncoder

if TYPE_CHECKING:
    from ..layers import Layer
    from ..losses import Loss
    from .network import Network

Shape = tuple[int, ...]

__all__ = [
    "check_chain",
    "check_codecs",
    "check_loss_pairing",
    "infer_input_shape",
]


def check_chain(
    layers: Sequence[Layer], input_shape: Sequence[int] | None
) -> tuple[Shape | None, int | None, Shape]:
    """Check that each layer fits the next. Returns one sample's input shape (None when
    unknown), its number of features when only that is known (after a layer that
    flattens), and one sample's output shape."""
    input_size = None
    if input_shape is not None:
        input_shape = tuple(int(n) for n in input_shape)
        if not input_shape or any(n <= 0 for n in input_shape):
            raise ValueError(f"input_shape must be positive sizes; got {input_shape!r}")
    else:
        input_shape, input_size = infer_input_shape(layers)
    shape: Any = input_shape
    for i, layer in enumerate(layers):
        try:
            shape = layer.output_shape(shape)
        except ValueError as exc:
            raise ValueError(f"layer {i} ({type(layer).__name__}) does not fit: {exc}") from None
    if shape is None:
        raise ValueError("the network's output size is unknown: end it with a Dense layer")
    return input_shape, input_size, shape


def infer_input_shape(layers: Sequence[Layer]) -> tuple[Shape | None, int | None]:
    """The first layer's ``expected_input_shape`` (a Dense's (n_in,)), looking past the
    layers that keep their input's shape (Dropout).

    After a layer that flattens, the number of features is known but not their shape:
    it comes back as the second value, checked against each input's product of dimensions.
    """
    flattened = False
    for layer in layers:
        shape = layer.expected_input_shape
        if shape is not None:
            return (None, math.prod(shape)) if flattened else (tuple(shape), None)
        if layer.flattens:
            flattened = True
        elif not layer.keeps_shape:
            return None, None
    return None, None


def check_loss_pairing(last: Layer, loss: Loss) -> None:
    """The cross-entropy losses take logits: the last layer may apply no activation."""
    wanted, applied = loss.output_activation, last.output_activation
    if wanted is None or applied is None:
        return
    kind = type(last).__name__
    if applied == wanted:
        raise ValueError(
            f"the last layer applies {wanted!r} but loss={loss.name!r} applies it "
            f"itself, exactly, from the logits; use activation='identity' on the last "
            f"layer ({kind}; predict() still returns probabilities)"
        )
    if applied != "identity":
        raise ValueError(
            f"loss={loss.name!r} takes logits: the last layer ({kind}) must have "
            f"activation='identity', not {applied!r}"
        )


def check_codecs(
    net: Network, preprocessor: Preprocessor | None, target_encoder: TargetEncoder | None
) -> None:
    """The preprocessing (fitted) must give what the first layer takes, and the target
    encoder must suit the loss (classes for classifiers, scaling otherwise) and the last
    layer's width (:meth:`TargetEncoder.check_width`)."""
    if preprocessor is not None:
        if not isinstance(preprocessor, Preprocessor) or not preprocessor.fitted:
            raise ValueError("preprocessor must be a fitted cartoonbrain Preprocessor")
        n_in = preprocessor.n_features_out
        if net.input_shape not in (None, (n_in,)) or net.input_size not in (None, n_in):
            raise ValueError(
                f"the preprocessor gives {n_in} features but the first layer takes "
                f"{net.input_shape or net.input_size}"
            )
    if target_encoder is not None:
        wanted = "classes" if net.loss.classification else "scale"
        if not isinstance(target_encoder, TargetEncoder) or target_encoder.kind != wanted:
            raise ValueError(
                f"loss {net.loss.name!r} needs a TargetEncoder({wanted!r}); got {target_encoder!r}"
            )
        n_out = net.output_shape[-1] if net.output_shape else 1
        target_encoder.check_width(n_out, net.independent_outputs)
