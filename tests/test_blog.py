"""The blog post's functions (``cartoonbrain.blog``): a hand-worked example, gradients
against central finite differences, batches, bad input, and the post's experiment, both
the readable loop (``blog.run``) and the fused one (``blog.run_fused``)."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartoonbrain import _kernels, blog
from cartoonbrain.blog import (
    BLOG_LAYERS,
    backward,
    experiment,
    forward,
    make_net,
    mse,
    post,
    sgd,
    sigmoid_gradient,
    stable_sigmoid,
)
from cartoonbrain.diagnostics.gradcheck import central_difference

# ---------------------------------------------------------------------------------------
# A worked example, by hand: a 2 → 2 → 1 network, one sample, no NumPy in the arithmetic.
#
#     W1 = [[0.1, -0.2],      W2 = [[0.5, -0.6]],      x = [1, 2]ᵀ,      t = 0.25
#           [0.3,  0.4]]
# ---------------------------------------------------------------------------------------


def _sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


W1 = [[0.1, -0.2], [0.3, 0.4]]
W2 = [[0.5, -0.6]]
X = [1.0, 2.0]
T = 0.25
EPS = 0.5

# forward: a_1 = W1 x, o_1 = σ(a_1), a_2 = W2 o_1, y = o_2 = σ(a_2)
A1 = [0.1 * 1.0 + -0.2 * 2.0, 0.3 * 1.0 + 0.4 * 2.0]  # [-0.3, 1.1]
O1 = [_sigma(A1[0]), _sigma(A1[1])]  # ≈ [0.42556, 0.75026]
A2 = 0.5 * O1[0] + -0.6 * O1[1]  # ≈ -0.23738
Y = _sigma(A2)  # ≈ 0.44093
# loss: E = ½ (t − y)²
LOSS = 0.5 * (T - Y) ** 2  # ≈ 0.018227
# backward: g = y − t; g ← g σ'(a_2); ∇W2 = g o_1ᵀ; g ← W2ᵀ g; g ← g ⊙ σ'(a_1); ∇W1 = g xᵀ
DSIG_A2 = Y * (1.0 - Y)
DSIG_A1 = [O1[0] * (1.0 - O1[0]), O1[1] * (1.0 - O1[1])]
G2 = (Y - T) * DSIG_A2
GRAD_W2 = [[G2 * O1[0], G2 * O1[1]]]
G1 = [0.5 * G2 * DSIG_A1[0], -0.6 * G2 * DSIG_A1[1]]
GRAD_W1 = [[G1[0] * X[0], G1[0] * X[1]], [G1[1] * X[0], G1[1] * X[1]]]
# update: W ← W − ε ∇W
NEW_W1 = [[W1[i][j] - EPS * GRAD_W1[i][j] for j in range(2)] for i in range(2)]
NEW_W2 = [[W2[0][j] - EPS * GRAD_W2[0][j] for j in range(2)]]

TIGHT = {"rtol": 1e-12, "atol": 1e-15}


def _example():
    """The example's weights, input and label as the library takes them."""
    weights = [np.array(W1), np.array(W2)]
    return weights, np.array([X]).T, np.array([[T]])


def test_forward_matches_the_hand_worked_example():
    """affines = [a_1, a_2], transforms = [x, o_1, o_2], each number as worked by hand."""
    weights, x, t = _example()
    affines, transforms = forward(x, t, weights, stable_sigmoid)
    assert [a.shape for a in affines] == [(2, 1), (1, 1)]
    assert [o.shape for o in transforms] == [(2, 1), (2, 1), (1, 1)]
    np.testing.assert_allclose(affines[0].ravel(), A1, **TIGHT)
    np.testing.assert_allclose(affines[1].ravel(), [A2], **TIGHT)
    np.testing.assert_array_equal(transforms[0], x)
    np.testing.assert_allclose(transforms[1].ravel(), O1, **TIGHT)
    np.testing.assert_allclose(transforms[2].ravel(), [Y], **TIGHT)


