"""PPO Learner with a configurable Adam epsilon.

RLlib's ``TorchLearner`` builds ``torch.optim.Adam(params)`` with PyTorch's default
``eps=1e-8``. The thesis' PPO code base (Kostrikov 2018, T-AppA §D.1) uses ``eps=1e-5``;
a larger epsilon damps Adam's steps for parameters with tiny second moments (e.g. the
logit layer of a near-uniform policy). The thesis itself does not state the value
(ALGORITHMS.md §1.7, "Adam ε: unspecified"), so it is a setting:
``config.learners(learner_config_dict={"adam_eps": ...})``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner

if TYPE_CHECKING:  # pragma: no cover
    from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
    from ray.rllib.utils.typing import ModuleID

__all__ = ["AdamEpsPPOTorchLearner", "ADAM_EPS_KEY", "DEFAULT_ADAM_EPS"]

#: Key in ``learner_config_dict``.
ADAM_EPS_KEY = "adam_eps"
#: PyTorch's default, used when the key is absent.
DEFAULT_ADAM_EPS = 1e-8


class AdamEpsPPOTorchLearner(PPOTorchLearner):
    """Stock ``PPOTorchLearner``; only the Adam epsilon is configurable."""

    def configure_optimizers_for_module(
        self, module_id: "ModuleID", config: "AlgorithmConfig | None" = None
    ) -> None:
        config = config or self.config
        eps = float((config.learner_config_dict or {}).get(ADAM_EPS_KEY, DEFAULT_ADAM_EPS))
        params = self.get_parameters(self._module[module_id])
        self.register_optimizer(
            module_id=module_id,
            optimizer=torch.optim.Adam(params, eps=eps),
            params=params,
            # A float or a [[timestep, lr], ...] schedule; the Learner steps it.
            lr_or_lr_schedule=config.lr,
        )
