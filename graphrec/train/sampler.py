"""Training-pair and uniform negative sampling for BPR (Rendle et al., UAI 2009).

:class:`UniformNegativeSampler` draws, for each ``(user, positive)`` pair, an item uniformly
from the items the user has *not* interacted with in training; it never returns a training
positive. Membership is one vectorised ``searchsorted`` over the sorted keys
``user * n_items + item`` of the training CSR (its rows are already sorted, so the keys are
too). The default ``method='rejection'`` draws uniformly over all items, checks the draws and
redraws only the collisions; users left colliding after ``max_rounds`` (those who interacted
with almost every item) get an exact draw by inversion: with a row's sorted positives
``p_0 < p_1 < ...``, ``q_j = p_j - j`` counts the negatives below ``p_j``, so the ``r``-th
negative is ``r + #{j : q_j <= r}`` — one more ``searchsorted``. ``method='inverse'`` uses
the inversion for every draw. Both are exactly uniform over each user's negatives.

:func:`epoch_pairs` shuffles the training pairs for one epoch (``'pairs'``), or draws users
uniformly and then a random positive of each (``'users'``, LightGCN's original sampler).
Random numbers come from a CPU ``torch.Generator`` and are moved to the graph's device, so a
seed gives the same samples on every device.
"""

from __future__ import annotations

import torch

from ..checks import check_choice, check_int
from ..graph.edges import EdgeType
from ..graph.store import INTERACTS, Graph

__all__ = ["UniformNegativeSampler", "epoch_pairs"]


