"""Text profiles of users and items, composed from a graph's node metadata.

RLMRec (Ren et al., "Representation Learning with Large Language Models for Recommendation",
WWW 2024) gives every user and item a text profile (the paper has an LLM summarise item text
and a user's interactions) and embeds it with a text encoder. Here profiles are composed
deterministically from what the training :class:`~graphrec.graph.Graph` holds:

- **item**: ``Title: <title>. Year: <year>. Genres: <g1>, <g2>.`` from the ``title``,
  ``year`` and multi-hot ``genres`` (+ ``genre_names``) attributes (MovieLens-100K);
- **user**: ``User: 25-34 years old, male, occupation engineer. Favourite genres: ...
  Top-rated: <title>; <title>; ...`` — age band, gender and occupation from the user
  attributes; favourite genres and top-rated titles from the user's *training* interactions
  (the graph passed in; held-out test edges live in another graph and are never read),
  ranked by interaction weight (the rating).

Graphs without those fields get a generic profile: the node's title/name or external id, its
scalar attributes rendered as ``name: value`` (boolean flags are skipped), favourite
categories when items carry a single categorical attribute (e.g. the synthetic graph's
``community``), and ``Interacted with: <top item titles or ids>``.

The per-node statistics (category counts, top items per user) are vectorised over the CSR
arrays; only the final string assembly is a per-node list comprehension.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..checks import check_int
from ..graph.edges import EdgeType
from ..graph.store import INTERACTS, Graph

__all__ = [
    "AGE_BANDS",
    "age_band",
    "build_profiles",
    "favourite_categories",
    "item_categories",
    "item_profiles",
    "top_items",
    "user_profiles",
]

#: MovieLens-1M's age bands: (lower bound inclusive, label)
AGE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "under 18"), (18, "18-24"), (25, "25-34"), (35, "35-44"), (45, "45-49"), (50, "50-55"), (56, "56 or older"),
)

_GENDERS = {"M": "male", "F": "female", "m": "male", "f": "female"}
#: attribute names the generic fallback never renders (ids, links, exact dates, postcodes)
_SKIP_GENERIC = {"org_id", "imdb_url", "url", "release_date", "zip"}
#: single categorical item attributes usable as "genres" when ``genres`` is absent
_CATEGORY_ATTRS = ("genre", "category", "community")


# ------------------------------------------------------------------ attributes
def _as_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _missing(x: Any) -> bool:
    """Whether a metadata value is missing (``None`` or a float NaN)."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def _text(x: Any) -> str:
    """A metadata value as text: ``''`` when missing, bytes decoded (UTF-8, else Latin-1), never ``"b'...'"``."""
    if _missing(x):
        return ""
    if isinstance(x, bytes):
        try:
            return x.decode("utf-8")
        except UnicodeDecodeError:
            return x.decode("latin-1")
    return str(x)


def _attr(graph: Graph, ntype: str, name: str, n: int) -> np.ndarray | None:
    """Attribute ``name`` of ``ntype`` as numpy with ``n`` rows, or None when absent."""
    attrs = graph.node_attrs.get(ntype, {})
    if name not in attrs:
        return None
    arr = _as_numpy(attrs[name])
    if arr.ndim == 0 or arr.shape[0] != n:
        raise ValueError(f"node_attrs[{ntype!r}][{name!r}] has shape {arr.shape}; expected {n} rows")
    return arr


def age_band(age: Any) -> np.ndarray:
    """Age bands (MovieLens-1M's) of integer ages; negative or missing (NaN) ages give ``''``.

    Parameters
    ----------
    age : array-like of int, shape ``(n,)``

    Returns
    -------
    ndarray of str, shape ``(n,)``, e.g. ``'25-34'``.
    """
    a = _as_numpy(age)
    if a.dtype.kind not in "iuf":
        raise TypeError(f"age must be numeric, got dtype {a.dtype}")
    bounds = np.array([b for b, _ in AGE_BANDS])
    labels = np.array([lab for _, lab in AGE_BANDS] + [""])
    idx = np.searchsorted(bounds, a, side="right") - 1
    unknown = (a < 0) | np.isnan(a) if a.dtype.kind == "f" else a < 0
    return labels[np.where(unknown, len(AGE_BANDS), idx)]


