"""``wolpertinger`` and ``ensemble``: multi-candidate TD3 baselines of thesis Ch.4 §4.6.1.

Importing this package registers both in :mod:`actlab.registry`.
"""

from __future__ import annotations

from typing import Any

from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from actlab.registry import AlgorithmEntry, BuildContext, register_algorithm
from rllib_modules.td3.algorithm import TD3Config
from rllib_modules.td3.build import build_td3
from rllib_modules.td3_variants.config import EnsembleSettings, WolpertingerSettings
from rllib_modules.td3_variants.modules import EnsembleRLModule, WolpertingerRLModule

__all__ = ["EnsembleRLModule", "EnsembleSettings", "WolpertingerRLModule", "WolpertingerSettings"]


def _with_module(module_class: type, option_names: tuple[str, ...]):
    def build(config: Any, ctx: BuildContext) -> TD3Config:
        td3 = build_td3(config, ctx)
        model_config = {**(td3.model_config or {}), **config.model_dump(include=set(option_names)),
                        "actor_hidden": config.actor_hidden, "critic_hidden": config.critic_hidden}
        return td3.rl_module(rl_module_spec=RLModuleSpec(module_class=module_class, model_config=model_config))

    return build


register_algorithm(AlgorithmEntry(
    name="wolpertinger",
    description="TD3 + Sampling (thesis Ch.4 §4.6.1): μ(s) and k Gaussian samples around it, the best by Q_1 acts "
    "and bootstraps (continuous form).",
    config_model=WolpertingerSettings,
    build=_with_module(WolpertingerRLModule, ("num_candidates", "sample_sigma")),
))
register_algorithm(AlgorithmEntry(
    name="ensemble",
    description="k-Actors (thesis Ch.4 §4.6.1): k independently initialised TD3 actors, each trained on Q_1; the "
    "best proposal by Q_1 acts and bootstraps.",
    config_model=EnsembleSettings,
    build=_with_module(EnsembleRLModule, ("num_candidates",)),
))
