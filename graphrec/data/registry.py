"""Named datasets: ``load("gowalla")``, ``load("ml-100k", split="temporal")``, ``load(path)``.

Names resolve to folders under the data roots, searched in order:

1. ``$GRAPHREC_DATA`` (environment variable), when set;
2. ``../shared/datasets`` relative to the current directory (the development layout).

Each dataset's card in the repository's ``datasets/`` folder says where its files come from
and their checksums. A path instead of a name loads a LightGCN-style split directory
(:func:`~graphrec.data.loaders.load_split_dir`) or an edge table (CSV/TSV/Parquet,
:func:`~graphrec.data.loaders.load_edge_table`, then a per-user random 80/20 split).
``"synthetic"`` dispatches to :func:`graphrec.data.synthetic.make_dataset`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..checks import check_number, check_seed
from ..graph.store import Graph
from . import loaders
from .dataset import Dataset
from .splits import carve_validation, random_holdout, temporal_leave_last_out

__all__ = ["DATA_ENV", "data_roots", "dataset_path", "known_datasets", "load"]

#: environment variable naming the folder that holds the datasets
DATA_ENV = "GRAPHREC_DATA"


@dataclass(frozen=True)
class _Entry:
    folder: str  # sub-folder of a data root
    marker: str  # file that must exist inside it
    loader: Callable[..., Dataset | Graph]
    card: str  # datasets/<card>.md
    fixed: dict[str, Any]


def _airports(which: str) -> _Entry:
    return _Entry("airports", f"{which}-airports.edgelist", loaders.load_airports, "airports", {"which": which})


_REGISTRY: dict[str, _Entry] = {
    "gowalla": _Entry("gowalla", "train.txt", loaders.load_split_dir, "gowalla", {"name": "gowalla"}),
    "lastfm": _Entry("lastfm", "data1.txt", loaders.load_lastfm, "lastfm", {}),
    "ml-100k": _Entry("ml-100k", "u.data", loaders.load_movielens100k, "ml-100k", {}),
    "blogcatalog": _Entry("blogcatalog", "blogcatalog.mat", loaders.load_blogcatalog, "blogcatalog", {}),
    "airports-usa": _airports("usa"),
    "airports-brazil": _airports("brazil"),
    "airports-europe": _airports("europe"),
}

TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".parquet", ".pq")


def known_datasets() -> list[str]:
    """Every name :func:`load` resolves (``synthetic`` included)."""
    return sorted([*_REGISTRY, "synthetic"])


def data_roots() -> list[tuple[Path, str]]:
    """The folders searched for named datasets, in order, with where each came from."""
    roots: list[tuple[Path, str]] = []
    env = os.environ.get(DATA_ENV)
    if env:
        roots.append((Path(env).expanduser(), f"${DATA_ENV}"))
    fallback = (Path.cwd() / ".." / "shared" / "datasets").resolve()
    if not any(r.resolve() == fallback for r, _ in roots):
        roots.append((fallback, "../shared/datasets"))
    return roots


def dataset_path(name: str, root: str | Path | None = None) -> Path:
    """Folder of the named dataset: the first root holding its files.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    FileNotFoundError
        When no root holds it; the message lists where it looked and how to get the data.
    """
    entry = _entry(name)
    roots = [(Path(root).expanduser(), "root argument")] if root is not None else data_roots()
    looked = []
    for r, origin in roots:
        folder = r / entry.folder
        if (folder / entry.marker).is_file():
            return folder
        looked.append(f"{folder / entry.marker} ({origin})")
    env_note = "" if os.environ.get(DATA_ENV) or root is not None else f" (${DATA_ENV} is not set)"
    raise FileNotFoundError(
        f"dataset {name!r} not found{env_note}; looked for " + ", ".join(looked)
        + f". To get it: set {DATA_ENV} to a folder holding {entry.folder}/ with the files listed"
        f" in datasets/{entry.card}.md (source, download notes and SHA256 checksums there)"
        + (f", or download it there with `graphrec datasets fetch {name}`." if _fetchable(name) else ".")
    )


def _fetchable(name: str) -> bool:
    """Whether ``graphrec datasets fetch NAME`` can download the named dataset."""
    from .download import source_of

    try:
        source_of(name)
    except ValueError:
        return False
    return True


def _entry(name: str) -> _Entry:
    if name == "synthetic":
        raise ValueError(
            "dataset 'synthetic' is generated (graphrec.data.synthetic), not read from a folder;"
            " load it with load('synthetic')"
        )
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown dataset {name!r}; known names: {', '.join(known_datasets())}"
            " (or pass a path to a split directory or a .csv/.tsv/.parquet edge table)"
        ) from None


def _looks_like_path(s: str) -> bool:
    return os.sep in s or "/" in s or s.startswith(".") or s.lower().endswith(TABLE_SUFFIXES)


def _load_path(p: Path, kwargs: dict[str, Any]) -> Dataset | Graph:
    if p.is_dir():
        if (p / "u.data").is_file():
            return loaders.load_movielens100k(p, **kwargs)
        if (p / "data1.txt").is_file():
            return loaders.load_lastfm(p, **kwargs)
        return loaders.load_split_dir(p, **kwargs)
    if p.suffix.lower() == ".mat":
        return loaders.load_blogcatalog(p, **kwargs)
    table_keys = ("user_col", "item_col", "weight_col", "time_col", "sep", "duplicates")
    table_kw = {k: kwargs.pop(k) for k in table_keys if k in kwargs}
    split = kwargs.pop("split", "random")
    test_fraction = kwargs.pop("test_fraction", 0.2)
    seed = kwargs.pop("seed", 0)
    name = kwargs.pop("name", p.stem)
    if kwargs:
        raise TypeError(f"unexpected keyword argument(s) for an edge table: {sorted(kwargs)}")
    g = loaders.load_edge_table(p, **table_kw)
    if split == "random":
        ds = random_holdout(g, test_fraction, seed, name=name)
    elif split == "temporal":
        ds = temporal_leave_last_out(g, 1, name=name)
    else:
        raise ValueError(f"split must be 'random' or 'temporal', got {split!r}")
    ds.info.update({"source": str(p), "format": "edge-table"})
    return ds


def load(name_or_path: str | os.PathLike[str], *, root: str | Path | None = None,
         valid_fraction: float | None = None, valid_seed: int = 0, **kwargs: Any) -> Dataset | Graph:
    """Load a named dataset or a dataset at a path.

    Parameters
    ----------
    name_or_path : str or PathLike
        One of :func:`known_datasets` — ``gowalla``, ``lastfm``, ``ml-100k`` (Datasets),
        ``blogcatalog``, ``airports-usa``/``-brazil``/``-europe`` (Graphs with node labels),
        ``synthetic`` — or a path (a ``PathLike`` is always read as a path, even
        ``Path("gowalla")``): a directory (LightGCN split directory; an ``ml-100k`` or
        Last.fm folder is recognised by its files), a ``.mat`` file (BlogCatalog format) or a
        ``.csv``/``.tsv``/``.parquet`` edge table (split per user at random, 80/20, unless
        ``split='temporal'``; ``user_col``, ``item_col``, ``weight_col``, ``time_col``,
        ``sep``, ``duplicates`` (repeated rows: counted by default), ``test_fraction``,
        ``seed``, ``name`` apply).
    root : str or Path, optional
        Look for named datasets only here instead of the default roots.
    valid_fraction : float, optional
        Carve a per-user random validation set of this share out of the training
        interactions (:func:`~graphrec.data.splits.carve_validation`); Datasets only.
    valid_seed : int
    **kwargs
        Passed to the loader (e.g. ``split="temporal"`` for ml-100k; ``num_users=...``,
        ``num_items=...``, ``test_fraction=...``, ``seed=...`` or any
        :func:`~graphrec.data.synthetic.make_graph` keyword for ``synthetic``).

    Returns
    -------
    Dataset or Graph

    Raises
    ------
    ValueError
        Unknown name (known names listed) or malformed data.
    FileNotFoundError
        Data missing: the message says where it looked and how to get it.

    Examples
    --------
    >>> import graphrec as gr
    >>> data = gr.datasets.load("lastfm")  # doctest: +SKIP
    >>> data.summary()["trust"]  # doctest: +SKIP
    25434
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"name_or_path must be a dataset name or a path, got {type(name_or_path).__name__}")
    if valid_fraction is not None:  # checked before a possibly long load
        valid_fraction = check_number("valid_fraction", valid_fraction, 0, 1, low_open=True, high_open=True)
        valid_seed = check_seed(valid_seed, "valid_seed")
    key = os.fspath(name_or_path)
    is_path = isinstance(name_or_path, os.PathLike)
    if key == "synthetic" and not is_path:
        from .synthetic import make_dataset

        out: Dataset | Graph = make_dataset(**kwargs)
    elif key in _REGISTRY and not is_path:
        entry = _REGISTRY[key]
        clash = sorted(set(kwargs) & set(entry.fixed))
        if clash:
            raise TypeError(f"dataset {key!r} fixes {clash}; do not pass them")
        out = entry.loader(dataset_path(key, root), **entry.fixed, **kwargs)
    else:
        p = Path(key).expanduser()
        if p.exists():
            out = _load_path(p, dict(kwargs))
        elif _looks_like_path(key) or is_path:
            raise FileNotFoundError(f"no dataset at {p} (neither a file nor a directory)")
        else:
            _entry(key)  # raises ValueError listing the known names
            raise AssertionError("unreachable")
    if valid_fraction is not None:
        if not isinstance(out, Dataset):
            raise ValueError(f"valid_fraction applies to interaction datasets; {key!r} loads a {type(out).__name__}")
        out = carve_validation(out, valid_fraction, valid_seed)
    return out
