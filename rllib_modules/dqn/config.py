"""Typed spec settings of the ``dqn`` algorithm: the DQN baseline of OKB §5 (Q3, Fig. 5).

OKB §5 compares against "a baseline DQN agent that learns tasks from scratch" over the primitive
actions of Item Collection; App. F states only Adam, minibatches of 256, ε-greedy with a linearly
decaying schedule (for the base policies) and γ = 0.95 for Item Collection (App. F.2), and that
method hyperparameters were grid-searched. Everything else is a documented choice here, sized
for small discrete tasks (Item Collection: 200-d observation, 4 actions, 50-step episodes):

- Q-network: MLP 256-256 ReLU and a linear Q head (RLlib's default DQN module, no dueling);
  double-Q targets (van Hasselt et al. 2016), Huber TD loss, 1-step returns.
- Replay: uniform, 1e5 transitions (two OKB Item-Collection iterations of 5e4 env steps);
  learning starts after 1e3 env steps.
- Updates: one gradient step per 4 env steps (Mnih et al. 2015's update frequency), hard
  target copies every 1e3 env steps.
- ε: 1.0 → 0.05 linearly over the first 5e4 env steps (one OKB iteration), then constant.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["DQNSettings"]


class DQNSettings(BaseModel):
    """RLlib's DQN (new API stack). Every field has a default: ``config: {}`` runs."""

    model_config = ConfigDict(extra="forbid")

    gamma: float = Field(0.95, ge=0, le=1, description="Discount γ (OKB App. F.2 uses 0.95 for Item Collection).")
    lr: float = Field(3e-4, gt=0, description="Adam learning rate (OKB App. F: Adam; the rate is not stated).")
    hidden: list[int] = Field(
        [256, 256], min_length=1,
        description="Q-network MLP sizes, ReLU, followed by a linear layer to one Q-value per action.",
    )
    double_q: bool = Field(True, description="Double-DQN targets: argmax by the online net, value by the target net.")
    dueling: bool = Field(False, description="Dueling heads (separate value and advantage streams, linear each).")
    n_step: int = Field(1, ge=1, description="n-step return length of the TD target (1: plain one-step Q-learning).")
    loss: Literal["huber", "mse"] = Field("huber", description="TD-error loss (RLlib's and Mnih et al. 2015's Huber).")
    grad_clip: Optional[float] = Field(
        40.0, gt=0, description="Clip of the global gradient norm per update (RLlib's DQN default); null: no clipping."
    )
    batch_size: int = Field(256, gt=0, description="Replay minibatch per gradient step (OKB App. F: 256).")
    buffer_size: int = Field(100_000, gt=0, description="Replay capacity in env steps (transitions).")
    prioritized_replay: bool = Field(
        False,
        description="Prioritized replay (RLlib's PrioritizedEpisodeReplayBuffer, α 0.6, β 0.4) instead of uniform.",
    )
    learning_starts: int = Field(1000, ge=0, description="Env steps sampled before the first gradient step.")
    updates_per_step: float = Field(
        0.25, gt=0,
        description="Gradient steps per sampled env step (0.25: one per 4 env steps). Passed to RLlib as "
        "training_intensity = updates_per_step x batch_size; RLlib rounds the ratio to whole sampling rounds "
        "per update (or updates per round), so it is exact only when rollout fragments fit it.",
    )
    rollout_fragment_length: int = Field(
        4, ge=1,
        description="Env steps per env between Learner calls (must be >= n_step). The replay ratio is set by "
        "updates_per_step; longer fragments batch the same updates into fewer calls.",
    )
    target_update_freq: int = Field(
        1000, ge=1, description="Env steps sampled between target-network updates (RLlib's target_network_update_freq)."
    )
    tau: float = Field(
        1.0, gt=0, le=1, description="Target update rate per target update: 1.0 copies (Mnih et al. 2015); <1 is Polyak."
    )
    epsilon_initial: float = Field(1.0, ge=0, le=1, description="ε of ε-greedy exploration at env step 0.")
    epsilon_final: float = Field(0.05, ge=0, le=1, description="ε after the decay, kept for the rest of training.")
    epsilon_decay_steps: int = Field(
        50_000, ge=1,
        description="Env steps (lifetime, counted from 0 including the pre-learning ones) over which ε decays "
        "linearly from epsilon_initial to epsilon_final (OKB App. F: a linearly decaying schedule).",
    )
    iteration_env_steps: int = Field(
        1000, ge=1,
        description="Env steps sampled per training iteration (RLlib's min_sample_timesteps_per_iteration): "
        "the unit of reporting, evaluation.interval and checkpoint.interval.",
    )

    @model_validator(mode="after")
    def _fragment_covers_n_step(self) -> DQNSettings:
        # RLlib raises the same at build time; saying it at spec validation names the field.
        if self.rollout_fragment_length < self.n_step:
            raise ValueError(f"rollout_fragment_length ({self.rollout_fragment_length}) must be >= n_step ({self.n_step})")
        return self

    @property
    def epsilon_schedule(self) -> list[tuple[int, float]]:
        """RLlib's piecewise-linear ``epsilon`` schedule ``[(env step, ε), ...]``."""
        return [(0, self.epsilon_initial), (self.epsilon_decay_steps, self.epsilon_final)]
