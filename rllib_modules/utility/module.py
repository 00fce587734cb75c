"""The utility policy RLModule of thesis Ch.2 (§2.4.2, Eq. 2.3; T-AppA §D.3.2).

Reads the observation layout of action-set environments (``envs.common.action_set``):
``state`` (S,), ``action_reprs`` (K, d) and ``action_mask`` (K,); the action is the
index of a slot. Only the non-image setting is implemented (Grid World, Recommender).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import gymnasium as gym
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
import torch.nn.functional as F
from torch import nn

from envs.common.action_set import ACTION_IDS_KEY, ACTION_MASK_KEY
from rllib_modules.common.action_set import action_set_dims, flat_state, slot_representations
from rllib_modules.common.masking import masked_logits
from rllib_modules.utility.slot_scores import relu_slot_scores
from rllib_modules.common.mlp import ACTIVATIONS, SQRT2, Activation, InitScheme, init_linear_layers_, make_mlp

__all__ = ["UtilityModelOptions", "UtilityRLModule"]

#: Orthogonal-init gain of the utility network f_ν (thesis code base: every layer of the
#: action-scoring head uses 0.01, so the initial policy is near-uniform over the set).
_UTILITY_GAIN = 0.01


@dataclass(frozen=True)
class UtilityModelOptions:
    """Options read from ``model_config`` (unknown keys, e.g. RLlib's defaults, are ignored).

    Attributes:
        hidden_size: Width H of every hidden layer (T-AppA Table A.4: 64).
        action_table_shape: ``(N actions, C)``: read representations from a table buffer
            indexed by the observation's ``action_ids`` instead of ``action_reprs``. The
            table is filled after construction (HVAE pretraining, thesis §2.4.1, by
            :class:`rllib_modules.utility.learner.UtilityPPOLearner`) and reaches the
            EnvRunners with the weights, as a buffer of the module's state.
        utility_uses_state: Eq. 2.3 scores ``f_ν[c_i, f_ω(s)]``, so the utility sees the
            state (True, the method). False scores ``f_ν[c_i]`` alone -- a state-blind
            ablation; f_ω is then not built and the policy is a fixed preference over
            representations.
        state_activation: Nonlinearity of f_ω and of the critic trunk (T-AppA §D.3.2: tanh).
        utility_activation: Nonlinearity inside f_ν (T-AppA §D.3.2: ReLU).
        init: ``"orthogonal"`` = the thesis code base's init (gain sqrt(2) for the tanh
            trunks and the value head, 0.01 for f_ν, zero biases); ``"torch"`` = PyTorch
            defaults.
    """

    hidden_size: int = 64
    action_table_shape: tuple[int, int] | None = None
    utility_uses_state: bool = True
    state_activation: Activation = "tanh"
    utility_activation: Activation = "relu"
    init: InitScheme = "orthogonal"

    @classmethod
    def from_model_config(cls, model_config: Any) -> "UtilityModelOptions":
        if model_config is None:
            return cls()
        if not isinstance(model_config, Mapping):  # a DefaultModelConfig dataclass
            model_config = vars(model_config)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in model_config.items() if k in names})

    def to_model_config(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class UtilityRLModule(TorchRLModule, ValueFunctionAPI, InferenceOnlyAPI):
    """Utility policy over a varying action set (thesis §2.4.2, Eq. 2.3; T-AppA §D.3.2).

    ``π(a_i | s, 𝒜) = softmax_i f_ν[c_i, f_ω(s)]`` over the available slots, with

    - state encoder f_ω: ``Linear-act-Linear-act`` on the (flattened) state, tanh;
    - utility f_ν: each representation c_i -> ``Linear(d, H)`` -> concat with f_ω(s) ->
      ``Linear(2H, H)-ReLU-Linear(H, 1)`` -> one logit per slot ("2-layer MLP" counts
      linear layers, as in the thesis code base). All K slots are scored in one batched
      pass over a ``(B, K, ·)`` tensor (no loop over slots), so the policy is
      permutation equivariant in the slots and independent of K;
    - critic V: a *separate* ``Linear-tanh-Linear-tanh`` trunk on the state -> ``Linear(H,
      1)`` (non-image setting; T-AppA §D.3.2). The critic does not see the action set.

    Unavailable slots get logit ``finfo.min`` (probability exactly 0; see
    :func:`rllib_modules.common.masking.masked_logits`). The masked logits are
    ``Columns.ACTION_DIST_INPUTS``; RLlib's default Categorical samples from them and PPO
    computes log-probabilities, entropy and KL on them.

    ``_forward_train`` also returns the critic trunk's features as ``Columns.EMBEDDINGS``,
    which PPO's loss passes to :meth:`compute_values`, so the critic trunk runs once per
    minibatch. The critic is not built on EnvRunners (``inference_only``) and not
    synced there (:meth:`get_non_inference_attributes`).

    ``model_config`` keys: see :class:`UtilityModelOptions`.
    """

    # -- construction -------------------------------------------------------------------

    def setup(self) -> None:
        self.options = UtilityModelOptions.from_model_config(self.model_config)
        state_dim, num_slots, repr_dim = action_set_dims(self.observation_space, "UtilityRLModule")
        if not isinstance(self.action_space, gym.spaces.Discrete) or self.action_space.n != num_slots:
            raise ValueError(
                f"UtilityRLModule needs action_space Discrete({num_slots}) (one action per slot), "
                f"got {self.action_space}"
            )
        hidden = self.options.hidden_size
        self.num_slots = num_slots
        if self.options.action_table_shape is not None:
            n_actions, repr_dim = (int(v) for v in self.options.action_table_shape)
            if ACTION_IDS_KEY not in self.observation_space.spaces:
                raise ValueError(f"action_table_shape needs '{ACTION_IDS_KEY}' in the observations")
            self.register_buffer("action_table", torch.zeros(n_actions, repr_dim))
        else:
            self.action_table = None

        # f_ω; absent in the state-blind ablation so that no unused parameters exist.
        self.state_encoder: nn.Module | None = None
        if self.options.utility_uses_state:
            self.state_encoder = make_mlp(state_dim, [hidden, hidden], self.options.state_activation)
            init_linear_layers_(self.state_encoder, SQRT2, self.options.init)

        # f_ν: the per-representation linear layer, then the scoring MLP on [c', f_ω(s)]
        # (hidden: Linear(2H, H) + activation; out: Linear(H, 1)). Kept as named layers
        # because compute_logits evaluates the first one blockwise.
        self.repr_proj = nn.Linear(repr_dim, hidden)
        score_in = 2 * hidden if self.options.utility_uses_state else hidden
        self.utility_hidden = nn.Linear(score_in, hidden)
        self.utility_act = ACTIVATIONS[self.options.utility_activation]()
        self.utility_out = nn.Linear(hidden, 1)
        for layer in (self.repr_proj, self.utility_hidden, self.utility_out):
            init_linear_layers_(layer, _UTILITY_GAIN, self.options.init)

        # The critic is only needed by the Learner (GAE and the value loss).
        if not self.inference_only:
            self.critic_encoder = make_mlp(state_dim, [hidden, hidden], self.options.state_activation)
            self.critic_head = nn.Linear(hidden, 1)
            init_linear_layers_(self.critic_encoder, SQRT2, self.options.init)
            init_linear_layers_(self.critic_head, SQRT2, self.options.init)

    def get_non_inference_attributes(self) -> list[str]:
        return ["critic_encoder", "critic_head"]

    # -- forward passes -----------------------------------------------------------------

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Exploration and inference: masked logits only (no critic on EnvRunners)."""
        return {Columns.ACTION_DIST_INPUTS: self.compute_logits(batch[Columns.OBS])}

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        return {
            Columns.ACTION_DIST_INPUTS: self.compute_logits(obs),
            Columns.EMBEDDINGS: self.critic_encoder(flat_state(obs)),
        }

    def compute_logits(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Masked utilities ``logits_BK`` of Eq. 2.3 for a batch of action-set observations.

        Evaluated blockwise rather than as ``hidden(cat[repr_proj(c_i), f_ω(s)])``: with
        ``W = [W_c | W_s]`` the first utility layer is ``W_c·repr_proj(c_i) + W_s·f_ω(s)``.
        The state block is computed once per row instead of once per slot, and the two
        consecutive linear maps of the representation block are folded into one
        ``(H, d)`` matrix, so the per-slot work is a ``d -> H`` product instead of
        ``d -> H`` plus ``2H -> H``. Same parameters, same function, same gradients (up
        to float rounding); about 2-3x faster for K=50 slots on CPU.
        """
        hidden = self.options.hidden_size
        w_c_HH = self.utility_hidden.weight[:, :hidden]
        # Fold repr_proj into the representation block: W_c(W_r c + b_r) + b.
        w_HD = w_c_HH @ self.repr_proj.weight
        b_H = w_c_HH @ self.repr_proj.bias + self.utility_hidden.bias
        c_BKD = self.action_reprs(obs)
        if self.state_encoder is not None:
            h_s_BH = self.state_encoder(flat_state(obs))
            bias_BH = F.linear(h_s_BH, self.utility_hidden.weight[:, hidden:], b_H)
        else:
            bias_BH = b_H.expand(c_BKD.shape[0], -1)
        if self.options.utility_activation == "relu":
            # Hand-written backward (slot_scores.py): the (B, K, H) activations dominate a
            # CPU Learner's time, and autograd's generic backward makes two more of them.
            logits_BK = relu_slot_scores(
                c_BKD, w_HD.t(), bias_BH, self.utility_out.weight.squeeze(0), self.utility_out.bias
            )
        else:
            w_BDH = w_HD.t().unsqueeze(0).expand(c_BKD.shape[0], -1, -1)
            h_BKH = self.utility_act(torch.baddbmm(bias_BH.unsqueeze(1), c_BKD, w_BDH))
            logits_BK = torch.matmul(h_BKH, self.utility_out.weight.squeeze(0)) + self.utility_out.bias
        return masked_logits(logits_BK, obs[ACTION_MASK_KEY])

    def compute_logits_reference(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Eq. 2.3 written literally (concat per slot); for tests of :meth:`compute_logits`."""
        h_c_BKH = self.repr_proj(self.action_reprs(obs))
        if self.state_encoder is not None:
            h_s_BH = self.state_encoder(flat_state(obs))
            h_s_BKH = h_s_BH.unsqueeze(1).expand(-1, h_c_BKH.shape[1], -1)
            h_c_BKH = torch.cat([h_c_BKH, h_s_BKH], dim=-1)
        logits_BK = self.utility_out(self.utility_act(self.utility_hidden(h_c_BKH))).squeeze(-1)
        return masked_logits(logits_BK, obs[ACTION_MASK_KEY])

    def action_reprs(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``c_BKD``: the representations of the slots, from the env or from the table."""
        return slot_representations(obs, self.action_table)

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> torch.Tensor:
        """State values ``V(s)``, shape ``(B,)`` (ValueFunctionAPI; used by GAE and the loss)."""
        if embeddings is None:
            embeddings = self.critic_encoder(flat_state(batch[Columns.OBS]))
        return self.critic_head(embeddings).squeeze(-1)
