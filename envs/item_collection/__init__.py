"""Item Collection (OKB App. F.2, §5 Q3; ENVIRONMENTS.md E.3): ``actlab/ItemCollection-v0``.

A 10x10 toroidal grid with 5 items of each of 2 types, 200-d egocentric observation, indicator
reward features in ``info["features"]``, the linear reward ``w·φ`` or the non-linear sequential
task. See :mod:`envs.item_collection.env` for the rules and the choices the paper leaves open.
"""

from __future__ import annotations

import gymnasium as gym

from actlab.registry import EnvEntry, register_env
from envs.item_collection.config import ItemCollectionConfig
from envs.item_collection.env import ACTION_NAMES, DISCOUNT, MOVES, ItemCollectionEnv

__all__ = [
    "ACTION_NAMES",
    "DISCOUNT",
    "ENV_ENTRY",
    "ENV_ID",
    "MOVES",
    "ItemCollectionConfig",
    "ItemCollectionEnv",
    "register",
]

ENV_ID = "actlab/ItemCollection-v0"

#: The registry entry (a module-level singleton, so registering it twice is a no-op).
ENV_ENTRY = EnvEntry(
    name=ENV_ID,
    description=(
        "Item Collection (OKB App. F.2): 10x10 toroidal grid, 5 items of each of 2 types placed at random "
        "per episode, 200-d egocentric item-channel observation, indicator features φ ∈ {0,1}^2 in "
        "info['features'], reward w·φ (config w) or the sequential non-linear task (task='sequential'); γ = 0.95."
    ),
    config_model=ItemCollectionConfig,
    eval_sets={"eval": {}},
    select_on=None,
)


def register() -> None:
    """Register with gymnasium (the env truncates by itself: no TimeLimit) and actlab."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="envs.item_collection.env:ItemCollectionEnv", max_episode_steps=None)
    register_env(ENV_ENTRY)
