"""Helpers for policies that pick an action from an action set by distance in representation space.

Used by the Ch.2 baselines of thesis §2.5.3 (``rllib_modules.baselines_ch2``): the
continuous-output policy (Dulac-Arnold et al. 2015) executes the available action closest
to its output vector, and the nearest-neighbour policy maps its chosen *training* action
to the closest available new action. Both need

- the representation of each slot of an action-set observation
  (``envs.common.action_set``), from the observation or from a learned table
  (:func:`slot_representations`);
- the nearest *available* slot of query vectors (:func:`nearest_slots`);
- at build time, the environment's representation table and its training action ids
  (:func:`env_representation_table`, :func:`train_action_ids`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import math

import gymnasium as gym
import numpy as np
import torch

from actlab import registry
from actlab.registry import EnvCreator
from envs.common.action_set import ACTION_IDS_KEY, ACTION_MASK_KEY, ACTION_REPRS_KEY, STATE_KEY
from rllib_modules.common.masking import valid_slots

__all__ = [
    "action_set_dims",
    "env_observation_space",
    "env_representation_table",
    "flat_state",
    "nearest_slots",
    "slot_representations",
    "train_action_ids",
]


def flat_state(obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """``(B, S)`` float state of an action-set observation (multi-dimensional states flattened)."""
    state = obs[STATE_KEY]
    return state.reshape(state.shape[0], -1).float()


def action_set_dims(space: gym.Space, who: str = "this module") -> tuple[int, int, int]:
    """``(state_dim, num_slots K, repr_dim d)`` of an action-set ``Dict`` observation space."""
    keys = (STATE_KEY, ACTION_REPRS_KEY, ACTION_MASK_KEY)
    if not isinstance(space, gym.spaces.Dict) or any(k not in space.spaces for k in keys):
        raise ValueError(f"{who} needs a Dict observation space with keys {keys}, got {space}")
    reprs_shape = space[ACTION_REPRS_KEY].shape
    if len(reprs_shape) != 2 or space[ACTION_MASK_KEY].shape != reprs_shape[:1]:
        raise ValueError(
            f"'{ACTION_REPRS_KEY}' must be (K, d) and '{ACTION_MASK_KEY}' (K,); "
            f"got {reprs_shape} and {space[ACTION_MASK_KEY].shape}"
        )
    return math.prod(space[STATE_KEY].shape), reprs_shape[0], reprs_shape[1]


def slot_representations(obs: Mapping[str, torch.Tensor], action_table: torch.Tensor | None) -> torch.Tensor:
    """``c_BKD``: the slots' representations, from ``obs["action_reprs"]`` or, when a table of
    learned representations is given (HVAE stage, thesis §2.4.1), ``action_table[action_ids]``.

    Padded slots (id -1) read row 0 of the table; callers mask them.
    """
    if action_table is None:
        return obs[ACTION_REPRS_KEY].float()
    ids_BK = obs[ACTION_IDS_KEY].long().clamp(min=0)
    return action_table[ids_BK]


def nearest_slots(queries_BND: torch.Tensor, reprs_BKD: torch.Tensor, mask_BK: torch.Tensor) -> torch.Tensor:
    """Index of the nearest *available* slot (Euclidean distance) of every query vector.

    Args:
        queries_BND: ``(B, N, D)`` N query vectors per row (expand a shared ``(N, D)`` set).
        reprs_BKD: Slot representations ``(B, K, D)``.
        mask_BK: Availability ``(B, K)`` (float 0/1 or bool).

    Returns:
        ``(B, N)`` long slot indices. Ties go to the lowest slot index. Unavailable slots
        are never returned unless a row has no available slot at all (an env bug; the row
        then gets slot 0, which the env rejects loudly).
    """
    # Squared distances ||q||^2 - 2 q.c + ||c||^2 as one batched matmul (no (B, N, K, D) tensor).
    d_BNK = (
        queries_BND.pow(2).sum(-1, keepdim=True)
        - 2.0 * queries_BND @ reprs_BKD.transpose(1, 2)
        + reprs_BKD.pow(2).sum(-1).unsqueeze(1)
    )
    valid_BK = mask_BK if mask_BK.dtype == torch.bool else valid_slots(mask_BK)
    d_BNK = d_BNK.masked_fill(~valid_BK.unsqueeze(1), float("inf"))
    return d_BNK.argmin(dim=-1)


def _make_env(env_id: str, env_config: Mapping[str, Any]) -> Any:
    return EnvCreator(env_id)(dict(env_config)).unwrapped


def env_representation_table(env_id: str, env_config: Mapping[str, Any]) -> np.ndarray:
    """The ``(n_actions, d)`` table the env's ``action_reprs`` rows come from.

    Contract: an action-set env with a fixed action universe exposes ``representation_table``
    (a method or a property) on the unwrapped env, indexed by the ids of ``action_ids``
    (Grid World: the configured skill representation; Recommender: the item vectors). The
    env is created once here (cheap for these envs) and closed.
    """
    env = _make_env(env_id, env_config)
    try:
        table = getattr(env, "representation_table", None)
        if table is None:
            raise ValueError(f"{env_id} exposes no representation_table; a nearest-action policy needs one")
        table = table() if callable(table) else table
        return np.asarray(table, dtype=np.float32)
    finally:
        env.close()


def train_action_ids(env_id: str, env_config: Mapping[str, Any]) -> np.ndarray:
    """Sorted ids of the actions the env's training episodes draw from.

    That is the split named by ``env_config["split"]`` (default ``"train"``): a discrete
    policy trained with ``split: test`` (the finetuning study of thesis §2.6.4) has one
    output per test action.
    """
    entry = registry.get_env(env_id)
    if entry.action_splits is not None:
        splits = entry.action_splits(dict(env_config))
    elif entry.action_dataset is not None:
        splits = entry.action_dataset(dict(env_config)).split_ids
    else:
        raise ValueError(
            f"{env_id} has no action splits (EnvEntry.action_splits); its train actions are unknown, so a "
            "policy with one output per training action cannot be built for it"
        )
    return np.sort(np.asarray(splits[env_config.get("split") or "train"], dtype=np.int64))


def env_observation_space(env_id: str, env_config: Mapping[str, Any]) -> gym.Space:
    """The observation space of ``env_id`` under ``env_config`` (creates and closes one env)."""
    env = _make_env(env_id, env_config)
    try:
        return env.observation_space
    finally:
        env.close()
