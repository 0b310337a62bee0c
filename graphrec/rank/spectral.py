"""The spectral tail of personalized PageRank on reversible walks.

For a reversible chain ``P = D^{-1} A`` (an undirected graph, ``A`` symmetric, ``d`` the
weighted degrees), ``S = D^{1/2} P D^{-1/2} = D^{-1/2} A D^{-1/2}`` is symmetric with
orthonormal eigenpairs ``(lambda_i, w_i)``, and the PPR operator is

    Pi = c (I - (1 - c) P)^{-1} = D^{-1/2} g(S) D^{1/2},     g(lambda) = c / (1 - (1 - c) lambda).

The slow modes (``|lambda|`` near 1: communities, and on bipartite graphs the user/item
alternation at ``lambda = -1``) carry the far-reaching, spread-out part of PPR, which is
exactly what a top-``M`` fingerprint drops. :class:`SpectralTail` keeps the ``r`` eigenpairs
of largest ``|lambda|`` and approximates a row vector's product with ``Pi`` by

    x Pi ~= x D^{-1/2} W (g(Lambda) - c) W^T D^{1/2} + c x,

i.e. the low-rank part of ``Pi`` plus the first term ``c (I - Q)`` of the remainder (``Q``
the projection on the kept modes). Applied to the frontier ``x_L = e_s P^L`` after ``L``
exact decomposition rounds, the error comes only from the dropped modes and shrinks like
``((1 - c) |lambda_r|)^{L + 1}``: Gowalla, ``r = 512``, ``L = 4`` gives mean L1 0.029 vs exact
PPR (``docs/benchmarks.md``).

The eigenpairs come from a randomized truncated SVD (Halko, Martinsson, Tropp 2011;
``torch.svd_lowrank``). On a bipartite walk ``S = [[0, B], [B^T, 0]]`` and the SVD of the
off-diagonal block ``B = U Sigma V^T`` gives the eigenpairs in ``±`` pairs,
``([u; ±v] / sqrt 2, ±sigma)``, at half the size.

References
----------
Chung. Spectral Graph Theory. AMS 1997 (normalised adjacency, random-walk spectrum).
Halko, Martinsson, Tropp. Finding structure with randomness. SIAM Review 53(2), 2011.
"""

from __future__ import annotations

import torch

from ..checks import check_int, check_seed
from ..graph.store import Graph, store_device
from ..walks.engine import WalkEngine
from .exact import _check_alpha, as_engine

__all__ = ["SpectralTail", "is_reversible", "spectral_tail", "spectral_tail_or_none"]

_OVERSAMPLE = 16


