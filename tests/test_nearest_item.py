"""Exact chunked 1-NN (thesis Ch.4 §4.4.5 item 5) against brute force."""

from __future__ import annotations

import pytest
import torch

from rllib_modules.common.nearest_item import NearestItemIndex


@pytest.mark.parametrize("n_items,chunk", [(1, 4), (1000, 64), (5000, 777), (5000, 100_000)])
def test_matches_brute_force(n_items: int, chunk: int) -> None:
    gen = torch.Generator().manual_seed(n_items)
    items = torch.randn(n_items, 7, generator=gen)
    queries = torch.randn(300, 7, generator=gen) * 1.5
    index, rows = NearestItemIndex(items, chunk_size=chunk).query(queries)
    brute = torch.cdist(queries.double(), items.double()).argmin(dim=1)
    assert torch.equal(index, brute)
    assert torch.equal(rows, items[brute])


def test_exact_hits_and_ties_go_to_the_lowest_index() -> None:
    items = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    index, _ = NearestItemIndex(items, chunk_size=2).query(torch.tensor([[1.0, 0.0], [0.0, 0.9], [0.5, 0.0]]))
    # [1,0] equals rows 1 and 2 (same chunk) -> 1; [0.5,0] is as far from rows 0 and 1 -> 0
    assert index.tolist() == [1, 3, 0]
    index, _ = NearestItemIndex(items[[1, 0, 2]], chunk_size=1).query(torch.tensor([[1.0, 0.0]]))
    assert index.tolist() == [0]  # the equal row 2 in a later chunk does not replace it
