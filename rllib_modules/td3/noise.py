"""Exploration noise of the deterministic-actor family (TD3: Gaussian; DDPG/SAVO: Ornstein-Uhlenbeck).

Thesis Ch.4 §4.4.5 item 2: SAVO adds OU noise (Lillicrap et al. 2016) to each candidate
action, and reports that Gaussian noise does about as well (T-AppC §E.3). Fujimoto et al.
(2018) use Gaussian N(0, 0.1) in TD3. Both act on actions normalised to [-1, 1].

The OU process is temporally correlated, so it keeps one state per row of the acting
batch (one row per vectorised env on an EnvRunner). It restarts from 0 when the batch
shape changes (a new EnvRunner or evaluation batch); it is *not* reset at episode
boundaries, because an RLModule does not see them. With θ = 0.15 the correlation time is
about 1/θ ≈ 7 steps, far shorter than the episodes here, so the stale start matters little.
"""

from __future__ import annotations

from typing import Literal

import torch

__all__ = ["ExplorationNoise", "NoiseType"]

NoiseType = Literal["gaussian", "ou"]


class ExplorationNoise:
    """``sample(shape) -> noise``: i.i.d. Gaussian or an OU process per batch row.

    Args:
        kind: ``"gaussian"`` or ``"ou"``.
        sigma: Standard deviation (Gaussian) or diffusion scale (OU) in normalised units.
        ou_theta: Mean-reversion rate θ of the OU process (dt = 1).
    """

    def __init__(self, kind: NoiseType = "gaussian", sigma: float = 0.1, ou_theta: float = 0.15) -> None:
        if kind not in ("gaussian", "ou"):
            raise ValueError(f"exploration noise must be 'gaussian' or 'ou', got {kind!r}")
        self.kind, self.sigma, self.ou_theta = kind, float(sigma), float(ou_theta)
        self._ou_state: torch.Tensor | None = None

    def sample(self, shape: torch.Size | tuple[int, ...], scale: float = 1.0) -> torch.Tensor:
        """Noise of ``shape`` (batch first), times ``scale`` (e.g. a decaying ε)."""
        if self.kind == "gaussian":
            return torch.randn(shape) * (self.sigma * scale)
        state = self._ou_state
        if state is None or tuple(state.shape) != tuple(shape):
            state = torch.zeros(shape)
        # x_{t+1} = x_t - θ x_t + σ ε  (Euler step, dt = 1)
        state = state - self.ou_theta * state + self.sigma * torch.randn(shape)
        self._ou_state = state
        return state * scale
