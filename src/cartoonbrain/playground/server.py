"""The playground's web server: the standard library's ThreadingHTTPServer, on loopback.

    GET  /                       the page (a new page: its own token, its own training)
    GET  /static/app.js, …       the page's script and style, from the package (offline)
    POST /api/reset              {settings} → a new training for this page, paused
    POST /api/control            {"action": "play" | "pause" | "step"}
    GET  /api/stream?token=T     the frames, as Server-Sent Events
    GET  /api/export/model?token=T, /api/export/script?token=T    the downloads

Safe on a shared machine: every request whose Host header is not ``127.0.0.1:PORT`` or
``localhost:PORT`` (or the ``--host`` given with ``--allow-remote``) gets 403, which
defeats DNS rebinding; the POSTs need the page's token in ``X-Playground-Token`` and the
exports and the stream in the query (compared in constant time); a body needs a
Content-Length of at most :data:`MAX_BODY` bytes (411, 413); settings out of bounds get a
400 with one line. Each page gets one training; at most :data:`MAX_PAGES` pages are kept
and the oldest page's training is stopped when another opens. Every response forbids
other origins' scripts and frames (Content-Security-Policy ``default-src 'self'``).
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .export import model_bytes, script
from .session import Session
from .settings import parse

__all__ = ["MAX_BODY", "MAX_PAGES", "PlaygroundServer"]

#: the largest request body taken, in bytes; the pages (trainings) kept at once
MAX_BODY, MAX_PAGES = 16 * 1024, 4
_STATIC = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_SECURITY = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _asset(name: str) -> bytes:
    return resources.files(__package__).joinpath("static").joinpath(name).read_bytes()


class _Page:
    """One open page: its token and the training it runs (None before its first reset)."""

    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(24)
        self.session: Session | None = None
        self.runs = 0

    def replace(self, session: Session | None) -> int:
        """Stop the page's training and start ``session`` as its next run (its number)."""
        old = self.session
        if session is not None:
            self.runs += 1
            session.run = self.runs
        self.session = session
        if old is not None:
            old.stop()
        return self.runs


