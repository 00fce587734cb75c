"""The maximizer actor and the successive surrogates of SAVO (thesis §4.4.1-§4.4.2, Eqs. 4.5-4.7).

Pure functions over Q-values, so tests can check them against a direct computation:

(The maximizer μ_M of Eq. 4.5 is :func:`rllib_modules.td3.maximizer.maximizer_index`.)
- ``exact_surrogate``: Ψ_i(s, a; a_<i) = max{Q(s, a), max_{j<i} Q(s, a_j)}  (Eqs. 4.6-4.7).
"""

from __future__ import annotations

import torch

__all__ = ["exact_surrogate", "surrogate_thresholds"]


def surrogate_thresholds(q_prev_BN: torch.Tensor) -> torch.Tensor:
    """``τ_i = max_{j<i} Q(s, a_j)`` for i = 1..N (column i-1 holds τ_i): a running max."""
    return torch.cummax(q_prev_BN, dim=1).values


def exact_surrogate(q_a_B: torch.Tensor, tau_B: torch.Tensor) -> torch.Tensor:
    """Ψ_i = max{Q(s, a), τ_i}: Q itself above the best previous value, flat below it."""
    return torch.maximum(q_a_B, tau_B)
