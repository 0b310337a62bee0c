"""CSR helpers gather_rows / rows_mask against a plain Python reference."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graphrec.graph.ops import gather_rows, rows_mask, topk_by_index

# rows: 0 -> [1, 3] ; 1 -> [] ; 2 -> [0] ; 3 -> [0, 2, 3]
INDPTR = [0, 2, 2, 3, 6]
INDICES = [1, 3, 0, 0, 2, 3]


def reference(indptr: list[int], indices: list[int], rows: list[int]) -> list[tuple[int, int, int]]:
    out = []
    for b, r in enumerate(rows):
        for p in range(indptr[r], indptr[r + 1]):
            out.append((b, indices[p], p))
    return out


def as_triples(res: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> list[tuple[int, int, int]]:
    return list(zip(*(t.tolist() for t in res)))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int64])
def test_gather_rows_by_hand(dtype: torch.dtype) -> None:
    ip, ix = torch.tensor(INDPTR, dtype=dtype), torch.tensor(INDICES, dtype=dtype)
    res = gather_rows(ip, ix, torch.tensor([3, 1, 0, 3]))
    assert all(t.dtype == torch.int64 for t in res)
    assert as_triples(res) == [
        (0, 0, 3), (0, 2, 4), (0, 3, 5),  # row 3
        (2, 1, 0), (2, 3, 1),            # row 0 (row 1 is empty)
        (3, 0, 3), (3, 2, 4), (3, 3, 5),  # row 3 again
    ]
    assert as_triples(res) == reference(INDPTR, INDICES, [3, 1, 0, 3])


def test_gather_rows_empty_cases() -> None:
    ip, ix = torch.tensor(INDPTR), torch.tensor(INDICES)
    for rows in ([], [1], [1, 1]):
        b, c, p = gather_rows(ip, ix, torch.tensor(rows, dtype=torch.int64))
        assert b.numel() == c.numel() == p.numel() == 0


def test_rows_mask_by_hand() -> None:
    ip, ix = torch.tensor(INDPTR), torch.tensor(INDICES)
    mask = rows_mask(ip, ix, torch.tensor([0, 1, 3]), num_cols=5)
    assert mask.dtype == torch.bool and mask.shape == (3, 5)
    assert mask.tolist() == [
        [False, True, False, True, False],
        [False, False, False, False, False],
        [True, False, True, True, False],
    ]


@st.composite
def csr_and_rows(draw: st.DrawFn) -> tuple[list[int], list[int], list[int], int]:
    n = draw(st.integers(1, 6))
    m = draw(st.integers(1, 7))
    degs = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    indptr = [0]
    for d in degs:
        indptr.append(indptr[-1] + d)
    indices = [draw(st.integers(0, m - 1)) for _ in range(indptr[-1])]  # repeats allowed
    rows = draw(st.lists(st.integers(0, n - 1), max_size=8))
    return indptr, indices, rows, m


@settings(max_examples=80, deadline=None)
@given(case=csr_and_rows())
def test_gather_rows_and_mask_match_reference(case: tuple) -> None:
    indptr, indices, rows, m = case
    ip, ix = torch.tensor(indptr), torch.tensor(indices, dtype=torch.int64)
    r = torch.tensor(rows, dtype=torch.int64)
    ref = reference(indptr, indices, rows)
    assert as_triples(gather_rows(ip, ix, r)) == ref
    want = [[False] * m for _ in rows]
    for b, c, _ in ref:
        want[b][c] = True
    assert rows_mask(ip, ix, r, m).tolist() == want


def test_topk_by_index_is_a_stable_descending_sort_cut_at_k() -> None:
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        b, n = int(torch.randint(1, 5, (1,), generator=g)), int(torch.randint(1, 30, (1,), generator=g))
        scores = torch.randint(0, 3, (b, n), generator=g).float()  # many ties
        scores[torch.rand(b, n, generator=g) < 0.2] = -torch.inf
        ref_vals, ref_idx = torch.sort(scores, dim=1, descending=True, stable=True)
        for k in {1, n // 2 or 1, n}:
            vals, idx = topk_by_index(scores.clone(), k)
            assert torch.equal(idx, ref_idx[:, :k]) and torch.equal(vals, ref_vals[:, :k])
    vals, idx = topk_by_index(torch.zeros(3, 5), 0)
    assert vals.shape == idx.shape == (3, 0)
