"""GF-CF: a training-free graph filter for collaborative filtering.

Shen et al., "How Powerful is Graph Convolution for Recommendation?", CIKM 2021
(arXiv:2108.07567). With the binary interaction matrix ``R`` (users × items) and its
symmetric normalisation ``R̃ = D_u^-1/2 R D_i^-1/2`` (the store's cached ``graph.norm_adj()``),
a user's scores are

    s_u = r_u R̃ᵀR̃  +  alpha · r_u D_i^-1/2 V_k V_kᵀ D_i^1/2

The first term is the linear (normalised item–item) low-pass filter; the second is the ideal
low-pass filter built from the top-``k`` right singular vectors ``V_k`` of ``R̃``. The paper
uses ``alpha = 0.3`` and ``k = 256`` on Gowalla (Recall@20 0.1849).

Scoring never forms an item × item matrix (only the exact SVD of a small graph, at most 4096
items, builds the Gram matrix ``R̃ᵀR̃``). For a batch of ``B`` users the linear term is two sparse
steps: ``T = R_B R̃ᵀ`` by gathering the rows of ``R̃ᵀ`` of each user's items and adding them
into a dense ``(n_users, B)`` block (work = the batch's two-hop paths), then ``R̃ᵀ T`` as one
SpMM. The ideal term is a gather into ``(B, k)`` and one dense ``(B, k) @ (k, n_items)``
product. The truncated SVD is a seeded randomised block power method (Halko, Martinsson &
Tropp, SIAM Review 2011) over the sparse ``R̃`` and its cached transpose, orthonormalised by
Cholesky-QR in float64; small matrices use an exact eigendecomposition of ``R̃ᵀR̃``.

Optional sharpening (``sharpen = T > 0``) follows BSPM (Choi et al., "Blurring-Sharpening
Process Models for Collaborative Filtering", SIGIR 2023): the GF-CF scores ``s`` are the start
of the reverse heat equation ``ds/dt = -s R̃ᵀR̃`` run for time ``T`` with one RK4 step, i.e.
``s · Σ_{j<=4} (-T R̃ᵀR̃)^j / j!`` — four more pairs of SpMMs per user block. It sharpens the
over-smoothed ranking (BSPM uses T = 2.5 on Gowalla).

The best ``k`` moves with the data (32–64 on MovieLens-100K, 128 on LastFM, 512 on
Gowalla; a fixed 448 loses to the linear filter alone on MovieLens-100K), so parameters left at
``"auto"`` (the default) are chosen on a validation split carved from the training data
(never from test): a seeded per-user 10% of train, NDCG@20 on a sample of its users, ``k`` and
``alpha`` over a grid (one SVD at the largest ``k``; smaller ``k`` reuse its leading vectors),
then ``sharpen`` for the two best pairs. The model is then refit on the whole training graph.
Pass numbers (e.g. ``alpha=0.3, k=256, sharpen=0``) for the paper's fixed filter.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from ..checks import check_int, check_number, check_seed, derived_seed
from ..eval.metrics import ndcg
from ..eval.protocol import ranking_hits
from ..graph.edges import EdgeType
from ..graph.ops import gather_rows
from ..graph.store import Graph
from .base import Recommender
from .registry import register

__all__ = ["GFCF", "randomized_svd"]

#: candidate values tried for parameters left to ``"auto"``
K_GRID = (32, 64, 128, 256, 512)
ALPHA_GRID = (0.1, 0.2, 0.3, 0.5)
SHARPEN_GRID = (0.0, 0.5, 1.0, 2.5)
#: the paper's values, used when a graph has no user to validate on
PAPER_DEFAULTS = {"alpha": 0.3, "k": 256, "sharpen": 0.0}

#: matrices with at most this many entries (and items) get an exact dense decomposition
_DENSE_SVD_MAX_ENTRIES = 4_000_000
_DENSE_SVD_MAX_ITEMS = 4096


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run small LAPACK factorisations on one thread.

    On a shared machine with few cores, multi-threaded ``eigh``/``cholesky`` on matrices of a
    few thousand rows can be 30x slower than one thread (threads wait on each other); these
    calls are too small to gain from threads anyway.
    """
    n = torch.get_num_threads()
    if n > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if n > 1:
            torch.set_num_threads(n)


