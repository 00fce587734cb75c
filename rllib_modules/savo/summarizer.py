"""Conditioning of successive actors and surrogates on the previous actions (thesis T-AppC §F.1-F.4).

- :class:`ListSummarizer`: each previous action ``a_j`` is concatenated with the state, and
  the list ``{[s, a_j]}_{j<i}`` is summarised into one vector: ``deepset`` (default; 2-layer
  ReLU MLP per item -> mean -> 2-layer ReLU MLP; permutation invariant), ``lstm`` (MLP ->
  bidirectional 2-layer LSTM -> mean over the list -> MLP) or ``transformer`` (MLP -> one
  self-attention encoder layer -> mean -> MLP). An empty list (ν_0 = μ) is never summarised.
- :class:`FiLM`: ``FiLM(F) = γ ⊙ F + β`` with ``(γ, β)`` a linear map of the summary
  (initialised to the identity, γ = 1 and β = 0); which layers are modulated is unspecified
  in the sources: here every hidden layer of the actor / surrogate MLP.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from rllib_modules.common.mlp import make_mlp

__all__ = ["FiLM", "ListSummarizer", "SummarizerType"]

SummarizerType = Literal["deepset", "lstm", "transformer"]


class ListSummarizer(nn.Module):
    """``summary_BH = summarise({[s, a_j]}_j)`` for ``prev_BJD`` (J previous actions)."""

    def __init__(self, state_dim: int, action_dim: int, hidden: int, kind: SummarizerType = "deepset") -> None:
        super().__init__()
        self.kind = kind
        self.item = make_mlp(state_dim + action_dim, [hidden, hidden], "relu")
        if kind == "lstm":
            self.sequence = nn.LSTM(hidden, hidden // 2, num_layers=2, batch_first=True, bidirectional=True)
        elif kind == "transformer":
            self.sequence = nn.TransformerEncoderLayer(hidden, nhead=4 if hidden % 4 == 0 else 1, dim_feedforward=2 * hidden,
                                                       dropout=0.0, batch_first=True)
        elif kind != "deepset":
            raise ValueError(f"summarizer must be deepset, lstm or transformer, got {kind!r}")
        self.post = make_mlp(hidden, [hidden, hidden], "relu")
        self.out_dim = hidden

    def forward(self, state_BS: torch.Tensor, prev_BJD: torch.Tensor) -> torch.Tensor:
        items = prev_BJD.shape[1]
        state_BJS = state_BS.unsqueeze(1).expand(-1, items, -1)
        h_BJH = self.item(torch.cat([state_BJS, prev_BJD], dim=-1))
        if self.kind == "lstm":
            h_BJH = self.sequence(h_BJH)[0]
        elif self.kind == "transformer":
            h_BJH = self.sequence(h_BJH)
        return self.post(h_BJH.mean(dim=1))


class FiLM(nn.Module):
    """Feature-wise affine modulation of ``features_BF`` by a conditioning vector."""

    def __init__(self, cond_dim: int, feature_dim: int) -> None:
        super().__init__()
        self.affine = nn.Linear(cond_dim, 2 * feature_dim)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def forward(self, features_BF: torch.Tensor, cond_BC: torch.Tensor) -> torch.Tensor:
        gamma_BF, beta_BF = self.affine(cond_BC).chunk(2, dim=-1)
        return (1.0 + gamma_BF) * features_BF + beta_BF
