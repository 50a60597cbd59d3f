"""scikit-learn's MLP rules for stopping, the learning rate and early stopping, as a
callback of ``cartoonbrain.train.fit``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..network.prediction import NonFinitePrediction
from ..train.monitor import Monitor

if TYPE_CHECKING:
    from ._base import _NeuralNet


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
        super().__init__(*monitored, min_delta=float(estimator.tol))
        self.estimator, self.validation, self.n_samples = estimator, validation, n_samples
        self.bar = estimator._progress_bar()

    def is_improvement(self, score: float) -> bool:
        return score <= self.best - self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        est, loss = self.estimator, logs["loss"]
        est.n_iter_ += 1
        est.t_ += self.n_samples
        est.loss_curve_.append(loss)
        est.loss_ = loss
        if self.validation is None:
            assert est.best_loss_ is not None
            self.best = est.best_loss_
            improved = self.is_improvement(self.current(logs))
            est.best_loss_ = min(est.best_loss_, loss)
        else:
            improved = self._validate(logs)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        self._report(loss, logs.get("val_score"))
        if est.solver == "sgd" and est.learning_rate == "invscaling" and est._optimizer:
            est._optimizer.learning_rate = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.validation is not None else "Training loss"
            why = (
                f"{what} did not improve more than tol={est.tol:f} for "
                f"{est.n_iter_no_change} consecutive epochs."
            )
            self.stop_training = est._should_stop(why if self.bar is None else None)

    def _validate(self, logs: dict[str, float]) -> bool:
        est, net = self.estimator, self.estimator.network_
        X_val, t_val, w_val = self.validation
        try:
            score = est._validation_score(net.predict(X_val), t_val, w_val)
        except NonFinitePrediction:  # diverged weights: MLP scores a non-finite output NaN
            score = math.nan
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

    def diverged(self) -> None:
        """The loss became NaN or infinite (early stopping on): record the epoch with a
        NaN loss and score, as MLPClassifier does, and stop; fit keeps the best weights."""
        est = self.estimator
        est.n_iter_ += 1
        est.loss_curve_.append(math.nan)
        if est.validation_scores_ is not None:
            est.validation_scores_.append(math.nan)
        self.stop_training = True

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
