"""``utility-ppo``: the utility policy of thesis Ch.2 (§2.4.2, Eq. 2.3) trained with PPO.

Importing this package registers the algorithm in :mod:`actlab.registry`.
"""

from actlab.registry import AlgorithmEntry, register_algorithm
from rllib_modules.utility.build import build_utility_ppo
from rllib_modules.utility.config import UtilityPPOConfig
from rllib_modules.utility.module import UtilityModelOptions, UtilityRLModule
from rllib_modules.utility.pretraining import plan_pretraining

__all__ = ["UTILITY_PPO", "UtilityModelOptions", "UtilityPPOConfig", "UtilityRLModule", "build_utility_ppo"]

UTILITY_PPO = register_algorithm(
    AlgorithmEntry(
        name="utility-ppo",
        description=(
            "Utility policy over a varying action set (thesis Ch.2 §2.4.2, Eq. 2.3): "
            "softmax over f_ν[c_i, f_ω(s)] of the available actions' representations, "
            "trained with PPO + entropy regularisation (Eq. 2.4; T-AppA Tables A.3/A.4)."
        ),
        config_model=UtilityPPOConfig,
        build=build_utility_ppo,  # type: ignore[arg-type]  # narrower config type
        pretraining_stage=plan_pretraining,
    )
)
