"""The ``cartoonbrain`` command line: argparse in front of the library, no maths here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__, blog


class CommandError(Exception):
    """A user-facing error: printed as one line on stderr, exit status 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def _add_blog(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "blog",
        help="run the blog post's experiment (six sigmoid layers, SGD on random data)",
        description=(
            "Reproduce the post's experiment exactly: a 10-100-150-80-40-10-2 network with "
            "standard-normal weights, no biases and a sigmoid on every layer, trained by SGD "
            "one sample at a time on random data. Prints 'Epoch e / E; Loss L' per epoch."
        ),
    )
    p.add_argument("--epochs", type=_positive_int, default=100, help="epochs (default 100)")
    p.add_argument("--samples", type=_positive_int, default=50, help="samples (default 50)")
    p.add_argument(
        "--learning-rate", type=_positive_float, default=0.05, help="SGD step ε (default 0.05)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the data and weights (default 0)")
    p.set_defaults(handler=_run_blog)


def _run_blog(args: argparse.Namespace) -> int:
    blog.run(
        epochs=args.epochs,
        n_samples=args.samples,
        learning_rate=args.learning_rate,
        seed=args.seed,
        log=lambda line: print(line, flush=True),
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cartoonbrain",
        description="Neural networks in pure NumPy, from the blog post's backpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"cartoonbrain {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when something fails"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_blog(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cartoonbrain`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except (CommandError, ValueError, OSError) as exc:
        if args.debug:
            raise
        print(f"cartoonbrain {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
