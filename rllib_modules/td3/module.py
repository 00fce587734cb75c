"""The TD3 RLModule: a deterministic actor and twin critics (Fujimoto et al. 2018; thesis Ch.4 §4.3).

The base of the Ch.4 deterministic-actor family (``td3``, ``savo`` and their baselines):
subclasses change how the acting action is chosen (:meth:`TD3RLModule.acting_action`) and
which action the critic target bootstraps from (:meth:`TD3RLModule.target_action`); the
critics, the noise and the training outputs stay the same.

Actions live in RLlib's normalised range [-1, 1] (``normalize_actions=True`` rescales
them to the env's bounds), so the actor ends in ``tanh``.

Discrete tasks (thesis §4.3.2, Alg. 3, §4.4.5 item 5): when the env follows the discrete
contract (``env.unwrapped.action_embeddings``; see :mod:`rllib_modules.td3.discrete_actions`
for how the module gets the table), every action is mapped to its nearest real action
(:meth:`TD3RLModule.map_candidates`, 1-NN) before Q is evaluated: the acting action, the TD
target's next action and, in the multi-candidate subclasses, every candidate. The action the
module emits when exploring is mapped after the noise, so the replay holds the executed
item's representation and the critics are trained at real actions only; the actor's own
objective ``Q_1(s, μ(s))`` stays at the continuous μ(s), which is where its gradient lives
(Dulac-Arnold et al. 2015). The uniform warm-up draws items uniformly. Continuous envs have no
table, and the mapping is the identity.

Run:  actlab run tune_specs/ch4_td3_mujoco.yaml --set 'seeds=[0]'
Expect: InvertedPendulum-v5 reaches the maximum return 1000 within 5e4 env steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.utils import make_target_network
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, QNetAPI, TargetNetworkAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from torch import nn

from rllib_modules.common.mlp import make_mlp
from rllib_modules.common.options import ModelOptionsMixin
from rllib_modules.td3.discrete_actions import item_index_from_reference
from rllib_modules.td3.noise import ExplorationNoise, NoiseType
from rllib_modules.td3.targets import smoothed_target_action

__all__ = ["Q1_KEY", "Q2_KEY", "Q_NEXT1_KEY", "Q_NEXT2_KEY", "Q_PI_KEY", "TD3ModelOptions", "TD3RLModule"]

Q1_KEY, Q2_KEY = "q1", "q2"  # Q_1(s, a), Q_2(s, a) at the replayed actions
Q_NEXT1_KEY, Q_NEXT2_KEY = "q1_next", "q2_next"  # target critics at (s', ã), no gradient
Q_PI_KEY = "q_pi"  # Q_1(s, μ(s)): the actor's objective (Eq. 4.3)


@dataclass(frozen=True)
class TD3ModelOptions(ModelOptionsMixin):
    """Options read from ``model_config`` (see :class:`rllib_modules.td3.config.TD3Settings`)."""

    actor_hidden: tuple[int, ...] | list[int] = field(default=(256, 256))
    critic_hidden: tuple[int, ...] | list[int] = field(default=(256, 256))
    exploration_noise: NoiseType = "gaussian"
    exploration_sigma: float = 0.1
    ou_theta: float = 0.15
    target_policy_smoothing: bool = True
    target_noise: float = 0.2
    target_noise_clip: float = 0.5
    #: Reference to the env's real actions (None: continuous), see rllib_modules.td3.discrete_actions.
    discrete_actions: dict[str, Any] | None = None


def _flat_obs_dim(space: gym.Space) -> int:
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(f"the TD3 family needs a Box observation space, got {space}")
    return math.prod(space.shape)


class TD3RLModule(TorchRLModule, TargetNetworkAPI, InferenceOnlyAPI, QNetAPI):
    """Deterministic actor μ(s) = tanh(MLP(s)) and twin critics Q_1, Q_2 (ReLU MLPs on [s, a]).

    Outputs: ``Columns.ACTIONS`` when acting (plus exploration noise, clipped to [-1, 1]);
    in training :data:`Q1_KEY`, :data:`Q2_KEY`, :data:`Q_NEXT1_KEY`, :data:`Q_NEXT2_KEY`
    and :data:`Q_PI_KEY`. The critics are not built on EnvRunners; target networks are made
    by the Learner (``make_target_networks``).
    """

    #: Options dataclass read from ``model_config`` (subclasses extend it).
    options_class: type[TD3ModelOptions] = TD3ModelOptions
    #: Critics the *acting* policy needs, so they are built and synced on EnvRunners too
    #: (SAVO's maximizer scores its candidates with Q_1).
    acting_critics: tuple[str, ...] = ()

    def setup(self) -> None:
        self.options = self.options_class.from_model_config(self.model_config)
        if not isinstance(self.action_space, gym.spaces.Box) or len(self.action_space.shape) != 1:
            raise ValueError(f"the TD3 family needs a 1-D Box action space, got {self.action_space}")
        self.obs_dim = _flat_obs_dim(self.observation_space)
        self.action_dim = int(self.action_space.shape[0])
        self.actor = self.build_actor()
        for name in ("q1", "q2"):
            if not self.inference_only or name in self.acting_critics:
                setattr(self, name, self.build_critic())
        self.noise = ExplorationNoise(self.options.exploration_noise, self.options.exploration_sigma, self.options.ou_theta)
        #: Nearest-item index over the env's real actions (None: continuous actions).
        self.item_index = item_index_from_reference(self.options.discrete_actions, self.action_dim)
        #: Act uniformly at random in [-1, 1] when exploring (TD3's warm-up before learning
        #: starts); set on the EnvRunners' copies by :meth:`rllib_modules.td3.algorithm.TD3.training_step`.
        self.uniform_exploration = False

    def build_actor(self) -> nn.Module:
        return nn.Sequential(make_mlp(self.obs_dim, list(self.options.actor_hidden), "relu", self.action_dim), nn.Tanh())

    def build_critic(self) -> nn.Module:
        return make_mlp(self.obs_dim + self.action_dim, list(self.options.critic_hidden), "relu", 1)

    # -- target networks (TargetNetworkAPI; created on the Learner only) --------------------

    def make_target_networks(self) -> None:
        self.target_actor = make_target_network(self.actor)
        self.target_q1 = make_target_network(self.q1)
        self.target_q2 = make_target_network(self.q2)

    def get_target_network_pairs(self) -> list[tuple[nn.Module, nn.Module]]:
        return [(self.actor, self.target_actor), (self.q1, self.target_q1), (self.q2, self.target_q2)]

    def forward_target(self, batch: dict[str, Any]) -> dict[str, Any]:
        obs_BS = self.flat_obs(batch[Columns.OBS])
        action_BD = self.target_actor(obs_BS)
        return {Q_NEXT1_KEY: self.q_value(self.target_q1, obs_BS, action_BD),
                Q_NEXT2_KEY: self.q_value(self.target_q2, obs_BS, action_BD)}

    def get_non_inference_attributes(self) -> list[str]:
        return [name for name in ("q1", "q2") if name not in self.acting_critics]

    # -- pieces ---------------------------------------------------------------------------

    @staticmethod
    def flat_obs(obs: torch.Tensor) -> torch.Tensor:
        return obs.reshape(obs.shape[0], -1).float()

    @staticmethod
    def q_value(critic: nn.Module, obs_BS: torch.Tensor, action_BD: torch.Tensor) -> torch.Tensor:
        """``Q(s, a)``, shape ``(B,)``."""
        return critic(torch.cat([obs_BS, action_BD], dim=-1)).squeeze(-1)

    def compute_q_values(self, batch: dict[str, Any]) -> dict[str, Any]:
        """QNetAPI: ``Q_1(s, a)`` at the batch's actions."""
        obs_BS = self.flat_obs(batch[Columns.OBS])
        return {Q1_KEY: self.q_value(self.q1, obs_BS, batch[Columns.ACTIONS].float())}

    def map_candidates(self, actions_BND: torch.Tensor) -> torch.Tensor:
        """f_NN: every action (any leading shape, last dim D) replaced by its nearest real
        action in discrete tasks (thesis §4.3.2); the identity for continuous envs. No gradient."""
        if self.item_index is None:
            return actions_BND
        _, items_MD = self.item_index.query(actions_BND.detach().reshape(-1, self.action_dim))
        return items_MD.to(device=actions_BND.device, dtype=actions_BND.dtype).reshape(actions_BND.shape)

    def random_actions(self, batch_size: int) -> torch.Tensor:
        """TD3's warm-up actions: uniform in [-1, 1]^D, or uniformly drawn real actions."""
        if self.item_index is None:
            return torch.rand(batch_size, self.action_dim) * 2.0 - 1.0
        return self.item_index.items_ND[torch.randint(len(self.item_index), (batch_size,))]

    def acting_action(self, obs_BS: torch.Tensor) -> torch.Tensor:
        """The greedy action of the behaviour policy; TD3: μ(s) (its nearest real action in discrete tasks)."""
        return self.map_candidates(self.actor(obs_BS))

    def target_action(self, next_obs_BS: torch.Tensor) -> torch.Tensor:
        """ã of the critic target; TD3: μ'(s') with target-policy smoothing if enabled (mapped
        to real actions before and after the smoothing noise in discrete tasks)."""
        action_BD = self.map_candidates(self.target_actor(next_obs_BS))
        if self.options.target_policy_smoothing:
            action_BD = self.map_candidates(
                smoothed_target_action(action_BD, self.options.target_noise, self.options.target_noise_clip))
        return action_BD

    # -- forward passes -------------------------------------------------------------------

    def _forward_inference(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        with torch.no_grad():
            return {Columns.ACTIONS: self.acting_action(self.flat_obs(batch[Columns.OBS]))}

    def _forward_exploration(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs_BS = self.flat_obs(batch[Columns.OBS])
        if self.uniform_exploration:
            return {Columns.ACTIONS: self.random_actions(obs_BS.shape[0])}
        with torch.no_grad():
            # the noisy action's nearest real action is what the env executes (1-NN), and
            # what the replay should hold
            return {Columns.ACTIONS: self.map_candidates(self.add_noise(self.exploring_action(obs_BS)))}

    def exploring_action(self, obs_BS: torch.Tensor) -> torch.Tensor:
        """The behaviour action before the final exploration noise; TD3: μ(s) (mapped)."""
        return self.acting_action(obs_BS)

    def add_noise(self, actions: torch.Tensor) -> torch.Tensor:
        """Exploration noise on actions of any shape (batch first), clipped to [-1, 1]."""
        return (actions + self.noise.sample(actions.shape).to(actions.device)).clamp(-1.0, 1.0)

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self._forward_inference(batch, **kwargs)

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs_BS = self.flat_obs(batch[Columns.OBS])
        actions_BD = batch[Columns.ACTIONS].float()
        out = {
            Q1_KEY: self.q_value(self.q1, obs_BS, actions_BD),
            Q2_KEY: self.q_value(self.q2, obs_BS, actions_BD),
            # Gradient reaches the actor through a = μ(s); the Learner differentiates this
            # output w.r.t. the actor's parameters only.
            Q_PI_KEY: self.q_value(self.q1, obs_BS, self.actor(obs_BS)),
        }
        with torch.no_grad():
            next_obs_BS = self.flat_obs(batch[Columns.NEXT_OBS])
            next_action_BD = self.target_action(next_obs_BS)
            out[Q_NEXT1_KEY] = self.q_value(self.target_q1, next_obs_BS, next_action_BD)
            out[Q_NEXT2_KEY] = self.q_value(self.target_q2, next_obs_BS, next_action_BD)
        return out
