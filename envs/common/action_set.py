"""Observation layout shared by every *action-set* environment.

Action-set environments (thesis Ch.2-3) let the agent choose among a varying set of
available actions. They expose that set in the observation so that any RLModule can read
it, with a fixed padded size ``max_actions`` and a mask:

- ``obs[STATE_KEY]``:        float32 ``(state_dim,)``      -- the task state s
- ``obs[ACTION_REPRS_KEY]``: float32 ``(max_actions, d)``  -- representation c_i of slot i
- ``obs[ACTION_MASK_KEY]``:  float32 ``(max_actions,)``    -- 1.0 if slot i holds an available action

- ``obs[ACTION_IDS_KEY]`` (optional): float32 ``(max_actions,)`` -- the global id of the action
  in slot i (``-1`` in padded slots). Environments whose actions have ids over a fixed
  universe expose them, so that a policy can look representations up in a table learned
  *after* the environment was built (the HVAE pretraining stage, thesis §2.4.1).

The environment's action is the *slot index* (``Discrete(max_actions)``); choosing a masked
slot is an error the env reports. Padded slots have all-zero representations.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

STATE_KEY = "state"
ACTION_REPRS_KEY = "action_reprs"
ACTION_MASK_KEY = "action_mask"
ACTION_IDS_KEY = "action_ids"


def action_set_observation_space(
    state_space: gym.spaces.Box, max_actions: int, repr_dim: int, n_action_ids: int | None = None
) -> gym.spaces.Dict:
    """The ``Dict`` observation space of an action-set environment.

    ``n_action_ids``: size of the action universe; when given, ``action_ids`` is included.
    """
    spaces: dict[str, gym.Space] = {
        STATE_KEY: state_space,
        ACTION_REPRS_KEY: gym.spaces.Box(low=-np.inf, high=np.inf, shape=(max_actions, repr_dim), dtype=np.float32),
        ACTION_MASK_KEY: gym.spaces.Box(low=0.0, high=1.0, shape=(max_actions,), dtype=np.float32),
    }
    if n_action_ids is not None:
        spaces[ACTION_IDS_KEY] = gym.spaces.Box(
            low=-1.0, high=float(n_action_ids - 1), shape=(max_actions,), dtype=np.float32
        )
    return gym.spaces.Dict(spaces)


def validated_slot(action: object, n_available: int, episode_done: bool) -> int:
    """The slot index of ``action``; an error for a finished episode or an unavailable slot."""
    if episode_done:
        raise RuntimeError("step() called on a finished episode; call reset() first")
    slot = int(action)  # type: ignore[call-overload]
    if not 0 <= slot < n_available:
        raise ValueError(
            f"action {slot} is not an available slot (0..{n_available - 1} are available, action_mask marks them)"
        )
    return slot
