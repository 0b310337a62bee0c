"""Leiden modularity clustering of one relation of the store, and the resolution for a budget.

Leiden (Traag, Waltman & van Eck, "From Louvain to Leiden: guaranteeing well-connected
communities", Sci. Rep. 2019) improves Louvain's local moves with a refinement step, so that
every community is connected. GraphHash (Wu et al., "Graph-based hashing for recommendation
embeddings", WWW 2025) clusters the user–item graph by modularity and gives each cluster one
embedding row; the resolution sets the number of clusters, i.e. the table's size.

Two objectives, as in :mod:`graphrec.cluster.modularity`:

``'bipartite'``
    Barber's bipartite modularity (two-type relations). With ``backend='igraph'`` the
    relation is handed to igraph's C Leiden as a directed graph (user -> item) whose users
    carry out-weight ``k_u`` and items in-weight ``d_i`` under the CPM objective at resolution
    ``γ / m``: its null-model term ``γ/m · Σ_c (Σ_u k_u)(Σ_i d_i)`` is Barber's exactly, and
    user–user or item–item pairs cost nothing. With ``backend='leidenalg'`` the same objective
    is leidenalg's ``CPMVertexPartition.Bipartite`` with degrees as node sizes (three layers
    optimised together; slower, kept as the reference).
``'standard'``
    Newman's modularity at resolution ``γ`` on the undirected simple graph (any relation;
    the only kind for one-type relations such as trust).

Nodes without an edge in the relation carry no information: each node type's isolated nodes
form one cluster of their own.

A relation's distinct pairs and its igraph graphs are built once per store and version and
kept (weakly, with the store) for later clusterings of it: a resolution search and repeated
runs skip the build (0.2–0.3 s on Gowalla). :func:`clear_cache` drops them.

``igraph`` and ``leidenalg`` are imported when a clustering runs, so ``import graphrec`` works
without them.
"""

from __future__ import annotations

import math
import random
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch

from ..checks import check_choice, check_int, check_number, check_seed
from ..graph.edges import EdgeType
from ..graph.store import INTERACTS, Graph
from .modularity import KINDS, modularity_of_pairs, simple_edges
from .resize import compact

__all__ = ["BACKENDS", "Clustering", "bisect_resolution", "clear_cache", "leiden", "resolution_for_budget"]

#: Leiden implementations: igraph's C one (default) and leidenalg's
BACKENDS = ("igraph", "leidenalg")
T = TypeVar("T")


@dataclass
class Clustering:
    """A clustering of one relation.

    Attributes
    ----------
    membership : dict node type -> LongTensor ``(n_type,)`` on the store's device
        Cluster id of every node, ``0 .. num_clusters-1``, shared across the node types.
    etype : the clustered relation
    kind : {'bipartite', 'standard'}: the modularity optimised and reported
    resolution : float
    modularity : float
        ``Q`` of ``kind`` at resolution 1 (comparable across resolutions and methods).
    seconds : float
        Wall time of the clustering (for a resolution search: of the whole search).
    steps : int
        Leiden runs it took (1, or the search's runs).
    """

    membership: dict[str, torch.Tensor]
    etype: EdgeType
    kind: str
    resolution: float
    modularity: float
    seconds: float
    steps: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_clusters(self) -> int:
        """Distinct clusters over all node types."""
        return int(max(int(m.max()) for m in self.membership.values() if m.numel())) + 1

    @property
    def num_rows(self) -> int:
        """Σ over node types of the distinct clusters among that type's nodes: the rows a
        per-type cluster table stores (for a one-type relation, the number of clusters)."""
        k = self.num_clusters
        return sum(int((torch.bincount(m, minlength=k) > 0).sum()) for m in self.membership.values())

    def sizes(self) -> torch.Tensor:
        """Nodes per cluster (all types together), LongTensor ``(num_clusters,)``."""
        return torch.bincount(torch.cat([m for m in self.membership.values()]))


def _check_iterations(n_iterations: Any) -> int:
    n = check_int("n_iterations", n_iterations, -1)
    if n == 0:
        raise ValueError("n_iterations must be >= 1 or -1, got 0")
    return n


def _need(package: str) -> Any:
    try:
        return __import__(package)
    except ImportError:
        raise ImportError(f"graphrec.cluster needs the {package!r} package: pip install {package}") from None


def _igraph_of(s: np.ndarray, d: np.ndarray, n: int, directed: bool) -> Any:
    """An igraph graph of ``n`` vertices and edges ``(s, d)`` (``add_edges`` from an array: the fast path)."""
    ig = _need("igraph")
    g = ig.Graph(n=n, directed=directed)
    g.add_edges(np.stack([s, d], axis=1))
    return g


