"""One sample's journey through the post's network, by the post's names (:func:`trace`).

Forward, for l = 1 … L (the post's six layers):

    a_l = W_l o_{l-1}        (affines[l-1])        o_l = f(a_l)        (transforms[l])

then the error at the output, g = y − t (the post's ``error = pred - label``), and back,
for l = L … 1, the three lines of the post's ``backward``:

    g ← g ⊙ f'(a_l)          ∇W_l = g o_{l-1}ᵀ (grads[l-1])          g ← W_lᵀ g

Each quantity is printed with its shape, its norm ‖·‖ (the square root of the sum of its
squares) and its first few entries. The steps are the post's, written out one by one so
that each g can be shown (tests/test_blog.py checks the gradients against
:func:`.post.backward`'s).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .experiment import check_settings, draw_experiment, run
from .post import BLOG_LAYERS, Array, forward, mse, sigmoid_gradient, stable_sigmoid

__all__ = ["Journey", "trace"]


@dataclass(repr=False)
class Journey:
    """What :func:`trace` computed for its sample, by the post's names.

    ``affines[n]`` is a_{n+1}, ``transforms[n]`` is o_n (``transforms[0]`` is x),
    ``error`` is y − t, ``gs[k]`` the g after each backward line in the order printed, and
    ``grads[n]`` is ∇W_{n+1}; ``lines`` is the printed text.
    """

    sample: int
    epochs: int
    affines: list[Array]
    transforms: list[Array]
    label: Array
    error: Array
    loss: float
    grads: list[Array]
    gs: list[tuple[str, Array]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"Journey(sample {self.sample} after {self.epochs} epochs through "
            f"{len(self.affines)} layers: E = {self.loss:.4g}; .affines, .transforms, .error, "
            ".gs, .grads, .lines)"
        )


def describe(maths: str, code: str, value: Array, entries: int = 3) -> str:
    """One line: the maths name, the code name, the shape, ‖·‖ and the first entries."""
    flat = np.asarray(value).reshape(-1)
    shown = ", ".join(f"{v:+.3g}" for v in flat[:entries])
    more = ", …" if flat.size > entries else ""
    shape = str(tuple(np.shape(value)))
    norm = float(np.linalg.norm(flat))
    return f"  {maths:<26} {code:<14} {shape:<10} ‖·‖ = {norm:<9.4g} [{shown}{more}]"


def trace(
    epochs: int = 0,
    n_samples: int = 50,
    learning_rate: float = 0.05,
    layers: Sequence[Sequence[int]] = BLOG_LAYERS,
    seed: int | None = 0,
    sample: int = 0,
    entries: int = 3,
    log: Callable[[str], object] | None = None,
    show_epochs: bool = False,
) -> Journey:
    """Walk one sample through the post's network and back, printing each step.

    The experiment's data and weights are drawn as :func:`.experiment.run` draws them,
    trained for ``epochs`` epochs by the post's loop (0: the weights as drawn), and then
    sample ``sample`` goes forward (a_l, o_l for every layer), the error g = y − t is
    formed, and g goes back through every layer (g ⊙ f'(a_l), ∇W_l = g o_{l-1}ᵀ, W_lᵀ g).

    Parameters
    ----------
    epochs : int, 0 or more
    n_samples, learning_rate, layers, seed : as in :func:`.experiment.run`
    sample : int, which sample (0-based) to follow
    entries : int, how many entries of each array to show
    log : callable or None, called with each line (``None`` prints)
    show_epochs : bool, also log the training's "Epoch e / E; Loss L" lines first

    Returns
    -------
    Journey, the arrays (by the post's names) and the printed lines
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an integer, 0 or more; got {epochs!r}")
    check_settings(max(int(epochs), 1), n_samples, learning_rate)
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)):
        raise ValueError(f"sample must be an integer in [0, {n_samples}); got {sample!r}")
    if not 0 <= sample < n_samples:
        raise ValueError(
            f"sample must be in [0, {n_samples}) (n_samples = {n_samples}); got {sample}"
        )
    emit = print if log is None else log
    draws = draw_experiment(n_samples, layers, seed)
    if epochs:
        quiet: Callable[[str], object] = lambda line: None  # noqa: E731
        run(epochs, n_samples, learning_rate, log=emit if show_epochs else quiet, draws=draws)
    weights = draws.weights
    x, t = draws.samples[sample], draws.labels[sample]
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        emit(line)

    L = len(weights)
    shapes = " ".join(f"{W.shape[1]}→{W.shape[0]}" for W in weights)
    when = "before training" if not epochs else f"after {epochs} epoch{'s' * (epochs > 1)}"
    say(f"One sample's journey: sample {sample} of {n_samples}, {when}")
    say(f"(the post's experiment: seed {seed}, ε = {learning_rate:g}, layers {shapes})")
    say("forward: a_l = W_l o_{l-1}, o_l = f(a_l) with f = σ")
    affines, transforms = forward(x, t, weights, stable_sigmoid)
    say(describe("x = o_0", "transforms[0]", x, entries))
    for n in range(L):
        say(f" layer {n + 1}: W_{n + 1} {weights[n].shape}")
        say(describe(f"a_{n + 1} = W_{n + 1} o_{n}", f"affines[{n}]", affines[n], entries))
        say(
            describe(
                f"o_{n + 1} = f(a_{n + 1})", f"transforms[{n + 1}]", transforms[n + 1], entries
            )
        )
    y = transforms[-1]
    error = y - t
    loss = mse(t, y)
    say("the error at the output:")
    say(describe("t (the label)", "label", t, entries))
    say(describe(f"y = o_{L} (the prediction)", "pred", y, entries))
    say(describe("g = y − t", "error", error, entries))
    say(f"  E = ½ ‖y − t‖² = {loss:.6g}")
    say("backward: g ← g ⊙ f'(a_l), ∇W_l = g o_{l-1}ᵀ, g ← W_lᵀ g")
    g = error
    gs: list[tuple[str, Array]] = []
    grads: list[Array] = [np.empty(0)] * L
    for n in range(L - 1, -1, -1):  # the three lines of the post's backward
        say(f" layer {n + 1}:")
        g = g * sigmoid_gradient(affines[n])
        gs.append((f"g ⊙ f'(a_{n + 1})", g))
        say(describe(f"g ← g ⊙ f'(a_{n + 1})", "g", g, entries))
        grads[n] = g @ transforms[n].T
        say(describe(f"∇W_{n + 1} = g o_{n}ᵀ", f"grads[{n}]", grads[n], entries))
        g = weights[n].T @ g
        gs.append((f"W_{n + 1}ᵀ g", g))
        say(describe(f"g ← W_{n + 1}ᵀ g", "g", g, entries))
    return Journey(sample, int(epochs), affines, transforms, t, error, loss, grads, gs, lines)
