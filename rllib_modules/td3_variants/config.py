"""Spec settings of the Ch.4 baselines (thesis §4.6.1: ``wolpertinger``, ``ensemble``, ``cem``,
``greedy-ac``, ``greedy-td3``) and of the ``savo-joint`` ablation (T-AppC §D.2)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rllib_modules.td3.config import TD3Settings
from rllib_modules.td3.noise import NoiseType

__all__ = ["CEMSettings", "EnsembleSettings", "GreedyACSettings", "GreedyTD3Settings", "JointActionSettings",
           "WolpertingerSettings"]


class WolpertingerSettings(TD3Settings):
    num_candidates: int = Field(3, ge=1, description="k Gaussian samples around μ(s) (T §4.6.1: k = 3).")
    sample_sigma: float = Field(0.3, gt=0, description="Std of the samples, normalised units (unspecified in the sources).")


class EnsembleSettings(TD3Settings):
    num_candidates: int = Field(3, ge=1, description="k independently initialised actors (T §4.6.1: k = 3).")


class CEMSettings(TD3Settings):
    """TD3 + a CEM search over Q_1(s, ·) from μ(s) (:mod:`rllib_modules.td3_variants.cem`)."""

    cem_population: int = Field(64, ge=2, description="Samples per CEM iteration (QT-Opt: 64; unspecified in the thesis).")
    cem_elites: int = Field(6, ge=1, description="Elites refitted per iteration (QT-Opt: 6).")
    cem_iterations: int = Field(2, ge=1, description="CEM iterations (QT-Opt: 2).")
    cem_init_std: float = Field(0.5, gt=0, description="Initial std around μ(s), normalised units (unspecified).")
    actor_target: Literal["dpg", "cem"] = Field(
        "dpg", description="'dpg': TD3's actor update (Eq. 4.3); 'cem': regress μ(s) onto the CEM solution."
    )

    @model_validator(mode="after")
    def _elites_fit(self) -> "CEMSettings":
        if self.cem_elites > self.cem_population:
            raise ValueError(f"cem_elites ({self.cem_elites}) must not exceed cem_population ({self.cem_population})")
        return self


class _GreedySettings(TD3Settings):
    """The proposal / top-ρ part shared by ``greedy-ac`` and ``greedy-td3`` (:mod:`rllib_modules.td3_variants.greedy`)."""

    num_samples: int = Field(30, ge=1, description="N proposals per state (Neumann et al.: 30).")
    rho: float = Field(0.1, gt=0, le=1, description="Top fraction of the proposals the actor learns from (0.1: 3 of 30).")
    proposal_rho: float = Field(0.1, gt=0, le=1, description="Top fraction the proposal learns from (reference code: = rho).")
    proposal_entropy: float = Field(0.01, ge=0, description="Entropy weight α of the proposal policy (swept 1e-3..10 by Neumann et al.).")


class GreedyACSettings(_GreedySettings):
    """Greedy Actor-Critic (Neumann et al.): Gaussian actor exploring by sampling, single-critic target, no delay."""

    clipped_double_q: bool = Field(False, description="False: TD target from Q'_1 at a' ~ π(s') (Greedy-AC); True: TD3's min.")
    policy_delay: int = Field(1, ge=1, description="Greedy-AC updates its actor on every step.")
    exploration_sigma: float = Field(0.0, ge=0, description="Extra noise on the sampled action (0: the Gaussian actor explores).")
    target_policy_smoothing: bool = Field(False, description="Not applicable: the target action is a sample of π(s').")

    @model_validator(mode="after")
    def _no_smoothing(self) -> "GreedyACSettings":
        if self.target_policy_smoothing:
            raise ValueError("greedy-ac bootstraps from a sample of its Gaussian actor; target_policy_smoothing "
                             "does not apply (use greedy-td3 for TD3's target actor with smoothing)")
        return self


class GreedyTD3Settings(_GreedySettings):
    """Greedy-AC with TD3's exploration and updates (deterministic μ + noise, clipped double-Q, delay, smoothing)."""

    clipped_double_q: bool = Field(True, description="TD3's clipped double-Q target (False: Q'_1 alone).")


class JointActionSettings(TD3Settings):
    """'SAVO + Joint Action' (:mod:`rllib_modules.td3_variants.joint`): μ plus one actor over k x D."""

    num_candidates: int = Field(3, ge=1, description="k constituents of the joint action (T §4.6.1: 3).")
    joint_objective: Literal["max", "sum"] = Field(
        "max", description="The joint actor ascends max_i Q_1(s, a_i) ('max') or Σ_i Q_1(s, a_i) ('sum'); unspecified."
    )
    target_policy_smoothing: bool = Field(False, description="SAVO removes TD3's smoothing (§4.4.5 item 1).")
    exploration_noise: NoiseType = Field("ou", description="OU noise on every candidate, as SAVO (§4.4.5 item 2).")
