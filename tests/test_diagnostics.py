"""The training monitor and its diagnoses, as a user meets them.

Each diagnosis is checked on a run that really has the problem, and its advice is
checked to work: the machine-readable ``fix`` of the finding is applied, the run trained
again, and the monitored loss (validation if there is any, in the targets' own units)
must improve; healthy runs get no finding. The post's network is diagnosed with its
targets: 66% of them lie outside the sigmoid's (0, 1), which puts a floor of 0.661 under
its loss. The numbers the monitor records are restated from their definitions.
"""

import itertools
import math
import re
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import cartoonbrain as cb
from cartoonbrain.blog.experiment import draw_experiment
from cartoonbrain.diagnostics import (
    KINDS,
    Finding,
    TrainingMonitor,
    diagnose,
    explain_blog_floor,
    format_findings,
    print_findings,
    target_floor,
)
from cartoonbrain.diagnostics.monitor import edge_share, saturated_share
from monitored import fit_monitored, regression_data, relu_net


def kinds(findings):
    return [(f.kind, f.layer) for f in findings]


def assert_causes_first(findings):
    order = [KINDS.index(f.kind) for f in findings]
    assert order == sorted(order), [f.kind for f in findings]


def post_network(seed=0, output_activation="sigmoid", init=None):
    """The post's network and data (draw_experiment's), as Dense layers without biases."""
    weights, samples, labels = draw_experiment(50, seed=seed)
    activations = ["sigmoid"] * (len(weights) - 1) + [output_activation]
    dense = [
        cb.Dense(W.shape[1], W.shape[0], f, init=init or "standard_normal", bias=False)
        for W, f in zip(weights, activations)
    ]
    net = cb.Network(dense, loss="squared_error", seed=seed, dtype="float64")
    if init is None:
        for layer, W in zip(dense, weights):
            layer.W[...] = W
    return net, np.hstack(samples).T, np.hstack(labels).T


def train_post(targets=True, epochs=100, **kwargs):
    net, X, T = post_network(**kwargs)
    monitor, history, _ = fit_monitored(
        net,
        X,
        T,
        targets=T if targets else None,
        epochs=epochs,
        batch_size=1,
        shuffle=False,
        optimizer=cb.SGD(0.05),
    )
    return diagnose(monitor, history), history["loss"], T


