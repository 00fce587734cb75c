"""1-nearest-neighbour lookup of continuous actions among a large table of item representations.

Thesis Ch.4 §4.3.2 / §4.4.5 item 5 (Van Hasselt & Wiering 2009; Dulac-Arnold et al. 2015):
in large discrete action spaces reframed as continuous ones, every proposed action ``a`` is
mapped to the real item ``f_NN(a) = argmin_i ||R(I_i) - a||_2`` before Q is evaluated.

:class:`NearestItemIndex` does it exactly (no approximation) in chunks of the table, with
``||a - x||² = ||a||² - 2 a·x + ||x||²`` (less the row constant ``||a||²``) as one matrix
product per chunk, so memory stays at
``B × chunk`` floats whatever the table size (500k items × 30-d is 60 MB of table; a full
``B × N`` distance matrix for B = 256 would be 512 MB). ``||x||²`` is precomputed once.
Ties go to the lowest index (``argmin``'s rule within a chunk, strict ``<`` across chunks).
``benchmarks/nearest_item_lookup.py`` measures lookups per second at 10k/100k/500k items.
"""

from __future__ import annotations

import torch

__all__ = ["NearestItemIndex"]


class NearestItemIndex:
    """Exact Euclidean 1-NN over the rows of ``items_ND``.

    Args:
        items_ND: Item representations, ``(N, D)``.
        chunk_size: Items per distance block (memory ``B x chunk_size``).
    """

    def __init__(self, items_ND: torch.Tensor, chunk_size: int = 65536) -> None:
        self.items_ND = items_ND.float().contiguous()
        self.sq_norms_N = (self.items_ND**2).sum(dim=1)
        self.chunk_size = int(chunk_size)

    def __len__(self) -> int:
        return self.items_ND.shape[0]

    @torch.no_grad()
    def query(self, queries_BD: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(index_B, item_BD)``: the nearest item of each query and its representation."""
        queries_BD = queries_BD.float()
        best_dist_B = torch.full((queries_BD.shape[0],), float("inf"), device=queries_BD.device)  # up to -||q||²
        best_index_B = torch.zeros(queries_BD.shape[0], dtype=torch.long, device=queries_BD.device)
        for start in range(0, len(self), self.chunk_size):
            block_CD = self.items_ND[start : start + self.chunk_size]
            # ||x||² - 2 q·x as one addmm; ||q||² is the same for every item of a row, so the
            # argmin does not need it (the "distances" compared are shifted by it).
            dist_BC = torch.addmm(self.sq_norms_N[start : start + self.chunk_size].unsqueeze(0), queries_BD, block_CD.t(), alpha=-2.0)
            chunk_dist_B, chunk_index_B = dist_BC.min(dim=1)
            better_B = chunk_dist_B < best_dist_B
            best_dist_B = torch.where(better_B, chunk_dist_B, best_dist_B)
            best_index_B = torch.where(better_B, chunk_index_B + start, best_index_B)
        return best_index_B, self.items_ND[best_index_B]
