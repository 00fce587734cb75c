"""Acting by the best of several candidate actions: the maximizer actor μ_M (thesis Ch.4 §4.4.1, Eq. 4.5).

Shared by the multi-candidate members of the TD3 family (``savo``, ``wolpertinger``,
``ensemble``): a subclass says how candidates are proposed (:meth:`MaximizerTD3RLModule.candidates`);
this base scores them with Q_1 and takes the best (ties: the earliest, i.e. μ's own action),
for acting (candidates with noise, then noise on the chosen action: Alg. 3's â_i and ã) and
for the TD target's next action (greedy candidates; target-policy smoothing only if enabled).
Q_1 is therefore needed on the EnvRunners (``acting_critics``).
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.core.columns import Columns
from torch import nn

from rllib_modules.td3.module import TD3RLModule
from rllib_modules.td3.targets import smoothed_target_action

__all__ = ["MaximizerTD3RLModule", "maximizer_index"]


def maximizer_index(q_BN: torch.Tensor) -> torch.Tensor:
    """μ_M's pick per row: the best candidate, the first among equals, so that μ's own action
    (candidate 0) is kept unless another is strictly better: Q(s, μ_M(s)) >= Q(s, μ(s))."""
    return q_BN.argmax(dim=1)  # torch.argmax returns the first maximal index


class MaximizerTD3RLModule(TD3RLModule):
    """TD3 module whose policy is ``argmax_i Q_1(s, a_i)`` over ``candidates(s)``."""

    acting_critics = ("q1",)

    def candidates(self, obs_BS: torch.Tensor, noise: bool = False) -> torch.Tensor:
        """``(B, N, D)`` candidate actions in [-1, 1]; candidate 0 is μ(s)."""
        raise NotImplementedError

    def add_noise(self, actions_BND: torch.Tensor) -> torch.Tensor:
        return (actions_BND + self.noise.sample(actions_BND.shape).to(actions_BND.device)).clamp(-1.0, 1.0)

    def maximize(self, obs_BS: torch.Tensor, actions_BND: torch.Tensor, critic: nn.Module) -> torch.Tensor:
        """The candidate with the highest ``critic`` value per row (Eq. 4.5; ties: the first)."""
        batch, n, dim = actions_BND.shape
        obs_rep = obs_BS.unsqueeze(1).expand(-1, n, -1).reshape(batch * n, -1)
        q_BN = self.q_value(critic, obs_rep, actions_BND.reshape(batch * n, dim)).reshape(batch, n)
        return actions_BND[torch.arange(batch), maximizer_index(q_BN)]

    def acting_action(self, obs_BS: torch.Tensor) -> torch.Tensor:
        return self.maximize(obs_BS, self.candidates(obs_BS), self.q1)

    def target_action(self, next_obs_BS: torch.Tensor) -> torch.Tensor:
        action_BD = self.maximize(next_obs_BS, self.candidates(next_obs_BS), self.q1)
        if self.options.target_policy_smoothing:
            action_BD = smoothed_target_action(action_BD, self.options.target_noise, self.options.target_noise_clip)
        return action_BD

    def _forward_exploration(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs_BS = self.flat_obs(batch[Columns.OBS])
        if self.uniform_exploration:
            return {Columns.ACTIONS: torch.rand(obs_BS.shape[0], self.action_dim) * 2.0 - 1.0}
        with torch.no_grad():
            action_BD = self.maximize(obs_BS, self.candidates(obs_BS, noise=True), self.q1)
        return {Columns.ACTIONS: self.add_noise(action_BD.unsqueeze(1)).squeeze(1)}