def _leiden_labels(prep: _Prepared, gamma: float, seed: int, backend: str, n_iterations: int) -> np.ndarray:
    """Leiden labels of the relation's vertices (sources, then destinations of a two-type relation)."""
    ig = _need("igraph")
    m, n_src, n_dst = prep.s_np.size, prep.n_src, prep.n_dst
    if backend == "igraph":
        if prep.kind == "bipartite":
            out_w, in_w = prep.node_weights()
            args: dict[str, Any] = {"objective_function": "CPM", "resolution": gamma / m, "node_weights": out_w, "node_in_weights": in_w}
        else:
            args = {"objective_function": "modularity", "resolution": gamma}
        g = prep.igraph(directed=prep.kind == "bipartite")
        ig.set_random_number_generator(random.Random(seed))
        try:
            part = g.community_leiden(n_iterations=n_iterations, **args)
        finally:
            ig.set_random_number_generator(random)
        return np.asarray(part.membership, dtype=np.int64)
    la = _need("leidenalg")
    g = prep.igraph(directed=False)
    opt = la.Optimiser()
    opt.set_rng_seed(seed % 2**31)
    if prep.kind == "bipartite":
        layers = la.CPMVertexPartition.Bipartite(g, resolution_parameter_01=gamma / m, degree_as_node_size=True,
                                                 types=[0] * n_src + [1] * n_dst)
        opt.optimise_partition_multiplex(list(layers), layer_weights=[1, -1, -1], n_iterations=n_iterations)
        return np.asarray(layers[0].membership, dtype=np.int64)
    part = la.RBConfigurationVertexPartition(g, resolution_parameter=gamma)
    opt.optimise_partition(part, n_iterations=n_iterations)
    return np.asarray(part.membership, dtype=np.int64)


def leiden(
    graph: Graph,
    etype: EdgeType | str = INTERACTS,
    *,
    resolution: float = 1.0,
    modularity_kind: str = "bipartite",
    seed: int = 0,
    backend: str = "igraph",
    n_iterations: int = 2,
) -> Clustering:
    """Leiden clustering of relation ``etype`` at one resolution.

    Parameters
    ----------
    graph : Graph
    etype : edge type or relation name
        A two-type relation (users x items) or a one-type one (trust: read as undirected).
    resolution : float
        ``γ > 0``; higher gives more, smaller clusters.
    modularity_kind : {'bipartite', 'standard'}
        Barber's bipartite modularity (two-type relations only) or Newman's.
    seed : int
        Seeds Leiden's random node order and refinement: same seed, same clusters.
    backend : {'igraph', 'leidenalg'}
    n_iterations : int
        Leiden iterations (``-1``: until an iteration improves nothing).

    Returns
    -------
    Clustering
        Membership per node type on ``graph.device`` and its modularity (``kind``, ``γ = 1``).

    Raises
    ------
    ValueError
        A bad parameter, ``'bipartite'`` on a one-type relation, or a relation without edges.
    ImportError
        ``igraph`` (or ``leidenalg`` for that backend) is not installed.

    Examples
    --------
    >>> import graphrec as gr
    >>> from graphrec.cluster import leiden
    >>> data = gr.datasets.load("synthetic")                     # doctest: +SKIP
    >>> c = leiden(data.train, resolution=2.0, seed=0)             # doctest: +SKIP
    >>> c.num_clusters, round(c.modularity, 3)                   # doctest: +SKIP

    References
    ----------
    Traag, Waltman & van Eck, Sci. Rep. 9, 5233 (2019). Barber, Phys. Rev. E 76, 066102 (2007).
    Wu et al., "Graph-based hashing for recommendation embeddings" (GraphHash), WWW 2025.
    """
    gamma = check_number("resolution", resolution, 0, low_open=True)
    kind = check_choice("modularity_kind", modularity_kind, KINDS)
    seed = check_seed(seed)
    backend = check_choice("backend", backend, BACKENDS)
    n_iterations = _check_iterations(n_iterations)
    return _prepared(graph, etype, kind).run(gamma, seed, backend, n_iterations)


#: each store's prepared relations (distinct pairs, igraph graphs), per (version, relation, kind)
_PREPARED: weakref.WeakKeyDictionary[Graph, dict[tuple[Any, ...], _Prepared]] = weakref.WeakKeyDictionary()


def _prepared(graph: Graph, etype: EdgeType | str, kind: str) -> _Prepared:
    """The cached :class:`_Prepared` of ``etype`` in ``graph`` at its current version (built on a miss)."""
    et = graph.resolve_etype(etype)
    key = (graph.version, et, kind)
    cache = _PREPARED.setdefault(graph, {})
    if key not in cache:
        for old in [k for k in cache if k[0] != graph.version]:  # the store grew: older versions are stale
            del cache[old]
        cache[key] = _Prepared(graph, et, kind)
    return cache[key]


