"""The SAVO-TD3 RLModule: successive actors, approximate surrogates, maximizer actor (thesis Ch.4 §4.4, Alg. 3).

On top of :class:`~rllib_modules.td3.module.TD3RLModule` (actor μ = ν_0, twin critics):

- ``k`` successive actors ν_i(s; a_<i), i = 1..k, each conditioned on the previous actions
  through a list summarizer and FiLM (T-AppC §F.1, F.3, F.4);
- ``k`` surrogates Ψ̂_i(s, a; a_<i) (2-layer ReLU MLPs on [s, a] conditioned the same way,
  T-AppC §F.2), regressed on the exact surrogate Ψ_i (Eq. 4.7) at two actions per state:
  the replayed action (the maximizer's executed action μ̃_M(s)) and ν_i's own proposal
  (Eq. 4.9). Ψ_i's target uses min(Q_1, Q_2) (twin critics for surrogates, §4.4.5 item 3);
- the maximizer μ_M(s) = argmax_i Q_1(s, a_i) (Eq. 4.5) acts and gives the TD target's
  next action (no target-policy smoothing unless ``target_policy_smoothing``, the
  "+ Action Smoothing" ablation).

Choices the sources leave open (ALGORITHMS.md §3.6), made here: ν_i sees the previous actions
with stop-gradient; μ_M(s') in the TD target uses the online actors and the online Q_1 for
its argmax, then the target critics for its value; Eq. 4.9's μ̃_M(s) is the replayed action;
exploration adds noise to every candidate (Alg. 3: â_i = a_i + ε_i), selects by Q_1, then adds
noise once more to the selected action (a = μ_M(s) + ε).

Discrete tasks (§4.4.5 item 5, T-AppC §F.1): every candidate is mapped to its nearest real
action before Q_1 scores it (the maximizer's ``mapped_candidates``), and so is the chain
whose Q-values give τ_i and Ψ_i's targets in training; the successive actors condition on the
unmapped a_<i (the same in acting and training), and Ψ̂_i is regressed at ν_i's continuous
proposal onto Ψ_i of its nearest item, i.e. a smooth surrogate of the piecewise-constant
landscape Q(s, f_NN(·)) whose gradient ν_i can follow.

Ablations (T-AppC §D.2) as options: ``approximate_surrogates=False`` (ν_i ascend the exact
Ψ_i, with zero gradient below the threshold), ``condition_on_previous=False`` (no a_<i input),
``film=False`` (the summary is concatenated to the input instead).

Run:  actlab run tune_specs/ch4_restricted_mujoco.yaml --set 'seeds=[0]'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from ray.rllib.core.columns import Columns
from torch import nn

from rllib_modules.savo.summarizer import FiLM, ListSummarizer, SummarizerType
from rllib_modules.savo.surrogates import exact_surrogate, surrogate_thresholds
from rllib_modules.td3.maximizer import MaximizerTD3RLModule
from rllib_modules.td3.module import TD3ModelOptions

__all__ = ["ConditionedMLP", "SAVOModelOptions", "SAVORLModule", "SUCCESSIVE_OBJECTIVE_KEY",
           "SURROGATE_PRED_KEY", "SURROGATE_TARGET_KEY"]

SUCCESSIVE_OBJECTIVE_KEY = "successive_objective"  # (B,) sum_i Ψ̂_i(s, ν_i(s)) -- gradient to the ν_i
SURROGATE_PRED_KEY = "surrogate_pred"  # (B, k, 2) Ψ̂_i at [replayed action, ν_i's action]
SURROGATE_TARGET_KEY = "surrogate_target"  # (B, k, 2) exact Ψ_i there (no gradient)


@dataclass(frozen=True)
class SAVOModelOptions(TD3ModelOptions):
    num_successive: int = 3
    summarizer: SummarizerType = "deepset"
    summary_hidden: int = 64
    film: bool = True
    condition_on_previous: bool = True
    approximate_surrogates: bool = True
    target_policy_smoothing: bool = False


class ConditionedMLP(nn.Module):
    """ReLU MLP whose hidden layers are FiLM-modulated by (or whose input is concatenated with) a condition."""

    def __init__(self, in_dim: int, hidden: list[int], out_dim: int, cond_dim: int, film: bool) -> None:
        super().__init__()
        self.film = film and cond_dim > 0
        dims = [in_dim + (cond_dim if not self.film else 0), *hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.films = nn.ModuleList(FiLM(cond_dim, h) for h in hidden) if self.film else None
        self.out = nn.Linear(dims[-1], out_dim)

    def forward(self, x_BI: torch.Tensor, cond_BC: torch.Tensor | None) -> torch.Tensor:
        if cond_BC is not None and not self.film:
            x_BI = torch.cat([x_BI, cond_BC], dim=-1)
        for i, layer in enumerate(self.layers):
            x_BI = torch.relu(layer(x_BI))
            if self.films is not None and cond_BC is not None:
                x_BI = self.films[i](x_BI, cond_BC)
        return self.out(x_BI)


class SAVORLModule(MaximizerTD3RLModule):
    """SAVO-TD3 (Alg. 3); ``model_config`` keys: :class:`SAVOModelOptions`."""

    options_class = SAVOModelOptions

    def setup(self) -> None:
        super().setup()
        opts: SAVOModelOptions = self.options  # type: ignore[assignment]
        k = int(opts.num_successive)
        cond = opts.summary_hidden if opts.condition_on_previous else 0

        def summarizers() -> nn.ModuleList | None:
            if not opts.condition_on_previous:
                return None
            return nn.ModuleList(
                ListSummarizer(self.obs_dim, self.action_dim, opts.summary_hidden, opts.summarizer) for _ in range(k)
            )

        self.actor_summarizers = summarizers()
        self.successive_actors = nn.ModuleList(
            ConditionedMLP(self.obs_dim, list(opts.actor_hidden), self.action_dim, cond, opts.film) for _ in range(k)
        )
        if not self.inference_only:
            self.surrogate_summarizers = summarizers()
            self.surrogates = nn.ModuleList(
                ConditionedMLP(self.obs_dim + self.action_dim, list(opts.critic_hidden), 1, cond, opts.film)
                for _ in range(k)
            )

    def get_non_inference_attributes(self) -> list[str]:
        return [*super().get_non_inference_attributes(), "surrogates", "surrogate_summarizers"]

    # -- the candidate chain ------------------------------------------------------------------

    def _condition(self, summarizers: nn.ModuleList | None, i: int, obs_BS: torch.Tensor, prev: list[torch.Tensor]) -> torch.Tensor | None:
        if summarizers is None:
            return None
        return summarizers[i](obs_BS, torch.stack(prev, dim=1).detach())

    def successive_action(self, i: int, obs_BS: torch.Tensor, prev: list[torch.Tensor]) -> torch.Tensor:
        """``ν_{i+1}(s; a_<i+1)`` in [-1, 1] (previous actions enter with stop-gradient)."""
        cond = self._condition(self.actor_summarizers, i, obs_BS, prev)
        return torch.tanh(self.successive_actors[i](obs_BS, cond))

    def surrogate_value(self, i: int, obs_BS: torch.Tensor, action_BD: torch.Tensor, prev: list[torch.Tensor]) -> torch.Tensor:
        """``Ψ̂_{i+1}(s, a; a_<i+1)``, shape (B,)."""
        cond = self._condition(self.surrogate_summarizers, i, obs_BS, prev)
        return self.surrogates[i](torch.cat([obs_BS, action_BD], dim=-1), cond).squeeze(-1)

    def candidates(self, obs_BS: torch.Tensor, noise: bool = False) -> torch.Tensor:
        """``(B, k+1, D)``: a_0 = μ(s), a_i = ν_i(s; a_<i); with noise â_i = a_i + ε_i (clipped).
        The maximizer maps them to real actions in discrete tasks (``mapped_candidates``); the
        chain itself conditions on the unmapped actions, in acting as in training."""
        prev = [self.actor(obs_BS)]
        for i in range(len(self.successive_actors)):
            prev.append(self.successive_action(i, obs_BS, prev))
        actions_BND = torch.stack(prev, dim=1)
        return self.add_noise(actions_BND) if noise else actions_BND

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out = super()._forward_train(batch, **kwargs)
        obs_BS = self.flat_obs(batch[Columns.OBS])
        replayed_BD = batch[Columns.ACTIONS].float()
        batch_size, k = obs_BS.shape[0], len(self.successive_actors)
        opts: SAVOModelOptions = self.options  # type: ignore[assignment]

        # The chain a_0 = μ(s), a_i = ν_i(s; a_<i) (gradient kept in `proposals` for the ν_i).
        prev = [self.actor(obs_BS).detach()]
        proposals = []
        for i in range(k):
            action_BD = self.successive_action(i, obs_BS, prev)
            proposals.append(action_BD)
            prev.append(action_BD.detach())

        # Twin-critic values of the chain and the replayed action, one batched pass each. In
        # discrete tasks Q sees the chain's nearest real actions (Alg. 3), so Ψ_i's targets are
        # the values of the items the maximizer would execute; the replayed actions are real
        # already (the module emits mapped actions).
        with torch.no_grad():
            points_MD = torch.cat([self.map_candidates(torch.cat(prev)), replayed_BD])  # (k+2)·B rows
            obs_MS = obs_BS.repeat(k + 2, 1)
            q_M = torch.minimum(self.q_value(self.q1, obs_MS, points_MD), self.q_value(self.q2, obs_MS, points_MD))
            q_chain_BN = q_M[: (k + 1) * batch_size].reshape(k + 1, batch_size).t()
            q_replayed_B = q_M[(k + 1) * batch_size :]
            taus_BK = surrogate_thresholds(q_chain_BN)[:, :k]  # τ_i = max_{j<i} Q(s, a_j), i = 1..k

        objective_B = torch.zeros(batch_size)
        preds, targets = [], []
        obs_2S = obs_BS.repeat(2, 1)
        for i in range(k):
            tau_B = taus_BK[:, i]
            targets.append(torch.stack([exact_surrogate(q_replayed_B, tau_B), exact_surrogate(q_chain_BN[:, i + 1], tau_B)], dim=1))
            # Ψ̂_i at [replayed; ν_i(s)] in one pass. The same outputs feed the surrogate loss
            # (the Learner differentiates it w.r.t. the surrogates only) and ν_i's objective
            # (differentiated w.r.t. the actors only), so no detach is needed.
            cond = self._condition(self.surrogate_summarizers, i, obs_BS, prev[: i + 1])
            cond_2C = None if cond is None else cond.repeat(2, 1)
            psi_2B = self.surrogates[i](torch.cat([obs_2S, torch.cat([replayed_BD, proposals[i]])], dim=-1), cond_2C).squeeze(-1)
            psi_replayed_B, psi_proposal_B = psi_2B[:batch_size], psi_2B[batch_size:]
            preds.append(torch.stack([psi_replayed_B, psi_proposal_B], dim=1))
            if opts.approximate_surrogates:  # Eq. 4.8 through the learned Ψ̂_i
                objective_B = objective_B + psi_proposal_B
            else:  # "- Approximation": the exact Ψ_i, flat (no gradient) below τ_i
                objective_B = objective_B + exact_surrogate(self.q_value(self.q1, obs_BS, proposals[i]), tau_B)
        out[SUCCESSIVE_OBJECTIVE_KEY] = objective_B
        out[SURROGATE_PRED_KEY] = torch.stack(preds, dim=1)
        out[SURROGATE_TARGET_KEY] = torch.stack(targets, dim=1)
        return out
