"""Typed spec settings of the ``td3`` algorithm (Fujimoto et al. 2018; thesis Ch.4 §4.3, T-AppC Table C.1).

Defaults are TD3's published ones (Adam 3e-4 for actor and critic, batch 256, τ 0.005,
γ 0.99, policy delay 2, exploration N(0, 0.1), target smoothing N(0, 0.2) clipped at 0.5)
with the thesis' MuJoCo network sizes (T-AppC Table C.1: actor and critic 256_256) and
replay size 5e5. Until ``learning_starts`` the behaviour is uniform random (TD3's
``start_timesteps``, shortened to 5e3 for the 5e4-step pendulum budgets of issue #4).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rllib_modules.common.nearest_item import NearestItemSettings
from rllib_modules.td3.noise import NoiseType

__all__ = ["TD3Settings"]


class TD3Settings(BaseModel):
    """TD3 on RLlib's new API stack. Every field has a default: ``config: {}`` runs."""

    model_config = ConfigDict(extra="forbid")

    actor_lr: float = Field(3e-4, gt=0, description="Actor Adam learning rate (T-AppC Table C.1: 3e-4).")
    critic_lr: float = Field(3e-4, gt=0, description="Critic Adam learning rate (T-AppC Table C.1: 3e-4).")
    gamma: float = Field(0.99, ge=0, le=1, description="Discount γ (T-AppC Table C.1).")
    tau: float = Field(0.005, gt=0, le=1, description="Polyak rate of the target networks (TD3 default).")
    batch_size: int = Field(256, gt=0, description="Replay minibatch per gradient step (T-AppC Table C.1: 256).")
    buffer_size: int = Field(500_000, gt=0, description="Replay capacity in env steps (T-AppC Table C.1: 5e5).")
    learning_starts: int = Field(
        5000, ge=0, description="Env steps sampled before the first update (TD3: 'start_timesteps', 25e3 for MuJoCo; "
        "5e3 here for the 5e4-step budgets of the pendulum tasks)."
    )
    uniform_warmup: bool = Field(
        True, description="Act uniformly at random until learning starts (TD3); False: the initial actor + noise."
    )
    policy_delay: int = Field(2, ge=1, description="Critic updates per actor (and target) update (TD3: 2).")
    actor_hidden: list[int] = Field([256, 256], min_length=1, description="Actor MLP sizes, ReLU (T-AppC Table C.1).")
    critic_hidden: list[int] = Field([256, 256], min_length=1, description="Critic MLP sizes, ReLU (T-AppC Table C.1).")
    exploration_noise: NoiseType = Field(
        "gaussian", description="'gaussian' (TD3) or 'ou' (Ornstein-Uhlenbeck; DDPG, SAVO §4.4.5)."
    )
    exploration_sigma: float = Field(0.1, ge=0, description="Exploration noise scale in normalised action units.")
    ou_theta: float = Field(0.15, gt=0, description="OU mean reversion θ (used by exploration_noise: ou).")
    target_policy_smoothing: bool = Field(True, description="TD3's target-policy smoothing (SAVO turns it off).")
    target_noise: float = Field(0.2, ge=0, description="Std of the target-smoothing noise (TD3: 0.2).")
    target_noise_clip: float = Field(0.5, ge=0, description="Clip of the target-smoothing noise (TD3: 0.5).")
    rollout_fragment_length: int = Field(
        1,
        ge=1,
        description="Env steps per env between Learner calls. 1 with one env = TD3's loop; longer fragments "
        "batch the same number of gradient steps into one call (throughput on CPUs; data up to a fragment staler).",
    )
    updates_per_step: float = Field(
        1.0, gt=0, description="Gradient steps (of batch_size transitions) per sampled env step (TD3: 1)."
    )
    nearest_item: NearestItemSettings = Field(
        default_factory=NearestItemSettings,
        description="Discrete tasks only (env with action_embeddings): the index that maps actions to their nearest "
        "real action (rllib_modules.common.nearest_item); ignored for continuous envs.",
    )
