"""Recommender System, RecoGym-style (thesis Ch.2, App. A.2): ``actlab/Recommender-v0``.

Public API:

- :class:`RecommenderEnv`, :class:`RecommenderConfig`, :data:`ENV_ID`, :data:`ENV_ENTRY`;
- click model (Eq. A.2): :func:`click_probability`, :func:`click_curve`, :func:`sigmoid`;
- catalog: :class:`Catalog`, :func:`get_catalog`, :func:`generate_catalog`,
  :func:`item_split`, :func:`split_pool`, :func:`split_sizes`;
- :func:`register`: registers the env with gymnasium and :mod:`actlab.registry` (idempotent).
"""

from __future__ import annotations

import gymnasium as gym

from actlab.registry import EnvEntry, register_env
from envs.recommender.catalog import (
    ITEM_DIM,
    MU_SCALE,
    N_ITEMS,
    SPLITS,
    Catalog,
    generate_catalog,
    get_catalog,
    item_split,
    split_pool,
    split_sizes,
)
from envs.recommender.click_model import (
    CLICK_A,
    CLICK_B,
    CLICK_C,
    CLICK_D,
    CLICK_E,
    click_curve,
    click_logit_input,
    click_probability,
    sigmoid,
)
from envs.recommender.config import RecommenderConfig
from envs.recommender.env import RecommenderEnv

ENV_ID = "actlab/Recommender-v0"


def _item_splits(env_config: dict) -> dict:
    """The train/validation/test item ids of ``env_config``'s catalog (the config's own defaults)."""
    cfg = RecommenderConfig.model_validate(env_config)
    return item_split(cfg.split_seed, cfg.n_items)


#: The registry entry (a module-level singleton, so registering it twice is a no-op).
ENV_ENTRY = EnvEntry(
    name=ENV_ID,
    description=(
        "Recommender System (thesis Ch.2, App. A.2): RecoGym-style drifting 16-d user, recommend one of "
        "m=500 products per episode from a 2:1:1 split of 10,000 (16-d c_i, hidden offset μ_i); "
        "reward 1 per click, p_click of Eq. A.2; 100 recommendations."
    ),
    config_model=RecommenderConfig,
    eval_sets={"train": {"split": "train"}, "validation": {"split": "validation"}, "test": {"split": "test"}},
    select_on="validation",
    success_key=None,
    action_splits=_item_splits,
)


def register() -> None:
    """Register with gymnasium (the env truncates by itself: no TimeLimit) and actlab."""
    if ENV_ID not in gym.registry:
        gym.register(
            id=ENV_ID,
            entry_point="envs.recommender.env:RecommenderEnv",
            max_episode_steps=None,
        )
    register_env(ENV_ENTRY)


__all__ = [
    "CLICK_A",
    "CLICK_B",
    "CLICK_C",
    "CLICK_D",
    "CLICK_E",
    "ENV_ENTRY",
    "ENV_ID",
    "ITEM_DIM",
    "MU_SCALE",
    "N_ITEMS",
    "SPLITS",
    "Catalog",
    "RecommenderConfig",
    "RecommenderEnv",
    "click_curve",
    "click_logit_input",
    "click_probability",
    "generate_catalog",
    "get_catalog",
    "item_split",
    "register",
    "sigmoid",
    "split_pool",
    "split_sizes",
]
