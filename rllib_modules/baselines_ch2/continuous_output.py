"""The Continuous-output baseline of thesis Ch.2 (§2.5.3; Dulac-Arnold et al. 2015; ALGORITHMS.md §1.8).

    "The policy architecture outputs a continuous vector in the action representation
    space, following Dulac-Arnold et al. (2015). From any given action set, the action
    closest to this output is selected." (§2.5.3)

Policy: a state trunk f_ω (2-layer tanh MLP, T-AppA §D.3.2) and a linear mean head give a
diagonal Gaussian ``N(μ(s), diag(σ²))`` over the representation space R^d, with a learned
state-independent ``log σ`` (the thesis' PPO code base's DiagGaussian). PPO is run on this
*continuous* action: the sampled vector ``z`` is what RLlib stores as ``Columns.ACTIONS``
(with its Gaussian ``Columns.ACTION_LOGP``), and the PPO loss recomputes log-probabilities,
entropy and KL from ``Columns.ACTION_DIST_INPUTS = [μ, log σ]`` with RLlib's
``TorchDiagGaussian``, the default distribution of the module's ``Box(d)`` action space.

Executed action: the available slot nearest (Euclidean) to ``z``,
``k* = argmin_{k available} ||z - c_k||``, sent to the env as ``Columns.ACTIONS_FOR_ENV``.
The action set does not enter the policy: the nearest-neighbour step is part of the
environment from PPO's point of view (the thesis' explanation of why the baseline learns
poorly). This needs, in the ``PPOConfig``,

- ``RLModuleSpec(action_space=Box(-inf, inf, (d,)))`` (the env's space is Discrete(K));
- ``environment(normalize_actions=False, clip_actions=False)``: otherwise RLlib's
  ``NormalizeAndClipActions`` overwrites ``ACTIONS_FOR_ENV`` with ``z`` (RLLIB_NOTES §17.7).

Because the module samples ``z`` itself (to compute the slot), ``_forward_exploration``
returns ``ACTIONS``, ``ACTION_LOGP`` and ``ACTION_DIST_INPUTS``; RLlib's ``GetActions`` then
passes them through. ``_forward_inference`` (greedy, ``z = μ(s)``) returns the *slot* as
``Columns.ACTIONS`` and ``ACTIONS_FOR_ENV``: the greedy action is never learned from, and
actlab's evaluator (``actlab.evaluation``) and RLlib's greedy sampling both step the env
with it. Slot representations: the observation's ``action_reprs``, or the learned
``action_table`` (HVAE stage) looked up by ``action_ids``; d is that table's width then.
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
from rllib_modules.common.mlp import SQRT2, Activation, InitScheme, init_linear_layers_, make_mlp
from rllib_modules.common.options import ModelOptionsMixin

__all__ = ["ContinuousOutputOptions", "ContinuousOutputRLModule"]

#: Orthogonal-init gain of the mean layer (the thesis' PPO code base's DiagGaussian: 1).
_MEAN_GAIN = 1.0


@dataclass(frozen=True)
class ContinuousOutputOptions(ModelOptionsMixin):
    """Options read from ``model_config``.

    Attributes:
        hidden_size: Width H of the trunks (T-AppA Table A.4: 64).
        state_activation: Nonlinearity of the actor and critic trunks (tanh).
        init: ``"orthogonal"`` (gain sqrt(2) trunks, 1 mean layer) or ``"torch"``.
        initial_log_std: Initial value of the learned log σ (every dimension).
        action_table_shape: ``(N actions, C)``: slot representations are learned (HVAE
            stage) and read from the ``action_table`` buffer by ``action_ids``.
    """

    hidden_size: int = 64
    state_activation: Activation = "tanh"
    init: InitScheme = "orthogonal"
    initial_log_std: float = 0.0
    action_table_shape: tuple[int, int] | None = None


class ContinuousOutputRLModule(TorchRLModule, StateCriticMixin):
    """Gaussian proto-action in representation space; the nearest available slot is executed (§2.5.3)."""

    def setup(self) -> None:
        self.options = ContinuousOutputOptions.from_model_config(self.model_config)
        space = self.observation_space
        state_dim, num_slots, repr_dim = action_set_dims(space, "ContinuousOutputRLModule")
        self.num_slots = num_slots
        if self.options.action_table_shape is not None:
            if ACTION_IDS_KEY not in space.spaces:
                raise ValueError(f"action_table_shape needs '{ACTION_IDS_KEY}' in the observations")
            n_actions, repr_dim = (int(v) for v in self.options.action_table_shape)
            self.register_buffer("action_table", torch.zeros(n_actions, repr_dim))
        else:
            self.action_table = None
        if not isinstance(self.action_space, gym.spaces.Box) or self.action_space.shape != (repr_dim,):
            raise ValueError(
                f"ContinuousOutputRLModule acts in the {repr_dim}-d representation space: set "
                f"RLModuleSpec(action_space=Box(-inf, inf, ({repr_dim},))), got {self.action_space}"
            )
        self.repr_dim = repr_dim
        hidden = self.options.hidden_size
        self.actor_encoder = make_mlp(state_dim, [hidden, hidden], self.options.state_activation)
        self.mean_head = nn.Linear(hidden, repr_dim)
        init_linear_layers_(self.actor_encoder, SQRT2, self.options.init)
        init_linear_layers_(self.mean_head, _MEAN_GAIN, self.options.init)
        self.log_std = nn.Parameter(torch.full((repr_dim,), float(self.options.initial_log_std)))
        self.build_state_critic(state_dim, hidden, self.options.state_activation, self.options.init)

    # -- forward passes -----------------------------------------------------------------

    def _forward_exploration(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Sample ``z ~ N(μ, σ²)``; store ``z`` and its logp; execute the nearest available slot."""
        obs = batch[Columns.OBS]
        with torch.no_grad():
            inputs_BX = self.distribution_inputs(obs)
            dist = self.get_exploration_action_dist_cls().from_logits(inputs_BX)
            z_BD = dist.sample()
            return {
                Columns.ACTION_DIST_INPUTS: inputs_BX,
                Columns.ACTIONS: z_BD,
                Columns.ACTION_LOGP: dist.logp(z_BD),
                Columns.ACTIONS_FOR_ENV: self.select_slots(obs, z_BD),
            }

    def _forward_inference(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Greedy: the slot nearest to the mean ``μ(s)`` (returned as the env action)."""
        obs = batch[Columns.OBS]
        with torch.no_grad():
            inputs_BX = self.distribution_inputs(obs)
            slots_B = self.select_slots(obs, inputs_BX[:, : self.repr_dim])
        return {Columns.ACTION_DIST_INPUTS: inputs_BX, Columns.ACTIONS: slots_B, Columns.ACTIONS_FOR_ENV: slots_B}

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        return {Columns.ACTION_DIST_INPUTS: self.distribution_inputs(obs), Columns.EMBEDDINGS: self.critic_embeddings(obs)}

    # -- the policy -----------------------------------------------------------------------

    def distribution_inputs(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """``(B, 2d)`` = ``[μ(s), log σ]``, the layout of RLlib's ``TorchDiagGaussian.from_logits``."""
        mean_BD = self.mean_head(self.actor_encoder(flat_state(obs)))
        return torch.cat([mean_BD, self.log_std.expand_as(mean_BD)], dim=-1)

    def select_slots(self, obs: Mapping[str, torch.Tensor], z_BD: torch.Tensor) -> torch.Tensor:
        """``(B,)`` the available slot nearest to each proto-action (Dulac-Arnold et al. 2015's 1-NN)."""
        reprs_BKD = slot_representations(obs, self.action_table)
        return nearest_slots(z_BD.unsqueeze(1), reprs_BKD, obs[ACTION_MASK_KEY]).squeeze(1)
