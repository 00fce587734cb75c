"""Generalized policy improvement with successor features (OKB §2.2-2.4, Eq. 1, 3, 4, 7).

Given the SFs of every base policy ``ψ^{π_j}(s, a)`` for a batch of states, the GPI policy for a
weight vector ``w`` (Barreto et al. 2017; OKB Eq. 3) is

    π^GPI(s, w; Π) ∈ argmax_a max_j ψ^{π_j}(s, a)·w,

and the option keyboard acts with the same rule, only with the meta-policy's ``z = ω(s, w)`` in
place of ``w`` (OKB Eq. 4 and 7: ``π^OK_ω(s, w; Π) = π^GPI(s, ω(s, w); Π)``). Everything here is one
batched tensor computation over states, policies and actions (no Python loop):

- :func:`gpi` — action, value, maximising policy and the SF vector of the chosen (policy, action)
  for ``psi_BJAD`` (B states, J base policies, A actions, d features) and selection weights
  ``z_BD``; the value may be taken under other task weights (the OK selects with z, is scored
  with w).
- :func:`base_policy_sfs` — the ``psi_BJAD`` of the base policies of a USFA (OKB §5: one network
  ψ(s, a, w) stands for every base policy π_{w_j} as ψ(s, a, w_j)), in one forward pass over the
  B·J (state, base weight) pairs.
- :class:`GPIPolicy` — an ``nn.Module`` holding a USFA and the base weights W_Π (a buffer), with
  ``forward(obs_BS, w_BD) -> GPIOutput``.

Ties are broken deterministically, on every device: the **lowest action index** among the
maximising actions, then the **lowest policy index** among the policies attaining that action's
value. Base policies can be masked out (``policy_mask``) so that a module can keep a fixed maximum
number of base-policy slots while the basis grows (RLLIB_NOTES §11).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

__all__ = [
    "GPIOutput",
    "GPIPolicy",
    "SFFunction",
    "base_policy_sfs",
    "first_argmax",
    "first_argmin",
    "gpi",
    "scalarise",
]

#: ``(obs_XS, w_XD) -> psi_XAD``: SFs of the policy conditioned on ``w`` for every action.
SFFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class GPIOutput(NamedTuple):
    """Result of :func:`gpi` for a batch of B states."""

    actions_B: torch.Tensor
    """``argmax_a max_j ψ_j(s, a)·z`` (int64), lowest index on ties."""
    values_B: torch.Tensor
    """``ψ_{j*}(s, a*)·w_value``: the GPE value of the chosen (policy, action) under the value weights."""
    policies_B: torch.Tensor
    """``j*``: the lowest-index base policy attaining ``max_j ψ_j(s, a*)·z`` (int64)."""
    psi_BD: torch.Tensor
    """``ψ_{j*}(s, a*)``: the SF vector behind the chosen action."""
    q_BA: torch.Tensor
    """``max_j ψ_j(s, a)·z`` for every action (under the selection weights)."""


def first_argmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Index of the maximum along ``dim``, the **lowest** index among exact ties, on every device.

    (``torch.argmax`` documents first-occurrence only loosely across backends; this makes the
    tie-break part of the contract.) NaNs are not supported.
    """
    dim = dim % x.dim()
    size = x.shape[dim]
    shape = [1] * x.dim()
    shape[dim] = size
    index = torch.arange(size, device=x.device).view(shape).expand_as(x)
    is_max = x == x.amax(dim=dim, keepdim=True)
    return torch.where(is_max, index, torch.full_like(index, size)).amin(dim=dim)