def test_activation_and_its_gradient_match_the_hand_worked_example():
    """stable_sigmoid and sigmoid_gradient at the example's affines, against math.exp."""
    a = np.array([A1[0], A1[1], A2])
    np.testing.assert_allclose(stable_sigmoid(a), [O1[0], O1[1], Y], **TIGHT)
    np.testing.assert_allclose(sigmoid_gradient(a), [*DSIG_A1, DSIG_A2], **TIGHT)


def test_mse_matches_the_hand_worked_example():
    """E = ½ (t − y)², a Python float."""
    loss = mse(np.array([[T]]), np.array([[Y]]))
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, LOSS, **TIGHT)


def test_mse_sums_over_outputs_and_columns():
    """E = ½ Σ (t − y)² over every entry: ½ (1² + 2² + 0² + 3²) = 7."""
    t = np.array([[1.0, 2.0], [0.0, -1.0]])
    y = np.array([[0.0, 0.0], [0.0, 2.0]])
    assert mse(t, y) == 7.0
    assert mse(y, t) == 7.0


def test_backward_matches_the_hand_worked_example():
    """∇W2 = g₂ o_1ᵀ and ∇W1 = g₁ xᵀ, with the error y − t carried back by hand."""
    weights, x, t = _example()
    affines, transforms = forward(x, t, weights, stable_sigmoid)
    error = transforms[-1] - t
    grads = backward(x, t, error, weights, affines, transforms, sigmoid_gradient)
    assert [g.shape for g in grads] == [(2, 2), (1, 2)]
    np.testing.assert_allclose(grads[0], GRAD_W1, **TIGHT)
    np.testing.assert_allclose(grads[1], GRAD_W2, **TIGHT)


def test_sgd_matches_the_hand_worked_example():
    """W ← W − ε ∇W; like the post, new arrays go into the same list, which is returned."""
    weights, x, t = _example()
    originals = list(weights)
    affines, transforms = forward(x, t, weights, stable_sigmoid)
    grads = backward(x, t, transforms[-1] - t, weights, affines, transforms, sigmoid_gradient)
    returned = sgd(weights, grads, EPS)
    assert returned is weights
    np.testing.assert_allclose(weights[0], NEW_W1, **TIGHT)
    np.testing.assert_allclose(weights[1], NEW_W2, **TIGHT)
    np.testing.assert_array_equal(originals[0], W1)  # the old arrays are left untouched
    np.testing.assert_array_equal(originals[1], W2)


def test_one_step_lowers_the_example_loss():
    """After that step the same sample's loss is smaller (a sign error would raise it)."""
    weights, x, t = _example()
    affines, transforms = forward(x, t, weights)
    grads = backward(x, t, transforms[-1] - t, weights, affines, transforms)
    weights = sgd(weights, grads, EPS)
    assert mse(t, forward(x, t, weights)[1][-1]) < LOSS


# ---------------------------------------------------------------------------------------
# Gradients against central finite differences, and batches, on random networks.
# ---------------------------------------------------------------------------------------


