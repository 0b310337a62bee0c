"""DataFrames and Arrow tables into the graph store.

:func:`graph_from_frame` (``Graph.from_frame``) turns an interaction table — a pandas
DataFrame, a pyarrow Table, or any table that speaks the Arrow C stream interface (polars) —
into a :class:`~graphrec.graph.Graph`; :func:`add_frame` (``Graph.add_frame``) adds the rows
of another table as edges of any relation (``user -trusts-> user`` by default). A Dataset
follows from the Graph with a split (:func:`~graphrec.data.splits.random_holdout`,
:func:`~graphrec.data.splits.temporal_leave_last_out`).

Columns are read exactly as :func:`~graphrec.data.loaders.load_edge_table` reads a Parquet
file (the same column readers, hence the same rules and messages): ids are integers or
strings as stored (categorical columns decoded, integral floats become int64); weights must
be finite, non-negative and fit float32; times are integers, or datetimes converted to int64
unix seconds (UTC, rounded down; :mod:`graphrec.graph.times`). An empty cell raises, naming
the column and the row's index label.

Nothing is shaped silently: repeated rows follow ``duplicates`` (``'count'`` by default: one
edge weighted by the number of rows, or by the sum of their weights), and an edge naming an id
the graph does not have raises unless ``new_nodes=True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph.edges import EdgeType, check_etype
from ..graph.idmap import IdMap
from ..graph.store import INTERACTS, ITEM, TRUSTS, USER, Graph
from .loaders import _column, _id_column, _Rows, _time_column, _weight_column

__all__ = ["add_frame", "graph_from_frame"]


def _frame_table(frame: Any, columns: list[Any], what: str) -> tuple[Any, _Rows, dict[Any, str]]:
    """The requested ``columns`` of ``frame`` as a pyarrow Table, how to name its rows, and
    the Table's name of each requested column (its text: pandas labels need not be strings)."""
    import pyarrow as pa

    for c in columns:
        if c is None or isinstance(c, (list, tuple, dict, set)):
            raise TypeError(f"{what}: column names must be single labels, got {c!r}")
    if isinstance(frame, pa.RecordBatch):
        frame = pa.Table.from_batches([frame])
    if isinstance(frame, pa.Table):
        table, labels = frame, None
    elif type(frame).__module__.split(".")[0] == "pandas" and hasattr(frame, "columns") and hasattr(frame, "index"):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{what}: missing column(s) {missing}; the frame has columns {list(frame.columns)}")
        arrays, names = [], []
        for c in columns:
            col = frame[c]
            if getattr(col, "ndim", 1) != 1:
                raise ValueError(f"{what}: column label {c!r} names several columns")
            try:
                arrays.append(pa.array(col, from_pandas=True))  # NaN and NaT become nulls
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
                raise TypeError(f"{what}: column {c!r} (dtype {col.dtype}) cannot be read: {e}") from None
            names.append(str(c))
        if len(set(names)) != len(names):
            raise ValueError(f"{what}: column labels {columns} are not distinct as text")
        return pa.table(arrays, names=names), _Rows(what, None, frame.index), dict(zip(columns, names))
    elif hasattr(frame, "__arrow_c_stream__"):
        table, labels = pa.table(frame), None
    else:
        raise TypeError(f"{what} must be a pandas DataFrame or a pyarrow Table, got {type(frame).__name__}")
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; the table has columns {table.column_names}")
    return table.select(list(dict.fromkeys(columns))), _Rows(what, None, labels), {c: c for c in columns}


