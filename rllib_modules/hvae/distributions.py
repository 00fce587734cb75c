"""Closed-form terms of the ELBO (Eq. 2.2): Gaussian / categorical log-likelihoods and KLs.

All functions reduce over the **last** axis only (the event dimensions), so callers choose
how to sum over states, observations and actions. Gaussians are diagonal and given by
``(mean, logvar)``.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

__all__ = [
    "LOG_2PI",
    "gaussian_log_likelihood",
    "categorical_log_likelihood",
    "kl_diag_gaussians",
    "kl_std_normal",
    "reparameterize",
]

LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``log N(x; mean, diag(exp(logvar)))`` summed over the last axis."""
    return -0.5 * (LOG_2PI + logvar + (x - mean) ** 2 * torch.exp(-logvar)).sum(-1)


def categorical_log_likelihood(logits: torch.Tensor, target_idx: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Sum of per-group softmax log-probabilities (= minus the summed cross-entropies).

    ``logits`` is ``(..., G * n_classes)``: G groups (one per state coordinate) of
    ``n_classes`` logits; ``target_idx`` is ``(..., G)`` integer classes. Returns ``(...)``.
    """
    groups = target_idx.shape[-1]
    logp = F.log_softmax(logits.unflatten(-1, (groups, n_classes)), dim=-1)
    return logp.gather(-1, target_idx.long().unsqueeze(-1)).squeeze(-1).sum(-1)


def kl_diag_gaussians(
    mean_q: torch.Tensor, logvar_q: torch.Tensor, mean_p: torch.Tensor, logvar_p: torch.Tensor
) -> torch.Tensor:
    """``KL(N(mean_q, e^logvar_q) || N(mean_p, e^logvar_p))`` summed over the last axis."""
    return 0.5 * (
        logvar_p - logvar_q + (torch.exp(logvar_q) + (mean_q - mean_p) ** 2) * torch.exp(-logvar_p) - 1.0
    ).sum(-1)


def kl_std_normal(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mean, e^logvar) || N(0, I))`` summed over the last axis."""
    return 0.5 * (mean**2 + torch.exp(logvar) - 1.0 - logvar).sum(-1)


def reparameterize(
    mean: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A sample ``mean + exp(logvar / 2) * eps``, ``eps ~ N(0, I)`` (differentiable in both)."""
    eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
    return mean + torch.exp(0.5 * logvar) * eps
