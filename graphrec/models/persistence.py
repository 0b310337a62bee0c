"""Saving and loading fitted recommenders, and the graph state a fitted model answers for.

A saved model is a folder:

- ``model.json`` — format and version, the registered model name, its constructor keywords
  (:meth:`~graphrec.models.base.Recommender.params`), the edge type it serves, the JSON-able
  part of its fitted state, and the state of the graph it was fitted on (node and edge counts,
  a digest of the relations it reads);
- ``tensors.pt`` — the fitted tensors, read back with ``torch.load(weights_only=True)``: plain
  tensors only, never pickled objects;
- ``graph/`` — the training graph (:meth:`Graph.save`), unless saved without it.

:func:`load_model` rebuilds the model with :func:`~graphrec.models.registry.create` and hands the
tensors to its ``_set_state`` on the graph's device, so a model saved on CUDA loads on a CPU.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..graph.edges import EdgeType
from ..graph.store import Graph, store_device

__all__ = [
    "FORMAT", "FORMAT_VERSION", "changed_nodes", "describe_change", "graph_state", "load_model", "model_from_state",
    "model_state", "save_model",
]

FORMAT = "graphrec.model"
FORMAT_VERSION = 1


def _digest(tensors: list[torch.Tensor | None]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for t in tensors:
        if t is None:
            h.update(b"-")
            continue
        a = t.detach().cpu().contiguous().numpy()
        h.update(str(a.dtype).encode())
        h.update(np.int64(a.size).tobytes())
        h.update(a.tobytes())
    return h.hexdigest()


def graph_state(graph: Graph, etypes: list[EdgeType]) -> dict[str, Any]:
    """What a fitted model depends on: node counts of the types ``etypes`` touch, and per edge
    type its count and a digest of its CSR arrays, weights and timestamps (JSON-able).

    An edge type in ``etypes`` that the graph lacks counts as empty.
    """
    nodes: dict[str, int] = {}
    edges: dict[str, dict[str, Any]] = {}
    for et in etypes:
        for nt in (et[0], et[2]):
            nodes[nt] = graph.num_nodes(nt) if graph.has_node_type(nt) else 0
        key = "|".join(et)
        if et in graph.edge_types:
            es = graph.edges(et)
            edges[key] = {"count": es.num_edges, "digest": _digest([es.indptr, es.indices, es.weight, es.timestamp])}
        else:
            edges[key] = {"count": 0, "digest": None}
    return {"nodes": nodes, "edges": edges}


def changed_nodes(before: Any, after: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Source and destination nodes whose edges differ between two versions of one edge set.

    ``after`` grew from ``before`` by :meth:`Graph.add_edges` (edges are added, repeated pairs
    merged): a node changed when it is new, or its degree or weighted degree changed.

    Returns
    -------
    (src, dst) : LongTensors of node indices of ``after``.
    """
    out = []
    for side, n_old, n_new in (("src", before.num_src, after.num_src), ("dst", before.num_dst, after.num_dst)):
        changed = torch.zeros(n_new, dtype=torch.bool, device=after.indptr.device)
        changed[n_old:] = True
        for weighted in (False, True) if after.weight is not None else (False,):
            old = before.degree(side, weighted).to(changed.device)
            new = after.degree(side, weighted)
            changed[:n_old] |= new[:n_old] != old
        out.append(changed.nonzero().squeeze(1))
    return out[0], out[1]


def describe_change(before: dict[str, Any], after: dict[str, Any]) -> str:
    """One phrase saying how ``after`` differs from ``before`` (both from :func:`graph_state`)."""
    parts = []
    for nt, n in after["nodes"].items():
        d = n - before["nodes"].get(nt, 0)
        if d:
            parts.append(f"{d:+d} {nt}s")
    for key, e in after["edges"].items():
        old = before["edges"].get(key, {"count": 0, "digest": None})
        rel = key.split("|")[1]
        d = e["count"] - old["count"]
        if d:
            parts.append(f"{d:+d} {rel} edges")
        elif e["digest"] != old["digest"]:
            parts.append(f"{rel} edges changed")
    return ", ".join(parts) or "relations changed"


