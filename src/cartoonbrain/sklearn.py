"""scikit-learn estimators: :class:`NeuralNetClassifier` and :class:`NeuralNetRegressor`.

They mirror :class:`sklearn.neural_network.MLPClassifier` and ``MLPRegressor``: the same
parameter names and defaults, the same fitted attributes (``coefs_``, ``intercepts_``,
``loss_curve_``, ``best_loss_``, ...), ``partial_fit``, ``sample_weight``, early stopping,
and a :class:`~cartoonbrain.network.Network` (``network_``) doing the maths. Every
mini-batch B of samples with weights w_i (1 without ``sample_weight``) takes one optimizer
step on MLPClassifier's objective

    L_B = Σ_B w_i ℓ_i / Σ_B w_i  +  (α / (2 Σ_B w_i)) Σ_l ‖W_l‖²

(ℓ_i the loss of sample i, α = ``alpha``, biases not penalised), so weights equal to 0 or 2
act as dropping or repeating samples. Where they differ from scikit-learn's MLP:

* ``solver`` is one of "adam", "sgd", "rmsprop", "adamw" (:mod:`cartoonbrain.optimizers`);
  there is no "lbfgs";
* ``coefs_[l]`` is ``W_lᵀ``: the Network keeps the post's ``W`` of shape (n_out, n_in),
  scikit-learn's ``coefs_`` are (n_in, n_out); both attributes are read-only views;
* the weights start as the engine's default (He uniform for the ReLU family, Glorot
  uniform otherwise) and the biases at 0;
* two classes get two softmax outputs (``loss="auto"``); ``loss="binary_cross_entropy"``
  gives MLPClassifier's single logistic output;
* ours: ``loss``, ``dropout`` (after every hidden layer), ``dtype`` (``"auto"`` keeps
  float32 input in float32 and trains everything else in float64), ``verbose=1`` a
  progress bar over the epochs (tqdm), ``verbose=2`` MLP's line per epoch.

Requires scikit-learn ≥ 1.6 (``pip install "cartoonbrain[sklearn]"``).
"""

from __future__ import annotations

import math
import sys
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
)
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .builders import mlp
from .layers import Dense
from .network import Network
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from .train import TrainingDiverged, fit
from .train.monitor import Monitor

Array = NDArray[Any]

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