def _read_edges(frame: Any, src_col: Any, dst_col: Any, weight_col: Any, time_col: Any,
                what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(src ids, dst ids, weights or None, int64 times or None)`` of a frame's rows."""
    wanted = list(dict.fromkeys(c for c in (src_col, dst_col, weight_col, time_col) if c is not None))
    table, rows, name = _frame_table(frame, wanted, what)
    if table.num_rows == 0:
        raise ValueError(f"{what}: the table has no rows")

    src = _id_column(what, table, name[src_col], rows)
    dst = _id_column(what, table, name[dst_col], rows)
    w = None if weight_col is None else _weight_column(what, table, name[weight_col], rows)
    ts = None if time_col is None else _time_column(what, _column(table, name[time_col]), name[time_col], rows)
    return src, dst, w, ts


def graph_from_frame(
    frame: Any,
    user_col: Any = "user",
    item_col: Any = "item",
    weight_col: Any | None = None,
    time_col: Any | None = None,
    *,
    trust: Any | None = None,
    trust_cols: tuple[Any, Any] = ("src", "dst"),
    duplicates: str = "count",
    new_nodes: bool = False,
    device: str | Any = "cpu",
) -> Graph:
    """A :class:`~graphrec.graph.Graph` of ``user -interacts-> item`` edges from a table.

    Parameters
    ----------
    frame : pandas.DataFrame or pyarrow.Table
        One row per interaction (any table with the Arrow C stream interface works too).
    user_col, item_col : column labels
        Id columns: integers or strings, kept as stored (string ids stay strings, ``"007"``
        included).
    weight_col : column label, optional
        Interaction weights (ratings, play counts): finite, non-negative, stored as float32.
    time_col : column label, optional
        Integer times, or datetimes (pandas/numpy/Arrow; time-zone aware or naive, read as
        UTC) stored as int64 unix seconds rounded down, as the file loader does.
    trust : pandas.DataFrame or pyarrow.Table, optional
        ``user -trusts-> user`` edges, one row per directed edge, read from ``trust_cols``
        (see :func:`add_frame`).
    trust_cols : (truster column, trustee column)
    duplicates : {'count', 'merge', 'keep', 'error'}
        Repeated ``(user, item)`` (and trust) rows, see :meth:`Graph.add_edges`: ``count``
        (default) keeps one edge weighted by the number of rows, or by the sum of the
        rows' weights; a table without repeats and without weights stays unweighted.
    new_nodes : bool
        Whether a trust row may name a user who has no interaction (it then becomes a user
        node); ``False`` (default) raises ``ValueError`` naming the first such id.
    device : str or torch.device

    Returns
    -------
    Graph
        Users and items each sorted by id (users only in ``trust`` follow, in first-seen
        order), ``INTERACTS`` edges (and ``TRUSTS`` edges).

    Raises
    ------
    TypeError
        ``frame`` is not a table; a column pandas cannot hand to Arrow (mixed types).
    ValueError
        A missing column (the frame's columns listed), an empty cell, a bad weight or time
        (column and index label named), an unknown trust id.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": ["ann", "bob", "ann", "ann"], "item": ["x", "x", "y", "y"]})
    >>> g = graph_from_frame(df)
    >>> g.num_nodes("user"), g.num_edges(INTERACTS), g.edges(INTERACTS).weight.tolist()
    (2, 3, [1.0, 2.0, 1.0])
    """
    users_ext, items_ext, weight, timestamp = _read_edges(frame, user_col, item_col, weight_col, time_col, "DataFrame")
    users = IdMap(np.unique(users_ext), USER)
    items = IdMap(np.unique(items_ext), ITEM)
    g = Graph(device)
    g.add_node_type(USER, users)
    g.add_node_type(ITEM, items)
    g.add_edges(INTERACTS, users.to_index(users_ext), items.to_index(items_ext), weight, timestamp, duplicates=duplicates)
    if trust is not None:
        if not isinstance(trust_cols, (tuple, list)) or len(trust_cols) != 2:
            raise ValueError(f"trust_cols must be (truster column, trustee column), got {trust_cols!r}")
        add_frame(g, trust, TRUSTS, trust_cols[0], trust_cols[1], duplicates=duplicates, new_nodes=new_nodes,
                  what="trust frame")
    return g


def add_frame(
    graph: Graph,
    frame: Any,
    etype: EdgeType | str = TRUSTS,
    src_col: Any = "src",
    dst_col: Any = "dst",
    weight_col: Any | None = None,
    time_col: Any | None = None,
    *,
    duplicates: str = "count",
    new_nodes: bool = False,
    what: str = "frame",
) -> Graph:
    """Add one edge per row of ``frame`` to ``graph`` (in place) and return ``graph``.

    Parameters
    ----------
    graph : Graph
    frame : pandas.DataFrame or pyarrow.Table
    etype : (src_type, relation, dst_type) or str
        Default ``user -trusts-> user``; a relation name (``"trusts"``) names an edge type
        the graph already has. Any node types work (``("item", "tagged", "tag")``).
    src_col, dst_col : column labels
        External ids of the endpoints, read as :func:`graph_from_frame` reads ids.
    weight_col, time_col : column labels, optional
        As in :func:`graph_from_frame`. When the edge type exists, its rows must carry the
        same fields (weights, times) as its edges.
    duplicates : {'count', 'merge', 'keep', 'error'}
        See :meth:`Graph.add_edges`.
    new_nodes : bool
        ``False`` (default): every id of a node type the graph has must be known — an
        unknown one raises ``ValueError`` naming it (a trust edge never invents a user); a
        node type the graph lacks is created from the ids given. ``True``: unknown ids
        become new nodes (grown graphs: fitted models then need ``update()`` or a refit).
    what : str
        Names the frame in error messages.

    Returns
    -------
    Graph
        ``graph``, for chaining: ``Graph.from_frame(df).add_frame(trust_df)``.
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"add_frame needs a Graph, got {type(graph).__name__}")
    etype = graph.resolve_etype(etype) if isinstance(etype, str) else check_etype(etype)
    src, dst, weight, timestamp = _read_edges(frame, src_col, dst_col, weight_col, time_col, what)
    graph.add_edges(etype, src, dst, weight, timestamp, by="id", duplicates=duplicates, new_nodes=new_nodes)
    return graph
