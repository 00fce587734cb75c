"""The Nearest-Neighbor baseline of thesis Ch.2 (§2.5.3; ALGORITHMS.md §1.8).

    "A standard discrete action policy is trained. The representation of this policy's
    output action is used to select the nearest neighbor from new actions." (§2.5.3)

The policy is an ordinary categorical policy over the *fixed* universe of training actions
(Grid World: the 512 training skills): a state trunk f_ω (2-layer tanh MLP, as for the
utility policy, T-AppA §D.3.2) and a linear head with one logit per training action. The
env's action is still a *slot* of the action-set observation (``Discrete(max_actions)``,
``envs.common.action_set``), so the module maps its distribution over training actions to
a distribution over slots, row by row:

1. **The row offers training actions** (training, and the ``train`` evaluation set): the
   head is restricted to the training actions in the offered set (the others are masked,
   as the env only allows those), i.e. ``P(slot k) = softmax_{j ∈ 𝒜 ∩ train} logit_j`` at
   ``j = id(k)``. Slots holding a non-training action get probability 0 in such rows.
2. **The row offers no training action** (validation / test sets: new actions): the
   policy chooses a training action ``j ~ softmax(logit)`` over *all* training actions, and
   the available slot whose representation is nearest (Euclidean) to the representation
   ``r_j`` of ``j`` is executed: ``nn(j) = argmin_{k available} ||r_j - c_k||``. The slot
   distribution is exactly the one this two-step procedure induces,
   ``P(slot k) = Σ_{j: nn(j)=k} π(j|s)``, emitted as logits
   ``logsumexp_{j: nn(j)=k} logit_j`` (slots that are no training action's nearest
   neighbour get probability 0). Sampling a slot from it is sampling ``j`` and mapping it.
   *Greedy* acting (``forward_inference``, used by actlab's evaluation) executes
   ``nn(argmax_j logit_j)`` -- the nearest neighbour of the policy's chosen (most probable)
   training action, §2.5.3's wording -- and returns it as ``Columns.ACTIONS``.

Representations: ``r_j`` of the training actions is a fixed table the builder reads from
the env (:func:`rllib_modules.common.action_set.env_representation_table` and the train
split of ``action_dataset``; ``model_config["train_action_reprs"]``), the slots' ``c_k``
come from the observation's ``action_reprs``. With learned representations
(``representation.source: hvae|vae|oracle-hvae``) both are rows of the module's
``action_table`` buffer, filled by the pretraining stage of
:class:`rllib_modules.utility.learner.UtilityPPOLearner`, and looked up by ``action_ids``.

Ties in distance go to the lowest slot index. The critic is the separate state critic
(:class:`rllib_modules.common.critic.StateCriticMixin`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.torch import TorchRLModule
from torch import nn

from envs.common.action_set import ACTION_IDS_KEY, ACTION_MASK_KEY
from rllib_modules.common.action_set import action_set_dims, flat_state, nearest_slots, slot_representations
from rllib_modules.common.critic import StateCriticMixin
from rllib_modules.common.masking import masked_logits, valid_slots
from rllib_modules.common.mlp import SQRT2, Activation, InitScheme, init_linear_layers_, make_mlp
from rllib_modules.common.options import ModelOptionsMixin

__all__ = ["NearestNeighborOptions", "NearestNeighborRLModule"]

#: Orthogonal-init gain of the logit layer (the thesis' PPO code base's Categorical head).
_HEAD_GAIN = 0.01


@dataclass(frozen=True)
class NearestNeighborOptions(ModelOptionsMixin):
    """Options read from ``model_config``.

    Attributes:
        hidden_size: Width H of the state trunk (T-AppA Table A.4: 64).
        state_activation: Nonlinearity of the state trunk and the critic (tanh).
        init: ``"orthogonal"`` (gain sqrt(2) trunks, 0.01 logit layer) or ``"torch"``.
        train_action_ids: Global ids of the training actions; the head has one logit per
            entry, in this order.
        train_action_reprs: ``(len(train_action_ids), d)`` representations of the training
            actions in the env's representation space (``source: env``); None when
            ``action_table_shape`` is set.
        action_table_shape: ``(N actions, C)``: representations are learned (HVAE stage) and
            read from the ``action_table`` buffer by action id, for the slots and the
            training actions alike.
    """

    hidden_size: int = 64
    state_activation: Activation = "tanh"
    init: InitScheme = "orthogonal"
    train_action_ids: tuple[int, ...] | list[int] = ()
    train_action_reprs: Any = None
    action_table_shape: tuple[int, int] | None = None


class NearestNeighborRLModule(TorchRLModule, StateCriticMixin):
    """Discrete policy over the training actions, mapped to slots by nearest neighbour (§2.5.3).

    ``model_config`` keys: see :class:`NearestNeighborOptions`. Outputs:
    ``Columns.ACTION_DIST_INPUTS`` = masked slot logits ``(B, K)`` (RLlib's Categorical
    samples them, PPO computes logp / entropy / KL on them); ``forward_inference`` also
    returns the greedy slot as ``Columns.ACTIONS``; ``forward_train`` returns the critic
    trunk's features as ``Columns.EMBEDDINGS``.
    """

    def setup(self) -> None:
        self.options = NearestNeighborOptions.from_model_config(self.model_config)
        space = self.observation_space
        state_dim, num_slots, repr_dim = action_set_dims(space, "NearestNeighborRLModule")
        if ACTION_IDS_KEY not in space.spaces:
            raise ValueError(f"NearestNeighborRLModule needs '{ACTION_IDS_KEY}' in the observations")
        if not isinstance(self.action_space, gym.spaces.Discrete) or self.action_space.n != num_slots:
            raise ValueError(f"NearestNeighborRLModule needs action_space Discrete({num_slots}), got {self.action_space}")
        self.num_slots = num_slots
        n_ids = int(space[ACTION_IDS_KEY].high.max()) + 1
        train_ids = torch.as_tensor(list(self.options.train_action_ids), dtype=torch.long)
        n_train = int(train_ids.numel())
        if n_train == 0 or train_ids.min() < 0 or train_ids.max() >= n_ids or train_ids.unique().numel() != n_train:
            raise ValueError(f"train_action_ids must be {n_train} > 0 distinct ids in [0, {n_ids})")
        self.n_train = n_train
        # Derived from model_config on every copy: not part of the state (persistent=False).
        self.register_buffer("train_ids", train_ids, persistent=False)
        train_index = torch.full((n_ids,), -1, dtype=torch.long)
        train_index[train_ids] = torch.arange(n_train)
        self.register_buffer("train_index", train_index, persistent=False)

        if self.options.action_table_shape is not None:
            n_table, repr_dim = (int(v) for v in self.options.action_table_shape)
            if n_table < n_ids:
                raise ValueError(f"action_table_shape {self.options.action_table_shape} has fewer rows than {n_ids} ids")
            # Filled by the pretraining stage; synced to EnvRunners and checkpointed.
            self.register_buffer("action_table", torch.zeros(n_table, repr_dim))
            self.train_reprs = None
        else:
            self.action_table = None
            if self.options.train_action_reprs is None:
                raise ValueError("NearestNeighborRLModule needs train_action_reprs (or action_table_shape)")
            reprs = torch.as_tensor(self.options.train_action_reprs, dtype=torch.float32)
            if tuple(reprs.shape) != (n_train, repr_dim):
                raise ValueError(f"train_action_reprs must be ({n_train}, {repr_dim}), got {tuple(reprs.shape)}")
            self.register_buffer("train_reprs", reprs, persistent=False)

        hidden = self.options.hidden_size
        self.state_encoder = make_mlp(state_dim, [hidden, hidden], self.options.state_activation)
        self.head = nn.Linear(hidden, n_train)
        init_linear_layers_(self.state_encoder, SQRT2, self.options.init)
        init_linear_layers_(self.head, _HEAD_GAIN, self.options.init)
        self.build_state_critic(state_dim, hidden, self.options.state_activation, self.options.init)

    # -- forward passes -----------------------------------------------------------------

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Exploration: slot logits; RLlib's Categorical samples them."""
        return {Columns.ACTION_DIST_INPUTS: self.slot_logits(batch[Columns.OBS])[0]}

    def _forward_inference(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Greedy: the slot of the most probable training action (nearest neighbour in new sets)."""
        with torch.no_grad():
            logits_BK, greedy_B = self.slot_logits(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: logits_BK, Columns.ACTIONS: greedy_B}

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        return {Columns.ACTION_DIST_INPUTS: self.slot_logits(obs)[0], Columns.EMBEDDINGS: self.critic_embeddings(obs)}

    # -- the policy -----------------------------------------------------------------------

    def train_action_logits(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Unmasked logits ``(B, N_train)`` of the discrete policy over the training actions."""
        return self.head(self.state_encoder(flat_state(obs)))

    def train_action_representations(self) -> torch.Tensor:
        """``(N_train, d)`` representations r_j of the training actions, in head order."""
        if self.action_table is not None:
            return self.action_table[self.train_ids]
        return self.train_reprs

    def slot_logits(self, obs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked slot logits ``(B, K)`` and the greedy slot ``(B,)`` (see the module docstring)."""
        logits_BN = self.train_action_logits(obs)
        valid_BK = valid_slots(obs[ACTION_MASK_KEY])
        ids_BK = obs[ACTION_IDS_KEY].long()
        tidx_BK = self.train_index[ids_BK.clamp(min=0)]
        is_train_BK = valid_BK & (ids_BK >= 0) & (tidx_BK >= 0)
        has_train_B = is_train_BK.any(dim=-1)

        # Case 1: the head restricted to the offered training actions.
        direct_BK = logits_BN.gather(1, tidx_BK.clamp(min=0))
        out_BK = masked_logits(direct_BK, is_train_BK)
        greedy_B = out_BK.argmax(dim=-1)

        # Case 2: rows without training actions: nearest available slot of each r_j.
        new_rows = (~has_train_B).nonzero(as_tuple=True)[0]
        if new_rows.numel() > 0:
            sub = {k: v[new_rows] for k, v in obs.items()}
            mapped_BK, greedy_new_B = self.nearest_neighbour_slot_logits(logits_BN[new_rows], sub, valid_BK[new_rows])
            out_BK = out_BK.index_copy(0, new_rows, mapped_BK)
            greedy_B = greedy_B.index_copy(0, new_rows, greedy_new_B)
        return out_BK, greedy_B

    def nearest_neighbour_slot_logits(
        self, logits_BN: torch.Tensor, obs: Mapping[str, torch.Tensor], valid_BK: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Slot logits ``logsumexp_{j: nn(j)=k} logit_j`` and greedy slot ``nn(argmax_j logit_j)``."""
        batch, n_train = logits_BN.shape
        reprs_BKD = slot_representations(obs, self.action_table)
        train_BND = self.train_action_representations().unsqueeze(0).expand(batch, -1, -1)
        nn_BN = nearest_slots(train_BND, reprs_BKD, valid_BK)  # nn(j) per row
        # Per-slot logsumexp over the training actions mapped to it (scatter, no loop).
        neg_inf = torch.full((batch, self.num_slots), float("-inf"), dtype=logits_BN.dtype, device=logits_BN.device)
        max_BK = neg_inf.scatter_reduce(1, nn_BN, logits_BN.detach(), reduce="amax", include_self=True)
        hit_BK = torch.isfinite(max_BK)
        max_BK = torch.where(hit_BK, max_BK, torch.zeros_like(max_BK))
        exp_BN = torch.exp(logits_BN - max_BK.gather(1, nn_BN))
        sum_BK = torch.zeros_like(max_BK).scatter_add(1, nn_BN, exp_BN)
        # clamp: log(0) in unhit slots would give NaN gradients through torch.where.
        lse_BK = torch.log(sum_BK.clamp_min(torch.finfo(sum_BK.dtype).tiny)) + max_BK
        greedy_B = nn_BN.gather(1, logits_BN.argmax(dim=-1, keepdim=True)).squeeze(1)
        return masked_logits(lse_BK, hit_BK & valid_BK), greedy_B
