"""The vectorised random-walk engine: every walker steps at once over the store's CSR.

One walker serves the whole project (PowerWalk fingerprints, SALSA / MeritRank walks, IRWE
walk statistics). A :class:`WalkEngine` is a view of a :class:`~graphrec.graph.Graph` as a
typed Markov chain:

- **Node space.** The node types taking part are laid end to end in one *global* index space
  (``offsets[t] .. offsets[t+1]``); e.g. users ``[0, n_users)`` then items
  ``[n_users, n_users + n_items)``.
- **Moves.** A :class:`Move` follows one edge type forwards (CSR, ``src -> dst``) or backwards
  (the store's cached CSC, ``dst -> src``). The bipartite walk ``user -> item -> user`` is the
  two moves of the interaction edge set; it *is* the simple random walk on the undirected
  user–item graph. Extra edge types (e.g. ``user -trusts-> user``) are further moves.
- **Mixing.** A walker at node ``v`` of type ``t`` picks one of the moves leaving ``t``:
  ``mix='degree'`` (default) with probability ``prob_j * outdeg_j(v)`` (normalised; with all
  ``prob_j = 1`` that is the simple random walk on the union of all moves' edges), or
  ``mix='fixed'`` with probability ``prob_j`` among the moves where ``v`` has out-edges (a
  trust edge taken with a fixed probability ``p``), then a neighbour uniformly or, with
  ``weighted=True``, proportionally to edge weight. The resulting chain ``P`` is cached once
  as one CSR over the global node space (:meth:`WalkEngine.transition_matrix`); a step is
  ``indptr[v] + floor(rand * deg(v))`` when every row is uniform; otherwise that uniform
  proposal is accepted with probability ``p_e / max_row p`` and the rejected walkers draw by
  one ``searchsorted`` into per-row cumulative keys (exact either way; nearly uniform rows,
  such as reputation weights, rarely search).
- **Dangling nodes** (no out-edge under any move): ``dangling='restart'`` (default) sends the
  walker back to its start node (the usual PPR convention: a dangling node teleports to the
  personalisation vector), ``dangling='stop'`` ends the walk there.
- **Restart.** Before each step a walker restarts with probability ``restart``:
  ``restart_mode='stop'`` ends the walk (walk lengths are geometric with mean
  ``(1 - restart) / restart`` steps: PowerWalk fingerprints), ``restart_mode='jump'`` sends it
  back to its start node and the walk goes on (SALSA / GraphJet-style walks with resets,
  bounded by ``length``).
- **Hooks.** Callables run after every step with the :class:`WalkState`; they may end walkers
  (``state.alive``) or scale their weights (``state.weight``), e.g. MeritRank's transitivity
  decay, and may return a bool mask (walkers to keep) or float factors (weights to multiply).
- **Records.** Visit counts (optionally weighted) per ``(walk row, node)`` aggregated with one
  sort + segment sum into a sparse CSR result, and/or the full path matrix for fixed-length
  walks.

Randomness comes from one seeded ``torch.Generator`` on ``graph.device``: the same seed gives
the same walks on the same device (CPU and CUDA draw different streams).

References
----------
Fogaras, Rácz, Csalogány, Sarlós. Towards scaling fully personalized PageRank: algorithms,
lower bounds, and experiments. Internet Mathematics 2(3), 2005 (Monte Carlo fingerprints).
Liu, Li, Lui, Cheng. PowerWalk: Scalable personalized PageRank via random walks with
vertex-centric decomposition. CIKM 2016.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from ..checks import check_bool, check_choice, check_int, check_number, check_seed
from ..graph.edges import EdgeType, _sparse_csr
from ..graph.store import INTERACTS, TRUSTS, Graph, _tensor, index_tensor

__all__ = ["Move", "WalkEngine", "WalkResult", "WalkState", "bipartite_engine", "coalesce_visits"]

Hook = Callable[["WalkState"], Any]


@dataclass(frozen=True)
class Move:
    """One typed transition: follow ``etype`` forwards (``src -> dst``) or backwards.

    Parameters
    ----------
    etype : (src_type, relation, dst_type)
    reverse : bool
        Walk the edges against their direction (through the store's cached CSC).
    prob : float
        Mixing weight among the moves leaving the same node type (see :class:`WalkEngine`).
    """

    etype: EdgeType
    reverse: bool = False
    prob: float = 1.0

    @property
    def src_type(self) -> str:
        return self.etype[2] if self.reverse else self.etype[0]

    @property
    def dst_type(self) -> str:
        return self.etype[0] if self.reverse else self.etype[2]


@dataclass
class _MoveData:
    move: Move
    src: int  # node-type position of the source type
    dst: int
    indptr: torch.Tensor  # (n_src + 1,) int64
    indices: torch.Tensor  # (nnz,) local dst ids, int64
    weight: torch.Tensor | None  # (nnz,) float32 in this move's order
    out: torch.Tensor  # (n_src,) float64 out-degree (or out-weight, summed in float64) under this move
    to_csr: torch.Tensor | None  # (nnz,) store CSR position of each edge (reverse moves)


@dataclass
class WalkState:
    """What a hook sees after each step (full-size tensors over all ``W`` walkers).

    Attributes
    ----------
    step : int
        Steps taken so far (1 after the first move).
    pos : LongTensor ``(W,)`` current global node of each walker.
    prev : LongTensor ``(W,)`` node before the last step (equal to ``pos`` for ended walkers).
    start : LongTensor ``(W,)`` start node.
    row : LongTensor ``(W,)`` visit-record row of each walker (its source).
    alive : BoolTensor ``(W,)`` walkers still walking; set entries to ``False`` to end them.
    weight : FloatTensor ``(W,)`` multiplicative weight used when recording visits.
    restarted : BoolTensor ``(W,)`` walkers sent back to their start in this step.
    generator : torch.Generator for any randomness the hook needs.
    engine : the :class:`WalkEngine`.
    """

    step: int
    pos: torch.Tensor
    prev: torch.Tensor
    start: torch.Tensor
    row: torch.Tensor
    alive: torch.Tensor
    weight: torch.Tensor
    restarted: torch.Tensor
    generator: torch.Generator
    engine: WalkEngine


@dataclass
class WalkResult:
    """Output of :meth:`WalkEngine.walk`.

    Attributes
    ----------
    visits : sparse CSR FloatTensor ``(num_rows, num_nodes)`` or None
        Summed walker weights per ``(row, node)`` visit (counts when no hook changes weights).
    paths : LongTensor ``(W, length + 1)`` or None; ``-1`` after a walk ended.
    lengths : LongTensor ``(W,)`` steps each walker took.
    steps : int, steps of the longest walk (``lengths.max()``, 0 without walkers).
    """

    visits: torch.Tensor | None
    paths: torch.Tensor | None
    lengths: torch.Tensor
    steps: int
    meta: dict[str, Any] = field(default_factory=dict)


def coalesce_visits(
    rows: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor | None, num_rows: int, num_cols: int
) -> torch.Tensor:
    """Sum duplicate ``(row, col)`` pairs into a sparse CSR tensor ``(num_rows, num_cols)``.

    One sort of the int64 keys ``row * num_cols + col`` and one segment sum; no Python loop.
    ``vals=None`` counts occurrences. Values are float32.
    """
    key = rows.to(torch.int64) * max(num_cols, 1) + cols.to(torch.int64)
    dev = key.device
    if key.numel() == 0:
        indptr = torch.zeros(num_rows + 1, dtype=torch.int64, device=dev)
        return _sparse_csr(indptr, torch.zeros(0, dtype=torch.int64, device=dev), torch.zeros(0, device=dev), (num_rows, num_cols))
    if vals is None:
        uk, cnt = torch.unique(key, sorted=True, return_counts=True)
        v = cnt.to(torch.float32)
    else:
        uk, inv = torch.unique(key, sorted=True, return_inverse=True)
        v = torch.zeros(uk.numel(), dtype=torch.float64, device=dev).index_add_(0, inv, vals.to(torch.float64)).to(torch.float32)
    r = uk // max(num_cols, 1)
    c = uk - r * max(num_cols, 1)
    counts = torch.bincount(r, minlength=num_rows)
    indptr = torch.zeros(num_rows + 1, dtype=torch.int64, device=dev)
    torch.cumsum(counts, 0, out=indptr[1:])
    return _sparse_csr(indptr, c, v, (num_rows, num_cols))


class WalkEngine:
    """Random walks over typed moves of one graph, all walkers at once on ``graph.device``.

    Parameters
    ----------
    graph : Graph
    moves : sequence of Move
        The transitions; node types are laid out in order of first appearance.
    weighted : bool
        Sample neighbours proportionally to edge weights (edge sets without weights count 1).
    mix : {'degree', 'fixed'}
        How a walker picks among the moves leaving its node type (see module docstring).

    Raises
    ------
    ValueError
        No moves, a non-positive ``prob``, or an unknown ``mix``.
    TypeError
        A move that is not a :class:`Move`, or a ``reverse`` that is not a bool.
    KeyError
        A move names an edge type the graph lacks.

    Examples
    --------
    >>> from graphrec.graph import Graph, INTERACTS
    >>> g = Graph(); _ = g.add_node_type("user", 2); _ = g.add_node_type("item", 2)
    >>> _ = g.add_edges(INTERACTS, [0, 1], [0, 1])
    >>> eng = bipartite_engine(g)
    >>> eng.num_nodes, eng.offsets.tolist()
    (4, [0, 2, 4])
    """

    def __init__(self, graph: Graph, moves: Sequence[Move], *, weighted: bool = False, mix: str = "degree") -> None:
        moves = list(moves)
        if not moves:
            raise ValueError("moves must name at least one Move")
        self.mix = check_choice("mix", mix, ("degree", "fixed"))
        self.weighted = check_bool("weighted", weighted)
        self.graph = graph
        self.device = graph.device
        types: list[str] = []
        for k, m in enumerate(moves):
            if not isinstance(m, Move):
                raise TypeError(f"moves must be Move objects, got {type(m).__name__}")
            check_number(f"Move {m.etype} prob", m.prob, 0, low_open=True)
            reverse = check_bool(f"Move {m.etype} reverse", m.reverse)
            # a relation name or list resolves to the full (src, rel, dst) triple the types come from
            moves[k] = m = replace(m, etype=graph.resolve_etype(m.etype), reverse=reverse)
            for t in (m.src_type, m.dst_type):
                if t not in types:
                    types.append(t)
        self.node_types = types
        sizes = [graph.num_nodes(t) for t in types]
        self.offsets = torch.tensor([0] + sizes, dtype=torch.int64).cumsum(0).to(self.device)
        self._offsets_list = self.offsets.tolist()
        self.num_nodes = int(self._offsets_list[-1])
        self.moves = [self._prepare(m) for m in moves]
        # global out-weight (for dangling detection and mixing)
        self._total_choice = torch.zeros(self.num_nodes, dtype=torch.float64, device=self.device)
        for md in self.moves:
            lo = self._offsets_list[md.src]
            self._total_choice[lo : lo + md.out.numel()] += self._choice_weight(md, md.out)
        self.dangling = self._total_choice <= 0
        self._probs: list[torch.Tensor] | None = None
        self._P: torch.Tensor | None = None
        self._uniform = True
        self._cum: torch.Tensor | None = None
        self._accept: torch.Tensor | None = None

    # ------------------------------------------------------------- set-up
    def _prepare(self, m: Move) -> _MoveData:
        es = self.graph.edges(m.etype)
        if m.reverse:
            t = es.csc()
            indptr, indices = t.indptr.to(torch.int64), t.indices.to(torch.int64)
            to_csr = t.perm.to(torch.int64)
            w = None if es.weight is None else es.weight[to_csr]
        else:
            indptr, indices, to_csr = es.indptr.to(torch.int64), es.indices.to(torch.int64), None
            w = es.weight
        if not self.weighted:
            w = None
        if w is not None and bool((w < 0).any()):
            raise ValueError(f"edge type {m.etype}: weighted walks need non-negative weights")
        n_src = indptr.numel() - 1
        if w is None:
            out = (indptr[1:] - indptr[:-1]).to(torch.float64)
        else:  # float64: exact PPR in float64 needs rows that sum to 1 in float64
            row = torch.repeat_interleave(torch.arange(n_src, device=self.device), indptr[1:] - indptr[:-1])
            out = torch.zeros(n_src, dtype=torch.float64, device=self.device).index_add_(0, row, w.double())
        return _MoveData(m, self.node_types.index(m.src_type), self.node_types.index(m.dst_type), indptr, indices, w, out, to_csr)

    def _choice_weight(self, md: _MoveData, out: torch.Tensor) -> torch.Tensor:
        if self.mix == "degree":
            return md.move.prob * out
        return md.move.prob * (out > 0).to(torch.float32)

    # ------------------------------------------------------------- node ids
    def _type_pos(self, ntype: str) -> int:
        if ntype not in self.node_types:
            raise KeyError(f"node type {ntype!r} is not in this walk's node space {self.node_types}")
        return self.node_types.index(ntype)

    def global_ids(self, ntype: str, local: Any) -> torch.Tensor:
        """Global ids of local indices ``local`` of node type ``ntype``."""
        t = self._type_pos(ntype)
        n = self._offsets_list[t + 1] - self._offsets_list[t]
        return index_tensor(local, f"{ntype} ids", n, self.device) + self._offsets_list[t]

    def node_type_of(self, gid: torch.Tensor) -> torch.Tensor:
        """Position in :attr:`node_types` of each global id (int64)."""
        return torch.bucketize(gid, self.offsets[1:], right=True)

    def type_slice(self, ntype: str) -> slice:
        """The global-id range of ``ntype``."""
        t = self._type_pos(ntype)
        return slice(self._offsets_list[t], self._offsets_list[t + 1])

    # ------------------------------------------------------- transitions
    def edge_probs(self, dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
        """Transition probability of every edge of every move, in the move's CSR order.

        ``P[v, w]`` of the walk's Markov chain summed over the moves; rows of dangling nodes
        are zero (the walker restarts or stops there). One tensor of ``dtype`` per move.
        """
        out = []
        for md in self.moves:
            lo = self._offsets_list[md.src]
            tot = self._total_choice[lo : lo + md.out.numel()].to(dtype)
            o = md.out.to(dtype)
            choice = md.move.prob * (o if self.mix == "degree" else (o > 0).to(dtype))
            share = torch.where(tot > 0, choice / tot.clamp_min(1e-30), torch.zeros_like(tot))
            per_out = torch.where(o > 0, share / o.clamp_min(1e-30), torch.zeros_like(share))
            counts = md.indptr[1:] - md.indptr[:-1]
            row = torch.repeat_interleave(torch.arange(md.out.numel(), device=self.device), counts)
            w = md.weight.to(dtype) if md.weight is not None else torch.ones(md.indices.numel(), dtype=dtype, device=self.device)
            out.append(per_out[row] * w)
        return out

    def transition_transpose(self, dtype: torch.dtype = torch.float32) -> list[tuple[int, int, torch.Tensor]]:
        """``P^T`` as blocks: ``(dst_type_pos, src_type_pos, sparse CSR (n_dst, n_src))`` per move.

        The blocks reuse the store's CSR/CSC index arrays; only the value arrays are new.
        ``Y[dst] += block @ X[src]`` applies ``P^T`` to a stacked dense ``X``.
        """
        blocks = []
        for md, p in zip(self.moves, self.edge_probs(dtype)):
            es = self.graph.edges(md.move.etype)
            if md.move.reverse:
                # this move's CSR is the store's CSC; its transpose is the store's CSR
                vals = torch.empty_like(p)
                vals[md.to_csr] = p
                mat = _sparse_csr(es.indptr, es.indices, vals, (es.num_src, es.num_dst))
            else:
                t = es.csc()
                mat = _sparse_csr(t.indptr, t.indices, p[t.perm.to(torch.int64)], (es.num_dst, es.num_src))
            blocks.append((md.dst, md.src, mat))
        return blocks

    def transition_matrix(self) -> torch.Tensor:
        """The chain's transition matrix ``P`` as a sparse CSR float32 tensor ``(n, n)`` (cached).

        The union of all moves in global ids, columns sorted within rows, rows of dangling
        nodes empty. The walker samples from these rows (uniformly when every row is uniform,
        else by cumulative probabilities), so walks and exact PPR share one chain. Built once
        with one sort of the edges; a derived cache (like the store's CSC), not a second store.
        """
        if self._P is None:
            offs = self._offsets_list
            rows, cols = [], []
            for md in self.moves:
                counts = md.indptr[1:] - md.indptr[:-1]
                rows.append(torch.repeat_interleave(torch.arange(counts.numel(), device=self.device), counts) + offs[md.src])
                cols.append(md.indices + offs[md.dst])
            r, c, v = torch.cat(rows), torch.cat(cols), torch.cat(self._edge_probs_cached())
            n = self.num_nodes
            key = r * n + c
            order = torch.argsort(key)
            key, v = key[order], v[order]
            uk, inv = torch.unique_consecutive(key, return_inverse=True)
            if uk.numel() != key.numel():  # the same pair reached by two moves
                v = torch.zeros(uk.numel(), device=v.device).index_add_(0, inv, v)
            r = uk // max(n, 1)
            c = uk - r * max(n, 1)
            keep = v > 0  # zero-weight edges carry no probability: drop them so dangling rows stay empty
            if not bool(keep.all()):
                r, c, v = r[keep], c[keep], v[keep]
            indptr = torch.zeros(n + 1, dtype=torch.int64, device=self.device)
            torch.cumsum(torch.bincount(r, minlength=n), 0, out=indptr[1:])
            self._P = _sparse_csr(indptr, c, v, (n, n))
            deg = (indptr[1:] - indptr[:-1]).to(torch.float32)
            expect = torch.where(deg > 0, 1.0 / deg.clamp_min(1.0), torch.zeros_like(deg))
            row = torch.repeat_interleave(torch.arange(n, device=self.device), indptr[1:] - indptr[:-1])
            self._uniform = bool(torch.allclose(v, expect[row], rtol=1e-5, atol=0.0)) if v.numel() else True
            self._cum = self._accept = None
            if not self._uniform:
                self._cum = _row_keys(indptr, row, v)
                row_max = torch.zeros(n, device=self.device).scatter_reduce_(0, row, v, "amax")
                self._accept = v / row_max[row]
        return self._P

    def expand(self, rows: torch.Tensor, nodes: torch.Tensor, vals: torch.Tensor, restart_to: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step of sparse distributions: entries ``(rows, nodes, vals)`` times ``P``.

        Mass on dangling nodes goes to ``restart_to[row]`` when given, else it is dropped.
        Returns new, not coalesced ``(rows, nodes, vals)`` (int64, int64, float32).
        """
        from ..graph.ops import gather_rows

        P = self.transition_matrix()
        b, dst, epos = gather_rows(P.crow_indices(), P.col_indices(), nodes)
        r, nd, v = rows[b], dst, vals[b] * P.values()[epos]
        if restart_to is not None:
            dmask = self.dangling[nodes]
            if bool(dmask.any()):
                r = torch.cat([r, rows[dmask]])
                nd = torch.cat([nd, restart_to[rows[dmask]]])
                v = torch.cat([v, vals[dmask]])
        return r, nd, v

    def _edge_probs_cached(self) -> list[torch.Tensor]:
        if self._probs is None:
            self._probs = self.edge_probs()
        return self._probs

    # ------------------------------------------------------------ stepping
    def step(self, pos: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """One move for each walker at global nodes ``pos``.

        Returns ``(next_pos, dangling)``: dangling walkers keep their position.
        """
        P = self.transition_matrix()
        indptr, indices = P.crow_indices(), P.col_indices()
        start = indptr[pos]
        deg = indptr[pos + 1] - start
        dang = deg == 0
        u = torch.rand(pos.numel(), generator=generator, device=self.device)
        e = start + torch.minimum((u * deg).to(torch.int64), (deg - 1).clamp_min(0))  # a uniform edge
        if not self._uniform:
            # the uniform edge is accepted with probability p_e / max p of its row; the rejected
            # walkers draw again by inverse CDF (the edge whose key interval holds pos + u, see
            # _row_keys). Either way an edge comes with probability p_e, and nearly uniform rows
            # (reputation weights, mostly 1) skip the search
            ok = torch.rand(pos.numel(), generator=generator, device=self.device) < self._accept[e.clamp_max(self._accept.numel() - 1)]
            redo = (~(ok | dang)).nonzero().squeeze(1)
            if redo.numel():
                u2 = torch.rand(redo.numel(), generator=generator, device=self.device)
                e2 = torch.searchsorted(self._cum, pos[redo].to(torch.float64) + u2, right=True)
                e[redo] = torch.clamp(e2, min=start[redo], max=start[redo] + deg[redo] - 1)
        nxt = torch.where(dang, pos, indices[e.clamp_max(max(indices.numel() - 1, 0))] if indices.numel() else pos)
        return nxt, dang

    # --------------------------------------------------------------- walks
    def walk(
        self,
        starts: torch.Tensor,
        *,
        length: int | None = None,
        restart: float = 0.0,
        restart_mode: str = "stop",
        dangling: str = "restart",
        hooks: Sequence[Hook] = (),
        record: str | Sequence[str] = "visits",
        record_start: bool = True,
        record_types: Sequence[str] | None = None,
        rows: torch.Tensor | None = None,
        num_rows: int | None = None,
        seed: int | None = 0,
        generator: torch.Generator | None = None,
        max_steps: int = 100_000,
    ) -> WalkResult:
        """Walk from every start node at once.

        Parameters
        ----------
        starts : LongTensor ``(W,)`` (or any integer array-like)
            Global start node of each walker (see :meth:`global_ids`).
        length : int, optional
            Maximum number of steps; required unless walks end by ``restart_mode='stop'``.
        restart : float in [0, 1)
            Per-step restart probability.
        restart_mode : {'stop', 'jump'}
            A restart ends the walk (geometric lengths) or returns the walker to its start.
        dangling : {'restart', 'stop'}
            At a node with no out-edge, return to the start node or end the walk.
        hooks : callables ``hook(state: WalkState)`` (or one callable)
            Run after every step; may end walkers or rescale weights in place, or return a
            bool mask (keep) or float factors (multiply weights) over all ``W`` walkers.
        record : 'visits', 'paths', 'none' or a list of them
        record_start : bool
            Count the start node as a visit (step 0).
        record_types : node types (or one type) whose visits are recorded (default: all).
        rows, num_rows : visit-record row of each walker (default ``arange(W)``) and row count.
        seed, generator : a ``torch.Generator`` on the graph's device, or a seed for a new one
            (``None``: seed 0, so walks repeat unless a generator carries the randomness on).
        max_steps : safety cap on steps when ``length`` is None; walks it cuts raise a ``RuntimeWarning``.

        Returns
        -------
        WalkResult

        Raises
        ------
        ValueError
            Bad ``restart`` / mode names, a walk that could never end, ``paths`` without
            ``length``, ``rows`` of the wrong size, ``num_rows`` below the walker count.
        TypeError
            Non-integer ``starts`` / ``rows``, a hook that is not callable, a bad ``generator``.
        IndexError
            A start node outside the node space, a row outside ``[0, num_rows)``.
        KeyError
            A ``record_types`` entry outside the walk's node types.
        """
        restart = check_number("restart", restart, 0, 1, high_open=True)
        check_choice("restart_mode", restart_mode, ("stop", "jump"))
        check_choice("dangling", dangling, ("restart", "stop"))
        recs = set(record) if isinstance(record, (list, tuple, set, frozenset)) else {record}
        if not recs <= {"visits", "paths", "none"}:
            raise ValueError(f"record must be 'visits', 'paths' or 'none', got {record!r}")
        if length is not None:
            length = check_int("length", length, 0)
        record_start = check_bool("record_start", record_start)
        max_steps = check_int("max_steps", max_steps, 1)
        if num_rows is not None:
            num_rows = check_int("num_rows", num_rows, 0)
        if seed is not None:
            seed = check_seed(seed)
        if length is None and not (restart > 0 and restart_mode == "stop"):
            raise ValueError("length is required unless walks end by restart (restart > 0, restart_mode='stop')")
        if "paths" in recs and length is None:
            raise ValueError("record='paths' needs a fixed length")
        hooks = [hooks] if callable(hooks) else list(hooks)
        for h in hooks:
            if not callable(h):
                raise TypeError(f"hooks must be callables, got {type(h).__name__}")
        dev = self.device
        starts = index_tensor(starts, "starts", self.num_nodes, dev).reshape(-1)
        W = starts.numel()
        if rows is None:
            if num_rows is not None and num_rows < W:
                raise ValueError(f"num_rows={num_rows} is below the {W} walkers (without rows, each walker is a row)")
            rows = torch.arange(W, device=dev)
            num_rows = W if num_rows is None else num_rows
        else:
            rows = _tensor(rows, torch.int64, "rows", dev)
            if rows.numel() != W:
                raise ValueError(f"rows has {rows.numel()} entries for {W} walkers")
            if num_rows is None:
                num_rows = int(rows.max()) + 1 if W else 0
            rows = index_tensor(rows, "rows", num_rows, dev)
        if generator is None:
            generator = torch.Generator(device=dev)
            generator.manual_seed(0 if seed is None else seed)
        elif not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        rec_mask = None
        if record_types is not None:
            rec_mask = torch.zeros(self.num_nodes, dtype=torch.bool, device=dev)
            for t in [record_types] if isinstance(record_types, str) else record_types:
                rec_mask[self.type_slice(t)] = True
        self.transition_matrix()

        hooked = bool(hooks)
        state = None
        if hooked:
            state = WalkState(
                0, starts.clone(), starts.clone(), starts, rows, torch.ones(W, dtype=torch.bool, device=dev),
                torch.ones(W, device=dev), torch.zeros(W, dtype=torch.bool, device=dev), generator, self,
            )
        lengths = torch.zeros(W, dtype=torch.int64, device=dev)
        paths = None
        if "paths" in recs:
            paths = torch.full((W, length + 1), -1, dtype=torch.int64, device=dev)
            paths[:, 0] = starts
        want_visits = "visits" in recs
        vr: list[torch.Tensor] = []
        vc: list[torch.Tensor] = []
        vw: list[torch.Tensor] = []

        # compact per-walker arrays of the active walkers
        act = torch.arange(W, device=dev)
        a_pos, a_start, a_row = starts.clone(), starts, rows

        def record_visits(a_idx: torch.Tensor, pos: torch.Tensor, row: torch.Tensor) -> None:
            if not want_visits or pos.numel() == 0:
                return
            if rec_mask is not None:
                keep = rec_mask[pos].nonzero().squeeze(1)  # one nonzero, then plain gathers
                a_idx, pos, row = a_idx[keep], pos[keep], row[keep]
            vr.append(row)
            vc.append(pos)
            if hooked:
                vw.append(state.weight[a_idx])

        if record_start:
            record_visits(act, a_pos, a_row)
        limit = max_steps if length is None else length
        step = 0
        while act.numel() and step < limit:
            step += 1
            rs = (torch.rand(act.numel(), generator=generator, device=dev) < restart) if restart > 0 else None
            nxt, dang = self.step(a_pos, generator)
            jumped = None
            if restart_mode == "stop":
                ended = rs if rs is not None else torch.zeros_like(dang)
            else:
                ended = torch.zeros_like(dang)
                if rs is not None:
                    nxt = torch.where(rs, a_start, nxt)
                    jumped = rs
            if bool(dang.any()):
                dj = dang if rs is None else dang & ~rs
                if dangling == "stop":
                    ended = ended | dj
                else:
                    nxt = torch.where(dj, a_start, nxt)
                    jumped = dj if jumped is None else jumped | dj
            go = (~ended).nonzero().squeeze(1)  # one nonzero, then plain gathers
            if hooked:
                state.step = step
                state.restarted[act] = False if jumped is None else jumped
                state.prev[act] = a_pos
                state.alive[act[ended]] = False
            act, a_pos, a_start, a_row = act[go], nxt[go], a_start[go], a_row[go]
            lengths[act] += 1
            if hooked:
                state.pos[act] = a_pos
                for h in hooks:
                    res = h(state)
                    if isinstance(res, torch.Tensor):
                        if res.dtype == torch.bool:
                            state.alive &= res
                        else:
                            state.weight *= res.to(state.weight.dtype)
                # hooks may have moved walkers (e.g. a custom reset): read positions back
                a_pos = state.pos[act]
            # a walker ended by a hook in this step still made (and records) its move
            record_visits(act, a_pos, a_row)
            if paths is not None:
                paths[act, step] = a_pos
            if hooked:
                keep = state.alive[act].nonzero().squeeze(1)
                act, a_pos, a_start, a_row = act[keep], a_pos[keep], a_start[keep], a_row[keep]
        if length is None and act.numel():
            warnings.warn(
                f"{act.numel()} of {W} walks reached max_steps={max_steps} and were cut there; with restart="
                f"{restart:g} a walk takes {1 / restart if restart > 0 else math.inf:.3g} steps on average: raise max_steps",
                RuntimeWarning, stacklevel=2,
            )
        visits = None
        if want_visits:
            if vr:
                r, c = torch.cat(vr), torch.cat(vc)
                w = torch.cat(vw) if hooked else None
            else:
                r = c = torch.zeros(0, dtype=torch.int64, device=dev)
                w = None
            visits = coalesce_visits(r, c, w, int(num_rows), self.num_nodes)
        # the loop's last step may end every walker without a move (a restart or dead end)
        return WalkResult(visits, paths, lengths, int(lengths.max()) if W else 0)

    def __repr__(self) -> str:
        mv = ", ".join(f"{m.move.etype[1]}{'^-1' if m.move.reverse else ''}(p={m.move.prob:g})" for m in self.moves)
        return f"WalkEngine(nodes={self.num_nodes} {self.node_types}, moves=[{mv}], mix={self.mix!r}, weighted={self.weighted})"


def _row_keys(indptr: torch.Tensor, row: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """Sorted sampling keys ``row + (inclusive cumulative share within the row)``, float64 ``(nnz,)``.

    ``row`` is each entry's row (``(nnz,)``, from ``indptr``). Row ``v``'s keys rise from above
    ``v`` to exactly ``v + 1``, so the first key above ``v + u`` (``u`` uniform in [0, 1)) is an
    edge of row ``v`` drawn with probability proportional to ``probs``: one global
    ``searchsorted`` samples every walker's next edge.
    """
    cum = torch.cumsum(probs.to(torch.float64), 0)
    padded = torch.cat([cum.new_zeros(1), cum])  # padded[indptr[v]]: the mass of the rows before v
    before = padded[indptr[:-1]]
    total = padded[indptr[1:]] - before
    share = (cum - before[row]) / total[row].clamp_min(1e-300)
    counts = indptr[1:] - indptr[:-1]
    share[indptr[1:][counts > 0] - 1] = 1.0  # exact row ends: v + 1 is the next row's lower bound
    return row.to(torch.float64) + share


def bipartite_engine(
    graph: Graph,
    etype: EdgeType = INTERACTS,
    *,
    trust: bool | EdgeType = False,
    trust_prob: float | None = None,
    weighted: bool = False,
) -> WalkEngine:
    """The alternating ``user -> item -> user`` walk over ``etype``, optionally with trust.

    Parameters
    ----------
    graph : Graph
    etype : the bipartite edge type (default ``user -interacts-> item``).
    trust : bool or edge type
        Add the ``user -trusts-> user`` edges (or the given homogeneous edge type: a relation
        name or triple), followed in their stored direction (datasets usually store both
        directions). Any other value is a ``TypeError``.
    trust_prob : float, optional
        ``None`` (default): the simple random walk on the union graph (a user picks any of
        its interaction or trust edges uniformly). A float ``p`` in (0, 1): a user with trust
        edges takes one with probability ``p``, else an interaction edge. Given without trust
        edges, it is a ``ValueError``.
    weighted : sample neighbours by edge weight.
    """
    etype = graph.resolve_etype(etype)
    moves = [Move(etype, False), Move(etype, True)]
    mix = "degree"
    if isinstance(trust, (str, tuple, list)):
        tt = graph.resolve_etype(trust)
    else:
        tt = TRUSTS if check_bool("trust", trust) else None
    if tt is None and trust_prob is not None:
        raise ValueError(f"trust_prob={trust_prob!r} applies to trust edges, but trust is off; pass trust=True (or an edge type)")
    if tt is not None:
        if tt[0] != tt[2] or tt[0] != etype[0]:
            raise ValueError(f"trust edge type must link {etype[0]!r} nodes to {etype[0]!r} nodes, got {tt}")
        if trust_prob is None:
            moves.append(Move(tt, False))
        else:
            trust_prob = check_number("trust_prob", trust_prob, 0, 1, low_open=True, high_open=True)
            moves = [Move(etype, False, 1.0 - trust_prob), Move(etype, True), Move(tt, False, trust_prob)]
            mix = "fixed"
    return WalkEngine(graph, moves, weighted=weighted, mix=mix)
