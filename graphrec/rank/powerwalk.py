"""PowerWalk: personalized PageRank from a fingerprint index and vertex-centric decomposition.

Offline, every vertex ``v`` gets a *fingerprint* ``F_v``: the visit frequencies of ``walks``
random walks with restart ``c`` started at ``v`` (geometric lengths, every visit counted, so
``F_v``, visits over all visits, is a Monte Carlo estimate of the PPR vector ``pi_v``). Only the ``top_m`` largest
entries of each fingerprint are kept, as one sparse CSR matrix; the dropped mass is kept per
node type as a *residual* and spread over a fixed background (each type's degree-proportional
stationary distribution), so every fingerprint keeps its total mass (``tail='renormalize'``
rescales the kept entries instead).

*Dangling nodes.* PPR here (as in :func:`~graphrec.rank.exact.power_iteration` and the walks)
sends a walker at a node without out-edges back to its own source. That vector does not obey
the decomposition below (``pi_v`` returns to ``v``, not to ``u``), but the *killed-walk* vector
``psi_u = c e_u (I - (1 - c) P_k)^-1`` does, exactly, where ``P_k`` is ``P`` with the
dangling rows zero (so ``psi_d = c e_d`` for a dangling ``d``); and ``pi_u = psi_u / |psi_u|_1``.
So the index holds ``psi`` rows: a walk fingerprint ``F`` is rescaled to
``F c / (c + (1 - c) F(D))`` (``D``: the dangling nodes; the renewal identity
``|psi_u|_1 = 1 - (1 - c)/c psi_u(D)``), the mass each row lost to dangling nodes,
``1 - |psi_u|_1``, is kept as ``lost`` (decomposed like the rows), and answers are divided by
their ``psi`` mass (kept entries plus residual) wherever that loss is non-zero. Where no
dangling node is reachable (any undirected graph) ``psi = pi``, ``lost`` is 0 and nothing is
rescaled.

The index is then sharpened by ``refine`` rounds of the vertex-centric decomposition
(Jeh & Widom's linearity, the identity PowerWalk is built on)

    psi_u = c e_u + (1 - c) sum_v P_k[u, v] psi_v                             (*)

applied to every vertex at once: ``F <- c I + (1 - c) P_k F`` (one sparse ``P @ F`` product,
top-``m`` truncation again). Each round averages ``deg(u)`` independent fingerprints and makes
one more step exact, so the Monte Carlo error shrinks like ``(1 - c)`` per round: the
decomposition PowerWalk applies at query time, moved offline here so that a query needs a
single round (``walk_top_m`` and ``refine_top_m`` keep the raw and intermediate rounds small,
which bounds the build cost).

Online, a batch of sources shares one decomposition: ``rounds`` applications of (*) from the
sources as sparse frontiers,

    psi_s ~= sum_{k < L} c (1 - c)^k e_s P_k^k  +  (1 - c)^L (e_s P_k^L) F,

where the last term is a sparse ``frontier @ index`` product for all sources at once (plus
the residuals times the background, a rank-``T`` dense term, unless ``background=False``),
and the row is divided by its ``psi`` mass when the source reaches a dangling node.
With ``rounds=1`` a query costs ``deg(s) * top_m`` multiply-adds plus writing its dense
``n``-vector.

Top-``m`` fingerprints cannot hold PPR vectors whose mass is spread thin (Gowalla: a user's
top 5,000 entries hold ~75% of it), so on reversible walks (undirected graphs) the index also
keeps the walk's slowest spectral modes (:mod:`graphrec.rank.spectral`) and the default query
replaces ``F`` in the last term by that spectral tail after ``SPECTRAL_ROUNDS`` exact levels
(sparse frontiers while they are small, then dense blocks over the node types they reach):
Gowalla mean L1 0.03 vs exact instead of ~0.5, at ~30x the batched exact solver.

The decomposition is exact for every graph: on walks where a dangling node (no out-edge) is
reachable (e.g. one-way trust edges) it runs on the killed-walk vectors ``psi`` above, and the
answers, normalised by their ``psi`` mass, follow the return-to-source convention of the walks
and of the exact solver (refinement and query rounds converge to it, as on undirected graphs).

References
----------
Liu, Li, Lui, Cheng. PowerWalk: Scalable personalized PageRank via random walks with
vertex-centric decomposition. CIKM 2016.
Fogaras, Rácz, Csalogány, Sarlós. Towards scaling fully personalized PageRank. Internet
Mathematics 2(3), 2005.
Jeh, Widom. Scaling personalized web search. WWW 2003.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..checks import check_bool, check_choice, check_int, check_seed, derived_seed
from ..graph.edges import _INT32_MAX, _sparse_csr
from ..graph.ops import gather_rows
from ..graph.store import Graph, index_tensor, store_device
from ..walks.engine import WalkEngine
from .exact import _check_alpha, as_engine, transpose_step
from .spectral import SpectralTail, spectral_tail, spectral_tail_or_none

__all__ = [
    "LocalShards", "PowerWalkIndex", "build_index", "num_walk_blocks", "topm_mask", "transition_matrix", "walk_block_rows",
    "walk_record",
]

#: format 3 records the walk and a digest of the graph an index was built for (``params['walk']``);
#: format 4 holds killed-walk ``psi`` rows and their ``lost`` mass (exact with dangling nodes)
_FORMAT = "graphrec.powerwalk/4"
_READABLE_FORMATS = ("graphrec.powerwalk/1", "graphrec.powerwalk/2", "graphrec.powerwalk/3", _FORMAT)
#: ``params['dangling']`` of indexes whose rows are killed-walk ``psi`` vectors (format 4 on)
_PSI = "psi"
_WALK_FIELDS = ("node_types", "sizes", "moves", "mix", "weighted", "digest")

#: Decomposition rounds of a query with the spectral tail (Gowalla, rank 512: mean L1 0.029).
SPECTRAL_ROUNDS = 4
#: Eigenpairs kept by ``build_index(spectral_rank=None)`` on a reversible walk.
DEFAULT_SPECTRAL_RANK = 512
#: A sparse frontier denser than this share of ``B * n`` switches to dense rounds.
_DENSE_SWITCH = 0.002


# --------------------------------------------------------------------- helpers
def walk_record(engine: Graph | WalkEngine) -> dict[str, Any]:
    """What an index built on ``engine`` is valid for (JSON-ready).

    Returns ``{'node_types', 'sizes' (nodes per type), 'moves' ([src, rel, dst, reverse, prob]
    each), 'mix', 'weighted', 'digest'}``, where ``digest`` is a blake2b of every move's CSR
    ``indptr`` / ``indices`` (and weights on a weighted walk): two graphs with the same sizes
    but different edges get different digests. Device-independent.
    """
    eng = as_engine(engine)
    h = hashlib.blake2b(digest_size=16)

    def feed(t: torch.Tensor) -> None:
        a = t.detach().to("cpu").contiguous()
        h.update(f"{a.dtype}{tuple(a.shape)}".encode())
        h.update(memoryview(a.numpy()).cast("B"))

    moves = [[*md.move.etype, bool(md.move.reverse), float(md.move.prob)] for md in eng.moves]
    h.update(json.dumps([eng.node_types, moves, eng.mix, eng.weighted]).encode())
    feed(eng.offsets.to(torch.int64))
    for md in eng.moves:
        feed(md.indptr.to(torch.int64))
        feed(md.indices.to(torch.int64))
        if md.weight is not None:
            feed(md.weight.to(torch.float32))
    offs = eng._offsets_list
    return {
        "node_types": list(eng.node_types), "sizes": [offs[t + 1] - offs[t] for t in range(len(eng.node_types))],
        "moves": moves, "mix": eng.mix, "weighted": bool(eng.weighted), "digest": h.hexdigest(),
    }


def transition_matrix(engine: Graph | WalkEngine) -> torch.Tensor:
    """The walk's transition matrix ``P`` (sparse CSR ``(n, n)``); see :meth:`WalkEngine.transition_matrix`.

    A Graph is walked as its undirected user–item graph.
    """
    return as_engine(engine).transition_matrix()


def topm_mask(indptr: torch.Tensor, values: torch.Tensor, m: int, row: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean mask over CSR entries keeping the ``m`` largest values of every row.

    Rows are bucketed by ``ceil(log2(length))`` and each bucket is padded to its power of two
    and sent through one ``torch.topk``: a handful of dense kernels, no per-row loop, padding
    at most doubles the work.
    """
    nnz = values.numel()
    dev = values.device
    lens = indptr[1:] - indptr[:-1]
    if row is None:
        row = torch.repeat_interleave(torch.arange(lens.numel(), device=dev), lens)
    keep = lens[row] <= m
    big = (lens > m).nonzero().squeeze(1)
    if big.numel() == 0:
        return keep
    expo = torch.ceil(torch.log2(lens[big].to(torch.float64))).to(torch.int64)
    for e in torch.unique(expo).tolist():
        rs = big[expo == e]
        width = 1 << int(e)
        ar = torch.arange(width, device=dev)
        # bound the padded block to ~2^24 entries per topk call
        step = max(1, (1 << 24) // width)
        for s in range(0, rs.numel(), step):
            rb = rs[s : s + step]
            pos = indptr[rb].unsqueeze(1) + ar
            valid = ar < lens[rb].unsqueeze(1)
            v = torch.where(valid, values[pos.clamp_max(nnz - 1)], torch.full((), -math.inf, device=dev))
            top = torch.topk(v, m, dim=1, sorted=False).indices
            keep[(indptr[rb].unsqueeze(1) + top).reshape(-1)] = True
    return keep


def _reaches_dangling(eng: WalkEngine) -> bool:
    """Whether some walk reaches a dangling node from another node (a dangling node with an in-edge)."""
    if not bool(eng.dangling.any()):
        return False
    cols = eng.transition_matrix().col_indices().to(torch.int64)
    return bool(eng.dangling[cols].any())


def _type_of(offsets: torch.Tensor, gid: torch.Tensor) -> torch.Tensor:
    return torch.bucketize(gid.to(offsets.dtype), offsets[1:], right=True)


def _row_ids(indptr: torch.Tensor) -> torch.Tensor:
    lens = (indptr[1:] - indptr[:-1]).to(torch.int64)
    return torch.repeat_interleave(torch.arange(lens.numel(), device=indptr.device), lens)


def _compact(t: torch.Tensor) -> torch.Tensor:
    """``t`` as int32 when its values fit (half the bytes; MKL's faster sparse kernels), else int64."""
    fits = t.numel() <= _INT32_MAX and (t.numel() == 0 or int(t.max()) <= _INT32_MAX)
    return t.to(torch.int32 if fits else torch.int64)


def _csr(indptr: torch.Tensor, indices: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Sparse CSR with both index arrays in one compact dtype (sparse @ sparse needs them equal)."""
    ip, ix = _compact(indptr), _compact(indices)
    if ip.dtype != ix.dtype:
        ip, ix = ip.to(torch.int64), ix.to(torch.int64)
    return _sparse_csr(ip, ix, values, shape)


class _Rows:
    """Sparse rows under construction: CSR arrays, per-type residual mass, and the ``psi`` mass
    each row lost to dangling nodes (``lost``; ``None`` until the caller sets it)."""

    def __init__(
        self, indptr: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor, residual: torch.Tensor, lost: torch.Tensor | None = None
    ) -> None:
        self.indptr, self.cols, self.vals, self.residual, self.lost = indptr, cols, vals, residual, lost


def _truncate(
    indptr: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor, m: int, offsets: torch.Tensor, tail: str,
    row: torch.Tensor | None = None,
    sort: bool = False,
    total: torch.Tensor | None = None,
) -> _Rows:
    """Keep the top-``m`` entries per row; the dropped mass becomes per-type residual.

    Output rows keep the input's column order, or get sorted columns with ``sort=True``.
    ``total`` (``(n_rows, T)``), when known, is each row's mass per node type (saves a pass
    over all entries).
    """
    n_rows = indptr.numel() - 1
    T = offsets.numel() - 1
    dev = vals.device
    lens = indptr[1:] - indptr[:-1]
    if bool((lens <= m).all()):
        out = _Rows(indptr, cols, vals, torch.zeros(n_rows, T, device=dev))
        return _sort_within_rows(out, int(offsets[-1])) if sort else out
    if row is None:
        row = _row_ids(indptr)
    keep = topm_mask(indptr, vals, m, row)
    kidx = keep.nonzero().squeeze(1)
    kr, kc, kv = row[kidx], cols[kidx], vals[kidx]
    # per-type mass of every entry minus that of the kept ones
    if total is None:
        total = _type_mass(row, cols, vals, n_rows, offsets)
    kept = _type_mass(kr, kc, kv, n_rows, offsets)
    residual = (total - kept).clamp_min(0.0)
    new_indptr = torch.zeros(n_rows + 1, dtype=torch.int64, device=dev)
    torch.cumsum(torch.bincount(kr, minlength=n_rows), 0, out=new_indptr[1:])
    out = _Rows(new_indptr, kc, kv, residual)
    if sort:
        out = _sort_within_rows(out, int(offsets[-1]))
    return _renorm(out) if tail == "renormalize" else out


def _type_mass(row: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor, n_rows: int, offsets: torch.Tensor) -> torch.Tensor:
    """``(n_rows, T)`` sums of ``vals`` per row and node type of the column."""
    T = offsets.numel() - 1
    if T == 1:
        return torch.zeros(n_rows, 1, device=vals.device).index_add_(0, row, vals.unsqueeze(1))
    return torch.zeros(n_rows * T, device=vals.device).index_add_(0, row * T + _type_of(offsets, cols), vals).view(n_rows, T)


def _sort_within_rows(r: _Rows, n_cols: int) -> _Rows:
    row = _row_ids(r.indptr)
    order = torch.argsort(row * n_cols + r.cols)
    return _Rows(r.indptr, r.cols[order], r.vals[order], r.residual, r.lost)


# ------------------------------------------------------------------- the index
class PowerWalkIndex:
    """Top-``m`` PPR fingerprints of every vertex (killed-walk ``psi`` rows, see the module
    docstring), with residual mass per node type and the mass lost to dangling nodes.

    Attributes
    ----------
    indptr : IntTensor ``(n + 1,)``; indices : IntTensor ``(nnz,)``; values : FloatTensor ``(nnz,)``
        The fingerprints as CSR rows (columns sorted within rows); int32 index arrays when
        they fit, else int64.
    residual : FloatTensor ``(n, T)``
        Mass each fingerprint dropped, per node type (``T`` node types).
    lost : FloatTensor ``(n,)``
        ``psi`` mass each fingerprint lost to dangling nodes (``1 - mass()`` up to rounding);
        0 where no dangling node is reachable (or none was met). Answers are normalised by
        their ``psi`` mass where it is non-zero.
    background : FloatTensor ``(n,)``
        Degree share of each node within its type (sums to 1 over each type).
    node_types, offsets : the engine's node space.
    spectral : SpectralTail or None
        The walk's slowest modes (reversible walks only), the accurate tail of a query.
    alpha, walks, top_m, refine, tail, seed : build parameters.
    params : dict
        All build parameters; ``params['walk']`` is the :func:`walk_record` of the walk the
        index was built (or last refreshed) for, checked by :meth:`verify`.
    build_seconds : float
    """

    def __init__(
        self,
        indptr: torch.Tensor,
        indices: torch.Tensor,
        values: torch.Tensor,
        residual: torch.Tensor,
        background: torch.Tensor,
        node_types: list[str],
        offsets: torch.Tensor,
        params: dict[str, Any],
        spectral: SpectralTail | None = None,
        lost: torch.Tensor | None = None,
    ) -> None:
        self.indptr, self.indices, self.values = _compact(indptr), _compact(indices), values
        self.spectral = spectral
        self.lost = torch.zeros(indptr.numel() - 1, device=values.device) if lost is None else lost
        self.residual, self.background = residual, background
        self.node_types = list(node_types)
        self.offsets = offsets
        self.params = dict(params)
        self.alpha = float(params["alpha"])
        self.walks = int(params["walks"])
        self.top_m = int(params["top_m"])
        self.refine = int(params["refine"])
        self.tail = str(params["tail"])
        self.seed = int(params.get("seed", 0))
        self.build_seconds = float(params.get("build_seconds", 0.0))
        self._refreshes = int(params.get("refreshes", 0))

    # ------------------------------------------------------------- basics
    @property
    def device(self) -> torch.device:
        return self.values.device

    @property
    def num_nodes(self) -> int:
        return self.indptr.numel() - 1

    @property
    def nnz(self) -> int:
        return self.values.numel()

    def nbytes(self) -> int:
        """Bytes of the index tensors (CSR arrays, residuals, background)."""
        ts = [self.indptr, self.indices, self.values, self.residual, self.background, self.lost]
        return sum(t.numel() * t.element_size() for t in ts) + (self.spectral.nbytes() if self.spectral else 0)

    def matrix(self) -> torch.Tensor:
        """The fingerprints as a sparse CSR tensor ``(n, n)``."""
        return _csr(self.indptr, self.indices, self.values, (self.num_nodes, self.num_nodes))

    def mass(self) -> torch.Tensor:
        """Total ``psi`` mass of each fingerprint (kept entries + residual), ``(n,)``.

        1 by construction where no dangling node is reachable; ``1 - lost`` otherwise.
        """
        kept = torch.zeros(self.num_nodes, device=self.device).index_add_(0, _row_ids(self.indptr), self.values)
        return kept + self.residual.sum(1)

    def fingerprint(self, nodes: Any, *, background: bool = True) -> torch.Tensor:
        """Dense fingerprints ``(B, n)`` of global ``nodes`` — the zero-round estimate of PPR.

        With ``background`` the residual is spread over the background (rows sum to 1).
        Rows are normalised by their ``psi`` mass (see the module docstring), so they estimate
        PPR also where dangling nodes are reachable.
        """
        background = check_bool("background", background)
        nodes = index_tensor(nodes, "nodes", self.num_nodes, self.device).reshape(-1)
        rows = torch.arange(nodes.numel(), device=self.device)
        return self._combine(rows, nodes, torch.ones(nodes.numel(), device=self.device), nodes.numel(), background)

    def to(self, device: str | torch.device) -> PowerWalkIndex:
        d = store_device(device)
        return PowerWalkIndex(
            self.indptr.to(d), self.indices.to(d), self.values.to(d), self.residual.to(d), self.background.to(d),
            self.node_types, self.offsets.to(d), self.params, self.spectral.to(d) if self.spectral else None, self.lost.to(d),
        )

    def __repr__(self) -> str:
        return (
            f"PowerWalkIndex(nodes={self.num_nodes}, nnz={self.nnz}, alpha={self.alpha}, walks={self.walks}, "
            f"top_m={self.top_m}, refine={self.refine}, tail={self.tail!r}, "
            f"spectral_rank={self.spectral.rank if self.spectral else 0}, bytes={self.nbytes()})"
        )

    def _check_engine(self, engine: WalkEngine) -> None:
        mine, theirs = self.offsets.tolist(), engine._offsets_list
        if engine.node_types != self.node_types or theirs != mine:
            sm, st = ([o[t + 1] - o[t] for t in range(len(o) - 1)] for o in (mine, theirs))
            raise ValueError(
                f"engine node space {engine.node_types} (sizes {st}, {engine.num_nodes} nodes) does not match "
                f"the index's {self.node_types} (sizes {sm}, {self.num_nodes} nodes); rebuild or refresh the index"
            )

    def verify(self, engine: Graph | WalkEngine) -> None:
        """Raise ``ValueError`` unless the index was built (or last refreshed) for ``engine``'s walk.

        Compares :func:`walk_record` of ``engine`` with the one stored at build time, field by
        field (node types and sizes, moves, mix, weighting, then the digest of the edges).
        Indexes saved before the record existed (formats 1 and 2) cannot be verified and raise;
        those saved before format 4 also raise on a walk that reaches a dangling node.
        """
        eng = as_engine(engine)
        self._check_engine(eng)
        rec = self.params.get("walk") or {}
        if not rec:
            raise ValueError(
                "this PowerWalk index has no record of the walk and graph it was built for (saved before "
                f"{_FORMAT}); rebuild it, or skip the check explicitly (load_index(..., verify=False))"
            )
        now = walk_record(eng)
        for name in _WALK_FIELDS:
            if rec.get(name) == now[name]:
                continue
            if name == "digest":
                raise ValueError(
                    f"the index was built for a graph with different edges (edge digest {rec.get(name)}, this "
                    f"graph's {now[name]}); rebuild the index, or refresh() it after changing the graph"
                )
            if name == "moves":
                def show(moves: Any) -> str:
                    return "[" + ", ".join(f"{m[1]}{'^-1' if m[3] else ''}(p={m[4]:g})" for m in moves) + "]"

                raise ValueError(
                    f"the index was built for a walk with moves={show(rec.get(name) or [])}, this one has "
                    f"moves={show(now[name])} (different trust or edge type)"
                )
            raise ValueError(f"the index was built for a walk with {name}={rec.get(name)!r}, this one has {name}={now[name]!r}")
        self._check_psi(eng)

    # -------------------------------------------------------------- queries
    def _combine(
        self, rows: torch.Tensor, nodes: torch.Tensor, weights: torch.Tensor, B: int, background: bool = True,
        exact: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = (), lossy: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Dense ``(B, n)``: ``sum_j weights_j * F[nodes_j]`` into row ``rows_j`` (+ residual background).

        ``exact`` are further ``(rows, nodes, vals)`` entries added as they are (a query's exact
        levels). A row is then divided by its ``psi`` mass (its fingerprints' kept + residual
        mass, plus its exact entries) when it lost mass to dangling nodes: a fingerprint in it
        has ``lost > 0``, or ``lossy`` (``(B,)`` bool) says so. Other rows are left untouched.
        """
        n = self.num_nodes
        dev = self.device
        fc = torch.sparse_coo_tensor(torch.stack([rows, nodes]), weights, (B, n), check_invariants=False).coalesce().to_sparse_csr()
        front = _csr(fc.crow_indices(), fc.col_indices(), fc.values(), (B, n))
        out = torch.sparse.mm(front, self.matrix()).to_dense() if self.nnz else torch.zeros(B, n, device=dev)
        if background and self.tail == "background":
            res = torch.sparse.mm(front, self.residual)  # (B, T)
            offs = self.offsets.tolist()
            for t in range(len(self.node_types)):
                out[:, offs[t] : offs[t + 1]] += res[:, t : t + 1] * self.background[offs[t] : offs[t + 1]]
        for r, nd, v in exact:
            out.view(-1).index_put_((r * n + nd,), v, accumulate=True)
        gate = torch.zeros(B, dtype=torch.bool, device=dev) if lossy is None else lossy.clone()
        f_rows, f_nodes, f_w = _row_ids(fc.crow_indices()), fc.col_indices().to(torch.int64), fc.values()
        if f_w.numel() and bool((self.lost > 0).any()):
            gate.index_fill_(0, f_rows[self.lost[f_nodes] > 0], True)
        if bool(gate.any()):
            # psi mass of the gated rows: their fingerprints' total mass and their exact entries
            sel = gate[f_rows]
            total = torch.zeros(B, device=dev).index_add_(0, f_rows[sel], f_w[sel] * self._row_mass(f_nodes[sel]))
            for r, _, v in exact:
                total.index_add_(0, r, v)
            g = gate.nonzero().squeeze(1)
            out[g] = out[g] / total[g].clamp_min(1e-30).unsqueeze(1)
        return out

    def _row_mass(self, nodes: torch.Tensor) -> torch.Tensor:
        """Kept + residual mass of the fingerprints of ``nodes`` (as :meth:`mass`, for a few rows)."""
        b, _, epos = gather_rows(self.indptr, self.indices, nodes)
        kept = torch.zeros(nodes.numel(), device=self.device).index_add_(0, b, self.values[epos])
        return kept + self.residual[nodes].sum(1)

    def _check_psi(self, eng: WalkEngine) -> None:
        """Refuse an index from before format 4 (``pi`` rows) on a walk that reaches a dangling node."""
        if self.params.get("dangling") == _PSI or not _reaches_dangling(eng):
            return
        raise ValueError(
            f"this PowerWalk index was built before {_FORMAT}, whose fingerprints only approximate PPR on a walk "
            "where a dangling node (no out-edge) is reachable, as on this one; rebuild the index"
        )

    def query(
        self,
        engine: Graph | WalkEngine,
        sources: Any,
        *,
        rounds: int | None = None,
        tail: str = "auto",
        background: bool = True,
        batch_size: int = 1024,
        progress: bool = False,
    ) -> torch.Tensor:
        """Approximate PPR vectors of many sources by the shared decomposition.

        ``rounds`` exact levels of (*) from the sources, then the frontier times a tail:

        - ``tail='spectral'``: the walk's slowest modes (:class:`~graphrec.rank.spectral.SpectralTail`,
          built with the index on reversible walks); accurate (Gowalla, 4 rounds: mean L1
          0.03 vs exact) at a few dense products per batch.
        - ``tail='fingerprint'``: the top-``m`` fingerprints (one sparse product; the
          fastest, mean L1 ~0.5 on Gowalla after 1 round, where PPR mass is spread thin).
        - ``tail='auto'``: spectral when the index has it, else fingerprint.

        Parameters
        ----------
        engine : WalkEngine (or Graph) the index was built on.
        sources : LongTensor / array ``(B,)`` of global node ids.
        rounds : int >= 0, optional
            Decomposition levels ``L``; default :data:`SPECTRAL_ROUNDS` (spectral tail) or 1
            (fingerprint tail). ``rounds=0`` with the fingerprint tail returns the raw fingerprints.
        tail : {'auto', 'spectral', 'fingerprint'}
        background : bool
            Fingerprint tail only: spread the fingerprints' residual (dropped) mass over the
            degree background, so rows sum to 1 and the L1 error is lower; ``False`` leaves it
            out (rows sum to less than 1).
        batch_size : int
            Sources per batch (the spectral tail holds a few dense ``(n, batch)`` blocks).

        Returns
        -------
        FloatTensor ``(B, n)`` on the index's device; rows sum to 1 (up to the spectral
        truncation, or with ``background``). The spectral path returns the transpose of an
        ``(n, B)`` block (a strided view; ``.contiguous()`` if you need row-major).
        """
        eng = as_engine(engine)
        self._check_engine(eng)
        self._check_psi(eng)
        check_choice("tail", tail, ("auto", "spectral", "fingerprint"))
        background, progress = check_bool("background", background), check_bool("progress", progress)
        batch_size = check_int("batch_size", batch_size, 1)
        if tail == "spectral" and self.spectral is None:
            raise ValueError("this index has no spectral tail (built with spectral_rank=0 or on a non-reversible walk)")
        spectral = tail == "spectral" or (tail == "auto" and self.spectral is not None)
        if rounds is None:
            rounds = SPECTRAL_ROUNDS if spectral else 1
        rounds = check_int("rounds", rounds, 0)
        dev = self.device
        n = self.num_nodes
        src = index_tensor(sources, "sources", n, dev).reshape(-1)
        batches = range(0, src.numel(), batch_size)
        # the spectral path works one source per column: fill an (n, S) block, return its transpose
        out = torch.empty(n, src.numel(), device=dev) if spectral else torch.empty(src.numel(), n, device=dev)
        for s0 in tqdm(batches, desc="powerwalk query", unit="batch", disable=not progress, leave=False):
            sb = src[s0 : s0 + batch_size]
            if spectral:
                self._query_spectral(eng, sb, rounds, out[:, s0 : s0 + sb.numel()])
            else:
                out[s0 : s0 + sb.numel()] = self._query_fingerprint(eng, sb, rounds, background)
        return out.T if spectral else out

    def _sparse_round(
        self, eng: WalkEngine, front: tuple[torch.Tensor, torch.Tensor, torch.Tensor], sb: torch.Tensor, kill: bool = False
    ) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
        """One step ``x <- x P`` of sparse frontiers ``(rows, nodes, vals)``; dangling mass returns to
        the source, or with ``kill`` is dropped (the ``psi`` step ``x <- x P_k``).

        Returns the new frontier and the mass that reached dangling nodes, per row ``(B,)``.
        """
        rows, nodes, vals = front
        B, n = sb.numel(), self.num_nodes
        fr = torch.sparse_coo_tensor(torch.stack([rows, nodes]), vals, (B, n), check_invariants=False).coalesce().to_sparse_csr()
        nxt = torch.sparse.mm(fr, transition_matrix(eng))
        rows, nodes, vals = _row_ids(nxt.crow_indices()), nxt.col_indices().to(torch.int64), nxt.values()
        dm = torch.sparse.mm(fr, eng.dangling.to(torch.float32).unsqueeze(1)).squeeze(1)
        if not kill and bool((dm > 0).any()):
            hit = (dm > 0).nonzero().squeeze(1)
            rows, nodes, vals = torch.cat([rows, hit]), torch.cat([nodes, sb[hit]]), torch.cat([vals, dm[hit]])
        return (rows, nodes, vals), dm

    def _query_fingerprint(self, eng: WalkEngine, sb: torch.Tensor, rounds: int, background: bool) -> torch.Tensor:
        """``(B, n)``: ``rounds`` sparse levels of the ``psi`` decomposition, then the frontier times
        the fingerprints; rows that lost mass to dangling nodes are normalised."""
        c = self.alpha
        B = sb.numel()
        front = (torch.arange(B, device=self.device), sb, torch.ones(B, device=self.device))
        exact_parts = []
        lossy = torch.zeros(B, dtype=torch.bool, device=self.device)
        for k in range(rounds):
            exact_parts.append((front[0], front[1], front[2] * (c * (1.0 - c) ** k)))
            front, dropped = self._sparse_round(eng, front, sb, kill=True)
            lossy |= dropped > 0
        return self._combine(front[0], front[1], front[2] * (1.0 - c) ** rounds, B, background, exact_parts, lossy)

    def _query_spectral(self, eng: WalkEngine, sb: torch.Tensor, rounds: int, est: torch.Tensor) -> None:
        """Fill ``est`` ``(n, B)`` (one source per column): exact levels, sparse while the
        frontier is, then dense over the node types it reaches; then the spectral tail."""
        assert self.spectral is not None
        c, n, dev = self.alpha, self.num_nodes, self.device
        B = sb.numel()
        offs = eng._offsets_list
        T = len(offs) - 1
        front = (torch.arange(B, device=dev), sb, torch.ones(B, device=dev))
        sparse_parts = []
        while len(sparse_parts) < rounds and front[2].numel() <= _DENSE_SWITCH * B * n:
            sparse_parts.append((front[1], front[0], front[2] * (c * (1.0 - c) ** len(sparse_parts))))
            front, _ = self._sparse_round(eng, front, sb)
        x = torch.zeros(n, B, device=dev)
        x.index_put_((front[1], front[0]), front[2], accumulate=True)
        live = set(torch.nonzero(torch.bincount(_type_of(self.offsets, front[1]), minlength=T)).flatten().tolist())
        if len(sparse_parts) == rounds:
            est.zero_()
        else:
            blocks = eng.transition_transpose()
            dang = eng.dangling.nonzero().squeeze(1)
            cols = torch.arange(B, device=dev)
            src_types = set(_type_of(self.offsets, sb).tolist())
            y = torch.empty_like(x)
            for k in range(len(sparse_parts), rounds):
                if k == len(sparse_parts):
                    torch.mul(x, c * (1.0 - c) ** k, out=est)  # the first dense level initialises est
                else:
                    est.add_(x, alpha=c * (1.0 - c) ** k)
                written = transpose_step(blocks, offs, x, y, live=live)
                if dang.numel():
                    back = x[dang].sum(0)
                    if bool((back > 0).any()):  # mass at a dangling node restarts at the source
                        y[sb, cols] += back
                        written |= src_types
                live = written
                x, y = y, x
        for nodes, rows, vals in sparse_parts:
            est.index_put_((nodes, rows), vals, accumulate=True)
        self.spectral.accumulate(est, x, (1.0 - c) ** rounds, [(offs[t], offs[t + 1]) for t in sorted(live)])

    # ------------------------------------------------------------ save / load
    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The index as CPU tensors and a JSON-able description (what :meth:`save` writes)."""
        tensors = {
            "indptr": self.indptr.cpu(), "indices": self.indices.cpu(), "values": self.values.cpu(),
            "residual": self.residual.cpu(), "background": self.background.cpu(), "lost": self.lost.cpu(),
            "offsets": self.offsets.cpu(),
        }
        meta: dict[str, Any] = {"format": _FORMAT, "node_types": list(self.node_types), "params": self.params}
        if self.spectral is not None:
            tensors.update(spectral_vectors=self.spectral.vectors.cpu(), spectral_eigenvalues=self.spectral.eigenvalues.cpu(),
                           spectral_sqrt_degree=self.spectral.sqrt_degree.cpu())
            meta["spectral_slabs"] = self.spectral.slabs
        return tensors, meta

    def save(self, path: str | Path) -> Path:
        """Write the index to ``path`` (one ``torch.save`` file); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors, meta = self.state()
        record: dict[str, Any] = {"format": _FORMAT, **tensors, "node_types": json.dumps(meta["node_types"]),
                                  "params": json.dumps(meta["params"])}
        if "spectral_slabs" in meta:
            record["spectral_slabs"] = json.dumps(meta["spectral_slabs"])
        torch.save(record, path)
        return path

    @classmethod
    def from_state(cls, tensors: dict[str, torch.Tensor], meta: dict[str, Any], device: str | torch.device = "cpu") -> PowerWalkIndex:
        """The index :meth:`state` described, on ``device``; ``ValueError`` when the parts do not fit together."""
        dev = store_device(device)
        try:
            params = dict(meta["params"])
            spectral = None
            if "spectral_vectors" in tensors:
                spectral = SpectralTail(
                    tensors["spectral_vectors"].to(dev), tensors["spectral_eigenvalues"].to(dev),
                    tensors["spectral_sqrt_degree"].to(dev), params["alpha"], meta["spectral_slabs"],
                )
            if meta["format"] == _FORMAT:
                lost = tensors["lost"].to(dev)
            else:  # pi rows, exact only where no dangling node is reachable (checked on use)
                params.pop("dangling", None)
                lost = None
            index = cls(
                tensors["indptr"].to(dev), tensors["indices"].to(dev), tensors["values"].to(dev), tensors["residual"].to(dev),
                tensors["background"].to(dev), list(meta["node_types"]), tensors["offsets"].to(dev), params, spectral, lost,
            )
            index._check_layout()
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as e:  # a field missing, of the wrong kind or size
            raise ValueError(f"corrupted PowerWalk index ({type(e).__name__}: {e})") from e
        return index

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> PowerWalkIndex:
        """Read an index written by :meth:`save` onto ``device``.

        A truncated, foreign or inconsistent file raises ``ValueError`` naming ``path``. Files
        from before format 4 hold ``pi`` rather than ``psi`` rows (the same where no dangling
        node is reachable): they load with ``lost`` 0, and :meth:`query`, :meth:`refresh` and
        :meth:`verify` refuse them on a walk that reaches a dangling node.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no PowerWalk index at {path}")
        dev = store_device(device)
        try:
            d = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # truncated, foreign or corrupt files fail in many ways inside torch
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            why = f"{type(err).__name__}: {first[:160]}" if first else type(err).__name__
            raise ValueError(f"{path} cannot be read as a PowerWalk index ({why}); rebuild and save it again") from err
        if not isinstance(d, dict) or d.get("format") not in _READABLE_FORMATS:
            raise ValueError(f"{path} is not a PowerWalk index (format {d.get('format') if isinstance(d, dict) else None!r})")
        try:
            meta = {"format": d["format"], "params": json.loads(d["params"]), "node_types": json.loads(d["node_types"])}
            if "spectral_slabs" in d:
                meta["spectral_slabs"] = json.loads(d["spectral_slabs"])
            tensors = {k: v for k, v in d.items() if isinstance(v, torch.Tensor)}
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: corrupted PowerWalk index ({type(e).__name__}: {e})") from e
        try:
            return cls.from_state(tensors, meta, dev)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from e

    def _check_layout(self) -> None:
        """Raise ValueError unless the tensors fit together (used on data read from disk)."""
        n, T = self.num_nodes, len(self.node_types)
        ip, offs = self.indptr.to(torch.int64), self.offsets.tolist()
        if len(offs) != T + 1 or offs[0] != 0 or offs[-1] != n:
            raise ValueError(f"offsets {offs} do not lay out {T} node types over {n} nodes")
        if int(ip[0]) != 0 or int(ip[-1]) != self.nnz or self.indices.numel() != self.nnz or bool((ip[1:] < ip[:-1]).any()):
            raise ValueError(f"indptr must rise from 0 to {self.nnz} (the number of values and indices)")
        if self.nnz and (int(self.indices.min()) < 0 or int(self.indices.max()) >= n):
            raise ValueError(f"fingerprint column out of range [0, {n})")
        if tuple(self.residual.shape) != (n, T) or tuple(self.background.shape) != (n,) or tuple(self.lost.shape) != (n,):
            raise ValueError(
                f"residual {tuple(self.residual.shape)} / background {tuple(self.background.shape)} / lost "
                f"{tuple(self.lost.shape)} must be ({n}, {T}) / ({n},) / ({n},)"
            )
        if self.spectral is not None and self.spectral.sqrt_degree.numel() != n:
            raise ValueError(f"spectral tail over {self.spectral.sqrt_degree.numel()} nodes, index over {n}")

    # ------------------------------------------------------------- refresh
    def refresh(
        self,
        engine: Graph | WalkEngine,
        nodes: Any,
        *,
        hops: int = 1,
        seed: int | None = None,
        progress: bool = False,
    ) -> torch.Tensor:
        """Recompute the fingerprints of ``nodes`` after the graph changed; in place.

        Parameters
        ----------
        engine : WalkEngine (or Graph) over the *updated* graph. Node sets may have grown:
            the index is re-laid onto the engine's node space first (a new node's fingerprint is
            ``e_v`` until it is refreshed).
        nodes : global node ids of the updated engine, or ``{node_type: local ids}`` — e.g.
            the endpoints returned by ``Graph.add_edges``.
        hops : int
            Also refresh the in-neighbours of ``nodes`` within this many hops (their walks and
            their decomposition use the changed edges).
        seed : walk seed (default: derived from the build seed and a refresh counter).

        Returns
        -------
        LongTensor of the refreshed global node ids.
        """
        eng = as_engine(engine)
        hops, progress = check_int("hops", hops, 0), check_bool("progress", progress)
        if seed is not None:
            seed = check_seed(seed)
        if eng.node_types[: len(self.node_types)] != self.node_types:
            raise ValueError(f"engine node types {eng.node_types} do not extend the index's {self.node_types}")
        dev = self.device
        # check the ids before touching the index: a refused refresh leaves it as it was
        if isinstance(nodes, dict):
            parts = []
            for t, v in nodes.items():
                if t not in eng.node_types:
                    raise KeyError(f"nodes: node type {t!r} is not in this walk's node space {eng.node_types}")
                sl = eng.type_slice(t)
                parts.append(index_tensor(v, f"nodes[{t!r}]", sl.stop - sl.start, dev).reshape(-1) + sl.start)
            gids = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.int64, device=dev)
        else:
            gids = index_tensor(nodes, "nodes", eng.num_nodes, dev).reshape(-1)
        self._check_psi(eng)
        self._relayout(eng)
        self.params["walk"] = walk_record(eng)  # from now on the index answers for the updated graph
        todo = torch.unique(gids)
        if hops and todo.numel():
            Pt = transition_matrix(eng).to_sparse_coo().coalesce()
            src_of, dst_of = Pt.indices()
            frontier = todo
            mark = torch.zeros(self.num_nodes, dtype=torch.bool, device=dev)
            mark[todo] = True
            for _ in range(hops):
                fm = torch.zeros(self.num_nodes, dtype=torch.bool, device=dev)
                fm[frontier] = True
                new = torch.unique(src_of[fm[dst_of]])  # nodes with an edge into the frontier
                new = new[~mark[new]]
                mark[new] = True
                frontier = new
            todo = mark.nonzero().squeeze(1)
        if todo.numel() == 0:
            return todo
        self._refreshes += 1
        self.params["refreshes"] = self._refreshes
        s = derived_seed(self.seed * 1_000_003 + self._refreshes) if seed is None else seed
        gen = torch.Generator(device=eng.device)
        gen.manual_seed(s)
        m_walk = int(self.params.get("walk_top_m", self.top_m))
        new = _walk_rows(eng, todo, self.alpha, self.walks, m_walk, self.tail, gen, progress)
        self._replace_rows(todo, new)
        for _ in range(self.refine):
            # untouched rows hold top_m entries, so refreshed rows keep top_m in every round
            self._replace_rows(todo, _refine_rows(eng, self, todo, progress))
        self.background = _background(eng)
        if self.spectral is not None:
            # the slow modes are global: recompute them (seconds; see build_index)
            self.spectral = spectral_tail_or_none(eng, self.spectral.rank, self.alpha, seed=self.seed)
        return todo

    def _relayout(self, eng: WalkEngine) -> None:
        """Move the index onto ``eng``'s (possibly larger) node space."""
        if eng.num_nodes == self.num_nodes and torch.equal(eng.offsets.to(self.offsets.device), self.offsets):
            return
        old = self.offsets.tolist()
        new = eng._offsets_list
        T_old, T_new = len(old) - 1, len(new) - 1
        for t in range(T_old):
            if new[t + 1] - new[t] < old[t + 1] - old[t]:
                raise ValueError(f"node type {self.node_types[t]!r} shrank; node sets can only grow")
        shift = torch.tensor([new[t] - old[t] for t in range(T_old)], device=self.device)
        oo = self.offsets.to(self.device)
        ind = self.indices.to(torch.int64) + shift[_type_of(oo, self.indices)]
        row_new = torch.arange(self.num_nodes, device=self.device) + shift[_type_of(oo, torch.arange(self.num_nodes, device=self.device))]
        lens = (self.indptr[1:] - self.indptr[:-1]).to(torch.int64)
        n = eng.num_nodes
        new_lens = torch.zeros(n, dtype=torch.int64, device=self.device)
        new_lens[row_new] = lens
        indptr = torch.zeros(n + 1, dtype=torch.int64, device=self.device)
        torch.cumsum(new_lens, 0, out=indptr[1:])
        # rows keep their relative order (types stay in order), so entries need no reordering
        res = torch.zeros(n, T_new, device=self.device)
        res[row_new, :T_old] = self.residual
        lost = torch.zeros(n, device=self.device)
        lost[row_new] = self.lost
        # new nodes: an empty fingerprint would lose mass; give them e_v until refreshed
        fresh = torch.ones(n, dtype=torch.bool, device=self.device)
        fresh[row_new] = False
        self.indptr, self.indices, self.residual, self.lost = _compact(indptr), _compact(ind), res, lost
        self.offsets = eng.offsets.to(self.device)
        self.node_types = list(eng.node_types)
        if bool(fresh.any()):
            f = fresh.nonzero().squeeze(1)
            self._replace_rows(f, _Rows(
                torch.arange(f.numel() + 1, device=self.device), f, torch.ones(f.numel(), device=self.device),
                torch.zeros(f.numel(), T_new, device=self.device), torch.zeros(f.numel(), device=self.device),
            ))
        self.background = _background(eng)

    def _replace_rows(self, rows: torch.Tensor, new: _Rows) -> None:
        """Swap rows ``rows`` (sorted unique global ids) for ``new`` (their CSR rows in that order)."""
        n = self.num_nodes
        dev = self.device
        lens = (self.indptr[1:] - self.indptr[:-1]).to(torch.int64)
        old_row = _row_ids(self.indptr)
        drop = torch.zeros(n, dtype=torch.bool, device=dev)
        drop[rows] = True
        keep = ~drop[old_row]
        new_lens = (new.indptr[1:] - new.indptr[:-1]).to(torch.int64)
        r = torch.cat([old_row[keep], rows[_row_ids(new.indptr)]])
        c = torch.cat([self.indices[keep].to(torch.int64), new.cols.to(torch.int64)])
        v = torch.cat([self.values[keep], new.vals])
        order = torch.argsort(r * n + c)
        lens = lens.clone()
        lens[rows] = new_lens
        indptr = torch.zeros(n + 1, dtype=torch.int64, device=dev)
        torch.cumsum(lens, 0, out=indptr[1:])
        self.indptr, self.indices, self.values = _compact(indptr), _compact(c[order]), v[order]
        self.residual = self.residual.clone()
        self.residual[rows] = new.residual
        self.lost = self.lost.clone()
        self.lost[rows] = new.lost


