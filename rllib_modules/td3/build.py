"""Builder of the ``td3`` algorithm: a complete new-API-stack :class:`~rllib_modules.td3.algorithm.TD3Config`."""

from __future__ import annotations

from actlab.registry import BuildContext
from rllib_modules.common.stack import single_learner_stack
from rllib_modules.td3.algorithm import MODULE_FIELDS, TD3Config
from rllib_modules.td3.config import TD3Settings
from rllib_modules.td3.discrete_actions import DISCRETE_ACTIONS_KEY, discrete_action_reference

__all__ = ["build_td3"]


def build_td3(config: TD3Settings, ctx: BuildContext) -> TD3Config:
    """TD3 on ``ctx.env_id`` with one local Learner (a GPU only if the spec grants one).

    Actions are normalised to [-1, 1] and rescaled by RLlib for the env
    (``normalize_actions=True``, no clipping on top). For an env with ``action_embeddings``
    (the discrete contract of Ch.4), the module's ``model_config`` gets a reference to them
    (:mod:`rllib_modules.td3.discrete_actions`); every variant built on this config inherits it.
    """
    discrete = discrete_action_reference(ctx.env_id, ctx.env_config, config.nearest_item)
    td3 = single_learner_stack(
        TD3Config(), ctx, rollout_fragment_length=config.rollout_fragment_length, normalize_actions=True, clip_actions=False
    )
    (
        td3
        .rl_module(model_config={"actor_hidden": config.actor_hidden, "critic_hidden": config.critic_hidden,
                                 DISCRETE_ACTIONS_KEY: discrete})
        .training(
            actor_lr=config.actor_lr,
            critic_lr=config.critic_lr,
            gamma=config.gamma,
            tau=config.tau,
            train_batch_size_per_learner=config.batch_size,
            num_steps_sampled_before_learning_starts=config.learning_starts,
            replay_buffer_config={"type": "EpisodeReplayBuffer", "capacity": config.buffer_size},
            n_step=1,
            # TD3Config's own fields have the same names as the spec settings.
            **config.model_dump(include={"policy_delay", "updates_per_step", "uniform_warmup", *MODULE_FIELDS}),
        )
        # Report every ~1000 env steps rather than every second: iterations are the unit of
        # checkpoints and evaluation intervals.
        .reporting(min_time_s_per_iteration=0, min_sample_timesteps_per_iteration=1000)
        .debugging(seed=ctx.seed)
    )
    return td3
