"""IdMap: external id <-> dense index maps."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from graphrec.graph import IdMap


def test_int_ids_round_trip() -> None:
    m = IdMap([10, 3, 7], name="user")
    assert m.to_index([7, 10, 3]).tolist() == [2, 0, 1]
    assert m.to_external([1, 2, 0]).tolist() == [3, 7, 10]
    assert m.to_index(m.ids).tolist() == [0, 1, 2]
    assert m.ids.dtype == np.int64 and not m.is_str
    # tensors and numpy arrays of any integer dtype are accepted on both sides
    assert m.to_index(torch.tensor([3, 7])).tolist() == [1, 2]
    assert m.to_index(np.array([10], dtype=np.int32)).tolist() == [0]
    assert m.to_external(torch.tensor([[0, 2]])).tolist() == [[10, 7]]  # shape preserved


def test_string_ids_round_trip() -> None:
    m = IdMap(["u7", "u42", "u3"], name="user")
    assert m.is_str
    assert m.to_index(["u3", "u7"]).tolist() == [2, 0]
    assert m.to_index("u42").tolist() == [1]
    assert m.to_external([1]).tolist() == ["u42"]
    assert m.to_index(m.to_external(np.arange(3))).tolist() == [0, 1, 2]
    assert "u42" in m and "u5" not in m
    assert m.contains(["u3", "x", "u7"]).tolist() == [True, False, True]


def test_unknown_ids_raise_key_error_naming_them() -> None:
    m = IdMap(["a", "b"], name="item")
    with pytest.raises(KeyError, match=r"unknown item id\(s\): 'zz', 'yy'"):
        m.to_index(["a", "zz", "yy"])
    n = IdMap([5, 9], name="user")
    with pytest.raises(KeyError, match=r"unknown user id\(s\): 99"):
        n.to_index([9, 99])
    with pytest.raises(KeyError, match=r"\(and 2 more\)"):
        n.to_index([100, 101, 102, 103, 104, 105, 106])


def test_duplicate_ids_raise() -> None:
    with pytest.raises(ValueError, match="duplicate id 'b'"):
        IdMap(["a", "b", "c", "b"], name="item")
    with pytest.raises(ValueError, match="duplicate id 4"):
        IdMap([4, 1, 4])


def test_extend_keeps_old_indices() -> None:
    m = IdMap(["a", "b"], name="item")
    idx = m.extend(["c", "a", "d", "c"])
    assert idx.tolist() == [2, 0, 3, 2]
    assert m.ids.tolist() == ["a", "b", "c", "d"]  # new ids appended in first-seen order
    assert m.to_index(["a", "b"]).tolist() == [0, 1]
    assert m.extend([]).tolist() == []
    assert len(m) == 4


def test_extend_type_rules() -> None:
    empty = IdMap([], name="user")
    assert empty.extend(["x", "y"]).tolist() == [0, 1]  # an empty map takes the first kind it sees
    assert empty.is_str
    with pytest.raises(TypeError, match="user ids are strings"):
        empty.extend([3])
    ints = IdMap([1, 2], name="user")
    with pytest.raises(TypeError, match="user ids are integers"):
        ints.extend(["3"])
    assert ints.ids.tolist() == [1, 2]  # unchanged after the failed extend


@pytest.mark.parametrize("ids", [[3, 1, 2], ["b", "a", "é"], [], list(range(4))])
def test_json_round_trip(ids: list) -> None:
    m = IdMap(ids, name="thing")
    obj = json.loads(json.dumps(m.to_json()))
    back = IdMap.from_json(obj)
    assert back == m and back.name == "thing"
    assert back.ids.tolist() == ids
    if ids and isinstance(ids[0], str):
        assert back.is_str


def test_range_fast_path() -> None:
    r = IdMap.range(5, name="user")
    assert r.to_json() == {"name": "user", "kind": "range", "n": 5}
    assert r == IdMap([0, 1, 2, 3, 4])  # an explicit 0..n-1 list is the same map
    assert r.to_index([4, 0, 2]).tolist() == [4, 0, 2]
    assert r.contains([5, -1, 2]).tolist() == [False, False, True]
    with pytest.raises(KeyError, match="-1"):
        r.to_index([-1])
    with pytest.raises(KeyError, match="5"):
        r.to_index([5])
    # growing with a non-contiguous id leaves the fast path and still answers correctly
    assert r.extend([9, 3]).tolist() == [5, 3]
    assert r.to_json()["kind"] == "int"
    assert r.to_index([9, 4, 0]).tolist() == [5, 4, 0]
    # a permutation of 0..n-1 is not the identity
    p = IdMap([1, 0, 2])
    assert p.to_index([0, 1]).tolist() == [1, 0]
    with pytest.raises(ValueError, match="n must be >= 0"):
        IdMap.range(-1)


@pytest.mark.parametrize(
    "ids",
    [[1, "a"], ["a", 1], [1, None], [("user", 1), ("user", 2)], [True, False], [1.5, 2.0]],
)
def test_mixed_or_bad_types_raise_type_error(ids: list) -> None:
    with pytest.raises(TypeError):
        IdMap(ids)


def test_lookup_kind_mismatch_and_bad_indices() -> None:
    m = IdMap(["a", "b"], name="item")
    with pytest.raises(TypeError, match="item ids are strings"):
        m.to_index([0])
    n = IdMap([1, 2], name="user")
    with pytest.raises(TypeError, match="user ids are integers"):
        n.contains(["1"])
    with pytest.raises(IndexError, match="user index 2 out of range"):
        n.to_external([0, 2])
    with pytest.raises(TypeError, match="indices must be integers"):
        n.to_external(np.array([0.0]))
    with pytest.raises(ValueError, match="NaN"):
        IdMap([1.0, float("nan")])
    assert IdMap([1.0, 2.0]).ids.tolist() == [1, 2]  # integral floats are ints


def test_copy_is_independent() -> None:
    m = IdMap(["a"], name="item")
    c = m.copy()
    c.extend(["b"])
    assert len(m) == 1 and len(c) == 2 and c.name == "item"


# -------------------------------------------------------- immutability, copy on write
def test_map_held_by_a_graph_never_changes_in_place() -> None:
    from graphrec.graph import Graph

    m = IdMap(["a", "b"], name="user")
    g = Graph()
    g.add_node_type("user", m)
    with pytest.raises(ValueError, match=r"IdMap\('user'\) belongs to a Graph.*add_nodes"):
        m.extend(["c"])
    with pytest.raises(ValueError, match="read-only"):
        m.ids[0] = "z"
    assert m.ids.tolist() == ["a", "b"] and len(g.id_map("user")) == 2
    c = m.copy()  # a copy is the caller's own map again, sharing the (read-only) arrays until it grows
    assert np.shares_memory(c.ids, m.ids)
    assert c.extend(["c"]).tolist() == [2]
    assert len(c) == 3 and len(m) == 2


def test_extended_returns_a_new_map_and_leaves_the_old_one_alone() -> None:
    m = IdMap([5, 7], name="item")
    same, idx = m.extended([7, 5])
    assert same is m and idx.tolist() == [1, 0]
    grown, idx = m.extended([9, 5, 9])
    assert grown is not m and grown.name == "item"
    assert idx.tolist() == [2, 0, 2] and grown.ids.tolist() == [5, 7, 9]
    assert m.ids.tolist() == [5, 7] and m.to_index([7]).tolist() == [1] and 9 not in m


def test_map_does_not_alias_the_callers_array() -> None:
    arr = np.array([3, 1, 2], dtype=np.int64)
    m = IdMap(arr)
    arr[0] = 99  # the caller's array stays writable, and the map does not see the change
    assert m.ids.tolist() == [3, 1, 2] and m.to_index([3]).tolist() == [0]


# ----------------------------------------------------------------------- id ranges
def test_uint64_ids_above_int64_raise_and_fitting_ones_are_accepted() -> None:
    with pytest.raises(ValueError, match=r"unsigned id 9223372036854775809 exceeds int64's range.*as strings"):
        IdMap(np.array([2**63 + 1, 2**64 - 1], dtype=np.uint64))
    with pytest.raises(ValueError, match="exceeds int64's range.*as strings"):
        IdMap([2**64 - 1])  # numpy reads this list as uint64
    with pytest.raises(ValueError, match="id 36893488147419103232 exceeds int64's range"):
        IdMap([1, 2**65])  # too large even for uint64: an object array
    with pytest.raises(ValueError, match="exceeds int64's range"):
        IdMap([1e19])
    ok = IdMap(np.array([2**63 - 1, 0, 5], dtype=np.uint64), name="user")
    assert ok.ids.dtype == np.int64 and ok.ids.tolist() == [2**63 - 1, 0, 5]
    assert ok.to_index(np.array([5, 2**63 - 1], dtype=np.uint64)).tolist() == [2, 0]
    assert IdMap([np.uint64(3), np.int32(4)]).ids.tolist() == [3, 4]  # numpy scalars of any int type
    with pytest.raises(ValueError, match="exceeds int64's range"):
        ok.extend(np.array([2**63], dtype=np.uint64))
    assert len(ok) == 3


# ------------------------------------------------------------------ from_json
@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ([1, 2], "must be a JSON object"),
        ({"kind": "int", "ids": [1]}, "'name' must be a string"),
        ({"name": "u", "kind": "strs", "ids": ["a"]}, "unknown id kind 'strs'"),
        ({"name": "u", "kind": "range", "n": -1}, "'n' must be an integer >= 0"),
        ({"name": "u", "kind": "range", "n": "3"}, "'n' must be an integer >= 0"),
        ({"name": "u", "kind": "int", "ids": "abc"}, "'ids' must be a list"),
        ({"name": "u", "kind": "int", "ids": ["a", "b"]}, "kind 'int' but holds ids such as 'a'"),
        ({"name": "u", "kind": "str", "ids": [1, 2]}, "kind 'str' but holds ids such as 1"),
        ({"name": "u", "kind": "int", "ids": [True]}, "booleans"),
        ({"name": "u", "kind": "int", "ids": [1, 1]}, "duplicate id 1"),
    ],
)
def test_from_json_rejects_malformed_descriptions(obj: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        IdMap.from_json(obj)  # type: ignore[arg-type]
