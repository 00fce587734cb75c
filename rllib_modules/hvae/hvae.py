"""The hierarchical VAE action encoder (thesis §2.4.1: Neural Statistician, Eq. 2.2).

Generative model of an action's observation set O = {o_1..o_N}::

    c ~ p(c) = N(0, I)                      action latent (C = latent_dim)
    z_j ~ p(z | c)                          per observation (learned, or N(0, I))
    o_j ~ p(o | z_j, c)                     LSTM trajectory decoder given x_0 (networks.py)

Inference: q_phi(c | O) (Bi-LSTM encoder -> MLP -> mean-pool -> MLP -> batch-norm) and
q_psi(z | o, c). The action's representation is the **mean** of q_phi(c | O) in eval mode
(Algorithm 1: c_i = q^mu_phi(O_i)).

Usage::

    model = HVAE(HVAEConfig())
    loss, metrics = model.loss(obs_BNTS)        # training step (model.train())
    c_BC = model.represent(obs_BNTS)            # representations (call model.eval() first)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rllib_modules.hvae.config import HVAEConfig
from rllib_modules.hvae.distributions import kl_diag_gaussians, kl_std_normal, reparameterize
from rllib_modules.hvae.elbo import ELBOTerms, elbo_loss, reconstruction_log_likelihood
from rllib_modules.hvae.networks import (
    ActionInferenceNetwork,
    ConditionalPrior,
    DecodedTrajectory,
    Featurized,
    ObservationInferenceNetwork,
    TrajectoryDecoder,
    TrajectoryEncoder,
    featurize,
    init_output_layer_,
    init_weights_,
)

__all__ = ["HVAE", "HVAEOutput", "hvae_elbo_terms"]


@dataclass
class HVAEOutput:
    """Everything a forward pass computes: inputs, the distributions and their samples."""

    feats: Featurized
    c_mu_BC: torch.Tensor
    c_logvar_BC: torch.Tensor
    c_BC: torch.Tensor
    z_mu_BNZ: torch.Tensor
    z_logvar_BNZ: torch.Tensor
    z_BNZ: torch.Tensor
    pz_mu_BZ: torch.Tensor | None
    """Conditional prior p(z | c) (None = N(0, I)); broadcast over the N observations."""
    pz_logvar_BZ: torch.Tensor | None
    recon: DecodedTrajectory


def hvae_elbo_terms(out: HVAEOutput, config: HVAEConfig) -> ELBOTerms:
    """Eq. 2.2's terms from a forward pass (closed-form Gaussian KLs)."""
    recon_ll_BN = reconstruction_log_likelihood(out.feats, out.recon, config)
    if out.pz_mu_BZ is None:
        kl_z_BN = kl_std_normal(out.z_mu_BNZ, out.z_logvar_BNZ)
    else:
        assert out.pz_logvar_BZ is not None
        kl_z_BN = kl_diag_gaussians(
            out.z_mu_BNZ, out.z_logvar_BNZ, out.pz_mu_BZ.unsqueeze(1), out.pz_logvar_BZ.unsqueeze(1)
        )
    kl_c_B = kl_std_normal(out.c_mu_BC, out.c_logvar_BC)
    return ELBOTerms(recon_ll_BN=recon_ll_BN, kl_z_BN=kl_z_BN, kl_c_B=kl_c_B)


class HVAE(nn.Module):
    """Hierarchical VAE over sets of trajectory observations (T-AppA §D.3.1)."""

    kind = "hvae"

    def __init__(self, config: HVAEConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = TrajectoryEncoder(config.feature_dim, config.encoder_dim, config.encoder_layers)
        self.q_c = ActionInferenceNetwork(config)
        self.q_z = ObservationInferenceNetwork(config.encoder_dim, config.latent_dim, config.hidden_dim, config.z_dim)
        self.p_z = ConditionalPrior(config.latent_dim, config.hidden_dim, config.z_dim) if config.learned_z_prior else None
        self.decoder = TrajectoryDecoder(config, cond_dims=(config.z_dim, config.latent_dim))
        init_weights_(self)
        for head in (self.q_z.body, self.decoder.head) + ((self.p_z.body,) if self.p_z is not None else ()):
            init_output_layer_(head)

    @property
    def representation_dim(self) -> int:
        return self.config.latent_dim

    def action_posterior(self, obs_BNTS: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q_phi(c | O): ``(c_mu_BC, c_logvar_BC)`` of each action's observation set."""
        feats = featurize(obs_BNTS, self.config)
        return self.q_c(self.encoder(feats.x_BNTF))

    def forward(self, obs_BNTS: torch.Tensor, generator: torch.Generator | None = None) -> HVAEOutput:
        """One pass: encode, sample c ~ q(c|O) and z ~ q(z|o,c), decode."""
        feats = featurize(obs_BNTS, self.config)
        h_BNE = self.encoder(feats.x_BNTF)
        c_mu_BC, c_logvar_BC = self.q_c(h_BNE)
        c_BC = reparameterize(c_mu_BC, c_logvar_BC, generator)
        z_mu_BNZ, z_logvar_BNZ = self.q_z(h_BNE, c_BC)
        z_BNZ = reparameterize(z_mu_BNZ, z_logvar_BNZ, generator)
        pz_mu_BZ, pz_logvar_BZ = self.p_z(c_BC) if self.p_z is not None else (None, None)
        n_steps = feats.x_BNTF.shape[2] - 1
        recon = self.decoder((z_BNZ, c_BC), feats.x_BNTF[:, :, 0], n_steps)
        return HVAEOutput(
            feats=feats,
            c_mu_BC=c_mu_BC,
            c_logvar_BC=c_logvar_BC,
            c_BC=c_BC,
            z_mu_BNZ=z_mu_BNZ,
            z_logvar_BNZ=z_logvar_BNZ,
            z_BNZ=z_BNZ,
            pz_mu_BZ=pz_mu_BZ,
            pz_logvar_BZ=pz_logvar_BZ,
            recon=recon,
        )

    def elbo_terms(self, out: HVAEOutput) -> ELBOTerms:
        return hvae_elbo_terms(out, self.config)

    def loss(
        self, obs_BNTS: torch.Tensor, kl_scale: float = 1.0, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Minimised loss (negative weighted ELBO per observation) and detached metrics.

        ``kl_scale`` multiplies both KL weights of the config (KL warm-up).
        """
        terms = self.elbo_terms(self(obs_BNTS, generator))
        return elbo_loss(terms, kl_scale * self.config.kl_c_weight, kl_scale * self.config.kl_z_weight)

    def represent(self, obs_BNTS: torch.Tensor) -> torch.Tensor:
        """``(B, C)``: the posterior mean of q_phi(c | O) (deterministic; use eval mode)."""
        return self.action_posterior(obs_BNTS)[0]
