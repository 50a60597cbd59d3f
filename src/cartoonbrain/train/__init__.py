"""Training: the loop (``Trainer.fit``, a base of ``Network``), its callbacks, and checkpoints
that resume bit-identically."""

from .callbacks import (
    CALLBACKS,
    Callback,
    History,
    LambdaCallback,
    ProgressBar,
    TerminateOnNaN,
    get_callback,
    register_callback,
)
from .csv_logger import CSVLogger
from .loop import Trainer, TrainingDiverged, fit
from .model_checkpoint import ModelCheckpoint
from .monitor import EarlyStopping, Monitor, ReduceLROnPlateau

__all__ = [
    "CALLBACKS",
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
    "get_callback",
    "register_callback",
]
