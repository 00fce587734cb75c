"""Builder of ``savo``: the ``td3`` builder with SAVO's module and Learner."""

from __future__ import annotations

from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from actlab.registry import BuildContext
from rllib_modules.savo.config import SAVOSettings
from rllib_modules.savo.learner import SAVOTorchLearner
from rllib_modules.savo.module import SAVORLModule
from rllib_modules.td3.algorithm import TD3Config
from rllib_modules.td3.build import build_td3

__all__ = ["build_savo"]

_MODULE_OPTIONS = ("num_successive", "summarizer", "summary_hidden", "film", "condition_on_previous",
                   "approximate_surrogates")


def build_savo(config: SAVOSettings, ctx: BuildContext) -> TD3Config:
    td3 = build_td3(config, ctx)
    model_config = {**(td3.model_config or {}), **config.model_dump(include=set(_MODULE_OPTIONS))}
    model_config.update(actor_hidden=config.actor_hidden, critic_hidden=config.critic_hidden)
    td3.rl_module(rl_module_spec=RLModuleSpec(module_class=SAVORLModule, model_config=model_config))
    td3.learners(learner_class=SAVOTorchLearner)
    return td3
