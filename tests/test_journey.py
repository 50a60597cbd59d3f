"""blog.trace and `cartoonbrain blog --trace`: one sample's journey by the post's names.

The journey's arrays are the post's own (forward, backward, run's training), and each
printed line shows the array it names: shape, norm and first entries."""

import re

import numpy as np
import pytest

from cartoonbrain import blog, cli
from cartoonbrain.blog.journey import describe

NUMBER = r"[-+]?\d[\d.e+-]*"


def parsed(line):
    """(maths, code, shape, norm, entries) of one describe() line."""
    m = re.match(rf"^  (.+?)\s+(\S+)\s+(\([\d, ]+\))\s+‖·‖ = ({NUMBER})\s+\[(.*)\]$", line)
    assert m, line
    entries = [float(v) for v in m.group(5).replace(", …", "").split(", ")]
    return m.group(1), m.group(2), eval(m.group(3)), float(m.group(4)), entries


@pytest.mark.parametrize("epochs", [0, 1])
def test_the_journey_is_the_post_s_forward_and_backward(epochs):
    journey = blog.trace(epochs, n_samples=6, seed=3, sample=2, log=lambda line: None)
    draws = blog.draw_experiment(6, seed=3)
    if epochs:
        blog.run(epochs, 6, seed=3, log=lambda line: None, draws=draws)
    x, t = draws.samples[2], draws.labels[2]
    affines, transforms = blog.forward(x, t, draws.weights)
    for mine, post in zip(journey.affines + journey.transforms, affines + transforms):
        np.testing.assert_array_equal(mine, post)
    np.testing.assert_array_equal(journey.error, transforms[-1] - t)
    grads = blog.backward(x, t, transforms[-1] - t, draws.weights, affines, transforms)
    for mine, post in zip(journey.grads, grads, strict=True):
        np.testing.assert_allclose(mine, post, rtol=1e-13, atol=0)
    assert journey.loss == pytest.approx(blog.mse(t, transforms[-1]), rel=1e-15)
    assert len(journey.gs) == 2 * len(blog.BLOG_LAYERS)


def test_every_line_shows_the_array_it_names():
    lines = []
    journey = blog.trace(n_samples=4, log=lines.append)
    assert lines == journey.lines
    arrays = {"x = o_0": journey.transforms[0], "g = y − t": journey.error}
    for n in range(6):
        arrays[f"a_{n + 1} = W_{n + 1} o_{n}"] = journey.affines[n]
        arrays[f"o_{n + 1} = f(a_{n + 1})"] = journey.transforms[n + 1]
        arrays[f"∇W_{n + 1} = g o_{n}ᵀ"] = journey.grads[n]
    shown = {}
    for line in lines:
        if "‖·‖" in line:
            maths, code, shape, norm, entries = parsed(line)
            shown[maths] = (code, shape, norm, entries)
    for maths, value in arrays.items():
        code, shape, norm, entries = shown[maths]
        assert shape == value.shape, maths
        assert norm == pytest.approx(np.linalg.norm(value), rel=1e-3), maths
        np.testing.assert_allclose(entries, value.reshape(-1)[:3], rtol=1e-2, atol=0)
    assert shown["a_3 = W_3 o_2"][0] == "affines[2]" and shown["o_3 = f(a_3)"][0] == "transforms[3]"
    assert shown["∇W_1 = g o_0ᵀ"][0] == "grads[0]"
    # backward goes from layer 6 down to layer 1, three lines each
    back = lines[next(i for i, line in enumerate(lines) if line.startswith("backward")) :]
    assert [line for line in back if line.startswith(" layer")] == [
        f" layer {n}:" for n in range(6, 0, -1)
    ]
    assert len(back) == 1 + 6 * 4
    assert "E = ½ ‖y − t‖² = " in "\n".join(lines)


def test_describe_shows_a_few_entries_and_an_ellipsis():
    line = describe("a", "b", np.arange(5.0).reshape(5, 1), entries=2)
    assert line.endswith("[+0, +1, …]") and "(5, 1)" in line and "‖·‖ = 5.477" in line
    assert describe("a", "b", np.ones(2), entries=3).endswith("[+1, +1]")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sample": 50}, r"sample must be in \[0, 50\)"),
        ({"sample": -1}, r"sample must be in \[0, 50\)"),
        ({"epochs": -1}, "epochs must be an integer, 0 or more"),
        ({"n_samples": 0}, "n_samples must be a positive integer"),
    ],
)
def test_trace_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        blog.trace(log=lambda line: None, **kwargs)


def test_cli_blog_trace_prints_the_epochs_then_the_journey(capsys):
    assert cli.main(["blog", "--trace", "--epochs", "1", "--samples", "5"]) == 0
    out = capsys.readouterr().out
    expected = blog.trace(1, n_samples=5, log=lambda line: None)
    lines = out.splitlines()
    assert lines[0].startswith("Epoch 1 / 1; Loss ")
    assert lines[1:] == expected.lines
    for name in ("a_1 = W_1 o_0", "o_6 = f(a_6)", "g = y − t", "g ← g ⊙ f'(a_6)", "∇W_1 = g o_0ᵀ"):
        assert name in out


def test_cli_blog_trace_follows_the_sample_asked_for_and_refuses_a_report(capsys, tmp_path):
    assert cli.main(["blog", "--trace", "3", "--epochs", "1", "--samples", "5"]) == 0
    assert "sample 3 of 5, after 1 epoch" in capsys.readouterr().out
    assert cli.main(["blog", "--trace", "--epochs", "1", "--report", str(tmp_path / "r")]) == 2
    assert "--trace and --report" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    assert cli.main(["blog", "--trace", "9", "--epochs", "1", "--samples", "5"]) == 2
    assert "sample must be in [0, 5)" in capsys.readouterr().err
