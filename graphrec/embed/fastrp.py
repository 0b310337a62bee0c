"""FastRP: node embeddings by very sparse random projection of the transition matrix.

Chen, Sultan, Tian, Chen, Skiena. "Fast and Accurate Network Embeddings via Very Sparse
Random Projection", CIKM 2019 (arXiv:1908.11512).

With the adjacency ``A`` of a relation, its transition matrix ``S = D^-1 A`` and a very sparse
random projection ``R`` ``(n, dim)`` (Li, Hastie & Church, KDD 2006: entries ``+sqrt(s)`` and
``-sqrt(s)`` with probability ``1/(2s)`` each, else ``0``),

    N_1 = S · L · R,    N_i = S · N_{i-1},    E = Σ_i w_i · N_i

where ``L = diag(d_j^β)`` down-weights (``β < 0``) the projection rows of high-degree nodes.
With ``normalize=True`` every ``N_i`` is L2-normalised row by row before the weighted sum (the
authors' ``normalization=True``). Nothing is trained: one random matrix and ``len(weights)``
sparse matmuls on ``graph.device``; no dense ``n × n`` matrix is ever formed.

``S`` is the store's walk chain: the transition matrix of
:class:`graphrec.walks.WalkEngine` over the relation's moves (the same chain the walkers and
exact PPR use), so a bipartite user–item relation is embedded over its symmetric bipartite
adjacency (users and items together), and a one-type relation (trust, BlogCatalog's links) is
made undirected by default: used as stored when the store holds every edge both ways, else
symmetrised as ``A + Aᵀ``. Several relations (interactions and trust) are embedded together
over their union.

The embedding's columns never mix, so ``block_cols`` streams the propagation in blocks of
columns: only ``3 · n · block_cols`` floats of intermediates live at once (plus the result,
which ``out_device`` may place elsewhere, e.g. on the host while the matmuls run on a GPU).
Row-normalised powers need each row's norm over all columns, so a blocked run with
``normalize=True`` takes two passes (norms, then the sum); it returns the unblocked result.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from tqdm.auto import tqdm

from ..checks import check_bool, check_int, check_number, check_seed
from ..graph.edges import EdgeType
from ..graph.store import Graph, store_device
from ..walks import Move, WalkEngine

__all__ = [
    "AUTHORS_BETA",
    "AUTHORS_WEIGHTS",
    "fastrp",
    "fastrp_powers",
    "projection_graph",
    "relation_layout",
    "sparse_projection",
    "transition_operator",
]

#: the authors' BlogCatalog setting (with ``dim=512``)
AUTHORS_WEIGHTS = (1.0, 1.0, 7.81, 45.28)
AUTHORS_BETA = -0.628

#: rows of the random projection drawn per generator call: fixed, so that ``R`` never depends
#: on how the propagation is blocked
_RP_CHUNK_ROWS = 8192


def _etype_list(graph: Graph, etype: Any) -> list[EdgeType]:
    """``etype`` (None, one relation, or a sequence of them) as resolved triples."""
    if etype is None or isinstance(etype, str) or (
        isinstance(etype, (tuple, list)) and len(etype) == 3 and all(isinstance(p, str) for p in etype)
    ):
        return [graph.resolve_etype(etype)]
    if not isinstance(etype, (tuple, list)) or not etype:
        raise TypeError(f"etype must be a relation name, a (src, rel, dst) triple or a list of them, got {etype!r}")
    out: list[EdgeType] = []
    for e in etype:
        r = graph.resolve_etype(e)
        if r in out:
            raise ValueError(f"etype lists {r} twice")
        out.append(r)
    return out


def relation_layout(graph: Graph, etype: Any = None) -> list[tuple[str, int, int]]:
    """Rows of a :func:`fastrp` result: ``[(node_type, start, stop), ...]``.

    Node types appear in the order they first occur in the relations (source type, then
    destination type), e.g. ``[("user", 0, n_users), ("item", n_users, n_users + n_items)]``.
    """
    types: list[str] = []
    for et in _etype_list(graph, etype):
        for t in (et[0], et[2]):
            if t not in types:
                types.append(t)
    out, start = [], 0
    for t in types:
        n = graph.num_nodes(t)
        out.append((t, start, start + n))
        start += n
    return out


def transition_operator(
    graph: Graph, etype: Any = None, *, symmetric: bool = True, weighted: bool = False
) -> tuple[torch.Tensor, torch.Tensor, list[tuple[str, int, int]]]:
    """``S = D^-1 A`` over one or several relations, and the column degrees of ``A``.

    Parameters
    ----------
    graph : Graph
    etype : relation name, ``(src, rel, dst)`` triple, or a list of them; ``None``: the
        graph's only relation (or its interactions).
    symmetric : bool
        Make a one-type relation undirected: a relation the store already holds in both
        directions (BlogCatalog, airports, LastFM's friends; every edge with its reverse) is
        used as it is, any other is symmetrised as ``A + Aᵀ`` (a pair stored both ways then
        weighs 2). ``symmetric=False`` keeps it directed (``S`` row-stochastic over
        out-edges). A relation between two node types is always followed both ways (its
        symmetric bipartite adjacency).
    weighted : bool
        Use edge weights (edge sets without weights count 1).

    Returns
    -------
    S : sparse CSR FloatTensor ``(n, n)`` on ``graph.device``; rows of nodes without out-edges
        are empty.
    degree : FloatTensor ``(n,)``, column sums of ``A`` (in-degree; the degree when symmetric).
    layout : see :func:`relation_layout`.
    """
    symmetric, weighted = check_bool("symmetric", symmetric), check_bool("weighted", weighted)
    ets = _etype_list(graph, etype)
    moves = []
    for et in ets:
        moves.append(Move(et, False))
        # a bipartite relation, or a one-type relation to symmetrise (A + Aᵀ); one stored both
        # ways already (A is its own symmetrisation) or kept directed is walked with one move
        if et[0] != et[2] or (symmetric and not _stored_symmetric(graph, et, weighted)):
            moves.append(Move(et, True))
    layout = relation_layout(graph, ets)
    start = {t: a for t, a, _ in layout}
    n = layout[-1][2]
    degree = torch.zeros(n, dtype=torch.float32, device=graph.device)
    for mv in moves:
        es = graph.edges(mv.etype)
        side, t = ("src", mv.etype[0]) if mv.reverse else ("dst", mv.etype[2])
        d = es.degree(side, weighted=weighted).to(torch.float32)
        degree[start[t] : start[t] + d.numel()] += d
    if all(graph.num_edges(e) == 0 for e in ets):
        raise ValueError(f"fastrp: relation(s) {ets} have no edges; nothing to propagate")
    engine = WalkEngine(graph, moves, weighted=weighted)
    return engine.transition_matrix(), degree, layout


def _stored_symmetric(graph: Graph, et: EdgeType, weighted: bool) -> bool:
    """Whether a one-type relation holds every edge in both directions (with equal weights when ``weighted``)."""
    es = graph.edges(et)
    t = es.csc()  # cached by the store
    if not (torch.equal(t.indptr, es.indptr) and torch.equal(t.indices, es.indices)):
        return False
    if weighted and es.weight is not None:
        return bool(torch.equal(es.weight[t.perm.to(torch.int64)], es.weight))
    return True


def sparse_projection(
    n: int, dim: int, s: float | None = None, *, seed: int = 0, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """Very sparse random projection matrix (Li, Hastie & Church, KDD 2006).

    Entries are ``+sqrt(s)`` with probability ``1/(2s)``, ``-sqrt(s)`` with probability
    ``1/(2s)``, else ``0`` (``s = 3`` is Achlioptas' projection, ``s = sqrt(n)`` the very
    sparse one). Drawn on the CPU from one seeded generator in fixed chunks of rows, so the
    same seed gives the same matrix on any device and for any blocking.

    Parameters
    ----------
    n, dim : int
        Shape (rows = nodes, columns = embedding dimensions).
    s : float, optional
        Sparsity, ``>= 1``; default ``max(sqrt(n), 1)``.
    seed : int
    device : where the result goes.

    Returns
    -------
    sparse COO FloatTensor ``(n, dim)``, coalesced (entries sorted by row, then column).
    """
    n, dim = check_int("n", n, 0), check_int("dim", dim, 1)
    s = max(math.sqrt(n), 1.0) if s is None else check_number("s", s, 1)
    seed = check_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    p = 1.0 / (2.0 * s)
    val = math.sqrt(s)
    rows, cols, vals = [], [], []
    for lo in range(0, n, _RP_CHUNK_ROWS):
        u = torch.rand(min(_RP_CHUNK_ROWS, n - lo), dim, generator=gen)
        r, c = ((u < p) | (u >= 1.0 - p)).nonzero(as_tuple=True)
        rows.append(r + lo)
        cols.append(c)
        vals.append(torch.where(u[r, c] < p, val, -val))
    if rows:
        idx = torch.stack([torch.cat(rows), torch.cat(cols)])
        v = torch.cat(vals)
    else:
        idx, v = torch.zeros(2, 0, dtype=torch.int64), torch.zeros(0)
    return torch.sparse_coo_tensor(idx, v, (n, dim), is_coalesced=True, check_invariants=False).to(store_device(device))


def _check_weights(weights: Any) -> tuple[float, ...]:
    if isinstance(weights, (int, float)) and not isinstance(weights, bool):
        weights = (weights,)
    if not isinstance(weights, (Sequence, torch.Tensor)) or isinstance(weights, str) or len(weights) == 0:
        raise ValueError(f"weights must be a non-empty list of numbers (one per power), got {weights!r}")
    return tuple(check_number(f"weights[{i}]", float(w) if isinstance(w, torch.Tensor) else w) for i, w in enumerate(weights))


def fastrp(
    graph: Graph,
    etype: Any = None,
    *,
    dim: int = 128,
    weights: Sequence[float] = AUTHORS_WEIGHTS,
    beta: float = AUTHORS_BETA,
    s: float | None = None,
    normalize: bool = True,
    symmetric: bool = True,
    weighted: bool = False,
    seed: int = 0,
    block_cols: int | None = None,
    out_device: str | torch.device | None = None,
    progress: bool = False,
    shards: Any = None,
) -> torch.Tensor:
    """FastRP embeddings of every node of a relation (Chen et al., CIKM 2019).

    Parameters
    ----------
    graph : Graph
    etype : relation name, triple or list of them (see :func:`transition_operator`).
    dim : int
        Embedding dimension (the authors use 512 on BlogCatalog).
    weights : sequence of float
        ``w_i`` of the powers ``N_1 .. N_k``; ``len(weights)`` is the number of powers.
        Default the authors' ``(1, 1, 7.81, 45.28)``.
    beta : float
        Degree normalisation exponent of ``L = D^β`` (authors: ``-0.628``); nodes of degree 0
        get ``L = 0``.
    s : float, optional
        Projection sparsity (``>= 1``), default ``sqrt(n)``.
    normalize : bool
        L2-normalise the rows of every ``N_i`` before the weighted sum (authors' setting).
    symmetric, weighted : see :func:`transition_operator`.
    seed : int
        Seeds the projection (the same on every device).
    block_cols : int, optional
        Stream the propagation in blocks of this many columns (default: all at once).
    out_device : where the result is gathered (default ``graph.device``).
    progress : bool
        tqdm bar over the matmuls.
    shards : optional
        Where the column blocks are computed (default: this process;
        :func:`graphrec.distributed.fastrp` passes Ray workers, with the same result).

    Returns
    -------
    FloatTensor ``(n, dim)``, rows in :func:`relation_layout` order. Nodes without edges (and,
    with ``symmetric=False``, without out-edges) get zero rows; no row is ever NaN.

    Raises
    ------
    ValueError
        A bad parameter, or relations without any edge.

    Examples
    --------
    >>> from graphrec.graph import Graph
    >>> g = Graph(); _ = g.add_edges(("node", "links", "node"), [0, 1, 2], [1, 2, 0])
    >>> fastrp(g, dim=8, weights=(1.0, 1.0)).shape
    torch.Size([3, 8])
    """
    dim = check_int("dim", dim, 1)
    w = _check_weights(weights)
    normalize, progress = check_bool("normalize", normalize), check_bool("progress", progress)
    block = dim if block_cols is None else check_int("block_cols", block_cols, 1)
    prep = _Prepared.build(graph, etype, dim, beta, s, symmetric, weighted, seed, block)
    out_dev = prep.device if out_device is None else store_device(out_device)
    two_pass = normalize and len(prep.blocks) > 1
    shards = shards or _LocalColumns(prep)
    bar = tqdm(total=len(prep.blocks) * len(w) * (2 if two_pass else 1), desc="fastrp", disable=not progress, leave=False)
    with torch.no_grad():
        sq = None
        if two_pass:  # squared row norms of every power over all columns, summed block by block
            sq = torch.zeros(len(w), prep.n, device=prep.device)
            for part in shards.squared_norms(len(w), bar):
                sq += part.to(prep.device)
        out = torch.zeros(prep.n, dim, device=out_dev)
        for blk, cols in zip(prep.blocks, shards.columns(w, normalize, sq, bar)):
            out[:, blk[0] : blk[1]] = cols.to(out_dev)
    bar.close()
    return out


class _LocalColumns:
    """FastRP's column blocks computed in this process, in order.

    Column blocks are independent (each is ``S^i (L R)[:, block]``), so
    :func:`graphrec.distributed.fastrp` computes them on Ray workers instead, with the same
    results; only the squared row norms (two-pass normalisation) are summed across blocks, in
    block order by the caller.
    """

    def __init__(self, prep: _Prepared) -> None:
        self.prep = prep

    def squared_norms(self, k: int, bar: Any) -> Iterator[torch.Tensor]:
        """Per block, ``(k, n)``: the squared row norms of its columns of ``N_1 .. N_k``."""
        for b in range(len(self.prep.blocks)):
            yield block_squared_norms(self.prep, b, k, bar)

    def columns(self, w: tuple[float, ...], normalize: bool, sq: torch.Tensor | None, bar: Any) -> Iterator[torch.Tensor]:
        """Per block, ``(n, c1 - c0)``: its columns of the embedding."""
        for b in range(len(self.prep.blocks)):
            yield block_columns(self.prep, b, w, normalize, sq, bar)


def block_squared_norms(prep: _Prepared, b: int, k: int, bar: Any = None) -> torch.Tensor:
    """``(k, n)`` squared row norms of block ``b``'s columns of the powers ``N_1 .. N_k``."""
    return torch.stack([(x * x).sum(1) for x in prep.powers(prep.blocks[b], k, bar)])


def block_columns(prep: _Prepared, b: int, w: tuple[float, ...], normalize: bool, sq: torch.Tensor | None,
                  bar: Any = None) -> torch.Tensor:
    """``(n, c1 - c0)``: block ``b``'s columns of ``Σ_i w_i N_i`` (rows normalised by ``sq`` when given)."""
    blk = prep.blocks[b]
    acc = torch.zeros(prep.n, blk[1] - blk[0], device=prep.device)
    for i, x in enumerate(prep.powers(blk, len(w), bar)):
        if w[i] == 0.0:
            continue
        if normalize:
            x = _row_normalized(x, None if sq is None else sq[i])
        acc += w[i] * x
    return acc


def fastrp_powers(
    graph: Graph,
    etype: Any = None,
    *,
    dim: int = 128,
    powers: int = 4,
    beta: float = AUTHORS_BETA,
    s: float | None = None,
    normalize: bool = True,
    symmetric: bool = True,
    weighted: bool = False,
    seed: int = 0,
) -> list[torch.Tensor]:
    """The (row-normalised) powers ``N_1 .. N_powers`` of :func:`fastrp`, each ``(n, dim)``.

    ``fastrp(..., weights=w)`` equals ``Σ_i w_i · fastrp_powers(...)[i]`` for the same other
    parameters, so weights can be tried without recomputing the powers (see
    :func:`graphrec.embed.tune.tune_fastrp`). Holds ``powers`` matrices of ``n × dim`` at once.
    """
    dim, powers = check_int("dim", dim, 1), check_int("powers", powers, 1)
    normalize = check_bool("normalize", normalize)
    prep = _Prepared.build(graph, etype, dim, beta, s, symmetric, weighted, seed, dim)
    with torch.no_grad():
        return [_row_normalized(x) if normalize else x for x in prep.powers(prep.blocks[0], powers, None)]


def _row_normalized(x: torch.Tensor, sq: torch.Tensor | None = None) -> torch.Tensor:
    """Rows of ``x`` divided by their L2 norm (``sq``: squared norms, default from ``x``); zero rows stay zero."""
    norm = ((x * x).sum(1) if sq is None else sq).sqrt()
    return x / torch.where(norm > 0, norm, torch.ones_like(norm)).unsqueeze(1)


@dataclass
class _Prepared:
    """The operator and the column-sorted ``L · R`` of one FastRP run."""

    S: torch.Tensor  # sparse CSR (n, n)
    r_row: torch.Tensor  # (nnz,) entries of L R sorted by column
    r_col: torch.Tensor
    r_val: torch.Tensor
    blocks: list[tuple[int, int, int, int]]  # (col0, col1, entry0, entry1)
    n: int
    device: torch.device

    @classmethod
    def build(cls, graph: Graph, etype: Any, dim: int, beta: float, s: float | None, symmetric: bool,
              weighted: bool, seed: int, block: int) -> _Prepared:
        beta = check_number("beta", beta)
        seed = check_seed(seed)
        S, degree, _ = transition_operator(graph, etype, symmetric=symmetric, weighted=weighted)
        n, dev = S.shape[0], graph.device
        L = torch.where(degree > 0, degree.clamp_min(1e-30).pow(beta), torch.zeros_like(degree))
        R = sparse_projection(n, dim, s, seed=seed, device=dev)
        r_idx, r_val = R.indices(), R.values() * L[R.indices()[0]]  # L · R, still sparse
        order = torch.argsort(r_idx[1], stable=True)  # by column, so a column block is one slice
        r_row, r_col, r_val = r_idx[0][order], r_idx[1][order], r_val[order]
        edges = torch.arange(0, dim + block, block, device=dev).clamp_max(dim)
        bounds = torch.searchsorted(r_col, edges).tolist()
        blocks = [(c0, min(c0 + block, dim), bounds[b], bounds[b + 1]) for b, c0 in enumerate(range(0, dim, block))]
        return cls(S, r_row, r_col, r_val, blocks, n, dev)

    def powers(self, blk: tuple[int, int, int, int], k: int, bar: Any) -> Iterator[torch.Tensor]:
        """``N_1[:, c0:c1] .. N_k[:, c0:c1]`` (unnormalised), one sparse matmul each."""
        c0, c1, e0, e1 = blk
        x = torch.zeros(self.n, c1 - c0, device=self.device)
        x[self.r_row[e0:e1], self.r_col[e0:e1] - c0] = self.r_val[e0:e1]
        for _ in range(k):
            x = torch.sparse.mm(self.S, x)
            if bar is not None:
                bar.update(1)
            yield x


def projection_graph(graph: Graph, etype: Any = None, *, side: str = "src", relation: str | None = None) -> Graph:
    """A one-type projection of a bipartite relation, as a graph FastRP embeds.

    ``side='src'`` links two users by the number of items they share (``R Rᵀ``, diagonal
    dropped); ``side='dst'`` links items by their common users. Computed as one sparse
    product on ``graph.device`` (its size is the number of two-hop pairs).

    Returns
    -------
    Graph with the projected node type (same id map) and the weighted relation
    ``(t, relation or 'co_<rel>', t)``.
    """
    from ..checks import check_choice

    side = check_choice("side", side, ("src", "dst"))
    et = graph.resolve_etype(etype)
    es = graph.edges(et)
    ones = torch.ones(es.num_edges, device=graph.device)
    r, rt = es.matrix(ones), es.transpose_matrix(ones)
    prod = torch.sparse.mm(r, rt) if side == "src" else torch.sparse.mm(rt, r)
    prod = prod.to_sparse_coo().coalesce()
    i, v = prod.indices(), prod.values()
    keep = (i[0] != i[1]) & (v > 0)
    t = et[0] if side == "src" else et[2]
    out = Graph(graph.device)
    out.add_node_type(t, graph.id_map(t))
    rel = (t, relation or f"co_{et[1]}", t)
    out.add_edges(rel, i[0][keep], i[1][keep], v[keep])
    return out
