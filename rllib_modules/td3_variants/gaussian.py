"""A state-conditioned diagonal Gaussian policy over the normalised action box [-1, 1]^D.

Used by the Greedy Actor-Critic baselines (thesis Ch.4 §4.6.1; Neumann et al. 2018/2023) for
the entropy-regularised *proposal* policy, and for ``greedy-ac``'s stochastic actor.

``forward(s)`` returns the mean ``tanh(m(s))``, so the policy is a drop-in for the TD3
family's deterministic actor wherever a single action is needed (greedy acting, the
DPG diagnostic Q_1(s, μ(s)), the target-network copy).

Choices the sources leave open (made here): the Gaussian is *not* squashed; samples are
clipped to the action box and their log-likelihood is that of the unclipped Gaussian
(Neumann et al.'s reference code acts with an unsquashed Gaussian too), which keeps the
log-likelihood of any in-box action finite. Mean and log-std are two heads on one ReLU trunk;
the log-std is clamped to ``[log_std_min, log_std_max]`` (default [-5, 1] in normalised units).
The entropy is the analytic entropy of the unclipped Gaussian.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rllib_modules.common.mlp import make_mlp

__all__ = ["GaussianPolicy", "gaussian_log_prob"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def gaussian_log_prob(actions_BND: torch.Tensor, mean_BD: torch.Tensor, log_std_BD: torch.Tensor) -> torch.Tensor:
    """``log N(a | mean, diag(exp(log_std))²)`` summed over D, shape (B, N): N actions per row."""
    mean_B1D, log_std_B1D = mean_BD.unsqueeze(1), log_std_BD.unsqueeze(1)
    z_BND = (actions_BND - mean_B1D) * torch.exp(-log_std_B1D)
    return (-0.5 * z_BND.pow(2) - log_std_B1D - _HALF_LOG_2PI).sum(dim=-1)


class GaussianPolicy(nn.Module):
    """``π(·|s) = N(tanh(m(s)), diag(σ(s))²)`` with ``m``, ``log σ`` two heads of one ReLU MLP."""

    def __init__(
        self, obs_dim: int, hidden: list[int], action_dim: int, log_std_min: float = -5.0, log_std_max: float = 1.0
    ) -> None:
        super().__init__()
        self.trunk = make_mlp(obs_dim, hidden, "relu")
        self.mean_head = nn.Linear(hidden[-1], action_dim)
        self.log_std_head = nn.Linear(hidden[-1], action_dim)
        self.log_std_min, self.log_std_max = float(log_std_min), float(log_std_max)

    def distribution(self, obs_BS: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mean_BD, log_std_BD)``."""
        h_BH = self.trunk(obs_BS)
        log_std_BD = self.log_std_head(h_BH).clamp(self.log_std_min, self.log_std_max)
        return torch.tanh(self.mean_head(h_BH)), log_std_BD

    def forward(self, obs_BS: torch.Tensor) -> torch.Tensor:
        """The mean action (the deterministic action of the TD3 family's interface)."""
        return self.distribution(obs_BS)[0]

    def sample(self, obs_BS: torch.Tensor, num: int = 1) -> torch.Tensor:
        """``(B, num, D)`` samples clipped to [-1, 1] (no gradient to the policy: proposals only)."""
        with torch.no_grad():
            mean_BD, log_std_BD = self.distribution(obs_BS)
            noise_BND = torch.randn(mean_BD.shape[0], num, mean_BD.shape[1], device=mean_BD.device)
            return (mean_BD.unsqueeze(1) + noise_BND * log_std_BD.exp().unsqueeze(1)).clamp(-1.0, 1.0)

    def log_prob(self, obs_BS: torch.Tensor, actions_BND: torch.Tensor) -> torch.Tensor:
        """``log π(a_n | s)`` for N actions per state, shape (B, N)."""
        mean_BD, log_std_BD = self.distribution(obs_BS)
        return gaussian_log_prob(actions_BND, mean_BD, log_std_BD)

    def entropy(self, obs_BS: torch.Tensor) -> torch.Tensor:
        """Entropy of the (unclipped) Gaussian, ``Σ_d log σ_d + D/2 · log(2πe)``, shape (B,)."""
        log_std_BD = self.distribution(obs_BS)[1]
        return (log_std_BD + 0.5 + _HALF_LOG_2PI).sum(dim=-1)
