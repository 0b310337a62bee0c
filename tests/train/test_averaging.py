"""The exponential moving average of weights (``graphrec.train.averaging``)."""

from __future__ import annotations

import pytest
import torch

from graphrec.train.averaging import WeightAverage


def _fold(avg: WeightAverage, w: torch.nn.Parameter, values: list[torch.Tensor]) -> list[torch.Tensor]:
    out = []
    for x in values:
        with torch.no_grad():
            w.copy_(x)
        avg.update()
        out.append(avg.averaged()[0])
    return out


def _values(n: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(3, 2, generator=gen, dtype=torch.float64) for _ in range(n)]


def test_early_phase_is_polynomial_decay_averaging() -> None:
    """Uncapped, ν = 0 is the uniform mean of the iterates and ν = 2 weighs iterate s by s(s+1)."""
    values = _values(12)
    w = torch.nn.Parameter(torch.zeros(3, 2, dtype=torch.float64))
    uniform = _fold(WeightAverage([w], horizon=1e9, nu=0.0), w, values)
    poly = _fold(WeightAverage([w], horizon=1e9, nu=2.0), w, values)
    for t in range(1, len(values) + 1):
        torch.testing.assert_close(uniform[t - 1], torch.stack(values[:t]).mean(0))
        weights = torch.tensor([s * (s + 1.0) for s in range(1, t + 1)], dtype=torch.float64)
        torch.testing.assert_close(poly[t - 1], (weights[:, None, None] * torch.stack(values[:t])).sum(0) / weights.sum())
    assert torch.equal(poly[0], values[0])  # the first step is the weights themselves


def test_late_phase_is_an_ema_over_the_horizon() -> None:
    values = _values(40)
    w = torch.nn.Parameter(torch.zeros(3, 2, dtype=torch.float64))
    avg = WeightAverage([w], horizon=4.0, nu=2.0)
    out = _fold(avg, w, values)
    assert [avg.beta(t) for t in (1, 2, 4, 10, 11, 40)] == pytest.approx([0.0, 0.25, 0.5, 0.75, 0.75, 0.75])
    for t in range(10, len(values)):  # capped from step 10 on: avg_t = 0.75 avg_(t-1) + 0.25 w_t
        torch.testing.assert_close(out[t], 0.75 * out[t - 1] + 0.25 * values[t])


def test_horizon_one_is_the_raw_weights() -> None:
    w = torch.nn.Parameter(torch.randn(4))
    avg = WeightAverage([w], horizon=1.0)
    assert torch.equal(avg.averaged()[0], w.detach())  # no step yet: the weights themselves
    for _ in range(3):
        with torch.no_grad():
            w.add_(1.0)
        avg.update()
        assert torch.equal(avg.averaged()[0], w.detach())


def test_applied_swaps_the_average_in_and_the_raw_weights_back() -> None:
    w = torch.nn.Parameter(torch.zeros(2))
    avg = WeightAverage([w], horizon=2.0)
    for v in (2.0, 4.0):
        with torch.no_grad():
            w.fill_(v)
        avg.update()
    mean = avg.averaged()[0].clone()
    assert not torch.equal(mean, w.detach())
    with avg.applied():
        assert torch.equal(w.detach(), mean)
    assert torch.equal(w.detach(), torch.full((2,), 4.0))
    with pytest.raises(RuntimeError, match="boom"), avg.applied():
        raise RuntimeError("boom")
    assert torch.equal(w.detach(), torch.full((2,), 4.0))  # restored on error too
    avg.copy_to_params()
    assert torch.equal(w.detach(), mean)


def test_state_round_trip_and_mismatches() -> None:
    w = torch.nn.Parameter(torch.randn(3))
    avg = WeightAverage([w], horizon=3.0)
    avg.update()
    other = WeightAverage([torch.nn.Parameter(torch.zeros(3))], horizon=3.0)
    other.load_state_dict(avg.state_dict())
    assert other.steps == 1 and torch.equal(other.shadow[0], avg.shadow[0])
    with pytest.raises(ValueError, match="horizon"):
        WeightAverage([torch.nn.Parameter(torch.zeros(3))], horizon=5.0).load_state_dict(avg.state_dict())
    with pytest.raises(ValueError, match="nu"):
        WeightAverage([torch.nn.Parameter(torch.zeros(3))], horizon=3.0, nu=1.0).load_state_dict(avg.state_dict())
    with pytest.raises(ValueError, match="does not match"):
        WeightAverage([torch.nn.Parameter(torch.zeros(4))], horizon=3.0).load_state_dict(avg.state_dict())
    for bad in (0.5, 0, -1, True, "3", float("nan")):
        with pytest.raises(ValueError, match="horizon"):
            WeightAverage([w], horizon=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nu"):
        WeightAverage([w], horizon=2.0, nu=-1.0)
    with pytest.raises(ValueError, match="at least one"):
        WeightAverage([], horizon=2.0)


def test_non_finite_horizon_is_rejected_and_numpy_scalars_accepted() -> None:
    import numpy as np

    w = torch.nn.Parameter(torch.zeros(2))
    for bad in (float("inf"), np.float64("nan")):
        with pytest.raises(ValueError, match=r"horizon must be a finite number >= 1, got"):
            WeightAverage([w], horizon=bad)
    with pytest.raises(ValueError, match=r"nu must be a finite number >= 0, got inf"):
        WeightAverage([w], horizon=2.0, nu=float("inf"))
    avg = WeightAverage([w], horizon=np.int64(4), nu=np.float32(1.0))
    assert (avg.horizon, avg.nu) == (4.0, 1.0) and type(avg.horizon) is float
