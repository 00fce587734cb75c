"""``actlab/MineWorld-v0``: Mining Expedition (thesis T §4.5, T-AppC §C.1, Eq. C.1, Fig. C.2).

The agent walks a square grid from a fixed start to a fixed goal; mines block cells and are
cleared with the right pick-axes. A plain numpy grid (no MiniGrid) keeps a step at ~70 µs
of CPU, two thirds of it the torch 1-NN lookup.

**Actions** (continuous reformulation of a discrete task, T §4.3.2): the action space is
``Box(-1, 1, (D,))``, a proto-action in representation space. ``step(a)`` executes the real
action whose representation (a row of ``action_embeddings``, :mod:`envs.mineworld.actions`)
is nearest to ``a`` in Euclidean distance (ties to the lowest index), found with
:class:`rllib_modules.common.nearest_item.NearestItemIndex`; ``info["action_index"]`` is
that index. There are ``num_actions = 4 + K`` real actions:

- ``0..3`` navigation right/down/left/up: turn to that direction and move one cell if it
  is free (empty or the goal); into a mine or the border the agent only turns;
- ``4 + k``, the pick-axe of mine type ``k``: if the cell in front holds a type-``k`` mine,
  it is transformed (or broken) along the transformation graph; otherwise nothing happens.

**State** (``8 + K``-d, all in [0, 1], T-AppC §C.1): agent ``x/(size-1)``, ``y/(size-1)``;
direction ``/3`` (0 right, 1 down, 2 left, 3 up); surrounding path for right, down, left,
up (1 if that neighbour is empty or the goal, 0 for a mine or the border); front cell as a
``(K+1)``-d one-hot: dims ``0..K-1`` the mine type, dim ``K`` is 1 if the front cell is the
goal, all zero if it is empty or the border. The agent starts at ``(0, 0)`` facing right.

**Reward** (Eq. C.1), per step::

    1_goal R_goal (1 - λ_goal N / N_max) + R_step (D_before - D_after)
      + 1_correct_tool R_tool + 1_broken R_bonus

with ``N`` the number of steps taken including this one, ``N_max = max_steps``, ``D`` the
Manhattan distance from the agent to the goal (the source does not name the metric), a
correct tool being one applied to a mine of its type in front (whether it transforms or
breaks it), and breaking that mine adding ``R_bonus`` on top. The episode terminates on
the goal and is truncated after ``max_steps`` (100) steps.

**Choices where the source is silent** (all :class:`MineWorldConfig` fields):

- ``grid_size=10``: start (0, 0), goal (9, 9), 18 moves apart; 10x10 keeps the optimal
  episode well inside the 100-step horizon;
- ``n_mine_types=50``: K = the 50 pick-axe types of T-AppC §C.1, one tool per mine type, so
  54 actions (Table C.1's "104" would be K = 100: set ``n_mine_types=100``);
- ``mine_density=0.5``: on 10x10 the goal cannot be reached without tools in 98% of
  layouts (the free cells rarely percolate from corner to corner), while an optimal policy
  needs 22.5 steps on average (max 30) with 4.1 correct tools on average (max 11)
  (measured with the planner of :mod:`envs.mineworld.oracle` over 2,000 layouts; at 0.4 a
  tool-free path exists in 17% of layouts, 20.3 steps, 2.1 tools): solvable well within the
  horizon, but only by choosing the right tools, often several in sequence;
- ``max_chain_length=3``: transformation chains of 1-3 types, so a mine needs 1-3 correct
  tools (``graph_seed`` fixes the graph);
- ``extra_action_dim=0``: the 4-d representations of T-AppC §C.1 (Table C.1's "extra action
  dim 5" is unexplained; set it to append seeded noise dimensions).

The layout is re-sampled at every reset from the env's RNG (the reset seed);
``reset(options={"grid": layout})`` installs a given ``int16 (size, size)`` layout
(:mod:`envs.mineworld.layout`) instead, for tests and analysis.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from envs.mineworld.actions import BREAK, N_NAVIGATION, action_embeddings, tools_to_break, transformation_graph
from envs.mineworld.config import MineWorldConfig
from envs.mineworld.layout import DIRECTIONS, EMPTY, START_XY, goal_xy, sample_layout
from rllib_modules.common.nearest_item import NearestItemIndex

__all__ = ["MineWorldEnv"]


class MineWorldEnv(gym.Env[np.ndarray, np.ndarray]):
    """Mining Expedition with 1-NN proto-actions (module doc). Keyword arguments: :class:`MineWorldConfig`."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        cfg = MineWorldConfig.model_validate(kwargs)
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode {render_mode!r} is not supported; use None or 'ansi'")
        self.config = cfg
        self.render_mode = render_mode
        self.size = cfg.grid_size
        self.n_types = cfg.n_mine_types
        self.successor = transformation_graph(cfg.n_mine_types, cfg.max_chain_length, cfg.graph_seed)
        self.tools_to_break = tools_to_break(self.successor)
        self.action_embeddings: np.ndarray = action_embeddings(self.successor, cfg.extra_action_dim, cfg.representation_seed)
        self.action_embeddings.setflags(write=False)
        self.num_actions: int = self.action_embeddings.shape[0]
        self._nearest = NearestItemIndex(torch.from_numpy(self.action_embeddings.copy()))
        self._query_1D_np = np.zeros((1, self.action_embeddings.shape[1]), dtype=np.float32)
        self._query_1D = torch.from_numpy(self._query_1D_np)
        self.goal = goal_xy(self.size)

        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(8 + self.n_types,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(self.action_embeddings.shape[1],), dtype=np.float32)

        self.grid = np.full((self.size, self.size), EMPTY, dtype=np.int16)
        self._x, self._y, self._dir = START_XY[0], START_XY[1], 0
        self._steps = 0
        self._done = True

    # ------------------------------------------------------------------ helpers
    @property
    def agent(self) -> tuple[int, int, int]:
        """``(x, y, direction)`` of the agent."""
        return self._x, self._y, self._dir

    @property
    def steps(self) -> int:
        """Steps taken in the current episode (N_current_steps of Eq. C.1)."""
        return self._steps

    def nearest_action(self, proto_action: np.ndarray) -> int:
        """Index of the real action nearest to ``proto_action`` (1-NN, ties to the lowest index)."""
        proto_D = np.asarray(proto_action)
        if proto_D.shape != self.action_space.shape or not np.isfinite(proto_D).all():
            raise ValueError(f"action must be a finite vector of shape {self.action_space.shape}, got {proto_action!r}")
        # A preallocated buffer that a tensor shares: building a fresh tensor per step costs
        # about as much as the lookup itself.
        self._query_1D_np[0] = proto_D
        index_1, _ = self._nearest.query(self._query_1D)
        return int(index_1.item())

    def _cell(self, x: int, y: int) -> int | None:
        """Cell code at (x, y), or None off the grid."""
        if 0 <= x < self.size and 0 <= y < self.size:
            return int(self.grid[y, x])
        return None

    def _observation(self) -> np.ndarray:
        obs = np.zeros(8 + self.n_types, dtype=np.float32)
        denom = self.size - 1
        obs[0] = self._x / denom
        obs[1] = self._y / denom
        obs[2] = self._dir / 3.0
        for d, (dx, dy) in enumerate(DIRECTIONS):
            if self._cell(self._x + dx, self._y + dy) == EMPTY:
                obs[3 + d] = 1.0
        dx, dy = DIRECTIONS[self._dir]
        fx, fy = self._x + dx, self._y + dy
        front = self._cell(fx, fy)
        if front is not None and front != EMPTY:
            obs[7 + front] = 1.0
        elif (fx, fy) == self.goal:
            obs[7 + self.n_types] = 1.0
        return obs

    def _distance(self) -> int:
        return abs(self.goal[0] - self._x) + abs(self.goal[1] - self._y)

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - {"grid"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; known: grid")
        # Always draw, so that forcing a grid leaves the RNG stream as it would have been.
        grid = sample_layout(self.np_random, self.size, self.n_types, self.config.mine_density)
        if "grid" in options:
            grid = np.array(options["grid"], dtype=np.int16)
            if grid.shape != (self.size, self.size) or grid.min() < EMPTY or grid.max() >= self.n_types:
                raise ValueError(f"options['grid'] must be ({self.size}, {self.size}) codes in [{EMPTY}, {self.n_types})")
            if grid[START_XY[1], START_XY[0]] != EMPTY or grid[self.goal[1], self.goal[0]] != EMPTY:
                raise ValueError("options['grid'] must leave the start and the goal cells empty")
        self.grid = grid
        self._x, self._y, self._dir = START_XY[0], START_XY[1], 0
        self._steps = 0
        self._done = False
        return self._observation(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        cfg = self.config
        index = self.nearest_action(action)
        self._steps += 1
        distance_before = self._distance()
        correct_tool = broken = False
        if index < N_NAVIGATION:
            self._dir = index
            dx, dy = DIRECTIONS[index]
            if self._cell(self._x + dx, self._y + dy) == EMPTY:
                self._x += dx
                self._y += dy
        else:
            tool = index - N_NAVIGATION
            dx, dy = DIRECTIONS[self._dir]
            fx, fy = self._x + dx, self._y + dy
            if self._cell(fx, fy) == tool:
                correct_tool = True
                outcome = int(self.successor[tool])
                broken = outcome == BREAK
                self.grid[fy, fx] = EMPTY if broken else outcome
        reached = (self._x, self._y) == self.goal
        reward = cfg.r_step * (distance_before - self._distance())
        if reached:
            reward += cfg.r_goal * (1.0 - cfg.lambda_goal * self._steps / cfg.max_steps)
        if correct_tool:
            reward += cfg.r_tool
        if broken:
            reward += cfg.r_bonus
        truncated = not reached and self._steps >= cfg.max_steps
        self._done = reached or truncated
        info = {"action_index": index, "success": reached, "correct_tool": correct_tool, "mine_broken": broken}
        return self._observation(), float(reward), reached, truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        arrows = ">v<^"
        rows = []
        for y in range(self.size):
            row = []
            for x in range(self.size):
                if (x, y) == (self._x, self._y):
                    row.append(f" {arrows[self._dir]} ")
                elif (x, y) == self.goal:
                    row.append(" G ")
                elif self.grid[y, x] == EMPTY:
                    row.append(" . ")
                else:
                    row.append(f"{int(self.grid[y, x]):>3d}")
            rows.append("".join(row))
        return "\n".join(rows) + "\n"
