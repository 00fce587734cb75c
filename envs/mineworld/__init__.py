"""Mining Expedition (thesis Ch.4 T §4.5, T-AppC §C.1): ``actlab/MineWorld-v0``.

Public API:

- :class:`MineWorldEnv`, :class:`MineWorldConfig`, :data:`ENV_ID`, :data:`ENV_ENTRY`;
- actions: :func:`transformation_graph`, :func:`tools_to_break`, :func:`action_embeddings`;
- layouts: :func:`sample_layout`, :data:`EMPTY`, :data:`DIRECTIONS`;
- oracle: :func:`shortest_plan`, :func:`oracle_action` (solvability and optimal-return checks);
- :func:`register`: registers the env with gymnasium and :mod:`actlab.registry` (idempotent).
"""

from __future__ import annotations

import gymnasium as gym

from actlab.registry import EnvEntry, register_env
from envs.mineworld.actions import BREAK, N_NAVIGATION, action_embeddings, tools_to_break, transformation_graph
from envs.mineworld.config import MineWorldConfig
from envs.mineworld.env import MineWorldEnv
from envs.mineworld.layout import DIRECTIONS, EMPTY, START_XY, goal_xy, sample_layout
from envs.mineworld.oracle import oracle_action, shortest_plan, tool_chain

ENV_ID = "actlab/MineWorld-v0"

#: The registry entry (a module-level singleton, so registering it twice is a no-op).
ENV_ENTRY = EnvEntry(
    name=ENV_ID,
    description=(
        "Mining Expedition (thesis Ch.4, T-AppC §C.1): reach the goal of a 10x10 grid, clearing mines with "
        "the right pick-axes (4 moves + 50 tools); proto-actions in the 4-d action representation space "
        "executed as their nearest real action (1-NN, T §4.3.2); reward Eq. C.1; horizon 100."
    ),
    config_model=MineWorldConfig,
    eval_sets={"eval": {}},
    select_on=None,
    success_key="success",
)


def register() -> None:
    """Register with gymnasium (the env truncates by itself: no TimeLimit) and actlab."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="envs.mineworld.env:MineWorldEnv", max_episode_steps=None)
    register_env(ENV_ENTRY)


__all__ = [
    "BREAK",
    "DIRECTIONS",
    "EMPTY",
    "ENV_ENTRY",
    "ENV_ID",
    "N_NAVIGATION",
    "START_XY",
    "MineWorldConfig",
    "MineWorldEnv",
    "action_embeddings",
    "goal_xy",
    "oracle_action",
    "register",
    "sample_layout",
    "shortest_plan",
    "tool_chain",
    "tools_to_break",
    "transformation_graph",
]