def _jsonable(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as e:
        raise TypeError(f"cannot save {what}: {e}") from None


def model_state(model: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Fitted ``model`` as a JSON-able description and a dict of CPU tensors (what :func:`save_model`
    writes, less the graph). :func:`model_from_state` rebuilds it."""
    from .registry import REGISTRY, _load_builtin_models

    model._require_fitted()
    _load_builtin_models()
    name = getattr(model, "name", None)
    if name not in REGISTRY:
        raise ValueError(f"{type(model).__name__}: only registered models can be saved (name {name!r} is not in the registry)")
    params = _jsonable(model.params(), f"{type(model).__name__}.params()")
    if isinstance(params.get("table"), str) and params["table"] == "custom":
        raise ValueError(f"{type(model).__name__}: a model with a custom table factory cannot be saved; register the table by name")
    tensors, extra = model._get_state()
    bad = [k for k, v in tensors.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise TypeError(f"{type(model).__name__}._get_state: {bad[0]!r} is not a tensor")
    graph = model._require_graph()
    meta = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "name": name,
        "params": params,
        "etype": list(model.etype),
        "extra": _jsonable(extra, f"{type(model).__name__}'s state"),
        "graph_state": model.graph_state(graph),
        "device": str(graph.device),
    }
    return meta, {k: v.detach().cpu().contiguous() for k, v in tensors.items()}


def _check_format(meta: Any, where: str) -> None:
    """One ValueError line unless ``meta`` describes a saved model of this format version."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{where}: not a saved graphrec model")
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(f"{where}: model format version {meta.get('version')!r}; this graphrec reads version {FORMAT_VERSION}")


def model_from_state(meta: dict[str, Any], tensors: dict[str, Any], graph: Graph, where: str = "model state") -> Any:
    """The model :func:`model_state` described, serving ``graph`` on ``graph.device``.

    ``tensors`` may be numpy arrays (read-only ones are used without a copy on the CPU).
    """
    from ..graph.store import tensor_view
    from .registry import create

    _check_format(meta, where)
    try:
        name, params, etype = meta["name"], meta["params"], tuple(meta["etype"])
        extra, fitted_state = meta["extra"], meta["graph_state"]
    except (KeyError, TypeError) as e:
        raise ValueError(f"{where}: malformed model description ({type(e).__name__}: {e})") from None
    model = create(name, **params)
    model.etype = etype
    model.graph = graph
    model._fit_state = fitted_state  # what _set_state may size its tensors by
    model._set_state(graph, {k: tensor_view(v).to(graph.device) for k, v in tensors.items()}, extra)
    model._fitted = True
    model._seen_version = None  # compared with the given graph on first use
    if model.graph_state(graph) == fitted_state:  # the graph it was fitted on: what a later update diffs against
        model._record_graph_state()
    return model


def save_model(model: Any, path: str | Path, *, include_graph: bool = True) -> Path:
    """Write fitted ``model`` to folder ``path`` (see the module docstring); returns the path."""
    meta, tensors = model_state(model)
    meta["graph_included"] = bool(include_graph)
    text = json.dumps(meta)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / "tensors.pt.tmp"
    torch.save(tensors, tmp)
    tmp.replace(path / "tensors.pt")
    if include_graph:
        model._require_graph().save(path / "graph")
    (path / "model.json").write_text(text)
    return path


def load_model(path: str | Path, graph: Graph | Any = None, device: str | torch.device | None = None) -> Any:
    """Read a model written by :meth:`Recommender.save`.

    Parameters
    ----------
    path : the saved folder.
    graph : Graph or Dataset, optional
        The graph to serve (a Dataset's ``train``). Default: the graph saved with the model.
        When it differs from the graph the model was fitted on (it grew since), the model
        loads and :meth:`~graphrec.models.base.Recommender.update` refreshes it, or
        ``recommend`` raises :class:`~graphrec.models.base.GraphChangedError`.
    device : str or torch.device, optional
        Where to load (default: ``graph``'s device, or the CPU).

    Raises
    ------
    FileNotFoundError
        ``path`` holds no saved model.
    ValueError
        Another format or format version, a model name this graphrec does not know, or a
        corrupted file.
    """
    from ..data.dataset import Dataset

    path = Path(path)
    meta_file = path / "model.json"
    if not meta_file.is_file() or not (path / "tensors.pt").is_file():
        raise FileNotFoundError(f"{path} is not a saved graphrec model (needs model.json and tensors.pt)")
    try:
        meta = json.loads(meta_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{meta_file}: malformed JSON ({e})") from None
    _check_format(meta, str(meta_file))  # before reading the graph and the tensors
    if isinstance(graph, Dataset):
        graph = graph.train
    if graph is not None and not isinstance(graph, Graph):
        raise TypeError(f"graph must be a graphrec Graph or Dataset, got {type(graph).__name__}")
    dev = None if device is None else store_device(device)
    if graph is None:
        if not meta.get("graph_included"):
            raise ValueError(f"{path}: the model was saved without its graph; pass graph=")
        graph = Graph.load(path / "graph", dev or "cpu")
    elif dev is not None:
        graph = graph.to(dev)
    try:
        tensors = torch.load(path / "tensors.pt", map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 (truncated or foreign files fail in many ways inside torch)
        raise ValueError(f"{path / 'tensors.pt'}: unreadable or corrupted ({type(e).__name__})") from None
    if not isinstance(tensors, dict) or not all(isinstance(v, torch.Tensor) for v in tensors.values()):
        raise ValueError(f"{path / 'tensors.pt'}: expected a dict of tensors")
    return model_from_state(meta, tensors, graph, where=str(meta_file))
