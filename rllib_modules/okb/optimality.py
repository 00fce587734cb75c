"""OKB's practical optimality check: the mean positive advantage of Eq. 21 (OKB §4.1, Thm. 4.2, App. E).

Thm. 4.2: if a meta-policy ω* trained to convergence on task r has a positive advantage
``A^ω*_r(s, a) > 0`` (Eq. 9) somewhere, action a is not expressible by the OK with base policies
Π_k, so the OK cannot be optimal for r. App. E tests this on transitions
``(s_i, a_i, φ_i, s'_i)`` replayed from the base policies' training and a candidate task w:

    Â_w(s_i, a_i) = φ_i·w + γ ψ^ω(s'_i, ω(s'_i, w), w)·w − ψ^ω(s_i, ω(s_i, w), w)·w
    MPA(w) = (Σ_i 1{Â_w > 0})^{-1} Σ_i max(Â_w, 0)                                    (Eq. 21)

and Alg. 1 line 14 picks the candidate with the largest MPA.

- :func:`advantage_estimates` and :func:`mean_positive_advantage` are the pure arithmetic;
- :func:`ok_mean_positive_advantages` evaluates ψ^ω and ω (eval mode, no gradients) for C
  candidate tasks at once;
- :func:`select_task` applies the threshold and the argmax.

Choices where the paper is silent (ALGORITHMS.md §5.5): **MPA is 0** when no sample has a
positive advantage (Eq. 21 is 0/0 there); a task is a candidate iff ``MPA > threshold`` with
``threshold = 0`` by default; ``terminated_B`` optionally masks the bootstrap of terminal
transitions (Eq. 21 has no mask; the value after a terminal state is 0, so pass it when known);
ties in the argmax go to the lowest candidate index.
"""

from __future__ import annotations

import torch

from rllib_modules.okb.gpi import first_argmax
from rllib_modules.okb.option_keyboard import training_mode

__all__ = [
    "advantage_estimates",
    "mean_positive_advantage",
    "ok_mean_positive_advantages",
    "select_task",
]


def advantage_estimates(
    phi_BD: torch.Tensor,
    w: torch.Tensor,
    psi_BD: torch.Tensor,
    psi_next_BD: torch.Tensor,
    gamma: float,
    terminated_B: torch.Tensor | None = None,
) -> torch.Tensor:
    """``Â_i = φ_i·w + γ (1 − terminated_i) ψ^ω_next,i·w − ψ^ω_i·w`` (App. E), shape ``(B,)``.

    ``w`` is one task ``(d,)`` or one per sample ``(B, d)``; ``psi_BD`` / ``psi_next_BD`` are
    ``ψ^ω(s_i, ω(s_i, w), w)`` and ``ψ^ω(s'_i, ω(s'_i, w), w)``.
    """
    w_BD = w.expand_as(phi_BD) if w.dim() == 1 else w
    bootstrap_BD = psi_next_BD
    if terminated_B is not None:
        bootstrap_BD = psi_next_BD * (1.0 - terminated_B.to(psi_next_BD.dtype)).unsqueeze(-1)
    return ((phi_BD + gamma * bootstrap_BD - psi_BD) * w_BD).sum(dim=-1)


def mean_positive_advantage(advantages: torch.Tensor) -> torch.Tensor:
    """Eq. 21 over the last axis: the mean of the positive advantages; 0 where none is positive.

    ``advantages`` is ``(B,)`` (returns a scalar) or ``(C, B)`` (returns ``(C,)``).
    """
    positive = advantages > 0
    total = torch.where(positive, advantages, torch.zeros_like(advantages)).sum(dim=-1)
    count = positive.sum(dim=-1)
    return torch.where(count > 0, total / count.clamp(min=1).to(total.dtype), torch.zeros_like(total))


@torch.no_grad()
def ok_mean_positive_advantages(
    critic: torch.nn.Module,
    meta_policy: torch.nn.Module,
    obs_BS: torch.Tensor,
    phi_BD: torch.Tensor,
    next_obs_BS: torch.Tensor,
    weights_CD: torch.Tensor,
    gamma: float,
    *,
    terminated_B: torch.Tensor | None = None,
    max_rows: int = 65536,
) -> torch.Tensor:
    """MPA (Eq. 21) of each of C candidate tasks on one replay sample of B transitions, ``(C,)``.

    ``ψ^ω(s, ω(s, w), w)`` at s and s' is evaluated for all (candidate, transition) pairs in
    batches of at most ``max_rows`` rows, with ω and the critic in eval mode (running BatchNorm
    statistics) and their training flags restored afterwards.
    """
    C, D = weights_CD.shape
    B = obs_BS.shape[0]
    per_chunk = max(1, max_rows // max(1, 2 * B))
    mpa_chunks: list[torch.Tensor] = []
    with training_mode(meta_policy, False), training_mode(critic, False):
        for start in range(0, C, per_chunk):
            w_cD = weights_CD[start : start + per_chunk].to(obs_BS.dtype)
            c = w_cD.shape[0]
            # Rows ordered (candidate, [s; s'], transition): one critic pass for both states.
            obs_YS = torch.cat([obs_BS, next_obs_BS], dim=0).expand(c, *((2 * B,) + obs_BS.shape[1:]))
            obs_YS = obs_YS.reshape(c * 2 * B, *obs_BS.shape[1:])
            w_YD = w_cD.unsqueeze(1).expand(c, 2 * B, D).reshape(c * 2 * B, D)
            psi_c2BD = critic(obs_YS, meta_policy(obs_YS, w_YD), w_YD).view(c, 2, B, D)
            adv_X = advantage_estimates(
                phi_BD.unsqueeze(0).expand(c, B, D).reshape(c * B, D),
                w_cD.unsqueeze(1).expand(c, B, D).reshape(c * B, D),
                psi_c2BD[:, 0].reshape(c * B, D),
                psi_c2BD[:, 1].reshape(c * B, D),
                gamma,
                None if terminated_B is None else terminated_B.repeat(c),
            )
            adv_cB = adv_X.view(c, B)
            mpa_chunks.append(mean_positive_advantage(adv_cB))
    return torch.cat(mpa_chunks) if mpa_chunks else torch.zeros(0, dtype=obs_BS.dtype)


def select_task(mpa_C: torch.Tensor, threshold: float = 0.0) -> tuple[torch.Tensor, int | None]:
    """Alg. 1 lines 8-14: the candidate mask ``MPA > threshold`` and the index of the largest MPA
    among the candidates (lowest index on ties), or None when C is empty (OKB stops)."""
    mask_C = mpa_C > threshold
    if not bool(mask_C.any()):
        return mask_C, None
    masked_C = torch.where(mask_C, mpa_C, torch.full_like(mpa_C, float("-inf")))
    return mask_C, int(first_argmax(masked_C, dim=0))
