"""Node embeddings over the store: FastRP (training-free), and a registry of methods.

``METHODS`` maps a method name to ``callable(graph, *, param=default, ..., fit_on=None) ->
Embedding``; ``graphrec embed --method NAME`` and :func:`embed` look methods up there, and the
callable's keyword parameters are the command's ``--param`` keys (``fit_on``: the graph a
learning method trains on before it infers on ``graph``; ``seed`` and ``progress``, when
accepted, come from the command). A method module calls ``register_method("name", fn)`` at
import and is listed in ``_EXTRA_METHOD_MODULES`` (one line here); FastRP registers below.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..graph.store import Graph
from . import tune
from .evaluate import f1_scores, link_auc, logistic_ovr, node_classification, top_labels
from .fastrp import (
    AUTHORS_BETA,
    AUTHORS_WEIGHTS,
    fastrp,
    projection_graph,
    relation_layout,
    sparse_projection,
    transition_operator,
)
from .tune import tune_fastrp

__all__ = [
    "AUTHORS_BETA",
    "AUTHORS_WEIGHTS",
    "IRWE",
    "METHODS",
    "Embedding",
    "IRWEEmbedding",
    "check_method",
    "embed",
    "f1_scores",
    "fastrp",
    "link_auc",
    "logistic_ovr",
    "node_classification",
    "projection_graph",
    "register_method",
    "relation_layout",
    "sparse_projection",
    "top_labels",
    "transition_operator",
    "tune",
    "tune_fastrp",
]


@dataclass
class Embedding:
    """Embeddings of the nodes of one graph.

    Attributes
    ----------
    vectors : FloatTensor ``(n, d)``
    layout : list of ``(node_type, start, stop)``: rows ``start:stop`` of ``vectors`` are the
        nodes of ``node_type`` in index order.
    meta : free-form details of the method (parameters as used, chosen values, timings).
    """

    vectors: torch.Tensor
    layout: list[tuple[str, int, int]]
    meta: dict[str, Any]

    def of(self, ntype: str) -> torch.Tensor:
        """The rows of node type ``ntype`` ``(n_type, d)``."""
        for t, a, b in self.layout:
            if t == ntype:
                return self.vectors[a:b]
        raise KeyError(f"node type {ntype!r} is not embedded; embedded types: {[t for t, _, _ in self.layout]}")

    def ids(self, graph: Graph) -> tuple[np.ndarray, np.ndarray]:
        """``(node_type per row, external id per row)`` as numpy arrays (object dtype)."""
        types, ids = [], []
        for t, a, b in self.layout:
            types.append(np.full(b - a, t, dtype=object))
            ids.append(np.asarray(graph.id_map(t).to_external(np.arange(b - a)), dtype=object))
        return np.concatenate(types), np.concatenate(ids)


#: method name -> ``callable(graph, **params) -> Embedding``
METHODS: dict[str, Callable[..., Embedding]] = {}


def register_method(name: str, fn: Callable[..., Embedding]) -> None:
    """Register an embedding method ``fn(graph, *, param=default, ...) -> Embedding`` under ``name``."""
    METHODS[name] = fn


def embed(method: str, graph: Graph, *, fit_on: Graph | None = None, **params: Any) -> Embedding:
    """Embed ``graph``'s nodes with a registered method.

    ``fit_on`` (methods that learn) trains on another graph and infers on ``graph``; a
    training-free method such as FastRP refuses it only if it cannot apply it (FastRP simply
    embeds ``graph``). Unknown methods or parameters raise ``ValueError`` listing the choices.
    """
    fn = check_method(method, params)
    if "fit_on" in inspect.signature(fn).parameters:
        return fn(graph, fit_on=fit_on, **params)
    return fn(graph, **params)


def check_method(method: str, params: dict[str, Any]) -> Callable[..., Embedding]:
    """The registered method ``method``; ``ValueError`` for an unknown name or parameter (checked before any work)."""
    _load_methods()
    if method not in METHODS:
        raise ValueError(f"unknown embedding method {method!r}; choose from {', '.join(sorted(METHODS))}")
    fn = METHODS[method]
    sig = inspect.signature(fn)
    allowed = {p.name for p in list(sig.parameters.values())[1:] if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    allowed.discard("fit_on")
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for method {method!r}; accepted: {', '.join(sorted(allowed))}")
    return fn


def _fastrp_method(
    graph: Graph,
    *,
    etype: Any = None,
    dim: int = 128,
    weights: Any = AUTHORS_WEIGHTS,
    beta: float = AUTHORS_BETA,
    s: float | None = None,
    normalize: bool = True,
    symmetric: bool = True,
    weighted: bool = False,
    seed: int = 0,
    block_cols: int | None = None,
    progress: bool = False,
    fit_on: Graph | None = None,
) -> Embedding:
    """FastRP as a registered method (training-free: ``fit_on`` is not needed and is ignored)."""
    vec = fastrp(graph, etype, dim=dim, weights=weights, beta=beta, s=s, normalize=normalize, symmetric=symmetric,
                 weighted=weighted, seed=seed, block_cols=block_cols, progress=progress)
    params = {"dim": dim, "weights": list(weights) if not isinstance(weights, (int, float)) else [weights],
              "beta": beta, "normalize": normalize, "symmetric": symmetric, "seed": seed}
    return Embedding(vec, relation_layout(graph, etype), {"method": "fastrp", "params": params,
                                                          "fit_on_ignored": fit_on is not None})


register_method("fastrp", _fastrp_method)

#: modules that call ``register_method`` on import (a method with optional dependencies)
_EXTRA_METHOD_MODULES: list[str] = ["graphrec.embed.irwe"]
_LOADED = False


def _load_methods() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for module in _EXTRA_METHOD_MODULES:
        try:
            __import__(module)
        except ImportError as e:
            if str(e).startswith("No module named 'graphrec"):
                raise


# IRWE registers its method and recommender on import; it needs the names above
from .irwe import IRWE, IRWEEmbedding
