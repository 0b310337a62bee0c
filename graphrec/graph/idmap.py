"""External id <-> dense index maps for one node type.

An :class:`IdMap` is built once, where data enters the system. Everything inside
graphrec works on dense ``int64`` indices ``0 .. n-1``; external ids (ints or
strings) only reappear in results handed back to users.

Lookups are vectorised: the map keeps its ids sorted next to a permutation and
answers with ``numpy.searchsorted``, so translating a million ids costs one sort's
worth of work, never a Python loop.

A map held by a :class:`~graphrec.graph.store.Graph` never changes: its arrays are
read-only and :meth:`IdMap.extend` refuses it. Graphs grow by :meth:`IdMap.extended`, which
returns a new map (copy on write), so graphs that share a map (slices, train/test splits,
``g.to(device)``) can never change each other's node sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["IdMap"]

_INT64_MAX = int(np.iinfo(np.int64).max)


def _as_id_array(ids: Any, what: str) -> np.ndarray:
    """Coerce ``ids`` to a 1-D int64 or unicode numpy array, or raise naming ``what``."""
    if isinstance(ids, np.ndarray):
        arr = ids
    elif hasattr(ids, "numpy") and callable(ids.numpy):  # torch tensor
        arr = ids.detach().cpu().numpy()
    elif isinstance(ids, (str, bytes, int, np.integer)):
        arr = np.asarray([ids])
    else:
        seq = list(ids) if not isinstance(ids, Sequence) else ids
        arr = np.asarray(seq)
        if arr.ndim > 1:  # e.g. tuples: numpy would silently flatten them into separate ids
            raise TypeError(f"{what}: ids must be scalar ints or strings, got nested values such as {seq[0]!r}")
        if arr.dtype.kind == "U":  # numpy turns [1, "a"] into ['1', 'a']: refuse mixed kinds
            kinds = {type(x) for x in seq}
            if not kinds <= {str, np.str_}:
                raise TypeError(f"{what}: ids must be all ints or all strings, got types {sorted(k.__name__ for k in kinds)}")
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    if arr.dtype.kind == "u" and arr.dtype.itemsize >= 8 and len(arr) and arr.max() > np.uint64(_INT64_MAX):
        bad = arr[arr > np.uint64(_INT64_MAX)][0].item()  # compared in uint64: numpy 1.x would go via float64
        raise ValueError(f"{what}: unsigned id {bad} exceeds int64's range (max 2**63-1); pass such ids as strings")
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "U":
        return arr
    if arr.dtype.kind in "OS":
        if len(arr) == 0:
            return arr.astype(np.int64)
        kinds = {type(x) for x in arr}
        if all(issubclass(k, (int, np.integer)) and not issubclass(k, (bool, np.bool_)) for k in kinds):
            big = [x for x in arr.tolist() if not -_INT64_MAX - 1 <= x <= _INT64_MAX]
            if big:
                raise ValueError(f"{what}: id {big[0]} exceeds int64's range [-2**63, 2**63-1]; pass such ids as strings")
            return arr.astype(np.int64)
        if kinds <= {str, np.str_, bytes}:
            return arr.astype(str)
        raise TypeError(f"{what}: ids must be all ints or all strings, got types {sorted(k.__name__ for k in kinds)}")
    if arr.dtype.kind == "f":
        if len(arr) and not np.all(np.isfinite(arr)):
            raise ValueError(f"{what}: ids contain NaN or infinite values")
        if len(arr) and not np.all(arr == np.round(arr)):
            raise TypeError(f"{what}: ids must be integers or strings, got non-integral floats")
        if len(arr) and not np.all((arr >= -(2.0**63)) & (arr < 2.0**63)):
            bad = arr[(arr < -(2.0**63)) | (arr >= 2.0**63)][0].item()
            raise ValueError(f"{what}: id {bad:g} exceeds int64's range [-2**63, 2**63-1]; pass such ids as strings")
        return arr.astype(np.int64)
    if arr.dtype.kind == "b":
        raise TypeError(f"{what}: ids must be integers or strings, got booleans")
    raise TypeError(f"{what}: ids must be integers or strings, got dtype {arr.dtype}")


class IdMap:
    """Bijection between external ids and dense indices ``0 .. len-1``.

    Parameters
    ----------
    ids : sequence of int or str
        External ids in index order: ``ids[i]`` is the id of index ``i``. Must be unique
        and of one kind (all integers or all strings).
    name : str
        Node type, used in error messages.

    Examples
    --------
    >>> m = IdMap(["u7", "u42", "u3"], name="user")
    >>> m.to_index(["u42", "u3"]).tolist()
    [1, 2]
    >>> m.to_external([0]).tolist()
    ['u7']
    """

    def __init__(self, ids: Iterable[Any], name: str = "node") -> None:
        self.name = name
        arr = _as_id_array(ids, f"IdMap({name!r})")
        if arr is ids or not arr.flags.owndata:  # never freeze (or later see changes to) the caller's array
            arr = arr.copy()
        self._ids = arr
        self._frozen = False  # set when a Graph holds the map; it may then never change
        self._rebuild_index()

    @classmethod
    def range(cls, n: int, name: str = "node") -> IdMap:
        """The identity map ``i <-> i`` for ``n`` nodes."""
        if n < 0:
            raise ValueError(f"IdMap.range({name!r}): n must be >= 0, got {n}")
        return cls(np.arange(n, dtype=np.int64), name=name)

    def _rebuild_index(self) -> None:
        order = np.argsort(self._ids, kind="stable")
        sorted_ids = self._ids[order]
        if len(sorted_ids) > 1:
            dup = sorted_ids[1:] == sorted_ids[:-1]
            if dup.any():
                first = sorted_ids[1:][dup][0].item()  # plain int/str in the message, not np.str_(...)
                raise ValueError(f"IdMap({self.name!r}): duplicate id {first!r}")
        for a in (self._ids, order, sorted_ids):  # shared between maps and graphs: never written in place
            a.flags.writeable = False
        self._order = order
        self._sorted = sorted_ids
        self._is_range = (
            self._ids.dtype.kind == "i"
            and (len(self._ids) == 0 or (self._ids[0] == 0 and bool(np.all(self._ids == np.arange(len(self._ids))))))
        )

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        kind = "str" if self.is_str else "int"
        return f"IdMap(name={self.name!r}, n={len(self)}, ids={kind})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and self._ids.dtype.kind == other._ids.dtype.kind and np.array_equal(self._ids, other._ids)

    @property
    def ids(self) -> np.ndarray:
        """External ids in index order, shape ``(n,)``; int64 or unicode."""
        return self._ids

    @property
    def is_str(self) -> bool:
        return self._ids.dtype.kind == "U"

    def __contains__(self, external_id: Any) -> bool:
        return bool(self.contains([external_id])[0])

    # ----------------------------------------------------------------- lookups
    def contains(self, ids: Any) -> np.ndarray:
        """Boolean mask, shape ``(len(ids),)``: which external ids are known."""
        return self._lookup(ids)[1]

    def to_index(self, ids: Any) -> np.ndarray:
        """Dense indices (int64, shape ``(len(ids),)``) of external ``ids``.

        Raises
        ------
        KeyError
            If any id is unknown; the message names up to five of them.
        """
        idx, found = self._lookup(ids)
        if not found.all():
            missing = _as_id_array(ids, self.name)[~found]
            shown = ", ".join(repr(x.item() if hasattr(x, "item") else x) for x in missing[:5])
            more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
            raise KeyError(f"unknown {self.name} id(s): {shown}{more}")
        return idx

    def to_external(self, index: Any) -> np.ndarray:
        """External ids of dense ``index`` values (shape preserved)."""
        arr = np.asarray(index.detach().cpu().numpy() if hasattr(index, "detach") else index)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{self.name} indices must be integers, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= len(self)):
            bad = arr[(arr < 0) | (arr >= len(self))].reshape(-1)[0]
            raise IndexError(f"{self.name} index {int(bad)} out of range [0, {len(self)})")
        return self._ids[arr]

    def _lookup(self, ids: Any) -> tuple[np.ndarray, np.ndarray]:
        query = _as_id_array(ids, f"IdMap({self.name!r}) lookup")
        if len(query) == 0:
            return np.zeros(0, np.int64), np.zeros(0, bool)
        if self.is_str != (query.dtype.kind == "U"):
            want = "strings" if self.is_str else "integers"
            raise TypeError(f"{self.name} ids are {want}; got {query.dtype} ids such as {query[0]!r}")
        if self._is_range:
            found = (query >= 0) & (query < len(self))
            return np.where(found, query, 0).astype(np.int64), found
        pos = np.searchsorted(self._sorted, query)
        pos_c = np.minimum(pos, max(len(self._sorted) - 1, 0))
        found = (pos < len(self._sorted)) & (self._sorted[pos_c] == query) if len(self._sorted) else np.zeros(len(query), bool)
        idx = np.where(found, self._order[pos_c] if len(self._sorted) else 0, 0).astype(np.int64)
        return idx, found

    # ------------------------------------------------------------------ growth
    def extended(self, ids: Any) -> tuple[IdMap, np.ndarray]:
        """This map grown by the ids not yet present (in first-seen order), and the indices of all ``ids``.

        Never changes ``self``: returns ``self`` when every id is known, else a new map (with
        the same name) whose first ``len(self)`` ids are this map's, in the same order.
        """
        query = _as_id_array(ids, f"IdMap({self.name!r}).extend")
        if len(query) and len(self) and self.is_str != (query.dtype.kind == "U"):
            raise TypeError(f"{self.name} ids are {'strings' if self.is_str else 'integers'}; cannot add {query.dtype} ids")
        found = self.contains(query) if len(self) else np.zeros(len(query), bool)
        new = query[~found]
        if not len(new):
            return self, self.to_index(query)
        _uniq, first = np.unique(new, return_index=True)
        new_ids = new[np.sort(first)]
        out = IdMap(np.concatenate([self._ids.astype(new_ids.dtype) if len(self) == 0 else self._ids, new_ids]), self.name)
        return out, out.to_index(query)

    def extend(self, ids: Any) -> np.ndarray:
        """Add the ids not yet present (in first-seen order) in place; return indices of all ``ids``.

        Raises
        ------
        ValueError
            If a :class:`~graphrec.graph.store.Graph` holds this map: its node count must
            match its edge sets, so grow it with ``Graph.add_nodes`` (or extend a :meth:`copy`).
        """
        if self._frozen:
            raise ValueError(
                f"IdMap({self.name!r}) belongs to a Graph and cannot change in place; "
                "use Graph.add_nodes / add_edges(by='id'), or extend a copy()"
            )
        grown, idx = self.extended(ids)
        self._take_index(grown)
        return idx

    def copy(self) -> IdMap:
        """An independent map with the same name and ids (cheap: the read-only arrays are shared)."""
        out = IdMap.__new__(IdMap)
        out.name, out._frozen = self.name, False
        out._take_index(self)
        return out

    def _take_index(self, other: IdMap) -> None:
        """Share ``other``'s ids and lookup arrays (all read-only)."""
        self._ids, self._order, self._sorted, self._is_range = other._ids, other._order, other._sorted, other._is_range

    # ------------------------------------------------------------ persistence
    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_json` restores an equal map."""
        if self._is_range:
            return {"name": self.name, "kind": "range", "n": len(self)}
        kind = "str" if self.is_str else "int"
        return {"name": self.name, "kind": kind, "ids": self._ids.tolist()}

    @classmethod
    def from_json(cls, obj: Any) -> IdMap:
        """The map described by ``obj`` (from :meth:`to_json`); ``ValueError`` if it is malformed."""
        if not isinstance(obj, dict):
            raise ValueError(f"an id map must be a JSON object, got {type(obj).__name__}")  # noqa: TRY004 (corrupt data)
        name, kind = obj.get("name"), obj.get("kind")
        if not isinstance(name, str):
            raise ValueError(f"id map 'name' must be a string, got {name!r}")  # noqa: TRY004 (corrupt data)
        if kind == "range":
            n = obj.get("n")
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise ValueError(f"id map {name!r}: 'n' must be an integer >= 0, got {n!r}")
            return cls.range(n, name=name)
        if kind not in ("int", "str"):
            raise ValueError(f"id map {name!r}: unknown id kind {kind!r}; expected 'range', 'int' or 'str'")
        ids = obj.get("ids")
        if not isinstance(ids, list):
            raise ValueError(f"id map {name!r}: 'ids' must be a list, got {type(ids).__name__}")  # noqa: TRY004 (corrupt data)
        try:
            arr = _as_id_array(ids, f"id map {name!r}")
        except TypeError as e:
            raise ValueError(str(e)) from None
        if len(arr) and (arr.dtype.kind == "U") != (kind == "str"):
            raise ValueError(f"id map {name!r} has kind {kind!r} but holds ids such as {arr[0].item()!r}")
        if kind == "str" and not len(arr):
            arr = np.zeros(0, dtype=str)
        return cls(arr, name=name)
