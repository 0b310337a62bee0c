"""Early stopping on a validation metric (higher is better), with the best weights kept.

Prechelt, "Early Stopping — But When?", Neural Networks: Tricks of the Trade, 1998: stop
after ``patience`` evaluations without improvement and return the best model seen.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch

from ..checks import check_int, check_number

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Track a validation metric and the best state.

    Parameters
    ----------
    patience : int or None
        Evaluations without improvement before :attr:`should_stop` turns true; ``None`` never
        stops (the best state is still tracked).
    min_delta : float
        An improvement must exceed the best value by more than this.
    """

    def __init__(self, patience: int | None = None, min_delta: float = 0.0) -> None:
        self.patience = None if patience is None else check_int("patience", patience, 1, also="or None")
        self.min_delta = check_number("min_delta", min_delta, 0)
        self.best: float = float("-inf")
        self.best_epoch: int = -1
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad_evals = 0

    def update(self, value: float, epoch: int, state: dict[str, torch.Tensor] | None = None) -> bool:
        """Record ``value`` at ``epoch``; keep a copy of ``state`` when it is the best. Returns improved."""
        if math.isnan(value):
            raise ValueError(f"validation metric is NaN at epoch {epoch}")
        if value > self.best + self.min_delta:
            self.best, self.best_epoch, self.bad_evals = float(value), int(epoch), 0
            if state is not None:
                self.best_state = {k: v.detach().clone() for k, v in state.items()}
            return True
        self.bad_evals += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.bad_evals >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {
            "patience": self.patience, "min_delta": self.min_delta, "best": self.best,
            "best_epoch": self.best_epoch, "bad_evals": self.bad_evals,
            "best_state": None if self.best_state is None else copy.copy(self.best_state),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = float(state["best"]), int(state["best_epoch"])
        self.bad_evals = int(state["bad_evals"])
        self.best_state = state["best_state"]