def _orthonormalize(y: torch.Tensor) -> torch.Tensor:
    """Orthonormal basis of the columns of ``y`` ``(n, l)`` by Cholesky-QR (twice), float64 Gram.

    Falls back to Householder QR when the Gram matrix is numerically singular.
    """
    q = y
    for _ in range(2):
        q64 = q.to(torch.float64)
        gram = q64.T @ q64
        with _one_thread():
            chol, info = torch.linalg.cholesky_ex(gram)
        if int(info) != 0:
            return torch.linalg.qr(y.to(torch.float64))[0].to(y.dtype)
        q = torch.linalg.solve_triangular(chol, q64.T, upper=False).T.to(y.dtype)
    return q


def randomized_svd(
    mat: torch.Tensor,
    mat_t: torch.Tensor,
    k: int,
    *,
    oversample: int = 64,
    iters: int = 6,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` singular values and right singular vectors of a sparse matrix.

    Randomised block power iteration (Halko, Martinsson & Tropp 2011, Alg. 4.4 + 5.1) using
    only products with ``mat`` and ``mat_t``.

    Parameters
    ----------
    mat : sparse CSR Tensor ``(m, n)``
    mat_t : sparse CSR Tensor ``(n, m)``, the transpose of ``mat``
    k : int
        Number of singular triplets, ``1 <= k <= min(m, n)``.
    oversample : int
        Extra columns in the random block (accuracy of the trailing vectors).
    iters : int
        Power iterations (each costs two SpMMs and two orthonormalisations).
    generator : torch.Generator, optional
        CPU generator for the Gaussian start block (seeded determinism on any device).

    Returns
    -------
    (s, v) : Tensor ``(k,)`` float32 descending, Tensor ``(n, k)`` float32 orthonormal columns.
    """
    m, n = mat.shape
    k = check_int("k", k, 1, min(m, n))
    oversample, iters = check_int("oversample", oversample, 0), check_int("iters", iters, 0)
    width = min(k + oversample, min(m, n))
    omega = torch.randn(n, width, generator=generator, dtype=torch.float32).to(mat.device)
    q = _orthonormalize(torch.sparse.mm(mat, omega))
    for _ in range(iters):
        z = _orthonormalize(torch.sparse.mm(mat_t, q))
        q = _orthonormalize(torch.sparse.mm(mat, z))
    bt = torch.sparse.mm(mat_t, q).to(torch.float64)  # (n, width) = (Qᵀ mat)ᵀ
    gram = bt.T @ bt
    with _one_thread():
        evals, evecs = torch.linalg.eigh(gram)  # ascending
    evals, evecs = evals.flip(0)[:k], evecs.flip(1)[:, :k]
    s = evals.clamp(min=0).sqrt()
    v = bt @ (evecs / s.clamp(min=1e-12))
    return s.to(torch.float32), v.to(torch.float32)


def _dense_svd(mat: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact top-``k`` singular values / right vectors of a small sparse ``mat`` ``(m, n)``.

    From the eigendecomposition of the ``(n, n)`` Gram matrix ``matᵀ mat`` in float64
    (LAPACK's symmetric eigensolver is far faster than a full SVD here).
    """
    dense = mat.to_dense().to(torch.float64)
    gram = dense.T @ dense
    with _one_thread():
        evals, evecs = torch.linalg.eigh(gram)  # ascending
    s = evals.flip(0)[:k].clamp(min=0).sqrt()
    return s.to(torch.float32), evecs.flip(1)[:, :k].contiguous().to(torch.float32)


@dataclass
class _Filter:
    """Precomputed pieces of the filter for one training graph."""

    r: torch.Tensor  # R̃ (U, I) sparse CSR
    rt: torch.Tensor  # R̃ᵀ (I, U) sparse CSR
    left: torch.Tensor | None  # D_i^-1/2 V (I, k)
    right: torch.Tensor | None  # Vᵀ D_i^1/2 (k, I)
    singular_values: torch.Tensor | None  # (k,)


def _auto_number(name: str, value: Any) -> float | str:
    """``"auto"``, or a finite number >= 0."""
    return "auto" if _is_auto(value) else check_number(name, value, 0, also="or 'auto'")


def _auto_int(name: str, value: Any) -> int | str:
    """``"auto"``, or an integer >= 1."""
    return "auto" if _is_auto(value) else check_int(name, value, 1, also="or 'auto'")


def _is_auto(value: Any) -> bool:
    return isinstance(value, str) and value == "auto"


class GFCF(Recommender):
    """GF-CF: linear item–item filter plus the ideal low-pass filter (training-free).

    Parameters
    ----------
    graph : Graph, optional
        Training graph (or pass it, or a Dataset, to :meth:`fit`).
    alpha : float or 'auto'
        Weight of the ideal low-pass term; ``0`` gives the linear filter alone (paper: 0.3).
    k : int or 'auto'
        Number of singular vectors of ``R̃`` in the ideal low-pass term (paper: 256 on
        Gowalla); clipped to ``min(n_users, n_items)``. Unused when ``alpha == 0``.
    sharpen : float or 'auto'
        BSPM sharpening time ``T``; ``0`` is plain GF-CF.
    seed : int
        Seeds the validation carve-out, the tuning user sample and the randomised SVD.
    valid_fraction : float
        Share of each user's training interactions held out to choose ``"auto"`` parameters
        (used only when the data has no ``valid`` split).
    tune_users : int
        At most this many validation users score each candidate.
    svd_iters, svd_oversample : int
        Power iterations and extra columns of the randomised SVD.
    batch_users : int
        Users per internal scoring block (memory ``batch_users * (n_users + n_items)`` floats).

    Attributes
    ----------
    alpha_, k_, sharpen_ : the values in use after :meth:`fit`.
    tuning_ : list of dict — every candidate tried with its validation NDCG@20 (empty when
        nothing was ``"auto"``).
    tuned_ : bool — whether :meth:`fit` chose any parameter on validation data (``tuning_`` is
        not empty). Not part of :meth:`params`, which lists constructor keywords only.

    References
    ----------
    Y. Shen, Y. Wu, Y. Zhang, C. Shan, J. Zhang, K. B. Letaief, D. Li. How Powerful is Graph
    Convolution for Recommendation? CIKM 2021. J. Choi, S. Hong, N. Park, S.-B. Cho.
    Blurring-Sharpening Process Models for Collaborative Filtering. SIGIR 2023.
    """

    name = "gfcf"
    demo_params: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        alpha: float | str = "auto",
        k: int | str = "auto",
        sharpen: float | str = "auto",
        seed: int = 0,
        valid_fraction: float = 0.1,
        tune_users: int = 4000,
        svd_iters: int = 6,
        svd_oversample: int = 64,
        batch_users: int = 1024,
        etype: EdgeType = ("user", "interacts", "item"),
    ) -> None:
        super().__init__(graph, etype=etype)
        self.alpha = _auto_number("alpha", alpha)
        self.k = _auto_int("k", k)
        self.sharpen = _auto_number("sharpen", sharpen)
        self.seed = check_seed(seed)
        self.valid_fraction = check_number("valid_fraction", valid_fraction, 0, 1, low_open=True, high_open=True)
        self.tune_users = check_int("tune_users", tune_users, 1)
        self.batch_users = check_int("batch_users", batch_users, 1)
        self.svd_iters = check_int("svd_iters", svd_iters, 0)
        self.svd_oversample = check_int("svd_oversample", svd_oversample, 0)
        self.alpha_: float | None = None
        self.k_: int | None = None
        self.sharpen_: float | None = None
        self.tuning_: list[dict[str, float]] = []
        self.tuned_ = False

    def params(self) -> dict[str, Any]:
        """Constructor keywords (after :meth:`fit`, the values in use), so ``create("gfcf", **m.params())`` rebuilds the model."""
        rest = {"seed": self.seed, "valid_fraction": self.valid_fraction, "tune_users": self.tune_users,
                "batch_users": self.batch_users, "svd_iters": self.svd_iters, "svd_oversample": self.svd_oversample}
        if self._fitted:  # k_ is 0 when the ideal term is off (alpha 0): the constructor's k then
            return {"alpha": self.alpha_, "k": self.k_ or self.k, "sharpen": self.sharpen_, **rest}
        return {"alpha": self.alpha, "k": self.k, "sharpen": self.sharpen, **rest}

    @property
    def singular_values(self) -> torch.Tensor | None:
        """Top singular values of ``R̃`` used by the ideal term ``(k_,)``, or ``None``."""
        return self._filter.singular_values if getattr(self, "_filter", None) is not None else None

    # ------------------------------------------------------------- building
    def _prepare(self, graph: Graph, k: int) -> _Filter:
        """Normalised blocks of ``graph`` and, when ``k > 0``, the ideal term's factors."""
        es = graph.edges(self.etype)
        r, rt = graph.norm_adj(self.etype)
        if k <= 0:
            return _Filter(r, rt, None, None, None)
        n_u, n_i = es.num_src, es.num_dst
        k = min(k, n_u, n_i)
        if n_u * n_i <= _DENSE_SVD_MAX_ENTRIES and n_i <= _DENSE_SVD_MAX_ITEMS:
            s, v = _dense_svd(r, k)
        else:
            gen = torch.Generator().manual_seed(self.seed)
            s, v = randomized_svd(r, rt, k, oversample=self.svd_oversample, iters=self.svd_iters, generator=gen)
        di = es.degree("dst").to(torch.float32)
        inv_sqrt = torch.where(di > 0, di.rsqrt(), torch.zeros_like(di))
        return _Filter(r, rt, v * inv_sqrt[:, None], (v * di.sqrt()[:, None]).T.contiguous(), s)

    def _fit(self, train: Graph, valid: Graph | None = None, **_: Any) -> None:
        alpha, k, sharpen = self.alpha, self.k, self.sharpen
        self.tuning_ = []
        if alpha == 0:
            k = 0 if k == "auto" else k  # the ideal term is off: no SVD, nothing to tune for k
        if "auto" in (alpha, k, sharpen):
            alpha, k, sharpen = self._tune(train, valid, alpha, k, sharpen)
        self.alpha_, self.k_, self.sharpen_ = float(alpha), int(k), float(sharpen)
        self.tuned_ = bool(self.tuning_)
        self._filter = self._prepare(train, self.k_ if self.alpha_ > 0 else 0)
        if self._filter.left is not None:
            self.k_ = int(self._filter.left.shape[1])

    # ------------------------------------------------- growth, persistence
    #: :meth:`update` rebuilds the filter over the grown graph with the parameters in use (no re-tuning)
    supports_update = True

    def _update(self, graph: Graph) -> None:
        self._filter = self._prepare(graph, self.k_ if self.alpha_ else 0)

    def _get_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        f = self._filter
        tensors = {} if f.left is None else {"left": f.left, "right": f.right, "singular_values": f.singular_values}
        return tensors, {"alpha_": self.alpha_, "k_": self.k_, "sharpen_": self.sharpen_, "tuning_": self.tuning_}

    def _set_state(self, graph: Graph, tensors: dict[str, torch.Tensor], extra: dict[str, Any]) -> None:
        self.alpha_, self.k_, self.sharpen_ = float(extra["alpha_"]), int(extra["k_"]), float(extra["sharpen_"])
        self.tuning_ = list(extra.get("tuning_", []))
        self.tuned_ = bool(self.tuning_)
        r, rt = graph.norm_adj(self.etype)
        self._filter = _Filter(r, rt, tensors.get("left"), tensors.get("right"), tensors.get("singular_values"))

    # ------------------------------------------------------------- scoring
    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Scores ``(B, n_items)`` float32 for user indices ``users`` ``(B,)``."""
        self._require_fitted()
        users = users.to(self.device, torch.int64)
        outs = []
        for s in range(0, users.numel(), self.batch_users):
            ub = users[s : s + self.batch_users]
            lin, z = self._parts(self.graph, self._filter, ub)
            y = lin if z is None or self.alpha_ == 0 else torch.addmm(lin, z, self._filter.right, alpha=self.alpha_)
            if self.sharpen_:
                powers = self._powers(self._filter, y)
                y = _taylor(powers, self.sharpen_).T
            outs.append(y.contiguous())
        if not outs:
            return torch.zeros(0, self.num_items, device=self.device)
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    def _parts(self, graph: Graph, f: _Filter, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Linear scores ``r_B R̃ᵀR̃`` ``(B, I)`` and the ideal term's ``r_B D^-1/2 V`` ``(B, k)``."""
        es = graph.edges(self.etype)
        n_u, b = es.num_src, users.numel()
        row, items, _ = gather_rows(es.indptr, es.indices, users)  # binary r_B as (row, item) pairs
        # T = (r_B R̃ᵀ)ᵀ as a dense (n_users, B) block: sum the R̃ᵀ rows of each user's items
        pos, nbr, epos = gather_rows(f.rt.crow_indices(), f.rt.col_indices(), items)
        t = torch.zeros(n_u * b, device=users.device)
        t.index_add_(0, nbr * b + row[pos], f.rt.values()[epos])
        lin = torch.sparse.mm(f.rt, t.view(n_u, b)).T  # (B, I)
        if f.left is None:
            return lin, None
        z = torch.zeros(b, f.left.shape[1], device=users.device)
        z.index_add_(0, row, f.left[items])
        return lin, z

    @staticmethod
    def _powers(f: _Filter, y: torch.Tensor) -> list[torch.Tensor]:
        """``[yᵀ, (y P)ᵀ, ..., (y P⁴)ᵀ]`` with ``P = R̃ᵀR̃``, each ``(I, B)``."""
        out = [y.T.contiguous()]
        for _ in range(4):
            out.append(torch.sparse.mm(f.rt, torch.sparse.mm(f.r, out[-1])))
        return out

    # -------------------------------------------------------------- tuning
    def _tune(self, train: Graph, valid: Graph | None, alpha: Any, k: Any, sharpen: Any) -> tuple[float, int, float]:
        """Choose the ``"auto"`` parameters by validation NDCG@20; returns ``(alpha, k, sharpen)``."""
        from ..train.bpr import carve_validation

        if valid is None:
            fit_graph, valid = carve_validation(train, self.valid_fraction, self.seed, etype=self.etype)
        else:
            fit_graph, valid = train, valid.to(train.device)
        ves = valid.edges(self.etype)
        users = torch.nonzero(ves.degree("src") > 0).squeeze(1)
        if users.numel() == 0:
            return tuple(PAPER_DEFAULTS[n] if v == "auto" else v for n, v in (("alpha", alpha), ("k", k), ("sharpen", sharpen)))  # type: ignore[return-value]
        if users.numel() > self.tune_users:
            gen = torch.Generator().manual_seed(derived_seed(self.seed + 1))
            users = users[torch.randperm(users.numel(), generator=gen)[: self.tune_users].to(users.device)].sort().values
        es = fit_graph.edges(self.etype)
        kmax_allowed = min(es.num_src, es.num_dst)
        ks = sorted({min(x, kmax_allowed) for x in K_GRID}) if k == "auto" else [min(int(k), kmax_allowed)]
        alphas = list(ALPHA_GRID) if alpha == "auto" else [float(alpha)]
        if alphas == [0.0]:
            ks = [0]
        sharpens = list(SHARPEN_GRID) if sharpen == "auto" else [float(sharpen)]
        f = self._prepare(fit_graph, max(ks))
        pairs = [(kk, a) for kk in ks for a in alphas]
        totals = {p: 0.0 for p in pairs}
        blocks = [users[s : s + self.batch_users] for s in range(0, users.numel(), self.batch_users)]
        judge = _Judge(fit_graph, valid, self.etype, es.num_dst)
        prepared = [judge.prepare(ub) for ub in blocks]
        with torch.no_grad():
            for ub, pb in zip(blocks, prepared):
                lin, z = self._parts(fit_graph, f, ub)
                for kk, a, y in _pair_scores(lin, z, f.right, ks, alphas):
                    totals[(kk, a)] += judge.ndcg_sum(y, pb)
            n = users.numel()
            for (kk, a), tot in totals.items():
                self.tuning_.append({"k": kk, "alpha": a, "sharpen": 0.0 if 0.0 in sharpens else float("nan"), "ndcg@20": tot / n})
            best_pairs = sorted(pairs, key=lambda p: -totals[p])[:2]
            nonzero = [t for t in sharpens if t > 0]
            scored = {(kk, a, 0.0): totals[(kk, a)] for kk, a in best_pairs} if 0.0 in sharpens else {}
            if nonzero:
                for kk, a in best_pairs:
                    sub = {(kk, a, t): 0.0 for t in nonzero}
                    for ub, pb in zip(blocks, prepared):
                        lin, z = self._parts(fit_graph, f, ub)
                        y = lin if z is None or a == 0 else torch.addmm(lin, z[:, :kk], f.right[:kk], alpha=a)
                        powers = self._powers(f, y)
                        for t in nonzero:
                            sub[(kk, a, t)] += judge.ndcg_sum(_taylor(powers, t).T, pb)
                    for key, tot in sub.items():
                        self.tuning_.append({"k": key[0], "alpha": key[1], "sharpen": key[2], "ndcg@20": tot / n})
                    scored.update(sub)
        best = max(scored, key=lambda c: scored[c])
        return best[1], best[0], best[2]


def _pair_scores(
    lin: torch.Tensor, z: torch.Tensor | None, right: torch.Tensor | None, ks: list[int], alphas: list[float]
) -> Iterator[tuple[int, float, torch.Tensor]]:
    """Yield ``(k, alpha, lin + alpha * ideal_k)`` for every pair, building ``ideal_k`` incrementally over sorted ``ks``."""
    if z is None or right is None:
        for a in alphas:
            yield 0, a, lin.clone()
        return
    ideal = torch.zeros_like(lin)
    prev = 0
    for kk in ks:
        if kk > prev:
            ideal.addmm_(z[:, prev:kk], right[prev:kk])
            prev = kk
        for a in alphas:
            yield kk, a, lin + a * ideal


def _taylor(powers: list[torch.Tensor], t: float) -> torch.Tensor:
    """``Σ_j (-t)^j / j! · powers[j]`` — one RK4 step of ``ds/dt = -s P`` (shape of ``powers[0]``)."""
    out = powers[0].clone()
    for j in range(1, len(powers)):
        out.add_(powers[j], alpha=(-t) ** j / math.factorial(j))
    return out


class _Judge:
    """NDCG@20 of score blocks against held-out interactions, training items masked."""

    def __init__(self, train: Graph, valid: Graph, etype: EdgeType, n_items: int, k: int = 20) -> None:
        self.train, self.valid, self.n_items, self.k = train.edges(etype), valid.edges(etype), n_items, min(k, n_items)

    def prepare(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Flat keys ``row * n_items + item`` of a block's training (masked) and held-out items, and its held-out counts."""
        b, c, _ = gather_rows(self.train.indptr, self.train.indices, users)
        masked = b * self.n_items + c
        b, c, _ = gather_rows(self.valid.indptr, self.valid.indices, users)
        n_test = (self.valid.indptr[users + 1] - self.valid.indptr[users]).to(torch.int64)
        return masked, b * self.n_items + c, n_test

    def ndcg_sum(self, scores: torch.Tensor, block: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> float:
        """Sum of the block's per-user NDCG@k, ranked as :func:`graphrec.evaluate` ranks; ``scores``
        ``(B, n_items)`` is overwritten."""
        masked, truth, n_test = block
        hits, _, _ = ranking_hits(scores.contiguous(), self.k, truth, [masked])
        return float(ndcg(hits, n_test, self.k).sum())


register("gfcf", GFCF)
