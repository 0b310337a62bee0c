"""graphrec.checks: one wording for bad arguments; NumPy scalars are numbers, bools and NaN are not."""

import math

import numpy as np
import pytest

from graphrec.checks import check_bool, check_choice, check_int, check_number


def test_check_int_accepts_numpy_integers_and_rejects_bools_floats_and_out_of_range() -> None:
    assert check_int("dim", np.int64(8), 1) == 8 and type(check_int("dim", np.int32(3), 1)) is int
    assert check_int("k", 0, 0, 5) == 0 and check_int("k", -4) == -4
    for bad in (True, 1.5, 2.0, "3", None, 0):
        with pytest.raises(ValueError, match=r"dim must be an integer >= 1, got"):
            check_int("dim", bad, 1)
    with pytest.raises(ValueError, match=r"k must be an integer in \[0, 5\], got 6"):
        check_int("k", 6, 0, 5)


def test_check_number_bounds_and_non_finite_values() -> None:
    assert check_number("lr", np.float32(0.5), 0, low_open=True) == pytest.approx(0.5)
    assert check_number("alpha", 1, 0, 1) == 1.0 and type(check_number("alpha", np.int64(1), 0, 1)) is float
    for bad in (0, -1.0, math.nan, math.inf, True, "0.1", None):
        with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got"):
            check_number("lr", bad, 0, low_open=True)
    with pytest.raises(ValueError, match=r"gamma must be a finite number in \(0, 1\], got 1.5"):
        check_number("gamma", 1.5, 0, 1, low_open=True)
    with pytest.raises(ValueError, match=r"x must be a finite number <= 2, got 3"):
        check_number("x", 3, high=2)
    with pytest.raises(ValueError, match=r"x must be a finite number, got nan"):
        check_number("x", float("nan"))


def test_check_bool_and_choice() -> None:
    assert check_bool("refit", np.bool_(True)) is True and check_bool("refit", False) is False
    for bad in (1, "maybe", None):
        with pytest.raises(TypeError, match="refit must be True or False"):
            check_bool("refit", bad)
    assert check_choice("mode", "a", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"mode must be one of 'a', 'b', got 'c'"):
        check_choice("mode", "c", ("a", "b"))


def test_also_names_the_other_accepted_values() -> None:
    with pytest.raises(ValueError, match=r"^k must be an integer >= 1 or 'auto', got 0$"):
        check_int("k", 0, 1, also="or 'auto'")
    with pytest.raises(ValueError, match=r"^ema must be a finite number > 0 or None, got -1$"):
        check_number("ema", -1, 0, low_open=True, also="or None")


def test_check_seed_takes_what_torch_generators_take() -> None:
    import torch

    from graphrec.checks import SEED_MAX, check_seed

    assert check_seed(0) == 0 and check_seed(np.uint64(SEED_MAX)) == SEED_MAX
    torch.Generator().manual_seed(check_seed(SEED_MAX))  # the largest seed is one torch takes
    for bad in (-1, SEED_MAX + 1, 1.0, True, "3"):
        with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 18446744073709551615\]"):
            check_seed(bad)
