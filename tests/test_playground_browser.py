"""The playground in a real browser: headless Chromium loads the page, Play trains, the
canvas changes, and nothing goes wrong on the console (no 404, no error, no warning).

Skipped, with the reason, where Chromium or websocket-client is missing (tests/chromium.py
says how to install them); CI installs both.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest

from chromium import Chromium, missing

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))


@pytest.fixture
def server():
    from cartoonbrain.playground import PlaygroundServer

    server = PlaygroundServer("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.stop()


@pytest.fixture
def browser(tmp_path):
    browser = Chromium.start(tmp_path)
    yield browser
    browser.close()


def _canvas(browser: Chromium) -> str:
    return browser.evaluate("document.getElementById('boundary').toDataURL()")


def test_play_trains_and_the_canvas_changes_without_a_console_problem(server, browser):
    url = f"{server.url}?dataset=spiral&hidden=8,8&seed=3"
    browser.navigate(url)
    browser.wait_for("window.playgroundStats.frames > 0", timeout=20)  # drawn soon after load
    assert browser.evaluate("window.playgroundStats.firstFrameAt") < 15_000
    time.sleep(0.3)
    before = _canvas(browser)
    assert browser.evaluate("document.getElementById('epoch').textContent") == "0"
    assert browser.evaluate("document.querySelector('#play').textContent") == "Play"
    browser.click("#play")
    browser.wait_for("document.querySelector('#play').textContent === 'Pause'")
    browser.wait_for("Number(document.getElementById('epoch').textContent) > 5", timeout=30)
    after = _canvas(browser)
    assert after != before
    # the settings, seed included, are in the address, to share
    address = browser.evaluate("window.location.search")
    assert "seed=3" in address and "dataset=spiral" in address and "hidden=8%2C8" in address
    units = browser.evaluate("document.querySelectorAll('canvas[data-node^=\"1:\"]').length")
    assert units == 8
    # the weights' lines, the loss curves and each unit's map are drawn
    for canvas in ("wires", "curves"):
        assert not browser.evaluate(_BLANK.replace("ID", canvas)), canvas
    unit = "document.querySelector('canvas[data-node=\"1:0\"]').toDataURL()"
    shown = browser.evaluate(unit)
    browser.wait_for(f"{unit} !== {json.dumps(shown)}")  # changing as it learns
    browser.click("#play")  # Pause
    browser.wait_for("document.querySelector('#play').textContent === 'Play'")
    assert browser.problems() == []


#: true when the canvas ID has not a single painted pixel
_BLANK = (
    "(() => { const c = document.getElementById('ID'); const d = c.getContext('2d')"
    ".getImageData(0, 0, c.width, c.height).data; return d.every((v) => v === 0); })()"
)


def test_the_diagnostics_findings_appear_on_the_page(server, browser):
    everything = "x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2"
    browser.navigate(
        f"{server.url}?dataset=spiral&hidden=8,8&learning_rate=3&features={everything}"
    )
    browser.wait_for("window.playgroundStats.run === 1")
    browser.click("#play")
    browser.wait_for("document.querySelectorAll('#findings .kind').length > 0", timeout=60)
    kinds = browser.evaluate(
        "[...document.querySelectorAll('#findings .kind')].map((k) => k.textContent)"
    )
    assert "[saturation] " in kinds
    assert browser.problems() == []


def test_step_reset_and_a_refused_setting_are_shown_in_the_page(server, browser):
    browser.navigate(f"{server.url}?dataset=xor&hidden=9")  # 9 units: over the bound
    browser.wait_for("!document.getElementById('message').hidden")
    text = browser.evaluate("document.getElementById('message').textContent")
    assert text == "each hidden layer has 1 to 8 units; got 9"
    browser.navigate(f"{server.url}?dataset=xor&hidden=4")
    browser.wait_for("window.playgroundStats.frames > 0")
    browser.click("#step")
    browser.wait_for("document.getElementById('epoch').textContent === '1'")
    browser.click("#reset")
    browser.wait_for("document.getElementById('epoch').textContent === '0'")
    # the only problem: the 400 of the refused setting, which the page showed in words
    assert [p for p in browser.problems() if "/api/reset" not in p] == []


def _change(browser: Chromium, selector: str, value: object) -> None:
    """Set a select, slider or number field as a user does: its value, then 'change'."""
    browser.evaluate(
        f"(() => {{ const el = document.querySelector({json.dumps(selector)}); "
        f"el.value = {json.dumps(str(value))}; "
        "el.dispatchEvent(new Event('change')); })()"
    )


def test_every_control_reaches_the_training_on_the_server(server, browser):
    browser.navigate(server.url)
    browser.wait_for("window.playgroundStats.run === 1")
    actions = [
        (lambda: browser.click('[data-dataset="moons"]'), {"dataset": "moons"}),
        (lambda: _change(browser, "#noise", 20), {"noise": 0.2}),
        (lambda: _change(browser, "#train_share", 70), {"train_share": 0.7}),
        (lambda: _change(browser, "#n_points", 200), {"n_points": 200}),
        (lambda: browser.click('[aria-label="Feature x₁x₂"]'), {"features": ["x1", "x2", "x1x2"]}),
        (
            lambda: browser.click('[aria-label="Feature sin x₂"]'),
            {"features": ["x1", "x2", "x1x2", "sinx2"]},
        ),
        (lambda: browser.click("#add_layer"), {"hidden": [4, 2, 2]}),
        (lambda: browser.click('[aria-label="Add a unit to layer 1"]'), {"hidden": [5, 2, 2]}),
        (lambda: browser.click('[aria-label="Remove a unit from layer 2"]'), {"hidden": [5, 1, 2]}),
        (lambda: browser.click("#remove_layer"), {"hidden": [5, 1]}),
        (lambda: _change(browser, "#activation", "relu"), {"activation": "relu"}),
        (lambda: _change(browser, "#learning_rate", "0.1"), {"learning_rate": 0.1}),
        (lambda: _change(browser, "#optimizer", "adam"), {"optimizer": "adam"}),
        (lambda: _change(browser, "#l2", "0.001"), {"l2": 0.001}),
        (lambda: _change(browser, "#dropout", "0.1"), {"dropout": 0.1}),
        (lambda: _change(browser, "#batch_size", 20), {"batch_size": 20}),
        (lambda: _change(browser, "#seed", 42), {"seed": 42}),
    ]
    token = browser.evaluate("document.querySelector('meta[name=\"playground-token\"]').content")
    page = server.page(token)
    expected = page.session.settings.as_dict()
    for run, (act, change) in enumerate(actions, start=2):
        act()
        browser.wait_for(f"window.playgroundStats.run === {run}")
        expected.update(change)
        assert page.session.settings.as_dict() == expected, change
    # the address holds them all: opened again, it gives the same settings
    browser.navigate(server.url + browser.evaluate("window.location.search"))
    browser.wait_for("window.playgroundStats.run === 1")
    token = browser.evaluate("document.querySelector('meta[name=\"playground-token\"]').content")
    assert server.page(token).session.settings.as_dict() == expected
    units = browser.evaluate("document.querySelectorAll('canvas[data-node^=\"0:\"]').length")
    assert units == 5
    browser.click("#new_seed")
    browser.wait_for("window.playgroundStats.run === 2")
    assert server.page(token).session.settings.seed != 42
    # the exports download from the page's links
    for link, start in (("#export_model", "PK"), ("#export_script", '"""Rebuild')):
        got = browser.evaluate(
            f"fetch(document.querySelector('{link}').href).then(async (r) => "
            "[r.status, (await r.text()).slice(0, 10)])"
        )
        assert got[0] == 200 and got[1].startswith(start), link
    before = browser.evaluate("document.getElementById('points').toDataURL()")
    browser.click("#show_test")
    assert browser.evaluate("document.getElementById('points').toDataURL()") != before
    assert browser.problems() == []


def test_a_page_whose_training_was_dropped_says_so(server, browser):
    from cartoonbrain.playground.server import MAX_PAGES

    browser.navigate(server.url)
    browser.wait_for("window.playgroundStats.run === 1")
    for _ in range(MAX_PAGES):  # newer pages push this one out
        with urllib.request.urlopen(server.url, timeout=20) as reply:
            assert reply.status == 200
    browser.wait_for("!document.getElementById('message').hidden", timeout=30)
    text = browser.evaluate("document.getElementById('message').textContent")
    assert text.startswith("This page's training has ended")
    # what the console saw: the stream refused (403) when it came back, nothing else
    assert all("/api/stream" in p or "EventSource" in p for p in browser.problems())
