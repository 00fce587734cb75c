"""Builder of the ``utility-ppo`` algorithm: a complete new-API-stack ``PPOConfig``.

Thesis Ch.2 §2.4.2-§2.4.3: the utility policy (Eq. 2.3) trained end-to-end with PPO on
the maximum-entropy objective (Eq. 2.4), with linear learning-rate decay (T-AppA §D.2).
"""

from __future__ import annotations

import logging
from typing import Any

from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from actlab import registry
from actlab.registry import BuildContext
from rllib_modules.common.callbacks import SuccessRateCallback
from rllib_modules.common.ppo_learner import ADAM_EPS_KEY
from rllib_modules.common.stack import single_learner_stack
from rllib_modules.utility.config import UtilityPPOConfig
from rllib_modules.utility.learner import PRETRAINING_KEY, UtilityPPOLearner
from rllib_modules.utility.module import UtilityRLModule

__all__ = ["build_utility_ppo", "lr_setting"]

logger = logging.getLogger(__name__)


def lr_setting(config: UtilityPPOConfig, total_env_steps: int | None) -> float | list[list[float]]:
    """RLlib's ``lr``: a constant, or the piecewise-linear schedule ``lr -> 0``.

    RLlib interpolates ``[[0, lr], [T, 0]]`` by ``num_env_steps_sampled_lifetime`` and
    holds the last value afterwards, which is the thesis code's per-update linear decay
    to 0 at the end of training.
    """
    if not config.lr_decay:
        return config.lr
    horizon = config.lr_decay_env_steps or total_env_steps
    if not horizon:
        logger.warning(
            "utility-ppo: lr_decay=True but neither lr_decay_env_steps nor the trial's "
            "total_env_steps is known; using a constant learning rate %g",
            config.lr,
        )
        return config.lr
    return [[0, config.lr], [int(horizon), 0.0]]


def build_utility_ppo(config: UtilityPPOConfig, ctx: BuildContext) -> PPOConfig:
    """A ready-to-build ``PPOConfig`` for the utility policy on ``ctx.env_id``.

    - The env is :class:`~actlab.registry.EnvCreator` registered in Ray's env registry
      under ``ctx.env_id`` (see :func:`rllib_modules.common.env.rllib_env`): remote
      EnvRunners do not know a gymnasium id registered only in the driver, and RLlib
      rejects a callable instance as ``env``.
    - ``num_learners=0``: one local Learner; it takes a GPU only when the spec grants
      ``gpus_per_learner``.
    - Determinism: ``debugging(seed)`` seeds Python/NumPy/torch in the driver, in every
      EnvRunner (offset by its index) and in the Learner, and seeds the env resets; with
      ``num_env_runners=0`` the same seed, config and machine give identical metrics and
      weights (checked by ``tests/test_utility_module.py``).
    """
    model_config = config.module_model_config()
    learner_config: dict[str, Any] = {ADAM_EPS_KEY: config.adam_eps}
    if config.representation.pretrained:
        # Stage 1 (HVAE/VAE) runs in the Learner; the module reads its table by action id.
        dataset = registry.get_env(ctx.env_id).action_dataset
        if dataset is None:
            raise ValueError(f"{ctx.env_id} has no action observations to learn representations from")
        model_config["action_table_shape"] = (dataset(ctx.env_config).n_actions, config.representation.model.latent_dim)
        learner_config[PRETRAINING_KEY] = {
            "representation": config.representation.model_dump(mode="json"),
            "env_id": ctx.env_id,
            "env_config": dict(ctx.env_config),
            "seed": ctx.seed,
        }
    ppo = (
        single_learner_stack(PPOConfig(), ctx)
        .learners(learner_class=UtilityPPOLearner, learner_config_dict=learner_config)
        .rl_module(
            rl_module_spec=RLModuleSpec(
                module_class=UtilityRLModule,
                model_config=model_config,
            )
        )
        .training(**_training_kwargs(config, ctx))
        .callbacks(SuccessRateCallback)
        .debugging(seed=ctx.seed)
    )
    return ppo


def _training_kwargs(config: UtilityPPOConfig, ctx: BuildContext) -> dict[str, Any]:
    return {
        "lr": lr_setting(config, ctx.total_env_steps),
        "gamma": config.gamma,
        "use_gae": True,
        "use_critic": True,
        "lambda_": config.lambda_,
        "entropy_coeff": config.entropy_coeff,
        "clip_param": config.clip_param,
        "vf_loss_coeff": config.vf_loss_coeff,
        "vf_clip_param": config.vf_clip_param,
        "use_kl_loss": config.kl_coeff > 0,
        "kl_coeff": config.kl_coeff,
        "grad_clip": config.grad_clip,
        "grad_clip_by": "global_norm",
        # One local Learner, so the per-learner batch is the whole PPO batch.
        "train_batch_size_per_learner": config.train_batch_size,
        "minibatch_size": config.minibatch_size,
        "num_epochs": config.num_epochs,
        # The thesis code reshuffles the batch into fresh minibatches every epoch.
        "shuffle_batch_per_epoch": True,
    }