#: MLPClassifier's activation names, plus the engine's own
_ACTIVATIONS = {"identity", "logistic", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"}


def _read_only(a: Array) -> Array:
    view = a.view()
    view.flags.writeable = False
    return view


class _MLPRule(Monitor):
    """scikit-learn's MLP rules, run by ``fit`` after each epoch, as a :class:`Monitor`.

    Keeps the estimator's ``n_iter_``, ``t_`` and ``loss_curve_``; watches the training
    loss (or, with ``early_stopping``, the validation score: accuracy or R²), where an
    epoch improves when it beats the best by at least ``tol`` (MLP compares with ``<=``);
    after more than ``n_iter_no_change`` epochs without improvement it stops (or, for
    sgd with ``learning_rate="adaptive"``, divides the rate by 5); with early stopping it
    keeps the weights of the best score; with ``learning_rate="invscaling"`` it sets the
    rate to ``learning_rate_init / (t + 1) ** power_t``.
    """

    def __init__(self, estimator: _NeuralNet, validation: Any, n_samples: int) -> None:
        monitored = ("val_score", "max") if validation is not None else ("loss", "min")
        super().__init__(*monitored, min_delta=estimator.tol)
        self.estimator, self.validation, self.n_samples = estimator, validation, n_samples
        self.bar = estimator._progress_bar()

    def is_improvement(self, score: float) -> bool:
        return score <= self.best - self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        est, loss = self.estimator, logs["loss"]
        est.n_iter_ += 1
        est.t_ += self.n_samples
        est.loss_curve_.append(loss)
        if self.validation is None:
            assert est.best_loss_ is not None
            self.best = est.best_loss_
            improved = self.is_improvement(self.current(logs))
            est.best_loss_ = min(est.best_loss_, loss)
        else:
            improved = self._validate(logs)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        self._report(loss, logs.get("val_score"))
        if est.solver == "sgd" and est.learning_rate == "invscaling":
            est._optimizer.learning_rate = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if est._no_improvement_count > est.n_iter_no_change:
            self._say_why()
            self.stop_training = est._should_stop()

    def _validate(self, logs: dict[str, float]) -> bool:
        est, net = self.estimator, self.estimator.network_
        X_val, t_val, w_val = self.validation
        score = est._validation_score(net.predict(X_val), t_val, w_val)
        logs["val_score"] = score
        assert est.validation_scores_ is not None and est.best_validation_score_ is not None
        est.validation_scores_.append(score)
        self.best = -est.best_validation_score_
        improved = self.is_improvement(self.current(logs))
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            est._best_parameters = net.flat_parameters.copy()
        return improved

    def _report(self, loss: float, score: float | None) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
        elif self.estimator.verbose:
            print(f"Iteration {self.estimator.n_iter_}, loss = {loss:.8f}", flush=True)
            if score is not None:
                print(f"Validation score: {score:f}", flush=True)

    def _say_why(self) -> None:
        est = self.estimator
        if est.verbose and self.bar is None:
            what = "Validation score" if self.validation is not None else "Training loss"
            print(
                f"{what} did not improve more than tol={est.tol:f} for "
                f"{est.n_iter_no_change} consecutive epochs.",
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _NeuralNet(BaseEstimator):
    """What the classifier and the regressor share: parameters, network, training loop."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(_ACTIVATIONS)],
        "solver": [StrOptions({"adam", "sgd", "rmsprop", "adamw"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "dtype": [
            StrOptions({"auto", "float32", "float64"}),
            Options(type, {np.float32, np.float64}),
        ],
    }

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: int | bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        loss: str = "auto",
        dropout: float = 0.0,
        dtype: Any = "auto",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.loss = loss
        self.dropout = dropout
        self.dtype = dtype

    # ------------------------------------------------------------------ per-estimator parts
    def _encode_targets(self, y: Any, first_pass: bool, incremental: bool) -> Array:
        raise NotImplementedError

    def _output(self) -> tuple[int, str]:
        """(number of outputs, loss name) for the network, from the encoded targets."""
        raise NotImplementedError

    def _validation_score(self, P: Array, t: Array, w: Array | None) -> float:
        raise NotImplementedError

    def _check_weights(self, targets: Array, w: Array) -> None:
        """Refuse sample weights that leave nothing to learn (the classifier: one class)."""

    # ------------------------------------------------------------------ fitted attributes
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "network_")

    def _dense_layers(self) -> list[Dense]:
        check_is_fitted(self)
        return [layer for layer in self.network_.layers if isinstance(layer, Dense)]

    @property
    def coefs_(self) -> list[Array]:
        """``W_lᵀ`` for each layer, shape (n_in, n_out) as scikit-learn's: read-only views."""
        return [_read_only(layer.W.T) for layer in self._dense_layers() if layer.W is not None]

    @property
    def intercepts_(self) -> list[Array]:
        """``b_l`` for each layer, shape (n_out,): read-only views."""
        return [_read_only(layer.b) for layer in self._dense_layers() if layer.b is not None]

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        # A Network holds its activations' lambdas and layer views into one flat buffer,
        # which neither pickle nor deepcopy keep: store its config, weights and generator.
        state = dict(super().__getstate__())
        net = state.get("network_")
        if isinstance(net, Network):
            state["network_"] = {
                "config": net.get_config(),
                "flat_parameters": net.flat_parameters.copy(),
                "rng": net.rng.bit_generator.state,
            }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = state.get("network_")
        if isinstance(saved, dict):
            net = Network.from_config(saved["config"])
            net.flat_parameters[...] = saved["flat_parameters"]
            net.rng.bit_generator.state = saved["rng"]
            state = {**state, "network_": net}
        super().__setstate__(state)

    # ------------------------------------------------------------------ fitting
    def _hidden_layer_sizes(self) -> list[int]:
        given = self.hidden_layer_sizes
        sizes = [given] if isinstance(given, Integral) else list(given)
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and int(s) > 0 for s in sizes
        ):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _check_parameters(self) -> None:
        if self.solver == "lbfgs":
            raise ValueError(
                "solver='lbfgs' is not available: cartoonbrain trains with mini-batch "
                "optimizers; use solver='adam' (the default), 'sgd', 'rmsprop' or 'adamw'"
            )
        self._validate_params()
        self._hidden_layer_sizes()

    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> _NeuralNet:
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "network_") or (not self.warm_start and not incremental)
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=not is_classifier(self),
            dtype=(np.float64, np.float32),
            reset=first_pass,
        )
        targets = self._encode_targets(y, first_pass, incremental)
        w = None
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            if not incremental:
                self._check_weights(targets, w)
        random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(X, random_state)
        elif self.early_stopping != (self.validation_scores_ is not None):
            self._reset_tracking()  # a warm start that switched early_stopping
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        net = self.network_
        X = net.check_inputs(X)
        self._train(X, net.check_targets(targets, len(X)), w, incremental, random_state)
        return self

    def _initialize(self, X: Array, random_state: np.random.RandomState) -> None:
        n_outputs, loss = self._output()
        hidden = self._hidden_layer_sizes()
        activation = "sigmoid" if self.activation == "logistic" else self.activation
        layers = mlp(X.shape[1], hidden, n_outputs, activation, dropout=self.dropout)
        dtype = X.dtype if self.dtype == "auto" else self.dtype
        seed = int(random_state.randint(np.iinfo(np.int32).max))
        self.network_ = Network(
            layers, loss=loss, seed=seed, dtype=dtype, l2=self.alpha, l2_per_sample=True
        )
        self.n_outputs_, self.n_layers_ = n_outputs, len(hidden) + 2
        self.out_activation_ = self.network_.loss.output_activation or "identity"
        self.t_, self.n_iter_ = 0, 0
        self.loss_curve_: list[float] = []
        self._reset_tracking()

    def _reset_tracking(self) -> None:
        """MLP's stopping state: the best loss, or the validation scores and best weights."""
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
            self._best_parameters = self.network_.flat_parameters.copy()
        else:
            self.validation_scores_, self.best_validation_score_ = None, None
            self.best_loss_ = np.inf

    def _make_optimizer(self) -> Optimizer:
        rate = self.learning_rate_init
        if self.solver == "sgd":
            nesterov = self.nesterovs_momentum and self.momentum > 0
            return SGD(rate, momentum=self.momentum, nesterov=nesterov)
        if self.solver == "rmsprop":
            return RMSprop(rate)
        adam = AdamW if self.solver == "adamw" else Adam
        return adam(rate, beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)

    def _split(
        self, X: Array, t: Array, w: Array | None, random_state: np.random.RandomState
    ) -> tuple[tuple[Array, Array, Array | None], tuple[Array, Array, Array | None] | None]:
        """(training part, validation part or None): MLP's split for early stopping."""
        if not self.early_stopping:
            return (X, t, w), None
        stratify = None
        if is_classifier(self) and (t.ndim == 1 or t.shape[1] == 1):
            stratify = t.reshape(len(t))
        arrays = [X, t] if w is None else [X, t, w]
        parts = train_test_split(
            *arrays,
            random_state=random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        if len(parts[1]) < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        w_train, w_val = (None, None) if w is None else (parts[4], parts[5])
        return (parts[0], parts[2], w_train), (parts[1], parts[3], w_val)

    def _batch_size(self, n_samples: int) -> int:
        if isinstance(self.batch_size, str):  # "auto"
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. "
                "It is going to be clipped",
                stacklevel=5,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _train(
        self,
        X: Array,
        t: Array,
        w: Array | None,
        incremental: bool,
        random_state: np.random.RandomState,
    ) -> None:
        """Train through the library's one loop, ``cartoonbrain.train.fit``, with MLP's
        rules (:class:`_MLPRule`) as a callback: max_iter epochs (one for partial_fit)."""
        (X, t, w), validation = self._split(X, t, w, random_state)
        rule = _MLPRule(self, validation, len(X))
        self.n_iter_ = 0
        self.network_.l2 = self.alpha  # the penalty (α / 2 n_B) Σ‖W‖², l2_per_sample
        try:
            fit(
                self.network_,
                X,
                t,
                epochs=1 if incremental else self.max_iter,
                batch_size=self._batch_size(len(X)),
                optimizer=self._optimizer,
                shuffle=self.shuffle,
                metrics=[],
                callbacks=[rule],
                sample_weight=w,
            )
        except TrainingDiverged:
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            ) from None
        finally:
            rule.close()
        if not incremental and not rule.stop_training and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )
        if self.early_stopping:
            self.network_.flat_parameters[...] = self._best_parameters

    def _should_stop(self) -> bool:
        """Stop, or (sgd with learning_rate="adaptive") divide the rate by 5 and go on."""
        adaptive = self.solver == "sgd" and self.learning_rate == "adaptive"
        rate = self._optimizer.current_learning_rate()
        if not adaptive or rate <= 1e-6:
            return True
        self._optimizer.learning_rate = rate / 5
        self._no_improvement_count = 0
        if self.verbose:
            print(f"Setting learning rate to {rate / 5:f}", flush=True)
        return False

    def _progress_bar(self) -> Any:
        if self.verbose != 1:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is an optional extra
            return None
        return tqdm(total=self.max_iter, desc=type(self).__name__, unit="epoch", file=sys.stderr)

    # ------------------------------------------------------------------ predicting
    def _forward(self, X: Any) -> Array:
        """``predict`` of the network: probabilities or regression outputs, (n, n_outputs)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return self.network_.predict(X)


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A feed-forward network classifier with MLPClassifier's interface.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default (100,)
        Units of each hidden layer (``()``: no hidden layer).
    activation : {"relu", "logistic", "tanh", "identity", "sigmoid", "leaky_relu", "elu",
        "softplus"}, default "relu"
        ``f`` of the hidden layers ("logistic" is "sigmoid").
    solver : {"adam", "sgd", "rmsprop", "adamw"}, default "adam"
        The optimizer: :class:`~cartoonbrain.optimizers.Adam` (``beta_1``, ``beta_2``,
        ``epsilon``), SGD (``momentum``, ``nesterovs_momentum``, ``learning_rate``,
        ``power_t``), RMSprop (the engine's defaults), AdamW (Adam plus the engine's
        decoupled weight decay 0.01).
    alpha : float, default 1e-4
        L2 penalty: each batch of total weight n_B adds (α / 2 n_B) Σ‖W_l‖², as MLP's.
    batch_size : int or "auto", default "auto" (min(200, n_samples))
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        For ``solver="sgd"``, as MLPClassifier: "invscaling" sets the rate to
        ``learning_rate_init / (t + 1) ** power_t`` after each epoch (t: samples seen);
        "adaptive" divides it by 5 instead of stopping, until it is ≤ 1e-6.
    learning_rate_init : float, default 1e-3
    power_t : float, default 0.5
    max_iter : int, default 200
        Epochs; a :class:`~sklearn.exceptions.ConvergenceWarning` when all are used.
    shuffle : bool, default True
    random_state : int, RandomState or None
        Seeds the network (initial weights, shuffling, dropout) and the early-stopping
        split: the same int gives identical fits.
    tol : float, default 1e-4;  n_iter_no_change : int, default 10
        Stop once the training loss (the validation accuracy, with ``early_stopping``)
        has not improved by ``tol`` for more than ``n_iter_no_change`` epochs.
    verbose : bool or int, default False
        1 (True): a tqdm progress bar over the epochs; 2: MLP's line per epoch.
    warm_start : bool, default False
        ``fit`` continues from the fitted network (a fresh optimizer, as MLP's).
    momentum : float, default 0.9;  nesterovs_momentum : bool, default True
    early_stopping : bool, default False;  validation_fraction : float, default 0.1
        Hold out a stratified fraction, score it after each epoch, keep the best weights.
    beta_1, beta_2, epsilon : float, default 0.9, 0.999, 1e-8
    loss : {"auto", "cross_entropy", "binary_cross_entropy"}, default "auto"
        "auto": softmax cross-entropy over one output per class, or one sigmoid output
        per label for multi-label targets. "binary_cross_entropy" with two classes: one
        sigmoid output, as MLPClassifier.
    dropout : float in [0, 1), default 0
        A :class:`~cartoonbrain.layers.Dropout` after every hidden layer.
    dtype : {"auto", "float32", "float64"}, default "auto"
        The network's dtype; "auto" takes float32 from float32 input, else float64.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coefs_, intercepts_ : lists of read-only arrays, (n_in, n_out) and (n_out,)
    loss_curve_ : list of float;  best_loss_ : float or None
    validation_scores_ : list of float or None;  best_validation_score_ : float or None
    n_iter_ : int (epochs of the last fit);  t_ : int (samples seen)
    n_features_in_ : int;  feature_names_in_ : ndarray (when X has column names)
    n_outputs_, n_layers_ : int;  out_activation_ : str
    network_ : cartoonbrain.Network
        Its ``l2`` is left at α / n_samples, so ``network_.evaluate`` reports the
        full-batch objective.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_NeuralNet._parameter_constraints,
        "loss": [StrOptions({"auto", "cross_entropy", "binary_cross_entropy"})],
    }

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetClassifier:
        """Train on X of shape (n_samples, n_features) and labels y; returns self."""
        self._check_parameters()
        self._fit(X, y, sample_weight, incremental=False)
        return self

    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> NeuralNetClassifier:
        """One epoch over (X, y). ``classes`` (every label) is required on the first call."""
        self._check_parameters()
        _check_partial_fit_first_call(self, classes)
        self._fit(X, y, sample_weight, incremental=True)
        return self

    def _encode_targets(self, y: Any, first_pass: bool, incremental: bool) -> Array:
        """Labels as class ids 0..k-1 (``classes_[id]`` is the label), or 0/1 indicators."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        multilabel = type_of_target(y) == "multilabel-indicator"
        if y.ndim == 2 and not multilabel:
            raise ValueError(f"{type(self).__name__} does not support multiclass-multioutput y")
        if first_pass:
            self._multilabel = multilabel
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
            elif not incremental:
                self.classes_ = np.unique(y)
            self._check_classes()
        elif multilabel != self._multilabel:
            raise ValueError("y must stay multi-label, or stay single-label, across calls")
        if multilabel:
            return y
        labels = np.unique(y)
        if not first_pass and not incremental and not np.array_equal(labels, self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the "
                f"previous call to fit. Previously got {self.classes_}, `y` has {labels}"
            )
        if np.setdiff1d(labels, self.classes_).size:
            raise ValueError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has "
                f"{self.classes_}. 'y' has {labels}."
            )
        return np.searchsorted(self.classes_, y)

    def _check_classes(self) -> None:
        if not self._multilabel and len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {self.classes_[0]!r}"
            )
        if self.loss == "cross_entropy" and self._multilabel:
            raise ValueError("loss='cross_entropy' needs single-label y; use loss='auto'")
        if self.loss == "binary_cross_entropy" and not self._multilabel:
            if len(self.classes_) != 2:
                raise ValueError(
                    f"loss='binary_cross_entropy' needs 2 classes; y has "
                    f"{len(self.classes_)}: use loss='auto'"
                )

    def _output(self) -> tuple[int, str]:
        if self._multilabel:
            return len(self.classes_), "binary_cross_entropy"
        if self.loss == "binary_cross_entropy":
            return 1, "binary_cross_entropy"
        return len(self.classes_), "cross_entropy"

    def _check_weights(self, targets: Array, w: Array) -> None:
        ids = targets[w > 0]
        if not self._multilabel and len(np.unique(ids)) == 1:
            raise ValueError(
                f"sample_weight leaves samples of only one class ({self.classes_[ids[0]]!r}); "
                f"{type(self).__name__} needs at least 2 classes with positive weight"
            )

    def _ids(self, P: Array) -> Array:
        """Predicted class ids from probabilities (0/1 indicators for multi-label)."""
        if self._multilabel:
            return (P > 0.5).astype(np.int64)
        if P.shape[1] == 1:
            return (P[:, 0] > 0.5).astype(np.int64)
        return P.argmax(axis=1)

    def _validation_score(self, P: Array, t: Array, w: Array | None) -> float:
        predicted = self._ids(P)
        truth = t.astype(np.int64).reshape(predicted.shape)
        return float(accuracy_score(truth, predicted, sample_weight=w))

    def predict(self, X: Any) -> Array:
        """The most probable class of each sample (0/1 indicators for multi-label)."""
        ids = self._ids(self._forward(X))
        return ids if self._multilabel else self.classes_[ids]

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, shape (n_samples, n_classes), columns as ``classes_``."""
        P = self._forward(X)
        if P.shape[1] == 1 and not self._multilabel:
            return np.hstack([1 - P, P])
        return P

    def predict_log_proba(self, X: Any) -> Array:
        """``log(predict_proba(X))``."""
        P = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(P, out=P)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A feed-forward network regressor with MLPRegressor's interface.

    The parameters and attributes are :class:`NeuralNetClassifier`'s (without
    ``classes_``), except

    loss : {"auto", "squared_error", "mse"}, default "auto" (= "squared_error")
        "squared_error": the mean over samples of ½‖y − t‖² (MLPRegressor's loss for one
        output; for k outputs it is k times MLPRegressor's, which also averages over
        outputs); "mse": the mean over samples and outputs of (y − t)².

    ``early_stopping`` scores R² on the held-out fraction (not stratified). y of shape
    (n_samples,) gives predictions of shape (n_samples,); y of shape (n_samples, k)
    trains k outputs.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_NeuralNet._parameter_constraints,
        "loss": [StrOptions({"auto", "squared_error", "mse"})],
    }

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetRegressor:
        """Train on X of shape (n_samples, n_features) and targets y; returns self."""
        self._check_parameters()
        self._fit(X, y, sample_weight, incremental=False)
        return self

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> NeuralNetRegressor:
        """One epoch over (X, y), continuing from the fitted network if there is one."""
        self._check_parameters()
        self._fit(X, y, sample_weight, incremental=True)
        return self

    def _encode_targets(self, y: Any, first_pass: bool, incremental: bool) -> Array:
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if first_pass:
            self._n_targets = 1 if y.ndim == 1 else y.shape[1]
        return y

    def _output(self) -> tuple[int, str]:
        return self._n_targets, "squared_error" if self.loss == "auto" else self.loss

    def _validation_score(self, P: Array, t: Array, w: Array | None) -> float:
        if not np.isfinite(P).all():
            return math.nan
        return float(r2_score(t, P, sample_weight=w))

    def predict(self, X: Any) -> Array:
        """Predictions, shape (n_samples,) for one output, else (n_samples, n_outputs)."""
        P = self._forward(X)
        return P[:, 0] if self.n_outputs_ == 1 else P

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
