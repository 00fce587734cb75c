"""``cem``: the evolutionary (CEM) actor baseline of thesis Ch.4 §4.6.1 (ALGORITHMS.md §3.9).

"Evolutionary actor (CEM): CEM search over the action space (Kalashnikov et al., 2018)" on
the TD3 backbone. Per state, the cross-entropy method maximises Q_1(s, ·) over the action box,
starting from a Gaussian centred on the actor's μ(s):

    m_0 = μ(s), σ_0 = ``cem_init_std``
    for i = 1..``cem_iterations``:  sample ``cem_population`` actions from N(m, σ²) (clipped to
        [-1, 1]), keep the ``cem_elites`` best by Q_1, refit m, σ to them (σ ≥ 1e-3)

The candidates handed to the maximizer (:class:`~rllib_modules.td3.maximizer.MaximizerTD3RLModule`)
are ``[μ(s), best sample seen, final mean]``; the best by Q_1 acts (with the family's
exploration noise on every candidate and on the pick, Alg. 3) and is the TD target's next action,
so Q_1(s, chosen) ≥ Q_1(s, μ(s)) always.

Choices the sources leave open (made here, configurable):

- population 64, elites 6, 2 iterations: QT-Opt's CEM (Kalashnikov et al. 2018, §4);
  initial σ 0.5 in normalised action units (broad enough to leave μ's basin);
- the actor: ``actor_target="dpg"`` (default) keeps TD3's actor update (Eq. 4.3) -- CEM is
  then a search layer on top of an unchanged TD3, which is what "all baselines share the TD3
  backbone" (§3.9) suggests; ``"cem"`` instead regresses μ(s) onto the CEM solution
  (the maximizer's pick; Cross-Entropy Guided Policies, Simmons-Edler et al. 2019), i.e. it
  maximises ``-½‖μ(s) - a*(s)‖²``, at the price of one more CEM search per update.
- the search uses the online Q_1, for acting and for the TD target (as the maximizer does).

Discrete tasks (env with ``action_embeddings``): every CEM sample is scored at its nearest real
action (1-NN, :meth:`~rllib_modules.td3.module.TD3RLModule.map_candidates`), so Q is only
queried at real actions; the Gaussian is refitted to the continuous samples, and the
maximizer maps the final candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

import torch
from ray.rllib.core.columns import Columns

from rllib_modules.td3.maximizer import MaximizerTD3RLModule
from rllib_modules.td3.module import TD3ModelOptions
from rllib_modules.td3_variants.learner import ACTOR_OBJECTIVE_KEY
from rllib_modules.td3_variants.scoring import candidate_q

__all__ = ["CEMModelOptions", "CEMRLModule", "cem_maximize"]

CEMActorTarget = Literal["dpg", "cem"]
MIN_STD = 1e-3  # keeps the refitted Gaussian proper when the elites coincide


def cem_maximize(
    score: Callable[[torch.Tensor], torch.Tensor],
    mean_BD: torch.Tensor,
    init_std: float,
    population: int,
    elites: int,
    iterations: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """CEM over the box [-1, 1]^D, batched over states.

    Args:
        score: ``(B, P, D) -> (B, P)`` values to maximise (here Q_1(s, ·)).
        mean_BD: Initial means (the actor's μ(s)).

    Returns:
        ``(best_BD, best_score_B, mean_BD)``: the best sample seen in any iteration, its score,
        and the final mean.
    """
    batch, dim = mean_BD.shape
    mean_BD = mean_BD.detach()
    std_BD = torch.full_like(mean_BD, float(init_std))
    best_BD, best_B = mean_BD.clone(), torch.full((batch,), -torch.inf, device=mean_BD.device)
    rows = torch.arange(batch, device=mean_BD.device)
    for _ in range(int(iterations)):
        noise_BPD = torch.randn(batch, population, dim, generator=generator).to(mean_BD.device)
        samples_BPD = (mean_BD.unsqueeze(1) + std_BD.unsqueeze(1) * noise_BPD).clamp(-1.0, 1.0)
        q_BP = score(samples_BPD)
        top_BE = q_BP.topk(elites, dim=1).indices
        elites_BED = samples_BPD[rows.unsqueeze(1), top_BE]
        improved_B = q_BP[rows, top_BE[:, 0]] > best_B
        best_BD = torch.where(improved_B.unsqueeze(1), elites_BED[:, 0], best_BD)
        best_B = torch.where(improved_B, q_BP[rows, top_BE[:, 0]], best_B)
        mean_BD = elites_BED.mean(dim=1)
        std_BD = elites_BED.std(dim=1, unbiased=False).clamp_min(MIN_STD)
    return best_BD, best_B, mean_BD


@dataclass(frozen=True)
class CEMModelOptions(TD3ModelOptions):
    cem_population: int = 64  # QT-Opt
    cem_elites: int = 6  # QT-Opt
    cem_iterations: int = 2  # QT-Opt
    cem_init_std: float = 0.5  # unspecified in the sources
    actor_target: CEMActorTarget = "dpg"


class CEMRLModule(MaximizerTD3RLModule):
    """TD3 with a CEM search over Q_1(s, ·) started at μ(s); the best of [μ, CEM best, CEM mean] acts."""

    options_class = CEMModelOptions

    def cem(self, obs_BS: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(μ(s), best sample, final mean)`` of a CEM search on Q_1 (no gradient)."""
        opts: CEMModelOptions = self.options  # type: ignore[assignment]
        with torch.no_grad():
            mu_BD = self.actor(obs_BS)
            best_BD, _, mean_BD = cem_maximize(
                lambda actions_BPD: candidate_q(self.q1, obs_BS, self.map_candidates(actions_BPD)), mu_BD,
                opts.cem_init_std, opts.cem_population, opts.cem_elites, opts.cem_iterations,
            )
        return mu_BD, best_BD, mean_BD

    def candidates(self, obs_BS: torch.Tensor, noise: bool = False) -> torch.Tensor:
        actions_BND = torch.stack(self.cem(obs_BS), dim=1)
        return self.add_noise(actions_BND) if noise else actions_BND

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        out = super()._forward_train(batch, **kwargs)
        if self.options.actor_target == "cem":  # type: ignore[attr-defined]
            obs_BS = self.flat_obs(batch[Columns.OBS])
            with torch.no_grad():
                solution_BD = self.acting_action(obs_BS)
            out[ACTOR_OBJECTIVE_KEY] = -0.5 * (self.actor(obs_BS) - solution_BD).pow(2).sum(dim=-1)
        return out
