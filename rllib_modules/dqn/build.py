"""Builder of the ``dqn`` algorithm: RLlib's own ``DQNConfig`` on the new API stack (OKB §5 baseline).

Not a reimplementation: RLlib's default DQN module (``DefaultDQNTorchRLModule``: MLP encoder,
linear Q head, ε-greedy in ``_forward_exploration``, greedy ``argmax`` in ``_forward_inference``)
and its ``DQNTorchLearner`` (double-Q, n-step, Huber/MSE, target updates every
``target_network_update_freq`` env steps) with :class:`~rllib_modules.dqn.config.DQNSettings`.
"""

from __future__ import annotations

from ray.rllib.algorithms.dqn import DQNConfig
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

from actlab.registry import BuildContext
from rllib_modules.common.stack import single_learner_stack
from rllib_modules.dqn.config import DQNSettings

__all__ = ["build_dqn"]


def replay_buffer_config(config: DQNSettings) -> dict[str, object]:
    """Uniform or prioritized episode replay; the new stack accepts only ``EpisodeReplayBuffer`` types."""
    if config.prioritized_replay:
        return {"type": "PrioritizedEpisodeReplayBuffer", "capacity": config.buffer_size, "alpha": 0.6, "beta": 0.4}
    return {"type": "EpisodeReplayBuffer", "capacity": config.buffer_size}


def build_dqn(config: DQNSettings, ctx: BuildContext) -> DQNConfig:
    """DQN on ``ctx.env_id`` with one local Learner (a GPU only if the spec grants one).

    The ε schedule is in lifetime env steps as the EnvRunners count them (RLlib passes
    ``t`` = global env steps sampled to ``forward_exploration``). ``DQNConfig.hiddens`` is
    an old-API-stack field and is not used: the new stack's module takes its encoder from
    ``fcnet_hiddens`` and its Q head from ``head_fcnet_hiddens`` (empty: one linear layer).
    """
    dqn = single_learner_stack(DQNConfig(), ctx, rollout_fragment_length=config.rollout_fragment_length)
    (
        dqn
        .rl_module(
            model_config=DefaultModelConfig(
                fcnet_hiddens=list(config.hidden), fcnet_activation="relu", head_fcnet_hiddens=[]
            )
        )
        .training(
            gamma=config.gamma,
            lr=config.lr,
            grad_clip=config.grad_clip,
            train_batch_size_per_learner=config.batch_size,
            replay_buffer_config=replay_buffer_config(config),
            num_steps_sampled_before_learning_starts=config.learning_starts,
            training_intensity=config.updates_per_step * config.batch_size,
            target_network_update_freq=config.target_update_freq,
            tau=config.tau,
            double_q=config.double_q,
            dueling=config.dueling,
            n_step=config.n_step,
            td_error_loss_fn=config.loss,
            epsilon=config.epsilon_schedule,
        )
        .reporting(min_time_s_per_iteration=0, min_sample_timesteps_per_iteration=config.iteration_env_steps)
        .debugging(seed=ctx.seed)
    )
    return dqn