def _uniform_ints(high: torch.Tensor | int, n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """``n`` integers uniform in ``[0, high)`` (``high`` a scalar or an ``(n,)`` tensor), int64 on ``device``."""
    u = torch.rand(n, generator=generator, dtype=torch.float64).to(device)
    if isinstance(high, torch.Tensor):
        high = high.to(device=device, dtype=torch.float64)
        return torch.minimum((u * high).to(torch.int64), (high - 1).to(torch.int64))
    return torch.clamp((u * high).to(torch.int64), max=int(high) - 1)


class UniformNegativeSampler:
    """Uniform negatives over the complement of each user's training items.

    Parameters
    ----------
    indptr : Tensor ``(n_users + 1,)``; indices : Tensor ``(nnz,)``
        Training CSR (user -> item), columns sorted within rows; a repeated column (a
        multi-edge) is one positive.
    num_items : int
    method : {'rejection', 'inverse'}
    max_rounds : int
        Rejection rounds before the remaining collisions switch to the exact inversion.

    Raises
    ------
    ValueError
        If a user has interacted with every item (no negative exists), the columns are not
        sorted within rows, or arguments are bad.
    IndexError
        If an item index is outside ``[0, num_items)``.
    """

    def __init__(
        self,
        indptr: torch.Tensor,
        indices: torch.Tensor,
        num_items: int,
        *,
        method: str = "rejection",
        max_rounds: int = 16,
    ) -> None:
        self.method = check_choice("method", method, ("rejection", "inverse"))
        self.num_items = check_int("num_items", num_items, 1)
        self.max_rounds = check_int("max_rounds", max_rounds, 0)
        self.device = indices.device
        self.indptr = indptr.to(torch.int64)
        self.degree = self.indptr[1:] - self.indptr[:-1]
        row = torch.repeat_interleave(torch.arange(self.degree.numel(), device=self.device), self.degree)
        col = indices.to(torch.int64)
        if col.numel() and (int(col.min()) < 0 or int(col.max()) >= self.num_items):
            raise IndexError(f"item index out of range [0, {self.num_items})")
        self._keys = row * self.num_items + col  # sorted: CSR rows ascend, columns sorted within rows
        step = self._keys[1:] - self._keys[:-1]
        if bool((step < 0).any()):
            raise ValueError("indices must be sorted within each row of the CSR")
        if bool((step == 0).any()):  # multi-edges: a repeated positive is one positive
            self._keys = self._keys[torch.cat([step.new_ones(1, dtype=torch.bool), step > 0])]
            row, col = self._keys // self.num_items, self._keys % self.num_items
            self.degree = torch.bincount(row, minlength=self.degree.numel())
            self.indptr = torch.cat([self.indptr.new_zeros(1), torch.cumsum(self.degree, 0)])
        full = torch.nonzero(self.degree >= self.num_items).squeeze(1)
        if full.numel():
            raise ValueError(f"user index {int(full[0])} has interacted with all {num_items} items; no negative exists")
        # inversion keys: row * (n_items + 1) + (p_j - j), non-decreasing
        rank = torch.arange(col.numel(), device=self.device) - self.indptr[row]
        self._gap_keys = row * (self.num_items + 1) + (col - rank)

    @classmethod
    def from_graph(cls, graph: Graph, etype: EdgeType = INTERACTS, **kw: object) -> UniformNegativeSampler:
        """A sampler over ``graph``'s ``etype`` edges."""
        es = graph.edges(etype)
        return cls(es.indptr, es.indices, es.num_dst, **kw)  # type: ignore[arg-type]

    def is_positive(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """BoolTensor ``(B,)``: is ``(users[b], items[b])`` a training interaction?"""
        if self._keys.numel() == 0:
            return torch.zeros(users.numel(), dtype=torch.bool, device=users.device)
        q = users.to(torch.int64) * self.num_items + items.to(torch.int64)
        pos = torch.searchsorted(self._keys, q).clamp_(max=self._keys.numel() - 1)
        return self._keys[pos] == q

    def _inverse(self, users: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n_neg = self.num_items - self.degree[users]
        r = _uniform_ints(n_neg, users.numel(), generator, self.device)
        q = users * (self.num_items + 1) + r
        below = torch.searchsorted(self._gap_keys, q, right=True) - self.indptr[users]
        return r + below

    def sample(self, users: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One negative item per entry of ``users``.

        Parameters
        ----------
        users : LongTensor ``(B,)`` user indices (repeats allowed) on the sampler's device
        generator : torch.Generator, optional
            CPU generator for the random numbers.

        Returns
        -------
        LongTensor ``(B,)`` of item indices, none of them a training positive of its user.
        """
        users = users.to(self.device, torch.int64)
        if users.numel() and (int(users.min()) < 0 or int(users.max()) >= self.degree.numel()):
            raise IndexError(f"user index out of range [0, {self.degree.numel()})")
        if self.method == "inverse":
            return self._inverse(users, generator)
        neg = _uniform_ints(self.num_items, users.numel(), generator, self.device)
        todo = torch.nonzero(self.is_positive(users, neg)).squeeze(1)
        rounds = 0
        while todo.numel():
            if rounds >= self.max_rounds:
                neg[todo] = self._inverse(users[todo], generator)
                break
            redraw = _uniform_ints(self.num_items, todo.numel(), generator, self.device)
            neg[todo] = redraw
            todo = todo[self.is_positive(users[todo], redraw)]
            rounds += 1
        return neg


def epoch_pairs(
    graph: Graph,
    generator: torch.Generator | None = None,
    *,
    etype: EdgeType = INTERACTS,
    mode: str = "pairs",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``(users, positives)`` of one training epoch, ``|E|`` of each, on ``graph.device``.

    ``mode='pairs'`` is a random permutation of the training pairs; ``mode='users'`` draws
    ``|E|`` users uniformly among users with interactions and a uniform positive of each
    (LightGCN's original sampler, which weighs users equally).
    """
    es = graph.edges(etype)
    device = es.device
    n = es.num_edges
    if mode == "pairs":
        perm = torch.randperm(n, generator=generator).to(device)
        users = es.row()[perm]
        items = es.indices.to(torch.int64)[perm]
        return users, items
    if mode == "users":
        deg = es.degree("src")
        active = torch.nonzero(deg > 0).squeeze(1)
        users = active[_uniform_ints(active.numel(), n, generator, device)]
        offset = _uniform_ints(deg[users], n, generator, device)
        items = es.indices.to(torch.int64)[es.indptr.to(torch.int64)[users] + offset]
        return users, items
    raise ValueError(f"sampling mode must be 'pairs' or 'users', got {mode!r}")
