"""A dataset: one train graph plus held-out interactions on the same node sets.

``Dataset.train`` is the store every model fits on: all users and items, the training
interactions, trust edges and node features. ``test`` (and optional ``valid``) hold only
held-out ``user -interacts-> item`` edges over the *same* id maps, so indices agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..checks import check_choice
from ..graph.edges import EdgeType, check_etype
from ..graph.idmap import IdMap
from ..graph.store import INTERACTS, ITEM, TRUSTS, USER, Graph

__all__ = ["Dataset", "check_held_out", "held_out_graph"]


def held_out_graph(train: Graph, users: Any, items: Any, *, by: str = "index", etype: EdgeType = INTERACTS) -> Graph:
    """A graph with ``train``'s node sets and only the given ``etype`` pairs.

    ``users``/``items`` are the ``etype[0]`` / ``etype[2]`` endpoints (default user→item
    interactions) as dense indices (``by='index'``) or external ids (``by='id'``); unknown
    external ids raise ``KeyError`` (a held-out split never invents nodes).
    """
    try:
        etype = check_etype(etype)
    except TypeError as e:  # held_out_graph has always said ValueError for a malformed etype
        raise ValueError(str(e)) from None
    by = check_choice("by", by, ("index", "id"))
    for nt in (etype[0], etype[2]):
        if not train.has_node_type(nt):
            raise ValueError(f"held_out_graph: etype {etype} names node type {nt!r}, which train lacks; train has {train.node_types}")
    g = Graph(train.device)
    for nt in train.node_types:
        g.add_node_type(nt, train.id_map(nt))
    if by == "id":
        users = train.id_map(etype[0]).to_index(users)
        items = train.id_map(etype[2]).to_index(items)
    g.add_edges(etype, users, items, duplicates="merge")  # held-out relevance is binary
    return g


def check_held_out(train: Graph, held: Graph, part: str, *, etype: EdgeType = INTERACTS, where: str = "dataset") -> None:
    """Raise ``ValueError`` unless ``held`` (the ``part`` split) spans ``train``'s node sets.

    Every node type both graphs have must have the same count in each, and ``held``'s
    ``etype`` edges (when it has them) must run between train-sized node sets: indices of a
    held-out split mean the same nodes as train's only while nothing was added to either.
    """
    for nt in train.node_types:
        n_train = train.num_nodes(nt)
        counts = [held.num_nodes(nt)] if held.has_node_type(nt) else []
        if held.has_edge_type(etype):
            es = held.edges(etype)
            counts += [es.num_src] if etype[0] == nt else []
            counts += [es.num_dst] if etype[2] == nt else []
        bad = [c for c in counts if c != n_train]
        if bad:
            raise ValueError(
                f"{where}: the {part} split has {bad[0]} {nt!r} nodes but train has {n_train}; held-out splits "
                f"must share train's node sets: rebuild the Dataset after adding nodes (each split with "
                f"held_out_graph(train, users, items))"
            )


@dataclass
class Dataset:
    """Train graph + held-out interactions.

    Attributes
    ----------
    name : str
    train : Graph
        Users, items, training interactions, trust edges, node attributes.
    test : Graph
        Held-out interactions (same id maps as ``train``).
    valid : Graph or None
        Validation interactions carved from the training data, if any.
    info : dict
        Free-form provenance (source path, split, seed...).
    """

    name: str
    train: Graph
    test: Graph
    valid: Graph | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.check_splits()
        for part in ("test", "valid"):
            g = getattr(self, part)
            if g is None:
                continue
            for nt in (t for t in g.node_types if self.train.has_node_type(t)):
                if g.id_map(nt) is not self.train.id_map(nt) and g.id_map(nt) != self.train.id_map(nt):
                    raise ValueError(f"dataset {self.name!r}: {part} {nt} ids differ from train's")

    def check_splits(self) -> None:
        """Raise ``ValueError`` unless ``test`` and ``valid`` still span ``train``'s node sets (see :func:`check_held_out`)."""
        for part in ("test", "valid"):
            g = getattr(self, part)
            if g is not None:
                check_held_out(self.train, g, part, where=f"dataset {self.name!r}")

    @property
    def graph(self) -> Graph:
        """The training graph (what models fit on)."""
        return self.train

    @property
    def device(self) -> torch.device:
        return self.train.device

    @property
    def num_users(self) -> int:
        return self.train.num_nodes(USER)

    @property
    def num_items(self) -> int:
        return self.train.num_nodes(ITEM)

    def to(self, device: str | torch.device) -> Dataset:
        return Dataset(
            self.name, self.train.to(device), self.test.to(device),
            None if self.valid is None else self.valid.to(device), dict(self.info),
        )

    def summary(self) -> dict[str, Any]:
        """Name, node counts and edge counts of each split: ``users``/``items`` and the user→item
        interactions when the data has them, else every node type and the held-out edge type."""
        out: dict[str, Any] = {"dataset": self.name}
        if self.train.has_node_type(USER) and self.train.has_node_type(ITEM) and self.test.has_edge_type(INTERACTS):
            out.update(users=self.num_users, items=self.num_items)
            held = INTERACTS
        else:  # a custom schema: count what is there
            out.update({nt: self.train.num_nodes(nt) for nt in self.train.node_types})
            held = self.test.edge_types[0] if self.test.edge_types else None
        for part, g in (("train", self.train), ("test", self.test), ("valid", self.valid)):
            if g is not None and held is not None:
                out[part] = g.num_edges(held) if g.has_edge_type(held) else 0
        if self.train.has_edge_type(TRUSTS):
            out["trust"] = self.train.num_edges(TRUSTS)
        return out

    def __repr__(self) -> str:
        return "Dataset(" + ", ".join(f"{k}={v}" for k, v in self.summary().items()) + ")"

    @classmethod
    def from_pairs(
        cls,
        name: str,
        train: tuple[Any, Any],
        test: tuple[Any, Any],
        *,
        valid: tuple[Any, Any] | None = None,
        train_weight: Any | None = None,
        train_timestamp: Any | None = None,
        trust: tuple[Any, Any] | None = None,
        user_ids: Any | None = None,
        item_ids: Any | None = None,
        info: dict[str, Any] | None = None,
        duplicates: str = "count",
        new_nodes: bool = False,
    ) -> Dataset:
        """Build from external-id pairs ``(users, items)`` for each split.

        Node sets are ``user_ids``/``item_ids`` when given, else every id seen in any split
        (so that test-only items are still rankable and counted). Repeated training pairs
        follow ``duplicates`` (see :meth:`Graph.add_edges`; ``count``, the default, makes
        repeated unweighted pairs one edge weighted by the number of rows); held-out pairs
        are binary (repeats merged). Trust pairs must name known users: an unknown one
        raises ``ValueError`` naming it, unless ``new_nodes=True`` adds it as a user.
        """
        def cat(*arrs: Any) -> np.ndarray:
            parts = [np.asarray(a) for a in arrs if a is not None]
            return np.concatenate(parts) if parts else np.zeros(0, np.int64)

        splits = [train, test] + ([valid] if valid is not None else [])
        users = IdMap(user_ids, USER) if user_ids is not None else IdMap(_first_seen(cat(*[s[0] for s in splits])), USER)
        items = IdMap(item_ids, ITEM) if item_ids is not None else IdMap(_first_seen(cat(*[s[1] for s in splits])), ITEM)
        g = Graph()
        g.add_node_type(USER, users)
        g.add_node_type(ITEM, items)
        g.add_edges(INTERACTS, users.to_index(train[0]), items.to_index(train[1]), train_weight, train_timestamp,
                    duplicates=duplicates)
        if trust is not None:
            g.add_edges(TRUSTS, trust[0], trust[1], by="id", duplicates=duplicates, new_nodes=new_nodes)
        test_g = held_out_graph(g, *test, by="id")
        valid_g = held_out_graph(g, *valid, by="id") if valid is not None else None
        return cls(name, g, test_g, valid_g, dict(info or {}))


def _first_seen(ids: np.ndarray) -> np.ndarray:
    """Unique ids in order of first appearance, numerically sorted for int ids."""
    if ids.dtype.kind in "iu":
        return np.unique(ids)
    _, first = np.unique(ids, return_index=True)
    return ids[np.sort(first)]
