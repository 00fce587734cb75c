"""``actlab/GridWorldSkills-v0``: 9x9 lava-wall navigation with 5-move skills (thesis App. A.1).

Layout (App. A.1, Fig. A.1): the agent spawns in the top-left cell ``(0, 0)``, the goal is
the bottom-right cell ``(8, 8)``. Each episode draws one lava wall -- a full row or a full
column (orientation uniform), at an index uniform in ``[wall_index_min, wall_index_max]``
(default 2..6) -- with exactly one opening (uniform along the wall), which is the subgoal.

Actions: each step the agent picks one of ``m`` available skills (thesis §2.3, Table A.3:
m = 50), sampled per episode from the configured split of the 1,024 five-move skills
(:mod:`.skills`). The 5 moves are executed one by one; a move into the outer boundary is a
no-op (the move still counts as executed); entering lava terminates (failure); reaching
the goal terminates (success), even mid-skill.

Reward per env step (= per skill), Eq. A.1::

    R = λ_sub · 1[subgoal entered for the first time during this skill]
        + (1 − λ_goal · N_total / N_max) · 1[goal reached during this skill]

with N_total = moves executed since the episode start, up to and including the move that
reaches the goal. "Passing" the subgoal is entering the opening cell. The episode truncates
after ``max_skills`` (10) skills.

Observation (layout of :mod:`envs.common.action_set`):

- ``state``: the grid, row-major. ``grid_encoding="ids"``: ``float32 (81,)`` of the cell
  codes below (the thesis' state); ``"one_hot"`` (default): ``float32 (81*6,)``, the
  one-hot of each cell's code, cell-major (``[cell0 code0..5, cell1 code0..5, ...]``).
- ``action_reprs``: ``float32 (max_actions, d)``; slot i holds the representation of the
  i-th available skill, padded slots are zero.
- ``action_mask``: ``float32 (max_actions,)``; available slots are the first ones.

Cell codes (the thesis lists "empty, wall, agent, goal, lava, subgoal" without values):
``EMPTY=0, WALL=1`` (reserved: this layout has no inner walls), ``AGENT=2, GOAL=3,
LAVA=4, SUBGOAL=5``. The agent's code replaces the code of the cell it stands on.
"""

from __future__ import annotations

from typing import Any, SupportsInt

import gymnasium as gym
import numpy as np

from envs.common.action_set import (
    ACTION_MASK_KEY,
    ACTION_REPRS_KEY,
    STATE_KEY,
    ACTION_IDS_KEY,
    action_set_observation_space,
    validated_slot,
)
from envs.gridworld_skills.config import GridWorldSkillsConfig
from envs.gridworld_skills.representations import load_representation_table, representation_table
from envs.gridworld_skills.skills import N_SKILLS, skill_moves, split_pool

EMPTY, WALL, AGENT, GOAL, LAVA, SUBGOAL = 0, 1, 2, 3, 4, 5
#: Number of cell codes (one-hot width).
N_CELL_CODES: int = 6
#: Text rendering of each code (``render_mode="ansi"``).
CELL_CHARS: str = ".#AG~o"
#: ``(drow, dcol)`` of move codes U, D, L, R (see :mod:`.skills`).
_MOVE_DELTAS_RC: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))


