"""Multi-candidate baselines of thesis Ch.4 §4.6.1 on the TD3 base (ALGORITHMS.md §3.9).

- :class:`WolpertingerRLModule` ("TD3 + Sampling"): μ(s) plus ``k`` Gaussian samples around
  it, the best by Q_1 acts and bootstraps. The sampling σ is unspecified in the sources
  (default 0.3 in normalised units). Discrete form (Dulac-Arnold et al. 2015; env with
  ``action_embeddings``): the ``k + 1`` nearest items of μ(s) (of μ(s) + ε when exploring),
  best by Q_1 -- μ's own nearest item plus ``k`` more, the same candidate count as the
  continuous form's μ(s) + k samples and as SAVO's a_0..a_k (the sources say "the k
  nearest-neighbour discrete actions" and k = 3 for every method).
- :class:`EnsembleRLModule` ("k-Actors"): ``k`` independently initialised actors, each trained
  on Q_1 like TD3's actor (the sources leave this open; "presumably yes"), the best proposal
  by Q_1 acts and bootstraps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from rllib_modules.td3.maximizer import MaximizerTD3RLModule
from rllib_modules.td3.module import Q_PI_KEY, TD3ModelOptions

__all__ = ["EnsembleRLModule", "VariantModelOptions", "WolpertingerRLModule"]


@dataclass(frozen=True)
class VariantModelOptions(TD3ModelOptions):
    num_candidates: int = 3  # k (T §4.6.1)
    sample_sigma: float = 0.3  # Wolpertinger's sampling std (unspecified in the sources)


class WolpertingerRLModule(MaximizerTD3RLModule):
    options_class = VariantModelOptions

    def mapped_candidates(self, obs_BS: torch.Tensor, noise: bool = False) -> torch.Tensor:
        if self.item_index is None:
            return super().mapped_candidates(obs_BS, noise=noise)
        mu_BD = self.actor(obs_BS)
        proto_BD = self.add_noise(mu_BD) if noise else mu_BD
        _, items_BND = self.item_index.query_k(proto_BD.detach(), int(self.options.num_candidates) + 1)
        return items_BND.to(device=mu_BD.device, dtype=mu_BD.dtype)

    def candidates(self, obs_BS: torch.Tensor, noise: bool = False) -> torch.Tensor:
        mu_BD = self.actor(obs_BS)
        k = int(self.options.num_candidates)
        samples_BKD = mu_BD.unsqueeze(1) + torch.randn(mu_BD.shape[0], k, self.action_dim) * self.options.sample_sigma
        actions_BND = torch.cat([mu_BD.unsqueeze(1), samples_BKD.clamp(-1.0, 1.0)], dim=1)
        return self.add_noise(actions_BND) if noise else actions_BND


class EnsembleRLModule(MaximizerTD3RLModule):
    options_class = VariantModelOptions

    def setup(self) -> None:
        super().setup()
        # Candidate 0 is TD3's own actor; the other k - 1 are independent copies.
        self.extra_actors = nn.ModuleList(self.build_actor() for _ in range(int(self.options.num_candidates) - 1))

    def candidates(self, obs_BS: torch.Tensor, noise: bool = False) -> torch.Tensor:
        actions_BND = torch.stack([self.actor(obs_BS), *(a(obs_BS) for a in self.extra_actors)], dim=1)
        return self.add_noise(actions_BND) if noise else actions_BND

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out = super()._forward_train(batch, **kwargs)
        obs_BS = self.flat_obs(batch["obs"])
        # Every actor ascends Q_1 (the Learner's actor loss is -mean of this sum).
        for actor in self.extra_actors:
            out[Q_PI_KEY] = out[Q_PI_KEY] + self.q_value(self.q1, obs_BS, actor(obs_BS))
        return out
