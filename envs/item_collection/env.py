"""``actlab/ItemCollection-v0``: the Item Collection grid world of OKB (App. F.2, §5 Q3; ENVIRONMENTS.md E.3).

World (App. F.2): an ``n x n`` grid (n = 10) with **toroidal** dynamics: moving off an edge enters
the opposite edge (as in Barreto et al. 2019). Actions (4): ``UP=0`` (row − 1), ``DOWN=1``
(row + 1), ``LEFT=2`` (column − 1), ``RIGHT=3`` (column + 1). Each episode places
``items_per_type`` (5) items of each of ``n_item_types`` (2) types uniformly at random on distinct
cells, none on the agent's start cell, which is itself uniform over the grid. Entering a cell with
an item collects it: the item disappears (with ``respawn=True`` an item of the same type reappears
at a uniformly random cell holding neither an item nor the agent). Items sit on distinct cells, so
at most one item is collected per step.

Reward features (App. F.2): ``φ(s, a, s') ∈ {0, 1}^d`` with ``φ_k = 1`` iff an item of type k was
collected on entering s'; returned as ``info["features"]`` (float32, shape ``(d,)``). γ = 0.95 in
the paper (:data:`DISCOUNT`; the discount is the learner's, this env does not use it).

Rewards (``task``):

- ``"linear"`` (default): ``r = w·φ`` for the configured ``w`` (OKB §2; any signs; default the
  uniform task [1/d, ..., 1/d]). :meth:`ItemCollectionEnv.set_w` changes the task in place.
- ``"sequential"``: the non-linear task of OKB §5 (Q3), "collect all instances of one item type
  before collecting any items of another type". The paper gives no reward formula (ENVIRONMENTS.md
  E.3), so: the *first type* is ``first_type`` or, when None, the type of the first item collected.
  An item of the first type, or of another type once every first-type item is collected, gives
  ``item_reward`` (+1); an item of another type collected earlier is a **violation** and gives
  ``violation_reward`` (−1) (and ends the episode if ``terminate_on_violation``). Collecting all
  items without a violation scores ``n_item_types · items_per_type`` (10). ``info["success"]`` is
  True once every item is collected with no violation.

Episodes terminate when no item is left (``terminate_when_empty``) and truncate after
``max_steps`` steps (50; the paper does not state the length, see the config).

Observation (``float32``, values in {0, 1}):

- ``"egocentric"`` (default; the paper's "10x10 image with 2 channels, flattened into a 200-d
  vector", "observations ... toroidal"): channel k is the presence map of type-k items, rolled so
  that the agent is at the centre cell ``(n // 2, n // 2)``: entry ``[k, i, j]`` shows the cell
  ``((r_agent + i − n//2) mod n, (c_agent + j − n//2) mod n)``. Flattened channel-major
  (``index = k·n² + i·n + j``). The agent's position is implicit (always the centre), which the
  paper's 2 channels leave no room for otherwise; the agent's own cell is always empty.
- ``"absolute"``: the unrolled item channels followed by a one-hot agent channel
  (``(d + 1)·n²`` values), for diagnostics.

``reset(options=...)`` accepts, for tests and analysis: ``"agent_pos": (row, col)`` and
``"item_positions": [[(row, col), ...] per type]`` (any counts; distinct cells, not the agent's).
"""

from __future__ import annotations

from typing import Any, SupportsInt

import gymnasium as gym
import numpy as np

from envs.item_collection.config import ItemCollectionConfig

__all__ = ["ACTION_NAMES", "DISCOUNT", "MOVES", "ItemCollectionEnv"]

#: γ used for this domain in OKB App. F.2.
DISCOUNT: float = 0.95
#: ``(drow, dcol)`` per action.
MOVES: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
ACTION_NAMES: tuple[str, ...] = ("UP", "DOWN", "LEFT", "RIGHT")
_EMPTY = -1


