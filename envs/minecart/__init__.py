"""Minecart (OKB App. F.2; ENVIRONMENTS.md E.1): ``actlab/Minecart-v0``.

MO-Gymnasium's ``minecart-v0`` with its 3-d vector reward exposed as reward features
φ = (ore 1, ore 2, fuel) in ``info["features"]`` and the scalar reward w·φ; γ = 0.98.
See :mod:`envs.minecart.env` for the details and the choices the paper leaves open.
"""

from __future__ import annotations

import gymnasium as gym

from actlab.registry import EnvEntry, register_env
from envs.common.lazy import lazy_getattr
from envs.minecart.config import ACTION_NAMES, DISCOUNT, N_FEATURES, MinecartConfig

# The env class imports mo-gymnasium (scipy.stats, pygame): loaded on first use.
__getattr__ = lazy_getattr(__name__, {"MinecartEnv": "envs.minecart.env"})

__all__ = ["ACTION_NAMES", "DISCOUNT", "ENV_ENTRY", "ENV_ID", "N_FEATURES", "MinecartConfig", "MinecartEnv", "register"]

ENV_ID = "actlab/Minecart-v0"

#: The registry entry (a module-level singleton, so registering it twice is a no-op).
ENV_ENTRY = EnvEntry(
    name=ENV_ID,
    description=(
        "Minecart (OKB App. F.2; MO-Gymnasium minecart-v0): 7-d observation, 6 actions, reward features "
        "φ = (ore 1 sold, ore 2 sold, fuel) in info['features'], reward w·φ (config w); γ = 0.98."
    ),
    config_model=MinecartConfig,
    eval_sets={"eval": {}},
    select_on=None,
)


def register() -> None:
    """Register with gymnasium (the env truncates by itself: no TimeLimit) and actlab."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="envs.minecart.env:MinecartEnv", max_episode_steps=None)
    register_env(ENV_ENTRY)
