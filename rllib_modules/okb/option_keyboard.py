"""The option keyboard: meta-policy ω(s, w), its critic ψ^ω(s, z, w) and TrainOK (OKB §2.4, §3, App. D, App. F).

The OK acts by GPI with a state-dependent weight chosen by a meta-policy (OKB Eq. 7):

    π^OK_ω(s, w; Π) = argmax_a max_{π∈Π} ψ^π(s, a)·ω(s, w) = π^GPI(s, ω(s, w); Π),

with ω : S × W → Z and Z the d-dimensional **unit vectors**, ``{z ∈ R^d : ||z||_2 = 1}`` (OKB §2.4,
footnote 1; signs are free, so z is on the sphere, not the simplex). ω is trained by the
deterministic actor-critic of Alg. 3 (TrainOK, App. D), with a vector-valued critic
``ψ^ω(s, z, w) ∈ R^d`` (the SFs of "play z now, then follow ω"):

- exploration (Alg. 3 lines 14-16, as TD3): ``z ← ω(s, w) + clip(ε, −0.5, 0.5)``, ``ε ∼ N(0, 0.2²)``
  per coordinate, then ``z ← z / ||z||_2`` (:func:`explore_z`);
- critic: minimise ``E_{(s,z,φ,s')∼B, w∼W^sup} ||ψ^ω(s, z, w) − (φ + γ ψ^ω(s', ω(s', w), w))||²`` —
  w is **drawn from the support set at update time**, not stored (:func:`sample_support_weights`,
  :func:`ok_critic_loss`);
- actor: ascend ``∇_z [ψ^ω(s, z, w)·w]|_{z=ω(s,w)} ∇ω(s, w)`` (:func:`ok_actor_loss`).

App. F: ω is "an MLP with 3 layers with 256 neurons" with "batch normalization and removal of
target networks" (Bhatt et al. 2024, CrossQ). We follow CrossQ's reference implementation for
what that means in practice: BatchNorm on the inputs and after every hidden activation; the
critic evaluates (s, z) and (s', ω(s', w)) in **one joint forward pass in training mode** (so both
halves share batch statistics) and its next-state half is the stop-gradient bootstrap; ω(s', w)
for the target is computed in eval mode; the actor update runs ω in training mode and the critic
in eval mode with its parameters detached, so the actor loss cannot move the critic even when an
RLlib Learner back-propagates the sum of both losses.

Choices where the paper is silent (ALGORITHMS.md §5.4, §5.10), all configurable:

- critic architecture: the same family as ω (3 × 256, BatchNorm), input ``[s; z; w]``;
  ``critic_members=2`` makes it TD3's clipped double Q, which CrossQ keeps (:class:`MetaCritic`,
  :func:`pessimistic_member`; this class defaults to one network, the algorithms' config to two,
  ``meta_critics``). With two and ω stepped every third critic step (``meta_policy_delay``,
  CrossQ's delay, also the config default) the OK beat GPI over the same basis in 32 of 45
  Minecart evaluations, against 7 of 15 with one critic (README);
- "3 layers with 256 neurons" read as three hidden layers of 256 and a linear output layer;
- activation: ReLU (TD3/CrossQ); BatchNorm momentum 0.01 in PyTorch's convention (CrossQ's 0.99);
  ``input_batch_norm=False`` drops the BatchNorm on the inputs (useful when the support set is a
  single w: its running variance is then ~0 and an unseen w at acting time is blown up by
  1/sqrt(eps));
- ω's output: a linear layer projected onto the unit sphere (``F.normalize``); optional
  ``residual_w=True`` makes it ``normalise(w + f(s, w))`` with f's last layer zero-initialised, so
  that ω starts as GPI (not in the paper; off by default);
- terminal transitions do not bootstrap (Alg. 3 writes no mask; ψ of a terminal state is 0);
- losses are mean squared errors over batch and features;
- the GPI guard (``gpi_guard=True`` in :meth:`OptionKeyboard.act`; config ``ok_gpi_guard``; not in
  the paper): at each state the OK plays ω(s, w) only where the critic rates it at least as high as
  GPI's own meta-action ŵ = w/||w||, and ŵ otherwise (:func:`gpi_guarded_z`). It is the argmax over
  two proposals of SAVO's successive actors (thesis Ch. 4), with GPI as the second actor, and it
  only ever moves the OK towards GPI: an over-estimated ψ^ω(s, ŵ, w) selects GPI more often. The
  critic still evaluates ω (the guard is not trained for), so Ψ^OK and Eq. 21 are unchanged.
  Measured on Minecart it hurts (README): the critic's value of ŵ, a meta-action it is rarely
  trained on, is not reliable enough to choose by, and a per-state mix of ω and GPI can be worse
  than either;
- acting (:meth:`OptionKeyboard.act`) always runs ω in eval mode (running BatchNorm statistics),
  so batches of one state work; it reports the value ``ψ_{j*}(s, a*)·w`` of the chosen base
  policy and action under the task (the GPE estimate), which with ω(s, w) = w is exactly GPI's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from rllib_modules.okb.gpi import gpi, scalarise
from rllib_modules.okb.successor_features import min_scalarised_member

__all__ = [
    "MetaCritic",
    "MetaPolicy",
    "OKCriticLoss",
    "OKOutput",
    "OptionKeyboard",
    "TaskMetaPolicy",
    "clipped_gaussian_noise",
    "critic_members",
    "explore_z",
    "gpi_guarded_z",
    "ok_actor_loss",
    "ok_critic_loss",
    "pessimistic_member",
    "sample_support_weights",
    "training_mode",
]

OKActivation = Literal["relu", "leaky_relu", "tanh", "elu"]
_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}

#: Alg. 3 line 15 (TD3's exploration noise).
DEFAULT_NOISE_SIGMA: float = 0.2
DEFAULT_NOISE_CLIP: float = 0.5


@contextlib.contextmanager
def training_mode(module: nn.Module, mode: bool) -> Iterator[nn.Module]:
    """Temporarily put ``module`` (and its children) in train (``True``) or eval mode; restores each
    submodule's own flag afterwards."""
    previous = [(m, m.training) for m in module.modules()]
    module.train(mode)
    try:
        yield module
    finally:
        for m, flag in previous:
            m.training = flag