class ItemCollectionEnv(gym.Env[np.ndarray, np.int64]):
    """Item Collection (OKB App. F.2); see the module docstring. Keyword arguments are the fields of
    :class:`ItemCollectionConfig` (validated; unknown keys raise)."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, **kwargs: Any) -> None:
        cfg = ItemCollectionConfig.model_validate(kwargs)
        self.config = cfg
        self.render_mode = cfg.render_mode
        self.n = cfg.grid_size
        self.d = cfg.n_item_types
        self.w_D = np.asarray(cfg.weights, dtype=np.float64)
        self._sequential = cfg.task == "sequential"
        self._offsets_N = np.arange(self.n) - self.n // 2
        self._types_T11 = np.arange(self.d)[:, None, None]
        n_channels = self.d + (1 if cfg.observation == "absolute" else 0)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(n_channels * self.n * self.n,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(len(MOVES))

        # Episode state (set in reset).
        self._cell_type_NN = np.full((self.n, self.n), _EMPTY, dtype=np.int64)
        self._agent = (0, 0)
        self._t = 0
        self._remaining_D = np.zeros(self.d, dtype=np.int64)
        self._collected_D = np.zeros(self.d, dtype=np.int64)
        self._first_type: int | None = None
        self._violations = 0

    # ------------------------------------------------------------------ task

    @property
    def discount(self) -> float:
        return DISCOUNT

    def set_w(self, w: Any) -> None:
        """Switch the linear task's weights (length d, any signs)."""
        w_D = np.asarray(w, dtype=np.float64).reshape(-1)
        if w_D.shape != (self.d,):
            raise ValueError(f"w must have {self.d} entries, got {w_D.shape}")
        self.w_D = w_D

    # ------------------------------------------------------------------ gym API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        self._cell_type_NN.fill(_EMPTY)
        n_cells = self.n * self.n
        if "agent_pos" in options:
            agent = self._check_cell(options["agent_pos"])
        elif "item_positions" in options:
            agent = None  # drawn below among the cells left free by the given items
        else:
            agent = divmod(int(self.np_random.integers(n_cells)), self.n)

        if "item_positions" in options:
            per_type = options["item_positions"]
            if len(per_type) != self.d:
                raise ValueError(f"item_positions needs {self.d} lists, got {len(per_type)}")
            for k, cells in enumerate(per_type):
                for cell in cells:
                    r, c = self._check_cell(cell)
                    if self._cell_type_NN[r, c] != _EMPTY or (r, c) == agent:
                        raise ValueError(f"item cell {(r, c)} is taken")
                    self._cell_type_NN[r, c] = k
            if agent is None:
                free = np.flatnonzero(self._cell_type_NN.ravel() == _EMPTY)
                agent = divmod(int(self.np_random.choice(free)), self.n)
        else:
            assert agent is not None
            free = np.delete(np.arange(n_cells), agent[0] * self.n + agent[1])
            n_items = self.d * self.config.items_per_type
            cells = self.np_random.choice(free, size=n_items, replace=False)
            self._cell_type_NN.ravel()[cells] = np.repeat(np.arange(self.d), self.config.items_per_type)

        self._agent = agent
        self._t = 0
        self._remaining_D = np.bincount(self._cell_type_NN[self._cell_type_NN != _EMPTY], minlength=self.d)
        self._collected_D = np.zeros(self.d, dtype=np.int64)
        self._first_type = self.config.first_type
        self._violations = 0
        info: dict[str, Any] = {"collected": self._collected_D.copy()}
        return self._observation(), info

    def step(self, action: SupportsInt) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = int(action)
        if not 0 <= a < len(MOVES):
            raise ValueError(f"invalid action {action!r}; expected 0..{len(MOVES) - 1}")
        dr, dc = MOVES[a]
        r, c = (self._agent[0] + dr) % self.n, (self._agent[1] + dc) % self.n
        self._agent = (r, c)
        self._t += 1

        phi_D = np.zeros(self.d, dtype=np.float32)
        kind = int(self._cell_type_NN[r, c])
        violation = False
        if kind != _EMPTY:
            phi_D[kind] = 1.0
            self._cell_type_NN[r, c] = _EMPTY
            self._remaining_D[kind] -= 1
            self._collected_D[kind] += 1
            if self.config.respawn:
                self._respawn(kind)

        if self._sequential:
            reward = 0.0
            if kind != _EMPTY:
                if self._first_type is None:
                    self._first_type = kind
                if kind == self._first_type or self._remaining_D[self._first_type] == 0:
                    reward = self.config.item_reward
                else:
                    violation = True
                    self._violations += 1
                    reward = self.config.violation_reward
        else:
            reward = float(self.w_D @ phi_D)

        empty = bool(self._remaining_D.sum() == 0)
        terminated = (self.config.terminate_when_empty and empty) or (
            violation and self.config.terminate_on_violation
        )
        truncated = not terminated and self._t >= self.config.max_steps
        info: dict[str, Any] = {"features": phi_D, "collected": self._collected_D.copy()}
        if self._sequential:
            info["violation"] = violation
            info["success"] = empty and self._violations == 0
        return self._observation(), reward, terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        chars = np.full((self.n, self.n), ".", dtype="<U1")
        for k in range(self.d):
            chars[self._cell_type_NN == k] = str(k + 1) if self.d < 10 else chr(ord("a") + k)
        chars[self._agent] = "A"
        return "\n".join("".join(row) for row in chars) + "\n"

    # ------------------------------------------------------------------ helpers

    @property
    def agent_pos(self) -> tuple[int, int]:
        return self._agent

    def item_map(self) -> np.ndarray:
        """``(n, n)`` int array: the item type in each cell, −1 where empty (a copy)."""
        return self._cell_type_NN.copy()

    def _check_cell(self, cell: Any) -> tuple[int, int]:
        r, c = (int(x) for x in cell)
        if not (0 <= r < self.n and 0 <= c < self.n):
            raise ValueError(f"cell {cell} is off the {self.n}x{self.n} grid")
        return r, c

    def _respawn(self, kind: int) -> None:
        flat = self._cell_type_NN.ravel()
        free = flat == _EMPTY
        free[self._agent[0] * self.n + self._agent[1]] = False
        cell = int(self.np_random.choice(np.flatnonzero(free)))
        flat[cell] = kind
        self._remaining_D[kind] += 1

    def _observation(self) -> np.ndarray:
        if self.config.observation == "absolute":
            agent_NN = np.zeros((self.n, self.n), dtype=np.float32)
            agent_NN[self._agent] = 1.0
            items_DNN = (self._cell_type_NN[None] == self._types_T11).astype(np.float32)
            return np.concatenate([items_DNN.ravel(), agent_NN.ravel()])
        rows_N = (self._agent[0] + self._offsets_N) % self.n
        cols_N = (self._agent[1] + self._offsets_N) % self.n
        view_NN = self._cell_type_NN[rows_N[:, None], cols_N[None, :]]
        return (view_NN[None] == self._types_T11).astype(np.float32).ravel()
