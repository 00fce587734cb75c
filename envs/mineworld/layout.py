"""Mine World grid layouts (thesis T-AppC §C.1: "upon reset, the grid layout changes while
keeping the agent's start and goal positions fixed").

A layout is an ``int16 (size, size)`` array indexed ``[y, x]`` (x to the right, y down):
:data:`EMPTY` or a mine type ``0..K-1``. Each cell other than the start ``(0, 0)`` and the
goal ``(size-1, size-1)`` holds a mine with probability ``density``, of a uniform random
type. There are no walls: mines and the border are the only obstacles, as the state's
"surrounding path" and "front cell" features imply (T-AppC §C.1). Every layout is solvable,
since every mine can be broken (:mod:`envs.mineworld.actions`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["DIRECTIONS", "EMPTY", "goal_xy", "sample_layout", "START_XY"]

#: Code of a cell without a mine (the goal cell is always one).
EMPTY = -1
#: (dx, dy) of directions 0 right, 1 down, 2 left, 3 up (the state's convention).
DIRECTIONS: tuple[tuple[int, int], ...] = ((1, 0), (0, 1), (-1, 0), (0, -1))
#: The agent's fixed start cell (x, y).
START_XY = (0, 0)


def goal_xy(size: int) -> tuple[int, int]:
    """The fixed goal cell (x, y): the corner opposite the start."""
    return size - 1, size - 1


def sample_layout(rng: np.random.Generator, size: int, n_types: int, density: float) -> np.ndarray:
    """A random layout (module doc); one draw of ``rng.random`` and one of ``rng.integers``."""
    is_mine = rng.random((size, size)) < density
    types = rng.integers(0, n_types, size=(size, size))
    grid = np.where(is_mine, types, EMPTY).astype(np.int16)
    gx, gy = goal_xy(size)
    grid[START_XY[1], START_XY[0]] = EMPTY
    grid[gy, gx] = EMPTY
    return grid
