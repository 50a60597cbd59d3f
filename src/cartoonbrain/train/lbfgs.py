"""Full-batch training with L-BFGS (SciPy's ``L-BFGS-B``), for small networks and data
sets, as scikit-learn's ``MLPClassifier(solver="lbfgs")``.

Each evaluation is one :meth:`~cartoonbrain.network.network.Network.backprop` over all the
samples: the (weighted) mean loss plus the penalty, and its gradient, in float64 for the
optimizer; SciPy decides the steps. Needs SciPy (it comes with scikit-learn:
``pip install "cartoonbrain[sklearn]"``). Dropout is off: the objective must be the same
function at every evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .callbacks import Callback, History

if TYPE_CHECKING:
    from ..network.network import Network

Array = NDArray[Any]

__all__ = ["LBFGSResult", "minimize_lbfgs"]


@dataclass
class LBFGSResult:
    """What SciPy's L-BFGS-B did: iterations, evaluations, the final loss, whether it
    converged (``success``), SciPy's ``message`` and its raw result."""

    n_iter: int
    n_evaluations: int
    loss: float
    success: bool
    message: str
    raw: Any


def _scipy_minimize() -> Any:
    try:
        from scipy.optimize import minimize
    except ImportError:
        raise ImportError(
            'optimizer="lbfgs" needs SciPy: pip install "cartoonbrain[sklearn]"'
        ) from None
    return minimize


def minimize_lbfgs(
    net: Network,
    X: Array,
    t: Array,
    sample_weight: Array | None = None,
    *,
    max_iter: int = 200,
    max_fun: int = 15000,
    tol: float = 1e-4,
    callbacks: list[Callback] | None = None,
    history: History | None = None,
) -> LBFGSResult:
    """Minimise the network's full-batch objective over its flat parameters.

    ``X``, ``t`` and ``sample_weight`` must already be checked. Each L-BFGS iteration is
    an "epoch" for ``callbacks`` (``on_epoch_end`` with ``{"loss": L}``) and ``history``;
    a callback that sets ``stop_training`` ends the run. ``tol`` is SciPy's ``gtol``.
    """
    minimize = _scipy_minimize()
    callbacks = callbacks or []
    flat = net.flat_parameters
    evaluations = [0]

    def objective(theta: Array) -> tuple[float, Array]:
        flat[...] = theta
        evaluations[0] += 1
        with np.errstate(over="ignore", invalid="ignore"):
            value, _ = net.backprop(X, t, sample_weight, training=False)
        return value, net.flat_gradients.astype(np.float64)

    def after_iteration(intermediate_result: Any) -> None:
        logs = {"loss": float(intermediate_result.fun)}
        epoch = len(history.epoch) if history is not None else 0
        for callback in [*([history] if history is not None else []), *callbacks]:
            callback.on_epoch_end(epoch, logs)
        if any(callback.stop_training for callback in callbacks):
            raise StopIteration

    result = minimize(
        objective,
        flat.astype(np.float64),
        method="L-BFGS-B",
        jac=True,
        callback=after_iteration,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
    )
    flat[...] = result.x
    return LBFGSResult(
        int(result.nit),
        evaluations[0],
        float(result.fun),
        bool(result.success),
        str(result.message),
        result,
    )
