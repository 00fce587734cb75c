"""``BasisConstruction``: OKB's outer loop (Alg. 1) and its GPI baselines as an RLlib Algorithm.

One ``train()`` call is one outer iteration of :class:`~rllib_modules.okb.basis.BasisLoop`
(``iteration_env_steps`` interactions): a new base policy, OK-LS for the OK methods, an
evaluation on the test tasks, and the choice of the next task. The Algorithm runs its own
collection in the driver process (one env, the acting rule changes per phase) and updates through
its local :class:`~rllib_modules.okb.learner.OKBLearner`; RLlib's local EnvRunner only holds a
synced copy of the module for the platform's generic evaluation (``algo.get_module()``).

Metrics, under ``actlab_metrics`` (so every algorithm of the family reports the same names):
``basis/mean_normalised_return``, ``basis/mean_return``, ``basis/num_base_policies``,
``basis/num_candidates``, ``basis/learned_w_i`` (the task learned this iteration),
``basis/next_w_i`` (the chosen next task), ``basis/converged`` and the loss summaries; with
target 'env_reward', ``task/return_mean``, ``task/success_rate`` and ``task/meta_env_steps`` (the
interactions spent on the meta-policy so far, the x-axis of OKB Fig. 4).

Checkpoints carry the networks, optimizers and the loop state (basis, support set, SF vectors,
next task); replay buffers are not checkpointed, so a restored run refills them.
"""

from __future__ import annotations

import math
from typing import Any, Collection

from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig, NotProvided
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED, NUM_ENV_STEPS_SAMPLED_LIFETIME

from actlab.registry import EnvCreator
from rllib_modules.okb.basis import BasisLoop
from rllib_modules.okb.config import BasisSettings
from rllib_modules.okb.learner import OKBLearner
from rllib_modules.okb.module import OKBRLModule

__all__ = ["BasisConstruction", "BasisConstructionConfig", "METRICS_KEY"]

#: Result key whose entries the platform reports under their own names (see actlab.runner.trial).
METRICS_KEY = "actlab_metrics"
STATE_KEY = "okb_basis_loop"


class BasisConstructionConfig(AlgorithmConfig):
    """AlgorithmConfig of the family; ``basis_settings`` is a :class:`BasisSettings` dict,
    ``env_id`` the registered id the loop builds its own envs from, ``gamma`` the resolved discount."""

    def __init__(self, algo_class: type | None = None) -> None:
        super().__init__(algo_class=algo_class or BasisConstruction)
        self.basis_settings: dict[str, Any] = {}
        self.basis_env_id: str | None = None

    def training(
        self, *, basis_settings: dict[str, Any] | None = NotProvided, basis_env_id: str | None = NotProvided, **kwargs: Any
    ) -> BasisConstructionConfig:
        super().training(**kwargs)
        if basis_settings is not NotProvided:
            self.basis_settings = dict(basis_settings)
        if basis_env_id is not NotProvided:
            self.basis_env_id = basis_env_id
        return self

    def get_default_rl_module_spec(self) -> RLModuleSpec:
        return RLModuleSpec(module_class=OKBRLModule)

    def get_default_learner_class(self) -> type:
        return OKBLearner


class BasisConstruction(Algorithm):
    """OKB / OKB-Uniform / SFOLS / fixed GPI: one outer iteration per ``training_step``."""

    @classmethod
    def get_default_config(cls) -> BasisConstructionConfig:
        return BasisConstructionConfig()

    def setup(self, config: AlgorithmConfig) -> None:
        super().setup(config)
        learner = self.learner_group._learner
        if learner is None:
            raise ValueError("BasisConstruction needs one local Learner (num_learners=0)")
        settings = BasisSettings.model_validate(self.config.basis_settings)
        creator = EnvCreator(self.config.basis_env_id)
        env_config = dict(self.config.env_config)
        self.basis_loop = BasisLoop(
            settings, lambda: creator(env_config), learner, gamma=self.config.gamma, seed=self.config.seed or 0
        )

    def training_step(self) -> None:
        loop = self.basis_loop
        before = loop.env_steps
        metrics = loop.iteration()
        sampled = loop.env_steps - before
        self.metrics.log_value((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), sampled, reduce="lifetime_sum")
        self.metrics.log_value((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED), sampled, reduce="sum")
        returns = loop.train_returns()
        if returns:
            self.metrics.log_value((ENV_RUNNER_RESULTS, "episode_return_mean"), sum(returns) / len(returns), window=1)
        for name, value in metrics.items():
            if isinstance(value, float) and math.isfinite(value):
                key = name if "/" in name else f"basis/{name}"
                self.metrics.log_value((METRICS_KEY, key), value, window=1)
        # The EnvRunner's module copy serves algo.get_module() (the platform's evaluation).
        self.env_runner_group.sync_weights(from_worker_or_learner_group=self.learner_group, inference_only=True)

    def get_state(
        self, components: str | Collection[str] | None = None, *, not_components: str | Collection[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        state = super().get_state(components, not_components=not_components, **kwargs)
        if components is None and hasattr(self, "basis_loop"):
            state[STATE_KEY] = self.basis_loop.get_state()
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        if STATE_KEY in state:
            self.basis_loop.set_state(state[STATE_KEY])
