"""``td3``: TD3 (Fujimoto et al. 2018) on RLlib's new API stack, the base of thesis Ch.4's actor family.

Importing this package registers the algorithm in :mod:`actlab.registry`.
"""

from actlab.registry import AlgorithmEntry, register_algorithm
from rllib_modules.td3.algorithm import TD3, TD3Config
from rllib_modules.td3.build import build_td3
from rllib_modules.td3.config import TD3Settings
from rllib_modules.td3.learner import TD3TorchLearner
from rllib_modules.td3.module import TD3RLModule

__all__ = ["TD3", "TD3Config", "TD3RLModule", "TD3Settings", "TD3TorchLearner", "build_td3"]

TD3_ENTRY = register_algorithm(
    AlgorithmEntry(
        name="td3",
        description=(
            "TD3 (Fujimoto et al. 2018; thesis Ch.4 §4.3): deterministic actor, twin critics with "
            "clipped double-Q targets, delayed actor/target updates, Gaussian or OU exploration, "
            "optional target-policy smoothing."
        ),
        config_model=TD3Settings,
        build=build_td3,  # type: ignore[arg-type]
    )
)
