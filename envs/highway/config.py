"""Typed configuration of ``actlab/Highway-v0`` (OKB App. F.2, Fig. 5; ENVIRONMENTS.md E.4)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actlab.spec.models import StrictModel
from envs.common.linear_task import check_weights

#: Reward features of Highway: forward speed, rightmost lane, lane change.
N_FEATURES = 3
#: γ used for this domain in OKB App. F.2.
DISCOUNT: float = 0.99
#: highway-env's DiscreteMetaAction numbering (the paper's TURN_LEFT, IDLE, TURN_RIGHT, FASTER, SLOWER).
ACTION_NAMES: tuple[str, ...] = ("LANE_LEFT", "IDLE", "LANE_RIGHT", "FASTER", "SLOWER")
#: Per-vehicle columns of highway-env's Kinematics observation that may be requested.
KINEMATICS_FEATURES = (
    "presence", "x", "y", "vx", "vy", "heading", "cos_h", "sin_h",
    "cos_d", "sin_d", "long_off", "lat_off", "ang_off",
)


class HighwayConfig(StrictModel):
    """Environment config; ``gym.make(ENV_ID, **cfg.model_dump())`` builds the env.

    Paper values (OKB App. F.2): d = 3 features, 5 discrete actions, V×F kinematics observation,
    γ = 0.99; V, F, lanes, traffic and duration are unspecified. Defaults are highway-env 1.12.1's
    ``highway-fast-v0`` (3 lanes, 20 other vehicles, 5 Hz simulation, 1 Hz policy, 30 s episodes,
    Kinematics V = 5 × F = 5), chosen for speed: ``highway-v0`` (4 lanes, 50 vehicles, 15 Hz,
    40 s) runs about 7x slower (4 vs 29 steps/s in spec/ENV_NOTES.md). Measured here (2 busy
    cores): about 45 steps/s on a lightly loaded machine, 16 under heavy load; ``vehicles_count=10``
    is about 1.7-2x faster. Most of the time goes to highway-env's IDM/MOBIL traffic and its
    pandas-based observation.
    """

    w: list[float] | None = Field(
        None,
        description="Task weights of r = w·φ over (speed, right lane, lane change); None: uniform [1/3]*3.",
    )
    lanes_count: int = Field(3, ge=2, description="Lanes (highway-fast-v0: 3).")
    vehicles_count: int = Field(20, ge=0, description="Other vehicles (highway-fast-v0: 20).")
    vehicles_density: float = Field(1.0, gt=0, description="Traffic density (highway-env: 1).")
    duration: int = Field(30, ge=1, description="Episode length in seconds = policy steps at 1 Hz (highway-fast-v0: 30).")
    simulation_frequency: int = Field(5, ge=1, description="Simulation steps per second (highway-fast-v0: 5).")
    policy_frequency: int = Field(1, ge=1, description="Decisions per second (highway-env: 1).")
    observed_vehicles: int = Field(5, ge=1, description="V: vehicles in the Kinematics observation, ego first (5).")
    observation_features: list[str] = Field(
        ["presence", "x", "y", "vx", "vy"],
        min_length=1,
        description="F: per-vehicle Kinematics columns (highway-env's default five).",
    )
    reward_speed_range: tuple[float, float] = Field(
        (20.0, 30.0),
        description="Forward speeds [m/s] mapped linearly to φ1 ∈ [0, 1] (clipped); highway-env's [20, 30].",
    )
    right_lane_value: float = Field(0.5, description="φ2 in the rightmost lane (App. F.2: 0.5).")
    crash_penalty: float = Field(-10.0, description="Crash value of App. F.2 (−10).")
    crash_mode: Literal["set", "add"] = Field(
        "set",
        description=(
            "How the crash penalty enters φ (App. F.2 is ambiguous): 'set' (default) sets every feature to "
            "crash_penalty, so r_w = −10 for every w on the simplex; 'add' adds it to every feature."
        ),
    )
    render_mode: Literal["rgb_array"] | None = Field(None, description="'rgb_array': highway-env's pygame frames.")

    @model_validator(mode="after")
    def _consistent(self) -> HighwayConfig:
        check_weights(self.w, N_FEATURES)
        unknown = sorted(set(self.observation_features) - set(KINEMATICS_FEATURES))
        if unknown:
            raise ValueError(f"unknown observation features {unknown}; known: {list(KINEMATICS_FEATURES)}")
        if self.reward_speed_range[0] >= self.reward_speed_range[1]:
            raise ValueError("reward_speed_range must be increasing")
        if self.simulation_frequency % self.policy_frequency:
            raise ValueError("simulation_frequency must be a multiple of policy_frequency")
        return self

    @property
    def weights(self) -> list[float]:
        """The task weights, the uniform task when ``w`` is None."""
        return check_weights(self.w, N_FEATURES)

    def highway_env_config(self) -> dict:
        """The ``config`` dict handed to highway-env's ``HighwayEnvFast``."""
        return {
            "observation": {
                "type": "Kinematics",
                "vehicles_count": self.observed_vehicles,
                "features": list(self.observation_features),
            },
            "action": {"type": "DiscreteMetaAction"},
            "lanes_count": self.lanes_count,
            "vehicles_count": self.vehicles_count,
            "vehicles_density": self.vehicles_density,
            "duration": self.duration,
            "simulation_frequency": self.simulation_frequency,
            "policy_frequency": self.policy_frequency,
            "reward_speed_range": list(self.reward_speed_range),
        }