def item_categories(graph: Graph, ntype: str = "item") -> tuple[np.ndarray, list[str], str] | None:
    """The items' category matrix, if the graph has one.

    ``genres`` (multi-hot ``(n_items, G)``, names from ``genre_names``) when present, else the
    first single categorical attribute among ``genre``, ``category``, ``community`` holding
    integer labels (one-hot; negative labels mean "none"; text labels are not categories here).

    Returns
    -------
    ``(matrix float32 (n_items, G), names (G,), label)`` or ``None``.
    """
    n = graph.num_nodes(ntype)
    genres = _attr(graph, ntype, "genres", n)
    if genres is not None:
        if genres.ndim != 2:
            raise ValueError(f"node_attrs[{ntype!r}]['genres'] must be 2-D (n, G) flags, got shape {genres.shape}")
        names = graph.node_attrs[ntype].get("genre_names")
        names = [f"genre {j}" for j in range(genres.shape[1])] if names is None else [str(x) for x in names]
        if len(names) != genres.shape[1]:
            raise ValueError(f"genre_names has {len(names)} names for {genres.shape[1]} genre columns")
        return (genres != 0).astype(np.float32), names, "genres"
    for name in _CATEGORY_ATTRS:
        lab = _attr(graph, ntype, name, n)
        if lab is not None and lab.ndim == 1 and lab.dtype.kind in "iu":
            c = int(lab.max()) + 1 if lab.size else 0
            if c <= 0:
                continue
            m = np.zeros((n, c), np.float32)
            ok = lab >= 0
            m[np.flatnonzero(ok), lab[ok]] = 1.0
            return m, [f"{name} {j}" for j in range(c)], f"{name} values" if name != "community" else "communities"
    return None


# ------------------------------------------------------------ interaction stats
def top_items(graph: Graph, k: int, *, etype: EdgeType = INTERACTS) -> np.ndarray:
    """Each user's ``k`` best training items: highest weight first, then most popular, then lowest index.

    Parameters
    ----------
    graph : Graph
        The *training* graph (only its ``etype`` edges are read).
    k : int
        Items per user (>= 1).

    Returns
    -------
    ndarray int64 ``(n_users, k)`` of item indices, ``-1``-padded for users with fewer items.
    """
    k = check_int("k", k, 1)
    es = graph.edges(etype)
    row = es.row().cpu().numpy()
    col = es.indices.to(torch.int64).cpu().numpy()
    w = es.weight.cpu().numpy() if es.weight is not None else np.ones(col.size, np.float32)
    pop = np.bincount(col, minlength=es.num_dst)
    order = np.lexsort((col, -pop[col], -w, row))  # last key sorts first: row, then weight desc...
    indptr = es.indptr.to(torch.int64).cpu().numpy()
    rank = np.arange(order.size) - indptr[row[order]]
    keep = rank < k
    out = np.full((es.num_src, k), -1, np.int64)
    out[row[order][keep], rank[keep]] = col[order][keep]
    return out


def favourite_categories(graph: Graph, categories: np.ndarray, k: int, *, etype: EdgeType = INTERACTS) -> np.ndarray:
    """Each user's ``k`` most frequent item categories in training.

    A category's score is the sum of the user's interaction weights (ratings) on items of
    that category, so both how often and how well a user rates a genre count; ties go to
    the lower category index.

    Parameters
    ----------
    categories : float32 ``(n_items, G)`` multi-hot matrix
    k : int
        Categories per user (>= 0).

    Returns
    -------
    ndarray int64 ``(n_users, min(k, G))`` for ``G`` categories, ``-1`` where the user has fewer scored categories.
    """
    k = check_int("k", k, 0)
    es = graph.edges(etype)
    if categories.shape[0] != es.num_dst:
        raise ValueError(f"categories has {categories.shape[0]} rows for {es.num_dst} items")
    row, col = (t.cpu() for t in es.coo())
    w = es.weight.cpu() if es.weight is not None else torch.ones(col.numel())
    cat = torch.from_numpy(np.ascontiguousarray(categories, dtype=np.float32))
    scores = torch.zeros(es.num_src, cat.shape[1]).index_add_(0, row, cat[col] * w[:, None])
    k = min(k, cat.shape[1])
    # stable descending sort: equal scores keep the lower category index first
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :k]
    top = torch.gather(scores, 1, order)
    return torch.where(top > 0, order, torch.full_like(order, -1)).numpy()


