"""Acting by the best of several candidate actions: the maximizer actor μ_M (thesis Ch.4 §4.4.1, Eq. 4.5).

Shared by the multi-candidate members of the TD3 family (``savo``, ``wolpertinger``,
``ensemble``): a subclass says how candidates are proposed (:meth:`MaximizerTD3RLModule.candidates`);
this base scores them with Q_1 and takes the best (ties: the earliest, i.e. μ's own action),
for acting (candidates with noise, then noise on the chosen action: Alg. 3's â_i and ã) and
for the TD target's next action (greedy candidates; target-policy smoothing only if enabled).
Q_1 is therefore needed on the EnvRunners (``acting_critics``).

In discrete tasks every candidate is mapped to its nearest real action before Q scores it
(Alg. 3; :meth:`MaximizerTD3RLModule.mapped_candidates`), so subclasses propose in
representation space and get the mapping for free; one whose candidates are real actions by
construction (Wolpertinger's k nearest items) overrides ``mapped_candidates`` to skip it.
"""

from __future__ import annotations

import torch
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
        """``(B, N, D)`` candidate actions in [-1, 1]; candidate 0 is μ(s). Subclasses add more;
        here μ(s) alone (the maximizer then acts exactly as TD3)."""
        actions_BND = self.actor(obs_BS).unsqueeze(1)
        return self.add_noise(actions_BND) if noise else actions_BND

    def mapped_candidates(self, obs_BS: torch.Tensor, noise: bool = False) -> torch.Tensor:
        """``candidates`` with each mapped to its nearest real action (identity for continuous envs)."""
        return self.map_candidates(self.candidates(obs_BS, noise=noise))

    def maximize(self, obs_BS: torch.Tensor, actions_BND: torch.Tensor, critic: nn.Module) -> torch.Tensor:
        """The candidate with the highest ``critic`` value per row (Eq. 4.5; ties: the first)."""
        batch, n, dim = actions_BND.shape
        obs_rep = obs_BS.unsqueeze(1).expand(-1, n, -1).reshape(batch * n, -1)
        q_BN = self.q_value(critic, obs_rep, actions_BND.reshape(batch * n, dim)).reshape(batch, n)
        return actions_BND[torch.arange(batch), maximizer_index(q_BN)]

    def acting_action(self, obs_BS: torch.Tensor) -> torch.Tensor:
        return self.maximize(obs_BS, self.mapped_candidates(obs_BS), self.q1)

    def target_action(self, next_obs_BS: torch.Tensor) -> torch.Tensor:
        action_BD = self.maximize(next_obs_BS, self.mapped_candidates(next_obs_BS), self.q1)
        if self.options.target_policy_smoothing:
            action_BD = self.map_candidates(
                smoothed_target_action(action_BD, self.options.target_noise, self.options.target_noise_clip))
        return action_BD

    def exploring_action(self, obs_BS: torch.Tensor) -> torch.Tensor:
        """Alg. 3: the best of the noisy (then mapped) candidates â_i (TD3's hook then adds noise
        once more, and maps again)."""
        return self.maximize(obs_BS, self.mapped_candidates(obs_BS, noise=True), self.q1)