# ----------------------------------------------------------------- building
def _background(eng: WalkEngine) -> torch.Tensor:
    """Each node's share of its type's total out-degree (the stationary distribution on undirected graphs)."""
    deg = eng._total_choice.clone()  # float64
    offs = eng._offsets_list
    for t in range(len(eng.node_types)):
        seg = deg[offs[t] : offs[t + 1]]
        tot = seg.sum()
        if tot > 0:
            seg /= tot
        elif seg.numel():
            seg.fill_(1.0 / seg.numel())
    return deg.to(torch.float32)


def _walk_rows(
    eng: WalkEngine, nodes: torch.Tensor, alpha: float, walks: int, m: int, tail: str, gen: torch.Generator, progress: bool,
    chunk_walkers: int = 1 << 21,
) -> _Rows:
    """Truncated Monte Carlo fingerprints of ``nodes`` (in that order), in the ``psi`` scale.

    The walks return to their source at a dangling node, so the visit frequencies ``F``
    estimate ``pi``; a row whose walks visited the dangling nodes ``D`` is rescaled to
    ``psi = F c / (c + (1 - c) F(D))`` and loses ``lost = (1 - c) F(D) / (c + (1 - c) F(D))``
    of its mass (``|psi|_1 = 1 - (1 - c)/c psi(D)``). Rows that never met a dangling node are
    left as they were (``lost`` 0).
    """
    per = max(1, chunk_walkers // walks)
    dang = eng.dangling.to(torch.float32)
    any_dangling = bool(eng.dangling.any())
    parts: list[_Rows] = []
    chunks = range(0, max(nodes.numel(), 1), per)  # one empty chunk for an empty node space
    for s in tqdm(chunks, desc="powerwalk walks", unit="chunk", disable=not progress, leave=False):
        nb = nodes[s : s + per]
        C = nb.numel()
        starts = nb.repeat_interleave(walks)
        rows = torch.arange(C, device=eng.device).repeat_interleave(walks)
        res = eng.walk(starts, restart=alpha, restart_mode="stop", dangling="restart", rows=rows, num_rows=C, generator=gen)
        v = res.visits
        crow, col, val = v.crow_indices(), v.col_indices(), v.values()
        row = _row_ids(crow)
        tot = torch.zeros(C, device=eng.device).index_add_(0, row, val)
        val = val / tot[row]
        lost = torch.zeros(C, device=eng.device)
        if any_dangling:
            f_d = torch.zeros(C, dtype=torch.float64, device=eng.device).index_add_(0, row, (val * dang[col.to(torch.int64)]).double())
            hit = f_d > 0
            if bool(hit.any()):
                den = alpha + (1.0 - alpha) * f_d
                scale = torch.where(hit, alpha / den, torch.ones_like(den)).to(torch.float32)
                lost = torch.where(hit, (1.0 - alpha) * f_d / den, torch.zeros_like(den)).to(torch.float32)
                val = torch.where(hit[row], val * scale[row], val)
        t = _truncate(crow, col, val, m, eng.offsets, tail)
        t.lost = lost
        parts.append(t)
    return _concat_rows(parts)


def _concat_rows(parts: list[_Rows]) -> _Rows:
    if len(parts) == 1:
        return parts[0]
    lens = torch.cat([p.indptr[1:] - p.indptr[:-1] for p in parts])
    indptr = torch.zeros(lens.numel() + 1, dtype=torch.int64, device=lens.device)
    torch.cumsum(lens, 0, out=indptr[1:])
    return _Rows(
        indptr, torch.cat([p.cols for p in parts]), torch.cat([p.vals for p in parts]), torch.cat([p.residual for p in parts]),
        torch.cat([p.lost for p in parts]),
    )


def _refine_rows(
    eng: WalkEngine, index: PowerWalkIndex, nodes: torch.Tensor, progress: bool, m_out: int | None = None, budget: int = 1 << 24
) -> _Rows:
    """One decomposition round for ``nodes``: ``c e_u + (1 - c) sum_v P_k[u, v] F_v``, truncated.

    Computed as one sparse product ``[(1 - c) P_rows | c I_rows] @ [F ; I]`` per chunk of
    rows, so the ``c e_u`` term is merged by the kernel. A dangling ``u`` has no ``P`` row:
    its ``psi_u = c e_u``. The lost mass follows the same linear map:
    ``lost_u = (1 - c) [u dangling] + (1 - c) sum_v P[u, v] lost_v``.
    """
    c = index.alpha
    n = index.num_nodes
    dev = index.device
    P = transition_matrix(eng)
    pc, pcol, pval = P.crow_indices(), P.col_indices(), P.values()
    # [F ; I] : (2n, n)
    ip64 = index.indptr.to(torch.int64)
    stack = _csr(
        torch.cat([ip64, ip64[-1] + torch.arange(1, n + 1, device=dev)]),
        torch.cat([index.indices.to(torch.int64), torch.arange(n, device=dev)]),
        torch.cat([index.values, torch.ones(n, device=dev)]),
        (2 * n, n),
    )
    m_out = index.top_m if m_out is None else int(m_out)
    T = len(index.node_types)
    # per-type mass of the stacked rows: kept mass of each fingerprint, one-hot type for I
    onehot = torch.zeros(n, T, device=dev)
    onehot[torch.arange(n, device=dev), _type_of(index.offsets, torch.arange(n, device=dev))] = 1.0
    mass_stack = torch.cat([_type_mass(_row_ids(index.indptr), index.indices, index.values, n, index.offsets), onehot])
    deg = pc[1:] - pc[:-1]
    avg = max(1.0, float(deg.float().mean())) * max(1.0, index.nnz / max(n, 1))
    per = max(1, int(budget // avg))
    cdiag = torch.full((n,), c, dtype=torch.float32, device=dev)
    lost_dangling = (1.0 - c) * eng.dangling.to(torch.float32)
    lost_stack = torch.cat([index.lost, torch.zeros_like(index.lost)]).unsqueeze(1)
    parts: list[_Rows] = []
    chunks = range(0, max(nodes.numel(), 1), per)
    for s in tqdm(chunks, desc="powerwalk refine", unit="chunk", disable=not progress, leave=False):
        nb = nodes[s : s + per]
        C = nb.numel()
        b, col, epos = gather_rows(pc, pcol, nb)
        ar = torch.arange(C, device=dev)
        # augmented rows: neighbours (weights (1 - c) P) then the identity block at n + u
        rr = torch.cat([b, ar])
        cc = torch.cat([col, nb + n])
        vv = torch.cat([pval[epos] * (1.0 - c), cdiag[nb]])
        order = torch.argsort(rr * (2 * n) + cc)
        ip = torch.zeros(C + 1, dtype=torch.int64, device=dev)
        torch.cumsum(torch.bincount(rr, minlength=C), 0, out=ip[1:])
        Pb = _csr(ip, cc[order], vv[order], (C, 2 * n))
        H = torch.sparse.mm(Pb, stack)
        hc, hcol, hval = H.crow_indices(), H.col_indices().to(torch.int64), H.values()
        # the kernel may leave columns unsorted within rows: sort only the kept entries
        total = torch.sparse.mm(Pb, mass_stack)
        t = _truncate(hc, hcol, hval, m_out, index.offsets, "background", row=_row_ids(hc), sort=True, total=total)
        # residual mass carried by the neighbours' fingerprints
        Pn = _csr(ip, cc[order], torch.where(cc[order] < n, vv[order], torch.zeros_like(vv)), (C, 2 * n))
        res_stack = torch.cat([index.residual, torch.zeros_like(index.residual)])
        t.residual += torch.sparse.mm(Pn, res_stack)
        t.lost = torch.sparse.mm(Pn, lost_stack).squeeze(1) + lost_dangling[nb]
        parts.append(_renorm(t) if index.tail == "renormalize" else t)
    return _concat_rows(parts)


def _renorm(r: _Rows) -> _Rows:
    row = _row_ids(r.indptr)
    kept = torch.zeros(r.indptr.numel() - 1, device=r.vals.device).index_add_(0, row, r.vals)
    total = kept + r.residual.sum(1)
    scale = torch.where(kept > 0, total / kept.clamp_min(1e-30), torch.ones_like(kept))
    return _Rows(r.indptr, r.cols, r.vals * scale[row], torch.zeros_like(r.residual), r.lost)


def build_index(
    graph: Graph | WalkEngine,
    *,
    alpha: float = 0.15,
    walks: int = 64,
    top_m: int = 256,
    refine: int = 3,
    walk_top_m: int | None = 64,
    refine_top_m: int | None = 128,
    tail: str = "background",
    spectral_rank: int | None = None,
    seed: int = 0,
    progress: bool = False,
    shards: Any = None,
) -> PowerWalkIndex:
    """Build the PowerWalk fingerprint index of every vertex.

    Parameters
    ----------
    graph : Graph or WalkEngine
        A Graph is walked as its undirected user–item graph.
    alpha : float
        Restart probability ``c``.
    walks : int
        Walks per vertex ``R`` (Monte Carlo fingerprints).
    top_m : int
        Entries kept per fingerprint ``M``.
    refine : int
        Offline decomposition rounds applied to the whole index.
    walk_top_m : int, optional
        Entries kept from the raw walk fingerprints before the first refinement round
        (``None``: ``top_m``; ignored when ``refine=0``).
    refine_top_m : int, optional
        Entries kept by the refinement rounds before the last one (``None``: ``top_m``); the
        last round always keeps ``top_m``. Smaller values make those rounds cheaper. Their far entries are mostly Monte Carlo noise and refinement
        costs ``deg * walk_top_m`` per vertex, so a smaller value speeds the build.
    tail : {'background', 'renormalize'}
        Where the dropped mass goes (see module docstring).
    spectral_rank : int, optional
        Eigenpairs of the walk kept as the accurate query tail (:mod:`graphrec.rank.spectral`);
        ``None``: :data:`DEFAULT_SPECTRAL_RANK` (capped by the graph) when the walk is
        reversible, else none; ``0``: none. An explicit rank on a non-reversible walk raises.
    seed : int
        Seed of the walks: each block of start nodes draws from its own ``torch.Generator`` on
        the graph's device, seeded from ``seed`` and the block (see :func:`walk_block_rows`).
    progress : bool
        tqdm bars.
    shards : optional
        Where the walks and refinement rounds run (default: this process, :class:`LocalShards`;
        :func:`graphrec.distributed.build_powerwalk_index` passes Ray workers). The index is the
        same either way.

    Returns
    -------
    PowerWalkIndex

    Raises
    ------
    ValueError
        Non-positive ``walks`` / ``top_m``, negative ``refine``, unknown ``tail``.
    """
    eng = as_engine(graph)
    alpha = _check_alpha(alpha)
    walks, top_m, refine = check_int("walks", walks, 1), check_int("top_m", top_m, 1), check_int("refine", refine, 0)
    walk_top_m = None if walk_top_m is None else check_int("walk_top_m", walk_top_m, 1)
    refine_top_m = None if refine_top_m is None else check_int("refine_top_m", refine_top_m, 1)
    check_choice("tail", tail, ("background", "renormalize"))
    spectral_rank = None if spectral_rank is None else check_int("spectral_rank", spectral_rank, 0, also="or None")
    seed, progress = check_seed(seed), check_bool("progress", progress)
    return _build(eng, alpha, walks, top_m, refine, walk_top_m, refine_top_m, tail, spectral_rank, seed, progress,
                  shards or LocalShards())


class LocalShards:
    """Runs the two row-parallel steps of :func:`build_index` in this process.

    :mod:`graphrec.distributed` provides the same two methods over Ray workers; both give the
    same index for the same seed, since every block of walks draws from its own seeded
    generator and a refinement row depends only on the previous round's index.
    """

    def walk(self, eng: WalkEngine, alpha: float, walks: int, m: int, tail: str, seed: int, progress: bool) -> _Rows:
        return walk_block_rows(eng, range(num_walk_blocks(eng.num_nodes, walks)), alpha, walks, m, tail, seed, progress)

    def refine(self, eng: WalkEngine, index: PowerWalkIndex, m_out: int, progress: bool) -> _Rows:
        return _refine_rows(eng, index, torch.arange(eng.num_nodes, device=eng.device), progress, m_out=m_out)


#: walkers per block of start nodes: each block of ``WALKERS_PER_BLOCK // walks`` nodes draws its
#: walks from its own generator, seeded from the build seed and the block number
WALKERS_PER_BLOCK = 1 << 21


def num_walk_blocks(n: int, walks: int, block_walkers: int | None = None) -> int:
    """Number of seeded blocks the ``n`` start nodes fall into (at least one)."""
    per = max(1, (block_walkers or WALKERS_PER_BLOCK) // walks)
    return max(1, -(-n // per))


def walk_block_rows(
    eng: WalkEngine, blocks: Any, alpha: float, walks: int, m: int, tail: str, seed: int, progress: bool = False,
    block_walkers: int | None = None,
) -> _Rows:
    """Monte Carlo fingerprint rows of the start nodes in ``blocks`` (block numbers, ascending).

    Block ``b`` holds nodes ``[b * per, (b + 1) * per)`` with ``per = WALKERS_PER_BLOCK // walks``
    and draws from a generator seeded with ``derived_seed(seed * 999_983 + b)``: the rows of a
    block do not depend on which process computes it, or which other blocks it computes.
    """
    per = max(1, (block_walkers or WALKERS_PER_BLOCK) // walks)
    n, dev = eng.num_nodes, eng.device
    parts = []
    for b in tqdm(list(blocks), desc="powerwalk walks", unit="block", disable=not progress, leave=False):
        gen = torch.Generator(device=dev)
        gen.manual_seed(derived_seed(seed * 999_983 + int(b)))
        nodes = torch.arange(b * per, min((b + 1) * per, n), device=dev)
        parts.append(_walk_rows(eng, nodes, alpha, walks, m, tail, gen, False, chunk_walkers=per * walks))
    return _concat_rows(parts)


def _build(
    eng: WalkEngine, alpha: float, walks: int, top_m: int, refine: int, walk_top_m: int | None, refine_top_m: int | None,
    tail: str, spectral_rank: int | None, seed: int, progress: bool, shards: Any,
) -> PowerWalkIndex:
    """:func:`build_index` after its checks; ``shards`` computes the walk rows and each refinement round."""
    t0 = time.perf_counter()
    dev = eng.device
    m_walk = top_m if (walk_top_m is None or refine == 0) else walk_top_m
    rows = shards.walk(eng, alpha, walks, m_walk, tail, seed, progress)
    params = {
        "alpha": alpha, "walks": walks, "top_m": top_m, "refine": refine, "walk_top_m": m_walk,
        "refine_top_m": top_m if refine_top_m is None else refine_top_m, "tail": tail, "seed": seed,
        "walk": walk_record(eng), "dangling": _PSI,
    }
    index = PowerWalkIndex(
        rows.indptr, rows.cols, rows.vals, rows.residual, _background(eng), eng.node_types, eng.offsets.clone(), params, lost=rows.lost
    )
    for k in range(refine):
        m_out = top_m if k == refine - 1 else index.params["refine_top_m"]
        r = shards.refine(eng, index, m_out, progress)
        index.indptr, index.indices, index.values, index.residual, index.lost = _compact(r.indptr), _compact(r.cols), r.vals, r.residual, r.lost
    if spectral_rank is None:
        index.spectral = spectral_tail_or_none(eng, DEFAULT_SPECTRAL_RANK, alpha, seed=seed)
    elif spectral_rank > 0:
        index.spectral = spectral_tail(eng, spectral_rank, alpha, seed=seed)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    index.build_seconds = time.perf_counter() - t0
    index.params["build_seconds"] = index.build_seconds
    return index
