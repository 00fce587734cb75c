"""``OKBLearner``: the gradient steps of NewPolicy (USFA TD) and TrainOK (Alg. 3) as a TorchLearner.

The basis-construction loop (:mod:`rllib_modules.okb.algorithm`) decides *what* to learn (which
task, which support set); this Learner owns the optimizers and performs one update per call:

- :meth:`OKBLearner.sf_update` — the USFA ensemble regresses ψ(s, a, w) on the App. F target
  (min of 2 random members of the Polyak target, greedy next action for w) for tasks w drawn per
  row from the current and all earlier base tasks ("trains on the new task plus the earlier ones",
  App. F), then Polyak-updates the target;
- :meth:`OKBLearner.ok_update` — Alg. 3 line 22 (critic) and line 24 (actor), with w drawn from
  W^sup at update time (not stored), no target networks.

They are explicit methods rather than RLlib's ``update()`` because the loop changes the task set
between calls and each update needs its own replay rows; the losses are the pure functions of
:mod:`rllib_modules.okb.successor_features` and :mod:`rllib_modules.okb.option_keyboard`.
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.core.learner.torch.torch_learner import TorchLearner
from ray.rllib.utils.typing import ModuleID

from rllib_modules.okb.config import BasisSettings
from rllib_modules.okb.module import OKBRLModule
from rllib_modules.okb.option_keyboard import ok_actor_loss, ok_critic_loss, sample_support_weights
from rllib_modules.okb.reward_meta import weight_choice_td_loss
from rllib_modules.okb.successor_features import ensemble_sf_td_target, sample_task_weights, sf_td_loss

__all__ = ["OKBLearner"]

DEFAULT_MODULE = "default_policy"


class OKBLearner(TorchLearner):
    """Adam for the USFA, ω and ψ^ω; explicit update methods (see the module docstring)."""

    #: TrainOK critic steps so far, for ``meta_policy_delay`` (not checkpointed: a resumed run
    #: restarts the phase of the delayed actor).
    _ok_critic_updates: int = 0

    def configure_optimizers_for_module(self, module_id: ModuleID, config: Any = None) -> None:
        module: OKBRLModule = self.module[module_id]
        cfg: BasisSettings = module.settings
        keyboard = module.keyboard
        for name, net, lr in (
            ("usfa", module.usfa, cfg.sf_lr),
            ("meta_policy", None if keyboard is None else keyboard.meta_policy, cfg.meta_lr),
            ("meta_critic", None if keyboard is None else keyboard.critic, cfg.meta_critic_lr),
            ("reward_policy", module.reward_policy, cfg.meta_lr),
            ("reward_critic", module.reward_critic, cfg.meta_critic_lr),
            ("choice_q", module.choice_q, cfg.meta_critic_lr),
        ):
            if net is not None:
                self.register_optimizer(
                    module_id=module_id,
                    optimizer_name=name,
                    optimizer=torch.optim.Adam(net.parameters(), lr=lr),
                    params=list(net.parameters()),
                    lr_or_lr_schedule=lr,
                )

    def compute_loss_for_module(self, *, module_id: ModuleID, config: Any, batch: dict, fwd_out: dict) -> torch.Tensor:
        raise NotImplementedError("OKB updates through sf_update / ok_update, not Learner.update")

    @property
    def okb_module(self) -> OKBRLModule:
        return self.module[DEFAULT_MODULE]

    def _step(self, name: str, loss: torch.Tensor) -> None:
        optimizer = self.get_optimizer(DEFAULT_MODULE, name)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def sf_update(
        self,
        batch: dict[str, torch.Tensor],
        tasks_KD: torch.Tensor,
        gamma: float,
        *,
        new_task_D: torch.Tensor | None = None,
    ) -> float:
        """One USFA step on ``batch`` with one task per row (:func:`sample_task_weights`: a
        ``sf_new_task_fraction`` of the rows get ``new_task_D``, the rest draw from ``tasks_KD``); returns the loss."""
        module = self.okb_module
        cfg = module.settings
        obs_BS, next_obs_BS = batch["obs"], batch["next_obs"]
        w_BD = sample_task_weights(
            tasks_KD.to(obs_BS.dtype), obs_BS.shape[0], new_task_D=new_task_D, new_task_fraction=cfg.sf_new_task_fraction
        )
        target = ensemble_sf_td_target(
            module.usfa_target,
            next_obs_BS,
            w_BD,
            batch["phi"],
            batch["terminated"],
            gamma,
            num_target_members=cfg.sf_target_members,
        )
        loss = sf_td_loss(module.usfa(obs_BS, w_BD), batch["actions"], target.target_BD)
        self._step("usfa", loss)
        with torch.no_grad():
            tau = cfg.sf_target_tau
            for p_target, p in zip(module.usfa_target.parameters(), module.usfa.parameters()):
                p_target.lerp_(p, tau)
        return loss.item()

    def ok_update(self, batch: dict[str, torch.Tensor], support_KD: torch.Tensor, gamma: float) -> tuple[float, float]:
        """One TrainOK step (critic, then actor every ``meta_policy_delay`` critic steps) with w ∼ W^sup
        per row; returns (critic, actor) losses, the actor's NaN when it skipped its step."""
        keyboard = self.okb_module.keyboard
        if keyboard is None:
            raise RuntimeError("ok_update needs option_keyboard=true")
        obs_BS = batch["obs"]
        w_BD = sample_support_weights(support_KD.to(obs_BS.dtype), obs_BS.shape[0])
        critic = ok_critic_loss(
            keyboard.critic,
            keyboard.meta_policy,
            obs_BS,
            batch["z"],
            batch["phi"],
            batch["next_obs"],
            batch["terminated"],
            w_BD,
            gamma,
        )
        self._step("meta_critic", critic.loss)
        self._ok_critic_updates += 1
        if self._ok_critic_updates % self.okb_module.settings.meta_policy_delay:
            return critic.loss.item(), float("nan")  # TD3's delayed actor: the critic settles first
        actor_loss = ok_actor_loss(keyboard.critic, keyboard.meta_policy, obs_BS, w_BD)
        self._step("meta_policy", actor_loss)
        return critic.loss.item(), actor_loss.item()

    def reward_ok_update(self, batch: dict[str, torch.Tensor], gamma: float) -> float:
        """Alg. 3's critic and actor steps for the env's scalar reward (reward as a 1-d feature, w = 1)."""
        module = self.okb_module
        obs_BS = batch["obs"]
        ones_B1 = torch.ones(obs_BS.shape[0], 1, dtype=obs_BS.dtype)
        critic = ok_critic_loss(
            module.reward_critic, module.reward_policy, obs_BS, batch["z"], batch["phi"], batch["next_obs"],
            batch["terminated"], ones_B1, gamma,
        )
        self._step("reward_critic", critic.loss)
        self._step("reward_policy", ok_actor_loss(module.reward_critic, module.reward_policy, obs_BS, ones_B1))
        return critic.loss.item()

    def choice_update(self, batch: dict[str, torch.Tensor], gamma: float) -> float:
        """SIP's (SMDP or intra-option) DQN step over the weight choices (``batch["actions"]`` holds the choice k), then Polyak."""
        module = self.okb_module
        loss = weight_choice_td_loss(
            module.choice_q, module.choice_q_target, batch["obs"], batch["actions"], batch["phi"][:, 0],
            batch["next_obs"], batch["terminated"], gamma, duration_B=batch.get("duration"),
            continues_B=batch.get("continues") if module.settings.choice_learning == "intra_option" else None,
            double_q=module.settings.choice_double_q,
        )
        self._step("choice_q", loss)
        with torch.no_grad():
            for p_target, p in zip(module.choice_q_target.parameters(), module.choice_q.parameters()):
                p_target.lerp_(p, module.settings.sf_target_tau)
        return loss.item()
