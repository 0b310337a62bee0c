"""Seeded synthetic recommendation graphs: planted communities, heavy tails, time, trust, Sybils.

The built-in default dataset of graphrec. One call builds a :class:`~graphrec.graph.Graph` with

- ``user -interacts-> item`` edges with float weights and int64 timestamps, drawn from a
  degree-corrected planted-partition model: users and items each belong to one of ``C``
  communities (the stochastic block model of Holland, Laskey & Leinhardt, Social Networks
  1983); a user's interaction lands in its own community with probability
  ``community_strength``, else anywhere; within the chosen set an item is picked with
  probability proportional to its popularity.
- heavy-tailed user activity and item popularity: expected degrees follow Zipf's law
  ``w_r ∝ r^(-1/(γ-1))`` over a random ranking, so degrees are power-law with exponent ``γ``
  (``degree_exponent``), as in the expected-degree model of Chung & Lu (PNAS 2002).
- timestamps: every user is active during its own random window inside ``time_span``; its
  interactions fall uniformly in that window, so global and per-user temporal splits are
  meaningful.
- homophilous ``user -trusts-> user`` edges: mostly inside the user's community, endpoints
  chosen in proportion to activity (active users are trusted more).
- optional Sybil regions (SybilGuard's threat model, Yu et al., SIGCOMM 2006; the star /
  serial / parallel attacks of MeritRank, Nasrulin, Ishmaev & Pouwelse, 2022): fake users that
  trust each other in a chosen topology, reach the honest region through exactly
  ``attack_edges`` honest–Sybil pairs and interact heavily with a few target items.

Everything is vectorised numpy (one sort per edge set, inside :meth:`Graph.add_edges`); a
10M-edge graph builds in seconds. Each part of the graph draws from its own child stream of
``numpy.random.SeedSequence(seed)``, so the same seed gives identical tensors on any device,
and adding a Sybil region leaves the honest part of the graph unchanged.

Examples
--------
>>> g = make_graph(num_users=100, num_items=50, avg_degree=5, seed=1)
>>> g.num_nodes("user"), g.num_nodes("item")
(100, 50)
>>> bool((g.degree("interacts") >= 1).all())
True
>>> data = make_dataset(num_users=100, num_items=50, avg_degree=8, seed=1)
>>> data.name
'synthetic'
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from ..checks import check_bool, check_choice, check_int, check_number, check_seed
from ..graph.idmap import IdMap
from ..graph.store import INTERACTS, ITEM, TRUSTS, USER, Graph
from .dataset import Dataset
from .splits import random_holdout_mask, split_by_mask

__all__ = ["DEFAULT_TIME_SPAN", "TOPOLOGIES", "SybilSpec", "make_dataset", "make_graph"]

#: Sybil-region shapes understood by :class:`SybilSpec`.
TOPOLOGIES = ("star", "serial", "parallel", "clique")

#: 2010-01-01 .. 2020-01-01 in unix seconds.
DEFAULT_TIME_SPAN = (1_262_304_000, 1_577_836_800)

# child streams of SeedSequence(seed); fixed positions keep parts independent of each other
_S_COMMUNITY, _S_ACTIVITY, _S_ITEMS, _S_TIME, _S_WEIGHT, _S_TRUST, _S_SYBIL, _S_SPLIT = range(8)
_N_STREAMS = 8

#: interaction weights are float32: the largest one
_F32_MAX = float(np.finfo(np.float32).max)

#: timestamps are int64, and so is the width of every user's active window
_INT64_MAX = 2**63 - 1

#: log-normal engagement weights: sigma, and the mean log-weight of in-community draws
_WEIGHT_SIGMA = 0.5
_WEIGHT_IN_COMMUNITY_MU = math.log(2.0)


# ---------------------------------------------------------------------------- validation
# A value of the wrong kind (a float or str for a count, a str for a rate) is a TypeError here,
# as documented by make_graph; the range is then checked by graphrec.checks (ValueError).
def _check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return check_int(name, value, minimum, maximum)


def _check_real(
    name: str, value: Any, low: float, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return check_number(name, value, low, high, low_open=low_open, high_open=high_open)


@dataclass(frozen=True)
class SybilSpec:
    """A Sybil region to plant in a synthetic graph.

    Parameters
    ----------
    num_sybils : int
        Fake users added after the honest ones (indices ``num_users .. num_users+num_sybils-1``;
        with ``string_ids`` their ids are ``"s0", "s1", ...``).
    attack_edges : int
        Exact number of distinct honest–Sybil user pairs joined by trust. Each is stored as
        ``honest -> sybil`` (and ``sybil -> honest`` too when the trust relation is symmetric).
        Honest endpoints are uniform over honest users.
    target_items : int or sequence of int
        Items the attacker promotes: a count (that many distinct items chosen uniformly at
        random) or explicit item indices. Recorded, sorted, in ``graph.meta["sybil_target_items"]``.
    topology : {'star', 'serial', 'parallel', 'clique'}
        Trust among Sybils (always mutual, i.e. both directions are stored):

        - ``star``: Sybil 0 (the attacker) trusts and is trusted by every other Sybil;
        - ``serial``: a chain ``0 - 1 - 2 - ...``;
        - ``parallel``: ``round(sqrt(num_sybils - 1))`` disjoint chains hanging off Sybil 0,
          their lengths differing by at most one (between a star and a single chain);
        - ``clique``: every pair of Sybils (``O(num_sybils**2)`` edges).

        Attack edges end at Sybil 0 (the region's entry) for star, serial and parallel, and
        at uniformly random Sybils for a clique.
    target_weight : float
        Interaction weight of each Sybil–target edge (honest weights are about 1–2 per draw;
        a camouflage draw that hits a target adds its weight); positive and within float32's
        range.
    camouflage : int
        Extra interactions per Sybil with items drawn by popularity, to look honest.
    """

    num_sybils: int = 50
    attack_edges: int = 5
    target_items: int | Sequence[int] = 5
    topology: str = "star"
    target_weight: float = 5.0
    camouflage: int = 0

    def __post_init__(self) -> None:
        # stored as plain int / float, so that graph.meta (which records the spec) stays JSON
        set_ = object.__setattr__
        set_(self, "num_sybils", _check_int("SybilSpec.num_sybils", self.num_sybils, 1))
        set_(self, "attack_edges", _check_int("SybilSpec.attack_edges", self.attack_edges, 0))
        set_(self, "camouflage", _check_int("SybilSpec.camouflage", self.camouflage, 0))
        tw = _check_real("SybilSpec.target_weight", self.target_weight, 0.0, _F32_MAX, low_open=True)
        if np.float32(tw) == 0:
            raise ValueError(f"SybilSpec.target_weight {tw:g} rounds to 0 as a float32 interaction weight")
        set_(self, "target_weight", tw)
        check_choice("SybilSpec.topology", self.topology, TOPOLOGIES)
        t = self.target_items
        if isinstance(t, numbers.Integral) and not isinstance(t, bool):
            set_(self, "target_items", _check_int("SybilSpec.target_items", t, 1))
        else:
            arr = np.asarray(t)
            if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
                raise ValueError(f"SybilSpec.target_items must be a positive count or a non-empty list of item indices, got {t!r}")
            if len(np.unique(arr)) != arr.size:
                raise ValueError(f"SybilSpec.target_items has repeated items: {t!r}")
            object.__setattr__(self, "target_items", tuple(int(x) for x in arr))

    def entry_nodes(self) -> np.ndarray:
        """Sybil-local indices that attack edges may end at, int64."""
        if self.topology == "clique":
            return np.arange(self.num_sybils, dtype=np.int64)
        return np.zeros(1, dtype=np.int64)

    def internal_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Undirected Sybil–Sybil trust pairs ``(a, b)`` in Sybil-local indices, int64 ``(m,)``."""
        s = self.num_sybils
        j = np.arange(1, s, dtype=np.int64)
        if self.topology == "star":
            return np.zeros(s - 1, dtype=np.int64), j
        if self.topology == "serial":
            return j - 1, j
        if self.topology == "parallel":
            width = max(1, round(math.sqrt(s - 1)))
            pred = np.where(j - 1 < width, 0, j - width)  # chain c = (j-1) % width
            return pred, j
        a, b = np.triu_indices(s, k=1)
        return a.astype(np.int64), b.astype(np.int64)


# ------------------------------------------------------------------------------ helpers
def _zipf_weights(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Zipf weights ``r^(-1/(γ-1))`` for ranks ``1..n`` in random order, float64 ``(n,)``.

    Degrees proportional to them follow a power law ``P(d) ∝ d^(-γ)``.
    """
    s = 1.0 / (exponent - 1.0)
    w = np.arange(1, n + 1, dtype=np.float64) ** (-s)
    return w[rng.permutation(n)]


def _allocate_counts(rng: np.random.Generator, weights: np.ndarray, total: int, cap: int) -> np.ndarray:
    """Integer counts ``>= 1`` and ``<= cap`` summing to about ``total``, proportional to ``weights``.

    Every node gets one count; the rest is spread in proportion to ``weights`` with the
    excess over ``cap`` re-spread over the uncapped nodes (water filling, a few vectorised
    rounds) and stochastic rounding. Returns int64 ``(n,)``.
    """
    n = weights.size
    extra = max(total - n, 0)
    capped = np.zeros(n, dtype=bool)
    share = np.zeros(n)
    for _ in range(32):
        free_mass = weights[~capped].sum()
        budget = extra - (cap - 1) * int(capped.sum())
        if free_mass <= 0 or budget <= 0:
            share = np.where(capped, cap - 1, 0.0)
            break
        share = np.where(capped, cap - 1, weights * (budget / free_mass))
        newly = (~capped) & (share > cap - 1)
        if not newly.any():
            break
        capped |= newly
    counts = 1 + np.floor(share + rng.random(n)).astype(np.int64)
    return np.minimum(counts, cap)


def _segmented_draw(
    rng: np.random.Generator, cum: np.ndarray, lo_mass: np.ndarray, mass: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Draw one position per request from a cumulative-weight array restricted to a segment.

    ``cum`` is the inclusive cumsum of weights over positions; request ``k`` draws a position
    in ``[lo[k], hi[k])`` with probability proportional to its weight, where ``lo_mass[k]``
    is the cumulative mass before ``lo[k]`` (``cum[lo[k] - 1]``, or 0) and ``mass[k]`` the
    segment's mass. One ``searchsorted``.
    """
    target = lo_mass + rng.random(lo_mass.size) * mass
    # torch's CPU searchsorted is multi-threaded and gives numpy's exact answer. With positive
    # weights ``pos >= lo`` always (``lo_mass`` is ``cum[lo - 1]`` itself); rounding can only
    # push ``target`` past the segment's end.
    pos = torch.searchsorted(torch.from_numpy(cum), torch.from_numpy(target), right=True).numpy()
    return np.minimum(pos, hi - 1)


def _community_layout(community: np.ndarray, weights: np.ndarray, num_communities: int) -> dict[str, np.ndarray]:
    """Nodes sorted by community with their cumulative weights, for :func:`_draw_targets`.

    Segment ``c < C`` is community ``c``; segment ``C`` is every node. ``lo``/``hi`` bound
    each segment's positions, ``lo_mass``/``mass`` its cumulative weight.
    """
    order = np.argsort(community, kind="stable")
    cum = np.cumsum(weights[order])
    size = np.bincount(community, minlength=num_communities)
    start = np.zeros(num_communities + 1, dtype=np.int64)
    np.cumsum(size, out=start[1:])
    mass_start = np.concatenate([[0.0], cum])[start]
    return {
        "order": order,
        "cum": cum,
        "lo": np.append(start[:-1], 0),
        "hi": np.append(start[1:], cum.size),
        "lo_mass": np.append(mass_start[:-1], 0.0),
        "mass": np.append(np.diff(mass_start), cum[-1]),
    }


def _draw_targets(
    rng: np.random.Generator, layout: dict[str, np.ndarray], community: np.ndarray, inside: np.ndarray
) -> np.ndarray:
    """For each request: a node of ``community[k]`` when ``inside[k]``, else any node; by weight."""
    seg = np.where(inside, community, layout["lo"].size - 1)
    pos = _segmented_draw(rng, layout["cum"], layout["lo_mass"][seg], layout["mass"][seg], layout["hi"][seg])
    return layout["order"][pos]


def _balanced_labels(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Community labels ``0..k-1`` for ``n`` nodes, sizes differing by at most one, int64."""
    return rng.permutation(np.arange(n, dtype=np.int64) % k)


def _string_ids(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.arange(n).astype(str))


# ---------------------------------------------------------------------------- generator
def make_graph(
    num_users: int = 2000,
    num_items: int = 1000,
    num_communities: int = 8,
    avg_degree: float = 20.0,
    degree_exponent: float = 2.5,
    community_strength: float = 0.8,
    trust_degree: float = 5.0,
    trust_homophily: float = 0.9,
    time_span: tuple[int, int] = DEFAULT_TIME_SPAN,
    weights: bool = True,
    sybil: SybilSpec | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    *,
    item_exponent: float | None = None,
    trust_symmetric: bool = True,
    string_ids: bool = False,
) -> Graph:
    """Build a seeded synthetic user–item graph with communities, trust and optional Sybils.

    Parameters
    ----------
    num_users, num_items : int
        Honest users and items (``>= 1``).
    num_communities : int
        Planted communities ``C`` (``1 <= C <= min(num_users, num_items)``); users and items
        are split into ``C`` groups of equal size (±1) at random.
    avg_degree : float
        Interaction draws per user on average (``1 <= avg_degree <= num_items``). Every user
        gets at least one draw and at most ``num_items``. Repeated ``(user, item)`` draws are
        merged into one edge (weights summed, latest timestamp kept), so the final edge count
        is below ``num_users * avg_degree``: about 22% of draws merge at the defaults (small
        catalogue, popular items drawn repeatedly), under 3% at 500k users x 200k items.
    degree_exponent : float
        Power-law exponent ``γ > 1`` of user activity (and item popularity unless
        ``item_exponent`` is given): expected degrees follow Zipf's law ``r^(-1/(γ-1))``.
        Smaller is heavier-tailed; 2–3 is typical of real data.
    community_strength : float in [0, 1]
        Probability that an interaction draw stays in the user's community; otherwise the item
        is drawn from all items. The expected in-community share is therefore
        ``s + (1 - s) * (popularity share of the user's community)`` ≈ ``s + (1 - s) / C``
        per draw; over distinct edges it is a little lower, since repeated in-community draws
        merge more often.
    trust_degree : float
        Mean trust out-degree of honest users (``>= 0``; ``0`` adds no honest trust edges).
        Out-degrees are Poisson; trustees are drawn in proportion to user activity.
    trust_homophily : float in [0, 1]
        Probability that a trust edge stays in the truster's community (else any user).
    time_span : (int, int)
        ``[t0, t1)`` in integer time units (default 2010–2020 in unix seconds), with
        ``-2**62 <= t0 < t1 <= 2**63 - 1`` and ``t1 - t0 <= 2**63 - 1`` (int64). Each user is
        active in a random sub-window; its interactions are uniform in it.
    weights : bool
        Give interactions float32 weights: a log-normal engagement per draw (median 2 inside
        the user's community, 1 outside, sigma 0.5), summed over merged repeats.
    sybil : SybilSpec, optional
        Plant a Sybil region (see :class:`SybilSpec`).
    seed : int
        Seed of everything (``>= 0``). Same seed, same tensors, on any device.
    device : str or torch.device
        Where the graph lives.
    item_exponent : float, optional
        Power-law exponent of item popularity (default: ``degree_exponent``).
    trust_symmetric : bool
        Store every trust pair in both directions (a friendship network, like LastFM's);
        otherwise trust edges are directed as generated (truster -> trustee). Sybil–Sybil
        pairs are mutual either way.
    string_ids : bool
        External ids ``"u0".."u{n-1}"`` / ``"i0"..`` / ``"s0"..`` (Sybils) instead of the
        integer ranges ``0..n-1`` (Sybils continue the user range).

    Returns
    -------
    Graph
        Node types ``user`` (honest users first, then Sybils) and ``item``; edge types
        ``("user","interacts","item")`` (float32 weights when ``weights``, int64 timestamps)
        and ``("user","trusts","user")`` (no weights; absent when there are no trust edges
        at all). ``node_attrs["user"]["community"]`` / ``node_attrs["item"]["community"]``:
        int64 labels (``-1`` for Sybils); ``node_attrs["user"]["is_sybil"]``: bool.
        ``meta["synthetic"]`` records the parameters; with a Sybil region,
        ``meta["sybil_target_items"]`` lists the promoted item indices and
        ``meta["sybil_users"]`` the ``[start, stop)`` user-index range of the Sybils.

    Raises
    ------
    ValueError
        A size, rate or probability out of range (the message names the parameter).
    TypeError
        A parameter of the wrong type.

    Examples
    --------
    >>> g = make_graph(200, 100, num_communities=4, avg_degree=10,
    ...                sybil=SybilSpec(num_sybils=20, attack_edges=3), seed=0)
    >>> int(g.node_attrs["user"]["is_sybil"].sum())
    20
    """
    nu = _check_int("num_users", num_users, 1)
    ni = _check_int("num_items", num_items, 1)
    nc = _check_int("num_communities", num_communities, 1)
    if nc > min(nu, ni):
        raise ValueError(f"num_communities must be <= min(num_users, num_items) = {min(nu, ni)}, got {nc}")
    deg = _check_real("avg_degree", avg_degree, 1.0, float(ni))
    gamma = _check_real("degree_exponent", degree_exponent, 1.0, low_open=True)
    gamma_i = gamma if item_exponent is None else _check_real("item_exponent", item_exponent, 1.0, low_open=True)
    strength = _check_real("community_strength", community_strength, 0.0, 1.0)
    tdeg = _check_real("trust_degree", trust_degree, 0.0)
    homophily = _check_real("trust_homophily", trust_homophily, 0.0, 1.0)
    if not isinstance(time_span, (tuple, list)) or len(time_span) != 2:
        raise TypeError(f"time_span must be a (t0, t1) pair, got {time_span!r}")
    t0 = _check_int("time_span[0]", time_span[0], -(2**62))
    t1 = _check_int("time_span[1]", time_span[1], -(2**62), _INT64_MAX)
    if t1 <= t0:
        raise ValueError(f"time_span must have t0 < t1, got {time_span!r}")
    if t1 - t0 > _INT64_MAX:
        raise ValueError(f"time_span must be at most 2**63 - 1 wide (int64 timestamps), got {time_span!r}")
    seed = check_seed(seed)
    weights = check_bool("weights", weights)
    trust_symmetric = check_bool("trust_symmetric", trust_symmetric)
    string_ids = check_bool("string_ids", string_ids)
    if sybil is not None and not isinstance(sybil, SybilSpec):
        raise TypeError(f"sybil must be a SybilSpec or None, got {type(sybil).__name__}")

    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(_N_STREAMS)]

    # communities and Zipf weights
    rng = streams[_S_COMMUNITY]
    user_comm = _balanced_labels(rng, nu, nc)
    item_comm = _balanced_labels(rng, ni, nc)
    rng = streams[_S_ACTIVITY]
    activity = _zipf_weights(rng, nu, gamma)
    user_draws = _allocate_counts(rng, activity, round(nu * deg), cap=ni)
    rng = streams[_S_ITEMS]
    popularity = _zipf_weights(rng, ni, gamma_i)
    item_layout = _community_layout(item_comm, popularity, nc)

    # interactions: planted partition, popularity-proportional within the chosen set
    src = np.repeat(np.arange(nu, dtype=np.int64), user_draws)
    inside = rng.random(src.size) < strength
    dst = _draw_targets(rng, item_layout, user_comm[src], inside)

    # timestamps: a random active window per user, uniform inside it
    rng = streams[_S_TIME]
    ends = np.sort(rng.integers(t0, t1, size=(nu, 2)), axis=1)
    lo = ends[:, 0][src]
    ts = lo + np.floor(rng.random(src.size) * (ends[:, 1] - ends[:, 0] + 1)[src]).astype(np.int64)

    w = None
    if weights:
        rng = streams[_S_WEIGHT]
        mu = np.where(item_comm[dst] == user_comm[src], _WEIGHT_IN_COMMUNITY_MU, 0.0)
        w = np.exp(mu + _WEIGHT_SIGMA * rng.standard_normal(src.size)).astype(np.float32)

    # honest trust: Poisson out-degrees, homophilous, trustees by activity
    user_layout = _community_layout(user_comm, activity, nc)
    rng = streams[_S_TRUST]
    t_src = np.zeros(0, dtype=np.int64)
    t_dst = np.zeros(0, dtype=np.int64)
    if tdeg > 0 and nu > 1:
        per_user = tdeg / 2.0 if trust_symmetric else tdeg
        t_src = np.repeat(np.arange(nu, dtype=np.int64), rng.poisson(per_user, size=nu))
        t_inside = rng.random(t_src.size) < homophily
        t_dst = _draw_targets(rng, user_layout, user_comm[t_src], t_inside)
        loop = t_src == t_dst
        t_src, t_dst = t_src[~loop], t_dst[~loop]
        if trust_symmetric:
            t_src, t_dst = np.concatenate([t_src, t_dst]), np.concatenate([t_dst, t_src])

    # Sybil region
    ns = 0 if sybil is None else sybil.num_sybils
    meta: dict[str, Any] = {}
    if sybil is not None:
        rng = streams[_S_SYBIL]
        s_ids = np.arange(nu, nu + ns, dtype=np.int64)
        if isinstance(sybil.target_items, tuple):
            targets = np.sort(np.asarray(sybil.target_items, dtype=np.int64))
            if targets.min() < 0 or targets.max() >= ni:
                bad = targets[(targets < 0) | (targets >= ni)][0]
                raise ValueError(f"SybilSpec.target_items: item index {int(bad)} out of range [0, {ni})")
        else:
            if sybil.target_items > ni:
                raise ValueError(f"SybilSpec.target_items must be <= num_items = {ni}, got {sybil.target_items}")
            targets = np.sort(rng.choice(ni, size=sybil.target_items, replace=False)).astype(np.int64)
        # trust inside the region (mutual)
        a, b = sybil.internal_pairs()
        in_src = np.concatenate([s_ids[a], s_ids[b]])
        in_dst = np.concatenate([s_ids[b], s_ids[a]])
        # attack edges: distinct (honest, entry) pairs
        entry = sybil.entry_nodes()
        n_pairs = nu * entry.size
        if sybil.attack_edges > n_pairs:
            raise ValueError(
                f"SybilSpec.attack_edges must be <= {n_pairs} (honest users x entry Sybils), got {sybil.attack_edges}"
            )
        flat = rng.choice(n_pairs, size=sybil.attack_edges, replace=False).astype(np.int64)
        honest, sy = flat // entry.size, s_ids[entry[flat % entry.size]]
        at_src, at_dst = (np.concatenate([honest, sy]), np.concatenate([sy, honest])) if trust_symmetric else (honest, sy)
        t_src = np.concatenate([t_src, in_src, at_src])
        t_dst = np.concatenate([t_dst, in_dst, at_dst])
        # interactions: every target, plus camouflage by popularity, late in the time span
        sy_src = np.repeat(s_ids, targets.size)
        sy_dst = np.tile(targets, ns)
        sy_w = np.full(sy_src.size, sybil.target_weight, dtype=np.float32)
        if sybil.camouflage:
            cam_src = np.repeat(s_ids, sybil.camouflage)
            cam_dst = _draw_targets(rng, item_layout, np.zeros(cam_src.size, dtype=np.int64), np.zeros(cam_src.size, bool))
            cam_w = np.exp(_WEIGHT_SIGMA * rng.standard_normal(cam_src.size)).astype(np.float32)
            sy_src, sy_dst, sy_w = np.concatenate([sy_src, cam_src]), np.concatenate([sy_dst, cam_dst]), np.concatenate([sy_w, cam_w])
        attack_start = t1 - max(1, (t1 - t0) // 10)
        sy_ts = rng.integers(attack_start, t1, size=sy_src.size)
        src, dst, ts = np.concatenate([src, sy_src]), np.concatenate([dst, sy_dst]), np.concatenate([ts, sy_ts])
        if w is not None:
            w = np.concatenate([w, sy_w])
        meta["sybil_target_items"] = [int(x) for x in targets]
        meta["sybil_users"] = [nu, nu + ns]

    # assemble the store
    g = Graph(device)
    if string_ids:
        uids = np.concatenate([_string_ids("u", nu), _string_ids("s", ns)])
        g.add_node_type(USER, IdMap(uids, name=USER))
        g.add_node_type(ITEM, IdMap(_string_ids("i", ni), name=ITEM))
    else:
        g.add_node_type(USER, IdMap.range(nu + ns, name=USER))
        g.add_node_type(ITEM, IdMap.range(ni, name=ITEM))
    g.add_edges(INTERACTS, src, dst, w, ts, duplicates="merge")
    if t_src.size:
        g.add_edges(TRUSTS, t_src, t_dst, duplicates="merge")
    dev = g.device
    g.node_attrs[USER]["community"] = torch.from_numpy(np.concatenate([user_comm, np.full(ns, -1, np.int64)])).to(dev)
    g.node_attrs[USER]["is_sybil"] = torch.from_numpy(np.arange(nu + ns) >= nu).to(dev)
    g.node_attrs[ITEM]["community"] = torch.from_numpy(item_comm).to(dev)
    g.meta["synthetic"] = {
        "num_users": nu, "num_items": ni, "num_communities": nc, "avg_degree": deg,
        "degree_exponent": gamma, "item_exponent": gamma_i, "community_strength": strength,
        "trust_degree": tdeg, "trust_homophily": homophily, "time_span": [t0, t1],
        "weights": bool(weights), "trust_symmetric": bool(trust_symmetric), "string_ids": bool(string_ids),
        "seed": seed, "sybil": None if sybil is None else _spec_json(sybil),
    }
    g.meta.update(meta)
    return g


def _spec_json(spec: SybilSpec) -> dict[str, Any]:
    d = asdict(spec)
    if isinstance(d["target_items"], tuple):
        d["target_items"] = list(d["target_items"])
    return d


# ------------------------------------------------------------------------------ dataset
def make_dataset(
    num_users: int = 2000,
    num_items: int = 1000,
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    **graph_kwargs: Any,
) -> Dataset:
    """A synthetic :class:`~graphrec.data.dataset.Dataset`: :func:`make_graph` + per-user holdout.

    Parameters
    ----------
    num_users, num_items : int
        Honest users and items (see :func:`make_graph`).
    test_fraction : float in (0, 1)
        Share of each honest user's interactions held out, with graphrec's per-user random
        holdout (:func:`graphrec.data.splits.random_holdout_mask`): a user with ``n``
        interactions holds out ``floor(test_fraction * n + 0.5)`` of them (halves round up)
        but never all, so every user keeps at least one in train. Sybil users' interactions
        all stay in train (the attack is part of the training data).
    seed : int
        Seeds both the graph and the split (the split uses its own stream).
    **graph_kwargs
        Any other :func:`make_graph` parameter (``num_communities``, ``avg_degree``,
        ``sybil``, ``device``, ``string_ids``, ...).

    Returns
    -------
    Dataset
        ``name="synthetic"``; ``train`` holds the training interactions (weights and
        timestamps), all trust edges, node attributes and ``meta``; ``test`` the held-out
        interactions (never in train; weights and timestamps kept), over the same id maps.
        ``info`` records the parameters and the split.

    Examples
    --------
    >>> d = make_dataset(300, 100, avg_degree=10, seed=3)
    >>> d.summary()["train"] + d.summary()["test"] == make_graph(300, 100, avg_degree=10, seed=3).num_edges("interacts")
    True
    """
    tf = _check_real("test_fraction", test_fraction, 0.0, 1.0, low_open=True, high_open=True)
    full = make_graph(num_users, num_items, seed=seed, **graph_kwargs)
    split_seed = int(np.random.SeedSequence(seed).spawn(_N_STREAMS)[_S_SPLIT].generate_state(1)[0])
    users = full.edges(INTERACTS).row().cpu().numpy()
    honest = ~full.node_attrs[USER]["is_sybil"].cpu().numpy()[users]
    test_mask = np.zeros(users.size, dtype=bool)
    test_mask[honest] = random_holdout_mask(users[honest], tf, split_seed)
    info = {"generator": "graphrec.data.synthetic", "split": "random", "test_fraction": tf, "split_seed": split_seed}
    info.update(full.meta["synthetic"])
    return split_by_mask(full, test_mask, name="synthetic", info=info)
