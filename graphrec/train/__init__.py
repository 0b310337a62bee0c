"""Training: the BPR loop, the fit protocol (validation carve, choice of a hyper-parameter, refit),
negative samplers, early stopping, weight averaging and checkpoints."""

from .averaging import WeightAverage
from .bpr import (
    BPRConfig,
    BPRTrainer,
    TrainResult,
    bpr_loss,
    carve_validation,
    l2_rows,
    train_with_selection,
)
from .checkpoint import load_checkpoint, save_checkpoint
from .early_stopping import EarlyStopping
from .sampler import UniformNegativeSampler, epoch_pairs

__all__ = [
    "BPRConfig", "BPRTrainer", "EarlyStopping", "TrainResult", "UniformNegativeSampler", "WeightAverage",
    "bpr_loss", "carve_validation", "epoch_pairs", "l2_rows", "load_checkpoint", "save_checkpoint",
    "train_with_selection",
]
