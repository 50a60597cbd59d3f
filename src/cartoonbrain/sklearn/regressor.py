"""NeuralNetRegressor: MLPRegressor's interface over a cartoonbrain Network."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions

from ._base import Array, _NeuralNet


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A feed-forward network regressor with MLPRegressor's interface.

    The parameters and attributes are :class:`NeuralNetClassifier`'s (without
    ``classes_``), except

    loss : {"auto", "squared_error", "mse", "poisson"}, default "auto" (= "squared_error")
        "poisson": half the Poisson deviance with an exponential output, as
        MLPRegressor(loss="poisson"); targets must be >= 0.
        "squared_error": the mean over samples of ½‖y − t‖² (MLPRegressor's loss for one
        output; for k outputs it is k times MLPRegressor's, which also averages over
        outputs); "mse": the mean over samples and outputs of (y − t)².

    ``early_stopping`` scores R² on the held-out fraction (not stratified). y of shape
    (n_samples,) gives predictions of shape (n_samples,); y of shape (n_samples, k)
    trains k outputs.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_NeuralNet._parameter_constraints,
        "loss": [StrOptions({"auto", "squared_error", "mse", "poisson"})],
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