# ------------------------------------------------------------------ a run, and its fixes
def smooth_regression(n=400, features=8, seed=0, noise=0.1):
    """y = sin(x·w / 2) + 0.1 x_0² + noise, standardised."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    w = rng.standard_normal(features)
    y = np.sin(X @ w / 2) + 0.1 * X[:, 0] ** 2 + noise * rng.standard_normal(n)
    return X, (y - y.mean()) / y.std()


@dataclass
class Outcome:
    findings: list
    score: float  # the monitored loss in the targets' own units (inf: diverged)
    history: object


#: what a run is made of; the keys of Finding.fix are among them
DEFAULTS = dict(
    hidden=(32, 32),
    activation="relu",
    output_activation="identity",
    init=None,
    optimizer="adam",
    learning_rate=1e-3,
    epochs=30,
    batch_size=32,
    dropout=0.0,
    l2=0.0,
    standardize_target=False,
    standardize_inputs=False,
    bias_shift=0.0,  # added to the hidden layers' biases after initialisation
)


def build(n_in, n_out, s):
    sizes = [n_in, *s["hidden"]]
    layers = []
    for a, b in itertools.pairwise(sizes):
        layers.append(cb.Dense(a, b, s["activation"], init=s["init"]))
        if s["dropout"]:
            layers.append(cb.Dropout(s["dropout"]))
    layers.append(cb.Dense(sizes[-1], n_out, s["output_activation"], init=s["init"]))
    net = cb.Network(layers, loss="mse", seed=0, dtype="float64", l2=s["l2"])
    for layer in layers[:-1]:
        if getattr(layer, "b", None) is not None:
            layer.b[...] += s["bias_shift"]
    return net


def train(data, **settings):
    """Build, train and diagnose one run of ``data`` = (X, y, X_val, y_val)."""
    assert set(settings) <= set(DEFAULTS), set(settings) - set(DEFAULTS)
    s = {**DEFAULTS, **settings}
    X, y, X_val, y_val = data
    y, y_val = (np.reshape(v, (len(v), -1)).astype(np.float64) for v in (y, y_val))
    mean, std = (y.mean(0), y.std(0)) if s["standardize_target"] else (0.0, 1.0)
    if s["standardize_inputs"]:
        mu, sd = X.mean(0), X.std(0)
        X, X_val = (X - mu) / sd, (X_val - mu) / sd
    net = build(X.shape[1], y.shape[1], s)
    t = (y - mean) / std
    monitor, history, error = fit_monitored(
        net,
        X,
        t,
        targets=t,
        epochs=s["epochs"],
        batch_size=s["batch_size"],
        optimizer=cb.get_optimizer(s["optimizer"]),
        learning_rate=s["learning_rate"],
        validation_data=(X_val, (y_val - mean) / std),
    )
    score = math.inf if history is None else history["val_loss"][-1] * float(np.mean(std**2))
    return Outcome(diagnose(monitor, history, error=error), score, history)


def split(X, y, n_train=300):
    return X[:n_train], y[:n_train], X[300:], y[300:]


SMOOTH = split(*smooth_regression())

#: (name, data, settings, the kind that must fire)
BROKEN_RUNS = [
    ("output range", SMOOTH, dict(output_activation="sigmoid"), "target_range"),
    ("small steps", SMOOTH, dict(optimizer="sgd", learning_rate=1e-4), "learning_rate"),
    ("overshooting", SMOOTH, dict(optimizer="sgd", learning_rate=0.3), "learning_rate"),
    ("diverging", SMOOTH, dict(optimizer="sgd", learning_rate=1.0, hidden=(32,) * 3), "divergence"),
    (
        "memorising",
        split(*smooth_regression(noise=0.5), n_train=60),
        dict(hidden=(64, 64), learning_rate=0.01, epochs=100),
        "overfitting",
    ),
    ("stopped early", SMOOTH, dict(epochs=5, learning_rate=3e-4), "underfitting"),
    ("N(0, 1) weights", SMOOTH, dict(init="standard_normal", hidden=(32,) * 5), "weight_scale"),
    ("biases far below 0", SMOOTH, dict(bias_shift=-5.0, hidden=(32,), epochs=60), "dead"),
    (
        "64 inputs into N(0, 1) sigmoids",
        split(*smooth_regression(features=64)),
        dict(init="standard_normal", activation="sigmoid", hidden=(32,)),
        "saturation",
    ),
    (
        "six sigmoid layers",
        SMOOTH,
        dict(activation="sigmoid", hidden=(32,) * 6, optimizer="sgd", learning_rate=0.05),
        "vanishing",
    ),
]


@pytest.mark.parametrize(
    "data, settings, kind", [r[1:] for r in BROKEN_RUNS], ids=[r[0] for r in BROKEN_RUNS]
)
def test_each_finding_fires_on_its_run_and_its_fix_improves_the_monitored_loss(
    data, settings, kind
):
    before = train(data, **settings)
    assert_causes_first(before.findings)
    found = [f for f in before.findings if f.kind == kind]
    assert found, [f.kind for f in before.findings]
    finding = found[0]
    assert finding.fix, finding
    assert finding.layer or finding.kind in (
        "learning_rate",
        "divergence",
        "overfitting",
        "underfitting",
    )
    after = train(data, **{**settings, **finding.fix})
    assert after.score < 0.9 * before.score, (before.score, after.score, finding.fix)
    again = [
        f for f in after.findings if (f.kind, f.layer, f.fix) == (kind, finding.layer, finding.fix)
    ]
    assert not again, again


def test_a_healthy_run_gets_no_finding():
    outcome = train(SMOOTH)
    assert outcome.findings == []
    assert outcome.score < 0.25


def test_dead_units_in_a_run_that_learned_well_get_no_advice():
    """Adam at 0.1 leaves 84% of layer 2's units dead, yet reaches a validation loss of
    0.065 (the best of these runs); made leaky (the fix for dead units) it gets 0.156.
    A symptom in a run whose loss is good (below 10% of a constant prediction's) is not
    reported."""
    outcome = train(SMOOTH, learning_rate=0.1)
    assert outcome.findings == []
    leaky = train(SMOOTH, learning_rate=0.1, activation="leaky_relu")
    assert leaky.score > 1.5 * outcome.score


def test_an_uncertain_fix_is_said_to_be_uncertain():
    """Validation flat at twice the training loss: which regulariser helps is not known."""
    data = split(*smooth_regression(noise=0.5), n_train=60)
    outcome = train(data, hidden=(64, 64), learning_rate=0.003, epochs=100)
    (finding,) = [f for f in outcome.findings if f.kind == "overfitting"]
    assert finding.fix is None and finding.suggestion.startswith("uncertain")


# ------------------------------------------------------------------ the post's network
def test_post_targets_outside_the_sigmoid_put_a_floor_of_0661_under_its_loss():
    _, _, labels = draw_experiment(50, seed=0)
    found = target_floor(np.hstack(labels).T, "sigmoid")
    np.testing.assert_allclose(found.floor, 0.6611306, atol=1e-6)
    assert found.share == 0.66 and found.interval == "(0, 1)"


def test_post_network_is_diagnosed_by_its_targets_not_by_glorot():
    """The loss stops at 0.717, 0.056 above the floor; the first finding says why, and no
    finding offers Glorot's initialisation (which leaves the loss at 1.186)."""
    findings, losses, T = train_post()
    floor = target_floor(T, "sigmoid").floor
    assert losses[-1] > floor
    np.testing.assert_allclose(losses[-1], 0.7172, atol=5e-4)
    assert kinds(findings)[0] == ("target_range", "layer 6 (Dense 10→2, sigmoid)")
    assert findings[0].fix == {"output_activation": "identity"} and findings[0].columns == (0, 1)
    for text in ("66%", "(0, 1)", "0.661", "0.717"):
        assert text in findings[0].message
    for f in findings[1:]:
        assert f.explained_by == "target_range" and f.fix is None
        assert "fix the target range problem above first" in f.suggestion
    assert all(f.fix != {"init": "glorot_uniform"} for f in findings)
    _, glorot, _ = train_post(init="glorot_uniform")
    np.testing.assert_allclose(glorot[-1], 1.186, atol=1e-3)


@pytest.mark.parametrize("seed", [0, 1])
def test_post_network_with_a_linear_output_memorises_its_50_samples(seed):
    """The fix the finding offers: the loss falls below the floor, towards 0, and nothing
    is flagged (the saturated hidden units cost nothing there)."""
    findings, losses, T = train_post(seed=seed, output_activation="identity")
    assert losses[-1] < 0.002 < target_floor(T, "sigmoid").floor
    assert findings == []


def test_post_network_without_its_targets_is_suspected_of_targets_beyond_the_range():
    findings, _, _ = train_post(targets=False)
    assert findings[0].kind == "target_range"
    assert (
        "most likely" in findings[0].message and "TrainingMonitor(targets=y)" in findings[0].message
    )
    assert findings[0].fix == {"output_activation": "identity"}


def test_explain_blog_floor_says_why_the_post_stops_where_it_does():
    _, _, labels = draw_experiment(50, seed=0)
    text = explain_blog_floor(np.hstack(labels).T, "sigmoid", final_loss=0.7172)
    for part in ("66%", "66 of the 100", "(0, 1)", "0.661", "0.717", "0.056", "identity"):
        assert part in text, part
    assert "memorises the 50 samples" in text and "towards 0" in text


def test_post_network_in_5_epochs_saturates_layer_3_and_its_gradients_do_not_vanish():
    """Measured, not assumed: with N(0, 1) weights the large W_lᵀ make up for σ' ≤ ¼, so
    ‖∇W_1‖ stays near ‖∇W_6‖, while over half of layer 3's outputs sit in σ's flat tails.
    In a stack of six sigmoids the fix is not Glorot's smaller weights (the gradient would
    vanish instead) but ReLU with He's."""
    net, X, T = post_network()
    monitor, history, _ = fit_monitored(
        net, X, T, epochs=5, batch_size=1, shuffle=False, optimizer=cb.SGD(0.05)
    )
    grads = monitor.records.array("grad_norm")
    assert np.median(grads[:, 0] / grads[:, -1]) > 0.1
    findings = diagnose(monitor, history)
    assert kinds(findings) == [("saturation", "layer 3 (Dense 150→80, sigmoid)")]
    assert "54%" in findings[0].message or "55%" in findings[0].message
    assert findings[0].fix == {"activation": "relu", "init": "he_uniform"}


def test_post_layers_with_glorots_weights_learn_nothing_and_their_gradient_vanishes():
    """The textbook case: six sigmoid layers with Glorot's weights; each layer back
    multiplies g by σ' ≤ ¼, and ‖∇W_1‖ ends up ~1/500 of ‖∇W_6‖."""
    net, X, T = post_network(init="glorot_uniform")
    monitor, history, _ = fit_monitored(
        net, X, T, epochs=3, batch_size=1, shuffle=False, optimizer=cb.SGD(0.05)
    )
    findings = diagnose(monitor, history)
    assert kinds(findings) == [
        ("underfitting", None),
        ("vanishing", "layer 1 (Dense 10→100, sigmoid)"),
    ]
    assert "learned almost nothing" in findings[0].message and findings[0].fix is None
    assert "vanishes" in findings[1].message
    assert findings[1].fix == {"activation": "relu", "init": "he_uniform"}


# ------------------------------------------------------------------ the curves, worked
def curves(losses, val_losses=()):
    history = cb.History()
    for epoch, loss in enumerate(losses):
        history.append(
            epoch, {"loss": loss, **({"val_loss": val_losses[epoch]} if val_losses else {})}
        )
    return diagnose(TrainingMonitor(), history)


def test_a_loss_still_falling_at_the_pace_it_started_is_underfitting():
    """[4, 3, 2, 1]: over the last third (w = 1 epoch) it fell 2 → 1, as fast per epoch as
    the 4 → 2 over the 2 epochs before (r = 1), and by 100% of its last value (d = 1)."""
    (finding,) = curves([4.0, 3.0, 2.0, 1.0])
    assert finding.kind == "underfitting" and finding.fix == {"epochs": 8}
    assert "by 100% over the last 1 epoch (100% as fast per epoch as before)" in finding.message
    assert curves([4.0, 2.0, 1.5, 1.4]) == []  # r = 0.1 / 1.25: it has flattened


def test_a_loss_that_barely_moved_learned_nothing_and_the_fix_is_uncertain():
    (finding,) = curves([1.0, 0.99, 0.98])
    assert finding.kind == "underfitting" and finding.fix is None
    assert "learned almost nothing" in finding.message and finding.suggestion.startswith(
        "uncertain"
    )


def test_a_validation_loss_rising_from_its_lowest_epoch_is_overfitting():
    """val [1, .6, .5, .7, .8]: lowest at epoch 3, then .75 on average and .8 at the end,
    over 10% above it, while the training loss fell from .3 to .1: stop at epoch 3."""
    (finding,) = curves([1.0, 0.5, 0.3, 0.2, 0.1], [1.0, 0.6, 0.5, 0.7, 0.8])
    assert finding.kind == "overfitting" and finding.fix == {"epochs": 3}
    assert "rose from 0.5 (epoch 3, its lowest) to 0.8" in finding.message
    assert curves([1.0, 0.5, 0.3, 0.28, 0.27], [1.0, 0.6, 0.5, 0.5, 0.52]) == []  # noise


# ------------------------------------------------------------------ the target floor
def test_target_floor_is_the_loss_of_the_targets_clipped_into_the_range():
    """t = [[−1, 0.5], [2, 0.2]] against σ's (0, 1): clip(t) = [[0, 0.5], [1, 0.2]], so
    squared_error = ½(1 + 1) / 2 = 0.5 (½‖t − clip t‖² per sample) and mse = 2 / 4."""
    T = np.array([[-1.0, 0.5], [2.0, 0.2]])
    found = target_floor(T, "sigmoid")
    np.testing.assert_allclose(found.floor, 0.5, atol=1e-15)
    assert found.share == 0.5 and found.column_shares == (1.0, 0.0)
    np.testing.assert_allclose(target_floor(T, "sigmoid", "mse").floor, 0.5, atol=1e-15)
    np.testing.assert_allclose(target_floor(T, "relu").floor, 0.25, atol=1e-15)
    assert target_floor(T, "relu").interval == "[0, ∞)"
    assert target_floor(T, "tanh").interval == "(−1, 1)"
    with pytest.raises(ValueError, match="no bounded range"):
        target_floor(T, "identity")
    with pytest.raises(ValueError, match="loss 'poisson' has no clipped floor"):
        target_floor(T, "sigmoid", "poisson")


@hypothesis_settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 3),
    st.sampled_from(["sigmoid", "tanh", "relu", "softplus", "elu"]),
    st.integers(0, 2**31),
)
def test_no_output_in_range_gets_below_the_floor(n, k, activation, seed):
    """The floor is the least loss over every output the activation can give."""
    rng = np.random.default_rng(seed)
    T = 3 * rng.standard_normal((n, k))
    f = cb.ACTIVATIONS[activation]
    floor = target_floor(T, activation).floor
    loss = cb.get_loss("squared_error")
    for _ in range(20):
        Y = f(3 * rng.standard_normal((n, k)))
        assert loss(Y, T.copy()) >= floor - 1e-12


