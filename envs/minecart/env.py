"""``actlab/Minecart-v0``: MO-Gymnasium's Minecart as a reward-feature env (OKB App. F.2; ENVIRONMENTS.md E.1).

A cart leaves its base at the origin, mines two ores at five mines (each mine has its own
truncated-normal distribution over the two ores) and returns to sell them; returning to the base
ends the episode. This wraps ``mo_gymnasium.envs.minecart.minecart.Minecart`` (mo-gymnasium 1.3.2,
the class behind ``minecart-v0``) without changing its dynamics.

Observation (7-d, float32, already flat): x, y, speed, sin and cos of the heading, and the
fraction of the cart's capacity filled by each ore; S = [−1, 1]^5 × [0, 1]^2.
Actions (6): MINE=0, LEFT=1, RIGHT=2, ACCELERATE=3, BRAKE=4, NONE=5 (MO-Gymnasium's numbering).

Reward features (App. F.2), ``info["features"]`` (float32, shape (3,)) = MO-Gymnasium's vector reward:

- φ1, φ2: the quantity of ore 1 / ore 2 sold, non-zero only on the step whose s' is inside the base;
- φ3: fuel, −0.005 − 0.025·1{a = ACCELERATE} − 0.05·1{a = MINE} per frame, charged ``frame_skip``
  (4) times per step by MO-Gymnasium; ``fuel_feature="per_frame"`` divides it by the frame skip so
  that it matches App. F.2's formula literally (see :class:`MinecartConfig`).

Scalar reward: w·φ (default w uniform). γ = 0.98 (:data:`DISCOUNT`).

Seeding: upstream draws ores from SciPy's global NumPy state, so ``reset(seed=...)`` would not fix
them. Each reset points every mine's frozen distributions at this env's ``np_random``, making
episodes reproducible from the seed (same dynamics, different random stream than upstream).
Truncation after ``max_steps`` (1000, MO-Gymnasium's limit) is done here, not by a TimeLimit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, SupportsInt

import gymnasium as gym
import numpy as np

from envs.common.linear_task import LinearTaskMixin
from envs.minecart.config import ACTION_NAMES, DISCOUNT, N_FEATURES, MinecartConfig

# mo_gymnasium's minecart module imports pygame, which prints a banner on import.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
from mo_gymnasium.envs.minecart import minecart as _mc  # noqa: E402

__all__ = ["ACTION_NAMES", "DISCOUNT", "MinecartEnv"]

#: Pareto fronts by γ (the upstream computation takes ~a second; it depends on γ only for the
#: default frame skip, which the cache assumes).
_REFERENCE_CACHE: dict[float, np.ndarray] = {}

_CONFIGS = {False: "mine_config.json", True: "mine_config_det.json"}


class MinecartEnv(LinearTaskMixin, gym.Env[np.ndarray, np.int64]):
    """Minecart with reward features (OKB App. F.2); see the module docstring. Keyword arguments
    are the fields of :class:`MinecartConfig` (validated; unknown keys raise)."""

    DISCOUNT = DISCOUNT
    metadata = {"render_modes": []}

    def __init__(self, **kwargs: Any) -> None:
        cfg = MinecartConfig.model_validate(kwargs)
        self.config = cfg
        self._init_task(N_FEATURES, cfg.w)
        config_path = Path(_mc.__file__).parent / _CONFIGS[cfg.deterministic]
        self._cart = _mc.Minecart(frame_skip=cfg.frame_skip, config=str(config_path))
        # φ3 is charged once per skipped frame upstream; 'per_frame' undoes that.
        self._fuel_scale = 1.0 / cfg.frame_skip if cfg.fuel_feature == "per_frame" else 1.0
        self.observation_space = self._cart.observation_space
        self.action_space = gym.spaces.Discrete(len(ACTION_NAMES))
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        for mine in self._cart.mines:
            for dist in mine.distributions:
                dist.random_state = self.np_random
        obs, _ = self._cart.reset()
        self._t = 0
        return obs, {}

    def step(self, action: SupportsInt) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a < len(ACTION_NAMES):
            raise ValueError(f"invalid action {action!r}; expected 0..{len(ACTION_NAMES) - 1}")
        obs, vector_reward, terminated, _, _ = self._cart.step(a)
        self._t += 1
        phi_D = np.asarray(vector_reward, dtype=np.float32).copy()
        phi_D[2] *= self._fuel_scale
        truncated = not terminated and self._t >= self.config.max_steps
        info: dict[str, Any] = {"features": phi_D}
        return obs, self.task_reward(phi_D), bool(terminated), truncated, info

    def reference_sf_vectors(self, gamma: float = DISCOUNT) -> np.ndarray:
        """MO-Gymnasium's approximate Pareto front of discounted returns (ore 1, ore 2, fuel), ``(n, 3)``.

        The reference against which OKB's normalised return is measured (the upstream
        computation is for the deterministic mine config and MO-Gymnasium's fuel feature).
        """
        key = float(gamma)
        if key not in _REFERENCE_CACHE:
            front = np.asarray(self._cart.pareto_front(gamma=key), dtype=np.float64)
            if self.config.fuel_feature == "per_frame":
                front[:, 2] /= self.config.frame_skip
            _REFERENCE_CACHE[key] = front
        return _REFERENCE_CACHE[key].copy()

    @property
    def cart_position(self) -> np.ndarray:
        """The cart's (x, y) in [0, 1]^2 (a copy); the base is at the origin."""
        return np.array(self._cart.cart.pos, dtype=np.float64)
