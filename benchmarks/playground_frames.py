"""Boundary frames a second that ``cartoonbrain playground`` streams while it trains.

Target (issue 30): >= 20 frames a second of the 100x100 decision map for a 2-8-8-1
network (features x1, x2; tanh; SGD, batch 10; 500 points, half for training). The real
command is started (``--port 0 --no-browser``), a page is opened and played, and its event
stream read for ``--seconds``; epochs a second come from the frames' epoch counter. The
machine's load average is printed with the result, since other work shares the cores.
Also the cost of one frame alone (frames.frame), in this process, and of the grid's first
matmul as one call against 1000-row blocks (frames.affines_in_blocks).

    python benchmarks/playground_frames.py [--seconds 10] [--hidden 8,8] [--browser]

``--browser`` also opens the page in headless Chromium (tests/chromium.py) and counts the
frames the page receives and draws (window.playgroundStats), Chromium sharing the cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))
TARGET = 20.0


def _stream_rate(hidden: list[int], seconds: float, warm: float) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "cartoonbrain", "playground", "--port", "0", "--no-browser"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        assert process.stdout is not None
        port = int(re.search(r":(\d+)/", process.stdout.readline().decode()).group(1))  # type: ignore[union-attr]

        def call(method: str, path: str, body: object = None, token: str = "") -> bytes:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            data = None if body is None else json.dumps(body)
            connection.request(method, path, data, {"X-Playground-Token": token})
            return connection.getresponse().read()

        html = call("GET", "/").decode()
        token = re.search(r'playground-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        call("POST", "/api/reset", {"hidden": hidden, "features": ["x1", "x2"]}, token)
        call("POST", "/api/control", {"action": "play"}, token)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", f"/api/stream?token={token}")
        response = connection.getresponse()
        frames, start, first_epoch, epoch = 0, None, 0, 0
        while True:
            line = response.fp.readline()
            if not line.startswith(b"data: "):
                continue
            frame = json.loads(line[6:])
            now = time.perf_counter()
            if frame["epoch"] == 0:
                continue  # the kernels are still being compiled
            if start is None:
                start = now + warm
            if now < start:
                first_epoch = frame["epoch"]
                continue
            assert len(frame["boundary"]) == 13336  # 10000 bytes in base64
            frames, epoch = frames + 1, frame["epoch"]
            if now - start >= seconds:
                return frames / (now - start), (epoch - first_epoch) / (now - start)
    finally:
        process.terminate()
        process.wait(30)


def _browser_rates(hidden: list[int], seconds: float, warm: float) -> tuple[float, float, float]:
    """(frames received a second, frames drawn a second, ms from load to the first frame)."""
    import tempfile
    import threading

    sys.path.insert(0, str(SRC.parent / "tests"))
    from cartoonbrain.cli.playground import _one_blas_thread
    from cartoonbrain.playground import PlaygroundServer
    from cartoonbrain.playground.session import warm_up
    from chromium import Chromium  # type: ignore[import-not-found]

    warm_up()
    server = PlaygroundServer("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    counts = "[window.playgroundStats.boundaryFrames, window.playgroundStats.drawn]"
    try:
        with tempfile.TemporaryDirectory() as folder, _one_blas_thread():
            browser = Chromium.start(Path(folder))
            try:
                query = f"?hidden={','.join(map(str, hidden))}&features=x1,x2"
                browser.navigate(server.url + query)
                browser.wait_for("window.playgroundStats.frames > 0")
                first = browser.evaluate("window.playgroundStats.firstFrameAt")
                browser.click("#play")
                time.sleep(warm)
                received, drawn = browser.evaluate(counts)
                time.sleep(seconds)
                received_after, drawn_after = browser.evaluate(counts)
            finally:
                browser.close()
    finally:
        server.stop()
    return (received_after - received) / seconds, (drawn_after - drawn) / seconds, first


def _frame_cost(hidden: list[int], repeats: int = 30) -> float:
    from cartoonbrain import Dense
    from cartoonbrain.playground import Settings, build_network, datasets, frames

    s = Settings(hidden=tuple(hidden), features=("x1", "x2"), dataset="spiral")
    net = build_network(s)
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    data = datasets.split(*datasets.make(s.dataset, s.n_points, s.noise, s.seed), 0.5)
    grid = frames.grid_points()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        frames.frame(dense, s.features, data, grid)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _matmul_costs(repeats: int = 30) -> tuple[float, float]:
    from cartoonbrain.playground.frames import affines_in_blocks

    rng = np.random.default_rng(0)
    o, W, b = rng.normal(size=(10000, 8)), rng.normal(size=(8, 8)), rng.normal(size=8)
    costs = []
    for f in (lambda: o @ W.T + b, lambda: affines_in_blocks(o, W, b)):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
        costs.append(statistics.median(times))
    return costs[0], costs[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--warm", type=float, default=2.0, help="seconds skipped after training starts"
    )
    parser.add_argument("--hidden", default="8,8", help="hidden layer sizes (default 8,8)")
    parser.add_argument("--browser", action="store_true", help="also count them in Chromium")
    args = parser.parse_args()
    hidden = [int(h) for h in args.hidden.split(",")]
    load_before = os.getloadavg()
    rate, epochs = _stream_rate(hidden, args.seconds, args.warm)
    load_after = os.getloadavg()
    cost = _frame_cost(hidden)
    one_call, blocks = _matmul_costs()
    network = "-".join(str(n) for n in [2, *hidden, 1])
    print(
        f"machine: {os.cpu_count()} cores; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after"
    )
    print(f"{network}: {rate:.1f} boundary frames/s streamed (100x100), {epochs:.1f} epochs/s")
    verdict = "PASS" if rate >= TARGET else "FAIL"
    print(f"  ratio to the target of {TARGET:.0f} frames/s: {rate / TARGET:.2f}x  {verdict}")
    if args.browser:
        received, drawn, first = _browser_rates(hidden, args.seconds, args.warm)
        print(
            f"in headless Chromium: {received:.1f} frames/s received, {drawn:.1f}/s drawn; "
            f"the first frame {first:.0f} ms after the page began (load {os.getloadavg()[0]:.2f})"
        )
    print(f"one frame computed alone: {cost * 1e3:.2f} ms (median of 30, this process)")
    print(
        f"grid matmul (10000, 8) @ (8, 8): {one_call * 1e3:.2f} ms in one call, "
        f"{blocks * 1e3:.2f} ms in 1000-row blocks ({one_call / blocks:.1f}x)"
    )
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
