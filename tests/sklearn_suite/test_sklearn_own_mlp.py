"""scikit-learn's own ``sklearn/neural_network/tests/test_mlp.py``, run on our estimators.

The test file is read from the INSTALLED scikit-learn (its wheels ship their tests; the
version is whatever ``sklearn.__version__`` says, ≥ 1.6 as pyproject's ``sklearn`` extra
asks), its one line ``from sklearn.neural_network import MLPClassifier, MLPRegressor`` is
swapped for :class:`~cartoonbrain.sklearn.NeuralNetClassifier` and
:class:`~cartoonbrain.sklearn.NeuralNetRegressor` under those names, and the result is run
in this module's namespace, so pytest collects scikit-learn's tests as ours. The file
itself is scikit-learn's (BSD-3-Clause, "The scikit-learn developers", as its header says);
nothing of it is copied into this repository.

A short list of tests is exempt (:data:`EXEMPT`), each for a named reason: they set
scikit-learn's private training state by hand, call its private ``_loss_grad_lbfgs``, or
match a message that names scikit-learn's private encoding of the targets.
They are marked ``xfail(strict=True)``, so one that starts to pass fails the run and the
list has to shrink. Everything else must pass as scikit-learn's own MLP passes it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

import sklearn

SWAPPED_IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"
OURS = (
    "from cartoonbrain.sklearn import NeuralNetClassifier as MLPClassifier, "
    "NeuralNetRegressor as MLPRegressor"
)

#: test name -> why it cannot run on our estimators (strict xfail: it must still fail).
EXEMPT = {
    "test_fit": "sets scikit-learn's private training state by hand (_coef_grads, "
    "_intercept_grads, _coef_velocity, _no_improvement_count ...) and calls its private "
    "_partial_fit",
    "test_gradient": "calls scikit-learn's private _loss_grad_lbfgs (our gradients are "
    "checked against central differences in tests/test_gradcheck.py)",
    "test_early_stopping_stratified": "matches scikit-learn's message naming the class of "
    "its private label-binarized target (['True']); ours names the user's class ([1]), "
    "tested in tests/test_sklearn.py::test_early_stopping_split_names_the_users_class",
}


def _suite_source() -> tuple[str, str]:
    spec = importlib.util.find_spec("sklearn.neural_network.tests.test_mlp")
    if spec is None or spec.origin is None:
        pytest.skip(
            f"scikit-learn {sklearn.__version__} was installed without its tests",
            allow_module_level=True,
        )
    path = Path(spec.origin)
    source = path.read_text(encoding="utf-8")
    if source.count(SWAPPED_IMPORT) != 1:
        raise RuntimeError(f"{path} no longer imports the MLPs as {SWAPPED_IMPORT!r}")
    return str(path), source.replace(SWAPPED_IMPORT, OURS)


@pytest.fixture
def global_random_seed() -> int:
    """scikit-learn's fixture: seed 42 unless SKLEARN_TESTS_GLOBAL_RANDOM_SEED names one."""
    return int(os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED", "42"))


SUITE_PATH, _source = _suite_source()
exec(compile(_source, SUITE_PATH, "exec"), globals())
del _source

for _name, _reason in EXEMPT.items():
    if _name not in globals():
        raise RuntimeError(f"exempt test {_name} is no longer in {SUITE_PATH}")
    globals()[_name] = pytest.mark.xfail(strict=True, reason=_reason)(globals()[_name])
