"""NeuralNetClassifier: MLPClassifier's interface over a cartoonbrain Network."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils import column_or_1d
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
)

from ._base import Array, _NeuralNet


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

    @available_if(_NeuralNet._check_solver)
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
        missing = np.setdiff1d(labels, self.classes_)
        if missing.size and incremental:
            raise ValueError(
                f"y has labels {missing.tolist()} that are not among the classes "
                f"{self.classes_.tolist()} given to the first partial_fit call; pass every "
                "label the estimator will see as `classes` on the first call"
            )
        if missing.size:
            raise ValueError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has "
                f"{self.classes_}. 'y' has {labels}."
            )
        return np.searchsorted(self.classes_, y)

    def _check_classes(self) -> None:
        if self.loss == "cross_entropy" and self._multilabel:
            raise ValueError("loss='cross_entropy' needs single-label y; use loss='auto'")
        if self.loss == "binary_cross_entropy" and not self._multilabel:
            if len(self.classes_) != 2:
                raise ValueError(
                    f"loss='binary_cross_entropy' needs 2 classes; y has "
                    f"{len(self.classes_)}: use loss='auto'"
                )

    def _output(self) -> tuple[int, str]:
        """Multi-label: one sigmoid per label, the loss summed over labels (MLP's); one
        class: one sigmoid output (predict always answers that class); two classes with
        binary_cross_entropy: MLP's single logistic output; else a softmax per class."""
        if self._multilabel:
            return len(self.classes_), "binary_cross_entropy_sum"
        if self.loss == "binary_cross_entropy" or len(self.classes_) == 1:
            return 1, "binary_cross_entropy"
        return len(self.classes_), "cross_entropy"

    def _ids(self, P: Array) -> Array:
        """Predicted class ids from probabilities (0/1 indicators for multi-label)."""
        if self._multilabel:
            return (P > 0.5).astype(np.int64)
        if len(self.classes_) == 1:
            return np.zeros(len(P), dtype=np.int64)
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
        if len(self.classes_) == 1 and not self._multilabel:
            return np.ones_like(P)  # the one class, for certain
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