def clear_cache(graph: Graph | None = None) -> None:
    """Forget the prepared relations (distinct pairs and igraph graphs) of ``graph``, or of every store.

    :func:`leiden` and :func:`resolution_for_budget` keep them per store and version, so that
    repeated clusterings of one store skip building the igraph graph; this frees them, or
    makes the next clustering pay the build again (to time it).
    """
    if graph is None:
        _PREPARED.clear()
    else:
        _PREPARED.pop(graph, None)


class _Prepared:
    """A relation's distinct pairs and igraph graphs, computed once for the many runs on one store."""

    def __init__(self, graph: Graph, etype: EdgeType | str, kind: str) -> None:
        t0 = time.perf_counter()
        s, d, et = simple_edges(graph, etype)
        st, _, dt = et
        self.one_type = st == dt
        if self.one_type and kind == "bipartite":
            raise ValueError(f"modularity_kind='bipartite' needs a two-type relation, got {et}; use 'standard'")
        if s.numel() == 0:
            raise ValueError(f"relation {et} has no edges to cluster")
        self.graph, self.et, self.kind, self.s, self.d = graph, et, kind, s, d
        self.n_src, self.n_dst = graph.num_nodes(st), graph.num_nodes(dt)
        self.s_np, self.d_np = s.cpu().numpy(), d.cpu().numpy()
        ends = np.concatenate([self.s_np, self.d_np if self.one_type else self.d_np + self.n_src])
        n = self.n_src if self.one_type else self.n_src + self.n_dst
        self.isolated = torch.from_numpy(np.bincount(ends, minlength=n) == 0)
        self.ends, self.n = ends, n
        self._graphs: dict[bool, Any] = {}
        self._weights: tuple[list[float], list[float]] | None = None
        #: seconds of preparation not yet charged to a clustering (the first run pays them)
        self.seconds = time.perf_counter() - t0

    def igraph(self, directed: bool) -> Any:
        """The relation as an igraph graph (built once per direction: the costly step on large graphs)."""
        if directed not in self._graphs:
            self._graphs[directed] = _igraph_of(self.s_np, self.ends[self.s_np.size :], self.n, directed)
        return self._graphs[directed]

    def node_weights(self) -> tuple[list[float], list[float]]:
        """Out-weights (user degrees, zero for items) and in-weights (item degrees, zero for users)."""
        if self._weights is None:
            deg_s = np.bincount(self.s_np, minlength=self.n_src).astype(float)
            deg_d = np.bincount(self.d_np, minlength=self.n_dst).astype(float)
            self._weights = (np.concatenate([deg_s, np.zeros(self.n_dst)]).tolist(),
                             np.concatenate([np.zeros(self.n_src), deg_d]).tolist())
        return self._weights

    def run(self, gamma: float, seed: int, backend: str, n_iterations: int) -> Clustering:
        t0 = time.perf_counter()
        st, _, dt = self.et
        labels = torch.from_numpy(_leiden_labels(self, gamma, seed, backend, n_iterations))
        # each type's nodes without an edge: one cluster of their own (per type)
        iso = self.isolated
        if bool(iso.any()):
            base = int(labels.max()) + 1
            labels[iso] = base if self.one_type else torch.where(torch.arange(labels.numel()) < self.n_src, base, base + 1)[iso]
        labels = compact(labels).to(self.graph.device)
        membership = {st: labels} if self.one_type else {st: labels[: self.n_src], dt: labels[self.n_src :]}
        q = modularity_of_pairs(self.s, self.d, membership[st], membership[dt], kind=self.kind)
        seconds, self.seconds = time.perf_counter() - t0 + self.seconds, 0.0
        return Clustering(membership, self.et, self.kind, gamma, q, seconds)


