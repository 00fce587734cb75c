"""The ELBO of Eq. 2.2 from a model's intermediate distributions, and the training loss.

For one action (observation set O, observations o)::

    ELBO(O) = sum_{o in O} [ E_q log p(o | z, c) - KL(q(z | o, c) || p(z | c)) ] - KL(q(c | O) || p(c))

estimated with one reparameterised sample of c per action and one of z per observation.
The flat VAE is the same with no c (``kl_c = 0``, p(z) = N(0, I)).

:class:`ELBOTerms` holds the per-observation / per-action pieces; :func:`elbo_loss` turns
them into the minimised loss, normalised **per observation** (the reference code's
normalisation, so the loss scale does not depend on the batch shape):

    loss = -( sum ll - w_z * sum kl_z - w_c * sum kl_c ) / (B * N)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rllib_modules.hvae.config import HVAEConfig
from rllib_modules.hvae.distributions import categorical_log_likelihood, gaussian_log_likelihood
from rllib_modules.hvae.networks import DecodedTrajectory, Featurized

__all__ = ["ELBOTerms", "reconstruction_log_likelihood", "elbo_loss"]


@dataclass
class ELBOTerms:
    """Pieces of Eq. 2.2 for a batch of B actions x N observations."""

    recon_ll_BN: torch.Tensor
    """log p(o | z, c) of each observation (summed over its future states and features)."""
    kl_z_BN: torch.Tensor
    """KL(q(z | o, c) || p(z | c)) of each observation."""
    kl_c_B: torch.Tensor
    """KL(q(c | O) || p(c)) of each action (zeros for the flat VAE)."""

    def elbo_per_action(self) -> torch.Tensor:
        """``(B,)``: Eq. 2.2 for each action set."""
        return (self.recon_ll_BN - self.kl_z_BN).sum(1) - self.kl_c_B


def reconstruction_log_likelihood(feats: Featurized, recon: DecodedTrajectory, config: HVAEConfig) -> torch.Tensor:
    """``(B, N)`` log-likelihood of each observation's future states under the decoder.

    'xy': diagonal Gaussian; 'one_hot': softmax over the grid cells of each coordinate
    (minus the summed cross-entropies), as in T-AppA §B.
    """
    if config.data_type == "xy":
        assert recon.mean_BNtF is not None and recon.logvar_BNtF is not None and feats.target_BNtF is not None
        ll_BNt = gaussian_log_likelihood(feats.target_BNtF, recon.mean_BNtF, recon.logvar_BNtF)
    else:
        assert recon.logits_BNtF is not None and feats.target_idx_BNtS is not None
        ll_BNt = categorical_log_likelihood(recon.logits_BNtF, feats.target_idx_BNtS, config.grid_size)
    return ll_BNt.sum(-1)


def elbo_loss(
    terms: ELBOTerms, kl_c_weight: float = 1.0, kl_z_weight: float = 1.0
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The loss to minimise and detached metrics, all per observation except ``kl_c``.

    Metrics: ``loss``; ``elbo`` (unweighted Eq. 2.2 per observation); ``recon_ll``
    (mean log p(o|z,c)); ``kl_z`` (mean per observation); ``kl_c`` (mean per action);
    ``kl_c_per_obs`` (its share per observation, as it enters ``elbo``).
    """
    b, n = terms.recon_ll_BN.shape
    total = b * n
    ll = terms.recon_ll_BN.sum()
    kl_z = terms.kl_z_BN.sum()
    kl_c = terms.kl_c_B.sum()
    loss = -(ll - kl_z_weight * kl_z - kl_c_weight * kl_c) / total
    metrics = {
        "loss": loss.detach(),
        "elbo": ((ll - kl_z - kl_c) / total).detach(),
        "recon_ll": (ll / total).detach(),
        "kl_z": (kl_z / total).detach(),
        "kl_c": (kl_c / b).detach(),
        "kl_c_per_obs": (kl_c / total).detach(),
    }
    return loss, metrics
