"""Baselines and ablations of thesis Ch.4 §4.6.1 on the TD3 base, as named variants.

Baselines: ``wolpertinger``, ``ensemble``, ``cem``, ``greedy-ac``, ``greedy-td3``; ablation:
``savo-joint`` ("SAVO + Joint Action", T-AppC §D.2). Importing this package registers them in
:mod:`actlab.registry`.
"""

from __future__ import annotations

from typing import Any

from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from actlab.registry import AlgorithmEntry, BuildContext, register_algorithm
from rllib_modules.td3.algorithm import TD3Config
from rllib_modules.td3.build import build_td3
from rllib_modules.td3_variants.cem import CEMRLModule
from rllib_modules.td3_variants.config import (
    CEMSettings,
    EnsembleSettings,
    GreedyACSettings,
    GreedyTD3Settings,
    JointActionSettings,
    WolpertingerSettings,
)
from rllib_modules.td3_variants.greedy import GreedyRLModule
from rllib_modules.td3_variants.joint import JointActionRLModule
from rllib_modules.td3_variants.learner import VariantTD3TorchLearner
from rllib_modules.td3_variants.modules import EnsembleRLModule, WolpertingerRLModule

__all__ = ["CEMRLModule", "CEMSettings", "EnsembleRLModule", "EnsembleSettings", "GreedyACSettings", "GreedyRLModule",
           "GreedyTD3Settings", "JointActionRLModule", "JointActionSettings", "VariantTD3TorchLearner",
           "WolpertingerRLModule", "WolpertingerSettings"]


def _with_module(module_class: type, option_names: tuple[str, ...], learner_class: type | None = None,
                 fixed_options: dict[str, Any] | None = None):
    def build(config: Any, ctx: BuildContext) -> TD3Config:
        td3 = build_td3(config, ctx)
        model_config = {**(td3.model_config or {}), **config.model_dump(include=set(option_names)),
                        "actor_hidden": config.actor_hidden, "critic_hidden": config.critic_hidden,
                        **(fixed_options or {})}
        td3.rl_module(rl_module_spec=RLModuleSpec(module_class=module_class, model_config=model_config))
        return td3.learners(learner_class=learner_class) if learner_class is not None else td3

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

register_algorithm(AlgorithmEntry(
    name="cem",
    description="Evolutionary actor (thesis Ch.4 §4.6.1): CEM over Q_1(s, ·) started at μ(s) (QT-Opt: 64 samples, "
    "6 elites, 2 iterations); the best of μ and the CEM solution acts and bootstraps; TD3's actor (or 'cem' regression).",
    config_model=CEMSettings,
    build=_with_module(CEMRLModule, ("cem_population", "cem_elites", "cem_iterations", "cem_init_std", "actor_target"),
                       VariantTD3TorchLearner),
))
_GREEDY_OPTIONS = ("num_samples", "rho", "proposal_rho", "proposal_entropy", "clipped_double_q")
register_algorithm(AlgorithmEntry(
    name="greedy-ac",
    description="Greedy Actor-Critic (Neumann et al. 2018; thesis Ch.4 §4.6.1): an entropy-regularised Gaussian proposal "
    "samples N actions, the Gaussian actor maximises the likelihood of the top-ρ by Q_1; single-critic target.",
    config_model=GreedyACSettings,
    build=_with_module(GreedyRLModule, _GREEDY_OPTIONS, VariantTD3TorchLearner, {"stochastic_actor": True}),
))
register_algorithm(AlgorithmEntry(
    name="greedy-td3",
    description="Greedy-TD3 (thesis Ch.4 §4.6.1): Greedy-AC's proposal and top-ρ actor regression with TD3's deterministic "
    "actor, exploration noise, clipped double-Q, target smoothing and delayed updates.",
    config_model=GreedyTD3Settings,
    build=_with_module(GreedyRLModule, _GREEDY_OPTIONS, VariantTD3TorchLearner, {"stochastic_actor": False}),
))
register_algorithm(AlgorithmEntry(
    name="savo-joint",
    description="'SAVO + Joint Action' ablation (thesis Ch.4 §4.6.1, T-AppC §D.2): μ plus one actor over k x D split "
    "into k candidates (not successive); the best by Q_1 acts and bootstraps; no smoothing, OU noise.",
    config_model=JointActionSettings,
    build=_with_module(JointActionRLModule, ("num_candidates", "joint_objective"), VariantTD3TorchLearner),
))
