"""Q-values of several candidate actions per state in one critic pass (shared by the Ch.4 baselines)."""

from __future__ import annotations

import torch
from torch import nn

from rllib_modules.td3.module import TD3RLModule

__all__ = ["candidate_q"]


def candidate_q(critic: nn.Module, obs_BS: torch.Tensor, actions_BND: torch.Tensor) -> torch.Tensor:
    """``Q(s_b, a_bn)`` for N actions per state, shape (B, N); gradients flow to the actions."""
    batch, n, dim = actions_BND.shape
    obs_MS = obs_BS.unsqueeze(1).expand(-1, n, -1).reshape(batch * n, -1)
    return TD3RLModule.q_value(critic, obs_MS, actions_BND.reshape(batch * n, dim)).reshape(batch, n)
