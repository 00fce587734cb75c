"""``savo-joint``: the "SAVO + Joint Action" ablation of thesis Ch.4 §4.6.1 / T-AppC §D.2 (ALGORITHMS.md §3.10).

"Trains an actor with a joint action space of 3 × D. The k action samples are obtained by
splitting the joint action into D dimensions. Validates successive nature of SAVO." (T §4.6.1);
"a single actor that outputs a joint action composed of k constituents, aiming to cover the
action space so that multiple coordinated actions can better maximize the Q-function compared
to a single action" (T-AppC §D.2).

SAVO with its k successive actors and surrogates replaced by one joint actor
ν_J(s) = tanh(MLP(s)) ∈ [-1, 1]^{k·D}, reshaped to k candidates (B, k, D). The candidates are
``[μ(s), ν_J(s)_1, ..., ν_J(s)_k]`` and the maximizer (Eq. 4.5) picks the best by Q_1 to act and
to bootstrap; SAVO's other choices stay (§4.4.5: no target-policy smoothing, OU noise on every
candidate). μ is TD3's actor (Eq. 4.3), as SAVO's ν_0.

Choices the sources leave open (made here, configurable): the joint actor ascends
``joint_objective="max"``: max_i Q_1(s, a_i) -- the value of the joint action as the maximizer
uses it, so the constituents are "coordinated" (only the best one is pulled up, the others are
free to cover the rest of the space); ``"sum"``: Σ_i Q_1(s, a_i) (every constituent ascends Q_1
on its own, an ensemble with a shared network). It has the actor's hidden sizes and is
trained by the actor optimizer with the same delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from ray.rllib.core.columns import Columns
from torch import nn

from rllib_modules.common.mlp import make_mlp
from rllib_modules.td3.maximizer import MaximizerTD3RLModule
from rllib_modules.td3.module import Q_PI_KEY, TD3ModelOptions
from rllib_modules.td3.noise import NoiseType
from rllib_modules.td3_variants.scoring import candidate_q

__all__ = ["JointActionRLModule", "JointModelOptions", "JointObjective", "joint_objective"]

JointObjective = Literal["max", "sum"]


def joint_objective(q_BK: torch.Tensor, kind: JointObjective) -> torch.Tensor:
    """The joint actor's objective per state from the Q_1 of its k constituents, (B,)."""
    if kind == "max":
        return q_BK.max(dim=1).values
    if kind == "sum":
        return q_BK.sum(dim=1)
    raise ValueError(f"joint_objective must be 'max' or 'sum', got {kind!r}")


@dataclass(frozen=True)
class JointModelOptions(TD3ModelOptions):
    num_candidates: int = 3  # k (T §4.6.1)
    joint_objective: JointObjective = "max"
    target_policy_smoothing: bool = False  # SAVO §4.4.5 item 1
    exploration_noise: NoiseType = "ou"  # SAVO §4.4.5 item 2


class JointActionRLModule(MaximizerTD3RLModule):
    """μ(s) plus one joint actor's k candidates; the best by Q_1 acts and bootstraps."""

    options_class = JointModelOptions
    #: Trained by the actor optimizer (see VariantTD3TorchLearner).
    actor_submodules = ("joint_actor",)

    def setup(self) -> None:
        super().setup()
        k = int(self.options.num_candidates)  # type: ignore[attr-defined]
        self.joint_actor = nn.Sequential(make_mlp(self.obs_dim, list(self.options.actor_hidden), "relu", k * self.action_dim), nn.Tanh())

    def joint_actions(self, obs_BS: torch.Tensor) -> torch.Tensor:
        """``(B, k, D)``: the joint output split into k actions of D dimensions."""
        return self.joint_actor(obs_BS).reshape(obs_BS.shape[0], -1, self.action_dim)

    def candidates(self, obs_BS: torch.Tensor, noise: bool = False) -> torch.Tensor:
        actions_BND = torch.cat([self.actor(obs_BS).unsqueeze(1), self.joint_actions(obs_BS)], dim=1)
        return self.add_noise(actions_BND) if noise else actions_BND

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out = super()._forward_train(batch, **kwargs)
        obs_BS = self.flat_obs(batch[Columns.OBS])
        q_BK = candidate_q(self.q1, obs_BS, self.joint_actions(obs_BS))
        # μ's and the joint actor's objectives share the actor optimizer (disjoint parameters).
        out[Q_PI_KEY] = out[Q_PI_KEY] + joint_objective(q_BK, self.options.joint_objective)  # type: ignore[attr-defined]
        return out
