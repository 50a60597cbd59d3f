"""The playground's server as a client meets it, through the standard library's http.client:
the Host check (DNS rebinding), the page's token, the body limit, the bounded settings,
the stream, the exports (cb.load reads the model and it predicts what the page showed;
the script rebuilds it exactly), and the command's start and clean stop."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain import cli
from cartoonbrain.playground import PlaygroundServer
from cartoonbrain.playground import server as server_module
from cartoonbrain.playground.features import transform
from cartoonbrain.playground.frames import grid_points

SRC = Path(cb.__file__).resolve().parents[1]
STATIC = Path(cb.__file__).resolve().parent / "playground" / "static"


@pytest.fixture(scope="module")
def server():
    server = PlaygroundServer("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.stop()


def request(server, method, path, body=None, headers=None, host=None):
    """(status, headers, body) of one request, with the Host header given (or the right one)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    if host is not False:
        connection.putheader("Host", f"127.0.0.1:{server.port}" if host is None else host)
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    if data is not None and "Content-Length" not in (headers or {}):
        connection.putheader("Content-Length", str(len(data)))
    connection.endheaders(data)
    response = connection.getresponse()
    result = response.status, dict(response.getheaders()), response.read()
    connection.close()
    return result


def open_page(server, host=None):
    status, _, html = request(server, "GET", "/", host=host)
    assert status == 200
    return re.search(rb'name="playground-token" content="([^"]+)"', html).group(1).decode()


def post(server, token, path, body, **kwargs):
    status, _, reply = request(
        server, "POST", path, body, headers={"X-Playground-Token": token}, **kwargs
    )
    return status, json.loads(reply)