def bisect_resolution(
    run: Callable[[float], tuple[int, T]],
    target: int,
    *,
    start: float = 1.0,
    max_steps: int = 30,
    tol: float = 0.0,
    accept: str = "both",
    low: float = 1e-6,
    high: float = 1e9,
) -> tuple[float, int, T, int]:
    """Search a resolution until ``run(γ)`` gives ``target`` clusters (secant steps in log–log space).

    ``run(γ) -> (count, result)``; the count is assumed to grow with ``γ`` (roughly: Leiden is
    a heuristic), about as a power of it. From ``start``, each step moves to where the line
    through the last two runs in ``(log γ, log count)`` reaches ``target`` (slope 1 from a
    single run; clamped to [1/4, 4], and to at most 64x per step until the target is
    bracketed). Once runs below and above ``target`` bracket it, the step is that line's root
    between them (regula falsi), kept at least a tenth of the bracket's log-width from either
    end so that the bracket always shrinks. Stops at a count within ``tol * target`` of it
    (``accept='below'``: only counts in ``[target - tol·target, target]``, for callers that
    then split clusters up to the target rather than merge them), after ``max_steps`` runs,
    or when the bracket cannot move further.

    Returns
    -------
    (resolution, count, result, steps) of the run closest to ``target`` (the lower resolution
    on a tie); with ``accept='below'`` a run inside the accepted window is returned first.
    """
    target = check_int("target", target, 1)
    max_steps = check_int("max_steps", max_steps, 1)
    tol = check_number("tol", tol, 0)
    accept = check_choice("accept", accept, ("both", "below"))
    best: tuple[tuple[int, int, float], float, int, Any] | None = None
    lo: tuple[float, int] | None = None  # (resolution, count) nearest below target
    hi: tuple[float, int] | None = None  # nearest at or above target
    last: list[tuple[float, int]] = []
    gamma, steps = float(start), 0

    def accepted(count: int) -> bool:
        if accept == "below" and count > target:
            return False
        return abs(count - target) <= tol * target

    while steps < max_steps:
        count, result = run(gamma)
        steps += 1
        gap = abs(count - target)
        rank = (0 if accepted(count) else 1, gap, gamma)
        if best is None or rank < best[0]:
            best = (rank, gamma, count, result)
        if accepted(count):
            break
        if count < target:
            lo = (gamma, count) if lo is None or gamma > lo[0] else lo
        else:
            hi = (gamma, count) if hi is None or gamma < hi[0] else hi
        last = (last + [(gamma, count)])[-2:]
        lt = math.log(target)
        if lo is not None and hi is not None:
            a, b = math.log(lo[0]), math.log(hi[0])
            if b - a < 1e-9:
                break
            ca, cb = math.log(max(lo[1], 1)), math.log(max(hi[1], 1))
            x = a + (lt - ca) / (cb - ca) * (b - a) if cb > ca else (a + b) / 2
            x = min(max(x, a + 0.1 * (b - a)), b - 0.1 * (b - a))
        else:
            slope = 1.0
            if len(last) == 2 and last[0][0] != last[1][0] and last[0][1] != last[1][1]:
                (g0, c0), (g1, c1) = last
                slope = (math.log(max(c1, 1)) - math.log(max(c0, 1))) / (math.log(g1) - math.log(g0))
                slope = min(max(slope, 0.25), 4.0)
            x = math.log(gamma) + (lt - math.log(max(count, 1))) / slope
            x = min(max(x, math.log(gamma) - math.log(64)), math.log(gamma) + math.log(64))
        nxt = math.exp(x)
        if not low <= nxt <= high:
            break
        gamma = nxt
    assert best is not None
    return best[1], best[2], best[3], steps


def resolution_for_budget(
    graph: Graph,
    target: int,
    etype: EdgeType | str = INTERACTS,
    *,
    count: str = "clusters",
    modularity_kind: str = "bipartite",
    seed: int = 0,
    backend: str = "igraph",
    n_iterations: int = 2,
    start: float = 1.0,
    max_steps: int = 30,
    tol: float = 0.0,
    accept: str = "both",
) -> Clustering:
    """The Leiden clustering whose size is closest to ``target``, found by searching the resolution.

    Parameters
    ----------
    graph, etype, modularity_kind, seed, backend, n_iterations
        As in :func:`leiden` (every run uses the same ``seed``).
    target : int
        Wanted number of clusters (``count='clusters'``) or of per-type rows (``count='rows'``:
        Σ over the node types of the distinct clusters among their nodes, what a GraphHash
        table stores), between 1 and the relation's node count.
    start, max_steps, tol, accept
        See :func:`bisect_resolution`.

    Returns
    -------
    Clustering
        The run closest to ``target``; ``seconds`` and ``steps`` cover the whole search,
        ``extra['target']`` holds ``target``. :func:`graphrec.cluster.resize_clusters` then
        reaches the exact count if needed.

    Raises
    ------
    ValueError
        ``target`` outside ``[1, nodes]``, an unknown ``count``, or as :func:`leiden`.
    """
    count = check_choice("count", count, ("clusters", "rows"))
    st, _, dt = graph.resolve_etype(etype)
    nodes = graph.num_nodes(st) + (0 if st == dt else graph.num_nodes(dt))
    target = check_int("target", target, 1, nodes)
    t0 = time.perf_counter()

    kind = check_choice("modularity_kind", modularity_kind, KINDS)
    seed, backend = check_seed(seed), check_choice("backend", backend, BACKENDS)
    n_iterations = _check_iterations(n_iterations)
    prepared = _prepared(graph, etype, kind)

    def run(gamma: float) -> tuple[int, Clustering]:
        c = prepared.run(gamma, seed, backend, n_iterations)
        return (c.num_clusters if count == "clusters" else c.num_rows), c

    _, _, best, steps = bisect_resolution(run, target, start=start, max_steps=max_steps, tol=tol, accept=accept)
    best.seconds, best.steps = time.perf_counter() - t0, steps
    best.extra["target"] = target
    return best
