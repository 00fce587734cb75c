"""FetchPickAndPlace with d targets (OKB §5 Q2, App. F.2; ENVIRONMENTS.md E.2): ``actlab/FetchPickAndPlaceTargets-v0``.

gymnasium-robotics' FetchPickAndPlace (v4 model and physics, with the MuJoCo-4 fix of
:mod:`envs.fetch_targets.mjcompat`), 8 discrete actions (6 Manhattan moves, open, close), the
25-d observation, and reward features φ_i = −‖block − target_i‖ for d targets (config ``d``) in
``info["features"]``, scalar reward w·φ; γ = 0.95. See :mod:`envs.fetch_targets.env`.
"""

from __future__ import annotations

import gymnasium as gym

from actlab.registry import EnvEntry, register_env
from envs.common.lazy import lazy_getattr
from envs.fetch_targets.config import ACTION_NAMES, DISCOUNT, MOVE_DIRECTIONS, FetchTargetsConfig
from envs.fetch_targets.targets import generate_targets

# The env class imports gymnasium-robotics and patches it (mjcompat): loaded on first use.
__getattr__ = lazy_getattr(__name__, {"FetchTargetsEnv": "envs.fetch_targets.env"})

__all__ = [
    "ACTION_NAMES",
    "DISCOUNT",
    "ENV_ENTRY",
    "ENV_ID",
    "MOVE_DIRECTIONS",
    "FetchTargetsConfig",
    "FetchTargetsEnv",
    "generate_targets",
    "register",
]

ENV_ID = "actlab/FetchPickAndPlaceTargets-v0"

#: The registry entry (a module-level singleton, so registering it twice is a no-op).
ENV_ENTRY = EnvEntry(
    name=ENV_ID,
    description=(
        "FetchPickAndPlace with d targets (OKB App. F.2; gymnasium-robotics v4 + MuJoCo-4 shim): 25-d observation, "
        "8 discrete actions (6 moves of 5 cm, open, close), features φ_i = −‖block − target_i‖ (config d) in "
        "info['features'], reward w·φ (config w); γ = 0.95."
    ),
    config_model=FetchTargetsConfig,
    eval_sets={"eval": {}},
    select_on=None,
)


def register() -> None:
    """Register with gymnasium (the env truncates by itself: no TimeLimit) and actlab."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="envs.fetch_targets.env:FetchTargetsEnv", max_episode_steps=None)
    register_env(ENV_ENTRY)
