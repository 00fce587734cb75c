"""Product catalog of the Recommender System and its train/validation/test split (App. A.2).

Catalog
-------
``n_items`` products (thesis: 10,000), each with

- a fixed ``dim``-d representation ``c_i ~ N(0, I)`` (thesis: 16-d), given to the agent;
- a hidden scalar offset ``μ_i`` of the click model (Eq. A.2). Its distribution is
  unspecified in the thesis; here ``μ_i = mu_scale · z_i`` with ``z_i ~ N(0, 1)``, default
  ``mu_scale = 3``: RecoGym's ``sigma_mu_organic = 3`` (Rohde et al. 2018), which is what the
  thesis' environment (RecoGym v1, ``mu_bandit = mu_organic``) draws.

With ``unit_norm=True`` every ``c_i`` is rescaled to unit length (same directions), as in the
thesis' released code (RecoGym's ``normalize_beta``). The thesis text says ``c ~ N(0, I)``,
which is the default; with it ``c_i · v`` (std ≈ 4) dominates ``μ_i`` and saturates ``f``, so
hiding ``μ_i`` costs little (a policy taking the largest ``c_i · v`` gets ~97% of the oracle's
click rate), whereas with unit-norm ``c_i`` the hidden ``μ_i`` matters (~52%).

Both come from one ``numpy.random.default_rng(catalog_seed)``: first the ``(n_items, dim)``
standard normals of ``c``, then the ``n_items`` standard normals ``z``. So the catalog is a
function of ``(catalog_seed, n_items, dim, mu_scale, unit_norm)`` only -- identical in every process --
and ``mu_scale`` rescales ``μ`` without changing ``c``. Catalogs are cached per parameter tuple
in a module-level dict, so many env copies in one process share one read-only copy.

Split
-----
The items are divided 2:1:1 into train / validation / test (thesis: "randomly divided into a
2:1:1 split", 5,000 / 2,500 / 2,500) by one ``default_rng(split_seed).permutation(n_items)``
cut into consecutive blocks of sizes :func:`split_sizes`; each block is returned sorted.
The split depends only on ``(n_items, split_seed)``, never on the env's episode RNG.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

Split = Literal["train", "validation", "test"]
#: Split names in the order their blocks are cut from the permutation.
SPLITS: tuple[Split, ...] = ("train", "validation", "test")
#: Thesis defaults.
N_ITEMS: int = 10_000
ITEM_DIM: int = 16
MU_SCALE: float = 3.0


@dataclass(frozen=True)
class Catalog:
    """Read-only product catalog: ``reprs (n_items, dim)`` and ``mu (n_items,)``, float64."""

    reprs: np.ndarray
    mu: np.ndarray
    catalog_seed: int
    mu_scale: float
    unit_norm: bool = False

    @property
    def n_items(self) -> int:
        return int(self.reprs.shape[0])

    @property
    def dim(self) -> int:
        return int(self.reprs.shape[1])

    def fully_observable_reprs(self) -> np.ndarray:
        """``(n_items, dim + 1)``: ``[c_i, μ_i]`` (the fully observable variant, T-AppA §C.5)."""
        return np.concatenate([self.reprs, self.mu[:, None]], axis=1)


_CATALOG_CACHE: dict[tuple[int, int, int, float, bool], Catalog] = {}


def generate_catalog(
    catalog_seed: int = 0,
    n_items: int = N_ITEMS,
    dim: int = ITEM_DIM,
    mu_scale: float = MU_SCALE,
    unit_norm: bool = False,
) -> Catalog:
    """Generate (without the cache) a catalog; see the module docstring for the recipe."""
    if n_items < 1 or dim < 1:
        raise ValueError(f"need n_items >= 1 and dim >= 1; got n_items={n_items}, dim={dim}")
    if not np.isfinite(mu_scale) or mu_scale < 0:
        raise ValueError(f"mu_scale must be a finite number >= 0; got {mu_scale}")
    rng = np.random.default_rng(int(catalog_seed))
    reprs = rng.standard_normal((int(n_items), int(dim)))
    mu = float(mu_scale) * rng.standard_normal(int(n_items))
    if unit_norm:
        reprs /= np.linalg.norm(reprs, axis=1, keepdims=True)
    reprs.setflags(write=False)
    mu.setflags(write=False)
    return Catalog(
        reprs=reprs, mu=mu, catalog_seed=int(catalog_seed), mu_scale=float(mu_scale), unit_norm=bool(unit_norm)
    )


def get_catalog(
    catalog_seed: int = 0,
    n_items: int = N_ITEMS,
    dim: int = ITEM_DIM,
    mu_scale: float = MU_SCALE,
    unit_norm: bool = False,
) -> Catalog:
    """The catalog for these parameters, generated once per process (module-level cache)."""
    key = (int(catalog_seed), int(n_items), int(dim), float(mu_scale), bool(unit_norm))
    cat = _CATALOG_CACHE.get(key)
    if cat is None:
        cat = _CATALOG_CACHE[key] = generate_catalog(*key)
    return cat


def split_sizes(n_items: int = N_ITEMS) -> dict[str, int]:
    """2:1:1 sizes: train ``n // 2``, validation ``n // 4``, test the rest (5000/2500/2500)."""
    train = n_items // 2
    validation = n_items // 4
    return {"train": train, "validation": validation, "test": n_items - train - validation}


@lru_cache(maxsize=16)
def _split_cached(n_items: int, split_seed: int) -> dict[str, np.ndarray]:
    perm = np.random.default_rng(split_seed).permutation(n_items)
    out: dict[str, np.ndarray] = {}
    start = 0
    for name, size in split_sizes(n_items).items():
        ids = np.sort(perm[start : start + size]).astype(np.int64)
        ids.setflags(write=False)
        out[name] = ids
        start += size
    return out


def item_split(split_seed: int = 0, n_items: int = N_ITEMS) -> dict[str, np.ndarray]:
    """The 2:1:1 train/validation/test split of the item ids.

    Returns sorted, disjoint, read-only ``int64`` arrays that together cover
    ``0..n_items-1``. Deterministic in ``(n_items, split_seed)``.
    """
    if n_items < 4:
        raise ValueError(f"need n_items >= 4 for a 2:1:1 split; got {n_items}")
    return dict(_split_cached(int(n_items), int(split_seed)))


def split_pool(split: str, split_seed: int = 0, n_items: int = N_ITEMS) -> np.ndarray:
    """Sorted item ids of one split (see :func:`item_split`)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return item_split(split_seed, n_items)[split]
