"""The ``cartoonbrain`` command line: argparse in front of the library, no maths here.

    cartoonbrain train [--dataset NAME | --data FILE.csv --target COLUMN] [options]
    cartoonbrain evaluate --model PATH (--dataset NAME | --data FILE.csv --target COLUMN)
    cartoonbrain predict --model PATH --data FILE.csv [--out predictions.csv]
    cartoonbrain export --model PATH --out FILE.onnx [--input-shape C,H,W]
    cartoonbrain datasets
    cartoonbrain blog [--epochs N] [--samples N] [--learning-rate F] [--seed S] [--report DIR]
    cartoonbrain playground [--port N] [--host 127.0.0.1] [--no-browser]

``train --report DIR`` and ``blog --report DIR`` also write ``DIR/report.html`` (curves,
per-layer gradients, diagnostics) and print the diagnostics.

Every failure (a bad file, a bad option, a diverging run, and any other error the library
raises) ends with exit status 2 and one line on stderr; ``--debug`` shows the traceback
instead. Before a command does any work, the files it reads and writes are checked
(``_files.py``): no output may replace an input, and a command that writes files takes
``--force`` to replace an existing file of another kind.

One module per command (``train.py``, ``evaluate.py``, …), each with ``add_parser(sub)``
and ``run(args)``; a new command is a new module added to :data:`COMMANDS`. The training
data and the preprocessing a model learns from it (the task, text columns, imputation,
the test split) are in ``_data.py`` and ``_source.py`` (train's column options), what
evaluate and predict feed a saved model in ``_inputs.py``, the shared argument types in
``_args.py``, the checks of the files in ``_files.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from .._version import __version__
from . import blog, datasets, evaluate, export, playground, predict, sweep, train
from ._errors import CommandError
from ._files import check_files, user_path

__all__ = ["COMMANDS", "CommandError", "build_parser", "main"]

#: the subcommands, in the order ``--help`` lists them
COMMANDS = (train, evaluate, predict, export, datasets, blog, sweep, playground)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (registry choices are read now, at build time)."""
    parser = argparse.ArgumentParser(
        prog="cartoonbrain",
        description="Neural networks in pure NumPy, from the blog post's backpropagation.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"cartoonbrain {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback when something fails"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    for p in sub.choices.values():  # every command that writes files takes --force
        p.allow_abbrev = False  # --drop is not --dropout: options are spelled out
        files = p.get_default("files")
        if files is not None and files.outputs:
            checkpoint = "--checkpoint" in p._option_string_actions  # train's, not blog's
            also = ", or an existing --checkpoint without --resume" if checkpoint else ""
            p.add_argument(
                "--force",
                action="store_true",
                help=f"replace an existing output file of another kind{also} (never one of "
                "the inputs)",
            )
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


#: errors whose message alone says what went wrong; any other is shown with its type
_EXPECTED = (CommandError, ValueError, OSError, ImportError)


def _report(command: str, exc: BaseException) -> int:
    """One line on stderr for any error; exit status 2."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, OSError) and exc.filename:
        message = f"{user_path(exc.filename)}: {exc.strerror or exc}"
    elif isinstance(exc, MemoryError):
        message = "out of memory" + (f" ({message})" if message else "")
    elif not isinstance(exc, _EXPECTED):
        message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        message += " (--debug shows where)"
    print(f"cartoonbrain {command}: error: {message}", file=sys.stderr)
    return 2


class _ClosedStdout:
    """sys.stdout for a command that saves files: once the reader has gone (``| head -1``),
    what it prints goes nowhere and the command goes on to save its model."""

    def __init__(self, stream: object) -> None:
        self._stream, self.closed_pipe = stream, False

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                return int(self._stream.write(text))  # type: ignore[attr-defined]
            except BrokenPipeError:
                self._closed()
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self._stream.flush()  # type: ignore[attr-defined]
            except BrokenPipeError:
                self._closed()

    def _closed(self) -> None:
        self.closed_pipe = True
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


#: the commands whose work is a saved file: a closed stdout does not stop them
_SAVING = ("train", "sweep")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in _SAVING and not isinstance(sys.stdout, _ClosedStdout):
        stdout, sys.stdout = sys.stdout, _ClosedStdout(sys.stdout)
        try:
            return _run(args)
        finally:
            sys.stdout = stdout
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        try:
            check_files(args)
            return int(args.handler(args))
        except BrokenPipeError:
            raise
        except Exception as exc:  # every error from the library: one line
            if args.debug:
                raise
            return _report(args.command, exc)
    except BrokenPipeError:  # e.g. `cartoonbrain predict ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"cartoonbrain {args.command}: interrupted", file=sys.stderr)
        return 130
