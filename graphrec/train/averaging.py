"""A running average of a model's weights, used for validation and serving.

Polyak & Juditsky, "Acceleration of Stochastic Approximation by Averaging", SIAM J. Control
Optim. 1992: averaging the iterates of stochastic gradient descent cancels much of their noise.
Training keeps updating the raw weights; validation, early stopping and the fitted model use
the average.

The average is ν-polynomial-decay averaging (Shamir & Zhang, "Stochastic Gradient Descent for
Non-smooth Optimization: Convergence Results and Optimal Averaging Schemes", ICML 2013),
capped to an exponential moving average of time constant ``horizon`` steps:
``avg_t = β_t avg_(t-1) + (1 - β_t) w_t`` with
``β_t = min(1 - 1/horizon, 1 - (ν + 1)/(t + ν))``. Early on it spans about the last
``t / (ν + 1)`` steps, so a short run is never averaged with its first, untrained weights; once
``t`` passes about ``(ν + 1) · horizon`` it is a plain EMA over ``horizon`` steps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import torch

from ..checks import check_number

__all__ = ["WeightAverage"]


class WeightAverage:
    """The running average of ``params``, folded in after each optimiser step.

    Parameters
    ----------
    params : iterable of Tensor
        The parameters to average (updated in place by the optimiser).
    horizon : float
        Time constant, in steps, of the EMA the average becomes (``1 / (1 - β)``); finite,
        >= 1 (1 means no averaging).
    nu : float
        The polynomial-decay exponent ν >= 0 of the early phase: iterate ``s`` of ``t`` has
        weight ∝ ``s (s+1) ... (s+ν-1)`` (ν = 0: the uniform average; default 2).
    """

    def __init__(self, params: Iterable[torch.Tensor], horizon: float, nu: float = 2.0) -> None:
        horizon, nu = check_number("horizon", horizon, 1), check_number("nu", nu, 0)
        self.params = [p for p in params]
        if not self.params:
            raise ValueError("WeightAverage needs at least one parameter")
        self.horizon, self.nu = horizon, nu
        self.steps = 0
        self.shadow = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]

    def beta(self, step: int) -> float:
        """``β_t`` of the 1-based ``step``: the weight the average keeps (0 at the first step)."""
        return min(1.0 - 1.0 / self.horizon, 1.0 - (self.nu + 1.0) / (step + self.nu))

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current weights into the average (call after each optimiser step)."""
        self.steps += 1
        weight = 1.0 - self.beta(self.steps)
        for s, p in zip(self.shadow, self.params):
            s.lerp_(p.detach(), weight)

    @torch.no_grad()
    def averaged(self) -> list[torch.Tensor]:
        """The averages, one tensor per parameter (copies of the weights before any step)."""
        if self.steps == 0:
            return [p.detach().clone() for p in self.params]
        return [s.clone() for s in self.shadow]

    @torch.no_grad()
    def copy_to_params(self) -> None:
        """Overwrite the parameters with their averages, for good (before any step they already are)."""
        if self.steps == 0:
            return
        for p, s in zip(self.params, self.shadow):
            p.copy_(s)

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Within the block the parameters hold their averages; the raw weights come back after it."""
        raw = [p.detach().clone() for p in self.params]
        self.copy_to_params()
        try:
            yield
        finally:
            with torch.no_grad():
                for p, r in zip(self.params, raw):
                    p.copy_(r)

    def state_dict(self) -> dict[str, Any]:
        return {"horizon": self.horizon, "nu": self.nu, "steps": self.steps, "shadow": [s.clone() for s in self.shadow]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        shadow = state["shadow"]
        if len(shadow) != len(self.shadow) or any(a.shape != b.shape for a, b in zip(shadow, self.shadow)):
            raise ValueError("weight-average state does not match the model's parameters")
        if (float(state["horizon"]), float(state["nu"])) != (self.horizon, self.nu):
            raise ValueError(f"weight-average state has horizon {state['horizon']} and nu {state['nu']}, "
                             f"this run uses {self.horizon} and {self.nu}")
        with torch.no_grad():
            for s, v in zip(self.shadow, shadow):
                s.copy_(v)
        self.steps = int(state["steps"])
