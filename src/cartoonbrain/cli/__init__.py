"""The ``cartoonbrain`` command line: argparse in front of the library, no maths here.

    cartoonbrain train [--dataset NAME | --data FILE.csv --target COLUMN] [options]
    cartoonbrain evaluate --model PATH (--dataset NAME | --data FILE.csv --target COLUMN)
    cartoonbrain predict --model PATH --data FILE.csv [--out predictions.csv]
    cartoonbrain export --model PATH --out FILE.onnx [--input-shape C,H,W]
    cartoonbrain datasets
    cartoonbrain blog [--epochs N] [--samples N] [--learning-rate F] [--seed S] [--report DIR]

``train --report DIR`` and ``blog --report DIR`` also write ``DIR/report.html`` (curves,
per-layer gradients, diagnostics) and print the diagnostics.

Every expected failure (a bad file, a bad option, a diverging run) ends with exit status 2
and one line on stderr; ``--debug`` shows the traceback instead.

One module per command (``train.py``, ``evaluate.py``, …), each with ``add_parser(sub)``
and ``run(args)``; a new command is a new module added to :data:`COMMANDS`. Data
preparation (CSV reading, label encoding, scaling, the test split) is in ``_data.py``,
the shared argument types in ``_args.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from .. import __version__
from . import blog, datasets, evaluate, export, predict, train
from ._errors import CommandError

__all__ = ["COMMANDS", "CommandError", "build_parser", "main"]

#: the subcommands, in the order ``--help`` lists them
COMMANDS = (train, evaluate, predict, export, datasets, blog)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (registry choices are read now, at build time)."""
    parser = argparse.ArgumentParser(
        prog="cartoonbrain",
        description="Neural networks in pure NumPy, from the blog post's backpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"cartoonbrain {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when something fails"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cartoonbrain`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    previous = None
    with contextlib.suppress(ValueError):  # not in the main thread: leave SIGTERM alone
        # SIGTERM unwinds like Ctrl-C, so half-written files are removed on the way out
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return _dispatch(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _report(command: str, exc: BaseException) -> int:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, OSError) and exc.filename:
        message = f"{exc.filename}: {exc.strerror or exc}"
    print(f"cartoonbrain {command}: error: {message}", file=sys.stderr)
    return 2


def _dispatch(args: argparse.Namespace) -> int:
    try:
        try:
            return int(args.handler(args))
        except BrokenPipeError:
            raise
        except (CommandError, ValueError, OSError, ImportError) as exc:
            if args.debug:
                raise
            return _report(args.command, exc)
    except BrokenPipeError:  # e.g. `cartoonbrain predict ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"cartoonbrain {args.command}: interrupted", file=sys.stderr)
        return 130
