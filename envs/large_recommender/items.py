"""The item table of ``actlab/LargeRecommender-v0``: GMM item vectors with category centres
(thesis T-AppC §C.2 "items are represented as continuous vectors sampled from a Gaussian
Mixture Model, with centers representing item categories", following Ch.3's RecSim, T-AppB
§A.3: categories, each with clustered sub-categories).

Generation, from ``item_seed`` alone (so the table is fixed for a config, whatever the reset
seeds): category centres ``c_k ~ N(0, category_std² I)``; sub-category centres
``c_kj = c_k + N(0, subcategory_std² I)``; every item draws a category and a sub-category
uniformly and ``e_i = clip(c_kj + N(0, item_std² I), -1, 1)``. The clip keeps every item in
the action box ``[-1, 1]^D``, so a tanh actor can reach all of them. ``extra_action_dim`` distractor
coordinates ``U(-1, 1)`` are appended to the representation (not seen by the user model).

The table is built in float32 with one vectorised draw per component (500k × 30 items: well
under a second, 60 MB) and cached per process by its parameters, read-only, so that every env
(and the agent's nearest-item index, which reads ``env.unwrapped.action_embeddings``) in a
process shares one copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from envs.large_recommender.config import LargeRecommenderConfig

__all__ = ["ItemTable", "generate_items", "get_item_table"]


@dataclass(frozen=True)
class ItemTable:
    """``vectors``: (N, D + extra) float32 representations (user-model part first);
    ``categories``, ``subcategories``: (N,) int64 GMM component of each item;
    ``sq_norms``: (N,) float32 squared norms of ``vectors`` (for the nearest-item screen)."""

    vectors: np.ndarray
    categories: np.ndarray
    subcategories: np.ndarray
    sq_norms: np.ndarray


def generate_items(num_items: int, embedding_dim: int, extra_action_dim: int, num_categories: int, subcategories: int,
                   category_std: float, subcategory_std: float, item_std: float, seed: int) -> ItemTable:
    """A fresh (writable) item table; see the module docstring for the distribution."""
    rng = np.random.default_rng(seed)
    dim = embedding_dim
    centres_KD = rng.normal(0.0, category_std, (num_categories, dim)).astype(np.float32)
    sub_centres_KSD = centres_KD[:, None, :] + rng.normal(0.0, subcategory_std, (num_categories, subcategories, dim)).astype(np.float32)
    categories = rng.integers(num_categories, size=num_items)
    subs = rng.integers(subcategories, size=num_items)
    vectors = np.empty((num_items, dim + extra_action_dim), dtype=np.float32)
    noise_ND = rng.standard_normal((num_items, dim), dtype=np.float32)
    noise_ND *= np.float32(item_std)
    noise_ND += sub_centres_KSD[categories, subs]
    np.clip(noise_ND, -1.0, 1.0, out=vectors[:, :dim])
    del noise_ND
    if extra_action_dim:
        vectors[:, dim:] = rng.uniform(-1.0, 1.0, (num_items, extra_action_dim)).astype(np.float32)
    sq_norms = np.einsum("nd,nd->n", vectors, vectors)
    return ItemTable(vectors=vectors, categories=categories, subcategories=subs, sq_norms=sq_norms)


@lru_cache(maxsize=4)
def _cached(key: tuple) -> ItemTable:
    table = generate_items(*key)
    for array in (table.vectors, table.categories, table.subcategories, table.sq_norms):
        array.flags.writeable = False  # shared by every env of the process
    return table


def get_item_table(config: LargeRecommenderConfig) -> ItemTable:
    """The (cached, read-only) item table of ``config``."""
    return _cached((config.num_items, config.embedding_dim, config.extra_action_dim, config.num_categories,
                    config.subcategories, config.category_std, config.subcategory_std, config.item_std,
                    config.item_seed))
