"""RecSim large discrete recommendation (thesis Ch.4 §4.5, T-AppC §C.2, §D.4): ``actlab/LargeRecommender-v0``.

Public API: :class:`LargeRecommenderEnv`, :class:`LargeRecommenderConfig`, :data:`ENV_ID`,
:data:`ENV_ENTRY`, the item table (:func:`get_item_table`, :func:`generate_items`), the user
model (:func:`click_probability`, :func:`update_interest`, ...), :func:`nearest_item`, and
:func:`register` (gymnasium + :mod:`actlab.registry`, idempotent).
"""

from __future__ import annotations

import gymnasium as gym

from actlab.registry import EnvEntry, register_env
from envs.large_recommender.config import LargeRecommenderConfig
from envs.large_recommender.env import LargeRecommenderEnv
from envs.large_recommender.items import ItemTable, generate_items, get_item_table
from envs.large_recommender.nearest import nearest_item
from envs.large_recommender.user_model import (
    click_probability,
    interest_delta,
    positive_update_probability,
    update_interest,
)

__all__ = [
    "ENV_ENTRY",
    "ENV_ID",
    "ItemTable",
    "LargeRecommenderConfig",
    "LargeRecommenderEnv",
    "click_probability",
    "generate_items",
    "get_item_table",
    "interest_delta",
    "nearest_item",
    "positive_update_probability",
    "register",
    "update_interest",
]

ENV_ID = "actlab/LargeRecommender-v0"

#: The registry entry (a module-level singleton, so registering it twice is a no-op).
ENV_ENTRY = EnvEntry(
    name=ENV_ID,
    description=(
        "RecSim large discrete recommendation (thesis Ch.4, T-AppC §C.2, §D.4): recommend one of num_items "
        "(10k; 100k, 500k) GMM items per step as a 30-d proto-action mapped to its nearest item; reward 1 per "
        "click; horizon 20."
    ),
    config_model=LargeRecommenderConfig,
    eval_sets={"eval": {}},
    select_on=None,
    success_key=None,
)


def register() -> None:
    """Register with gymnasium (the env truncates by itself: no TimeLimit) and actlab."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="envs.large_recommender.env:LargeRecommenderEnv", max_episode_steps=None)
    register_env(ENV_ENTRY)