def first_frame(server, token, timeout=20.0):
    """The newest frame of the page's training, read from its event stream."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    connection.request("GET", f"/api/stream?token={token}")
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = response.fp.readline()
        if line.startswith(b"data: "):
            connection.close()
            return json.loads(line[len(b"data: ") :])
    raise TimeoutError("no frame")


def wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# ---------------------------------------------------------------------- the Host header
def _paths(token):
    return [
        ("GET", "/", None),
        ("GET", "/static/app.js", None),
        ("GET", "/static/style.css", None),
        ("GET", f"/api/stream?token={token}", None),
        ("GET", f"/api/export/model?token={token}", None),
        ("GET", f"/api/export/script?token={token}", None),
        ("GET", "/nothing", None),
        ("POST", "/api/reset", {}),
        ("POST", "/api/control", {"action": "play"}),
        ("PUT", "/api/reset", {}),
    ]


def test_the_right_host_is_served_and_every_other_refused(server):
    token = open_page(server)
    assert post(server, token, "/api/reset", {"dataset": "xor"})[0] == 200
    port = server.port
    for wrong in (
        f"evil.example:{port}",
        f"127.0.0.1:{port + 1}",
        "127.0.0.1",
        "localhost",
        f"localhost.evil.example:{port}",
        f"127.0.0.2:{port}",
        f"0.0.0.0:{port}",
        "",
        False,
    ):
        for method, path, body in _paths(token):
            headers = {"X-Playground-Token": token}
            status, _, reply = request(server, method, path, body, headers, host=wrong)
            assert status == 403, (wrong, method, path)
            assert json.loads(reply) == {"error": "this Host is not the playground's"}
    assert request(server, "GET", "/", host=f"localhost:{port}")[0] == 200
    assert request(server, "GET", "/static/app.js")[0] == 200


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(host=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40))
def test_any_other_host_header_gets_403(server, host):
    if host in server.hosts:
        return
    assert request(server, "GET", "/static/style.css", host=host)[0] == 403


# ---------------------------------------------------------------------- the page's token
def test_state_changing_requests_and_exports_need_the_pages_token(server):
    token = open_page(server)
    other = open_page(server)
    for bad in ({}, {"X-Playground-Token": "x" * len(token)}, {"X-Playground-Token": ""}):
        status, _, reply = request(server, "POST", "/api/reset", {"dataset": "xor"}, headers=bad)
        assert status == 403 and json.loads(reply) == {"error": "missing or unknown page token"}
    for path in ("/api/export/model", "/api/export/script", "/api/stream"):
        assert request(server, "GET", path)[0] == 403
        assert request(server, "GET", f"{path}?token=nope")[0] == 403
    assert post(server, token, "/api/reset", {"dataset": "xor"})[0] == 200
    # a page's token drives its own training only: the other page has none yet
    assert post(server, other, "/api/control", {"action": "play"}) == (
        409,
        {"error": "nothing to train yet: send the settings first"},
    )


def test_bodies_are_size_limited_and_must_be_json(server):
    token = open_page(server)
    big = json.dumps({"dataset": "xor", "pad": "x" * server_module.MAX_BODY}).encode()
    status, _, reply = request(
        server, "POST", "/api/reset", big, headers={"X-Playground-Token": token}
    )
    assert status == 413
    assert json.loads(reply) == {"error": f"a body is at most {server_module.MAX_BODY} bytes"}
    # refused from its Content-Length alone, before a byte of it is read
    status, _, _ = request(
        server,
        "POST",
        "/api/reset",
        b"{}",
        headers={"X-Playground-Token": token, "Content-Length": str(10**9)},
    )
    assert status == 413
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(
        "POST",
        "/api/control",
        headers={"X-Playground-Token": token, "Transfer-Encoding": "chunked"},
    )
    assert connection.getresponse().status == 411
    connection.close()
    status, reply = post(server, token, "/api/reset", b"{not json")
    assert status == 400 and reply["error"].startswith("the body is not JSON")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"hidden": [9]}, "each hidden layer has 1 to 8 units; got 9"),
        (
            {"hidden": [2] * 7},
            "hidden must be a list of at most 6 layer sizes; got [2, 2, 2, 2, 2, 2, 2]",
        ),
        ({"n_points": 5000}, "n_points must be an integer from 10 to 2000; got 5000"),
        ({"batch_size": 600}, "batch_size must be an integer from 1 to 500; got 600"),
        (
            {"features": []},
            "features must be a non-empty list of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2",
        ),
        (
            {"features": ["x3"]},
            "unknown feature 'x3'; expected some of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2",
        ),
        (
            {"dataset": "mnist"},
            "dataset must be one of xor, circles, moons, spiral, gaussian; got 'mnist'",
        ),
        ({"learning_rate": 0}, "learning_rate must be a number in (0.0, 10.0]; got 0"),
        ({"dropout": 0.95}, "dropout must be a number in [0.0, 0.9]; got 0.95"),
        ({"noise": float("nan")}, "noise must be a number in [0.0, 0.5]; got nan"),
        ({"seed": -1}, "seed must be an integer from 0 to 2147483647; got -1"),
        ({"units": 3}, "unknown setting 'units'; expected some of activation, batch_size"),
        ([1, 2], "the settings must be a JSON object; got list"),
    ],
)
def test_settings_out_of_bounds_are_refused_in_one_line(server, settings, message):
    token = open_page(server)
    status, reply = post(server, token, "/api/reset", settings)
    assert status == 400
    assert reply["error"].startswith(message) and "\n" not in reply["error"]


def test_controls_that_are_not_known_are_refused(server):
    token = open_page(server)
    assert post(server, token, "/api/reset", {})[0] == 200
    assert post(server, token, "/api/control", {"action": "jump"}) == (
        400,
        {"error": "action must be play, pause or step; got 'jump'"},
    )
    assert post(server, token, "/api/nothing", {})[0] == 404


def test_the_assets_are_served_from_the_package_and_nothing_else(server):
    status, headers, body = request(server, "GET", "/static/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert body == (STATIC / "app.js").read_bytes()
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for path in ("/static/../server.py", "/static/index.html", "/static/%2e%2e/server.py", "/x"):
        assert request(server, "GET", path)[0] == 404


def test_the_page_names_no_external_url():
    """Offline: no http(s) address, no protocol-relative //host, in the page's files
    (JS comments aside)."""
    for path in STATIC.iterdir():
        text = path.read_text()
        if path.suffix == ".js":
            text = re.sub(r"^\s*//.*$|\s//\s.*$", "", text, flags=re.M)
        if path.suffix == ".css":
            text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        assert not re.search(r"https?:|//[\w.-]+\.\w|(?<!\w)url\(", text, re.I), path.name
        assert not re.search(r"(src|href)=\"(?!/static/|#|data:)", text), path.name


# ---------------------------------------------------------------------- training and frames
def test_a_page_trains_steps_and_streams_frames(server):
    token = open_page(server)
    status, reply = post(server, token, "/api/reset", {"dataset": "spiral", "hidden": [8, 8]})
    assert status == 200 and reply["settings"]["hidden"] == [8, 8]
    assert len(reply["train"]) == 250 and len(reply["test"]) == 250
    frame = first_frame(server, token)
    assert frame["epoch"] == 0 and frame["playing"] is False and frame["run"] == reply["run"]
    assert len(base64.b64decode(frame["boundary"])) == 100 * 100
    assert [len(layer) for layer in frame["units"]] == [8, 8]
    assert all(len(base64.b64decode(m)) == 20 * 20 for m in frame["units"][0])
    assert [np.shape(W) for W in frame["weights"]] == [(8, 2), (8, 8), (1, 8)]
    page = server.page(token)
    assert post(server, token, "/api/control", {"action": "step"})[0] == 200
    wait_until(lambda: page.session.epoch == 1 and not page.session._playing)
    time.sleep(0.2)
    assert page.session.epoch == 1  # one epoch, then paused
    assert post(server, token, "/api/control", {"action": "play"})[0] == 200
    wait_until(lambda: page.session.epoch >= 3)
    assert post(server, token, "/api/control", {"action": "pause"})[0] == 200
    time.sleep(0.2)
    paused_at = page.session.epoch
    time.sleep(0.3)
    assert page.session.epoch == paused_at
    later = first_frame(server, token)
    assert later["train_loss"] < frame["train_loss"]


def test_one_training_per_page_and_a_reset_stops_the_last(server):
    token = open_page(server)
    post(server, token, "/api/reset", {"dataset": "xor"})
    first = server.page(token).session
    post(server, token, "/api/control", {"action": "play"})
    _, reply = post(server, token, "/api/reset", {"dataset": "moons"})
    assert reply["run"] == 2 and not first.alive
    assert server.page(token).session.settings.dataset == "moons"


def test_the_oldest_page_is_dropped_and_its_training_stopped(server):
    token = open_page(server)
    post(server, token, "/api/reset", {})
    session = server.page(token).session
    for _ in range(server_module.MAX_PAGES):
        open_page(server)
    assert server.page(token) is None and not session.alive
    assert post(server, token, "/api/control", {"action": "play"})[0] == 403


# ---------------------------------------------------------------------- exports
def _export(server, token, kind):
    status, headers, body = request(server, "GET", f"/api/export/{kind}?token={token}")
    assert status == 200
    return headers, body


def test_the_exported_model_loads_and_predicts_what_the_page_showed(server, tmp_path):
    token = open_page(server)
    chosen = {"dataset": "circles", "features": ["x1", "x2", "x1sq", "x2sq"], "hidden": [6, 3]}
    post(server, token, "/api/reset", {**chosen, "dropout": 0.1, "l2": 0.001, "seed": 4})
    post(server, token, "/api/control", {"action": "play"})
    page = server.page(token)
    wait_until(lambda: page.session.epoch >= 5)
    post(server, token, "/api/control", {"action": "pause"})
    time.sleep(0.3)
    frame = first_frame(server, token)
    headers, body = _export(server, token, "model")
    assert headers["Content-Disposition"] == 'attachment; filename="playground.npz"'
    (tmp_path / "playground.npz").write_bytes(body)
    net = cb.load(tmp_path / "playground.npz")
    features = net.metadata["playground"]["features"]
    assert features == chosen["features"] and net.metadata["playground"]["seed"] == 4
    shown = np.frombuffer(base64.b64decode(frame["boundary"]), dtype=np.uint8) / 255
    p = net.predict(transform(grid_points(), features)).ravel()
    np.testing.assert_allclose(p, shown, atol=0.5 / 255 + 1e-5)  # p in float32, rounded to 1/255


def test_the_exported_script_rebuilds_and_trains_the_same_network(server, tmp_path):
    token = open_page(server)
    chosen = {"dataset": "moons", "hidden": [5], "optimizer": "adam", "learning_rate": 0.01}
    post(server, token, "/api/reset", {**chosen, "seed": 7, "noise": 0.1, "batch_size": 16})
    for epoch in (1, 2):  # Step stops at the end of an epoch, as the script's fit does
        post(server, token, "/api/control", {"action": "step"})
        wait_until(lambda e=epoch: server.page(token).session.epoch == e)
    time.sleep(0.3)
    (tmp_path / "page.npz").write_bytes(_export(server, token, "model")[1])
    _, script = _export(server, token, "script")
    (tmp_path / "playground.py").write_bytes(script)
    assert b"epochs=2," in script
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "playground.py"], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    rebuilt, page = cb.load(tmp_path / "playground.npz"), cb.load(tmp_path / "page.npz")
    np.testing.assert_array_equal(rebuilt.flat_parameters, page.flat_parameters)


# ---------------------------------------------------------------------- the command
def _start(*args):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "cartoonbrain", "playground", "--no-browser", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_command_prints_its_url_through_a_pipe_and_stops_cleanly(stop):
    process = _start("--port", "0")
    try:
        line = process.stdout.readline().decode()  # flushed at once: the pipe sees it
        match = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\n", line)
        assert match, line
        port = int(match.group(1))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        connection.request("GET", "/")
        html = connection.getresponse().read()
        token = re.search(rb'content="([^"]+)"', html.split(b"playground-token")[1]).group(1)
        for path, body in (
            ("/api/reset", {"dataset": "spiral"}),
            ("/api/control", {"action": "play"}),
        ):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            headers = {"X-Playground-Token": token.decode(), "Content-Type": "application/json"}
            connection.request("POST", path, json.dumps(body), headers)
            assert connection.getresponse().status == 200
        time.sleep(0.5)  # training
        process.send_signal(stop)
        assert process.wait(timeout=20) == 0
        assert process.stderr.read().decode().strip().splitlines()[-1] == (
            "cartoonbrain playground: stopped"
        )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_stopping_the_server_stops_every_training():
    server = PlaygroundServer("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sessions = []
    for _ in range(2):
        token = open_page(server)
        post(server, token, "/api/reset", {})
        post(server, token, "/api/control", {"action": "play"})
        sessions.append(server.page(token).session)
    assert all(s.alive for s in sessions)
    server.stop()
    assert not any(s.alive for s in sessions)


def test_ipv6_loopback_takes_its_own_host_header():
    try:
        server = PlaygroundServer("::1", 0)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert server.url == f"http://[::1]:{server.port}/"
        for host, status in ((f"[::1]:{server.port}", 200), (f"evil.example:{server.port}", 403)):
            connection = http.client.HTTPConnection("::1", server.port, timeout=20)
            connection.putrequest("GET", "/static/style.css", skip_host=True)
            connection.putheader("Host", host)
            connection.endheaders()
            response = connection.getresponse()
            response.read()
            connection.close()
            assert response.status == status
    finally:
        server.stop()


def test_a_remote_host_needs_allow_remote(capsys):
    assert cli.main(["playground", "--host", "0.0.0.0", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "cartoonbrain playground: error: --host 0.0.0.0 is not a loopback address; add "
        "--allow-remote to serve other machines"
    )
    with pytest.raises(SystemExit):
        cli.main(["playground", "--port", "70000"])
    assert "must be a port number from 0 to 65535" in capsys.readouterr().err


def test_a_port_in_use_is_one_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["playground", "--port", str(port), "--no-browser"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"cartoonbrain playground: error: cannot listen on 127.0.0.1 port {port}: Address "
        "already in use (--port 0 picks a free port)"
    )
