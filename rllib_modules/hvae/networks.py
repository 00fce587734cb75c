"""Building blocks of the HVAE and flat VAE (T-AppA §D.3.1), pure PyTorch.

Tensor names carry their shape: ``B`` actions in a batch, ``N`` observations per action,
``T`` states per trajectory (``t = T - 1`` decoded future states), ``S`` raw coordinates
per state, ``F`` features per state, ``E`` encoder size, ``H`` hidden size, ``C`` action
latent size, ``Z`` observation latent size. Flattened leading axes are written ``(BN)``.

An "n-layer MLP" is n ``nn.Linear`` layers with ReLU between them (none after the last),
as the thesis counts layers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from rllib_modules.hvae.config import HVAEConfig

__all__ = [
    "Featurized",
    "featurize",
    "mlp",
    "init_weights_",
    "init_output_layer_",
    "TrajectoryEncoder",
    "ActionInferenceNetwork",
    "ObservationInferenceNetwork",
    "ConditionalPrior",
    "TrajectoryDecoder",
    "DecodedTrajectory",
]


# ---------------------------------------------------------------------------------------
# data


@dataclass
class Featurized:
    """Model inputs and reconstruction targets of a batch of raw observations."""

    x_BNTF: torch.Tensor
    """Features of every state: 'xy' scaled coordinates (then the steps in cells with
    ``xy_step_features``), 'one_hot' concatenated one-hots."""
    target_BNtF: torch.Tensor | None
    """'xy': scaled coordinates of the future states (Gaussian targets); None for 'one_hot'."""
    target_idx_BNtS: torch.Tensor | None
    """'one_hot': integer cell of each coordinate of the future states; None for 'xy'."""


def featurize(obs_BNTS: torch.Tensor, config: HVAEConfig) -> Featurized:
    """Featurise raw observations ``(B, N, T, S)`` (any numeric dtype) for ``config.data_type``.

    - ``'xy'``: ``x = (obs - (grid_size - 1) / 2) / xy_unit``; with ``xy_step_features``
      followed by ``obs_t - obs_{t-1}`` (zero at ``t = 0``). Targets are the scaled
      coordinates of states ``1..T-1``.
    - ``'one_hot'``: ``obs`` may be integer coordinates ``(..., S)`` or already one-hot
      ``(..., S * grid_size)`` (e.g. from ``load_action_observations_one_hot``); features are
      the concatenated one-hots, targets the integer cells.
    """
    g, s = config.grid_size, config.state_dim
    if config.data_type == "xy":
        if obs_BNTS.shape[-1] != s:
            raise ValueError(f"'xy' observations must end in state_dim={s}; got shape {tuple(obs_BNTS.shape)}")
        obs = obs_BNTS.to(torch.float32)
        x = (obs - (g - 1) / 2.0) / config.xy_unit
        target = x[..., 1:, :]
        if config.xy_step_features:
            steps = torch.cat([torch.zeros_like(obs[..., :1, :]), obs[..., 1:, :] - obs[..., :-1, :]], dim=-2)
            x = torch.cat([x, steps], dim=-1)
        return Featurized(x_BNTF=x, target_BNtF=target, target_idx_BNtS=None)
    if obs_BNTS.shape[-1] == s:
        idx = obs_BNTS.long()
    elif obs_BNTS.shape[-1] == s * g:
        idx = obs_BNTS.unflatten(-1, (s, g)).argmax(-1)
    else:
        raise ValueError(f"'one_hot' observations must end in {s} or {s * g}; got shape {tuple(obs_BNTS.shape)}")
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= g):
        raise ValueError(f"coordinates must lie in [0, {g})")
    x = F.one_hot(idx, g).to(torch.float32).flatten(-2)
    return Featurized(x_BNTF=x, target_BNtF=None, target_idx_BNtS=idx[..., 1:, :])


# ---------------------------------------------------------------------------------------
# generic


def mlp(in_dim: int, hidden_dim: int, n_layers: int, out_dim: int) -> nn.Sequential:
    """``n_layers`` linear layers (in -> H -> ... -> H -> out) with ReLU between them."""
    if n_layers < 1:
        raise ValueError("an MLP needs at least one layer")
    dims = [in_dim] + [hidden_dim] * (n_layers - 1) + [out_dim]
    layers: list[nn.Module] = []
    for i in range(n_layers):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < n_layers - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


@torch.no_grad()
def init_weights_(module: nn.Module) -> None:
    """Xavier-normal weights with the ReLU gain (sqrt 2) and zero biases for every ``nn.Linear``.

    Unspecified in the thesis; the reference code's (Neural Statistician) initialisation.
    PyTorch's default linear init shrinks the variance by ~6x per ReLU layer, so through
    q_phi's 7 layers the differences between actions would start ~1e-6 times smaller than
    the batch-norm epsilon, and c would carry no information for hundreds of steps.
    LSTMs keep PyTorch's default initialisation. Call :func:`init_output_layer_` afterwards
    on layers that output distribution parameters.
    """
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_normal_(m.weight, gain=nn.init.calculate_gain("relu"))
            nn.init.zeros_(m.bias)


@torch.no_grad()
def init_output_layer_(mlp_: nn.Sequential, gain: float = 0.1) -> None:
    """Small Xavier-normal weights (zero bias) for the last linear layer of ``mlp_``.

    Used on the layers that output Gaussian parameters of q_psi, p(z|c) and the decoder,
    so training starts near N(0, I) posteriors / priors and unit decoder variance
    (with the ReLU gain there, the initial KL_z is ~100 nats per observation).
    """
    last = [m for m in mlp_.modules() if isinstance(m, nn.Linear)][-1]
    nn.init.xavier_normal_(last.weight, gain=gain)
    nn.init.zeros_(last.bias)


def _split_params(params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, logvar = params.chunk(2, dim=-1)
    return mean.contiguous(), logvar.contiguous()


# ---------------------------------------------------------------------------------------
# encoders


class TrajectoryEncoder(nn.Module):
    """2-layer Bi-LSTM over a trajectory's states -> one E-d vector per observation.

    T-AppA §D.3.1 ("Bi-LSTM Encoder"). The outputs of both directions at every time step
    are averaged (as the thesis' reference code does), so E = ``encoder_dim`` (64).
    """

    def __init__(self, feature_dim: int, encoder_dim: int, num_layers: int = 2) -> None:
        super().__init__()
        self.encoder_dim = encoder_dim
        self.lstm = nn.LSTM(feature_dim, encoder_dim, num_layers=num_layers, batch_first=True, bidirectional=True)

    def forward(self, x_BNTF: torch.Tensor) -> torch.Tensor:
        b, n, t, f = x_BNTF.shape
        out_bTD, _ = self.lstm(x_BNTF.reshape(b * n, t, f))
        h_bE = out_bTD.reshape(b * n, t, 2, self.encoder_dim).mean(dim=(1, 2))
        return h_bE.reshape(b, n, self.encoder_dim)


class ActionInferenceNetwork(nn.Module):
    """q_phi(c | O): per-observation 4-layer MLP -> mean-pool -> 3-layer MLP -> BatchNorm1d.

    T-AppA §D.3.1 ("Action Inference Network"). Permutation-invariant in the observation
    axis by construction (mean pooling); batch-norm mixes *actions* only in train mode.
    The pre-pool MLP ends with a linear layer (as in the Neural Statistician); a ReLU
    follows the pooling, so the two MLPs do not compose into one linear map.
    """

    def __init__(self, config: HVAEConfig) -> None:
        super().__init__()
        h, c = config.action_hidden_dim, config.latent_dim
        self.pre_pool = mlp(config.encoder_dim, h, config.pre_pool_layers, h)
        self.post_pool = nn.Sequential(nn.ReLU(), mlp(h, h, config.post_pool_layers, 2 * c))
        self.norm_kind = config.q_phi_batch_norm
        if self.norm_kind == "feature":
            self.norm: nn.Module = nn.BatchNorm1d(2 * c)
        elif self.norm_kind == "global":
            self.norm = nn.BatchNorm1d(1)
        else:
            self.norm = nn.Identity()

    def forward(self, h_BNE: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e_BNH = self.pre_pool(h_BNE)
        pooled_BH = e_BNH.mean(dim=1)
        params_B2C = self.post_pool(pooled_BH)
        if self.norm_kind == "global":
            params_B2C = self.norm(params_B2C.unsqueeze(1)).squeeze(1)
        else:
            params_B2C = self.norm(params_B2C)
        return _split_params(params_B2C)


class ObservationInferenceNetwork(nn.Module):
    """q_psi(z | o, c): linear(h) + linear(c) -> ReLU -> two 2-layer MLPs -> linear -> (mean, logvar).

    T-AppA §D.3.1 ("Observation Inference Network"). The two 2-layer ReLU MLPs and the
    final linear layer are one 5-layer MLP here. ``c`` may be ``(B, C)`` (broadcast over
    the observations) or omitted (flat VAE: ``cond_dim = 0``).
    """

    def __init__(self, encoder_dim: int, cond_dim: int, hidden_dim: int, z_dim: int) -> None:
        super().__init__()
        self.fc_h = nn.Linear(encoder_dim, hidden_dim)
        self.fc_c = nn.Linear(cond_dim, hidden_dim) if cond_dim > 0 else None
        self.body = mlp(hidden_dim, hidden_dim, 5, 2 * z_dim)

    def forward(self, h_BNE: torch.Tensor, c_BC: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        e_BNH = self.fc_h(h_BNE)
        if self.fc_c is not None:
            if c_BC is None:
                raise ValueError("this network is conditioned on c")
            e_BNH = e_BNH + self.fc_c(c_BC).unsqueeze(1)
        return _split_params(self.body(F.relu(e_BNH)))


class ConditionalPrior(nn.Module):
    """Learned p(z | c): linear(c) -> ReLU -> 5-layer MLP -> (mean, logvar), ``(B, Z)`` each.

    Unspecified in the thesis; the Neural Statistician's (and the reference code's)
    "latent decoder", mirroring q_psi without the observation input.
    """

    def __init__(self, latent_dim: int, hidden_dim: int, z_dim: int) -> None:
        super().__init__()
        self.fc_c = nn.Linear(latent_dim, hidden_dim)
        self.body = mlp(hidden_dim, hidden_dim, 5, 2 * z_dim)

    def forward(self, c_BC: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return _split_params(self.body(F.relu(self.fc_c(c_BC))))


# ---------------------------------------------------------------------------------------
# decoder


@dataclass
class DecodedTrajectory:
    """Decoded distribution over the future states ``1..T-1`` of each observation."""

    mean_BNtF: torch.Tensor | None = None
    """'xy': Gaussian mean (scaled coordinates)."""
    logvar_BNtF: torch.Tensor | None = None
    """'xy': Gaussian log-variance."""
    logits_BNtF: torch.Tensor | None = None
    """'one_hot': S groups of grid_size logits per state."""


class TrajectoryDecoder(nn.Module):
    """p(o | z, c, x_0): LSTM decoder of a trajectory given its initial state (T-AppA §D.3.1).

    The latents (``(z, c)`` for the HVAE, ``z`` for the flat VAE) each pass through a
    linear layer; the sum goes through a ReLU. The ground-truth initial state ``x_0`` goes
    through a 3-layer ReLU MLP; the element-wise product of the two vectors is the input of
    an LSTM unrolled for the ``T - 1`` future states (the same input at every step); each
    step's output goes through a 3-layer ReLU MLP to the state's Gaussian mean and
    log-variance ('xy') or logits ('one_hot').
    """

    def __init__(self, config: HVAEConfig, cond_dims: Sequence[int]) -> None:
        super().__init__()
        h, f = config.hidden_dim, config.feature_dim
        self.config = config
        self.fc_cond = nn.ModuleList(nn.Linear(d, h) for d in cond_dims)
        self.initial_state = mlp(f, h, config.mlp_layers, h)
        self.lstm = nn.LSTM(h, h, batch_first=True)
        out = 2 * config.output_dim if config.data_type == "xy" else config.output_dim
        self.head = mlp(h, h, config.mlp_layers, out)

    def forward(self, conds: Sequence[torch.Tensor], x0_BNF: torch.Tensor, n_steps: int) -> DecodedTrajectory:
        """``conds``: latents, each ``(B, N, d)`` or ``(B, d)`` (broadcast over N)."""
        b, n, f = x0_BNF.shape
        e_BNH = 0
        for fc, cond in zip(self.fc_cond, conds, strict=True):
            e = fc(cond)
            e_BNH = e_BNH + (e.unsqueeze(1) if e.dim() == 2 else e)
        e_BNH = F.relu(e_BNH) * self.initial_state(x0_BNF)
        inp_btH = e_BNH.reshape(b * n, 1, -1).expand(-1, n_steps, -1)
        out_btH, _ = self.lstm(inp_btH)
        params = self.head(out_btH).reshape(b, n, n_steps, -1)
        if self.config.data_type == "one_hot":
            return DecodedTrajectory(logits_BNtF=params)
        mean, raw_logvar = params.chunk(2, dim=-1)
        if self.config.decoder_residual:
            mean = mean + x0_BNF[..., : self.config.state_dim].unsqueeze(2)
        lo = 2.0 * math.log(self.config.decoder_min_std_cells / self.config.xy_unit)
        logvar = lo + F.softplus(raw_logvar - lo)
        return DecodedTrajectory(mean_BNtF=mean, logvar_BNtF=logvar)
