"""Typed configuration of ``actlab/ItemCollection-v0`` (OKB App. F.2, §5 Q3; ENVIRONMENTS.md E.3)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actlab.spec.models import StrictModel


class ItemCollectionConfig(StrictModel):
    """Environment config; ``gym.make(ENV_ID, **cfg.model_dump())`` builds the env.

    Paper values (OKB App. F.2): 10x10 toroidal grid, 2 item types, 5 items of each, 200-d
    observation, γ = 0.95. Everything else is a documented choice (see the env's docstring).
    """

    grid_size: int = Field(10, ge=3, description="Side of the square toroidal grid (App. F.2: 10).")
    n_item_types: int = Field(2, ge=1, description="Number of item types = feature dimension d (App. F.2: 2).")
    items_per_type: int = Field(5, ge=1, description="Items of each type placed per episode (App. F.2: 5).")
    max_steps: int = Field(
        50,
        ge=1,
        description=(
            "Steps before truncation. The OKB paper does not state it; 50 follows the item-collection "
            "grid worlds OKB builds on (Barreto et al. 2020; Alver & Precup 2022), as we recall them. "
            "Not named max_episode_steps because gym.make consumes that keyword for its own TimeLimit."
        ),
    )
    w: list[float] | None = Field(
        None,
        description=(
            "Task weights of the linear reward r = w·φ (one per item type, any sign; OKB §2). "
            "None: the uniform task [1/d, ..., 1/d] (OKB's initial task)."
        ),
    )
    task: Literal["linear", "sequential"] = Field(
        "linear",
        description=(
            "'linear': r = w·φ. 'sequential': the non-linear task of OKB §5 (Q3): collect all items of "
            "the first type before any item of another type (reward in the env's docstring)."
        ),
    )
    first_type: int | None = Field(
        None,
        ge=0,
        description="Sequential task: the type to collect first; None = whichever type the agent collects first.",
    )
    item_reward: float = Field(1.0, description="Sequential task: reward for an item collected in order.")
    violation_reward: float = Field(
        -1.0, description="Sequential task: reward for an item of another type collected before the first type is done."
    )
    terminate_on_violation: bool = Field(False, description="Sequential task: end the episode at the first violation.")
    respawn: bool = Field(
        False,
        description=(
            "Linear task only: a collected item reappears at a uniformly random free cell (as in the option "
            "keyboard's foraging world). False (default): collected items are gone for the episode."
        ),
    )
    terminate_when_empty: bool = Field(True, description="End the episode (terminated) once every item is collected.")
    observation: Literal["egocentric", "absolute"] = Field(
        "egocentric",
        description=(
            "'egocentric' (default): the paper's 200-d view, item channels rolled so that the agent sits at "
            "the centre cell (the toroidal observation). 'absolute': the unrolled item channels plus a "
            "one-hot agent channel ((d+1)·n² values)."
        ),
    )
    render_mode: Literal["ansi"] | None = Field(None, description="'ansi' renders the grid as text.")

    @model_validator(mode="after")
    def _consistent(self) -> ItemCollectionConfig:
        if self.w is not None and len(self.w) != self.n_item_types:
            raise ValueError(f"w has {len(self.w)} entries for {self.n_item_types} item types")
        if self.n_item_types * self.items_per_type >= self.grid_size**2:
            raise ValueError("items must fit on the grid with a free cell for the agent")
        if self.task == "sequential":
            if self.respawn:
                raise ValueError("the sequential task needs respawn=False ('all items of one type' must be finite)")
            if self.n_item_types < 2:
                raise ValueError("the sequential task needs at least two item types")
        if self.first_type is not None and self.first_type >= self.n_item_types:
            raise ValueError(f"first_type={self.first_type} but there are {self.n_item_types} item types")
        return self

    @property
    def weights(self) -> list[float]:
        """The task weights, the uniform task when ``w`` is None."""
        return list(self.w) if self.w is not None else [1.0 / self.n_item_types] * self.n_item_types
