"""The Learner of the Ch.4 baselines that change what the actor is trained on (thesis §4.6.1, T-AppC §D.2).

:class:`~rllib_modules.td3.learner.TD3TorchLearner` (critic regression, delayed actor,
Polyak steps) with three hooks read from the module and its training outputs:

- extra networks trained by the ``"actor"`` optimizer: the module's
  ``actor_submodules`` (names of submodules; e.g. the joint actor of ``savo-joint``);
- :data:`ACTOR_OBJECTIVE_KEY` in the training outputs *replaces* TD3's actor objective
  Q_1(s, μ(s)) (Eq. 4.3): ``actor_loss = -mean(objective)`` (the greedy actors' likelihood of
  the best proposals, CEM's regression onto its solution); Q_1(s, μ(s)) stays logged;
- a module with a ``proposal`` network gets a ``"proposal"`` optimizer (Adam, ``actor_lr``)
  whose loss is ``-mean(PROPOSAL_OBJECTIVE_KEY)``; it is updated on every gradient step (not
  delayed: the sources are silent, and Greedy-AC's proposal has no target network).

Each loss is differentiated w.r.t. its own optimizer's parameters only (the base Learner).
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.core.learner.learner import POLICY_LOSS_KEY
from ray.rllib.utils.typing import ModuleID

from rllib_modules.td3.learner import TD3TorchLearner

__all__ = ["ACTOR_OBJECTIVE_KEY", "PROPOSAL_OBJECTIVE_KEY", "VariantTD3TorchLearner"]

ACTOR_OBJECTIVE_KEY = "actor_objective"  # (B,) maximised by the actor instead of Q_1(s, μ(s))
PROPOSAL_OBJECTIVE_KEY = "proposal_objective"  # (B,) maximised by the proposal policy


class VariantTD3TorchLearner(TD3TorchLearner):
    def configure_optimizers_for_module(self, module_id: ModuleID, config: Any = None) -> None:
        super().configure_optimizers_for_module(module_id, config)
        module = self._module[module_id]
        if getattr(module, "proposal", None) is not None:
            params = self.get_parameters(module.proposal)
            self.register_optimizer(
                module_id=module_id, optimizer_name="proposal", optimizer=torch.optim.Adam(params),
                params=params, lr_or_lr_schedule=config.actor_lr,
            )

    def actor_parameters(self, module: Any) -> list[torch.nn.Parameter]:
        params = super().actor_parameters(module)
        for name in getattr(module, "actor_submodules", ()):
            params += self.get_parameters(getattr(module, name))
        return params

    def compute_loss_for_module(
        self, *, module_id: ModuleID, config: Any, batch: dict[str, Any], fwd_out: dict[str, Any]
    ) -> torch.Tensor:
        total = super().compute_loss_for_module(module_id=module_id, config=config, batch=batch, fwd_out=fwd_out)
        logged: dict[str, torch.Tensor] = {}
        if ACTOR_OBJECTIVE_KEY in fwd_out:
            dpg_loss = self._pending_losses[(module_id, "actor")]
            actor_loss = -fwd_out[ACTOR_OBJECTIVE_KEY].mean()
            self._pending_losses[(module_id, "actor")] = actor_loss
            total = total - dpg_loss + actor_loss
            # policy_loss is the loss the actor is trained on; Q_1(s, μ(s)) stays visible.
            logged.update({POLICY_LOSS_KEY: actor_loss, "q_mu": -dpg_loss})
        if PROPOSAL_OBJECTIVE_KEY in fwd_out:  # the module has a proposal network (and its optimizer)
            proposal_loss = -fwd_out[PROPOSAL_OBJECTIVE_KEY].mean()
            self._pending_losses[(module_id, "proposal")] = proposal_loss
            total = total + proposal_loss
            logged["proposal_loss"] = proposal_loss
        if logged:
            self.metrics.log_dict(logged, key=module_id, window=1)
        return total
