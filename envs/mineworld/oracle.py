"""A shortest-plan oracle for Mine World (for solvability checks and as an optimal-return reference).

Dijkstra over agent states ``(x, y, direction)`` on the current layout, with unit cost per
env step and three kinds of edge (T-AppC §C.1 dynamics, :mod:`envs.mineworld.env`):

- navigation into an empty cell: move there, cost 1;
- navigation into a mine or the border: turn in place, cost 1;
- facing a mine of type ``m``: apply its whole tool chain (``m``, ``successor[m]``, ...,
  ``tools_to_break[m]`` tools) and step in, cost ``tools_to_break[m] + 1``.

It treats the layout as fixed apart from the mine being cleared, which is exact for paths
that visit each cell once (a shortest path does); :func:`oracle_action` replans from the
true state every step, so executing it is correct anyway.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

import numpy as np

from envs.mineworld.actions import BREAK, N_NAVIGATION
from envs.mineworld.layout import DIRECTIONS, EMPTY

if TYPE_CHECKING:
    from envs.mineworld.env import MineWorldEnv

__all__ = ["oracle_action", "shortest_plan", "tool_chain"]


def tool_chain(mine_type: int, successor: np.ndarray) -> list[int]:
    """Action indices of the tools that break a ``mine_type`` mine, in order."""
    chain, m = [], mine_type
    while True:
        chain.append(N_NAVIGATION + m)
        m = int(successor[m])
        if m == BREAK:
            return chain


def shortest_plan(
    grid: np.ndarray, start: tuple[int, int, int], goal: tuple[int, int], successor: np.ndarray
) -> list[int]:
    """Action indices of a shortest plan from ``start = (x, y, dir)`` to the ``goal`` cell."""
    size = grid.shape[0]
    chains: dict[int, list[int]] = {}
    best: dict[tuple[int, int, int], int] = {start: 0}
    parent: dict[tuple[int, int, int], tuple[tuple[int, int, int], list[int]]] = {}
    frontier: list[tuple[int, tuple[int, int, int]]] = [(0, start)]
    while frontier:
        cost, state = heapq.heappop(frontier)
        if cost > best[state]:
            continue
        x, y, facing = state
        if (x, y) == goal:
            plan: list[int] = []
            while state in parent:
                state, actions = parent[state]
                plan[:0] = actions
            return plan
        for d, (dx, dy) in enumerate(DIRECTIONS):
            tx, ty = x + dx, y + dy
            inside = 0 <= tx < size and 0 <= ty < size
            cell = int(grid[ty, tx]) if inside else None
            edges: list[tuple[tuple[int, int, int], list[int]]] = []
            if cell == EMPTY:
                edges.append(((tx, ty, d), [d]))
            else:
                edges.append(((x, y, d), [d]))
                if cell is not None and facing == d:
                    if cell not in chains:
                        chains[cell] = tool_chain(cell, successor)
                    edges.append(((tx, ty, d), [*chains[cell], d]))
            for nxt, actions in edges:
                new_cost = cost + len(actions)
                if new_cost < best.get(nxt, 1 << 30):
                    best[nxt] = new_cost
                    parent[nxt] = (state, actions)
                    heapq.heappush(frontier, (new_cost, nxt))
    raise ValueError("goal unreachable")  # cannot happen: every mine breaks


def oracle_action(env: MineWorldEnv) -> int:
    """The first action of a shortest plan from ``env``'s current state."""
    plan = shortest_plan(env.grid, env.agent, env.goal, env.successor)
    return plan[0]
