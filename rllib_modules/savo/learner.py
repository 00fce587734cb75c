"""The SAVO-TD3 Learner (thesis Alg. 3): TD3's critic and delayed actor updates, plus the surrogates.

Optimizers per module: ``"critic"`` (Q_1, Q_2), ``"actor"`` (μ and the successive actors
ν_i with their summarizers; delayed like TD3's actor) and ``"surrogate"`` (the Ψ̂_i with their
summarizers; every update). Losses:

- critic: TD3's clipped double-Q regression, with SAVO's target action μ_M(s') (module);
- actor: ``-mean Q_1(s, μ(s)) - Σ_i mean Ψ̂_i(s, ν_i(s; a_<i); a_<i)`` (Eqs. 4.3, 4.8),
  each term differentiated w.r.t. the actor optimizer's parameters only;
- surrogate: ``Σ_i mean over the two points of (Ψ̂_i - Ψ_i)²`` (Eq. 4.9).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from ray.rllib.utils.typing import ModuleID

from rllib_modules.savo.module import SUCCESSIVE_OBJECTIVE_KEY, SURROGATE_PRED_KEY, SURROGATE_TARGET_KEY
from rllib_modules.td3.learner import TD3TorchLearner

__all__ = ["SAVOTorchLearner"]


class SAVOTorchLearner(TD3TorchLearner):
    def configure_optimizers_for_module(self, module_id: ModuleID, config: Any = None) -> None:
        super().configure_optimizers_for_module(module_id, config)
        module = self._module[module_id]
        params = self.get_parameters(module.surrogates)
        if module.surrogate_summarizers is not None:
            params += self.get_parameters(module.surrogate_summarizers)
        self.register_optimizer(
            module_id=module_id, optimizer_name="surrogate", optimizer=torch.optim.Adam(params),
            params=params, lr_or_lr_schedule=config.critic_lr,
        )

    def actor_parameters(self, module: Any) -> list[torch.nn.Parameter]:
        params = super().actor_parameters(module) + self.get_parameters(module.successive_actors)
        if module.actor_summarizers is not None:
            params += self.get_parameters(module.actor_summarizers)
        return params

    def compute_loss_for_module(
        self, *, module_id: ModuleID, config: Any, batch: dict[str, Any], fwd_out: dict[str, Any]
    ) -> torch.Tensor:
        total = super().compute_loss_for_module(module_id=module_id, config=config, batch=batch, fwd_out=fwd_out)
        successive_loss = -fwd_out[SUCCESSIVE_OBJECTIVE_KEY].mean()
        surrogate_loss = F.mse_loss(fwd_out[SURROGATE_PRED_KEY], fwd_out[SURROGATE_TARGET_KEY], reduction="none").sum(dim=1).mean()
        self._pending_losses[(module_id, "actor")] = self._pending_losses[(module_id, "actor")] + successive_loss
        self._pending_losses[(module_id, "surrogate")] = surrogate_loss
        self.metrics.log_dict({"surrogate_loss": surrogate_loss, "successive_objective": -successive_loss},
                              key=module_id, window=1)
        return total + successive_loss + surrogate_loss