class GridWorldSkillsEnv(gym.Env[dict[str, np.ndarray], np.int64]):
    """Grid World with an action set of 5-move skills (thesis Ch.2, App. A.1).

    Construct with the keyword arguments of :class:`GridWorldSkillsConfig` (validated by it;
    an unknown key or an inconsistent value raises a ``ValueError``).

    ``reset(options=...)`` accepts, for tests and analysis:

    - ``"wall": ("row" | "col", index)`` -- force the wall orientation and index;
    - ``"opening": int`` -- force the opening position along the wall;
    - ``"skill_ids": sequence of skill ids`` -- force the available skills (in slot order;
      any of the 1,024 ids, at most ``max_actions``, no duplicates).

    Anything not forced is drawn from the env's RNG in the same order as without options.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, **kwargs: Any) -> None:
        cfg = GridWorldSkillsConfig.model_validate(kwargs)
        self.config = cfg
        self.render_mode = cfg.render_mode
        n = cfg.grid_size
        self._size = n
        self._n_cells = n * n
        self._goal_cell = self._n_cells - 1
        self._one_hot = cfg.grid_encoding == "one_hot"
        self._factored = cfg.grid_encoding == "factored"

        self._pool = split_pool(cfg.split, cfg.split_seed)
        self.max_actions: int = cfg.max_actions
        if cfg.representation_table_path is not None:
            self._table = load_representation_table(cfg.representation_table_path)
        else:
            self._table = representation_table(cfg.representation)
        self.repr_dim: int = int(self._table.shape[1])
        # Per-skill (drow, dcol) tuples as plain Python ints: the step loop is 5 moves of
        # int arithmetic, which is faster on Python ints than on numpy scalars.
        self._skill_deltas: list[tuple[tuple[int, int], ...]] = [
            tuple(_MOVE_DELTAS_RC[c] for c in row) for row in skill_moves().tolist()
        ]

        if self._one_hot:
            state_space = gym.spaces.Box(0.0, 1.0, shape=(self._n_cells * N_CELL_CODES,), dtype=np.float32)
        elif self._factored:
            state_space = gym.spaces.Box(0.0, 1.0, shape=(4 * n + 4,), dtype=np.float32)
        else:
            state_space = gym.spaces.Box(
                0.0, float(N_CELL_CODES - 1), shape=(self._n_cells,), dtype=np.float32
            )
        self.observation_space = action_set_observation_space(
            state_space, self.max_actions, self.repr_dim, n_action_ids=N_SKILLS
        )
        self.action_space = gym.spaces.Discrete(self.max_actions)

        # Episode state (set in reset).
        self._cells: list[int] = [EMPTY] * self._n_cells  # static layout codes, flat row-major
        self._base_state = np.zeros(state_space.shape, dtype=np.float32)  # state without the agent
        self._slot_skills: list[int] = []
        self._n_available = 0
        self._reprs = np.zeros((self.max_actions, self.repr_dim), dtype=np.float32)
        self._mask = np.zeros(self.max_actions, dtype=np.float32)
        self._ids = np.full(self.max_actions, -1.0, dtype=np.float32)
        self._row = self._col = 0
        self._moves = 0
        self._skills_used = 0
        self._subgoal_passed = False
        self._done = True
        self.wall: tuple[str, int] = ("row", cfg.wall_index_min)
        self.opening: int = 0

    # ------------------------------------------------------------------ public helpers
    @property
    def available_skill_ids(self) -> np.ndarray:
        """Skill id in each slot (``int64 (max_actions,)``), ``-1`` for padded slots."""
        out = np.full(self.max_actions, -1, dtype=np.int64)
        out[: self._n_available] = self._slot_skills
        return out

    @property
    def agent_position(self) -> tuple[int, int]:
        """Agent cell ``(row, col)``."""
        return self._row, self._col

    @property
    def representation_table(self) -> np.ndarray:
        """The ``(1024, d)`` table the ``action_reprs`` rows are taken from (read-only)."""
        return self._table

    # ------------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - {"wall", "opening", "skill_ids"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; known: wall, opening, skill_ids")
        rng = self.np_random
        n = self._size
        cfg = self.config

        # Draw everything unconditionally so that forcing one part leaves the others as
        # they would have been for the same seed.
        orientation = "row" if rng.integers(2) == 0 else "col"
        index = int(rng.integers(cfg.wall_index_min, cfg.wall_index_max + 1))
        opening = int(rng.integers(n))
        if cfg.m is None:
            sampled = rng.permutation(self._pool)
        else:
            sampled = rng.choice(self._pool, size=cfg.m, replace=False)  # random order already

        if "wall" in options:
            orientation, index = options["wall"]
            index = int(index)
            if orientation not in ("row", "col") or not 1 <= index <= n - 2:
                raise ValueError(f"options['wall'] must be ('row'|'col', 1..{n - 2}); got {options['wall']!r}")
        if "opening" in options:
            opening = int(options["opening"])
            if not 0 <= opening < n:
                raise ValueError(f"options['opening'] must be in [0, {n}); got {opening}")
        if "skill_ids" in options:
            sampled = np.asarray(options["skill_ids"], dtype=np.int64).reshape(-1)
            if (
                not 1 <= sampled.size <= self.max_actions
                or np.unique(sampled).size != sampled.size
                or sampled.min() < 0
                or sampled.max() >= N_SKILLS
            ):
                raise ValueError(
                    f"options['skill_ids'] must be 1..{self.max_actions} distinct ids in [0, {N_SKILLS})"
                )
        self.wall, self.opening = (orientation, index), opening

        # Static layout.
        cells = [EMPTY] * self._n_cells
        for k in range(n):
            r, c = (index, k) if orientation == "row" else (k, index)
            cells[r * n + c] = SUBGOAL if k == opening else LAVA
        cells[self._goal_cell] = GOAL
        self._cells = cells
        codes = np.asarray(cells, dtype=np.int64)
        if self._one_hot:
            base = np.zeros((self._n_cells, N_CELL_CODES), dtype=np.float32)
            base[np.arange(self._n_cells), codes] = 1.0
            self._base_state = base.reshape(-1)
        elif self._factored:
            # [agent row (n) | agent col (n) | wall is row, wall is col | wall index (n) |
            #  opening (n) | subgoal passed | fraction of skills used]; agent parts set in _obs.
            base = np.zeros(4 * n + 4, dtype=np.float32)
            base[2 * n + (0 if orientation == "row" else 1)] = 1.0
            base[2 * n + 2 + index] = 1.0
            base[3 * n + 2 + opening] = 1.0
            self._base_state = base
        else:
            self._base_state = codes.astype(np.float32)

        # Available set. Fresh arrays per episode: they are handed out in every
        # observation of the episode, so reusing them across episodes would alias stored obs.
        self._slot_skills = [int(s) for s in sampled]
        self._n_available = len(self._slot_skills)
        self._reprs = np.zeros((self.max_actions, self.repr_dim), dtype=np.float32)
        self._reprs[: self._n_available] = self._table[sampled]
        self._mask = np.zeros(self.max_actions, dtype=np.float32)
        self._mask[: self._n_available] = 1.0
        self._ids = np.full(self.max_actions, -1.0, dtype=np.float32)
        self._ids[: self._n_available] = self._slot_skills

        self._row = self._col = 0
        self._moves = 0
        self._skills_used = 0
        self._subgoal_passed = False
        self._done = False
        info = {"success": False, "moves": 0, "hit_lava": False, "subgoal_passed": False}
        return self._obs(), info

    def step(self, action: SupportsInt) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        slot = validated_slot(action, self._n_available, self._done)
        n = self._size
        last = n - 1
        cells = self._cells
        row, col, moves = self._row, self._col, self._moves
        reward = 0.0
        success = hit_lava = False
        for dr, dc in self._skill_deltas[self._slot_skills[slot]]:
            r, c = row + dr, col + dc
            if 0 <= r <= last and 0 <= c <= last:  # boundary: no-op move
                row, col = r, c
            moves += 1
            code = cells[row * n + col]
            if code == EMPTY:
                continue
            if code == SUBGOAL:
                if not self._subgoal_passed:
                    self._subgoal_passed = True
                    reward += self.config.lambda_subgoal
            elif code == LAVA:
                hit_lava = True
                break
            elif code == GOAL:
                success = True
                reward += 1.0 - self.config.lambda_goal * moves / self.config.n_max
                break
        self._row, self._col, self._moves = row, col, moves
        self._skills_used += 1
        terminated = success or hit_lava
        truncated = not terminated and self._skills_used >= self.config.max_skills
        self._done = terminated or truncated
        info = {
            "success": success,
            "moves": moves,
            "hit_lava": hit_lava,
            "subgoal_passed": self._subgoal_passed,
        }
        return self._obs(), reward, terminated, truncated, info

    def _obs(self) -> dict[str, np.ndarray]:
        state = self._base_state.copy()
        cell = self._row * self._size + self._col
        if self._one_hot:
            k = cell * N_CELL_CODES
            state[k : k + N_CELL_CODES] = 0.0
            state[k + AGENT] = 1.0
        elif self._factored:
            n = self._size
            state[self._row] = 1.0
            state[n + self._col] = 1.0
            state[4 * n + 2] = float(self._subgoal_passed)
            state[4 * n + 3] = self._skills_used / self.config.max_skills
        else:
            state[cell] = AGENT
        return {
            STATE_KEY: state,
            ACTION_REPRS_KEY: self._reprs,
            ACTION_MASK_KEY: self._mask,
            ACTION_IDS_KEY: self._ids,
        }

    def render(self) -> str | None:  # type: ignore[override]
        """``ansi``: the grid as text (``A`` agent, ``G`` goal, ``~`` lava, ``o`` subgoal)."""
        if self.render_mode != "ansi":
            return None
        n = self._size
        chars = [CELL_CHARS[c] for c in self._cells]
        chars[self._row * n + self._col] = CELL_CHARS[AGENT]
        return "\n".join("".join(chars[r * n : (r + 1) * n]) for r in range(n)) + "\n"