class PlaygroundServer(ThreadingHTTPServer):
    """The server of ``cartoonbrain playground`` (see the module).

    Parameters
    ----------
    host, port : where to listen (port 0: a free port, read :attr:`port` afterwards)
    allowed_hosts : extra Host header names taken besides 127.0.0.1 and localhost
    """

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0, allowed_hosts: tuple[str, ...] = ()):
        if ":" in host:
            import socket

            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)
        self.port = int(self.server_address[1])
        self.host = host
        names = ("127.0.0.1", "localhost", host, *allowed_hosts)
        self.hosts = {f"{name}:{self.port}" for name in names}
        self.hosts |= {f"[{name}]:{self.port}" for name in names if ":" in name}
        self.pages: OrderedDict[str, _Page] = OrderedDict()
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self._served = False

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._served = True
        super().serve_forever(poll_interval)

    @property
    def url(self) -> str:
        """The page's address: http://HOST:PORT/ (an IPv6 address in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def new_page(self) -> _Page:
        page, dropped = _Page(), []
        with self.lock:
            self.pages[page.token] = page
            while len(self.pages) > MAX_PAGES:
                dropped.append(self.pages.popitem(last=False)[1])
        for oldest in dropped:  # outside the lock: other pages' requests go on meanwhile
            oldest.replace(None)
        return page

    def page(self, token: str | None) -> _Page | None:
        if not token:
            return None
        with self.lock:
            for known, page in self.pages.items():
                if hmac.compare_digest(known.encode(), token.encode()):
                    return page
        return None

    def stop(self) -> None:
        """Stop every training and the stream handlers, then stop serving."""
        self.closing.set()
        with self.lock:
            pages = list(self.pages.values())
        for page in pages:
            page.replace(None)
        if self._served:  # returns at once when serve_forever has ended already
            self.shutdown()
        self.server_close()


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    server_version = "cartoonbrain-playground"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet on the console
        pass

    # ------------------------------------------------------------------ replies
    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**_SECURITY, **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _refuse(self, refused: _Refused) -> None:
        self._json(refused.status, {"error": str(refused)})

    # ------------------------------------------------------------------ checks
    def _check_host(self) -> None:
        if self.headers.get("Host", "") not in self.server.hosts:
            raise _Refused(HTTPStatus.FORBIDDEN, "this Host is not the playground's")

    def _query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def _page(self, token: str | None) -> _Page:
        page = self.server.page(token)
        if page is None:
            raise _Refused(HTTPStatus.FORBIDDEN, "missing or unknown page token")
        return page

    def _body(self) -> Any:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise _Refused(HTTPStatus.LENGTH_REQUIRED, "a body needs a Content-Length")
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise _Refused(HTTPStatus.LENGTH_REQUIRED, "a body needs a Content-Length")
        if int(length) > MAX_BODY:
            raise _Refused(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"a body is at most {MAX_BODY} bytes"
            )
        try:
            return json.loads(self.rfile.read(int(length)) or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Refused(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {exc}") from None

    # ------------------------------------------------------------------ GET
    def do_GET(self) -> None:
        try:
            self._check_host()
            path = urlsplit(self.path).path
            if path == "/":
                self._index()
            elif path.startswith("/static/") and path[len("/static/") :] in _STATIC:
                name = path[len("/static/") :]
                self._send(200, _asset(name), _STATIC[name])
            elif path == "/api/stream":
                self._stream(self._page(self._query().get("token")))
            elif path in ("/api/export/model", "/api/export/script"):
                self._export(self._page(self._query().get("token")), path.rsplit("/", 1)[1])
            else:
                raise _Refused(HTTPStatus.NOT_FOUND, f"no such page: {path}")
        except _Refused as refused:
            self._refuse(refused)

    do_HEAD = do_GET

    def _index(self) -> None:
        page = self.server.new_page()
        html = _asset("index.html").decode().replace("{{TOKEN}}", page.token)
        self._send(200, html.encode(), "text/html; charset=utf-8")

    def _export(self, page: _Page, kind: str) -> None:
        session = page.session
        if session is None:
            raise _Refused(HTTPStatus.CONFLICT, "nothing trained yet: press Reset or Play first")
        if kind == "model":
            body = model_bytes(session.exported_network())
            disposition = 'attachment; filename="playground.npz"'
            self._send(
                200, body, "application/octet-stream", **{"Content-Disposition": disposition}
            )
        else:
            body = script(session.settings, session.epoch).encode()
            disposition = 'attachment; filename="playground.py"'
            self._send(
                200, body, "text/x-python; charset=utf-8", **{"Content-Disposition": disposition}
            )

    def _stream(self, page: _Page) -> None:
        """Server-Sent Events: each new frame of the page's current training, as JSON."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        for name, value in _SECURITY.items():
            self.send_header(name, value)
        self.end_headers()
        session, sent, quiet = None, 0, 0
        while not self.server.closing.is_set() and self.server.page(page.token) is page:
            if page.session is not session:
                session, sent = page.session, 0
            if session is None:
                self.server.closing.wait(0.2)
                continue
            sequence, frame = session.wait_frame(sent, timeout=1.0)
            try:
                if sequence > sent and frame is not None:
                    sent, quiet = sequence, 0
                    data = json.dumps({"run": session.run, "frame": sequence, **frame})
                    self.wfile.write(f"data: {data}\n\n".encode())
                else:
                    quiet += 1
                    if quiet % 10 == 0:  # a comment now and then finds a closed page
                        self.wfile.write(b": waiting\n\n")
                self.wfile.flush()
            except OSError:  # the page went away
                return

    # ------------------------------------------------------------------ POST
    def do_POST(self) -> None:
        try:
            self._check_host()
            page = self._page(self.headers.get("X-Playground-Token"))
            body = self._body()
            path = urlsplit(self.path).path
            if path == "/api/reset":
                try:
                    settings = parse(body)
                except ValueError as exc:
                    raise _Refused(HTTPStatus.BAD_REQUEST, str(exc)) from None
                session = Session(settings)
                run = page.replace(session)
                self._json(200, {"run": run, **session.describe()})
            elif path == "/api/control":
                self._control(page, body)
            else:
                raise _Refused(HTTPStatus.NOT_FOUND, f"no such action: {path}")
        except _Refused as refused:
            self._refuse(refused)

    def _control(self, page: _Page, body: Any) -> None:
        action = body.get("action") if isinstance(body, dict) else None
        if action not in ("play", "pause", "step"):
            raise _Refused(
                HTTPStatus.BAD_REQUEST, f"action must be play, pause or step; got {action!r}"
            )
        if page.session is None:
            raise _Refused(HTTPStatus.CONFLICT, "nothing to train yet: send the settings first")
        getattr(page.session, action)()
        self._json(200, {"run": page.runs, "action": action})

    def do_PUT(self) -> None:
        self._not_allowed()

    do_DELETE = do_PATCH = do_PUT

    def _not_allowed(self) -> None:
        try:
            self._check_host()
            raise _Refused(HTTPStatus.METHOD_NOT_ALLOWED, f"{self.command} is not served here")
        except _Refused as refused:
            self._refuse(refused)
