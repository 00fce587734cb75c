"""Typed configuration of ``actlab/GridWorldSkills-v0`` (thesis App. A.1, Table A.3)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from envs.gridworld_skills.representations import available_representations
from envs.gridworld_skills.skills import SPLIT_SIZES


class GridWorldSkillsConfig(BaseModel):
    """Environment config. ``gym.make(ENV_ID, **cfg.model_dump())`` builds the env.

    Defaults follow the thesis (App. A.1, Table A.3) except ``grid_encoding`` (see its
    description) and ``representation`` (the HVAE of §2.4.1 is added by a later issue).
    """

    model_config = ConfigDict(extra="forbid")

    split: Literal["train", "validation", "test"] = Field(
        default="train",
        description="Skill pool the per-episode available set is sampled from (2:1:1 split, App. A.1).",
    )
    split_seed: int = Field(
        default=0, description="Seed of the fixed train/validation/test split of the 1,024 skills."
    )
    m: int | None = Field(
        default=50,
        ge=1,
        description=(
            "Number of available skills sampled per episode without replacement (Table A.3: 50). "
            "null: the whole pool, padded to the largest split (512) and masked."
        ),
    )
    max_skills: int = Field(
        default=10, ge=1, description="Skills per episode before truncation (App. A.1: 10 actions = 50 moves)."
    )
    grid_size: int = Field(default=9, ge=5, description="Side of the square grid (App. A.1: 9).")
    wall_index_min: int = Field(
        default=2, ge=1, description="Smallest row/column index of the lava wall (inclusive)."
    )
    wall_index_max: int = Field(
        default=6, ge=1, description="Largest row/column index of the lava wall (inclusive)."
    )
    lambda_subgoal: float = Field(
        default=0.1, description="λ_Subgoal of Eq. A.1: reward for passing the opening the first time."
    )
    lambda_goal: float = Field(
        default=0.9, description="λ_Goal of Eq. A.1: goal reward is 1 - λ_Goal * N_total / N_max."
    )
    n_max: int = Field(default=50, ge=1, description="N_max of Eq. A.1 (moves normalising the goal reward).")
    grid_encoding: Literal["ids", "one_hot", "factored"] = Field(
        default="one_hot",
        description=(
            "State encoding. 'ids': the thesis' 81-d vector of integer cell codes (App. A.1). "
            "'one_hot' (default): the same codes one-hot per cell (81*6), because integer ids "
            "make an MLP read an ordinal scale (lava 'between' goal and subgoal) that has no meaning. "
            "'factored': the same information factored (4n+4 = 40-d): one-hots of the agent's row and "
            "column, the wall's orientation, index and opening, plus subgoal-passed and the fraction of "
            "the skill budget used; an MLP learns from it in far fewer env steps."
        ),
    )
    representation: str = Field(
        default="hand",
        description=(
            "Skill representation table: 'hand' (10-d per-move (dx, dy)), 'moves5' (thesis' 5-d move "
            "codes), or any name added with representations.register_representation. Only a label "
            "when representation_table_path is set."
        ),
    )
    representation_table_path: str | None = Field(
        default=None,
        description="Path of a .npy (1024, d) representation table; when set it is used instead of 'representation'.",
    )
    render_mode: Literal["ansi"] | None = Field(default=None, description="'ansi' renders the grid as text.")

    @field_validator("representation")
    @classmethod
    def _known_representation(cls, value: str) -> str:
        known = available_representations()
        if value not in known:
            raise ValueError(f"unknown representation '{value}'; known: {known}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> GridWorldSkillsConfig:
        if self.m is not None and self.m > SPLIT_SIZES[self.split]:
            raise ValueError(
                f"m={self.m} exceeds the {SPLIT_SIZES[self.split]} skills of the '{self.split}' split "
                f"(sizes {SPLIT_SIZES}); use a smaller m or m=None for the whole pool"
            )
        if not self.wall_index_min <= self.wall_index_max <= self.grid_size - 2:
            raise ValueError(
                "need 1 <= wall_index_min <= wall_index_max <= grid_size - 2 so that the lava wall never "
                f"covers the start or goal; got {self.wall_index_min}..{self.wall_index_max}, grid_size={self.grid_size}"
            )
        return self

    @property
    def max_actions(self) -> int:
        """Padded size of the available set: ``m``, or the largest split when ``m`` is None."""
        return self.m if self.m is not None else max(SPLIT_SIZES.values())
