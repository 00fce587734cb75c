"""``OKBRLModule``: the base policies (a USFA), the option keyboard and how they act (OKB Eq. 3, Eq. 7).

One RLModule holds everything a basis-construction run learns:

- ``usfa`` — the USFA ensemble ψ(s, a, w) whose greedy policies ``π_w`` are the base policies Π
  (OKB §5) and ``usfa_target``, its Polyak copy for the TD targets;
- ``keyboard`` — the meta-policy ω(s, w) and its critic ψ^ω(s, z, w) (Alg. 3), when the algorithm
  uses the option keyboard (``okb``, ``okb-uniform``);
- ``reward_policy``/``reward_critic`` (OK) or ``choice_q`` (SIP): meta-policies for the env's own,
  possibly non-linear, reward (:mod:`rllib_modules.okb.reward_meta`);
- buffers ``base_weights`` (capacity × d; the first ``num_base`` rows are Π's tasks ``w_j``),
  ``task_w`` (the task ``_forward_inference`` serves) and ``ok_ready`` (ω has been trained).

Acting (no learning here; the Learner updates the networks):

- :meth:`base_actions` — ``π_w(s) = argmax_a ψ(s, a, w)·w`` (NewPolicy's greedy action);
- :meth:`gpi_actions` — ``argmax_a max_j ψ(s, a, w_j)·w`` (Eq. 3; SFOLS acts with it);
- :meth:`ok_actions` — ``π^GPI(s, ω(s, w); Π)`` (Eq. 7), with Alg. 3's noise when exploring, and
  the optional GPI guard when greedy (``ok_gpi_guard``; :func:`~rllib_modules.okb.option_keyboard.gpi_guarded_z`);
- ``_forward_inference`` — the OK once ω is trained, else GPI, for ``task_w`` (set from the env
  config, so the platform's generic evaluation measures the env's own task). A forward pass holds no
  state, so SIP served this way re-chooses its weight every step; the algorithm's own evaluation
  (``task/*``) holds choices as options (``choice_termination``).

Run it through the platform, e.g. ``actlab run tune_specs/okb_minecart.yaml``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.torch import TorchRLModule

from rllib_modules.okb.config import BasisSettings
from rllib_modules.okb.gpi import base_policy_sfs, gpi
from rllib_modules.okb.option_keyboard import OptionKeyboard, explore_z
from rllib_modules.okb.reward_meta import RewardMetaCritic, RewardMetaPolicy, WeightChoiceQ, weight_choices
from rllib_modules.okb.successor_features import SuccessorFeatureEnsemble

__all__ = ["OKBRLModule"]


class OKBRLModule(TorchRLModule):
    """USFA base policies + option keyboard; ``model_config`` keys: ``settings`` (a
    :class:`BasisSettings` dict), ``feature_dim`` and ``task_w`` (the env's task)."""

    def setup(self) -> None:
        cfg = BasisSettings.model_validate(self.model_config["settings"])
        self.settings = cfg
        self.obs_dim = int(np.prod(self.observation_space.shape))
        self.num_actions = int(self.action_space.n)
        self.feature_dim = int(self.model_config["feature_dim"])

        def make_usfa() -> SuccessorFeatureEnsemble:
            return SuccessorFeatureEnsemble(
                self.obs_dim, self.num_actions, self.feature_dim, hidden_sizes=cfg.sf_hidden, num_members=cfg.sf_members
            )

        self.usfa = make_usfa()
        self.usfa_target = make_usfa()
        self.usfa_target.load_state_dict(self.usfa.state_dict())
        self.usfa_target.requires_grad_(False)
        self.keyboard = (
            OptionKeyboard(
                self.obs_dim,
                self.feature_dim,
                hidden_sizes=cfg.meta_hidden,
                input_batch_norm=cfg.meta_input_batch_norm,
                residual_w=cfg.meta_residual_w,
                critic_members=cfg.meta_critics,
                noise_sigma=cfg.meta_noise_sigma,
                noise_clip=cfg.meta_noise_clip,
            )
            if cfg.option_keyboard
            else None
        )
        # Meta-policies for the env's own reward (target 'env_reward'; rllib_modules.okb.reward_meta).
        self.reward_policy = self.reward_critic = self.choice_q = self.choice_q_target = None
        choices_KD = weight_choices(self.feature_dim, cfg.choice_partitions, signed=cfg.choice_signed)
        self.register_buffer("choice_weights", torch.as_tensor(choices_KD, dtype=torch.float32))
        if cfg.target == "env_reward" and cfg.reward_meta == "ok":
            meta_kwargs = {"hidden_sizes": cfg.meta_hidden, "input_batch_norm": cfg.meta_input_batch_norm}
            self.reward_policy = RewardMetaPolicy(self.obs_dim, self.feature_dim, **meta_kwargs)
            self.reward_critic = RewardMetaCritic(self.obs_dim, self.feature_dim, **meta_kwargs)
        elif cfg.target == "env_reward" and cfg.reward_meta == "discrete":
            self.choice_q = WeightChoiceQ(self.obs_dim, len(choices_KD), cfg.meta_hidden)
            self.choice_q_target = WeightChoiceQ(self.obs_dim, len(choices_KD), cfg.meta_hidden)
            self.choice_q_target.load_state_dict(self.choice_q.state_dict())
            self.choice_q_target.requires_grad_(False)
        self.register_buffer("reward_ready", torch.zeros((), dtype=torch.bool))
        self.register_buffer("base_weights", torch.zeros(cfg.max_base_policies, self.feature_dim))
        self.register_buffer("num_base", torch.zeros((), dtype=torch.long))
        task_w = self.model_config.get("task_w") or [1.0 / self.feature_dim] * self.feature_dim
        self.register_buffer("task_w", torch.as_tensor(task_w, dtype=torch.float32))
        self.register_buffer("ok_ready", torch.zeros((), dtype=torch.bool))

    # --- the basis ----------------------------------------------------------------------------
    @property
    def base_weights_JD(self) -> torch.Tensor:
        return self.base_weights[: int(self.num_base)]

    def set_base_weights(self, w_JD: np.ndarray | torch.Tensor) -> None:
        w = torch.as_tensor(np.asarray(w_JD), dtype=self.base_weights.dtype).reshape(-1, self.feature_dim)
        if w.shape[0] > self.base_weights.shape[0]:
            raise ValueError(f"{w.shape[0]} base policies exceed max_base_policies={self.base_weights.shape[0]}")
        with torch.no_grad():
            self.base_weights.zero_()
            self.base_weights[: w.shape[0]] = w
            self.num_base.fill_(w.shape[0])

    def flat_obs(self, obs: Any) -> torch.Tensor:
        return torch.as_tensor(obs, dtype=torch.float32).reshape(-1, self.obs_dim)

    # --- acting -------------------------------------------------------------------------------
    @torch.no_grad()
    def base_actions(self, obs_BS: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
        return self.usfa.greedy_actions(obs_BS, w_BD)

    @torch.no_grad()
    def base_sfs(self, obs_BS: torch.Tensor, base_weights_JD: torch.Tensor | None = None) -> torch.Tensor:
        """``psi_BJAD``: the SFs of every base policy at ``obs_BS`` (one batched USFA pass); the policies
        are the basis Π, or the USFA's policies at ``base_weights_JD`` when given."""
        if base_weights_JD is None:
            if int(self.num_base) == 0:
                raise RuntimeError("the basis is empty: no base policy has been learned yet")
            base_weights_JD = self.base_weights_JD
        return base_policy_sfs(self.usfa.act_sfs, obs_BS, base_weights_JD)

    @torch.no_grad()
    def gpi_actions(
        self, obs_BS: torch.Tensor, w_BD: torch.Tensor, base_weights_JD: torch.Tensor | None = None
    ) -> torch.Tensor:
        """GPI at ``w`` over Π (or over the USFA's policies at ``base_weights_JD``; Eq. 3)."""
        return gpi(self.base_sfs(obs_BS, base_weights_JD), w_BD).actions_B

    @torch.no_grad()
    def ok_actions(
        self,
        obs_BS: torch.Tensor,
        w_BD: torch.Tensor,
        *,
        explore: bool = False,
        generator: torch.Generator | None = None,
        gpi_guard: bool | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(actions_B, z_BD)`` of the OK (Eq. 7); ``z_BD`` is what TrainOK's buffer stores.

        ``gpi_guard`` (default: the config's ``ok_gpi_guard`` when greedy, off when exploring, so
        TrainOK collects data as Alg. 3) falls back to GPI's meta-action where the critic prefers it.
        """
        if self.keyboard is None:
            raise RuntimeError("this module has no option keyboard (option_keyboard=false)")
        if gpi_guard is None:
            gpi_guard = self.settings.ok_gpi_guard and not explore
        out = self.keyboard.act(
            obs_BS, w_BD, self.base_sfs(obs_BS), explore=explore, generator=generator, gpi_guard=gpi_guard
        )
        return out.actions_B, out.z_BD

    @torch.no_grad()
    def act(self, obs_BS: torch.Tensor, w_BD: torch.Tensor) -> torch.Tensor:
        """The run's policy for task ``w``: the OK once ω is trained, else GPI over Π."""
        if self.keyboard is not None and bool(self.ok_ready):
            return self.ok_actions(obs_BS, w_BD)[0]
        return self.gpi_actions(obs_BS, w_BD)

    @torch.no_grad()
    def reward_meta_actions(
        self, obs_BS: torch.Tensor, *, explore: bool = False, epsilon: float = 0.0, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(actions_B, meta_BX)`` for the env's own reward: OK (z, Alg. 3 noise when exploring) or SIP
        (choice index k, ε-greedy when exploring); ``meta_BX`` is what the meta replay stores."""
        psi_BJAD = self.base_sfs(obs_BS)
        if self.reward_policy is not None:
            self.reward_policy.eval()
            z_BD = self.reward_policy(obs_BS)
            if explore:
                cfg = self.settings
                z_BD = explore_z(z_BD, cfg.meta_noise_sigma, cfg.meta_noise_clip, generator=generator)
            return gpi(psi_BJAD, z_BD).actions_B, z_BD
        k_B = self.weight_choice(obs_BS, epsilon=epsilon if explore else 0.0, generator=generator)
        return gpi(psi_BJAD, self.choice_weights[k_B]).actions_B, k_B

    @torch.no_grad()
    def weight_choice(
        self, obs_BS: torch.Tensor, *, epsilon: float = 0.0, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """SIP's choice ``k_B``: ``argmax_k q(s, k)``, uniformly random with probability ``epsilon``."""
        if self.choice_q is None:
            raise RuntimeError("no meta-policy for the env's reward (target 'env_reward' with reward_meta 'ok' or 'discrete')")
        k_B = self.choice_q(obs_BS).argmax(dim=-1)
        if epsilon > 0.0:
            random_B = torch.rand(k_B.shape, generator=generator) < epsilon
            k_B = torch.where(random_B, torch.randint(len(self.choice_weights), k_B.shape, generator=generator), k_B)
        return k_B

    @torch.no_grad()
    def choice_actions(self, obs_BS: torch.Tensor, k_B: torch.Tensor) -> torch.Tensor:
        """``π^GPI(s, w_k; Π)`` for given choices (SIP acting with choices held as options)."""
        return gpi(self.base_sfs(obs_BS), self.choice_weights[k_B]).actions_B

    def _forward_inference(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs_BS = self.flat_obs(batch[Columns.OBS])
        if bool(self.reward_ready):
            return {Columns.ACTIONS: self.reward_meta_actions(obs_BS)[0]}
        w_BD = self.task_w.to(obs_BS.dtype).expand(obs_BS.shape[0], -1)
        if int(self.num_base) == 0:  # before the first base policy: its own greedy policy for the task
            return {Columns.ACTIONS: self.base_actions(obs_BS, w_BD)}
        return {Columns.ACTIONS: self.act(obs_BS, w_BD)}

    def _forward_exploration(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # Exploration is the algorithm's (ε-greedy for NewPolicy, Alg. 3's noise for TrainOK).
        return self._forward_inference(batch)

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError("OKB's updates are explicit OKBLearner methods (sf_update, ok_update)")
