"""The Ch.2 policy baselines of thesis §2.5.3 (ALGORITHMS.md §1.8) as named algorithm variants,
trained with the PPO of ``utility-ppo``:

- ``nearest-neighbor``: a discrete policy over the fixed training actions; on new action sets
  the representation of its chosen training action selects the nearest available action
  (:mod:`rllib_modules.baselines_ch2.nearest_neighbor`);
- ``continuous-output``: a Gaussian policy in representation space whose nearest available
  action is executed (Dulac-Arnold et al. 2015; :mod:`rllib_modules.baselines_ch2.continuous_output`).

Importing this package registers both in :mod:`actlab.registry`.
"""

from actlab.registry import AlgorithmEntry, register_algorithm
from rllib_modules.baselines_ch2.build import (
    build_continuous_output_ppo,
    build_nearest_neighbor_ppo,
    ppo_with_module,
)
from rllib_modules.baselines_ch2.config import ContinuousOutputPPOConfig, NearestNeighborPPOConfig
from rllib_modules.baselines_ch2.continuous_output import ContinuousOutputOptions, ContinuousOutputRLModule
from rllib_modules.baselines_ch2.nearest_neighbor import NearestNeighborOptions, NearestNeighborRLModule
from rllib_modules.utility.pretraining import plan_pretraining

__all__ = [
    "CONTINUOUS_OUTPUT",
    "ContinuousOutputOptions",
    "ContinuousOutputPPOConfig",
    "ContinuousOutputRLModule",
    "NEAREST_NEIGHBOR",
    "NearestNeighborOptions",
    "NearestNeighborPPOConfig",
    "NearestNeighborRLModule",
    "build_continuous_output_ppo",
    "build_nearest_neighbor_ppo",
    "ppo_with_module",
]

NEAREST_NEIGHBOR = register_algorithm(
    AlgorithmEntry(
        name="nearest-neighbor",
        description=(
            "Ch.2 baseline (thesis §2.5.3): discrete PPO policy over the fixed training actions; on new "
            "action sets its chosen training action's representation selects the nearest available action. "
            "Needs an env with action ids and a train split (Grid World)."
        ),
        config_model=NearestNeighborPPOConfig,
        build=build_nearest_neighbor_ppo,  # type: ignore[arg-type]  # narrower config type
        pretraining_stage=plan_pretraining,  # the same stage (and cache) as utility-ppo's
    )
)

CONTINUOUS_OUTPUT = register_algorithm(
    AlgorithmEntry(
        name="continuous-output",
        description=(
            "Ch.2 baseline (thesis §2.5.3; Dulac-Arnold et al. 2015): Gaussian PPO policy over the action "
            "representation space; the available action nearest to its output is executed."
        ),
        config_model=ContinuousOutputPPOConfig,
        build=build_continuous_output_ppo,  # type: ignore[arg-type]  # narrower config type
        pretraining_stage=plan_pretraining,  # the same stage (and cache) as utility-ppo's
    )
)