def _bn_mlp(
    in_dim: int,
    hidden_sizes: Sequence[int],
    out_dim: int,
    activation: OKActivation,
    batch_norm: bool,
    momentum: float,
    input_batch_norm: bool = True,
) -> nn.Sequential:
    """CrossQ's layout: ``[BN(in)] → (Linear → act → [BN]) × len(hidden) → Linear(out)``."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {sorted(_ACTIVATIONS)}")
    layers: list[nn.Module] = [nn.BatchNorm1d(in_dim, momentum=momentum)] if batch_norm and input_batch_norm else []
    dim = in_dim
    for size in hidden_sizes:
        layers += [nn.Linear(dim, int(size)), _ACTIVATIONS[activation]()]
        if batch_norm:
            layers.append(nn.BatchNorm1d(int(size), momentum=momentum))
        dim = int(size)
    layers.append(nn.Linear(dim, out_dim))
    return nn.Sequential(*layers)


class MetaPolicy(nn.Module):
    """ω(s, w) → z on the unit sphere of R^d (OKB Eq. 7, footnote 1; App. F: 3 × 256 MLP, BatchNorm).

    ``forward(obs_BS, w_BD) -> z_BD`` with ``||z||_2 = 1`` (rows whose raw output has norm below
    ``min_norm`` are divided by ``min_norm`` instead; a measure-zero event).
    """

    def __init__(
        self,
        obs_dim: int,
        feature_dim: int,
        *,
        hidden_sizes: Sequence[int] = (256, 256, 256),
        activation: OKActivation = "relu",
        batch_norm: bool = True,
        bn_momentum: float = 0.01,
        input_batch_norm: bool = True,
        residual_w: bool = False,
        min_norm: float = 1e-8,
    ) -> None:
        super().__init__()
        self.obs_dim, self.feature_dim = int(obs_dim), int(feature_dim)
        self.residual_w, self.min_norm = bool(residual_w), float(min_norm)
        self.net = _bn_mlp(
            self.obs_dim + self.feature_dim,
            hidden_sizes,
            self.feature_dim,
            activation,
            batch_norm,
            bn_momentum,
            input_batch_norm,
        )
        if self.residual_w:
            head = self.net[-1]
            assert isinstance(head, nn.Linear)
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, obs_BS: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
        w_BD = w_BD.to(obs_BS.dtype)
        raw_BD = self.net(torch.cat([obs_BS, w_BD], dim=-1))
        if self.residual_w:
            raw_BD = w_BD + raw_BD
        return F.normalize(raw_BD, dim=-1, eps=self.min_norm)


class TaskMetaPolicy(nn.Module):
    """The fixed meta-policy ω(s, w) = w (or w / ||w|| with ``normalise``): the OK that is GPI (OKB §3).

    Parameter-free; used as a reference and to express plain GPI through the OK interface.
    """

    def __init__(self, normalise: bool = True) -> None:
        super().__init__()
        self.normalise = bool(normalise)

    def forward(self, obs_BS: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
        return F.normalize(w_BD, dim=-1) if self.normalise else w_BD


class MetaCritic(nn.Module):
    """ψ^ω(s, z, w) ∈ R^d, the meta-policy's vector critic (Alg. 3; architecture unspecified: ω's family).

    ``forward(obs_BS, z_BD, w_BD) -> psi_BD``; the task's value is ``ψ^ω·w``.

    With ``num_members=N > 1`` the critic is N independent networks and ``forward`` returns, per
    row, the SFs of the member with the **lowest value ψ·w**: TD3's clipped double Q
    (Fujimoto et al. 2018), which CrossQ (Bhatt et al. 2024, the recipe App. F follows for ω)
    keeps with N = 2 when it drops the target networks. The paper does not say whether TrainOK
    uses it (ALGORITHMS.md §5.10: the critic is unspecified), so it is ``meta_critics`` in the
    config. :meth:`members` gives every member's SFs for the regression. Member 0 is ``net`` and
    the others ``extra_members``, so checkpoints of a one-member critic keep their parameter names.
    """

    def __init__(
        self,
        obs_dim: int,
        feature_dim: int,
        *,
        hidden_sizes: Sequence[int] = (256, 256, 256),
        activation: OKActivation = "relu",
        batch_norm: bool = True,
        bn_momentum: float = 0.01,
        input_batch_norm: bool = True,
        num_members: int = 1,
    ) -> None:
        super().__init__()
        if num_members < 1:
            raise ValueError(f"num_members must be >= 1, got {num_members}")
        self.obs_dim, self.feature_dim = int(obs_dim), int(feature_dim)

        def make_net() -> nn.Sequential:
            return _bn_mlp(
                self.obs_dim + 2 * self.feature_dim,
                hidden_sizes,
                self.feature_dim,
                activation,
                batch_norm,
                bn_momentum,
                input_batch_norm,
            )

        self.net = make_net()
        self.extra_members = nn.ModuleList(make_net() for _ in range(int(num_members) - 1))

    @property
    def num_members(self) -> int:
        return 1 + len(self.extra_members)

    def members(self, obs_BS: torch.Tensor, z_BD: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
        """Every member's ψ^ω(s, z, w): ``psi_NBD``."""
        x = torch.cat([obs_BS, z_BD.to(obs_BS.dtype), w_BD.to(obs_BS.dtype)], dim=-1)
        return torch.stack([self.net(x)] + [net(x) for net in self.extra_members])

    def forward(self, obs_BS: torch.Tensor, z_BD: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
        return pessimistic_member(self.members(obs_BS, z_BD, w_BD), w_BD)


def pessimistic_member(psi_NBD: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
    """Per row, the member's SFs with the lowest scalarised value ``ψ·w`` (clipped double Q for vector
    critics): the USFA ensemble's :func:`min_scalarised_member` with a single action."""
    if psi_NBD.shape[0] == 1:
        return psi_NBD[0]
    return min_scalarised_member(psi_NBD.unsqueeze(2), w_BD.to(psi_NBD.dtype))[0].squeeze(1)


def critic_members(critic: nn.Module, obs_BS: torch.Tensor, z_BD: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
    """``psi_NBD`` of a :class:`MetaCritic`; any other critic module counts as one member."""
    if isinstance(critic, MetaCritic):
        return critic.members(obs_BS, z_BD, w_BD)
    return critic(obs_BS, z_BD, w_BD).unsqueeze(0)


def clipped_gaussian_noise(
    shape: Sequence[int] | torch.Size,
    sigma: float = DEFAULT_NOISE_SIGMA,
    clip: float = DEFAULT_NOISE_CLIP,
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``clip(ε, −clip, clip)`` per coordinate, ``ε ∼ N(0, σ²)`` (Alg. 3 line 15)."""
    eps = torch.randn(tuple(shape), generator=generator, dtype=dtype) * sigma
    return eps.clamp(-clip, clip).to(device)


def explore_z(
    z_BD: torch.Tensor,
    sigma: float = DEFAULT_NOISE_SIGMA,
    clip: float = DEFAULT_NOISE_CLIP,
    *,
    generator: torch.Generator | None = None,
    noise_BD: torch.Tensor | None = None,
    min_norm: float = 1e-8,
) -> torch.Tensor:
    """Alg. 3 lines 15-16: ``z + clip(ε, −clip, clip)``, then back onto the unit sphere.

    ``noise_BD`` supplies the raw ε (before clipping) instead of drawing it, for tests and for
    callers with their own random streams.
    """
    if noise_BD is None:
        noise_BD = clipped_gaussian_noise(z_BD.shape, sigma, clip, generator=generator, dtype=z_BD.dtype)
    else:
        noise_BD = noise_BD.to(z_BD.dtype).clamp(-clip, clip)
    return F.normalize(z_BD + noise_BD.to(z_BD.device), dim=-1, eps=min_norm)


def sample_support_weights(
    support_KD: torch.Tensor, batch_size: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``w ∼ W^sup`` i.i.d. uniformly for each of ``batch_size`` rows (Alg. 3 line 22).

    The same sampler serves NewPolicy's "current task plus the earlier ones" (App. F).
    """
    if support_KD.dim() != 2 or support_KD.shape[0] == 0:
        raise ValueError(f"support set must be a non-empty (K, d) tensor, got {tuple(support_KD.shape)}")
    index_B = torch.randint(support_KD.shape[0], (batch_size,), generator=generator).to(support_KD.device)
    return support_KD[index_B]


@torch.no_grad()
def gpi_guarded_z(
    critic: nn.Module, obs_BS: torch.Tensor, w_BD: torch.Tensor, z_omega_BD: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per state, ω's meta-action or GPI's ŵ = w/||w||, whichever the critic rates higher.

    ``value(z) = ψ^ω(s, z, w)·w`` with the critic in eval mode (for a twin critic, the pessimistic
    member's value, as everywhere else in TrainOK); ties keep ω. Returns ``(z_BD, kept_omega_B)``.
    Not in the paper: a two-proposal version of SAVO's argmax over successive actors (thesis Ch. 4),
    so the OK cannot fall below GPI at states where its critic knows better.
    """
    gpi_z_BD = F.normalize(w_BD.to(z_omega_BD.dtype), dim=-1)
    B = obs_BS.shape[0]
    with training_mode(critic, False):
        psi_2BD = critic(
            torch.cat([obs_BS, obs_BS], dim=0),
            torch.cat([z_omega_BD, gpi_z_BD], dim=0),
            torch.cat([w_BD, w_BD], dim=0),
        )
    value_2B = scalarise(psi_2BD, torch.cat([w_BD, w_BD], dim=0).to(psi_2BD.dtype))
    kept_omega_B = value_2B[:B] >= value_2B[B:]
    return torch.where(kept_omega_B.unsqueeze(-1), z_omega_BD, gpi_z_BD), kept_omega_B


class OKOutput(NamedTuple):
    """Result of :meth:`OptionKeyboard.act` for B states."""

    actions_B: torch.Tensor
    """``π^GPI(s, z; Π)``, int64."""
    z_BD: torch.Tensor
    """The meta-action played (after exploration noise if any): what the replay buffer stores."""
    values_B: torch.Tensor
    """``ψ_{j*}(s, a*)·w``: GPE value under the task of the chosen base policy and action."""
    policies_B: torch.Tensor
    """``j*``: the base policy whose SFs chose the action."""


class OptionKeyboard(nn.Module):
    """Meta-policy ω and critic ψ^ω with the OK's acting rule (OKB Eq. 7, Alg. 3).

    Build with the defaults of App. F, or pass ``meta_policy``/``critic`` modules (e.g.
    :class:`TaskMetaPolicy` for plain GPI). The base policies' SFs ``psi_BJAD`` are an input of
    :meth:`act` (from :meth:`rllib_modules.okb.gpi.GPIPolicy.base_sfs`), so the OK holds no copy of
    the base-policy network.
    """

    def __init__(
        self,
        obs_dim: int,
        feature_dim: int,
        *,
        hidden_sizes: Sequence[int] = (256, 256, 256),
        critic_hidden_sizes: Sequence[int] | None = None,
        activation: OKActivation = "relu",
        batch_norm: bool = True,
        bn_momentum: float = 0.01,
        input_batch_norm: bool = True,
        residual_w: bool = False,
        critic_members: int = 1,
        noise_sigma: float = DEFAULT_NOISE_SIGMA,
        noise_clip: float = DEFAULT_NOISE_CLIP,
        meta_policy: nn.Module | None = None,
        critic: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.obs_dim, self.feature_dim = int(obs_dim), int(feature_dim)
        self.noise_sigma, self.noise_clip = float(noise_sigma), float(noise_clip)
        self.meta_policy = meta_policy if meta_policy is not None else MetaPolicy(
            obs_dim,
            feature_dim,
            hidden_sizes=hidden_sizes,
            activation=activation,
            batch_norm=batch_norm,
            bn_momentum=bn_momentum,
            input_batch_norm=input_batch_norm,
            residual_w=residual_w,
        )
        self.critic = critic if critic is not None else MetaCritic(
            obs_dim,
            feature_dim,
            hidden_sizes=hidden_sizes if critic_hidden_sizes is None else critic_hidden_sizes,
            activation=activation,
            batch_norm=batch_norm,
            bn_momentum=bn_momentum,
            input_batch_norm=input_batch_norm,
            num_members=critic_members,
        )

    @torch.no_grad()
    def meta_action(
        self,
        obs_BS: torch.Tensor,
        w_BD: torch.Tensor,
        *,
        explore: bool = False,
        generator: torch.Generator | None = None,
        gpi_guard: bool = False,
    ) -> torch.Tensor:
        """``z = ω(s, w)`` in eval mode, plus Alg. 3's clipped, renormalised noise when exploring.

        ``gpi_guard`` replaces ω(s, w) by ŵ where the critic rates ŵ higher (:func:`gpi_guarded_z`),
        before any exploration noise.
        """
        with training_mode(self.meta_policy, False):
            z_BD = self.meta_policy(obs_BS, w_BD)
        if gpi_guard:
            z_BD = gpi_guarded_z(self.critic, obs_BS, w_BD, z_BD)[0]
        if explore:
            z_BD = explore_z(z_BD, self.noise_sigma, self.noise_clip, generator=generator)
        return z_BD

    @torch.no_grad()
    def act(
        self,
        obs_BS: torch.Tensor,
        w_BD: torch.Tensor,
        psi_BJAD: torch.Tensor,
        *,
        explore: bool = False,
        generator: torch.Generator | None = None,
        policy_mask: torch.Tensor | None = None,
        gpi_guard: bool = False,
    ) -> OKOutput:
        """``A = π^GPI(s, z; Π)`` with ``z`` from :meth:`meta_action` (Eq. 7; Alg. 3's noise when
        exploring, the GPI guard when asked)."""
        z_BD = self.meta_action(obs_BS, w_BD, explore=explore, generator=generator, gpi_guard=gpi_guard)
        out = gpi(psi_BJAD, z_BD.to(psi_BJAD.dtype), value_w_BD=w_BD.to(psi_BJAD.dtype), policy_mask=policy_mask)
        return OKOutput(actions_B=out.actions_B, z_BD=z_BD, values_B=out.values_B, policies_B=out.policies_B)

    @torch.no_grad()
    def critic_values(self, obs_BS: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
        """``ψ^ω(s, ω(s, w), w)`` (B, d), both networks in eval mode (Eq. 21's ψ^ω(s, ω(s)))."""
        with training_mode(self.meta_policy, False), training_mode(self.critic, False):
            return self.critic(obs_BS, self.meta_policy(obs_BS, w_BD), w_BD)


class OKCriticLoss(NamedTuple):
    """Output of :func:`ok_critic_loss`."""

    loss: torch.Tensor
    psi_BD: torch.Tensor
    target_BD: torch.Tensor


def ok_critic_loss(
    critic: nn.Module,
    meta_policy: nn.Module,
    obs_BS: torch.Tensor,
    z_BD: torch.Tensor,
    phi_BD: torch.Tensor,
    next_obs_BS: torch.Tensor,
    terminated_B: torch.Tensor,
    w_BD: torch.Tensor,
    gamma: float,
    *,
    joint_forward: bool = True,
    n_step_B: torch.Tensor | float = 1,
) -> OKCriticLoss:
    """Alg. 3 line 22: ``mean ||ψ^ω(s, z, w) − (φ + γ^n (1 − terminated) ψ^ω(s', ω(s', w), w))||²``.

    With a multi-member :class:`MetaCritic` every member regresses on one target whose bootstrap is
    the pessimistic member's ψ^ω (:func:`pessimistic_member`, clipped double Q); ``psi_BD`` in the
    output is then the pessimistic prediction.

    ``w_BD`` are the support weights drawn for this update (:func:`sample_support_weights`);
    ``z_BD`` the stored (noisy) meta-actions. No target network: the bootstrap is the critic's own
    detached output; with ``joint_forward`` (Bhatt et al. 2024) both halves go through the critic in
    one training-mode pass, otherwise the bootstrap is evaluated in eval mode. ω(s', w) is computed
    in eval mode without gradients, so this loss never reaches ω's parameters.
    """
    with torch.no_grad(), training_mode(meta_policy, False):
        z_next_BD = meta_policy(next_obs_BS, w_BD)
    B = obs_BS.shape[0]
    with training_mode(critic, True):
        if joint_forward:
            psi_NXD = critic_members(
                critic,
                torch.cat([obs_BS, next_obs_BS], dim=0),
                torch.cat([z_BD.to(z_next_BD.dtype), z_next_BD], dim=0),
                torch.cat([w_BD, w_BD], dim=0),
            )
            psi_NBD, psi_next_NBD = psi_NXD[:, :B], psi_NXD[:, B:].detach()
        else:
            psi_NBD = critic_members(critic, obs_BS, z_BD, w_BD)
    if not joint_forward:
        with torch.no_grad(), training_mode(critic, False):
            psi_next_NBD = critic_members(critic, next_obs_BS, z_next_BD, w_BD)
    psi_next_BD = pessimistic_member(psi_next_NBD, w_BD)
    not_done_B1 = (1.0 - terminated_B.to(phi_BD.dtype)).unsqueeze(-1)
    discount = torch.as_tensor(gamma, dtype=phi_BD.dtype) ** torch.as_tensor(n_step_B, dtype=phi_BD.dtype)
    if discount.dim() == 1:
        discount = discount.unsqueeze(-1)
    target_BD = phi_BD + discount.to(phi_BD.device) * not_done_B1 * psi_next_BD
    loss = F.mse_loss(psi_NBD, target_BD.detach().unsqueeze(0).expand_as(psi_NBD))
    psi_BD = pessimistic_member(psi_NBD, w_BD)
    return OKCriticLoss(loss=loss, psi_BD=psi_BD, target_BD=target_BD.detach())


def ok_actor_loss(critic: nn.Module, meta_policy: nn.Module, obs_BS: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
    """Alg. 3 line 24 as a loss: ``−mean_b ψ^ω(s_b, ω(s_b, w_b), w_b)·w_b``.

    ω runs in training mode; the critic runs in eval mode on **detached** copies of its parameters
    (``torch.func.functional_call``), so gradients reach ω only (through z), and the critic's
    parameters and BatchNorm statistics stay untouched.
    """
    with training_mode(meta_policy, True):
        z_BD = meta_policy(obs_BS, w_BD)
    frozen = {name: p.detach() for name, p in critic.named_parameters()}
    frozen.update(dict(critic.named_buffers()))
    with training_mode(critic, False):
        psi_BD = functional_call(critic, frozen, (obs_BS, z_BD, w_BD))
    return -scalarise(psi_BD, w_BD.to(psi_BD.dtype)).mean()
