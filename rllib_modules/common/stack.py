"""The RLlib config chain every single-Learner algorithm of actlab starts from."""

from __future__ import annotations

from typing import Any, TypeVar

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig

from actlab.registry import BuildContext
from rllib_modules.common.env import rllib_env

__all__ = ["single_learner_stack"]

ConfigT = TypeVar("ConfigT", bound=AlgorithmConfig)


def single_learner_stack(
    algo_config: ConfigT,
    ctx: BuildContext,
    *,
    rollout_fragment_length: int | str = "auto",
    **environment_kwargs: Any,
) -> ConfigT:
    """``algo_config`` on the new API stack (RLModule + Learner, EnvRunner + ConnectorV2), torch,
    the trial's environment and EnvRunners (``ctx``), and one local Learner with a GPU only if the
    spec grants one. ``environment_kwargs`` go to ``.environment()`` (e.g. ``normalize_actions``).

    Callers chain their own ``rl_module``, ``training``, ``reporting`` and ``debugging`` on the
    result; calling ``.learners(learner_class=...)`` again keeps the settings made here.
    """
    return (
        algo_config.api_stack(enable_rl_module_and_learner=True, enable_env_runner_and_connector_v2=True)
        .framework("torch")
        .environment(env=rllib_env(ctx.env_id), env_config=dict(ctx.env_config), **environment_kwargs)
        .env_runners(
            num_env_runners=ctx.num_env_runners,
            num_envs_per_env_runner=ctx.envs_per_env_runner,
            num_cpus_per_env_runner=ctx.cpus_per_env_runner,
            rollout_fragment_length=rollout_fragment_length,
        )
        .learners(num_learners=0, num_gpus_per_learner=ctx.gpus_per_learner)
    )
