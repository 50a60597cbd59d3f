"""``cartoonbrain playground``: TensorFlow Playground on the real engine, in the browser.

cartoonbrain playground [--port N] [--host 127.0.0.1] [--allow-remote] [--no-browser]

Starts :class:`cartoonbrain.playground.PlaygroundServer` on loopback, prints its URL on
stdout at once (flushed, so a pipe sees it; ``--port 0`` picks a free port), opens the
browser unless ``--no-browser``, and serves until Ctrl-C or SIGTERM, which stop every
training thread and end with status 0. A ``--host`` that is not a loopback address needs
``--allow-remote``. The page, the server and the training are in ``playground/``.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import sys
import threading
from typing import Any

from ._errors import CommandError
from ._files import Files

__all__ = ["add_parser", "run"]


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535; got {text!r}")
    return int(text)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "playground",
        help="train a network in the browser, as TensorFlow Playground (a local web page)",
        description=(
            "Serve TensorFlow Playground's page on this machine, training a real cartoonbrain "
            "network: 2-D datasets, features, layers, every knob; the decision boundary, each "
            "unit's map, the weights and the diagnostics as it learns; export the model file "
            "or a script. Prints the URL; Ctrl-C stops it."
        ),
    )
    p.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0: a free one)")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback)"
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that is not loopback (anyone who can reach it can train on it); "
        "give the address the browser will use, as only it is taken in the Host header",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(handler=run, files=Files())


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Terminated(Exception):
    """SIGTERM, turned into an exception in the main thread (as Ctrl-C is)."""


def _terminate(signum: int, frame: Any) -> None:
    raise _Terminated


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """BLAS on one thread while serving, when threadpoolctl is there: the 100×100 grid's
    (10000, 8) @ (8, 8) took 10 ms with OpenBLAS's threads on a loaded 2-core machine and
    0.37 ms on one (benchmarks/playground_frames.py measures the frames it allows)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def run(args: argparse.Namespace) -> int:
    from ..playground import PlaygroundServer
    from ..playground.session import warm_up

    if not _is_loopback(args.host) and not args.allow_remote:
        raise CommandError(
            f"--host {args.host} is not a loopback address; add --allow-remote to serve "
            "other machines"
        )
    try:
        server = PlaygroundServer(args.host, args.port)  # takes Host: HOST:PORT as well
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {args.host} port {args.port}: {exc.strerror or exc} "
            "(--port 0 picks a free port)"
        ) from None
    print(server.url, flush=True)
    threading.Thread(target=warm_up, name="playground-warm-up", daemon=True).start()
    if not args.no_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        with _one_blas_thread():
            server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, _Terminated):
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        server.stop()
    print("cartoonbrain playground: stopped", file=sys.stderr, flush=True)
    return 0
