"""Builders of the Ch.2 baselines (thesis §2.5.3): ``utility-ppo``'s PPO with another policy module.

Everything but the RLModule is shared with ``utility-ppo``: the env hand-off, EnvRunner and
Learner settings, seeding, the PPO hyperparameters and lr schedule, the callbacks, and the
Learner with the optional HVAE/VAE representation stage
(:class:`~rllib_modules.utility.learner.UtilityPPOLearner`, which fills any module's
``action_table`` buffer). :func:`ppo_with_module` therefore starts from
:func:`~rllib_modules.utility.build.build_utility_ppo` and swaps the module spec.

Where the training actions' representations come from (``nearest-neighbor``): the ids are
the env's train split (``EnvEntry.action_dataset(env_config).split_ids["train"]``); their
representations are rows of the env's own table (``env.unwrapped.representation_table``,
the table ``action_reprs`` is read from; :func:`rllib_modules.common.action_set.env_representation_table`)
for ``representation.source: env``, or rows of the learned table otherwise.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from actlab.registry import BuildContext
from envs.common.action_set import ACTION_REPRS_KEY
from rllib_modules.baselines_ch2.config import ContinuousOutputPPOConfig, NearestNeighborPPOConfig
from rllib_modules.baselines_ch2.continuous_output import ContinuousOutputRLModule
from rllib_modules.baselines_ch2.nearest_neighbor import NearestNeighborRLModule
from rllib_modules.common.action_set import env_observation_space, env_representation_table, train_action_ids
from rllib_modules.utility.build import build_utility_ppo
from rllib_modules.utility.config import UtilityPPOConfig

__all__ = ["build_continuous_output_ppo", "build_nearest_neighbor_ppo", "ppo_with_module"]


def ppo_with_module(
    config: UtilityPPOConfig,
    ctx: BuildContext,
    module_class: type,
    extra_model_config: dict[str, Any] | None = None,
    action_space: gym.Space | None = None,
) -> PPOConfig:
    """``build_utility_ppo(config, ctx)`` with ``module_class`` as the policy.

    The module's ``model_config`` is ``config.module_model_config()`` (plus
    ``action_table_shape`` when representations are learned, as set by the utility builder)
    and ``extra_model_config``. ``action_space`` overrides the env's in the module spec.
    """
    ppo = build_utility_ppo(config, ctx)
    model_config = {**(ppo.rl_module_spec.model_config or {}), **(extra_model_config or {})}
    ppo.rl_module(
        rl_module_spec=RLModuleSpec(module_class=module_class, action_space=action_space, model_config=model_config)
    )
    return ppo


def build_nearest_neighbor_ppo(config: NearestNeighborPPOConfig, ctx: BuildContext) -> PPOConfig:
    """PPO on the discrete policy over the env's training actions (§2.5.3, Nearest-Neighbor)."""
    ids = train_action_ids(ctx.env_id, ctx.env_config)
    extra: dict[str, Any] = {"train_action_ids": [int(i) for i in ids]}
    if not config.representation.pretrained:
        table = env_representation_table(ctx.env_id, ctx.env_config)
        extra["train_action_reprs"] = np.asarray(table[ids], dtype=np.float32).tolist()
    return ppo_with_module(config, ctx, NearestNeighborRLModule, extra)


def build_continuous_output_ppo(config: ContinuousOutputPPOConfig, ctx: BuildContext) -> PPOConfig:
    """PPO on a Gaussian over representation space; the nearest available action is executed (§2.5.3)."""
    if config.representation.pretrained:
        repr_dim = config.representation.model.latent_dim
    else:
        repr_dim = int(env_observation_space(ctx.env_id, ctx.env_config)[ACTION_REPRS_KEY].shape[1])
    action_space = gym.spaces.Box(-np.inf, np.inf, shape=(repr_dim,), dtype=np.float32)
    ppo = ppo_with_module(config, ctx, ContinuousOutputRLModule, action_space=action_space)
    # The module sends the slot as ACTIONS_FOR_ENV; RLlib must not overwrite it (RLLIB_NOTES §17.7).
    return ppo.environment(normalize_actions=False, clip_actions=False)
