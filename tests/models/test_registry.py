"""graphrec.models.registry: what create() passes to a registered factory, and available()."""

from __future__ import annotations

import pytest

from graphrec.models import REGISTRY, available, create, register
from graphrec.models.baselines import MostPop


def test_create_passes_the_factorys_named_parameters() -> None:
    def plain(graph=None, neighbors=200):  # positional-or-keyword, as register()'s docstring allows
        m = MostPop(graph)
        m.neighbors = neighbors
        return m

    def open_ended(graph=None, **params):
        m = MostPop(graph)
        m.params_given = params
        return m

    register("test-plain", plain)
    register("test-open", open_ended)
    try:
        assert create("test-plain", neighbors=50).neighbors == 50
        with pytest.raises(ValueError, match=r"unknown parameter\(s\) shrink for model 'test-plain'; accepted: neighbors"):
            create("test-plain", shrink=1.0)
        with pytest.raises(ValueError, match="unknown parameter"):  # **params is not read: names must be listed
            create("test-open", anything=1)
    finally:
        del REGISTRY["test-plain"], REGISTRY["test-open"]


def test_available_lists_the_built_in_models() -> None:
    names = available()
    assert {"mostpop", "itemknn", "gfcf", "mf", "lightgcn", "ppr", "powerwalk", "rlmrec-con", "rlmrec-gen"} <= set(names)
    assert names == sorted(names)
