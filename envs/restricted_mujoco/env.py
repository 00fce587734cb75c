"""Restricted action spaces for MuJoCo tasks (thesis T-AppC §C.3.1; ENVIRONMENTS.md C.5).

An action ``a`` (in the task's own units) is **valid** iff its normalised version
``u = 2 (a - low) / (high - low) - 1 ∈ [-1, 1]^D`` lies in one of ``n`` balls:
``||u - c_j||_2 <= r_j``. A valid action is applied as is; an invalid one has a **null
effect**: zeros for Hopper/Walker2d (no torque for that control step) and ``-1`` (cart force
in the task's units) for the pendulums, where 0 is often optimal and would make "choose an
invalid action" a trivial solution (T-AppC §C.3.1). ``info["action_valid"]`` says which.

The sources leave the number of balls, their centres, radii and seed unspecified ("carefully
tuned" so that enough valid actions exist). Choices here, all config (``RestrictedMuJoCoConfig``):

- centres uniform in ``[-1, 1]^D`` from ``layout_seed`` (a ball may stick out of the box;
  in 6-D a ball inside the box covers at most 8 % of it);
- defaults per task (:data:`DEFAULT_LAYOUTS`) chosen so that roughly a quarter to 40 % of the
  action box is valid, in several pieces, which makes ``Q(s, ·)`` multi-modal (measured on
  2e4-5e4 uniform actions, layout seed 0): pendulums (1-D) 3 intervals of radius 0.15
  (42 %), Hopper (3-D) 8 balls of radius 0.45 (23 %), Walker2d (6-D) 12 balls of radius 1.0
  (29 %).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from pydantic import Field

from actlab.spec.models import StrictModel

__all__ = ["DEFAULT_LAYOUTS", "RestrictedActions", "RestrictedMuJoCoConfig", "make_restricted", "sphere_layout"]

#: base task -> (number of balls, radius in normalised units, null action in task units).
DEFAULT_LAYOUTS: dict[str, tuple[int, float, float]] = {
    "InvertedPendulum-v5": (3, 0.15, -1.0),
    "InvertedDoublePendulum-v5": (3, 0.15, -1.0),
    "Hopper-v5": (8, 0.45, 0.0),
    "Walker2d-v5": (12, 1.0, 0.0),
}


class RestrictedMuJoCoConfig(StrictModel):
    """Geometry of the valid action set (None = the task's default in DEFAULT_LAYOUTS)."""

    n_spheres: int | None = Field(None, ge=1, description="Number of valid balls (default per task).")
    radius: float | None = Field(None, gt=0, le=2, description="Ball radius in normalised [-1, 1] action units.")
    layout_seed: int = Field(0, description="Seed of the ball centres (fixed per environment, not per episode).")


def sphere_layout(action_dim: int, n_spheres: int, radius: float, seed: int) -> np.ndarray:
    """``(n, D)`` ball centres, uniform in ``[-1, 1]^D``."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n_spheres, action_dim))


class RestrictedActions(gym.Wrapper):
    """Replaces invalid actions by the task's null action; see the module docstring."""

    def __init__(self, env: gym.Env, centres: np.ndarray, radius: float, null_action: float) -> None:
        super().__init__(env)
        space = env.action_space
        assert isinstance(space, gym.spaces.Box)
        self.centres = np.asarray(centres, dtype=np.float64)
        self.radius = float(radius)
        self.null_action = np.full(space.shape, null_action, dtype=space.dtype)
        self._low, self._high = space.low.astype(np.float64), space.high.astype(np.float64)

    def normalise(self, action: np.ndarray) -> np.ndarray:
        return 2.0 * (np.asarray(action, dtype=np.float64) - self._low) / (self._high - self._low) - 1.0

    def is_valid(self, action: np.ndarray) -> np.ndarray:
        """Validity of one action ``(D,)`` or a batch ``(..., D)`` in task units."""
        u = self.normalise(action)
        dist = np.linalg.norm(u[..., None, :] - self.centres, axis=-1)
        return (dist <= self.radius).any(axis=-1)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        valid = bool(self.is_valid(np.asarray(action)))
        obs, reward, terminated, truncated, info = self.env.step(action if valid else self.null_action)
        info["action_valid"] = valid
        return obs, reward, terminated, truncated, info


def make_restricted(base_id: str, n_spheres: int | None = None, radius: float | None = None,
                    layout_seed: int = 0, **kwargs: Any) -> RestrictedActions:
    """gymnasium entry point: ``base_id`` wrapped with its (or the given) ball layout."""
    default_n, default_r, null = DEFAULT_LAYOUTS[base_id]
    env = gym.make(base_id, **kwargs)
    n, r = n_spheres or default_n, radius or default_r
    return RestrictedActions(env, sphere_layout(env.action_space.shape[0], n, r, layout_seed), r, null)