@st.composite
def networks(draw, min_batch=1):
    """A random sigmoid network (depth 1–4, sizes 1–6), a batch of inputs and labels."""
    depth = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, 6), min_size=depth + 1, max_size=depth + 1))
    batch = draw(st.integers(min_batch, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weights = make_net(list(zip(sizes[1:], sizes[:-1], strict=True)), rng)
    x = rng.standard_normal((sizes[0], batch))
    t = rng.standard_normal((sizes[-1], batch))
    return weights, x, t


def _loss(weights, x, t):
    return mse(t, forward(x, t, weights, stable_sigmoid)[1][-1])


def _gradients(weights, x, t):
    affines, transforms = forward(x, t, weights, stable_sigmoid)
    error = transforms[-1] - t  # ∂E/∂y for E = ½ ‖t − y‖²
    return backward(x, t, error, weights, affines, transforms, sigmoid_gradient)


@settings(max_examples=40, deadline=None)
@given(networks())
def test_backward_matches_central_differences(network):
    """Every entry of every ∇W_l equals (E(w + h) − E(w − h)) / 2h, in float64.

    The quotient's error is about ε·E/h + h²: hence rtol 1e-6 with atol 1e-8 for tiny entries.
    """
    weights, x, t = network
    grads = _gradients(weights, x, t)
    h = 1e-6
    for n, W in enumerate(weights):  # W is moved in place, entry by entry, and restored
        numeric = central_difference(lambda _: _loss(weights, x, t), W, h)
        assert grads[n].shape == W.shape
        np.testing.assert_allclose(grads[n], numeric, rtol=1e-6, atol=1e-8, err_msg=f"layer {n}")


@settings(max_examples=40, deadline=None)
@given(networks(min_batch=2))
def test_batch_gradient_is_the_sum_of_the_samples_gradients(network):
    """With x of shape (n_in, batch), ∇W_l = Σ over columns of each column's own gradient,
    and the batch's loss is the sum of the columns' losses."""
    weights, x, t = network
    batch_grads = _gradients(weights, x, t)
    columns = [_gradients(weights, x[:, [k]], t[:, [k]]) for k in range(x.shape[1])]
    for n in range(len(weights)):
        summed = sum(grads[n] for grads in columns)
        np.testing.assert_allclose(batch_grads[n], summed, rtol=1e-12, atol=1e-14)
    column_losses = [_loss(weights, x[:, [k]], t[:, [k]]) for k in range(x.shape[1])]
    np.testing.assert_allclose(_loss(weights, x, t), sum(column_losses), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------
# make_net, and bad input.
# ---------------------------------------------------------------------------------------


def test_make_net_draws_standard_normal_weights_layer_by_layer():
    """W_l ~ N(0, 1) of shape (n_out, n_in), drawn in layer order from default_rng(seed)."""
    layers = [(3, 4), (5, 3), (1, 5)]
    weights = make_net(layers, 7)
    rng = np.random.default_rng(7)
    assert [W.shape for W in weights] == layers
    for W, (rows, cols) in zip(weights, layers, strict=True):
        assert W.dtype == np.float64
        np.testing.assert_array_equal(W, rng.standard_normal((rows, cols)))
    same_generator = make_net(layers, np.random.default_rng(7))
    for W, V in zip(weights, same_generator, strict=True):
        np.testing.assert_array_equal(W, V)


@pytest.mark.parametrize(
    ("layers", "match"),
    [
        ([(0, 2)], r"^layer 0: sizes must be positive"),
        ([(2, -1)], r"^layer 0: sizes must be positive"),
        ([(3, 2), (0, 3)], r"^layer 1: sizes must be positive"),
        ([(2.5, 3)], r"^layer 0: .* is not a pair of integers"),
        ([(3, 2), (1, 3.0)], r"^layer 1: .* is not a pair of integers"),
        ([(3, 2), (1, "3")], r"^layer 1: .* is not a pair of integers"),
        ([(3, 2, 1)], r"^layer 0: .* is not a pair of integers"),
        ([3], r"^layer 0: .* is not a pair of integers"),
        ([(3, 2), (1, 4)], r"^layer 1: takes 4 inputs but layer 0 gives 3 outputs"),
        ([(3, 2), (4, 3), (2, 5)], r"^layer 2: takes 5 inputs but layer 1 gives 4 outputs"),
        ([], r"layers is empty"),
    ],
    ids=repr,
)
def test_make_net_rejects_bad_layers_naming_the_layer(layers, match):
    """Each bad layer list gives a ValueError that says which layer is wrong, and why."""
    with pytest.raises(ValueError, match=match):
        make_net(layers, 0)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((3, 1), "x has shape (3, 1); expected (2, 1)"),
        ((1, 1), "x has shape (1, 1); expected (2, 1)"),
        ((2,), "x has shape (2,); expected (2, 1)"),
        ((2, 1, 1), "x has shape (2, 1, 1); expected (2, 1)"),
        ((), "x has shape (); expected (2, 1)"),
    ],
)
def test_forward_rejects_x_of_the_wrong_shape(shape, message):
    """forward names the expected and the actual shape of x."""
    weights, _, _ = _example()
    with pytest.raises(ValueError, match=re.escape(message)):
        forward(np.ones(shape), None, weights)


def test_forward_suggests_a_reshape_for_a_1d_sample():
    """A 1-d sample of the right length gets the fix spelled out."""
    weights, _, _ = _example()
    with pytest.raises(ValueError, match=re.escape("(try x.reshape(2, 1))")):
        forward(np.ones(2), None, weights)


@pytest.mark.parametrize("shape", [(1, 2), (2, 1), (1,)])
def test_backward_rejects_an_error_of_the_wrong_shape(shape):
    """The error y − t must have the prediction's shape (1, 1) here."""
    weights, x, t = _example()
    affines, transforms = forward(x, t, weights)
    with pytest.raises(ValueError, match=re.escape(f"error has shape {shape}; expected (1, 1)")):
        backward(x, t, np.zeros(shape), weights, affines, transforms)


def test_sgd_rejects_a_gradient_of_the_wrong_shape():
    """A gradient that does not match its weight matrix names its index and both shapes."""
    weights, _, _ = _example()
    grads = [np.zeros((2, 2)), np.zeros((2, 1))]
    message = "gradient 1 has shape (2, 1); expected (1, 2), the shape of weights[1]"
    with pytest.raises(ValueError, match=re.escape(message)):
        sgd(weights, grads, 0.1)


def test_sgd_rejects_the_wrong_number_of_gradients():
    """One gradient per weight matrix."""
    weights, _, _ = _example()
    with pytest.raises(ValueError, match="got 1 gradients for 2 weight matrices"):
        sgd(weights, [np.zeros((2, 2))], 0.1)


# ---------------------------------------------------------------------------------------
# The post's experiment: blog.run (the post's loop) and blog.run_fused (the fast one).
# ---------------------------------------------------------------------------------------

RUNS = pytest.mark.parametrize("run", [blog.run, blog.run_fused], ids=["readable", "fused"])


def _quiet(line):
    return None


def _literal_post(epochs, n_samples, learning_rate, layers, seed):
    """The post's listing, line by line, with blog's functions and the documented draw order:
    weights layer by layer, then the samples, then the labels, all from default_rng(seed)."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((rows, cols)) for rows, cols in layers]
    n_in, n_out = layers[0][1], layers[-1][0]
    samples = [rng.standard_normal((n_in, 1)) for _ in range(n_samples)]
    labels = [rng.standard_normal((n_out, 1)) for _ in range(n_samples)]
    losses = []
    for _ in range(epochs):
        epoch_loss = 0.0
        for s in range(n_samples):
            feature, label = samples[s], labels[s]
            a_s, h_s = blog.forward(feature, label, weights, blog.stable_sigmoid)
            pred = h_s[-1]
            error = pred - label
            epoch_loss += blog.mse(label, pred)
            weight_grads = blog.backward(
                feature, label, error, weights, a_s, h_s, blog.sigmoid_gradient
            )
            weights = blog.sgd(weights, weight_grads, learning_rate)
        losses.append(epoch_loss / n_samples)
    return losses


SETTINGS = pytest.mark.parametrize(
    ("layers", "n_samples", "learning_rate", "seed"),
    [
        ([(4, 10), (3, 4), (2, 3)], 7, 0.5, 3),
        ([(2, 10)], 4, 1.0, 11),
        (BLOG_LAYERS, 50, 0.05, 0),
    ],
    ids=["small", "one-layer", "blog"],
)


@SETTINGS
@RUNS
def test_run_reproduces_the_posts_listing(run, layers, n_samples, learning_rate, seed):
    """Both runs give the literal listing's losses, to rounding."""
    epochs = 5
    losses = run(
        epochs=epochs,
        n_samples=n_samples,
        learning_rate=learning_rate,
        layers=layers,
        seed=seed,
        log=_quiet,
    )
    reference = _literal_post(epochs, n_samples, learning_rate, layers, seed)
    np.testing.assert_allclose(losses, reference, rtol=1e-12, atol=0)


@SETTINGS
def test_fused_run_gives_the_readable_runs_losses(layers, n_samples, learning_rate, seed):
    """run_fused (what `cartoonbrain blog` runs) against run (the post's loop), over 20
    epochs: the same losses to a relative 1e-12. Not bit for bit: the fused path takes
    σ' from o_l and folds ε into g, which changes the rounding (about 1e-16 per step)."""
    kwargs = {
        "epochs": 20,
        "n_samples": n_samples,
        "learning_rate": learning_rate,
        "layers": layers,
        "seed": seed,
        "log": _quiet,
    }
    readable, fast = blog.run(**kwargs), blog.run_fused(**kwargs)
    assert len(fast) == len(readable) == 20
    np.testing.assert_allclose(fast, readable, rtol=1e-12, atol=0)


def test_run_calls_the_posts_own_functions(monkeypatch):
    """blog.run is the post's loop: per sample one forward, mse, backward and sgd of
    post.py, and one make_net; the fused path calls none of them."""
    for name in ("forward", "backward", "sgd", "mse"):
        assert getattr(experiment, name) is getattr(post, name)
    calls = dict.fromkeys(["make_net", "forward", "backward", "sgd", "mse"], 0)

    def counting(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counting(experiment, "make_net")  # draw_experiment's weights
    for name in ("forward", "backward", "sgd", "mse"):
        counting(experiment, name)
    losses = blog.run(epochs=3, n_samples=4, layers=[(3, 10), (2, 3)], seed=0, log=_quiet)
    assert calls == {"make_net": 1, "forward": 12, "backward": 12, "sgd": 12, "mse": 12}
    calls.update(dict.fromkeys(calls, 0))
    fast = blog.run_fused(epochs=3, n_samples=4, layers=[(3, 10), (2, 3)], seed=0, log=_quiet)
    assert calls == {"make_net": 1, "forward": 0, "backward": 0, "sgd": 0, "mse": 0}
    np.testing.assert_allclose(fast, losses, rtol=1e-12, atol=0)


def test_run_trains_with_the_backward_it_is_given(monkeypatch):
    """A broken post.backward breaks blog.run (and only it): run computes nothing itself."""
    monkeypatch.setattr(experiment, "backward", lambda *args: [np.zeros_like(W) for W in args[3]])
    kwargs = {"epochs": 3, "n_samples": 4, "layers": [(3, 10), (2, 3)], "seed": 0, "log": _quiet}
    frozen = blog.run(**kwargs)
    assert frozen[0] == frozen[1] == frozen[2]  # zero gradients: the weights never move
    assert blog.run_fused(**kwargs)[2] != frozen[2]


@pytest.mark.parametrize("seed", [0, 4])
def test_draw_experiment_draws_weights_then_samples_then_labels(seed):
    """Restated: from default_rng(seed), W_l layer by layer, then n (n_in, 1) samples, then
    n (n_out, 1) labels. run, run_fused and datasets.load("blog") all use these draws."""
    layers = [(3, 5), (2, 3)]
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(shape) for shape in layers]
    samples = [rng.standard_normal((5, 1)) for _ in range(6)]
    labels = [rng.standard_normal((2, 1)) for _ in range(6)]
    drawn = blog.draw_experiment(6, layers, seed)
    for got, want in zip((drawn.weights, drawn.samples, drawn.labels), (weights, samples, labels)):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


@RUNS
def test_run_defaults_are_the_posts(run):
    """With no arguments but the seed: the post's 6 layers, 50 samples and ε = 0.05."""
    losses = run(epochs=2, seed=5, log=_quiet)
    np.testing.assert_allclose(losses, _literal_post(2, 50, 0.05, BLOG_LAYERS, 5), rtol=1e-12)
    assert BLOG_LAYERS == [(100, 10), (150, 100), (80, 150), (40, 80), (10, 40), (2, 10)]


@RUNS
def test_run_returns_one_float_per_epoch(run):
    """A list of `epochs` Python floats, finite and non-negative."""
    losses = run(epochs=4, seed=1, log=_quiet)
    assert isinstance(losses, list)
    assert len(losses) == 4
    assert all(type(loss) is float for loss in losses)
    assert all(math.isfinite(loss) and loss >= 0 for loss in losses)


@RUNS
def test_run_is_deterministic_in_its_seed(run):
    """The same seed gives the same losses bit for bit; another seed gives others."""
    first = run(epochs=3, seed=42, log=_quiet)
    again = run(epochs=3, seed=42, log=_quiet)
    other = run(epochs=3, seed=43, log=_quiet)
    assert first == again
    assert first != other


@RUNS
def test_run_learns_a_small_problem(run):
    """Training lowers the loss: the last epoch's mean loss is below the first's."""
    losses = run(
        epochs=30, n_samples=5, learning_rate=0.5, layers=[(8, 10), (2, 8)], seed=0, log=_quiet
    )
    assert losses[-1] < 0.9 * losses[0]


@RUNS
def test_run_logs_the_posts_line_per_epoch(run):
    """log receives 'Epoch e / E; Loss L' with L the full-precision repr of that epoch's loss."""
    lines = []
    losses = run(epochs=3, seed=1, log=lines.append)
    assert lines == [f"Epoch {e} / 3; Loss {loss!r}" for e, loss in enumerate(losses, start=1)]


@RUNS
def test_run_prints_when_no_log_is_given(run, capsys):
    """log=None prints each line, as the post does."""
    losses = run(epochs=2, n_samples=3, layers=[(2, 10)], seed=0)
    out = capsys.readouterr().out
    assert out == "".join(f"Epoch {e} / 2; Loss {v!r}\n" for e, v in enumerate(losses, start=1))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs must be a positive integer; got 0"),
        ({"epochs": -3}, "epochs must be a positive integer; got -3"),
        ({"epochs": 2.5}, "epochs must be a positive integer; got 2.5"),
        ({"epochs": True}, "epochs must be a positive integer; got True"),
        ({"n_samples": 0}, "n_samples must be a positive integer; got 0"),
        ({"learning_rate": 0.0}, "learning_rate must be a positive finite number; got 0.0"),
        ({"learning_rate": -0.05}, "learning_rate must be a positive finite number; got -0.05"),
        ({"learning_rate": math.nan}, "learning_rate must be a positive finite number; got nan"),
        ({"learning_rate": math.inf}, "learning_rate must be a positive finite number; got inf"),
        ({"layers": [(3, 10), (2, 4)]}, "layer 1: takes 4 inputs but layer 0 gives 3 outputs"),
    ],
    ids=repr,
)
@RUNS
def test_run_rejects_bad_arguments(run, kwargs, match):
    """Bad settings fail before any training, naming the argument and its value."""
    lines = []
    with pytest.raises(ValueError, match=re.escape(match)):
        run(**{"epochs": 1, "seed": 0, "log": lines.append, **kwargs})
    assert lines == []


