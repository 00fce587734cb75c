"""How the TD3 family finds the real actions of a discrete task (thesis Ch.4 §4.3.2, §4.4.5 item 5).

Discrete Ch.4 tasks follow one contract (``actlab/LargeRecommender-v0``, ``actlab/MineWorld-v0``):
a ``Box(-1, 1, (D,))`` proto-action space and ``env.unwrapped.action_embeddings``, the
``(N, D)`` float32 representation of every real action, fixed for an env config. The module
maps every candidate action to its nearest real action before Q sees it.

How the module gets the table: the build step (:func:`discrete_action_reference`, called by
:func:`rllib_modules.td3.build.build_td3`) makes the env once from the spec's env name and
config and, if it has ``action_embeddings``, puts a *reference* -- ``{"env_id", "env_config",
"nearest_item"}``, a few hundred bytes -- into the module's ``model_config`` under
:data:`DISCRETE_ACTIONS_KEY` (None for continuous envs: the mapping is the identity). Every
process that builds the module (EnvRunners, Learners, a restore from a checkpoint) resolves
the reference with :func:`item_index_from_reference`: it makes the env, reads the table and
builds the nearest-item index, both cached per process. So a 500k × 30 table (60 MB) is never
pickled into the algorithm config, checkpoints or weight syncs (it is not a module buffer);
each process holds one copy, shared with its own envs where the env caches its table
(LargeRecommender does), plus the index's own copy when a FAISS backend is used.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np

from rllib_modules.common.nearest_item import ItemIndex, NearestItemSettings, make_nearest_item_index

__all__ = ["DISCRETE_ACTIONS_KEY", "action_table", "discrete_action_reference", "item_index_from_reference"]

#: ``model_config`` key of the reference (None or the dict described in the module docstring).
DISCRETE_ACTIONS_KEY = "discrete_actions"


def _key(env_id: str, env_config: dict[str, Any]) -> tuple[str, str]:
    return env_id, json.dumps(env_config, sort_keys=True, default=str)


@lru_cache(maxsize=8)
def _table(env_id: str, config_json: str) -> np.ndarray | None:
    from actlab.registry import EnvCreator

    env = EnvCreator(env_id)(json.loads(config_json))
    try:
        table = getattr(env.unwrapped, "action_embeddings", None)
    finally:
        env.close()
    if table is None:
        return None
    table = np.asarray(table)
    if table.ndim != 2:
        raise ValueError(f"{env_id}: action_embeddings must be (N, D), got shape {table.shape}")
    return table


def action_table(env_id: str, env_config: dict[str, Any]) -> np.ndarray | None:
    """``env.unwrapped.action_embeddings`` of the env the config makes (None: a continuous env);
    cached per process."""
    return _table(*_key(env_id, env_config))


def discrete_action_reference(env_id: str, env_config: dict[str, Any],
                              settings: NearestItemSettings | None = None) -> dict[str, Any] | None:
    """The ``model_config`` entry for an env following the discrete contract, else None."""
    if action_table(env_id, env_config) is None:
        return None
    return {"env_id": env_id, "env_config": dict(env_config),
            "nearest_item": (settings or NearestItemSettings()).model_dump()}


@lru_cache(maxsize=4)
def _index(env_id: str, config_json: str, settings_json: str) -> ItemIndex:
    table = _table(env_id, config_json)
    if table is None:
        raise ValueError(f"{env_id} with config {config_json} has no action_embeddings")
    return make_nearest_item_index(table, NearestItemSettings.model_validate_json(settings_json))


def item_index_from_reference(reference: dict[str, Any] | None, action_dim: int) -> ItemIndex | None:
    """The (per-process cached) nearest-item index of a reference; None for None."""
    if reference is None:
        return None
    settings = NearestItemSettings.model_validate(reference.get("nearest_item") or {})
    index = _index(*_key(reference["env_id"], reference["env_config"]), settings.model_dump_json())
    if index.items_ND.shape[1] != action_dim:
        raise ValueError(f"{reference['env_id']}: action_embeddings are {index.items_ND.shape[1]}-d but the action "
                         f"space is {action_dim}-d")
    return index
