"""Typed configuration of ``actlab/FetchPickAndPlaceTargets-v0`` (OKB §5 Q2, App. F.2; ENVIRONMENTS.md E.2)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actlab.spec.models import StrictModel
from envs.common.linear_task import check_weights

#: γ used for this domain in OKB App. F.2.
DISCOUNT: float = 0.95
#: Unit displacement of each move action (App. F.2's actions 1..6 are our 0..5).
MOVE_DIRECTIONS: tuple[tuple[float, float, float], ...] = (
    (1.0, 0.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0), (0.0, 0.0, -1.0),
)
ACTION_NAMES: tuple[str, ...] = ("+X", "-X", "+Y", "-Y", "+Z", "-Z", "OPEN", "CLOSE")


class FetchTargetsConfig(StrictModel):
    """Environment config; ``gym.make(ENV_ID, **cfg.model_dump())`` builds the env.

    Paper values (OKB App. F.2): d ∈ {2, 4, 6, 8} targets, 25-d observation, 8 discrete actions
    (6 Manhattan moves, open, close), φ_i = −‖block − target_i‖, γ = 0.95. Target coordinates,
    move scaling and gripper commands are unspecified: see the fields below.
    """

    d: int = Field(2, ge=1, description="Number of targets = reward features (paper: 2, 4, 6 or 8).")
    w: list[float] | None = Field(
        None, description="Task weights of r = w·φ (length d, any signs). None: the uniform task [1/d]*d."
    )
    targets: list[tuple[float, float, float]] | None = Field(
        None,
        description=(
            "Explicit target positions (world frame, metres; d of them). None: d seeded draws, see "
            "target_seed."
        ),
    )
    target_seed: int = Field(
        0,
        ge=0,
        description=(
            "Seed of the generated targets. They are draws from FetchPickAndPlace's own goal distribution "
            "(xy within ±0.15 m of the gripper's start, on the table or, with probability 1/2, up to 0.45 m "
            "above it), redrawn while closer than min_target_separation to an earlier target. The "
            "sequence is fixed by the seed, so the targets for d are the first d of those for any "
            "larger d (nested target sets)."
        ),
    )
    min_target_separation: float = Field(
        0.1, ge=0.0, le=0.2, description="Minimum distance [m] between generated targets."
    )
    move_scale: float = Field(
        1.0,
        gt=0.0,
        le=1.0,
        description=(
            "Length of a move as a fraction of the continuous action's range; upstream scales [-1, 1] to a "
            "0.05 m displacement of the gripper's mocap target per step, so a move is 0.05·move_scale m."
        ),
    )
    initial_gripper: Literal["open", "closed"] = Field(
        "open", description="Gripper command in force before the first open/close action of an episode."
    )
    max_steps: int = Field(
        50,
        ge=1,
        description=(
            "Steps before truncation (gymnasium-robotics' 50; the paper gives none). Not named "
            "max_episode_steps because gym.make consumes that keyword for its own TimeLimit."
        ),
    )
    render_mode: Literal["rgb_array"] | None = Field(None, description="'rgb_array': MuJoCo frames (needs MUJOCO_GL).")

    @model_validator(mode="after")
    def _consistent(self) -> FetchTargetsConfig:
        check_weights(self.w, self.d)
        if self.targets is not None and len(self.targets) != self.d:
            raise ValueError(f"targets has {len(self.targets)} positions for d = {self.d}")
        return self

    @property
    def weights(self) -> list[float]:
        """The task weights, the uniform task when ``w`` is None."""
        return check_weights(self.w, self.d)
