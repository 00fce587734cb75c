"""TD3 as an RLlib Algorithm on the new API stack (RLlib 2.60 ships no TD3/DDPG).

``TD3Config`` extends ``SACConfig`` and ``TD3`` extends ``SAC`` (config checks,
checkpointing); the module
(:class:`~rllib_modules.td3.module.TD3RLModule`), the Learner
(:class:`~rllib_modules.td3.learner.TD3TorchLearner`) and the training step are TD3's.

Training step (:meth:`TD3.training_step`): sample ``rollout_fragment_length`` steps from
every env, add them to a flat transition buffer (:mod:`rllib_modules.td3.replay`; RLlib's
episode buffer costs ~50 ms of CPU per replayed batch of 256 here), then run ``updates_per_step`` gradient steps per
sampled env step as **one** Learner call on ``n × batch`` replayed transitions split into
``n`` minibatches of ``batch``. With ``rollout_fragment_length=1`` and one env this is
TD3's one-update-per-env-step loop; longer fragments keep the replay ratio and pay RLlib's
per-call overhead (sampling, connectors, weight sync: most of an off-policy step on a
CPU) once per fragment instead of once per step -- the throughput lever measured by
``benchmarks/throughput_td3.py``.
"""

from __future__ import annotations

from typing import Any

from ray.rllib.algorithms.sac import SAC, SACConfig
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.execution.rollout_ops import synchronous_parallel_sample
from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.utils.from_config import NotProvided
from ray.rllib.utils.metrics import (
    ALL_MODULES,
    ENV_RUNNER_RESULTS,
    ENV_RUNNER_SAMPLING_TIMER,
    LEARNER_RESULTS,
    LEARNER_UPDATE_TIMER,
    NUM_ENV_STEPS_SAMPLED_LIFETIME,
    REPLAY_BUFFER_ADD_DATA_TIMER,
    REPLAY_BUFFER_SAMPLE_TIMER,
    SYNCH_WORKER_WEIGHTS_TIMER,
    TIMERS,
)

from rllib_modules.td3.learner import TD3TorchLearner
from rllib_modules.td3.module import TD3RLModule
from rllib_modules.td3.replay import TransitionReplay

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
        self.updates_per_step = 1.0
        self.uniform_warmup = True
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
        updates_per_step: float | Any = NotProvided,
        uniform_warmup: bool | Any = NotProvided,
        **kwargs: Any,
    ) -> "TD3Config":
        super().training(**kwargs)
        for name, value in (
            ("policy_delay", policy_delay), ("exploration_noise", exploration_noise),
            ("exploration_sigma", exploration_sigma), ("ou_theta", ou_theta),
            ("target_policy_smoothing", target_policy_smoothing), ("target_noise", target_noise),
            ("target_noise_clip", target_noise_clip), ("updates_per_step", updates_per_step),
            ("uniform_warmup", uniform_warmup),
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

    def training_step(self) -> None:
        cfg = self.config
        if not hasattr(self, "transitions"):
            self.transitions = TransitionReplay(cfg.replay_buffer_config["capacity"], seed=cfg.seed)
            self._update_credit = 0.0
            self._uniform_exploration: bool | None = None
        lifetime = self.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0)
        self._set_uniform_exploration(lifetime < cfg.num_steps_sampled_before_learning_starts and cfg.uniform_warmup)
        with self.metrics.log_time((TIMERS, ENV_RUNNER_SAMPLING_TIMER)):
            episodes, env_runner_results = synchronous_parallel_sample(
                worker_set=self.env_runner_group,
                concat=True,
                sample_timeout_s=cfg.sample_timeout_s,
                _uses_new_env_runners=True,
                _return_metrics=True,
            )
        self.metrics.aggregate(env_runner_results, key=ENV_RUNNER_RESULTS)
        with self.metrics.log_time((TIMERS, REPLAY_BUFFER_ADD_DATA_TIMER)):
            sampled = self.transitions.add_episodes(episodes)
        lifetime = self.metrics.peek((ENV_RUNNER_RESULTS, NUM_ENV_STEPS_SAMPLED_LIFETIME), default=0)
        if lifetime < cfg.num_steps_sampled_before_learning_starts:
            return
        # Whole gradient steps owed so far (the fraction carries over to the next call).
        self._update_credit += sampled * cfg.updates_per_step
        num_updates = int(self._update_credit)
        if num_updates == 0:
            return
        self._update_credit -= num_updates
        batch_size = cfg.train_batch_size_per_learner
        with self.metrics.log_time((TIMERS, REPLAY_BUFFER_SAMPLE_TIMER)):
            rows = self.transitions.sample(num_updates * batch_size)
            batch = MultiAgentBatch({DEFAULT_MODULE_ID: SampleBatch(rows)}, env_steps=num_updates * batch_size)
        with self.metrics.log_time((TIMERS, LEARNER_UPDATE_TIMER)):
            learner_results = self.learner_group.update(
                batch=batch,
                timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: lifetime},
                minibatch_size=batch_size,
                num_epochs=1,
                shuffle_batch_per_epoch=False,
            )
        self.metrics.aggregate(learner_results, key=LEARNER_RESULTS)
        with self.metrics.log_time((TIMERS, SYNCH_WORKER_WEIGHTS_TIMER)):
            self.env_runner_group.sync_weights(
                from_worker_or_learner_group=self.learner_group,
                policies=set(learner_results[0]) - {ALL_MODULES},
                inference_only=True,
            )

    def _set_uniform_exploration(self, uniform: bool) -> None:
        """Switch the EnvRunners' modules between uniform warm-up actions and the noisy actor."""
        if uniform == self._uniform_exploration:
            return
        self._uniform_exploration = uniform

        def _set(env_runner: Any) -> None:
            env_runner.module.unwrapped().uniform_exploration = uniform

        self.env_runner_group.foreach_env_runner(_set, local_env_runner=True)
