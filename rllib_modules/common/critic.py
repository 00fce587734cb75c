"""The separate state critic of the thesis' non-image PPO policies (T-AppA §D.3.2).

``V(s)``: ``Linear-tanh-Linear-tanh`` on the (flattened) state, then ``Linear(H, 1)``; it does
not see the action set. A mixin for PPO ``TorchRLModule``s over action-set observations:
call :meth:`build_state_critic` in ``setup()`` and return :meth:`critic_embeddings` as
``Columns.EMBEDDINGS`` from ``_forward_train`` so that PPO's loss runs the trunk once per
minibatch. The critic exists only on Learners (``inference_only`` copies on EnvRunners
skip it and weight sync leaves it out).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, ValueFunctionAPI
from torch import nn

from rllib_modules.common.action_set import flat_state
from rllib_modules.common.mlp import SQRT2, Activation, InitScheme, init_linear_layers_, make_mlp

__all__ = ["StateCriticMixin"]


class StateCriticMixin(ValueFunctionAPI, InferenceOnlyAPI):
    """``compute_values`` / ``get_non_inference_attributes`` of a separate state critic."""

    critic_encoder: nn.Module
    critic_head: nn.Module

    def build_state_critic(self, state_dim: int, hidden: int, activation: Activation, init: InitScheme) -> None:
        """Build the critic unless this is an inference-only (EnvRunner) copy."""
        if getattr(self, "inference_only", False):
            return
        self.critic_encoder = make_mlp(state_dim, [hidden, hidden], activation)
        self.critic_head = nn.Linear(hidden, 1)
        init_linear_layers_(self.critic_encoder, SQRT2, init)
        init_linear_layers_(self.critic_head, SQRT2, init)

    def critic_embeddings(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.critic_encoder(flat_state(obs))

    def get_non_inference_attributes(self) -> list[str]:
        return ["critic_encoder", "critic_head"]

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> torch.Tensor:
        """State values ``V(s)``, shape ``(B,)`` (ValueFunctionAPI; GAE and the value loss)."""
        if embeddings is None:
            embeddings = self.critic_embeddings(batch[Columns.OBS])
        return self.critic_head(embeddings).squeeze(-1)
