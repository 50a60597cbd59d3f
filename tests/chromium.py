"""Headless Chromium driven through the DevTools protocol, for the playground's browser test.

    browser = Chromium.start(tmp_path)       # finds chromium (CHROMIUM=path to choose one)
    browser.navigate(url); browser.evaluate("1 + 1"); browser.click("#play")
    browser.problems()                       # every console error, exception, failed load
    browser.close()

``python tests/chromium.py docs/playground.png`` serves the playground, trains the spiral
for a few seconds in Chromium and writes the screenshot the docs show.

Needs Debian's ``chromium`` (``apt-get install -y chromium chromium-driver``) and the
``websocket-client`` package (the dev extra); :func:`missing` says which one is absent.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

#: Chromium's flags: no sandbox (containers), nothing fetched from outside, a fresh profile
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,860",
    "--remote-debugging-port=0",
]


def find_chromium() -> str | None:
    """The Chromium to run: $CHROMIUM, else chromium, chromium-browser or google-chrome."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    return next((path for path in map(shutil.which, names) if path), None)


def missing() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    try:
        import websocket  # noqa: F401
    except ImportError:
        return "websocket-client is not installed (pip install websocket-client; the dev extra)"
    if find_chromium() is None:
        return (
            "Chromium is not installed: apt-get update && apt-get install -y chromium "
            "chromium-driver (or set CHROMIUM=/path/to/chromium)"
        )
    return None


class Chromium:
    """One headless Chromium with one page, spoken to over its DevTools websocket."""

    def __init__(self, process: subprocess.Popen[bytes], profile: Path, socket: Any) -> None:
        self.process, self.profile, self.socket = process, profile, socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable")

    @classmethod
    def start(cls, folder: Path, timeout: float = 30.0) -> Chromium:
        import websocket

        profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=folder))
        command = [find_chromium() or "chromium", *FLAGS, f"--user-data-dir={profile}"]
        process = subprocess.Popen(
            [*command, "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"Chromium did not start ({' '.join(command)})")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as reply:
            targets = json.load(reply)
        page = next(t for t in targets if t["type"] == "page")
        socket = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True
        )
        return cls(process, profile, socket)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method and return its result (events meanwhile are kept)."""
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"{expression} stayed false for {timeout} s")

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def click(self, selector: str) -> None:
        """A real mouse click (pressed, released) at the middle of the element."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def problems(self) -> list[str]:
        """Every console message of level error or warning, uncaught exception, failed
        request and HTTP error the page met, in words."""
        self.evaluate("0")  # collect the events so far
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in (
                "error",
                "warning",
                "assert",
            ):
                text = " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                found.append(f"console.{params['type']}: {text}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                entry = params["entry"]
                found.append(f"log {entry['level']}: {entry['text']} {entry.get('url', '')}")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                found.append(f"request failed: {params.get('errorText')}")
            elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
                response = params["response"]
                found.append(f"HTTP {response['status']}: {response['url']}")
        return found

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:
            pass
        self.socket.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main(out: str) -> int:
    """Write the docs' screenshot: the spiral, 8-8 units, x₁, x₂, x₁², x₂², trained a while."""
    import threading

    from cartoonbrain.playground import PlaygroundServer

    server = PlaygroundServer("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    query = "dataset=spiral&noise=0.05&hidden=8,8,4&features=x1,x2,x1sq,x2sq,sinx1,sinx2"
    query += "&learning_rate=0.01&optimizer=adam&batch_size=10&seed=1"
    with tempfile.TemporaryDirectory() as folder:
        browser = Chromium.start(Path(folder))
        try:
            browser.send(
                "Emulation.setDeviceMetricsOverride",
                width=1280,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            browser.navigate(f"{server.url}?{query}")
            browser.wait_for("window.playgroundStats.frames > 0")
            browser.click("#play")
            time.sleep(float(os.environ.get("SECONDS_TRAINED", "20")))
            browser.click("#play")
            time.sleep(1)
            browser.evaluate("document.getElementById('show_test').click()")
            time.sleep(0.5)
            browser.screenshot(Path(out))
            print("\n".join(browser.problems()) or "no console problems")
        finally:
            browser.close()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
