"""Highway (OKB App. F.2, Fig. 5; ENVIRONMENTS.md E.4): ``actlab/Highway-v0``.

highway-env's ``highway-fast-v0`` with OKB's reward features φ = (forward speed, rightmost lane,
lane change), zeroed off-road and −10 on a crash, in ``info["features"]``, and the scalar reward
w·φ; flattened 25-d Kinematics observation, 5 discrete actions; γ = 0.99. See
:mod:`envs.highway.env` and :mod:`envs.highway.features` for the details and the choices the
paper leaves open.
"""

from __future__ import annotations

import gymnasium as gym

from actlab.registry import EnvEntry, register_env
from envs.common.lazy import lazy_getattr
from envs.highway.config import ACTION_NAMES, DISCOUNT, N_FEATURES, HighwayConfig

# These import highway-env (pandas, pygame): loaded on first use.
__getattr__ = lazy_getattr(
    __name__, {"HighwayFeaturesEnv": "envs.highway.env", "reward_features": "envs.highway.features"}
)

__all__ = [
    "ACTION_NAMES",
    "DISCOUNT",
    "ENV_ENTRY",
    "ENV_ID",
    "N_FEATURES",
    "HighwayConfig",
    "HighwayFeaturesEnv",
    "register",
    "reward_features",
]

ENV_ID = "actlab/Highway-v0"

#: The registry entry (a module-level singleton, so registering it twice is a no-op).
ENV_ENTRY = EnvEntry(
    name=ENV_ID,
    description=(
        "Highway (OKB App. F.2; highway-env highway-fast-v0): flattened 5x5 Kinematics observation, 5 actions, "
        "reward features φ = (forward speed, rightmost lane, lane change), zeroed off-road, −10 on a crash, in "
        "info['features'], reward w·φ (config w); γ = 0.99."
    ),
    config_model=HighwayConfig,
    eval_sets={"eval": {}},
    select_on=None,
)


def register() -> None:
    """Register with gymnasium (highway-env truncates by itself: no TimeLimit) and actlab."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="envs.highway.env:HighwayFeaturesEnv", max_episode_steps=None)
    register_env(ENV_ENTRY)
