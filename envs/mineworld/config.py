"""Typed configuration of ``actlab/MineWorld-v0`` (thesis T §4.5, T-AppC §C.1, Eq. C.1, Table C.1).

Reward constants and the horizon are the thesis' (Eq. C.1, Table C.1). Everything the
sources leave open (grid size, number of mine types K, mine density, the transformation
graph, extra action dimensions) is a field; the defaults and why they were chosen are in
:mod:`envs.mineworld.env`.
"""

from __future__ import annotations

from pydantic import Field

from actlab.spec.models import StrictModel

__all__ = ["MineWorldConfig"]


class MineWorldConfig(StrictModel):
    """Environment config. ``gym.make(ENV_ID, **cfg.model_dump())`` builds the env."""

    grid_size: int = Field(
        10, ge=3, le=64,
        description="Side of the square grid (no border walls counted). Start (0, 0) top-left, goal at the "
        "opposite corner (unspecified in the source).",
    )
    n_mine_types: int = Field(
        50, ge=1, le=1000,
        description="K, the number of mine types; one pick-axe tool per type, so K tool actions + 4 navigation "
        "actions (T-AppC §C.1: 50 pick-axe types).",
    )
    mine_density: float = Field(
        0.5, ge=0.0, lt=1.0,
        description="Probability that a cell other than start and goal holds a mine (unspecified in the source).",
    )
    max_chain_length: int = Field(
        3, ge=1,
        description="Longest transformation chain: a mine needs 1..max_chain_length correct tools before it "
        "breaks (the transformation graph is unspecified in the source).",
    )
    graph_seed: int = Field(0, description="Seed of the fixed transformation graph (not per episode).")
    max_steps: int = Field(
        100, ge=1, description="Horizon, and N_max_steps of Eq. C.1 (Table C.1: 100)."
    )
    r_goal: float = Field(10.0, description="R_Goal of Eq. C.1.")
    lambda_goal: float = Field(0.9, description="λ_Goal of Eq. C.1: goal reward R_Goal (1 - λ_Goal N/N_max).")
    r_step: float = Field(0.1, description="R_Step of Eq. C.1: per unit decrease of the Manhattan distance to the goal.")
    r_tool: float = Field(0.1, description="R_Tool of Eq. C.1: a correct tool applied to the mine in front.")
    r_bonus: float = Field(0.1, description="R_Bonus of Eq. C.1: the mine in front broken.")
    extra_action_dim: int = Field(
        0, ge=0,
        description="Extra dimensions appended to the 4-d action representations, seeded uniform in [-1, 1] "
        "(Table C.1 lists 'Extra action dim 5' for Mine World without saying what they hold; 0 = the 4-d "
        "representations of T-AppC §C.1).",
    )
    representation_seed: int = Field(0, description="Seed of the extra action dimensions (fixed per config).")