@pytest.mark.skipif(not _kernels.available(), reason="numba is not installed")
def test_run_fused_compiled_or_not_gives_the_same_losses():
    """compiled=True (the accelerator's epochs) and False (NumPy's steps) agree to rounding."""
    kwargs = {"epochs": 3, "n_samples": 6, "seed": 2, "log": _quiet}
    numpy_steps = blog.run_fused(compiled=False, **kwargs)
    compiled = blog.run_fused(compiled=True, **kwargs)
    np.testing.assert_allclose(compiled, numpy_steps, rtol=1e-12, atol=0)
    assert compiled != numpy_steps or _kernels.active() != "numba"  # two computations


def test_the_blog_report_measures_advised_rates_with_a_probe(tmp_path, monkeypatch):
    """blog --report hands diagnose a probe: the post's network again, a few epochs, at the
    rate an advice names (a diverging rate scores inf, never better)."""
    pytest.importorskip("matplotlib")
    from cartoonbrain.blog import inspect as blog_inspect

    seen = {}
    real = blog_inspect.diagnose

    def spy(*args, probe=None, **kwargs):
        seen["probe"] = probe
        return real(*args, probe=probe, **kwargs)

    monkeypatch.setattr(blog_inspect, "diagnose", spy)
    blog_inspect.blog_report(tmp_path, epochs=4, log=lambda line: None)
    probe = seen["probe"]
    assert probe is not None
    now, slow = probe({}), probe({"learning_rate": 0.5})
    assert np.isfinite(now) and np.isfinite(slow) and now != slow
    assert probe({"learning_rate": 1e9}) >= now
