"""``actlab/FetchPickAndPlaceTargets-v0``: FetchPickAndPlace with d targets as reward features (OKB §5 Q2, App. F.2; ENVIRONMENTS.md E.2).

A Fetch arm must grasp a block on a table and carry it. This wraps gymnasium-robotics 1.4.2's
``MujocoFetchPickAndPlaceEnv`` (the class of ``FetchPickAndPlace-v4``: same model, physics, 20
substeps per step, block start randomisation) after installing the MuJoCo-4 fix of
:mod:`envs.fetch_targets.mjcompat`. Upstream's single goal is replaced by d fixed targets.

Observation: upstream's 25-d ``observation`` entry (gripper position, block position, block
relative to gripper, finger positions, block rotation, block and gripper velocities, finger
velocities) as float32, the paper's S ⊂ R^25. The dict's other entries are dropped, which is how
the dict observation is flattened: ``achieved_goal`` is the block position (entries 3:6 of the
observation already) and ``desired_goal`` has no meaning with d fixed targets.

Actions (8, discrete; App. F.2's 1..6 are our 0..5): 0: +x, 1: −x, 2: +y, 3: −y, 4: +z, 5: −z
moves the gripper's mocap target by ``move_scale``·0.05 m (upstream scales a unit continuous
action to 0.05 m), 6: open, 7: close. The gripper command is **sticky**: a move carries the last
open (+1) / close (−1) command, so a closed gripper keeps squeezing the block while the arm moves
(upstream's fingers are position actuators driven to their current position plus the command;
a 0 command would let a grasped block slip). Episodes start with ``initial_gripper`` (open).

Reward features (App. F.2): φ_i(s, a, s') = −‖p_block(s') − target_i‖₂ for i = 1..d, in
``info["features"]`` (float32, shape (d,)); targets are ``targets`` or seeded draws from upstream's
goal distribution (:mod:`envs.fetch_targets.targets`; ``info`` has no targets, the env's
:attr:`FetchTargetsEnv.targets` has them). Scalar reward: w·φ (default w uniform). γ = 0.95
(:data:`DISCOUNT`). The task is continuing (never terminates) and truncates after ``max_steps``
(50, upstream's limit).

``reset(options={"block_xy": (x, y)})`` places the block's start instead of the random draw (for
tests and analysis). ``info["block_pos"]`` is the block's position (float64) after the step.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any, SupportsInt

import gymnasium as gym
import numpy as np

from envs.common.linear_task import LinearTaskMixin
from envs.fetch_targets import mjcompat
from envs.fetch_targets.config import ACTION_NAMES, DISCOUNT, MOVE_DIRECTIONS, FetchTargetsConfig
from envs.fetch_targets.targets import generate_targets

# gymnasium-robotics prints a notice about Adroit's rewards to stderr on import (irrelevant here).
with contextlib.redirect_stderr(io.StringIO()):
    from gymnasium_robotics.envs.fetch.pick_and_place import MujocoFetchPickAndPlaceEnv

__all__ = ["ACTION_NAMES", "DISCOUNT", "MOVE_DIRECTIONS", "FetchTargetsEnv"]

OPEN, CLOSE = 6, 7
_GRIPPER_COMMAND = {OPEN: 1.0, CLOSE: -1.0}
_OBS_DIM = 25


class _PinnedPickAndPlace(MujocoFetchPickAndPlaceEnv):
    """Upstream's env with a fixed displayed goal and an optional forced block start.

    Upstream hard-codes its ranges and ignores ``reset(options=...)``, hence the overrides.
    """

    shown_goal: np.ndarray | None = None
    block_xy_override: np.ndarray | None = None

    def _sample_goal(self) -> np.ndarray:
        # The goal only drives upstream's rendering and reward, both unused: show target 1.
        return super()._sample_goal() if self.shown_goal is None else self.shown_goal.copy()

    def _reset_sim(self) -> bool:
        done = super()._reset_sim()
        if self.block_xy_override is not None:
            qpos = self._utils.get_joint_qpos(self.model, self.data, "object0:joint")
            qpos[:2] = self.block_xy_override
            self._utils.set_joint_qpos(self.model, self.data, "object0:joint", qpos)
            self._mujoco.mj_forward(self.model, self.data)
        return done


class FetchTargetsEnv(LinearTaskMixin, gym.Env[np.ndarray, np.int64]):
    """FetchPickAndPlace with d targets (OKB App. F.2); see the module docstring. Keyword
    arguments are the fields of :class:`FetchTargetsConfig` (validated; unknown keys raise)."""

    DISCOUNT = DISCOUNT
    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, **kwargs: Any) -> None:
        cfg = FetchTargetsConfig.model_validate(kwargs)
        self.config = cfg
        self.render_mode = cfg.render_mode
        self._init_task(cfg.d, cfg.w)
        mjcompat.apply()
        self.fetch = _PinnedPickAndPlace(reward_type="dense", render_mode=cfg.render_mode)
        if cfg.targets is not None:
            targets_D3 = np.asarray(cfg.targets, dtype=np.float64)
        else:
            targets_D3 = generate_targets(
                cfg.d,
                cfg.target_seed,
                gripper_start_xyz=self.fetch.initial_gripper_xpos,
                table_z=float(self.fetch.height_offset),
                min_separation=cfg.min_target_separation,
            )
        self.targets_D3 = targets_D3
        self.fetch.shown_goal = targets_D3[0]
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(_OBS_DIM,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(len(ACTION_NAMES))
        self._initial_command = 1.0 if cfg.initial_gripper == "open" else -1.0
        self._gripper_command = self._initial_command
        self._t = 0

    @property
    def targets(self) -> np.ndarray:
        """``(d, 3)`` target positions (a copy)."""
        return self.targets_D3.copy()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        block_xy = options.get("block_xy")
        self.fetch.block_xy_override = None if block_xy is None else np.asarray(block_xy, dtype=np.float64)
        try:
            obs, _ = self.fetch.reset(seed=seed)
        finally:
            self.fetch.block_xy_override = None
        self._gripper_command = self._initial_command
        self._t = 0
        return self._flat(obs), {"block_pos": obs["achieved_goal"].copy()}

    def step(self, action: SupportsInt) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a < len(ACTION_NAMES):
            raise ValueError(f"invalid action {action!r}; expected 0..{len(ACTION_NAMES) - 1}")
        obs, _, _, _, _ = self.fetch.step(self._to_continuous(a))
        self._t += 1
        block_pos = obs["achieved_goal"].copy()
        phi_D = self.features_at(block_pos)
        truncated = self._t >= self.config.max_steps
        info = {"features": phi_D, "block_pos": block_pos}
        return self._flat(obs), self.task_reward(phi_D), False, truncated, info

    def _to_continuous(self, action: int) -> np.ndarray:
        """Upstream's 4-d action for discrete ``action``; an open/close updates the sticky command."""
        if action in _GRIPPER_COMMAND:
            self._gripper_command = _GRIPPER_COMMAND[action]
            move = (0.0, 0.0, 0.0)
        else:
            move = MOVE_DIRECTIONS[action]
        return np.array([*(self.config.move_scale * m for m in move), self._gripper_command], dtype=np.float32)

    def features_at(self, block_pos: np.ndarray) -> np.ndarray:
        """φ = −‖block − target_i‖ for every target (float32, shape (d,))."""
        return (-np.linalg.norm(self.targets_D3 - block_pos[None, :], axis=1)).astype(np.float32)

    def render(self) -> np.ndarray | None:
        return self.fetch.render() if self.render_mode is not None else None

    def close(self) -> None:
        self.fetch.close()

    @staticmethod
    def _flat(obs: dict[str, np.ndarray]) -> np.ndarray:
        return obs["observation"].astype(np.float32)
