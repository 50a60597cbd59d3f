"""``cartoonbrain blog``: the blog post's experiment (six sigmoid layers, SGD on random data).

cartoonbrain blog [--epochs N] [--samples N] [--learning-rate F] [--seed S] [--report DIR]
                  [--readable] [--trace [SAMPLE]]

Runs ``blog.run_fused`` (the post's steps arranged for speed; tests/test_blog.py checks its
losses against the post's loop to a relative 1e-12); ``--readable`` runs ``blog.run``, the
post's loop calling the post's own functions. ``--trace`` runs ``blog.run`` and then
``blog.trace``: one sample's a_l and o_l through the six layers, its error, and each g and
∇W_l going back, by the post's names with shapes, norms and a few entries.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._args import positive_float, positive_int
from ._files import REPORT, REPORT_NAME, Files, naming

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "blog",
        help="run the blog post's experiment (six sigmoid layers, SGD on random data)",
        description=(
            "Reproduce the post's experiment exactly: a 10-100-150-80-40-10-2 network with "
            "standard-normal weights, no biases and a sigmoid on every layer, trained by SGD "
            "one sample at a time on random data. Prints 'Epoch e / E; Loss L' per epoch."
        ),
    )
    p.add_argument("--epochs", type=positive_int, default=100, help="epochs (default 100)")
    p.add_argument("--samples", type=positive_int, default=50, help="samples (default 50)")
    p.add_argument(
        "--learning-rate", type=positive_float, default=0.05, help="SGD step ε (default 0.05)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the data and weights (default 0)")
    p.add_argument(
        "--report",
        metavar="DIR",
        help="also write DIR/report.html (the same run through cb.Network: curves, per-layer "
        "gradients, diagnostics) and print the diagnostics; needs matplotlib",
    )
    p.add_argument(
        "--readable",
        action="store_true",
        help="run the post's own loop (blog.run: make_net, forward, backward, sgd, mse) instead "
        "of the fused fast path (blog.run_fused); the same losses to rounding, slower",
    )
    p.add_argument(
        "--trace",
        nargs="?",
        const=0,
        type=int,
        metavar="SAMPLE",
        help="after the epochs (the post's own loop), walk one sample (default 0) forward and "
        "back: each layer's a_l = W_l o_{l-1} and o_l = f(a_l), the error g = y − t, then "
        "each g and ∇W_l = g o_{l-1}ᵀ, with shapes, norms and the first entries",
    )
    p.set_defaults(handler=run, files=Files(outputs={"report": REPORT}))


def run(args: argparse.Namespace) -> int:
    from .. import blog

    def log(line: str) -> None:
        print(line, flush=True)

    if args.trace is not None:
        if args.report is not None:
            raise ValueError("--trace and --report are separate views; give one of them")
        blog.trace(  # the post's own loop (blog.run), then the journey
            args.epochs,
            args.samples,
            args.learning_rate,
            seed=args.seed,
            sample=args.trace,
            log=log,
            show_epochs=True,
        )
        return 0
    if args.report is not None:
        from pathlib import Path

        from ..blog.inspect import blog_report

        with naming(Path(args.report) / REPORT_NAME):
            path, _ = blog_report(
                args.report,
                args.epochs,
                args.samples,
                args.learning_rate,
                args.seed,
                log=log,
                readable=args.readable,
            )
        print(f"wrote the training report to {path}", flush=True)
        return 0
    experiment = blog.run if args.readable else blog.run_fused
    experiment(
        epochs=args.epochs,
        n_samples=args.samples,
        learning_rate=args.learning_rate,
        seed=args.seed,
        log=log,
    )
    return 0
