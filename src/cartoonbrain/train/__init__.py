"""Training: the loop (``fit``), its callbacks, and checkpoints that resume bit-identically."""

from .callbacks import Callback, CSVLogger, History, LambdaCallback, ProgressBar, TerminateOnNaN
from .loop import TrainingDiverged, fit
from .monitor import EarlyStopping, ModelCheckpoint, Monitor, ReduceLROnPlateau

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "ModelCheckpoint",
    "Monitor",
    "ProgressBar",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "TrainingDiverged",
    "fit",
]
