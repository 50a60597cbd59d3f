"""Training: the loop (``fit``), its callbacks, and checkpoints that resume bit-identically."""

from .callbacks import Callback, EarlyStopping, History, LambdaCallback, TrainingDiverged
from .loop import fit

__all__ = ["Callback", "EarlyStopping", "History", "LambdaCallback", "TrainingDiverged", "fit"]
