"""TD3 as an RLlib Algorithm on the new API stack (RLlib 2.60 ships no TD3/DDPG).

``TD3Config`` extends ``SACConfig`` and ``TD3`` extends ``SAC``: SAC/DQN's new-stack
``training_step`` already does what TD3 needs (sample ``rollout_fragment_length`` steps per
env, add the episodes to the episode replay buffer, sample ``train_batch_size_per_learner``
transitions, one Learner update per sample call (``training_intensity`` changes the ratio),
sync weights). What differs is the module (:class:`~rllib_modules.td3.module.TD3RLModule`),
the Learner (:class:`~rllib_modules.td3.learner.TD3TorchLearner`) and the fields below,
which reach the module through ``model_config`` and the Learner through the config.
"""

from __future__ import annotations

from typing import Any

from ray.rllib.algorithms.sac import SAC, SACConfig
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.utils.from_config import NotProvided

from rllib_modules.td3.learner import TD3TorchLearner
from rllib_modules.td3.module import TD3RLModule

__all__ = ["TD3", "TD3Config"]

#: Fields of TD3Config that the module reads from its model_config.
MODULE_FIELDS = (
    "exploration_noise", "exploration_sigma", "ou_theta",
    "target_policy_smoothing", "target_noise", "target_noise_clip",
)


class TD3Config(SACConfig):
    """SACConfig plus TD3's fields: ``policy_delay``, exploration and target-smoothing noise."""

    def __init__(self, algo_class: type | None = None) -> None:
        super().__init__(algo_class=algo_class or TD3)
        self.policy_delay = 2
        self.exploration_noise = "gaussian"
        self.exploration_sigma = 0.1
        self.ou_theta = 0.15
        self.target_policy_smoothing = True
        self.target_noise = 0.2
        self.target_noise_clip = 0.5
        # TD3 paper defaults (Fujimoto et al. 2018, Table 3).
        self.actor_lr = 3e-4
        self.critic_lr = 3e-4
        self.tau = 0.005
        self.train_batch_size_per_learner = 256
        self.num_steps_sampled_before_learning_starts = 1000
        self.replay_buffer_config = {"type": "EpisodeReplayBuffer", "capacity": 1_000_000}

    def training(
        self,
        *,
        policy_delay: int | Any = NotProvided,
        exploration_noise: str | Any = NotProvided,
        exploration_sigma: float | Any = NotProvided,
        ou_theta: float | Any = NotProvided,
        target_policy_smoothing: bool | Any = NotProvided,
        target_noise: float | Any = NotProvided,
        target_noise_clip: float | Any = NotProvided,
        **kwargs: Any,
    ) -> "TD3Config":
        super().training(**kwargs)
        for name, value in (
            ("policy_delay", policy_delay), ("exploration_noise", exploration_noise),
            ("exploration_sigma", exploration_sigma), ("ou_theta", ou_theta),
            ("target_policy_smoothing", target_policy_smoothing), ("target_noise", target_noise),
            ("target_noise_clip", target_noise_clip),
        ):
            if value is not NotProvided:
                setattr(self, name, value)
        return self

    def validate(self) -> None:
        super().validate()
        if int(self.policy_delay) < 1:
            self._value_error(f"policy_delay must be >= 1, got {self.policy_delay}")

    def get_default_rl_module_spec(self) -> RLModuleSpec:
        return RLModuleSpec(module_class=TD3RLModule)

    def get_default_learner_class(self) -> type:
        return TD3TorchLearner

    @property
    def _model_config_auto_includes(self) -> dict[str, Any]:
        return super()._model_config_auto_includes | {name: getattr(self, name) for name in MODULE_FIELDS}


class TD3(SAC):
    """TD3 (Fujimoto et al. 2018) on RLlib's new API stack; see :class:`TD3Config`."""

    @classmethod
    def get_default_config(cls) -> TD3Config:
        return TD3Config()
