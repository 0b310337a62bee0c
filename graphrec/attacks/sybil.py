"""Sybil and popularity-bombing attacks on a dataset's training graph, seeded and reproducible.

:func:`sybil_attack` plants an attacker in the trust graph (SybilGuard's threat model, the
star / serial / parallel attacks of MeritRank): a region of ``num_sybils`` fake accounts
that trust each other in a chosen shape (``star``, ``chain``, ``clique``, ``random``), joined
to the honest region by exactly ``attack_edges`` honest–Sybil trust pairs (both directions),
and whose accounts all interact with ``targets`` new items, the items it promotes. With
``camouflage > 0`` each Sybil also interacts with that many items drawn from the
``popular`` most popular ones, so that walks from honest users reach the region through
those items without crossing an attack edge. ``topology='none'`` (or
:func:`popularity_attack`) adds accounts with no trust edges at all: popularity bombing.

The honest part is untouched: honest users and items keep their indices, the Sybils and the
promoted items come after them, and the held-out splits hold the same pairs. The same
arguments and ``seed`` give the same graph. Star, chain and clique shapes come from
:class:`graphrec.data.synthetic.SybilSpec` (``chain`` is its ``serial``).

References
----------
Yu, Kaminsky, Gibbons, Flaxman. SybilGuard: defending against Sybil attacks via social
networks. SIGCOMM 2006.
Nasrulin, Ishmaev, Pouwelse. MeritRank. BRAINS 2022.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..checks import check_choice, check_int, check_seed
from ..data.dataset import Dataset, held_out_graph
from ..data.synthetic import SybilSpec
from ..graph.store import INTERACTS, ITEM, TRUSTS, USER, Graph

__all__ = ["TOPOLOGIES", "Attack", "from_synthetic", "popularity_attack", "sybil_attack"]

#: Sybil-region shapes (``none``: no trust edges, popularity bombing)
TOPOLOGIES = ("star", "chain", "clique", "random", "none")

#: the largest clique region (its trust edges grow as the square)
_MAX_CLIQUE = 2000


@dataclass
class Attack:
    """An attacked dataset and what the attack added.

    Attributes
    ----------
    data : Dataset, the attacked training graph with the original held-out pairs.
    sybils : LongTensor ``(num_sybils,)`` user indices of the fake accounts.
    targets : LongTensor ``(targets,)`` item indices of the promoted (new) items.
    num_honest : int, users before the attack (indices ``0 .. num_honest - 1``).
    attacked : LongTensor honest users on an attack edge.
    params : dict of the attack's arguments.
    """

    data: Dataset
    sybils: torch.Tensor
    targets: torch.Tensor
    num_honest: int
    attacked: torch.Tensor
    params: dict[str, Any] = field(default_factory=dict)


def _new_ids(graph: Graph, ntype: str, n: int, prefix: str) -> np.ndarray:
    m = graph.id_map(ntype)
    if m.is_str:
        return np.array([f"{prefix}{k}" for k in range(n)])
    ext = m.to_external(np.arange(len(m)))
    top = int(np.max(ext)) + 1 if len(m) else 0
    return np.arange(top, top + n, dtype=np.int64)


def _internal_pairs(topology: str, s: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected Sybil pairs ``(a, b)`` and entry accounts (local indices)."""
    if topology == "random":
        # every Sybil links to 2 earlier ones at random (connected, mean degree ~4)
        b = np.repeat(np.arange(1, s, dtype=np.int64), 2)
        a = (rng.random(b.size) * b).astype(np.int64)
        pair = np.unique(a * s + b)
        return pair // s, pair % s, np.arange(s, dtype=np.int64)
    spec = SybilSpec(num_sybils=s, attack_edges=0, topology="serial" if topology == "chain" else topology)
    a, b = spec.internal_pairs()
    return a, b, spec.entry_nodes()