# ------------------------------------------------------------------ the runs
def diabetes_split():
    sklearn = pytest.importorskip("sklearn.datasets")
    X, y = sklearn.load_diabetes(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    X = (X - X[:354].mean(0)) / X[:354].std(0)  # the features scaled, as the CLI does
    return X[:354], y[:354], X[354:], y[354:]


def fit_diabetes(learning_rate=0.003, targets=True, standardize=False):
    """The CLI's regressor on diabetes with its target as it is (mean 152, std 77):
    Dense(10, 128, relu), Dropout(0.2), Dense(128, 1); Adam with a cosine decay."""
    X, y, X_test, y_test = diabetes_split()
    mean, std = (y.mean(), y.std()) if standardize else (0.0, 1.0)
    net = cb.Network(
        [cb.Dense(10, 128, "relu"), cb.Dropout(0.2), cb.Dense(128, 1)], loss="mse", seed=0
    )
    t = (y - mean) / std
    steps = 30 * -(-round(len(X) * 0.9) // 32)
    optimizer = cb.Adam(learning_rate=cb.CosineDecay(learning_rate, steps))
    monitor, history, _ = fit_monitored(
        net,
        X,
        t,
        targets=t if targets else None,
        epochs=30,
        optimizer=optimizer,
        validation_split=0.1,
    )
    predicted = net.predict(X_test).ravel() * std + mean
    r2 = 1 - np.mean((predicted - y_test) ** 2) / np.var(y_test)
    return diagnose(monitor, history), r2


def test_diabetes_with_its_target_unscaled_is_diagnosed_by_the_target_scale():
    """The report used to say "EXPLODING, lower the learning rate": lowering it makes the
    run worse. The cause is the target's scale, and the run underfits."""
    findings, r2 = fit_diabetes()
    assert kinds(findings) == [
        ("target_scale", "layer 2 (Dense 128→1, identity)"),
        ("underfitting", None),
    ]
    assert findings[0].fix == {"standardize_target": True} and findings[0].columns == (0,)
    assert re.search(r"mean 15\d(\.\d+)? and standard deviation 7\d", findings[0].message)
    assert findings[1].explained_by == "target_scale"
    assert all("lower the learning rate" not in f.suggestion for f in findings)
    _, r2_lower = fit_diabetes(learning_rate=0.0003)
    assert r2_lower < r2 < 0  # the old advice: worse
    _, r2_fixed = fit_diabetes(standardize=True)
    assert r2_fixed > 0.2  # the finding's fix


def test_diabetes_target_scale_is_read_from_the_first_loss_without_the_targets():
    """The CLI's monitor has no targets: the first batch's mse, 2.8e4, says the outputs
    (about 1 in size) missed targets about 170 in size."""
    findings, _ = fit_diabetes(targets=False)
    assert findings[0].kind == "target_scale" and findings[0].fix == {"standardize_target": True}
    assert "about 1.7e+02 in size" in findings[0].message
    assert "exploding" not in [f.kind for f in findings]


def test_digits_with_validation_three_times_its_training_loss_overfits():
    """The CLI's digits run (128 ReLU units, dropout 0.2, Adam 0.003 with a cosine decay,
    30 epochs): training 0.046, validation 0.133."""
    data = cb.datasets.load("digits")
    net = cb.Network(
        [cb.Dense(64, 128, "relu"), cb.Dropout(0.2), cb.Dense(128, 10)],
        loss="cross_entropy",
        seed=0,
    )
    steps = 30 * -(-round(len(data.X_train) * 0.9) // 32)
    monitor, history, _ = fit_monitored(
        net,
        data.X_train,
        data.y_train,
        epochs=30,
        validation_split=0.1,
        optimizer=cb.Adam(learning_rate=cb.CosineDecay(0.003, steps)),
    )
    np.testing.assert_allclose(history["loss"][-1], 0.046, atol=0.01)
    np.testing.assert_allclose(history["val_loss"][-1], 0.133, atol=0.02)
    findings = diagnose(monitor, history)
    assert kinds(findings) == [("overfitting", None)]
    assert "times the training loss" in findings[0].message
    assert findings[0].fix is None and findings[0].suggestion.startswith("uncertain")


def test_digits_training_is_sampled_and_healthy():
    data = cb.datasets.load("digits")
    net = cb.Network(
        [cb.Dense(64, 128, "relu"), cb.Dropout(0.2), cb.Dense(128, 10)],
        loss="cross_entropy",
        seed=0,
    )
    monitor, history, _ = fit_monitored(
        net, data.X_train, data.y_train, epochs=4, batch_size=32, optimizer="adam"
    )
    r = monitor.records
    assert [info.index for info in r.layers] == [0, 2]  # Dropout has no weights
    assert 4 <= len(r.step) <= 4 * 51 and set(r.epoch) == {0, 1, 2, 3}
    assert np.isfinite(r.array("grad_norm")).all()
    assert r.loss == "cross_entropy" and r.classification and r.output_activation == "softmax"
    assert diagnose(monitor, history) == []
    assert format_findings([]).startswith("diagnostics: no problems found")


# ------------------------------------------------------------------ exploding, diverging
def test_huge_learning_rate_is_diagnosed_as_diverging_and_exploding():
    X, y = regression_data()
    monitor, history, error = fit_monitored(
        relu_net(), X, y, epochs=20, batch_size=32, optimizer=cb.SGD(learning_rate=0.5)
    )
    assert error is not None and history is None
    findings = diagnose(monitor, error=error)
    assert [f.kind for f in findings] == ["divergence", "exploding"]
    assert "the loss became inf" in findings[0].message
    assert findings[0].fix == {"learning_rate": 0.05}
    for finding in findings:
        assert "lower the learning rate (now 0.5)" in finding.suggestion
        assert "initial weights" not in finding.suggestion  # He's: the step blew them up
    assert re.match(r"layer \d \(Dense \d+→32, relu\)", findings[1].layer)
    assert findings[1].explained_by == "divergence" and findings[1].fix is None


def test_huge_initial_weights_are_the_cause_of_the_divergence_not_the_learning_rate():
    """Three times He's weights in seven layers: the signal grows about a thousandfold on
    its way forward, and with a learning rate of 1e-6 the loss still overflows. Lowering
    the rate is no fix; He's initialisation is."""
    X, y = regression_data()
    net = relu_net(depth=6)
    for layer in net.layers:
        layer.W *= 3  # three times He's scale, in every layer
    monitor, _, error = fit_monitored(
        net, X, y, epochs=3, batch_size=32, optimizer=cb.SGD(learning_rate=1e-6)
    )
    findings = diagnose(monitor, error=error)
    assert [f.kind for f in findings] == ["weight_scale", "divergence", "exploding"]
    assert "its initial weights are large for" in findings[0].suggestion
    assert "He's is" in findings[0].suggestion and findings[0].fix == {"init": "he_uniform"}
    for f in findings[1:]:
        assert f.fix is None and f.explained_by == "weight_scale"


def test_a_rising_loss_is_diverging_even_while_finite():
    history = cb.History()
    for epoch, loss in enumerate([1.0, 0.5, 0.8, 6.0]):
        history.append(epoch, {"loss": loss})
    findings = diagnose(TrainingMonitor(), history)
    assert kinds(findings) == [("divergence", None)]
    assert "rose from 0.5 (epoch 2) to 6 (epoch 4)" in findings[0].message


# ------------------------------------------------------------------ dead and saturated units
def test_relu_units_pushed_below_zero_are_dead():
    X, y = regression_data()
    net = relu_net(depth=2)
    net.layers[1].b[...] = -100.0  # layer 2's affines are all far below 0
    monitor, history, _ = fit_monitored(net, X, y, epochs=2, batch_size=32, optimizer="adam")
    findings = diagnose(monitor, history)
    assert kinds(findings) == [("dead", "layer 2 (Dense 32→32, relu)")]
    assert "100% of its ReLU units are dead" in findings[0].message
    assert "he_uniform" in findings[0].suggestion and "leaky_relu" in findings[0].suggestion
    assert findings[0].fix == {"activation": "leaky_relu"}


def test_a_unit_is_dead_only_if_it_is_zero_for_every_sample_of_the_epoch():
    """o = relu(x W ᵀ) with W = [[1], [−1]]: on x = ±1 each batch of one sample has one
    unit at 0, but over the epoch both units fire; on x > 0 only, unit 2 is dead."""
    for X, expected in ((np.array([[1.0], [-1.0]]), 0.0), (np.array([[1.0], [2.0]]), 0.5)):
        net = cb.Network([cb.Dense(1, 2, "relu"), cb.Dense(2, 1)], seed=0, dtype="float64")
        net.layers[0].W[...] = [[1.0], [-1.0]]
        monitor, _, _ = fit_monitored(
            net, X, np.zeros(2), epochs=1, batch_size=1, optimizer=cb.SGD(1e-9), every=1
        )
        assert monitor.records.dead[0][0] == expected


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_large_weights_saturate_sigmoid_and_tanh_layers(activation):
    X, y = regression_data()
    net = cb.Network(
        [cb.Dense(8, 16, activation), cb.Dense(16, 1)], loss="mse", seed=0, dtype="float64"
    )
    net.layers[0].W *= 100
    monitor, history, _ = fit_monitored(net, X, y, epochs=2, batch_size=32, optimizer="adam")
    findings = [f for f in diagnose(monitor, history) if f.kind == "saturation"]
    assert [f.layer for f in findings] == [f"layer 1 (Dense 8→16, {activation})"]
    assert "its initial weights are large for 8 inputs" in findings[0].suggestion
    assert findings[0].fix == {"init": "glorot_uniform"}


def test_saturated_share_counts_the_flat_tails():
    """sigmoid: o < 0.01 or o > 0.99; tanh: |o| > 0.99; NaN for other activations."""
    assert saturated_share(Fake("sigmoid", [[0.005, 0.5], [0.995, 0.98]])) == 0.5
    assert saturated_share(Fake("tanh", [[-0.995, 0.5, 0.999, 0.98]])) == 0.5
    assert np.isnan(saturated_share(Fake("relu", [[0.0, 1.0]])))


def test_edge_share_counts_outputs_at_the_edge_of_the_range():
    """sigmoid: y < 0.05 or y > 0.95; tanh: |y| > 0.9; relu: y = 0; NaN otherwise."""
    assert edge_share(Fake("sigmoid", [[0.04, 0.5], [0.96, 0.9]]), "sigmoid") == 0.5
    assert edge_share(Fake("tanh", [[-0.95, 0.5, 0.91, 0.2]]), "tanh") == 0.5
    assert edge_share(Fake("relu", [[0.0, 1.0, 0.0, 0.0]]), "relu") == 0.75
    assert np.isnan(edge_share(Fake("identity", [[0.0, 1.0]]), "identity"))
    assert np.isnan(edge_share(Fake("identity", [[0.0, 1.0]]), "softmax"))


class Fake:
    def __init__(self, name, o):
        self.activation, self.transforms = cb.ACTIVATIONS[name], np.array(o)


# ------------------------------------------------------------------ the numbers recorded
def test_recorded_norms_are_the_gradient_and_the_steps_change():
    """With plain SGD, ΔW_l = −lr ∇W_l, so ‖ΔW_l‖ / ‖W_l‖ = lr ‖∇W_l‖ / ‖W_l‖."""
    X, y = regression_data(n=64)
    net = relu_net(depth=2)
    seen = []
    monitor = TrainingMonitor(every=1)
    spy = cb.LambdaCallback(
        on_batch_end=lambda b, logs: seen.append([np.linalg.norm(layer.dW) for layer in dense])
    )
    dense = [layer for layer in net.layers if isinstance(layer, cb.Dense)]
    net.fit(X, y, epochs=2, batch_size=16, optimizer=cb.SGD(0.01), callbacks=[monitor, spy])
    r = monitor.records
    assert len(r.step) == 8 and r.batches_per_epoch == 4
    np.testing.assert_allclose(r.grad_norm, seen, rtol=1e-12, atol=0)
    expected = 0.01 * r.array("grad_norm") / r.array("weight_norm")
    np.testing.assert_allclose(r.array("update_ratio"), expected, rtol=1e-9, atol=0)
    np.testing.assert_allclose(r.positions(), np.arange(1, 9) / 4)


def test_the_first_batch_is_recorded_before_any_update():
    """Its loss is the mse of the untrained network on the first 16 rows (no shuffle), and
    the sizes are root mean squares of that batch's inputs, transforms and outputs."""
    X, y = regression_data(n=64)
    net = relu_net(depth=2)
    before = net.predict(X[:16])
    hidden = np.maximum(X[:16] @ net.layers[0].W.T + net.layers[0].b, 0)
    monitor, _, _ = fit_monitored(net, X, y, epochs=1, batch_size=16, shuffle=False)
    r = monitor.records
    rms = lambda a: np.sqrt(np.mean(np.square(a)))  # noqa: E731
    np.testing.assert_allclose(r.first_loss, np.mean((before - y[:16]) ** 2), rtol=1e-12, atol=0)
    np.testing.assert_allclose(r.first_output_rms, rms(before), rtol=1e-12, atol=0)
    np.testing.assert_allclose(r.first_input_rms, rms(X[:16]), rtol=1e-12, atol=0)
    np.testing.assert_allclose(r.first_transform_rms[0], rms(hidden), rtol=1e-12, atol=0)
    assert r.first_batch_size == 16 and r.loss == "mse" and r.output_activation == "identity"


def test_the_monitor_samples_about_50_steps_an_epoch():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((1000, 2)), rng.standard_normal(1000)
    net = cb.Network([cb.Dense(2, 4, "tanh"), cb.Dense(4, 1)], seed=0)
    monitor, _, _ = fit_monitored(net, X, y, epochs=3, batch_size=4, optimizer="sgd")
    r = monitor.records
    counts = np.bincount(r.epoch)
    assert r.batches_per_epoch == 250
    assert all(25 <= c <= 51 for c in counts), counts
    assert len(r.batch_loss) == len(r.output_edge) == len(r.step)  # thinned together
    assert len(set(r.learning_rate.values())) == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_monitor_rejects_bad_strides(bad):
    with pytest.raises(ValueError, match="positive integer"):
        TrainingMonitor(every=bad)


def test_monitor_rejects_targets_that_are_not_numbers():
    with pytest.raises(ValueError, match="targets must be numbers"):
        TrainingMonitor(targets=np.array(["a", "b"]))


# ------------------------------------------------------------------ the console
def test_print_findings_names_each_layer_and_fix(capsys):
    X, y = regression_data()
    monitor, _, error = fit_monitored(
        relu_net(), X, y, epochs=20, batch_size=32, optimizer=cb.SGD(learning_rate=0.5)
    )
    print_findings(diagnose(monitor, error=error))
    out = capsys.readouterr().out
    assert out.startswith("diagnostics: 2 problems found\n")
    assert "[divergence] training diverged" in out
    assert out.count("fix: lower the learning rate") == 1
    assert "[exploding] layer" in out and "fix: fix the divergence problem above first" in out


def test_a_finding_names_its_columns_and_keeps_the_old_four_fields():
    finding = Finding("target_scale", None, "far from unit scale.", "standardise", columns=(0, 2))
    assert str(finding) == "target columns 0, 2: far from unit scale.\n    fix: standardise"
    old = Finding("dead", "layer 1", "dead.", "leaky")
    assert (old.fix, old.columns, old.explained_by) == (None, (), None)


def test_the_blog_report_names_the_floor_of_the_post_s_network(tmp_path):
    """`cartoonbrain blog --report` prints the diagnosis and writes it into the page: the
    targets outside (0, 1), the floor and the fix, ahead of the saturated layer 3."""
    pytest.importorskip("matplotlib")
    from cartoonbrain.blog.inspect import blog_report

    lines = []
    path, _ = blog_report(tmp_path, epochs=3, log=lines.append)
    printed = "\n".join(lines)
    assert "[target_range] layer 6 (Dense 10→2, sigmoid)" in printed
    assert printed.index("[target_range]") < printed.index("[saturation] layer 3")
    page = path.read_text(encoding="utf-8")
    for text in ("66% of the targets lie outside (0, 1)", "cannot fall below 0.661", "identity"):
        assert text in page
