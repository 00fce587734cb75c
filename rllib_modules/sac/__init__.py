"""``sac``: RLlib's own SAC (new API stack) as the Ch.4 baseline (thesis T-AppC §D.3).

Not a reimplementation: ``ray.rllib.algorithms.sac.SACConfig`` with its default module
(squashed Gaussian actor, twin Q) and Learner, configured from the same spec settings as the
TD3 family so that a grid over ``algorithm.name`` compares them at equal sizes and budgets.
RLlib's SAC samples its episode replay buffer (slower per step on a CPU than the TD3
family's flat buffer, see ``rllib_modules/td3/replay.py``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from ray.rllib.algorithms.sac import SACConfig
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

from actlab.registry import AlgorithmEntry, BuildContext, register_algorithm
from rllib_modules.common.stack import single_learner_stack

__all__ = ["SACSettings", "build_sac"]


class SACSettings(BaseModel):
    """RLlib SAC; defaults match the TD3 family's (T-AppC Table C.1) where they overlap."""

    model_config = ConfigDict(extra="forbid")

    actor_lr: float = Field(3e-4, gt=0, description="Actor learning rate.")
    critic_lr: float = Field(3e-4, gt=0, description="Critic learning rate.")
    alpha_lr: float = Field(3e-4, gt=0, description="Entropy-temperature learning rate.")
    initial_alpha: float = Field(1.0, gt=0, description="Initial entropy temperature (RLlib default).")
    gamma: float = Field(0.99, ge=0, le=1, description="Discount.")
    tau: float = Field(0.005, gt=0, le=1, description="Polyak rate of the target critics.")
    batch_size: int = Field(256, gt=0, description="Replay minibatch.")
    buffer_size: int = Field(500_000, gt=0, description="Replay capacity.")
    learning_starts: int = Field(5000, ge=0, description="Env steps before the first update.")
    hidden: list[int] = Field([256, 256], min_length=1, description="Actor and critic MLP sizes.")
    rollout_fragment_length: int = Field(1, ge=1, description="Env steps per env between updates.")


def build_sac(config: SACSettings, ctx: BuildContext) -> SACConfig:
    sac = single_learner_stack(
        SACConfig(), ctx, rollout_fragment_length=config.rollout_fragment_length, normalize_actions=True, clip_actions=False
    )
    return (
        sac
        .rl_module(model_config=DefaultModelConfig(fcnet_hiddens=list(config.hidden), fcnet_activation="relu",
                                                   head_fcnet_hiddens=[]))
        .training(actor_lr=config.actor_lr, critic_lr=config.critic_lr, alpha_lr=config.alpha_lr,
                  initial_alpha=config.initial_alpha, gamma=config.gamma, tau=config.tau,
                  train_batch_size_per_learner=config.batch_size,
                  num_steps_sampled_before_learning_starts=config.learning_starts,
                  replay_buffer_config={"type": "EpisodeReplayBuffer", "capacity": config.buffer_size}, n_step=1)
        .reporting(min_time_s_per_iteration=0, min_sample_timesteps_per_iteration=1000)
        .debugging(seed=ctx.seed)
    )


SAC_ENTRY = register_algorithm(AlgorithmEntry(
    name="sac",
    description="RLlib's own SAC (new API stack) with the TD3 family's sizes: the SAC baseline of thesis Ch.4 (T-AppC §D.3).",
    config_model=SACSettings,
    build=build_sac,  # type: ignore[arg-type]
))
