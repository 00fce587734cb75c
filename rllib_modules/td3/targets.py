"""The TD3 critic target (Fujimoto et al. 2018, Alg. 1; thesis Ch.4 §4.3.1, Alg. 3).

Kept as small pure functions so that tests can check them against hand-computed numbers,
and so that SAVO (which replaces the target action, §4.4.5: μ_M(s') without smoothing) and
the other actor variants reuse the same arithmetic.
"""

from __future__ import annotations

import torch

__all__ = ["clipped_double_q_target", "smoothed_target_action"]


def smoothed_target_action(
    action_BD: torch.Tensor, noise_std: float, noise_clip: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Target-policy smoothing: ``clip(a + clip(ε, -c, c), -1, 1)``, ``ε ~ N(0, σ²)``.

    Actions are in RLlib's normalised range [-1, 1].
    """
    noise_BD = (torch.randn(action_BD.shape, generator=generator) * noise_std).clamp(-noise_clip, noise_clip)
    return (action_BD + noise_BD.to(action_BD.device)).clamp(-1.0, 1.0)


def clipped_double_q_target(
    rewards_B: torch.Tensor,
    terminateds_B: torch.Tensor,
    q1_next_B: torch.Tensor,
    q2_next_B: torch.Tensor,
    gamma: float,
    n_step_B: torch.Tensor | float = 1,
) -> torch.Tensor:
    """``y = r + γ^n · (1 - terminated) · min(Q'_1(s', ã), Q'_2(s', ã))``.

    ``rewards_B`` is the (discounted, n-step) return of the replayed chunk and ``n_step_B``
    its length, as RLlib's episode replay buffer provides them; truncated (time-limit)
    transitions bootstrap, terminated ones do not.
    """
    not_done_B = 1.0 - terminateds_B.float()
    discount_B = torch.as_tensor(gamma, dtype=rewards_B.dtype) ** torch.as_tensor(n_step_B, dtype=rewards_B.dtype)
    return rewards_B + discount_B * not_done_B * torch.minimum(q1_next_B, q2_next_B)
