"""The playground in a real browser: headless Chromium loads the page, Play trains, the
canvas changes, and nothing goes wrong on the console (no 404, no error, no warning).

Skipped, with the reason, where Chromium or websocket-client is missing (tests/chromium.py
says how to install them); CI installs both.
"""

from __future__ import annotations

import threading
import time

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
    browser.click("#play")  # Pause
    browser.wait_for("document.querySelector('#play').textContent === 'Play'")
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
