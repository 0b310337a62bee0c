"""Embedding tables: the one interface every embedding model reads its layer-0 rows from.

An :class:`EmbeddingTable` maps dense entity indices ``0 .. num_embeddings-1`` to
``dim``-dimensional rows. :class:`FullEmbedding` is the classic one-row-per-entity table
(``nn.Embedding``, normal init with std 0.1 as in LightGCN, He et al., SIGIR 2020). Compressed
tables (random / frequency / double hashing, GraphHash's cluster tables; Wu et al., WWW 2025)
implement the same interface, so :class:`~graphrec.models.mf.MF` and
:class:`~graphrec.models.lightgcn.LightGCN` take any of them unchanged.

Tables are chosen by name (``table="full"``) or by passing a factory; later layers add theirs
with :func:`register_table`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

__all__ = ["TABLES", "EmbeddingTable", "FullEmbedding", "check_table_shape", "make_table", "register_table", "table_summary"]


class EmbeddingTable(nn.Module, abc.ABC):
    """Interface: entity index -> embedding row.

    Attributes
    ----------
    num_embeddings : int
        Number of entities the table serves (indices ``0 .. num_embeddings-1``).
    dim : int
        Row width ``d``.
    """

    num_embeddings: int
    dim: int

    @abc.abstractmethod
    def forward(self, index: torch.Tensor) -> torch.Tensor:
        """Rows of entities ``index``.

        Parameters
        ----------
        index : LongTensor ``(B,)`` of entity indices on the table's device

        Returns
        -------
        FloatTensor ``(B, dim)``
        """

    def all(self) -> torch.Tensor:
        """The full entity table ``(num_embeddings, dim)`` (differentiable)."""
        return self.forward(torch.arange(self.num_embeddings, device=self.device))

    def weight_rows(self) -> torch.Tensor:
        """The stored parameter rows ``(num_rows, dim)``; ``num_rows < num_embeddings`` when compressed."""
        return self.all()

    @abc.abstractmethod
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-initialise the parameters (drawn from ``generator`` when given, on the CPU)."""

    @property
    def device(self) -> torch.device:
        p = next(self.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def nbytes(self) -> int:
        """Bytes of the table's parameters and buffers (rows plus any entity-to-row map)."""
        return sum(t.numel() * t.element_size() for t in (*self.parameters(), *self.buffers()))

    def extra_repr(self) -> str:
        return f"num_embeddings={self.num_embeddings}, dim={self.dim}"


def check_table_shape(num_embeddings: Any, dim: Any) -> None:
    """One ValueError line unless a table's ``num_embeddings`` and ``dim`` are integers >= 1."""
    if not isinstance(num_embeddings, int) or num_embeddings < 1:
        raise ValueError(f"num_embeddings must be an integer >= 1, got {num_embeddings!r}")
    if not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be an integer >= 1, got {dim!r}")


class FullEmbedding(EmbeddingTable):
    """One learned row per entity.

    Parameters
    ----------
    num_embeddings : int
        Entity count (>= 1).
    dim : int
        Row width (>= 1).
    init_std : float
        Std of the normal initialisation (LightGCN: 0.1).
    generator : torch.Generator, optional
        CPU generator for the initial values (seeded determinism on every device).
    device : torch.device or str, optional
    """

    def __init__(
        self,
        num_embeddings: int,
        dim: int,
        *,
        init_std: float = 0.1,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        check_table_shape(num_embeddings, dim)
        if not init_std > 0:
            raise ValueError(f"init_std must be > 0, got {init_std!r}")
        self.num_embeddings, self.dim, self.init_std = num_embeddings, dim, float(init_std)
        self.weight = nn.Parameter(torch.empty(num_embeddings, dim, device=device))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        values = torch.randn(self.num_embeddings, self.dim, generator=generator) * self.init_std
        with torch.no_grad():
            self.weight.copy_(values.to(self.weight.device))

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        return nn.functional.embedding(index, self.weight)

    def all(self) -> torch.Tensor:
        return self.weight

    def weight_rows(self) -> torch.Tensor:
        return self.weight


#: ``factory(num_embeddings, dim, *, generator, device, graph, ntype, **params) -> EmbeddingTable``
TableFactory = Callable[..., EmbeddingTable]

#: table kind -> factory, filled by :func:`register_table` (``table=`` of the embedding models)
TABLES: dict[str, TableFactory] = {}


def register_table(name: str, factory: TableFactory) -> None:
    """Make a table kind available as ``table=name`` in MF / LightGCN.

    A registered factory takes ``**params``: the models pass it ``budget`` (stored rows /
    entities, or None) and ``etype`` (the relation the table's node type is an end of).
    """
    TABLES[name] = factory


def _full(num_embeddings: int, dim: int, *, generator: torch.Generator | None = None,
          device: Any = None, init_std: float = 0.1, budget: float | None = None, **_: Any) -> EmbeddingTable:
    if budget is not None and budget != 1:
        raise ValueError(f"table 'full' stores one row per entity: budget must be 1 or None, got {budget!r}")
    return FullEmbedding(num_embeddings, dim, init_std=init_std, generator=generator, device=device)


register_table("full", _full)


def make_table(
    spec: str | TableFactory,
    num_embeddings: int,
    dim: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    graph: Any = None,
    ntype: str | None = None,
    **params: Any,
) -> EmbeddingTable:
    """Build a table from a registered name or a factory.

    Parameters
    ----------
    spec : str or callable
        A name in :data:`TABLES` or ``factory(num_embeddings, dim, *, generator, device,
        graph, ntype, **params)``.
    graph, ntype
        The training graph and the node type the table serves (graph-aware tables cluster it).

    Raises
    ------
    ValueError
        Unknown table name, or a table of another shape than requested.
    TypeError
        ``spec`` is neither a name nor callable, or the factory returns no :class:`EmbeddingTable`.
    """
    if isinstance(spec, str):
        if spec not in TABLES:
            raise ValueError(f"unknown table {spec!r}; choose from {', '.join(sorted(TABLES))}")
        factory = TABLES[spec]
    elif callable(spec):
        factory = spec
    else:
        raise TypeError(f"table must be a name or a factory, got {type(spec).__name__}")
    table = factory(num_embeddings, dim, generator=generator, device=device, graph=graph, ntype=ntype, **params)
    if not isinstance(table, EmbeddingTable):
        raise TypeError(f"table factory {spec!r} returned {type(table).__name__}, not an EmbeddingTable")
    if table.num_embeddings != num_embeddings or table.dim != dim:
        raise ValueError(
            f"table factory {spec!r} built a ({table.num_embeddings}, {table.dim}) table; expected ({num_embeddings}, {dim})"
        )
    return table


def table_summary(model: Any) -> dict[str, Any] | None:
    """``num_parameters`` of ``model`` and ``table``/``table_rows``/``table_bytes`` of its user
    and item tables (on it or on its ``backbone``), or None for a model without tables."""
    owner = model if getattr(model, "user_table", None) is not None else getattr(model, "backbone", None)
    tables = [getattr(owner, a, None) for a in ("user_table", "item_table")]
    if not all(isinstance(t, EmbeddingTable) for t in tables):
        return None
    rows = sum(int(t.weight_rows().shape[0]) for t in tables)  # type: ignore[union-attr]
    params = sum(p.numel() for p in model.parameters()) if isinstance(model, nn.Module) else None
    return {"num_parameters": params, "table_rows": rows, "table_entities": sum(t.num_embeddings for t in tables),  # type: ignore[union-attr]
            "table_bytes": sum(t.nbytes for t in tables)}  # type: ignore[union-attr]


from . import hashing as _hashing  # noqa: F401  (registers the compressed tables)
