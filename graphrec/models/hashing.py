"""Compressed embedding tables: hashing baselines and GraphHash's cluster tables.

Every table here stores ``R < n`` learned rows for ``n`` entities and maps each entity to one
or two of them (two rows are summed). The tables, registered by name for ``table=...`` in
:class:`~graphrec.models.mf.MF`, :class:`~graphrec.models.lightgcn.LightGCN` and RLMRec:

``random``
    Universal hashing ``h(x) = ((a·x + b) mod p) mod R``, ``p = 2^31 - 1``, ``a, b`` drawn
    from the model's seed (Carter & Wegman, 1979). Nothing per entity is stored.
``double``
    Two independent hashes into the same ``R`` rows; the entity's row is their sum.
``frequency``
    The ``⌊R/2⌋`` most frequent entities (training degree; ties by index) keep rows of their
    own, the others hash into the remaining ``⌈R/2⌉`` rows.
``double_frequency``
    The same frequent entities keep their own rows; the others sum two hashed rows.
``graph``
    GraphHash: one row per modularity cluster of the training user–item graph (Leiden,
    Barber's bipartite modularity, :mod:`graphrec.cluster`): entities that would exchange
    messages share parameters.
``double_graph``
    DoubleGraphHash: the cluster row plus a hashed row, so that members of one cluster differ.
    As in the authors' code, the hash reaches every row, so the hashed row is another
    cluster's row.
``double_graph_split``
    The same sum with the rows split: ``R - ⌊R/2⌋`` rows for the clusters (the clustering is
    searched for that many) and ``⌊R/2⌋`` rows that only the hash reaches, as the frequency
    tables keep their own rows apart from the hashed ones. An entity's second row is then
    noise shared with a few random entities, never another cluster's signal.
``graph_frequency``
    The cluster row plus a row from the same ``⌊R/2⌋`` rows kept apart, filled by frequency
    hashing's rule: the most frequent entities own one each (their own correction to their
    cluster's row), the others hash into the rest.

These follow Wu et al., "Graph-based hashing for recommendation embeddings" (GraphHash),
WWW 2025, and the baselines as configured in its code (frequency cut-off one half, double
hashing into one shared table, the cluster count as every table's row count).

The budget
----------
``budget = stored rows / (users + items)``, in ``(0, 1]``. Each node type's table stores
``round(budget · n_type)`` rows (half up), at least one: ``rows_user + rows_item`` is
``budget · (users + items)`` up to that per-type rounding, and every table kind stores exactly
the same number of rows for the same budget. The cluster tables search the Leiden resolution
whose clustering has ``rows_user + rows_item`` per-type clusters
(:func:`graphrec.cluster.resolution_for_budget`, ``count='rows'``); then each type's clusters
are merged (the smallest ones) or split (the highest-degree members leave for rows of their
own) until it has exactly its rows (:func:`graphrec.cluster.resize_clusters`). The split
tables (``double_graph_split``, ``graph_frequency``) do the same for the ``rows - ⌊rows/2⌋``
cluster rows of each type and keep the other ``⌊rows/2⌋`` for their second lookup.

Persistence
-----------
Each table's entity-to-row map is a registered buffer (``row_map``, int32, and the hash
coefficients ``hash_coef``), so ``state_dict()`` saves it and ``load_state_dict`` restores it.
A factory called with ``graph=None`` builds the right shapes without clustering or counting
degrees (its map is zeros until a saved state is loaded into it).
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import torch
from torch import nn

from ..checks import check_choice, check_number
from ..graph.edges import EdgeType
from ..graph.store import INTERACTS, Graph
from .embedding import EmbeddingTable, check_table_shape, register_table

__all__ = ["COMPRESSED", "DEFAULT_BUDGET", "HASH_PRIME", "HashedEmbedding", "budget_rows", "check_budget", "cluster_rows", "universal_hash"]

#: the budget a compressed table uses when none is given (the paper's 75% reduction)
DEFAULT_BUDGET = 0.25
#: the universal-hashing prime (Mersenne, 2^31 - 1): ``a·x`` stays inside int64 for any index < p
HASH_PRIME = 2**31 - 1


def check_budget(budget: Any) -> float:
    """``budget`` as a float in ``(0, 1]``; anything else is a one-line ``ValueError``."""
    return check_number("budget", budget, 0, 1, low_open=True)


def budget_rows(budget: float, n: int, what: str = "entities") -> int:
    """Rows a table of ``n`` entities stores at ``budget``: ``round(budget · n)``, half up.

    Raises
    ------
    ValueError
        A budget outside ``(0, 1]``, or one that leaves no row for ``n >= 1`` entities.
    """
    b = check_budget(budget)
    rows = min(n, math.floor(b * n + 0.5 + 1e-9))
    if rows < 1:
        raise ValueError(f"budget={b:g} leaves {b * n:.3g} rows for the {n} {what}; a table needs at least 1 (budget >= {0.5 / max(n, 1):.3g})")
    return rows


def universal_hash(index: torch.Tensor, coef: torch.Tensor, buckets: int) -> torch.Tensor:
    """``((a·x + b) mod p) mod buckets`` for every index ``x`` (LongTensor ``(B,)``) and every row
    ``(a, b)`` of ``coef`` (LongTensor ``(h, 2)``); returns LongTensor ``(B, h)``."""
    x = index.to(torch.int64).unsqueeze(-1)
    return ((coef[:, 0] * x + coef[:, 1]) % HASH_PRIME) % buckets


def _draw_coef(h: int, generator: torch.Generator | None) -> torch.Tensor:
    a = torch.randint(1, HASH_PRIME, (h, 1), generator=generator)
    b = torch.randint(0, HASH_PRIME, (h, 1), generator=generator)
    return torch.cat([a, b], dim=1)


class HashedEmbedding(EmbeddingTable):
    """``num_rows`` learned rows shared by ``num_embeddings`` entities.

    An entity's embedding is the sum of its looked-up rows: ``row_map`` columns (stored,
    int32 ``(n, c)``) and ``hashes`` universal-hash lookups computed on the fly into
    ``[hash_offset, num_rows)``.

    Parameters
    ----------
    num_embeddings : int
        Entities ``n``.
    dim : int
    num_rows : int
        Stored rows ``R``, ``1 <= R <= n``.
    row_map : LongTensor ``(n, c)``, optional
        Stored lookups (values in ``[0, R)``); default none (``c = 0``).
    map_columns : int
        ``c`` when ``row_map`` is not given (a zero map of that width, filled by a load).
    hashes : int
        Hashed lookups per entity.
    hash_offset : int
        First row the hashes reach (frequency tables keep rows ``0 .. k-1`` for frequent ids).
    kind : str
        The registered name (for reports).
    init_std : float
        Std of the summed rows at initialisation: each of the ``c + hashes`` lookups draws
        ``N(0, init_std² / lookups)``, so an entity starts as a full table's would (LightGCN: 0.1).
    generator : torch.Generator, optional
        Draws the hash coefficients, then the rows.
    device : torch.device or str, optional
    """

    def __init__(
        self,
        num_embeddings: int,
        dim: int,
        num_rows: int,
        *,
        row_map: torch.Tensor | None = None,
        map_columns: int = 0,
        hashes: int = 0,
        hash_offset: int = 0,
        kind: str = "hashed",
        init_std: float = 0.1,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        check_table_shape(num_embeddings, dim)
        if not 1 <= num_rows <= num_embeddings:
            raise ValueError(f"num_rows must be in [1, {num_embeddings}], got {num_rows!r}")
        if not 0 <= hash_offset < num_rows or (hashes == 0 and hash_offset):
            raise ValueError(f"hash_offset must be in [0, {num_rows}), got {hash_offset!r}")
        if not init_std > 0:
            raise ValueError(f"init_std must be > 0, got {init_std!r}")
        if row_map is None:
            row_map = torch.zeros(num_embeddings, map_columns, dtype=torch.int64)
        row_map = row_map.reshape(num_embeddings, -1)
        if row_map.numel() and (int(row_map.min()) < 0 or int(row_map.max()) >= num_rows):
            raise ValueError(f"row_map values must lie in [0, {num_rows})")
        if row_map.shape[1] + hashes < 1:
            raise ValueError("a table needs at least one lookup (a row_map column or a hash)")
        self.num_embeddings, self.dim, self.num_rows, self.kind = num_embeddings, dim, int(num_rows), kind
        self.hashes, self.hash_offset, self.init_std = int(hashes), int(hash_offset), float(init_std)
        self.register_buffer("hash_coef", _draw_coef(hashes, generator).to(device))
        self.register_buffer("row_map", row_map.to(device=device, dtype=torch.int32))
        self.weight = nn.Parameter(torch.empty(num_rows, dim, device=device))
        #: how the map was made (clustering time, modularity, ...), for reports; not saved
        self.info: dict[str, Any] = {}
        self.reset_parameters(generator)

    @property
    def lookups(self) -> int:
        """Rows summed per entity."""
        return int(self.row_map.shape[1]) + self.hashes

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        std = self.init_std / math.sqrt(self.lookups)
        values = torch.randn(self.num_rows, self.dim, generator=generator) * std
        with torch.no_grad():
            self.weight.copy_(values.to(self.weight.device))

    def rows_of(self, index: torch.Tensor) -> torch.Tensor:
        """Row indices of entities ``index`` ``(B,)``: LongTensor ``(B, lookups)``."""
        cols = []
        if self.row_map.shape[1]:
            cols.append(self.row_map[index].to(torch.int64))
        if self.hashes:
            cols.append(self.hash_offset + universal_hash(index, self.hash_coef, self.num_rows - self.hash_offset))
        return cols[0] if len(cols) == 1 else torch.cat(cols, dim=1)

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        rows = self.rows_of(index)
        out = nn.functional.embedding(rows, self.weight)  # (B, lookups, dim)
        return out.squeeze(1) if rows.shape[1] == 1 else out.sum(1)

    def weight_rows(self) -> torch.Tensor:
        return self.weight

    def extra_repr(self) -> str:
        return f"{self.kind}: num_embeddings={self.num_embeddings}, num_rows={self.num_rows}, dim={self.dim}, lookups={self.lookups}"


# ------------------------------------------------------------------ factories
def _relation(graph: Graph, ntype: str | None, etype: EdgeType | str | None) -> EdgeType:
    et = graph.resolve_etype(INTERACTS if etype is None else etype)
    if ntype not in (et[0], et[2]):
        raise ValueError(f"the table's node type {ntype!r} is not an end of relation {et}")
    return et


def _degree(graph: Graph, ntype: str | None, etype: EdgeType | str | None) -> torch.Tensor:
    """Training degree (interactions) of every node of ``ntype`` in the relation, int64."""
    et = _relation(graph, ntype, etype)
    es = graph.edges(et)
    if et[0] == et[2]:
        return es.degree("src") + es.degree("dst")
    return es.degree("src" if ntype == et[0] else "dst")


def _frequency_map(n: int, rows: int, lookups: int, degree: torch.Tensor | None,
                   generator: torch.Generator | None, device: Any) -> torch.Tensor:
    """``(n, lookups)`` map: the ``⌊rows/2⌋`` most frequent ids own rows ``0..k-1`` (every
    lookup points there), the rest hash (``lookups`` independent hashes) into ``[k, rows)``."""
    coef = _draw_coef(lookups, generator)  # drawn whether or not a graph is given: same init either way
    if degree is None:
        return torch.zeros(n, lookups, dtype=torch.int64, device=device)
    if rows >= n:
        return torch.arange(n, device=device).unsqueeze(1).expand(n, lookups).clone()
    k = rows // 2
    ids = torch.arange(n, device=degree.device)
    top = torch.argsort(-degree.to(torch.int64), stable=True)[:k]  # most frequent first, ties by index
    out = k + universal_hash(ids, coef.to(degree.device), rows - k)
    out[top] = torch.arange(k, device=degree.device).unsqueeze(1)
    return out.to(device)


def _budget(budget: Any) -> float:
    return DEFAULT_BUDGET if budget is None else check_budget(budget)


def _hashed_factory(kind: str, hashes: int):  # type: ignore[no-untyped-def]
    def factory(num_embeddings: int, dim: int, *, generator: torch.Generator | None = None, device: Any = None,
                graph: Graph | None = None, ntype: str | None = None, budget: float | None = None,
                init_std: float = 0.1, **_: Any) -> EmbeddingTable:
        rows = budget_rows(_budget(budget), num_embeddings, f"{ntype or 'entity'} embeddings")
        if rows == num_embeddings:  # budget 1: every id its own row (no collisions)
            ident = torch.arange(num_embeddings).unsqueeze(1)
            return HashedEmbedding(num_embeddings, dim, rows, row_map=ident, kind=kind, init_std=init_std,
                                   generator=generator, device=device)
        return HashedEmbedding(num_embeddings, dim, rows, hashes=hashes, kind=kind, init_std=init_std,
                               generator=generator, device=device)

    factory.__name__ = kind
    return factory


def _frequency_factory(kind: str, lookups: int):  # type: ignore[no-untyped-def]
    def factory(num_embeddings: int, dim: int, *, generator: torch.Generator | None = None, device: Any = None,
                graph: Graph | None = None, ntype: str | None = None, budget: float | None = None,
                etype: EdgeType | str | None = None, init_std: float = 0.1, **_: Any) -> EmbeddingTable:
        rows = budget_rows(_budget(budget), num_embeddings, f"{ntype or 'entity'} embeddings")
        degree = None if graph is None else _degree(graph, ntype, etype)
        row_map = _frequency_map(num_embeddings, rows, lookups, degree, generator, device)
        return HashedEmbedding(num_embeddings, dim, rows, row_map=row_map, kind=kind, init_std=init_std,
                               generator=generator, device=device)

    factory.__name__ = kind
    return factory


#: clusterings shared by a model's user and item tables (one clustering serves both), per graph
_CLUSTER_CACHE: weakref.WeakKeyDictionary[Graph, dict[tuple[Any, ...], tuple[dict[str, torch.Tensor], dict[str, Any]]]] = weakref.WeakKeyDictionary()


def cluster_rows(
    graph: Graph, etype: EdgeType | str | None, budget: float, *, seed: int = 0, modularity_kind: str = "bipartite",
    backend: str = "igraph", max_steps: int = 12, tol: float = 0.01, hashed_share: float = 0.0,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """GraphHash's entity-to-row maps for every node type of a relation at ``budget``.

    The Leiden resolution is bisected until the clustering has about ``Σ_t budget_rows(budget,
    n_t)`` per-type clusters (within ``tol``, at most ``max_steps`` runs, all seeded with
    ``seed``); then each type's clusters are merged or split to exactly its rows. Cached per
    graph (and its version) and arguments, so a model's user and item tables cluster once.

    Returns
    -------
    ({node type: LongTensor (n_type,) rows in [0, rows_type)}, info)
        ``info``: ``seconds`` (the search), ``modularity`` (of the clustering the search
        found, before the exact resize), ``resolution``, ``steps``, ``rows`` ({type: rows})
        and ``rows_found`` (the per-type rows the search reached).
    """
    from ..cluster import resize_clusters, resolution_for_budget

    et = graph.resolve_etype(INTERACTS if etype is None else etype)
    kind = check_choice("modularity_kind", modularity_kind, ("bipartite", "standard"))
    types = [et[0]] if et[0] == et[2] else [et[0], et[2]]
    share = check_number("hashed_share", hashed_share, 0, 1, high_open=True)
    rows = {t: budget_rows(budget, graph.num_nodes(t), f"{t} embeddings") for t in types}
    rows = {t: r - math.floor(share * r) for t, r in rows.items()}
    key = (graph.version, et, tuple(rows.items()), seed, kind, backend, max_steps, tol)
    cache = _CLUSTER_CACHE.setdefault(graph, {})
    if key in cache:
        return cache[key]
    if all(rows[t] == graph.num_nodes(t) for t in types):
        maps = {t: torch.arange(graph.num_nodes(t), device=graph.device) for t in types}
        info: dict[str, Any] = {"seconds": 0.0, "modularity": None, "resolution": None, "steps": 0, "rows": rows}
    else:
        c = resolution_for_budget(graph, sum(rows.values()), et, count="rows", modularity_kind=kind, seed=seed,
                                  backend=backend, max_steps=max_steps, tol=tol)
        maps = {t: resize_clusters(c.membership[t], rows[t], weight=_degree(graph, t, et)) for t in types}
        info = {"seconds": c.seconds, "modularity": c.modularity, "modularity_kind": kind, "resolution": c.resolution,
                "steps": c.steps, "rows": rows, "rows_found": c.num_rows}
    cache[key] = (maps, info)
    return maps, info


def _graph_factory(kind: str, hashes: int, hashed_share: float = 0.0, frequency: bool = False):  # type: ignore[no-untyped-def]
    def factory(num_embeddings: int, dim: int, *, generator: torch.Generator | None = None, device: Any = None,
                graph: Graph | None = None, ntype: str | None = None, budget: float | None = None,
                etype: EdgeType | str | None = None, modularity_kind: str = "bipartite", init_std: float = 0.1,
                **_: Any) -> EmbeddingTable:
        b = _budget(budget)
        rows = budget_rows(b, num_embeddings, f"{ntype or 'entity'} embeddings")
        offset = rows - math.floor(hashed_share * rows)  # the cluster rows; the hash reaches [offset, rows)
        offset = 0 if offset == rows else offset  # one row: nothing to split
        info: dict[str, Any] = {}
        if graph is None:
            row_map = None
        else:
            _relation(graph, ntype, etype)
            # the clustering seed is the model's (the generator's initial seed), not a draw: both tables share one clustering
            seed = 0 if generator is None else generator.initial_seed()
            maps, info = cluster_rows(graph, etype, b, seed=seed, modularity_kind=modularity_kind,
                                      hashed_share=hashed_share if offset else 0.0)
            row_map = maps[ntype].reshape(-1, 1)  # type: ignore[index]
        if frequency and offset:  # the second lookup: frequency hashing into the rows the clusters leave
            degree = None if graph is None else _degree(graph, ntype, etype)
            second = offset + _frequency_map(num_embeddings, rows - offset, 1, degree, generator, device)
            row_map = None if row_map is None else torch.cat([row_map.to(second.device), second], dim=1)
            table = HashedEmbedding(num_embeddings, dim, rows, row_map=row_map, map_columns=2, kind=kind,
                                    init_std=init_std, generator=generator, device=device)
        else:
            table = HashedEmbedding(num_embeddings, dim, rows, row_map=row_map, map_columns=1, hashes=hashes,
                                    hash_offset=offset, kind=kind, init_std=init_std, generator=generator, device=device)
        table.info = dict(info)
        return table

    factory.__name__ = kind
    return factory


register_table("random", _hashed_factory("random", 1))
register_table("double", _hashed_factory("double", 2))
register_table("frequency", _frequency_factory("frequency", 1))
register_table("double_frequency", _frequency_factory("double_frequency", 2))
register_table("graph", _graph_factory("graph", 0))
register_table("double_graph", _graph_factory("double_graph", 1))
register_table("double_graph_split", _graph_factory("double_graph_split", 1, hashed_share=0.5))
register_table("graph_frequency", _graph_factory("graph_frequency", 1, hashed_share=0.5, frequency=True))

#: the compressed tables this module registers
COMPRESSED = ("random", "double", "frequency", "double_frequency", "graph", "double_graph", "double_graph_split",
              "graph_frequency")