def sybil_attack(
    data: Dataset,
    num_sybils: int,
    *,
    attack_edges: int = 10,
    topology: str = "star",
    targets: int = 5,
    camouflage: int = 0,
    popular: int = 50,
    seed: int = 0,
) -> Attack:
    """Plant a Sybil region promoting ``targets`` new items in ``data``'s training graph.

    Parameters
    ----------
    data : Dataset (not modified)
    num_sybils : int >= 1
    attack_edges : int
        Distinct honest–Sybil trust pairs (stored both ways); honest ends uniform over the
        honest users, Sybil ends at the region's entry (the hub of a star, the head of a
        chain, any account of a clique or random region). 0 with ``topology='none'``.
    topology : {'star', 'chain', 'clique', 'random', 'none'}
    targets : int, new items every Sybil interacts with.
    camouflage : int, popular items each Sybil also interacts with.
    popular : int, how many of the most popular training items camouflage draws from.
    seed : int

    Returns
    -------
    Attack

    Raises
    ------
    ValueError
        Counts out of range, a clique above 2,000 accounts, attack edges on ``'none'``.
    """
    num_sybils = check_int("num_sybils", num_sybils, 1)
    attack_edges = check_int("attack_edges", attack_edges, 0)
    topology = check_choice("topology", topology, TOPOLOGIES)
    targets, camouflage = check_int("targets", targets, 1), check_int("camouflage", camouflage, 0)
    popular, seed = check_int("popular", popular, 1), check_seed(seed)
    if topology == "clique" and num_sybils > _MAX_CLIQUE:
        raise ValueError(f"topology='clique' is limited to {_MAX_CLIQUE} Sybils (its edges grow as the square), got {num_sybils}")
    if topology == "none" and attack_edges:
        raise ValueError("topology='none' (popularity bombing) has no trust edges: pass attack_edges=0")
    train = data.train
    nu, ni = train.num_nodes(USER), train.num_nodes(ITEM)
    rng = np.random.default_rng(seed)
    pop_order = torch.argsort(train.degree(INTERACTS, side="dst").cpu(), descending=True, stable=True).numpy()
    pool = pop_order[: min(popular, ni)]
    if camouflage > pool.size:
        raise ValueError(f"camouflage={camouflage} exceeds the {pool.size} popular items it draws from")
    g = train.edge_subgraph(train.edge_types)  # a copy of the structure: the original stays as it is
    sy = nu + np.arange(num_sybils, dtype=np.int64)
    tg = ni + np.arange(targets, dtype=np.int64)
    g.add_nodes(USER, _new_ids(train, USER, num_sybils, "sybil"))
    g.add_nodes(ITEM, _new_ids(train, ITEM, targets, "promoted"))
    # trust: inside the region, then the attack edges
    attacked = np.zeros(0, dtype=np.int64)
    if topology != "none":
        a, b, entry = _internal_pairs(topology, num_sybils, rng)
        if attack_edges > nu * entry.size:
            raise ValueError(f"attack_edges must be <= {nu * entry.size} (honest users x entry Sybils), got {attack_edges}")
        flat = rng.choice(nu * entry.size, size=attack_edges, replace=False).astype(np.int64)
        attacked, ent = flat // entry.size, sy[entry[flat % entry.size]]
        src = np.concatenate([sy[a], sy[b], attacked, ent])
        dst = np.concatenate([sy[b], sy[a], ent, attacked])
        if src.size:
            tw = None
            if train.has_edge_type(TRUSTS) and train.edges(TRUSTS).weight is not None:
                tw = np.ones(src.size, dtype=np.float32)
            ts = None
            if train.has_edge_type(TRUSTS) and train.edges(TRUSTS).timestamp is not None:
                ts = np.full(src.size, int(train.edges(TRUSTS).timestamp.max()), dtype=np.int64)
            g.add_edges(TRUSTS, src, dst, tw, ts)
    # interactions: every target, plus camouflage
    i_src = np.repeat(sy, targets)
    i_dst = np.tile(tg, num_sybils)
    if camouflage:
        keys = rng.random((num_sybils, pool.size)).argsort(axis=1)[:, :camouflage]
        i_src = np.concatenate([i_src, np.repeat(sy, camouflage)])
        i_dst = np.concatenate([i_dst, pool[keys].reshape(-1)])
    es = train.edges(INTERACTS)
    w = None if es.weight is None else np.full(i_src.size, float(es.weight.median()), dtype=np.float32)
    ts = None if es.timestamp is None else np.full(i_src.size, int(es.timestamp.max()), dtype=np.int64)
    g.add_edges(INTERACTS, i_src, i_dst, w, ts)
    g.meta = {**g.meta, "sybil_target_items": tg.tolist(), "sybil_users": [nu, nu + num_sybils]}
    attrs = dict(g.node_attrs.get(USER, {}))
    attrs["is_sybil"] = torch.from_numpy(np.arange(nu + num_sybils) >= nu).to(g.device)
    if "trusted" in attrs:
        attrs["trusted"] = torch.cat([torch.as_tensor(attrs["trusted"], device=g.device), torch.zeros(num_sybils, dtype=torch.bool, device=g.device)])
    g.node_attrs[USER] = attrs
    parts = {}
    for part in ("test", "valid"):
        held = getattr(data, part)
        if held is None:
            parts[part] = None
            continue
        s, d = held.edges(INTERACTS).coo()
        parts[part] = held_out_graph(g, s.cpu().numpy(), d.cpu().numpy())
    params = {
        "num_sybils": num_sybils, "attack_edges": attack_edges, "topology": topology, "targets": targets,
        "camouflage": camouflage, "popular": popular, "seed": seed,
    }
    out = Dataset(data.name, g, parts["test"], parts["valid"], {**data.info, "attack": params})
    dev = g.device
    return Attack(out, torch.from_numpy(sy).to(dev), torch.from_numpy(tg).to(dev), nu, torch.from_numpy(attacked).to(dev), params)


def popularity_attack(data: Dataset, num_accounts: int, *, targets: int = 5, seed: int = 0) -> Attack:
    """Popularity bombing: ``num_accounts`` fresh accounts, no trust edges, all interacting with ``targets`` new items."""
    return sybil_attack(data, num_accounts, attack_edges=0, topology="none", targets=targets, seed=seed)


def from_synthetic(data: Dataset) -> Attack:
    """The :class:`Attack` a synthetic dataset planted (``make_dataset(..., sybil=SybilSpec(...))``).

    Reads ``meta['sybil_users']`` and ``meta['sybil_target_items']`` (the promoted items are
    existing items there, not new ones). Raises ``ValueError`` on a graph without a region.
    """
    meta = data.train.meta
    if "sybil_users" not in meta:
        raise ValueError("this dataset has no planted Sybil region (make_dataset(..., sybil=SybilSpec(...)))")
    lo, hi = meta["sybil_users"]
    dev = data.train.device
    s, d = data.train.edges(TRUSTS).coo() if data.train.has_edge_type(TRUSTS) else (torch.zeros(0, dtype=torch.int64),) * 2
    attacked = torch.unique(s[(s < lo) & (d >= lo)])
    spec = (meta.get("synthetic") or {}).get("sybil") or {}
    return Attack(data, torch.arange(lo, hi, device=dev), torch.tensor(meta["sybil_target_items"], device=dev), int(lo), attacked, dict(spec))
