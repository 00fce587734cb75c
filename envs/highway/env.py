"""``actlab/Highway-v0``: highway-env's highway with OKB's reward features (OKB App. F.2, Fig. 5; ENVIRONMENTS.md E.4).

The ego vehicle drives on a multi-lane highway among IDM/MOBIL-driven traffic. This wraps
highway-env 1.12.1's ``HighwayEnvFast`` (the class of ``highway-fast-v0``: collisions are only
checked for the ego vehicle) configured by :class:`HighwayConfig`; its dynamics are unchanged.

Observation: highway-env's Kinematics array, V = 5 vehicles (ego first, then the nearest) × F = 5
columns (presence, x, y, vx, vy; normalised and clipped to [−1, 1] by highway-env, positions of
others relative to the ego), **flattened row-major** (vehicle by vehicle) to a float32 Box of
V·F = 25 values. Actions (5, ``DiscreteMetaAction``): LANE_LEFT=0, IDLE=1, LANE_RIGHT=2, FASTER=3,
SLOWER=4 (the paper's TURN_LEFT, IDLE, TURN_RIGHT, FASTER, SLOWER).

Reward features: :mod:`envs.highway.features` (speed, rightmost lane, lane change; zeroed off-road;
−10 on a crash), in ``info["features"]`` (float32, shape (3,)). Scalar reward: w·φ (default w
uniform); highway-env's own reward is discarded. γ = 0.99 (:data:`DISCOUNT`).

Episodes terminate on a crash (highway-env) and truncate after ``duration`` seconds (30 policy
steps at 1 Hz). ``reset(seed=...)`` seeds highway-env's generator (traffic placement, behaviours).
``info`` also carries ``crashed``, ``on_road``, ``lane`` (0 = leftmost) and ``speed`` (m/s).
"""

from __future__ import annotations

import os
from typing import Any, SupportsInt

import gymnasium as gym
import numpy as np

from envs.common.linear_task import LinearTaskMixin
from envs.highway.config import ACTION_NAMES, DISCOUNT, N_FEATURES, HighwayConfig
from envs.highway.features import reward_features

# highway-env imports pygame, which prints a banner on import.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
from highway_env.envs.highway_env import HighwayEnvFast  # noqa: E402

__all__ = ["ACTION_NAMES", "DISCOUNT", "HighwayFeaturesEnv"]



class HighwayFeaturesEnv(LinearTaskMixin, gym.Env[np.ndarray, np.int64]):
    """Highway with reward features (OKB App. F.2); see the module docstring. Keyword arguments
    are the fields of :class:`HighwayConfig` (validated; unknown keys raise)."""

    DISCOUNT = DISCOUNT
    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, **kwargs: Any) -> None:
        cfg = HighwayConfig.model_validate(kwargs)
        self.config = cfg
        self.render_mode = cfg.render_mode
        self._init_task(N_FEATURES, cfg.w)
        self.highway = HighwayEnvFast(config=cfg.highway_env_config(), render_mode=cfg.render_mode)
        inner = self.highway.observation_space
        assert isinstance(inner, gym.spaces.Box)
        self.observation_space = gym.spaces.Box(
            low=inner.low.reshape(-1), high=inner.high.reshape(-1), dtype=np.float32
        )
        self.action_space = gym.spaces.Discrete(len(ACTION_NAMES))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        # highway-env keeps its own generator; seeding it is what makes episodes reproducible.
        obs_VF, _ = self.highway.reset(seed=seed)
        return self._flat(obs_VF), self._vehicle_info()

    def step(self, action: SupportsInt) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a < len(ACTION_NAMES):
            raise ValueError(f"invalid action {action!r}; expected 0..{len(ACTION_NAMES) - 1}")
        obs_VF, _, terminated, truncated, _ = self.highway.step(a)
        phi_D = reward_features(self.highway.vehicle, self.highway.road, a, self.config)
        info = {"features": phi_D, **self._vehicle_info()}
        return self._flat(obs_VF), self.task_reward(phi_D), bool(terminated), bool(truncated), info

    def render(self) -> np.ndarray | None:
        return self.highway.render() if self.render_mode is not None else None

    def close(self) -> None:
        self.highway.close()

    def _flat(self, obs_VF: np.ndarray) -> np.ndarray:
        return np.asarray(obs_VF, dtype=np.float32).reshape(-1)

    def _vehicle_info(self) -> dict[str, Any]:
        vehicle = self.highway.vehicle
        return {
            "crashed": bool(vehicle.crashed),
            "on_road": bool(vehicle.on_road),
            "lane": int(vehicle.lane_index[2]),
            "speed": float(vehicle.speed),
        }