def _symmetrized(engine: WalkEngine) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``S = D^{1/2} P D^{-1/2}`` as COO ``(rows, cols, vals)`` plus ``sqrt(d)`` (float64)."""
    P = engine.transition_matrix()
    crow, col = P.crow_indices().to(torch.int64), P.col_indices().to(torch.int64)
    row = torch.repeat_interleave(torch.arange(engine.num_nodes, device=P.device), crow[1:] - crow[:-1])
    sq = engine._total_choice.clamp_min(0.0).sqrt()
    vals = P.values().to(torch.float64) * sq[row] / sq[col].clamp_min(1e-300)
    return row, col, vals, sq


def _reversible_symmetrized(
    engine: WalkEngine, rtol: float = 1e-4
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """:func:`_symmetrized` when ``S`` is symmetric (the walk is reversible), else ``None``."""
    row, col, vals, sq = _symmetrized(engine)
    n = engine.num_nodes
    if bool((engine.dangling & (torch.bincount(col, minlength=n) > 0)).any()):
        return None
    fwd = torch.argsort(row * n + col)
    bwd = torch.argsort(col * n + row)
    if not torch.equal(row[fwd], col[bwd]) or not torch.equal(col[fwd], row[bwd]):
        return None
    if not torch.allclose(vals[fwd], vals[bwd], rtol=rtol, atol=1e-12):
        return None
    return row, col, vals, sq


def is_reversible(engine: Graph | WalkEngine, rtol: float = 1e-4) -> bool:
    """Whether ``engine``'s chain is reversible w.r.t. its degrees (``S`` symmetric).

    True for the simple (or weighted) random walk on an undirected graph, e.g. the
    bipartite user–item walk, with or without trust edges stored in both directions; false
    for directed edges, ``mix='fixed'`` and dangling nodes with in-edges. A Graph is walked
    as its undirected user–item graph.
    """
    return _reversible_symmetrized(as_engine(engine), rtol) is not None


class SpectralTail:
    """Low-rank spectral approximation of ``x -> x Pi`` for a reversible walk.

    Stored per *slab* (a row range of the node space) as ``k`` vectors per row, ``V``
    (``(n, k)``), and per pair of slabs ``(a, b)`` a gain vector ``M[a, b]`` (``(k,)``):

        (x Pi)[rows of a] ~= sqrt(d_a) V_a  sum_b M[a, b] * (V_b^T (x_b / sqrt(d_b)))  +  c x_a.

    A general reversible walk has one slab, ``V = W`` (the eigenvectors) and
    ``M = g(Lambda) - c``. A bipartite walk has two (users, items), ``V`` holds ``U`` on the
    user rows and ``V`` on the item rows (the SVD of the user–item block), and the ``±sigma``
    eigenpairs fold into ``M[a, a] = (g(sigma) + g(-sigma)) / 2 - c`` and
    ``M[a, b] = (g(sigma) - g(-sigma)) / 2``: ``2k`` eigenpairs at the cost of ``k``.

    Attributes
    ----------
    vectors : FloatTensor ``(n, k)``; gains : FloatTensor ``(S, S, k)``;
    slabs : list of ``(lo, hi)`` row ranges; eigenvalues : FloatTensor ``(rank,)``;
    sqrt_degree : FloatTensor ``(n,)`` (zero for isolated nodes, whose PPR vector is ``e_v``);
    alpha : float, the restart probability ``c``.
    """

    def __init__(
        self,
        vectors: torch.Tensor,
        eigenvalues: torch.Tensor,
        sqrt_degree: torch.Tensor,
        alpha: float,
        slabs: list[tuple[int, int]] | None = None,
    ) -> None:
        n = sqrt_degree.numel()
        if vectors.dim() != 2 or vectors.shape[0] != n:
            raise ValueError(f"vectors must be (n={n}, k), got {tuple(vectors.shape)}")
        self.slabs = [(0, n)] if slabs is None else [(int(a), int(b)) for a, b in slabs]
        k = vectors.shape[1]
        if len(self.slabs) == 1 and eigenvalues.numel() != k:
            raise ValueError(f"one slab needs one eigenvalue per vector, got {eigenvalues.numel()} for {k}")
        if len(self.slabs) == 2 and eigenvalues.numel() != 2 * k:
            raise ValueError(f"a bipartite tail needs ±sigma pairs (2k = {2 * k} eigenvalues), got {eigenvalues.numel()}")
        if len(self.slabs) not in (1, 2):
            raise ValueError(f"slabs must be one range or two (bipartite), got {self.slabs}")
        alpha = _check_alpha(alpha)
        self.eigenvalues, self.sqrt_degree, self.alpha = eigenvalues, sqrt_degree, alpha
        self.vectors = vectors
        c = self.alpha
        g = c / (1.0 - (1.0 - c) * eigenvalues)
        if len(self.slabs) == 1:
            self.gains = (g - c).reshape(1, 1, k)
        else:
            same, cross = (g[:k] + g[k:]) / 2 - c, (g[:k] - g[k:]) / 2
            self.gains = torch.stack([torch.stack([same, cross]), torch.stack([cross, same])])
        inv_sqrt = torch.where(sqrt_degree > 0, 1.0 / sqrt_degree.clamp_min(1e-30), torch.zeros_like(sqrt_degree))
        self._project = (vectors * inv_sqrt[:, None]).contiguous()  # D^{-1/2} V
        self._expand = (vectors * sqrt_degree[:, None]).contiguous()  # D^{1/2} V
        self._isolated = (sqrt_degree <= 0).nonzero().squeeze(1)

    @property
    def rank(self) -> int:
        """Eigenpairs represented."""
        return self.eigenvalues.numel()

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self._project, self._expand, self.eigenvalues, self.sqrt_degree))

    def to(self, device: str | torch.device) -> SpectralTail:
        d = store_device(device)
        return SpectralTail(self.vectors.to(d), self.eigenvalues.to(d), self.sqrt_degree.to(d), self.alpha, self.slabs)

    def accumulate(self, out: torch.Tensor, x: torch.Tensor, weight: float = 1.0, live: list[tuple[int, int]] | None = None) -> None:
        """``out += weight * (x Pi)^T`` for column vectors, in place.

        Parameters
        ----------
        out, x : FloatTensor ``(n, B)``, one source per column (``out`` may be a strided view).
        live : row ranges where ``x`` may be non-zero (default: all); slabs outside them are
            skipped when projecting on the basis.
        """
        n = self._project.shape[0]
        if x.dim() != 2 or x.shape[0] != n or out.shape != x.shape:
            raise ValueError(f"x and out must both be (n={n}, B), got {tuple(x.shape)} and {tuple(out.shape)}")
        live = [(0, n)] if live is None else live
        coefs = []
        for lo, hi in self.slabs:
            if any(a < hi and lo < b for a, b in live):
                coefs.append(torch.mm(self._project[lo:hi].T, x[lo:hi]))  # (k, B)
            else:
                coefs.append(None)
        for a, (lo, hi) in enumerate(self.slabs):
            mixed = None
            for b, cb in enumerate(coefs):
                if cb is not None:
                    term = cb * self.gains[a, b][:, None]
                    mixed = term if mixed is None else mixed.add_(term)
            if mixed is not None:
                out[lo:hi].addmm_(self._expand[lo:hi], mixed, alpha=weight)
        out.add_(x, alpha=weight * self.alpha)
        if self._isolated.numel():
            iso = self._isolated
            out[iso] += (weight * (1.0 - self.alpha)) * x[iso]  # an isolated node's PPR vector is e_v

    def apply(self, x: torch.Tensor, live: list[tuple[int, int]] | None = None) -> torch.Tensor:
        """``(x Pi)^T`` as a new ``(n, B)`` tensor (see :meth:`accumulate`)."""
        out = torch.zeros_like(x)
        self.accumulate(out, x, 1.0, live)
        return out


def spectral_tail(engine: Graph | WalkEngine, rank: int, alpha: float, *, niter: int = 4, seed: int = 0) -> SpectralTail:
    """The ``rank`` slowest modes of ``engine``'s reversible walk as a :class:`SpectralTail`.

    Parameters
    ----------
    engine : WalkEngine whose chain is reversible (:func:`is_reversible`), or a Graph (its user–item walk).
    rank : int >= 1
        Eigenpairs kept (on a bipartite walk: ``rank // 2`` singular triplets of the
        user–item block, each giving a ``±`` pair; ``rank`` must then be even).
    alpha : restart probability ``c``.
    niter : power iterations of the randomized SVD.
    seed : seed of its random test matrix.

    Raises
    ------
    ValueError
        A non-reversible walk, ``rank`` < 1 or larger than the graph allows.
    """
    rank, niter, seed = check_int("rank", rank, 1), check_int("niter", niter, 0), check_seed(seed)
    alpha = _check_alpha(alpha)
    engine = as_engine(engine)
    parts = _reversible_symmetrized(engine)
    if parts is None:
        raise ValueError(
            "the spectral tail needs a reversible walk (undirected edges, mix='degree', no dangling node "
            "with in-edges); this engine's chain is not"
        )
    return _seeded_tail(engine, parts, rank, alpha, niter, seed)


def spectral_tail_or_none(engine: Graph | WalkEngine, rank: int, alpha: float, *, niter: int = 4, seed: int = 0) -> SpectralTail | None:
    """:func:`spectral_tail` with ``rank`` capped at what the graph allows, or ``None``.

    The cap is ``n`` (twice the smaller node type, rounded down to even, with two node
    types). ``None`` when the walk is not reversible or the capped rank is below 2.
    """
    rank, niter, seed = check_int("rank", rank), check_int("niter", niter, 0), check_seed(seed)
    alpha = _check_alpha(alpha)
    engine = as_engine(engine)
    parts = _reversible_symmetrized(engine)
    if parts is None:
        return None
    offs = engine._offsets_list
    cap = 2 * min(offs[1], offs[2] - offs[1]) if len(offs) == 3 else engine.num_nodes
    rank = min(rank, cap - cap % 2)
    if rank < 2:
        return None
    return _seeded_tail(engine, parts, rank, alpha, niter, seed)


def _seeded_tail(
    engine: WalkEngine, parts: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    rank: int, alpha: float, niter: int, seed: int,
) -> SpectralTail:
    """The SVD of the symmetrized walk ``parts`` under a forked, seeded RNG."""
    row, col, vals, sq = parts
    dev = engine.device
    offs = engine._offsets_list
    types = engine.node_type_of(row), engine.node_type_of(col)
    bipartite = len(offs) == 3 and bool((types[0] != types[1]).all())
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        return _svd_tail(engine, row, col, vals, sq, rank, alpha, bipartite, niter)


def _svd_tail(
    engine: WalkEngine, row: torch.Tensor, col: torch.Tensor, vals: torch.Tensor, sq: torch.Tensor,
    rank: int, alpha: float, bipartite: bool, niter: int,
) -> SpectralTail:
    """Randomized truncated SVD of ``S`` (or of its user–item block on a bipartite walk)."""
    n = engine.num_nodes
    offs = engine._offsets_list
    if bipartite:
        if rank % 2:
            raise ValueError(f"rank must be even on a bipartite walk (eigenvalues come in ± pairs), got {rank}")
        k = rank // 2
        nu, ni = offs[1], offs[2] - offs[1]
        if k > min(nu, ni):
            raise ValueError(f"rank {rank} exceeds twice the smaller side of the bipartite graph ({min(nu, ni)})")
        up = row < nu
        block = torch.sparse_coo_tensor(
            torch.stack([row[up], col[up] - nu]), vals[up].to(torch.float32), (nu, ni), check_invariants=False
        ).coalesce().to_sparse_csr()
        U, sig, V = torch.svd_lowrank(block, q=min(k + _OVERSAMPLE, nu, ni), niter=niter)
        sig, order = torch.sort(sig[:k], descending=True)
        vectors = torch.cat([U[:, order], V[:, order]]).contiguous()
        return SpectralTail(vectors, torch.cat([sig, -sig]), sq.to(torch.float32), alpha, [(0, nu), (nu, nu + ni)])
    if rank > n:
        raise ValueError(f"rank {rank} exceeds the number of nodes {n}")
    S = torch.sparse_coo_tensor(torch.stack([row, col]), vals.to(torch.float32), (n, n), check_invariants=False).coalesce().to_sparse_csr()
    U, sig, V = torch.svd_lowrank(S, q=min(rank + _OVERSAMPLE, n), niter=niter)
    U, sig, V = U[:, :rank], sig[:rank], V[:, :rank]
    sign = torch.sign((U * V).sum(0))  # symmetric S: v_i = sign(lambda_i) u_i
    eig = sig * torch.where(sign == 0, torch.ones_like(sign), sign)
    order = torch.argsort(eig.abs(), descending=True)
    return SpectralTail(U[:, order].contiguous(), eig[order].contiguous(), sq.to(torch.float32), alpha)
