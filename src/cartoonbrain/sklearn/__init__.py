"""scikit-learn estimators: :class:`NeuralNetClassifier` and :class:`NeuralNetRegressor`.

They mirror :class:`sklearn.neural_network.MLPClassifier` and ``MLPRegressor``: the same
parameter names and defaults, the same fitted attributes (``coefs_``, ``intercepts_``,
``loss_curve_``, ``best_loss_``, ...), ``partial_fit``, ``sample_weight``, early stopping,
and a :class:`~cartoonbrain.network.network.Network` (``network_``) doing the maths. Every
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

from .classifier import NeuralNetClassifier
from .regressor import NeuralNetRegressor

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]