def first_argmin(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Index of the minimum along ``dim``, the lowest index among exact ties (see :func:`first_argmax`)."""
    return first_argmax(-x, dim=dim)


def scalarise(psi_BXD: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
    """``ψ·w`` over the last axis, with ``w_BD`` broadcast over the middle axes of ``psi``.

    Written as multiply-then-sum (not einsum) so that every value in this package is computed by
    the same reduction, which keeps "the OK with ω(s, w) = w equals GPI" bit-exact.
    """
    w_shape = (w_BD.shape[0],) + (1,) * (psi_BXD.dim() - 2) + (w_BD.shape[-1],)
    return (psi_BXD * w_BD.reshape(w_shape)).sum(dim=-1)


def gpi(
    psi_BJAD: torch.Tensor,
    z_BD: torch.Tensor,
    *,
    value_w_BD: torch.Tensor | None = None,
    policy_mask: torch.Tensor | None = None,
) -> GPIOutput:
    """GPI over J base policies for B states in one pass (OKB Eq. 3; Eq. 4/7 with ``z = ω(s, w)``).

    Args:
        psi_BJAD: ``ψ^{π_j}(s_b, a)`` for every state b, base policy j, action a.
        z_BD: selection weights: the task ``w`` for GPI, the meta-action ``z`` for the OK.
        value_w_BD: weights under which ``values_B`` is reported (default ``z_BD``). The OK passes
            the task ``w`` here so that its value is the GPE estimate ``ψ_{j*}(s, a*)·w``.
        policy_mask: optional bool mask of usable base policies, ``(J,)`` or ``(B, J)``; every row
            needs at least one ``True``.

    The action is ``argmax_a max_j ψ_j(s, a)·z`` (lowest a on ties), ``j*`` the lowest j attaining
    ``max_j ψ_j(s, a*)·z``. Argmax is invariant to positive scaling of z, so ``z = w / ||w||``
    selects the same actions as ``w`` up to round-off in exact ties.
    """
    if psi_BJAD.dim() != 4:
        raise ValueError(f"psi_BJAD must be (B, J, A, d), got shape {tuple(psi_BJAD.shape)}")
    B, J, A, D = psi_BJAD.shape
    if z_BD.shape != (B, D):
        raise ValueError(f"z_BD must be ({B}, {D}), got {tuple(z_BD.shape)}")
    q_BJA = scalarise(psi_BJAD, z_BD)
    if policy_mask is not None:
        mask_BJ = policy_mask.to(torch.bool).expand(B, J)
        if not bool(mask_BJ.any(dim=1).all()):
            raise ValueError("policy_mask leaves a state without any base policy")
        q_BJA = q_BJA.masked_fill(~mask_BJ.unsqueeze(-1), float("-inf"))
    q_BA = q_BJA.amax(dim=1)
    actions_B = first_argmax(q_BA, dim=-1)
    q_chosen_BJ = q_BJA.gather(2, actions_B.view(B, 1, 1).expand(B, J, 1)).squeeze(2)
    policies_B = first_argmax(q_chosen_BJ, dim=-1)
    batch_B = torch.arange(B, device=psi_BJAD.device)
    psi_BD = psi_BJAD[batch_B, policies_B, actions_B]
    values_B = scalarise(psi_BD, z_BD if value_w_BD is None else value_w_BD)
    return GPIOutput(actions_B=actions_B, values_B=values_B, policies_B=policies_B, psi_BD=psi_BD, q_BA=q_BA)


def base_policy_sfs(sf_fn: SFFunction, obs_BS: torch.Tensor, base_weights: torch.Tensor) -> torch.Tensor:
    """``ψ(s_b, a, w_j)`` for every state b and base weight j, as ``psi_BJAD``, in one call of ``sf_fn``.

    With a USFA the base policy π_j is ``argmax_a ψ(s, a, w_j)·w_j`` and its SFs are ``ψ(s, ·, w_j)``
    (OKB §5). ``base_weights`` is ``(J, d)`` (shared by the batch) or ``(B, J, d)``; the B·J pairs
    are stacked into one batch for ``sf_fn`` (``(obs_XS, w_XD) -> psi_XAD``).
    """
    B = obs_BS.shape[0]
    w_BJD = base_weights.unsqueeze(0).expand(B, -1, -1) if base_weights.dim() == 2 else base_weights
    if w_BJD.dim() != 3 or w_BJD.shape[0] != B:
        raise ValueError(f"base_weights must be (J, d) or ({B}, J, d), got {tuple(base_weights.shape)}")
    J, D = w_BJD.shape[1], w_BJD.shape[2]
    obs_XS = obs_BS.unsqueeze(1).expand(B, J, *obs_BS.shape[1:]).reshape(B * J, *obs_BS.shape[1:])
    psi_XAD = sf_fn(obs_XS, w_BJD.reshape(B * J, D))
    return psi_XAD.reshape(B, J, *psi_XAD.shape[1:])


class GPIPolicy(nn.Module):
    """The GPI policy of a USFA over the base weights ``W_Π`` (OKB Eq. 3, §5; SFOLS acts with it).

    Holds the SF approximator (any module with ``act_sfs(obs_XS, w_XD) -> psi_XAD``, e.g.
    :class:`rllib_modules.okb.successor_features.SuccessorFeatureEnsemble`) and the base weights as
    a buffer ``(J, d)`` (set with :meth:`set_base_weights`; J = 0 until the first base policy).
    """

    base_weights_JD: torch.Tensor

    def __init__(self, sf_approximator: nn.Module, feature_dim: int) -> None:
        super().__init__()
        self.sf_approximator = sf_approximator
        self.feature_dim = int(feature_dim)
        self.register_buffer("base_weights_JD", torch.zeros(0, self.feature_dim))

    def set_base_weights(self, base_weights_JD: torch.Tensor) -> None:
        """Replace the base weights (Π_k after NewPolicy / RemoveDominated)."""
        # The weights are inputs of the SF network: keep them in its dtype and on its device.
        reference = next(self.sf_approximator.parameters(), self.base_weights_JD)
        w_JD = torch.as_tensor(base_weights_JD).to(dtype=reference.dtype, device=reference.device)
        if w_JD.dim() != 2 or w_JD.shape[1] != self.feature_dim:
            raise ValueError(f"base weights must be (J, {self.feature_dim}), got {tuple(w_JD.shape)}")
        self.base_weights_JD = w_JD.clone()

    def base_sfs(self, obs_BS: torch.Tensor) -> torch.Tensor:
        """``psi_BJAD`` of the base policies at ``obs_BS``."""
        if self.base_weights_JD.shape[0] == 0:
            raise RuntimeError("GPIPolicy has no base policies yet; call set_base_weights first")
        return base_policy_sfs(self.sf_approximator.act_sfs, obs_BS, self.base_weights_JD)

    def forward(self, obs_BS: torch.Tensor, w_BD: torch.Tensor) -> GPIOutput:
        """GPI action and value for task ``w_BD`` at ``obs_BS``."""
        return gpi(self.base_sfs(obs_BS), w_BD)
