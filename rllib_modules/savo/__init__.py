"""``savo``: SAVO-TD3, successive actors for value optimization (thesis Ch.4 §4.4, Algorithm 3).

Importing this package registers the algorithm in :mod:`actlab.registry`.
"""

from actlab.registry import AlgorithmEntry, register_algorithm
from rllib_modules.savo.build import build_savo
from rllib_modules.savo.config import SAVOSettings
from rllib_modules.savo.learner import SAVOTorchLearner
from rllib_modules.savo.module import SAVORLModule

__all__ = ["SAVORLModule", "SAVOSettings", "SAVOTorchLearner", "build_savo"]

SAVO_ENTRY = register_algorithm(
    AlgorithmEntry(
        name="savo",
        description=(
            "SAVO-TD3 (thesis Ch.4 §4.4, Alg. 3): actor μ plus k successive actors conditioned on the previous "
            "actions (DeepSet/LSTM/Transformer + FiLM), learned surrogates Ψ̂_i (Eq. 4.9), and the maximizer "
            "actor μ_M (Eq. 4.5) that acts and gives the TD target; no target-policy smoothing."
        ),
        config_model=SAVOSettings,
        build=build_savo,  # type: ignore[arg-type]
    )
)
