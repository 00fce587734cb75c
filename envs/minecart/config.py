"""Typed configuration of ``actlab/Minecart-v0`` (OKB App. F.2; ENVIRONMENTS.md E.1)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actlab.spec.models import StrictModel
from envs.common.linear_task import check_weights

#: Reward features of Minecart: ore 1, ore 2, fuel.
N_FEATURES = 3
#: γ used for this domain in OKB App. F.2.
DISCOUNT: float = 0.98
#: MO-Gymnasium's action numbering.
ACTION_NAMES: tuple[str, ...] = ("MINE", "LEFT", "RIGHT", "ACCELERATE", "BRAKE", "NONE")


class MinecartConfig(StrictModel):
    """Environment config; ``gym.make(ENV_ID, **cfg.model_dump())`` builds the env.

    Paper values (OKB App. F.2): MO-Gymnasium's ``minecart-v0``, d = 3, γ = 0.98. The defaults
    reproduce ``minecart-v0`` exactly (frame skip 4, 1000-step limit, the stochastic mine config).
    """

    w: list[float] | None = Field(
        None,
        description="Task weights of r = w·φ over (ore 1, ore 2, fuel); any signs. None: uniform [1/3, 1/3, 1/3].",
    )
    fuel_feature: Literal["mo_gymnasium", "per_frame"] = Field(
        "mo_gymnasium",
        description=(
            "'mo_gymnasium' (default): φ3 is MO-Gymnasium's fuel reward, which charges the per-frame costs "
            "of App. F.2 once per skipped frame: φ3 = frame_skip·(−0.005 − 0.025·1{ACCELERATE} − 0.05·1{MINE}). "
            "'per_frame': φ3 divided by frame_skip, i.e. App. F.2's formula literally. The paper says it "
            "used the MO-Gymnasium implementation, so its φ3 was most likely the former."
        ),
    )
    frame_skip: int = Field(4, ge=1, description="Frames per step (MO-Gymnasium's default 4).")
    deterministic: bool = Field(
        False,
        description="True: MO-Gymnasium's deterministic mine config (minecart-deterministic-v0), no ore noise.",
    )
    max_steps: int = Field(
        1000,
        ge=1,
        description=(
            "Steps before truncation (MO-Gymnasium registers minecart-v0 with 1000; the paper gives none). "
            "Not named max_episode_steps because gym.make consumes that keyword for its own TimeLimit."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> MinecartConfig:
        check_weights(self.w, N_FEATURES)
        return self

    @property
    def weights(self) -> list[float]:
        """The task weights, the uniform task when ``w`` is None."""
        return check_weights(self.w, N_FEATURES)
