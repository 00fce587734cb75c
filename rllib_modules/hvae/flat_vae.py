"""The flat ("non-hierarchical") VAE baseline (thesis §2.5.3, T-AppA §B).

A standard VAE over *individual* action observations, built from the HVAE's blocks minus
the hierarchy: Bi-LSTM trajectory encoder -> q(z | o) (the HVAE's q_psi without the c
input) -> the same LSTM trajectory decoder p(o | z, x_0) conditioned on z only; prior
p(z) = N(0, I); z has ``latent_dim`` (C) dimensions so the representation is C-d.

An action's representation is the mean, over its observations, of the encodings' means
E_q[z | o] ("the mean of the encodings"; ALGORITHMS.md §1.4 leaves open whether means or
samples are averaged: means make it deterministic).

Training batches have the HVAE's shape (B actions x N observations) so the two models see
the same data per step, but every observation is modelled independently.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rllib_modules.hvae.config import HVAEConfig
from rllib_modules.hvae.distributions import kl_std_normal, reparameterize
from rllib_modules.hvae.elbo import ELBOTerms, elbo_loss, reconstruction_log_likelihood
from rllib_modules.hvae.networks import (
    DecodedTrajectory,
    Featurized,
    ObservationInferenceNetwork,
    TrajectoryDecoder,
    TrajectoryEncoder,
    featurize,
    init_output_layer_,
    init_weights_,
)

__all__ = ["FlatVAE", "FlatVAEOutput"]


@dataclass
class FlatVAEOutput:
    feats: Featurized
    z_mu_BNZ: torch.Tensor
    z_logvar_BNZ: torch.Tensor
    z_BNZ: torch.Tensor
    recon: DecodedTrajectory


class FlatVAE(nn.Module):
    """Per-observation trajectory VAE; representation = mean of the encodings' means."""

    kind = "vae"

    def __init__(self, config: HVAEConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = TrajectoryEncoder(config.feature_dim, config.encoder_dim, config.encoder_layers)
        self.q_z = ObservationInferenceNetwork(config.encoder_dim, 0, config.hidden_dim, config.latent_dim)
        self.decoder = TrajectoryDecoder(config, cond_dims=(config.latent_dim,))
        init_weights_(self)
        init_output_layer_(self.q_z.body)
        init_output_layer_(self.decoder.head)

    @property
    def representation_dim(self) -> int:
        return self.config.latent_dim

    def encode(self, obs_BNTS: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z | o) of every observation: ``(z_mu_BNC, z_logvar_BNC)``."""
        feats = featurize(obs_BNTS, self.config)
        return self.q_z(self.encoder(feats.x_BNTF))

    def forward(self, obs_BNTS: torch.Tensor, generator: torch.Generator | None = None) -> FlatVAEOutput:
        feats = featurize(obs_BNTS, self.config)
        z_mu, z_logvar = self.q_z(self.encoder(feats.x_BNTF))
        z = reparameterize(z_mu, z_logvar, generator)
        recon = self.decoder((z,), feats.x_BNTF[:, :, 0], feats.x_BNTF.shape[2] - 1)
        return FlatVAEOutput(feats=feats, z_mu_BNZ=z_mu, z_logvar_BNZ=z_logvar, z_BNZ=z, recon=recon)

    def elbo_terms(self, out: FlatVAEOutput) -> ELBOTerms:
        recon_ll_BN = reconstruction_log_likelihood(out.feats, out.recon, self.config)
        kl_z_BN = kl_std_normal(out.z_mu_BNZ, out.z_logvar_BNZ)
        return ELBOTerms(recon_ll_BN=recon_ll_BN, kl_z_BN=kl_z_BN, kl_c_B=recon_ll_BN.new_zeros(recon_ll_BN.shape[0]))

    def loss(
        self, obs_BNTS: torch.Tensor, kl_scale: float = 1.0, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Negative per-observation ELBO (KL weighted by ``kl_scale * kl_z_weight``) and metrics."""
        terms = self.elbo_terms(self(obs_BNTS, generator))
        return elbo_loss(terms, 0.0, kl_scale * self.config.kl_z_weight)

    def represent(self, obs_BNTS: torch.Tensor) -> torch.Tensor:
        """``(B, C)``: mean over each action's observations of E_q[z | o]."""
        return self.encode(obs_BNTS)[0].mean(dim=1)