# ---------------------------------------------------------------------- render
def _names(graph: Graph, ntype: str) -> np.ndarray:
    """Display names: ``title``, else ``name``, else ``'<ntype> <external id>'``."""
    n = graph.num_nodes(ntype)
    for field in ("title", "name"):
        a = _attr(graph, ntype, field, n)
        if a is not None:  # a missing title (None, NaN) is no title, never the text "None"
            return np.array([_text(x) for x in a.tolist()], dtype=object)
    ids = graph.id_map(ntype).ids
    return np.array([f"{ntype} {x}" for x in ids.tolist()], dtype=object)


def _generic_fields(graph: Graph, ntype: str, used: set[str]) -> list[tuple[str, np.ndarray]]:
    """Scalar (1-D, non-boolean) attributes not already rendered, as ``(name, values)``."""
    n = graph.num_nodes(ntype)
    out = []
    for name in graph.node_attrs.get(ntype, {}):
        if name in used or name in _SKIP_GENERIC:
            continue
        arr = _attr(graph, ntype, name, n)
        if arr is None or arr.ndim != 1 or arr.dtype.kind not in "iuUSO":
            continue  # matrices, floats and boolean flags are not rendered
        out.append((name, arr))
    return out


def _join(parts: list[str]) -> str:
    return " ".join(p for p in parts if p)


def item_profiles(graph: Graph, *, ntype: str = "item", fields: Sequence[str] | None = None) -> list[str]:
    """One text profile per item (index order).

    Parameters
    ----------
    graph : Graph
    ntype : str
        The item node type.
    fields : sequence of str, optional
        Extra scalar attributes to render as ``name: value``. Default: none when the items
        have a title, a name or genres (MovieLens), else every 1-D integer or text attribute
        (float attributes and boolean flags are not rendered unless listed here).

    Returns
    -------
    list of str
        One profile per item, length ``n_items``, e.g.
        ``'Title: Toy Story (1995). Year: 1995. Genres: Animation, Children's, Comedy.'``
    """
    n = graph.num_nodes(ntype)
    attrs = graph.node_attrs.get(ntype, {})
    rich = any(f in attrs for f in ("title", "name", "genres"))
    names = _names(graph, ntype)
    label = "Title" if "title" in attrs else "Name" if "name" in attrs else "Item"
    cols: list[list[str]] = [[f"{label}: {t}." if t else "" for t in names.tolist()]]  # a missing title: no field
    year = _attr(graph, ntype, "year", n)
    if year is not None:
        cols.append([f"Year: {int(y)}." if y >= 0 else "" for y in year.tolist()])
    used = {"title", "name", "year", "genres", "genre_names"}
    cats = item_categories(graph, ntype) if "genres" in attrs else None
    if cats is not None:
        m, cat_names, _ = cats
        cn = np.asarray(cat_names, dtype=object)
        cols.append([("Genres: " + ", ".join(cn[np.flatnonzero(r)]) + ".") if r.any() else "" for r in m])
    cols += _field_columns(graph, ntype, used, fields, generic=not rich)
    return [_join(list(p)) for p in zip(*cols)] if n else []


def _field_columns(graph: Graph, ntype: str, used: set[str], fields: Sequence[str] | None, generic: bool) -> list[list[str]]:
    n = graph.num_nodes(ntype)
    if fields is not None:
        chosen = []
        for f in fields:
            a = _attr(graph, ntype, f, n)
            if a is None:
                raise KeyError(f"fields: {ntype} has no attribute {f!r}; it has {sorted(graph.node_attrs.get(ntype, {}))}")
            if a.ndim != 1:
                raise ValueError(f"fields: {ntype} attribute {f!r} is not scalar per node (shape {a.shape})")
            chosen.append((f, a))
    elif generic:
        chosen = _generic_fields(graph, ntype, used)
    else:
        chosen = []
    return [[f"{name}: {_text(v)}." if _text(v) else "" for v in arr.tolist()] for name, arr in chosen]


