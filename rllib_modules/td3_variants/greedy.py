"""``greedy-ac`` and ``greedy-td3``: Greedy Actor-Critic baselines of thesis Ch.4 §4.6.1 (ALGORITHMS.md §3.9).

Greedy Actor-Critic (Neumann et al. 2018; ICLR 2023 "a new conditional cross-entropy method
for policy improvement") in the TD3 family's terms. Per replayed state s:

1. a *proposal* policy π̃(·|s) (a :class:`~rllib_modules.td3_variants.gaussian.GaussianPolicy`)
   samples ``num_samples`` = N actions;
2. they are ranked by Q_1(s, ·); the top ⌊ρN⌋ (``rho``) are the actor's targets and the top
   ⌊ρ̃N⌋ (``proposal_rho``) the proposal's (:func:`top_fraction`);
3. the actor maximises the log-likelihood of its targets (a conditional CEM step, no DPG):
   ``mean_{a ∈ top ρ} log π(a|s)``;
4. the proposal maximises ``mean_{a ∈ top ρ̃} log π̃(a|s) + α H(π̃(·|s))`` (``proposal_entropy``
   = α): it stays broad, so the actor can be pulled out of a local optimum.

The two names differ in the rest of the agent ("Greedy TD3: our version of Greedy-AC with
TD3 exploration and update improvements", T §4.6.1; details unspecified):

- ``greedy-ac`` (``stochastic_actor``): the actor is a Gaussian policy π; it explores by
  sampling from itself (the family's extra exploration noise defaults to σ = 0) and acts
  greedily with its mean; the TD target bootstraps from a' ~ π(·|s') of the *online* actor with
  a single target critic Q'_1 (``clipped_double_q=False``: Q_2 is still regressed but unused),
  and the actor is updated on every step (``policy_delay=1``), as in Neumann et al.'s code.
- ``greedy-td3``: TD3's deterministic actor μ with TD3's Gaussian exploration noise, clipped
  double-Q targets, a target actor with target-policy smoothing and delayed actor updates. A
  deterministic actor's log-likelihood is taken as that of N(μ(s), I), i.e. the objective
  ``-½ mean_{a ∈ top ρ} ‖μ(s) - a‖²`` (regression onto the best proposals).

Discrete tasks (env with ``action_embeddings``): the proposals are mapped to their nearest
real actions (1-NN) before Q ranks them, so the actor and the proposal learn towards real
actions; greedy-ac's sampled acting and target actions are mapped too (the base module maps
μ's).

Other choices the sources leave open (made here, configurable in the settings): N = 30,
ρ = ρ̃ = 0.1 (Neumann et al.'s reference configuration: the top 3 of 30), α = 0.01 (they
sweep 1e-3..10), the proposal's entropy is the analytic one of its Gaussian, and the
ranking uses the online Q_1 (the family's maximizer critic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from ray.rllib.core.columns import Columns
from torch import nn

from rllib_modules.td3.module import Q_NEXT1_KEY, Q_NEXT2_KEY, TD3ModelOptions, TD3RLModule
from rllib_modules.td3_variants.gaussian import GaussianPolicy
from rllib_modules.td3_variants.learner import ACTOR_OBJECTIVE_KEY, PROPOSAL_OBJECTIVE_KEY
from rllib_modules.td3_variants.scoring import candidate_q

__all__ = ["GreedyModelOptions", "GreedyRLModule", "elite_count", "regression_log_likelihood", "top_fraction"]


def elite_count(rho: float, num: int) -> int:
    """⌊ρ·N⌋, at least 1 (the small epsilon absorbs float error, e.g. 0.1 · 30)."""
    return max(1, int(math.floor(rho * num + 1e-9)))


def top_fraction(q_BN: torch.Tensor, actions_BND: torch.Tensor, rho: float) -> torch.Tensor:
    """The ⌊ρN⌋ actions with the highest Q per row, best first (ties: the earlier sample), (B, M, D)."""
    count = elite_count(rho, q_BN.shape[1])
    order_BN = torch.sort(q_BN, dim=1, descending=True, stable=True).indices
    top_BM = order_BN[:, :count]
    return actions_BND[torch.arange(q_BN.shape[0], device=q_BN.device).unsqueeze(1), top_BM]


def regression_log_likelihood(action_BD: torch.Tensor, targets_BMD: torch.Tensor) -> torch.Tensor:
    """``-½ mean_m ‖a - t_m‖²``: the log-likelihood of the targets under N(a, I) up to a constant, (B,)."""
    return -0.5 * (targets_BMD - action_BD.unsqueeze(1)).pow(2).sum(dim=-1).mean(dim=1)


@dataclass(frozen=True)
class GreedyModelOptions(TD3ModelOptions):
    stochastic_actor: bool = False  # True: greedy-ac's Gaussian actor; False: greedy-td3's μ
    clipped_double_q: bool = True  # False: TD target from Q'_1 alone (greedy-ac)
    num_samples: int = 30  # N proposals per state (Neumann et al.)
    rho: float = 0.1  # the actor's top fraction
    proposal_rho: float = 0.1  # the proposal's top fraction
    proposal_entropy: float = 0.01  # α


class GreedyRLModule(TD3RLModule):
    """Greedy Actor-Critic on the TD3 base: ``proposal`` (Learner only) and a Gaussian or deterministic actor."""

    options_class = GreedyModelOptions

    def setup(self) -> None:
        super().setup()
        if not self.inference_only:
            self.proposal = GaussianPolicy(self.obs_dim, list(self.options.actor_hidden), self.action_dim)

    def build_actor(self) -> nn.Module:
        if self.options.stochastic_actor:  # type: ignore[attr-defined]
            return GaussianPolicy(self.obs_dim, list(self.options.actor_hidden), self.action_dim)
        return super().build_actor()

    def get_non_inference_attributes(self) -> list[str]:
        return [*super().get_non_inference_attributes(), "proposal"]

    def exploring_action(self, obs_BS: torch.Tensor) -> torch.Tensor:
        if self.options.stochastic_actor:  # type: ignore[attr-defined]
            return self.actor.sample(obs_BS)[:, 0]
        return super().exploring_action(obs_BS)

    def target_action(self, next_obs_BS: torch.Tensor) -> torch.Tensor:
        if self.options.stochastic_actor:  # type: ignore[attr-defined]
            return self.map_candidates(self.actor.sample(next_obs_BS)[:, 0])  # a' ~ π(·|s') of the online actor
        return super().target_action(next_obs_BS)

    def actor_log_likelihood(self, obs_BS: torch.Tensor, targets_BMD: torch.Tensor) -> torch.Tensor:
        """The actor's objective: mean log-likelihood of the top proposals, (B,)."""
        if self.options.stochastic_actor:  # type: ignore[attr-defined]
            return self.actor.log_prob(obs_BS, targets_BMD).mean(dim=1)
        return regression_log_likelihood(self.actor(obs_BS), targets_BMD)

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out = super()._forward_train(batch, **kwargs)
        opts: GreedyModelOptions = self.options  # type: ignore[assignment]
        if not opts.clipped_double_q:  # min(Q'_1, Q'_1) = Q'_1 in the Learner's target
            out[Q_NEXT2_KEY] = out[Q_NEXT1_KEY]
        obs_BS = self.flat_obs(batch[Columns.OBS])
        samples_BND = self.map_candidates(self.proposal.sample(obs_BS, opts.num_samples))
        with torch.no_grad():
            q_BN = candidate_q(self.q1, obs_BS, samples_BND)
        out[ACTOR_OBJECTIVE_KEY] = self.actor_log_likelihood(obs_BS, top_fraction(q_BN, samples_BND, opts.rho))
        proposal_targets_BMD = top_fraction(q_BN, samples_BND, opts.proposal_rho)
        out[PROPOSAL_OBJECTIVE_KEY] = (
            self.proposal.log_prob(obs_BS, proposal_targets_BMD).mean(dim=1) + opts.proposal_entropy * self.proposal.entropy(obs_BS)
        )
        return out
