"""``cartoonbrain blog``: the post's experiment from the command line, as a user meets it.

By default it runs the fused path, ``blog.run_fused``; ``--readable`` runs ``blog.run``."""

import re
import subprocess
import sys
from importlib.metadata import entry_points

import numpy as np
import pytest

from cartoonbrain import blog, cli

LINE = re.compile(r"^Epoch (\d+) / 3; Loss (\S+)$")


def test_blog_prints_one_line_per_epoch_with_run_fused_s_losses(capsys):
    """Exactly `epochs` lines 'Epoch e / E; Loss L', e = 1 … E, L the repr of run_fused()'s
    loss (the same computation, so the same digits), and L is run()'s loss to rounding."""
    assert cli.main(["blog", "--epochs", "3", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert len(lines) == 3
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    assert [int(m.group(1)) for m in matches] == [1, 2, 3]
    losses = blog.run_fused(epochs=3, seed=1, log=lambda line: None)
    assert [m.group(2) for m in matches] == [repr(loss) for loss in losses]
    readable = blog.run(epochs=3, seed=1, log=lambda line: None)
    printed = [float(m.group(2)) for m in matches]
    np.testing.assert_allclose(printed, readable, rtol=1e-12, atol=0)


def test_blog_readable_runs_the_posts_loop(capsys, monkeypatch):
    """--readable prints run()'s lines, and run() calls the post's backward once a sample."""
    calls = []
    backward = blog.experiment.backward

    def counting(*args):
        calls.append(1)
        return backward(*args)

    monkeypatch.setattr(blog.experiment, "backward", counting)
    assert cli.main(["blog", "--epochs", "2", "--samples", "5", "--readable"]) == 0
    out = capsys.readouterr().out
    assert len(calls) == 2 * 5
    monkeypatch.undo()
    losses = blog.run(epochs=2, n_samples=5, seed=0, log=lambda line: None)
    assert out == "".join(f"Epoch {e} / 2; Loss {v!r}\n" for e, v in enumerate(losses, start=1))


def test_blog_passes_samples_and_learning_rate_through(capsys):
    """--samples and --learning-rate reach blog.run_fused (the losses change with them)."""
    assert cli.main(["blog", "--epochs", "2", "--samples", "5", "--learning-rate", "0.5"]) == 0
    out = capsys.readouterr().out
    losses = blog.run_fused(epochs=2, n_samples=5, learning_rate=0.5, seed=0, log=lambda line: None)
    assert out == "".join(f"Epoch {e} / 2; Loss {v!r}\n" for e, v in enumerate(losses, start=1))


def test_blog_is_deterministic(capsys):
    """Two runs with the same seed print the same text; another seed prints other losses."""
    cli.main(["blog", "--epochs", "2", "--seed", "7"])
    first = capsys.readouterr().out
    cli.main(["blog", "--epochs", "2", "--seed", "7"])
    again = capsys.readouterr().out
    cli.main(["blog", "--epochs", "2", "--seed", "8"])
    other = capsys.readouterr().out
    assert first == again
    assert first != other


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--epochs", "0"], "--epochs"),
        (["--epochs", "-2"], "--epochs"),
        (["--epochs", "abc"], "--epochs"),
        (["--epochs", "1.5"], "--epochs"),
        (["--samples", "0"], "--samples"),
        (["--learning-rate", "-1"], "--learning-rate"),
        (["--learning-rate", "0"], "--learning-rate"),
        (["--learning-rate", "nan"], "--learning-rate"),
        (["--learning-rate", "inf"], "--learning-rate"),
        (["--learning-rate", "fast"], "--learning-rate"),
        (["--seed", "x"], "--seed"),
    ],
    ids=" ".join,
)
def test_blog_rejects_bad_options_with_status_2(capsys, argv, option):
    """argparse exits with status 2, names the option on stderr, and prints no epoch lines."""
    with pytest.raises(SystemExit) as exc_info:
        cli.main(["blog", *argv])
    assert exc_info.value.code == 2
    captured = capsys.readouterr()
    assert f"argument {option}" in captured.err
    assert captured.out == ""


def test_no_command_prints_help_and_returns_2(capsys):
    """`cartoonbrain` alone shows the commands and fails."""
    assert cli.main([]) == 2
    assert "blog" in capsys.readouterr().out


def test_console_script_points_at_main():
    """The installed `cartoonbrain` console script is cartoonbrain.cli:main."""
    (script,) = entry_points(group="console_scripts", name="cartoonbrain")
    assert script.value == "cartoonbrain.cli:main"
    assert script.load() is cli.main


def test_module_runs_as_a_program():
    """`python -m cartoonbrain.cli blog --epochs 2` runs in a fresh interpreter, warning-free."""
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "cartoonbrain.cli", "blog", "--epochs", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert all(re.fullmatch(r"Epoch [12] / 2; Loss \S+", line) for line in lines), lines
    # a fresh process runs 2 epochs on NumPy's steps (too short to load numba for); this
    # process may have loaded the compiled epoch already, so ask for the same steps
    losses = blog.run_fused(epochs=2, seed=0, log=lambda line: None, compiled=False)
    assert lines == [f"Epoch {e} / 2; Loss {v!r}" for e, v in enumerate(losses, start=1)]


def test_module_reports_bad_options_with_status_2():
    """The same program exits with status 2 and a message naming the option."""
    result = subprocess.run(
        [sys.executable, "-m", "cartoonbrain.cli", "blog", "--epochs", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "argument --epochs" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["blog", "predict"])
def test_force_is_described_without_a_checkpoint_where_there_is_none(command, capsys):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--force" in text and "--checkpoint" not in text and "--resume" not in text


def test_train_describes_force_with_its_checkpoint(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "or an existing --checkpoint without --resume" in text
