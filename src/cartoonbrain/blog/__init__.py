"""The blog post's network and its experiment, by the post's names.

    post.py        the post's functions: make_net, forward, backward, sgd, mse, BLOG_LAYERS
    experiment.py  the post's experiment: draw_experiment (its random data) and run (its
                   loop, calling the functions of post.py line for line)
    fused.py       run_fused: the same experiment arranged for speed (``cartoonbrain blog``
                   runs it; ``--readable`` runs :func:`run`); equal losses, to rounding
    journey.py     trace: one sample's journey, a_l and o_l forward, g and ∇W_l back, by
                   the post's names (``cartoonbrain blog --trace``)
    inspect.py     blog_network, blog_report: the post's network as a cb.Network, trained
                   by ``fit`` and looked inside (``cartoonbrain blog --report``); not
                   imported here, as it needs the whole library

Everything here uses the post's column vectors: ``x`` of shape ``(n_in, 1)`` (or
``(n_in, batch)``), weights ``W_l`` of shape ``(n_out, n_in)``, no biases.
"""

from __future__ import annotations

from . import experiment, fused, post
from .experiment import draw_experiment, run
from .fused import run_fused
from .journey import Journey, trace
from .post import (
    BLOG_LAYERS,
    backward,
    forward,
    make_net,
    mse,
    sgd,
    sigmoid_gradient,
    stable_sigmoid,
)

__all__ = [
    "BLOG_LAYERS",
    "Journey",
    "backward",
    "draw_experiment",
    "experiment",
    "forward",
    "fused",
    "make_net",
    "mse",
    "post",
    "run",
    "run_fused",
    "sgd",
    "sigmoid_gradient",
    "stable_sigmoid",
    "trace",
]
