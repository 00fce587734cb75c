"""Nearest-item lookup of continuous actions among a large table of item representations.

Thesis Ch.4 §4.3.2 / §4.4.5 item 5 (Van Hasselt & Wiering 2009; Dulac-Arnold et al. 2015):
in large discrete action spaces reframed as continuous ones, every proposed action ``a`` is
mapped to the real item ``f_NN(a) = argmin_i ||R(I_i) - a||_2`` before Q is evaluated, and
Wolpertinger's discrete form scores the ``k`` nearest items of the actor's output.

Every index answers ``query(queries_BD) -> (index_B, item_BD)`` (1-NN) and
``query_k(queries_BD, k) -> (index_BK, item_BKD)`` (k-NN, nearest first); results come back
on the queries' device. Backends (:class:`NearestItemSettings`, ``backend``):

- ``torch`` (:class:`NearestItemIndex`): exact, chunked ``||x||² - 2 q·x`` matrix products
  (memory ``B × chunk``, whatever the table size), on the queries' device (a CUDA learner
  gets one copy of the table on its GPU, 60 MB for 500k × 30-d; not measured here: no GPU);
- ``faiss_flat``: exact, FAISS ``IndexFlatL2``;
- ``faiss_ivf``: approximate, FAISS ``IndexIVFFlat`` (``nlist`` k-means cells trained on a
  subsample, ``nprobe`` cells searched per query: the recall knob);
- ``faiss_hnsw``: approximate, FAISS ``IndexHNSWFlat`` (``efSearch`` is the recall knob). Its
  graph takes minutes to build at 500k items on one core, once per process that holds a
  module, and its recall is poor for queries far from the items (the proto-actions of an
  untrained actor), so IVF is the approximate default;
- ``auto`` (default): exact (``torch``) on a GPU and for tables up to ``auto_exact_max_items``
  rows, ``faiss_ivf`` above (built on the first CPU query).

Measured (``benchmarks/nearest_item_lookup.py``: one thread, batches of 256 uniform proto-actions,
the 30-d LargeRecommender items, a loaded 2-CPU machine): exact torch ~40-53k lookups/s at 10k
items, 2-5k at 100k, ~1k at 500k; FAISS flat 2-3x slower than torch; IVF (nprobe 64) ~13k at
100k and ~3.7k at 500k with recall 0.99 / 0.94 for uniform queries and 1.0 for queries near
items. Exact lookups cost ``O(N·D)`` per query whichever library does them (30 MFLOP per query
at 500k items), hence ``auto``'s switch to IVF above 20k items on CPUs.

Ties go to the lowest index in the exact 1-NN (``argmin``'s rule within a chunk, strict
``<`` across chunks; FAISS's top-1 scan keeps the first of equal distances). Beyond the
first neighbour, the order among exactly equal distances is unspecified. Approximate
backends may return fewer than ``k`` neighbours; the missing ones repeat the first.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any, Literal, Protocol

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "APPROXIMATE_BACKENDS",
    "Backend",
    "EXACT_BACKENDS",
    "FaissItemIndex",
    "ItemIndex",
    "NearestItemIndex",
    "NearestItemSettings",
    "make_nearest_item_index",
]

Backend = Literal["auto", "torch", "faiss_flat", "faiss_ivf", "faiss_hnsw"]
EXACT_BACKENDS: tuple[str, ...] = ("torch", "faiss_flat")
APPROXIMATE_BACKENDS: tuple[str, ...] = ("faiss_ivf", "faiss_hnsw")


class NearestItemSettings(BaseModel):
    """Which nearest-item index maps actions to items, and its knobs (spec: ``nearest_item``)."""

    model_config = ConfigDict(extra="forbid")

    backend: Backend = Field(
        "auto", description="'auto' (exact on GPU and up to auto_exact_max_items, faiss_ivf above), 'torch' or "
        "'faiss_flat' (exact), 'faiss_ivf' or 'faiss_hnsw' (approximate)."
    )
    auto_exact_max_items: int = Field(
        20_000, ge=1, description="'auto' searches exactly on CPU up to this many items (measured on one core: at "
        "1e4 items exact torch search is as fast as IVF, at 1e5 IVF is 4-6x faster)."
    )
    chunk_size: int = Field(4096, ge=1, description="Items per distance block of the torch backend (B x chunk floats).")
    nlist: int | None = Field(
        None, ge=1, description="IVF cells (None: 4·sqrt(N), at most N/32).")
    nprobe: int = Field(64, ge=1, description="IVF cells searched per query (recall knob; measured at 500k items: 32 -> 2x the lookups/s, 0.82 recall on uniform queries; 64 -> 0.93; 128 -> 0.98).")
    train_points_per_cell: int = Field(
        32, ge=1, description="k-means training sample of IVF, per cell (a small sample keeps the build to seconds).")
    hnsw_m: int = Field(32, ge=2, description="HNSW graph degree.")
    ef_construction: int = Field(40, ge=1, description="HNSW build-time beam width.")
    ef_search: int = Field(64, ge=1, description="HNSW query-time beam width (recall knob; raised to k when smaller).")
    seed: int = Field(0, description="Seed of the IVF k-means (fixed: the same table gives the same index).")
    threads: int | None = Field(
        None, ge=1, description="FAISS threads per query (None: torch's thread count, so a Ray worker's CPU "
        "budget holds).")


class ItemIndex(Protocol):
    """What the TD3 family needs of an index over the rows of ``items_ND``."""

    items_ND: torch.Tensor

    def __len__(self) -> int: ...

    def query(self, queries_BD: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def query_k(self, queries_BD: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]: ...


def _as_float_tensor(items_ND: torch.Tensor | np.ndarray) -> torch.Tensor:
    """A float32 CPU tensor; a float32 C-contiguous ndarray is shared, not copied (read-only
    ones too: the tables are never written, so torch's warning about them is silenced)."""
    if isinstance(items_ND, np.ndarray):
        array = np.ascontiguousarray(items_ND, dtype=np.float32)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            return torch.from_numpy(array)
    return items_ND.detach().float().cpu().contiguous()


class NearestItemIndex:
    """Exact Euclidean nearest items over the rows of ``items_ND`` (torch, chunked).

    Args:
        items_ND: Item representations, ``(N, D)`` (an ndarray is shared when it is float32).
        chunk_size: Items per distance block (memory ``B x chunk_size``). Blocks of a few
            thousand rows keep the distance block in cache: measured 1.5-2x faster at 100k
            items than 65536.
    """

    def __init__(self, items_ND: torch.Tensor | np.ndarray, chunk_size: int = 4096) -> None:
        self.items_ND = _as_float_tensor(items_ND)
        self.sq_norms_N = (self.items_ND**2).sum(dim=1)
        self.chunk_size = int(chunk_size)
        self._on_device: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return self.items_ND.shape[0]

    def _tables(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if device.type == "cpu":
            return self.items_ND, self.sq_norms_N
        if device not in self._on_device:  # one copy per accelerator, made on first use
            self._on_device[device] = (self.items_ND.to(device), self.sq_norms_N.to(device))
        return self._on_device[device]

    def _blocks(self, queries_BD: torch.Tensor) -> Iterator[tuple[int, torch.Tensor]]:
        """``(start, ||x||² - 2 q·x)`` per chunk; ``||q||²`` is the same for every item of a
        row, so comparisons do not need it (the values are distances shifted by it)."""
        items_ND, sq_norms_N = self._tables(queries_BD.device)
        for start in range(0, len(self), self.chunk_size):
            block_CD = items_ND[start : start + self.chunk_size]
            yield start, torch.addmm(sq_norms_N[start : start + self.chunk_size].unsqueeze(0), queries_BD,
                                     block_CD.t(), alpha=-2.0)

    @torch.no_grad()
    def query(self, queries_BD: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(index_B, item_BD)``: the nearest item of each query and its representation."""
        queries_BD = queries_BD.float()
        best_dist_B = torch.full((queries_BD.shape[0],), float("inf"), device=queries_BD.device)
        best_index_B = torch.zeros(queries_BD.shape[0], dtype=torch.long, device=queries_BD.device)
        for start, dist_BC in self._blocks(queries_BD):
            chunk_dist_B, chunk_index_B = dist_BC.min(dim=1)
            better_B = chunk_dist_B < best_dist_B
            best_dist_B = torch.where(better_B, chunk_dist_B, best_dist_B)
            best_index_B = torch.where(better_B, chunk_index_B + start, best_index_B)
        return best_index_B, self._tables(queries_BD.device)[0][best_index_B]

    @torch.no_grad()
    def query_k(self, queries_BD: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(index_BK, item_BKD)``: the ``k`` nearest items of each query, nearest first."""
        queries_BD = queries_BD.float()
        k = min(int(k), len(self))
        best_dist_BK = torch.empty(queries_BD.shape[0], 0, device=queries_BD.device)
        best_index_BK = torch.empty(queries_BD.shape[0], 0, dtype=torch.long, device=queries_BD.device)
        for start, dist_BC in self._blocks(queries_BD):
            chunk_dist_BK, chunk_index_BK = dist_BC.topk(min(k, dist_BC.shape[1]), dim=1, largest=False)
            merged_dist = torch.cat([best_dist_BK, chunk_dist_BK], dim=1)
            merged_index = torch.cat([best_index_BK, chunk_index_BK + start], dim=1)
            # stable: among equal distances the earlier (lower-index) candidate stays first
            order = merged_dist.sort(dim=1, stable=True).indices[:, :k]
            best_dist_BK, best_index_BK = merged_dist.gather(1, order), merged_index.gather(1, order)
        return best_index_BK, self._tables(queries_BD.device)[0][best_index_BK]


class FaissItemIndex:
    """A FAISS index (``flat`` exact, ``ivf`` or ``hnsw`` approximate) over the rows of ``items_ND``.

    Queries go to FAISS on the CPU and the results come back on the queries' device. The
    FAISS structure is built from ``items_ND`` and rebuilt when unpickled (SWIG objects do
    not pickle), so the index can travel inside an RLModule.
    """

    def __init__(self, items_ND: torch.Tensor | np.ndarray, kind: Literal["flat", "ivf", "hnsw"],
                 settings: NearestItemSettings | None = None) -> None:
        self.items_ND = _as_float_tensor(items_ND)
        self.kind = kind
        self.settings = settings or NearestItemSettings()
        self._index = self._build()

    def __len__(self) -> int:
        return self.items_ND.shape[0]

    def __getstate__(self) -> dict[str, Any]:
        return {"items_ND": self.items_ND, "kind": self.kind, "settings": self.settings}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._index = self._build()

    def _threads(self) -> int:
        return int(self.settings.threads or torch.get_num_threads())

    def _build(self) -> Any:  # a faiss.Index
        import faiss

        faiss.omp_set_num_threads(self._threads())
        items = self.items_ND.numpy()
        n, dim = items.shape
        s = self.settings
        if self.kind == "flat":
            index = faiss.IndexFlatL2(dim)
        elif self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, s.hnsw_m)
            index.hnsw.efConstruction = s.ef_construction
            index.hnsw.efSearch = s.ef_search
        elif self.kind == "ivf":
            nlist = s.nlist or max(1, min(int(4 * math.sqrt(n)), n // 32))
            nlist = min(nlist, n)
            index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, nlist)
            index.cp.seed = s.seed
            index.cp.max_points_per_centroid = s.train_points_per_cell
            index.cp.min_points_per_centroid = 1  # no warning on a small sample
            # the sample FAISS would draw itself, drawn here from a fixed seed
            n_train = min(n, nlist * s.train_points_per_cell)
            rows = np.random.default_rng(s.seed).choice(n, size=n_train, replace=False) if n_train < n else slice(None)
            index.train(np.ascontiguousarray(items[rows]))
            index.nprobe = min(s.nprobe, nlist)
        else:
            raise ValueError(f"unknown FAISS index kind {self.kind!r}")
        index.add(items)
        return index

    def _search(self, queries_BD: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        import faiss

        faiss.omp_set_num_threads(self._threads())
        k = min(int(k), len(self))
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = max(self.settings.ef_search, k)
        queries = np.ascontiguousarray(queries_BD.detach().float().cpu().numpy())
        _, labels_BK = self._index.search(queries, k)
        index_BK = torch.from_numpy(labels_BK)
        missing = index_BK < 0  # an approximate search found fewer than k
        if missing.any():
            index_BK = torch.where(missing, index_BK[:, :1].clamp(min=0), index_BK)
        return index_BK.to(queries_BD.device), self.items_ND[index_BK].to(queries_BD.device)

    @torch.no_grad()
    def query(self, queries_BD: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        index_BK, item_BKD = self._search(queries_BD, 1)
        return index_BK[:, 0], item_BKD[:, 0]

    @torch.no_grad()
    def query_k(self, queries_BD: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._search(queries_BD, k)


class AutoItemIndex:
    """``auto``: exact torch search on an accelerator and for small tables; IVF on the CPU
    above ``auto_exact_max_items`` (built on the first CPU query, so a GPU learner never pays
    for it)."""

    def __init__(self, items_ND: torch.Tensor | np.ndarray, settings: NearestItemSettings) -> None:
        self.exact = NearestItemIndex(items_ND, chunk_size=settings.chunk_size)
        self.items_ND = self.exact.items_ND
        self.settings = settings
        self._approximate: FaissItemIndex | None = None

    def __len__(self) -> int:
        return len(self.exact)

    def _for(self, queries_BD: torch.Tensor) -> ItemIndex:
        if queries_BD.device.type != "cpu" or len(self) <= self.settings.auto_exact_max_items:
            return self.exact
        if self._approximate is None:
            self._approximate = FaissItemIndex(self.items_ND, "ivf", self.settings)
        return self._approximate

    def __getstate__(self) -> dict[str, Any]:
        return {"exact": self.exact, "items_ND": self.items_ND, "settings": self.settings, "_approximate": None}

    def query(self, queries_BD: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._for(queries_BD).query(queries_BD)

    def query_k(self, queries_BD: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._for(queries_BD).query_k(queries_BD, k)


def make_nearest_item_index(items_ND: torch.Tensor | np.ndarray,
                            settings: NearestItemSettings | None = None) -> ItemIndex:
    """The index ``settings.backend`` names, over the rows of ``items_ND``."""
    settings = settings or NearestItemSettings()
    if settings.backend == "auto":
        return AutoItemIndex(items_ND, settings)
    if settings.backend == "torch":
        return NearestItemIndex(items_ND, chunk_size=settings.chunk_size)
    return FaissItemIndex(items_ND, settings.backend.removeprefix("faiss_"), settings)  # type: ignore[arg-type]
