"""The USFA ensemble ψ(s, a, w) of OKB's base policies and its TD learning (OKB §2.3 Eq. 2, §5, App. F).

OKB learns every base policy with one **Universal Successor Feature Approximator** (Borsa et al.
2019): ``ψ(s, a, w) ∈ R^d`` approximates the SFs of ``π_w(s) = argmax_a ψ(s, a, w)·w`` (OKB §5).
App. F: "MLP neural networks with 4 layers with 256 neurons. We use an ensemble of 10 neural
networks, similar to Chen et al. 2021, and compute the minimum value over two randomly sampled
elements when computing the Bellman update targets. We used Leaky ReLU activation functions and
layer normalization." SFs satisfy a Bellman equation with φ as the cumulant, so they are learned
by Q-learning on ψ (§2.3): for a transition (s, a, φ, s') and task w,

    y = φ + γ (1 − terminated) ψ_min(s', a'*, w),   a'* = argmax_a ψ_min(s', a, w)·w,

where, for each next action a, ``ψ_min(s', a, w) = ψ_m*(s', a, w)`` with
``m* = argmin_{m ∈ M} ψ_m(s', a, w)·w`` over M = 2 members drawn at random (REDQ's in-target
minimisation, Chen et al. 2021, on the scalarised value, then the SF vector of the argmin member).

Pieces (acting and learning are separate; nothing here knows Ray):

- :class:`SuccessorFeatureEnsemble` — N members evaluated in one batched pass
  (``forward(obs_BS, w_BD, members_M) -> psi_MBAD``); :meth:`~SuccessorFeatureEnsemble.act_sfs`
  reduces the members for acting and GPI.
- :func:`sample_members`, :func:`min_scalarised_member`, :func:`sf_td_target`,
  :func:`ensemble_sf_td_target`, :func:`sf_td_loss` — the target and loss as pure functions.

Choices where the paper is silent (ALGORITHMS.md §5.9), all configurable:

- **How s and w enter the MLP**: ``input_mode="concat"`` (default: one MLP on ``[s; w]``, the plain
  reading of "an MLP with 4 layers") or ``"product"`` (the authors' GPI-PD/SFOLS code base: one
  layer embeds s, one embeds w, their elementwise product feeds the remaining 3 layers).
- **Depth and layer order**: "4 layers with 256 neurons" read as four hidden layers of 256 (as the
  authors' code counts ``net_arch``) and a linear output of size ``A·d``;
  ``Linear → LayerNorm → LeakyReLU(0.01)`` per hidden layer; member init as ``nn.Linear``'s default.
- **Which members act**: ``acting_reduction="mean"`` (default; the ensemble mean of ψ, as REDQ's
  policy uses the mean Q), ``"min"`` (the scalarised-min member per action over all N) or
  ``"first"`` (member 0).
- **Min on what**: on the scalarised value ψ·w (per next action), then the argmin member's SF
  vector, as in the authors' GPI-PD code; not element-wise on ψ.
- **Target action**: greedy for w on the min-of-M SFs (``max_a min_m Q_m``, REDQ's form for
  Q-learning); callers may pass their own next actions (e.g. GPI's) to :func:`sf_td_target`.
- **Members per target**: one draw of M = 2 distinct members per target computation (per
  mini-batch, as REDQ), not per sample.
- **Target network**: :func:`ensemble_sf_td_target` takes the module to bootstrap from; pass a
  Polyak-averaged copy (the authors' code) or the online ensemble.
- **Terminals**: terminated transitions do not bootstrap, truncated ones do; ``n_step_B`` allows
  RLlib's n-step chunks (discount γ^n), though φ is only exact for n = 1 (RLLIB_NOTES §9).
- **Loss**: squared error (or Huber with ``huber_delta``) averaged over batch and features,
  **summed over members** so each member gets the gradient it would get alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from rllib_modules.okb.gpi import first_argmax, first_argmin, scalarise

__all__ = [
    "ActingReduction",
    "EnsembleLayerNorm",
    "EnsembleLinear",
    "InputMode",
    "SFTarget",
    "SuccessorFeatureEnsemble",
    "ensemble_sf_td_target",
    "min_scalarised_member",
    "sample_members",
    "sample_task_weights",
    "sf_td_loss",
    "sf_td_target",
]

InputMode = Literal["concat", "product"]
ActingReduction = Literal["mean", "min", "first"]


class EnsembleLinear(nn.Module):
    """N independent ``nn.Linear`` layers applied in one batched matmul.

    ``forward(x, members_M)``: ``x`` is ``(B, in)`` (shared by all members) or ``(M, B, in)``;
    the output is ``(M, B, out)`` for the members ``members_M`` (all N when None).
    """

    def __init__(self, num_members: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.num_members, self.in_features, self.out_features = num_members, in_features, out_features
        self.weight_NIO = nn.Parameter(torch.empty(num_members, in_features, out_features))
        self.bias_NO = nn.Parameter(torch.empty(num_members, out_features))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        # nn.Linear's default (kaiming_uniform with a = sqrt(5)) is U(±1/sqrt(fan_in)) for weight and bias.
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
        self.weight_NIO.uniform_(-bound, bound)
        self.bias_NO.uniform_(-bound, bound)

    def forward(self, x: torch.Tensor, members_M: torch.Tensor | None = None) -> torch.Tensor:
        weight_MIO = self.weight_NIO if members_M is None else self.weight_NIO[members_M]
        bias_MO = self.bias_NO if members_M is None else self.bias_NO[members_M]
        # (B, I) @ (M, I, O) broadcasts to (M, B, O) without copying x per member.
        return torch.matmul(x, weight_MIO) + bias_MO.unsqueeze(1)


class EnsembleLayerNorm(nn.Module):
    """LayerNorm over the last axis with a separate affine transform per ensemble member."""

    def __init__(self, num_members: int, features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.features, self.eps = features, eps
        self.weight_NO = nn.Parameter(torch.ones(num_members, features))
        self.bias_NO = nn.Parameter(torch.zeros(num_members, features))

    def forward(self, x_MBO: torch.Tensor, members_M: torch.Tensor | None = None) -> torch.Tensor:
        weight_MO = self.weight_NO if members_M is None else self.weight_NO[members_M]
        bias_MO = self.bias_NO if members_M is None else self.bias_NO[members_M]
        x_MBO = F.layer_norm(x_MBO, (self.features,), eps=self.eps)
        return x_MBO * weight_MO.unsqueeze(1) + bias_MO.unsqueeze(1)


class _EnsembleBlock(nn.Module):
    """``EnsembleLinear → EnsembleLayerNorm (optional) → LeakyReLU``."""

    def __init__(self, num_members: int, in_features: int, out_features: int, layer_norm: bool, slope: float) -> None:
        super().__init__()
        self.linear = EnsembleLinear(num_members, in_features, out_features)
        self.norm = EnsembleLayerNorm(num_members, out_features) if layer_norm else None
        self.slope = slope

    def forward(self, x: torch.Tensor, members_M: torch.Tensor | None) -> torch.Tensor:
        x = self.linear(x, members_M)
        if self.norm is not None:
            x = self.norm(x, members_M)
        return F.leaky_relu(x, self.slope)


class SuccessorFeatureEnsemble(nn.Module):
    """USFA ensemble ``ψ_m(s, a, w)``, m = 1..N, for discrete actions (OKB §5, App. F).

    Args:
        obs_dim: flat observation size S (callers flatten structured observations).
        num_actions: A.
        feature_dim: d (reward features; also the size of w).
        hidden_sizes: hidden layer widths (App. F: four of 256).
        num_members: N (App. F: 10).
        layer_norm: LayerNorm after each hidden linear layer (App. F: yes).
        negative_slope: LeakyReLU slope (unspecified; PyTorch's default 0.01).
        input_mode: ``"concat"`` or ``"product"`` (see the module docstring).
        acting_reduction: how :meth:`act_sfs` combines the members (see the module docstring).

    ``forward(obs_BS, w_BD, members_M=None) -> psi_MBAD`` evaluates the selected members (all N by
    default) in one batched pass.
    """

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        feature_dim: int,
        *,
        hidden_sizes: Sequence[int] = (256, 256, 256, 256),
        num_members: int = 10,
        layer_norm: bool = True,
        negative_slope: float = 0.01,
        input_mode: InputMode = "concat",
        acting_reduction: ActingReduction = "mean",
    ) -> None:
        super().__init__()
        if input_mode not in ("concat", "product"):
            raise ValueError(f"input_mode must be 'concat' or 'product', got {input_mode!r}")
        if acting_reduction not in ("mean", "min", "first"):
            raise ValueError(f"acting_reduction must be 'mean', 'min' or 'first', got {acting_reduction!r}")
        hidden = [int(h) for h in hidden_sizes]
        if not hidden:
            raise ValueError("hidden_sizes must name at least one layer")
        if num_members < 1:
            raise ValueError(f"num_members must be >= 1, got {num_members}")
        self.obs_dim, self.num_actions, self.feature_dim = int(obs_dim), int(num_actions), int(feature_dim)
        self.num_members, self.input_mode, self.acting_reduction = int(num_members), input_mode, acting_reduction

        def block(i: int, o: int) -> _EnsembleBlock:
            return _EnsembleBlock(self.num_members, i, o, layer_norm, negative_slope)

        if input_mode == "concat":
            self.obs_embed, self.w_embed = block(self.obs_dim + self.feature_dim, hidden[0]), None
        else:
            self.obs_embed, self.w_embed = block(self.obs_dim, hidden[0]), block(self.feature_dim, hidden[0])
        self.trunk = nn.ModuleList(block(i, o) for i, o in zip(hidden[:-1], hidden[1:]))
        self.head = EnsembleLinear(self.num_members, hidden[-1], self.num_actions * self.feature_dim)

    def forward(
        self, obs_BS: torch.Tensor, w_BD: torch.Tensor, members_M: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``psi_MBAD``: SFs of members ``members_M`` (all N if None) for every action."""
        if obs_BS.dim() != 2 or w_BD.dim() != 2 or obs_BS.shape[0] != w_BD.shape[0]:
            raise ValueError(f"expected obs (B, S) and w (B, d), got {tuple(obs_BS.shape)} and {tuple(w_BD.shape)}")
        if self.input_mode == "concat":
            x = self.obs_embed(torch.cat([obs_BS, w_BD.to(obs_BS.dtype)], dim=-1), members_M)
        else:
            x = self.obs_embed(obs_BS, members_M) * self.w_embed(w_BD.to(obs_BS.dtype), members_M)
        for layer in self.trunk:
            x = layer(x, members_M)
        out_MBX = self.head(x, members_M)
        M, B = out_MBX.shape[:2]
        return out_MBX.view(M, B, self.num_actions, self.feature_dim)

    def act_sfs(self, obs_BS: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
        """``psi_BAD`` for acting and GPI: the members combined by ``acting_reduction``."""
        if self.acting_reduction == "first":
            members_M = torch.zeros(1, dtype=torch.long, device=obs_BS.device)
            return self(obs_BS, w_BD, members_M)[0]
        psi_NBAD = self(obs_BS, w_BD)
        if self.acting_reduction == "mean":
            return psi_NBAD.mean(dim=0)
        return min_scalarised_member(psi_NBAD, w_BD)[0]

    def greedy_actions(self, obs_BS: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
        """``π_w(s) = argmax_a ψ(s, a, w)·w`` (OKB §5), lowest index on ties."""
        return first_argmax(scalarise(self.act_sfs(obs_BS, w_BD), w_BD), dim=-1)


def sample_members(
    num_members: int, num_sampled: int = 2, generator: torch.Generator | None = None, device: torch.device | None = None
) -> torch.Tensor:
    """``num_sampled`` distinct member indices drawn uniformly (App. F: 2 of 10), int64."""
    if not 1 <= num_sampled <= num_members:
        raise ValueError(f"cannot draw {num_sampled} distinct members of {num_members}")
    return torch.randperm(num_members, generator=generator)[:num_sampled].to(device)


def sample_task_weights(
    tasks_KD: torch.Tensor,
    batch_size: int,
    *,
    new_task_D: torch.Tensor | None = None,
    new_task_fraction: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``w_BD``: the task each USFA mini-batch row is trained on in NewPolicy (App. F: "the new task
    plus the earlier ones").

    Rows draw uniformly from ``tasks_KD``; with ``new_task_fraction`` f and ``new_task_D``, the first
    ``round(f·B)`` rows are the new task instead (the authors' GPI-LS code: f = 1/2).
    """
    if tasks_KD.dim() != 2 or tasks_KD.shape[0] == 0:
        raise ValueError(f"tasks must be a non-empty (K, d) tensor, got {tuple(tasks_KD.shape)}")
    index_B = torch.randint(tasks_KD.shape[0], (batch_size,), generator=generator).to(tasks_KD.device)
    w_BD = tasks_KD[index_B]
    if new_task_D is not None and new_task_fraction is not None:
        w_BD[: int(round(new_task_fraction * batch_size))] = new_task_D.to(w_BD)
    return w_BD


def min_scalarised_member(psi_MBAD: torch.Tensor, w_BD: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per state and action, the SF vector of the member with the smallest ``ψ_m·w``.

    Returns ``(psi_BAD, member_BA)``; ``member_BA`` indexes the M axis of ``psi_MBAD``
    (lowest index on exact ties).
    """
    M, B, A, D = psi_MBAD.shape
    q_MBA = scalarise(psi_MBAD.permute(1, 0, 2, 3), w_BD).permute(1, 0, 2)
    member_BA = first_argmin(q_MBA, dim=0)
    psi_BAD = psi_MBAD.gather(0, member_BA.view(1, B, A, 1).expand(1, B, A, D)).squeeze(0)
    return psi_BAD, member_BA


class SFTarget(NamedTuple):
    """Output of :func:`sf_td_target` / :func:`ensemble_sf_td_target`."""

    target_BD: torch.Tensor
    next_actions_B: torch.Tensor
    members_M: torch.Tensor | None = None


def sf_td_target(
    phi_BD: torch.Tensor,
    psi_next_BAD: torch.Tensor,
    w_BD: torch.Tensor,
    terminated_B: torch.Tensor,
    gamma: float,
    *,
    n_step_B: torch.Tensor | float = 1,
    next_actions_B: torch.Tensor | None = None,
) -> SFTarget:
    """``y = φ + γ^n (1 − terminated) ψ'(s', a'*)`` with ``a'* = argmax_a ψ'(s', a)·w`` (OKB §2.3).

    ``psi_next_BAD`` are the (already ensemble-reduced) next-state SFs; ``next_actions_B``
    overrides the greedy choice (lowest index on ties). Not differentiable by intent: callers
    compute it under ``torch.no_grad()``.
    """
    B = phi_BD.shape[0]
    if next_actions_B is None:
        next_actions_B = first_argmax(scalarise(psi_next_BAD, w_BD), dim=-1)
    psi_next_BD = psi_next_BAD[torch.arange(B, device=psi_next_BAD.device), next_actions_B.long()]
    not_done_B1 = (1.0 - terminated_B.to(phi_BD.dtype)).unsqueeze(-1)
    discount = torch.as_tensor(gamma, dtype=phi_BD.dtype, device=phi_BD.device) ** torch.as_tensor(
        n_step_B, dtype=phi_BD.dtype, device=phi_BD.device
    )
    if discount.dim() == 1:
        discount = discount.unsqueeze(-1)
    return SFTarget(target_BD=phi_BD + discount * not_done_B1 * psi_next_BD, next_actions_B=next_actions_B)


@torch.no_grad()
def ensemble_sf_td_target(
    target_ensemble: SuccessorFeatureEnsemble,
    next_obs_BS: torch.Tensor,
    w_BD: torch.Tensor,
    phi_BD: torch.Tensor,
    terminated_B: torch.Tensor,
    gamma: float,
    *,
    num_target_members: int = 2,
    generator: torch.Generator | None = None,
    members_M: torch.Tensor | None = None,
    n_step_B: torch.Tensor | float = 1,
) -> SFTarget:
    """The USFA Bellman target of App. F: min over ``num_target_members`` random members, then greedy.

    Draws the members (or uses ``members_M``), evaluates only them at ``(s', w)``, keeps per next
    action the SF vector of the member with the smallest ``ψ·w`` (:func:`min_scalarised_member`)
    and applies :func:`sf_td_target`. The drawn members are returned for logging and tests.
    """
    if members_M is None:
        members_M = sample_members(
            target_ensemble.num_members, num_target_members, generator=generator, device=next_obs_BS.device
        )
    psi_next_MBAD = target_ensemble(next_obs_BS, w_BD, members_M)
    psi_next_BAD, _ = min_scalarised_member(psi_next_MBAD, w_BD)
    out = sf_td_target(phi_BD, psi_next_BAD, w_BD, terminated_B, gamma, n_step_B=n_step_B)
    return out._replace(members_M=members_M)


def sf_td_loss(
    psi_NBAD: torch.Tensor,
    actions_B: torch.Tensor,
    target_BD: torch.Tensor,
    *,
    huber_delta: float | None = None,
) -> torch.Tensor:
    """SF TD loss of an ensemble: every member regresses ``ψ_m(s, a, w)`` onto the shared target.

    Squared error (Huber with ``huber_delta``) averaged over batch and features and summed over
    the N members; the target is detached here as a guard.
    """
    N, B, A, D = psi_NBAD.shape
    psi_sa_NBD = psi_NBAD.gather(2, actions_B.long().view(1, B, 1, 1).expand(N, B, 1, D)).squeeze(2)
    target_NBD = target_BD.detach().unsqueeze(0).expand_as(psi_sa_NBD)
    if huber_delta is None:
        per_member_N = F.mse_loss(psi_sa_NBD, target_NBD, reduction="none").mean(dim=(1, 2))
    else:
        per_member_N = F.huber_loss(psi_sa_NBD, target_NBD, reduction="none", delta=huber_delta).mean(dim=(1, 2))
    return per_member_N.sum()
