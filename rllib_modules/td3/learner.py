"""The TD3 Learner: clipped double-Q critic regression and delayed actor updates (Fujimoto et al. 2018).

On top of RLlib's ``DQNTorchLearner`` (target-network creation, the NEXT_OBS learner
connector, Polyak averaging with ``tau``):

- two optimizers per module, ``"critic"`` (Q_1 and Q_2) and ``"actor"``;
- ``compute_loss_for_module``: ``critic_loss = MSE(Q_1, y) + MSE(Q_2, y)`` with
  ``y`` from :func:`rllib_modules.td3.targets.clipped_double_q_target`, and
  ``actor_loss = -mean Q_1(s, μ(s))`` (Eq. 4.3);
- ``compute_gradients``: critic gradients on every update, actor gradients on every
  ``policy_delay``-th update only, each by ``torch.autograd.grad`` w.r.t. that optimizer's
  own parameters (the actor loss cannot move the critics);
- target networks are moved towards the online ones after each gradient step that moved
  the actor, as in TD3's Algorithm 1 (RLlib's DQN Learner would do it once per
  ``update`` call, which may hold many minibatches).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch
import torch.nn.functional as F
from ray.rllib.algorithms.dqn.torch.dqn_torch_learner import DQNTorchLearner
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.learner import POLICY_LOSS_KEY
from ray.rllib.core.learner.torch.torch_learner import TorchLearner
from ray.rllib.core.learner.utils import update_target_network
from ray.rllib.utils.metrics import ALL_MODULES
from ray.rllib.utils.typing import ModuleID, ParamDict

from rllib_modules.td3.module import Q1_KEY, Q2_KEY, Q_NEXT1_KEY, Q_NEXT2_KEY, Q_PI_KEY
from rllib_modules.td3.targets import clipped_double_q_target

__all__ = ["CRITIC_LOSS_KEY", "TD3TorchLearner"]

CRITIC_LOSS_KEY = "critic_loss"


class TD3TorchLearner(DQNTorchLearner):
    """Learner of :class:`rllib_modules.td3.module.TD3RLModule` and its subclasses."""

    def build(self) -> None:
        super().build()
        # (module_id, optimizer name) -> loss tensor of this update, consumed by compute_gradients.
        self._pending_losses: dict[tuple[ModuleID, str], torch.Tensor] = {}
        self._critic_updates: dict[ModuleID, int] = defaultdict(int)
        self._actor_updated: dict[ModuleID, bool] = {}

    def configure_optimizers_for_module(self, module_id: ModuleID, config: Any = None) -> None:
        module = self._module[module_id]
        critic_params = self.get_parameters(module.q1) + self.get_parameters(module.q2)
        self.register_optimizer(
            module_id=module_id, optimizer_name="critic", optimizer=torch.optim.Adam(critic_params),
            params=critic_params, lr_or_lr_schedule=config.critic_lr,
        )
        actor_params = self.actor_parameters(module)
        self.register_optimizer(
            module_id=module_id, optimizer_name="actor", optimizer=torch.optim.Adam(actor_params),
            params=actor_params, lr_or_lr_schedule=config.actor_lr,
        )

    def actor_parameters(self, module: Any) -> list[torch.nn.Parameter]:
        """Parameters trained by the actor objective (SAVO adds its successive actors)."""
        params = self.get_parameters(module.actor)
        if hasattr(module, "extra_actors"):  # the ensemble baseline's other actors
            params += self.get_parameters(module.extra_actors)
        return params

    def compute_loss_for_module(
        self, *, module_id: ModuleID, config: Any, batch: dict[str, Any], fwd_out: dict[str, Any]
    ) -> torch.Tensor:
        target_B = clipped_double_q_target(
            batch[Columns.REWARDS].float(),
            batch[Columns.TERMINATEDS],
            fwd_out[Q_NEXT1_KEY],
            fwd_out[Q_NEXT2_KEY],
            gamma=config.gamma,
            n_step_B=batch.get("n_step", 1),
        ).detach()
        critic_loss = F.mse_loss(fwd_out[Q1_KEY], target_B) + F.mse_loss(fwd_out[Q2_KEY], target_B)
        actor_loss = -fwd_out[Q_PI_KEY].mean()
        self._pending_losses[(module_id, "critic")] = critic_loss
        self._pending_losses[(module_id, "actor")] = actor_loss
        self.metrics.log_dict(
            {
                CRITIC_LOSS_KEY: critic_loss,
                POLICY_LOSS_KEY: actor_loss,
                "q_mean": fwd_out[Q1_KEY].mean(),
                "target_mean": target_B.mean(),
            },
            key=module_id,
            window=1,
        )
        return critic_loss + actor_loss

    def compute_gradients(self, loss_per_module: dict[ModuleID, Any], **kwargs: Any) -> ParamDict:
        grads: ParamDict = {}
        for module_id in set(loss_per_module) - {ALL_MODULES}:
            config = self.config.get_config_for_module(module_id)
            self._critic_updates[module_id] += 1
            update_actor = self._critic_updates[module_id] % config.policy_delay == 0
            self._actor_updated[module_id] = update_actor
            for name, optim in self.get_optimizers_for_module(module_id):
                optim.zero_grad(set_to_none=True)
                loss = self._pending_losses.pop((module_id, name))
                if name == "actor" and not update_actor:
                    continue
                params = self.filter_param_dict_for_optimizer(self._params, optim)
                values = torch.autograd.grad(loss, list(params.values()), retain_graph=True, allow_unused=True)
                grads.update({ref: g for ref, g in zip(params, values) if g is not None})
        self._pending_losses.clear()
        return grads

    def apply_gradients(self, gradients_dict: ParamDict) -> None:
        super().apply_gradients(gradients_dict)
        # Polyak step per gradient step that moved the actor (one Learner.update call can
        # hold many minibatches, see TD3.training_step), as in TD3's Algorithm 1.
        for module_id, module in self.module._rl_modules.items():
            if not self._actor_updated.pop(module_id, False):
                continue
            tau = self.config.get_config_for_module(module_id).tau
            for main_net, target_net in module.unwrapped().get_target_network_pairs():
                update_target_network(main_net=main_net, target_net=target_net, tau=tau)

    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        # TorchLearner's hook (lr schedules) without DQNLearner's once-per-call Polyak step.
        TorchLearner.after_gradient_based_update(self, timesteps=timesteps)
