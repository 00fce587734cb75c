"""Meta-policies over a fixed basis for the environment's own (possibly non-linear) reward (OKB §5, Q3).

Once a basis Π is built, a task whose reward is not linear in φ (Item Collection's "collect all
items of one type first") is solved by learning *which* GPI weight to play in each state:

- **OK** (``okb``, ``okb-uniform``): a meta-policy ω(s) → z on the unit sphere, acting
  ``π^GPI(s, z; Π)`` (Eq. 4), trained as Alg. 3 with the scalar reward in place of φ: a scalar
  critic q(s, z) and the same CrossQ-style losses. The losses of
  :mod:`rllib_modules.okb.option_keyboard` are reused as they are by treating the reward as a
  1-d feature with weight 1 (``ψ·w = q`` when ψ = q and w = 1), so both methods share one
  implementation of the TD target and the actor objective.
- **SIP** (Alver & Precup 2021; ``sip``): a Q-network over a *discrete* set of K weights
  ``{w_k}`` ⊂ 𝒲, acting ``π^GPI(s, w_k; Π)`` with ε-greedy over k, trained by DQN (target network
  with Polyak averaging, double-DQN target).

The OK's ω chooses z at every step: per-step choice is the OK's definition (Eq. 4), and the
paper describes no termination. SIP's choice is, by default (``choice_termination: feature``),
an *option* in the sense of the option keyboard of Barreto et al. (2019): the chosen w_k is held
until a reward feature fires (φ ≠ 0: an item is picked up), the episode ends, or
``choice_max_steps`` pass. The DQN learns by intra-option Q-learning (``choice_learning:
intra_option``, the default; Sutton, Precup & Singh 1999): every step ``(s, k, r, s')`` of a held option
is a row with target ``r + γ U(s', k)``, ``U(s', k) = q(s', k)`` if the option runs on and
``max_k' q(s', k')`` if it ended, so each state an option passes through trains q(·, k). The
alternative ``smdp`` learns from one row per option ``(s, k, Σ_i γ^i r_i, s', τ)`` with the target
``R + γ^τ max_k' q(s', k')``: about five times fewer rows, and on Item Collection it plateaus far
lower (README). Neither paper says how SIP's meta-policy terminates; measured here, a per-step
choice (``choice_termination: step``) flips between e1 and e2 where their values are nearly equal
and never finishes one item type.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rllib_modules.okb.linear_support import uniform_simplex_weights
from rllib_modules.okb.option_keyboard import OKActivation, _bn_mlp

__all__ = [
    "HeldChoices",
    "RewardMetaCritic",
    "RewardMetaPolicy",
    "WeightChoiceQ",
    "weight_choice_td_loss",
    "weight_choices",
]


def weight_choices(d: int, partitions: int, *, signed: bool = False) -> np.ndarray:
    """The discrete weights ``(K, d)`` of SIP and the GPI lines: the Das-Dennis lattice on the simplex, or
    with ``signed`` every sign pattern of it, i.e. the lattice on the L1 sphere (duplicates removed)."""
    lattice_KD = uniform_simplex_weights(d, n_partitions=partitions)
    if not signed:
        return lattice_KD
    signs_SD = np.array(list(itertools.product((1.0, -1.0), repeat=d)))
    flipped = (lattice_KD[:, None, :] * signs_SD[None, :, :]).reshape(-1, d) + 0.0  # + 0.0 turns -0.0 into 0.0
    return np.unique(np.round(flipped, 12), axis=0)


class RewardMetaPolicy(nn.Module):
    """ω(s) → unit z ∈ R^d for one fixed reward (the ``w_BD`` argument is accepted and ignored, so the
    OK losses apply unchanged)."""

    def __init__(
        self, obs_dim: int, feature_dim: int, *, hidden_sizes: Sequence[int] = (256, 256, 256), activation: OKActivation = "relu",
        batch_norm: bool = True, bn_momentum: float = 0.01, input_batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.net = _bn_mlp(obs_dim, hidden_sizes, feature_dim, activation, batch_norm, bn_momentum, input_batch_norm)

    def forward(self, obs_BS: torch.Tensor, w_BD: torch.Tensor | None = None) -> torch.Tensor:
        return F.normalize(self.net(obs_BS), dim=-1, eps=1e-8)


class RewardMetaCritic(nn.Module):
    """q(s, z) as a ``(B, 1)`` "SF" of the 1-d reward feature (``w_BD`` ignored, see the module docstring)."""

    def __init__(
        self, obs_dim: int, feature_dim: int, *, hidden_sizes: Sequence[int] = (256, 256, 256), activation: OKActivation = "relu",
        batch_norm: bool = True, bn_momentum: float = 0.01, input_batch_norm: bool = True,
    ) -> None:
        super().__init__()
        self.net = _bn_mlp(obs_dim + feature_dim, hidden_sizes, 1, activation, batch_norm, bn_momentum, input_batch_norm)

    def forward(self, obs_BS: torch.Tensor, z_BD: torch.Tensor, w_BD: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(torch.cat([obs_BS, z_BD.to(obs_BS.dtype)], dim=-1))


class WeightChoiceQ(nn.Module):
    """SIP's meta Q-network ``q(s, k)`` over K GPI weights: an MLP ``S → K`` (ReLU)."""

    def __init__(self, obs_dim: int, num_choices: int, hidden_sizes: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        dim = obs_dim
        for size in hidden_sizes:
            layers += [nn.Linear(dim, int(size)), nn.ReLU()]
            dim = int(size)
        layers.append(nn.Linear(dim, num_choices))
        self.net = nn.Sequential(*layers)

    def forward(self, obs_BS: torch.Tensor) -> torch.Tensor:
        return self.net(obs_BS)


def weight_choice_td_loss(
    q: WeightChoiceQ,
    q_target: WeightChoiceQ,
    obs_BS: torch.Tensor,
    choice_B: torch.Tensor,
    reward_B: torch.Tensor,
    next_obs_BS: torch.Tensor,
    terminated_B: torch.Tensor,
    gamma: float,
    *,
    duration_B: torch.Tensor | None = None,
    continues_B: torch.Tensor | None = None,
    double_q: bool = True,
) -> torch.Tensor:
    """DQN loss ``mean (q(s, k) − (R + γ^τ (1 − terminated) q_target(s', k'*)))²`` with
    ``k'* = argmax_k' q(s', k')`` (double DQN, van Hasselt et al. 2016) or ``argmax q_target``.

    ``reward_B`` is the discounted return R of each row's choice and ``duration_B`` its length τ in
    env steps (SMDP Q-learning; None: one-step rows, τ = 1).

    ``continues_B`` (intra-option Q-learning, Sutton, Precup & Singh 1999 §3): one-step rows of a held
    option, bootstrapping from ``U(s', k) = c·q_target(s', k) + (1 − c)·q_target(s', k'*)`` where
    ``c = 1`` if the option still runs at ``s'`` and 0 if it ended there."""
    with torch.no_grad():
        q_next_BK = q_target(next_obs_BS)
        k_next_B = (q(next_obs_BS) if double_q else q_next_BK).argmax(dim=-1)
        bootstrap_B = q_next_BK.gather(1, k_next_B.view(-1, 1)).squeeze(1)
        if continues_B is not None:
            held_B = q_next_BK.gather(1, choice_B.long().view(-1, 1)).squeeze(1)
            continues_B = continues_B.to(reward_B.dtype)
            bootstrap_B = continues_B * held_B + (1.0 - continues_B) * bootstrap_B
        discount_B = gamma if duration_B is None else torch.pow(gamma, duration_B.to(reward_B.dtype))
        target_B = reward_B + discount_B * (1.0 - terminated_B) * bootstrap_B
    q_B = q(obs_BS).gather(1, choice_B.long().view(-1, 1)).squeeze(1)
    return F.mse_loss(q_B, target_B)


class HeldChoices:
    """SIP's choice per env, held as an option until it terminates (see the module docstring).

    :meth:`pick` returns the choice of each env in ``idx``, taking the proposal only where the env has
    no running option (first step, or its option ended); :meth:`observe` ends an env's option when a
    reward feature fires or its episode ends; an option also ends after ``max_steps`` steps. With
    ``max_steps = 1`` every step is a new choice (``choice_termination: step``).
    """

    def __init__(self, num_envs: int, max_steps: int) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        self.max_steps = int(max_steps)
        self.k = np.full(num_envs, -1, dtype=np.int64)
        self.age = np.zeros(num_envs, dtype=np.int64)

    def needs_choice(self, i: int) -> bool:
        """True when env ``i``'s option has ended (or none has started)."""
        return bool(self.k[i] < 0 or self.age[i] >= self.max_steps)

    def pick(self, idx: Sequence[int], proposals_B: np.ndarray) -> np.ndarray:
        """The held choice of each env in ``idx`` after this step's re-choices; ages advance by one."""
        idx_B = np.asarray(idx, dtype=np.int64)
        fresh_B = (self.k[idx_B] < 0) | (self.age[idx_B] >= self.max_steps)
        self.k[idx_B[fresh_B]] = np.asarray(proposals_B, dtype=np.int64)[fresh_B]
        self.age[idx_B[fresh_B]] = 0
        self.age[idx_B] += 1
        return self.k[idx_B].copy()

    def observe(self, i: int, phi_D: np.ndarray, episode_ended: bool) -> None:
        """After env ``i``'s step: its option ends if a feature fired or the episode ended."""
        if episode_ended or bool(np.any(np.asarray(phi_D) != 0)):
            self.k[i] = -1
