"""Training: the loop (``Trainer.fit``, a base of ``Network``), its callbacks, and checkpoints
that resume bit-identically."""

from .callbacks import Callback, CSVLogger, History, LambdaCallback, ProgressBar, TerminateOnNaN
from .loop import Trainer, TrainingDiverged, fit
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
    "Trainer",
    "TrainingDiverged",
    "fit",
]
