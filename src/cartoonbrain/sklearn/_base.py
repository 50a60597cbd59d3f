"""What the classifier and the regressor share: parameters, network, fitting through
``cartoonbrain.train.fit``."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..activations import ACTIVATIONS
from ..data.checks import dense_rows
from ..layers import Dense
from ..network.builders import mlp
from ..network.network import Network
from ..optimizers import OPTIMIZERS, SGD, Adam, AdamW, Optimizer, RMSprop, get_optimizer
from ..saving.legacy_pickle import estimator_state_from_v0_1_0
from ..train import TrainingDiverged, fit
from ..train.lbfgs import minimize_lbfgs
from ._rule import _MLPRule

Array = NDArray[Any]


#: MLPClassifier's activation names, plus the engine's own
class _Registered(StrOptions):
    """The names of a registry, read each time a parameter is checked: an activation or
    optimizer registered after import is accepted as well."""

    def __init__(self, names: Callable[[], set[str]]) -> None:
        self._names = names
        super().__init__(names())

    @property
    def options(self) -> set[str]:
        return self._names()

    @options.setter
    def options(self, value: set[str]) -> None:
        pass  # always the registry's


def _activations() -> set[str]:
    """MLP's "logistic" and every registered elementwise activation (not softmax)."""
    return {"logistic"} | {name for name in ACTIVATIONS if name != "softmax"}


def _solvers() -> set[str]:
    """ "lbfgs" (SciPy, full batch) and every registered optimizer."""
    return {"lbfgs"} | set(OPTIMIZERS)


def _read_only(a: Array) -> Array:
    view = a.view()
    view.flags.writeable = False
    return view


class _NeuralNet(BaseEstimator):
    """What the classifier and the regressor share: parameters, network, training loop."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [_Registered(_activations)],
        "solver": [_Registered(_solvers)],
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
        "max_fun": [Interval(Integral, 1, None, closed="left")],
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
        max_fun: int = 15000,
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
        self.max_fun = max_fun
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
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR/CSC, densified a batch of rows at a time
        return tags

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("network_"), dict):  # pickled by 0.1.0: the network as a dict
            state = estimator_state_from_v0_1_0(type(self), state)
            net = Network.__new__(Network)
            net.__setstate__(state["network_"])
            state = {**state, "network_": net}
        super().__setstate__(state)

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
    def _hidden_layer_sizes(self) -> list[int]:
        given = self.hidden_layer_sizes
        sizes = [given] if isinstance(given, Integral) else list(given)
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and int(s) > 0 for s in sizes
        ):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _check_solver(self) -> bool:
        """partial_fit exists for the stochastic solvers only (as MLP's)."""
        if self.solver == "lbfgs":
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is "
                "not stochastic."
            )
        return True

    def _check_parameters(self) -> None:
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
            accept_sparse=["csr", "csc"],
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
        self._train(X, net.check_targets(targets, X.shape[0]), w, incremental, random_state)
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

    def _make_optimizer(self) -> Optimizer | None:
        if self.solver == "lbfgs":
            return None  # SciPy's L-BFGS-B keeps its own state
        rate = self.learning_rate_init
        if self.solver == "sgd":
            nesterov = self.nesterovs_momentum and self.momentum > 0
            return SGD(rate, momentum=self.momentum, nesterov=nesterov)
        if self.solver == "rmsprop":
            return RMSprop(rate)
        if self.solver in ("adam", "adamw"):
            adam = AdamW if self.solver == "adamw" else Adam
            return adam(rate, beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return get_optimizer(self.solver, learning_rate=rate)  # another registered optimizer

    def _split(
        self, X: Array, t: Array, w: Array | None, random_state: np.random.RandomState
    ) -> tuple[tuple[Array, Array, Array | None], tuple[Array, Array, Array | None] | None]:
        """(training part, validation part or None): MLP's split for early stopping."""
        if not self.early_stopping:
            return (X, t, w), None
        stratify = None
        if is_classifier(self) and (t.ndim == 1 or t.shape[1] == 1):
            # the user's labels (sorted as the ids, so the same split): a message names them
            stratify = self.classes_[t.reshape(len(t)).astype(np.intp)]
        arrays = [X, t] if w is None else [X, t, w]
        parts = train_test_split(
            *arrays,
            random_state=random_state,
            test_size=float(self.validation_fraction),  # its own check refuses np.float32
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
        if self.solver == "lbfgs":
            self._train_lbfgs(X, t, w)
            return
        (X, t, w), validation = self._split(X, t, w, random_state)
        rule = _MLPRule(self, validation, X.shape[0])
        self.n_iter_ = 0
        self.network_.l2 = self.alpha  # the penalty (α / 2 n_B) Σ‖W‖², l2_per_sample
        try:
            fit(
                self.network_,
                X,
                t,
                epochs=1 if incremental else self.max_iter,
                batch_size=self._batch_size(X.shape[0]),
                optimizer=self._optimizer,
                shuffle=self.shuffle,
                metrics=[],
                callbacks=[rule],
                sample_weight=w,
            )
        except TrainingDiverged:
            if not self.early_stopping:
                raise ValueError(
                    "Solver produced non-finite parameter weights. The input data may"
                    " contain large values and need to be preprocessed."
                ) from None
            rule.diverged()  # as MLP: a NaN score, then the best weights are kept
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

    def _train_lbfgs(self, X: Array, t: Array, w: Array | None) -> None:
        """solver="lbfgs": full-batch L-BFGS-B through SciPy, as MLP's ``_fit_lbfgs``
        (``max_iter`` iterations, ``max_fun`` evaluations, ``tol`` as SciPy's gtol)."""
        net = self.network_
        net.l2 = self.alpha
        X = dense_rows(X, slice(None))  # full batch: L-BFGS is for small data sets
        result = minimize_lbfgs(
            net, X, t, w, max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol
        )
        self.n_iter_ = _check_optimize_result("lbfgs", result.raw, self.max_iter)
        self.loss_ = result.loss
        self.t_ += X.shape[0]
        if not np.isfinite(net.flat_parameters).all():
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )

    def _should_stop(self, why: str | None = None) -> bool:
        """Stop, or (sgd with learning_rate="adaptive") divide the rate by 5 and go on;
        with ``verbose``, say ``why`` and what follows, in MLP's words."""
        adaptive = self.solver == "sgd" and self.learning_rate == "adaptive"
        assert self._optimizer is not None  # a stochastic solver
        rate = self._optimizer.current_learning_rate()
        if adaptive and rate > 1e-6:
            self._optimizer.learning_rate = rate / 5
            self._no_improvement_count = 0
            what_next = f" Setting learning rate to {rate / 5:f}"
        else:
            what_next = " Learning rate too small. Stopping." if adaptive else " Stopping."
        if self.verbose and why is not None:
            print(why + what_next, flush=True)
        return not (adaptive and rate > 1e-6)

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
        X = validate_data(
            self, X, dtype=(np.float64, np.float32), accept_sparse=["csr", "csc"], reset=False
        )
        return self.network_.predict(X)