def user_profiles(
    graph: Graph,
    *,
    etype: EdgeType = INTERACTS,
    top_genres: int = 3,
    top_titles: int = 10,
    fields: Sequence[str] | None = None,
) -> list[str]:
    """One text profile per user (index order), from user attributes and training interactions.

    Parameters
    ----------
    graph : Graph
        The training graph. Only its ``etype`` edges are read: pass the train graph, never
        a graph holding test interactions.
    etype : (user_type, relation, item_type)
    top_genres : int
        Favourite categories listed (0 disables).
    top_titles : int
        Top-rated items listed (0 disables).
    fields : sequence of str, optional
        Extra scalar user attributes to render; default: none when age/gender/occupation are
        present, else every scalar non-boolean attribute.

    Returns
    -------
    list of str
        One profile per user, length ``n_users``, e.g. ``'User: 25-34 years old, male,
        occupation engineer. Favourite genres: Drama, Comedy, Thriller. Top-rated: Fargo (1996); ...'``
    """
    top_genres, top_titles = check_int("top_genres", top_genres, 0), check_int("top_titles", top_titles, 0)
    et = graph.resolve_etype(etype) if graph.has_edge_type(etype) else tuple(etype)
    ut, _, it = et
    n = graph.num_nodes(ut)
    attrs = graph.node_attrs.get(ut, {})
    demo: list[list[str]] = []
    age = _attr(graph, ut, "age", n)
    if age is not None:
        demo.append([f"{b} years old" if b else "" for b in age_band(age).tolist()])
    gender = _attr(graph, ut, "gender", n)
    if gender is not None:
        demo.append([_GENDERS.get(_text(g), _text(g)) for g in gender.tolist()])
    occ = _attr(graph, ut, "occupation", n)
    if occ is not None:
        demo.append(["" if _missing(o) else f"occupation {_text(o)}" if _text(o) and _text(o) != "none" else "no occupation"
                     for o in occ.tolist()])
    cols: list[list[str]] = []
    if demo:
        cols.append(["User: " + ", ".join(p for p in parts if p) + "." for parts in zip(*demo)])
    else:
        cols.append([f"User {x}." for x in graph.id_map(ut).ids.tolist()])
    rich = any(f in attrs for f in ("age", "gender", "occupation"))
    cols += _field_columns(graph, ut, {"age", "gender", "occupation"}, fields, generic=not rich)
    if graph.has_edge_type(et) and graph.num_edges(et):
        cats = item_categories(graph, it)
        if top_genres and cats is not None:
            m, cat_names, label = cats
            fav = favourite_categories(graph, m, top_genres, etype=et)
            cn = np.asarray(cat_names + [""], dtype=object)
            named = cn[np.where(fav >= 0, fav, len(cat_names))]
            cols.append([f"Favourite {label}: " + ", ".join(x for x in r if x) + "." if any(r) else "" for r in named])
        if top_titles:
            top = top_items(graph, top_titles, etype=et)
            titles = np.asarray(list(_names(graph, it).tolist()) + [""], dtype=object)
            named = titles[np.where(top >= 0, top, titles.size - 1)]
            head = "Top-rated" if graph.edges(et).weight is not None else "Interacted with"
            cols.append([f"{head}: " + "; ".join(x for x in r if x) + "." if any(r) else "" for r in named])
    return [_join(list(p)) for p in zip(*cols)] if n else []


def build_profiles(
    graph: Graph,
    *,
    etype: EdgeType = INTERACTS,
    top_genres: int = 3,
    top_titles: int = 10,
) -> tuple[list[str], list[str]]:
    """``(user_profiles, item_profiles)`` of a training graph; see :func:`user_profiles`, :func:`item_profiles`.

    Examples
    --------
    >>> import graphrec as gr
    >>> users, items = build_profiles(gr.datasets.load("ml-100k").train)   # doctest: +SKIP
    >>> items[0]                                                           # doctest: +SKIP
    "Title: Toy Story (1995). Year: 1995. Genres: Animation, Children's, Comedy."
    """
    et = graph.resolve_etype(etype)
    return (
        user_profiles(graph, etype=et, top_genres=top_genres, top_titles=top_titles),
        item_profiles(graph, ntype=et[2]),
    )
