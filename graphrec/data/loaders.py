"""Loaders for the real dataset formats graphrec is checked against.

Every loader validates its input where it enters the system: a malformed line raises
``ValueError`` naming the file and its 1-based line number, a missing file raises
``FileNotFoundError`` naming the path. Text files are tokenised and parsed with numpy over
the whole file at once (no per-line Python loop on the fast path), so LightGCN's Gowalla
split (810k training pairs) loads in a fraction of a second.

Formats and their sources:

* split directory — LightGCN's ``train.txt``/``test.txt`` (``user item item ...`` per line);
  He et al., *LightGCN: Simplifying and Powering Graph Convolution Network for
  Recommendation*, SIGIR 2020.
* Last.fm — HetRec 2011 listening counts with the friend network, as filtered in
  LightGCN-PyTorch; Cantador, Brusilovsky & Kuflik, *HetRec 2011*, RecSys 2011.
* MovieLens 100K — Harper & Konstan, *The MovieLens Datasets: History and Context*,
  ACM TiiS 2015.
* BlogCatalog — Tang & Liu, *Relational Learning via Latent Social Dimensions*, KDD 2009.
* airports — Ribeiro, Saverese & Figueiredo, *struc2vec: Learning Node Representations from
  Structural Identity*, KDD 2017.
* edge tables — any CSV/TSV/Parquet table with named user/item columns (read with pyarrow).
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..graph.idmap import IdMap
from ..graph.store import INTERACTS, ITEM, TRUSTS, USER, Graph
from ..graph.times import arrow_unix_seconds
from .dataset import Dataset
from .splits import _record_merged, pairs_graph, random_holdout, temporal_leave_last_out

__all__ = [
    "LINKS",
    "ML100K_GENRES",
    "NODE",
    "load_airports",
    "load_blogcatalog",
    "load_edge_list",
    "load_edge_table",
    "load_lastfm",
    "load_movielens100k",
    "load_split_dir",
]

#: node type of the homogeneous graphs (BlogCatalog, airports)
NODE = "node"
#: edge type of the homogeneous graphs; both directions of every undirected edge are stored
LINKS = ("node", "links", "node")

#: MovieLens genre vocabulary in u.item's flag order (used when u.genre is absent)
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)

_WS = np.zeros(256, dtype=bool)
_WS[[9, 10, 11, 12, 13, 32]] = True
_INT_CHAR = np.zeros(256, dtype=bool)
_INT_CHAR[[ord(c) for c in "0123456789+-"]] = True
_FLOAT_EXACT = 2**53


# ------------------------------------------------------------------------ file helpers
def _require_file(path: Path, what: str = "file") -> Path:
    if not path.is_file():
        if path.is_dir():
            raise FileNotFoundError(f"{what} {path} is a directory, expected a file")
        raise FileNotFoundError(f"{what} not found: {path}")
    return path


def _require_dir(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what} directory not found: {p}")
    if not p.is_dir():
        raise NotADirectoryError(f"{what}: expected a directory, got the file {p}")
    return p


def _fail(path: Path, line: int, msg: str) -> ValueError:
    return ValueError(f"{path}, line {int(line)}: {msg}")


@dataclass
class _Tokens:
    """Whitespace-separated numeric tokens of a text file, parsed in one numpy pass.

    ``values`` (T,) int64 or float64; ``line`` (T,) 1-based line of each token; ``col`` (T,)
    0-based position of each token within its line; ``row_line``/``row_count``/``row_first``
    (R,) line number, token count and first token index of every non-blank line.
    """

    path: Path
    values: np.ndarray
    line: np.ndarray
    col: np.ndarray
    row_line: np.ndarray
    row_count: np.ndarray
    row_first: np.ndarray
    start: np.ndarray  # (T,) byte offset of each token in ``data``
    data: bytes  # the parsed text (after any header line)


def _token_text(data: bytes, start: int) -> str:
    end = start
    while end < len(data) and not _WS[data[end]]:
        end += 1
    return data[start:end].decode("utf-8", errors="replace")


def _parse_numbers(data: bytes, dtype: type, n_tokens: int) -> np.ndarray | None:
    """All whitespace-separated numbers of ``data`` via numpy's C parser; ``None`` when some
    token does not parse (the caller then locates it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = np.fromstring(data, dtype=dtype, sep=" ")  # text mode: not deprecated
    except (ValueError, DeprecationWarning, AttributeError):
        return None
    if out.size != n_tokens:
        return None
    if dtype is np.int64 and out.size and (out.max() == np.iinfo(np.int64).max or out.min() == np.iinfo(np.int64).min):
        return None  # saturated: an out-of-range literal
    return out


def _locate_bad_token(path: Path, data: bytes, first_line: int, kinds: str | None,
                      names: tuple[str, ...] | None) -> ValueError:
    """Slow path, only after the fast parse failed: the first token that is not a number."""
    for i, raw in enumerate(data.split(b"\n")):
        for j, tok in enumerate(raw.split()):
            kind = "i" if kinds is None else kinds[min(j, len(kinds) - 1)]
            what = f"column {j + 1}" + (f" ({names[j]})" if names and j < len(names) else "")
            text = tok.decode("utf-8", errors="replace")
            try:
                if kind == "i":
                    v = int(tok)
                    if not -(2**63) < v < 2**63 - 1:
                        return _fail(path, first_line + i, f"{what} value {text} is out of the int64 range")
                else:
                    float(tok)
            except ValueError:
                want = "an integer" if kind == "i" else "a number"
                return _fail(path, first_line + i, f"{what} must be {want}, got {text!r}")
    return ValueError(f"{path}: could not parse the file as numbers")


def _scan(path: Path, *, header: bool = False, kinds: str | None = None,
          names: tuple[str, ...] | None = None) -> _Tokens:
    """Tokenise and parse a whitespace-separated numeric text file.

    ``kinds`` gives ``'i'`` (integer) or ``'f'`` (float) per column; ``None`` means every
    token is an integer and lines may have any length (LightGCN's ragged format). With
    fixed ``kinds`` every non-blank line must have exactly ``len(kinds)`` tokens.
    """
    data = _require_file(path).read_bytes()
    first_line = 1
    if header:
        nl = data.find(b"\n")
        data = b"" if nl < 0 else data[nl + 1:]
        first_line = 2
    buf = np.frombuffer(data, dtype=np.uint8)
    ws = _WS[buf]
    prev_ws = np.ones(buf.size, dtype=bool)
    prev_ws[1:] = ws[:-1]
    start = np.flatnonzero(~ws & prev_ws)
    if start.size == 0:
        raise ValueError(f"{path}: file is empty (no data lines{' after the header' if header else ''})")
    tok_line0 = np.searchsorted(np.flatnonzero(buf == 10), start)
    row_first = np.flatnonzero(np.diff(tok_line0, prepend=-1))
    row_count = np.diff(np.append(row_first, start.size))
    row_line = tok_line0[row_first] + first_line
    line = tok_line0 + first_line
    col = np.arange(start.size, dtype=np.int64) - np.repeat(row_first, row_count)

    if kinds is not None:
        bad = np.flatnonzero(row_count != len(kinds))
        if bad.size:
            r = bad[0]
            cols = f" ({', '.join(names)})" if names else ""
            raise _fail(path, row_line[r], f"expected {len(kinds)} columns{cols}, found {row_count[r]}")
        int_cols = np.array([k == "i" for k in kinds])
        if "f" in kinds and int_cols.any():
            # ids parsed as floats must still be written as integers
            odd = np.flatnonzero(~ws & ~_INT_CHAR[buf])
            if odd.size:
                tok = np.searchsorted(start, odd, side="right") - 1
                hit = tok[int_cols[col[tok]]]
                if hit.size:
                    t = hit[0]
                    what = f"column {col[t] + 1}" + (f" ({names[col[t]]})" if names else "")
                    raise _fail(path, line[t], f"{what} must be an integer, got {_token_text(data, int(start[t]))!r}")
    dtype = np.int64 if kinds is None or "f" not in kinds else np.float64
    values = _parse_numbers(data, dtype, start.size)
    if values is None:
        raise _locate_bad_token(path, data, first_line, kinds, names)
    if dtype is np.float64 and kinds is not None and "i" in kinds:
        int_cols = np.array([k == "i" for k in kinds])
        big = np.flatnonzero(int_cols[col] & (np.abs(values) >= _FLOAT_EXACT))
        if big.size:
            t = big[0]
            raise _fail(path, line[t], f"column {col[t] + 1} id {_token_text(data, int(start[t]))} is too large")
    return _Tokens(path, values, line, col, row_line, row_count, row_first, start, data)


def _read_table(path: Path, names: tuple[str, ...], kinds: str, *, header: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Fixed-column numeric table -> ({name: column}, 1-based line of each row)."""
    tk = _scan(path, header=header, kinds=kinds, names=names)
    table = tk.values.reshape(-1, len(kinds))
    cols = {}
    for j, (nm, k) in enumerate(zip(names, kinds)):
        c = table[:, j]
        cols[nm] = c.astype(np.int64) if k == "i" else c.astype(np.float64, copy=False)
    return cols, tk.row_line


def _check_nonneg_ids(path: Path, values: np.ndarray, lines: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(values < 0)
    if bad.size:
        raise _fail(path, lines[bad[0]], f"{what} must be non-negative, got {int(values[bad[0]])}")


def _check_weights(path: Path, w: np.ndarray, lines: np.ndarray, what: str = "weight") -> None:
    bad = np.flatnonzero(~np.isfinite(w))
    if bad.size:
        raise _fail(path, lines[bad[0]], f"{what} {w[bad[0]]} is not a finite number")
    bad = np.flatnonzero(w < 0)
    if bad.size:
        raise _fail(path, lines[bad[0]], f"{what} {w[bad[0]]:g} is negative")
    bad = _float32_overflow(w)
    if bad.size:
        raise _fail(path, lines[bad[0]], _float32_msg(what, w[bad[0]]))


_F32_MAX = float(np.finfo(np.float32).max)


_F32_TINY = float(np.finfo(np.float32).smallest_subnormal)


def _float32_overflow(w: np.ndarray) -> np.ndarray:
    """Positions of finite values that float32 (how weights are stored) cannot hold: they would
    become infinite, or, nonzero as given, become 0."""
    with np.errstate(over="ignore", under="ignore"):
        w32 = w.astype(np.float32)
    return np.flatnonzero((np.isinf(w32) & np.isfinite(w)) | ((w32 == 0) & (w != 0)))


def _float32_msg(what: str, value: float) -> str:
    if abs(value) < _F32_TINY:
        return f"{what} {value:g} is below float32's range (smallest {_F32_TINY:.4g}) and would become 0; weights are stored as float32"
    return f"{what} {value:g} exceeds float32's range (largest {_F32_MAX:.7g}); weights are stored as float32"


def _check_known(path: Path, ids: np.ndarray, lines: np.ndarray, known: IdMap, what: str, source: str) -> np.ndarray:
    """Dense indices of ``ids``; an id missing from ``known`` raises naming its line."""
    found = known.contains(ids)
    if not found.all():
        k = int(np.flatnonzero(~found)[0])
        raise _fail(path, lines[k], f"{what} {ids[k].item()!r} is not listed in {source}")
    return known.to_index(ids)


def _build_dataset(name: str, users: IdMap, items: IdMap,
                   train: tuple[np.ndarray, ...], test: tuple[np.ndarray, ...],
                   valid: tuple[np.ndarray, ...] | None = None,
                   trust: tuple[np.ndarray, np.ndarray] | None = None,
                   info: dict[str, Any] | None = None) -> Dataset:
    """Dataset from dense-index arrays ``(u, i[, weight[, timestamp]])`` per split.

    Every split holds each ``(user, item)`` pair once (repeats merged: weights summed, latest
    time kept); ``info["merged_pairs"]`` counts the merged repeats per split when there are any.
    """

    def pad(t: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
        return tuple(t) + (None,) * (4 - len(t))

    info = dict(info or {})
    g = Graph()
    g.add_node_type(USER, users)
    g.add_node_type(ITEM, items)
    g.add_edges(INTERACTS, *pad(train), duplicates="merge")  # these formats' relevance is binary (or weighted)
    _record_merged(info, "train", len(train[0]), g)
    if trust is not None:
        g.add_edges(TRUSTS, trust[0], trust[1], duplicates="merge")
    g.meta["dataset"] = name
    test_g = pairs_graph(g, *pad(test))
    _record_merged(info, "test", len(test[0]), test_g)
    valid_g = None
    if valid is not None:
        valid_g = pairs_graph(g, *pad(valid))
        _record_merged(info, "valid", len(valid[0]), valid_g)
    return Dataset(name, g, test_g, valid_g, info)


# ------------------------------------------------------------------ split directory
@dataclass
class _Adjacency:
    path: Path
    users: np.ndarray  # (E,) user of each pair
    items: np.ndarray  # (E,)
    item_line: np.ndarray  # (E,) line of each pair
    row_users: np.ndarray  # (R,) user of each line
    row_line: np.ndarray  # (R,)


def _read_adjacency(path: Path) -> _Adjacency:
    """LightGCN's ``user item item ...`` lines (a user with no items allowed)."""
    tk = _scan(path)
    _check_nonneg_ids(path, tk.values, tk.line, "ids")
    row_users = tk.values[tk.row_first]
    is_item = np.ones(tk.values.size, dtype=bool)
    is_item[tk.row_first] = False
    users = np.repeat(row_users, tk.row_count - 1)
    return _Adjacency(path, users, tk.values[is_item], tk.line[is_item], row_users, tk.row_line)


def _read_id_list(path: Path) -> np.ndarray:
    """``org_id remap_id`` list (header first) -> original ids ordered by remap id.

    Original ids stay int64 when every one is a canonical integer (no leading zeros), else
    they are kept as strings (e.g. Amazon's ``0553092626``).
    """
    names = ("org_id", "remap_id")
    try:
        tk = _scan(path, header=True, kinds="ii", names=names)
    except ValueError as e:
        if "column 1 (org_id)" not in str(e):
            raise
        tk = None
    if tk is not None:
        pairs = tk.values.reshape(-1, 2)
        org_start = tk.start[tk.row_first]
        buf = np.frombuffer(tk.data + b" ", dtype=np.uint8)
        lead0 = (buf[org_start] == ord("0")) & ~_WS[buf[org_start + 1]]
        if not lead0.any():
            return _order_by_remap(path, pairs[:, 0], pairs[:, 1], tk.row_line)
    # string ids: a per-line pass (id lists are small next to the interaction files)
    raw = _require_file(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _not_utf8(path, raw.count(b"\n", 0, e.start) + 1) from None
    rows = [(n, ln.split()) for n, ln in enumerate(text.split("\n")[1:], start=2) if ln.strip()]
    for n, parts in rows:
        if len(parts) != 2:
            raise _fail(path, n, f"expected 2 columns (org_id, remap_id), found {len(parts)}")
        if not re.fullmatch(r"[+-]?\d+", parts[1]):
            raise _fail(path, n, f"column 2 (remap_id) must be an integer, got {parts[1]!r}")
    if not rows:
        raise ValueError(f"{path}: file is empty (no data lines after the header)")
    lines = np.fromiter((n for n, _ in rows), dtype=np.int64, count=len(rows))
    remap = np.array([p[1] for _, p in rows], dtype=np.int64)
    return _order_by_remap(path, np.array([p[0] for _, p in rows]), remap, lines)


def _order_by_remap(path: Path, org: np.ndarray, remap: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """``org`` reordered so that position ``r`` holds remap id ``r``; remap ids must be a
    permutation of ``0 .. n-1``."""
    n = remap.size
    bad = np.flatnonzero((remap < 0) | (remap >= n))
    if bad.size:
        raise _fail(path, lines[bad[0]], f"remap_id {remap[bad[0]]} is outside [0, {n}) for a list of {n} ids")
    order = np.argsort(remap, kind="stable")
    dup = np.flatnonzero(remap[order][1:] == remap[order][:-1])
    if dup.size:
        k = order[dup[0] + 1]
        raise _fail(path, lines[k], f"remap_id {remap[k]} appears twice")
    out = np.empty_like(org)
    out[remap] = org
    return out


def load_split_dir(path: str | Path, name: str | None = None, *, new_nodes: bool = False) -> Dataset:
    """Load a LightGCN-style split directory.

    Files
    -----
    ``train.txt``, ``test.txt`` (required), ``valid.txt`` (optional)
        One line per user: ``user item item ...``; ids are 0-based integers; a line with
        only a user id declares a user without items.
    ``trust.txt`` (optional)
        ``user user`` per line: directed trust edges (``TRUSTS``). Without ``user_list.txt``
        a trust id above every user id of the interaction files raises (naming the line),
        unless ``new_nodes=True`` makes it a user.
    ``user_list.txt``, ``item_list.txt`` (optional)
        Header line, then ``org_id remap_id``. When present they fix the node counts (so
        items never seen in train or test still exist) and every id must be listed; the
        original ids are kept as ``node_attrs[type]["org_id"]`` (int64, or str when not
        integers).

    Without the list files the node sets are ``0 .. max id`` (LightGCN's convention), so
    external ids equal dense indices either way.

    Parameters
    ----------
    path : str or Path
        The directory.
    name : str, optional
        Dataset name (default: the directory's name).
    new_nodes : bool
        Whether ``trust.txt`` may name users beyond the interaction files' (see above).

    Returns
    -------
    Dataset
        Unweighted ``INTERACTS`` train/test (and valid) graphs; ``TRUSTS`` on train when
        ``trust.txt`` exists. A pair listed twice in one file is one edge (relevance is
        binary); ``info["merged_pairs"]`` counts such repeats per split when there are any.

    Raises
    ------
    FileNotFoundError
        If the directory, ``train.txt`` or ``test.txt`` is missing.
    ValueError
        For malformed lines (file and line named), negative ids, ids not in the id lists,
        or empty files.
    """
    root = _require_dir(path, "split")
    name = name or root.resolve().name
    parts = {"train": _read_adjacency(root / "train.txt"), "test": _read_adjacency(root / "test.txt")}
    if (root / "valid.txt").exists():
        parts["valid"] = _read_adjacency(root / "valid.txt")
    trust = None
    if (root / "trust.txt").exists():
        tk = _scan(root / "trust.txt", kinds="ii", names=("truster", "trustee"))
        _check_nonneg_ids(root / "trust.txt", tk.values, tk.line, "user ids")
        pairs = tk.values.reshape(-1, 2)
        trust = (pairs[:, 0], pairs[:, 1], tk.row_line)

    node_attrs: dict[str, dict[str, Any]] = {USER: {}, ITEM: {}}
    sizes = {}
    for nt, fname in ((USER, "user_list.txt"), (ITEM, "item_list.txt")):
        f = root / fname
        if f.exists():
            org = _read_id_list(f)
            node_attrs[nt]["org_id"] = org
            sizes[nt] = (org.size, fname)

    def bound(nt: str, ids: np.ndarray, lines: np.ndarray, path_: Path) -> None:
        if nt in sizes and ids.size:
            n, fname = sizes[nt]
            bad = np.flatnonzero(ids >= n)
            if bad.size:
                raise _fail(path_, lines[bad[0]], f"{nt} id {ids[bad[0]]} is not listed in {fname} ({n} {nt}s)")

    max_u, max_i = -1, -1
    for adj in parts.values():
        bound(USER, adj.row_users, adj.row_line, adj.path)
        bound(ITEM, adj.items, adj.item_line, adj.path)
        max_u = max(max_u, int(adj.row_users.max()))
        if adj.items.size:
            max_i = max(max_i, int(adj.items.max()))
    if trust is not None:
        both = np.concatenate([trust[0], trust[1]])
        lines = np.concatenate([trust[2], trust[2]])
        bound(USER, both, lines, root / "trust.txt")
        if USER not in sizes and not new_nodes:
            bad = np.flatnonzero(both > max_u)
            if bad.size:
                k = bad[np.argmin(lines[bad])]
                raise _fail(root / "trust.txt", lines[k], f"user id {both[k]} appears in no interaction file "
                            f"(users are 0..{max_u}); pass new_nodes=True to add it")
        max_u = max(max_u, int(both.max()))
    n_users = sizes[USER][0] if USER in sizes else max_u + 1
    n_items = sizes[ITEM][0] if ITEM in sizes else max_i + 1

    ds = _build_dataset(
        name, IdMap.range(n_users, USER), IdMap.range(n_items, ITEM),
        (parts["train"].users, parts["train"].items), (parts["test"].users, parts["test"].items),
        None if "valid" not in parts else (parts["valid"].users, parts["valid"].items),
        None if trust is None else (trust[0], trust[1]),
        info={"source": str(root), "format": "split-dir"},
    )
    for nt, attrs in node_attrs.items():
        ds.train.node_attrs[nt].update(attrs)
    return ds


# -------------------------------------------------------------------------- Last.fm
def load_lastfm(path: str | Path) -> Dataset:
    """Load LightGCN-PyTorch's Last.fm split with its friend network.

    Files (tab- or space-separated, 1-based ids, kept as given)
    ------------------------------------------------------------
    ``data1.txt`` (train), ``test1.txt`` (test)
        ``user item weight``; the weight (listening count, float, scientific notation
        allowed) must be finite and non-negative and becomes the interaction weight
        (float32) in train and test.
    ``trustnetwork.txt`` (optional)
        ``user user``: directed ``TRUSTS`` edges. Users that appear only here still become
        user nodes.

    Users are every id in any of the files, items every id in train or test, both sorted.
    A ``(user, item)`` pair repeated within a file is one edge (weights summed);
    ``info["merged_pairs"]`` counts such repeats per split when there are any.

    Returns
    -------
    Dataset named ``"lastfm"`` (1,892 users, 4,489 items, 42,135 / 10,533 interactions and
    25,434 trust edges for the staged copy).
    """
    root = _require_dir(path, "lastfm")
    names = ("user", "item", "weight")
    tr, tr_line = _read_table(root / "data1.txt", names, "iif")
    te, te_line = _read_table(root / "test1.txt", names, "iif")
    for f, cols, lines in ((root / "data1.txt", tr, tr_line), (root / "test1.txt", te, te_line)):
        _check_nonneg_ids(f, cols["user"], lines, "user id")
        _check_nonneg_ids(f, cols["item"], lines, "item id")
        _check_weights(f, cols["weight"], lines)
    trust_u = trust_v = np.zeros(0, np.int64)
    files = ["data1.txt", "test1.txt"]
    if (root / "trustnetwork.txt").exists():
        t, t_line = _read_table(root / "trustnetwork.txt", ("user", "friend"), "ii")
        _check_nonneg_ids(root / "trustnetwork.txt", np.minimum(t["user"], t["friend"]), t_line, "user id")
        trust_u, trust_v = t["user"], t["friend"]
        files.append("trustnetwork.txt")
    users = IdMap(np.unique(np.concatenate([tr["user"], te["user"], trust_u, trust_v])), USER)
    items = IdMap(np.unique(np.concatenate([tr["item"], te["item"]])), ITEM)
    def ui(c: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return users.to_index(c["user"]), items.to_index(c["item"]), c["weight"]

    return _build_dataset(
        "lastfm", users, items, ui(tr), ui(te),
        trust=(users.to_index(trust_u), users.to_index(trust_v)) if trust_u.size else None,
        info={"source": str(root), "format": "lastfm", "files": files},
    )


# -------------------------------------------------------------------- MovieLens 100K
def _read_pipe_file(path: Path, ncols: int, names: str) -> tuple[list[list[str]], np.ndarray]:
    """``|``-separated latin-1 file -> (rows of fields, 1-based line numbers)."""
    text = _require_file(path).read_bytes().decode("latin-1")
    rows, lines = [], []
    for n, ln in enumerate(text.split("\n"), start=1):
        ln = ln.rstrip("\r")
        if not ln.strip():
            continue
        parts = ln.split("|")
        if len(parts) != ncols:
            raise _fail(path, n, f"expected {ncols} '|'-separated fields ({names}), found {len(parts)}")
        rows.append(parts)
        lines.append(n)
    if not rows:
        raise ValueError(f"{path}: file is empty (no data lines)")
    return rows, np.asarray(lines, dtype=np.int64)


def _int_field(path: Path, line: int, value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _fail(path, line, f"{what} must be an integer, got {value!r}") from None


def _ml_items(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    rows, lines = _read_pipe_file(path, 24, "id|title|release date|video date|url|19 genre flags")
    ids = np.array([_int_field(path, n, r[0], "movie id") for r, n in zip(rows, lines)], dtype=np.int64)
    years = np.full(len(rows), -1, dtype=np.int64)
    for k, (r, n) in enumerate(zip(rows, lines)):
        date = r[2].strip()
        if date:
            m = re.fullmatch(r"\d{1,2}-[A-Za-z]{3}-(\d{4})", date)
            if m is None:
                raise _fail(path, n, f"release date must look like 01-Jan-1995, got {date!r}")
            years[k] = int(m.group(1))
    flags_txt = [r[5:] for r in rows]
    try:
        genres = np.array(flags_txt, dtype=np.int64)
    except ValueError:
        genres = None
    if genres is None or not np.isin(genres, (0, 1)).all():
        for r, n in zip(flags_txt, lines):
            for j, v in enumerate(r):
                if v not in ("0", "1"):
                    raise _fail(path, n, f"genre flag {j + 1} must be 0 or 1, got {v!r}")
    attrs = {
        "title": np.array([r[1] for r in rows], dtype=str),
        "year": years,
        "release_date": np.array([r[2] for r in rows], dtype=str),
        "imdb_url": np.array([r[4] for r in rows], dtype=str),
        "genres": genres.astype(np.int8),
    }
    return ids, _by_sorted_id(path, ids, lines, attrs, "movie id")


def _ml_users(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    rows, lines = _read_pipe_file(path, 5, "id|age|gender|occupation|zip")
    ids = np.array([_int_field(path, n, r[0], "user id") for r, n in zip(rows, lines)], dtype=np.int64)
    ages = np.array([_int_field(path, n, r[1], "age") for r, n in zip(rows, lines)], dtype=np.int64)
    attrs = {
        "age": ages,
        "gender": np.array([r[2] for r in rows], dtype=str),
        "occupation": np.array([r[3] for r in rows], dtype=str),
        "zip": np.array([r[4].strip() for r in rows], dtype=str),
    }
    return ids, _by_sorted_id(path, ids, lines, attrs, "user id")


def _by_sorted_id(path: Path, ids: np.ndarray, lines: np.ndarray, attrs: dict[str, Any], what: str) -> dict[str, Any]:
    """Reorder per-row attributes by ascending id (the id map's order); duplicate ids raise."""
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    dup = np.flatnonzero(s[1:] == s[:-1])
    if dup.size:
        raise _fail(path, lines[order[dup[0] + 1]], f"{what} {s[dup[0]]} appears twice")
    return {k: v[order] for k, v in attrs.items()}


def load_movielens100k(path: str | Path, split: str = "random", test_fraction: float = 0.2,
                       seed: int = 0) -> Dataset:
    """Load MovieLens 100K with its item and user metadata.

    Files
    -----
    ``u.data`` (required)
        Tab-separated ``user item rating unix_time``; ratings become interaction weights
        (float32), times interaction timestamps (int64 seconds).
    ``u.item`` (optional, latin-1, ``|``-separated)
        Sets the item nodes; ``graph.node_attrs["item"]`` gets ``title`` (str),
        ``year`` (int64 release year, -1 when missing), ``release_date`` (str),
        ``imdb_url`` (str), ``genres`` (int8 array ``(n_items, 19)`` of 0/1 flags) and
        ``genre_names`` (the 19 names, from ``u.genre`` when present).
    ``u.user`` (optional, ``|``-separated)
        Sets the user nodes; ``node_attrs["user"]`` gets ``age`` (int64), ``gender``,
        ``occupation``, ``zip`` (str).

    Attribute arrays are aligned with the id maps (row ``k`` describes dense index ``k``;
    ids are the files' 1-based ids, in ascending order).

    Parameters
    ----------
    path : str or Path
        The ``ml-100k`` directory.
    split : {'random', 'temporal'}
        ``'random'``: per-user seeded random holdout of ``test_fraction``
        (:func:`~graphrec.data.splits.random_holdout`); ``'temporal'``: each user's latest
        rating held out (:func:`~graphrec.data.splits.temporal_leave_last_out`;
        ``test_fraction`` and ``seed`` unused).
    test_fraction : float in (0, 1)
    seed : int

    Returns
    -------
    Dataset named ``"ml-100k"`` (943 users, 1,682 items, 100,000 ratings in total).
    """
    if split not in ("random", "temporal"):
        raise ValueError(f"split must be 'random' or 'temporal', got {split!r}")
    root = _require_dir(path, "ml-100k")
    f_data = root / "u.data"
    cols, lines = _read_table(f_data, ("user", "item", "rating", "timestamp"), "iiii")
    _check_weights(f_data, cols["rating"].astype(np.float64), lines, "rating")
    g = Graph()
    if (root / "u.user").exists():
        uid, uattrs = _ml_users(root / "u.user")
        users = IdMap(np.sort(uid), USER)
        u_idx = _check_known(f_data, cols["user"], lines, users, "user id", "u.user")
    else:
        users, uattrs = IdMap(np.unique(cols["user"]), USER), {}
        u_idx = users.to_index(cols["user"])
    if (root / "u.item").exists():
        iid, iattrs = _ml_items(root / "u.item")
        items = IdMap(np.sort(iid), ITEM)
        i_idx = _check_known(f_data, cols["item"], lines, items, "movie id", "u.item")
        names = list(ML100K_GENRES)
        if (root / "u.genre").exists():
            names = _ml_genre_names(root / "u.genre")
        iattrs["genre_names"] = names
    else:
        items, iattrs = IdMap(np.unique(cols["item"]), ITEM), {}
        i_idx = items.to_index(cols["item"])
    g.add_node_type(USER, users)
    g.add_node_type(ITEM, items)
    g.node_attrs[USER].update(uattrs)
    g.node_attrs[ITEM].update(iattrs)
    g.add_edges(INTERACTS, u_idx, i_idx, cols["rating"].astype(np.float32), cols["timestamp"])
    g.meta.update({"dataset": "ml-100k", "source": str(root)})
    if split == "random":
        ds = random_holdout(g, test_fraction, seed, name="ml-100k")
    else:
        ds = temporal_leave_last_out(g, 1, name="ml-100k")
    ds.info.update({"source": str(root), "format": "ml-100k"})
    return ds


def _ml_genre_names(path: Path) -> list[str]:
    rows, lines = _read_pipe_file(path, 2, "name|index")
    idx = [_int_field(path, n, r[1], "genre index") for r, n in zip(rows, lines)]
    if sorted(idx) != list(range(len(idx))):
        raise ValueError(f"{path}: genre indices must be 0..{len(idx) - 1}, got {idx}")
    if len(idx) != 19:
        raise ValueError(f"{path}: expected 19 genres (u.item has 19 flags), found {len(idx)}")
    names = [""] * len(idx)
    for r, i in zip(rows, idx):
        names[i] = r[0]
    return names


# ---------------------------------------------------------------------- BlogCatalog
def load_blogcatalog(path: str | Path) -> Graph:
    """Load BlogCatalog (``.mat``) as a homogeneous graph.

    Parameters
    ----------
    path : str or Path
        The ``.mat`` file, or a directory holding ``blogcatalog.mat``. It must contain a
        square sparse adjacency ``network`` and a label matrix ``group`` (or ``labels``).

    Returns
    -------
    Graph
        Node type ``"node"`` with ids ``0 .. n-1`` (the matrix rows); edge type
        ``LINKS = ("node", "links", "node")`` holding both directions of every undirected
        edge (the union of the matrix and its transpose), unweighted when every stored
        value is 1, else weighted by the values. ``node_attrs["node"]["labels"]`` is a dense
        ``torch.bool`` tensor ``(n, n_labels)`` (multi-label membership; 10312 x 39 for the
        staged copy). ``meta["num_undirected_edges"]`` counts each undirected edge once.
    """
    import scipy.io
    import scipy.sparse as sp

    p = Path(path)
    if p.is_dir():
        p = p / "blogcatalog.mat"
    _require_file(p, "BlogCatalog .mat file")
    try:
        mat = scipy.io.loadmat(str(p))
    except Exception as e:  # noqa: BLE001 - scipy raises ValueError, IndexError, ... on corrupt files
        raise ValueError(f"{p}: not a readable MATLAB .mat file ({type(e).__name__}: {e})") from None
    keys = sorted(k for k in mat if not k.startswith("__"))
    if "network" not in mat:
        raise ValueError(f"{p}: no 'network' adjacency matrix (variables: {keys})")
    label_key = next((k for k in ("group", "labels", "label") if k in mat), None)
    if label_key is None:
        raise ValueError(f"{p}: no 'group' label matrix (variables: {keys})")
    adj = sp.csr_matrix(mat["network"])
    n = adj.shape[0]
    if adj.shape != (n, n):
        raise ValueError(f"{p}: 'network' must be square, got shape {adj.shape}")
    if adj.nnz and (not np.isfinite(adj.data).all() or (adj.data < 0).any()):
        raise ValueError(f"{p}: 'network' has negative or non-finite entries")
    big = _float32_overflow(np.asarray(adj.data, dtype=np.float64))
    if big.size:
        raise ValueError(f"{p}: 'network' {_float32_msg('entry', float(adj.data[big[0]]))}")
    sym = adj.maximum(adj.T).tocoo()
    sym.eliminate_zeros()
    labels = mat[label_key]
    labels = labels.toarray() if sp.issparse(labels) else np.asarray(labels)
    if labels.ndim != 2 or labels.shape[0] != n:
        raise ValueError(f"{p}: '{label_key}' must have {n} rows (one per node), got shape {labels.shape}")
    weight = None if np.all(sym.data == 1) else sym.data.astype(np.float32)
    g = Graph()
    g.add_node_type(NODE, IdMap.range(n, NODE))
    g.add_edges(LINKS, sym.row.astype(np.int64), sym.col.astype(np.int64), weight)
    g.node_attrs[NODE]["labels"] = torch.from_numpy(labels != 0)
    loops = int((sym.row == sym.col).sum())
    g.meta.update({
        "dataset": "blogcatalog", "source": str(p),
        "num_undirected_edges": (g.num_edges(LINKS) - loops) // 2 + loops,
    })
    return g


# ------------------------------------------------------------------------- airports
def load_airports(path: str | Path, which: str = "usa") -> Graph:
    """Load one of struc2vec's air-traffic networks with its structural-role labels.

    Files (in the directory ``path``)
    ---------------------------------
    ``{which}-airports.edgelist``
        One undirected edge ``a b`` per line (integer airport ids).
    ``labels-{which}-airports.txt``
        Header ``node label``, then ``id role`` per line (role an integer >= 0, 0-3 for the
        activity quartiles).

    Parameters
    ----------
    path : str or Path
    which : {'usa', 'brazil', 'europe'}

    Returns
    -------
    Graph
        Node type ``"node"`` with the airport ids (sorted; every id of either file);
        ``LINKS`` holds both directions of every edge (a self loop once, duplicates merged);
        ``node_attrs["node"]["role"]`` is an int64 tensor, ``-1`` for unlabelled nodes.
        ``meta["num_undirected_edges"]`` counts distinct undirected edges.
    """
    if which not in ("usa", "brazil", "europe"):
        raise ValueError(f"which must be 'usa', 'brazil' or 'europe', got {which!r}")
    root = _require_dir(path, "airports")
    f_edges = root / f"{which}-airports.edgelist"
    f_labels = root / f"labels-{which}-airports.txt"
    e, _ = _read_table(f_edges, ("a", "b"), "ii")
    header = _has_header(_require_file(f_labels))
    lab, lab_line = _read_table(f_labels, ("node", "label"), "ii", header=header)
    _check_nonneg_ids(f_labels, lab["label"], lab_line, "role label")
    ids = np.unique(np.concatenate([e["a"], e["b"], lab["node"]]))
    nodes = IdMap(ids, NODE)
    order = np.argsort(lab["node"], kind="stable")
    s = lab["node"][order]
    dup = np.flatnonzero(s[1:] == s[:-1])
    if dup.size:
        raise _fail(f_labels, lab_line[order[dup[0] + 1]], f"node {s[dup[0]]} is labelled twice")
    role = torch.full((ids.size,), -1, dtype=torch.int64)
    role[torch.from_numpy(nodes.to_index(lab["node"]))] = torch.from_numpy(lab["label"])
    a, b = nodes.to_index(e["a"]), nodes.to_index(e["b"])
    g = Graph()
    g.add_node_type(NODE, nodes)
    g.add_edges(LINKS, np.concatenate([a, b]), np.concatenate([b, a]), duplicates="merge")  # loops/dups once
    g.node_attrs[NODE]["role"] = role
    loops = int(np.unique(a[a == b]).size)
    g.meta.update({
        "dataset": f"airports-{which}", "source": str(root),
        "num_undirected_edges": (g.num_edges(LINKS) - loops) // 2 + loops,
    })
    return g


def load_edge_list(path: str | Path, *, directed: bool = False) -> Graph:
    """Load a plain edge list: one edge ``a b`` per line (whitespace-separated node ids).

    Integer ids are read in one numpy pass; any other token makes every id a string (the slow
    path, one ``split`` per line). Blank lines are skipped.

    Parameters
    ----------
    path : str or Path
    directed : bool
        Store each edge once as given; by default both directions are stored (an undirected
        graph, as BlogCatalog and the airports).

    Returns
    -------
    Graph
        Node type ``"node"`` (ids sorted), relation ``LINKS`` (duplicates merged),
        ``meta["num_undirected_edges"]`` when undirected.

    Raises
    ------
    ValueError
        A line without exactly two ids (file and line named), or an empty file.
    """
    p = _require_file(Path(path), "edge list")
    try:
        cols, _ = _read_table(p, ("a", "b"), "ii")
        a_ids, b_ids = cols["a"], cols["b"]
    except ValueError as e:
        if "columns" in str(e) or "empty" in str(e):
            raise
        a_list, b_list = [], []
        with open(p, encoding="utf-8", errors="strict") as fh:
            for k, line in enumerate(fh, 1):
                toks = line.split()
                if not toks:
                    continue
                if len(toks) != 2:
                    raise _fail(p, k, f"expected 2 columns (a, b), found {len(toks)}") from None
                a_list.append(toks[0])
                b_list.append(toks[1])
        a_ids, b_ids = np.asarray(a_list, dtype=object), np.asarray(b_list, dtype=object)
    ids = np.unique(np.concatenate([a_ids, b_ids]))
    nodes = IdMap(ids, NODE)
    a, b = nodes.to_index(a_ids), nodes.to_index(b_ids)
    g = Graph()
    g.add_node_type(NODE, nodes)
    if directed:
        g.add_edges(LINKS, a, b)
    else:
        g.add_edges(LINKS, np.concatenate([a, b]), np.concatenate([b, a]))
        loops = int(np.unique(a[a == b]).size)
        g.meta["num_undirected_edges"] = (g.num_edges(LINKS) - loops) // 2 + loops
    g.meta.update({"dataset": p.stem, "source": str(p)})
    return g


def _has_header(path: Path) -> bool:
    """Whether the first non-blank line holds non-numeric tokens (a header)."""
    with open(path, "rb") as fh:
        for raw in fh:
            toks = raw.split()
            if toks:
                return not all(re.fullmatch(rb"[+-]?\d+", t) for t in toks)
    return False


# ----------------------------------------------------------------------- edge tables
_TABLE_EXT = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None, ".parquet": None, ".pq": None}
#: a canonical integer: optional minus sign, no leading zeros (except "0" itself), no "+"
_CANONICAL_INT = r"^(0|-?[1-9][0-9]*)$"
_INT64_MAX = np.iinfo(np.int64).max


def _open_text(p: Path) -> Any:
    """``p`` as UTF-8 text (a leading BOM dropped); bytes that are not UTF-8 come through as
    lone surrogates, which :func:`_has_bad_bytes` detects."""
    return open(p, newline="", encoding="utf-8-sig", errors="surrogateescape")


def _has_bad_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _not_utf8(p: Path, line: int | None = None, col: str | None = None) -> ValueError:
    where = f"{p}, line {line}" if line is not None else f"{p}"
    what = f"column {col!r} is" if col is not None else "the file is"
    return ValueError(
        f"{where}: {what} not valid UTF-8 text; re-save the file as UTF-8"
        " (e.g. from Latin-1: iconv -f latin1 -t utf-8 in > out)"
    )


def _locate_not_utf8(p: Path, sep: str, columns: list[str]) -> ValueError:
    """Slow path, only after pyarrow met bytes that are not UTF-8: the first such cell of
    the columns read, with its line."""
    with _open_text(p) as fh:
        reader = csv.reader(fh, delimiter=sep)
        names = next(reader, [])
        idx = {c: names.index(c) for c in columns if c in names}
        for row in reader:
            for c, j in idx.items():
                if j < len(row) and _has_bad_bytes(row[j]):
                    return _not_utf8(p, reader.line_num, c)
    return _not_utf8(p)


def _read_arrow_table(p: Path, sep: str | None, columns: list[str],
                      id_columns: list[str]) -> tuple[Any, _Rows]:
    """pyarrow table of ``p`` and how to name its rows in errors (text lines or Parquet rows).

    In a text file the ``id_columns`` are read as strings (see :func:`_text_ids`).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    ext = p.suffix.lower()
    if ext in (".parquet", ".pq"):
        try:
            schema = pq.read_schema(p)
        except (pa.ArrowInvalid, OSError) as e:
            raise ValueError(f"{p}: not a readable Parquet file ({e})") from None
        missing = [c for c in columns if c not in schema.names]
        if missing:
            raise ValueError(f"{p}: missing column(s) {missing}; the file has columns {schema.names}")
        return pq.read_table(p, columns=columns), _Rows(p, None)
    if sep is None:
        sep = _TABLE_EXT.get(ext) or _sniff_sep(p)
    if len(sep) != 1:
        raise ValueError(f"sep must be a single character, got {sep!r}")
    if p.stat().st_size == 0:
        raise ValueError(f"{p}: file is empty")
    with _open_text(p) as fh:
        reader = csv.reader(fh, delimiter=sep)
        names = next(reader, [])
        if _has_bad_bytes("".join(names)):
            raise _not_utf8(p, reader.line_num)
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(f"{p}: missing column(s) {missing}; the file has columns {names}")
    try:
        table = pacsv.read_csv(
            p,
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(
                include_columns=columns, column_types={c: pa.string() for c in id_columns},
            ),
        )
    except pa.ArrowInvalid as e:
        if "invalid UTF8" in str(e):
            raise _locate_not_utf8(p, sep, columns) from None
        raise _csv_error(p, sep, columns, e) from None
    if any(pa.types.is_binary(t) or pa.types.is_large_binary(t) for t in table.schema.types):
        raise _locate_not_utf8(p, sep, columns)  # pyarrow infers binary for non-UTF-8 text
    return table, _Rows(p, sep)


def _sniff_sep(p: Path) -> str:
    with _open_text(p) as fh:
        first = fh.readline()
    for s in ("\t", ",", ";", "|", " "):
        if s in first:
            return s
    return ","


def _csv_error(p: Path, sep: str, columns: list[str], err: Exception) -> ValueError:
    """Turn a pyarrow CSV failure into a ValueError naming the column or the line."""
    with _open_text(p) as fh:
        reader = csv.reader(fh, delimiter=sep)
        try:
            names = next(reader)
        except StopIteration:
            return ValueError(f"{p}: file is empty")
        missing = [c for c in columns if c not in names]
        if missing:
            return ValueError(f"{p}: missing column(s) {missing}; the file has columns {names}")
        for row in reader:
            if row and len(row) != len(names):
                return _fail(p, reader.line_num, f"expected {len(names)} fields ({sep!r}-separated), found {len(row)}")
    return ValueError(f"{p}: could not parse as a {sep!r}-separated table ({err})")


class _Rows:
    """Names row ``k`` of a table read by :func:`_read_arrow_table` for an error message:
    Parquet rows by number, text rows by the line they start on in the file. pyarrow skips
    blank lines and a quoted field may span lines, so the file is re-read (only when an
    error is being raised) to find that line."""

    def __init__(self, path: Path | str, sep: str | None, labels: Any = None) -> None:
        self.path, self.sep, self.labels = path, sep, labels

    @property
    def text(self) -> bool:
        return self.sep is not None

    def where(self, k: int) -> str:
        if self.labels is not None:  # a DataFrame's row: its index label
            return f"index {self.labels[k]!r}"
        if self.sep is None:
            return f"row {k + 1}"
        with _open_text(self.path) as fh:
            reader = csv.reader(fh, delimiter=self.sep)
            next(reader, None)  # the header
            seen, end_of_last = 0, reader.line_num
            for row in reader:
                if row:
                    if seen == k:
                        return f"line {end_of_last + 1}"
                    seen += 1
                end_of_last = reader.line_num
        return f"data row {k + 1}"


def _column(table: Any, col: str) -> Any:
    """One column as a single array; dictionary (pandas categorical) columns decoded to
    their value type."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ch = table.column(col)
    if pa.types.is_dictionary(ch.type):
        ch = pc.cast(ch, ch.type.value_type)
    return ch.combine_chunks()


def _int64_values(p: Path | str, arr: Any, col: str, rows: _Rows, what: str) -> np.ndarray:
    """An integer column as int64; uint64 values above 2**63 - 1 raise instead of wrapping."""
    import pyarrow as pa

    v = arr.to_numpy()
    if arr.type == pa.uint64():
        bad = np.flatnonzero(v > _INT64_MAX)
        if bad.size:
            k = int(bad[0])
            raise ValueError(
                f"{p}, {rows.where(k)}: column {col!r} {what} {int(v[k])} (uint64) does not"
                f" fit in int64 (largest {_INT64_MAX}); store these {what}s as strings"
            )
    return v.astype(np.int64)


def _text_ids(arr: Any) -> np.ndarray:
    """Ids read as text: int64 when every value is a canonical integer that fits int64
    (so ``"001"`` and ``"1"`` stay two ids), else the strings as given."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pc.all(pc.match_substring_regex(arr, _CANONICAL_INT)).as_py():
        try:
            return pc.cast(arr, pa.int64()).to_numpy().astype(np.int64)
        except pa.ArrowInvalid:
            pass  # a value beyond int64: keep them all as strings
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=str)


def load_edge_table(path: str | Path, user_col: str = "user", item_col: str = "item",
                    weight_col: str | None = None, time_col: str | None = None,
                    sep: str | None = None, *, duplicates: str = "count") -> Graph:
    """Load an interaction table (CSV, TSV or Parquet with named columns) into a Graph.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (comma), ``.tsv``/``.tab`` (tab), ``.parquet``/``.pq``, or another text file
        whose separator is given by ``sep`` or sniffed from the header line. The first line
        of a text file is the header. Text files must be UTF-8 (a leading BOM is allowed).
    user_col, item_col : str
        Id columns; integer or string ids, kept as given. In a text file an id column
        becomes int64 only when every value is a canonical integer (optional ``-``, no
        leading zeros, no ``+`` or spaces) within int64, else every value stays a string
        (``"001"`` and ``"1"`` are two ids). Parquet columns keep their stored type
        (dictionary/categorical columns are decoded; integral floats become int64; uint64
        values above ``2**63 - 1`` raise). Empty cells raise.
    weight_col : str, optional
        Numeric interaction weights; must be finite, non-negative and within float32's
        range (they are stored as float32).
    time_col : str, optional
        Integer times, or timestamps / ISO-8601 strings (converted to int64 unix seconds,
        UTC, rounded down: :mod:`graphrec.graph.times`).
    sep : str, optional
        Field separator of a text file (default from the extension).
    duplicates : {'count', 'merge', 'keep', 'error'}
        Rule for repeated ``(user, item)`` rows (see :meth:`Graph.add_edges`). ``count``
        (default): one edge whose weight is the sum of the rows' weights or, without a
        weight column, the number of rows (a table without repeats stays unweighted);
        the latest time is kept.

    Returns
    -------
    Graph
        Users and items (each sorted by id) and ``INTERACTS`` edges.

    Raises
    ------
    ValueError
        Missing columns (named, with the columns the file has), wrong field counts, empty
        ids, non-numeric/NaN/negative/too large weights, text that is not UTF-8 — naming the
        file and line (CSV) or row (Parquet).
    """
    p = _require_file(Path(path), "edge table")
    for nm, c in (("user_col", user_col), ("item_col", item_col)):
        if not isinstance(c, str) or not c:
            raise TypeError(f"{nm} must be a column name, got {c!r}")
    columns = [c for c in dict.fromkeys([user_col, item_col, weight_col, time_col]) if c is not None]
    table, rows = _read_arrow_table(p, sep, columns, [user_col, item_col])
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(f"{p}: missing column(s) {missing}; the file has columns {table.column_names}")
    if table.num_rows == 0:
        raise ValueError(f"{p}: the table has no rows")
    u_ext, i_ext = _id_column(p, table, user_col, rows), _id_column(p, table, item_col, rows)
    weight = None if weight_col is None else _weight_column(p, table, weight_col, rows)
    timestamp = None if time_col is None else _time_column(p, _column(table, time_col), time_col, rows)
    users = IdMap(np.unique(u_ext), USER)
    items = IdMap(np.unique(i_ext), ITEM)
    g = Graph()
    g.add_node_type(USER, users)
    g.add_node_type(ITEM, items)
    g.add_edges(INTERACTS, users.to_index(u_ext), items.to_index(i_ext), weight, timestamp, duplicates=duplicates)
    g.meta.update({"dataset": p.stem, "source": str(p)})
    return g


def _id_column(p: Path | str, table: Any, col: str, rows: _Rows) -> np.ndarray:
    """Column ``col`` of an Arrow ``table`` as int64 or str ids (see :func:`load_edge_table`);
    ``p`` and ``rows`` name the source and the row in errors."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _column(table, col)
    if arr.null_count:
        k = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise ValueError(f"{p}, {rows.where(k)}: column {col!r} is empty")
    if pa.types.is_integer(arr.type):
        return _int64_values(p, arr, col, rows, "id")
    if pa.types.is_floating(arr.type):
        v = arr.to_numpy()
        bad = np.flatnonzero(~np.isfinite(v) | (v != np.round(v)))
        if bad.size:
            raise ValueError(f"{p}, {rows.where(int(bad[0]))}: column {col!r} id {v[bad[0]]} is not an integer")
        bad = np.flatnonzero(np.abs(v) >= 2.0**63)
        if bad.size:
            raise ValueError(f"{p}, {rows.where(int(bad[0]))}: column {col!r} id {v[bad[0]]:g} does not fit in int64")
        return v.astype(np.int64)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        empty = pc.equal(arr, "").to_numpy(zero_copy_only=False)
        if empty.any():
            k = int(np.flatnonzero(empty)[0])
            raise ValueError(f"{p}, {rows.where(k)}: column {col!r} is empty")
        if rows.text:
            return _text_ids(arr)
        return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=str)
    raise ValueError(f"{p}: column {col!r} must hold integer or string ids, got type {arr.type}")


def _weight_column(p: Path | str, table: Any, col: str, rows: _Rows) -> np.ndarray:
    """Column ``col`` as float32 weights: finite, non-negative, within float32's range."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _column(table, col)
    if not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        vals = arr.to_pylist()
        for k, v in enumerate(vals):
            try:
                float(v)
            except (TypeError, ValueError):
                raise ValueError(f"{p}, {rows.where(k)}: column {col!r} must be a number, got {v!r}") from None
    w = np.asarray(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"{p}, {rows.where(k)}: column {col!r} weight {w[k]} must be finite and non-negative")
    bad = _float32_overflow(w)
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"{p}, {rows.where(k)}: column {col!r} {_float32_msg('weight', w[k])}")
    return w.astype(np.float32)


def _time_column(p: Path | str, arr: Any, col: str, rows: _Rows) -> np.ndarray:
    """Column ``col`` as int64 times: integers as given, datetimes as unix seconds
    (:func:`graphrec.graph.times.arrow_unix_seconds`)."""
    import pyarrow as pa

    if arr.null_count:
        k = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise ValueError(f"{p}, {rows.where(k)}: column {col!r} is empty")
    if pa.types.is_integer(arr.type):
        return _int64_values(p, arr, col, rows, "time")
    try:
        return arrow_unix_seconds(arr, f"column {col!r}")
    except (ValueError, TypeError) as e:
        raise ValueError(f"{p}: {e}") from None
